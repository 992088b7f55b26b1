"""Bulk upserts through a staging table, for imports of many rows.

:func:`stage_rows` matches every row of a frame to the stored row it updates by the layer's
natural keys, and loads the rows into a temporary table in one stream (``COPY ... FROM
STDIN`` on PostGIS, multi-row ``INSERT`` statements on SpatiaLite); :meth:`StagedRows.write`
then writes the rows the caller keeps: on PostGIS one ``UPDATE ... FROM`` of the matched rows
where a value differs and one plain ``INSERT ... SELECT ... RETURNING id`` of the new ones;
on SpatiaLite one ``INSERT ... SELECT ... ON CONFLICT (id) DO UPDATE ... WHERE <a value
differs> RETURNING id``.

On PostGIS the match comes first: one query per natural key sends the keys' values (as one
text the server splits) and joins them to the table. Where no row matches (a first load, the bulk case),
there is no temporary table at all: the write draws the new ids from the table's sequence and
copies the rows straight into the table, written once instead of twice. Where the role may,
that ``COPY`` runs without the per-row foreign-key triggers, and the keys are checked once for
the chunk (:mod:`geo.storage.foreign_keys`).

The result is that of :func:`geo.storage.write_layer` (which stays the general writer):
the same ids, the same counts of inserted, updated and unchanged rows, ``version`` + 1 and a
new ``updated_at`` on changed rows only, a row's ``source`` kept where the frame gives none.
Values are converted by the same converters as :func:`~geo.storage.write_layer`, once per
distinct value of a column instead of once per cell.

SpatiaLite runs three triggers per inserted row and geometry column (the geometry-type
check, the ``geometry_columns_time`` stamp and the R*Tree insert); they take most of the
time of a bulk insert. The write drops them for its one statement and does their work once
for all the rows (one check, one stamp, one R*Tree insert), then recreates them from their
stored SQL, inside the same transaction: a rollback restores them, and no other connection
writes meanwhile (SQLite has one writer at a time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from geo import models
from geo.db import backend_name
from geo.errors import Conflict, ValidationError
from geo.layers import GEOMETRY_TYPE_NAMES, LayerSpec, get_layer
from geo.storage import foreign_keys
from geo.storage.state import _note_write
from geo.storage.types import MANAGED, _converter, _geometry_wkb, _integrity_reason, _quote
from geo.storage.write import WriteResult, _as_sqlalchemy_error

#: Layers whose writes run hierarchy rules over Python records (codes, levels, parents):
#: they go through :func:`geo.storage.write_layer`.
NOT_STAGED = frozenset({"areas", "townships", "villages"})

#: Bound values per multi-row INSERT on SQLite (it allows 32,766).
_SQLITE_VALUES = 30_000

_MULTI = {"MULTIPOLYGON": "Polygon", "MULTILINESTRING": "LineString", "MULTIPOINT": "Point"}


def can_stage(layer: str, frame: pd.DataFrame) -> bool:
    """Whether :func:`stage_rows` takes this frame (else use :func:`geo.storage.write_layer`):
    not the hierarchy layers, no ``id`` column, only the layer's own fields."""
    spec = get_layer(layer)
    if spec.name in NOT_STAGED or "id" in frame.columns:
        return False
    return all(c in spec.table.c or c == "geometry" for c in frame.columns)


