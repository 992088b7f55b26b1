"""The storage API: database rows in, GeoDataFrames out, and frames back in.

Analyses and maps only ever see GeoDataFrames; this module is the one place that writes SQL
against the registry (bound values, whitelisted identifiers). It runs unchanged on SpatiaLite
and PostGIS.

Every function takes a ``bind``: an :class:`~sqlalchemy.engine.Engine` (the call runs in its
own transaction) or a :class:`~sqlalchemy.engine.Connection` (the call joins the caller's
transaction, so several writes can be all-or-nothing together).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from geo import models
from geo.db import backend_name, require_schema
from geo.enums import LabeledEnum
from geo.errors import Conflict, NotFound, StaleVersion, ValidationError
from geo.layers import LAYERS, LINKS, LayerSpec, get_layer

CRS = "EPSG:4326"
#: CRSs stored as-is: CGCS2000 differs from WGS 84 by centimetres (DESIGN.md).
ACCEPTED_CRS = ("EPSG:4326", "EPSG:4490")
#: Columns the storage layer maintains itself.
MANAGED = frozenset({"id", "created_at", "updated_at", "version"})
#: Columns every table has (``RowMixin``), listed after a layer's own fields on read.
_ROW_COLUMNS = ("id", "source", "created_at", "updated_at", "version")

Bind = Engine | Connection
BBox = tuple[float, float, float, float]


@contextmanager
def connect(bind: Bind, *, write: bool = False) -> Iterator[Connection]:
    """Yield a connection: a new transaction for an engine, the caller's for a connection.

    ``write``: the transaction reads, then writes what it read (a version check). On SQLite
    it then takes the write lock at BEGIN (``BEGIN IMMEDIATE``): a deferred transaction that
    read before another connection wrote cannot upgrade its lock and fails at once with
    "database is locked", whatever the busy timeout; an immediate one waits its turn.
    """
    if isinstance(bind, Connection):
        yield bind
    else:
        engine = bind.execution_options(sqlite_immediate=True) if write else bind
        with engine.begin() as conn:
            yield conn


def _backend(conn: Connection) -> str:
    return "spatialite" if conn.dialect.name == "sqlite" else "postgis"


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """Filters shared by :func:`read_layer` and :func:`count_layer`."""

    township: int | str | Sequence[int | str] | None = None
    bbox: BBox | None = None
    ids: Sequence[int] | None = None
    where: Mapping[str, Any] = field(default_factory=dict)


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
    table = spec.table
    geom = table.c[spec.geometry]
    env = _envelope(conn, bbox)
    if _backend(conn) == "postgis":
        return sa.func.ST_Intersects(geom, env)
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
        spatial_index.c.search_frame == env,
    )
    return sa.and_(table.c.id.in_(candidates), sa.func.ST_Intersects(geom, env) == 1)


def resolve_townships(bind: Bind, township: int | str | Sequence[int | str]) -> list[int]:
    """Ids of one township or of a sequence of them (each an id, 9-digit code or name).

    Raises
    ------
    NotFound
        For the first township that does not exist, listing those that do.
    """
    if isinstance(township, (str, int)):
        return [resolve_township(bind, township)]
    with connect(bind) as conn:
        return sorted({resolve_township(conn, t) for t in township})


def _township_clause(conn: Connection, spec: LayerSpec, township_ids: Sequence[int]):
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
            hits.append(hit if _backend(conn) == "postgis" else hit == 1)
        return sa.or_(*hits)

    via = spec.township_via
    if via == "self":
        return t.c.id.in_(township_ids)
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
    if query.bbox is not None:
        if spec.geometry is None:
            raise ValidationError(f"layer {spec.name!r} has no geometry; a bbox filter cannot apply")
        select = select.where(_bbox_clause(conn, spec, query.bbox))
    if query.ids is not None:
        select = select.where(table.c.id.in_([int(i) for i in query.ids]))
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


def _coerce_filter_value(col: sa.Column, value: Any) -> Any:
    enum_cls = getattr(col.type, "enum_class", None)
    if enum_cls is not None and issubclass(enum_cls, LabeledEnum):
        try:
            return enum_cls.parse(value)
        except ValueError as exc:
            raise ValidationError(f"{col.name}: {exc}") from None
    python_type = None
    try:
        python_type = col.type.python_type
    except NotImplementedError:
        return value
    if python_type is bool and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "是"):
            return True
        if lowered in ("false", "0", "no", "否"):
            return False
        raise ValidationError(f"{col.name}: {value!r} is not true/false")
    if python_type in (int, float) and isinstance(value, str):
        try:
            value = python_type(value)
        except ValueError:
            raise ValidationError(f"{col.name}: {value!r} is not a number") from None
    if python_type is int and isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValidationError(f"{col.name}: {value} is out of range for a whole number field")
    return value


def _name_joins(spec: LayerSpec, select: sa.Select, from_clause):
    """Add the layer's readable label columns by following foreign keys (LEFT JOINs)."""
    labels = []
    for join in spec.names:
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
    bbox: BBox | None = None,
    ids: Sequence[int] | None = None,
    where: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    include_pii: bool = False,
    with_names: bool = True,
    limit: int | None = None,
    offset: int = 0,
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
        empty sequence keeps nothing); how it applies depends on the layer.
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
    limit, offset
        Paging, in id order.

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
    spec = get_layer(layer)
    table = spec.table
    wanted = _wanted_columns(spec, columns, include_pii)
    query = Query(township=township, bbox=bbox, ids=ids, where=dict(where or {}))
    with connect(bind) as conn:
        require_schema(conn)
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
        if with_names and spec.names:
            select = _name_joins(spec, select, table)
        select = _filtered(conn, spec, select, query).order_by(table.c.id)
        if limit is not None:
            select = select.limit(int(limit))
        if offset:
            select = select.offset(int(offset))
        result = conn.execute(select)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return _to_geoframe(spec, frame)


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


