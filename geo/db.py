"""Engines for the two backends: SpatiaLite (embedded default) and PostgreSQL + PostGIS.

Both are created by :func:`make_engine` from a SQLAlchemy URL. Failures become one-line
:class:`~geo.errors.DatabaseError` messages saying what to do.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from geo.errors import DatabaseError, SchemaMissing, SpatialiteMissing

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
    cur.execute("PRAGMA busy_timeout = 10000")
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


def backend_name(engine: Engine) -> str:
    """``'spatialite'`` or ``'postgis'``."""
    return "spatialite" if engine.dialect.name == "sqlite" else "postgis"


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
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    else:
        try:
            engine = sa.create_engine(parsed, pool_pre_ping=True)
        except NoSuchModuleError:
            raise DatabaseError(f"no driver for {parsed.drivername}; {URL_HINT}") from None
    if check:
        check_engine(engine)
    return engine


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder for {path}: {exc.strerror}") from None
    engine = sa.create_engine(url, module=_sqlite_module())
    sa.event.listen(engine, "connect", _load_spatialite)
    sa.event.listen(engine, "begin", _begin)
    return engine


def _begin(conn: sa.Connection) -> None:
    # sqlite_immediate: a read-then-write transaction takes the write lock up front
    # (geo.storage.connect(write=True)); plain BEGIN lets readers run side by side.
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


@contextmanager
def transaction(engine: Engine) -> Iterator[sa.Connection]:
    """A connection inside one transaction: committed on success, rolled back on any error."""
    with engine.begin() as conn:
        yield conn


def require_schema(conn: sa.Connection) -> None:
    """Raise :class:`SchemaMissing` when the tables were never created."""
    if not sa.inspect(conn).has_table("villages"):
        raise SchemaMissing(
            "the database has no atlas tables yet; run: atlas db upgrade (or atlas demo load)"
        )
