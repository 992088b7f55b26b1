"""Shared fixtures: real SpatiaLite and real PostGIS databases, and the demo data on both.

Every database fixture is parametrized over the two backends. PostGIS databases are created
per test session under unique names (so concurrent runs never collide) and dropped after.

Environment:
- ``ATLAS_TEST_POSTGRES_URL``: the URL of a role that may create databases (default
  ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; ``./test.sh`` sets it).
- ``ATLAS_TEST_POSTGRES_SSL_URL``: a PostgreSQL with ``ssl = on`` (tests/geo/test_native_libraries.py).
- ``ATLAS_REQUIRE_POSTGIS=1``: PostGIS must be available; a skipped test fails the run (CI).
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from starlette.testclient import TestClient

from geo import migrate
from geo.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "ATLAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGIS = os.environ.get("ATLAS_REQUIRE_POSTGIS") == "1"
BACKENDS = ["spatialite", "postgis"]

_postgis_problem: str | None = None
_checked = False


def postgis_problem() -> str | None:
    """Why PostGIS cannot be used here, or None when it can (checked once)."""
    global _postgis_problem, _checked
    if _checked:
        return _postgis_problem
    _checked = True
    try:
        engine = sa.create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            available = conn.execute(
                sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
        engine.dispose()
        if not available:
            _postgis_problem = "the PostGIS extension is not installed (postgresql-15-postgis-3)"
    except Exception as exc:  # any failure to reach the server means: no PostGIS here
        _postgis_problem = f"cannot reach PostgreSQL at {ADMIN_URL}: {str(exc).splitlines()[0]}"
    return _postgis_problem


#: A template database with PostGIS that ``scripts/bootstrap.sh`` makes when the tests' role may
#: not create the extension (it is not a superuser); used whenever it exists.
POSTGIS_TEMPLATE = "atlas_template_postgis"


def create_postgis_database(prefix: str = "atlas_test") -> str:
    """Create an empty database with PostGIS enabled (from :data:`POSTGIS_TEMPLATE` when there
    is one, else with ``CREATE EXTENSION``); return its URL."""
    problem = postgis_problem()
    if problem:
        if REQUIRE_POSTGIS:
            pytest.fail(f"ATLAS_REQUIRE_POSTGIS=1 but {problem}")
        pytest.skip(problem)
    template = _postgis_template()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


#: The database this process clones empty PostGIS databases from (see :func:`_postgis_template`).
_template_name: str | None = None


def _postgis_template() -> str:
    """:data:`POSTGIS_TEMPLATE` when it exists; else a database of this process's own with the
    extension created once (``CREATE EXTENSION postgis`` takes a second or more on a busy
    machine, a clone a fraction of it), dropped when the process ends."""
    global _template_name
    if _template_name is not None:
        return _template_name
    admin = sa.create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        shared = conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname = :name AND datistemplate"),
                              {"name": POSTGIS_TEMPLATE}).scalar()
        if shared is None:
            name = f"atlas_test_postgis_{uuid.uuid4().hex[:10]}"
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    if shared is not None:
        _template_name = shared
        return shared
    engine = sa.create_engine(make_url(ADMIN_URL).set(database=name), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION postgis"))
    engine.dispose()  # a template must have no open connection
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    atexit.register(drop_postgis_database, url)
    _template_name = name
    return name


def drop_postgis_database(url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def copy_postgis_database(template_url: str, prefix: str = "atlas_test") -> str:
    """A new database cloned from ``template_url`` (which must have no open connections)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    template = make_url(template_url).database
    admin = sa.create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return make_url(template_url).set(database=name).render_as_string(hide_password=False)


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of this test run that all its pytest-xdist workers share (each
    worker's own folder is inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Held by one process at a time (``flock`` on ``path``, made if missing)."""
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SharedTemplate:
    """A database that the processes of one test run (pytest-xdist workers) make once and copy.

    The first process to ask makes it with ``make(folder)`` (which returns its URL) under a
    lock in the run's ``folder``; the others read its URL there. Each process that took it
    gives it back with :meth:`release` as its session ends; the last one drops it, and a
    process that asks after that makes it again.
    """

    def __init__(self, name: str, folder: Path, make):
        self.name = name
        self.folder = folder
        self.make = make
        self._url: str | None = None

    def url(self) -> str:
        if self._url is None:
            with file_lock(self.folder / f"{self.name}.lock"):
                state = self._read()
                if state is None:
                    state = {"url": self.make(self.folder), "holders": 0}
                state["holders"] += 1
                self._write(state)
            self._url = state["url"]
        return self._url

    def release(self, *, drop=None) -> None:
        """Give the template back; the last holder calls ``drop(url)`` on it (if given)."""
        if self._url is None:
            return
        with file_lock(self.folder / f"{self.name}.lock"):
            state = self._read()
            state["holders"] -= 1
            if state["holders"] > 0:
                self._write(state)
            else:
                (self.folder / f"{self.name}.json").unlink()
                if drop is not None:
                    drop(state["url"])
        self._url = None

    def _read(self) -> dict | None:
        import json

        path = self.folder / f"{self.name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def _write(self, state: dict) -> None:
        import json

        (self.folder / f"{self.name}.json").write_text(json.dumps(state), encoding="utf-8")


class EmptyDatabase:
    """Makes databases of one backend (empty, or holding the demo) and removes them afterwards.

    The demo is loaded once per backend and test run into a template that the run's
    pytest-xdist workers share (:class:`SharedTemplate`: a load takes 3-4 s of CPU); every demo
    database a test asks for is a copy of it (a file copy on SpatiaLite, ``CREATE DATABASE ...
    TEMPLATE`` on PostGIS), which takes a fraction of a second instead of a load.
    """

    def __init__(self, backend: str, tmp_path_factory: pytest.TempPathFactory):
        self.backend = backend
        self.tmp = tmp_path_factory
        self.created: list[str] = []
        self._template: SharedTemplate | None = None
        self._engines: dict[str, Engine] = {}

    def url(self) -> str:
        """A new, empty database (no schema)."""
        if self.backend == "spatialite":
            path = self.tmp.mktemp("spatialite") / "atlas.sqlite"
            return f"sqlite:///{path}"
        url = create_postgis_database()
        self.created.append(url)
        return url

    def demo_url(self) -> str:
        """A new database holding the migrated schema and the demo data, free to write to."""
        import shutil

        if self._template is None:
            self._template = SharedTemplate(f"demo-{self.backend}", run_folder(self.tmp), self._load_demo)
        template = self._template.url()
        if self.backend == "spatialite":
            path = self.tmp.mktemp("spatialite") / "atlas.sqlite"
            shutil.copyfile(make_url(template).database, path)
            return f"sqlite:///{path}"
        url = copy_postgis_database(template)
        self.created.append(url)
        return url

    def _load_demo(self, folder: Path) -> str:
        """A new database of the run's ``folder`` (SpatiaLite) or server with the demo loaded."""
        from geo.demo import load_demo

        if self.backend == "spatialite":
            url = f"sqlite:///{folder / f'demo-{uuid.uuid4().hex[:10]}.sqlite'}"
        else:
            url = create_postgis_database("atlas_test_demo")
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            load_demo(engine)
            if self.backend == "spatialite":
                with engine.connect() as conn:  # everything into the main file before copying it
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()  # a template must have no open connection
        return url

    def shared_engine(self, kind: str) -> Engine:
        """The session's one engine of its ``kind``: ``"migrated"`` (the schema, no rows) or
        ``"demo"`` (the demo data, read-only for tests), made at the first call."""
        if kind not in self._engines:
            if kind == "demo":
                self._engines[kind] = make_engine(self.demo_url())
            elif kind == "migrated":
                engine = self._engines[kind] = make_engine(self.url())
                migrate.upgrade(engine)
            else:
                raise ValueError(f"no shared engine {kind!r}; choose 'migrated' or 'demo'")
        return self._engines[kind]

    def drop(self, url: str) -> None:
        """Drop a PostGIS database :meth:`url` made, now rather than when the session ends (a
        worker's last minute spent dropping databases one by one, 0.1-0.3 s each)."""
        if url in self.created:
            self.created.remove(url)
            drop_postgis_database(url)

    def cleanup(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        for url in self.created:
            drop_postgis_database(url)
        if self._template is not None:
            self._template.release(drop=drop_postgis_database if self.backend == "postgis" else None)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    """The backend under test: 'spatialite' or 'postgis'."""
    return request.param


@pytest.fixture(scope="session")
def _database_factories(tmp_path_factory) -> Iterator[dict[str, EmptyDatabase]]:
    """The session's :class:`EmptyDatabase` of each backend, kept (demo template, shared engines)
    when a worker's tests change backend and back: pytest tears down and makes again every
    session fixture of a parameter (``backend``) when the next test has another."""
    factories: dict[str, EmptyDatabase] = {}
    yield factories
    for factory in factories.values():
        factory.cleanup()


@pytest.fixture(scope="session")
def databases(backend, _database_factories, tmp_path_factory) -> EmptyDatabase:
    if backend not in _database_factories:
        _database_factories[backend] = EmptyDatabase(backend, tmp_path_factory)
    return _database_factories[backend]


@pytest.fixture
def empty_url(databases) -> Iterator[str]:
    """URL of a new, empty database (schema not created) of the backend under test, dropped
    after the test."""
    url = databases.url()
    yield url
    databases.drop(url)


@pytest.fixture(scope="session")
def engine(databases) -> Engine:
    """A migrated, otherwise empty database of the backend under test (shared by the session;
    use the ``conn`` fixture to keep each test's writes inside a rolled-back transaction)."""
    return databases.shared_engine("migrated")


@contextmanager
def rolled_back(engine: Engine) -> Iterator[sa.Connection]:
    """A connection inside a transaction that is rolled back when the block ends."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def conn(engine) -> Iterator[sa.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with rolled_back(engine) as connection:
        yield connection


@pytest.fixture(scope="session")
def demo_engine(databases) -> Engine:
    """A database of the backend under test holding the demo data (read-only for tests;
    a test that writes asks ``databases.demo_url()`` for its own copy)."""
    return databases.shared_engine("demo")


@pytest.fixture(scope="session")
def demo_url(demo_engine) -> str:
    return demo_engine.url.render_as_string(hide_password=False)


# ---------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Commands that always run in a real subprocess: they serve until stopped.
SUBPROCESS_COMMANDS = {"serve"}


def run_cli(*args: str, env: dict | None = None, check: bool = False, timeout: float = 300,
            input: str | None = None, subprocess_: bool = False) -> subprocess.CompletedProcess:
    """Run ``atlas ARGS``; capture text output, stdin from ``input``.

    In this process by default, through the console script's own entry point
    (:func:`api.cli.main`) with stdin, stdout, stderr and the environment swapped for the
    call: a new interpreter spends 2-3 s importing for each command. ``subprocess_=True``
    (and ``serve``) runs a real ``python -m api.cli`` instead; a few tests keep doing so to
    check the entry point itself.
    """
    if subprocess_ or SUBPROCESS_COMMANDS & set(args):
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", *args], input=input,
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout,
        )
    else:
        result = _run_cli_here(list(args), env or {}, input)
    if check and result.returncode != 0:
        raise AssertionError(f"atlas {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _run_cli_here(args: list[str], env: dict, input: str | None) -> subprocess.CompletedProcess:
    import traceback
    import weakref

    from click.testing import CliRunner
    from sqlalchemy import event

    from api import cli
    from geo.settings import get_settings

    engines: weakref.WeakSet = weakref.WeakSet()

    def track(connection) -> None:
        engines.add(connection.engine)

    runner = CliRunner()
    event.listen(Engine, "engine_connect", track)
    get_settings.cache_clear()  # the settings are read from the environment given here
    try:
        with runner.isolation(input=input, env=env) as (out, err, _):
            try:
                cli.main(args)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if exc.code is not None and not isinstance(exc.code, int):
                    sys.stderr.write(f"{exc.code}\n")
            except BaseException:  # what the interpreter would print before exiting with 1
                traceback.print_exc(file=sys.stderr)
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = out.getvalue(), err.getvalue()
    finally:
        event.remove(Engine, "engine_connect", track)
        get_settings.cache_clear()
        for engine in list(engines):  # a command's process would end here, closing its connections
            engine.dispose()
    return subprocess.CompletedProcess(["atlas", *args], code, stdout.decode("utf-8", "replace"),
                                       stderr.decode("utf-8", "replace"))


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``env`` added, for the duration of the block (settings are read from it)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Site:
    """The real application in this process over one database, spoken to over HTTP without a
    socket (Starlette's ``TestClient``, an httpx client): no server start-up, no network
    timeouts.

    ``get/post/patch/put/delete/request`` take a path (``"/api/auth/me"``) or a URL on
    :attr:`base` (the OGC links) and behave like ``httpx.get`` & co.: no redirects followed,
    no cookies kept between calls. :meth:`session` gives a client that keeps cookies, as a
    browser does. ``env`` holds ``ATLAS_*`` settings for this application only.

    Like a server process, the application runs one event loop (a thread of its own, the
    portal of its first client) from construction to :meth:`close`, with its lifespan run once
    at each end; every client of :meth:`session` sends its requests to that loop. (A client
    not entered starts a thread and a loop per request: twice the CPU of a request.)
    """

    base = "http://testserver"

    def __init__(self, db_url: str, env: dict[str, str] | None = None):
        from api.app import create_app
        from geo.settings import Settings

        with environment(env or {}):
            settings = Settings(database_url=db_url)
        self.url = db_url
        self.engine = make_engine(db_url)
        self.app = create_app(engine=self.engine, settings=settings)
        self.client = self._client()
        try:
            self.client.__enter__()  # the loop's thread starts and the lifespan's start-up runs
        except BaseException:
            self.engine.dispose()
            raise

    def _client(self, cls: type[TestClient] = TestClient, **options) -> TestClient:
        headers = options.pop("headers", None)
        options.pop("timeout", None)  # nothing travels over a network
        client = cls(self.app, base_url=options.pop("base_url", self.base),
                            raise_server_exceptions=False, follow_redirects=False, **options)
        if headers:
            client.headers.update(headers)
        return client

    def session(self, **options) -> _SessionClient:
        """A client of its own that keeps cookies between requests (``httpx.Client`` options),
        on this application's event loop; ``with`` closes it."""
        client = self._client(_SessionClient, **options)
        client.portal = self.client.portal
        return client

    def request(self, method: str, url: str, **kwargs):
        kwargs.pop("timeout", None)
        try:
            return self.client.request(method, url, **kwargs)
        finally:
            self.client.cookies.clear()

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs):
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs):
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        """The lifespan's shutdown (the loop's PostgreSQL connections closed), the loop's thread
        ended, the engine disposed of. Twice is harmless."""
        try:
            if self.client.portal is not None:
                self.client.__exit__(None, None, None)
        finally:
            self.engine.dispose()

    stop = close


class _SessionClient(TestClient):
    """A client of :meth:`Site.session`: its requests go to the site's event loop, so ``with``
    neither starts a loop nor runs the lifespan again; leaving the block closes the client."""

    def __enter__(self) -> _SessionClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class Server:
    """``atlas serve`` running in a subprocess on a free port (for tests of start-up and
    serving, the browser tests and schemathesis; everything else uses :class:`Site`)."""

    #: Starts on a port another process took between :func:`free_port` and the bind (a second
    #: test run on the same machine) are retried on a new port, this many times in all.
    PORT_ATTEMPTS = 5

    def __init__(self, db_url: str, env: dict | None = None, args: tuple[str, ...] = ()):
        for attempt in range(1, self.PORT_ATTEMPTS + 1):
            self.port = free_port()
            self.base = f"http://127.0.0.1:{self.port}"
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--db", db_url, "--port", str(self.port), *args],
                cwd=ROOT, env={**os.environ, **(env or {})},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            try:
                self._wait()
                return
            except _PortTaken:
                if attempt == self.PORT_ATTEMPTS:
                    raise

    def _wait(self) -> None:
        """Until ``/health`` answers or the process ends (however long a loaded machine takes)."""
        import httpx

        # One client for the whole wait: a new one loads the CA bundle (20-50 ms of CPU).
        with httpx.Client(timeout=CLIENT_TIMEOUT_S) as client:
            while True:
                if self.process.poll() is not None:
                    out, err = self.process.communicate()
                    error = _PortTaken if "address already in use" in err.lower() else RuntimeError
                    raise error(f"atlas serve exited early:\n{out}\n{err}")
                # Ask /health only once this process listens: the port may be another run's server.
                try:
                    if self._listening() and client.get(f"{self.base}/health").status_code == 200:
                        return
                except httpx.TransportError:  # not listening yet
                    pass
                # Each look is a read of /proc/net/tcp until the port listens: cheap, and a start
                # waited up to a whole interval past the moment it was ready.
                time.sleep(0.05)

    def _listening(self) -> bool:
        """Whether this server's process (or, with ``--workers``, a child of it) listens on its
        port (psutil: a dependency of Dask's distributed)."""
        import psutil

        if _nobody_listens_on(self.port):  # cheap; the walk of the processes below is not
            return False
        try:
            parent = psutil.Process(self.process.pid)
            processes = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return False
        for process in processes:
            try:
                sockets = process.net_connections(kind="tcp")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port for c in sockets):
                return True
        return False

    def stop(self) -> tuple[str, str]:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.communicate()