def _decode(values: Iterable[Any]) -> np.ndarray:
    raw = [bytes(v) if v is not None else None for v in values]
    return shapely.from_wkb(np.array(raw, dtype=object))


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
    bbox: BBox | None = None,
    where: Mapping[str, Any] | None = None,
) -> int:
    """Number of rows :func:`read_layer` would return with the same filters and no paging."""
    spec = get_layer(layer)
    query = Query(township=township, bbox=bbox, where=dict(where or {}))
    with connect(bind) as conn:
        require_schema(conn)
        select = _filtered(conn, spec, sa.select(sa.func.count()).select_from(spec.table), query)
        return int(conn.execute(select).scalar_one())


def layer_counts(bind: Bind) -> dict[str, int]:
    """Row count of every layer, in registry order."""
    with connect(bind) as conn:
        require_schema(conn)
        return {
            name: int(conn.execute(sa.select(sa.func.count()).select_from(spec.table)).scalar_one())
            for name, spec in LAYERS.items()
        }


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


@dataclass
class WriteResult:
    """What :func:`write_layer` did. ``ids`` are in the frame's row order."""

    layer: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged}


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, BaseGeometry) and value.is_empty:
        return True
    return False


def _python_value(col: sa.Column, value: Any, row_label: str) -> Any:
    """Convert one frame cell to what the column stores, or raise naming row and field."""
    if _is_missing(value):
        return None
    enum_cls = getattr(col.type, "enum_class", None)
    if enum_cls is not None:
        try:
            return enum_cls.parse(value) if issubclass(enum_cls, LabeledEnum) else enum_cls(value)
        except ValueError as exc:
            raise ValidationError(f"{row_label}, field {col.name}: {exc}") from None
    if isinstance(value, np.generic):
        value = value.item()
    try:
        python_type = col.type.python_type
    except NotImplementedError:
        return value
    try:
        if python_type is bool:
            if isinstance(value, str):
                return _coerce_filter_value(col, value)
            return bool(value)
        if python_type is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if python_type is float:
            return float(value)
        if python_type is str:
            return str(value)
        if python_type is dt.date:
            return pd.Timestamp(value).date()
        if python_type is dt.datetime:
            return pd.Timestamp(value).to_pydatetime()
    except (ValueError, TypeError):
        raise ValidationError(
            f"{row_label}, field {col.name}: {value!r} is not a valid {python_type.__name__}"
        ) from None
    return value


def _converter(col: sa.Column, *, geometry: bool = False):
    """``convert(value, row_label)`` for one column: :func:`_python_value` (or
    :func:`_geometry_wkb`) with the column's type looked up once, and the common cells (a
    plain str, int or float already of the column's type) passed straight through."""
    if geometry:
        return lambda value, label: _geometry_wkb(col, value, label)
    if getattr(col.type, "enum_class", None) is not None:
        parsed: dict[Any, Any] = {}

        def convert_enum(value, label):
            if type(value) is str:
                if value not in parsed:
                    parsed[value] = _python_value(col, value, label)
                return parsed[value]
            return _python_value(col, value, label)

        return convert_enum
    try:
        python_type = col.type.python_type
    except NotImplementedError:
        python_type = None

    def general(value, label):
        return _python_value(col, value, label)

    if python_type is str:
        def convert(value, label):
            return value if type(value) is str else general(value, label)
    elif python_type is float:
        def convert(value, label):
            if type(value) is float or isinstance(value, np.floating):
                return None if value != value else float(value)
            return general(value, label)
    elif python_type is int:
        def convert(value, label):
            if type(value) is int or isinstance(value, np.integer):
                return int(value)
            return general(value, label)
    else:
        convert = general
    return convert


_MULTI = {"MULTIPOLYGON": "Polygon", "MULTILINESTRING": "LineString", "MULTIPOINT": "Point"}


