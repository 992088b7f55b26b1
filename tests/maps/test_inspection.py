"""The inspection map on a small hand-built sample: numbering, team colours, route, names."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from geo.errors import ValidationError
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
    assert list(layers) == ["inspection_route", "inspection_households", "inspection_villages", "inspection_start"]
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


TEAMS = [  # routes_json of a draw planned in days: 一村 then XSS on day 1, 三村 (team 2) on day 1
    {"team": 1, "days": [{"day": 1, "stops": [{"village_key": "k1", "stop": 1, "arrive": "08:40", "leave": "11:10"}]},
                         {"day": 2, "stops": [{"village_key": "k2", "stop": 1, "arrive": "08:30", "leave": "10:00"}]}]},
    {"team": 2, "days": [{"day": 1, "stops": [{"village_key": "k3", "stop": 1, "arrive": "09:00", "leave": "10:30"}]}]},
]


def test_one_team_one_day_with_its_start_and_the_households_in_order(sample):
    villages, households = sample
    villages = villages.assign(village_key=["k1", "k2", "k3"])
    plan = {"id": 1, "name": "方案一", "year": 2019, "start": START, "teams": 2}
    m = inspection_map(sampled_villages=villages, sampled_households=households, plan=plan, teams=TEAMS, team=1)
    layers = overlays_of(m)
    assert {f["p"]["name"] for f in layers["inspection_villages"].features} == {"一村", XSS}
    assert [f["p"]["code"] for f in layers["inspection_households"].features] == ["H1", "H2", "H3"]
    start = layers["inspection_start"].features
    assert len(start) == 1 and start[0]["p"]["label"] == "起" and start[0]["g"]["coordinates"] == [105.0, 37.0]
    one = next(f for f in layers["inspection_villages"].features if f["p"]["name"] == "一村")
    assert one["p"]["visits"] == "1 H1（未脱贫户）；2 H2（未脱贫户）"
    assert one["p"]["day"] == "第1天 第1站，08:40到，11:10离开"
    # day 2 of team 1 starts where day 1 ended: the team slept at 一村
    day2 = inspection_map(sampled_villages=villages, sampled_households=households, plan=plan, teams=TEAMS,
                          team=1, day=2)
    layers = overlays_of(day2)
    assert [f["p"]["name"] for f in layers["inspection_villages"].features] == [XSS]
    start = layers["inspection_start"].features[0]
    assert start["g"]["coordinates"] == [105.1, 37.1] and "前一天在此住宿" in start["p"]["what"]
    with pytest.raises(ValidationError, match="team=3: plan 1 has teams 1-2"):
        inspection_map(sampled_villages=villages, sampled_households=households, plan=plan, teams=TEAMS, team=3)
    with pytest.raises(ValidationError, match="day=2: the schedule of team 2 has days 1-1"):
        inspection_map(sampled_villages=villages, sampled_households=households, plan=plan, teams=TEAMS,
                       team=2, day=2)
    with pytest.raises(ValidationError, match="drawn before routes were planned in days"):
        inspection_map(sampled_villages=villages, sampled_households=households, plan=plan, day=1)


def test_numbered_labels_stay_on_one_line():
    from pathlib import Path

    import maps

    css = (Path(maps.__file__).parent / "static" / "atlas.css").read_text(encoding="utf-8")
    numbered = css[css.index(".atlas-icon.atlas-numbered span"):]
    assert "white-space: nowrap" in numbered[:numbered.index("}")]
