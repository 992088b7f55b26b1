"""Spatial questions asked of the database give the same answer on SpatiaLite and PostGIS."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, Polygon

from geo import storage

# Expected answers, computed once by hand (which square each point is in) and by pyproj.
TOWNS = {"西镇": Polygon([(105.0, 37.4), (105.2, 37.4), (105.2, 37.6), (105.0, 37.6)]),
         "东镇": Polygon([(105.2, 37.4), (105.4, 37.4), (105.4, 37.6), (105.2, 37.6)])}
POINTS = {"一村": (Point(105.05, 37.5), "西镇"), "二村": (Point(105.35, 37.45), "东镇"),
          "三村": (Point(105.6, 37.5), None)}


def test_villages_within_townships(conn):
    ids = storage.write_layer(conn, "townships", gpd.GeoDataFrame(
        {"name": list(TOWNS)}, geometry=list(TOWNS.values()), crs=4326)).ids
    by_name = dict(zip(TOWNS, ids))
    village_ids = storage.write_layer(conn, "villages", gpd.GeoDataFrame(
        {"name": list(POINTS), "township_id": [ids[0]] * 3, "category": ["poor"] * 3},
        geometry=[p for p, _ in POINTS.values()], crs=4326)).ids
    found = storage.villages_in_townships(conn)
    answer = dict(zip(found["village_id"], found["township_id"]))
    for vid, (_, town) in zip(village_ids, POINTS.values()):
        got = None if pd.isna(answer[vid]) else int(answer[vid])
        assert got == (by_name[town] if town else None)


@pytest.mark.parametrize(("a", "b"), [((105.0, 37.5), (105.01, 37.5)),
                                      ((105.19, 37.51), (105.30, 36.85)),
                                      ((104.3, 37.2), (105.6, 37.6))])
def test_distance_in_metres_matches_the_ellipsoid(engine, a, b):
    expected = Geod(ellps="WGS84").inv(*a, *b)[2]
    measured = storage.distance_m(engine, Point(a), Point(b))
    assert measured == pytest.approx(expected, abs=0.01)