def _geometry_wkb(col: sa.Column, geom: Any, row_label: str) -> bytes | None:
    if _is_missing(geom):
        return None
    if not isinstance(geom, BaseGeometry):
        raise ValidationError(f"{row_label}, field {col.name}: {geom!r} is not a geometry")
    wanted = col.type.geometry_type.upper()
    kind = geom.geom_type
    if wanted in _MULTI and kind == _MULTI[wanted]:
        geom = shapely.multipolygons([geom]) if kind == "Polygon" else (
            shapely.multilinestrings([geom]) if kind == "LineString" else shapely.multipoints([geom])
        )
    elif wanted == "POINT" and kind == "MultiPoint" and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    elif wanted != "GEOMETRY" and kind.upper() != wanted:
        raise ValidationError(
            f"{row_label}, field {col.name}: a {kind} cannot be stored where a "
            f"{wanted.title()} is expected"
        )
    return shapely.to_wkb(geom, output_dimension=2)  # 2D: any Z is dropped


def _geometry_bind(conn: Connection, name: str):
    wkb = sa.bindparam(name, type_=sa.LargeBinary)
    if _backend(conn) == "postgis":
        return sa.func.ST_GeomFromWKB(wkb, models.SRID)
    return sa.func.GeomFromWKB(wkb, models.SRID)


def _check_crs(spec: LayerSpec, frame: pd.DataFrame) -> None:
    crs = getattr(frame, "crs", None)
    if crs is None and isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().any():
        raise ValidationError(
            f"the {spec.name} frame has geometries but no CRS; set it (EPSG:4326) or reproject"
        )
    if crs is not None and crs.to_string() not in ACCEPTED_CRS:
        raise ValidationError(
            f"the {spec.name} frame is in {crs.to_string()}; reproject it to EPSG:4326 "
            "(frame.to_crs(4326)) before writing"
        )


