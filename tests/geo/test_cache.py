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


def test_a_stamped_entry_holds_only_under_its_stamp_and_its_life():
    from geo.cache import StampedCache

    cache: StampedCache[int] = StampedCache(8, ttl_s=3600)
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return value
        return run

    assert cache.get_or_compute("k", 1, compute(10)) == 10
    assert cache.get_or_compute("k", 1, compute(11)) == 10  # same stamp: kept
    assert cache.get_or_compute("k", 2, compute(12)) == 12  # the stamp changed: computed again
    assert cache.get_or_compute("k", 2, compute(13), life_of=lambda v: 0.0) == 12
    assert cache.get_or_compute("x", 2, compute(14), life_of=lambda v: -1.0) == 14  # born expired
    assert cache.get_or_compute("x", 2, compute(15)) == 15
    assert calls == [10, 12, 14, 15]


def test_a_stamped_cache_keeps_no_failure():
    from geo.cache import StampedCache

    cache: StampedCache[int] = StampedCache(8, ttl_s=3600)

    def fail():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("k", 1, fail)
    assert len(cache) == 0