@dataclass
class StagedRows:
    """A frame in a temporary table, matched to the stored rows.

    ``targets`` holds, in the frame's row order, the id of the stored row each row updates,
    or 0 where it would be inserted.
    """

    conn: Connection
    spec: LayerSpec
    table: str | None  # None where every row is new (PostGIS): no temporary table
    columns: list[str]
    targets: np.ndarray
    closed: bool = field(default=False)
    lines: list[str] | None = None  # the rows' COPY text where there is no temporary table
    references: dict[str, np.ndarray] | None = None  # and the values of the columns foreign keys hold

    # ------------------------------------------------------------------ writing

    def write(self, keep: np.ndarray | None = None) -> WriteResult:
        """Upsert the staged rows where ``keep`` (all when None); ids in the frame's order
        (0 for rows not kept). The temporary table is dropped afterwards.

        Raises
        ------
        Conflict
            The database refused the rows (a unique or foreign key rule).
        """
        keep = np.ones(len(self.targets), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
        result = WriteResult(layer=self.spec.name, ids=[0] * len(self.targets))
        conn = self.conn
        try:
            dropped = np.flatnonzero(~keep) if self.table is not None else []
            for start in range(0, len(dropped), 10_000):
                part = ", ".join(str(int(p)) for p in dropped[start:start + 10_000])
                conn.exec_driver_sql(f"DELETE FROM {self.table} WHERE pos IN ({part})")
            kept = np.flatnonzero(keep)
            if not len(kept):
                self.close()
                return result
            _note_write(conn)
            targets = self.targets[kept]
            new = kept[targets == 0]
            matched = {int(t) for t in targets[targets != 0]}
            try:
                fresh = self._upsert(new, matched)
            except IntegrityError as exc:
                raise Conflict(f"the database refused the {self.spec.name} rows: {_integrity_reason(exc)}") from None
            ids = np.zeros(len(self.targets), dtype=np.int64)
            ids[kept] = targets
            ids[new] = fresh
            result.inserted = len(new)
            result.updated = self._updated
            result.unchanged = len(kept) - len(new) - result.updated
            result.ids = [int(i) for i in ids]
        except BaseException:
            # PostgreSQL refuses every statement after an error until the rollback, which
            # drops the temporary table anyway; SQLite goes on, so drop it there
            if backend_name(conn) == "spatialite":
                self.close()
            self.closed = True
            raise
        self.close()
        return result

    def close(self) -> None:
        """Drop the temporary table (done by :meth:`write`)."""
        if not self.closed:
            self.closed = True
            if self.table is not None:
                self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")

    _updated: int = 0

    def _upsert(self, new: np.ndarray, matched: set[int]) -> list[int]:
        """Write the kept rows (``new``: the positions of those inserted); the new rows' ids in
        the frame's order."""
        if self.table is None:
            return self._copy_new(new)
        if backend_name(self.conn) == "postgis":
            return self._update_then_insert(len(new), matched)
        return self._insert_on_conflict(len(new), matched)

    def _copy_new(self, new: np.ndarray) -> np.ndarray:
        """PostGIS, every row new: ids drawn from the table's sequence (rising in the frame's
        order), then one ``COPY`` of the rows with them into the layer's table. The rows are
        written once, not into a temporary table first and then by ``INSERT ... SELECT``."""
        conn, spec = self.conn, self.spec
        if not len(new):
            return np.zeros(0, dtype=np.int64)
        sequence = _sequence(conn, spec)
        if _held_alone(conn, spec):
            # the table is this transaction's (an exclusive import): every other writer of it,
            # and so of its sequence, waits; the ids are one block, drawn by one call instead
            # of a nextval per row (90 ms per 20,000 rows)
            last = conn.exec_driver_sql(
                f"SELECT setval({sequence}::regclass, nextval({sequence}::regclass) + {len(new) - 1})").scalar()
            ids = np.arange(int(last) - len(new) + 1, int(last) + 1, dtype=np.int64)
        else:
            # a nextval per row (other writers may draw from the sequence meanwhile); where the
            # ids came out as one run (nobody else drew), only its ends come back, else the list
            first, last, text = conn.exec_driver_sql(
                f"WITH s AS MATERIALIZED (SELECT nextval({sequence}::regclass) AS v FROM generate_series(1, {len(new)})), "
                "m AS (SELECT min(v) AS first, max(v) AS last, count(*) AS n FROM s) "
                "SELECT first, last, CASE WHEN last - first + 1 = n THEN NULL "
                "ELSE (SELECT string_agg(v::text, ',' ORDER BY v) FROM s) END FROM m").one()
            ids = np.arange(int(first), int(last) + 1, dtype=np.int64) if text is None else _integers(text)
        texts = list(map(str, ids.tolist()))
        lines = self.lines
        # the foreign keys checked once for the rows, not by a trigger per row, where allowed
        keys = foreign_keys.checked_in_bulk(conn, spec.table.name)
        if keys and not all(c in (self.references or {}) for key in keys for c in key.columns):
            keys = None  # a key column whose new rows' values the writer does not know (a default)
        if keys:
            foreign_keys.without_triggers(conn, True)
        _copy(conn, _quote(spec.table.name), ["id", *self.columns],
              _copy_blocks([lines[i] for i in new.tolist()], texts))
        if keys:
            foreign_keys.without_triggers(conn, False)
            reason = foreign_keys.missing(conn, keys, {name: values[new] for name, values in self.references.items()})
            if reason is not None:
                raise Conflict(f"the database refused the {spec.name} rows: {reason}")
        return ids

    def _update_then_insert(self, new_rows: int, matched: set[int]) -> list[int]:
        """PostGIS: one ``UPDATE ... FROM`` for the matched rows (where a value differs), then
        one plain ``INSERT ... SELECT`` for the new ones. Cheaper than one ``INSERT ... ON
        CONFLICT``: a speculative insertion per row cost a third of the statement's time,
        and the new rows' ids never conflict (they come from the table's sequence)."""
        conn, spec = self.conn, self.spec
        table = _quote(spec.table.name)
        names = self.columns
        self._updated = 0
        if matched:
            sets = [f"{_quote(n)} = s.{_quote(n)}" for n in names]
            sets += ["version = t.version + 1", "updated_at = now()"]
            differs = " OR ".join(_differs(spec, n, "t", "s", postgis=True) for n in names if n != "source") or "false"
            self._updated = conn.exec_driver_sql(
                f"UPDATE {table} t SET {', '.join(sets)} FROM {self.table} s "
                f"WHERE t.id = s.target AND ({differs})").rowcount
        if not new_rows:
            return []
        # ids from the table's sequence; PostgreSQL evaluates a volatile output column after
        # ORDER BY, so they rise in the frame's order (not necessarily one apart). The new
        # ids come back as one text (psycopg's Python rows are slow to read). The sequence is
        # named once: pg_get_serial_sequence is not folded into a constant, and its catalog
        # lookup per row cost a fifth of the insert.
        sequence = _sequence(conn, spec)
        columns = ", ".join(map(_quote, names))
        text = conn.exec_driver_sql(
            f"WITH w AS (INSERT INTO {table} (id, {columns}) "
            f"SELECT nextval({int(sequence)}::regclass), "
            f"{', '.join(f's.{_quote(n)}' for n in names)} FROM {self.table} s WHERE s.target IS NULL "
            f"ORDER BY s.pos RETURNING id) SELECT string_agg(w.id::text, ',' ORDER BY w.id) FROM w").scalar()
        fresh = _integers(text)
        if len(fresh) != new_rows:  # pragma: no cover - the database broke its own rules
            raise Conflict(f"the {spec.name} rows were not all written; nothing was written, import again")
        return fresh

    def _insert_on_conflict(self, new_rows: int, matched: set[int]) -> list[int]:
        """SpatiaLite: one INSERT ... ON CONFLICT (id) DO UPDATE, its per-row triggers' work
        done once for the chunk."""
        conn, spec = self.conn, self.spec
        table = _quote(spec.table.name)
        names = self.columns
        # after the largest id, read by the statement that holds the write lock
        new_id = (f"(SELECT coalesce(max(id), 0) FROM {table}) + "
                  "row_number() OVER (PARTITION BY s.target IS NULL ORDER BY s.pos)")
        geometry = set(spec.geometry_columns)
        values = [f"GeomFromWKB(s.{_quote(n)}, {models.SRID})" if n in geometry else f"s.{_quote(n)}" for n in names]
        sets = [f"{_quote(n)} = excluded.{_quote(n)}" for n in names]
        sets += [f"version = {table}.version + 1", "updated_at = CURRENT_TIMESTAMP"]
        differs = " OR ".join(_differs(spec, n, table, "excluded", postgis=False)
                              for n in names if n != "source") or "false"
        statement = (
            f"INSERT INTO {table} (id, {', '.join(map(_quote, names))}) "
            f"SELECT coalesce(s.target, {new_id}), {', '.join(values)} FROM {self.table} s WHERE true "
            f"ON CONFLICT (id) DO UPDATE SET {', '.join(sets)} WHERE {differs} RETURNING id"
        )
        triggers = _insert_triggers(conn, spec) if new_rows else []
        for name, _ in triggers:
            conn.exec_driver_sql(f"DROP TRIGGER {_quote(name)}")
        try:
            returned = [int(i) for (i,) in conn.exec_driver_sql(statement)]
            fresh = sorted(i for i in returned if i not in matched)
            self._updated = len(returned) - len(fresh)
            if triggers and fresh:
                self._after_insert({name for name, _ in triggers}, fresh[0], fresh[-1])
            if len(fresh) != new_rows:  # pragma: no cover - the database broke its own rules
                raise Conflict(f"the {spec.name} rows were not all written; nothing was written, import again")
        finally:
            for _, sql in triggers:
                conn.exec_driver_sql(sql)
        return fresh

    def _after_insert(self, triggers: set[str], first: int, last: int) -> None:
        """The work of SpatiaLite's per-row insert triggers, once for the new rows (ids
        ``first`` to ``last``): the geometry-type check, the R*Tree and the time stamp."""
        conn = self.conn
        table = self.spec.table.name
        rows = f"FROM {_quote(table)} t WHERE t.id BETWEEN {int(first)} AND {int(last)}"
        for column in self.spec.geometry_columns:
            g = f"t.{_quote(column)}"
            where = f"Lower(f_table_name) = Lower('{table}') AND Lower(f_geometry_column) = Lower('{column}')"
            if f"ggi_{table}_{column}" in triggers:
                # the trigger's test (a row of geometry_columns whose type and SRID the geometry
                # meets), with that row read once instead of by a subquery per row
                allowed = conn.exec_driver_sql(f"SELECT geometry_type, srid FROM geometry_columns WHERE {where}").all()
                meets = " OR ".join(f"GeometryConstraints({g}, {int(kind)}, {int(srid)}) = 1"
                                    for kind, srid in allowed) or "0"
                bad = conn.exec_driver_sql(f"SELECT count(*) {rows} AND NOT coalesce(({meets}), 0)").scalar()
                if bad:
                    raise ValidationError(f"{bad} {table} row(s): {table}.{column} violates Geometry constraint "
                                          "[geom-type or SRID not allowed]")
            if f"gii_{table}_{column}" in triggers:
                conn.exec_driver_sql(
                    f'INSERT INTO "idx_{table}_{column}" (pkid, xmin, xmax, ymin, ymax) SELECT t.id, '
                    f"MbrMinX({g}), MbrMaxX({g}), MbrMinY({g}), MbrMaxY({g}) {rows} AND MbrMinX({g}) IS NOT NULL")
            if f"tmi_{table}_{column}" in triggers:
                conn.exec_driver_sql("UPDATE geometry_columns_time SET last_insert = "
                                     f"strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE {where}")


def _held_alone(conn: Connection, spec: LayerSpec) -> bool:
    """PostGIS: whether this transaction holds the layer's table in ``ACCESS EXCLUSIVE`` mode
    (:func:`geo.storage.bulk.set_aside_upkeep`)."""
    return bool(conn.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND pid = pg_backend_pid() "
        "AND relation = %(table)s::regclass AND mode = 'AccessExclusiveLock' AND granted)",
        {"table": spec.table.name}).scalar())


