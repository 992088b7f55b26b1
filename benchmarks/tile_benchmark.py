"""Vector tiles of households at zoom 12 over 50,000 households (the API benchmark's data:
the Shapotou demo topped up with synthetic rows), on SpatiaLite and PostGIS: every zoom-12
tile holding households, requested over HTTP to the app in this process (one client), with
p50/p95 latency per backend: for the first pass (every tile made) and the later passes (the
tiles the server keeps per registry stamp). The issue's target: p95 under 50 ms.

Usage: ATLAS_TEST_POSTGRES_URL=... python benchmarks/tile_benchmark.py [--rounds 3]
[--backend postgis --db URL]
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
    passes: list[list[float]] = []
    sizes = []
    for _ in range(rounds):
        times_ms = []
        for row, col in cells:
            started = time.perf_counter()
            response = client.get(f"/ogc/collections/households/tiles/WebMercatorQuad/{ZOOM}/{row}/{col}")
            times_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            sizes.append(len(response.content))
        passes.append(times_ms)
    engine.dispose()

    def stats(values: list[float]) -> dict:
        values = sorted(values)
        return {"requests": len(values), "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(values[int(0.95 * (len(values) - 1))], 1)}

    # the first pass makes every tile (nothing kept yet); later passes get the kept tiles
    return {"tiles": len(cells), "median_kb": round(statistics.median(sizes) / 1024, 1),
            "made (first pass)": stats(passes[0]),
            "kept (later passes)": stats([t for p in passes[1:] for t in p]) if rounds > 1 else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--db", help="an existing PostGIS URL to use (kept); default: a new database, dropped")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    urls = {}
    if args.backend in ("spatialite", "both"):
        urls["spatialite"] = f"sqlite:///{WORK / 'bench.sqlite'}"
    if args.backend in ("postgis", "both"):
        urls["postgis"] = args.db or create_postgis()
    try:
        keys = {backend: prepare(url) for backend, url in urls.items()}
        print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]} (2 cores shared "
              "with other work)", flush=True)
        for backend, url in urls.items():
            print(backend, run(url, keys[backend], args.rounds), flush=True)
        print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    finally:
        if "postgis" in urls and not args.db:
            drop_postgis(urls["postgis"])


if __name__ == "__main__":
    main()
