"""The WebMercatorQuad tile grid (OGC Two Dimensional Tile Matrix Set) and Mapbox Vector Tiles
made from a frame. Pure: numbers and frames in, bytes out (no database).

A tile is named ``(z, row, col)`` as OGC API - Tiles names it (``{tileMatrix}/{tileRow}/
{tileCol}``: row 0 at the top, the north), the same numbering as XYZ web tiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import NotFound

#: Half the side of the Web Mercator square [m] (EPSG:3857).
ORIGIN_SHIFT_M = 20037508.342789244
MAX_ZOOM = 24
#: Tile coordinates per side (the MVT default) and the margin drawn beyond the edge.
EXTENT = 4096
BUFFER = 64
#: The OGC definition of the grid (tileMatrixSets/WebMercatorQuad).
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
_PIXEL_M = 0.00028  # the standardised rendering pixel [m]

#: Registry layers a served map may draw from these tiles instead of embedding their features
#: (those that grow to province scale and carry no names drawn on the map).
MAP_TILED_LAYERS = ("households", "roads", "settlements")


@dataclass(frozen=True)
class TiledLayer:
    """A layer a served map draws from ``/ogc`` vector tiles instead of embedding its rows
    (more than the map's tile threshold of them).

    Attributes
    ----------
    collection
        The OGC collection (``households``).
    rows
        How many rows the map's township scope holds (at least this many: a count may stop at
        the threshold).
    synthetic
        Some of them are demo rows (``source`` ``demo:...``): the legend says so.
    township
        The ``township`` query value the tiles are asked with (the map's own choice; the
        caller's township limit is applied by the server in any case), or None.
    """

    collection: str
    rows: int
    synthetic: bool = False
    township: str | None = None

    @property
    def empty(self) -> bool:
        return self.rows == 0

    def __len__(self) -> int:
        return self.rows

    def url(self, properties: Sequence[str] | None = None) -> str:
        """The tiles' URL template on the serving host (Leaflet's ``{z}/{y}/{x}``: zoom, row,
        column), asking only ``properties`` when given."""
        path = f"/ogc/collections/{self.collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
        query = []
        if self.township is not None:
            query.append(f"township={quote(self.township, safe='')}")
        if properties:
            query.append("properties=" + ",".join(quote(p, safe="") for p in properties))
        return path + ("?" + "&".join(query) if query else "")


def check_tile(z: int, row: int, col: int) -> None:
    """Raise NotFound unless ``(z, row, col)`` is a tile of the grid (zoom 0 to 24)."""
    if not 0 <= z <= MAX_ZOOM:
        raise NotFound(f"tile matrix {z} does not exist; WebMercatorQuad has 0 to {MAX_ZOOM}")
    side = 2 ** z
    if not (0 <= row < side and 0 <= col < side):
        raise NotFound(f"tile {z}/{row}/{col} does not exist; at zoom {z} rows and columns run 0 to {side - 1}")


def tile_bounds_m(z: int, row: int, col: int) -> tuple[float, float, float, float]:
    """``(minx, miny, maxx, maxy)`` of a tile in EPSG:3857 [m]."""
    size = 2 * ORIGIN_SHIFT_M / 2 ** z
    minx = -ORIGIN_SHIFT_M + col * size
    maxy = ORIGIN_SHIFT_M - row * size
    return minx, maxy - size, minx + size, maxy


def tile_area_lonlat(z: int, row: int, col: int, *, margin: float = BUFFER / EXTENT) -> shapely.Polygon:
    """The tile, widened by ``margin`` of its side, as a longitude/latitude box [degrees]."""
    minx, miny, maxx, maxy = tile_bounds_m(z, row, col)
    pad = (maxx - minx) * margin
    lon = [_lon(minx - pad), _lon(maxx + pad)]
    lat = [_lat(miny - pad), _lat(maxy + pad)]
    return shapely.box(max(lon[0], -180.0), max(lat[0], -85.06), min(lon[1], 180.0), min(lat[1], 85.06))


def _lon(x_m: float) -> float:
    return x_m / ORIGIN_SHIFT_M * 180.0


def _lat(y_m: float) -> float:
    y_m = max(-ORIGIN_SHIFT_M, min(ORIGIN_SHIFT_M, y_m))
    return math.degrees(2 * math.atan(math.exp(y_m / ORIGIN_SHIFT_M * math.pi)) - math.pi / 2)


def tile_matrix_set() -> dict:
    """The WebMercatorQuad definition (OGC 17-083r4 JSON encoding)."""
    matrices = []
    for z in range(MAX_ZOOM + 1):
        cell_m = 2 * ORIGIN_SHIFT_M / 256 / 2 ** z
        matrices.append({
            "id": str(z), "scaleDenominator": cell_m / _PIXEL_M, "cellSize": cell_m,
            "cornerOfOrigin": "topLeft", "pointOfOrigin": [-ORIGIN_SHIFT_M, ORIGIN_SHIFT_M],
            "tileWidth": 256, "tileHeight": 256, "matrixWidth": 2 ** z, "matrixHeight": 2 ** z,
        })
    return {
        "id": "WebMercatorQuad",
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }


def encode_mvt(frame: gpd.GeoDataFrame, *, layer: str, z: int, row: int, col: int,
               properties: list[str]) -> bytes:
    """One MVT layer of the frame's features (EPSG:4326) clipped to the tile and its margin;
    feature ids are the rows' ``id``. Empty bytes when nothing falls in the tile."""
    import mapbox_vector_tile

    minx, miny, maxx, maxy = tile_bounds_m(z, row, col)
    pad = (maxx - minx) * BUFFER / EXTENT
    geoms = frame.geometry.to_crs(3857).array.to_numpy()
    clipped = shapely.clip_by_rect(geoms, minx - pad, miny - pad, maxx + pad, maxy + pad)
    # Into tile coordinates here, in one vectorised step (the encoder's own quantising works
    # feature by feature through a deprecated shapely function).
    scale = np.array([EXTENT / (maxx - minx), EXTENT / (maxy - miny)])
    clipped = shapely.transform(clipped, lambda xy: np.rint((xy - np.array([minx, miny])) * scale))
    keep = ~(shapely.is_empty(clipped) | shapely.is_missing(clipped))
    if not keep.any():
        return b""
    table = frame.loc[keep, properties]
    values = table.astype(object).where(table.notna(), None).to_numpy().tolist()
    features = []
    for geom, feature_id, row_values in zip(clipped[keep], frame.loc[keep, "id"].tolist(), values):
        props = {name: _mvt_value(value) for name, value in zip(properties, row_values) if value is not None}
        features.append({"geometry": geom, "properties": props, "id": int(feature_id)})
    return mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": False},
    )


_PLAIN = (bool, int, float, str)


def _mvt_value(value):
    if type(value) in _PLAIN:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
