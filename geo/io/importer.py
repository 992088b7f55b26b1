"""Import a file into a layer: read in chunks, check every row, write all-or-nothing.

:func:`import_file` is what ``atlas import`` and the HTTP API's ``POST /api/imports`` call.
One import runs in one transaction (a savepoint when the caller passes its own connection):

1. open the file (zip extracted safely, Shapefile encoding decided, sheet or layer chosen);
2. recognise seed 000's form layouts (附件1-5) or map the columns to the layer's fields;
3. per chunk: coordinates to WGS 84 and inside China, geometry type and validity, field
   types and enums, parents resolved by code or name, required fields of new rows,
   natural keys repeated in the file;
4. upsert the rows that pass with :func:`geo.storage.write_layer`.

Rows that fail are *refused* and listed with their row number and reason; the others are
written. With ``strict`` any refused row (and any geometry that would need repair) rolls the
whole import back; ``dry_run`` always rolls back, so its report says exactly what an import
would do. Errors that concern the whole file (unreadable, no usable columns, every point
outside China) raise :class:`~geo.errors.ValidationError` and write nothing.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy.engine import Connection

from geo import storage
from geo.db import require_schema
from geo.errors import AtlasError, ValidationError
from geo.io import coords, registry_forms, sources
from geo.io.fields import (
    COORDINATE_FIELDS,
    MANAGED_FIELDS,
    header_table,
    id_columns,
    label,
    layer_fields,
    match_header,
    normalise_header,
    parse_mapping,
)
from geo.io.references import Resolver
from geo.io.uploads import ExtractLimits, safe_extract_zip
from geo.io.validate import check_column, check_geometries, check_numbers, combine, parse_wkt
from geo.layers import get_layer

#: Longest list of refused/repaired rows kept in a report (counts are always complete).
MAX_LISTED = 1000
Progress = Callable[[int, int | None], None]


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


@dataclass
class RowIssue:
    """One refused or repaired row (or a warning): where it is and why."""

    row: int | None
    reason: str
    layer: str | None = None
    sheet: str | None = None


@dataclass
class LayerCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do). ``as_dict()`` is JSON-ready.

    Rows are numbered as the user sees them: spreadsheet rows (header = row 1) for CSV and
    XLSX, feature numbers (from 1) for vector files; forms filled in per sheet name the sheet.
    """

    file: str
    layer: str
    format: str
    dry_run: bool = False
    strict: bool = False
    committed: bool = False
    layout: str | None = None
    sheet: str | None = None
    source_layer: str | None = None
    crs: str | None = None
    encoding: str | None = None
    row_numbers: str = "row"
    read: int = 0
    layers: dict[str, LayerCounts] = field(default_factory=dict)
    repaired: list[RowIssue] = field(default_factory=list)
    refused: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    repaired_count: int = 0
    refused_count: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def inserted(self) -> int:
        return sum(c.inserted for c in self.layers.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.layers.values())

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in self.layers.values())

    def refuse(self, row: int | None, reason: str, *, layer: str | None = None, sheet: str | None = None) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_LISTED:
            self.refused.append(RowIssue(row, reason, layer, sheet))

    def repair(self, row: int | None, reason: str, *, layer: str | None = None, sheet: str | None = None) -> None:
        self.repaired_count += 1
        if len(self.repaired) < MAX_LISTED:
            self.repaired.append(RowIssue(row, reason, layer, sheet))

    def warn(self, reason: str, *, row: int | None = None, layer: str | None = None) -> None:
        if len(self.warnings) < MAX_LISTED and not any(w.reason == reason and w.row == row for w in self.warnings):
            self.warnings.append(RowIssue(row, reason, layer))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["layers"] = {name: asdict(c) for name, c in self.layers.items()}
        data.update(inserted=self.inserted, updated=self.updated, unchanged=self.unchanged)
        order = ["file", "layer", "format", "layout", "sheet", "source_layer", "crs", "encoding", "dry_run",
                 "strict", "committed", "row_numbers", "read", "inserted", "updated", "unchanged",
                 "repaired_count", "refused_count", "layers", "repaired", "refused", "warnings", "columns",
                 "ignored_columns"]
        return {k: data[k] for k in order}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)


# --------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------


@contextmanager
def _transaction(bind: storage.Bind) -> Iterator[tuple[Connection, Any]]:
    """A connection and a transaction the caller commits or rolls back; a savepoint inside a
    caller's connection, so a dry run or a strict refusal undoes only this import."""
    if isinstance(bind, Connection):
        _begin_sqlite(bind)
        transaction = bind.begin_nested()
        try:
            yield bind, transaction
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        return
    with bind.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn, transaction
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise


def _begin_sqlite(conn: Connection) -> None:
    """Make sure SQLite really is inside the caller's transaction before a savepoint.

    The sqlite3 driver opens its transaction lazily, at the first INSERT/UPDATE/DELETE; a
    SAVEPOINT issued before that opens a transaction of its own, and releasing it commits,
    outside the caller's transaction.
    """
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.driver_connection
    if not getattr(raw, "in_transaction", True):
        conn.exec_driver_sql("BEGIN")


# --------------------------------------------------------------------------------------
# Duplicate natural keys across the whole file
# --------------------------------------------------------------------------------------


