"""OGC API items and vector tiles on the synthetic province against one county: does the
latency stay within 1.5x of the county's when the registry holds 20 counties?

    flock /tmp/bench.lock nice -n -15 .venv/bin/python benchmarks/bench_province_ogc.py \\
        --province postgresql+psycopg://postgres@127.0.0.1/atlas_province \\
        --county postgresql+psycopg://postgres@127.0.0.1/atlas_county10

Both databases are made by ``atlas demo synth`` (the province: ``--counties 20 --villages
450``, 2,000,000 households; the county: ``--counties 1 --villages 450``, 100,000 households,
the province's first county). Each gets a benchmark account (role leader, an API key) and its
own ``atlas serve`` (one worker process, started here, so at this process's priority).

Four requests, on the households (the largest layer), one client, one request at a time
(latency, not throughput), **interleaved**: request i goes to the province's server, then to
the county's (the order alternating), so the machine's load falls on both alike:

- ``item``: one household by a random id;
- ``bbox``: a page of up to 100 in a random 0.02-degree box inside a county's households
  (for the province, a random county's);
- ``page``: a page of 100 at a random offset among all the households (deeper on the
  province: 2,000,000 rows against 100,000);
- ``tile``: a zoom-12 WebMercatorQuad tile holding households, each tile asked once (the
  server keeps tiles in a per-process cache; a second ask would time the cache).

Medians and 95th percentiles per request and database, the ratio province / county, and the
1-minute load before and after are printed and written to ``--out`` (JSON). With
``--prepared FILE`` a first run only draws the requests and makes the keys (SQL over 2,000,000
households: minutes on a loaded machine), and a second, under the lock, measures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api_benchmark import bench_api_key, free_port, stop_processes, wait_until_up  # noqa: E402

START_S = 400
KINDS = ("item", "bbox", "page", "tile")
ITEMS = "/ogc/collections/households/items"
TILE = "/ogc/collections/households/tiles/WebMercatorQuad/12/{row}/{col}"
BOX_DEG = 0.02


def api_key(url: str) -> str:
    """A leader account's new API key on the database at ``url``."""
    from geo.db import make_engine

    engine = make_engine(url)
    try:
        return bench_api_key(engine)
    finally:
        engine.dispose()


