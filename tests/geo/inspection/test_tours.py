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
    DayRules,
    assign_teams,
    check_day_fits,
    cut_into_days,
    held_karp,
    leg_distances,
    linear_partition,
    nearest_neighbour,
    order_stops,
    path_cost,
    plan_days,
    plan_routes,
    solve_orders,
    two_opt,
    village_visit,
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


# ---------------------------------------------------------------------- the solver, in days

HOUR = 3600.0


def drive_matrix(xy, kph=36.0):
    """Travel times [s] between points given in metres (default 10 m/s)."""
    return matrix(xy) * 3.6 / kph


def brute_force_path(cost):
    return min(path_cost([0, *p], cost) for p in itertools.permutations(range(1, len(cost))))


def test_one_team_gets_the_optimal_order_and_the_search_ends_when_it_stops_improving():
    """Guided local search never ends on its own: with ten minutes allowed, the call returns
    at all only because the search stops after stall_solutions(villages) without a cheaper
    route, and the route it returns is still the optimum over every order (brute force)."""
    rng = np.random.default_rng(11)
    for villages in (7, 7, 8):
        time = drive_matrix(rng.uniform(0, 40_000, size=(villages + 1, 2)))
        orders = solve_orders(time, np.zeros(villages), teams=1, seconds=600.0)
        assert sorted(orders[0]) == list(range(1, villages + 1))
        assert path_cost([0, *orders[0]], time) == pytest.approx(brute_force_path(time), abs=2)


def test_two_teams_go_one_each_way_along_a_road():
    # villages 5, 10, 15 km east and west of the start: the optimum sends one team each way,
    # 15 km of driving each, against 45 km for one team doing both sides
    xy = [(0, 0), (5000, 0), (10_000, 0), (15_000, 0), (-5000, 0), (-10_000, 0), (-15_000, 0)]
    time = drive_matrix(xy)
    orders = solve_orders(time, np.full(6, HOUR), teams=2, seconds=600.0)
    assert sorted(map(tuple, orders)) == [(1, 2, 3), (4, 5, 6)]
    assert sum(path_cost([0, *o], time) for o in orders) == pytest.approx(3000, abs=2)


def test_a_team_day_never_exceeds_the_limit():
    rng = np.random.default_rng(5)
    for hours, teams in ((8, 3), (6, 2), (10, 1)):
        rules = DayRules(hours_per_day=hours, village_min=30, household_min=12)
        n = 25
        time = drive_matrix(rng.uniform(0, 60_000, size=(n + 1, 2)), kph=30)
        service = np.array([rules.visit_s(int(k)) for k in rng.integers(5, 11, size=n)])
        days = plan_days(time, service, teams=teams, rules=rules, seconds=1.0)
        seen = []
        for team in days:
            assert team, "every team gets work"
            here = 0
            for stops, arrive, leave, end, drive in team:
                clock = 0.0
                for stop, a, b in zip(stops, arrive, leave):
                    clock += time[here, stop]
                    assert a == pytest.approx(clock)
                    clock += service[stop - 1]
                    assert b == pytest.approx(clock)
                    here = stop
                assert end == pytest.approx(clock)
                assert end <= rules.limit_s + 1e-6
                seen += stops
        assert sorted(seen) == list(range(1, n + 1))


def test_days_are_cut_where_the_next_visit_would_run_over():
    # four villages 36 km apart in a row (1 h each way), 3 h a visit, 8 h a day:
    # day 1: 1 h + 3 h + 1 h + 3 h = 8 h; day 2 the same; the team sleeps at village 2
    time = drive_matrix([(0, 0), (36_000, 0), (72_000, 0), (108_000, 0), (144_000, 0)])
    rules = DayRules(hours_per_day=8)
    days = cut_into_days([1, 2, 3, 4], time, np.full(4, 3 * HOUR), rules)
    assert [d[0] for d in days] == [[1, 2], [3, 4]]
    assert [d[3] for d in days] == [pytest.approx(8 * HOUR)] * 2
    assert days[1][1] == [pytest.approx(HOUR), pytest.approx(5 * HOUR)]
    assert rules.clock(days[1][1][0]) == "09:00"
    closed = cut_into_days([1, 2, 3, 4], time, np.full(4, 3 * HOUR), rules, closed=True)
    assert [d[0] for d in closed] == [[1, 2], [3, 4], []]  # the 4 h drive back is a day of its own
    assert closed[-1][3] == pytest.approx(4 * HOUR)