class _KeyRegistry:
    """Natural keys already seen in this import, 16 bytes a row (hash and row number), so a
    key repeated many chunks later is still caught without holding the rows."""

    def __init__(self):
        self._hashes: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []

    def check_and_add(self, hashes: np.ndarray, rows: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Row number of the earlier row with the same key (0 where the key is new; -1 for an
        earlier row without a number), and remember the new keys."""
        first = np.zeros(len(hashes), dtype=np.int64)
        candidates = np.flatnonzero(valid)
        for seen_hashes, seen_rows in zip(self._hashes, self._rows):
            pos = np.minimum(np.searchsorted(seen_hashes, hashes[candidates]), len(seen_hashes) - 1)
            hit = seen_hashes[pos] == hashes[candidates]
            first[candidates[hit]] = seen_rows[pos[hit]]
        fresh = candidates[first[candidates] == 0]
        if len(fresh):
            order = fresh[np.argsort(hashes[fresh], kind="stable")]
            same = np.zeros(len(order), dtype=bool)
            same[1:] = hashes[order[1:]] == hashes[order[:-1]]
            start = np.maximum.accumulate(np.where(~same, np.arange(len(order)), 0))
            repeated = order[same]
            first[repeated] = rows[order[start[same]]]
            kept = order[~same]
            self._hashes.append(hashes[kept])
            self._rows.append(rows[kept])
        return first


# --------------------------------------------------------------------------------------
# Writing one frame of canonical fields into one layer
# --------------------------------------------------------------------------------------


class _Writer:
    """Checks frames of canonical fields against a layer and upserts the rows that pass."""

    def __init__(self, conn: Connection, report: ImportReport, *, strict: bool, source: str):
        self.conn = conn
        self.report = report
        self.strict = strict
        self.source = source
        self.resolver = Resolver(conn)
        self.keys: dict[tuple[str, tuple[str, ...]], _KeyRegistry] = {}

    def write(self, layer: str, frame: pd.DataFrame, rows: Sequence[int | None],
              sheets: Sequence[str | None] | None = None) -> pd.Series:
        """Check and upsert; return the written row ids aligned with ``frame`` (NA where refused)."""
        spec = get_layer(layer)
        frame = frame.reset_index(drop=True)
        sheets = list(sheets) if sheets is not None else [None] * len(frame)
        out = pd.DataFrame(index=frame.index)
        reasons: list[pd.Series] = []
        reasons += self._check_attributes(spec, frame, out)
        geometry_reasons, repairs = self._check_geometries(spec, frame, out)
        reasons += geometry_reasons
        reasons += self._resolve_parents(spec, frame, out)
        refused = combine(reasons, frame.index)
        refused = self._check_required(spec, frame, out, refused)
        rows_array = np.array([r if r is not None else -1 for r in rows], dtype=np.int64)
        refused = self._repeated_keys(spec, out, rows_array, refused)
        ok = refused.isna().to_numpy()
        repaired = combine(repairs, frame.index)
        for i in np.flatnonzero(~ok):
            self.report.refuse(rows[i], refused.iat[i], layer=layer, sheet=sheets[i])
        for i in np.flatnonzero(ok & repaired.notna().to_numpy()):
            self.report.repair(rows[i], repaired.iat[i], layer=layer, sheet=sheets[i])
        return self._upsert(spec, out, ok)

    def _check_attributes(self, spec, frame: pd.DataFrame, out: pd.DataFrame) -> list[pd.Series]:
        """Convert the attribute fields into ``out``; reasons where a cell cannot be stored."""
        reasons = []
        skip = set(spec.geometry_columns) | set(id_columns(spec.name)) | set(MANAGED_FIELDS)
        for column in spec.table.columns:
            if column.name in frame.columns and column.name not in skip:
                checked = check_column(column, frame[column.name], label=label(spec.name, column.name))
                out[column.name] = checked.values
                reasons.append(checked.reasons)
        return reasons

    def _check_geometries(self, spec, frame: pd.DataFrame, out: pd.DataFrame) -> tuple[list[pd.Series], list[pd.Series]]:
        """Geometry type, emptiness and validity into ``out``. The primary geometry arrives in
        WGS 84, already placed and checked against China's extent; secondary geometries (a
        township's seat, a village's boundary) arrive as WKT in WGS 84 and are checked here."""
        reasons, repairs = [], []
        for name in spec.geometry_columns:
            source_name = "geometry" if name == spec.geometry else name
            if source_name not in frame.columns:
                continue
            values = frame[source_name]
            text = label(spec.name, name)
            if isinstance(values.dtype, gpd.array.GeometryDtype):
                values = gpd.GeoSeries(values, crs=4326)
            else:
                values, wkt_reasons = parse_wkt(values, label=text)
                values = gpd.GeoSeries(values, crs=4326)
                reasons += [wkt_reasons, self._outside(values, text)]
            column = spec.table.c[name]
            kind = spec.geometry_kind if name == spec.geometry and spec.geometry_kind != "any" else None
            checked = check_geometries(values, column=column, label=text, required=not column.nullable,
                                       strict=self.strict, allowed=kind)
            out[name] = checked.values
            reasons.append(checked.reasons)
            repairs.append(checked.repairs)
        return reasons, repairs

    @staticmethod
    def _outside(values: gpd.GeoSeries, text: str) -> pd.Series:
        why = [None] * len(values)
        outside = coords.outside_china(values.values)
        if outside.any():
            xs, ys = coords.first_coordinates(values.values)
            for i in np.flatnonzero(outside):
                why[i] = f"{text}: " + coords.explain_outside(xs[i], ys[i], CRS.from_epsg(4326))
        return pd.Series(why, index=values.index, dtype=object)

    def _resolve_parents(self, spec, frame: pd.DataFrame, out: pd.DataFrame) -> list[pd.Series]:
        """Reference fields (乡镇, 行政村, 帮扶单位 ...) to id columns in ``out``."""
        reasons = []
        if spec.name == "villages":
            frame, why = self._township_from_existing_village(frame)
            reasons.append(why)
            if "township_id" in frame.columns:
                out["township_id"] = frame["township_id"]
        resolved, ref_reasons, filled = self.resolver.resolve(spec.name, frame)
        for name in filled:
            out[name] = resolved[name]
        return reasons + ref_reasons

    def _check_required(self, spec, frame: pd.DataFrame, out: pd.DataFrame, refused: pd.Series) -> pd.Series:
        """A required field left empty is refused; one the file lacks, only for new rows (an
        update keeps the stored value)."""
        ok = refused.isna().to_numpy()
        if not ok.any():
            return refused
        targets = storage.existing_ids(self.conn, spec.name, self._storable(spec, out.loc[ok]))
        new = np.zeros(len(frame), dtype=bool)
        new[ok] = [t is None for t in targets]
        extra = []
        for column in spec.table.columns:
            name = column.name
            if column.nullable or name in storage.MANAGED or name == "source" or column.default is not None \
                    or column.server_default is not None:
                continue
            if name in out.columns:
                values = np.asarray(out[name].values, dtype=object) if name in spec.geometry_columns else None
                present = (~shapely.is_missing(values)) if values is not None else out[name].notna().to_numpy()
                given = self._field_given(spec.name, name, frame) if _refs_for(spec.name, name) else True
                missing = ok & ~present & (new | given)
                text = self._required_text(spec.name, name, given=True)
            else:
                missing = ok & new
                text = self._required_text(spec.name, name, given=False)
            if missing.any():
                extra.append(pd.Series(np.where(missing, text, None), index=frame.index, dtype=object))
        return combine([refused, *extra], frame.index) if extra else refused

    def _upsert(self, spec, out: pd.DataFrame, ok: np.ndarray) -> pd.Series:
        ids = pd.Series(pd.array([None] * len(out), dtype="Int64"), index=out.index)
        counts = self.report.layers.setdefault(spec.name, LayerCounts())
        if not ok.any():
            return ids
        for part in self._parts(spec, out.loc[ok]):
            result = storage.write_layer(self.conn, spec.name, self._storable(spec, part), source=self.source)
            counts.inserted += result.inserted
            counts.updated += result.updated
            counts.unchanged += result.unchanged
            ids.loc[part.index] = result.ids
        self.resolver.invalidate(spec.name)
        return ids

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _field_given(layer: str, name: str, frame: pd.DataFrame) -> bool:
        return any(f in frame.columns for ref in _refs_for(layer, name) for f in ref)

    @staticmethod
    def _required_text(layer: str, name: str, given: bool) -> str:
        refs = _refs_for(layer, name)
        fields = sorted(refs[0], key=lambda f: not f.endswith("_name"))[:2] if refs else [name]
        what = " or ".join(label(layer, f) for f in fields)
        if given:
            return f"{what} is empty; it is required"
        return f"a new row needs {what}, and the file has no such column"

    @staticmethod
    def _storable(spec, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame write_layer takes: a GeoDataFrame in EPSG:4326 when it holds geometries."""
        geometry_names = [n for n in spec.geometry_columns if n in frame.columns]
        if not geometry_names:
            return pd.DataFrame(frame)
        primary = spec.geometry if spec.geometry in frame.columns else geometry_names[0]
        data = frame.copy()
        for name in geometry_names:
            data[name] = gpd.GeoSeries(data[name].values, index=data.index, crs=4326)
        return gpd.GeoDataFrame(data, geometry=primary, crs=4326)

    @staticmethod
    def _parts(spec, frame: pd.DataFrame) -> list[pd.DataFrame]:
        """Rows without a primary geometry are written without the geometry column, so an
        update never erases a stored position (a table row with empty coordinates)."""
        if spec.geometry not in frame.columns:
            return [frame]
        missing = shapely.is_missing(np.asarray(frame[spec.geometry].values, dtype=object))
        parts = []
        if (~missing).any():
            parts.append(frame.loc[~missing])
        if missing.any():
            parts.append(frame.loc[missing].drop(columns=[spec.geometry]))
        return parts

    def _township_from_existing_village(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series | None]:
        """A village list without a 乡镇 column still updates villages whose name is unique;
        a name several townships share is refused, listing them."""
        if any(f in frame.columns for f in ("township_name", "township_code")) or "name" not in frame.columns:
            return frame, None
        villages = self.resolver.villages()
        if villages.empty:
            return frame, None
        frame = frame.copy()
        names = frame["name"].astype("string").str.strip()
        towns = villages.groupby("name")["township_name"].agg(list)
        ids = villages.groupby("name")["township_id"].agg(list)
        unique = ids[ids.map(len) == 1].map(lambda v: v[0])
        frame["township_id"] = pd.array(names.map(unique), dtype="Int64")
        shared = names.map(towns[towns.map(len) > 1])
        why = pd.Series([None if not isinstance(t, list) else
                         f"行政村 {n!r} is in several townships ({'、'.join(map(str, t))}); add a 乡镇 column"
                         for n, t in zip(names, shared)], index=frame.index, dtype=object)
        return frame, why

    def _repeated_keys(self, spec, out: pd.DataFrame, rows: np.ndarray, refused: pd.Series) -> pd.Series:
        """Refuse a row whose natural key an earlier row of the file already has."""
        ok = refused.isna().to_numpy()
        extra = []
        for key in spec.natural_keys:
            if not ok.any() or not all(c in out.columns for c in key):
                continue
            values = out[list(key)]
            valid = ok & values.notna().all(axis=1).to_numpy()
            if not valid.any():
                continue
            hashes = pd.util.hash_pandas_object(values.astype(str), index=False).to_numpy()
            registry = self.keys.setdefault((spec.name, key), _KeyRegistry())
            first = registry.check_and_add(hashes, rows, valid)
            why = [None] * len(out)
            shown = "+".join(label(spec.name, k) for k in key if not k.endswith("_id")) or "+".join(key)
            for i in np.flatnonzero(first):
                value = ", ".join(str(values.iat[i, j]) for j, k in enumerate(key) if not k.endswith("_id"))
                where = f"row {first[i]}" if first[i] > 0 else "an earlier entry"
                why[i] = f"repeats {shown} {value!r} of {where}; each must be unique in the file"
            extra.append(pd.Series(why, index=out.index, dtype=object))
        return combine([refused, *extra], out.index) if extra else refused


