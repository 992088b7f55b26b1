"""Benchmark of the PV analyses (run on demand, not in the test suite).

1. Siting over the whole Shapotou demo district at 100 m cells with the default exclusions on
   (settlements, village committees, township seats, roads, water, existing PV: what
   ``atlas pv site`` does) and a synthetic DEM (written here as a GeoTIFF in EPSG:4326, so
   the reprojection is part of the timing): cells evaluated per second and total time,
   median of ``--repeat`` runs, each in a fresh process (target: under 15 s).
0. The PV map's first view after a start: a fresh Python process with the modules imported
   builds and renders ``/maps/pv`` (review, siting at the map's 500 m, Folium HTML); median
   of ``--repeat`` processes (target: under 2 s).
2. The yield model for ``--sites`` sites (1,000 by default) spread over the district: one
   full pvlib run per site (``estimate_yield``, clear-sky estimate), and the same sites
   through ``specific_yields`` sharing runs on its 0.1° lattice; medians and the ratio.

Usage::

    .venv/bin/python benchmarks/pv_benchmark.py [--repeat 3] [--sites 1000] [--cell-size 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import migrate
from geo.db import make_engine
from geo.demo import load_demo
from geo.pv.yield_model import estimate_yield, specific_yields
from geo.services.pv import load_siting_frames

#: Run in a fresh process: imports first (not timed), then the timed work; prints JSON.
_FRESH = """
import json, sys, time
sys.path.insert(0, {root!r})
from geo.db import make_engine
from geo.services.pv import run_siting
from maps.base import render_map
from maps.pages import load_map
engine = make_engine({url!r})
start = time.perf_counter()
if {what!r} == "map":
    spec, m = load_map(engine, "pv")
    html = render_map(m)
    print(json.dumps({{"seconds": time.perf_counter() - start, "bytes": len(html)}}))
else:
    r = run_siting(engine, cell_size_m={cell}, dem={dem!r}, top=10)
    print(json.dumps({{"seconds": time.perf_counter() - start, "evaluated": r.cells_evaluated,
                      "kept": r.cells_kept, "excluded_ha": r.excluded_area_ha, "found": r.candidates_found,
                      "unreached": r.households_unreached, "to_reach": r.households_to_reach,
                      "notes": list(r.notes)}}))
"""


def fresh(what: str, url: str, *, cell: float = 100.0, dem: str | None = None) -> dict:
    """Time ``what`` (``map`` or ``site``) in a new Python process (nothing cached)."""
    code = _FRESH.format(root=str(ROOT), url=url, what=what, cell=cell, dem=dem)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def synthetic_dem(path: Path, bounds: tuple[float, float, float, float], *, res_deg: float = 0.001) -> Path:
    """Rolling terrain 1,150-1,900 m over ``bounds`` (lon/lat), in EPSG:4326: flat plains and
    ridges steep enough for the 5 % slope rule to bite."""
    west, south, east, north = bounds
    west, south, east, north = west - 0.02, south - 0.02, east + 0.02, north + 0.02
    cols = int(np.ceil((east - west) / res_deg))
    rows = int(np.ceil((north - south) / res_deg))
    lon = west + (np.arange(cols) + 0.5) * res_deg
    lat = north - (np.arange(rows) + 0.5) * res_deg
    lon2, lat2 = np.meshgrid(lon, lat)
    ridges = np.sin(lon2 * 40.0) * np.cos(lat2 * 55.0)
    elevation = 1_150.0 + 400.0 * (lat2 - south) / (north - south) + 180.0 * np.clip(ridges, 0, None) ** 2
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west, north, res_deg, res_deg), compress="deflate") as dst:
        dst.write(elevation.astype("float32"), 1)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="siting runs (median reported)")
    parser.add_argument("--sites", type=int, default=1000, help="sites for the yield model")
    parser.add_argument("--cell-size", type=float, default=100.0, help="siting cell size [m]")
    parser.add_argument("--db", help="database URL holding the demo (default: a new SpatiaLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
        engine = make_engine(url)
        if args.db is None:
            migrate.upgrade(engine)
            load_demo(engine)
        frames = load_siting_frames(engine)
        dem = synthetic_dem(Path(tmp) / "dem.tif", tuple(frames.area.total_bounds))
        print(f"demo district: {len(frames.area)} townships, {len(frames.villages)} villages; "
              f"synthetic DEM {dem.stat().st_size / 1e6:.1f} MB (EPSG:4326, 0.001°)")

        # ---------------------------------------------------------------- map first view
        views = [fresh("map", url) for _ in range(args.repeat)]
        median = statistics.median(v["seconds"] for v in views)
        print(f"\nPV map first view after a start (fresh process, load_map + render), {args.repeat} runs:")
        listing = ", ".join(f"{v['seconds']:.2f}" for v in views)
        print(f"  median {median:.2f} s  (runs: {listing}; "
              f"{views[0]['bytes'] / 1e6:.1f} MB of HTML)")

        # ---------------------------------------------------------------- siting
        runs = [fresh("site", url, cell=args.cell_size, dem=str(dem)) for _ in range(args.repeat)]
        result = runs[-1]
        median = statistics.median(r["seconds"] for r in runs)
        print(f"\nsiting, whole district, {args.cell_size:g} m cells, default exclusions on, DEM reprojected, "
              f"{args.repeat} fresh processes:")
        print(f"  cells evaluated    {result['evaluated']:,}  (kept {result['kept']:,}); excluded area ha: "
              + ", ".join(f"{k} {v:,.0f}" for k, v in result["excluded_ha"].items()))
        print(f"  candidates         {result['found']:,} found; households to reach {result['to_reach']:,}, "
              f"unreached after the best 10: {result['unreached']:,}; {'; '.join(result['notes'])}")
        listing = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"  total time         median {median:.2f} s  (runs: {listing})")
        print(f"  cells per second   median {result['evaluated'] / median:,.0f}")

        # ---------------------------------------------------------------- yields
        rng = np.random.default_rng(5)
        west, south, east, north = frames.area.total_bounds
        lat = rng.uniform(south, north, args.sites)
        lon = rng.uniform(west, east, args.sites)
        per_site = []
        start = time.perf_counter()
        for la, lo in zip(lat, lon):
            t0 = time.perf_counter()
            estimate_yield(latitude=float(la), longitude=float(lo), capacity_kwp=100.0, altitude_m=1_300.0)
            per_site.append(time.perf_counter() - t0)
        full = time.perf_counter() - start
        start = time.perf_counter()
        shared = specific_yields(lat, lon, altitudes_m=np.full(args.sites, 1_300.0))
        lattice = time.perf_counter() - start
        print(f"\nyield model, {args.sites:,} sites (clear-sky estimate, pvlib PVWatts chain):")
        print(f"  one pvlib run per site   total {full:.1f} s, median {statistics.median(per_site) * 1000:.0f} ms "
              f"a site, {args.sites / full:.1f} sites/s")
        print(f"  0.1° lattice (shared)    total {lattice:.1f} s for {shared.runs} runs; "
              f"{full / lattice:.1f}x faster than one run per site")


if __name__ == "__main__":
    main()
