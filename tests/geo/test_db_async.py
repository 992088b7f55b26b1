"""PostgreSQL on the event loop (:mod:`geo.db_async`) and the reads that use it: the pool
bounds and reuses its connections, drops broken ones, survives a caller giving up, and
closes; :func:`geo.storage.read_rows_async` answers what :func:`geo.storage.read_rows`
answers (and leaves SpatiaLite to it)."""

from __future__ import annotations

import asyncio
import gc
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from geo import db_async, storage
from geo.db import check_schema, make_engine, pg_connect_kwargs
from geo.errors import ValidationError
from tests.conftest import ADMIN_URL, postgis_problem
from tests.api.test_ogc_request_path import HOT_READ_OPTIONS


def _in_a_thread(function, *args):
    """``function(*args)`` in a thread of its own: the test process's main thread may hold a
    running event loop (Playwright's sync API keeps one while the browser tests' session lasts),
    and ``asyncio.run`` refuses to start a loop there."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(function, *args).result()


def _run(coroutine):
    """``asyncio.run(coroutine)`` on a new loop in a thread of its own (:func:`_in_a_thread`)."""
    return _in_a_thread(asyncio.run, coroutine)


@pytest.fixture()
def pg_kwargs():
    problem = postgis_problem()
    if problem:
        pytest.skip(problem)
    engine = sa.create_engine(make_url(ADMIN_URL))
    yield pg_connect_kwargs(engine)
    engine.dispose()


async def _pid(pool: db_async.AsyncReadPool, *, sleep_s: float = 0.0) -> int:
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT pg_backend_pid(), pg_sleep(%s)", (sleep_s,))
        return (await cursor.fetchone())[0]


def test_the_pool_bounds_and_reuses_its_connections(pg_kwargs):
    async def main():
        pool = db_async.AsyncReadPool(pg_kwargs, size=3)
        pids = await asyncio.gather(*(_pid(pool, sleep_s=0.02) for _ in range(20)))
        again = await _pid(pool)
        state = pool._open, len(pool._idle)
        pool.close()
        return pids, again, state

    pids, again, (opened, idle) = _run(main())
    assert len(pids) == 20 and 1 <= len(set(pids)) <= 3
    assert again in pids
    assert opened == idle == len(set(pids))


def test_a_connection_the_server_closed_is_dropped(pg_kwargs):
    async def main():
        pool = db_async.AsyncReadPool(pg_kwargs, size=2)
        first = await _pid(pool)
        async with await psycopg.AsyncConnection.connect(autocommit=True, **pg_kwargs) as admin:
            await admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        with pytest.raises(psycopg.OperationalError):
            await _pid(pool)
        second = await _pid(pool)
        state = pool._open
        pool.close()
        return first, second, state

    first, second, opened = _run(main())
    assert second != first
    assert opened == 1


def test_a_caller_that_gives_up_waiting_frees_nothing_it_did_not_take(pg_kwargs):
    async def main():
        pool = db_async.AsyncReadPool(pg_kwargs, size=1)
        async with pool.connection():
            waiting = asyncio.ensure_future(_pid(pool))
            await asyncio.sleep(0)
            waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        pid = await _pid(pool)
        state = pool._open, len(pool._idle)
        pool.close()
        with pytest.raises(psycopg.OperationalError, match="closed"):
            await _pid(pool)
        return pid, state

    pid, (opened, idle) = _run(main())
    assert pid > 0 and opened == idle == 1


def test_each_event_loop_has_its_pool_and_an_ended_loops_is_closed(demo_engine):
    if demo_engine.dialect.name != "postgresql":
        assert _run(storage.read_rows_async(demo_engine, "households", ids=[1], limit=1)) is None
        return

    async def pool_and_read():
        pool = db_async.pool_for(demo_engine)
        assert db_async.pool_for(demo_engine) is pool
        await storage.read_rows_async(demo_engine, "households", ids=[1], limit=1)
        return pool, list(pool._idle)

    check_schema(demo_engine)
    first, idle = _run(pool_and_read())
    assert idle and not any(conn.closed for conn in idle)
    second, _ = _run(pool_and_read())
    assert second is not first
    assert first.closed and all(conn.closed for conn in idle)
    _run(db_async.close_pools(demo_engine))  # the running loop's only: none here now


def test_an_engine_disposed_of_closes_its_event_loop_connections(demo_engine):
    if demo_engine.dialect.name != "postgresql":
        return
    engine = make_engine(demo_engine.url.render_as_string(hide_password=False))
    check_schema(engine)

    async def read_in_a_live_loop():
        await storage.read_rows_async(engine, "households", ids=[1], limit=1)
        return list(db_async.pool_for(engine)._idle)

    def in_a_live_loop() -> None:
        loop = asyncio.new_event_loop()  # left open: no later pool_for sweeps it as an ended loop's
        try:
            idle = loop.run_until_complete(read_in_a_live_loop())
            assert idle and not any(conn.closed for conn in idle)
            engine.dispose()  # a new connection pool: the old one, and its loops' connections, go
            gc.collect()
            assert all(conn.closed for conn in idle)
        finally:
            loop.close()

    _in_a_thread(in_a_live_loop)


@pytest.mark.parametrize("options", HOT_READ_OPTIONS)
def test_read_rows_async_answers_what_read_rows_answers(demo_engine, options):
    check_schema(demo_engine)
    found = _run(storage.read_rows_async(demo_engine, "households", **options))
    if demo_engine.dialect.name != "postgresql":
        assert found is None  # SpatiaLite keeps the general path
        return
    assert found == storage.read_rows(demo_engine, "households", **options)
    assert options.get("ids") == [999_999] or found[1]


def test_other_reads_are_left_to_read_rows(demo_engine):
    check_schema(demo_engine)
    for options in ({"limit": 5, "sortby": [("members", True)]}, {"limit": 5, "where": {"members": 3}},
                    {"limit": 5, "township": ["兴仁镇"]}, {"ids": [1, 2], "limit": 2}):
        assert _run(storage.read_rows_async(demo_engine, "households", **options)) is None


def test_counts_on_the_event_loop_match_the_general_count(demo_engine):
    check_schema(demo_engine)
    for filters in ({"bbox": (104.0, 36.0, 106.0, 38.0)}, {"township": [1]}, {}):
        found = _run(storage.matched_rows_async(demo_engine, "households", at_most=100_000,
                                                       estimate_above=10_000, **filters))
        if demo_engine.dialect.name != "postgresql":
            assert found is None
            continue
        assert found == storage.matched_rows(demo_engine, "households", at_most=100_000, estimate_above=10_000,
                                             **filters)
    if demo_engine.dialect.name == "postgresql":  # a count beyond at_most is none, as matched_rows says
        assert _run(storage.matched_rows_async(demo_engine, "households", at_most=2)) == (None, False)


def test_a_bbox_with_min_above_max_is_refused_on_the_event_loop_too(demo_engine):
    check_schema(demo_engine)
    if demo_engine.dialect.name != "postgresql":
        return
    with pytest.raises(ValidationError, match="min <= max"):
        _run(storage.read_rows_async(demo_engine, "households", bbox=(105.3, 37.3, 105.0, 37.6), limit=10))
