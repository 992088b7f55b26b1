"""Bounded in-process caches for results that are expensive to compute and cheap to keep.

A cache never decides freshness itself: a caller keys each entry by everything the result
depends on (for registry data, :func:`geo.storage.state_token`), so a changed input is a new
key and an old entry is simply never asked for again, then dropped as least recently used.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class BoundedCache(Generic[T]):
    """A thread-safe mapping that keeps the ``size`` most recently used entries.

    Parameters
    ----------
    size
        Most entries kept [1]; the least recently used goes first.
    """

    def __init__(self, size: int):
        if int(size) < 1:
            raise ValueError(f"cache size {size!r} must be 1 or more")
        self.size = int(size)
        self._entries: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> T | None:
        """The entry under ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._entries:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value: T) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The entry under ``key``, computed by ``compute()`` and kept when missing.

        ``compute`` runs outside the lock: two threads missing the same key at once both
        compute it (the results are equal), and no caller waits on another's computation.
        An exception is raised to the caller and nothing is kept.
        """
        found = self.get(key)
        if found is not None:
            return found
        value = compute()
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Any) -> bool:
        return key in self._entries


class StampedCache(Generic[T]):
    """A :class:`BoundedCache` whose entries hold only while a stamp is unchanged and for at
    most ``ttl_s`` seconds: for answers that must follow changes at once (a stamp such as
    :func:`geo.storage.registry_stamp` says there was one, at no cost) and within a bounded
    time those the stamp cannot see.

    Parameters
    ----------
    size
        Most entries kept [1].
    ttl_s
        Longest an entry is served [s].
    """

    def __init__(self, size: int, *, ttl_s: float):
        self._entries: BoundedCache[tuple[Hashable, float, T]] = BoundedCache(size)
        self.ttl_s = float(ttl_s)

    def get_or_compute(self, key: Hashable, stamp: Hashable, compute: Callable[[], T],
                       *, life_of: Callable[[T], float | None] | None = None) -> T:
        """The entry under ``key`` if it was computed under ``stamp`` and is not too old; else
        ``compute()``, kept under ``stamp`` (read the stamp *before* reading the data, so a
        change meanwhile leaves a stale entry that is never served). ``life_of(value)`` may
        shorten an entry's life [s] (e.g. to an API key's expiry). An exception keeps nothing."""
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] == stamp and now < found[1]:
            return found[2]
        value = compute()
        life = self.ttl_s
        shorter = life_of(value) if life_of is not None else None
        if shorter is not None:
            life = min(life, shorter)
        self._entries.put(key, (stamp, now + life, value))
        return value

    def peek(self, key: Hashable, stamp: Hashable) -> T | None:
        """The entry under ``key`` if :meth:`get_or_compute` would serve it now, else None
        (computing nothing)."""
        found = self._entries.get(key)
        if found is not None and found[0] == stamp and time.monotonic() < found[1]:
            return found[2]
        return None

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
