"""The overview map on small frames."""

from __future__ import annotations

import pytest

from maps.base import overlays_of
from maps.overview import overview_map, pv_radius_px, road_width_px


def test_every_layer_passed_is_an_overlay(townships, villages, roads, water, pv, units):
    m = overview_map(townships=townships, villages=villages, roads=roads, water_facilities=water,
                     pv_projects=pv, units=units)
    layers = overlays_of(m)
    assert set(layers) == {"townships", "villages", "roads", "water_facilities", "pv_projects", "units"}
    assert {k: len(v.features) for k, v in layers.items()} == {
        "townships": 1, "villages": 4, "roads": 2, "water_facilities": 2, "pv_projects": 2, "units": 3}
    labels = m.atlas_legend.labels()
    for expected in ("硬化路", "土路", "集中供水点", "损坏待修", "已并网", "规划", "重点贫困村"):
        assert expected in labels


def test_layers_not_passed_are_left_out(villages):
    assert set(overlays_of(overview_map(villages=villages))) == {"villages"}


def test_roads_styled_by_surface_and_width(villages, roads):
    layer = overlays_of(overview_map(villages=villages, roads=roads))["roads"]
    assert [f["p"]["surface"] for f in layer.features] == ["硬化路", "土路"]
    assert [f["s"]["weight"] for f in layer.features] == [5.0, 2.0]
    assert layer.style_by[1]["土路"]["dashArray"]


def test_pv_sized_by_capacity_and_coloured_by_status(villages, pv):
    layer = overlays_of(overview_map(villages=villages, pv_projects=pv))["pv_projects"]
    small, big = (f["s"]["radius"] for f in layer.features)
    assert small < big
    assert layer.style_by[0] == "status"
    assert [f["p"]["status"] for f in layer.features] == ["已并网", "规划"]


def test_water_status_outline(villages, water):
    layer = overlays_of(overview_map(villages=villages, water_facilities=water))["water_facilities"]
    damaged = layer.features[1]
    assert damaged["p"]["status"] == "损坏待修"
    assert damaged["g"]["type"] == "LineString"


def test_households_are_clustered_and_never_carry_names(villages):
    import geopandas as gpd
    from shapely.geometry import Point

    households = gpd.GeoDataFrame(
        {"id": [1, 2], "code": ["H1", "H2"], "status": ["registered", "exited"], "members": [3, 4],
         "village_name": ["一村", "一村"], "source": ["test"] * 2},
        geometry=[Point(105.1, 37.1), Point(105.1001, 37.1)], crs="EPSG:4326")
    layer = overlays_of(overview_map(villages=villages, households=households))["households"]
    assert layer.cluster and not layer.show
    assert len(layer.features) == 2
    with pytest.raises(ValueError, match="personal fields"):
        overview_map(villages=villages, households=households.assign(head_name=["张三", "李四"]))


def test_style_scales():
    assert road_width_px(None) == 2.0
    assert road_width_px(30) == 6.0
    assert pv_radius_px(3) < pv_radius_px(300) < pv_radius_px(20000)
