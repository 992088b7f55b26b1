"""Visiting routes: the order of the sampled villages from a start point, split across teams.

Pure functions. Distances come from the road network when there are roads (lengths from the
geometry, travel time slower on gravel and earth roads; :mod:`geo.network`); a pair of stops
the network cannot join, or every pair when there are no roads, falls back to the straight
line, and each leg says which it used. Routes minimise travel time and report kilometres.

Ordering: exact (Held-Karp dynamic programming) up to :data:`EXACT_UP_TO` stops, else nearest
neighbour then 2-opt. Teams: townships are kept together (seed 003 gave each group whole
towns) and split only when there are more teams than townships; the number of household
visits is balanced by a linear partition along a tour of the townships.
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


def linear_partition(loads: list[float], parts: int) -> list[int]:
    """Cut a sequence into ``parts`` non-empty contiguous runs minimising the largest run's sum.
    Returns the start index of each run."""
    n = len(loads)
    if not 1 <= parts <= n:
        raise ValidationError(f"cannot cut {n} item(s) into {parts} non-empty parts")
    prefix = np.concatenate([[0.0], np.cumsum(loads)])
    inf = float("inf")
    best = np.full((parts + 1, n + 1), inf)
    cut = np.zeros((parts + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for k in range(1, parts + 1):
        for i in range(k, n + 1):
            for j in range(k - 1, i):
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


# ---------------------------------------------------------------------- the whole plan


@dataclass(frozen=True)
class TeamRoute:
    """One team's visiting order: stop row labels, leg lengths [m] and methods, totals."""

    team: int
    stops: list
    leg_m: list[float]
    leg_s: list[float]
    leg_methods: list[RouteMethod]
    legs: list[LineString]
    closed: bool

    @property
    def length_km(self) -> float:
        return float(sum(self.leg_m)) / 1000.0

    @property
    def hours(self) -> float:
        return float(sum(self.leg_s)) / 3600.0

    @property
    def method(self) -> RouteMethod:
        return combine_methods(self.leg_methods)


def combine_methods(methods: list[RouteMethod]) -> RouteMethod:
    kinds = set(methods)
    if kinds == {RouteMethod.ROAD_NETWORK}:
        return RouteMethod.ROAD_NETWORK
    if kinds <= {RouteMethod.STRAIGHT_LINE}:
        return RouteMethod.STRAIGHT_LINE
    return RouteMethod.MIXED


def plan_routes(
    stops: gpd.GeoDataFrame,
    *,
    start: Point,
    teams: int = 1,
    roads: gpd.GeoDataFrame | None = None,
    return_to_start: bool = False,
    max_access_m: float = DEFAULT_MAX_ACCESS_M,
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
    roads
        Road lines for network distances; None or empty for straight lines.
    return_to_start
        Close each route back at the start.

    Returns
    -------
    list of TeamRoute
        Stops are ``stops``' index labels in visiting order; the first leg leaves the start.

    Raises
    ------
    ValidationError
        Stops without a location, bad team counts.
    """
    if stops.empty:
        raise ValidationError("no villages to route")
    missing = stops.geometry.isna() | stops.geometry.is_empty
    if missing.any():
        raise ValidationError(f"{int(missing.sum())} sampled village(s) have no location; "
                              "add their points before planning routes")
    team_of = assign_teams(stops, start, teams)
    points = gpd.GeoSeries([start, *stops.geometry.to_numpy()], crs=4326)
    distances = leg_distances(points, roads=roads, max_access_m=max_access_m)
    routes = []
    for team in range(1, max(team_of) + 1):
        members = [i for i, t in enumerate(team_of) if t == team]
        idx = [0] + [m + 1 for m in members]
        order = order_stops(distances.time_s[np.ix_(idx, idx)], closed=return_to_start)
        path = [idx[i] for i in order]
        if return_to_start:
            path.append(0)
        legs = [distances.leg(a, b) for a, b in zip(path[:-1], path[1:])]
        routes.append(TeamRoute(
            team=team,
            stops=[stops.index[p - 1] for p in path[1:] if p != 0],
            leg_m=[leg[1] for leg in legs],
            leg_s=[leg[2] for leg in legs],
            leg_methods=[leg[3] for leg in legs],
            legs=[leg[0] for leg in legs],
            closed=return_to_start,
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
