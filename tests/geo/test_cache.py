"""The bounded in-process cache: least recently used first out, errors never kept."""

from __future__ import annotations

import pytest

from geo.cache import BoundedCache


def test_keeps_the_most_recently_used_entries():
    cache: BoundedCache[int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert len(cache) == 2 and "b" not in cache
    assert cache.get("a") == 1 and cache.get("c") == 3 and cache.get("b") is None
    assert (cache.hits, cache.misses) == (3, 1)


def test_computes_once_and_keeps_no_failure():
    cache: BoundedCache[list] = BoundedCache(4)
    calls = []

    def compute():
        calls.append(1)
        return ["value"]

    first = cache.get_or_compute(("k", 1), compute)
    assert cache.get_or_compute(("k", 1), compute) is first
    assert len(calls) == 1

    def fail():
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        cache.get_or_compute("broken", fail)
    assert "broken" not in cache
    cache.clear()
    assert len(cache) == 0 and cache.get(("k", 1)) is None


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="1 or more"):
        BoundedCache(0)