def _sequence(conn: Connection, spec: LayerSpec) -> int:
    """PostGIS: the oid of the sequence of the layer's ids."""
    return int(conn.exec_driver_sql(
        f"SELECT pg_get_serial_sequence('{spec.table.name}', 'id')::regclass::oid").scalar())


def _differs(spec: LayerSpec, name: str, old_table: str, new_table: str, *, postgis: bool) -> str:
    """SQL true where the stored value (in ``old_table``) and the new one (in ``new_table``,
    ``excluded`` or the staging table) differ as :func:`_same` sees it."""
    old, new = f"{old_table}.{_quote(name)}", f"{new_table}.{_quote(name)}"
    distinct = "IS DISTINCT FROM" if postgis else "IS NOT"
    if name in spec.geometry_columns:
        if postgis:
            return f"(ST_AsBinary({old}) {distinct} ST_AsBinary({new}))"
        return f"({old} {distinct} {new})"
    try:
        python_type = spec.table.c[name].type.python_type
    except NotImplementedError:
        python_type = None
    if python_type is float:
        return (f"(CASE WHEN {old} IS NULL OR {new} IS NULL THEN ({old} {distinct} {new}) "
                f"ELSE abs({old} - {new}) > 1e-9 END)")
    return f"({old} {distinct} {new})"


