"""API throughput and latency: our OGC items and GeoJSON layer endpoints on SpatiaLite and
PostGIS, and tipg (developmentseed's OGC API - Features server) on the same PostGIS tables.

Data: the Shapotou demo topped up with synthetic rows to 50,000 households and 20,000 roads
(deterministic). Load: ``wrk`` with 50 concurrent connections for a fixed time per scenario,
requesting pages of ``limit`` features at random offsets; it reports p50/p95 latency and
requests per second. Everything runs on this machine (loopback only) and stops by itself.

Usage::

    benchmarks/run.sh                       # installs wrk and tipg (own venv), then runs
    .venv/bin/python benchmarks/api_benchmark.py --seconds 15 --limit 100

Results are printed and written to ``var/bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import security  # noqa: E402
from geo import migrate, storage  # noqa: E402
from geo.storage import accounts  # noqa: E402
from geo.audit import SYSTEM  # noqa: E402
from geo.db import make_engine  # noqa: E402
from geo.demo import load_demo  # noqa: E402

WORK = ROOT / "var" / "bench"
TIPG_PYTHON = WORK / "tipg-venv" / "bin" / "python"
ADMIN_URL = os.environ.get("ATLAS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HOUSEHOLDS, ROADS = 50_000, 20_000

WRK_SCRIPT = """
local offsets = %d
request = function()
  local offset = math.random(0, offsets)
  return wrk.format(nil, wrk.path .. "&offset=" .. offset)
end
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, '
    .. '"p99_us": %%d, "non2xx": %%d, "errors": %%d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def synthetic_rows(engine) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Households and roads to top the demo up to the benchmark's sizes (same on both backends)."""
    rng = np.random.default_rng(20191)
    villages = storage.read_layer(engine, "villages", columns=["id"])
    extra_households = HOUSEHOLDS - storage.count_layer(engine, "households")
    pick = rng.integers(0, len(villages), extra_households)
    centres = villages.geometry.iloc[pick]
    xs = centres.x.to_numpy() + rng.normal(0, 0.01, extra_households)
    ys = centres.y.to_numpy() + rng.normal(0, 0.01, extra_households)
    households = gpd.GeoDataFrame({
        "code": [f"BENCH{i:06d}" for i in range(extra_households)],
        "village_id": villages["id"].to_numpy()[pick],
        "status": rng.choice(["registered", "exited", "planned_exit", "non_poor"], extra_households),
        "members": rng.integers(1, 8, extra_households),
        "income_per_person_yuan": rng.uniform(2000, 12000, extra_households).round(0),
        "head_name": [f"测某{i % 997}" for i in range(extra_households)],
        "source": "benchmark:synthetic",
    }, geometry=shapely.points(xs, ys), crs="EPSG:4326")
    extra_roads = ROADS - storage.count_layer(engine, "roads")
    starts = np.column_stack([rng.uniform(104.3, 105.6, extra_roads), rng.uniform(36.7, 37.7, extra_roads)])
    lines = []
    for start in starts:
        steps = rng.normal(0, 0.004, (int(rng.integers(2, 6)), 2)).cumsum(axis=0) + start
        lines.append(shapely.LineString(np.vstack([start, steps])))
    roads = gpd.GeoDataFrame({
        "code": [f"BENCH-R{i:06d}" for i in range(extra_roads)],
        "name": [f"示意道路{i}" for i in range(extra_roads)],
        "road_class": rng.choice(["county", "township", "village", "track"], extra_roads),
        "surface": rng.choice(["hardened", "gravel", "earth"], extra_roads),
        "width_m": rng.uniform(3, 8, extra_roads).round(1),
        "source": "benchmark:synthetic",
    }, geometry=lines, crs="EPSG:4326")
    return households, roads


def prepare(url: str) -> str:
    """Demo + synthetic rows + a benchmark user; return an API key."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    load_demo(engine)
    if storage.count_layer(engine, "households") < HOUSEHOLDS:
        households, roads = synthetic_rows(engine)
        for start in range(0, len(households), 10_000):
            storage.write_layer(engine, "households", households.iloc[start:start + 10_000])
        storage.write_layer(engine, "roads", roads)
    counts = storage.layer_counts(engine)
    assert counts["households"] == HOUSEHOLDS and counts["roads"] == ROADS, counts
    key = bench_api_key(engine)
    engine.dispose()
    return key


def bench_api_key(engine) -> str:
    """A new API key of the leader account ``bench`` (made on first use)."""
    from geo.errors import NotFound

    try:
        user_id = accounts.get_user(engine, name="bench")["id"]
    except NotFound:
        user_id = accounts.create_user(engine, name="bench", role="leader", password_hash=None,
                                       actor=SYSTEM)["id"]
    new = security.new_api_key()
    accounts.add_api_key(engine, user_id, label=f"benchmark {uuid.uuid4().hex[:6]}", prefix=new.prefix,
                         key_hash=new.key_hash, actor=SYSTEM)
    return new.key


