"""Fixtures for the import/export tests: a small registry inside the rolled-back ``conn``,
and a snapshot of every layer to prove an import changed nothing."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from geo import storage
from geo.layers import LAYERS

WEST = Polygon([(105.0, 37.4), (105.2, 37.4), (105.2, 37.6), (105.0, 37.6)])
EAST = Polygon([(105.2, 37.4), (105.4, 37.4), (105.4, 37.6), (105.2, 37.6)])


@pytest.fixture
def registry(conn):
    """Two townships, three villages (两个新水村 in different townships), two units."""
    towns = gpd.GeoDataFrame({"name": ["西镇", "东镇"], "code": ["640502100", "640502101"]},
                             geometry=[WEST, EAST], crs=4326)
    town_ids = storage.write_layer(conn, "townships", towns).ids
    villages = gpd.GeoDataFrame(
        {"name": ["一村", "新水村", "新水村"], "township_id": [town_ids[0], town_ids[0], town_ids[1]],
         "code": ["640502100001", "640502100002", "640502101001"], "category": ["poor", "key_poor", "exited"]},
        geometry=[Point(105.05, 37.5), Point(105.15, 37.45), Point(105.3, 37.55)], crs=4326)
    village_ids = storage.write_layer(conn, "villages", villages).ids
    units = pd.DataFrame({"name": ["沙坡头区审计局", "自治区统计局"], "kind": ["party_government"] * 2})
    unit_ids = storage.write_layer(conn, "units", units).ids
    return {"towns": town_ids, "villages": village_ids, "units": unit_ids}


def snapshot(bind) -> dict[str, list]:
    """Every row of every layer (with PII), for before/after comparisons."""
    out = {}
    for layer in LAYERS:
        frame = storage.read_layer(bind, layer, include_pii=True, with_names=False)
        out[layer] = [tuple(str(v) for v in row) for row in frame.drop(columns=["geometry"]).itertuples(index=False)]
        out[layer + ":geometry"] = [None if g is None else g.wkt for g in frame.geometry]
    return out