def _insert_triggers(conn: Connection, spec: LayerSpec) -> list[tuple[str, str]]:
    """SpatiaLite's per-row insert triggers of the layer's geometry columns (whose work
    :meth:`StagedRows._after_insert` does): name and the SQL that recreates each."""
    table = spec.table.name
    names = {f"{kind}_{table}_{column}" for kind in ("ggi", "tmi", "gii") for column in spec.geometry_columns}
    rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                (table,)).all()
    return [(name, sql) for name, sql in rows if name in names and sql]


# --------------------------------------------------------------------------------------
# Staging
# --------------------------------------------------------------------------------------


@dataclass
class PreparedRows:
    """A frame's rows converted and encoded for a staging table (:func:`prepare_rows`),
    ready for :func:`load_rows`; made without the database, so while it runs another
    thread may use the connection."""

    spec: LayerSpec
    names: list[str]
    size: int
    postgis: bool
    payload: list  # PostGIS: each row's COPY text line; SpatiaLite: (rows, flat values) per INSERT
    keys: dict[str, np.ndarray] = field(default_factory=dict)  # PostGIS: the natural keys' values
    references: dict[str, np.ndarray] = field(default_factory=dict)  # PostGIS: the foreign keys' columns' values


def stage_rows(conn: Connection, layer: str, frame: pd.DataFrame, *, source: str | None = None) -> StagedRows:
    """Load ``frame`` into a temporary table and match its rows to the stored rows
    (:func:`prepare_rows`, then :func:`load_rows`).

    Parameters
    ----------
    conn
        Connection inside the caller's transaction.
    layer
        Layer name (see :func:`can_stage`).
    frame
        The layer's fields (geometry columns holding shapely geometries in EPSG:4326).
    source
        Provenance of rows without a ``source`` value (default ``'user'``).

    Raises
    ------
    ValidationError
        A value the column cannot store (the message names the row and field).
    """
    return load_rows(conn, prepare_rows(conn.dialect, layer, frame, source=source))


