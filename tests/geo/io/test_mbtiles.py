"""Offline packages, the pure part: tiles over an area (counts worked out by hand), vector
tiles that decode to the features and names given, the MBTiles file with its TMS rows and
metadata, and PNG tiles with their labels placed once per zoom."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely
from PIL import Image
from shapely.geometry import LineString, Point, box

from geo.errors import ValidationError
from geo.io import mbtiles, tile_render
from geo.io.mbtiles import TileLayer


def _frame(rows, geoms):
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
    frame.insert(0, "id", range(1, len(frame) + 1))
    return frame


VILLAGES = _frame({"name": ["长流水村", "<b>鸣沙村</b>"], "households": [120, None]},
                  [Point(105.0001, 37.4001), Point(105.3001, 37.4001)])
ROADS = _frame({"name": ["县道X101"], "surface": ["hardened"]}, [LineString([(105.0001, 37.4001), (105.3001, 37.4001)])])
LAYERS = [TileLayer("villages", VILLAGES, ("name", "households"), "行政村"),
          TileLayer("roads", ROADS, ("name", "surface"), "道路", min_zoom=12)]


def test_tiles_over_a_point_sized_area_are_one_per_zoom_and_a_box_counts_its_rows_and_columns():
    # 105.0001 E 37.4001 N lies inside one tile at every zoom; the tile of zoom 10 is column
    # floor((105.0001 + 180) / 360 * 1024) = 810.
    tiles = mbtiles.tiles_over(Point(105.0001, 37.4001).buffer(1e-7))
    assert [z for z, _, _ in tiles] == list(range(10, 18))
    assert tiles[0][2] == 810
    for (z, row, col), (z2, row2, col2) in zip(tiles, tiles[1:]):
        assert (row2 // 2, col2 // 2) == (row, col)  # each tile inside its parent
    # 0 to 90 degrees east, just north of the equator: at zoom 2 one column and one row
    one = mbtiles.tiles_over(box(0.1, 0.1, 89.9, 1.0), zooms=[2])
    assert one == [(2, 1, 2)]
    # a box over four tiles of zoom 2 (both sides of lon 0 and of the equator)
    assert len(mbtiles.tiles_over(box(-10, -10, 10, 10), zooms=[2])) == 4
    with pytest.raises(ValidationError, match="area is empty"):
        mbtiles.tiles_over(Point(0, 0).buffer(0))
    with pytest.raises(ValidationError, match="outside"):
        mbtiles.tiles_over(box(0, 80, 1, 89))


def test_vector_tiles_carry_the_layers_their_names_and_leave_empty_tiles_out():
    village_tile = mbtiles.tiles_over(Point(105.0001, 37.4001).buffer(1e-7), zooms=[11])[0]
    middle = mbtiles.tiles_over(Point(105.15, 37.4001).buffer(1e-7), zooms=[11])[0]
    nowhere = mbtiles.tiles_over(Point(104.5, 36.5).buffer(1e-7), zooms=[11])[0]
    cut = dict(mbtiles.vector_tiles(LAYERS, [village_tile, middle, nowhere]))
    # the middle tile holds only the road, which starts at zoom 12: no tile there at zoom 11
    assert set(cut) == {village_tile}
    decoded = mapbox_vector_tile.decode(cut[village_tile], default_options={"y_coord_down": False})
    assert set(decoded) == {"villages"}  # roads from zoom 12 only
    feature = decoded["villages"]["features"][0]
    assert feature["properties"] == {"name": "长流水村", "households": 120} and feature["id"] == 1
    assert decoded["villages"]["extent"] == 4096
    x, y = feature["geometry"]["coordinates"]
    assert 0 <= x < 4096 and 0 <= y < 4096
    z12 = mbtiles.tiles_over(Point(105.15, 37.4001).buffer(1e-7), zooms=[12])
    roads = mapbox_vector_tile.decode(dict(mbtiles.vector_tiles(LAYERS, z12))[z12[0]])
    assert set(roads) == {"roads"} and roads["roads"]["features"][0]["properties"]["name"] == "县道X101"
    assert roads["roads"]["features"][0]["geometry"]["type"] == "LineString"


def test_the_mbtiles_file_has_the_spec_tables_tms_rows_gzip_tiles_and_metadata(tmp_path):
    area = box(104.99, 37.39, 105.31, 37.41)
    tiles = mbtiles.tiles_over(area)
    cut = list(mbtiles.vector_tiles(LAYERS, tiles))
    metadata = mbtiles.package_metadata(name="测试包", description="说明", attribution="演示数据", area=area,
                                        tile_format="pbf", extra={"json": mbtiles.vector_layers_json(LAYERS)})
    path = tmp_path / "t.mbtiles"
    path.write_bytes(mbtiles.mbtiles_bytes(metadata, cut, compress=True))
    db = sqlite3.connect(path)
    meta = dict(db.execute("SELECT name, value FROM metadata"))
    assert meta["name"] == "测试包" and meta["format"] == "pbf" and meta["minzoom"] == "10" and meta["maxzoom"] == "17"
    assert [float(v) for v in meta["bounds"].split(",")] == pytest.approx([104.99, 37.39, 105.31, 37.41])
    lon, lat, zoom = (float(v) for v in meta["center"].split(","))
    assert area.contains(Point(lon, lat)) and zoom == 13
    layers = {entry["id"]: entry for entry in json.loads(meta["json"])["vector_layers"]}
    assert layers["villages"]["fields"] == {"name": "String", "households": "Number"}  # a gap stays a number
    assert layers["roads"]["minzoom"] == 12 and layers["villages"]["maxzoom"] == 17
    rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    assert len(rows) == len(cut) and {r[0] for r in rows} == set(range(10, 18))
    by_xyz = dict(cut)
    for z, col, tms_row, data in rows:
        xyz_row = 2 ** z - 1 - tms_row  # TMS counts rows from the south
        assert gzip.decompress(data) == by_xyz[(z, xyz_row, col)]
    db.close()


def test_png_tiles_are_256_pixel_images_with_labels_placed_without_overlap():
    stops = _frame({"kind": ["village"], "team": [1], "stop": [1], "label": ["1-01"], "name": ["长流水村"]},
                   [Point(105.0001, 37.4001)])
    layers = {"villages": VILLAGES, "roads": ROADS, "stops": stops}
    tiles = mbtiles.tiles_over(Point(105.0001, 37.4001).buffer(0.001), zooms=[10, 14, 17])
    images = dict(tile_render.render_tiles(layers, tiles))
    assert set(images) == set(tiles)
    for data in images.values():
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        image = Image.open(io.BytesIO(data))
        image.verify()
        assert Image.open(io.BytesIO(data)).size == (256, 256)
    # the village's tile at zoom 14 is not blank: something is drawn on the background
    z14 = next(t for t in tiles if t[0] == 14 and Image.open(io.BytesIO(images[t])).getcolors(65536) is not None
               and len(Image.open(io.BytesIO(images[t])).getcolors(65536)) > 1)
    assert z14
    indexed = {name: tile_render._Layer(layers.get(name)) for name in
               ("townships", "township_names", "roads", "water", "villages", "settlements", "route", "stops")}
    placed = tile_render.place_labels(indexed, 14)
    texts = [label.text for label in placed]
    assert "1-01 长流水村" in texts and "<b>鸣沙村</b>" in texts and "县道X101" in texts
    # the stop's label outranks the village name at the same place: the name is left out
    assert "长流水村" not in texts
    boxes = [shapely.box(*label.box) for label in placed]
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
