"""Offline map packages of the demo plan: seconds and size of the MBTiles of each team and of
the whole plan, vector (MVT) and raster (PNG), through ``geo.services.field_maps``.

The plan: seed003 over all 45 villages (2019, seed ``bench``), three teams. Printed per package:
the median seconds over ``--repeat`` runs, the tiles (and per zoom) and the file size, and the
machine's load average before the runs.

Run on demand:  .venv/bin/python benchmarks/offline_maps.py [--repeat 3] [--db URL]
(without --db: a temporary SpatiaLite database with the demo; nothing is left behind).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="a database holding the demo (default: a temporary SpatiaLite copy)")
    args = parser.parse_args()

    from geo import migrate
    from geo.db import make_engine
    from geo.demo import load_demo
    from geo.inspection.plans import load_plan
    from geo.services import field_maps
    from geo.services import inspections

    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'demo.sqlite'}"
        engine = make_engine(url)
        if not args.db:
            migrate.upgrade(engine)
            load_demo(engine)
        plan = inspections.draw_plan(engine, load_plan("seed003", year=2019), seed=f"bench {time.time()}",
                                     teams=3).plan_id
        print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
        print("package            seconds (median)  tiles   MB     tiles per zoom 10..17")
        for raster in (False, True):
            for team in (1, 2, 3, None):
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    package = field_maps.build_package(engine, plan, team=team, raster=raster)
                    times.append(time.perf_counter() - start)
                per_zoom = " ".join(str(package.tiles_per_zoom.get(z, 0)) for z in range(10, 18))
                label = f"{'raster' if raster else 'vector'} {'team ' + str(team) if team else 'whole plan'}"
                print(f"{label:<18} {statistics.median(times):>8.1f}         {sum(package.tiles_per_zoom.values()):>6}  "
                      f"{len(package.data) / 1e6:>5.1f}   {per_zoom}")
        engine.dispose()


if __name__ == "__main__":
    main()
