"""Items of an iterator made in a child process while the caller works on the ones before.

An import reads a table a chunk at a time: parsing chunk N+1 (the CSV module, the rows'
classification) and checking and writing chunk N are both Python, and one process runs one
of them at a time (the GIL). :func:`prefetched` runs the reading in a forked child that sends
each item through a pipe as soon as it is made; the pipe holds one item at most, so the child
is never more than one item ahead (memory stays flat), and it stops when the caller closes
its end.

The child is forked only where that is safe: from a process with one thread (a fork copies
only the calling thread, and a lock another thread held, an import's or a logger's, would
stay held in the child for ever). Elsewhere (the HTTP server's worker threads) the items are
made in the caller's process, as before; the answer is the same either way.

An exception raised while the child makes the items reaches the caller as raised, where the
item it stands for would have been; :class:`KeyboardInterrupt` is the caller's (the child
ignores it and ends when its pipe closes). Leaving the ``with`` block, however it is left,
ends and reaps the child: no process outlives the import.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from geo.errors import AtlasError

T = TypeVar("T")

#: How long the caller waits for the child to end after closing the pipe [s] before killing it.
STOP_WAIT_S = 5.0


def can_fork() -> bool:
    """Whether :func:`prefetched` would read in a child: a Unix process with one thread."""
    return hasattr(os, "fork") and threading.active_count() == 1


@contextmanager
def prefetched(make: Callable[[], Iterator[T]], *, child: bool = True) -> Iterator[Iterator[T]]:
    """The items of ``make()``, made in a forked child process (see the module docstring).

    Parameters
    ----------
    make
        Called in the child (or here, where no child is started) for the iterator.
    child
        False: make the items here (as where :func:`can_fork` is false).

    Yields
    ------
    Iterator
        The items, in order; raises what ``make()`` raised, where it raised it.
    """
    if not (child and can_fork()):
        yield make()
        return
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_produce, args=(make, receiving, sending), name="atlas-import-reader", daemon=True)
    process.start()
    sending.close()  # the child's end: the child's exit closes the pipe for good
    try:
        yield _received(receiving)
    finally:
        receiving.close()  # a child blocked in send() gets a broken pipe and ends
        process.join(STOP_WAIT_S)
        if process.is_alive():  # pragma: no cover - a child stuck outside send()
            process.kill()
            process.join()
        process.close()


def _received(receiving) -> Iterator:
    while True:
        try:
            kind, value = receiving.recv()
        except (EOFError, OSError):  # the child died (killed) between items or in the middle of one
            raise AtlasError("读取文件的子进程意外退出；什么也没有写入，请重新导入 (the import's reader process "
                             "ended unexpectedly, e.g. killed for lack of memory; nothing was written: import "
                             "again)") from None
        if kind == "item":
            yield value
        elif kind == "end":
            return
        else:
            raise value


def _produce(make: Callable[[], Iterator], receiving, sending) -> None:
    """In the child: send each item, then ``end`` or the exception raised."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the caller's; this ends with the pipe
    receiving.close()  # the caller's end: once the caller closes its copy, send() fails here
    try:
        for item in make():
            sending.send(("item", item))
        sending.send(("end", None))
    except (BrokenPipeError, ConnectionResetError):
        return  # the caller stopped reading (it failed, or is done)
    except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
        try:
            sending.send(("error", exc))
        except (BrokenPipeError, ConnectionResetError):
            return
        except Exception:  # an exception that does not pickle: its type and text
            sending.send(("error", AtlasError(f"{type(exc).__name__}: {exc}")))
