"""Fixtures of the storage tests: two townships and three villages, in a rolled-back transaction."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from geo import storage

WEST = Polygon([(105.0, 37.4), (105.2, 37.4), (105.2, 37.6), (105.0, 37.6)])
EAST = Polygon([(105.2, 37.4), (105.4, 37.4), (105.4, 37.6), (105.2, 37.6)])


@pytest.fixture
def towns(conn):
    frame = gpd.GeoDataFrame({"name": ["西镇", "东镇"]}, geometry=[WEST, EAST], crs=4326)
    ids = storage.write_layer(conn, "townships", frame).ids
    villages = gpd.GeoDataFrame(
        {"name": ["一村", "二村", "三村"], "township_id": [ids[0], ids[0], ids[1]],
         "category": ["重点贫困村", "poor", "exited"], "population": [900, 1200, 800]},
        geometry=[Point(105.05, 37.5), Point(105.15, 37.45), Point(105.3, 37.55)], crs=4326)
    vids = storage.write_layer(conn, "villages", villages).ids
    return {"west": ids[0], "east": ids[1], "villages": vids}
