"""OGC API - Tiles: Mapbox Vector Tiles of the collections (ST_AsMVT on PostGIS,
mapbox-vector-tile over SpatiaLite), decoded with mapbox-vector-tile and compared with the
items; the same township scope and personal-data rule as the items."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest

from geo import storage, tiles

TILE = "/ogc/collections/{}/tiles/WebMercatorQuad/{}/{}/{}"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """``(row, col)`` of the tile holding a point."""
    side = 2 ** z
    col = int((lon + 180) / 360 * side)
    row = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * side)
    return row, col


def decode(response, layer: str) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": False})[layer]["features"]


def lonlat(feature: dict, z: int, row: int, col: int) -> tuple[float, float]:
    x, y = feature["geometry"]["coordinates"]
    minx, miny, maxx, maxy = tiles.tile_bounds_m(z, row, col)
    mx = minx + x / tiles.EXTENT * (maxx - minx)
    my = miny + y / tiles.EXTENT * (maxy - miny)
    lon = mx / tiles.ORIGIN_SHIFT_M * 180
    lat = math.degrees(2 * math.atan(math.exp(my / tiles.ORIGIN_SHIFT_M * math.pi)) - math.pi / 2)
    return lon, lat


def test_a_village_tile_holds_the_items_of_its_area(demo_server, demo_engine, headers):
    villages = storage.read_layer(demo_engine, "villages").set_index("id")
    first = villages.geometry.iloc[0]
    z = 11
    row, col = tile_of(first.x, first.y, z)
    features = decode(demo_server.get(TILE.format("villages", z, row, col), headers=headers["leader"]), "villages")
    area = tiles.tile_area_lonlat(z, row, col)
    expected = set(villages.index[villages.geometry.intersects(area)])
    assert {f["id"] for f in features} == expected and expected
    pixel_deg = 360 / 2 ** z / tiles.EXTENT * 1.5
    for feature in features:
        stored = villages.loc[feature["id"]]
        assert feature["properties"]["name"] == stored["name"]
        assert feature["properties"]["category"] == stored["category"]
        assert feature["properties"]["population"] == stored["population"]
        lon, lat = lonlat(feature, z, row, col)
        assert lon == pytest.approx(stored.geometry.x, abs=pixel_deg)
        assert lat == pytest.approx(stored.geometry.y, abs=pixel_deg)


def test_household_tiles_carry_no_personal_fields_and_follow_the_scope(demo_server, demo_engine, headers):
    scope = storage.resolve_township(demo_engine, "兴仁镇")
    mine = storage.read_layer(demo_engine, "households", township=scope)
    others = storage.read_layer(demo_engine, "households").query("id not in @mine.id")
    point = others.geometry.iloc[0]
    z = 9
    row, col = tile_of(point.x, point.y, z)
    everyone = decode(demo_server.get(TILE.format("households", z, row, col), headers=headers["leader"]), "households")
    assert everyone and all({"head_name", "id_number"}.isdisjoint(f["properties"]) for f in everyone)
    scoped = demo_server.get(TILE.format("households", z, row, col), headers=headers["scoped"])
    ids = {f["id"] for f in decode(scoped, "households")} if scoped.status_code == 200 else set()
    assert ids <= set(mine["id"]) and ids != {f["id"] for f in everyone}


def test_geometry_type_tiles_and_the_edges_of_the_grid(demo_server, demo_engine, headers):
    auth = headers["leader"]
    water = storage.read_layer(demo_engine, "water_facilities")
    line = water[water.geometry.geom_type.isin(["LineString", "MultiLineString"])].geometry.iloc[0]
    row, col = tile_of(line.centroid.x, line.centroid.y, 10)
    features = decode(demo_server.get(TILE.format("water_facilities_lines", 10, row, col), headers=auth),
                      "water_facilities_lines")
    assert features and {f["geometry"]["type"] for f in features} <= {"LineString", "MultiLineString"}
    assert demo_server.get(TILE.format("villages", 10, 0, 0), headers=auth).status_code == 204  # the Arctic
    assert demo_server.get(TILE.format("villages", 25, 0, 0), headers=auth).status_code == 404
    assert demo_server.get(TILE.format("villages", 2, 4, 0), headers=auth).status_code == 404
    assert demo_server.get(TILE.format("pairings", 2, 1, 1), headers=auth).status_code == 404
    assert demo_server.get("/ogc/collections/villages/tiles/WorldCRS84Quad/2/1/1", headers=auth).status_code == 404
    tms = demo_server.get("/ogc/tileMatrixSets/WebMercatorQuad", headers=auth).json()
    assert tms["tileMatrices"][0]["matrixWidth"] == 1 and len(tms["tileMatrices"]) == tiles.MAX_ZOOM + 1
    tileset = demo_server.get("/ogc/collections/villages/tiles/WebMercatorQuad", headers=auth).json()
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    assert template.endswith("/{tileMatrix}/{tileRow}/{tileCol}")


def test_a_kept_tile_follows_a_registry_write_at_once(scratch):
    """Tiles are kept per registry stamp: a write (here through the storage layer, as an import
    or another server worker writes) shows in the next tile, never the kept one."""
    auth = scratch.headers["leader"]
    villages = storage.read_layer(scratch.engine, "villages").set_index("id")
    village_id = int(villages.index[0])
    point = villages.geometry.iloc[0]
    z = 12
    row, col = tile_of(point.x, point.y, z)
    url = TILE.format("villages", z, row, col)
    before = {f["id"]: f["properties"] for f in decode(scratch.get(url, headers=auth), "villages")}
    assert before[village_id]["population"] == villages.loc[village_id, "population"]
    assert scratch.get(url, headers=auth).content == scratch.get(url, headers=auth).content  # kept
    new_population = int(villages.loc[village_id, "population"]) + 7
    storage.write_layer(scratch.engine, "villages", villages.loc[[village_id], ["population"]]
                        .assign(population=new_population).reset_index())
    after = {f["id"]: f["properties"] for f in decode(scratch.get(url, headers=auth), "villages")}
    assert after[village_id]["population"] == new_population
