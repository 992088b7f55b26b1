"""The WebMercatorQuad grid and MVT encoding of geo.tiles, on hand-built tiles and points."""

from __future__ import annotations

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely

from geo import tiles
from geo.errors import NotFound


def test_the_grid_corners():
    assert tiles.tile_bounds_m(0, 0, 0) == pytest.approx((-tiles.ORIGIN_SHIFT_M, -tiles.ORIGIN_SHIFT_M,
                                                         tiles.ORIGIN_SHIFT_M, tiles.ORIGIN_SHIFT_M))
    north_west = tiles.tile_area_lonlat(1, 0, 0, margin=0)
    assert north_west.bounds == pytest.approx((-180.0, 0.0, 0.0, 85.0511), abs=1e-3)
    matrices = tiles.tile_matrix_set()["tileMatrices"]
    assert matrices[0]["scaleDenominator"] == pytest.approx(559082264.0287178, rel=1e-9)
    assert matrices[12]["matrixWidth"] == 4096


@pytest.mark.parametrize(("z", "row", "col"), [(-1, 0, 0), (25, 0, 0), (3, 8, 0), (3, 0, -1)])
def test_tiles_outside_the_grid(z, row, col):
    with pytest.raises(NotFound):
        tiles.check_tile(z, row, col)


def test_a_point_lands_where_it_should_and_carries_its_fields():
    # (0, 0) is the corner shared by the four tiles of zoom 1: tile (1, 0, 1) has it bottom left.
    frame = gpd.GeoDataFrame({"id": [7, 8], "name": ["兴仁村", None], "n": [3, 4]},
                             geometry=[shapely.Point(0.0, 0.0), shapely.Point(-90.0, -45.0)], crs=4326)
    data = tiles.encode_mvt(frame, layer="villages", z=1, row=0, col=1, properties=["name", "n"])
    features = mapbox_vector_tile.decode(data, default_options={"y_coord_down": False})["villages"]["features"]
    assert [(f["id"], f["properties"], f["geometry"]["coordinates"]) for f in features] == [
        (7, {"name": "兴仁村", "n": 3}, [0, 0])]
    assert tiles.encode_mvt(frame.iloc[1:], layer="villages", z=1, row=0, col=1, properties=["n"]) == b""