def prepare_rows(dialect: sa.engine.Dialect, layer: str, frame: pd.DataFrame, *,
                 source: str | None = None) -> PreparedRows:
    """Convert ``frame``'s values as the writer converts them and encode the rows for the
    staging table of ``dialect``'s backend (COPY text on PostGIS, the values of multi-row
    INSERTs on SpatiaLite). Uses no connection.

    Raises
    ------
    ValidationError
        A value the column cannot store (the message names the row and field).
    """
    spec = get_layer(layer)
    if isinstance(frame, gpd.GeoDataFrame) and spec.geometry and frame._geometry_column_name in frame:
        frame = frame.rename_geometry(spec.geometry) if frame.geometry.name != spec.geometry else frame
    elif "geometry" in frame and spec.geometry:
        frame = frame.rename(columns={"geometry": spec.geometry})
    frame = pd.DataFrame(frame)
    names = [c for c in frame.columns if c in spec.table.c and c not in MANAGED]
    postgis = dialect.name != "sqlite"
    data = {n: _column_values(spec, n, frame[n], dialect, postgis) for n in names}
    if "source" not in data or source is not None:
        given = data.get("source", np.full(len(frame), None, dtype=object))
        data["source"] = np.where(pd.isna(given), source or "user", given).astype(object)
        if "source" not in names:
            names.append("source")
    if not postgis:
        return PreparedRows(spec, names, len(frame), postgis, _insert_values(names, data, len(frame)))
    keys = {name: data[name] for key in spec.natural_keys if all(k in data for k in key) for name in key}
    # the values foreign keys are checked by where the rows are copied without the per-row
    # checks (geo.storage.foreign_keys); a column the frame lacks is NULL in new rows unless
    # it has a default (then left out: the triggers check it)
    references = {c.parent.name: data[c.parent.name] if c.parent.name in data else np.full(len(frame), None, dtype=object)
                  for c in spec.table.foreign_keys
                  if c.parent.name in data or (c.parent.server_default is None and c.parent.default is None)}
    return PreparedRows(spec, names, len(frame), postgis, _copy_lines(names, data), keys, references)


def load_rows(conn: Connection, prepared: PreparedRows) -> StagedRows:
    """Match prepared rows to the stored rows; where any matches, load them into a temporary
    table. On PostGIS the rows are matched by their keys' values before anything is loaded,
    and rows that are all new skip the temporary table: :meth:`StagedRows.write` copies them
    straight into the layer's table."""
    spec, names, postgis = prepared.spec, prepared.names, prepared.postgis
    targets = _probe(conn, spec, prepared) if postgis else None
    if targets is not None and not targets.any():
        return StagedRows(conn, spec, None, names, targets, lines=prepared.payload, references=prepared.references)
    table = _free_name(conn, spec, postgis)
    staged = StagedRows(conn, spec, table, names, np.zeros(prepared.size, dtype=np.int64))
    _create(conn, spec, table, names, postgis)
    try:
        if postgis:
            target_texts = np.where(targets == 0, "\\N", targets.astype(str)).tolist()
            _copy(conn, table, ["pos", "target", *names],
                  _copy_blocks(prepared.payload, list(map(str, range(prepared.size))), target_texts))
            staged.targets = targets
        else:
            _insert_many(conn, table, names, prepared.payload)
            staged.targets = _match(conn, spec, table, names, prepared.size)
        if staged.targets.any():
            for name in (n for n in names if n in spec.geometry_columns):
                _keep_equal_geometries(conn, spec, table, name, postgis)
    except Exception:
        staged.close()
        raise
    return staged


def _free_name(conn: Connection, spec: LayerSpec, postgis: bool) -> str:
    """A name for the temporary table, the same chunk after chunk: SQLite keeps prepared
    statements by their text, and a new name each chunk would keep a new set of large
    multi-row INSERTs in that cache (memory growing with the rows imported)."""
    for number in range(1, 1_000):
        name = f"atlas_stage_{spec.name}_{number}"
        taken = conn.exec_driver_sql(
            f"SELECT to_regclass('pg_temp.{name}') IS NOT NULL" if postgis else
            f"SELECT count(*) FROM sqlite_temp_master WHERE type = 'table' AND name = '{name}'").scalar()
        if not taken:
            return name
    raise Conflict(f"too many {spec.name} imports at once on one connection")  # pragma: no cover


