"""``atlas serve --workers N``: several uvicorn worker processes over the database given with
``--db``, each answering the OGC API (with HTTP Basic)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.api.accounts import CLIENT_TIMEOUT_S, PASSWORD, ensure_users
from tests.conftest import Server


def _descendants(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found |= {child} | _descendants(child)
    return found


@pytest.fixture(scope="module")
def two_workers(databases) -> Iterator[tuple[Server, str]]:
    """``atlas serve --workers 2`` over a copy of the demo (and that copy's URL)."""
    from geo.db import make_engine

    url = databases.demo_url()
    engine = make_engine(url)
    ensure_users(engine)
    engine.dispose()
    server = Server(url, args=("--workers", "2"))
    try:
        yield server, url
    finally:
        server.stop()


def test_two_workers_serve_the_ogc_api(two_workers):
    server, _ = two_workers
    python_children = [pid for pid in _descendants(server.process.pid)
                       if "python" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
    assert len(python_children) >= 2  # the workers (and uvicorn's own helper processes)
    with httpx.Client(auth=("t_leader", PASSWORD), timeout=CLIENT_TIMEOUT_S) as client:
        for _ in range(6):
            body = client.get(f"{server.base}/ogc/collections/villages/items").json()
            assert body["numberMatched"] == 45


def test_the_first_requests_for_the_openapi_document_get_the_whole_document(two_workers):
    """The server builds the OpenAPI document on its first request, not at start: requests that
    arrive together (both workers, /openapi.json and /ogc/api) all get the whole document,
    the one the application builds in process."""
    from api.app import create_app
    from api.openapi30 import openapi_30
    from geo.db import make_engine

    server, url = two_workers
    engine = make_engine(url)
    try:
        expected = create_app(engine=engine).openapi()
    finally:
        engine.dispose()
    paths = ["/openapi.json", "/ogc/api"] * 3
    with httpx.Client(timeout=CLIENT_TIMEOUT_S) as client, ThreadPoolExecutor(len(paths)) as pool:
        answers = list(pool.map(lambda path: client.get(f"{server.base}{path}"), paths))
    assert [a.status_code for a in answers] == [200] * len(paths)
    for path, answer in zip(paths, answers):
        if path == "/openapi.json":
            assert answer.json() == expected
        else:
            assert answer.json() == openapi_30(expected, path_prefix="/ogc")
    assert len(expected["paths"]) > 100 and "/ogc/collections/{collection_id}/items" in expected["paths"]