def _nobody_listens_on(port: int) -> bool:
    """True when no socket of this machine listens on TCP ``port`` (Linux's ``/proc/net/tcp``
    tables); False when one does or the tables cannot be read."""
    wanted = f":{port:04X}"
    try:
        tables = [Path(f"/proc/net/{name}").read_text().splitlines()[1:] for name in ("tcp", "tcp6")]
    except OSError:
        return False
    # each line: sl local_address rem_address st ...; 0A is LISTEN
    return not any(fields[1].endswith(wanted) and fields[3] == "0A"
                   for table in tables for fields in (line.split() for line in table))


class _PortTaken(RuntimeError):
    """``atlas serve`` could not bind its port: another process took it first."""


#: Timeout of every HTTP client talking to a real server [s]: generous, a loaded machine is slow.
CLIENT_TIMEOUT_S = 300


@pytest.fixture(scope="session")
def demo_server(demo_url) -> Iterator[Site]:
    """The application in this process over the demo database of the backend under test
    (``tests/browser`` overrides it with a real ``atlas serve``)."""
    site = Site(demo_url)
    yield site
    site.close()


@pytest.fixture(scope="session")
def live_server(demo_url) -> Iterator[Server]:
    """A real ``atlas serve`` over the demo database of the backend under test, one per backend
    and pytest worker, for clients that need a socket: the browser, GDAL's OAPIF driver, OWSLib."""
    server = Server(demo_url)
    yield server
    server.stop()


