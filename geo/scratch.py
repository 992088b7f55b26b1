"""Scratch folders for files received from outside (uploads), under one parent, so that what
a killed process left behind can be found and removed at the next start.

Every folder is ``<temp>/atlas-scratch-<user>/<kind>-<random>`` and holds an exclusive
``flock`` on itself while in use. The kernel drops that lock when its process ends, however
it ends (``kill -9`` included), so :func:`remove_stale` can tell a folder in use by another
live process (another server worker, a command) from one left behind, without trusting
process ids (which a restarted container reuses).
"""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no locks; only folders older than a day are treated as stale
    fcntl = None

PARENT_PREFIX = "atlas-scratch-"
#: Without locks (not POSIX), a folder this old is taken as left behind [s].
UNLOCKED_STALE_S = 24 * 3600


def scratch_root(base: str | os.PathLike | None = None) -> Path:
    """The parent of every scratch folder of this user (created private, 0700, if missing)."""
    try:
        user = str(os.getuid()) if hasattr(os, "getuid") else getpass.getuser()
    except (KeyError, OSError):  # no user name on this system: one shared parent
        user = "user"
    root = Path(base if base is not None else tempfile.gettempdir()) / f"{PARENT_PREFIX}{user}"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _lock(folder: Path, *, wait: bool) -> int | None:
    """An open descriptor of ``folder`` holding its exclusive lock, or None when another
    process holds it (only when not ``wait``)."""
    fd = os.open(folder, os.O_RDONLY)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextmanager
def holding(folder: Path) -> Iterator[Path]:
    """Hold ``folder``'s lock while in use, so :func:`remove_stale` in another process (an
    app starting) leaves it alone."""
    fd = _lock(folder, wait=True)
    try:
        yield folder
    finally:
        os.close(fd)


@contextmanager
def scratch_folder(kind: str = "upload", *, base: str | os.PathLike | None = None) -> Iterator[Path]:
    """A new private folder ``<kind>-<random>`` under :func:`scratch_root`, locked while in
    use and removed with everything in it afterwards (also on error)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=scratch_root(base)))
    fd = _lock(folder, wait=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if fd is not None:
            os.close(fd)


def remove_stale(*, older_than_s: float, base: str | os.PathLike | None = None) -> list[str]:
    """Remove the scratch folders left behind by processes that ended; the names removed.

    A folder is left behind when it was last changed before ``older_than_s`` (a time [s
    since the epoch], the start of the calling process) and no process holds its lock. A
    folder made or changed since, or locked by a live process, is kept.
    """
    root = scratch_root(base)
    removed = []
    for folder in sorted(root.iterdir()):
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_mtime >= older_than_s:
                continue
            if fcntl is None and folder.stat().st_mtime >= older_than_s - UNLOCKED_STALE_S:
                continue
            fd = _lock(folder, wait=False)
        except OSError:
            continue  # removed meanwhile by its owner, or not ours to open
        if fd is None:
            continue  # in use by a live process
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
        finally:
            os.close(fd)
    return removed
