"""Connections to PostgreSQL on the event loop, for the reads a server answers many times a
second (an OGC item, a page, a bbox page: :func:`geo.storage.query.read_rows_async`).

A sync read costs a trip through the server's thread pool, and psycopg releases and retakes
the GIL for every libpq call; with 16 handler threads on 2 cores those hand-offs queue. These
reads instead run on the event loop over psycopg's ``AsyncConnection``: autocommit (a read
needs no BEGIN/COMMIT), the session options of :func:`geo.db.make_engine`, at most
:data:`ASYNC_POOL_SIZE` per event loop, opened when first needed.

A pool belongs to one running event loop (a server process has one; Starlette's test client
runs a loop per request): :func:`pool_for` gives the running loop's, and drops the pools of
loops that have been closed. :func:`close_pools` closes the running loop's at shutdown.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from geo.db import pg_connect_kwargs

#: Most connections one event loop holds to one database. The loop itself is one thread: a
#: few connections keep PostgreSQL's backends (on other cores) busy while Python encodes.
ASYNC_POOL_SIZE = 4


class AsyncReadPool:
    """Autocommit ``AsyncConnection``s of one database for one event loop.

    Parameters
    ----------
    connect_kwargs
        psycopg's connection arguments (:func:`geo.db.pg_connect_kwargs`).
    size
        Most connections open at once [1]; further callers wait for one to come back.
    """

    def __init__(self, connect_kwargs: dict[str, Any], *, size: int = ASYNC_POOL_SIZE):
        self._kwargs = dict(connect_kwargs)
        self.size = int(size)
        self.loop = asyncio.get_running_loop()
        self._idle: collections.deque[psycopg.AsyncConnection] = collections.deque()
        self._waiters: collections.deque[asyncio.Future] = collections.deque()
        self._open = 0
        self.closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A connection for one read; it goes back to the pool afterwards, or is closed when
        the read failed on it (a broken connection is never handed out again).

        Raises
        ------
        psycopg.OperationalError
            The server cannot be reached.
        """
        conn = await self._acquire()
        try:
            yield conn
        except BaseException:
            self._discard(conn)
            raise
        self._release(conn)

    async def _acquire(self) -> psycopg.AsyncConnection:
        if self.closed:
            raise psycopg.OperationalError("the pool is closed")
        while self._idle:
            conn = self._idle.pop()  # the most recently used: its prepared statements are warm
            if not (conn.closed or conn.broken):
                return conn
            self._open -= 1
        if self._open >= self.size:
            waiter = self.loop.create_future()
            self._waiters.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # handed over as the caller gave up
                    handed = waiter.result()
                    if handed is None:
                        self._free_slot()
                    else:
                        self._release(handed)
                raise
            if conn is not None:
                return conn
            # else: the slot of a discarded connection, ours to open a new one in
        else:
            self._open += 1
        try:
            return await psycopg.AsyncConnection.connect(autocommit=True, **self._kwargs)
        except BaseException:
            self._free_slot()
            raise

    def _release(self, conn: psycopg.AsyncConnection) -> None:
        if (self.closed or conn.closed or conn.broken
                or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE):
            self._discard(conn)
            return
        if not self._wake(conn):
            self._idle.append(conn)

    def _discard(self, conn: psycopg.AsyncConnection) -> None:
        _finish(conn)
        self._free_slot()

    def _free_slot(self) -> None:
        """A connection slot is free: hand it to a waiter (which then connects), else count it."""
        if self.closed or not self._wake(None):
            self._open -= 1

    def _wake(self, conn: psycopg.AsyncConnection | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    def close(self) -> None:
        """Close the idle connections; those in use close when they come back."""
        self.closed = True
        while self._idle:
            _finish(self._idle.pop())
            self._open -= 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(psycopg.OperationalError("the pool is closed"))


def _finish(conn: psycopg.AsyncConnection) -> None:
    """Close ``conn`` without awaiting: ``AsyncConnection.close`` awaits nothing but this
    (``PQfinish``), and a pool of a loop that has ended cannot await anything any more."""
    if not conn.closed:
        conn.pgconn.finish()


#: The pools by the engine's connection pool (an engine and its ``execution_options`` copies
#: share one) and event loop.
_pools: weakref.WeakKeyDictionary[Any, dict[asyncio.AbstractEventLoop, AsyncReadPool]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def pool_for(engine: Engine) -> AsyncReadPool:
    """The running event loop's pool of ``engine``'s database (made now if it has none); the
    pools of loops that have ended (of any database) are closed and forgotten then, so a
    process that runs a loop per request (a test client) keeps no connection of the past.

    Raises
    ------
    RuntimeError
        Outside a running event loop.
    """
    loop = asyncio.get_running_loop()
    pools = _pools.get(engine.pool)
    found = None if pools is None else pools.get(loop)
    if found is not None:
        return found
    with _lock:
        for by_loop in list(_pools.values()):
            for other in [other for other in by_loop if other.is_closed()]:
                by_loop.pop(other).close()
        pools = _pools.get(engine.pool)
        if pools is None:
            pools = _pools[engine.pool] = {}
            # the engine disposed of or dropped: its loops' connections close with its pool
            weakref.finalize(engine.pool, _close_each, pools)
        found = pools.get(loop)
        if found is None:
            found = pools[loop] = AsyncReadPool(pg_connect_kwargs(engine))
        return found


def _close_each(pools: dict[asyncio.AbstractEventLoop, AsyncReadPool]) -> None:
    for pool in list(pools.values()):
        pool.close()
    pools.clear()


async def close_pools(engine: Engine) -> None:
    """Close the running loop's pool of ``engine`` (a server's shutdown)."""
    loop = asyncio.get_running_loop()
    with _lock:
        found = _pools.get(engine.pool, {}).pop(loop, None)
    if found is not None:
        found.close()