def test_a_day_shorter_than_one_visit_is_refused_naming_the_village():
    time = drive_matrix([(0, 0), (36_000, 0), (40_000, 0)])
    rules = DayRules(hours_per_day=3)
    with pytest.raises(ValidationError, match=r"--hours-per-day 3: a day is shorter than one visit \(甲/远村: 4\.0 h"):
        check_day_fits(time, np.array([2 * HOUR, 4 * HOUR]), rules, ["甲/近村", "甲/远村"])
    check_day_fits(time, np.array([2 * HOUR, 2 * HOUR]), rules, ["甲/近村", "甲/远村"])


def test_too_few_days_are_refused():
    time = drive_matrix([(0, 0), (10_000, 0), (20_000, 0), (30_000, 0), (40_000, 0)])
    with pytest.raises(ValidationError, match=r"4 villages do not fit in 1 team\(s\) × 1 day\(s\) of 8 h"):
        plan_days(time, np.full(4, 3 * HOUR), teams=1, rules=DayRules(days=1), seconds=0.5)
    days = plan_days(time, np.full(4, 3 * HOUR), teams=2, rules=DayRules(days=1), seconds=0.5)
    assert [len(t) for t in days] == [1, 1]


@pytest.mark.parametrize("kwargs, message", [
    ({"hours_per_day": 0}, "--hours-per-day 0"), ({"village_min": -1}, "--visit-village-min -1"),
    ({"days": 0}, "--days 0"), ({"day_start": "8h"}, "--day-start '8h'")])
def test_day_rules_refuse_bad_values(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        DayRules(**kwargs)


def test_the_team_drives_to_a_settlement_a_road_reaches_and_walks_the_last_stretch():
    # committee at 0, a road east to 4 km; a settlement 200 m north of the road's end, with
    # three households around it; another household 100 m from the committee
    roads = gpd.GeoDataFrame({"surface": ["hardened"]}, geometry=[LineString([(X0, Y0), (X0 + 4000, Y0)])],
                             crs=32648).to_crs(4326)
    from geo.network import build_network

    network = build_network(roads)
    committee = utm_points((0, 0)).iloc[0]
    settlement = utm_points((4000, 200)).iloc[0]
    households = utm_points((4000, 250), (4050, 200), (3950, 200), (100, 0))
    visit = village_visit(committee, households, [settlement] * 3 + [None], network=network)
    assert visit.driven_settlements == 1
    assert visit.drive_m == pytest.approx(8000, abs=5)  # there and back along the road
    loop = 50 + 2 * math.hypot(50, 50) + 50  # settlement -> C -> A -> B -> settlement
    assert visit.walk_m == pytest.approx(2 * 200 + loop + 200, abs=2)  # last stretch, loop, committee's own
    assert sorted(visit.order) == [0, 1, 2, 3] and visit.order[0] == 3
    walked = village_visit(committee, households, [settlement] * 3 + [None], network=None)
    assert walked.driven_settlements == 0 and walked.walk_m > 8000


def test_linear_partition_keeps_runs_short_enough():
    assert linear_partition([1, 1, 1, 1, 10], 2, max_len=3) == [0, 3]
    assert linear_partition([10, 1, 1, 1, 1], 2, max_len=3) == [0, 2]
    with pytest.raises(ValidationError, match="at most 2"):
        linear_partition([1, 1, 1, 1, 1], 2, max_len=2)


def test_a_clock_that_runs_out_before_the_first_solution_still_gives_routes():
    """On a loaded machine the search time can end before the first solution: the solver then
    searches again without a clock, so that a plan never fails for want of speed."""
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 50_000, size=(61, 2))
    time_s = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)) / 10.0
    service_s = np.full(60, 1800.0)
    orders = solve_orders(time_s, service_s, teams=3, day_s=8 * 3600.0, seconds=1e-6)
    assert orders is not None and sorted(itertools.chain(*orders)) == list(range(1, 61))