def _frame_records(spec: LayerSpec, frame: pd.DataFrame) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and converted rows to write; label columns from reads are dropped."""
    table = spec.table
    frame = frame.copy()
    if isinstance(frame, gpd.GeoDataFrame) and spec.geometry:
        active = frame.geometry.name if frame._geometry_column_name in frame else None
        if active and active != spec.geometry:
            frame = frame.rename(columns={active: spec.geometry})
    elif "geometry" in frame and spec.geometry:
        frame = frame.rename(columns={"geometry": spec.geometry})
    derived = {j.label for j in spec.names} | {"geometry"}
    unknown = [c for c in frame.columns if c not in table.c and c not in derived]
    if unknown:
        raise ValidationError(
            f"the {spec.name} frame has field(s) {', '.join(map(repr, unknown))} the layer does not "
            f"have; fields: {', '.join(c.name for c in table.columns)}"
        )
    columns = [c for c in frame.columns if c in table.c and c not in MANAGED - {"id"}]
    geometry_columns = set(spec.geometry_columns)
    converters = [(name, _converter(table.c[name], geometry=name in geometry_columns)) for name in columns]
    records = []
    for position, row in enumerate(frame[columns].itertuples(index=False, name=None)):
        label = f"{spec.name} row {position + 1}"
        records.append({name: convert(value, label) for (name, convert), value in zip(converters, row)})
    return columns, records


def _required(spec: LayerSpec) -> list[str]:
    return [
        c.name for c in spec.table.columns
        if not c.nullable and c.name not in MANAGED and c.default is None and c.server_default is None
    ]


def _key_of(record: Mapping[str, Any], key: Sequence[str]) -> tuple | None:
    values = tuple(record.get(k) for k in key)
    return None if any(v is None for v in values) else values


def _existing(conn: Connection, spec: LayerSpec, key: Sequence[str],
              values: Iterable[tuple] | None = None) -> dict[tuple, int]:
    """Stored ids by natural-key value: of every row, or only of the rows with ``values``."""
    table = spec.table
    columns = [table.c[k] for k in key]
    select = sa.select(table.c.id, *columns)
    if values is None:
        rows = conn.execute(select).all()
    else:
        rows = []
        wanted = list(values)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            if len(columns) == 1:
                clause = columns[0].in_([v[0] for v in chunk])
            else:
                clause = sa.tuple_(*columns).in_(chunk)
            rows.extend(conn.execute(select.where(clause)).all())
    return {tuple(r[1:]): r[0] for r in rows if all(v is not None for v in r[1:])}


def _same(stored: Any, new: Any) -> bool:
    if isinstance(new, bytes) or isinstance(stored, (bytes, memoryview)):
        if stored is None or new is None:
            return stored is None and new is None
        return shapely.from_wkb(bytes(stored)).equals_exact(shapely.from_wkb(new), 1e-9)
    if isinstance(new, float) and isinstance(stored, (int, float)):
        return math.isclose(stored, new, rel_tol=0, abs_tol=1e-9)
    if isinstance(stored, dt.datetime) and isinstance(new, dt.datetime):
        return stored.replace(tzinfo=None) == new.replace(tzinfo=None)
    return stored == new


def write_layer(
    bind: Bind,
    layer: str,
    frame: pd.DataFrame,
    *,
    source: str | None = None,
) -> WriteResult:
    """Upsert a frame into a layer inside one transaction.

    A row with an ``id`` updates that row; otherwise the layer's natural keys are tried in
    order (a code, else a name within its parent) and a match updates the stored row, no
    match inserts. Only the frame's columns are written; a row whose values equal the stored
    ones is left alone (so loading the same data twice changes nothing).

    Parameters
    ----------
    bind
        Engine (own transaction) or connection (joins the caller's transaction).
    layer
        Layer name.
    frame
        DataFrame or GeoDataFrame in EPSG:4326 (or EPSG:4490). Enum fields accept values or
        Chinese labels; single geometries go into multi columns; label columns from
        :func:`read_layer` (``township_name`` ...) are ignored.
    source
        Provenance for rows without a ``source`` value (default ``'user'``).

    Raises
    ------
    ValidationError
        Unknown field, bad value, wrong geometry type or CRS, missing required field, or a
        natural key repeated inside the frame; the message names the row and field.
    Conflict
        The database refused the write (a unique or foreign key rule).
    NotFound
        An ``id`` that does not exist.
    """
    spec = get_layer(layer)
    _check_crs(spec, frame)
    columns, records = _frame_records(spec, frame)
    result = WriteResult(layer=spec.name)
    if not records:
        return result
    if source is not None or "source" not in columns:
        for record in records:
            if record.get("source") is None:
                record["source"] = source or "user"
        if "source" not in columns:
            columns.append("source")
    with connect(bind) as conn:
        require_schema(conn)
        targets = _match_rows(conn, spec, records)
        try:
            _apply(conn, spec, records, targets, result)
        except IntegrityError as exc:
            raise Conflict(f"the database refused the {spec.name} rows: {_integrity_reason(exc)}") from None
    return result


def _match_rows(conn: Connection, spec: LayerSpec, records: list[dict[str, Any]]) -> list[int | None]:
    """For each record the id of the stored row it updates, or None to insert."""
    targets: list[int | None] = [None] * len(records)
    existing_ids: set[int] | None = None
    seen: dict[tuple, int] = {}
    wanted: dict[tuple[str, ...], set[tuple]] = {}
    keyed: list[list[tuple[tuple[str, ...], tuple]]] = []
    for position, record in enumerate(records):
        label = f"{spec.name} row {position + 1}"
        keyed.append([])
        if record.get("id") is not None:
            if existing_ids is None:
                existing_ids = set(conn.execute(sa.select(spec.table.c.id)).scalars())
            if record["id"] not in existing_ids:
                raise NotFound(f"{label}: there is no {spec.name} row with id {record['id']}")
            targets[position] = record["id"]
            continue
        for key in spec.natural_keys:
            value = _key_of(record, key)
            if value is None:
                continue
            marker = (key, value)
            if marker in seen:
                raise ValidationError(
                    f"{label} repeats {'+'.join(key)} = {', '.join(map(str, value))} of row "
                    f"{seen[marker] + 1}; each must be unique"
                )
            seen[marker] = position
            wanted.setdefault(key, set()).add(value)
            keyed[position].append((key, value))
    # only the stored rows whose keys the frame names (not the whole table, chunk after chunk)
    cache = {key: _existing(conn, spec, key, values) for key, values in wanted.items()}
    for position, pairs in enumerate(keyed):
        for key, value in pairs:
            if targets[position] is None and value in cache[key]:
                targets[position] = cache[key][value]
    for position, record in enumerate(records):
        if targets[position] is None:
            missing = [c for c in _required(spec) if record.get(c) is None]
            if missing:
                raise ValidationError(
                    f"{spec.name} row {position + 1}: required field(s) {', '.join(missing)} "
                    "missing or empty"
                )
    return targets


def _apply(conn, spec, records, targets, result: WriteResult) -> None:
    _note_write()
    table = spec.table
    geometry_columns = set(spec.geometry_columns)
    inserts = [(i, r) for i, (r, t) in enumerate(zip(records, targets)) if t is None]
    updates = [(i, r, t) for i, (r, t) in enumerate(zip(records, targets)) if t is not None]
    ids: list[int | None] = list(targets)

    if inserts:
        names = sorted({k for _, r in inserts for k in r if k != "id"})
        values = {
            n: (_geometry_bind(conn, f"p_{n}") if n in geometry_columns else sa.bindparam(f"p_{n}"))
            for n in names
        }
        params = [{f"p_{n}": r.get(n) for n in names} for _, r in inserts]
        if _backend(conn) == "spatialite":
            # SQLite returns RETURNING rows in no guaranteed order, so SQLAlchemy would insert
            # row by row; give the ids here (next after the largest, inside this transaction)
            # and insert in one executemany. A concurrent writer gets a unique-key Conflict.
            start = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1
            new_ids = list(range(start, start + len(params)))
            values["id"] = sa.bindparam("p_id")
            for row, new_id in zip(params, new_ids):
                row["p_id"] = new_id
            conn.execute(table.insert().values(values), params)
        else:
            statement = table.insert().values(values).returning(table.c.id, sort_by_parameter_order=True)
            new_ids = conn.execute(statement, params).scalars().all()
        for (position, _), new_id in zip(inserts, new_ids):
            ids[position] = new_id
        result.inserted = len(inserts)

    if updates:
        names = sorted({k for _, r, _ in updates for k in r if k not in ("id", "source")})
        stored = _stored_values(conn, spec, [t for _, _, t in updates], names)
        changed = []
        for _, record, target in updates:
            old = stored[target]
            if any(not _same(old[n], record.get(n)) for n in names if n in record):
                changed.append((record, target))
        if changed:
            values = {
                n: (_geometry_bind(conn, f"p_{n}") if n in geometry_columns else sa.bindparam(f"p_{n}"))
                for n in names
            }
            values["source"] = sa.bindparam("p_source")
            values["version"] = table.c.version + 1
            statement = table.update().where(table.c.id == sa.bindparam("p_id")).values(values)
            params = []
            for record, target in changed:
                row = {f"p_{n}": record.get(n, stored[target][n]) for n in names}
                row["p_source"] = record.get("source") or stored[target]["source"]
                row["p_id"] = target
                params.append(row)
            conn.execute(statement, params)
        result.updated = len(changed)
        result.unchanged = len(updates) - len(changed)
    result.ids = [int(i) for i in ids]


def _stored_values(conn, spec: LayerSpec, ids: list[int], names: list[str]) -> dict[int, dict]:
    table = spec.table
    exprs = [table.c.id, table.c.source]
    for n in names:
        col = table.c[n]
        exprs.append(sa.func.ST_AsBinary(col).label(n) if n in spec.geometry_columns else col)
    stored: dict[int, dict] = {}
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start:chunk_start + 5000]
        for row in conn.execute(sa.select(*exprs).where(table.c.id.in_(chunk))).mappings():
            values = dict(row)
            for n in names:
                if isinstance(values[n], memoryview):
                    values[n] = bytes(values[n])
            stored[row["id"]] = values
    return stored


def _integrity_reason(exc: IntegrityError) -> str:
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return text


#: Ids per DELETE statement in :func:`delete_rows`.
DELETE_CHUNK = 10_000


def delete_rows(bind: Bind, layer: str, ids: Sequence[int]) -> int:
    """Delete rows by id; return how many were deleted.

    Raises
    ------
    Conflict
        Other rows still refer to one of them (e.g. a village with households).
    """
    spec = get_layer(layer)
    ids = list(ids)
    deleted = 0
    _note_write()
    with connect(bind) as conn:
        require_schema(conn)
        # In chunks: SQLite takes at most 32,766 bound values a statement, PostgreSQL 65,535.
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start:start + DELETE_CHUNK]
            try:
                result = conn.execute(spec.table.delete().where(spec.table.c.id.in_(chunk)))
            except IntegrityError as exc:
                raise Conflict(
                    f"cannot delete from {spec.name}: other rows still refer to it ({_integrity_reason(exc)})"
                ) from None
            deleted += int(result.rowcount)
        return deleted


# --------------------------------------------------------------------------------------
# State token
# --------------------------------------------------------------------------------------

#: Registry writes this process has started (see :func:`state_token`).
_writes = 0
_writes_lock = threading.Lock()


def _note_write() -> None:
    global _writes
    with _writes_lock:
        _writes += 1


def state_token(bind: Bind) -> str:
    """A short text that changes whenever the registry's data change, for keying caches.

    Two parts: the number of registry writes this process has started (every write goes
    through this module: imports, the registry API, the demo loader, link tables), and a
    fingerprint the database computes in one query: per layer the row count, the largest
    and the summed ids, the summed versions (every update increments one) and the latest
    ``updated_at``; per link table the row count and sums of its keys and of their product
    (modulo a prime), so that moving a link from one owner to another shows. The first part
    catches this process's writes at once, the second those of other processes (``atlas
    import`` while the server runs, other server workers, other hosts on PostGIS).

    Accounts, the audit log and inspection plans are not part of it: they are not registry
    data. The query reads every row of the registry's tables (an aggregate, no rows
    transferred): milliseconds for a county.

    Returns
    -------
    str
        16 hexadecimal characters.
    """
    with _writes_lock:
        local = _writes
    with connect(bind) as conn:
        require_schema(conn)
        rows = conn.execute(_fingerprint_statement()).all()
    text = repr((local, sorted(tuple(str(v) for v in row) for row in rows)))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def state_key(bind: Bind) -> tuple[str, str]:
    """The database and its :func:`state_token`: the start of the key of every result kept
    per registry state, so that neither another database's nor an older state's answer is
    ever served."""
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    return engine.url.render_as_string(hide_password=True), state_token(bind)


@functools.cache
def _fingerprint_statement() -> sa.CompoundSelect:
    """One aggregate row per layer and link table (built once: it is the same every call)."""
    text = sa.String()

    def total(expr):
        return sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), text)

    selects = []
    for name, spec in LAYERS.items():
        t = spec.table
        selects.append(sa.select(
            sa.literal(name, text), sa.cast(sa.func.count(), text), sa.cast(sa.func.max(t.c.id), text),
            total(t.c.id), total(t.c.version), sa.cast(sa.func.max(t.c.updated_at), text)))
    for name, t in LINKS.items():
        a, b = (c for c in t.primary_key.columns)
        product = (sa.cast(a, sa.BigInteger) * sa.cast(b, sa.BigInteger)) % 2_147_483_647
        selects.append(sa.select(
            sa.literal(name, text), sa.cast(sa.func.count(), text), total(a), total(b), total(product),
            sa.literal("", text)))
    return sa.union_all(*selects)


# --------------------------------------------------------------------------------------
# Link tables
# --------------------------------------------------------------------------------------


def _link(name: str) -> sa.Table:
    try:
        return LINKS[name]
    except KeyError:
        raise NotFound(f"unknown link table {name!r}; link tables are: {', '.join(LINKS)}") from None


def read_links(bind: Bind, name: str) -> pd.DataFrame:
    """All rows of a many-to-many link table (e.g. ``pv_project_households``)."""
    table = _link(name)
    with connect(bind) as conn:
        require_schema(conn)
        result = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def write_links(bind: Bind, name: str, frame: pd.DataFrame, *, replace: bool = True) -> int:
    """Store link rows. With ``replace``, the links of every owner in the frame (its first
    key column) are replaced by the frame's; rows already present are kept. Returns the
    number of rows added."""
    table = _link(name)
    owner, other = (c.name for c in table.primary_key.columns)
    missing = [c for c in (owner, other) if c not in frame]
    if missing:
        raise ValidationError(f"{name} rows need the fields {owner} and {other}; missing: {missing}")
    pairs = {(int(a), int(b)) for a, b in frame[[owner, other]].itertuples(index=False, name=None)}
    _note_write()
    with connect(bind) as conn:
        require_schema(conn)
        owners = sorted({a for a, _ in pairs})
        present = set()
        for start in range(0, len(owners), 5000):
            chunk = owners[start:start + 5000]
            rows = conn.execute(sa.select(table.c[owner], table.c[other]).where(table.c[owner].in_(chunk)))
            present |= {(int(a), int(b)) for a, b in rows}
        if replace:
            stale = present - pairs
            for a, b in stale:
                conn.execute(table.delete().where(table.c[owner] == a, table.c[other] == b))
        new = sorted(pairs - present)
        if new:
            try:
                conn.execute(table.insert(), [{owner: a, other: b} for a, b in new])
            except IntegrityError as exc:
                raise Conflict(f"cannot link {name}: {_integrity_reason(exc)}") from None
        return len(new)


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
        frame = pd.DataFrame(conn.execute(select).fetchall(), columns=["village_id", "township_id"])
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


# --------------------------------------------------------------------------------------
# Single records: create, read, update, delete with optimistic concurrency and an audit row
# --------------------------------------------------------------------------------------


def _in_scope(conn: Connection, spec: LayerSpec, row_id: int, township) -> bool:
    select = sa.select(spec.table.c.id)
    select = _filtered(conn, spec, select, Query(township=township, ids=[row_id]))
    return conn.execute(select).first() is not None


def _scope_names(conn: Connection, township) -> str:
    t = models.Township.__table__
    ids = resolve_townships(conn, township)
    names = conn.execute(sa.select(t.c.name).where(t.c.id.in_(ids)).order_by(t.c.name)).scalars()
    return ", ".join(names) or "none"


def read_record(
    bind: Bind,
    layer: str,
    row_id: int,
    *,
    township: int | str | Sequence[int | str] | None = None,
    include_pii: bool = False,
) -> dict[str, Any]:
    """One row as a dict (primary geometry under ``geometry``, labels joined in).

    Parameters
    ----------
    township
        The caller's townships: a row outside them is reported as not found.
    include_pii
        Return personal fields; only for callers that have checked the user's role.

    Raises
    ------
    NotFound
        No such row (or none the caller may see).
    """
    frame = read_layer(bind, layer, ids=[int(row_id)], township=township, include_pii=include_pii)
    if frame.empty:
        raise NotFound(f"there is no {layer} row with id {row_id}")
    return {name: _plain(value) for name, value in frame.iloc[0].to_dict().items()}


def _plain(value: Any) -> Any:
    """A plain Python value: NaN, NA and NaT become None, numpy and pandas scalars Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    return value


