"""All five analyses ``--by county`` on a synthetic province, on 1 and 2 local worker
processes: the speed-up, each worker's peak memory, and an estimate for the nation.

    .venv/bin/python benchmarks/bench_by_county.py --db sqlite:///province.sqlite [--workers 1 2]

The province is made first by ``benchmarks/synthetic_province.py`` (``--counties 20
--villages 450`` is the issue's 10x province). For each worker count a ``LocalCluster`` of
that many single-threaded worker processes is started (not timed) and every analysis runs
through :func:`geo.services.partitioned.run_by_county` on its address, as a running
scheduler would be used; each is timed wall-clock (what parallelism buys), and every
worker's peak resident memory (``ru_maxrss``) is read before the cluster closes. The
machine's load (``os.getloadavg``) is printed with each figure: the machine is shared, and
any load above its cores makes the 2-worker figure a floor of what two free cores give.

The nation estimate: the county tasks are independent and each grows near-linearly with
its villages, so the time is (seconds a village on one worker, measured here) x 690,000
villages / workers, plus one county's time for the last task; memory per worker stays
the peak of one county task (the largest county decides, not the count).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.analysis.catalog import ANALYSES  # noqa: E402

NATION_VILLAGES = 690_000
OPTIONS = {"priority": {"kind": "road"}}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(url: str, workers: int, runs: int) -> dict:
    from distributed import Client, LocalCluster

    from geo.services.partitioned import run_by_county

    times: dict[str, float] = {}
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        for name in ANALYSES:
            walls = []
            for _ in range(runs):
                started = time.perf_counter()
                result = run_by_county(url, name, scheduler=cluster.scheduler_address, **OPTIONS.get(name, {}))
                walls.append(time.perf_counter() - started)
            times[name] = statistics.median(walls)
            print(f"  {workers} worker(s) {name:<9} {times[name]:7.1f} s  ({len(result.tables[result.primary]):,} rows)"
                  f"  load {os.getloadavg()[0]:.1f}", flush=True)
        peaks = client.run(_peak_mib)
    return {"times": times, "peaks": peaks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=1)
    a = parser.parse_args()
    from geo.db import make_engine
    from geo.services.partitioned import counties
    from geo import storage

    engine = make_engine(a.db)
    parts = counties(engine)
    villages = len(storage.read_layer(engine, "villages", columns=["id"], with_names=False))
    households = len(storage.read_layer(engine, "households", columns=["id"], with_names=False))
    engine.dispose()
    print(f"province: {len(parts)} counties, {villages:,} villages, {households:,} households; "
          f"load {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    rows = {}
    for w in a.workers:
        rows[w] = bench(a.db, w, a.runs)
        total = sum(rows[w]["times"].values())
        peaks = ", ".join(f"{v:.0f}" for v in rows[w]["peaks"].values())
        print(f"{w} worker(s): five analyses {total:.1f} s; peak per worker {peaks} MiB; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    if 1 in rows and 2 in rows:
        one, two = sum(rows[1]["times"].values()), sum(rows[2]["times"].values())
        print(f"speed-up 1 -> 2 workers: {one / two:.2f}x (target 1.7x)")
        for name in ANALYSES:
            print(f"  {name:<9} {rows[1]['times'][name] / rows[2]['times'][name]:.2f}x")
    if 1 in rows:
        per_village = sum(rows[1]["times"].values()) / villages
        for workers in (2, 16, 100):
            hours = per_village * NATION_VILLAGES / workers / 3600
            print(f"nation estimate ({NATION_VILLAGES:,} villages): {hours:,.1f} h on {workers} workers "
                  f"({per_village * 1000:.0f} ms a village on one worker, measured here)")


if __name__ == "__main__":
    main()