def _keep_equal_geometries(conn: Connection, spec: LayerSpec, table: str, name: str, postgis: bool) -> None:
    """Where a matched row's geometry equals the stored one within 1e-9 degrees (a file
    exported and imported again: coordinates printed and parsed), stage the stored one, so
    the row counts as unchanged, as :func:`geo.storage.types._same` decides."""
    as_binary = "ST_AsBinary" if postgis else "AsBinary"
    column = _quote(name)
    rows = conn.exec_driver_sql(
        f"SELECT s.pos, {as_binary}(t.{column}), {as_binary}(" + (f"s.{column}" if postgis else
                                                                 f"GeomFromWKB(s.{column}, {models.SRID})") +
        f") FROM {table} s JOIN {_quote(spec.table.name)} t ON t.id = s.target "
        f"WHERE t.{column} IS NOT NULL AND s.{column} IS NOT NULL").all()
    if not rows:
        return
    positions = np.array([r[0] for r in rows], dtype=np.int64)
    stored = np.array([bytes(r[1]) for r in rows], dtype=object)
    staged = np.array([bytes(r[2]) for r in rows], dtype=object)
    differ = stored != staged
    if not differ.any():
        return
    old = shapely.from_wkb(stored[differ])
    new = shapely.from_wkb(staged[differ])
    close = shapely.equals_exact(old, new, tolerance=1e-9)
    if not close.any():
        return
    kept = old[close]
    replacement = (shapely.to_wkb(shapely.set_srid(kept, models.SRID), hex=True, include_srid=True) if postgis
                   else shapely.to_wkb(kept))
    params = list(zip(replacement.tolist(), positions[differ][close].tolist()))
    cursor = conn.connection.driver_connection.cursor()
    try:
        statement = f"UPDATE {table} SET {column} = %s WHERE pos = %s" if postgis else \
            f"UPDATE {table} SET {column} = ? WHERE pos = ?"
        cursor.executemany(statement, params)
    finally:
        cursor.close()


def _column_values(spec: LayerSpec, name: str, values: pd.Series, dialect: sa.engine.Dialect,
                   postgis: bool) -> np.ndarray:
    """The column's values as the database takes them (None for NULL), converted like
    :func:`geo.storage.write_layer` converts them, once per distinct value."""
    column = spec.table.c[name]
    if name in spec.geometry_columns:
        return _geometry_values(column, values, postgis)
    convert = _converter(column)
    process = column.type._cached_bind_processor(dialect)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = None
    if process is None and python_type in (str, float) and set(map(type, uniques.tolist())) <= {python_type}:
        return np.append(uniques, None)[codes]  # what the converter passes through unchanged
    out = []
    for position, value in enumerate(uniques):
        try:
            stored = convert(value, "")
        except ValidationError:
            row = int(np.flatnonzero(codes == position)[0])
            convert(value, f"{spec.name} row {row + 1}")  # raises, naming the row
            raise
        out.append(process(stored) if process is not None and stored is not None else stored)
    out.append(None)
    return np.asarray(out, dtype=object)[codes]


def _geometry_values(column: sa.Column, values: pd.Series, postgis: bool) -> np.ndarray:
    """WKB (SpatiaLite) or EWKB hex (PostGIS) of the geometries, 2D, single parts made multi
    where the column is multi (as :func:`~geo.storage.types._geometry_wkb` does)."""
    geoms = np.asarray(values.values if not hasattr(values, "array") else np.asarray(values.array, dtype=object),
                       dtype=object)
    missing = shapely.is_missing(geoms)
    wanted = column.type.geometry_type.upper()
    kinds = np.full(len(geoms), "", dtype=object)
    present = np.flatnonzero(~missing)
    type_ids = shapely.get_type_id(geoms[present])
    kinds[present] = np.array(GEOMETRY_TYPE_NAMES, dtype=object)[type_ids]
    fit = np.zeros(len(geoms), dtype=bool)
    upper = [name.upper() for name in GEOMETRY_TYPE_NAMES]
    fit[present] = (wanted == "GEOMETRY") | (type_ids == (upper.index(wanted) if wanted in upper else -1))
    odd = present[~fit[present]]
    geoms = geoms.copy()
    for i in odd:  # single parts into a multi column, a MultiPoint of one into a point column
        kind = kinds[i]
        if wanted in _MULTI and kind == _MULTI[wanted]:
            geoms[i] = (shapely.multipolygons([geoms[i]]) if kind == "Polygon" else
                        shapely.multilinestrings([geoms[i]]) if kind == "LineString" else shapely.multipoints([geoms[i]]))
        elif wanted == "POINT" and kind == "MultiPoint" and len(geoms[i].geoms) == 1:
            geoms[i] = geoms[i].geoms[0]
        else:
            _geometry_wkb(column, geoms[i], f"row {i + 1}")  # raises the writer's message
    geoms = np.where(missing, None, geoms)
    points = _point_wkb(geoms, missing, postgis)
    if points is not None:
        return points
    if postgis:
        return shapely.to_wkb(shapely.set_srid(geoms, models.SRID), hex=True, include_srid=True,
                              output_dimension=2).astype(object)
    return shapely.to_wkb(geoms, output_dimension=2).astype(object)


