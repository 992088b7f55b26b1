"""OGC API - Features side by side with tipg on the same PostGIS tables: a single item, a bbox
page and a page of 100 households, 50 concurrent clients, requests per second and p95.

Data: the Shapotou demo topped up to 50,000 households and 20,000 roads (the generator of
:mod:`benchmarks.api_benchmark`), ANALYZEd. Servers, all on this machine over loopback:

- ours: ``atlas serve`` (one worker), and ``atlas serve --workers 2``;
- with ``--anchor DIR``: also ``atlas serve`` (one worker) of another checkout (the code
  before a change, e.g. ``git archive HEAD | tar -x -C DIR``), interleaved in the same rounds;
- tipg (developmentseed's OGC API - Features server on asyncpg) started as a subprocess from
  its **own virtual environment** (its pins differ from ours, so it never goes into the
  project's venv)::

      python3 -m venv /work/venv-tipg && /work/venv-tipg/bin/pip install tipg uvicorn

  (``--tipg-python`` or ``ATLAS_TIPG_PYTHON`` point elsewhere).

Load generator: ``wrk`` (Debian's package ``wrk``; C, event loop, so the client costs little
CPU next to the servers), 2 threads, 50 connections, a Lua script drawing a random id, bbox
or offset per request. Each round runs every scenario on every server, the server order
rotating from round to round (interleaved), and the medians over rounds are reported.

Usage (on a shared machine, under the benchmark lock and at top priority, so the servers and
wrk it starts run ahead of other work)::

    flock /tmp/bench.lock nice -n -15 .venv/bin/python benchmarks/bench_ogc_vs_tipg.py \
        [--seconds 10] [--rounds 3] [--db URL] [--kinds item,bbox,page] [--no-workers-2] [--anchor DIR]

``--db`` keeps a prepared database between runs (the 50,000 households are loaded once,
outside the lock).

Results are printed and written to ``var/bench/ogc_vs_tipg.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api_benchmark import (  # noqa: E402
    HOUSEHOLDS,
    WORK,
    create_postgis,
    drop_postgis,
    free_port,
    prepare,
    stop_processes,
    wait_until_up,
)

#: How long a server may take to answer after its start [s] (minutes on a machine shared by many).
START_S = 400
DEFAULT_TIPG_PYTHON = os.environ.get("ATLAS_TIPG_PYTHON", "/work/venv-tipg/bin/python")

#: Lua for wrk: each request picks a random id, bbox or offset (``%(kind)s``) in the data.
WRK_SCRIPT = """
local kind, lo, hi = "%(kind)s", %(lo)d, %(hi)d
local minx, miny, maxx, maxy, size = %(minx)f, %(miny)f, %(maxx)f, %(maxy)f, %(size)f
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  local path
  if kind == "item" then
    path = string.format("%(item_path)s", math.random(lo, hi))
  elseif kind == "bbox" then
    local x = minx + math.random() * (maxx - minx - size)
    local y = miny + math.random() * (maxy - miny - size)
    path = string.format("%(items_path)s?limit=100&bbox=%%.5f,%%.5f,%%.5f,%%.5f", x, y, x + size, y + size)
  else
    path = string.format("%(items_path)s?limit=100&offset=%%d", math.random(0, hi))
  end
  return wrk.format(nil, path)
end
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, '
    .. '"non2xx": %%d, "errors": %%d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def start_atlas(url: str, workers: int, code: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """``atlas serve`` of the checkout ``code`` (its ``api`` package: ``-m`` runs from there)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--db", url, "--port", str(port),
                                "--workers", str(workers)], cwd=code,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/health", process, timeout=START_S)
    return process, base


