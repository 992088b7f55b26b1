"""Road access on hand-built layers whose answers are known by hand (both backends)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.analysis import analyze
from geo.services.analyses import run_analysis
from geo.analysis.roads import DEFAULT_COST_YUAN_PER_KM


def _row(table, column, value):
    rows = table[table[column] == value]
    assert len(rows) == 1, f"{column}={value!r}: {len(rows)} rows"
    return rows.iloc[0]


def test_a_village_far_from_the_hardened_road_but_near_gravel(registry):
    registry.township("甲镇", seat=(0, 0))
    registry.road((0, 0), (0, 10_000), surface="hardened", width_m=6.0)  # north from the seat
    registry.road((2_500, 300), (6_000, 300), surface="gravel", width_m=4.5)
    registry.village("远村", "甲镇", (2_500, 0), population=900, households=300)
    result = analyze(registry.load("roads"), "roads")

    village = _row(result.tables["villages"], "village_name", "远村")
    assert village["distance_to_hardened_road_m"] == pytest.approx(2_500, abs=1)
    assert village["distance_to_all_season_road_m"] == pytest.approx(300, abs=1)
    assert village["distance_to_any_road_m"] == pytest.approx(300, abs=1)
    # RAI counts it (within 2 km of an all-season road) ...
    assert village["rai_population"] == 900 and village["rai_population_served"] == 900
    assert village["rai_pct"] == pytest.approx(100.0)
    # ... hardened access does not
    assert not village["hardened_road_within_tolerance"]
    assert village["joined_to_seat"] == False  # noqa: E712
    assert village["road_status"] == "no_road"  # nothing within the 200 m tolerance
    assert result.crs == "EPSG:32648"
    # its new link runs 2.5 km west to the hardened road, priced at the default rate
    link = _row(result.tables["links"], "link_id", village["new_link_id"])
    assert link["length_m"] == pytest.approx(2_500, abs=1)
    assert link["cost_wan_yuan"] == pytest.approx(2.5 * DEFAULT_COST_YUAN_PER_KM / 10_000, rel=1e-3)
    assert link.geometry.geom_type == "LineString"

    # 2.6 km from gravel too: no longer counted by the RAI
    far = analyze(registry.load("roads"), "roads", rai_distance_m=250)
    assert _row(far.tables["villages"], "village_name", "远村")["rai_population_served"] == 0


def test_a_broken_link_cuts_off_the_villages_beyond_it_and_closing_it_joins_them(registry):
    registry.township("乙镇", seat=(0, 0))
    registry.road((0, 0), (1_000, 0))
    registry.road((1_040, 0), (3_000, 0))  # a 40 m break at 1,000-1,040 m
    registry.road((3_000, 0), (3_000, 2_000))
    registry.village("近村", "乙镇", (500, 50))
    registry.village("断后村", "乙镇", (2_000, 50))
    registry.village("尽头村", "乙镇", (3_000, 2_000))
    result = analyze(registry.load("roads"), "roads")
    villages = result.tables["villages"].set_index("village_name")
    assert villages.loc["近村", "joined_to_seat"] == True  # noqa: E712
    assert villages.loc["近村", "seat_road_distance_km"] == pytest.approx((500 + 50) / 1000, abs=0.002)
    for name in ("断后村", "尽头村"):
        assert villages.loc[name, "joined_to_seat"] == False  # noqa: E712
        assert villages.loc[name, "road_status"] == "hardened_not_joined"
    # the villages beyond share one link: the 40 m break
    links = result.tables["links"]
    assert len(links) == 1
    assert links.iloc[0]["length_m"] == pytest.approx(40, abs=0.5)
    assert links.iloc[0]["villages_served"] == 2
    assert villages.loc["断后村", "new_link_id"] == villages.loc["尽头村", "new_link_id"] == links.iloc[0]["link_id"]
    assert any("吸附容差10米" in note for note in result.notes)
    assert {t.name: t.value for t in result.thresholds}["snap_tolerance_m"] == 10

    # a snap tolerance wider than the break bridges it, and says so
    loose = analyze(registry.load("roads"), "roads", snap_tolerance_m=50)
    assert loose.tables["villages"]["joined_to_seat"].all()

    registry.road((1_000, 0), (1_040, 0))  # close the gap
    closed = analyze(registry.load("roads"), "roads")
    joined = closed.tables["villages"].set_index("village_name")
    assert joined["joined_to_seat"].all()
    assert joined.loc["尽头村", "seat_road_distance_km"] == pytest.approx(5.0, abs=0.002)
    assert closed.tables["links"].empty


def test_settlement_road_gaps_follow_the_width_surface_and_size_rules(registry):
    registry.township("丙镇", seat=(0, 0))
    registry.road((0, 0), (10_000, 0), width_m=6.0)
    registry.road((1_000, 0), (1_000, 3_000), surface="hardened", width_m=3.0)
    registry.road((5_000, 0), (5_000, 3_000), surface="gravel", width_m=4.0)
    registry.road((8_000, 0), (8_000, 3_000), surface="earth", width_m=5.0)
    registry.village("丙村", "丙镇", (500, 0))
    registry.settlement("窄路组", "丙村", (1_050, 3_000), households=25)  # beside the 3.0 m road
    registry.settlement("砂石组", "丙村", (5_050, 3_000), households=25)  # beside the 4.0 m gravel road
    registry.settlement("小组", "丙村", (1_000, 8_000), households=15)  # no road at all, but small
    registry.settlement("土路组", "丙村", (8_050, 3_000), households=40)  # beside a wide earth road
    result = analyze(registry.load("roads"), "roads")
    s = result.tables["settlements"].set_index("settlement_name")
    assert s.loc["窄路组", "road_gap"] == True  # noqa: E712
    assert s.loc["窄路组", "nearest_road_width_m"] == 3.0
    assert "宽3米" in s.loc["窄路组", "reason"]
    assert s.loc["砂石组", "road_gap"] == False  # noqa: E712
    assert s.loc["砂石组", "distance_to_qualifying_road_m"] == pytest.approx(50, abs=1)
    assert s.loc["小组", "needs_road"] == False and s.loc["小组", "road_gap"] == False  # noqa: E712
    assert s.loc["土路组", "road_gap"] == True  # noqa: E712
    village = _row(result.tables["villages"], "village_name", "丙村")
    assert village["settlements_20plus"] == 3 and village["settlement_road_gaps"] == 2
    # the narrow-road gap is linked to the 6 m road, not to the 3 m one beside it
    link = _row(result.tables["links"], "settlement_name", "窄路组")
    assert link["length_m"] == pytest.approx(3_000, abs=1)

    # the rule's numbers are options: 3 m roads pass when the minimum is 3 m
    lenient = analyze(registry.load("roads"), "roads", settlement_min_width_m=3.0)
    assert lenient.tables["settlements"].set_index("settlement_name").loc["窄路组", "road_gap"] == False  # noqa: E712
    bigger = analyze(registry.load("roads"), "roads", settlement_min_households=30)
    assert bigger.tables["settlements"].set_index("settlement_name").loc["窄路组", "road_gap"] == False  # noqa: E712


def test_rai_per_village_township_and_district(registry):
    registry.township("丁镇", seat=(0, 0))
    registry.road((0, 0), (10_000, 0), surface="gravel")
    registry.village("丁村", "丁镇", (0, 100), population=1000, households=300)
    registry.settlement("近组", "丁村", (0, 1_500), households=10, population=30)
    registry.settlement("远组", "丁村", (0, 3_000), households=20, population=70)
    registry.settlement("无人口组", "丁村", (0, 500), households=10, population=None)
    assert "band" not in analyze(registry.load("roads"), "roads").tables  # only on request
    result = analyze(registry.load("roads"), "roads", band=True)
    village = _row(result.tables["villages"], "village_name", "丁村")
    # 30 people at 1.5 km and the unknown settlement's 10 households × (1000/300) at 0.5 km are served
    assert village["rai_population"] == pytest.approx(30 + 70 + 10 * 1000 / 300)
    assert village["rai_population_served"] == pytest.approx(30 + 10 * 1000 / 300)
    district = result.tables["district"].iloc[0]
    assert district["rai_pct"] == pytest.approx(100 * (30 + 33.333) / (100 + 33.333), abs=0.01)
    assert result.tables["townships"].iloc[0]["rai_pct"] == pytest.approx(district["rai_pct"])
    band = result.tables["band"].iloc[0]
    # a 10 km road buffered by 2 km: 10 × 4 km² plus the two round ends (simplified, 4 segments a quarter)
    assert 40 + 0.9 * math.pi * 4 < band["area_km2"] < 40 + math.pi * 4


def test_degenerate_inputs_give_a_clear_result(registry):
    registry.township("戊镇", seat=(0, 0))
    registry.township("空镇", seat=(30_000, 0), bounds=(25_000, -5_000, 35_000, 5_000))
    registry.village("有点村", "戊镇", (1_000, 0), population=100)
    registry.village("无点村", "戊镇", None, population=100)
    registry.settlement("一组", "有点村", (1_000, 500), households=30)

    no_roads = analyze(registry.load("roads"), "roads")
    villages = no_roads.tables["villages"].set_index("village_name")
    assert villages.loc["有点村", "road_status"] == "no_road"
    assert np.isnan(villages.loc["有点村", "distance_to_hardened_road_m"])
    assert villages.loc["无点村", "road_status"] == "unknown"
    assert villages.loc["无点村", "reason"] == "无村委会位置，无法量算"
    assert no_roads.tables["links"].empty
    assert no_roads.tables["settlements"].iloc[0]["road_gap"] == True  # noqa: E712
    assert any("道路图层为空" in n for n in no_roads.notes)
    assert no_roads.tables["district"].iloc[0]["rai_pct"] == 0

    empty = run_analysis(registry.conn, "roads", township="空镇")
    assert all(len(t) == 0 for name, t in empty.tables.items() if name in ("villages", "settlements", "links"))
    assert empty.tables["district"].iloc[0]["villages"] == 0


def test_seat_unknown_is_reported_not_guessed(registry):
    registry.township("己镇", seat=None)
    registry.road((0, 0), (5_000, 0))
    registry.village("己村", "己镇", (1_000, 0))
    result = analyze(registry.load("roads"), "roads")
    village = _row(result.tables["villages"], "village_name", "己村")
    assert village["joined_to_seat"] is pd_na()
    assert village["road_status"] == "hardened_seat_unknown"
    assert any("乡镇驻地位置缺失" in n for n in result.notes)


def pd_na():
    import pandas as pd

    return pd.NA


def test_a_township_filter_keeps_roads_just_across_the_boundary(registry):
    registry.township("庚镇", seat=(0, 0), bounds=(-5_000, -5_000, 5_000, 5_000))
    registry.township("辛镇", seat=(20_000, 0), bounds=(5_000, -5_000, 30_000, 5_000))
    registry.road((0, 0), (4_000, 0), (6_000, 0), (6_000, 2_000), (4_500, 2_000))  # leaves and re-enters
    registry.village("庚村", "庚镇", (4_500, 2_050))
    registry.village("辛村", "辛镇", (20_000, 0))
    result = run_analysis(registry.conn, "roads", township="庚镇")
    assert list(result.tables["villages"]["village_name"]) == ["庚村"]
    village = result.tables["villages"].iloc[0]
    assert village["joined_to_seat"] == True  # noqa: E712
    assert village["seat_road_distance_km"] == pytest.approx((6_000 + 2_000 + 1_500 + 50) / 1000, abs=0.002)


def test_layers_in_another_crs_are_refused_not_reprojected(registry):
    from geo.errors import ValidationError

    registry.township("壬镇", seat=(0, 0))
    registry.road((0, 0), (1_000, 0))
    registry.village("壬村", "壬镇", (500, 0))
    frames = registry.load("roads")
    frames["roads"] = frames["roads"].to_crs(32648)
    with pytest.raises(ValidationError, match="EPSG:4326"):
        analyze(frames, "roads")
