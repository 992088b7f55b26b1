"""Import benchmark: households from CSV and road segments from GeoPackage, into SpatiaLite and PostGIS.

Run on demand (not part of the test suite)::

    .venv/bin/python benchmarks/import_bench.py                      # 100,000 households, 50,000 roads, both backends
    .venv/bin/python benchmarks/import_bench.py --backend spatialite --households 20000 --roads 10000 --repeat 1
    .venv/bin/python benchmarks/import_bench.py --backend spatialite --memory-rows 1000000   # flat-memory check

Each import runs in its own process (``import_file`` through the public API, exactly as
``atlas import`` calls it), which reports its wall time and peak resident memory
(``ru_maxrss``). The first import of a file inserts every row; the re-import of the same
file finds every row unchanged (the upsert path). Between repeats the inserted rows are
deleted again. Printed: median rows per second and peak memory per backend and case, and
the PostGIS/SpatiaLite ratio.

Households reference the demo's villages by 乡镇 + 行政村 name; roads are written in
CGCS2000 / 3-degree Gauss-Kruger CM 105E (EPSG:4544) so every import also reprojects.
PostGIS needs a server (``ATLAS_TEST_POSTGRES_URL``, default postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STATUSES = ["建档立卡未脱贫", "已脱贫", "计划脱贫", "返贫", "非贫困户"]


# ------------------------------------------------------------------ data files


def write_households_csv(path: Path, rows: int, villages: list[tuple[str, str, float, float]], *, seed: int = 7) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(villages), rows)
    dx = rng.normal(0, 0.01, rows)
    dy = rng.normal(0, 0.01, rows)
    status = rng.integers(0, len(STATUSES), rows)
    members = rng.integers(1, 8, rows)
    income = rng.integers(2500, 16000, rows)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["户编号", "乡镇", "行政村", "农户类型", "家庭人口", "人均纯收入（元）", "经度", "纬度", "来源"])
        for i in range(rows):
            town, village, lon, lat = villages[pick[i]]
            writer.writerow([f"BENCH-{i + 1:07d}", town, village, STATUSES[status[i]], int(members[i]),
                             int(income[i]), f"{lon + dx[i]:.6f}", f"{lat + dy[i]:.6f}", "benchmark:synthetic"])


def write_roads_gpkg(path: Path, rows: int, *, seed: int = 11) -> None:
    import geopandas as gpd
    import numpy as np
    import shapely

    rng = np.random.default_rng(seed)
    # inside Shapotou, in EPSG:4544 metres (CM 105E): easting ~ 480-540 km, northing ~ 4,100-4,170 km
    x0 = rng.uniform(470_000, 540_000, rows)
    y0 = rng.uniform(4_100_000, 4_170_000, rows)
    steps = rng.integers(2, 8, rows)
    lines = []
    for x, y, n in zip(x0, y0, steps):
        xs = x + np.cumsum(rng.normal(0, 150, n))
        ys = y + np.cumsum(rng.normal(0, 150, n))
        lines.append(shapely.linestrings(np.column_stack([xs, ys])))
    frame = gpd.GeoDataFrame({
        "道路编号": [f"BR{i + 1:06d}" for i in range(rows)],
        "道路名称": [f"测试道路{i + 1}" for i in range(rows)],
        "道路等级": rng.choice(["县道", "乡道", "村道", "机耕道"], rows),
        "路面类型": rng.choice(["硬化路", "砂石路", "土路"], rows),
        "路面宽度": np.round(rng.uniform(3, 9, rows), 1),
        "来源": ["benchmark:synthetic"] * rows,
    }, geometry=lines, crs=4544)
    frame.to_file(path, layer="roads", driver="GPKG")


# ------------------------------------------------------------------ databases


def new_database(backend: str, folder: Path) -> str:
    if backend == "spatialite":
        return f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.sqlite'}"
    from tests.conftest import create_postgis_database  # the test suite's own helper

    return create_postgis_database("atlas_bench")


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    from tests.conftest import drop_postgis_database

    drop_postgis_database(url)


def prepare(url: str) -> list[tuple[str, str, float, float]]:
    """Schema and demo data (the villages households refer to); return the villages."""
    from geo import migrate, storage
    from geo.db import make_engine
    from geo.demo import load_demo

    engine = make_engine(url)
    migrate.upgrade(engine)
    load_demo(engine)
    villages = storage.read_layer(engine, "villages")
    engine.dispose()
    return [(t, n, g.x, g.y) for t, n, g in zip(villages["township_name"], villages["name"], villages.geometry)]


def delete_source(url: str, layer: str, source: str) -> None:
    """Delete the rows a measured import wrote, and on PostGIS vacuum the table: the next
    import meets the table as autovacuum would leave it, not the dead rows of a delete made a
    second earlier (their unique-index entries, under the same codes, made the next import's
    inserts and key matches check each dead row: 20-40 % slower). ogr2ogr writes a new table
    each time."""
    from geo import storage
    from geo.db import make_engine
    from geo.layers import get_layer

    engine = make_engine(url)
    ids = storage.read_layer(engine, layer, columns=["source"], where={"source": source}, with_names=False)["id"]
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), 10_000):
        storage.delete_rows(engine, layer, ids[start:start + 10_000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'VACUUM ANALYZE "{get_layer(layer).table.name}"')
    engine.dispose()


# ------------------------------------------------------------------ one measured import (child process)


def child(args: argparse.Namespace) -> None:
    from geo.db import make_engine
    from geo.io import import_file

    engine = make_engine(args.db)
    chunks = []
    started = time.perf_counter()
    report = import_file(engine, args.file, layer=args.layer, dry_run=args.dry_run, exclusive=args.exclusive,
                         progress=lambda done, total: chunks.append(done))
    seconds = time.perf_counter() - started
    peak_kib = _peak_kib()
    print(json.dumps({"rows": report.read, "seconds": seconds, "peak_mib": peak_kib / 1024,
                      "inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
                      "refused": report.refused_count, "chunks": len(chunks)}))


def _peak_kib() -> int:
    """This process's peak resident memory [KiB]: ``VmHWM``, which starts afresh at exec.
    (``ru_maxrss`` does not: on Linux it keeps the parent's peak from before the fork, so a
    child of a benchmark that generated a 1M-row file reported the parent's memory.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(url: str, file: Path, layer: str, *, dry_run: bool = False, exclusive: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", "--db", url, "--file", str(file), "--layer", layer]
    if dry_run:
        command.append("--dry-run")
    if exclusive:
        command.append("--exclusive")
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"import failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ main


def run_backend(backend: str, args: argparse.Namespace, folder: Path) -> dict:
    url = new_database(backend, folder)
    try:
        villages = prepare(url)
        households = folder / f"households_{args.households}.csv"
        roads = folder / f"roads_{args.roads}.gpkg"
        if not households.exists():
            write_households_csv(households, args.households, villages)
        if not roads.exists():
            write_roads_gpkg(roads, args.roads)
        out: dict[str, dict] = {}
        for case, file, layer in (("households csv", households, "households"), ("roads gpkg", roads, "roads")):
            inserts, reimports = [], []
            for _ in range(args.repeat):
                first = measure(url, file, layer)
                assert first["inserted"] == first["rows"], first
                again = measure(url, file, layer)
                assert again["unchanged"] == again["rows"], again
                inserts.append(first)
                reimports.append(again)
                delete_source(url, layer, "benchmark:synthetic")
            out[case] = {"insert": inserts, "reimport": reimports}
        if args.memory_rows:
            big = folder / f"households_{args.memory_rows}.csv"
            if not big.exists():
                write_households_csv(big, args.memory_rows, villages)
            out["memory"] = {"small": out["households csv"]["insert"][0], "big": measure(url, big, "households")}
        return out
    finally:
        drop_database(url)


def summarise(backend: str, results: dict) -> None:
    for case in ("households csv", "roads gpkg"):
        for kind in ("insert", "reimport"):
            runs = results[case][kind]
            rate = statistics.median(r["rows"] / r["seconds"] for r in runs)
            peak = max(r["peak_mib"] for r in runs)
            print(f"{backend:<10} {case:<15} {kind:<9} rows {runs[0]['rows']:>8}  median {rate:>9,.0f} rows/s  "
                  f"(median {statistics.median(r['seconds'] for r in runs):6.1f} s over {len(runs)})  "
                  f"peak RSS {peak:6.0f} MiB")
    if "memory" in results:
        small, big = results["memory"]["small"], results["memory"]["big"]
        print(f"{backend:<10} memory: {small['rows']:,} rows peak {small['peak_mib']:.0f} MiB; "
              f"{big['rows']:,} rows peak {big['peak_mib']:.0f} MiB in {big['chunks']} chunks "
              f"({big['rows'] / big['seconds']:,.0f} rows/s); ratio {big['peak_mib'] / small['peak_mib']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--roads", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-rows", type=int, default=0, help="also import a CSV of this many households")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the generated files here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--layer", help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--exclusive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    backends = ["spatialite", "postgis"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results = {b: run_backend(b, args, folder) for b in backends}
    print()
    for backend, result in results.items():
        summarise(backend, result)
    if len(results) == 2:
        for case in ("households csv", "roads gpkg"):
            rates = {b: statistics.median(r["rows"] / r["seconds"] for r in results[b][case]["insert"]) for b in results}
            print(f"ratio postgis/spatialite {case} insert: {rates['postgis'] / rates['spatialite']:.2f}")


if __name__ == "__main__":
    main()
