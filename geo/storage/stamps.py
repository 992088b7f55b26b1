"""Change stamps: a value per database and topic (``registry``, ``accounts``) that changes
whenever an atlas process on this host changes that part of the database, read without SQL.

Caches that must obey changes at once, but cannot afford a query per request to ask (who
an API key belongs to; a vector tile), keep the stamp they read before computing an answer
and serve it only while the stamp is the same. A stamp has two parts: a counter of this
process's changes, and the modification time of a file in the temporary folder that every
atlas process touches after its change committed (``atlas import`` while the server runs,
another ``atlas serve`` worker). Changes by other hosts or by hand-written SQL do not touch
it: those caches also keep answers for a bounded time only.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from geo.db import Bind, after_release

_counters: dict[tuple[str, str], int] = {}
_lock = threading.Lock()


def database_of(bind: Bind) -> str:
    """The database a bind works on, as one text (password hidden; a SQLite path made absolute)."""
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    url = engine.url
    relative = url.get_backend_name() == "sqlite" and not os.path.isabs(url.database or "/")
    return _database_text(url, os.getcwd() if relative else "")


@functools.lru_cache(maxsize=256)
def _database_text(url: sa.URL, cwd: str) -> str:
    """:func:`database_of` for one URL (and, for a relative SQLite path, the working folder it
    is relative to), worked out once: every authenticated request reads two stamps, and
    resolving the path walks it with a system call per folder (a tenth of the time of a small
    request in process)."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not url.database.startswith("file:"):
        url = url.set(database=str((Path(cwd) / Path(url.database).expanduser()).resolve()))
    return url.render_as_string(hide_password=True)


def _path(database: str, topic: str) -> Path:
    digest = hashlib.blake2b(f"{database}\n{topic}".encode(), digest_size=8).hexdigest()
    return Path(tempfile.gettempdir()) / f"atlas-{topic}-{digest}.stamp"


def read(bind: Bind, topic: str) -> tuple[int, int]:
    """The stamp of ``topic`` on the bind's database (one ``stat``, no SQL)."""
    database = database_of(bind)
    try:
        mtime = os.stat(_path(database, topic)).st_mtime_ns
    except OSError:
        mtime = 0
    return _counters.get((database, topic), 0), mtime


def _bump_database(database: str, topic: str) -> None:
    with _lock:
        _counters[(database, topic)] = _counters.get((database, topic), 0) + 1
    path = _path(database, topic)
    try:
        path.touch(exist_ok=True)
        now = time.time_ns()
        os.utime(path, ns=(now, max(now, os.stat(path).st_mtime_ns + 1)))  # later, even on coarse clocks
    except OSError:  # a read-only temporary folder: other processes rely on their caches' time limits
        pass


def bump(bind: Bind, topic: str) -> None:
    """Change the stamp now (call it after the change committed)."""
    _bump_database(database_of(bind), topic)


def bump_after_release(conn: sa.Connection, topic: str) -> None:
    """Change the stamp now, and again when ``conn`` goes back to its pool (after its
    transaction committed or rolled back): an answer a cache computed from the data before the
    commit is never kept under the final stamp."""
    database = database_of(conn)
    _bump_database(database, topic)
    after_release(conn, f"stamp:{topic}", lambda: _bump_database(database, topic))
