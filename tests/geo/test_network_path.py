"""RoadNetwork.path: the line of the cheapest way between two points, on tiny layers."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from geo.network import build_network

X0, Y0 = 500_000.0, 4_150_000.0


def roads(*lines, surfaces=None) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    return gpd.GeoDataFrame({"surface": surfaces or ["hardened"] * len(geoms)}, geometry=geoms,
                            crs=32648).to_crs(4326)


def point(x, y) -> Point:
    return gpd.GeoSeries([Point(X0 + x, Y0 + y)], crs=32648).to_crs(4326).iloc[0]


def test_the_path_follows_the_roads_with_access_legs_and_matches_the_matrix():
    network = build_network(roads([(0, 0), (1000, 0), (1000, 1000)]))
    path = network.path(point(0, 30), point(1000, 1000))
    assert path.length_m == pytest.approx(2030, abs=0.5)
    assert path.road_m == pytest.approx(2000, abs=0.5)
    assert path.time_s == pytest.approx(2000 / (40 / 3.6) + 30 / (15 / 3.6), rel=1e-6)
    coords = list(path.geometry.coords)
    assert coords[0] == pytest.approx((X0, Y0 + 30)) and coords[-1] == pytest.approx((X0 + 1000, Y0 + 1000))
    assert any(c == pytest.approx((X0 + 1000, Y0)) for c in coords)  # goes round the corner
    matrix = network.distance_matrix(gpd.GeoSeries([point(0, 30), point(1000, 1000)], crs=4326))
    assert path.length_m == pytest.approx(matrix[0, 1], abs=0.5)


def test_points_on_one_edge_and_unreachable_pairs():
    network = build_network(roads([(0, 0), (3000, 0)], [(9000, 0), (9500, 0)]))
    same = network.path(point(500, 0), point(2500, 0))
    assert same.length_m == pytest.approx(2000, abs=0.5)
    backwards = network.path(point(2500, 0), point(500, 0))
    assert list(backwards.geometry.coords)[0] == pytest.approx((X0 + 2500, Y0))
    assert network.path(point(0, 0), point(9500, 0)) is None
    assert network.path(point(0, 5000), point(3000, 0), max_access_m=100) is None


def test_the_fastest_path_avoids_earth_roads():
    network = build_network(roads([(0, 0), (3000, 0)], [(0, 0), (1500, 1500)], [(1500, 1500), (3000, 0)],
                                  surfaces=["earth", "hardened", "hardened"]))
    shortest = network.path(point(0, 0), point(3000, 0), weight="length_m")
    fastest = network.path(point(0, 0), point(3000, 0), weight="time_s")
    assert shortest.length_m == pytest.approx(3000, abs=0.5)
    assert fastest.length_m == pytest.approx(2 * 2121.32, abs=1)
    assert fastest.time_s < shortest.time_s
