"""Project priority: scores worked out by hand, budgets, shared links (both backends)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from geo import storage
from geo.analysis import analyze
from geo.analysis.roads import DEFAULT_COST_YUAN_PER_KM
from geo.errors import ValidationError
from tests.geo.analysis.conftest import point


def _roads(registry):
    registry.township("甲镇", seat=(0, 0))
    registry.road((0, 0), (1_000, 0))
    registry.road((1_040, 0), (3_000, 0))  # a 40 m break
    registry.village("近村", "甲镇", (500, 50), population=700, registered_poor_households=70, households=200)
    registry.village("断后村", "甲镇", (2_000, 50), population=1_000, registered_poor_households=100, households=300)
    registry.village("尽头村", "甲镇", (3_000, 50), population=500, registered_poor_households=50, households=150)
    registry.village("无路村", "甲镇", (0, 5_000), population=800, registered_poor_households=200, households=250)


def test_road_ranking_shows_its_components(registry):
    _roads(registry)
    result = analyze(registry.load("priority", kind="road"), "priority", kind="road")
    ranking = result.tables["ranking"].set_index("village_name")
    assert list(result.tables["ranking"]["village_name"][:3]) == ["无路村", "断后村", "尽头村"]
    top = ranking.loc["无路村"]
    assert top["rank"] == 1
    assert top["poor_share_pct"] == pytest.approx(100 * 200 / 350)
    assert top["population_share_pct"] == pytest.approx(100 * 800 / 2_300)
    assert top["poor_component"] == pytest.approx(0.5 * 100 * 200 / 350)
    assert top["score"] == pytest.approx(0.5 * 100 * 200 / 350 + 0.5 * 100 * 800 / 2_300)
    assert top["quantity"] == pytest.approx(5.0, abs=0.001) and top["quantity_unit"] == "km"
    assert top["cost_wan_yuan"] == pytest.approx(5.0 * DEFAULT_COST_YUAN_PER_KM / 10_000, rel=1e-3)
    near = ranking.loc["近村"]
    assert pd.isna(near["rank"]) and near["score"] == 0 and near["unmet_population"] == 0
    assert ranking["funded"].isna().all()  # no budget, no funding column values
    # weights move the order: population only puts 断后村 first
    by_people = analyze(registry.load("priority", kind="road"), "priority", kind="road", poor_weight=0)
    assert by_people.tables["ranking"].iloc[0]["village_name"] == "断后村"


def test_a_budget_buys_in_rank_order_and_pays_a_shared_link_once(registry):
    _roads(registry)
    result = analyze(registry.load("priority", kind="road"), "priority", kind="road", budget_wan_yuan=10)
    ranking = result.tables["ranking"].set_index("village_name")
    assert ranking.loc["无路村", "funded"] == False  # noqa: E712  (325 万元 does not fit)
    assert ranking.loc["断后村", "funded"] == True  # noqa: E712
    assert ranking.loc["尽头村", "funded"] == True  # noqa: E712  (its link is the one just bought)
    budget = result.tables["budget"].iloc[0]
    assert budget["spent_wan_yuan"] == pytest.approx(0.04 * DEFAULT_COST_YUAN_PER_KM / 10_000, rel=1e-2)
    assert budget["villages_funded"] == 2 and budget["unmet_population_served"] == 1_500
    assert budget["quantity"] == pytest.approx(0.04, abs=0.001) and budget["quantity_unit"] == "km"
    assert budget["villages_left"] == 1 and "无路村" in budget["note"]
    links = result.tables["links"]
    assert links["funded"].sum() == 1


def test_water_ranking_needs_a_unit_cost_for_a_budget(registry):
    registry.township("乙镇")
    registry.village("干村", "乙镇", (0, 0), population=300, registered_poor_households=30, households=100)
    registry.settlement("远组", "干村", (0, 3_000), households=40, population=120)
    registry.settlement("近组", "干村", (0, 200), households=60, population=180)
    registry.facility(point(0, 0), kind="supply_point", village="干村")
    registry.households("干村", 7, settlement="远组")
    frames = registry.load("priority", kind="water")
    with pytest.raises(ValidationError, match="cost_wan_yuan_per_supply_point"):
        analyze(frames, "priority", kind="water", budget_wan_yuan=100)
    result = analyze(frames, "priority", kind="water", budget_wan_yuan=100, cost_wan_yuan_per_supply_point=40)
    row = result.tables["ranking"].iloc[0]
    assert row["unmet_population"] == 120 and row["unmet_registered_poor_households"] == 7
    assert row["quantity"] == 1 and row["cost_wan_yuan"] == 40 and row["funded"] == True  # noqa: E712


def test_pv_need_ignores_households_with_pv_income(registry):
    registry.township("丙镇")
    registry.village("光村", "丙镇", (0, 0), population=100, registered_poor_households=12, households=40)
    earning = registry.households("光村", 4)
    idle = registry.households("光村", 2)
    registry.households("光村", 4)
    registry.households("光村", 2, status="exited")  # out of poverty: not a PV target by default
    projects = gpd.GeoDataFrame({
        "code": ["T-PV1", "T-PV2"], "name": ["好电站", "零收益电站"], "kind": ["village_station"] * 2,
        "capacity_kw": [100.0, 50.0], "status": ["grid_connected"] * 2, "annual_income_yuan": [90_000.0, 0.0],
        "investment_wan_yuan": [80.0, 40.0],
    }, geometry=[point(100, 100), point(200, 200)], crs=4326)
    pv_ids = storage.write_layer(registry.conn, "pv_projects", projects).ids
    storage.write_links(registry.conn, "pv_project_households", pd.DataFrame(
        {"project_id": [pv_ids[0]] * 4 + [pv_ids[1]] * 2, "household_id": earning + idle}))
    result = analyze(registry.load("priority", kind="pv"), "priority", kind="pv", budget_wan_yuan=100)
    row = result.tables["ranking"].iloc[0]
    assert row["unmet_registered_poor_households"] == 6  # 2 with a zero-income station + 4 with none
    assert row["quantity"] == pytest.approx(30.0)  # 6 × 5 kW
    assert row["cost_wan_yuan"] == pytest.approx(30 * 0.8)  # the median of 0.8 万元/kW
    assert any("0.80万元/kW" in n for n in result.notes)
    assert result.tables["budget"].iloc[0]["quantity"] == pytest.approx(30.0)


def test_unknown_kind_and_no_need(registry):
    registry.township("丁镇", seat=(0, 0))
    registry.road((0, 0), (1_000, 0))
    registry.village("好村", "丁镇", (500, 0), population=100)
    with pytest.raises(ValidationError, match="road, water, pv"):
        analyze(registry.load("priority"), "priority", kind="bridge")
    result = analyze(registry.load("priority", kind="road"), "priority", kind="road")
    assert result.tables["ranking"]["rank"].isna().all()
    assert any("没有该类未满足的需求" in n for n in result.notes)
