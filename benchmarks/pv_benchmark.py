"""Benchmark of the PV analyses (run on demand, not in the test suite).

1. Siting over the whole Shapotou demo district at 100 m cells with a synthetic DEM (written
   here as a GeoTIFF in EPSG:4326, so the reprojection is part of the timing): cells
   evaluated per second and total time, median of ``--repeat`` runs.
2. The yield model for ``--sites`` sites (1,000 by default) spread over the district: one
   full pvlib run per site (``estimate_yield``, clear-sky estimate), and the same sites
   through ``specific_yields`` sharing runs on its 0.1° lattice; medians and the ratio.

Usage::

    .venv/bin/python benchmarks/pv_benchmark.py [--repeat 3] [--sites 1000] [--cell-size 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import migrate  # noqa: E402
from geo.db import make_engine  # noqa: E402
from geo.demo import load_demo  # noqa: E402
from geo.services.pv import load_siting_frames  # noqa: E402
from geo.pv.siting import Exclusion, site_stations  # noqa: E402
from geo.pv.yield_model import estimate_yield, specific_yields  # noqa: E402


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

        # ---------------------------------------------------------------- siting
        times, result = [], None
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = site_stations(
                frames.area, cell_size_m=args.cell_size, dem=dem,
                exclusions=[Exclusion("existing_pv", frames.pv_projects, 0.0)],
                villages=frames.villages, households=frames.households,
                covered_household_ids=frames.covered_household_ids, top=10,
            )
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"\nsiting, whole district, {args.cell_size:g} m cells, DEM reprojected, {args.repeat} runs:")
        print(f"  cells evaluated    {result.cells_evaluated:,}  (kept {result.cells_kept:,}; excluded "
              + ", ".join(f"{k} {v:,}" for k, v in result.excluded_cells.items()) + ")")
        print(f"  candidates         {len(result.candidates)} shown; {'; '.join(result.notes)}")
        print(f"  total time         median {median:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})")
        print(f"  cells per second   median {result.cells_evaluated / median:,.0f}")

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
        print(f"\nyield model, {args.sites:,} sites (clear-sky estimate, PVWatts via pvlib ModelChain):")
        print(f"  one pvlib run per site   total {full:.1f} s, median {statistics.median(per_site) * 1000:.0f} ms "
              f"a site, {args.sites / full:.1f} sites/s")
        print(f"  0.1° lattice (shared)    total {lattice:.1f} s for {shared.runs} runs; "
              f"{full / lattice:.1f}x faster than one run per site")


if __name__ == "__main__":
    main()
