"""Offline map packages: which tiles cover an area, vector tiles (MVT) cut from frames, and the
MBTiles 1.3 file that holds them. Pure: frames and shapes in, bytes out; the SQLite here is the
package's own file format (an in-memory database serialised to bytes), never the registry.

The MBTiles layout (https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md):

- ``metadata(name, value)``: ``name``, ``format`` (``pbf`` or ``png``), ``bounds``
  (``W,S,E,N`` in degrees), ``center`` (``lon,lat,zoom``), ``minzoom``, ``maxzoom``,
  ``attribution``, ``description``, ``type``, ``version``; for vector tiles ``json`` with
  ``vector_layers`` (each layer's id, fields, minzoom and maxzoom).
- ``tiles(zoom_level, tile_column, tile_row, tile_data)`` with the TMS row (``0`` at the
  south: ``2**z - 1 - row`` of the XYZ/OGC numbering :mod:`geo.tiles` uses); vector tiles
  are gzip-compressed, as the spec asks and ODK Collect, QGIS and GDAL read them.
"""

from __future__ import annotations

import gzip
import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import ValidationError
from geo.tiles import BUFFER, EXTENT, ORIGIN_SHIFT_M, _mvt_value, tile_bounds_m

#: The zoom levels of a field package: 10 (a county on a phone screen) to 17 (houses).
MIN_ZOOM = 10
MAX_ZOOM = 17

Tile = tuple[int, int, int]  # (z, row, col), row 0 at the north as in geo.tiles


@dataclass(frozen=True)
class TileLayer:
    """One layer of a package.

    Attributes
    ----------
    name
        The MVT layer's name (``roads``).
    frame
        Its features in EPSG:4326, with an integer ``id`` column and the ``properties``.
    properties
        The columns every feature carries (text, numbers, booleans).
    description
        What the layer holds, for ``vector_layers`` (Chinese).
    min_zoom
        The first zoom the layer appears at.
    """

    name: str
    frame: gpd.GeoDataFrame
    properties: tuple[str, ...]
    description: str
    min_zoom: int = MIN_ZOOM


def tiles_over(area: BaseGeometry, *, zooms: Iterable[int] = range(MIN_ZOOM, MAX_ZOOM + 1)) -> list[Tile]:
    """The tiles of each zoom that meet ``area`` (longitude/latitude), in zoom, row, column order.

    Raises
    ------
    ValidationError
        An empty area, or one outside the Web Mercator square.
    """
    if area is None or area.is_empty:
        raise ValidationError("the map area is empty: nothing to cut into tiles")
    minx, miny, maxx, maxy = area.bounds
    if not (-180 <= minx <= maxx <= 180 and -85.06 <= miny <= maxy <= 85.06):
        raise ValidationError(f"the map area {area.bounds} is outside longitude -180..180, latitude -85.06..85.06")
    shapely.prepare(area)
    tiles: list[Tile] = []
    for z in zooms:
        col0, row0 = _tile_of(minx, maxy, z)
        col1, row1 = _tile_of(maxx, miny, z)
        rows, cols = np.mgrid[row0:row1 + 1, col0:col1 + 1]
        rows, cols = rows.ravel(), cols.ravel()
        boxes = shapely.box(*_lonlat_bounds(z, rows, cols))
        meets = shapely.intersects(boxes, area)
        tiles += [(z, int(r), int(c)) for r, c in zip(rows[meets], cols[meets])]
    return tiles


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    side = 2 ** z
    x = (lon + 180.0) / 360.0 * side
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * side
    return min(max(int(x), 0), side - 1), min(max(int(y), 0), side - 1)


def _lonlat_bounds(z: int, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, ...]:
    side = 2 ** z
    west = cols / side * 360.0 - 180.0
    east = (cols + 1) / side * 360.0 - 180.0
    north = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * rows / side))))
    south = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * (rows + 1) / side))))
    return west, south, east, north


