"""Scratch folders: a folder left behind by a process killed with SIGKILL is removed by the next
start; one in use by a live process, or made after the start, is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo import scratch

HOLDER = """
import sys, time
from geo.scratch import scratch_folder
with scratch_folder("upload", base=sys.argv[1]) as folder:
    (folder / "survey.csv").write_text("户主,身份证号\\n", encoding="utf-8")
    print(folder, flush=True)
    time.sleep(600)
"""


def _holder(base: Path) -> tuple[subprocess.Popen, Path]:
    """A process holding a scratch folder under ``base`` (and the folder)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(base)], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    return process, Path(process.stdout.readline().strip())


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_folder_of_a_killed_process_is_removed_and_a_live_ones_kept(tmp_path):
    killed, left = _holder(tmp_path)
    alive, used = _holder(tmp_path)
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=120)
        assert (left / "survey.csv").exists()  # a kill -9 leaves the upload behind
        started = max(left.stat().st_mtime, used.stat().st_mtime) + 1  # the next server starts later
        assert scratch.remove_stale(older_than_s=started, base=tmp_path) == [left.name]
        assert not left.exists() and (used / "survey.csv").exists()
    finally:
        alive.kill()
        alive.wait(timeout=120)
    assert scratch.remove_stale(older_than_s=time.time() + 1, base=tmp_path) == [used.name]


def test_a_folder_newer_than_the_start_is_kept(tmp_path):
    root = scratch.scratch_root(tmp_path)
    (root / "upload-new").mkdir()
    assert scratch.remove_stale(older_than_s=time.time() - 60, base=tmp_path) == []
    assert (root / "upload-new").exists()


def test_folders_are_private_and_removed_after_use(tmp_path):
    with scratch.scratch_folder("upload", base=tmp_path) as folder:
        (folder / "a.zip").write_bytes(b"PK")
        assert folder.parent == scratch.scratch_root(tmp_path)
        assert folder.parent.stat().st_mode & 0o777 == 0o700
    assert not folder.exists()
    with pytest.raises(RuntimeError), scratch.scratch_folder("upload", base=tmp_path) as folder:
        raise RuntimeError("the import failed")
    assert not folder.exists()