def _refs_for(layer: str, column: str) -> list[tuple[str, ...]]:
    from geo.io.fields import REFERENCES

    return [ref.fields for ref in REFERENCES.get(layer, ()) if ref.column == column]


# --------------------------------------------------------------------------------------
# Tables: header, columns, coordinates
# --------------------------------------------------------------------------------------

_TOTAL_WORDS = ("合计", "总计", "小计", "合 计", "总 计")
_NOTE_WORDS = ("填表说明", "填报说明", "说明", "备注：", "注：", "注:", "填报人", "制表", "审核")
_TOWNSHIP_SECTION = re.compile(r"^.{1,12}(镇|乡|街道|苏木|办事处|民族乡)$")


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str) and not value.strip())


def _find_header(rows: list[tuple[int, list[Any]]], layer: str, mapping: dict[str, str]) -> int | None:
    """Index (in ``rows``) of the header row: the row naming the most fields (at least 2, or
    1 for a one-column file)."""
    table = header_table(layer)
    best, best_score = None, 0
    for index, (_, cells) in enumerate(rows):
        names = [c for c in cells if not _is_blank(c)]
        score = sum(1 for c in names if str(c).strip() in mapping or match_header(layer, c, table))
        needed = 1 if len(names) == 1 else 2
        if score >= needed and score > best_score:
            best, best_score = index, score
    return best


@dataclass
class _Columns:
    """How the file's columns map to fields."""

    headers: list[str]
    fields: dict[int, str]  # column position -> field
    ignored: list[str]


def _map_columns(headers: Sequence[Any], layer: str, mapping: dict[str, str], *, source: str) -> _Columns:
    table = header_table(layer)
    texts = []
    for position, header in enumerate(headers):
        text = "" if _is_blank(header) else str(header).strip()
        texts.append(text or f"列{position + 1}")
    by_normal = {normalise_header(t): t for t in texts}
    mapping = {(m if m in texts else by_normal.get(normalise_header(m), m)): f for m, f in mapping.items()}
    unknown = [m for m in mapping if m not in texts]
    if unknown:
        raise ValidationError(f"{source}: --map names column(s) {', '.join(map(repr, unknown))} the file does not "
                              f"have; columns: {', '.join(texts)}")
    fields: dict[int, str] = {}
    ignored: list[str] = []
    used: dict[str, int] = {}
    allowed = set(layer_fields(layer)) | set(COORDINATE_FIELDS)
    for position, text in enumerate(texts):
        field_name = mapping.get(text) or match_header(layer, text, table)
        if field_name is None or field_name not in allowed or (field_name in MANAGED_FIELDS):
            if not text.startswith("列") and normalise_header(text) not in {"id", "fid", "ogc_fid", "序号", "编号序号"}:
                ignored.append(text)
            continue
        if field_name in used:
            raise ValidationError(
                f"{source}: columns {texts[used[field_name]]!r} and {text!r} both give "
                f"{label(layer, field_name)} ({field_name}); rename one or choose with --map"
            )
        used[field_name] = position
        fields[position] = field_name
    return _Columns(texts, fields, ignored)


