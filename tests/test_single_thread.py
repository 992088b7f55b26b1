"""The tests that need a process of one thread (marker ``single_thread``: the import's reader
process is forked only from such a process), run in a new pytest process of their own. The
run's own processes leave them out (tests/conftest.py): by the time a worker reaches them,
earlier tests have left threads in it (Dask's, anyio's, Playwright's), and the importer would
rightly read in-process instead."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SINGLE_THREAD_RUN

ROOT = Path(__file__).resolve().parents[1]


def _marked_files() -> list[str]:
    here = Path(__file__).resolve()
    return sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("test_*.py")
                  if path != here and "pytest.mark.single_thread" in path.read_text(encoding="utf-8"))


@pytest.mark.long
def test_the_tests_that_need_a_process_of_one_thread_pass_in_one():
    files = _marked_files()
    assert "tests/geo/io/test_prefetch.py" in files and "tests/geo/io/test_bulk_import.py" in files
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-m", "single_thread",
         *files],
        cwd=ROOT, env={**os.environ, SINGLE_THREAD_RUN: "1"}, capture_output=True, text=True, timeout=1800)
    said = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, said
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 10, said
    assert not re.search(r"\d+ (failed|error)", result.stdout), said
    print(result.stdout.strip().splitlines()[-1])
