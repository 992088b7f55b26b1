"""geo.heap.settle: the objects alive at start-up leave the full garbage collections, once per
process; an import and a server start both settle. Each case runs in a fresh interpreter (a
test worker has usually settled already, through the application's start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(script: str) -> str:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_settle_freezes_what_is_alive_once_and_later_objects_stay_collectable():
    out = _python(
        "import gc\n"
        "from geo import heap\n"
        "before = gc.get_freeze_count()\n"
        "first = heap.settle()\n"
        "frozen = gc.get_freeze_count()\n"
        "second = heap.settle()\n"
        "class Cycle: pass\n"
        "a = Cycle(); a.me = a; del a\n"  # garbage made after settling is still found
        "found = gc.collect()\n"
        "print(before, first, frozen > 1000, second, gc.get_freeze_count() == frozen, found >= 1)\n")
    assert out == "0 True True False True True"


def test_an_import_settles_the_heap(tmp_path):
    csv = tmp_path / "units.csv"
    csv.write_text("单位名称,单位类型\n自治区财政厅,党政机关\n", encoding="utf-8")
    out = _python(
        "import gc, sys\n"
        "from geo import migrate\n"
        "from geo.db import make_engine\n"
        "from geo.io import import_file\n"
        f"engine = make_engine('sqlite:///{tmp_path / 'a.sqlite'}')\n"
        "migrate.upgrade(engine)\n"
        "assert gc.get_freeze_count() == 0\n"
        f"report = import_file(engine, {str(csv)!r}, layer='units')\n"
        "print(report.inserted, gc.get_freeze_count() > 1000)\n")
    assert out == "1 True"


def test_the_server_settles_at_start_up(tmp_path):
    out = _python(
        "import gc\n"
        "from starlette.testclient import TestClient\n"
        "from api.app import create_app\n"
        "from geo import migrate\n"
        "from geo.db import make_engine\n"
        "from geo.settings import Settings\n"
        f"url = 'sqlite:///{tmp_path / 'a.sqlite'}'\n"
        "engine = make_engine(url)\n"
        "migrate.upgrade(engine)\n"
        "app = create_app(engine=engine, settings=Settings(database_url=url))\n"
        "assert gc.get_freeze_count() == 0\n"
        "with TestClient(app):\n"
        "    print(gc.get_freeze_count() > 1000)\n")
    assert out == "True"