def start_tipg(url: str, python: str) -> tuple[subprocess.Popen, str]:
    from sqlalchemy.engine import make_url

    port = free_port()
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": plain, "TIPG_DB_SCHEMAS": '["public"]',
           "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
    process = subprocess.Popen([python, "-m", "uvicorn", "tipg.main:app", "--port", str(port),
                                "--log-level", "warning"], env=env, cwd=WORK,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/collections/public.households/items?limit=1", process, timeout=START_S)
    return process, base


def data_ranges(url: str) -> dict:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE households; ANALYZE roads"))
        lo, hi = conn.execute(sa.text("SELECT min(id), max(id) FROM households")).one()
        minx, miny, maxx, maxy = conn.execute(sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) AS e FROM households) AS x")).one()
    engine.dispose()
    return {"lo": lo, "hi": hi, "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}


def run_wrk(base: str, kind: str, ranges: dict, *, tipg: bool, seconds: int, connections: int,
            headers: dict) -> dict:
    items = "/collections/public.households/items" if tipg else "/ogc/collections/households/items"
    values = {**ranges, "kind": kind, "size": 0.02, "items_path": items, "item_path": items + "/%d"}
    if kind == "page":
        values["hi"] = HOUSEHOLDS - 100
    script = WORK / f"wrk_{kind}_{'tipg' if tipg else 'atlas'}.lua"
    script.write_text(WRK_SCRIPT % values)
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(args + [base], capture_output=True, text=True, timeout=seconds + 120).stdout
    raw = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT ")).removeprefix("RESULT "))
    return {"requests_per_s": raw["requests"] / (raw["duration_us"] / 1e6), "p50_ms": raw["p50_us"] / 1000,
            "p95_ms": raw["p95_us"] / 1000, "requests": raw["requests"], "non2xx": raw["non2xx"],
            "errors": raw["errors"]}


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each run [s]")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians reported)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients")
    parser.add_argument("--tipg-python", default=DEFAULT_TIPG_PYTHON, help="python of tipg's own venv")
    parser.add_argument("--db", help="an existing PostGIS URL to use (kept); default: a new database, dropped")
    parser.add_argument("--kinds", default="item,bbox,page", help="scenarios to run, comma-separated")
    parser.add_argument("--no-workers-2", action="store_true", help="leave out atlas --workers 2")
    parser.add_argument("--anchor", type=Path, help="another checkout served too (one worker), e.g. the code "
                                                    "before a change")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    if not Path(args.tipg_python).exists():
        sys.exit(f"no tipg at {args.tipg_python}: python3 -m venv /work/venv-tipg && "
                 "/work/venv-tipg/bin/pip install tipg uvicorn")
    WORK.mkdir(parents=True, exist_ok=True)
    url = args.db or create_postgis()
    processes: list[subprocess.Popen] = []
    runs: dict[str, list[dict]] = {}
    try:
        print("preparing 50,000 households and 20,000 roads on PostGIS ...", flush=True)
        key = prepare(url)
        ranges = data_ranges(url)
        servers = {}
        kinds = [k for k in ("item", "bbox", "page") if k in args.kinds.split(",")]
        ours = [("atlas", 1, ROOT), ("atlas --workers 2", 2, ROOT)][:1 if args.no_workers_2 else 2]
        if args.anchor is not None:
            ours.append(("anchor", 1, args.anchor.resolve()))
        for name, workers, code in ours:
            process, base = start_atlas(url, workers, code)
            processes.append(process)
            servers[name] = (base, {"X-API-Key": key}, False)
        process, base = start_tipg(url, args.tipg_python)
        processes.append(process)
        servers["tipg"] = (base, {}, True)
        for name, (base, headers, tipg) in servers.items():  # warm up and check each answers
            items = "/collections/public.households/items" if tipg else "/ogc/collections/households/items"
            for path in (f"{items}/{ranges['lo']}", f"{items}?limit=100&offset=500"):
                response = httpx.get(base + path, headers=headers, timeout=120)
                assert response.status_code == 200, (name, path, response.text[:300])
        names = list(servers)
        print(f"load average before: {load_average()}", flush=True)
        for round_ in range(args.rounds):
            order = names[round_ % len(names):] + names[:round_ % len(names)]
            for kind in kinds:
                for name in order:
                    base, headers, tipg = servers[name]
                    result = run_wrk(base, kind, ranges, tipg=tipg, seconds=args.seconds,
                                     connections=args.connections, headers=headers)
                    result["load"] = load_average()
                    runs.setdefault(f"{kind} {name}", []).append(result)
                    print(f"round {round_ + 1} {kind:<5} {name:<18} {result['requests_per_s']:8.1f} req/s  "
                          f"p50 {result['p50_ms']:7.1f} ms  p95 {result['p95_ms']:7.1f} ms  "
                          f"non-2xx {result['non2xx']} errors {result['errors']}  load {result['load']}", flush=True)
        medians = {name: {m: statistics.median(r[m] for r in results) for m in ("requests_per_s", "p50_ms", "p95_ms")}
                   for name, results in runs.items()}
        print("\nmedians (ratios: ours / tipg requests per second; p95 ours / tipg)")
        summary = {}
        for kind in kinds:
            tipg = medians[f"{kind} tipg"]
            for name in names:
                m = medians[f"{kind} {name}"]
                ratio = m["requests_per_s"] / tipg["requests_per_s"]
                summary[f"{kind} {name}"] = {**m, "throughput_vs_tipg": ratio, "p95_vs_tipg": m["p95_ms"] / tipg["p95_ms"]}
                print(f"  {kind:<5} {name:<18} {m['requests_per_s']:8.1f} req/s  p95 {m['p95_ms']:7.1f} ms  "
                      f"x{ratio:.2f} tipg  p95 x{m['p95_ms'] / tipg['p95_ms']:.2f}")
        print(f"load average after: {load_average()}")
        (WORK / "ogc_vs_tipg.json").write_text(json.dumps(
            {"settings": vars(args), "households": HOUSEHOLDS, "runs": runs, "medians": summary}, indent=2, default=str))
    finally:
        stop_processes(processes)
        if not args.db:
            drop_postgis(url)


if __name__ == "__main__":
    main()
