"""All five analyses ``--by county`` on a synthetic province, on 1 and 2 local worker
processes: the speed-up, each worker's peak memory, where the time goes, and an estimate for
the nation.

One analysis at one worker count per invocation, so that a shared machine's benchmark lock
is held for one run at a time (``run`` appends a JSON line to ``--out``)::

    for a in coverage roads water exit priority; do for w in 1 2; do
      flock /tmp/bench.lock nice -n -15 .venv/bin/python benchmarks/bench_by_county.py run \\
          --db postgresql+psycopg://postgres@127.0.0.1/atlas_province --analysis $a --workers $w \\
          --out by_county.jsonl
    done; done
    .venv/bin/python benchmarks/bench_by_county.py report --db ... --out by_county.jsonl

The province is made first by ``atlas demo synth`` (``--counties 20 --villages 450`` is the
issue's 10x province). ``run`` starts a ``LocalCluster`` of that many single-threaded worker
processes (not timed; the workers inherit the process's priority) and times one
:func:`geo.services.partitioned.run_by_county` on its address, wall-clock (what parallelism
buys). Dask's task stream gives each county task's compute time; the time outside the tasks
(the client's submit, the results' transfer and unpickling, the combine step) is the rest.
Every worker's peak resident memory (``ru_maxrss``) is read before the cluster closes. The
machine's 1-minute load is recorded before and after: the machine is shared.

The nation estimate (``report``): the county tasks are independent and each grows
near-linearly with its villages, so the time is (worker-seconds a village, measured here on
one worker) x 690,000 villages / workers, divided by the parallel efficiency measured from
1 to 2 workers; memory per worker stays the peak of one county task (the largest county
decides, not the count).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.analysis.catalog import NEEDS  # noqa: E402

ANALYSES = ("coverage", "roads", "water", "exit", "priority")
assert set(ANALYSES) <= set(NEEDS)
NATION_VILLAGES = 690_000
OPTIONS = {"priority": {"kind": "road"}}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_once(url: str, analysis: str, workers: int) -> dict:
    """One timed ``--by county`` run of ``analysis`` on a new local cluster of ``workers``."""
    from distributed import Client, LocalCluster, get_task_stream

    from geo.services.partitioned import TASK_PREFIX, run_by_county

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(lambda: None)  # the workers are up and have imported before the clock starts
        load_before = os.getloadavg()[0]
        with get_task_stream(client) as stream:
            started_epoch, started = time.time(), time.perf_counter()
            result = run_by_county(url, analysis, scheduler=cluster.scheduler_address, **OPTIONS.get(analysis, {}))
            wall = time.perf_counter() - started
            ended_epoch = time.time()
        peaks = client.run(_peak_mib)
        tasks = [t for t in stream.data if str(t.get("key", "")).startswith(TASK_PREFIX)]
    computes = []
    last_stop = started_epoch
    for task in tasks:
        for step in task["startstops"]:
            if step["action"] == "compute":
                computes.append(step["stop"] - step["start"])
                last_stop = max(last_stop, step["stop"])
    return {
        "analysis": analysis, "workers": workers, "wall_s": wall, "rows": len(result.tables[result.primary]),
        "counties": len(computes), "task_compute_sum_s": sum(computes), "task_max_s": max(computes, default=0.0),
        "after_last_task_s": ended_epoch - last_stop,
        "peak_rss_mib": sorted(peaks.values()), "load_before": load_before, "load_after": os.getloadavg()[0],
        "nice": os.nice(0), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def report(url: str, lines: list[dict]) -> None:
    """The table of the runs in ``lines`` (the last run of each analysis and worker count)."""
    from geo import storage
    from geo.db import make_engine

    engine = make_engine(url)
    villages = len(storage.read_layer(engine, "villages", columns=["id"], with_names=False))
    engine.dispose()
    runs = {(r["analysis"], r["workers"]): r for r in lines}
    print("| analysis | 1 worker | 2 workers | speed-up | sum of task compute (1 / 2 w) | longest task (1 / 2 w) "
          "| after the last task (1 / 2 w) | peak RSS per worker, MiB (1 / 2 w) | load 1 min (1 / 2 w) |")
    print("|---|---|---|---|---|---|---|---|---|")
    total = {1: 0.0, 2: 0.0}
    for a in ANALYSES:
        one, two = runs.get((a, 1)), runs.get((a, 2))
        if one is None or two is None:
            cells = ["-" if r is None else f"{r['wall_s']:.1f} s" for r in (one, two)]
            print(f"| {a} | {cells[0]} | {cells[1]} | not measured | | | | | |")
            continue
        total[1] += one["wall_s"]
        total[2] += two["wall_s"]
        print(f"| {a} | {one['wall_s']:.1f} s | {two['wall_s']:.1f} s | {one['wall_s'] / two['wall_s']:.2f}x "
              f"| {one['task_compute_sum_s']:.0f} / {two['task_compute_sum_s']:.0f} s "
              f"| {one['task_max_s']:.1f} / {two['task_max_s']:.1f} s "
              f"| {one['after_last_task_s']:.1f} / {two['after_last_task_s']:.1f} s "
              f"| {', '.join(f'{p:.0f}' for p in one['peak_rss_mib'])} / "
              f"{', '.join(f'{p:.0f}' for p in two['peak_rss_mib'])} "
              f"| {one['load_before']:.1f}-{one['load_after']:.1f} / {two['load_before']:.1f}-{two['load_after']:.1f} |")
    measured = [a for a in ANALYSES if (a, 1) in runs and (a, 2) in runs]
    if total[2]:
        label = "five" if len(measured) == len(ANALYSES) else f"the {len(measured)} measured"
        print(f"| **{label}** | **{total[1]:.1f} s** | **{total[2]:.1f} s** | **{total[1] / total[2]:.2f}x** "
              "| | | | | |")
        efficiency = total[1] / total[2] / 2
        per_village = total[1] / villages
        print(f"\nnation ({NATION_VILLAGES:,} villages): {per_village * 1000:.0f} worker-ms a village for "
              f"{', '.join(measured)} (1 worker, {villages:,} villages), parallel efficiency {efficiency:.2f} "
              "(1 -> 2 workers)")
        for workers in (2, 16, 100):
            hours = per_village * NATION_VILLAGES / workers / min(1.0, efficiency) / 3600
            print(f"  {workers:>3} workers: {hours:,.1f} h")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="one timed run; appends a JSON line to --out")
    run.add_argument("--db", required=True)
    run.add_argument("--analysis", required=True, choices=ANALYSES)
    run.add_argument("--workers", type=int, required=True)
    run.add_argument("--out", required=True, type=Path)
    rep = sub.add_parser("report", help="the table of the runs in --out")
    rep.add_argument("--db", required=True)
    rep.add_argument("--out", required=True, type=Path)
    a = parser.parse_args()
    if a.command == "run":
        line = run_once(a.db, a.analysis, a.workers)
        print(json.dumps(line), flush=True)
        with a.out.open("a") as f:
            f.write(json.dumps(line) + "\n")
    else:
        report(a.db, [json.loads(x) for x in a.out.read_text().splitlines() if x.strip()])


if __name__ == "__main__":
    main()
