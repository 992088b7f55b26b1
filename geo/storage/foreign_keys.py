"""A bulk insert's foreign keys checked once for all its rows instead of row by row (PostGIS).

PostgreSQL checks a foreign key by a trigger per inserted row (``RI_FKey_check_ins``: a
lookup of the referenced row, locked ``FOR KEY SHARE``). For 100,000 households (three keys:
village, settlement, cadre) those triggers cost a third of the database's work in a bulk
``COPY`` (1.5 → 1.0 s of CPU). :func:`checked_in_bulk` says where the one ``COPY`` of a
staged write (:mod:`geo.storage.staging`) may run without them and :func:`missing` then does
their work once per key for all the new rows, from the values the rows were written with
(the writer has them; the new rows are not read back):

- the distinct values a key's columns hold in the new rows (NULL refers to nothing: MATCH
  SIMPLE) are sent as arrays, and the rows they refer to read and locked ``FOR KEY SHARE``
  in one statement, as the triggers lock them one by one: until the commit, no other
  transaction deletes one or changes its key (it waits), and one deleted before the check
  is seen as missing; a key no new row fills (households' settlement and cadre, often)
  costs no statement;
- a value that no referenced row holds refuses the write (its reason in PostgreSQL's
  words, the first such row's value), and the caller's transaction rolls back: nothing is
  written.

The triggers are turned off by ``SET LOCAL session_replication_role = replica`` around the
one statement, which only a superuser or (PostgreSQL 15+) a role granted ``SET`` on that
parameter may do; it turns off every ordinary trigger and rule of the statement, so the
table must have no insert trigger but its foreign keys' checks and no rule. Anything else
(another role, a deferrable key or one of ``MATCH FULL``, a trigger of the table's own)
keeps the row-by-row triggers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from geo.storage.types import _quote

#: pg_trigger.tgtype's bit of a trigger that fires on INSERT.
_ON_INSERT = 1 << 2


@dataclass(frozen=True)
class ForeignKey:
    """One foreign key of a table (names as in the catalog, unquoted)."""

    name: str
    table: str
    columns: tuple[str, ...]
    referred: str
    referred_columns: tuple[str, ...]
    referred_types: tuple[str, ...]  # SQL types of the referred columns (format_type)


def checked_in_bulk(conn: Connection, table: str) -> list[ForeignKey] | None:
    """The foreign keys of ``table`` (a table on the search path) where this connection may
    insert without their per-row triggers and check them with :func:`missing` (an empty
    list: none to check); None where the triggers must run (see the module docstring)."""
    allowed = conn.exec_driver_sql("SELECT current_setting('is_superuser') = 'on'").scalar()
    if not allowed and int(conn.exec_driver_sql("SHOW server_version_num").scalar()) >= 150000:
        allowed = conn.exec_driver_sql(
            "SELECT has_parameter_privilege('session_replication_role', 'SET')").scalar()
    if not allowed:
        return None
    others = conn.exec_driver_sql(
        "SELECT c.relhasrules OR EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid "
        f"AND t.tgtype & {_ON_INSERT} <> 0 AND t.tgenabled = 'O' AND NOT (t.tgfoid = '\"RI_FKey_check_ins\"'::regproc "
        "AND t.tgconstraint IN (SELECT k.oid FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f'))) "
        "FROM pg_class c WHERE c.oid = %(table)s::regclass", {"table": _quote(table)}).scalar()
    if others:
        return None
    rows = conn.exec_driver_sql(
        "SELECT k.conname, r.relname, k.condeferrable OR k.confmatchtype = 'f' "
        "OR r.relnamespace <> (SELECT relnamespace FROM pg_class WHERE oid = k.conrelid), "
        "array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) "
        "      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i), "
        "array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i) "
        "      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i), "
        "array(SELECT format_type(a.atttypid, a.atttypmod) FROM unnest(k.confkey) WITH ORDINALITY u(n, i) "
        "      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) "
        "FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid "
        "WHERE k.conrelid = %(table)s::regclass AND k.contype = 'f' "
        "ORDER BY k.conname", {"table": _quote(table)}).all()
    if any(special for _, _, special, _, _, _ in rows):
        return None  # a key of MATCH FULL, deferrable, or referring to another schema's table
    return [ForeignKey(name, table, tuple(columns), referred, tuple(referred_columns), tuple(types))
            for name, referred, _, columns, referred_columns, types in rows]


def without_triggers(conn: Connection, off: bool) -> None:
    """Turn the ordinary triggers off (``off``) or on again, until the transaction ends;
    only where :func:`checked_in_bulk` gave a list. After an error in between, the rollback
    (or one to a savepoint) turns them on again."""
    conn.exec_driver_sql(f"SET LOCAL session_replication_role = {'replica' if off else 'origin'}")


def missing(conn: Connection, keys: list[ForeignKey], values: dict[str, np.ndarray]) -> str | None:
    """Check and lock, per key, the rows that the new rows refer to; ``values``: each key
    column's values in the new rows, in their order (None or NaN for NULL), as written. The
    reason a row is refused, in PostgreSQL's words, or None. After a reason the caller's
    transaction must roll back."""
    for key in keys:
        columns = [np.asarray(values[c], dtype=object) for c in key.columns]
        filled = np.logical_and.reduce([pd.notna(c) for c in columns])  # MATCH SIMPLE: a NULL refers to nothing
        rows = list(zip(*([v.item() if isinstance(v, np.generic) else v for v in c[filled].tolist()]
                          for c in columns)))
        wanted = list(dict.fromkeys(rows))  # distinct, in the rows' order
        if not wanted:
            continue
        referred = [_quote(c) for c in key.referred_columns]
        arrays = ", ".join(f"%(v{i})s::{kind}[]" for i, kind in enumerate(key.referred_types))
        found = conn.exec_driver_sql(
            f"SELECT {', '.join(f'r.{c}' for c in referred)} FROM {_quote(key.referred)} r "
            f"WHERE ({', '.join(f'r.{c}' for c in referred)}) IN (SELECT * FROM unnest({arrays})) "
            "FOR KEY SHARE OF r", {f"v{i}": list(part) for i, part in enumerate(zip(*wanted))}).all()
        present = {tuple(row) for row in found}
        absent = next((row for row in wanted if row not in present), None)
        if absent is not None:
            return (f'insert or update on table "{key.table}" violates foreign key constraint "{key.name}": '
                    f'Key ({", ".join(key.columns)})=({", ".join(map(str, absent))}) is not present in table '
                    f'"{key.referred}"')
    return None
