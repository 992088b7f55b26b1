"""Offline map packages of a recorded plan on both backends: the MBTiles opens with sqlite3
and with GDAL's MBTiles driver (Debian's gdal-bin), holds tiles at every zoom 10-17 with the
expected layers and Chinese names, only the team's area with a team, no household name, the
demo notice in its attribution; the raster variant holds valid PNGs at every zoom."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import subprocess
from collections import defaultdict

import mapbox_vector_tile
import pytest
from PIL import Image
from shapely.geometry import box

from geo import storage
from geo.errors import NotFound, ValidationError
from geo.inspection.plans import load_plan, with_overrides
from geo.services import field_maps
from geo.services import inspections as service
from tests.geo.conftest import tx_on_module

ZOOMS = set(range(10, 18))


@pytest.fixture(scope="module")
def plan(module_tx):
    """Drawn once for the module; each test's writes are rolled back (``tx``)."""
    spec = with_overrides(load_plan("seed003", year=2019), townships=("宣和镇",))
    return service.draw_plan(module_tx, spec, seed="offline maps", teams=2).plan_id


tx = tx_on_module("plan")


def _open(data: bytes, tmp_path, name: str):
    path = tmp_path / name
    path.write_bytes(data)
    return path, sqlite3.connect(path)


def _decoded(db) -> dict[int, list[dict]]:
    tiles = defaultdict(list)
    for z, data in db.execute("SELECT zoom_level, tile_data FROM tiles"):
        tiles[z].append(mapbox_vector_tile.decode(gzip.decompress(data)))
    return tiles


def test_a_teams_vector_package_opens_with_sqlite_and_gdal_and_holds_its_area_only(tx, plan, tmp_path):
    record = service.load_record(tx, plan)
    data = field_maps.team_mbtiles(tx, plan, team=1)
    path, db = _open(data, tmp_path, "team1.mbtiles")
    meta = dict(db.execute("SELECT name, value FROM metadata"))
    assert meta["format"] == "pbf" and meta["minzoom"] == "10" and meta["maxzoom"] == "17"
    assert "第1组离线地图" in meta["name"] and record.plan["name"] in meta["name"]
    assert "演示数据" in meta["attribution"] and "demo:synthetic" in meta["attribution"]
    west, south, east, north = (float(v) for v in meta["bounds"].split(","))
    layers = {entry["id"] for entry in json.loads(meta["json"])["vector_layers"]}
    assert layers == {"townships", "township_names", "roads", "water", "villages", "settlements", "route", "stops"}

    tiles = _decoded(db)
    assert set(tiles) == ZOOMS
    seen = defaultdict(set)
    for z, decoded in tiles.items():
        for tile in decoded:
            for name, layer in tile.items():
                seen[name] |= {str(f["properties"].get("name") or f["properties"].get("label")) for f in layer["features"]}
    assert set(seen) == layers
    ours = record.villages[record.villages["team"] == 1]
    theirs = record.villages[record.villages["team"] == 2]
    stop_names = {f["properties"]["name"] for d in tiles[13] for f in d.get("stops", {}).get("features", [])
                  if f["properties"]["kind"] == "village"}
    assert stop_names == set(ours["village_name"])  # Chinese text intact, only team 1's stops
    assert set(ours["village_name"]) <= seen["villages"] and "宣和镇" in seen["township_names"]
    assert {f["properties"]["team"] for d in tiles[12] for f in d.get("route", {}).get("features", [])} == {1}
    stops = [f["properties"] for d in tiles[16] for f in d.get("stops", {}).get("features", [])]
    labels = {p["label"] for p in stops if p["kind"] == "household"}
    households = record.households[record.households["team"] == 1]
    assert {f"1-{h.village_order:02d}-{h.visit_order:02d}" for h in households.itertuples()} <= labels
    # the area: every stop of team 1 inside the bounds; none of team 2's outside them hides in the tiles
    for point in ours.geometry:
        assert west <= point.x <= east and south <= point.y <= north
    assert not set(theirs["village_name"]) & stop_names

    # no household names anywhere in the file
    names = storage.read_layer(tx, "households", ids=[int(i) for i in record.households["household_id"]],
                               columns=["head_name"], include_pii=True)["head_name"].dropna()
    text = b"".join(gzip.decompress(d) for (d,) in db.execute("SELECT tile_data FROM tiles")).decode("utf-8", "replace")
    assert len(names) and not any(n in text for n in names)
    db.close()

    # GDAL's MBTiles driver reads the package: its vector layers, with the Chinese names
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(path)], capture_output=True, text=True, timeout=300)
    assert info.returncode == 0, info.stderr
    assert "MBTiles" in info.stdout and all(f": {name}" in info.stdout for name in layers)
    villages = subprocess.run(["ogrinfo", "-ro", "-al", "-q", str(path), "-oo", "ZOOM_LEVEL=13", "stops"],
                              capture_output=True, text=True, timeout=300)
    assert villages.returncode == 0 and ours["village_name"].iloc[0] in villages.stdout

    whole = field_maps.build_package(tx, plan, team=None, raster=False)
    assert whole.teams == [1, 2] and "全部检查组" in whole.name
    wide = box(*whole.bounds)
    assert wide.contains(box(west, south, east, north).buffer(-1e-9)) or wide.covers(box(west, south, east, north))
    assert sum(whole.tiles_per_zoom.values()) > sum(len(v) for v in tiles.values())


def test_the_raster_package_holds_256_pixel_pngs_at_every_zoom_and_gdal_reads_it(tx, plan, tmp_path):
    data = field_maps.team_mbtiles(tx, plan, team=2, raster=True)
    path, db = _open(data, tmp_path, "team2.mbtiles")
    meta = dict(db.execute("SELECT name, value FROM metadata"))
    assert meta["format"] == "png" and "json" not in meta and "演示数据" in meta["attribution"]
    zooms = set()
    for z, blob in db.execute("SELECT zoom_level, tile_data FROM tiles"):
        zooms.add(z)
        image = Image.open(io.BytesIO(blob))
        assert image.format == "PNG" and image.size == (256, 256)
    assert zooms == ZOOMS
    db.close()
    info = subprocess.run(["gdalinfo", str(path)], capture_output=True, text=True, timeout=300)
    assert info.returncode == 0, info.stderr
    assert "Driver: MBTiles/MBTiles" in info.stdout and "Band 3" in info.stdout


def test_a_team_the_plan_lacks_an_unknown_plan_and_a_missing_folder_are_refused(tx, plan, tmp_path):
    with pytest.raises(ValidationError, match="--team 3: the plan has teams 1, 2"):
        field_maps.team_mbtiles(tx, plan, team=3)
    with pytest.raises(NotFound):
        field_maps.team_mbtiles(tx, 999_999, team=None)
    with pytest.raises(ValidationError, match="does not exist"):
        field_maps.export_mbtiles(tx, plan, tmp_path / "no" / "such.mbtiles", team=1)
