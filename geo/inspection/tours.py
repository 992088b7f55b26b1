"""Visiting routes: the order of the sampled villages from a start point, split across teams.

Pure functions. Distances come from the road network when there are roads (lengths from the
geometry, travel time slower on gravel and earth roads; :mod:`geo.network`); a pair of stops
the network cannot join, or every pair when there are no roads, falls back to the straight
line, and each leg says which it used. Routes minimise travel time and report kilometres.

Two planners:

* ``solver`` (the default): a vehicle-routing solver (Google OR-Tools' routing library) over
  the road-time matrix gives each team its villages and their order, minimising driving time
  plus the longest team's working time (driving and visits), so the loads balance
  (:func:`solve_orders`). Time in a village is a fixed time per village and per household
  plus getting round it: driving to its settlements where a road reaches them, walking only
  the last stretch (:func:`village_visit`).
* ``nearest`` (the earlier planner, kept for comparison): townships kept together per team,
  each team's order exact (Held-Karp) up to :data:`EXACT_UP_TO` stops, else nearest
  neighbour then 2-opt.

Either route is cut into days (:func:`cut_into_days`): a day takes the next village while the
drive and the visit end within :attr:`DayRules.hours_per_day`, and the team spends the night
where the day ended. With :attr:`DayRules.days` the solver bounds each team's total and
tightens the bound until the days fit (:func:`plan_days`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from geo.crs import metric_crs_for
from geo.enums import RouteMethod
from geo.errors import ValidationError
from geo.network import DEFAULT_SPEED_KPH, RoadNetwork, build_network

#: Stops up to which routes are solved exactly (Held-Karp, O(n^2 2^n)).
EXACT_UP_TO = 9
#: A stop farther than this from every road is reached in a straight line [m].
DEFAULT_MAX_ACCESS_M = 3_000.0
#: Speed assumed on straight-line legs, the slowest road speed [km/h].
STRAIGHT_SPEED_KPH = min(DEFAULT_SPEED_KPH.values())


# ---------------------------------------------------------------------- ordering


def path_cost(order: list[int], cost: np.ndarray, *, closed: bool = False) -> float:
    """Cost of visiting ``order`` (its first item is the start); ``closed`` returns to it."""
    total = float(sum(cost[a, b] for a, b in zip(order[:-1], order[1:])))
    if closed and len(order) > 1:
        total += float(cost[order[-1], order[0]])
    return total


def nearest_neighbour(cost: np.ndarray, *, start: int = 0) -> list[int]:
    """Greedy order: from ``start``, always go to the cheapest unvisited stop (ties: lowest index)."""
    n = len(cost)
    order = [start]
    left = set(range(n)) - {start}
    while left:
        here = order[-1]
        nxt = min(left, key=lambda j: (cost[here, j], j))
        order.append(nxt)
        left.remove(nxt)
    return order


def two_opt(order: list[int], cost: np.ndarray, *, closed: bool = False) -> list[int]:
    """Improve ``order`` by reversing segments while that shortens it (first stop fixed).

    Costs are taken as symmetric. Stops when no reversal gains more than 1e-9.
    """
    route = list(order)
    n = len(route)
    improved = True
    while improved:
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b = route[i - 1], route[i]
                c = route[j]
                d = route[j + 1] if j + 1 < n else (route[0] if closed else None)
                before = cost[a, b] + (cost[c, d] if d is not None else 0.0)
                after = cost[a, c] + (cost[b, d] if d is not None else 0.0)
                if after < before - 1e-9:
                    route[i:j + 1] = reversed(route[i:j + 1])
                    improved = True
    return route


def held_karp(cost: np.ndarray, *, start: int = 0, closed: bool = False) -> list[int]:
    """The optimal order from ``start`` through every stop (exact; small instances only)."""
    n = len(cost)
    others = [i for i in range(n) if i != start]
    if not others:
        return [start]
    index = {stop: bit for bit, stop in enumerate(others)}
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for stop in others:
        best[(1 << index[stop], stop)] = (float(cost[start, stop]), start)
    for size in range(2, len(others) + 1):
        for subset in itertools.combinations(others, size):
            mask = sum(1 << index[s] for s in subset)
            for last in subset:
                prev_mask = mask & ~(1 << index[last])
                best[(mask, last)] = min(
                    (best[(prev_mask, p)][0] + float(cost[p, last]), p) for p in subset if p != last)
    full = (1 << len(others)) - 1
    last = min(others, key=lambda s: best[(full, s)][0] + (float(cost[s, start]) if closed else 0.0))
    order = []
    mask = full
    while last != start:
        order.append(last)
        _, prev = best[(mask, last)]
        mask &= ~(1 << index[last])
        last = prev
    return [start, *reversed(order)]


def order_stops(cost: np.ndarray, *, closed: bool = False, exact_up_to: int = EXACT_UP_TO) -> list[int]:
    """Visiting order of a cost matrix whose row 0 is the start: exact when small, otherwise
    nearest neighbour then 2-opt. Returns indices starting with 0."""
    if len(cost) - 1 <= exact_up_to:
        return held_karp(cost, closed=closed)
    return two_opt(nearest_neighbour(cost), cost, closed=closed)


# ---------------------------------------------------------------------- distances


@dataclass(frozen=True)
class Distances:
    """Leg costs between points (row/column 0 is usually the start).

    ``length_m`` and ``time_s`` hold the road distance and time where the network joins a
    pair, else the straight line (time at :data:`STRAIGHT_SPEED_KPH`); ``on_roads`` says which.
    """

    length_m: np.ndarray
    time_s: np.ndarray
    on_roads: np.ndarray
    points: gpd.GeoSeries
    straight_m: np.ndarray = field(default=None, repr=False)
    network: RoadNetwork | None = field(default=None, repr=False)
    max_access_m: float = DEFAULT_MAX_ACCESS_M

    def leg(self, a: int, b: int) -> tuple[LineString, float, float, RouteMethod]:
        """The leg from ``a`` to ``b``: its line (EPSG:4326), length [m], time [s] and method.

        Over the roads the fastest path is traced, and its own length is reported (it may be
        a little longer than the shortest road distance); otherwise the straight line.
        """
        pa, pb = self.points.iloc[a], self.points.iloc[b]
        if self.on_roads[a, b] and self.network is not None:
            path = self.network.path(pa, pb, crs=self.points.crs, weight="time_s",
                                     max_access_m=self.max_access_m)
            if path is not None:
                line = gpd.GeoSeries([path.geometry], crs=self.network.crs).to_crs(4326).iloc[0]
                return line, path.length_m, path.time_s, RouteMethod.ROAD_NETWORK
        straight = float(self.straight_m[a, b])
        return LineString([pa, pb]), straight, straight * 3.6 / STRAIGHT_SPEED_KPH, RouteMethod.STRAIGHT_LINE


def straight_line_m(points: gpd.GeoSeries) -> np.ndarray:
    """Pairwise straight-line distances [m] in the points' UTM zone."""
    metric = points.to_crs(metric_crs_for(points))
    xy = shapely.get_coordinates(metric.to_numpy())
    return np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])


