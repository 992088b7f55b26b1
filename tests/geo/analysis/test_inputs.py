"""Inputs against tasks (附件2 beside 附件1), on frames whose answer is worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis.inputs import inputs_against_tasks


@pytest.fixture
def frames():
    villages = pd.DataFrame({"id": [1, 2, 3], "name": ["甲村", "乙村", "丙村"],
                             "township_name": ["东镇", "东镇", "西镇"]})
    pairings = pd.DataFrame({
        "unit_id": [10, 10, 20, 10], "village_id": [1, 2, 3, 1], "year": [2019, 2019, 2019, 2018],
        "task_funds_wan_yuan": [2.0, 1.5, 1.0, 9.0], "unit_name": ["统计局", "统计局", "审计局", "统计局"]})
    inputs = pd.DataFrame({
        "unit_id": [10, 10, 30], "village_id": [1, 2, 3], "year": [2019, 2019, 2019],
        "total_input_wan_yuan": [2.5, 0.5, 0.3], "project_funds_wan_yuan": [2.0, 0.4, None],
        "in_kind_wan_yuan": [0.1, 0.0, None], "coordinated_funds_wan_yuan": [5.0, None, None],
        "warmth_money_yuan": [1000.0, 500.0, None],
        "cadres_division": [1, 0, None], "cadres_section": [2, 1, None], "cadres_general": [3, 3, None],
        "visits_per_cadre": [10.0, 5.0, None]})
    units = pd.DataFrame({"id": [10, 20, 30], "name": ["统计局", "审计局", "团委"]})
    projects = pd.DataFrame({"unit_id": [10, 10, 10], "village_id": [1, 1, 2], "year": [2019, 2019, 2018],
                             "funds_wan_yuan": [1.0, 0.5, 3.0]})
    return pairings, inputs, villages, units, projects


def test_each_pair_unit_and_township_worked_out_by_hand(frames):
    pairings, inputs, villages, units, projects = frames
    result = inputs_against_tasks(pairings, inputs, villages, units=units, projects=projects)
    pairs = result.tables["pairs"].set_index(["unit_name", "village_name"])
    # 统计局 in 甲村: task 2 万元, input 2.5 -> 125 %, 0.5 over; 6 cadres, two 2019 projects of 1.5 万元
    a = pairs.loc[("统计局", "甲村")]
    assert (a.task_funds_wan_yuan, a.total_input_wan_yuan, a.input_vs_task_pct) == (2.0, 2.5, 125.0)
    assert a.shortfall_wan_yuan == -0.5 and a.cadres_total == 6 and a.status == "已达任务"
    assert a.projects == 2 and a.project_register_wan_yuan == 1.5 and a.year == 2019
    # 统计局 in 乙村: 0.5 of 1.5 -> 33.3 %, 1.0 short; the 2018 project is not counted
    b = pairs.loc[("统计局", "乙村")]
    assert b.input_vs_task_pct == 33.3 and b.shortfall_wan_yuan == 1.0 and b.status == "未达任务" and b.projects == 0
    # 审计局 has a task in 丙村 but no 附件2 row: not reported, never a zero input
    c = pairs.loc[("审计局", "丙村")]
    assert c.status == "无投入记录" and pd.isna(c.total_input_wan_yuan)
    # 团委 put 0.3 into 丙村 without a task
    d = pairs.loc[("团委", "丙村")]
    assert d.status == "无帮扶任务" and pd.isna(d.input_vs_task_pct)

    unit = result.tables["units"].set_index("unit_name").loc["统计局"]
    assert unit.task_funds_wan_yuan == 3.5 and unit.total_input_wan_yuan == 3.0 and unit.villages == 2
    assert unit.input_vs_task_pct == 85.7 and unit.status == "未达任务"  # 3.0 / 3.5
    assert unit.cadres_total == 10 and unit.visits_per_cadre == 8.0  # (6*10 + 4*5) / 10
    town = result.tables["townships"].set_index("township_name")
    assert town.loc["东镇", "task_funds_wan_yuan"] == 3.5 and town.loc["西镇", "total_input_wan_yuan"] == 0.3
    district = result.tables["district"].iloc[0]
    assert district.task_funds_wan_yuan == 4.5 and district.total_input_wan_yuan == pytest.approx(3.3)
    assert district.units == 3 and district.units_short == 1 and district.pairs_reported == 3


def test_an_earlier_year_and_no_data(frames):
    pairings, inputs, villages, units, projects = frames
    earlier = inputs_against_tasks(pairings, inputs, villages, units=units, projects=projects, year=2018)
    only = earlier.tables["pairs"].iloc[0]
    assert len(earlier.tables["pairs"]) == 1 and only.task_funds_wan_yuan == 9.0 and only.status == "无投入记录"
    empty = inputs_against_tasks(pairings.iloc[0:0], inputs.iloc[0:0], villages)
    assert empty.tables["pairs"].empty and "无结对和投入数据" in empty.notes
