"""Time the network link plan against today's one-by-one link step, and the budget optimiser,
on the synthetic county ten times the demo.

    .venv/bin/python benchmarks/bench_link_plan.py [--scale 10] [--runs 5] [--budget 5000]

The roads analysis computes both link plans (the ``link_plans`` table compares them); this
script wraps :func:`geo.analysis.roads.plan_links` and :func:`geo.analysis.roads.new_links`
to time each step inside a normal run, prints their medians and ratio (target: the plan
within 2x of the one-by-one step), the two plans' km, and the median time of the road
ranking with ``--optimise`` (target: under 10 s for 450 villages).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic_county import synthetic_county
from geo.analysis import analyze, roads

PLAN_TARGET_RATIO = 2.0
OPTIMISER_TARGET_S = 10.0


def _timed(function, sink: list[float]):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - started)
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=5_000.0)
    args = parser.parse_args()
    frames = synthetic_county(args.scale)
    print(f"synthetic county x{args.scale}: {len(frames['villages']):,} villages, "
          f"{len(frames['settlements']):,} settlements, {len(frames['roads']):,} road segments")
    plan_s: list[float] = []
    one_s: list[float] = []
    original = roads.plan_links, roads.new_links
    roads.plan_links, roads.new_links = _timed(original[0], plan_s), _timed(original[1], one_s)
    try:
        result = None
        for _ in range(args.runs + 1):
            result = analyze(frames, "roads")
    finally:
        roads.plan_links, roads.new_links = original
    plan, one = statistics.median(plan_s[1:]), statistics.median(one_s[1:])
    plans = result.tables["link_plans"].set_index("plan")
    print(f"  link step: network plan median {plan:.2f} s, one by one {one:.2f} s, ratio {plan / one:.2f} "
          f"(target <= {PLAN_TARGET_RATIO:g}: {'met' if plan / one <= PLAN_TARGET_RATIO else 'NOT met'})")
    print(f"  network plan {plans.loc['network', 'new_links']} links, {plans.loc['network', 'length_km']:,.2f} km; "
          f"one by one {plans.loc['one_by_one', 'new_links']} links, {plans.loc['one_by_one', 'length_km']:,.2f} km")
    roads_result = analyze(frames, "roads")
    wall = []
    for _ in range(args.runs):
        started = time.perf_counter()
        ranked = analyze(frames, "priority", kind="road", budget_wan_yuan=args.budget, optimise=True,
                         roads_result=roads_result)
        wall.append(time.perf_counter() - started)
    median = statistics.median(wall)
    print(f"  road ranking with --optimise (budget {args.budget:g} 万元, roads result reused): median {median:.2f} s "
          f"(target < {OPTIMISER_TARGET_S:g} s: {'met' if median < OPTIMISER_TARGET_S else 'NOT met'})")
    budget = ranked.tables["budget"]
    print(budget[["method", "spent_wan_yuan", "unmet_registered_poor_households_served"]].to_string(index=False))


if __name__ == "__main__":
    main()
