"""Households CSV import against ogr2ogr: the same file of 100,000 households into PostGIS and
SpatiaLite by ``atlas import`` (every check of the importer: names of 乡镇/行政村 resolved,
enumerations, ranges, all-or-nothing) and by GDAL's ``ogr2ogr`` (Debian's gdal-bin; it checks
nothing and resolves no names, it only loads points and text), runs interleaved, medians.

Run on demand (not part of the test suite)::

    .venv/bin/python benchmarks/bench_import.py [--households 100000] [--repeat 3] [--memory-rows 1000000]
    .venv/bin/python benchmarks/bench_import.py --backend postgis --exclusive   # also atlas import --exclusive

Our import runs in a child process (``import_file`` as ``atlas import`` calls it) that reports
its wall time and peak resident memory (``ru_maxrss``); between repeats the inserted rows are
deleted again. ogr2ogr writes a new table each time (``-overwrite``), into the same database.
``--memory-rows`` also imports a file of that many households and compares peak memory.
``--exclusive`` adds a third run per round and backend, ``atlas import --exclusive`` (the bulk
mode: table locked, its indexes and foreign keys rebuilt once at the end), in the rotation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.import_bench import (  # noqa: E402
    delete_source,
    drop_database,
    measure,
    new_database,
    prepare,
    write_households_csv,
)


def ogr2ogr(url: str, csv: Path) -> dict:
    """Load the CSV's points and fields with ogr2ogr into a table of its own; wall time."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = ["-f", "SQLite", "-dsco", "SPATIALITE=YES", "-update", parsed.database]
    else:
        target = ["-f", "PostgreSQL", f"PG:host={parsed.host} port={parsed.port or 5432} "
                  f"user={parsed.username} dbname={parsed.database}"]
    command = ["ogr2ogr", *target, str(csv), "-nln", "ogr_households", "-overwrite", "-a_srs", "EPSG:4326",
               "-oo", "X_POSSIBLE_NAMES=经度", "-oo", "Y_POSSIBLE_NAMES=纬度", "-oo", "KEEP_GEOM_COLUMNS=NO",
               "-lco", "GEOMETRY_NAME=geom", "-gt", "65536"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PG_USE_COPY": "YES"})
    return {"seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-rows", type=int, default=0)
    parser.add_argument("--exclusive", action="store_true", help="also time atlas import --exclusive")
    args = parser.parse_args()
    backends = ["spatialite", "postgis"] if args.backend == "both" else [args.backend]
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]} (2 cores, shared)", flush=True)
    with tempfile.TemporaryDirectory(prefix="atlas-bench-import-") as tmp:
        folder = Path(tmp)
        urls = {b: new_database(b, folder) for b in backends}
        try:
            villages = {b: prepare(url) for b, url in urls.items()}
            csv = folder / f"households_{args.households}.csv"
            write_households_csv(csv, args.households, next(iter(villages.values())))
            ours: dict[str, list] = {b: [] for b in backends}
            exclusive: dict[str, list] = {b: [] for b in backends}
            theirs: dict[str, list] = {b: [] for b in backends}
            for round_ in range(args.repeat):
                for backend in backends:
                    url = urls[backend]
                    steps = [("ours", lambda: measure(url, csv, "households")), ("ogr2ogr", lambda: ogr2ogr(url, csv))]
                    if args.exclusive:
                        steps.append(("ours-x", lambda: measure(url, csv, "households", exclusive=True)))
                    # each kind of run first, middle and last in turn across rounds
                    order = steps[round_ % len(steps):] + steps[:round_ % len(steps)]
                    for who, run in order:
                        result = run()
                        if who != "ogr2ogr":
                            assert result["inserted"] == args.households, result
                            delete_source(url, "households", "benchmark:synthetic")
                            (ours if who == "ours" else exclusive)[backend].append(result)
                        else:
                            theirs[backend].append(result)
                        print(f"round {round_ + 1} {backend:<10} {who:<7} {args.households / result['seconds']:9,.0f} rows/s"
                              + (f"  peak RSS {result['peak_mib']:.0f} MiB" if who != "ogr2ogr" else "")
                              + f"  load {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
            print()
            for backend in backends:
                rate = statistics.median(args.households / r["seconds"] for r in ours[backend])
                ogr = statistics.median(args.households / r["seconds"] for r in theirs[backend])
                peak = max(r["peak_mib"] for r in ours[backend])
                print(f"{backend:<10} atlas import {rate:9,.0f} rows/s  ogr2ogr {ogr:9,.0f} rows/s  "
                      f"ratio {rate / ogr:.2f}  peak RSS {peak:.0f} MiB")
                if exclusive[backend]:
                    fast = statistics.median(args.households / r["seconds"] for r in exclusive[backend])
                    rounds = ", ".join(f"{o['seconds'] / x['seconds']:.2f}" for o, x in zip(theirs[backend], exclusive[backend]))
                    print(f"{backend:<10} atlas import --exclusive {fast:9,.0f} rows/s  ratio {fast / ogr:.2f} "
                          f"(ratios per round {rounds})")
                if args.memory_rows:
                    big = folder / f"households_{args.memory_rows}.csv"
                    if not big.exists():
                        write_households_csv(big, args.memory_rows, villages[backend])
                    result = measure(urls[backend], big, "households")
                    print(f"{backend:<10} {args.memory_rows:,} rows: {args.memory_rows / result['seconds']:,.0f} rows/s, "
                          f"peak RSS {result['peak_mib']:.0f} MiB (vs {peak:.0f} MiB at {args.households:,})")
                    delete_source(urls[backend], "households", "benchmark:synthetic")
            print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
        finally:
            for url in urls.values():
                drop_database(url)


if __name__ == "__main__":
    main()
