"""``atlas serve --workers N``: several uvicorn worker processes over the database given with
``--db``, each answering the OGC API (with HTTP Basic)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.accounts import CLIENT_TIMEOUT_S, PASSWORD, ensure_users
from tests.conftest import Server


def _descendants(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found |= {child} | _descendants(child)
    return found


def test_two_workers_serve_the_ogc_api(databases):
    from geo.db import make_engine

    url = databases.demo_url()
    engine = make_engine(url)
    ensure_users(engine)
    engine.dispose()
    server = Server(url, args=("--workers", "2"))
    try:
        python_children = [pid for pid in _descendants(server.process.pid)
                           if "python" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
        assert len(python_children) >= 2  # the workers (and uvicorn's own helper processes)
        with httpx.Client(auth=("t_leader", PASSWORD), timeout=CLIENT_TIMEOUT_S) as client:
            for _ in range(6):
                body = client.get(f"{server.base}/ogc/collections/villages/items").json()
                assert body["numberMatched"] == 45
    finally:
        server.stop()
