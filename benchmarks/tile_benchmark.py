"""Vector tiles of households at zoom 12 over 50,000 households (the API benchmark's data:
the Shapotou demo topped up with synthetic rows), on SpatiaLite and PostGIS: every zoom-12
tile holding households, requested over HTTP to the app in this process (one client), with
p50/p95 latency per backend. The issue's target: p95 under 50 ms.

Usage: ATLAS_TEST_POSTGRES_URL=... python benchmarks/tile_benchmark.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.api_benchmark import WORK, create_postgis, drop_postgis, prepare
from geo import storage
from geo.db import make_engine

ZOOM = 12


def tiles_with_households(url: str) -> list[tuple[int, int]]:
    engine = make_engine(url)
    frame = storage.read_layer(engine, "households", columns=["status"], with_names=False)
    engine.dispose()
    side = 2 ** ZOOM
    cells = set()
    for point in frame.geometry:
        col = int((point.x + 180) / 360 * side)
        row = int((1 - math.asinh(math.tan(math.radians(point.y))) / math.pi) / 2 * side)
        cells.add((row, col))
    return sorted(cells)


def run(url: str, key: str, rounds: int) -> dict:
    from starlette.testclient import TestClient

    from api.app import create_app
    from geo.settings import Settings

    cells = tiles_with_households(url)
    engine = make_engine(url)
    client = TestClient(create_app(engine=engine, settings=Settings(database_url=url)))
    client.headers["X-API-Key"] = key
    times_ms, sizes = [], []
    for _ in range(rounds):
        for row, col in cells:
            started = time.perf_counter()
            response = client.get(f"/ogc/collections/households/tiles/WebMercatorQuad/{ZOOM}/{row}/{col}")
            times_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            sizes.append(len(response.content))
    engine.dispose()
    times_ms.sort()
    return {"tiles": len(cells), "requests": len(times_ms), "p50_ms": round(statistics.median(times_ms), 1),
            "p95_ms": round(times_ms[int(0.95 * (len(times_ms) - 1))], 1),
            "median_kb": round(statistics.median(sizes) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    sqlite_url = f"sqlite:///{WORK / 'bench.sqlite'}"
    postgis_url = create_postgis()
    try:
        keys = {"spatialite": prepare(sqlite_url), "postgis": prepare(postgis_url)}
        for backend, url in (("spatialite", sqlite_url), ("postgis", postgis_url)):
            print(backend, run(url, keys[backend], args.rounds), flush=True)
    finally:
        drop_postgis(postgis_url)


if __name__ == "__main__":
    main()
