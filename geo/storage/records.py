"""Single records: create, read, update and delete one row with optimistic concurrency and
an audit entry in the same transaction.

Every versioned write of the application (registry rows, inspection findings, user accounts)
goes through :func:`versioned_update`: one ``UPDATE ... WHERE id = :id AND version = :v``
whose row count decides between success, :class:`~geo.errors.StaleVersion` and
:class:`~geo.errors.NotFound`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from geo import models
from geo.audit import snapshot
from geo.db import Bind, connect, require_schema
from geo.errors import Conflict, NotFound, OutOfScope, StaleVersion, ValidationError
from geo.layers import COUNT_ORDER, LayerSpec, count_order_problems, get_layer
from geo.storage.audit import record as audit_record
from geo.storage import areas
from geo.storage.query import Query, _filtered, read_layer, resolve_townships
from geo.storage.state import _note_write
from geo.storage.types import MANAGED, _geometry_bind, _integrity_reason, _same
from geo.storage.write import (
    WriteResult,
    _apply,
    _frame_records,
    _key_of,
    _required,
    _stored_values,
)

# --------------------------------------------------------------------------------------
# The one optimistic-version write
# --------------------------------------------------------------------------------------


def lock_row(conn: Connection, table: sa.Table, row_id: int) -> int | None:
    """Hold the row until the transaction ends and return its version (None: no such row).

    PostGIS: ``SELECT ... FOR UPDATE``, so that what the transaction reads next (the stored
    values a change is compared with) cannot be changed by another writer before it writes.
    SpatiaLite renders no ``FOR UPDATE``: a write transaction (``connect(write=True)``)
    already holds the database's write lock.
    """
    found = conn.execute(
        sa.select(table.c.version).where(table.c.id == int(row_id)).with_for_update()
    ).first()
    return None if found is None else int(found[0])


def stale(what: str, current: int, version: int) -> StaleVersion:
    """The error for a write that named ``version`` of a row now at ``current``."""
    return StaleVersion(
        f"{what} is at version {current}, not {version}: someone changed it since you read it. "
        "Read it again, reapply your change and send the new version",
        current_version=int(current),
    )


def versioned_update(
    conn: Connection,
    table: sa.Table,
    row_id: int,
    version: int | None,
    values: Mapping[str, Any],
    *,
    what: str | None = None,
) -> None:
    """Change one row if it is still at ``version``, and increment its version.

    One statement, ``UPDATE table SET ..., version = version + 1 WHERE id = :id AND version
    = :version``: two writers racing with the same version cannot both succeed, on either
    backend, whatever they read before.

    Parameters
    ----------
    conn
        The caller's connection (the write joins its transaction).
    table
        A table with ``id`` and ``version`` columns.
    row_id
        The row.
    version
        The version the caller read; None skips the check (the system's own changes, the
        command line's administration), the version is still incremented.
    values
        Column values or SQL expressions (a geometry from WKB) to set.
    what
        How messages name the row (default ``"<table> <id>"``).

    Raises
    ------
    StaleVersion
        The row is at another version (its current one is in the error).
    NotFound
        There is no such row.
    IntegrityError
        The database refused the values (the caller turns it into a message).
    """
    what = what or f"{table.name} {row_id}"
    statement = table.update().where(table.c.id == int(row_id))
    if version is not None:
        statement = statement.where(table.c.version == int(version))
    result = conn.execute(statement.values({**values, "version": table.c.version + 1}))
    if result.rowcount == 1:
        return
    current = conn.execute(sa.select(table.c.version).where(table.c.id == int(row_id))).scalar()
    if current is None:
        raise NotFound(f"there is no {what}")
    raise stale(what, int(current), int(version if version is not None else -1))



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
    return snapshot(values, redact=spec.pii_columns)


def _one_record(spec: LayerSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and convert one row's values as :func:`write_layer` does for a frame."""
    if not values:
        return {}
    _, records = _frame_records(spec, pd.DataFrame([dict(values)], dtype=object))
    return records[0]


def _check_count_order(spec: LayerSpec, values: Mapping[str, Any]) -> None:
    problems = count_order_problems(dict(values))
    if problems:
        raise ValidationError("; ".join(
            f"{spec.name}: {small} {values[small]} is more than {large} {values[large]}; "
            f"{small} cannot exceed {large}" for small, large in problems))


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
    spec = get_layer(layer)
    if "id" in values:
        raise ValidationError(f"{layer}: the id is assigned by the database; leave it out")
    record = _one_record(spec, values)
    record.setdefault("source", source)
    missing = [c for c in _required(spec) if record.get(c) is None]
    if missing:
        raise ValidationError(f"{layer}: required field(s) {', '.join(missing)} missing or empty")
    _check_count_order(spec, record)
    with connect(bind, write=True) as conn:
        _note_write(conn)
        require_schema(conn)
        areas.prepare(conn, spec, list(record), [record])
        areas.check(conn, spec, [record], [None])
        for key in spec.natural_keys:
            value = _key_of(record, key, spec)
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
        raise stale(f"{spec.name} {row['id']}", current, int(version))


def _locked_at_version(conn: Connection, spec: LayerSpec, row_id: int, version: int | None, *,
                       township) -> dict[str, Any]:
    """The stored row (personal fields included), locked until the commit and checked to be at
    ``version``. Held from here to the commit, the version check, any comparison with the
    stored values and the write all see the same row (without the lock, a change committed by
    another writer between them made a change look like a no-op: a lost update)."""
    require_schema(conn)
    lock_row(conn, spec.table, int(row_id))
    before = read_record(conn, spec.name, row_id, township=township, include_pii=True)
    _check_version(spec, before, version)
    return before


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
    spec = get_layer(layer)
    bad = sorted(set(changes) & (MANAGED | {"id"}))
    if bad:
        raise ValidationError(f"{layer}: {', '.join(bad)} cannot be changed; leave it out")
    record = _one_record(spec, changes)
    with connect(bind, write=True) as conn:
        _note_write(conn)
        before = _locked_at_version(conn, spec, row_id, version, township=township)
        own = _own_fields(spec, before)
        stored = _stored_values(conn, spec, [int(row_id)], sorted(record))[int(row_id)] if record else {}
        changed = {n: v for n, v in record.items() if not _same(stored.get(n), v)}
        if not changed:
            return _public(spec, before)
        areas.check(conn, spec, [changed], [int(row_id)])
        _check_count_order(spec, {**{n: before.get(n) for pair in COUNT_ORDER for n in pair}, **record})
        geometry_columns = set(spec.geometry_columns)
        values = {n: (_geometry_bind(conn, f"p_{n}", v) if n in geometry_columns and v is not None
                      else v) for n, v in changed.items()}
        try:
            versioned_update(conn, spec.table, int(row_id), int(version), values,
                             what=f"{layer} {row_id}")
        except IntegrityError as exc:
            raise Conflict(f"the database refused the change to {layer} {row_id}: "
                           f"{_integrity_reason(exc)}") from None
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
    spec = get_layer(layer)
    with connect(bind, write=True) as conn:
        _note_write(conn)
        before = _locked_at_version(conn, spec, row_id, version, township=township)
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
        if result.rowcount != 1:  # not reached while the row is locked; kept as a guard
            current = lock_row(conn, table, int(row_id))
            if current is None:
                raise NotFound(f"there is no {layer} row with id {row_id}")
            raise stale(f"{layer} {row_id}", current, int(version))
        audit_record(conn, actor=actor, action="delete", layer=layer, row_id=int(row_id),
                     before=_audit_values(spec, _own_fields(spec, before)))