# ---------------------------------------------------------------------- scheduling


#: Set in the new pytest process of tests/test_single_thread.py, which runs the tests marked
#: ``single_thread``; every other run leaves them out (deselected, not skipped).
SINGLE_THREAD_RUN = "ATLAS_SINGLE_THREAD_RUN"


def _leave_out_single_thread_tests(config, items) -> None:
    """The tests marked ``single_thread`` need a process of one thread: the import's reader
    process is forked only from such a process (geo.io.prefetch), and a test run's processes
    hold the threads earlier tests left (Dask's, anyio's, Playwright's). They run in a new
    pytest process started by tests/test_single_thread.py."""
    if os.environ.get(SINGLE_THREAD_RUN) == "1":
        return
    left = [item for item in items if item.get_closest_marker("single_thread")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not item.get_closest_marker("single_thread")]


def pytest_collection_modifyitems(config, items) -> None:
    """Start the tests marked ``long`` (a minute or more) first, shared out among the workers.

    ``./test.sh`` runs pytest-xdist's ``worksteal``: worker *k* first gets the *k*-th
    contiguous block of the collection, and a worker that runs dry takes the second half of
    another's queue. A long test at the end of a block kept its worker busy while the other had
    nothing left; at the head of the blocks, each worker starts with its share of them and
    the short tests fill in around.

    A long test goes to a block whose short tests start on its backend: a worker whose next
    test has the other backend tears down every session fixture of the one before (the demo
    server, the accounts' logins, ...) and makes them again when it comes back, so the long
    tests of both backends at the head of every block cost each worker several such turns.
    Only the order changes, never how a test is checked; what runs changes only by the tests
    marked ``single_thread``, left to their own process (:func:`_leave_out_single_thread_tests`)."""
    _leave_out_single_thread_tests(config, items)
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    long = [item for item in items if item.get_closest_marker("long")]
    if workers < 2 or not long:
        return
    rest = [item for item in items if not item.get_closest_marker("long")]
    sizes, remaining = [], len(items)
    for block in range(workers):
        sizes.append(remaining // (workers - block))  # as worksteal shares the collection out
        remaining -= sizes[-1]
    leads = [next(filter(None, map(_backend_of, rest[len(rest) * block // workers:])), None)
             for block in range(workers)]
    mine: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for item in long:
        backend = _backend_of(item)
        candidates = [block for block in range(workers) if leads[block] == backend] or range(workers)
        mine[min(candidates, key=lambda block: len(mine[block]))].append(item)
    ordered, short = [], iter(rest)
    for block, size in enumerate(sizes):
        head = sorted(mine[block], key=lambda item: _backend_of(item) == leads[block])  # the lead's last
        ordered += head + [next(short) for _ in range(max(0, size - len(head)))]
    ordered += list(short)
    assert sorted(map(id, ordered)) == sorted(map(id, items))
    items[:] = ordered


def pytest_configure(config) -> None:
    """Cheap password hashes (:func:`_quick_password_hashes`), and full garbage collections ten
    times rarer in the test processes. A worker holds 700,000
    objects the collector tracks (the libraries, every collected test, the fixtures' frames and
    applications); each full collection visits them all, 0.15 s, and the default schedule ran
    one every few seconds: 2.4-2.7 s of CPU in tests/api/test_ogc.py's 35 s, 0.36 s with this.
    Only when cyclic garbage is freed changes (memory, not behaviour); the application keeps
    Python's defaults (see geo.heap for what it does instead)."""
    import gc

    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)
    _quick_password_hashes()


def _quick_password_hashes() -> None:
    """argon2id with its smallest cost (one pass over 1 MiB: a millisecond) for the passwords
    this test process hashes and checks, instead of the application's RFC 9106 profile (three
    passes over 64 MiB, 0.2 s of CPU per login). The suite logs in over and over (every
    fixture's accounts, each failed login against the unknown name's stand-in hash), and no
    test is about the cost: the hashes are made and checked by the same code, the parameters
    travel inside each hash (a real ``atlas serve`` checks the test accounts' hashes at their
    cost), and the servers started as processes keep the real profile for what they hash."""
    from argon2 import PasswordHasher

    from api import security

    security._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._dummy_hash.cache_clear()


def _backend_of(item: pytest.Item) -> str | None:
    """The ``backend`` parameter of a test, None when it has none."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("backend") if callspec is not None else None


# ---------------------------------------------------------------------- CI guard


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if REQUIRE_POSTGIS:
        skipped = terminalreporter.stats.get("skipped", [])
        if skipped:
            terminalreporter.write_line(
                f"ATLAS_REQUIRE_POSTGIS=1: {len(skipped)} test(s) skipped; failing the run",
                red=True,
            )


def pytest_sessionfinish(session, exitstatus) -> None:
    if REQUIRE_POSTGIS:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and reporter.stats.get("skipped"):
            session.exitstatus = 1
