"""Drinking-water access on hand-built layers (both backends)."""

from __future__ import annotations

import pytest
from geo.analysis import analyze
from geo.services.analyses import run_analysis
from tests.geo.analysis.conftest import line, point


def _water_registry(registry):
    registry.township("甲镇")
    registry.village("水村", "甲镇", (0, 0), households=120, population=400, safe_water_share_pct=95.0)
    registry.village("旱村", "甲镇", (10_000, 0), households=60, population=200)
    registry.settlement("近组", "水村", (0, 600), households=50, population=150)
    registry.settlement("远组", "水村", (0, 1_500), households=30, population=100)
    registry.settlement("旱组", "旱村", (10_000, 200), households=60, population=200)
    registry.facility(point(0, 0), kind="supply_point", village="水村", name="水村供水点")
    registry.facility(point(0, 1_800), kind="well", status="damaged", village="水村", name="坏井",
                      serves=("水村",))
    registry.facility(line((9_000, 0), (11_000, 0)), kind="canal", drinking=False, village="旱村", name="支渠")
    registry.households("旱村", 4, at=(10_000, 150), has_safe_water=False)
    registry.households("旱村", 1, at=(10_000, 150), has_safe_water=True)


def test_distances_beyond_supply_and_out_of_service_dependants(registry):
    _water_registry(registry)
    result = analyze(registry.load("water"), "water")
    s = result.tables["settlements"].set_index("settlement_name")
    assert s.loc["近组", "distance_to_water_m"] == pytest.approx(600, abs=1)
    assert s.loc["近组", "beyond_supply_distance"] == False  # noqa: E712
    assert s.loc["远组", "distance_to_water_m"] == pytest.approx(1_500, abs=1)
    assert s.loc["远组", "beyond_supply_distance"] == True  # noqa: E712
    # the damaged well 300 m away would serve it again
    assert s.loc["远组", "distance_to_out_of_service_m"] == pytest.approx(300, abs=1)
    assert s.loc["远组", "served_if_repaired"]
    # a canal is not drinking water: the dry village's settlement has no supply point at all
    assert s.loc["旱组", "beyond_supply_distance"] == True  # noqa: E712
    assert s.loc["旱组", "distance_to_water_m"] == pytest.approx((10_000**2 + 200**2) ** 0.5, abs=1)

    v = result.tables["villages"].set_index("village_name")
    assert v.loc["水村", "population_beyond"] == 100 and v.loc["水村", "settlements_beyond"] == 1
    assert v.loc["水村", "supply_coverage_pct"] == pytest.approx(100 * 50 / 80)
    assert v.loc["水村", "coverage_source"] == "village_form" and v.loc["水村", "safe_water_share_pct"] == 95
    assert v.loc["水村", "below_threshold"] == False  # noqa: E712
    assert v.loc["旱村", "working_drinking_facilities"] == 0 and v.loc["旱村", "facilities"] == 1
    assert v.loc["旱村", "no_working_supply"] and not v.loc["旱村", "no_facility"]
    assert v.loc["旱村", "coverage_source"] == "household_survey"
    assert v.loc["旱村", "safe_water_share_pct"] == pytest.approx(20.0)
    assert v.loc["旱村", "below_threshold"] == True  # noqa: E712

    facilities = result.tables["facilities"]
    assert list(facilities["facility_name"]) == ["坏井"]
    well = facilities.iloc[0]
    assert well["dependent_settlements"] == 1 and well["dependent_population"] == 100
    assert well["without_alternative_population"] == 100
    assert well["served_population"] == 400
    households = result.tables["households"]
    assert len(households) == 5 and set(households["village_name"]) == {"旱村"}
    assert "head_name" not in households.columns and "id_number" not in households.columns


def test_thresholds_are_options(registry):
    _water_registry(registry)
    frames = registry.load("water")
    wide = analyze(frames, "water", supply_distance_m=2_000)
    s = wide.tables["settlements"].set_index("settlement_name")
    assert s.loc["远组", "beyond_supply_distance"] == False  # noqa: E712
    strict = analyze(frames, "water", safe_water_threshold_pct=96)
    assert strict.tables["villages"].set_index("village_name").loc["水村", "below_threshold"] == True  # noqa: E712
    assert {t.name: t.value for t in strict.thresholds}["safe_water_threshold_pct"] == 96


