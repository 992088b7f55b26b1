"""Items made in a forked reader process (geo.io.prefetch): in order, errors where they were
raised, and no process left behind however the caller leaves."""

from __future__ import annotations

import itertools
import multiprocessing
import os

import pytest

from geo.errors import ValidationError
from geo.io import prefetch

#: A child is forked only from a process of one thread: run by tests/test_single_thread.py.
pytestmark = pytest.mark.single_thread


def _pids_and_numbers(n: int):
    for i in range(n):
        yield os.getpid(), i


def _two_then_error():
    yield 1
    yield 2
    raise ValidationError("households.csv line 3: not a valid CSV row")


def _endless():
    for i in itertools.count():
        yield os.getpid(), "x" * 100_000, i  # larger than the pipe holds: the child waits in send()


def test_items_come_in_order_from_a_child_process():
    assert prefetch.can_fork()  # a process of one thread (marker single_thread)
    with prefetch.prefetched(lambda: _pids_and_numbers(5)) as items:
        got = list(items)
    assert [i for _, i in got] == [0, 1, 2, 3, 4]
    assert {pid for pid, _ in got} != {os.getpid()} and len({pid for pid, _ in got}) == 1
    assert not multiprocessing.active_children()


def test_without_a_child_the_items_are_made_here():
    with prefetch.prefetched(lambda: _pids_and_numbers(3), child=False) as items:
        assert list(items) == [(os.getpid(), 0), (os.getpid(), 1), (os.getpid(), 2)]


def test_an_error_in_the_child_is_raised_where_its_item_would_be():
    got = []
    with pytest.raises(ValidationError, match=r"^households.csv line 3: not a valid CSV row$"):
        with prefetch.prefetched(_two_then_error) as items:
            for item in items:
                got.append(item)
    assert got == [1, 2]
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("how", ["break", "raise"])
def test_leaving_early_ends_the_child(how):
    """The caller stops after one item (or fails while working on it): the child, blocked
    sending the next, ends and is reaped when the block is left."""
    pid = None
    with pytest.raises(RuntimeError) if how == "raise" else _nothing():
        with prefetch.prefetched(_endless) as items:
            for pid, _, _ in items:
                if how == "raise":
                    raise RuntimeError("the database refused the rows")
                break
    assert pid is not None and pid != os.getpid()
    assert not multiprocessing.active_children()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: no such process any more


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_child_killed_midway_is_an_error_not_a_short_file():
    """The reader process killed (say, by the kernel for memory): the caller gets an error,
    never fewer items as if the file had ended."""
    import signal

    from geo.errors import AtlasError

    got = 0
    with pytest.raises(AtlasError, match="reader process ended unexpectedly"):
        with prefetch.prefetched(_endless) as items:
            for pid, _, _ in items:
                got += 1
                if got == 1:
                    os.kill(pid, signal.SIGKILL)
    assert got >= 1 and not multiprocessing.active_children()
