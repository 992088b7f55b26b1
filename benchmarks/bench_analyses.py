"""Time the five gap analyses on a synthetic county ten times the demo.

    .venv/bin/python benchmarks/bench_analyses.py [--scale 10] [--runs 5] [--db]

Prints, per analysis, the median and spread of ``--runs`` timed runs of the pure function
on frames already in memory, its peak memory traced by tracemalloc (Python and NumPy
allocations; GEOS's own memory is not traced) in one extra run, the ratio to a county of
the demo's size (``--scale 1``), and the five together (:func:`geo.analysis.catalog.analyze_all`)
against the 5-second target, with the process's peak resident memory at the end.
With ``--db`` it also writes the county into a temporary SpatiaLite file and times
:func:`geo.services.analyses.run_analysis` (reading included) once per analysis.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic_county import synthetic_county  # noqa: E402
from geo.analysis import analyze  # noqa: E402
from geo.analysis.catalog import analyze_all  # noqa: E402

CASES = (
    ("coverage", {}),
    ("roads", {}),
    ("water", {}),
    ("exit", {}),
    ("priority", {"kind": "road", "budget_wan_yuan": 5_000}),
)
TARGET_S = 5.0


def _time(call, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``runs`` calls (CPU time is steadier when other work
    shares the machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def _peak_mib(frames, name, options) -> float:
    tracemalloc.start()
    analyze(frames, name, **options)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def bench(scale: int, runs: int) -> dict[str, float]:
    started = time.perf_counter()
    frames = synthetic_county(scale)
    print(f"synthetic county x{scale}: " + ", ".join(f"{k} {len(v):,}" for k, v in frames.items()
                                                    if k in ("villages", "settlements", "roads", "households")),
          f"(generated in {time.perf_counter() - started:.1f} s)")
    medians = {}
    for name, options in CASES:
        analyze(frames, name, **options)  # warm-up: imports, caches
        wall, cpu = _time(lambda: analyze(frames, name, **options), runs)
        medians[name] = statistics.median(wall)
        print(f"  {name:<9} wall median {medians[name]:6.2f} s (min {min(wall):5.2f}, max {max(wall):5.2f})   "
              f"CPU median {statistics.median(cpu):6.2f} s   peak {_peak_mib(frames, name, options):7.1f} MiB")
    band_wall, band_cpu = _time(lambda: analyze(frames, "roads", band=True), runs)
    print(f"  roads with the 2 km band polygon: wall median {statistics.median(band_wall):6.2f} s   "
          f"CPU median {statistics.median(band_cpu):6.2f} s")
    print(f"  sum of the five run separately {sum(medians.values()):6.2f} s "
          "(exit and priority each rerun the roads / water analyses)")
    analyze_all(frames)
    wall, cpu = _time(lambda: analyze_all(frames), runs)
    tracemalloc.start()
    analyze_all(frames)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    total = statistics.median(wall)
    medians["all"] = total
    print(f"  all five together (analyze_all, roads and water shared): wall median {total:6.2f} s "
          f"(min {min(wall):5.2f})   CPU median {statistics.median(cpu):6.2f} s   peak {peak:7.1f} MiB   "
          f"(target {TARGET_S:.0f} s: {'met' if total < TARGET_S else 'NOT met'})")
    return medians


def bench_db(scale: int) -> None:
    from geo import migrate, storage
    from geo.services.analyses import run_analysis
    from geo.db import make_engine

    frames = synthetic_county(scale)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite")
        migrate.upgrade(engine)
        started = time.perf_counter()
        with storage.connect(engine) as conn:
            for layer in ("townships", "villages", "settlements", "units", "cadres", "households", "pairings",
                          "work_teams", "roads", "water_facilities", "pv_projects"):
                # a new database numbers rows 1..n in insertion order, as the generator did
                written = storage.write_layer(conn, layer, frames[layer].drop(columns="id"))
                assert written.ids == list(frames[layer]["id"]), f"{layer}: ids differ from the generator's"
            storage.write_links(conn, "water_facility_villages", frames["water_facility_villages"])
            storage.write_links(conn, "pv_project_households", frames["pv_project_households"])
        print(f"  wrote the county into SpatiaLite in {time.perf_counter() - started:.1f} s")
        for name, options in CASES:
            started = time.perf_counter()
            run_analysis(engine, name, **options)
            print(f"  {name:<9} read + analyse {time.perf_counter() - started:6.2f} s")
        engine.dispose()


def main() -> None:
    import os

    print(f"load average before the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (other work on the machine inflates wall-clock times)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", action="store_true", help="also time reading from SpatiaLite")
    args = parser.parse_args()
    small = bench(1, args.runs)
    large = bench(args.scale, args.runs)
    print("  ratio x{}/x1: ".format(args.scale) + ", ".join(f"{k} {large[k] / small[k]:.1f}" for k in large))
    import resource

    print(f"  process peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.db:
        bench_db(args.scale)


if __name__ == "__main__":
    main()