def test_a_village_with_no_facility_and_no_settlements(registry):
    registry.township("乙镇")
    registry.village("空村", "乙镇", (0, 0), households=10, population=30)
    registry.village("邻村", "乙镇", (5_000, 0))
    registry.facility(point(5_000, 0), kind="well", village="邻村")
    result = analyze(registry.load("water"), "water")
    v = result.tables["villages"].set_index("village_name")
    assert v.loc["空村", "no_facility"] and v.loc["空村", "distance_to_water_m"] == pytest.approx(5_000, abs=1)
    assert v.loc["空村", "population_beyond"] == 30 and v.loc["空村", "supply_coverage_pct"] == 0
    assert v.loc["空村", "coverage_source"] == "distance"
    assert "无任何水利设施" in v.loc["空村", "reason"]
    assert result.tables["district"].iloc[0]["villages_no_facility"] == 1


def test_degenerate_no_facilities_no_geometry_empty_township(registry):
    registry.township("丙镇")
    registry.township("空镇", seat=(40_000, 0), bounds=(35_000, -5_000, 45_000, 5_000))
    registry.village("无点村", "丙镇", None, population=50)
    registry.settlement("一组", "无点村", None, households=10)
    result = analyze(registry.load("water"), "water")
    v = result.tables["villages"].iloc[0]
    assert v["distance_to_water_m"] != v["distance_to_water_m"]  # NaN: nothing to measure
    assert v["coverage_source"] == "unknown"
    assert any("没有位置" in n or "没有正常运行" in n for n in result.notes)
    empty = run_analysis(registry.conn, "water", township="空镇")
    assert empty.tables["villages"].empty and empty.tables["facilities"].empty


def test_demo_water(demo_engine):
    result = run_analysis(demo_engine, "water")
    villages = result.tables["villages"]
    assert len(villages) == 45
    assert villages["no_facility"].sum() == 3  # the demo leaves three villages dry
    facilities = result.tables["facilities"]
    assert set(facilities["status"]) <= {"damaged", "stopped"} and len(facilities) > 0
    assert result.crs == "EPSG:32648"


def test_household_flags_that_contradict_the_distances_are_a_doubt(registry):
    # 高村: 10 surveyed households, all flagged safe (100 %), but its settlement of 150 people
    # lies 4 km from the only working well; 低村 says the same with 60 people beyond.
    registry.township("丁镇")
    registry.village("高村", "丁镇", (0, 0), population=450, households=150)
    registry.settlement("远组", "高村", (4_000, 0), households=50, population=150)
    registry.settlement("近组", "高村", (0, 100), households=100, population=300)
    registry.households("高村", 10, at=(0, 100), has_safe_water=True)
    registry.village("低村", "丁镇", (0, 8_000), population=300, households=100)
    registry.settlement("远组", "低村", (4_000, 8_000), households=20, population=60)
    registry.settlement("近组", "低村", (0, 8_100), households=80, population=240)
    registry.households("低村", 10, at=(0, 8_100), has_safe_water=True)
    registry.facility(point(0, 0), village="高村")
    registry.facility(point(0, 8_000), village="低村")
    result = analyze(registry.load("water"), "water")
    villages = result.tables["villages"].set_index("village_name")
    high = villages.loc["高村"]
    assert high["coverage_source"] == "household_survey" and high["safe_water_share_pct"] == 100
    assert high["population_beyond"] == 150 and high["evidence_conflict"]
    assert "农户调查安全饮水比例100.0%" in high["evidence_note"] and "150人" in high["evidence_note"]
    assert "疑点" in high["reason"]
    assert not villages.loc["低村", "evidence_conflict"]  # 60 people: within the default 100
    assert result.tables["district"].iloc[0]["villages_evidence_conflict"] == 1
    assert any("疑点1个村" in note for note in result.notes)
    strict = analyze(registry.load("water"), "water", conflict_population=50)
    assert strict.tables["district"].iloc[0]["villages_evidence_conflict"] == 2
