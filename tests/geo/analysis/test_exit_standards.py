"""Exit-standard scorecards on hand-built villages (both backends)."""

from __future__ import annotations

import pytest

from geo.analysis import analyze
from geo.services.analyses import run_analysis
from geo.analysis.exit_standards import ITEMS

GOOD = dict(has_feature_industry=True, stable_housing_share_pct=95.0, medical_insurance_share_pct=99.0,
            out_of_school_children=0, safe_water_share_pct=96.0, power_share_pct=100.0, tv_share_pct=99.0,
            has_public_services=True, has_collective_economy=True, collective_income_wan_yuan=3.0,
            weak_party_organisation=False, population=1000, poor_population=20, households=300)


def _registry(registry):
    registry.township("甲镇", seat=(0, 0))
    registry.road((0, 0), (5_000, 0), width_m=6.0)
    registry.road((1_000, 0), (1_000, 2_000), surface="gravel", width_m=4.0)
    registry.village("好村", "甲镇", (1_000, 50), **GOOD)
    registry.settlement("一组", "好村", (1_000, 1_900), households=25)
    registry.village("缺村", "甲镇", (3_000, 3_000), population=500, households=150)
    registry.settlement("一组", "缺村", (3_000, 3_500), households=30)
    registry.households("缺村", 8, settlement="一组", members=3, has_power=True, has_tv=True,
                        housing_m2_per_person=20.0, assured_housing=True)
    registry.households("缺村", 2, settlement="一组", members=3, has_power=False, has_tv=True,
                        housing_m2_per_person=10.0, status="planned_exit", status_year=2019)
    registry.households("缺村", 5, settlement="一组", members=4, status="exited", has_power=True)
    registry.village("报村", "甲镇", (4_000, 4_000), hardened_road=True, road_surface_width_m=4.5)


def test_scorecard_pass_fail_unknown_with_figures_and_sources(registry):
    _registry(registry)
    result = analyze(registry.load("exit"), "exit", year=2019)
    cards = result.tables["scorecard"].set_index(["village_name", "item_code"])
    assert len(result.tables["scorecard"]) == 3 * len(ITEMS)

    good = result.tables["villages"].set_index("village_name").loc["好村"]
    assert good["overall"] == "pass" and good["items_passed"] == len(ITEMS)
    assert cards.loc[("好村", "poverty_incidence"), "figure"] == pytest.approx(2.0)
    assert cards.loc[("好村", "road_to_village"), "source"] == "roads"
    assert cards.loc[("好村", "roads_to_settlements"), "result"] == "pass"

    # a village with no form: flags unknown, shares from the household records, roads from the layers
    assert cards.loc[("缺村", "feature_industry"), "result"] == "unknown"
    power = cards.loc[("缺村", "power")]
    assert power["result"] == "fail" and power["figure"] == pytest.approx(100 * 13 / 15)
    assert power["source"] == "households"
    assert cards.loc[("缺村", "tv"), "result"] == "pass"  # 10 of 10 known households
    housing = cards.loc[("缺村", "stable_housing")]
    assert housing["figure"] == pytest.approx(80.0) and housing["result"] == "fail"
    incidence = cards.loc[("缺村", "poverty_incidence")]
    assert incidence["figure"] == pytest.approx(100 * (8 * 3 + 2 * 3) / 500)  # exited households excluded
    assert incidence["result"] == "fail" and incidence["source"] == "households"
    road = cards.loc[("缺村", "road_to_village")]
    assert road["result"] == "fail" and road["figure"] == pytest.approx(3_000, abs=1)
    assert cards.loc[("缺村", "roads_to_settlements"), "result"] == "fail"
    assert "一组（30户）" in cards.loc[("缺村", "roads_to_settlements"), "reason"]
    # the form's own answer wins over the map
    assert cards.loc[("报村", "road_to_village"), "result"] == "pass"
    assert cards.loc[("报村", "road_to_village"), "source"] == "village_form"
    assert cards.loc[("报村", "roads_to_settlements"), "result"] == "unknown"  # no settlement records

    missing = result.tables["villages"].set_index("village_name").loc["缺村"]
    assert missing["overall"] == "fail" and "有电用" in missing["failed_items"]

    summary = result.tables["summary"]
    district = summary[summary["township_name"] == "全区"].set_index("item")
    assert district.loc["抽查村总数", "count"] == 3
    assert district.loc["1.无特色产业村数", "count"] == 0 and district.loc["1.无特色产业村数", "unknown"] == 2
    assert district.loc["12.贫困发生率高于3%的村数", "count"] == 1
    assert district.loc["12.贫困发生率高于3%的村数", "note"] == "缺村"
    assert district.loc["无生活用电户数", "count"] == 2
    planned = district.loc["其中：2019年计划脱贫户"]
    assert 2 in set(planned["count"])  # both households without power plan to exit this year
    assert district.loc["无路通村屯户数", "count"] == 15  # registered-poor (exited too) in the road-gap settlement
    assert set(summary["township_name"]) == {"甲镇", "全区"}


def test_thresholds_change_the_verdicts(registry):
    _registry(registry)
    frames = registry.load("exit")
    lenient = analyze(frames, "exit", power_share_threshold_pct=80, incidence_threshold_pct=10)
    cards = lenient.tables["scorecard"].set_index(["village_name", "item_code"])
    assert cards.loc[("缺村", "power"), "result"] == "pass"
    assert cards.loc[("缺村", "poverty_incidence"), "result"] == "pass"
    strict = analyze(frames, "exit", collective_income_min_wan_yuan=5)
    assert strict.tables["scorecard"].set_index(["village_name", "item_code"]).loc[
        ("好村", "collective_economy"), "result"] == "fail"


def test_no_roads_makes_the_road_items_unknown(registry):
    registry.township("乙镇")
    registry.village("乙村", "乙镇", (0, 0), **GOOD)
    result = analyze(registry.load("exit"), "exit")
    cards = result.tables["scorecard"].set_index("item_code")
    assert cards.loc["road_to_village", "result"] == "unknown"
    assert cards.loc["roads_to_settlements", "result"] == "unknown"
    assert result.tables["villages"].iloc[0]["overall"] == "unknown"
    assert any("道路图层为空" in n for n in result.notes)


def test_demo_summary_is_shaped_like_table_4(demo_engine):
    result = run_analysis(demo_engine, "exit", township="宣和镇")
    summary = result.tables["summary"]
    assert list(summary.columns) == ["township_name", "section", "item", "unit", "count", "unknown", "note"]
    assert list(dict.fromkeys(summary["section"])) == ["督查基本情况", "贫困户“八有一超”情况", "贫困村“十一有一低于”情况"]
    district = summary[summary["township_name"] == "全区"].set_index("item")
    assert district.loc["抽查村总数", "count"] == 8
    assert district.loc["6(1).通村屯道路达不到标准的村数（行政村通硬化路）", "count"] >= 1
    assert result.tables["villages"]["overall"].isin(["pass", "fail", "unknown"]).all()


def test_a_village_without_a_position_is_unknown_on_the_map_items(registry):
    registry.township("丙镇", seat=(0, 0))
    registry.road((0, 0), (5_000, 0))
    registry.village("无点村", "丙镇", None, **GOOD)
    cards = analyze(registry.load("exit"), "exit").tables["scorecard"].set_index("item_code")
    assert cards.loc["road_to_village", "result"] == "unknown"
    assert cards.loc["road_to_village", "reason"] == "无村委会位置，无法量算"
    assert cards.loc["poverty_incidence", "result"] == "pass"  # the form's figures still count
