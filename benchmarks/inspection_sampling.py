"""Inspection sampling speed: the whole draw on the demo, verification, the pure draw on a
large synthetic county, and route ordering. Prints medians and ratios.

Run on demand:  .venv/bin/python benchmarks/inspection_sampling.py [--repeat 5]
(uses a temporary SpatiaLite database; nothing is left behind)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from geo import migrate
    from geo.db import make_engine
    from geo.demo import load_demo
    from geo.services import inspections as service
    from geo.inspection.draw import build_frame, draw_sample
    from geo.inspection.plans import load_plan, with_overrides
    from geo.inspection.tours import nearest_neighbour, order_stops, path_cost, two_opt

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        migrate.upgrade(engine)
        load_demo(engine)
        spec = load_plan("seed003", year=2019)
        counter = iter(range(10_000))

        def draw(use_roads: bool):
            def run():
                n = next(counter)  # a seed is drawn once per frame
                return service.draw_plan(engine, with_overrides(spec, name=f"bench {n}"), seed=f"bench {n}",
                                         teams=3, use_roads=use_roads)
            return run

        roads_s = median_s(draw(True), args.repeat)
        straight_s = median_s(draw(False), args.repeat)
        plan_id = int(service.list_plans(engine)["id"].iloc[0])
        verify_s = median_s(lambda: service.verify_plan(engine, plan_id), args.repeat)
        print(f"demo seed003 draw (45 villages, ~450 households, 3 teams), roads:    {roads_s:7.3f} s")
        print(f"demo seed003 draw, straight lines:                                  {straight_s:7.3f} s"
              f"   (roads / straight = {roads_s / straight_s:.2f})")
        print(f"verify (redraw stored frame + rebuild today's frame):              {verify_s:7.3f} s")
        engine.dispose()

    # the pure draw on a large county: 400 villages, 200,000 households
    rng = np.random.default_rng(0)
    n_v, n_h = 400, 200_000
    villages = pd.DataFrame({"id": range(1, n_v + 1), "code": [f"6405021{i:05d}" for i in range(n_v)],
                             "name": [f"村{i}" for i in range(n_v)], "township_name": "镇",
                             "category": "poor", "households": 500})
    statuses = rng.choice(["exited", "planned_exit", "registered", "returned", "non_poor"], size=n_h,
                          p=[0.3, 0.1, 0.1, 0.02, 0.48])
    years = np.where(statuses == "exited", rng.choice([2014, 2015, 2016, 2017], size=n_h),
                     np.where(statuses == "planned_exit", 2019, np.nan))
    households = pd.DataFrame({"id": range(n_h), "code": [f"H{i:07d}" for i in range(n_h)],
                               "village_id": rng.integers(1, n_v + 1, size=n_h), "status": statuses,
                               "status_year": years})
    frame_s = median_s(lambda: build_frame(spec, villages, households), max(1, args.repeat // 2))
    frame = build_frame(spec, villages, households)
    draw_s = median_s(lambda: draw_sample(spec, frame, "bench"), max(1, args.repeat // 2))
    hash_s = median_s(lambda: frame.hash, max(1, args.repeat // 2))
    print(f"large county (400 villages, 200k households): frame {frame_s:.2f} s, frame hash {hash_s:.2f} s, "
          f"draw {draw_s:.2f} s ({draw_s / n_h * 1e6:.1f} µs a household)")

    # ordering: exact vs heuristic, and 2-opt's gain over nearest neighbour
    for n in (9, 45, 150):
        xy = rng.uniform(0, 50_000, size=(n + 1, 2))
        cost = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
        seconds = median_s(lambda: order_stops(cost), args.repeat)
        nn = path_cost(nearest_neighbour(cost), cost)
        opt = path_cost(two_opt(nearest_neighbour(cost), cost), cost)
        print(f"order {n:>3} stops: {seconds * 1000:8.1f} ms ({'exact' if n <= 9 else 'NN + 2-opt'}); "
              f"2-opt / nearest neighbour length = {opt / nn:.3f}")


if __name__ == "__main__":
    main()
