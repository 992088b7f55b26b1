"""Writing the registry in bulk: frames upserted by id or natural key in one transaction,
rows deleted by id, link tables read and written.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from geo import models
from geo.db import Bind, connect, require_schema, transaction
from geo.errors import Conflict, NotFound, ValidationError
from geo.layers import LINKS, LayerSpec, get_layer
from geo.storage import areas
from geo.storage.state import _note_write
from geo.storage.types import (
    ACCEPTED_CRS,
    MANAGED,
    _backend,
    _converter,
    _geometry_bind,
    _integrity_reason,
    _same,
    frame_of,
    result_frame,
)

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


def _key_of(record: Mapping[str, Any], key: Sequence[str], spec: LayerSpec | None = None) -> tuple | None:
    """The record's value of a natural key, or None when it has none. A nullable scope column
    (a township's ``county_id``) may be empty: the key is then the name among the rows
    without a scope (a registry of one county that never named it)."""
    values = tuple(record.get(k) for k in key)
    if values[-1] is None:
        return None
    for name, value in zip(key[:-1], values[:-1]):
        if value is None and (spec is None or not spec.table.c[name].nullable):
            return None
    return values


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
        scoped = [v for v in wanted if all(x is not None for x in v)]
        unscoped = [v for v in wanted if any(x is None for x in v)]
        for start in range(0, len(scoped), 500):
            chunk = scoped[start:start + 500]
            if len(columns) == 1:
                clause = columns[0].in_([v[0] for v in chunk])
            else:
                clause = sa.tuple_(*columns).in_(chunk)
            rows.extend(conn.execute(select.where(clause)).all())
        for value in unscoped:  # a nullable scope left empty: matched by IS NULL
            clause = sa.and_(*[(c.is_(None) if v is None else c == v) for c, v in zip(columns, value)])
            rows.extend(conn.execute(select.where(clause)).all())
    return {tuple(r[1:]): r[0] for r in rows if r[-1] is not None}


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
    if spec.name == "areas":
        levels = areas.frame_levels(frame)
        if levels is not None:
            return _write_by_level(bind, frame, levels, source=source)
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
    with connect(bind, write=True) as conn:
        require_schema(conn)
        areas.prepare(conn, spec, columns, records)
        targets = _match_rows(conn, spec, records)
        areas.check(conn, spec, records, targets)
        try:
            _apply(conn, spec, records, targets, result)
        except IntegrityError as exc:
            raise Conflict(f"the database refused the {spec.name} rows: {_integrity_reason(exc)}") from None
    return result


def _write_by_level(bind: Bind, frame: pd.DataFrame, levels: pd.Series, *, source: str | None) -> WriteResult:
    """Areas of several levels in one frame: provinces first, then prefectures, then counties,
    so that each finds its parent by its code (one transaction)."""
    result = WriteResult(layer="areas", ids=[0] * len(frame))
    with transaction(bind, write=True) as (conn, tx):
        for level in ("province", "prefecture", "county"):
            mask = (levels == level).to_numpy()
            if not mask.any():
                continue
            positions = np.flatnonzero(mask)
            try:
                part = write_layer(conn, "areas", frame[mask], source=source)
            except ValidationError as exc:  # row numbers of the part -> of the frame
                raise ValidationError(re.sub(r"areas row (\d+)", lambda m: f"areas row {positions[int(m[1]) - 1] + 1}",
                                             str(exc))) from None
            result.inserted += part.inserted
            result.updated += part.updated
            result.unchanged += part.unchanged
            for position, new_id in zip(positions, part.ids):
                result.ids[position] = new_id
        tx.commit()
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
            value = _key_of(record, key, spec)
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
    _note_write(conn)
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
            new_ids = _copy_rows(conn, spec, names, [r for _, r in inserts])
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


def _ewkb_hex(wkb: bytes | None) -> str | None:
    """PostGIS's text input of a geometry: WKB with the SRID (EWKB) as hexadecimal."""
    if wkb is None:
        return None
    order = "<" if wkb[0] == 1 else ">"
    (kind,) = struct.unpack(order + "I", wkb[1:5])
    return (wkb[:1] + struct.pack(order + "I", kind | 0x20000000) + struct.pack(order + "I", models.SRID)
            + wkb[5:]).hex()


def _copy_rows(conn: Connection, spec: LayerSpec, names: list[str], records: list[dict[str, Any]]) -> list[int]:
    """Insert rows on PostGIS with ``COPY ... FROM STDIN`` (psycopg 3's ``cursor.copy``), ids
    drawn from the table's sequence first (one statement), so each row's id is known without
    ``RETURNING`` and the rows stream in one command instead of one ``INSERT`` each. The
    table's rules (unique keys, references, checks) apply as to an ``INSERT``; a refused row
    fails the whole COPY, inside the caller's transaction."""
    table = spec.table
    new_ids = list(conn.execute(
        sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id")))
        .select_from(sa.func.generate_series(1, len(records)))).scalars())
    geometry = set(spec.geometry_columns)
    # each value as SQLAlchemy would bind it (an enum member as its stored text ...)
    processors = [_ewkb_hex if n in geometry else table.c[n].type._cached_bind_processor(conn.dialect)
                  for n in names]
    columns = ", ".join(f'"{n}"' for n in ["id", *names])
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for new_id, record in zip(new_ids, records):
                row = [new_id]
                for name, process in zip(names, processors):
                    value = record.get(name)
                    row.append(process(value) if process is not None and value is not None else value)
                copy.write_row(row)
    except Exception as exc:  # psycopg's own errors: as SQLAlchemy would raise them
        raise _as_sqlalchemy_error(conn, exc) from None
    finally:
        cursor.close()
    return [int(i) for i in new_ids]


def _as_sqlalchemy_error(conn: Connection, exc: Exception) -> Exception:
    import psycopg

    if isinstance(exc, psycopg.errors.IntegrityError):
        return IntegrityError("COPY", None, exc)
    if isinstance(exc, psycopg.Error):
        return sa.exc.DBAPIError.instance("COPY", None, exc, psycopg.Error, hide_parameters=True)
    return exc


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
    with connect(bind, write=True) as conn:
        _note_write(conn)
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
            values = {v for r in records if (v := _key_of(r, key, spec)) is not None}
            found = _existing(conn, spec, key, values)
            for position, record in enumerate(records):
                if targets[position] is None:
                    value = _key_of(record, key, spec)
                    if value is not None and value in found:
                        targets[position] = found[value]
    return targets

# --------------------------------------------------------------------------------------
# Link tables
# --------------------------------------------------------------------------------------


def _link(name: str) -> sa.Table:
    try:
        return LINKS[name]
    except KeyError:
        raise NotFound(f"unknown link table {name!r}; link tables are: {', '.join(LINKS)}") from None


def read_links(bind: Bind, name: str, *, owners: Collection[int] | None = None) -> pd.DataFrame:
    """The rows of a many-to-many link table (e.g. ``pv_project_households``): all of them,
    or with ``owners`` only those whose first key column (the project, the facility) is one
    of these ids (a county's: a read that does not grow with the registry)."""
    table = _link(name)
    columns = [c.name for c in table.columns]
    with connect(bind) as conn:
        require_schema(conn)
        if owners is None:
            result = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            return result_frame(result)
        owner = table.primary_key.columns[0]
        wanted = sorted({int(i) for i in owners})
        rows = []
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start:start + 5000]
            rows += conn.execute(sa.select(table).where(owner.in_(chunk)).order_by(*table.primary_key.columns)).all()
        return frame_of(rows, columns)


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
    with connect(bind, write=True) as conn:
        _note_write(conn)
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