_DMS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[°度:]\s*(?:(\d+(?:\.\d+)?)\s*['′分:]?\s*)?(?:(\d+(?:\.\d+)?)\s*[\"″秒]?)?\s*([NSEW东西南北]?)\s*$")


def _degrees(values: pd.Series, label_text: str) -> tuple[pd.Series, pd.Series]:
    """Decimal degrees from numbers or 度分秒 text (105°10′30″)."""
    checked = check_numbers(values, label=label_text, integer=False)
    numbers = checked.values.copy()
    reasons = checked.reasons.copy()
    for i in np.flatnonzero(reasons.notna().to_numpy()):
        match = _DMS.match(str(values.iat[i]))
        if match:
            d, m, s = (float(g) if g else 0.0 for g in match.groups()[:3])
            value = abs(d) + m / 60 + s / 3600
            if d < 0 or match.group(4) in ("S", "W", "南", "西"):
                value = -value
            numbers.iat[i] = value
            reasons.iat[i] = None
    return numbers, reasons


class _TableGeometry:
    """Builds the geometry of table rows from 经度/纬度, X/Y or WKT columns."""

    def __init__(self, columns: set[str], *, crs: CRS | None, web: str | None, layer: str, source: str,
                 report: ImportReport):
        self.kind = ("lonlat" if {"lon", "lat"} <= columns else "xy" if {"x", "y"} <= columns
                     else "wkt" if "wkt" in columns else None)
        half = ({"lon", "lat"} & columns) if {"lon", "lat"} & columns and not {"lon", "lat"} <= columns else set()
        if half:
            have = next(iter(half))
            raise ValidationError(f"{source}: the file has a {label(layer, have)} column but no "
                                  f"{label(layer, 'lat' if have == 'lon' else 'lon')} column; both are needed")
        self.crs = crs
        self.web = web
        self.layer = layer
        self.source = source
        self.report = report
        self.swap: bool | None = None
        if self.kind == "xy" and crs is None and web is None:
            self.crs_from = "missing"
        else:
            self.crs_from = "option" if (crs is not None or web is not None) else "assumed"

    def build(self, frame: pd.DataFrame) -> tuple[gpd.GeoSeries | None, pd.Series]:
        """Geometries (in the file's CRS) and per-row reasons."""
        index = frame.index
        none = pd.Series([None] * len(frame), index=index, dtype=object)
        if self.kind is None:
            return None, none
        if self.kind == "wkt":
            geoms, reasons = parse_wkt(frame["wkt"], label=label(self.layer, "wkt"))
            return gpd.GeoSeries(geoms, index=index), reasons
        a_name, b_name = ("lon", "lat") if self.kind == "lonlat" else ("x", "y")
        a, a_why = _degrees(frame[a_name], label(self.layer, a_name))
        b, b_why = _degrees(frame[b_name], label(self.layer, b_name))
        if self.kind == "xy":
            a, b = self._orient(a.to_numpy(dtype=float), b.to_numpy(dtype=float))
        else:
            a, b = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        present = np.isfinite(a) & np.isfinite(b)
        points = np.full(len(frame), None, dtype=object)
        points[present] = shapely.points(a[present], b[present])
        half = np.isfinite(a) ^ np.isfinite(b)
        half_why = pd.Series(np.where(half, "only one of the two coordinates is given", None), index=index, dtype=object)
        return gpd.GeoSeries(points, index=index), combine([a_why, b_why, half_why], index)

    def _orient(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chinese surveying writes X for the northing and Y for the easting; decide once,
        from the first rows, which column is the easting."""
        if self.swap is None:
            finite = np.isfinite(x) & np.isfinite(y)
            if not finite.any():
                return x, y
            x0, y0 = x[finite][:50], y[finite][:50]
            if self.crs is not None:
                straight = self._inside(x0, y0)
                swapped = self._inside(y0, x0)
                self.swap = bool(swapped > straight)
            else:
                self.swap = bool(np.all([coords.prefixed_zone(v) is not None for v in y0])
                                 and not np.any([coords.prefixed_zone(v) is not None for v in x0]))
            if self.swap:
                self.report.warn("the X column holds northings and the Y column eastings (the surveying "
                                 "convention); they were read the other way round")
        return (y, x) if self.swap else (x, y)

    def _inside(self, x: np.ndarray, y: np.ndarray) -> int:
        try:
            lonlat = gpd.GeoSeries(shapely.points(x, y), crs=self.crs).to_crs(4326)
        except Exception:
            return 0
        return int((~coords.outside_china(lonlat.values)).sum())


# --------------------------------------------------------------------------------------
# CRS and the China check for one chunk
# --------------------------------------------------------------------------------------


class _Placement:
    """Puts a chunk's geometries into WGS 84 and refuses what lands outside China."""

    def __init__(self, *, file_crs: CRS | None, option: CRS | str | None, source: str, report: ImportReport,
                 table_kind: str | None = None):
        self.web = option if isinstance(option, str) else None
        self.source = source
        self.report = report
        if isinstance(option, CRS):
            if file_crs is not None and not _same_crs(file_crs, option):
                report.warn(f"the file says {coords.describe(file_crs)}; --crs {coords.describe(option)} was used instead")
            self.crs, self.crs_from = option, "option"
        elif file_crs is not None:
            coords.check_crs(file_crs)
            self.crs, self.crs_from = file_crs, "file"
        elif self.web is not None:
            self.crs, self.crs_from = CRS.from_epsg(4326), "option"
        else:
            self.crs, self.crs_from = None, ("missing" if table_kind in (None, "xy") else "assumed")
        self.checked_first = False
        report.crs = (coords.describe(self.web) + " -> WGS 84") if self.web else (
            coords.describe(self.crs) if self.crs is not None else None)

    def place(self, geoms: gpd.GeoSeries, rows: Sequence[int | None]) -> tuple[gpd.GeoSeries, pd.Series]:
        index = geoms.index
        reasons = pd.Series([None] * len(geoms), index=index, dtype=object)
        values = np.asarray(geoms.values, dtype=object)
        present = ~(shapely.is_missing(values) | shapely.is_empty(np.where(shapely.is_missing(values), None, values)))
        if not present.any():
            return gpd.GeoSeries(values, index=index, crs=4326), reasons
        xs, ys = coords.first_coordinates(values)
        if self.crs is None and not self.checked_first:
            self._decide_missing_crs(xs[present], ys[present], rows, np.flatnonzero(present))
        try:
            placed = coords.to_wgs84(gpd.GeoSeries(values, index=index, crs=self.crs), web=self.web)
        except AtlasError:
            raise
        except Exception as exc:
            raise ValidationError(f"{self.source}: the coordinates cannot be transformed from "
                                  f"{coords.describe(self.crs)} ({exc})") from None
        outside = coords.outside_china(placed.values) & present
        if outside.any():
            crs_for_text = self.crs
            explain = [coords.explain_outside(xs[i], ys[i], crs_for_text, crs_from=self.crs_from)
                       for i in np.flatnonzero(outside)]
            if not self.checked_first and outside.sum() == present.sum():
                first = np.flatnonzero(outside)[0]
                raise ValidationError(
                    f"{self.source}: every position in the first {int(present.sum())} rows is outside China; "
                    f"row {rows[first]}: {explain[0]}"
                    if present.sum() > 1 else f"{self.source}: row {rows[first]}: {explain[0]}"
                )
            for i, text in zip(np.flatnonzero(outside), explain):
                reasons.iat[i] = "outside China: " + text
            placed = placed.where(~outside, None)
        self.checked_first = True
        return placed, reasons

    def _decide_missing_crs(self, xs, ys, rows, positions) -> None:
        """A file without a CRS: degrees inside China are taken as WGS 84 (said in the report);
        anything else is refused with the likely cause."""
        inside = coords.in_china(xs, ys)
        if inside.any():
            self.crs = CRS.from_epsg(4326)
            self.crs_from = "assumed"
            self.report.crs = coords.describe(self.crs) + " (assumed: the file names no CRS)"
            if self.report.format not in ("csv", "xlsx"):
                self.report.warn("the file names no CRS (.prj missing?); its coordinates are longitude/latitude "
                                 "inside China and were taken as WGS 84 / CGCS2000")
            return
        first = int(np.flatnonzero(~inside)[0])
        raise ValidationError(f"{self.source}: the file names no CRS; row {rows[positions[first]]}: "
                              + coords.explain_outside(xs[first], ys[first], None, crs_from="missing"))


def _same_crs(a: CRS, b: CRS) -> bool:
    try:
        return a == b or (a.to_epsg(min_confidence=70) is not None and a.to_epsg(min_confidence=70) == b.to_epsg(min_confidence=70))
    except Exception:
        return False


# --------------------------------------------------------------------------------------
# import_file
# --------------------------------------------------------------------------------------


def import_file(
    bind: storage.Bind,
    path: str | os.PathLike,
    *,
    layer: str,
    sheet: str | int | None = None,
    source_layer: str | None = None,
    crs: str | int | CRS | None = None,
    encoding: str | None = None,
    mapping: Sequence[str] | dict[str, str] | None = None,
    year: int | None = None,
    dry_run: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
    chunk_rows: int = sources.DEFAULT_CHUNK_ROWS,
    source: str | None = None,
    display_name: str | None = None,
    extract_limits: ExtractLimits = ExtractLimits(),
    actor=None,
) -> ImportReport:
    """Import a file into a layer, all-or-nothing (see the module docstring).

    Parameters
    ----------
    bind
        Engine (the import runs in its own transaction) or connection (a savepoint inside
        the caller's transaction).
    path
        GeoJSON, Shapefile (``.shp``, a folder, or a ``.zip``), GeoPackage, KML/KMZ, CSV or
        XLSX file.
    layer
        Target layer (``villages``, ``roads`` ...). A seed-000 form (附件1-5) is recognised
        by its headers and must be imported into its layer (附件1: ``pairings``, which also
        writes townships, villages, units and work teams; 附件2 and 附件5: ``unit_inputs``;
        附件3/4: ``projects``).
    sheet
        XLSX sheet by name or number (from 1); default: the sheets that hold the layer.
    source_layer
        Layer of a GeoPackage or KML file, or the Shapefile of a zip holding several.
    crs
        The coordinates' CRS when the file has none or has the wrong one (``EPSG:4544``), or
        ``gcj02`` / ``bd09`` for coordinates copied from Chinese web maps (converted to WGS 84).
    encoding
        Text encoding of a CSV or Shapefile (``gbk``, ``utf-8``); detected when not given.
    mapping
        ``["column=field", ...]`` or ``{column: field}`` for headers the importer does not know.
    year
        Year of a form whose title gives none, and of every row of a table without a 年度 column.
    dry_run
        Check everything and report what would happen; write nothing.
    strict
        Write nothing if any row is refused or any geometry would need repair.
    progress
        Called as ``progress(rows_done, rows_total_or_None)`` after each chunk.
    chunk_rows
        Rows read, checked and written at a time (memory stays flat on large files).
    source
        Provenance stored on rows without a ``source`` (default ``import:<file name>``).
    display_name
        File name shown in messages (an upload's original name).
    extract_limits
        Limits for zip archives (see :func:`geo.io.uploads.safe_extract_zip`).
    actor
        Who imports (:class:`geo.audit.Actor`): a committed import writes one audit entry
        (file, options and counts per layer) in its own transaction, so both land or neither.

    Returns
    -------
    ImportReport

    Raises
    ------
    ValidationError
        The file cannot be read or mapped, or its positions are outside China as a whole.
    NotFound
        Unknown layer.
    SchemaMissing
        The database has no atlas tables.
    """
    spec = get_layer(layer)
    path = Path(path)
    name = display_name or path.name
    if not path.exists():
        raise ValidationError(f"{name}: no such file or folder")
    option = coords.parse_crs(crs) if crs is not None else None
    fmt = "shp" if path.is_dir() else sources.SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        if path.suffix.lower() == ".xls":
            raise ValidationError(f"{name}: old Excel .xls files are not read; save it as .xlsx (Excel or WPS: 另存为 .xlsx)")
        raise ValidationError(f"{name}: unknown file type {path.suffix!r}; import GeoJSON, Shapefile (.shp, folder "
                              "or .zip), GeoPackage (.gpkg), KML, CSV or XLSX")
    if path.is_file() and path.stat().st_size == 0:
        raise ValidationError(f"{name}: the file is empty (0 bytes)")
    report = ImportReport(file=name, layer=spec.name, format=fmt, dry_run=dry_run, strict=strict,
                          sheet=str(sheet) if sheet is not None else None, source_layer=source_layer)
    mapping_dict = parse_mapping(mapping, spec.name)
    with ExitStack() as stack:
        if fmt == "zip":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="atlas-import-")))
            safe_extract_zip(path, folder, limits=extract_limits)
            path, fmt = _inner_file(folder, name, spec.name)
            report.format = f"zip/{fmt}"
        conn, transaction = stack.enter_context(_transaction(bind))
        require_schema(conn)
        writer = _Writer(conn, report, strict=strict, source=source or f"import:{name}"[:200])
        context = _Context(writer=writer, report=report, layer=spec.name, name=name, option=option,
                           mapping=mapping_dict, progress=progress, chunk_rows=chunk_rows, year=year)
        if fmt in ("csv", "xlsx"):
            _import_tables(context, path, fmt, sheet=sheet, encoding=encoding)
        else:
            _import_vectors(context, path, fmt, source_layer=source_layer, encoding=encoding)
        if report.read == 0 and report.refused_count == 0:
            raise ValidationError(f"{name}: no data rows to import (the file has a header but no rows)"
                                  if report.row_numbers == "row" else f"{name}: the file holds no features")
        if dry_run or (strict and report.refused_count):
            transaction.rollback()
            report.committed = False
        else:
            if actor is not None:
                _audit_import(conn, actor, report)
            transaction.commit()
            report.committed = True
    return report


