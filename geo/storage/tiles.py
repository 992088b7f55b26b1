"""Vector tiles from the registry: the rows of a layer in one tile, and on PostGIS the whole
Mapbox Vector Tile made by the database (``ST_AsMVTGeom`` and ``ST_AsMVT``). The filters
(township scope, geometry type) are those of :mod:`geo.storage.query`; personal columns are
never read."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import sqlalchemy as sa

from geo.db import Bind, connect, require_schema
from geo.layers import LayerSpec, get_layer
from geo.storage.query import Query, _filtered, read_layer
from geo.storage.types import _backend
from geo.tiles import BUFFER, EXTENT, tile_area_lonlat

#: Bookkeeping columns left out of tiles (``source`` stays: it says what is synthetic).
_NOT_IN_TILES = ("created_at", "updated_at", "version")


def tile_columns(spec: LayerSpec) -> list[str]:
    """The properties a tile carries: the layer's own readable columns, no personal field,
    no geometry, no bookkeeping."""
    hidden = set(spec.pii_columns) | set(spec.geometry_columns) | {"id", *_NOT_IN_TILES}
    return [c.name for c in spec.table.columns if c.name not in hidden]


def tile_rows(bind: Bind, layer: str, *, z: int, row: int, col: int, township=None,
              geometry_dimension: int | None = None, properties: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """The rows whose geometry meets the tile (and its margin), EPSG:4326, without labels, with
    ``properties`` (default: :func:`tile_columns`)."""
    spec = get_layer(layer)
    columns = list(properties) if properties is not None else tile_columns(spec)
    return read_layer(bind, layer, columns=columns, with_names=False, township=township,
                      geometry_dimension=geometry_dimension, intersects=tile_area_lonlat(z, row, col))


def postgis_mvt(bind: Bind, layer: str, *, name: str, z: int, row: int, col: int, township=None,
                geometry_dimension: int | None = None, properties: Sequence[str] | None = None) -> bytes:
    """The tile as made by PostGIS (one MVT layer called ``name``, feature ids = row ids)."""
    spec = get_layer(layer)
    table = spec.table
    columns = list(properties) if properties is not None else tile_columns(spec)
    envelope = sa.func.ST_TileEnvelope(z, col, row)
    geom = sa.func.ST_AsMVTGeom(sa.func.ST_Transform(table.c[spec.geometry], 3857), envelope, EXTENT, BUFFER,
                                True).label("mvt_geom")
    exprs = [geom, table.c.id]
    for column in columns:
        col_ = table.c[column]
        python_type = None
        try:
            python_type = col_.type.python_type
        except NotImplementedError:
            pass
        plain = python_type in (int, float, bool) and getattr(col_.type, "enum_class", None) is None
        exprs.append(col_ if plain else sa.cast(col_, sa.Text).label(column))
    # The rows' boxes meeting the tile and its margin (``&&``, the GiST index alone): for
    # points that is the exact test, and a line or area whose box meets the tile but not its
    # shape gets a NULL from ST_AsMVTGeom, which ST_AsMVT leaves out. ST_Intersects here and a
    # ``mvt_geom IS NOT NULL`` filter (which made PostgreSQL compute ST_AsMVTGeom twice) cost
    # about 40 % of the densest household tile (2,588 points) and changed no feature.
    minx, miny, maxx, maxy = tile_area_lonlat(z, row, col).bounds
    box = sa.func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)
    with connect(bind) as conn:
        require_schema(conn)
        query = Query(township=township, geometry_dimension=geometry_dimension)
        inner = _filtered(conn, spec, sa.select(*exprs), query).where(
            table.c[spec.geometry].op("&&")(box)).subquery("tile")
        assert _backend(conn) == "postgis"
        select = sa.select(sa.func.ST_AsMVT(sa.literal_column("tile"), name, EXTENT, "mvt_geom", "id")).select_from(
            inner)
        data = conn.execute(select).scalar_one()
    return bytes(data or b"")