def requests_for(url: str, n: int, rng: random.Random) -> dict[str, list[str]]:
    """``n`` paths of each kind on the database at ``url`` (read with plain SQL: benchmark code)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        lo, hi, count = conn.execute(sa.text("SELECT min(id), max(id), count(*) FROM households")).one()
        extents = conn.execute(sa.text(
            "SELECT substr(t.code, 1, 6), ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ("
            " SELECT v.township_id, ST_Extent(h.geom) AS e FROM households h JOIN villages v ON v.id = h.village_id"
            " GROUP BY v.township_id) x JOIN townships t ON t.id = x.township_id")).all()
        sample = conn.execute(sa.text(
            "SELECT ST_X(geom), ST_Y(geom) FROM households TABLESAMPLE SYSTEM (:pct) REPEATABLE (7)"),
            {"pct": min(100.0, 400_000.0 / count)}).all()
    engine.dispose()
    counties: dict[str, list[float]] = {}
    for code, *box in extents:  # township extents -> county extents
        c = counties.setdefault(code, list(box))
        counties[code] = [min(c[0], box[0]), min(c[1], box[1]), max(c[2], box[2]), max(c[3], box[3])]
    boxes = list(counties.values())
    paths: dict[str, list[str]] = {"item": [], "bbox": [], "page": [], "tile": []}
    for _ in range(n):
        paths["item"].append(f"{ITEMS}/{rng.randint(lo, hi)}")
        minx, miny, maxx, maxy = rng.choice(boxes)
        x, y = rng.uniform(minx, maxx - BOX_DEG), rng.uniform(miny, maxy - BOX_DEG)
        paths["bbox"].append(f"{ITEMS}?limit=100&bbox={x:.5f},{y:.5f},{x + BOX_DEG:.5f},{y + BOX_DEG:.5f}")
        paths["page"].append(f"{ITEMS}?limit=100&offset={rng.randint(0, count - 100)}")
    tiles = sorted({_tile(x, y, 12) for x, y in sample})
    rng.shuffle(tiles)
    paths["tile"] = [TILE.format(row=row, col=col) for col, row in tiles[:n]]
    return paths


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """(col, row) of the WebMercatorQuad tile holding the point."""
    scale = 2 ** z
    col = int((lon + 180.0) / 360.0 * scale)
    lat_r = math.radians(lat)
    row = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * scale)
    return col, row


def start_server(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--db", url, "--port", str(port),
                                "--workers", "1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/health", process, timeout=START_S)
    return process, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", required=True, help="URL of the province database")
    parser.add_argument("--county", required=True, help="URL of the one-county database")
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind on each database")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests of each kind first")
    parser.add_argument("--prepared", type=Path, help="a file of the requests and keys: made (and nothing "
                        "measured) when missing, read when present, so the SQL sampling runs outside the lock")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "province_ogc.json")
    a = parser.parse_args()
    rng = random.Random(20_261_206)
    dbs = {"province": a.province, "county": a.county}
    if a.prepared is not None and a.prepared.exists():  # made by an earlier run, outside the benchmark lock
        prepared = json.loads(a.prepared.read_text())
        paths, keys = prepared["paths"], prepared["keys"]
    else:
        paths = {name: requests_for(url, a.requests + a.warmup, rng) for name, url in dbs.items()}
        keys = {name: api_key(url) for name, url in dbs.items()}
        if a.prepared is not None:
            a.prepared.write_text(json.dumps({"paths": paths, "keys": keys}))
            a.prepared.chmod(0o600)
            print(f"requests and keys written to {a.prepared}; run again (under the lock) to measure")
            return
    processes = []
    timings: dict[tuple[str, str], list[float]] = {}
    failures: dict[tuple[str, str], int] = {}
    try:
        bases = {}
        for name, url in dbs.items():
            process, bases[name] = start_server(url)
            processes.append(process)
        clients = {name: httpx.Client(base_url=bases[name], headers={"X-API-Key": keys[name]}, timeout=300)
                   for name in dbs}
        load_before = os.getloadavg()[0]
        print(f"load before {load_before:.1f}; nice {os.nice(0)}", flush=True)
        for kind in KINDS:
            n = min(len(paths["province"][kind]), len(paths["county"][kind]))
            for i in range(n):
                order = ("province", "county") if i % 2 == 0 else ("county", "province")
                for name in order:
                    started = time.perf_counter()
                    response = clients[name].get(paths[name][kind][i])
                    elapsed = (time.perf_counter() - started) * 1000
                    ok = response.status_code == 200 or (kind == "tile" and response.status_code == 204)
                    if not ok:
                        failures[(kind, name)] = failures.get((kind, name), 0) + 1
                    if i >= a.warmup:
                        timings.setdefault((kind, name), []).append(elapsed)
        load_after = os.getloadavg()[0]
        for client in clients.values():
            client.close()
    finally:
        stop_processes(processes)
    summary = {}
    print("\n| request | county p50 | county p95 | province p50 | province p95 | p50 ratio | p95 ratio | n |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        row = {}
        for name in dbs:
            values = sorted(timings.get((kind, name), []))
            row[name] = {"p50_ms": statistics.median(values) if values else math.nan,
                         "p95_ms": values[min(len(values) - 1, int(0.95 * len(values)))] if values else math.nan,
                         "n": len(values), "failures": failures.get((kind, name), 0)}
        p, c = row["province"], row["county"]
        row["p50_ratio"], row["p95_ratio"] = p["p50_ms"] / c["p50_ms"], p["p95_ms"] / c["p95_ms"]
        summary[kind] = row
        print(f"| {kind} | {c['p50_ms']:.1f} ms | {c['p95_ms']:.1f} ms | {p['p50_ms']:.1f} ms | {p['p95_ms']:.1f} ms "
              f"| {row['p50_ratio']:.2f}x | {row['p95_ratio']:.2f}x | {p['n']} |"
              + (f" failures: county {c['failures']}, province {p['failures']}" if c["failures"] or p["failures"] else ""))
    print(f"\nload (1 min) {load_before:.1f} before, {load_after:.1f} after; nice {os.nice(0)}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"summary": summary, "load_before": load_before, "load_after": load_after,
                                 "nice": os.nice(0), "requests": a.requests,
                                 "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))


if __name__ == "__main__":
    main()