def leg_distances(
    points: gpd.GeoSeries,
    *,
    roads: gpd.GeoDataFrame | None = None,
    network: RoadNetwork | None = None,
    max_access_m: float = DEFAULT_MAX_ACCESS_M,
) -> Distances:
    """Distances and travel times between every pair of ``points`` (EPSG:4326).

    Parameters
    ----------
    roads
        Road lines; the network is built from them unless ``network`` is given. None or empty:
        straight lines only.
    max_access_m
        A point farther than this from every road is joined in a straight line [m].
    """
    straight = straight_line_m(points)
    straight_time = straight * 3.6 / STRAIGHT_SPEED_KPH
    if network is None and roads is not None and not roads.empty:
        network = build_network(roads)
    if network is None:
        on = np.zeros_like(straight, dtype=bool)
        return Distances(straight, straight_time, on, points, straight, None, max_access_m)
    length = network.distance_matrix(points, weight="length_m", max_access_m=max_access_m)
    time = network.distance_matrix(points, weight="time_s", max_access_m=max_access_m)
    on = np.isfinite(time)
    np.fill_diagonal(on, False)
    return Distances(np.where(on, length, straight), np.where(on, time, straight_time), on, points,
                     straight, network, max_access_m)


# ---------------------------------------------------------------------- teams


