"""Routes: exact and heuristic ordering on instances whose optimum is known, team splits,
and road-network legs with the straight-line fallback."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from geo.enums import RouteMethod
from geo.errors import ValidationError
from geo.inspection.tours import (
    assign_teams,
    held_karp,
    leg_distances,
    linear_partition,
    nearest_neighbour,
    order_stops,
    path_cost,
    plan_routes,
    two_opt,
)

X0, Y0 = 500_000.0, 4_150_000.0


def utm_points(*xy) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(X0 + x, Y0 + y) for x, y in xy], crs=32648).to_crs(4326)


def brute_force(cost, *, closed=False):
    n = len(cost)
    return min(path_cost([0, *p], cost, closed=closed) for p in itertools.permutations(range(1, n)))


def matrix(xy):
    xy = np.asarray(xy, dtype=float)
    return np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])


@pytest.mark.parametrize("closed", [False, True])
def test_held_karp_matches_brute_force(closed):
    rng = np.random.default_rng(7)
    for _ in range(5):
        cost = matrix(rng.uniform(0, 10_000, size=(8, 2)))
        order = held_karp(cost, closed=closed)
        assert sorted(order) == list(range(8)) and order[0] == 0
        assert path_cost(order, cost, closed=closed) == pytest.approx(brute_force(cost, closed=closed))


def test_a_trap_for_nearest_neighbour_is_solved_optimally():
    # start at 0; greedy goes to the near point at +1 km, then must double back past the start
    xy = [(0, 0), (1000, 0), (-1500, 0), (-3000, 0), (4000, 0)]
    cost = matrix(xy)
    greedy = nearest_neighbour(cost)
    optimum = brute_force(cost)
    assert path_cost(greedy, cost) > optimum + 1
    assert path_cost(order_stops(cost), cost) == pytest.approx(optimum)
    assert path_cost(order_stops(cost, exact_up_to=0), cost) == pytest.approx(optimum)  # 2-opt path


def test_two_opt_finds_the_optimum_tour_of_points_in_convex_position():
    # 14 points on a circle, visited in a scrambled order: the optimum closed tour is the circle
    angles = np.linspace(0, 2 * np.pi, 14, endpoint=False)
    xy = np.c_[np.cos(angles), np.sin(angles)] * 5000
    cost = matrix(xy)
    scrambled = [0, 7, 3, 11, 1, 9, 5, 13, 2, 10, 6, 12, 4, 8]
    tour = two_opt(scrambled, cost, closed=True)
    perimeter = 14 * 2 * 5000 * math.sin(math.pi / 14)
    assert path_cost(tour, cost, closed=True) == pytest.approx(perimeter)
    assert path_cost(order_stops(cost, closed=True), cost, closed=True) == pytest.approx(perimeter)


def test_linear_partition_balances_contiguous_runs():
    assert linear_partition([10, 10, 10, 10, 10, 10], 3) == [0, 2, 4]
    assert linear_partition([30, 5, 5, 5, 5, 10], 2) == [0, 1]
    with pytest.raises(ValidationError):
        linear_partition([1, 2], 3)


def stops_frame(towns_and_xy):
    points = utm_points(*[xy for _, xy in towns_and_xy])
    return gpd.GeoDataFrame({"township_name": [t for t, _ in towns_and_xy], "load": 10},
                            geometry=points.to_numpy(), crs=4326)


def test_teams_keep_townships_together_and_balance_visits():
    stops = stops_frame([("甲", (0, 5000)), ("甲", (500, 5200)), ("乙", (9000, 0)), ("乙", (9500, 300)),
                         ("丙", (-9000, 0)), ("丙", (-9500, -300))])
    start = utm_points((0, 0)).iloc[0]
    teams = assign_teams(stops, start, 3)
    assert sorted(teams) == [1, 1, 2, 2, 3, 3]
    for town in ("甲", "乙", "丙"):
        assert len({t for t, s in zip(teams, stops["township_name"]) if s == town}) == 1
    # more teams than townships: the busiest township is split, others stay whole
    stops.loc[[2, 3], "load"] = 40
    more = assign_teams(stops, start, 4)
    assert len(set(more)) == 4 and more[2] != more[3]
    with pytest.raises(ValidationError, match="more teams than the 6 sampled"):
        assign_teams(stops, start, 7)


def test_routes_use_the_roads_and_fall_back_to_straight_lines_where_they_cannot():
    # an L-shaped road from the start to village A; village B lies 20 km off every road
    roads = gpd.GeoDataFrame({"surface": ["hardened"]},
                             geometry=[LineString([(X0, Y0), (X0 + 4000, Y0), (X0 + 4000, Y0 + 3000)])],
                             crs=32648).to_crs(4326)
    stops = stops_frame([("甲", (4000, 3000)), ("甲", (-20_000, 0))])
    start = utm_points((0, 0)).iloc[0]
    routes = plan_routes(stops, start=start, teams=1, roads=roads)
    route = routes[0]
    assert route.stops == [0, 1]
    assert route.leg_methods == [RouteMethod.ROAD_NETWORK, RouteMethod.STRAIGHT_LINE]
    assert route.leg_m[0] == pytest.approx(7000, abs=1)  # along the road, not the 5 km diagonal
    assert len(route.legs[0].coords) >= 3  # follows the bend
    assert route.leg_m[1] == pytest.approx(math.hypot(24_000, 3000), rel=1e-3)
    assert route.method == RouteMethod.MIXED
    straight = plan_routes(stops, start=start, teams=1, roads=None)[0]
    assert straight.method == RouteMethod.STRAIGHT_LINE
    assert straight.leg_m[0] == pytest.approx(5000, abs=1)


def test_earth_roads_are_slower_so_the_route_prefers_the_hardened_way():
    d = leg_distances(utm_points((0, 0), (3000, 0)), roads=gpd.GeoDataFrame(
        {"surface": ["earth", "hardened", "hardened"]},
        geometry=[LineString([(X0, Y0), (X0 + 3000, Y0)]),
                  LineString([(X0, Y0), (X0 + 1500, Y0 + 1500)]),
                  LineString([(X0 + 1500, Y0 + 1500), (X0 + 3000, Y0)])], crs=32648).to_crs(4326))
    line, length_m, time_s, method = d.leg(0, 1)
    assert method == RouteMethod.ROAD_NETWORK
    assert length_m == pytest.approx(2 * math.hypot(1500, 1500), abs=1)  # the longer, faster road
    assert time_s == pytest.approx(length_m / (40 / 3.6), rel=1e-3)
