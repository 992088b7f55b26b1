"""Concurrent writers through the real app, in process, on both backends (issue 13): two PATCHes
with the same If-Match never both succeed, writers racing on one row lose no update, readers
meanwhile never get a 5xx, and a write that cannot get SQLite's lock in time is a 503 with
Retry-After, never a 500.

The app runs in this process (Starlette's TestClient); its handlers run in AnyIO's thread
pool, so requests sent from several threads at once really do reach the database together.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from api.app import create_app
from geo import db, models, storage
from geo.db import make_engine
from geo.settings import Settings
from tests.api.accounts import PASSWORD, ensure_users

#: Trials of two same-version PATCHes sent at once.
PAIR_TRIALS = 30
#: Writers incrementing one row, and when they stop: this many successes or this long
#: [s], whichever comes first (a bound on the test's length, not an assertion).
WRITERS = 20
WRITER_SUCCESSES = 80
WRITER_SECONDS = 10.0
READERS = 3


class App:
    """The app over its own copy of the demo, with an administrator's token."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        ensure_users(self.engine)
        app = create_app(engine=self.engine, settings=Settings(database_url=url))
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.timeout = 300  # in process no request waits on a network, but never short
        self.client.__enter__()
        token = self.client.post("/api/auth/token", data={"username": "t_admin", "password": PASSWORD})
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.engine.dispose()

    def settlement(self) -> str:
        """The URL of a new settlement row, for one test to write to."""
        village = int(storage.read_layer(self.engine, "villages", limit=1)["id"].iloc[0])
        created = self.client.post("/api/registry/settlements", headers=self.headers, json={
            "village_id": village, "name": f"并发测试组{time.monotonic_ns()}", "population": 0})
        assert created.status_code == 201, created.text
        return created.headers["location"].removeprefix("http://testserver")

    def read(self, url: str) -> tuple[int, int]:
        """(version, population) of a row."""
        response = self.client.get(url, headers=self.headers)
        assert response.status_code == 200, response.text
        row = response.json()
        return row["version"], row["population"]

    def patch(self, url: str, version: int, population: int) -> int:
        response = self.client.patch(url, json={"population": population},
                                     headers={**self.headers, "If-Match": f'"{version}"'})
        if response.status_code >= 500:
            assert "Retry-After" in response.headers, response.text
        return response.status_code


@pytest.fixture(scope="module")
def app(databases) -> Iterator[App]:
    instance = App(databases.demo_url())
    yield instance
    instance.close()


def test_same_version_patches_give_one_200_and_one_412(app):
    url = app.settlement()
    outcomes = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for trial in range(PAIR_TRIALS):
            version, population = app.read(url)
            # even trials: both send the same value (a lost update looked like a no-op: 200);
            # odd trials: different values
            values = (population + 1, population + 1 + trial % 2)
            start = threading.Barrier(2)

            def send(value, version=version, start=start):
                start.wait()
                return app.patch(url, version, value)

            statuses = sorted(pool.map(send, values))
            outcomes.append(tuple(statuses))
    assert Counter(outcomes) == Counter({(200, 412): PAIR_TRIALS})
    version, population = app.read(url)
    assert version == 1 + PAIR_TRIALS


def test_racing_writers_lose_no_update_and_readers_see_no_5xx(app):
    url = app.settlement()
    start_version, start_value = app.read(url)
    statuses: Counter[int] = Counter()
    read_statuses: Counter[int] = Counter()
    lock = threading.Lock()
    done = threading.Event()
    deadline = time.monotonic() + WRITER_SECONDS

    def writer() -> None:
        while not done.is_set():
            version, value = app.read(url)
            status = app.patch(url, version, value + 1)
            with lock:
                statuses[status] += 1
                if statuses[200] >= WRITER_SUCCESSES or time.monotonic() > deadline:
                    done.set()

    def reader() -> None:
        while not done.is_set():
            for path in (url, "/api/registry/settlements?limit=50"):
                status = app.client.get(path, headers=app.headers).status_code
                with lock:
                    read_statuses[status] += 1

    with ThreadPoolExecutor(max_workers=WRITERS + READERS) as pool:
        futures = [pool.submit(writer) for _ in range(WRITERS)]
        futures += [pool.submit(reader) for _ in range(READERS)]
        for future in futures:
            future.result()

    successes = statuses[200]
    assert successes > 0
    assert set(statuses) <= {200, 412}, statuses
    assert set(read_statuses) == {200}, read_statuses
    version, value = app.read(url)
    assert value - start_value == successes
    assert version - start_version == successes


def test_a_write_that_cannot_get_the_lock_is_a_503_with_retry_after(app, backend, monkeypatch):
    url = app.settlement()
    row_id = int(url.rsplit("/", 1)[1])
    version, value = app.read(url)
    # An operator's bound on lock waits, made short: SQLite's busy timeout and the time a
    # write keeps asking; PostgreSQL's lock_timeout.
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(db, "WRITE_LOCK_WAIT_S", 0.5)
    impatient = make_engine(app.engine.url, check=False)
    if backend == "postgis":
        @sa.event.listens_for(impatient, "connect")
        def short_lock_timeout(dbapi_conn, _record):
            dbapi_conn.autocommit = True
            dbapi_conn.execute("SET lock_timeout = '100ms'")
            dbapi_conn.autocommit = False
    try:
        app.client.app.state.engine = impatient
        with db.connect(app.engine, write=True) as holder:  # another writer holds the lock
            storage.lock_row(holder, models.Settlement.__table__, row_id)
            response = app.client.patch(url, json={"population": value + 1},
                                        headers={**app.headers, "If-Match": f'"{version}"'})
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == str(db.RETRY_AFTER_S)
        assert "try again" in response.json()["detail"]
        assert app.read(url) == (version, value)  # nothing was written
    finally:
        app.client.app.state.engine = app.engine
        impatient.dispose()
