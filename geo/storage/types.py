"""Values between Python and the database: the constants of stored rows, cell conversion
(frame cells to column values, naming the row and field of a bad one), geometries as WKB,
and the one rule for timestamps (UTC, always with a zone).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from geo import models
from geo.db import backend_name
from geo.enums import LabeledEnum
from geo.errors import ValidationError

BBox = tuple[float, float, float, float]

CRS = "EPSG:4326"
#: CRSs stored as-is: CGCS2000 differs from WGS 84 by centimetres (DESIGN.md).
ACCEPTED_CRS = ("EPSG:4326", "EPSG:4490")
#: Columns the storage layer maintains itself.
MANAGED = frozenset({"id", "created_at", "updated_at", "version"})
#: Columns every table has (``RowMixin``), listed after a layer's own fields on read.
_ROW_COLUMNS = ("id", "source", "created_at", "updated_at", "version")

def frame_of(rows: Iterable[Any], columns: Iterable[str]) -> pd.DataFrame:
    """A DataFrame of fetched rows (SQLAlchemy ``Row`` objects or tuples) under ``columns``.

    The rows are made plain tuples first. pandas asks each row whether it is a named tuple
    (``hasattr(row, "_fields")``), and a ``Row`` answers by raising and catching an exception
    per row: 70 of the 110 ms of a 6,000-household read. The frame is the same: pandas turns
    a ``Row`` into a tuple itself."""
    return pd.DataFrame([tuple(row) for row in rows], columns=list(columns))


def result_frame(result: sa.CursorResult) -> pd.DataFrame:
    """:func:`frame_of` every row of an executed statement, under its column names."""
    return frame_of(result.fetchall(), result.keys())


def _decode(values: Iterable[Any]) -> np.ndarray:
    """Shapely geometries (None where NULL) from the WKB the database returned."""
    raw = [bytes(v) if v is not None else None for v in values]
    return shapely.from_wkb(np.array(raw, dtype=object)) if raw else np.array([], dtype=object)


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


def _geometry_bind(conn: Connection, name: str, value: Any = None):
    """``ST_GeomFromWKB(:name)`` for the backend; the bound WKB given now or at execution."""
    wkb = (sa.bindparam(name, value, type_=sa.LargeBinary) if value is not None
           else sa.bindparam(name, type_=sa.LargeBinary))
    if _backend(conn) == "postgis":
        return sa.func.ST_GeomFromWKB(wkb, models.SRID)
    return sa.func.GeomFromWKB(wkb, models.SRID)


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


def _quote(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _integrity_reason(exc: IntegrityError) -> str:
    """The first line of the database's reason for refusing a write."""
    text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return text



# --------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------


#: The largest id a row has (ids are 32-bit integer columns).
MAX_ROW_ID = 2**31 - 1


def row_id(key: object) -> int | None:
    """The row id a key names when it is all digits and within the id columns' range, else
    ``None`` (a code, or a number no row can have: never an overflow in the database)."""
    text = str(key).strip()
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_ROW_ID else None


def now_utc() -> dt.datetime:
    """The current instant, in UTC with its zone."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: Any) -> Any:
    """A stored timestamp with its zone: SpatiaLite keeps UTC without one (PostGIS returns
    an aware value, left as it is); anything that is not a datetime is returned unchanged."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def aware_row(row: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``row`` with its timestamp fields ``names`` made aware by :func:`as_utc` (in place)."""
    for name in names:
        if name in row:
            row[name] = as_utc(row[name])
    return row


def _backend(conn: Connection) -> str:
    return backend_name(conn)
