"""The inspection map on a small hand-built sample: numbering, team colours, route, names."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from maps.base import overlays_of, render_map
from maps.inspection import inspection_map, team_color
from tests.maps.conftest import CRS, XSS

START = Point(105.0, 37.0)


@pytest.fixture
def sample():
    villages = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "village_id": [1, 2, 3], "village_name": ["一村", XSS, "三村"],
         "township_name": ["甲镇"] * 3, "category": ["key_poor", "poor", "exited"], "team": [1, 1, 2],
         "visit_order": [1, 2, 1], "leg_km": [15.0, 14.0, None], "leg_method": ["road_network", None, None],
         "households_sampled": [2, 1, 1],
         "leg": gpd.GeoSeries([LineString([(105.0, 37.0), (105.1, 37.0), (105.1, 37.1)]), None, None], crs=CRS)},
        geometry=[Point(105.1, 37.1), Point(105.2, 37.2), Point(105.3, 37.0)], crs=CRS)
    households = gpd.GeoDataFrame(
        {"id": [1, 2, 3, 4], "sample_village_id": [1, 1, 2, 3], "household_id": [11, 12, 13, 14],
         "household_code": ["H1", "H2", "H3", "H4"], "stratum_label": ["未脱贫户"] * 4,
         "status": ["registered"] * 4, "team": [1, 1, 1, 2], "village_order": [1, 1, 2, 1],
         "visit_order": [1, 2, 1, 1], "village_name": ["一村", "一村", XSS, "三村"]},
        geometry=[Point(105.101, 37.1), Point(105.102, 37.1), Point(105.2, 37.201), Point(105.3, 37.001)], crs=CRS)
    return villages, households


def test_numbered_by_team_with_routes(sample):
    villages, households = sample
    m = inspection_map(sampled_villages=villages, sampled_households=households,
                       plan={"id": 1, "name": "方案一", "year": 2019, "start": START})
    layers = overlays_of(m)
    assert list(layers) == ["inspection_route", "inspection_households", "inspection_villages"]
    v = {f["p"]["name"]: f for f in layers["inspection_villages"].features}
    assert layers["inspection_villages"].label == "order"
    assert (v["一村"]["p"]["order"], v[XSS]["p"]["order"], v["三村"]["p"]["order"]) == ("1", "2", "1")
    assert v["一村"]["s"]["fillColor"] == team_color(1) != v["三村"]["s"]["fillColor"] == team_color(2)
    assert v["一村"]["p"]["leg"].startswith("15.0 公里（")
    h = [f["p"]["order"] for f in layers["inspection_households"].features]
    assert h == ["1-1", "1-2", "2-1", "1-1"]
    routes = {f["p"]["label"]: f for f in layers["inspection_route"].features}
    assert len(routes) == 2
    one = next(f for label, f in routes.items() if label.startswith("第1组"))
    # Team 1: the recorded road leg to 一村 (2 segments), then a straight line to the next village.
    assert one["g"]["type"] == "MultiLineString" and len(one["g"]["coordinates"]) == 2
    assert one["s"]["color"] == team_color(1)
    two = next(f for label, f in routes.items() if label.startswith("第2组"))
    assert two["g"]["coordinates"] == [[[105.0, 37.0], [105.3, 37.0]]]  # start -> 三村, straight
    assert "第1组" in m.atlas_legend.labels() and "第2组" in m.atlas_legend.labels()
    page = render_map(m)
    assert XSS not in page and "\\u003cimg src=x onerror=alert(1)\\u003e" in page


def test_names_only_when_allowed(sample):
    villages, households = sample
    named = households.assign(head_name=["王某", "李某", "赵某", "钱某"])
    with pytest.raises(ValueError, match="personal fields"):
        inspection_map(sampled_villages=villages, sampled_households=named, plan={})
    hidden = inspection_map(sampled_villages=villages, sampled_households=households, plan={})
    assert "王某" not in render_map(hidden)
    assert "不显示户主姓名（无权限或未授权）" in hidden.atlas_legend.labels()
    shown = inspection_map(sampled_villages=villages, sampled_households=named, plan={}, show_names=True)
    first = overlays_of(shown)["inspection_households"].features[0]["p"]
    assert first["head_name"] == "王某"
    with pytest.raises(ValueError, match="ID numbers"):
        inspection_map(sampled_villages=villages, sampled_households=named.assign(id_number=["1"] * 4),
                       plan={}, show_names=True)
