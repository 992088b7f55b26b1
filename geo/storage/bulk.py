"""An exclusive bulk load (``atlas import --exclusive``): a layer's table taken for the import,
its per-row upkeep set aside while the rows go in, and restored before the commit.

PostgreSQL's own advice for populating a table ("Populating a Database"; what ``pg_restore``
does) is to load first and build the indexes and foreign keys afterwards: one index build and
one validating join cost far less than their upkeep row by row. On PostGIS,
:func:`set_aside_upkeep`, on the import's connection and inside its transaction:

1. ``SET LOCAL lock_timeout`` and ``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`` on the table and
   on the tables its foreign keys refer to (dropping a foreign key takes those too): readers
   and writers of them wait until the import ends; if another transaction holds one of them
   past the timeout, :class:`~geo.errors.DatabaseBusy` and nothing was written;
2. remembers, then drops, the table's non-unique indexes (the GiST index of its geometry and
   the plain btree indexes) and its FOREIGN KEY constraints, by their exact definitions
   (``pg_get_indexdef``, ``pg_get_constraintdef``). The primary key, unique indexes and
   constraints and CHECK constraints stay: the per-chunk key match and the uniqueness rules
   need them.

:meth:`SetAside.restore` recreates the indexes and adds the constraints again (validated:
a row that breaks one fails the import). Everything is DDL
inside the import's transaction: a rollback, for whatever reason, restores the indexes and
constraints with the rows as they were.

SpatiaLite has one writer at a time and its staging write already does the R*Tree and
geometry-check triggers' work once per chunk (:mod:`geo.storage.staging`): there is nothing
to set aside, and :func:`set_aside_upkeep` returns None without taking anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from geo.db import backend_name
from geo.errors import DatabaseBusy
from geo.layers import get_layer
from geo.storage.types import _quote

#: How long the import asks for its tables before giving up [s].
LOCK_TIMEOUT_S = 5


@dataclass
class SetAside:
    """What :func:`set_aside_upkeep` dropped from a table, as the SQL that recreates it."""

    table: str
    indexes: list[tuple[str, str]] = field(default_factory=list)  # name, CREATE INDEX ...
    constraints: list[tuple[str, str]] = field(default_factory=list)  # name, FOREIGN KEY ...

    def restore(self, conn: Connection) -> None:
        """Recreate the indexes and add the foreign keys again (each validated by one join
        against the table it refers to).

        No ``ANALYZE``: it took 0.19-0.26 s of a 2.4 s import of 100,000 households, and the
        statistics are left to autovacuum as after a normal import (it analyzes a table once
        10 % of it has changed).

        Raises
        ------
        sqlalchemy.exc.IntegrityError
            A stored row breaks a foreign key; the caller's transaction must roll back.
        """
        for _, definition in self.indexes:
            conn.exec_driver_sql(definition)
        if self.constraints:
            added = ", ".join(f"ADD CONSTRAINT {_quote(name)} {definition}" for name, definition in self.constraints)
            conn.exec_driver_sql(f"ALTER TABLE {_quote(self.table)} {added}")


def set_aside_upkeep(conn: Connection, layer: str, *, lock_timeout_s: int | None = None) -> SetAside | None:
    """Take the layer's table for the rest of the transaction and drop its per-row upkeep
    (see the module docstring); None on SpatiaLite, where nothing is done.

    Parameters
    ----------
    conn
        The import's connection, inside its transaction (the lock and the drops end with it).
    layer
        The layer whose table is loaded.
    lock_timeout_s
        How long to wait for the tables [s]; default :data:`LOCK_TIMEOUT_S`.

    Returns
    -------
    SetAside or None
        What to :meth:`~SetAside.restore` before the commit.

    Raises
    ------
    DatabaseBusy
        Another transaction holds the table (or one it refers to) past ``lock_timeout_s``;
        nothing was written, and the caller's transaction must roll back.
    """
    if backend_name(conn) != "postgis":
        return None
    table = get_layer(layer).table.name
    # names as regclass prints them: quoted where needed, qualified where not on the search path
    referred = [name for (name,) in conn.exec_driver_sql(
        "SELECT DISTINCT c.confrelid::regclass::text FROM pg_constraint c "
        "WHERE c.conrelid = %(table)s::regclass AND c.contype = 'f' AND c.confrelid <> c.conrelid ORDER BY 1",
        {"table": table})]
    _lock(conn, [_quote(table), *referred], seconds=LOCK_TIMEOUT_S if lock_timeout_s is None else lock_timeout_s)
    aside = SetAside(table)
    aside.indexes = [(name, definition) for name, definition in conn.exec_driver_sql(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %(table)s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1",
        {"table": table})]
    aside.constraints = [(name, definition) for name, definition in conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %(table)s::regclass AND contype = 'f' ORDER BY conname", {"table": table})]
    for name, _ in aside.indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    if aside.constraints:
        dropped = ", ".join(f"DROP CONSTRAINT {_quote(name)}" for name, _ in aside.constraints)
        conn.exec_driver_sql(f"ALTER TABLE {_quote(table)} {dropped}")
    return aside


def _lock(conn: Connection, tables: list[str], *, seconds: int) -> None:
    """``ACCESS EXCLUSIVE`` locks on ``tables`` (quoted names), waiting at most ``seconds``."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(seconds)}s'")
    try:
        conn.exec_driver_sql(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
    except DatabaseBusy:
        names = [t.strip('"') for t in tables]
        raise DatabaseBusy(
            f"表 {'、'.join(names)} 正被其他读写占用，独占导入无法开始；什么也没有写入。请稍后再试，或去掉 --exclusive 导入"
            f" (the table {names[0]}{' or one it refers to' if len(tables) > 1 else ''} is in use by other readers or "
            f"writers: the exclusive import could not take it within {int(seconds)} s; nothing was written. Run it "
            "again later, or without --exclusive)", retry_after_s=max(int(seconds), 1)) from None
    conn.exec_driver_sql("SET LOCAL lock_timeout TO DEFAULT")  # the rest of the import waits as any other


