"""When the route solver stops: route cost and CPU of :func:`geo.inspection.tours.solve_orders`
with the stall stop (the default, :func:`geo.inspection.tours.stall_solutions`) against running
to the time limit, on random instances.

Instances: villages uniform in a 50 km square, driving at 8 m/s, 1-3 h in each village,
1-3 teams, 8 h days, the usual balance term. Printed per instance: the objective (driving
plus the balance penalty [s]) of each run to the time limit (``--repeat`` of them, their spread
is the run-to-run noise) and of the stall stop, with CPU seconds; then the mean CPU per size.

Run on demand:  .venv/bin/python -m benchmarks.inspection_solver_stop [--villages 10,15,25,40]
[--seeds 8] [--repeat 2]. Run it alone: the time limit is wall time, so other work changes the
figures of the runs to the limit.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from geo.inspection.tours import BALANCE, BALANCE_COST, solve_orders

#: A stall limit that is never reached: the search runs to its time limit, as before the stop.
NEVER = 10**12


def instance(villages: int, seed: int) -> tuple[np.ndarray, np.ndarray, int, float]:
    rng = np.random.default_rng(1000 * villages + seed)
    xy = rng.uniform(0, 50_000, (villages + 1, 2))
    time_s = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / 8.0
    service_s = rng.uniform(1, 3, villages) * 3600
    teams = 1 + seed % 3
    return time_s, service_s, teams, (service_s.sum() / teams + time_s[0, 1:].max()) * BALANCE


def objective(orders: list[list[int]], time_s: np.ndarray, service_s: np.ndarray, balance_s: float) -> float:
    """The solver's own objective: whole seconds of driving plus the balance penalty."""
    total = 0.0
    for order in orders:
        here, drive, work = 0, 0.0, 0.0
        for stop in order:
            leg = np.ceil(time_s[here, stop])
            drive, work, here = drive + leg, work + leg + np.ceil(service_s[stop - 1]), stop
        total += drive + BALANCE_COST * max(0.0, work - int(balance_s))
    return total


def solve(villages: int, seed: int, stall_limit: int | None) -> tuple[float, float]:
    time_s, service_s, teams, balance_s = instance(villages, seed)
    c0 = time.process_time()
    orders = solve_orders(time_s, service_s, teams=teams, day_s=8 * 3600.0, balance_s=balance_s,
                          stall_limit=stall_limit)
    return objective(orders, time_s, service_s, balance_s), time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--villages", default="10,15,25,40")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"{'villages':>8}{'seed':>5}  {'to the time limit: cost (CPU s)':<44}stall stop: cost (CPU s)")
    for villages in (int(v) for v in args.villages.split(",")):
        before, after = [], []
        for seed in range(args.seeds):
            limit = [solve(villages, seed, NEVER) for _ in range(args.repeat)]
            stop = solve(villages, seed, None)
            before += [cpu for _, cpu in limit]
            after.append(stop[1])
            costs = sorted({cost for cost, _ in limit})
            verdict = "same" if stop[0] in costs else "better" if stop[0] < costs[0] else "within" \
                if stop[0] <= costs[-1] else "WORSE"
            shown = ", ".join(f"{cost:.0f}" for cost in costs)
            print(f"{villages:>8}{seed:>5}  {shown:<22} ({statistics.mean(c for _, c in limit):.2f})"
                  f"{'':<14}{stop[0]:.0f} ({stop[1]:.2f}) {verdict}")
        print(f"{villages:>8} villages: mean CPU {statistics.mean(before):.2f} s -> {statistics.mean(after):.2f} s")


if __name__ == "__main__":
    main()