def _audit_import(conn: Connection, actor, report: ImportReport) -> None:
    from geo.audit import record

    record(conn, actor=actor, action="import", layer=report.layer, after={
        "file": report.file, "format": report.format, "read": report.read, "inserted": report.inserted,
        "updated": report.updated, "unchanged": report.unchanged, "refused": report.refused_count,
        "repaired": report.repaired_count, "strict": report.strict,
        "layers": {name: asdict(c) for name, c in report.layers.items()},
    })


@dataclass
class _Context:
    writer: _Writer
    report: ImportReport
    layer: str
    name: str
    option: CRS | str | None
    mapping: dict[str, str]
    progress: Progress | None
    chunk_rows: int
    year: int | None


def _inner_file(folder: Path, archive: str, layer: str) -> tuple[Path, str]:
    """The file to read inside an extracted zip: its Shapefile(s); for a layer without
    geometry a lone ``.dbf`` (as exports write them); else one other data file."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("._") and "__MACOSX" not in p.parts]
    shapefiles = [p for p in files if p.suffix.lower() == ".shp"]
    if shapefiles:
        return folder, "shp"
    tables = [p for p in files if p.suffix.lower() == ".dbf"]
    if len(tables) == 1 and get_layer(layer).geometry is None:
        return tables[0], "dbf"
    others = [p for p in files if p.suffix.lower() in (".geojson", ".json", ".gpkg", ".kml", ".kmz", ".csv", ".xlsx")]
    others = [p for p in others if p.name != "fields.csv"]
    if len(others) == 1:
        return others[0], sources.SUFFIXES[others[0].suffix.lower()]
    listing = sources.describe_files(sorted(files), folder)
    parts = {p.suffix.lower() for p in files}
    if ".dbf" in parts or ".shx" in parts:
        raise ValidationError(f"{archive} holds no .shp file (it has: {listing}); a zipped Shapefile needs the .shp, "
                              ".shx and .dbf files together")
    if len(others) > 1:
        raise ValidationError(f"{archive} holds several data files ({listing}); zip one, or unzip and import one")
    raise ValidationError(f"{archive} holds no .shp file or other data file (it has: {listing}); zip the "
                          "Shapefile's .shp, .shx, .dbf and .prj together")


# ------------------------------------------------------------------ vector files


def _vector_parts(path: Path, fmt: str, source_layer: str | None, layer: str, encoding: str | None,
                  report: ImportReport) -> list[sources.VectorPart]:
    if fmt == "dbf":
        codec, how = sources.shapefile_encoding(path.with_suffix(".shp"), encoding)
        part = sources.VectorPart(path, None, "shp", codec=codec, encoding_note=how)
        part.load_info()
        report.encoding = f"{sources.encoding_label(codec)} ({how})"
        return [part]
    if fmt == "shp":
        shapefiles = sources.shapefiles_in(path) if path.is_dir() else [path]
        if not shapefiles:
            raise ValidationError(f"{report.file}: the folder holds no .shp file")
        if source_layer is not None:
            chosen = [p for p in shapefiles if p.stem == source_layer or p.name == source_layer]
            if not chosen:
                raise ValidationError(f"{report.file} has no Shapefile {source_layer!r}; it has: "
                                      + ", ".join(p.stem for p in shapefiles))
            shapefiles = chosen
        parts = []
        for shp in shapefiles:
            for sidecar in (".shx", ".dbf"):
                if not any(shp.with_suffix(s).exists() for s in (sidecar, sidecar.upper())):
                    raise ValidationError(f"{shp.name} has no {shp.stem}{sidecar} beside it; a Shapefile needs its "
                                          ".shp, .shx and .dbf files together")
            codec, how = sources.shapefile_encoding(shp, encoding)
            part = sources.VectorPart(shp, None, "shp", codec=codec, encoding_note=how)
            part.load_info()
            parts.append(part)
        if len(parts) > 1:
            fields = {tuple(p.fields) for p in parts}
            if len(fields) > 1:
                raise ValidationError(
                    f"{report.file} holds {len(parts)} Shapefiles with different fields ("
                    + ", ".join(p.path.stem for p in parts) + "); choose one with --source-layer")
            report.warn(f"{len(parts)} Shapefiles with the same fields were read as one layer: "
                        + ", ".join(p.path.stem for p in parts))
        report.encoding = f"{sources.encoding_label(parts[0].codec)} ({parts[0].encoding_note})"
        return parts
    if fmt in ("geojson", "kml"):
        codec, detected = sources.text_encoding(path, encoding if fmt == "geojson" else None) if path.suffix.lower() != ".kmz" else ("utf-8", False)
        if codec != "utf-8":
            raise ValidationError(f"{report.file} is not UTF-8 text; GeoJSON and KML must be UTF-8 (save it as UTF-8)")
    layers = sources.list_layers(path)
    chosen = sources.pick_layer(path, layers, source_layer, layer)
    report.source_layer = chosen if len(layers) > 1 or source_layer else report.source_layer
    part = sources.VectorPart(path, chosen, fmt)
    part.load_info()
    return [part]


def _import_vectors(ctx: _Context, path: Path, fmt: str, *, source_layer: str | None, encoding: str | None) -> None:
    report = ctx.report
    report.row_numbers = "feature"
    parts = _vector_parts(path, fmt, source_layer, ctx.layer, encoding, report)
    total = sum(p.count or 0 for p in parts) or None
    if all(p.count == 0 for p in parts):
        raise ValidationError(f"{ctx.name}: the file holds no features")
    columns = _map_columns(parts[0].fields, ctx.layer, ctx.mapping, source=ctx.name)
    report.columns = {columns.headers[i]: f for i, f in columns.fields.items()}
    report.ignored_columns = columns.ignored
    mapped = set(columns.fields.values())
    spec = get_layer(ctx.layer)
    if spec.geometry is None and mapped.isdisjoint(layer_fields(ctx.layer)):
        raise ValidationError(f"{ctx.name}: no column names a field of {ctx.layer}; columns: "
                              f"{', '.join(columns.headers)} (map them with --map column=field)")
    placement = _Placement(file_crs=parts[0].crs, option=ctx.option, source=ctx.name, report=report)
    table_geometry = _TableGeometry(mapped, crs=placement.crs if isinstance(ctx.option, CRS) else None,
                                    web=placement.web, layer=ctx.layer, source=ctx.name, report=report)
    done = 0
    offset = 0
    for part in parts:
        for numbers, frame in part.chunks(ctx.chunk_rows):
            rows = [int(n) + offset for n in numbers]
            raw = pd.DataFrame({f: frame[columns.headers[i]] for i, f in columns.fields.items()}, index=frame.index)
            geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame else None
            if (geoms is None or geoms.isna().all()) and table_geometry.kind is not None:
                geoms, why = table_geometry.build(raw)
                geoms = geoms.set_crs(placement.crs, allow_override=True) if placement.crs is not None else geoms
            else:
                why = pd.Series([None] * len(frame), index=frame.index, dtype=object)
            _write_chunk(ctx, raw, geoms, why, rows, placement)
            done += len(frame)
            report.read += len(frame)
            if ctx.progress:
                ctx.progress(done, total)
        offset += part.count or 0


# ------------------------------------------------------------------ tables


def _import_tables(ctx: _Context, path: Path, fmt: str, *, sheet: str | int | None, encoding: str | None) -> None:
    report = ctx.report
    codec = None
    if fmt == "csv":
        codec, detected = sources.text_encoding(path, encoding)
        report.encoding = sources.encoding_label(codec) + (" (detected)" if detected or encoding is None else "")
    elif encoding is not None:
        report.warn("--encoding is ignored for XLSX workbooks (they are always Unicode)")
    if fmt == "csv" and sheet is not None:
        report.warn("--sheet is ignored for a CSV file (it has one table)")
        sheet = None
    sheets = sources.pick_sheet(sources.sheets_of(path, kind=fmt, codec=codec), sheet, path)
    heads = {s.name: [cells for _, cells in islice(s.rows(), 40)] for s in sheets}
    layouts = {s.name: registry_forms.detect_layout(heads[s.name]) for s in sheets}
    found = {v for v in layouts.values() if v}
    if found:
        _import_forms(ctx, path, [s for s in sheets if layouts[s.name]], layouts)
        return
    if all(not any(not _is_blank(c) for row in heads[s.name] for c in row) for s in sheets):
        raise ValidationError(f"{ctx.name}: the file is empty (no rows)" if fmt == "csv" else
                              f"{ctx.name}: the workbook's sheets are empty")
    candidates = []
    for s in sheets:
        numbered = list(islice(s.rows(), 30))
        index = _find_header(numbered, ctx.layer, ctx.mapping)
        if index is not None:
            candidates.append((s, numbered[index][0]))
    if not candidates:
        where = f"sheet {sheets[0].name}" if fmt == "xlsx" and len(sheets) == 1 else (
            f"sheets {', '.join(s.name for s in sheets)}" if fmt == "xlsx" else "the first rows")
        spec = get_layer(ctx.layer)
        example = "、".join(list(dict.fromkeys(label(ctx.layer, f) for f in layer_fields(ctx.layer)
                                              if f not in spec.geometry_columns))[:6])
        raise ValidationError(f"{ctx.name}: no header row naming fields of {ctx.layer} in {where}; expected headers "
                              f"such as {example}, 经度, 纬度 (or map columns with --map column=field)")
    if len(candidates) > 1 and sheet is None:
        report.warn(f"the workbook has {len(candidates)} sheets with {ctx.layer} headers; read "
                    f"{candidates[0][0].name} (choose another with --sheet): " + ", ".join(c[0].name for c in candidates))
    chosen, header_number = candidates[0]
    if fmt == "xlsx":
        report.sheet = chosen.name
    _stream_table(ctx, chosen, header_number)


def _stream_table(ctx: _Context, sheet: sources.Sheet, header_number: int) -> None:
    report = ctx.report
    rows_iter = sheet.rows(fill_merged=sheet.kind == "xlsx")
    headers: list[Any] = []
    for number, cells in rows_iter:
        if number == header_number:
            headers = cells
            break
    columns = _map_columns(headers, ctx.layer, ctx.mapping, source=ctx.name)
    report.columns = {columns.headers[i]: f for i, f in columns.fields.items()}
    report.ignored_columns = columns.ignored
    mapped = set(columns.fields.values())
    spec = get_layer(ctx.layer)
    placement = _Placement(file_crs=None, option=ctx.option, source=ctx.name, report=report,
                           table_kind=("lonlat" if {"lon", "lat"} <= mapped else "xy" if {"x", "y"} <= mapped
                                       else "wkt" if "wkt" in mapped else None))
    geometry = _TableGeometry(mapped, crs=ctx.option if isinstance(ctx.option, CRS) else None,
                              web=placement.web, layer=ctx.layer, source=ctx.name, report=report)
    if geometry.kind is None and spec.geometry is not None:
        needs = not spec.table.c[spec.geometry].nullable
        if needs:
            raise ValidationError(
                f"{ctx.name} has no coordinate columns (经度 and 纬度, X and Y with --crs, or WKT) and the "
                f"{ctx.layer} layer needs a geometry for every row; columns: {', '.join(columns.headers)}")
        if spec.geometry_kind == "point":
            report.warn("no coordinate columns (经度/纬度): rows are written without positions; stored positions are kept")
    section_field = None
    if "township_name" not in mapped and any("township_name" in ref.fields or "township_code" in ref.fields
                                             for ref in _references(ctx.layer)):
        section_field = "township_name"
    positions = list(columns.fields)
    names = [columns.fields[p] for p in positions]
    section: str | None = None
    sections_used = 0
    batch_rows: list[int] = []
    batch_cells: list[list[Any]] = []
    batch_sections: list[str | None] = []
    done = 0

    def flush() -> None:
        nonlocal batch_rows, batch_cells, batch_sections, done
        if not batch_rows:
            return
        raw = pd.DataFrame(batch_cells, columns=names, dtype=object)
        if section_field is not None and any(batch_sections):
            raw[section_field] = batch_sections
        geoms, why = geometry.build(raw)
        if geoms is not None and placement.crs is not None and geoms.crs is None:
            geoms = geoms.set_crs(placement.crs)
        _write_chunk(ctx, raw, geoms, why, batch_rows, placement)
        done += len(batch_rows)
        report.read += len(batch_rows)
        if ctx.progress:
            ctx.progress(done, None)
        batch_rows, batch_cells, batch_sections = [], [], []

    for number, cells in rows_iter:
        filled = [c for c in cells if not _is_blank(c)]
        if not filled:
            continue
        first = str(filled[0]).strip()
        if re.sub(r"\s+", "", first) in _TOTAL_WORDS:
            continue
        if len(filled) == 1 and isinstance(filled[0], str):
            if any(first.startswith(w) for w in _NOTE_WORDS):
                continue
            if _TOWNSHIP_SECTION.match(first) and len(columns.headers) > 1:
                section = first
                sections_used += 1
                continue
        batch_rows.append(number)
        batch_cells.append([cells[p] if p < len(cells) else None for p in positions])
        batch_sections.append(section)
        if len(batch_rows) >= ctx.chunk_rows:
            flush()
    flush()
    if sections_used and section_field:
        report.warn(f"{sections_used} section row(s) naming a township (乡镇) were read as the 乡镇 of the rows below them")


def _references(layer: str):
    from geo.io.fields import REFERENCES

    return REFERENCES.get(layer, ())


def _write_chunk(ctx: _Context, raw: pd.DataFrame, geoms: gpd.GeoSeries | None, why: pd.Series,
                 rows: Sequence[int], placement: _Placement) -> None:
    """Coordinates of one chunk to WGS 84, then check and write it."""
    frame = raw.drop(columns=[c for c in COORDINATE_FIELDS if c in raw.columns]).reset_index(drop=True)
    why = why.reset_index(drop=True)
    spec = get_layer(ctx.layer)
    if ctx.year is not None and "year" in spec.table.c and "year" not in frame.columns:
        frame["year"] = ctx.year  # --year fills the year of a table that has no 年度 column
    if geoms is not None and spec.geometry is not None:
        geoms = geoms.reset_index(drop=True)
        placed, outside = placement.place(geoms, rows)
        frame["geometry"] = placed
        why = combine([why, outside], frame.index)
    elif geoms is not None and geoms.notna().any() and spec.geometry is None:
        ctx.report.warn(f"the {ctx.layer} layer has no geometry; the file's geometries were ignored")
    bad = why.notna().to_numpy()
    for i in np.flatnonzero(bad):
        ctx.report.refuse(rows[i], why.iat[i], layer=ctx.layer)
    keep = ~bad
    if keep.any():
        ctx.writer.write(ctx.layer, frame.loc[keep], [rows[i] for i in np.flatnonzero(keep)])


# ------------------------------------------------------------------ seed-000 forms


def _import_forms(ctx: _Context, path: Path, sheets: list[sources.Sheet], layouts: dict[str, str | None]) -> None:
    report = ctx.report
    kinds = {layouts[s.name] for s in sheets}
    layout = sorted(kinds)[0]
    expected = registry_forms.LAYOUT_LAYER[layout]
    if expected != ctx.layer:
        extra = " (it also writes townships, villages, units and work teams)" if layout == "pairing_table" else ""
        raise ValidationError(f"{ctx.name} is a {registry_forms.LAYOUT_LABEL[layout]}; import it with --layer "
                              f"{expected}{extra}")
    report.layout = ", ".join(registry_forms.LAYOUT_LABEL[k] for k in sorted(kinds))
    for s in sheets:
        kind = layouts[s.name]
        rows = [cells for _, cells in s.rows()]
        if kind == "pairing_table":
            _import_pairing_table(ctx, rows, s)
        elif kind == "unit_input_form":
            form = registry_forms.unit_input_forms([(s.name, rows)], source=ctx.name, year=ctx.year)
            _write_form(ctx, form)
        elif kind == "funds_table":
            form = registry_forms.parse_funds_table(rows, source=f"{ctx.name}" + (f" sheet {s.name}" if s.kind == "xlsx" else ""),
                                                    year=ctx.year, merged=s.merged)
            _write_form(ctx, form)
        elif kind == "cadre_table":
            form = registry_forms.parse_cadre_table(rows, source=f"{ctx.name}" + (f" sheet {s.name}" if s.kind == "xlsx" else ""),
                                                    year=ctx.year, merged=s.merged)
            _write_form(ctx, form)
        if ctx.progress:
            ctx.progress(report.read, None)


def _write_form(ctx: _Context, form: registry_forms.FormFrame) -> None:
    report = ctx.report
    for note in form.notes:
        report.warn(note)
    for row, sheet, reason in form.refused:
        report.refuse(row, reason, layer=form.layer, sheet=sheet)
    report.read += len(form.frame) + len(form.refused)
    if len(form.frame):
        ctx.writer.write(form.layer, form.frame, form.rows, form.sheets)


def _import_pairing_table(ctx: _Context, rows: list[list[Any]], sheet: sources.Sheet) -> None:
    """附件1: townships, villages, units, pairings and work teams, in that order."""
    frames = registry_forms.pairing_table_frames(rows, source=ctx.name, year=ctx.year)
    writer = ctx.writer
    report = ctx.report
    report.read += len(frames.pairings)
    writer.write("townships", frames.townships, frames.rows["townships"])
    writer.write("villages", frames.villages, frames.rows["villages"])
    known = set(writer.resolver.units()["name"])
    units = frames.units
    is_new = ~units["name"].isin(known)
    unit_rows = np.array(frames.rows["units"], dtype=object)
    if is_new.any():
        writer.write("units", units.loc[is_new], list(unit_rows[is_new.to_numpy()]))
    if (~is_new).any():  # units already registered keep the kind and level someone gave them
        writer.write("units", units.loc[~is_new, ["name"]], list(unit_rows[(~is_new).to_numpy()]))
    writer.write("pairings", frames.pairings, frames.rows["pairings"])
    if len(frames.work_teams):
        writer.write("work_teams", frames.work_teams, frames.rows["work_teams"])