class _Indexed:
    """A layer projected to EPSG:3857 once, with its spatial index and its features'
    properties as plain values (no frame is sliced per tile)."""

    def __init__(self, layer: TileLayer):
        frame = layer.frame
        geoms = frame.geometry
        keep = (geoms.notna() & ~geoms.is_empty).to_numpy()
        frame = frame[keep]
        self.layer = layer
        self.geoms = frame.geometry.to_crs(3857).array.to_numpy()
        self.tree = shapely.STRtree(self.geoms)
        self.ids = [int(i) for i in frame["id"]]
        table = frame[list(layer.properties)]
        values = table.astype(object).where(table.notna(), None).to_numpy().tolist()
        self.properties = [{n: _mvt_value(v) for n, v in zip(layer.properties, row) if v is not None}
                           for row in values]

    def features(self, z: int, row: int, col: int) -> list[dict]:
        """The features meeting the tile and its margin, clipped and in tile coordinates."""
        minx, miny, maxx, maxy = tile_bounds_m(z, row, col)
        pad = (maxx - minx) * BUFFER / EXTENT
        hits = np.sort(self.tree.query(shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)))
        if not len(hits):
            return []
        clipped = shapely.clip_by_rect(self.geoms[hits], minx - pad, miny - pad, maxx + pad, maxy + pad)
        scale = np.array([EXTENT / (maxx - minx), EXTENT / (maxy - miny)])
        origin = np.array([minx, miny])
        clipped = shapely.transform(clipped, lambda xy: np.rint((xy - origin) * scale))
        keep = ~(shapely.is_empty(clipped) | shapely.is_missing(clipped))
        return [{"geometry": g, "properties": self.properties[i], "id": self.ids[i]}
                for g, i in zip(clipped[keep], hits[keep])]


def vector_tiles(layers: Sequence[TileLayer], tiles: Iterable[Tile]) -> Iterator[tuple[Tile, bytes]]:
    """Each tile that holds at least one feature, as an uncompressed MVT (extent
    :data:`geo.tiles.EXTENT`, margin :data:`geo.tiles.BUFFER`, as the OGC tiles) with one layer
    per :class:`TileLayer` that has features there. Tiles without features are left out."""
    import mapbox_vector_tile

    indexed = [_Indexed(layer) for layer in layers]
    for tile in tiles:
        z, row, col = tile
        parts = []
        for item in indexed:
            if z >= item.layer.min_zoom:
                features = item.features(z, row, col)
                if features:
                    parts.append({"name": item.layer.name, "features": features})
        if parts:
            yield tile, mapbox_vector_tile.encode(parts, default_options={"extents": EXTENT, "y_coord_down": False})


def vector_layers_json(layers: Sequence[TileLayer], *, max_zoom: int = MAX_ZOOM) -> str:
    """The ``json`` metadata row of a vector package: ``vector_layers`` with each layer's
    fields and their types (``String``, ``Number``, ``Boolean``)."""
    entries = []
    for layer in layers:
        fields = {name: _field_type(layer.frame[name]) for name in layer.properties}
        entries.append({"id": layer.name, "description": layer.description, "minzoom": layer.min_zoom,
                        "maxzoom": max_zoom, "fields": fields})
    return json.dumps({"vector_layers": entries}, ensure_ascii=False)


def _field_type(values: pd.Series) -> str:
    # from the values present: a column of numbers with gaps is an object column
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "boolean":
        return "Boolean"
    if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "Number"
    return "String"


def package_metadata(*, name: str, description: str, attribution: str, area: BaseGeometry, tile_format: str,
                     min_zoom: int = MIN_ZOOM, max_zoom: int = MAX_ZOOM, extra: Mapping[str, str] | None = None
                     ) -> dict[str, str]:
    """The ``metadata`` rows of a package covering ``area`` (longitude/latitude): bounds and a
    centre inside the area at the middle zoom."""
    west, south, east, north = area.bounds
    centre = area.representative_point()
    rows = {
        "name": name,
        "format": tile_format,
        "bounds": ",".join(f"{v:.6f}" for v in (west, south, east, north)),
        "center": f"{centre.x:.6f},{centre.y:.6f},{(min_zoom + max_zoom) // 2}",
        "minzoom": str(min_zoom),
        "maxzoom": str(max_zoom),
        "attribution": attribution,
        "description": description,
        "type": "baselayer",
        "version": "1.3",
    }
    rows.update(extra or {})
    return rows


def mbtiles_bytes(metadata: Mapping[str, str], tiles: Iterable[tuple[Tile, bytes]], *, compress: bool) -> bytes:
    """An MBTiles 1.3 file as bytes: ``metadata`` rows and the tiles (TMS rows), each tile
    gzip-compressed when ``compress`` (vector tiles)."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.executemany("INSERT INTO metadata (name, value) VALUES (?, ?)", list(metadata.items()))
        db.executemany(
            "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)",
            ((z, col, 2 ** z - 1 - row, gzip.compress(data, mtime=0) if compress else data)
             for (z, row, col), data in tiles))
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        db.execute("CREATE UNIQUE INDEX metadata_index ON metadata (name)")
        db.commit()
        return db.serialize()
    finally:
        db.close()


def web_mercator_pixels(z: int) -> float:
    """Pixels of a 256-pixel tile grid per metre of EPSG:3857 at zoom ``z``."""
    return 256 * 2 ** z / (2 * ORIGIN_SHIFT_M)
