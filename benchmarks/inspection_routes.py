"""Inspection routes: the OR-Tools routing solver against the earlier planner (townships per
team, nearest neighbour + 2-opt), on the same road-time matrix and the same visit times.

Two instances:

* the demo: seed003 over all 45 villages (2019, seed ``bench``), three teams, 8 h a day,
  30 min a village and 15 min a household, plus getting round each village;
* 150 villages of the synthetic county (benchmarks/synthetic_county.py, scale 4, its own road
  network), three teams, 3 h in each village.

Both planners' routes are cut into days the same way (a day takes the next village while the
drive and the visit fit in 8 h; the night is spent where the day ends). Printed per planner:
driving hours, total hours (driving + visits), the longest team (hours and days) and the
longest day; then the ratios solver / earlier. For the demo also "as drawn before": the
earlier planner with every household walked to from the village committee.

Run on demand:  .venv/bin/python benchmarks/inspection_routes.py [--repeat 3]
(uses a temporary SpatiaLite database; nothing is left behind). The solver stops when it stops
improving or at its time limit, whichever comes first; the limit can come first on a loaded
machine, so its figures can vary a little with the load; medians over ``--repeat`` runs.
"solver run" is the whole plan with the solver (wall and CPU seconds).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np


def summary(routes) -> dict[str, float]:
    drive = sum(d.drive_s for r in routes for d in r.days) / 3600
    total = sum(r.work_hours for r in routes)
    return {"drive_h": drive, "total_h": total,
            "longest_team_h": max(r.work_hours for r in routes),
            "longest_team_days": max(len(r.days) for r in routes),
            "longest_day_h": max(r.longest_day_hours for r in routes)}


def compare(label: str, run, repeat: int) -> dict[str, dict[str, float]]:
    results: dict[str, list[dict[str, float]]] = {"nearest": [], "solver": []}
    seconds, cpu_seconds = [], []
    for _ in range(repeat):
        results["nearest"].append(summary(run("nearest")))
        t0, c0 = time.perf_counter(), time.process_time()
        results["solver"].append(summary(run("solver")))
        seconds.append(time.perf_counter() - t0)
        cpu_seconds.append(time.process_time() - c0)
    med = {p: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for p, rs in results.items()}
    print(f"\n{label}")
    print(f"  {'planner':<28}{'driving h':>10}{'total h':>9}{'longest team':>16}{'longest day h':>15}")
    for planner, m in med.items():
        name = "OR-Tools routing" if planner == "solver" else "nearest neighbour + 2-opt"
        print(f"  {name:<28}{m['drive_h']:>10.2f}{m['total_h']:>9.2f}"
              f"{m['longest_team_h']:>9.2f} h {int(m['longest_team_days']):>2} d{m['longest_day_h']:>12.2f}")
    s, n = med["solver"], med["nearest"]
    print(f"  solver / earlier: driving {s['drive_h'] / n['drive_h']:.3f}, total {s['total_h'] / n['total_h']:.3f}, "
          f"longest team {s['longest_team_h'] / n['longest_team_h']:.3f}; solver run {statistics.median(seconds):.1f} s "
          f"(CPU {statistics.median(cpu_seconds):.1f} s)")
    return med


def demo(repeat: int) -> None:
    from geo import migrate
    from geo.db import connect, make_engine
    from geo.demo import load_demo
    from geo.inspection.draw import draw_sample
    from geo.inspection.plans import load_plan
    from geo.inspection.tours import DayRules, plan_routes, village_visit
    from geo.services import inspections as service

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        migrate.upgrade(engine)
        load_demo(engine)
        spec = load_plan("seed003", year=2019)
        start = service.DEFAULT_START
        with connect(engine) as conn:
            frame, villages, households = service.current_frame(conn, spec)
            sample = draw_sample(spec, frame, "bench")
            inputs = service.route_inputs(conn, villages, households, sample, start=start)
        engine.dispose()
    rules = DayRules()

    def run(planner, service_s=inputs.service_s):
        return plan_routes(inputs.chosen, start=start, teams=3, network=inputs.network, rules=rules,
                           service_s=service_s, distances=inputs.distances, planner=planner)

    compare(f"demo: seed003, {len(inputs.chosen)} villages, {len(sample.households)} households, 3 teams", run, repeat)
    # as drawn before: every household walked to from the committee
    walked = []
    h = households.set_index("code")
    for key, committee, n in zip(inputs.chosen["village_key"], inputs.chosen.geometry, inputs.chosen["load"]):
        codes = sample.households.loc[sample.households["village_key"] == key, "household_code"]
        visit = village_visit(committee, gpd.GeoSeries([h.at[c, "geometry"] for c in codes], crs=4326), [])
        walked.append(rules.visit_s(int(n), visit.moving_s))
    before = summary(run("nearest", walked))
    after = summary(run("solver"))
    print(f"  as drawn before (earlier planner, households walked to from the committee): total "
          f"{before['total_h']:.2f} h, longest team {before['longest_team_h']:.2f} h; now / before: total "
          f"{after['total_h'] / before['total_h']:.3f}")


def county(repeat: int, villages: int = 150) -> None:
    from benchmarks.synthetic_county import synthetic_county
    from geo.inspection.tours import DayRules, leg_distances, plan_routes
    from geo.network import build_network

    layers = synthetic_county(4)
    stops = layers["villages"].iloc[:villages].copy()
    towns = layers["townships"].set_index("id")["name"]
    stops["township_name"] = [towns[t] for t in stops["township_id"]]
    stops["load"] = 10
    network = build_network(layers["roads"])
    start = layers["townships"]["seat"].iloc[0] if "seat" in layers["townships"] else stops.geometry.iloc[0]
    distances = leg_distances(gpd.GeoSeries([start, *stops.geometry.to_numpy()], crs=4326), network=network)
    rules = DayRules()
    service_s = np.full(len(stops), rules.visit_s(10))

    def run(planner):
        return plan_routes(stops, start=start, teams=3, network=network, rules=rules, service_s=service_s,
                           distances=distances, planner=planner)

    compare(f"synthetic county: {len(stops)} villages, 3 teams, 3 h a village", run, repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    demo(args.repeat)
    county(args.repeat)


if __name__ == "__main__":
    main()