def linear_partition(loads: list[float], parts: int, *, max_len: int | None = None) -> list[int]:
    """Cut a sequence into ``parts`` non-empty contiguous runs minimising the largest run's sum,
    each run at most ``max_len`` items long (None: any length). Returns the start index of
    each run."""
    n = len(loads)
    if not 1 <= parts <= n or (max_len is not None and parts * max_len < n):
        raise ValidationError(f"cannot cut {n} item(s) into {parts} non-empty parts"
                              + (f" of at most {max_len}" if max_len is not None else ""))
    longest = n if max_len is None else max_len
    prefix = np.concatenate([[0.0], np.cumsum(loads)])
    inf = float("inf")
    best = np.full((parts + 1, n + 1), inf)
    cut = np.zeros((parts + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for k in range(1, parts + 1):
        for i in range(k, n + 1):
            for j in range(max(k - 1, i - longest), i):
                value = max(best[k - 1, j], prefix[i] - prefix[j])
                if value < best[k, i] - 1e-12:
                    best[k, i], cut[k, i] = value, j
    starts = []
    i = n
    for k in range(parts, 0, -1):
        j = cut[k, i]
        starts.append(j)
        i = j
    return sorted(starts)


def assign_teams(stops: gpd.GeoDataFrame, start: Point, teams: int) -> list[int]:
    """Team number (from 1) for each stop, keeping townships together.

    Parameters
    ----------
    stops
        One row per village: ``township_name``, ``load`` (household visits) and a point.
    start
        Where the teams set out (EPSG:4326).
    teams
        Number of teams.

    Raises
    ------
    ValidationError
        Fewer than one team, or more teams than stops.
    """
    if teams < 1:
        raise ValidationError(f"--teams {teams}: need at least one team")
    if teams > len(stops):
        raise ValidationError(f"--teams {teams}: more teams than the {len(stops)} sampled village(s)")
    metric_crs = metric_crs_for(stops)
    metric = stops.to_crs(metric_crs)
    xy = shapely.get_coordinates(metric.geometry.to_numpy())
    origin = shapely.get_coordinates(gpd.GeoSeries([start], crs=4326).to_crs(metric_crs).to_numpy())[0]
    towns = list(dict.fromkeys(stops["township_name"]))
    centres = np.array([xy[(stops["township_name"] == t).to_numpy()].mean(axis=0) for t in towns])
    town_order = _tour(np.vstack([origin, centres]))
    towns = [towns[i - 1] for i in town_order[1:]]
    # each township's villages in a tour from the start, so a split township splits in space
    sequence: dict[str, list[int]] = {}
    for t in towns:
        members = np.flatnonzero((stops["township_name"] == t).to_numpy())
        order = _tour(np.vstack([origin, xy[members]]))
        sequence[t] = [int(members[i - 1]) for i in order[1:]]
    load = stops["load"].to_numpy(dtype=float)
    town_load = [float(load[sequence[t]].sum()) or 1.0 for t in towns]
    team_of = np.zeros(len(stops), dtype=int)
    if teams <= len(towns):
        starts = linear_partition(town_load, teams)
        for team, (a, b) in enumerate(zip(starts, starts[1:] + [len(towns)]), start=1):
            for t in towns[a:b]:
                team_of[sequence[t]] = team
        return team_of.tolist()
    # more teams than townships: one each, the rest to the busiest township per team
    share = {t: 1 for t in towns}
    for _ in range(teams - len(towns)):
        candidates = [t for t in towns if share[t] < len(sequence[t])]
        busiest = max(candidates, key=lambda t: (town_load[towns.index(t)] / share[t], -towns.index(t)))
        share[busiest] += 1
    team = 0
    for t in towns:
        members = sequence[t]
        starts = linear_partition([max(load[m], 1.0) for m in members], share[t])
        for a, b in zip(starts, starts[1:] + [len(members)]):
            team += 1
            team_of[members[a:b]] = team
    return team_of.tolist()


def _tour(xy: np.ndarray) -> list[int]:
    cost = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    return order_stops(cost)


# ---------------------------------------------------------------------- days


#: Walking speed inside a village [km/h].
WALK_KPH = 4.0
#: A settlement closer than this to the village committee is walked to, not driven to [m].
WALK_ONLY_M = 500.0
#: A settlement is driven to when a road passes within this distance of it [m].
ROAD_REACH_M = 300.0


@dataclass(frozen=True)
class DayRules:
    """How long a team works a day and how long a visit takes.

    Attributes
    ----------
    hours_per_day
        A team's working day [h]: leaving the start, every visit and the drive back.
    village_min
        Time at each village besides its households (village committee, records) [min].
    household_min
        Time at each sampled household [min].
    days
        Days each team may use; None: as few as the villages need.
    day_start
        When each day leaves the start, ``HH:MM`` (for arrival times).
    """

    hours_per_day: float = 8.0
    village_min: float = 30.0
    household_min: float = 15.0
    days: int | None = None
    day_start: str = "08:00"

    def __post_init__(self) -> None:
        if not (isinstance(self.hours_per_day, (int, float)) and 0 < self.hours_per_day <= 24):
            raise ValidationError(f"--hours-per-day {self.hours_per_day}: give hours > 0 and at most 24")
        for option, value in (("--visit-village-min", self.village_min), ("--visit-household-min", self.household_min)):
            if not (isinstance(value, (int, float)) and 0 <= value <= 24 * 60):
                raise ValidationError(f"{option} {value}: give minutes from 0 to 1440")
        if self.days is not None and not 1 <= int(self.days) <= 366:
            raise ValidationError(f"--days {self.days}: give a number of days from 1 to 366")
        self.start_minute  # noqa: B018 - checks the format

    @property
    def limit_s(self) -> float:
        return self.hours_per_day * 3600.0

    @property
    def start_minute(self) -> int:
        try:
            hours, minutes = (int(p) for p in str(self.day_start).split(":"))
        except ValueError:
            raise ValidationError(f"--day-start {self.day_start!r}: use HH:MM, e.g. 08:00") from None
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValidationError(f"--day-start {self.day_start!r}: use HH:MM, e.g. 08:00")
        return hours * 60 + minutes

    def clock(self, seconds: float) -> str:
        """``HH:MM`` at ``seconds`` after the day's start (``+1`` past midnight)."""
        minute = self.start_minute + round(seconds / 60.0)
        return f"{minute // 60 % 24:02d}:{minute % 60:02d}" + ("+1" if minute >= 24 * 60 else "")

    def visit_s(self, households: int, moving_s: float = 0.0) -> float:
        """Time in a village with ``households`` visits and ``moving_s`` inside it [s]."""
        return (self.village_min + self.household_min * households) * 60.0 + moving_s


@dataclass(frozen=True)
class VillageVisit:
    """Inside one village: the households' visiting order and how the team gets round.

    The team arrives at the village committee, drives to each settlement (自然村) a road reaches
    (farther than :data:`WALK_ONLY_M`) and walks from there to its households and back to the
    car; households of other settlements, or of none, are walked to from the committee. The
    team ends back at the committee.
    """

    order: list[int]
    drive_m: float = 0.0
    drive_s: float = 0.0
    walk_m: float = 0.0
    driven_settlements: int = 0

    @property
    def walk_s(self) -> float:
        return self.walk_m * 3.6 / WALK_KPH

    @property
    def moving_s(self) -> float:
        return self.drive_s + self.walk_s


def _walk_loop(origin, points: list) -> tuple[list[int], float]:
    """A closed walk from ``origin`` through ``points`` (EPSG:4326): order and length [m]."""
    if not points:
        return [], 0.0
    cost = straight_line_m(gpd.GeoSeries([origin, *points], crs=4326))
    order = order_stops(cost, closed=True)
    return [i - 1 for i in order[1:]], path_cost(order, cost, closed=True)


def village_visit(
    committee: Point | None,
    households: gpd.GeoSeries,
    settlements: list,
    *,
    network: RoadNetwork | None = None,
    max_access_m: float = DEFAULT_MAX_ACCESS_M,
) -> VillageVisit:
    """How a team goes round one village's sampled ``households`` (EPSG:4326 points, None when
    unlocated); ``settlements`` gives each household's settlement point (or None).

    The team drives from the committee over the roads to the point of a road nearest each
    settlement farther than :data:`WALK_ONLY_M` (when a road passes within ``max_access_m``
    and that is nearer than the committee), walks from there to the settlement, its
    households and back to the car; everything else is walked from the committee. Returns
    positions in ``households`` in visiting order (unlocated households last), the driving
    inside the village and the walking (straight lines).
    """
    located = [i for i, g in enumerate(households) if g is not None and not g.is_empty]
    unlocated = [i for i in range(len(households)) if i not in located]
    if not located:
        return VillageVisit(unlocated)
    origin = committee if committee is not None and not committee.is_empty else households.iloc[located[0]]
    groups: dict[bytes, tuple[Point, list[int]]] = {}
    for i in located:
        point = settlements[i] if i < len(settlements) else None
        if point is not None and not point.is_empty:
            groups.setdefault(point.wkb, (point, []))[1].append(i)
    keys = list(groups)
    driven: list[tuple[Point, list[int], float]] = []
    drive_m = drive_s = 0.0
    if network is not None and keys:
        pts = gpd.GeoSeries([origin, *[groups[k][0] for k in keys]], crs=4326)
        apart = straight_line_m(pts)[0]
        access = network.locate(pts, max_distance_m=max_access_m).distance_m
        time = network.distance_matrix(pts, weight="time_s", max_access_m=max_access_m, include_access=False)
        length = network.distance_matrix(pts, weight="length_m", max_access_m=max_access_m, include_access=False)
        reach = [j for j in range(1, len(pts)) if apart[j] > WALK_ONLY_M and np.isfinite(time[0, j])
                 and np.isfinite(time[j, 0]) and access[j] < apart[j]]
        if reach:
            idx = [0, *reach]
            sub = time[np.ix_(idx, idx)]
            order = order_stops(sub, closed=True)
            drive_s = path_cost(order, sub, closed=True)
            drive_m = path_cost(order, length[np.ix_(idx, idx)], closed=True)
            driven = [(*groups[keys[idx[i] - 1]], float(access[idx[i]])) for i in order[1:]]
    driving = _round_village(households, located, origin, driven, drive_m, drive_s, unlocated)
    walking = _round_village(households, located, origin, [], 0.0, 0.0, unlocated)
    return driving if driving.moving_s <= walking.moving_s else walking


def _round_village(households, located, origin, driven, drive_m, drive_s, unlocated) -> VillageVisit:
    driven_members = {i for _, members, _ in driven for i in members}
    walked = [i for i in located if i not in driven_members]
    order, walk_m = _walk_loop(origin, [households.iloc[i] for i in walked])
    visit = [walked[i] for i in order]
    for point, members, last_stretch in driven:
        order, metres = _walk_loop(point, [households.iloc[i] for i in members])
        visit += [members[i] for i in order]
        walk_m += metres + 2 * last_stretch
    return VillageVisit(visit + unlocated, drive_m, drive_s, walk_m, len(driven))


def check_day_fits(time_s: np.ndarray, service_s: np.ndarray, rules: DayRules, names: list[str]) -> None:
    """Every village must fit in a day with the drive to it from the nearest place a team
    can spend the night before (the start or another village).

    Raises
    ------
    ValidationError
        Naming the villages that do not fit (at most three) and what each takes.
    """
    n = len(service_s)
    into = time_s[:, 1:].astype(float).copy()
    into[np.arange(1, n + 1), np.arange(n)] = np.inf  # not from itself
    nearest = into.min(axis=0) if n else np.zeros(0)
    total = nearest + service_s
    over = np.flatnonzero(total > rules.limit_s + 1e-6)
    if not len(over):
        return
    shown = "; ".join(f"{names[i]}: {service_s[i] / 3600:.1f} h in the village after at least "
                      f"{nearest[i] / 3600:.1f} h driving = {total[i] / 3600:.1f} h" for i in over[:3])
    more = f" and {len(over) - 3} more" if len(over) > 3 else ""
    raise ValidationError(
        f"--hours-per-day {rules.hours_per_day:g}: a day is shorter than one visit ({shown}{more}); allow more "
        f"hours a day, or shorter visits (--visit-village-min {rules.village_min:g}, --visit-household-min "
        f"{rules.household_min:g}); nothing was drawn")


def _integer(matrix: np.ndarray) -> np.ndarray:
    """Seconds rounded up, so a day within the limit in the solver is within it in fact."""
    return np.ceil(np.nan_to_num(matrix, nan=0.0, posinf=1e9)).astype(np.int64)


#: A team's fair share of the work: the visits divided among the teams, plus one drive out,
#: times this; each second a team works beyond it costs :data:`BALANCE_COST` seconds of driving.
BALANCE = 1.15
BALANCE_COST = 2


def solver_seconds(stops: int) -> float:
    """Default search time of the routing solver for ``stops`` villages [s]: the cap; the search
    usually ends sooner, when it stops improving (:func:`stall_solutions`)."""
    return min(10.0, 1.0 + stops / 25.0)


#: Solutions in a row without a cheaper route, per village, after which the search stops
#: (:func:`stall_solutions`).
STALL_SOLUTIONS_PER_VILLAGE = 50
#: ... and at least this many, for a handful of villages.
STALL_SOLUTIONS_MIN = 500


def stall_solutions(stops: int) -> int:
    """Solutions the guided local search may find in a row without a cheaper route before it
    stops, for ``stops`` villages: 50 a village, at least 500.

    Guided local search never ends on its own: without this stop every plan costs its whole
    :func:`solver_seconds`, though up to a few dozen villages the best route is found in a
    fraction of it. A count of solutions, unlike a clock, does not depend on the machine's
    speed. Measured on random instances of 10-40 villages (docs/inspection-routes.md): with
    this count every route cost the same as running to the time limit; a flat 100 or 200
    stopped too early (dearer routes at 10, 25 and 40 villages) and a flat 500 or 1000 at 40
    villages. Larger searches improve later, hence the count grows with the villages; from
    about 40 villages the time limit usually comes first, as before.
    """
    return max(STALL_SOLUTIONS_MIN, STALL_SOLUTIONS_PER_VILLAGE * stops)


class _StallStop:
    """At-solution callback that ends the search after ``limit`` solutions in a row without a
    cheaper one. It runs once per solution, so it only reads the cost and counts."""

    def __init__(self, routing, limit: int) -> None:
        self._routing = routing
        self._cost = None  # the model's cost variable exists once the search has closed the model
        self._limit = limit
        self.best = None
        self.since = 0
        self.stopped = False

    def __call__(self) -> None:
        if self._cost is None:
            self._cost = self._routing.CostVar()
        cost = self._cost.Value()
        if self.best is None or cost < self.best:
            self.best, self.since = cost, 0
            return
        self.since += 1
        if self.since >= self._limit and not self.stopped:
            self.stopped = True
            self._routing.solver().FinishCurrentSearch()


def solve_orders(
    time_s: np.ndarray,
    service_s: np.ndarray,
    *,
    teams: int,
    limit_s: float | None = None,
    day_s: float | None = None,
    closed: bool = False,
    seconds: float | None = None,
    balance_s: float | None = None,
    balance_cost: int = BALANCE_COST,
    stall_limit: int | None = None,
) -> list[list[int]] | None:
    """Each team's visiting order from the OR-Tools routing solver.

    Every team leaves the start (row 0 of ``time_s``), visits its villages (1..n) and ends at
    the last one (``closed``: back at the start). The solver minimises the driving time plus,
    for the loads to balance, ``balance_cost`` times each second a team works (driving and
    ``service_s``) beyond ``balance_s``; every team gets at least one village; with
    ``limit_s`` no team works longer in all; a leg that with the visit after it would not fit
    one day of ``day_s`` is never used.

    The search (guided local search from a path-cheapest-arc start) ends after
    ``stall_limit`` solutions in a row without a cheaper route (default
    :func:`stall_solutions`), or after ``seconds`` (default :func:`solver_seconds`), whichever
    comes first.

    Returns
    -------
    list of lists of village indices (1..n), one per team; None when no solution was found.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(time_s) - 1
    end = n + 1  # a free end for open routes
    travel = np.zeros((n + 2, n + 2), dtype=np.int64)
    travel[: n + 1, : n + 1] = _integer(time_s)
    if closed:
        travel[:, end] = travel[:, 0]
    np.fill_diagonal(travel, 0)
    service = np.concatenate([[0], _integer(service_s), [0]])
    manager = pywrapcp.RoutingIndexManager(n + 2, teams, [0] * teams, [end] * teams)
    routing = pywrapcp.RoutingModel(manager)
    # matrices, not Python callbacks: the search evaluates arcs in C++ (many times faster)
    drive = routing.RegisterTransitMatrix(travel.tolist())
    work = routing.RegisterTransitMatrix((travel + service[:, None]).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(drive)
    capacity = int(limit_s) if limit_s is not None else int(travel.sum() + service.sum() + 1)
    routing.AddDimension(work, 0, capacity, True, "work")
    dimension = routing.GetDimensionOrDie("work")
    if balance_s is not None:
        for v in range(teams):
            dimension.SetCumulVarSoftUpperBound(routing.End(v), int(balance_s), int(balance_cost))
    solver = routing.solver()
    for v in range(min(teams, n)):
        solver.Add(routing.NextVar(routing.Start(v)) != routing.End(v))
    if day_s is not None:
        too_long = travel[: n + 1, 1: n + 1] + service[1: n + 1][None, :] > day_s
        for a, b in np.argwhere(too_long):
            a, b = int(a), int(b) + 1
            if a == b:
                continue
            starts = [routing.Start(v) for v in range(teams)] if a == 0 else [manager.NodeToIndex(a)]
            for index in starts:
                routing.NextVar(index).RemoveValue(manager.NodeToIndex(b))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int((solver_seconds(n) if seconds is None else seconds) * 1000)))
    stall = _StallStop(routing, stall_solutions(n) if stall_limit is None else stall_limit)
    routing.AddAtSolutionCallback(stall)
    solution = routing.SolveWithParameters(params)
    if solution is None and routing.status() == routing_enums_pb2.RoutingSearchStatus.ROUTING_FAIL_TIMEOUT:
        # The time ran out before the first solution (a loaded machine): search again without
        # a clock, to the first local optimum, so that the answer never depends on speed.
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
        solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    orders = []
    for v in range(teams):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        order = []
        while not routing.IsEnd(index):
            order.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        orders.append(order)
    return orders


@dataclass(frozen=True)
class DayPlan:
    """One team day: stops (row labels) in order, arrival and leaving times, when the day ends
    (after the last visit, or back at the start on a closed route's last day) and its driving,
    all [s] after the day's start. Each day but the first starts where the last one ended."""

    day: int
    stops: list
    arrive_s: list[float]
    leave_s: list[float]
    end_s: float
    drive_s: float


def cut_into_days(order: list[int], time_s: np.ndarray, service_s: np.ndarray, rules: DayRules, *,
                  closed: bool = False) -> list[tuple[list[int], list[float], list[float], float, float]]:
    """Cut a team's visiting order (village indices 1..n, from the start at 0) into days: a day
    takes the next village while the drive to it and the visit end within the day limit, and
    the team spends the night where the day ended. A closed route's last day ends back at the
    start (a day of its own when the drive back does not fit).

    Returns per day: its stops, arrivals, departures, end and driving [s after its start].

    Raises
    ------
    ValidationError
        A drive and visit that do not fit in a day of their own.
    """
    limit = rules.limit_s + 1e-6
    days: list[tuple[list[int], list[float], list[float], float, float]] = []
    here, stops, arrive, leave, clock, drive = 0, [], [], [], 0.0, 0.0
    for stop in order:
        leg, visit = float(time_s[here, stop]), float(service_s[stop - 1])
        if stops and clock + leg + visit > limit:
            days.append((stops, arrive, leave, clock, drive))
            stops, arrive, leave, clock, drive = [], [], [], 0.0, 0.0
        if leg + visit > limit:
            raise ValidationError(f"--hours-per-day {rules.hours_per_day:g}: the drive to village {stop} "
                                  f"({leg / 3600:.1f} h) and its visit ({visit / 3600:.1f} h) do not fit in one day")
        stops.append(stop)
        arrive.append(clock + leg)
        clock += leg + visit
        drive += leg
        leave.append(clock)
        here = stop
    if closed and here != 0:
        back = float(time_s[here, 0])
        if stops and clock + back > limit:
            days.append((stops, arrive, leave, clock, drive))
            stops, arrive, leave, clock, drive = [], [], [], 0.0, 0.0
        clock += back
        drive += back
    if stops or clock:
        days.append((stops, arrive, leave, clock, drive))
    return days


def plan_days(
    time_s: np.ndarray,
    service_s: np.ndarray,
    *,
    teams: int,
    rules: DayRules,
    names: list[str] | None = None,
    closed: bool = False,
    seconds: float | None = None,
) -> list[list[tuple]]:
    """The solver's routes, cut into days (:func:`solve_orders`, :func:`cut_into_days`).

    Work beyond a team's share (:data:`BALANCE`) costs extra, so the loads balance; with
    ``rules.days`` each team's total is bounded by ``days × hours_per_day``, tightened while
    cutting leaves a team more days than that.

    Raises
    ------
    ValidationError
        A visit that does not fit in a day; the villages do not fit in ``rules.days`` days.
    """
    n = len(time_s) - 1
    names = names or [f"village {i}" for i in range(1, n + 1)]
    service_s = np.asarray(service_s, dtype=float)
    check_day_fits(time_s, service_s, rules, names)
    share = (float(service_s.sum()) / teams + float(np.max(time_s[0, 1:], initial=0.0))) * BALANCE
    caps = [None] if rules.days is None else [rules.days * rules.limit_s * f for f in (1.0, 0.9, 0.8)]
    for cap in caps:
        orders = solve_orders(time_s, service_s, teams=teams, limit_s=cap, day_s=rules.limit_s, closed=closed,
                              seconds=seconds, balance_s=share)
        if orders is None:
            continue
        days = [cut_into_days(o, time_s, service_s, rules, closed=closed) for o in orders]
        if rules.days is None or max(len(d) for d in days) <= rules.days:
            return days
    if rules.days is None:
        raise ValidationError("the route solver found no routes for these villages within the day limit; "
                              "allow more hours a day (--hours-per-day); nothing was drawn")
    work = float(service_s.sum()) / 3600.0
    raise ValidationError(
        f"{n} villages do not fit in {teams} team(s) × {rules.days} day(s) of {rules.hours_per_day:g} h "
        f"({work:.1f} h in the villages alone, besides driving); allow more --days or --teams, or leave "
        "--days out to plan the days needed; nothing was drawn")


# ---------------------------------------------------------------------- the whole plan


@dataclass(frozen=True)
class TeamRoute:
    """One team's visiting order: stop row labels with the leg into each (lengths [m], times
    [s], methods, lines), the legs back to the start, and the days (empty without day rules)."""

    team: int
    stops: list
    leg_m: list[float]
    leg_s: list[float]
    leg_methods: list[RouteMethod]
    legs: list[LineString]
    closed: bool
    returns: list[tuple[LineString, float, float, RouteMethod]] = field(default_factory=list)
    days: list[DayPlan] = field(default_factory=list)

    @property
    def length_km(self) -> float:
        return (float(sum(self.leg_m)) + sum(r[1] for r in self.returns)) / 1000.0

    @property
    def hours(self) -> float:
        return (float(sum(self.leg_s)) + sum(r[2] for r in self.returns)) / 3600.0

    @property
    def method(self) -> RouteMethod:
        return combine_methods(self.leg_methods + [r[3] for r in self.returns])

    @property
    def work_hours(self) -> float:
        """Driving and visits over every day [h]."""
        return sum(d.end_s for d in self.days) / 3600.0

    @property
    def longest_day_hours(self) -> float:
        return max((d.end_s for d in self.days), default=0.0) / 3600.0


def combine_methods(methods: list[RouteMethod]) -> RouteMethod:
    kinds = set(methods)
    if kinds == {RouteMethod.ROAD_NETWORK}:
        return RouteMethod.ROAD_NETWORK
    if kinds <= {RouteMethod.STRAIGHT_LINE}:
        return RouteMethod.STRAIGHT_LINE
    return RouteMethod.MIXED


PLANNERS = ("solver", "nearest")


def plan_routes(
    stops: gpd.GeoDataFrame,
    *,
    start: Point,
    teams: int = 1,
    roads: gpd.GeoDataFrame | None = None,
    return_to_start: bool = False,
    max_access_m: float = DEFAULT_MAX_ACCESS_M,
    rules: DayRules | None = None,
    service_s: list[float] | np.ndarray | None = None,
    planner: str = "solver",
    network: RoadNetwork | None = None,
    distances: Distances | None = None,
    seconds: float | None = None,
) -> list[TeamRoute]:
    """Split ``stops`` across teams and order each team's visits from ``start``.

    Parameters
    ----------
    stops
        Villages to visit (EPSG:4326 points) with ``township_name`` and ``load`` (visits).
    start
        Start point, EPSG:4326 (the county seat by default in the CLI).
    teams
        Number of inspection teams.
    roads, network
        Road lines, or their network, for network distances; None or empty for straight lines.
    return_to_start
        Without day rules: close each route back at the start.
    rules
        Plan in days (each from the start and back within the day limit); None: one open
        route per team, as before days were planned.
    service_s
        Time in each village [s]; default from ``rules`` and ``load``.
    planner
        With ``rules``: ``solver`` (OR-Tools routing) or ``nearest`` (townships per team,
        nearest neighbour + 2-opt, cut into days).
    distances
        The leg distances between ``start`` (row 0) and ``stops``, when already computed.
    seconds
        The solver's longest search time (it ends sooner once it stops improving, see
        :func:`solve_orders`); default :func:`solver_seconds`.

    Returns
    -------
    list of TeamRoute
        Stops are ``stops``' index labels in visiting order; the first leg leaves the start.

    Raises
    ------
    ValidationError
        Stops without a location, bad team counts, a visit longer than a day, villages that do
        not fit in the days given.
    """
    if stops.empty:
        raise ValidationError("no villages to route")
    missing = stops.geometry.isna() | stops.geometry.is_empty
    if missing.any():
        raise ValidationError(f"{int(missing.sum())} sampled village(s) have no location; "
                              "add their points before planning routes")
    if planner not in PLANNERS:
        raise ValidationError(f"unknown route planner {planner!r}; use one of {', '.join(PLANNERS)}")
    if teams < 1:
        raise ValidationError(f"--teams {teams}: need at least one team")
    if teams > len(stops):
        raise ValidationError(f"--teams {teams}: more teams than the {len(stops)} sampled village(s)")
    if distances is None:
        points = gpd.GeoSeries([start, *stops.geometry.to_numpy()], crs=4326)
        distances = leg_distances(points, roads=roads, network=network, max_access_m=max_access_m)
    if rules is None:
        return _open_routes(stops, start, teams, distances, return_to_start)
    if service_s is None:
        service_s = [rules.visit_s(int(n)) for n in stops["load"]]
    service = np.asarray(service_s, dtype=float)
    time = distances.time_s
    names = [f"{t}/{n}" if "name" in stops else str(label)
             for label, t, n in zip(stops.index, stops.get("township_name", [""] * len(stops)),
                                    stops.get("name", [""] * len(stops)))]
    closed = return_to_start
    if planner == "solver":
        days = plan_days(time, service, teams=teams, rules=rules, names=names, closed=closed, seconds=seconds)
    else:
        check_day_fits(time, service, rules, names)
        team_of = assign_teams(stops, start, teams)
        days = []
        for team in range(1, max(team_of) + 1):
            idx = [0] + [i + 1 for i, t in enumerate(team_of) if t == team]
            order = [idx[i] for i in order_stops(time[np.ix_(idx, idx)], closed=closed)]
            days.append(cut_into_days(order[1:], time, service, rules, closed=closed))
    return [_day_route(team, team_days, stops, distances, closed)
            for team, team_days in enumerate(days, start=1)]


def _day_route(team: int, team_days: list[tuple], stops, distances: Distances, closed: bool) -> TeamRoute:
    path = [0] + [stop for day in team_days for stop in day[0]]
    legs = [distances.leg(a, b) for a, b in itertools.pairwise(path)]
    returns = [_as_return(distances.leg(path[-1], 0))] if closed and len(path) > 1 else []
    plans = [DayPlan(number, [stops.index[p - 1] for p in day[0]], day[1], day[2], day[3], day[4])
             for number, day in enumerate(team_days, start=1)]
    return TeamRoute(team=team, stops=[stops.index[p - 1] for p in path[1:]], leg_m=[leg[1] for leg in legs],
                     leg_s=[leg[2] for leg in legs], leg_methods=[leg[3] for leg in legs],
                     legs=[leg[0] for leg in legs], closed=closed, returns=returns, days=plans)


def _as_return(leg) -> tuple[LineString, float, float, RouteMethod]:
    return leg[0], leg[1], leg[2], leg[3]


def _open_routes(stops, start, teams: int, distances: Distances, return_to_start: bool) -> list[TeamRoute]:
    team_of = assign_teams(stops, start, teams)
    routes = []
    for team in range(1, max(team_of) + 1):
        members = [i for i, t in enumerate(team_of) if t == team]
        idx = [0] + [m + 1 for m in members]
        order = order_stops(distances.time_s[np.ix_(idx, idx)], closed=return_to_start)
        path = [idx[i] for i in order]
        legs = [distances.leg(a, b) for a, b in itertools.pairwise(path)]
        returns = [_as_return(distances.leg(path[-1], 0))] if return_to_start else []
        routes.append(TeamRoute(
            team=team,
            stops=[stops.index[p - 1] for p in path[1:]],
            leg_m=[leg[1] for leg in legs],
            leg_s=[leg[2] for leg in legs],
            leg_methods=[leg[3] for leg in legs],
            legs=[leg[0] for leg in legs],
            closed=return_to_start,
            returns=returns,
        ))
    return routes


def order_households(village_point: Point | None, households: gpd.GeoSeries) -> list[int]:
    """Walking order of a village's households from its committee (positions in
    ``households``): straight lines, nearest neighbour then 2-opt; unlocated ones last."""
    located = [i for i, g in enumerate(households) if g is not None and not g.is_empty]
    unlocated = [i for i in range(len(households)) if i not in located]
    if not located:
        return unlocated
    origin = village_point if village_point is not None and not village_point.is_empty else households.iloc[located[0]]
    pts = gpd.GeoSeries([origin, *households.iloc[located].to_numpy()], crs=households.crs or 4326)
    order = order_stops(straight_line_m(pts))
    return [located[i - 1] for i in order[1:]] + unlocated


def walking_m(village_point: Point | None, households: gpd.GeoSeries) -> float:
    """Straight-line walk from the village committee through ``households`` in order [m]."""
    pts = [g for g in households if g is not None and not g.is_empty]
    if village_point is not None and not village_point.is_empty:
        pts = [village_point, *pts]
    if len(pts) < 2:
        return 0.0
    cost = straight_line_m(gpd.GeoSeries(pts, crs=households.crs or 4326))
    return path_cost(list(range(len(pts))), cost)


def route_frame(routes: list[TeamRoute]) -> pd.DataFrame:
    """Per team: stops, km, hours and the method (for reports)."""
    return pd.DataFrame([{"team": r.team, "villages": len(r.stops), "length_km": round(r.length_km, 2),
                          "hours": round(r.hours, 2), "method": r.method.value} for r in routes])