def stop_processes(processes) -> None:
    """Terminate the servers a benchmark started (killed after 15 s)."""
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until_up(url: str, process: subprocess.Popen, headers: dict | None = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.communicate()}")
        try:
            if httpx.get(url, headers=headers, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in time")


def start_atlas(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--db", url, "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/health", process)
    return process, base


def start_tipg(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": plain, "TIPG_DB_SCHEMAS": '["public"]',
           "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
    process = subprocess.Popen([str(TIPG_PYTHON), "-m", "uvicorn", "tipg.main:app", "--port", str(port),
                                "--log-level", "warning"], env=env, cwd=WORK,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/collections/public.households/items?limit=1", process)
    return process, base


def run_wrk(url: str, *, seconds: int, connections: int, offsets: int, headers: dict) -> dict:
    script = WORK / "wrk_script.lua"
    script.write_text(WRK_SCRIPT % offsets)
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 120).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    return {"requests_per_s": raw["requests"] / (raw["duration_us"] / 1e6), "p50_ms": raw["p50_us"] / 1000,
            "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "requests": raw["requests"],
            "non2xx": raw["non2xx"], "errors": raw["errors"]}


def create_postgis() -> str:
    name = f"atlas_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(ADMIN_URL).set(database=name)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION postgis"))
    engine.dispose()
    return url.render_as_string(hide_password=False)


def drop_postgis(url: str) -> None:
    admin = sa.create_engine(make_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="duration of each scenario [s]")
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients")
    parser.add_argument("--limit", type=int, default=100, help="features per page")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: run benchmarks/run.sh (installs it) or apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    sqlite_path = WORK / "bench.sqlite"
    sqlite_url = f"sqlite:///{sqlite_path}"
    postgis_url = create_postgis()
    processes: list[subprocess.Popen] = []
    results: dict[str, dict] = {}
    try:
        print("preparing data (50,000 households, 20,000 roads) on SpatiaLite and PostGIS ...", flush=True)
        keys = {"spatialite": prepare(sqlite_url), "postgis": prepare(postgis_url)}
        servers = {}
        for backend, url in (("spatialite", sqlite_url), ("postgis", postgis_url)):
            process, base = start_atlas(url)
            processes.append(process)
            servers[backend] = base
        tipg_process, tipg_base = (None, None)
        if TIPG_PYTHON.exists():
            tipg_process, tipg_base = start_tipg(postgis_url)
            processes.append(tipg_process)
        else:
            print(f"tipg is not installed at {TIPG_PYTHON}; run benchmarks/run.sh", flush=True)
        offsets = {"households": HOUSEHOLDS // 10, "roads": ROADS // 4}
        scenarios = []
        for layer in ("households", "roads"):
            for backend, base in servers.items():
                auth = {"X-API-Key": keys[backend]}
                scenarios.append((f"atlas {backend} OGC items {layer}",
                                  f"{base}/ogc/collections/{layer}/items?limit={args.limit}", auth, layer))
                scenarios.append((f"atlas {backend} GeoJSON layer {layer}",
                                  f"{base}/api/layers/{layer}?limit={args.limit}", auth, layer))
            if tipg_base:
                scenarios.append((f"tipg postgis OGC items {layer}",
                                  f"{tipg_base}/collections/public.{layer}/items?limit={args.limit}", {}, layer))
        for name, url, headers, layer in scenarios:
            check = httpx.get(url + "&offset=0", headers=headers, timeout=60)
            assert check.status_code == 200 and len(check.json()["features"]) == args.limit, (name, check.text[:300])
            results[name] = run_wrk(url, seconds=args.seconds, connections=args.connections,
                                    offsets=offsets[layer], headers=headers)
            r = results[name]
            print(f"{name:<42} {r['requests_per_s']:8.1f} req/s  p50 {r['p50_ms']:8.1f} ms  "
                  f"p95 {r['p95_ms']:8.1f} ms  non-2xx {r['non2xx']}  errors {r['errors']}", flush=True)
        ratios = {}
        if tipg_base:
            for layer in ("households", "roads"):
                tipg = results[f"tipg postgis OGC items {layer}"]
                for kind in ("OGC items", "GeoJSON layer"):
                    ours = results[f"atlas postgis {kind} {layer}"]
                    ratios[f"{kind} {layer}"] = {
                        "throughput_ratio": ours["requests_per_s"] / tipg["requests_per_s"],
                        "p50_ratio": ours["p50_ms"] / tipg["p50_ms"],
                    }
            print("\nours (PostGIS) / tipg (same tables, same machine):")
            for name, r in ratios.items():
                print(f"  {name:<26} throughput x{r['throughput_ratio']:.2f}   p50 latency x{r['p50_ratio']:.2f}")
        (WORK / "results.json").write_text(json.dumps({
            "settings": vars(args), "households": HOUSEHOLDS, "roads": ROADS,
            "results": results, "ratios_to_tipg": ratios}, indent=2))
        print(f"\nwritten to {WORK / 'results.json'}")
    finally:
        stop_processes(processes)
        drop_postgis(postgis_url)


if __name__ == "__main__":
    main()
