"""Engines for the two backends: SpatiaLite (embedded default) and PostgreSQL + PostGIS.

Both are created by :func:`make_engine` from a SQLAlchemy URL. Failures become one-line
:class:`~geo.errors.DatabaseError` messages saying what to do.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# One build of each native library per process. SQLite loads mod_spatialite with RTLD_GLOBAL,
# so the system's PROJ, GEOS and libcrypto it links answer the later symbol lookups of other
# libraries. pyproj, pyogrio and rasterio bundle their own PROJ/GDAL/GEOS and must be loaded
# before it, or the process crashes ("free(): invalid pointer"; a segfault in
# rasterio.features.rasterize). psycopg uses the system libpq, not psycopg-binary's bundled
# OpenSSL, which mixed with the system libcrypto segfaulted at the first SSL connection made
# after SpatiaLite loaded (pyproject.toml; tests/geo/test_native_libraries.py).
import pyogrio  # noqa: F401
import pyproj  # noqa: F401
import rasterio.features  # noqa: F401
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from geo.errors import DatabaseBusy, DatabaseError, SchemaMissing, SpatialiteMissing

#: An engine (each call runs in a transaction of its own) or a connection (the call joins the
#: caller's transaction, so several calls can be all-or-nothing together).
Bind = Engine | Connection

#: How long one SQLite statement waits for another connection's lock [ms] (``busy_timeout``).
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Connections kept open per SQLite engine, and how many more may open under load (AnyIO's
#: default thread pool, which runs the API's handlers, has 40 threads).
SQLITE_POOL_SIZE = 10
SQLITE_POOL_OVERFLOW = 40
#: Threads that run the API's request handlers, and connections kept per PostGIS engine: as
#: many as there are threads, so a handler never waits for a connection (the app sets AnyIO's
#: thread limiter to this; a few more connections may open for work outside requests).
REQUEST_THREADS = 16
PG_POOL_OVERFLOW = 4
#: A pooled PostgreSQL connection idle longer than this is pinged before use [s]; a busy one is
#: not (no round trip per checkout under load), and one the driver knows is broken is replaced.
PG_PING_IDLE_S = 10.0
#: Settings of every PostgreSQL session, sent with the connection (no round trip). The
#: application's statements are short and interactive: the planner's high cost estimates of
#: PostGIS functions (ST_AsMVTGeom, ST_Transform) made a vector tile of 2,000 households
#: JIT-compile (20-90 ms) and start a parallel worker (a process; tens of ms on a busy
#: machine) for a query that runs in 10 ms without them.
PG_SESSION_OPTIONS = "-c jit=off -c max_parallel_workers_per_gather=0"
#: How long a write transaction keeps asking for the write lock before it gives up [s]: several
#: busy timeouts, because SQLite's busy handler is not first come, first served (a waiter can
#: lose the race to newer ones many times in a row under many writers).
WRITE_LOCK_WAIT_S = 60.0
#: What a client is told to wait before it retries after :class:`~geo.errors.DatabaseBusy` [s].
RETRY_AFTER_S = 2

SPATIALITE_PACKAGE = "libsqlite3-mod-spatialite"
SPATIALITE_HINT = (
    f"install it with: sudo apt-get install -y {SPATIALITE_PACKAGE} "
    "(Debian/Ubuntu; on Fedora: sudo dnf install libspatialite; on macOS: brew install libspatialite)"
)
URL_HINT = (
    "expected sqlite:///path/to/atlas.sqlite (SpatiaLite) or "
    "postgresql+psycopg://user:password@host:5432/dbname (PostGIS)"
)


def _sqlite_module():
    """A DB-API sqlite3 module that can load extensions.

    pyenv and some distribution Pythons build ``sqlite3`` without ``enable_load_extension``;
    ``sqlean.py`` (a dependency) always has it.
    """
    try:
        import sqlean

        return sqlean
    except ImportError:  # pragma: no cover - sqlean is a declared dependency
        if hasattr(sqlite3.Connection, "enable_load_extension"):
            return sqlite3
        raise DatabaseError(
            "this Python's sqlite3 cannot load extensions; install sqlean.py: pip install sqlean.py"
        ) from None


def spatialite_library() -> str:
    """Name or path of the SpatiaLite module (``ATLAS_SPATIALITE_LIBRARY`` overrides)."""
    return os.environ.get("ATLAS_SPATIALITE_LIBRARY", "mod_spatialite")


def _load_spatialite(dbapi_conn, _record) -> None:
    dbapi_conn.enable_load_extension(True)
    try:
        dbapi_conn.load_extension(spatialite_library())
    except Exception as exc:
        raise SpatialiteMissing(
            f"cannot load SpatiaLite ({spatialite_library()}: {exc}); {SPATIALITE_HINT}"
        ) from None
    finally:
        dbapi_conn.enable_load_extension(False)
    # pysqlite begins a transaction only at the first write and commits before DDL, so a
    # SAVEPOINT taken before any write (an import's all-or-nothing step) would escape the
    # caller's transaction. Switch that off; the engine's "begin" event emits BEGIN instead
    # (SQLAlchemy's documented recipe for the sqlite3 driver).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
        # readers and one writer at a time without blocking each other (atlas serve)
        cur.execute("PRAGMA journal_mode = WAL")
    if cur.execute("SELECT CheckSpatialMetaData()").fetchone()[0] < 1:
        # 'WGS84' loads only the WGS 84 family of SRIDs (incl. every UTM zone): a fraction of a
        # second, where the default loads all of EPSG (about 11 s).
        cur.execute("SELECT InitSpatialMetaData(1, 'WGS84')")
    cur.close()


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, refusing malformed or unsupported ones with a clear message."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise DatabaseError(f"malformed database URL {str(url)!r}; {URL_HINT}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"unsupported database {backend!r} in {parsed!r}; {URL_HINT}")
    if backend == "postgresql" and parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def backend_name(bind: Bind) -> str:
    """``'spatialite'`` or ``'postgis'`` (of an engine or a connection)."""
    return "spatialite" if bind.dialect.name == "sqlite" else "postgis"


def make_engine(url: str | URL | None = None, *, check: bool = True) -> Engine:
    """Create an engine for SpatiaLite or PostGIS.

    Parameters
    ----------
    url
        SQLAlchemy URL; ``None`` takes ``ATLAS_DATABASE_URL`` from the settings.
    check
        Open one connection now so that an unreachable server, a missing extension or an
        unwritable file fails here with a clear message rather than later.

    Raises
    ------
    DatabaseError
        Malformed URL, unreachable server, missing PostGIS extension.
    SpatialiteMissing
        ``mod_spatialite`` cannot be loaded.
    """
    if url is None:
        from geo.settings import get_settings

        url = get_settings().database_url
    parsed = parse_url(url)
    # hide_parameters: an error's text (a traceback, a log line) never shows the values bound
    # to a statement, which can be a household head's name or ID number
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    else:
        try:
            options = " ".join(filter(None, [parsed.query.get("options"), PG_SESSION_OPTIONS]))
            engine = sa.create_engine(parsed.difference_update_query(["options"]), hide_parameters=True,
                                      pool_size=REQUEST_THREADS, max_overflow=PG_POOL_OVERFLOW,
                                      connect_args={"options": options})
        except NoSuchModuleError:
            raise DatabaseError(f"no driver for {parsed.drivername}; {URL_HINT}") from None
        sa.event.listen(engine, "checkout", _check_pg_connection)
        sa.event.listen(engine, "checkin", _note_checkin)
        engine.__dict__["_atlas_pg_options"] = options
    sa.event.listen(engine, "handle_error", _busy_error)
    sa.event.listen(engine, "checkin", _run_after_release)
    if check:
        check_engine(engine)
    return engine


def _note_checkin(dbapi_conn, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _run_after_release(dbapi_conn, record) -> None:
    for callback in record.info.pop("after_release", {}).values():
        callback()


def after_release(conn: Connection, name: str, callback) -> None:
    """Call ``callback()`` when ``conn`` goes back to its pool, that is after its transaction
    ended (once per ``name``)."""
    conn.info.setdefault("after_release", {})[name] = callback


def _check_pg_connection(dbapi_conn, record, proxy) -> None:
    """Instead of ``pool_pre_ping`` (a round trip at every checkout): replace a connection
    psycopg knows is closed or broken, and ping only one that sat idle for
    :data:`PG_PING_IDLE_S` (the server may have closed it meanwhile). A connection that dies
    while in use still fails its statement, and SQLAlchemy then discards the whole pool."""
    if dbapi_conn.closed or dbapi_conn.broken:
        raise sa.exc.DisconnectionError("the connection was closed")
    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since > PG_PING_IDLE_S:
        try:
            dbapi_conn.execute("SELECT 1")
            dbapi_conn.rollback()
        except Exception as exc:  # any driver error: the connection is unusable
            raise sa.exc.DisconnectionError(str(exc)) from None


def pg_connect_kwargs(engine: Engine) -> dict[str, Any]:
    """psycopg's connection arguments of a PostgreSQL engine: its URL's, with the session
    options :func:`make_engine` gave it (for connections made outside its pool, such as
    :mod:`geo.db_async`'s)."""
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    if args:  # pragma: no cover - psycopg's dialect passes keywords only
        raise ValueError("expected keyword connection arguments")
    options = engine.__dict__.get("_atlas_pg_options", PG_SESSION_OPTIONS)
    return {**kwargs, "options": options}


def schema_seen(engine: Engine) -> bool:
    """Whether :func:`require_schema` already found the tables of ``engine``'s database."""
    return engine.pool in _schema_seen


def read_only(engine: Engine) -> Engine:
    """``engine`` for reads that need no transaction of their own: on PostGIS each statement
    runs on its own (autocommit), saving the BEGIN and COMMIT round trips; SQLite (in process)
    is returned as is."""
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder for {path}: {exc.strerror}") from None
    # A writer waiting for SQLite's write lock holds its pooled connection meanwhile; with
    # room for as many connections as the server has worker threads, readers (never blocked
    # in WAL mode) do not queue behind waiting writers for a connection.
    pool = {}
    if database and database != ":memory:" and "mode=memory" not in database:
        pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_OVERFLOW}
    engine = sa.create_engine(url, module=_sqlite_module(), hide_parameters=True, **pool)
    sa.event.listen(engine, "connect", _load_spatialite)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(conn: sa.Connection) -> None:
    # sqlite_immediate: a read-then-write transaction takes the write lock up front
    # (connect(write=True)); plain BEGIN lets readers run side by side.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def check_engine(engine: Engine) -> None:
    """Open a connection and check the spatial extension, or raise a one-line error."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            if backend_name(engine) == "postgis":
                has = conn.execute(
                    sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
                ).scalar()
                if not has:
                    raise DatabaseError(
                        f"PostGIS is not enabled in {url}; run: psql -d {engine.url.database} "
                        "-c 'CREATE EXTENSION postgis' (package postgresql-15-postgis-3)"
                    )
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if backend_name(engine) == "spatialite":
            raise DatabaseError(f"cannot open SpatiaLite database {url}: {reason}") from None
        raise DatabaseError(
            f"cannot connect to {url}: {reason}; check that PostgreSQL is running and the URL "
            "(host, port, user, database) is right"
        ) from None


def _busy_error(context) -> Exception | None:
    """Lock waits that ran out become :class:`DatabaseBusy` (503 with Retry-After), not a 500:
    SQLite's "database is locked" and PostgreSQL's deadlock, lock and serialization failures."""
    if busy_reason(context.original_exception) is None:
        return None
    return DatabaseBusy(_BUSY_MESSAGE, retry_after_s=RETRY_AFTER_S)


_BUSY_MESSAGE = ("the database is busy with other changes and this one could not wait longer; "
                 f"nothing was changed, try again in {RETRY_AFTER_S} s")
#: SQLSTATEs of PostgreSQL's lock conflicts: serialization failure, deadlock, lock not available.
_PG_BUSY = frozenset({"40001", "40P01", "55P03"})


def busy_reason(exc: BaseException) -> str | None:
    """Why a DB-API error means "busy, try again" (a lock not obtained), or None."""
    if isinstance(exc, DBAPIError):
        exc = exc.orig
    if exc is None:
        return None
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate in _PG_BUSY:
        return str(sqlstate)
    text = str(exc).lower()
    if type(exc).__name__ == "OperationalError" and (
            "database is locked" in text or "database table is locked" in text):
        return "locked"
    return None


@contextmanager
def connect(bind: Bind, *, write: bool = False) -> Iterator[Connection]:
    """Yield a connection: a new transaction for an engine, the caller's for a connection.

    The transaction commits when the block ends and rolls back on any error.

    ``write``: the transaction reads, then writes what it read (a version check). On SQLite
    it then takes the write lock at BEGIN (``BEGIN IMMEDIATE``): a deferred transaction that
    read before another connection wrote cannot upgrade its lock and fails at once with
    "database is locked", whatever the busy timeout; an immediate one waits its turn, asking
    again for up to :data:`WRITE_LOCK_WAIT_S` seconds.

    Raises
    ------
    DatabaseBusy
        No connection or no write lock could be had in time (nothing was changed).
    """
    if isinstance(bind, Connection):
        yield bind
        return
    with _begin(bind, write=write) as conn:
        yield conn


@contextmanager
def transaction(bind: Bind, *, write: bool = False) -> Iterator[tuple[Connection, sa.Transaction]]:
    """A connection and a transaction the caller commits or rolls back itself (a dry run).

    Given an engine, a transaction of its own; given a connection, a savepoint inside the
    caller's transaction, so rolling back undoes only this block. Left open when the block
    ends, it is rolled back; an error rolls it back too.

    Raises
    ------
    DatabaseBusy
        As :func:`connect`.
    """
    if isinstance(bind, Connection):
        _begin_sqlite(bind)
        tx = bind.begin_nested()
        try:
            yield bind, tx
        finally:
            if tx.is_active:
                tx.rollback()
        return
    engine = bind.execution_options(sqlite_immediate=True) if write else bind
    with _checkout(engine) as conn:
        tx = _begin_with_retry(conn, write=write)
        try:
            yield conn, tx
        finally:
            if tx.is_active:
                tx.rollback()


@contextmanager
def _begin(engine: Engine, *, write: bool) -> Iterator[Connection]:
    with transaction(engine, write=write) as (conn, tx):
        yield conn
        tx.commit()


@contextmanager
def _checkout(engine: Engine) -> Iterator[Connection]:
    try:
        conn = engine.connect()
    except PoolTimeout:
        raise DatabaseBusy(_BUSY_MESSAGE, retry_after_s=RETRY_AFTER_S) from None
    with conn:
        yield conn


def _begin_with_retry(conn: Connection, *, write: bool) -> sa.Transaction:
    """BEGIN; on SQLite a BEGIN IMMEDIATE that found the write lock taken past the busy
    timeout is asked again until :data:`WRITE_LOCK_WAIT_S` has passed (nothing ran yet)."""
    deadline = time.monotonic() + WRITE_LOCK_WAIT_S
    while True:
        try:
            return conn.begin()
        except DatabaseBusy:
            if not write or conn.dialect.name != "sqlite" or time.monotonic() >= deadline:
                raise
            conn.rollback()  # clear the failed BEGIN's state before asking again


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


#: Connection pools of engines whose database was seen to have the atlas tables: the check is
#: made once per engine (at the server's start or its first use, and by ``atlas db upgrade``),
#: not per request. Tables are never dropped by the application (a downgrade forgets it).
_schema_seen: weakref.WeakSet = weakref.WeakSet()
_schema_lock = threading.Lock()


def require_schema(conn: sa.Connection) -> None:
    """Raise :class:`SchemaMissing` when the tables were never created (checked once per
    engine; see :func:`schema_changed`)."""
    pool = conn.engine.pool
    if pool in _schema_seen:
        return
    if not sa.inspect(conn).has_table("villages"):
        raise SchemaMissing(
            "the database has no atlas tables yet; run: atlas db upgrade (or atlas demo load)"
        )
    with _schema_lock:
        _schema_seen.add(pool)


def check_schema(engine: Engine) -> None:
    """:func:`require_schema` on a connection of its own (a server's start-up check)."""
    with engine.connect() as conn:
        require_schema(conn)


def schema_changed(engine: Engine, *, present: bool) -> None:
    """Tell :func:`require_schema` that the schema was just created (``present``) or removed."""
    with _schema_lock:
        if present:
            _schema_seen.add(engine.pool)
        else:
            _schema_seen.discard(engine.pool)