def _audit_values(spec: LayerSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    from geo.audit import snapshot

    return snapshot(values, redact=spec.pii_columns)


def _one_record(spec: LayerSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and convert one row's values as :func:`write_layer` does for a frame."""
    if not values:
        return {}
    _, records = _frame_records(spec, pd.DataFrame([dict(values)], dtype=object))
    return records[0]


def _key_taken(conn: Connection, spec: LayerSpec, key: Sequence[str], value: tuple) -> bool:
    table = spec.table
    select = sa.select(table.c.id).where(*(table.c[k] == v for k, v in zip(key, value)))
    return conn.execute(select.limit(1)).first() is not None


def insert_record(
    bind: Bind,
    layer: str,
    values: Mapping[str, Any],
    *,
    actor,
    township: int | str | Sequence[int | str] | None = None,
    source: str = "user",
) -> dict[str, Any]:
    """Insert one row and write its audit entry in the same transaction.

    Unlike :func:`write_layer` this never updates: a row whose natural key exists already
    is refused.

    Parameters
    ----------
    values
        Field values (enum fields take values or Chinese labels; the primary geometry, a
        shapely geometry in EPSG:4326, under ``geometry``).
    actor
        Who inserts (:class:`geo.audit.Actor`).
    township
        The caller's townships: a row that would lie outside them is refused.

    Raises
    ------
    ValidationError
        A bad value or a missing required field, naming the field.
    Conflict
        The natural key exists already, or a foreign key points nowhere.
    OutOfScope
        The row would lie outside the caller's townships.
    """
    from geo.audit import record as audit_record
    from geo.errors import OutOfScope

    spec = get_layer(layer)
    if "id" in values:
        raise ValidationError(f"{layer}: the id is assigned by the database; leave it out")
    record = _one_record(spec, values)
    record.setdefault("source", source)
    missing = [c for c in _required(spec) if record.get(c) is None]
    if missing:
        raise ValidationError(f"{layer}: required field(s) {', '.join(missing)} missing or empty")
    with connect(bind) as conn:
        require_schema(conn)
        for key in spec.natural_keys:
            value = _key_of(record, key)
            if value is not None and _key_taken(conn, spec, key, value):
                raise Conflict(
                    f"{layer} with {'+'.join(key)} = {', '.join(map(str, value))} exists already; "
                    "change that row instead (PATCH) or choose another value"
                )
        result = WriteResult(layer=spec.name)
        try:
            _apply(conn, spec, [record], [None], result)
        except IntegrityError as exc:
            raise Conflict(f"the database refused the {layer} row: {_integrity_reason(exc)}") from None
        row_id = result.ids[0]
        if township is not None and not _in_scope(conn, spec, row_id, township):
            raise OutOfScope(
                f"this {layer} row would lie outside your townships ({_scope_names(conn, township)}); "
                "place it in one of them or ask an administrator"
            )
        created = read_record(conn, layer, row_id, include_pii=True)
        audit_record(conn, actor=actor, action="create", layer=layer, row_id=row_id,
                     after=_audit_values(spec, _own_fields(spec, created)))
    return _public(spec, created)


def _own_fields(spec: LayerSpec, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's stored fields (no joined labels, no bookkeeping), geometry under its column."""
    out = {}
    for name, value in row.items():
        column = spec.geometry if name == "geometry" else name
        if column is not None and column in spec.table.c and column not in MANAGED:
            out[column] = value
    return out


def _public(spec: LayerSpec, row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in spec.pii_columns}


def _check_version(spec: LayerSpec, row: Mapping[str, Any], version: int) -> None:
    current = int(row["version"])
    if int(version) != current:
        raise StaleVersion(
            f"{spec.name} {row['id']} is at version {current}, not {version}: someone changed it "
            "since you read it. Read it again, reapply your change and send the new version",
            current_version=current,
        )


def update_record(
    bind: Bind,
    layer: str,
    row_id: int,
    changes: Mapping[str, Any],
    *,
    version: int,
    actor,
    township: int | str | Sequence[int | str] | None = None,
) -> dict[str, Any]:
    """Change some fields of one row if it is still at ``version``; audit what changed.

    The update is conditional on the version inside the database (``WHERE version = ...``),
    so two writers racing cannot both succeed: the second gets :class:`StaleVersion`.
    Changes equal to the stored values leave the row (and its version) alone.

    Returns
    -------
    dict
        The row after the change, without personal fields.

    Raises
    ------
    NotFound
        No such row (or none the caller may see).
    StaleVersion
        The row is no longer at ``version``.
    ValidationError, Conflict, OutOfScope
        As for :func:`insert_record`.
    """
    from geo.audit import record as audit_record
    from geo.errors import OutOfScope

    spec = get_layer(layer)
    bad = sorted(set(changes) & (MANAGED | {"id"}))
    if bad:
        raise ValidationError(f"{layer}: {', '.join(bad)} cannot be changed; leave it out")
    record = _one_record(spec, changes)
    _note_write()
    with connect(bind, write=True) as conn:
        require_schema(conn)
        before = read_record(conn, layer, row_id, township=township, include_pii=True)
        _check_version(spec, before, version)
        own = _own_fields(spec, before)
        stored = _stored_values(conn, spec, [int(row_id)], sorted(record))[int(row_id)] if record else {}
        changed = {n: v for n, v in record.items() if not _same(stored.get(n), v)}
        if not changed:
            return _public(spec, before)
        table = spec.table
        geometry_columns = set(spec.geometry_columns)
        values = {
            n: (_geometry_bind(conn, f"p_{n}") if n in geometry_columns else sa.bindparam(f"p_{n}"))
            for n in changed
        }
        values["version"] = table.c.version + 1
        statement = (
            table.update()
            .where(table.c.id == int(row_id), table.c.version == int(version))
            .values(values)
        )
        try:
            result = conn.execute(statement, {f"p_{n}": v for n, v in changed.items()})
        except IntegrityError as exc:
            raise Conflict(f"the database refused the change to {layer} {row_id}: "
                           f"{_integrity_reason(exc)}") from None
        if result.rowcount != 1:  # changed by someone else between our read and our write
            current = conn.execute(sa.select(table.c.version).where(table.c.id == int(row_id))).scalar()
            raise StaleVersion(
                f"{layer} {row_id} changed while you were saving; read it again and reapply "
                "your change", current_version=int(current or 0))
        if township is not None and not _in_scope(conn, spec, int(row_id), township):
            raise OutOfScope(
                f"this change would move {layer} {row_id} outside your townships "
                f"({_scope_names(conn, township)}); leave it in one of them or ask an administrator"
            )
        after = read_record(conn, layer, row_id, include_pii=True)
        after_own = _own_fields(spec, after)
        audit_record(
            conn, actor=actor, action="update", layer=layer, row_id=int(row_id),
            before=_audit_values(spec, {n: own.get(n) for n in changed}),
            after=_audit_values(spec, {n: after_own.get(n) for n in changed}),
        )
    return _public(spec, after)


def delete_record(
    bind: Bind,
    layer: str,
    row_id: int,
    *,
    version: int,
    actor,
    township: int | str | Sequence[int | str] | None = None,
) -> None:
    """Delete one row if it is still at ``version``; the audit entry keeps its last values.

    Raises
    ------
    NotFound
        No such row (or none the caller may see).
    StaleVersion
        The row is no longer at ``version``.
    Conflict
        Other rows still refer to it.
    """
    from geo.audit import record as audit_record

    spec = get_layer(layer)
    _note_write()
    with connect(bind, write=True) as conn:
        require_schema(conn)
        before = read_record(conn, layer, row_id, township=township, include_pii=True)
        _check_version(spec, before, version)
        table = spec.table
        try:
            result = conn.execute(
                table.delete().where(table.c.id == int(row_id), table.c.version == int(version))
            )
        except IntegrityError as exc:
            raise Conflict(
                f"cannot delete {layer} {row_id}: other rows still refer to it "
                f"({_integrity_reason(exc)}); delete or re-point those first"
            ) from None
        if result.rowcount != 1:
            raise StaleVersion(f"{layer} {row_id} changed while you were deleting it; read it again",
                               current_version=int(before["version"]) + 1)
        audit_record(conn, actor=actor, action="delete", layer=layer, row_id=int(row_id),
                     before=_audit_values(spec, _own_fields(spec, before)))


def layer_extent(
    bind: Bind,
    layer: str,
    *,
    township: int | str | Sequence[int | str] | None = None,
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
                           Query(township=township))
        row = conn.execute(select).first()
    if row is None or row[0] is None:
        return None
    return tuple(float(v) for v in row)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------
# Matching without writing (used by imports to check required fields of new rows)
# --------------------------------------------------------------------------------------


def existing_ids(bind: Bind, layer: str, frame: pd.DataFrame) -> list[int | None]:
    """For each row of ``frame``, the id of the stored row :func:`write_layer` would update
    (by ``id``, else the layer's natural keys in order), or None where it would insert.
    Nothing is written; duplicates inside the frame are not checked here.

    Raises
    ------
    ValidationError
        A key field holds a value the column cannot store.
    """
    spec = get_layer(layer)
    keys = [k for k in spec.natural_keys if all(c in frame.columns for c in k)]
    wanted = list(dict.fromkeys(["id"] * ("id" in frame.columns) + [c for k in keys for c in k]))
    if not wanted or frame.empty:
        return [None] * len(frame)
    _, records = _frame_records(spec, pd.DataFrame(frame[wanted]))
    targets: list[int | None] = [None] * len(records)
    with connect(bind) as conn:
        require_schema(conn)
        if "id" in wanted:
            ids = {r["id"] for r in records if r.get("id") is not None}
            present = set(conn.execute(sa.select(spec.table.c.id).where(spec.table.c.id.in_(ids))).scalars()) if ids else set()
            for position, record in enumerate(records):
                if record.get("id") in present:
                    targets[position] = record["id"]
        for key in keys:
            values = {v for r in records if (v := _key_of(r, key)) is not None}
            found = _existing(conn, spec, key, values)
            for position, record in enumerate(records):
                if targets[position] is None:
                    value = _key_of(record, key)
                    if value is not None and value in found:
                        targets[position] = found[value]
    return targets
