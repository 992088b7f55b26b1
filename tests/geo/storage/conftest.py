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


def upkeep(conn, table: str) -> dict[str, list]:
    """A table's indexes and constraints as the catalogs define them (PostGIS), or everything
    SQLite keeps for it (indexes, triggers), to compare before and after a bulk load."""
    if conn.dialect.name == "postgresql":
        indexes = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %(t)s "
                                       "ORDER BY 1", {"t": table}).all()
        constraints = conn.exec_driver_sql(
            "SELECT conname, contype, convalidated, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %(t)s::regclass ORDER BY 1", {"t": table}).all()
        return {"indexes": [tuple(r) for r in indexes], "constraints": [tuple(r) for r in constraints]}
    rows = conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? ORDER BY 2",
                                (table,)).all()
    return {"schema": [tuple(r) for r in rows]}
