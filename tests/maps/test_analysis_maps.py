"""The coverage, roads, water and PV maps on small hand-built frames: layers, colours,
popups, legend entries and escaping (each builder runs its analysis on the frames)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.pv import params
from maps.base import DEMO_NOTE, overlays_of, render_map
from maps.coverage import COVERED_CLASSES, VILLAGE_STATUS, coverage_map
from maps.pv import FLAG_LABEL, FLAG_STYLE, pv_map
from maps.roads import LINK_COLOR, distance_classes, roads_map
from maps.water import (
    BELOW_LABEL,
    BEYOND_COLOR,
    CONFLICT_LABEL,
    CONFLICT_STYLE,
    WITHIN_COLOR,
    water_map,
)
from tests.maps.conftest import CRS, ESCAPED, XSS, mark_demo


def by_name(layer, key="name"):
    return {f["p"][key]: f for f in layer.features}


def assert_escaped(m):
    page = render_map(m)
    assert XSS not in page
    assert ESCAPED in page


# ------------------------------------------------------------------ coverage


@pytest.fixture
def coverage_frames(villages, pairings, work_teams, units, townships):
    teams = work_teams.assign(first_secretary=["张书记"])
    cadres = pd.DataFrame({"id": [1, 2], "name": ["甲", "乙"], "unit_id": [10, 11], "rank": ["一般", "一般"]})
    # Cadre 1 carries 6 registered households in village 1 (over the limit of 5); one has no cadre.
    households = pd.DataFrame({"id": range(1, 9), "village_id": [1] * 7 + [2],
                               "status": ["registered"] * 8, "cadre_id": [1] * 6 + [None, 2]})
    return dict(villages=villages, pairings=pairings, work_teams=teams, units=units, cadres=cadres,
                households=households, townships=townships)


def test_coverage_layers_colours_and_popups(coverage_frames):
    m = coverage_map(**coverage_frames)
    layers = overlays_of(m)
    assert list(layers) == ["coverage_share", "coverage_funds", "coverage_cadres", "villages"]
    assert [layers[k].show for k in ("coverage_share", "coverage_funds", "coverage_cadres")] == [True, False, False]
    villages = by_name(layers["villages"])
    # Default poor categories: key_poor, poor and exited.
    assert villages["一村"]["s"]["fillColor"] == VILLAGE_STATUS["covered"][1]
    assert villages["二村"]["s"]["fillColor"] == VILLAGE_STATUS["none"][1]
    assert villages[XSS]["s"]["fillColor"] == VILLAGE_STATUS["partial"][1]
    assert villages["四村"]["s"]["fillColor"] == VILLAGE_STATUS["not_poor"][1]
    one = villages["一村"]["p"]
    assert one["units"] == ["区财政局", "自治区某厅"]
    assert one["funds"] == "3.5 万元" and one["leader"] == "市某局" and one["secretary"] == "已登记"
    assert one["without_cadre"] == "1 户"
    assert villages["二村"]["p"]["_warn"] == ["贫困村无帮扶单位", "贫困村无驻村工作队"]
    town = layers["coverage_share"].features[0]
    # 1 of 3 poor villages covered: 33.3 %, the lowest class.
    assert town["p"]["covered_pct"] == "33.3 %"
    assert town["s"]["fillColor"] == COVERED_CLASSES.colors[0]
    assert layers["coverage_cadres"].features[0]["p"]["cadres_over_limit"] == "1 人"
    labels = m.atlas_legend.labels()
    for label in ("帮扶单位和工作队齐全", "低于50%", "1–2人超限"):
        assert label in labels
    # The funds classes come from the data (one township here: one class), the legend says how.
    assert any(s.title.startswith("户均帮扶任务资金") and "自然断点法" in s.title for s in m.atlas_legend.sections)
    assert m.atlas_legend.demo_note is None
    assert_escaped(m)


def test_coverage_demo_flag(coverage_frames):
    coverage_frames["villages"] = mark_demo(coverage_frames["villages"])
    assert coverage_map(**coverage_frames).atlas_legend.demo_note == DEMO_NOTE


# ------------------------------------------------------------------ roads


@pytest.fixture
def settlements():
    return gpd.GeoDataFrame(
        {"id": [1, 2], "village_id": [1, 2], "name": ["一组", "远组"], "households": [30, 25],
         "population": [100, 80], "source": ["test"] * 2},
        geometry=[Point(105.101, 37.15), Point(105.25, 37.3)], crs=CRS)


def test_roads_layers_colours_links_and_band(villages, settlements, roads, townships):
    m = roads_map(villages=villages, settlements=settlements, roads=roads, townships=townships)
    layers = overlays_of(m)
    assert list(layers) == ["townships", "rai_band", "roads", "road_links", "settlements", "villages"]
    classes = distance_classes()
    villages_ = by_name(layers["villages"])
    # Village 1 stands on the hardened road; village 2 is about 8.9 km east of it.
    assert villages_["一村"]["s"]["fillColor"] == classes.colors[0]
    assert villages_["二村"]["s"]["fillColor"] == classes.colors[3]
    assert villages_["二村"]["p"]["hardened"].endswith("公里")
    settlements_ = by_name(layers["settlements"])
    assert settlements_["一组"]["s"]["fillColor"] == classes.colors[0]
    # 远组 (25 households) has no 3.5 m gravel-or-better road: a gap, ringed.
    assert settlements_["远组"]["p"]["gap"] == "未达标"
    assert settlements_["远组"]["s"]["color"] == "#111111"
    links = layers["road_links"]
    assert links.features and links.style["dashArray"] and links.style["color"] == LINK_COLOR
    assert all("公里" in f["p"]["label"] and "万元" in f["p"]["label"] for f in links.features)
    band = layers["rai_band"].features
    assert len(band) == 1 and band[0]["g"]["type"] in ("Polygon", "MultiPolygon")
    labels = m.atlas_legend.labels()
    for label in ("200米内（通硬化路）", "5公里以上", "待建连接线（标注长度、造价）", "全天候道路2公里范围", "硬化路"):
        assert label in labels
    assert_escaped(m)


# ------------------------------------------------------------------ water


def test_water_settlements_beyond_and_villages_below(villages, settlements, water, townships):
    facilities = water.assign(village_id=[1, 2])
    villages = villages.assign(safe_water_share_pct=[95.0, 50.0, None, None])
    m = water_map(villages=villages, settlements=settlements, water_facilities=facilities, townships=townships)
    layers = overlays_of(m)
    assert list(layers) == ["townships", "water_facilities", "settlements", "villages"]
    settlements_ = by_name(layers["settlements"])
    # 一组 is about 4.3 km from the working supply point; the damaged pipeline does not count.
    assert settlements_["一组"]["s"]["fillColor"] != WITHIN_COLOR
    assert settlements_["一组"]["p"]["_warn"] == ["超出取水距离"]
    villages_ = by_name(layers["villages"])
    assert villages_["二村"]["s"]["dashArray"] == "4 3"  # 50 % < 90 %
    assert villages_["二村"]["p"]["_warn"] == ["安全饮水比例低于90%"]
    assert "dashArray" not in villages_["一村"]["s"]
    assert villages_["一村"]["s"]["fillColor"] == WITHIN_COLOR
    labels = m.atlas_legend.labels()
    assert BELOW_LABEL in labels and "集中供水点" in labels and "损坏待修" in labels
    assert_escaped(m)


def test_water_doubt_is_drawn_and_counted(villages, settlements, water, townships):
    # 一村 says 95 % safe water while its 一组 (now 150 people) lies about 4.3 km from supply
    facilities = water.assign(village_id=[1, 2])
    villages = villages.assign(safe_water_share_pct=[95.0, 50.0, None, None])
    m = water_map(villages=villages, settlements=settlements.assign(population=[150, 80]),
                  water_facilities=facilities, townships=townships)
    one = by_name(overlays_of(m)["villages"])["一村"]
    assert one["s"]["color"] == CONFLICT_STYLE["color"]
    assert one["p"]["_warn"] == ["疑点：调查比例与取水距离不一致"]
    assert "村级调查表安全饮水比例95.0%" in one["p"]["conflict"] and "150人" in one["p"]["conflict"]
    assert CONFLICT_LABEL in m.atlas_legend.labels()
    assert "疑点村 1 个" in render_map(m)


def test_water_near_settlement_is_within(villages, water, townships):
    near = gpd.GeoDataFrame({"id": [1], "village_id": [1], "name": ["近组"], "households": [10],
                             "population": [30]}, geometry=[Point(105.111, 37.111)], crs=CRS)
    layer = overlays_of(water_map(villages=villages, settlements=near, water_facilities=water,
                                  townships=townships))["settlements"]
    assert layer.features[0]["s"]["fillColor"] == WITHIN_COLOR
    assert "_warn" not in layer.features[0]["p"]


def test_water_refuses_personal_fields(villages, settlements, water):
    households = gpd.GeoDataFrame({"id": [1], "head_name": ["某某"]}, geometry=[Point(105.1, 37.1)], crs=CRS)
    with pytest.raises(ValueError, match="personal"):
        water_map(villages=villages, settlements=settlements, water_facilities=water, households=households)


# ------------------------------------------------------------------ PV


def test_pv_sizes_colours_income_and_flags(pv_frames):
    m = pv_map(**pv_frames)
    layers = overlays_of(m)
    assert list(layers) == ["townships", "villages", "pv_projects"]
    projects = by_name(layers["pv_projects"])
    rooftop, station = projects["户用光伏"], projects[XSS]
    assert rooftop["s"]["radius"] < station["s"]["radius"]
    assert rooftop["s"]["fillColor"] == "#d4a017" and station["s"]["fillColor"] == "#bdc3c7"
    modelled = 3.0 * 1500.0 * params.PRICE_YUAN_PER_KWH
    assert rooftop["p"]["modelled"] == f"{modelled:,.0f} 元/年"
    assert rooftop["p"]["reported"] == "0 元/年" and rooftop["p"]["ratio"] == "0%"
    # Grid-connected with no income: flagged and ringed.
    assert rooftop["p"]["_warn"] == ["已并网但无收益"]
    assert {k: rooftop["s"][k] for k in FLAG_STYLE} == FLAG_STYLE
    assert "_warn" not in station["p"]
    labels = m.atlas_legend.labels()
    assert FLAG_LABEL in labels and "已并网" in labels and "20,000 千瓦" in labels
    assert_escaped(m)


def test_roads_and_facilities_beyond_the_townships_are_used_but_not_drawn(villages, settlements, roads, water,
                                                                            townships):
    from shapely.geometry import MultiLineString

    far_road = gpd.GeoDataFrame({"id": [9], "code": ["R9"], "name": ["邻县公路"], "road_class": ["county"],
                                 "surface": ["hardened"], "width_m": [7.0]},
                                geometry=[MultiLineString([[(105.45, 37.0), (105.45, 37.4)]])], crs=CRS)
    layers = overlays_of(roads_map(villages=villages, settlements=settlements,
                                   roads=pd.concat([roads, far_road], ignore_index=True), townships=townships))
    assert sorted(f["p"]["name"] for f in layers["roads"].features) == ["县道", "土路"]
    far_well = gpd.GeoDataFrame({"id": [9], "name": ["邻镇水井"], "kind": ["well"], "status": ["working"],
                                 "is_drinking": [True], "village_name": ["邻镇某村"]},
                                geometry=[Point(105.41, 37.35)], crs=CRS)
    layers = overlays_of(water_map(villages=villages, settlements=settlements, townships=townships,
                                   water_facilities=pd.concat([water, far_well], ignore_index=True)))
    assert "邻镇水井" not in [f["p"]["name"] for f in layers["water_facilities"].features]
