"""Reading the registry: layers into GeoDataFrames, counts and extents, with the filters
they share (township, bbox, ids, allow-listed equality filters with bound values), and the
spatial questions the database answers itself.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection, Engine

from geo import db_async, models
from geo.db import Bind, connect, require_schema, schema_seen
from geo.errors import DatabaseError, NotFound, ValidationError
from geo.layers import LAYERS, LayerSpec, NameJoin, get_layer
from geo.storage.cql import CqlFilter
from geo.storage.types import (
    _ROW_COLUMNS,
    CRS,
    BBox,
    _backend,
    _coerce_filter_value,
    _decode,
    frame_of,
    result_frame,
)


@dataclass(frozen=True)
class Query:
    """Filters shared by :func:`read_layer` and :func:`count_layer`."""

    township: int | str | Sequence[int | str] | None = None
    #: An area at any level (province, prefecture, county, township) by code or name, or a
    #: sequence of them; keeps the rows of the townships inside (:func:`resolve_townships`).
    area: int | str | Sequence[int | str] | None = None
    bbox: BBox | None = None
    ids: Sequence[int] | None = None
    where: Mapping[str, Any] = field(default_factory=dict)
    #: Keep rows whose primary geometry has this dimension (0 points, 1 lines, 2 polygons).
    geometry_dimension: int | None = None
    #: Keep rows whose primary geometry intersects this EPSG:4326 geometry.
    intersects: BaseGeometry | None = None
    #: A CQL2 filter (applied before the township scope, which always applies too).
    cql: CqlFilter | None = None


def resolve_township(bind: Bind, township: int | str) -> int:
    """Return the id of the township given by id, 9-digit code or name.

    Raises
    ------
    NotFound
        Listing the townships that exist.
    """
    t = models.Township.__table__
    key = str(township).strip()
    with connect(bind) as conn:
        require_schema(conn)
        clauses = [t.c.name == key, t.c.code == key]
        if key.isascii() and key.isdigit() and len(key) < 9:
            clauses.append(t.c.id == int(key))
        found = conn.execute(sa.select(t.c.id).where(sa.or_(*clauses))).scalars().all()
        if len(found) == 1:
            return found[0]
        names = conn.execute(sa.select(t.c.name).order_by(t.c.name)).scalars().all()
    raise NotFound(
        f"no township {key!r}; give a name, 9-digit code or id. Townships: "
        + (", ".join(names) or "(none loaded; run atlas demo load or import townships)")
    )


def _envelope(conn: Connection, bbox: BBox):
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if not (minx <= maxx and miny <= maxy):
        raise ValidationError(
            f"bbox {bbox} is not minx,miny,maxx,maxy with min <= max (longitude, latitude)"
        )
    if _backend(conn) == "postgis":
        return sa.func.ST_MakeEnvelope(minx, miny, maxx, maxy, models.SRID)
    return sa.func.BuildMbr(minx, miny, maxx, maxy, models.SRID)


def _bbox_clause(conn: Connection, spec: LayerSpec, bbox: BBox):
    return _intersects_clause(conn, spec, _envelope(conn, bbox))


def _geometry_param(conn: Connection, geom: BaseGeometry):
    wkb = sa.bindparam(None, shapely.to_wkb(geom), type_=sa.LargeBinary)
    if _backend(conn) == "postgis":
        return sa.func.ST_GeomFromWKB(wkb, models.SRID)
    return sa.func.GeomFromWKB(wkb, models.SRID)


def _intersects_clause(conn: Connection, spec: LayerSpec, area):
    """Rows whose primary geometry intersects ``area`` (an SQL geometry), through the spatial
    index on both backends."""
    table = spec.table
    geom = table.c[spec.geometry]
    if _backend(conn) == "postgis":
        return sa.func.ST_Intersects(geom, area)
    # SpatiaLite answers through its R*Tree only via the SpatialIndex virtual table.
    spatial_index = sa.table(
        "SpatialIndex",
        sa.column("f_table_name"),
        sa.column("f_geometry_column"),
        sa.column("search_frame"),
        sa.column("rowid"),
    )
    candidates = sa.select(spatial_index.c.rowid).where(
        spatial_index.c.f_table_name == table.name,
        spatial_index.c.f_geometry_column == spec.geometry,
        spatial_index.c.search_frame == area,
    )
    return sa.and_(table.c.id.in_(candidates), sa.func.ST_Intersects(geom, area) == 1)


def resolve_area(bind: Bind, area: int | str) -> int | None:
    """The id of the area (province, prefecture or county) of this GB/T 2260 six-digit code or
    name, or None when no area has it.

    Raises
    ------
    NotFound
        A name several areas share (two counties called 城区), listing them with their codes.
    """
    a = models.Area.__table__
    key = str(area).strip()
    with connect(bind) as conn:
        require_schema(conn)
        found = conn.execute(
            sa.select(a.c.id, a.c.code, a.c.name).where(sa.or_(a.c.code == key, a.c.name == key)).order_by(a.c.code)
        ).all()
    by_code = [r.id for r in found if r.code == key]
    if by_code:
        return by_code[0]
    if len(found) > 1:
        raise NotFound(f"{key!r} names several areas ({', '.join(f'{r.name} {r.code}' for r in found)}); "
                       "give the six-digit code")
    return found[0].id if found else None


def area_townships(bind: Bind, area_ids: Sequence[int]) -> list[int]:
    """Ids of the townships inside these areas (a county's own; a prefecture's or province's
    through the counties below them, at any depth)."""
    a = models.Area.__table__
    t = models.Township.__table__
    with connect(bind) as conn:
        below = set(int(i) for i in area_ids)
        frontier = set(below)
        while frontier:  # three levels at most: province > prefecture > county
            children = set(conn.execute(sa.select(a.c.id).where(a.c.parent_id.in_(frontier))).scalars())
            frontier = children - below
            below |= children
        if not below:
            return []
        return sorted(conn.execute(sa.select(t.c.id).where(t.c.county_id.in_(below))).scalars())


def resolve_townships(bind: Bind, township: int | str | Sequence[int | str]) -> list[int]:
    """Ids of the townships of one area or of a sequence of them, each a township (id, 9-digit
    code or name) or an area above it (a province's, prefecture's or county's six-digit
    GB/T 2260 code or name: the townships inside).

    Raises
    ------
    NotFound
        For the first that names nothing, listing the townships and areas that exist.
    """
    keys = [township] if isinstance(township, (str, int)) else list(township)
    with connect(bind) as conn:
        ids: set[int] = set()
        for key in keys:
            ids.update(_resolve_one_area(conn, key))
        return sorted(ids)


def classify_area(bind: Bind, key: int | str) -> tuple[str, int]:
    """``("area", id)`` when ``key`` names a province, prefecture or county (six-digit code or
    name), else ``("township", id)`` for a township (id, 9-digit code or name).

    Raises
    ------
    NotFound
        Nothing has this key; the message lists the townships and the areas.
    """
    text = str(key).strip()
    six_digits = text.isascii() and text.isdigit() and len(text) == 6
    with connect(bind) as conn:
        area_id = resolve_area(conn, text) if six_digits or not isinstance(key, int) else None
        if area_id is not None and (six_digits or not _names_township(conn, text)):
            return "area", area_id
        try:
            return "township", resolve_township(conn, key)
        except NotFound as exc:
            if area_id is not None:
                return "area", area_id
            a = models.Area.__table__
            areas = conn.execute(sa.select(a.c.name, a.c.code).order_by(a.c.code)).all()
            listed = f"; areas: {', '.join(f'{r.name} {r.code}' for r in areas)}" if areas else ""
            raise NotFound(f"{exc}{listed}") from None


def area_title(bind: Bind, key: int | str | None = None) -> tuple[str, str | None] | None:
    """``(name, code)`` of the area or township ``key`` names; without a key, of what the
    registry holds: its one county, else the one area above all its counties (a prefecture
    or province), else ``("N 个区县", None)``; None for a registry without areas.

    Raises
    ------
    NotFound
        As :func:`classify_area`.
    """
    a = models.Area.__table__
    t = models.Township.__table__
    with connect(bind) as conn:
        require_schema(conn)
        if key is not None:
            kind, found = classify_area(conn, key)
            table = a if kind == "area" else t
            row = conn.execute(sa.select(table.c.name, table.c.code).where(table.c.id == found)).one()
            return row.name, row.code
        rows = {r.id: r for r in conn.execute(sa.select(a.c.id, a.c.name, a.c.code, a.c.level, a.c.parent_id))}
    counties = [r for r in rows.values() if r.level == "county"]
    if not counties:
        return None
    if len(counties) == 1:
        return counties[0].name, counties[0].code
    for parent_of in (lambda r: r.parent_id, lambda r: rows[r.parent_id].parent_id if r.parent_id in rows else None):
        parents = {parent_of(r) for r in counties}
        if len(parents) == 1 and None not in parents and next(iter(parents)) in rows:
            top = rows[next(iter(parents))]
            return top.name, top.code
    return f"{len(counties)} 个区县", None


def _resolve_one_area(conn: Connection, key: int | str) -> list[int]:
    kind, found = classify_area(conn, key)
    return area_townships(conn, [found]) if kind == "area" else [found]


def _names_township(conn: Connection, text: str) -> bool:
    t = models.Township.__table__
    return conn.execute(sa.select(t.c.id).where(sa.or_(t.c.name == text, t.c.code == text)).limit(1)).first() is not None


def _township_clause(conn: Connection, spec: LayerSpec, township_ids: Sequence[int]):
    return _township_clause_for(spec, township_ids, _backend(conn))


def _township_clause_for(spec: LayerSpec, township_ids: Sequence[int], backend: str):
    t = spec.table
    if not township_ids:
        return sa.false()
    villages = models.Village.__table__
    towns = models.Township.__table__
    village_ids = sa.select(villages.c.id).where(villages.c.township_id.in_(township_ids))

    def spatial():
        hits = []
        for township_id in township_ids:
            area = sa.select(towns.c.geom).where(towns.c.id == township_id).scalar_subquery()
            hit = sa.func.ST_Intersects(t.c[spec.geometry], area)
            hits.append(hit if backend == "postgis" else hit == 1)
        return sa.or_(*hits)

    via = spec.township_via
    if via == "self":
        return t.c.id.in_(township_ids)
    if via == "area":
        counties = sa.select(towns.c.county_id).where(towns.c.id.in_(township_ids)).scalar_subquery()
        parents = sa.select(t.c.parent_id).where(t.c.id.in_(counties)).scalar_subquery()
        alias = t.alias("grand")
        grandparents = sa.select(alias.c.parent_id).where(alias.c.id.in_(parents)).scalar_subquery()
        return sa.or_(t.c.id.in_(counties), t.c.id.in_(parents), t.c.id.in_(grandparents))
    if via == "township":
        return t.c.township_id.in_(township_ids)
    if via == "village":
        return t.c.village_id.in_(village_ids)
    if via == "spatial":
        return spatial()
    if via == "village_or_spatial":
        return sa.or_(t.c.village_id.in_(village_ids), sa.and_(t.c.village_id.is_(None), spatial()))
    pairings = models.Pairing.__table__
    teams = models.WorkTeam.__table__
    unit_ids = sa.union(
        sa.select(pairings.c.unit_id).where(pairings.c.village_id.in_(village_ids)),
        sa.select(teams.c.leader_unit_id).where(teams.c.village_id.in_(village_ids)),
    )
    if via == "unit":
        return t.c.id.in_(unit_ids)
    if via == "cadre":
        return t.c.unit_id.in_(unit_ids)
    raise AssertionError(via)  # pragma: no cover


def _filtered(conn: Connection, spec: LayerSpec, select: sa.Select, query: Query) -> sa.Select:
    table = spec.table
    if query.township is not None:
        select = select.where(_township_clause(conn, spec, resolve_townships(conn, query.township)))
    if query.area is not None:
        select = select.where(_township_clause(conn, spec, resolve_townships(conn, query.area)))
    if query.bbox is not None:
        if spec.geometry is None:
            raise ValidationError(f"layer {spec.name!r} has no geometry; a bbox filter cannot apply")
        select = select.where(_bbox_clause(conn, spec, query.bbox))
    if query.ids is not None:
        select = select.where(table.c.id.in_([int(i) for i in query.ids]))
    if (query.geometry_dimension is not None or query.intersects is not None) and spec.geometry is None:
        raise ValidationError(f"layer {spec.name!r} has no geometry; a spatial filter cannot apply")
    if query.geometry_dimension is not None:
        select = select.where(sa.func.ST_Dimension(table.c[spec.geometry]) == int(query.geometry_dimension))
    if query.intersects is not None:
        select = select.where(_intersects_clause(conn, spec, _geometry_param(conn, query.intersects)))
    if query.cql is not None:
        from geo.storage.cql_sql import cql_clause  # pygeofilter: only when a filter applies

        select = select.where(cql_clause(spec, query.cql, _backend(conn)))
    for column, value in query.where.items():
        if column not in table.c or column in spec.pii_columns or column in spec.geometry_columns:
            allowed = [c.name for c in table.c if c.name not in spec.pii_columns + spec.geometry_columns]
            raise ValidationError(
                f"cannot filter {spec.name} by {column!r}; filterable fields: {', '.join(allowed)}"
            )
        col = table.c[column]
        values = value if isinstance(value, (list, tuple, set)) else [value]
        values = [_coerce_filter_value(col, v) for v in values]
        select = select.where(col.in_(values) if len(values) > 1 else col == values[0])
    return select


def _name_joins(joins: Sequence[NameJoin], select: sa.Select, from_clause, spec: LayerSpec):
    """Add readable label columns by following foreign keys (LEFT JOINs)."""
    labels = []
    for join in joins:
        current = spec.table
        for fk_column in join.path:
            fk = next(iter(current.c[fk_column].foreign_keys))
            target = fk.column.table.alias(f"{join.label}_{fk_column}")
            from_clause = from_clause.outerjoin(target, current.c[fk_column] == target.c.id)
            current = target
        labels.append(current.c[join.column].label(join.label))
    return select.add_columns(*labels).select_from(from_clause)


def read_layer(
    bind: Bind,
    layer: str,
    *,
    township: int | str | Sequence[int | str] | None = None,
    area: int | str | Sequence[int | str] | None = None,
    bbox: BBox | None = None,
    ids: Sequence[int] | None = None,
    where: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    include_pii: bool = False,
    with_names: bool = True,
    names: Sequence[NameJoin] | None = None,
    limit: int | None = None,
    offset: int = 0,
    after_id: int | None = None,
    geometry_dimension: int | None = None,
    intersects: BaseGeometry | None = None,
    cql: CqlFilter | None = None,
    sortby: Sequence[tuple[str, bool]] = (),
) -> gpd.GeoDataFrame:
    """Read a layer into a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    bind
        Engine or connection.
    layer
        Layer name (see :data:`geo.layers.LAYERS`).
    township
        Keep rows of this township (id, code or name), or of any of a sequence of them (an
        empty sequence keeps nothing); how it applies depends on the layer. An area above
        the township is taken too (as ``area``).
    area
        Keep rows of the townships inside this area: a province, prefecture or county by its
        six-digit GB/T 2260 code or name, or a township; or any of a sequence of them.
    bbox
        ``(minx, miny, maxx, maxy)`` in degrees; keep rows whose geometry intersects it.
    ids
        Keep only these row ids.
    where
        Equality filters ``{column: value or [values]}``; enum columns accept Chinese labels.
    columns
        Return only these columns (``id`` and the geometry always come along).
    include_pii
        Return personal columns (household head's name and ID number). Off by default:
        only callers that have checked the user's role may turn it on.
    with_names
        Join readable labels (``township_name``, ``village_name``, ``unit_name`` ...).
    names
        Join these labels instead of the layer's own (an export's parent names and codes).
    limit, offset
        Paging, in id order (or ``sortby``'s, then id). The page's ids are chosen first,
        without the label joins, so a deep page joins names for its own rows only.
    after_id
        Keyset paging: keep rows whose id is greater than this (in id order, so not with
        ``sortby``). A deep page then starts at its first row through the primary key's index
        instead of walking past ``offset`` rows.
    geometry_dimension
        Keep rows whose primary geometry has this dimension (0 points, 1 lines, 2 polygons).
    intersects
        Keep rows whose primary geometry intersects this EPSG:4326 geometry.
    cql
        A CQL2 filter over the layer's queryables (:mod:`geo.storage.cql`).
    sortby
        ``(column, descending)`` pairs to order by before the id.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per record, ordered by id; the primary geometry is the active ``geometry``
        column (all ``None`` for tables without one); secondary geometries (a township's
        ``seat``, a village's ``boundary``) are extra GeoSeries.

    Raises
    ------
    NotFound
        Unknown layer or township.
    ValidationError
        Bad filter column, value or bbox.
    """
    options = {name: value for name, value in locals().items() if name not in ("bind", "layer")}
    spec = get_layer(layer)
    with connect(bind) as conn:
        result = conn.execute(_layer_statement(conn, spec, options))
        frame = result_frame(result)
    return _to_geoframe(spec, frame)


def read_rows(bind: Bind, layer: str, **options) -> tuple[list[str], list[tuple]]:
    """What :func:`read_layer` reads (same options), as column names and plain rows: the
    primary and secondary geometries as WKB, enumerations as their stored values. No pandas:
    for answers of a few rows served many times a second (an OGC item, a page).

    Raises
    ------
    NotFound, ValidationError
        As :func:`read_layer`.
    """
    spec = get_layer(layer)
    with connect(bind) as conn:
        hot = _hot_read(conn, spec, options)
        if hot is not None:
            return hot
        result = conn.execute(_layer_statement(conn, spec, options))
        return list(result.keys()), [tuple(row) for row in result.fetchall()]


#: The options a hot read may have (an OGC item, a page, a bbox page); any other sends the
#: read through :func:`_layer_statement` as usual.
_HOT_OPTIONS = frozenset({"township", "bbox", "ids", "limit", "offset", "after_id", "geometry_dimension", "where",
                          "sortby", "intersects", "cql"})


def _hot_read(conn: Connection, spec: LayerSpec, options: Mapping[str, Any]) -> tuple[list[str], list[tuple]] | None:
    """:func:`read_rows` of the reads served many times a second, on PostGIS: one item by id,
    a page, a page in a bbox (CRS84), in the caller's townships (given as ids), without any
    other filter. The SELECT is :func:`_layer_statement`'s, written with named parameters,
    compiled once per layer, shape and township scope (:func:`_hot_sql`) and sent as it is
    (psycopg prepares it on the server after a few runs): no SQLAlchemy statement to build,
    key and compile per request, which cost as much as the query. None when the read is not
    one of these, or on SpatiaLite (whose driver returns dates as text that SQLAlchemy's
    result types convert)."""
    if _backend(conn) != "postgis":
        return None
    statement = _hot_statement(conn.dialect, spec, options)
    if statement is None:
        return None
    require_schema(conn)
    result = conn.exec_driver_sql(*statement)
    return list(result.keys()), [tuple(row) for row in result.fetchall()]


def _hot_shape(spec: LayerSpec, options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(shape, parameters)`` of a hot read or count (:func:`_hot_read`): the keyword
    arguments of :func:`_hot_sql` and the values bound per request; None for another read.

    Raises
    ------
    ValidationError
        A bbox on a layer without geometry, or with min > max.
    """
    get = options.get
    if (set(options) - _HOT_OPTIONS or get("where") or get("sortby") or get("intersects") is not None
            or get("cql") is not None):
        return None
    township, ids, bbox = get("township"), get("ids"), get("bbox")
    if township is not None:
        township = (township,) if isinstance(township, int) else tuple(township)
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in township):
            return None  # names or codes: resolved by _layer_statement
        township = tuple(sorted(set(township)))
    if ids is not None and len(ids) != 1:
        return None
    params: dict[str, Any] = {}
    if ids is not None:
        params["hot_id"] = int(ids[0])
    if bbox is not None:
        if spec.geometry is None:
            raise ValidationError(f"layer {spec.name!r} has no geometry; a bbox filter cannot apply")
        minx, miny, maxx, maxy = (float(v) for v in bbox)
        if not (minx <= maxx and miny <= maxy):
            raise ValidationError(f"bbox {bbox} is not minx,miny,maxx,maxy with min <= max (longitude, latitude)")
        params.update(hot_minx=minx, hot_miny=miny, hot_maxx=maxx, hot_maxy=maxy)
    dimension = get("geometry_dimension")
    if dimension is not None and spec.geometry is None:
        raise ValidationError(f"layer {spec.name!r} has no geometry; a spatial filter cannot apply")
    shape = {"by_id": ids is not None, "in_bbox": bbox is not None, "township": township,
             "dimension": None if dimension is None else int(dimension)}
    return shape, params


def _hot_statement(dialect, spec: LayerSpec, options: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``(sql, parameters)`` of a hot read (:func:`_hot_read`), None for another read."""
    found = _hot_shape(spec, options)
    limit = options.get("limit")
    if found is None or limit is None:
        return None
    shape, params = found
    params.update(hot_limit=int(limit), hot_offset=int(options.get("offset") or 0))
    after = options.get("after_id")
    if after is not None:
        params["hot_after"] = int(after)
    sql, fixed = _hot_sql(dialect, spec.name, shape["by_id"], shape["in_bbox"], shape["township"],
                          shape["dimension"], after is not None)
    return sql, {**fixed, **params}


def _hot_where(spec: LayerSpec, select: sa.Select, *, by_id: bool, in_bbox: bool,
               township: tuple[int, ...] | None, dimension: int | None) -> sa.Select:
    """The filters of a hot read (as :func:`_filtered` writes them), with named parameters."""
    table = spec.table
    if township is not None:
        select = select.where(_township_clause_for(spec, township, "postgis"))
    if in_bbox:
        box = sa.func.ST_MakeEnvelope(*(sa.bindparam(f"hot_{n}", 0.0, type_=sa.Float) for n in ("minx", "miny", "maxx", "maxy")),
                                      models.SRID)
        select = select.where(sa.func.ST_Intersects(table.c[spec.geometry], box))
    if by_id:
        select = select.where(table.c.id == sa.bindparam("hot_id", 0, type_=sa.Integer))
    if dimension is not None:
        select = select.where(sa.func.ST_Dimension(table.c[spec.geometry]) == dimension)
    return select


def _compiled(select, dialect) -> tuple[str, dict[str, Any]]:
    compiled = select.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    fixed = {k: v for k, v in compiled.params.items() if not k.startswith("hot_")}
    return compiled.string, fixed


@functools.lru_cache(maxsize=512)
def _hot_sql(dialect, layer: str, by_id: bool, in_bbox: bool, township: tuple[int, ...] | None,
             dimension: int | None, after: bool = False) -> tuple[str, dict[str, Any]]:
    """``(sql, fixed parameters)`` of a hot read (:func:`_hot_read`), compiled
    once: the page's ids first (without the label joins), then its rows with their labels."""
    spec = get_layer(layer)
    table = spec.table
    base = _base_select(layer, tuple(_wanted_columns(spec, None, False)), spec.names)
    page = _hot_where(spec, sa.select(table.c.id), by_id=by_id, in_bbox=in_bbox, township=township,
                      dimension=dimension)
    if after:
        page = page.where(table.c.id > sa.bindparam("hot_after", 0, type_=sa.Integer))
    page = (page.order_by(table.c.id).limit(sa.bindparam("hot_limit", 1, type_=sa.Integer))
            .offset(sa.bindparam("hot_offset", 0, type_=sa.Integer)))
    select = base.where(table.c.id.in_(page.scalar_subquery())).order_by(table.c.id)
    return _compiled(select, dialect)


@functools.lru_cache(maxsize=512)
def _hot_count_sql(dialect, layer: str, in_bbox: bool, township: tuple[int, ...] | None, dimension: int | None,
                   at_most: int, estimate_above: int | None) -> tuple[str, dict[str, Any]]:
    """``(sql, fixed parameters)`` of :func:`matched_rows` for the filters of a hot read,
    compiled once: ``(rows, estimated)`` as one row."""
    spec = get_layer(layer)
    table = spec.table
    rows = _hot_where(spec, sa.select(table.c.id), by_id=False, in_bbox=in_bbox, township=township,
                      dimension=dimension).limit(int(at_most) + 1).subquery()
    counted = sa.select(sa.func.count()).select_from(rows).scalar_subquery()
    if estimate_above is None or in_bbox or township is not None or dimension is not None:
        select = sa.select(counted, sa.false())
    else:
        select = _estimated_or(counted, spec, estimate_above)
    return _compiled(select, dialect)


def _async_ready(engine: Engine) -> bool:
    """Whether reads may go over the event loop: PostGIS, with its schema already checked."""
    return engine.dialect.name == "postgresql" and schema_seen(engine)


async def read_rows_async(engine: Engine, layer: str, **options) -> tuple[list[str], list[tuple]] | None:
    """:func:`read_rows` of a hot read (:func:`_hot_read`: an item, a page, a bbox page in
    township ids) on PostGIS, on the running event loop (:mod:`geo.db_async`): the same SQL,
    columns and rows. None for any other read, on SpatiaLite, and before the schema was found
    (the caller then runs :func:`read_rows` in a thread).

    Raises
    ------
    ValidationError
        As :func:`read_rows`.
    DatabaseError
        The database cannot be reached.
    """
    if not _async_ready(engine):
        return None
    statement = _hot_statement(engine.dialect, get_layer(layer), options)
    if statement is None:
        return None
    return await _fetch_async(engine, statement)


async def matched_rows_async(engine: Engine, layer: str, *, at_most: int, estimate_above: int | None = None,
                             **filters) -> tuple[int | None, bool] | None:
    """:func:`matched_rows` of a hot read's filters (``township`` ids, ``bbox``,
    ``geometry_dimension``) on PostGIS, on the running event loop; None for other filters.

    Raises
    ------
    ValidationError
        As :func:`matched_rows`.
    DatabaseError
        The database cannot be reached.
    """
    if not _async_ready(engine):
        return None
    spec = get_layer(layer)
    found = _hot_shape(spec, {k: v for k, v in filters.items() if v is not None})
    if found is None or found[0]["by_id"]:
        return None
    shape, params = found
    sql, fixed = _hot_count_sql(engine.dialect, layer, shape["in_bbox"], shape["township"], shape["dimension"],
                                int(at_most), estimate_above)
    _, rows = await _fetch_async(engine, (sql, {**fixed, **params}))
    value, estimated = int(rows[0][0]), bool(rows[0][1])
    if not estimated and value > at_most:
        return None, False
    return value, estimated


async def _fetch_async(engine: Engine, statement: tuple[str, dict[str, Any]]) -> tuple[list[str], list[tuple]]:
    try:
        async with db_async.pool_for(engine).connection() as conn:
            cursor = await conn.execute(*statement)
            rows = await cursor.fetchall()
            return [column.name for column in cursor.description], rows
    except psycopg.OperationalError:
        raise DatabaseError("the database cannot be reached; try again in a moment") from None


def _layer_statement(conn: Connection, spec: LayerSpec, options: Mapping[str, Any]) -> sa.Select:
    """The SELECT of :func:`read_layer` and :func:`read_rows` (``options``: their keyword
    arguments; those left out take read_layer's defaults)."""
    known = {"township", "area", "bbox", "ids", "where", "columns", "include_pii", "with_names", "names", "limit",
             "offset", "after_id", "geometry_dimension", "intersects", "cql", "sortby"}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown read option(s): {', '.join(sorted(unknown))}")
    get = options.get
    table = spec.table
    wanted = _wanted_columns(spec, get("columns"), bool(get("include_pii", False)))
    query = Query(township=get("township"), area=get("area"), bbox=get("bbox"), ids=get("ids"), where=dict(get("where") or {}),
                  geometry_dimension=get("geometry_dimension"), intersects=get("intersects"), cql=get("cql"))
    order = [*_sort_columns(spec, get("sortby") or ()), table.c.id]
    limit, offset, names, after = get("limit"), get("offset") or 0, get("names"), get("after_id")
    if after is not None and get("sortby"):
        raise ValidationError("after pages in id order; with sortby, page with offset")
    require_schema(conn)
    joins = spec.names if names is None else tuple(names)
    if not ((get("with_names", True) or names is not None) and joins):
        joins = ()
    select = _base_select(spec.name, tuple(wanted), joins)
    if limit is not None or offset or after is not None:
        page = _filtered(conn, spec, sa.select(table.c.id), query).order_by(*order)
        if after is not None:
            page = page.where(table.c.id > int(after))
        if limit is not None:
            page = page.limit(int(limit))
        if offset:
            page = page.offset(int(offset))
        select = select.where(table.c.id.in_(page.scalar_subquery()))
    else:
        select = _filtered(conn, spec, select, query)
    return select.order_by(*order)


@functools.lru_cache(maxsize=256)
def _base_select(layer: str, wanted: tuple[str, ...], joins: tuple[NameJoin, ...]) -> sa.Select:
    """The columns and label joins of a read, before its filters: built once per layer, columns
    and joins (SQLAlchemy constructs are immutable). Aliasing the joined tables builds every
    column of them anew, which was most of a single OGC item's time."""
    spec = get_layer(layer)
    table = spec.table
    exprs = []
    for name in wanted:
        col = table.c[name]
        if name in spec.geometry_columns:
            exprs.append(sa.func.ST_AsBinary(col).label(name))
        elif getattr(col.type, "enum_class", None) is not None:
            exprs.append(sa.type_coerce(col, sa.String).label(name))  # plain values, not members
        else:
            exprs.append(col)
    select = sa.select(*exprs)
    if joins:
        select = _name_joins(joins, select, table, spec)
    return select


def _sort_columns(spec: LayerSpec, sortby: Sequence[tuple[str, bool]]) -> list:
    """ORDER BY terms of ``(column, descending)`` pairs, over readable non-geometry columns only.

    Raises
    ------
    ValidationError
        Naming the column that cannot be sorted by and those that can.
    """
    table = spec.table
    terms = []
    for name, descending in sortby:
        if name not in table.c or name in spec.pii_columns or name in spec.geometry_columns:
            allowed = [c.name for c in table.c if c.name not in spec.pii_columns + spec.geometry_columns]
            raise ValidationError(f"cannot sort {spec.name} by {name[:60]!r}; sortable fields: {', '.join(allowed)}")
        column = table.c[name]
        terms.append(column.desc() if descending else column.asc())
    return terms


def _wanted_columns(spec: LayerSpec, columns: Sequence[str] | None, include_pii: bool) -> list[str]:
    table = spec.table
    hidden = () if include_pii else spec.pii_columns
    if columns is None:
        own = [c.name for c in table.columns if c.name not in hidden and c.name not in _ROW_COLUMNS]
        return ["id", *own, *_ROW_COLUMNS[1:]]
    unknown = [c for c in columns if c not in table.c and c != "geometry"]
    forbidden = [c for c in columns if c in hidden]
    if unknown or forbidden:
        allowed = [c.name for c in table.columns if c.name not in hidden]
        bad = unknown + forbidden
        raise ValidationError(
            f"layer {spec.name!r} has no readable field(s) {', '.join(map(repr, bad))}; "
            f"fields: {', '.join(allowed)}"
        )
    keep = ["id"] + [c for c in columns if c not in ("id", "geometry")]
    if spec.geometry and spec.geometry not in keep:
        keep.append(spec.geometry)
    return list(dict.fromkeys(keep))


def _to_geoframe(spec: LayerSpec, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    for name in spec.secondary_geometries:
        if name in frame:
            frame[name] = gpd.GeoSeries(_decode(frame[name]), index=frame.index, crs=CRS)
    if spec.geometry is None:
        geometry = gpd.GeoSeries([None] * len(frame), index=frame.index, crs=CRS)
    else:
        geometry = gpd.GeoSeries(_decode(frame.pop(spec.geometry)), index=frame.index, crs=CRS)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)


def count_layer(
    bind: Bind,
    layer: str,
    *,
    township: int | str | Sequence[int | str] | None = None,
    area: int | str | Sequence[int | str] | None = None,
    bbox: BBox | None = None,
    where: Mapping[str, Any] | None = None,
    geometry_dimension: int | None = None,
    intersects: BaseGeometry | None = None,
    cql: CqlFilter | None = None,
    at_most: int | None = None,
) -> int | None:
    """Number of rows :func:`read_layer` would return with the same filters and no paging;
    None when ``at_most`` is given and more rows match (the count stops there, so it stays
    cheap on a large table)."""
    spec = get_layer(layer)
    query = Query(township=township, area=area, bbox=bbox, where=dict(where or {}),
                  geometry_dimension=geometry_dimension, intersects=intersects, cql=cql)
    with connect(bind) as conn:
        require_schema(conn)
        if at_most is None:
            select = _filtered(conn, spec, sa.select(sa.func.count()).select_from(spec.table), query)
            return int(conn.execute(select).scalar_one())
        rows = _filtered(conn, spec, sa.select(spec.table.c.id), query).limit(int(at_most) + 1).subquery()
        counted = int(conn.execute(sa.select(sa.func.count()).select_from(rows)).scalar_one())
        return None if counted > at_most else counted


def matched_rows(
    bind: Bind,
    layer: str,
    *,
    at_most: int,
    estimate_above: int | None = None,
    township: int | str | Sequence[int | str] | None = None,
    bbox: BBox | None = None,
    where: Mapping[str, Any] | None = None,
    geometry_dimension: int | None = None,
    intersects: BaseGeometry | None = None,
    cql: CqlFilter | None = None,
) -> tuple[int | None, bool]:
    """``(rows, estimated)``: as :func:`count_layer` with ``at_most``, except that an
    unfiltered read of a PostGIS table the planner estimates (``pg_class.reltuples``, as fresh
    as the last ANALYZE) above ``estimate_above`` rows answers that estimate without scanning
    the table. One statement either way (the count runs only when the estimate is not taken).
    """
    spec = get_layer(layer)
    query = Query(township=township, bbox=bbox, where=dict(where or {}),
                  geometry_dimension=geometry_dimension, intersects=intersects, cql=cql)
    unfiltered = query == Query()
    with connect(bind) as conn:
        require_schema(conn)
        rows = _filtered(conn, spec, sa.select(spec.table.c.id), query).limit(int(at_most) + 1).subquery()
        counted = sa.select(sa.func.count()).select_from(rows).scalar_subquery()
        if estimate_above is None or not unfiltered or _backend(conn) != "postgis":
            value, estimated = int(conn.execute(sa.select(counted)).scalar_one()), False
        else:
            value, estimated = conn.execute(_estimated_or(counted, spec, estimate_above)).one()
            value, estimated = int(value), bool(estimated)
    if not estimated and value > at_most:
        return None, False
    return value, estimated


def _estimated_or(counted, spec: LayerSpec, estimate_above: int) -> sa.Select:
    """``(rows, estimated)``: the planner's estimate of the table's rows above
    ``estimate_above``, else ``counted``."""
    pg_class = sa.table("pg_class", sa.column("reltuples"), sa.column("oid"), schema="pg_catalog")
    reltuples = sa.select(pg_class.c.reltuples).where(
        pg_class.c.oid == sa.func.to_regclass(spec.table.name)).scalar_subquery()
    # the count is an InitPlan of the ELSE branch: PostgreSQL runs it only when reached
    return sa.select(sa.case((reltuples > estimate_above, sa.cast(reltuples, sa.BigInteger)), else_=counted),
                     reltuples > estimate_above)


def layer_counts(bind: Bind) -> dict[str, int]:
    """Row count of every layer, in registry order."""
    with connect(bind) as conn:
        require_schema(conn)
        return {
            name: int(conn.execute(sa.select(sa.func.count()).select_from(spec.table)).scalar_one())
            for name, spec in LAYERS.items()
        }


# --------------------------------------------------------------------------------------
# Spatial questions answered by the database itself
# --------------------------------------------------------------------------------------


def villages_in_townships(bind: Bind) -> pd.DataFrame:
    """Which township area each village point lies in, computed by the database.

    Returns a frame ``village_id, township_id`` (township_id is NA for points outside every
    township area); the same answer on SpatiaLite and PostGIS.
    """
    v = models.Village.__table__
    t = models.Township.__table__
    with connect(bind) as conn:
        require_schema(conn)
        within = sa.func.ST_Within(v.c.geom, t.c.geom)
        if _backend(conn) == "spatialite":
            within = within == 1
        select = (
            sa.select(v.c.id.label("village_id"), t.c.id.label("township_id"))
            .select_from(v.outerjoin(t, within))
            .where(v.c.geom.is_not(None))
            .order_by(v.c.id)
        )
        frame = frame_of(conn.execute(select), ["village_id", "township_id"])
    frame["township_id"] = frame["township_id"].astype("Int64")
    return frame


def distance_m(bind: Bind, a: BaseGeometry, b: BaseGeometry) -> float:
    """Geodesic distance in metres between two EPSG:4326 geometries, computed by the database
    (PostGIS geography; SpatiaLite's ellipsoidal ``ST_Distance(a, b, 1)``)."""
    with connect(bind) as conn:
        if _backend(conn) == "postgis":
            sql = sa.text(
                "SELECT ST_Distance(ST_GeomFromWKB(:a, 4326)::geography, "
                "ST_GeomFromWKB(:b, 4326)::geography)"
            )
        else:
            sql = sa.text("SELECT ST_Distance(GeomFromWKB(:a, 4326), GeomFromWKB(:b, 4326), 1)")
        value = conn.execute(sql, {"a": shapely.to_wkb(a), "b": shapely.to_wkb(b)}).scalar_one()
    return float(value)



def layer_extent(
    bind: Bind,
    layer: str,
    *,
    township: int | str | Sequence[int | str] | None = None,
    area: int | str | Sequence[int | str] | None = None,
    geometry_dimension: int | None = None,
) -> BBox | None:
    """``(minx, miny, maxx, maxy)`` of the layer's primary geometry [degrees], computed by the
    database, or None for a layer without geometry or without rows."""
    spec = get_layer(layer)
    if spec.geometry is None:
        return None
    geom = spec.table.c[spec.geometry]
    with connect(bind) as conn:
        require_schema(conn)
        if _backend(conn) == "postgis":
            box = sa.func.ST_Extent(geom)
            exprs = [sa.func.ST_XMin(box), sa.func.ST_YMin(box), sa.func.ST_XMax(box), sa.func.ST_YMax(box)]
        else:
            box = sa.func.Extent(geom)
            exprs = [sa.func.MbrMinX(box), sa.func.MbrMinY(box), sa.func.MbrMaxX(box), sa.func.MbrMaxY(box)]
        select = _filtered(conn, spec, sa.select(*exprs).select_from(spec.table),
                           Query(township=township, area=area, geometry_dimension=geometry_dimension))
        row = conn.execute(select).first()
    if row is None or row[0] is None:
        return None
    return tuple(float(v) for v in row)  # type: ignore[return-value]

