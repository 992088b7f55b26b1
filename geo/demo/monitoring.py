"""The demo's monitoring cases (防止返贫动态监测): synthetic leads and cases, every one
``demo:synthetic``, enough to show every status and overdue steps.

Dates are counted back from the day the demo is loaded, so that the cases stand where the
plan says (a lead still on time, one overdue, one in its posting now ...). Pure:
:func:`monitoring_plan` picks the households and dates; :func:`geo.demo.load_demo` takes the
steps through :mod:`geo.services.monitoring`, so the demo obeys the workflow's rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.enums import CaseStatus as S
from geo.monitoring.workflow import (DEFAULT_RULES, POSTINGS, STEP_NAMES, next_due, working_days_after,
                                    working_days_between)

SYNTHETIC = "demo:synthetic"

#: (status the case reaches, overdue?, category, risk, channel, household status wanted)
CASES = (
    (S.LEAD, False, None, "illness", "department", "exited"),
    (S.LEAD, True, None, "disaster", "visit", "exited"),
    (S.DISMISSED, False, None, "employment", "self_report", "non_poor"),
    (S.CHECKED, False, "marginal", "illness", "department", "non_poor"),
    (S.CHECKED, True, "unstable_exited", "schooling", "visit", "exited"),
    (S.POSTED, False, "unstable_exited", "illness", "department", "exited"),
    (S.TOWNSHIP_REVIEWED, False, "sudden_hardship", "accident", "self_report", "registered"),
    (S.TOWNSHIP_REVIEWED, True, "marginal", "employment", "visit", "non_poor"),
    (S.APPROVED, False, "unstable_exited", "disability", "department", "exited"),
    (S.ASSISTING, False, "unstable_exited", "illness", "department", "exited"),
    (S.ASSISTING, False, "marginal", "business", "visit", "non_poor"),
    (S.REMOVAL_POSTED, False, "sudden_hardship", "disaster", "visit", "exited"),
    (S.REMOVED, False, "unstable_exited", "employment", "department", "exited"),
    (S.REMOVED, False, "marginal", "illness", "self_report", "non_poor"),
)
MEASURES = {"illness": ("medical", 6000.0), "disaster": ("housing", 15000.0), "employment": ("public_post", 9600.0),
            "schooling": ("education", 3000.0), "accident": ("minimum_income", 4800.0),
            "disability": ("minimum_income", 4800.0), "business": ("industry", 8000.0)}


@dataclass
class DemoCase:
    """One synthetic case: its household, lead, and the steps and measures with their dates."""

    household_code: str
    channel: str
    risk: str
    received_on: dt.date
    category: str | None
    income_per_person_yuan: float
    out_of_pocket_yuan: float
    steps: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)
    measures: list[tuple[str, dt.date, float]] = field(default_factory=list)


def _schedule(start: dt.date, target: S) -> tuple[list[tuple[S, dt.date, dt.date | None]], dt.date]:
    """The steps from a lead received on ``start`` up to ``target``, each a working day or
    two after the last (postings 7 days); and the last step's day."""
    path = [S.CHECKED, S.POSTED, S.TOWNSHIP_REVIEWED, S.APPROVED, S.ASSISTING, S.REMOVAL_POSTED, S.REMOVED]
    if target == S.DISMISSED:
        path = [S.DISMISSED]
    steps, day, until = [], start, None
    for step in path:
        if target == S.LEAD:
            break
        begin = until + dt.timedelta(days=1) if until is not None else day
        gap = 30 if step == S.REMOVAL_POSTED else 2  # assistance runs a month before the risk is gone
        day = working_days_after(begin, gap if until is None else 1)
        until = day + dt.timedelta(days=6) if step in POSTINGS else None
        steps.append((step, day, until))
        if step == target:
            break
    return steps, (steps[-1][1] if steps else start)


def monitoring_plan(households: pd.DataFrame, *, today: dt.date, seed: int = 20210701) -> list[DemoCase]:
    """The demo cases: for each row of :data:`CASES` a household of the wanted status (spread
    over the townships), a lead and the dated steps that put the case at its status today,
    on time or overdue as the row says."""
    rng = np.random.default_rng(seed)
    placed = households[households["geometry"].notna()] if "geometry" in households else households
    towns = sorted(placed["township_name"].unique())
    used: set[str] = set()
    plan = []
    for n, (target, overdue, category, risk, channel, status) in enumerate(CASES):
        pool = placed[(placed["status"] == status) & (placed["township_name"] == towns[n % len(towns)])
                      & ~placed["code"].isin(used)]
        if pool.empty:
            pool = placed[(placed["status"] == status) & ~placed["code"].isin(used)]
        code = str(pool["code"].iloc[int(rng.integers(0, len(pool)))])
        used.add(code)
        start = _start(target, overdue, today)
        steps, _ = _schedule(start, target)
        case = DemoCase(code, channel, risk, start, category,
                        income_per_person_yuan=float(rng.integers(38, 62)) * 100,
                        out_of_pocket_yuan=float(rng.integers(80, 260)) * 100 if risk == "illness" else 0.0)
        for step, day, until in steps:
            if step == S.ASSISTING:
                kind, amount = MEASURES[risk]
                case.measures.append((kind, day, amount))
            else:
                case.steps.append((STEP_NAMES[step], day, until))
        plan.append(case)
    return plan


def _start(target: S, overdue: bool, today: dt.date) -> dt.date:
    """The latest day a lead can be received so that its case reaches ``target`` by today
    and its next step is (not) yet overdue."""
    for back in range(1, 400):
        start = np.busday_offset(np.datetime64(today, "D"), -back, roll="backward").astype(dt.date)
        steps, last = _schedule(start, target)
        if last > today:
            continue
        status = steps[-1][0] if steps else S.LEAD
        until = steps[-1][2] if steps else None
        if status in POSTINGS and until is not None and until >= today and not overdue:
            return start
        if status in POSTINGS:
            continue
        _, due = next_due(status, last, until, rules=DEFAULT_RULES)
        late = due is not None and working_days_between(due, today) >= 3  # clearly late, even on a Monday
        on_time = due is None or today <= due
        if (overdue and late) or (not overdue and on_time):
            return start
    raise ValueError(f"no schedule puts a demo case at {target} by {today}")
