"""Project review: flags and village/township tables on hand-built frames and on the demo data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.errors import ValidationError
from geo.services.pv import load_review_frames
from geo.pv.review import review_projects

KWH_PER_KWP = 1_500.0
PRICE = 0.6  # 900 yuan per kWp a year


@pytest.fixture
def frames():
    """Two villages of one township; six projects, each failing (or not) in one known way."""
    villages = pd.DataFrame({"id": [1, 2], "name": ["甲村", "乙村"], "township_name": ["一镇", "一镇"],
                             "category": ["key_poor", "poor"], "registered_poor_households": [99, 99]})
    households = pd.DataFrame({
        "id": [11, 12, 13, 14, 15, 21, 22, 23],
        "village_id": [1, 1, 1, 1, 1, 2, 2, 2],
        "status": ["registered", "exited", "planned_exit", "non_poor", "registered", "registered", "returned",
                   "non_poor"],
    })
    projects = gpd.GeoDataFrame({
        "id": [1, 2, 3, 4, 5, 6],
        "code": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "name": ["零收益", "非贫困户受益", "停运", "正常", "收益过低", "规划"],
        "kind": ["household_rooftop", "household_rooftop", "village_station", "village_station", "household_rooftop",
                 "centralized_station"],
        "capacity_kw": [5.0, 5.0, 100.0, 10.0, 5.0, 1000.0],
        "status": ["grid_connected", "grid_connected", "stopped", "grid_connected", "grid_connected", "planned"],
        "village_id": [1, 1, 2, 2, 1, 2],
        "annual_income_yuan": [0.0, 4_500.0, 0.0, 9_000.0, 450.0, None],
        "beneficiary_households": [1, 1, 2, 2, 1, None],
    }, geometry=[Point(105.2, 37.5), Point(105.21, 37.5), box(105.3, 37.4, 105.301, 37.401), Point(105.31, 37.4),
                 Point(105.2, 37.51), box(105.3, 37.3, 105.31, 37.31)], crs=4326)
    project_households = pd.DataFrame({"project_id": [1, 2, 3, 3, 4, 4, 5],
                                       "household_id": [11, 14, 21, 22, 21, 22, 13]})
    project_villages = pd.DataFrame({"project_id": [1, 2, 3, 4, 5, 6], "village_id": [1, 1, 2, 2, 1, 2]})
    return projects, households, project_households, project_villages, villages


def _review(frames, **options):
    return review_projects(*frames, kwh_per_kwp=KWH_PER_KWP, price_yuan_per_kwh=PRICE, **options)


def test_each_failure_gets_its_flag_and_the_sound_project_none(frames):
    result = _review(frames)
    flags = dict(zip(result.projects["code"], result.projects["flags"]))
    assert flags["P1"] == ["grid_connected_no_income"]
    assert flags["P2"] == ["non_poor_beneficiaries"]
    assert flags["P3"] == ["stopped"]
    assert flags["P4"] == []
    assert flags["P5"] == ["low_income"]  # 450 of 4,500 yuan modelled: 10 %
    assert flags["P6"] == []  # planned: nothing reported yet, nothing to flag
    labels = dict(zip(result.projects["code"], result.projects["flag_labels"]))
    assert labels["P1"] == "已并网但无收益" and labels["P2"] == "受益户含非建档立卡户" and labels["P3"] == "已停运"
    assert list(result.flagged["code"]) == ["P1", "P2", "P3", "P5"]


def test_modelled_income_and_ratio(frames):
    projects = _review(frames).projects.set_index("code")
    assert projects.loc["P4", "modelled_annual_kwh"] == pytest.approx(15_000)
    assert projects.loc["P4", "modelled_income_yuan_per_year"] == pytest.approx(9_000)
    assert projects.loc["P4", "income_ratio"] == pytest.approx(1.0)
    assert np.isnan(projects.loc["P3", "income_ratio"])  # only grid-connected projects get a ratio
    assert projects.loc["P2", "linked_non_poor_households"] == 1
    assert projects.loc["P3", "linked_poor_households"] == 2
    assert projects.loc["P1", "kind_label"] == "户用屋顶光伏" and projects.loc["P3", "status_label"] == "停运"
    assert projects.loc["P1", "township_name"] == "一镇"


def test_low_income_threshold_is_a_parameter(frames):
    flags = dict(zip(*(_review(frames, low_income_ratio=0.05).projects[c] for c in ("code", "flags"))))
    assert flags["P5"] == []


def test_village_and_township_tables_by_hand(frames):
    result = _review(frames)
    villages = result.villages.set_index("village_name")
    a, b = villages.loc["甲村"], villages.loc["乙村"]
    # households of 甲村: 11, 12, 13, 15 are on the register; 14 is non-poor
    assert a["registered_poor_households"] == 4 and b["registered_poor_households"] == 2
    assert a["installed_kw"] == 15.0 and a["operating_kw"] == 15.0
    assert b["installed_kw"] == 110.0 and b["operating_kw"] == 10.0 and b["planned_kw"] == 1000.0
    # covered: linked to a grid-connected project. 甲村: 11 (P1), 13 (P5); 14 is non-poor
    assert a["poor_households_covered"] == 2 and a["poor_households_not_covered"] == 2
    assert a["non_poor_beneficiaries"] == 1
    # only the share each project's distribution pays households counts: a village station 70 %
    # (公益岗位 60 % + 奖励补助 10 %), a rooftop system 95 % (5 % O&M), never the whole revenue.
    # 乙村: 21 and 22 share P4 (9,000 yuan x 0.7 = 6,300) and the stopped P3 (0 yuan)
    assert b["poor_households_covered"] == 2 and b["poor_households_not_covered"] == 0
    assert b["reported_income_to_poor_yuan_per_year"] == pytest.approx(6_300)
    assert b["income_yuan_per_poor_household"] == pytest.approx(3_150)
    # 甲村's poor households got 0 (P1) + 450 x 0.95 (P5); P2's income went to a non-poor household
    assert a["reported_income_to_poor_yuan_per_year"] == pytest.approx(427.5)
    assert a["income_yuan_per_poor_household"] == pytest.approx(427.5 / 4)
    assert a["modelled_income_yuan_per_poor_household"] == pytest.approx((4_500 + 4_500) * 0.95 / 4)
    assert a["flagged_projects"] == 3 and b["flagged_projects"] == 1
    town = result.townships.set_index("township_name").loc["一镇"]
    assert town["villages"] == 2 and town["registered_poor_households"] == 6
    assert town["income_yuan_per_poor_household"] == pytest.approx((427.5 + 6_300) / 6)
    assert town["poor_households_not_covered"] == 2


def test_a_centralized_station_pays_households_its_programme_share_only(frames):
    """The whole revenue of a centralized station is not household income: its distribution
    pays households 16 % (公益岗位 12 % + 奖励补助 4 %), the investor, O&M and grid fee 80 %."""
    projects, households, project_households, project_villages, villages = frames
    projects = projects.copy()
    projects.loc[projects["code"] == "P4", "kind"] = "centralized_station"
    result = review_projects(projects, households, project_households, project_villages, villages,
                             kwh_per_kwp=KWH_PER_KWP, price_yuan_per_kwh=PRICE)
    b = result.villages.set_index("village_name").loc["乙村"]
    assert b["reported_income_to_poor_yuan_per_year"] == pytest.approx(9_000 * 0.16)
    assert b["income_yuan_per_poor_household"] == pytest.approx(9_000 * 0.16 / 2)
    p4 = result.projects.set_index("code").loc["P4"]
    assert p4["distribution_category"] == "centralized" and p4["share_to_households"] == pytest.approx(0.16)


def test_inputs_are_not_changed(frames):
    copies = [f.copy() for f in frames]
    _review(frames)
    for before, after in zip(copies, frames):
        pd.testing.assert_frame_equal(pd.DataFrame(before), pd.DataFrame(after))


def test_a_frame_missing_a_column_is_refused(frames):
    projects, households, *rest = frames
    with pytest.raises(ValidationError, match="households frame lacks column.*status"):
        review_projects(projects, households.drop(columns="status"), *rest, kwh_per_kwp=1500)
    with pytest.raises(ValidationError, match="low income ratio"):
        _review(frames, low_income_ratio=2.0)


def test_modelled_yield_defaults_to_the_labelled_estimate(frames):
    result = review_projects(*frames, price_yuan_per_kwh=PRICE)
    assert result.is_estimate and "估算" in result.weather_label
    assert result.projects["yield_is_estimate"].all()
    assert result.projects["kwh_per_kwp"].between(1_300, 1_700).all()


# ------------------------------------------------------------------------------ demo data


def test_review_of_the_demo_flags_the_cases_it_holds(demo_engine):
    frames = load_review_frames(demo_engine)
    result = review_projects(frames.projects, frames.households, frames.project_households,
                             frames.project_villages, frames.villages, kwh_per_kwp=KWH_PER_KWP)
    projects = result.projects.set_index("code")
    assert "grid_connected_no_income" in projects.loc["DEMO-PV001", "flags"]
    assert "grid_connected_no_income" in projects.loc["DEMO-PV053", "flags"]  # a village station with nothing
    assert projects.loc["DEMO-PV006", "flags"] == ["stopped"]
    non_poor = projects[projects["flags"].map(lambda f: "non_poor_beneficiaries" in f)]
    assert set(non_poor.index) == {"DEMO-PV019", "DEMO-PV038"}  # the two rooftops on non-poor households
    no_income = projects[projects["flags"].map(lambda f: "grid_connected_no_income" in f)]
    assert (no_income["status"] == "grid_connected").all()
    assert (no_income["reported_income_yuan_per_year"].fillna(0) <= 0).all()
    assert len(result.villages) == 45 and len(result.townships) == 7
    summed = result.villages[["registered_poor_households", "installed_kw", "poor_households_covered"]].sum()
    town_sums = result.townships[["registered_poor_households", "installed_kw", "poor_households_covered"]].sum()
    pd.testing.assert_series_equal(summed, town_sums)
    assert result.townships["registered_poor_households"].sum() == (frames.households["status"] != "non_poor").sum()


def test_review_of_one_township(demo_engine):
    frames = load_review_frames(demo_engine, township="香山乡")
    result = review_projects(frames.projects, frames.households, frames.project_households,
                             frames.project_villages, frames.villages, kwh_per_kwp=KWH_PER_KWP)
    assert set(result.villages["township_name"]) == {"香山乡"}
    assert set(result.projects["township_name"].dropna()) == {"香山乡"}
    assert "DEMO-PV019" in set(result.flagged["code"])


def test_missing_beneficiaries_and_a_count_that_does_not_match_the_list(frames):
    projects, households, project_households, project_villages, villages = frames
    projects = projects.copy()
    projects.loc[projects["code"] == "P4", "beneficiary_households"] = 5  # the list holds 2
    orphan = projects[projects["code"] == "P4"].assign(id=7, code="P7", beneficiary_households=None)
    projects = pd.concat([projects, orphan], ignore_index=True)
    result = review_projects(projects, households, project_households, project_villages, villages,
                             kwh_per_kwp=KWH_PER_KWP, price_yuan_per_kwh=PRICE)
    flags = dict(zip(result.projects["code"], result.projects["flags"]))
    assert flags["P4"] == ["beneficiary_count_mismatch"]
    assert flags["P7"] == ["no_beneficiaries"]
