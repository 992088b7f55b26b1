"""Pairing coverage and cadre loads: hand-built registries and the Shapotou demo (both backends)."""

from __future__ import annotations

import pytest

from geo.analysis import analyze, cadre_loads
from geo.services.analyses import run_analysis

#: Task funds per township in seed 000's 附件1 [万元].
SEED_FUNDS = {"常乐镇": 15.0, "香山乡": 15.5, "兴仁镇": 20.5, "迎水桥镇": 13.0, "永康镇": 8.5, "东园镇": 1.0,
              "宣和镇": 15.5}


def test_cadre_loads_flag_more_than_five_and_count_households_without_a_cadre(registry):
    registry.township("甲镇")
    registry.village("甲村", "甲镇", (0, 0), registered_poor_households=9)
    registry.unit("审计局")
    busy = registry.cadre("马某01", "审计局")
    fine = registry.cadre("李某02", "审计局")
    registry.households("甲村", 6, cadre=busy)
    registry.households("甲村", 5, cadre=fine, status="exited")
    registry.households("甲村", 2)  # nobody responsible
    registry.households("甲村", 1, status="non_poor")  # needs no cadre
    registry.pairing("审计局", "甲村", 2.0)
    result = analyze(registry.load("coverage"), "coverage")

    cadres = result.tables["cadres"].set_index("cadre_name")
    assert cadres.loc["马某01", "households_carried"] == 6 and cadres.loc["马某01", "over_limit"]
    assert cadres.loc["马某01", "households_over_limit"] == 1
    assert cadres.loc["李某02", "households_carried"] == 5 and not cadres.loc["李某02", "over_limit"]
    village = result.tables["villages"].iloc[0]
    assert village["households_without_cadre"] == 2
    assert village["registered_poor_household_records"] == 13
    assert village["registered_poor_households"] == 9  # the village form's own figure wins
    assert village["funds_per_registered_household_yuan"] == pytest.approx(2.0 * 10_000 / 9)
    district = result.tables["district"].iloc[0]
    assert district["cadres_over_limit"] == 1 and district["households_without_cadre"] == 2
    unit = result.tables["units"].iloc[0]
    assert unit["cadres"] == 2 and unit["households_carried"] == 11 and unit["cadres_over_limit"] == 1

    # the limit is an option
    loads = cadre_loads(registry.load("coverage")["cadres"], registry.load("coverage")["households"],
                        max_households_per_cadre=6)
    assert not loads["over_limit"].any()


def test_pairing_work_team_and_first_secretary_shares(registry):
    registry.township("乙镇")
    for name, category in (("一村", "key_poor"), ("二村", "poor"), ("三村", "exited"), ("四村", "non_poor")):
        registry.village(name, "乙镇", (0, 0), category=category)
    registry.unit("甲单位", (100, 100))
    registry.unit("乙单位")
    registry.pairing("甲单位", "一村", 1.5)
    registry.pairing("乙单位", "一村", 1.0)
    registry.pairing("甲单位", "二村", 3.0)
    registry.pairing("甲单位", "三村", 1.0, year=2018)  # another year: not counted for 2019
    registry.work_team("一村", "乙单位", first_secretary="王某")
    registry.work_team("二村", "甲单位")
    result = analyze(registry.load("coverage"), "coverage")
    villages = result.tables["villages"].set_index("village_name")
    assert villages.loc["一村", "pairing_unit_count"] == 2
    assert villages.loc["一村", "task_funds_wan_yuan"] == pytest.approx(2.5)
    assert villages.loc["一村", "first_secretary_status"] == "present"
    assert villages.loc["二村", "first_secretary_status"] == "unknown"  # team without a recorded secretary
    assert villages.loc["三村", "first_secretary_status"] == "no_team"
    assert not villages.loc["三村", "has_pairing_unit"]
    assert not villages.loc["四村", "is_poor_village"]
    township = result.tables["townships"].iloc[0]
    assert township["poor_villages"] == 3
    assert township["paired_pct"] == pytest.approx(200 / 3)
    assert township["work_team_pct"] == pytest.approx(200 / 3)
    assert township["units"] == 2 and township["task_funds_wan_yuan"] == pytest.approx(5.5)
    assert any("未登记第一书记" in note for note in result.notes)
    lines = result.tables["pairings"]
    assert lines[lines["unit_name"] == "甲单位"].geometry.geom_type.eq("LineString").all()  # office -> village
    assert lines[lines["unit_name"] == "乙单位"].geometry.isna().all()  # no office position: no line
    # 2018's pairings when asked for
    older = analyze(registry.load("coverage"), "coverage", year=2018)
    assert older.tables["villages"].set_index("village_name").loc["三村", "has_pairing_unit"]


def test_an_empty_township_is_a_clear_empty_result(registry):
    registry.township("空镇")
    registry.township("满镇")
    registry.village("满村", "满镇", (0, 0))
    result = run_analysis(registry.conn, "coverage", township="空镇")
    assert result.tables["villages"].empty
    assert result.tables["district"].iloc[0]["villages"] == 0
    assert "所选范围内没有行政村" in result.notes


def test_demo_every_village_is_paired_and_funds_match_the_seed(demo_engine):
    result = run_analysis(demo_engine, "coverage")
    villages = result.tables["villages"]
    assert len(villages) == 45
    assert villages["has_pairing_unit"].all()
    district = result.tables["district"].iloc[0]
    assert district["poor_villages"] == 45 and district["paired_pct"] == 100
    assert district["units"] == 66
    assert district["task_funds_wan_yuan"] == pytest.approx(89.0)
    funds = result.tables["townships"].set_index("township_name")["task_funds_wan_yuan"].to_dict()
    assert funds == pytest.approx(SEED_FUNDS)
    # 28 villages name a work-team leader unit and no first secretary: unknown, not missing
    assert villages["has_work_team"].sum() == 28
    assert (villages["first_secretary_status"] == "unknown").sum() == 28
    assert villages["has_first_secretary"].isna().all()
    cadres = result.tables["cadres"]
    assert cadres["over_limit"].any() and (cadres.loc[cadres["over_limit"], "households_carried"] > 5).all()
    assert villages["households_without_cadre"].sum() > 0


def test_demo_coverage_of_one_township(demo_engine):
    result = run_analysis(demo_engine, "coverage", township="兴仁镇")
    assert set(result.tables["villages"]["township_name"]) == {"兴仁镇"}
    assert result.tables["district"].iloc[0]["task_funds_wan_yuan"] == pytest.approx(20.5)
    assert result.tables["townships"].iloc[0].geometry.geom_type == "MultiPolygon"
