"""Tiny hand-built registries for the analyses, written through the storage API into the
rolled-back ``conn`` of each backend and read back through :mod:`geo.services.analyses`.

Positions are given in metres east/north of a point near Shapotou in UTM 48N (EPSG:32648),
so every distance in a test can be worked out by hand, and stored in EPSG:4326 as the
registry stores them.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiPolygon, Point, box

from geo import storage
from geo.services.analyses import load_inputs

X0, Y0 = 500_000.0, 4_150_000.0
UTM = 32648


def to_wgs(geom):
    return gpd.GeoSeries([geom], crs=UTM).to_crs(4326).iloc[0]


def point(x: float, y: float) -> Point:
    return to_wgs(Point(X0 + x, Y0 + y))


def line(*xy: tuple[float, float]) -> LineString:
    return to_wgs(LineString([(X0 + x, Y0 + y) for x, y in xy]))


def area(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon([to_wgs(box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1))])


class Registry:
    """Writes rows one layer at a time and remembers their ids by name."""

    def __init__(self, conn):
        self.conn = conn
        self.ids: dict[tuple[str, str], int] = {}
        self._codes = itertools.count(1)

    def _write(self, layer: str, records: list[dict], geometry=None) -> list[int]:
        frame = pd.DataFrame.from_records(records)
        if geometry is not None:
            frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=4326), crs=4326)
        return storage.write_layer(self.conn, layer, frame, source="test").ids

    def township(self, name: str, *, seat=(0, 0), bounds=(-20_000, -20_000, 20_000, 20_000)) -> int:
        geom = area(*bounds) if bounds is not None else None
        frame = gpd.GeoDataFrame({"name": [name]}, geometry=gpd.GeoSeries([geom], crs=4326), crs=4326)
        frame["seat"] = gpd.GeoSeries([point(*seat) if seat is not None else None], crs=4326)
        (tid,) = storage.write_layer(self.conn, "townships", frame, source="test").ids
        self.ids[("township", name)] = tid
        return tid

    def village(self, name: str, township: str, at=None, *, category="key_poor", **fields) -> int:
        record = {"name": name, "township_id": self.ids[("township", township)], "category": category, **fields}
        (vid,) = self._write("villages", [record], [point(*at) if at is not None else None])
        self.ids[("village", name)] = vid
        return vid

    def settlement(self, name: str, village: str, at, *, households: int | None,
                   population: int | None | str = "3 a household") -> int:
        if population == "3 a household":
            population = None if households is None else households * 3
        record = {"name": name, "village_id": self.ids[("village", village)], "households": households,
                  "population": population}
        (sid,) = self._write("settlements", [record], [point(*at) if at is not None else None])
        self.ids[("settlement", f"{village}{name}")] = sid
        return sid

    def road(self, *xy, surface="hardened", width_m=5.0, name=None) -> int:
        code = f"T-R{next(self._codes):04d}"
        (rid,) = self._write("roads", [{"code": code, "name": name or code, "surface": surface,
                                        "width_m": width_m}], [line(*xy)])
        return rid

    def households(self, village: str, count: int, *, status="registered", settlement: str | None = None,
                   cadre: int | None = None, at=None, members: int = 3, **fields) -> list[int]:
        records = []
        for _ in range(count):
            record = {"code": f"T-H{next(self._codes):05d}", "village_id": self.ids[("village", village)],
                      "status": status, "members": members, "cadre_id": cadre, **fields}
            if settlement is not None:
                record["settlement_id"] = self.ids[("settlement", f"{village}{settlement}")]
            records.append(record)
        geoms = [point(*at) if at is not None else None for _ in records]
        return self._write("households", records, geoms)

    def unit(self, name: str, at=None) -> int:
        (uid,) = self._write("units", [{"name": name}], [point(*at) if at is not None else None])
        self.ids[("unit", name)] = uid
        return uid

    def cadre(self, name: str, unit: str) -> int:
        (cid,) = self._write("cadres", [{"name": name, "unit_id": self.ids[("unit", unit)], "rank": "general"}])
        return cid

    def pairing(self, unit: str, village: str, funds: float, *, year=2019) -> int:
        (pid,) = self._write("pairings", [{"unit_id": self.ids[("unit", unit)],
                                           "village_id": self.ids[("village", village)], "year": year,
                                           "task_funds_wan_yuan": funds}])
        return pid

    def work_team(self, village: str, leader: str | None, *, first_secretary=None, year=2019) -> int:
        record = {"village_id": self.ids[("village", village)], "year": year,
                  "leader_unit_id": self.ids[("unit", leader)] if leader else None,
                  "first_secretary": first_secretary}
        (wid,) = self._write("work_teams", [record])
        return wid

    def facility(self, geometry, *, kind="well", status="working", drinking=True, village: str | None = None,
                 serves: tuple[str, ...] = (), name=None) -> int:
        code = f"T-W{next(self._codes):04d}"
        record = {"code": code, "name": name or code, "kind": kind, "status": status, "is_drinking": drinking,
                  "village_id": self.ids[("village", village)] if village else None}
        (fid,) = self._write("water_facilities", [record], [geometry])
        if serves:
            storage.write_links(self.conn, "water_facility_villages", pd.DataFrame(
                {"facility_id": [fid] * len(serves), "village_id": [self.ids[("village", v)] for v in serves]}))
        return fid

    def load(self, analysis: str, *, township=None, kind=None) -> dict[str, pd.DataFrame]:
        return load_inputs(self.conn, analysis, township=township, kind=kind)


@pytest.fixture
def registry(conn) -> Registry:
    return Registry(conn)