def _point_wkb(geoms: np.ndarray, missing: np.ndarray, postgis: bool) -> np.ndarray | None:
    """Where every geometry is a non-empty point (households, wells ...): the bytes
    :func:`shapely.to_wkb` writes for them (little-endian, 2D; with the SRID as EWKB hex on
    PostGIS), packed at once by numpy instead of one GEOS writer call per point; else None."""
    present = geoms[~missing]
    if not len(present) or (shapely.get_type_id(present) != 0).any() or shapely.is_empty(present).any():
        return None
    xy = shapely.get_coordinates(present)
    fields = [("order", "u1"), ("kind", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")] if postgis else \
        [("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")]
    packed = np.empty(len(present), dtype=np.dtype(fields))
    packed["order"] = 1
    packed["kind"] = 0x20000001 if postgis else 1  # Point, with the EWKB flag saying an SRID follows
    if postgis:
        packed["srid"] = models.SRID
    packed["x"], packed["y"] = xy[:, 0], xy[:, 1]
    size = packed.dtype.itemsize
    if postgis:
        text = packed.tobytes().hex().upper()
        values = [text[i:i + 2 * size] for i in range(0, len(text), 2 * size)]
    else:
        data = packed.tobytes()
        values = [data[i:i + size] for i in range(0, len(data), size)]
    out = np.full(len(geoms), None, dtype=object)
    out[np.flatnonzero(~missing)] = values
    return out


def _create(conn: Connection, spec: LayerSpec, table: str, names: list[str], postgis: bool) -> None:
    if postgis:
        columns = ", ".join(_quote(n) for n in names)
        conn.exec_driver_sql(f"CREATE TEMP TABLE {table} AS SELECT {columns} FROM {_quote(spec.table.name)} WITH NO DATA")
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN pos integer, ADD COLUMN target integer")
        return
    dialect = conn.dialect
    declared = []
    for n in names:
        kind = "BLOB" if n in spec.geometry_columns else spec.table.c[n].type.compile(dialect=dialect)
        declared.append(f"{_quote(n)} {kind}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {table} (pos INTEGER PRIMARY KEY, target INTEGER, {', '.join(declared)})")


def _copy_lines(names: list[str], data: dict[str, np.ndarray]) -> list[str]:
    """Each row's values as a line of COPY text (tab-separated, ``\\N`` for NULL)."""
    return list(map("\t".join, zip(*(_copy_texts(data[name]) for name in names))))


def _copy_blocks(lines: list[str], *leading: list[str]) -> list[bytes]:
    """COPY text in blocks of rows, each line after its ``leading`` values (position, id ...)."""
    rows = list(map("\t".join, zip(*leading, lines))) if leading else lines
    block = 20_000
    return [("\n".join(rows[start:start + block]) + "\n").encode() for start in range(0, len(rows), block)]


def _copy(conn: Connection, table: str, columns: list[str], blocks: list[bytes]) -> None:
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {table} ({', '.join(map(_quote, columns))}) FROM STDIN") as copy:
            for block in blocks:
                copy.write(block)
    except Exception as exc:
        raise _as_sqlalchemy_error(conn, exc) from None
    finally:
        cursor.close()


def _copy_texts(values: np.ndarray) -> np.ndarray | list[str]:
    """COPY's text form of each value, column at a time (``\\N`` for NULL)."""
    items = values.tolist()
    kinds = set(map(type, items))
    if kinds == {str}:  # no NULL (the usual text column): one list, no positions
        joined = "".join(items)
        return items if not any(c in joined for c in _SPECIAL) else [_escape(v) for v in items]
    out = np.full(len(values), "\\N", dtype=object)
    present = np.flatnonzero(pd.notna(values))
    if not len(present):
        return out
    items = values[present].tolist()
    kinds = set(map(type, items))
    if kinds == {str}:
        joined = "".join(items)
        texts = items if not any(c in joined for c in _SPECIAL) else [_escape(v) for v in items]
    elif kinds <= {int}:
        texts = list(map(str, items))
    elif kinds <= {float}:
        texts = list(map(repr, items))
    else:
        texts = [_copy_text(v) for v in items]
    out[present] = texts
    return out


def _copy_text(value) -> str:
    if type(value) is str:
        return _escape(value)
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _escape(str(value))


_SPECIAL = frozenset("\\\t\n\r")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _insert_values(names: list[str], data: dict[str, np.ndarray], n: int) -> list[tuple[int, list]]:
    """The rows of each multi-row INSERT (position first) and its values, flat."""
    width = len(names) + 1
    per_statement = max(1, _SQLITE_VALUES // width)
    arrays = [np.arange(n, dtype=np.int64).astype(object), *(data[name] for name in names)]
    out = []
    for start in range(0, n, per_statement):
        stop = min(n, start + per_statement)
        out.append((stop - start, [v for r in zip(*(a[start:stop].tolist() for a in arrays)) for v in r]))
    return out


def _insert_many(conn: Connection, table: str, names: list[str], statements: list[tuple[int, list]]) -> None:
    row = "(" + ", ".join(["?"] * (len(names) + 1)) + ")"
    columns = ", ".join(["pos", *map(_quote, names)])
    cursor = conn.connection.driver_connection.cursor()
    try:
        for rows, flat in statements:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}", flat)
    finally:
        cursor.close()


def _key_join(spec: LayerSpec, key: tuple[str, ...], postgis: bool) -> str:
    """SQL joining a new row ``s`` to the stored row ``t`` of the same natural key, as
    :func:`geo.storage.write._key_of` matches: no key where its last field is empty or a
    required scope field is; an empty nullable scope matches the rows without one."""
    *scope, last = key
    conditions = [f"t.{_quote(last)} = s.{_quote(last)}"]
    for k in scope:
        if spec.table.c[k].nullable:
            conditions.append(f"t.{_quote(k)} IS NOT DISTINCT FROM s.{_quote(k)}" if postgis
                              else f"t.{_quote(k)} IS s.{_quote(k)}")
        else:
            conditions.append(f"t.{_quote(k)} = s.{_quote(k)}")
    return " AND ".join(conditions)


def _probe(conn: Connection, spec: LayerSpec, prepared: PreparedRows) -> np.ndarray:
    """PostGIS: each row's stored row by the layer's natural keys in order (0 where none),
    one query per key joining the key's values (sent as one text, see :func:`_array_text`) to
    the stored table, with nothing loaded yet."""
    targets = np.zeros(prepared.size, dtype=np.int64)
    stored = _quote(spec.table.name)
    for key in spec.natural_keys:
        open_rows = np.flatnonzero(targets == 0)
        if not all(k in prepared.keys for k in key) or not len(open_rows):
            continue
        arrays, values = [], {}
        for i, k in enumerate(key):
            kind = spec.table.c[k].type.compile(dialect=conn.dialect)
            items = prepared.keys[k][open_rows].tolist()
            text = _array_text(items)
            # one text split by the server: psycopg's adaptation of a list took 30 ms per 20,000 values
            arrays.append(f"%(k{i})s::{kind}[]" if text is None else
                          f"string_to_array(%(k{i})s, E'\\x1f', E'\\x1e')::{kind}[]")
            values[f"k{i}"] = items if text is None else text
        positions, ids = conn.exec_driver_sql(
            "SELECT string_agg(m.pos::text, ',' ORDER BY m.pos), string_agg(m.id::text, ',' ORDER BY m.pos) "
            f"FROM (SELECT s.pos, max(t.id) AS id FROM unnest({', '.join(arrays)}) WITH ORDINALITY "
            f"AS s({', '.join(map(_quote, key))}, pos) JOIN {stored} t ON {_key_join(spec, key, True)} "
            "GROUP BY s.pos) m", values).one()
        targets[open_rows[_integers(positions) - 1]] = _integers(ids)
    return targets


def _array_text(items: list) -> str | None:
    """Values as one text for ``string_to_array(text, E'\\x1f', E'\\x1e')`` (unit separator
    between values, record separator for NULL); None where a value holds either character, or
    for one empty text (which would split into no values)."""
    texts = ["\x1e" if v is None else v if type(v) is str else str(v) for v in items]
    joined = "\x1f".join(texts)
    if joined.count("\x1f") != max(len(texts) - 1, 0) or joined.count("\x1e") != items.count(None) \
            or (joined == "" and texts):
        return None
    return joined


def _match(conn: Connection, spec: LayerSpec, table: str, names: list[str], n: int) -> np.ndarray:
    """SpatiaLite: each staged row's stored row by the layer's natural keys in order (one
    join per key)."""
    stored = _quote(spec.table.name)
    for key in spec.natural_keys:
        if all(k in names for k in key):
            conn.exec_driver_sql(
                f"UPDATE {table} AS s SET target = (SELECT max(t.id) FROM {stored} t "
                f"WHERE {_key_join(spec, key, False)}) WHERE s.target IS NULL")
    targets = np.zeros(n, dtype=np.int64)
    for pos, target in conn.exec_driver_sql(f"SELECT pos, target FROM {table} WHERE target IS NOT NULL"):
        targets[pos] = target
    return targets


def _integers(text: str | None) -> np.ndarray:
    """Integers from a comma-separated text (``string_agg``); empty for NULL."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.array(text.split(","), dtype=np.int64)
