"""The road network on tiny hand-built layers whose answers are known by hand.

Coordinates are built in UTM 48N metres (EPSG:32648) around Shapotou and handed over in
EPSG:4326, as the storage layer would.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString, Point

from geo.errors import ValidationError
from geo.network import build_network

X0, Y0 = 500_000.0, 4_150_000.0


def roads(*lines, surfaces=None) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    frame = gpd.GeoDataFrame({"surface": surfaces or ["hardened"] * len(geoms)}, geometry=geoms, crs=32648)
    return frame.to_crs(4326)


def points(*xy) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(X0 + x, Y0 + y) for x, y in xy], crs=32648).to_crs(4326)


def test_a_gap_wider_than_the_tolerance_splits_the_network():
    layer = roads([(0, 0), (1000, 0)], [(1040, 0), (2000, 0)])
    broken = build_network(layer, snap_tolerance_m=10)
    assert len(set(broken.component_labels())) == 2
    joined = build_network(layer, snap_tolerance_m=50)
    assert len(set(joined.component_labels())) == 1
    assert joined.snap_tolerance_m == 50


def test_t_junction_on_a_line_interior_is_a_node():
    # a side road ends 3 m from the middle of a main road
    layer = roads([(0, 0), (2000, 0)], [(1000, 3), (1000, 800)])
    network = build_network(layer, snap_tolerance_m=5)
    assert len(network.edges) == 3
    assert len(set(network.component_labels())) == 1
    d = network.distance_matrix(points((0, 0), (1000, 800)), include_access=False)
    assert d[0, 1] == pytest.approx(1000 + 797, abs=0.5)


def test_crossings_are_junctions_unless_asked_not_to():
    layer = roads([(0, 0), (2000, 0)], [(1000, -500), (1000, 500)])
    assert len(build_network(layer).edges) == 4
    assert len(build_network(layer, split_at_crossings=False).edges) == 2


def test_distances_follow_the_roads_and_add_the_access_legs():
    # an L-shaped road: 1000 m east then 1000 m north
    layer = roads([(0, 0), (1000, 0), (1000, 1000)])
    network = build_network(layer)
    pts = points((0, 30), (1000, 1000), (5000, 5000))
    d = network.distance_matrix(pts)
    assert d[0, 1] == pytest.approx(30 + 2000, abs=0.5)
    assert d[1, 0] == pytest.approx(d[0, 1])
    assert d[0, 0] == 0
    far = network.distance_matrix(pts, max_access_m=500)
    assert np.isinf(far[0, 2]) and np.isinf(far[2, 1])


def test_points_on_the_same_edge_use_the_edge_between_them():
    network = build_network(roads([(0, 0), (3000, 0)]))
    d = network.distance_matrix(points((500, 0), (2500, 0)), include_access=False)
    assert d[0, 1] == pytest.approx(2000, abs=0.5)


def test_unreachable_pairs_are_infinite():
    network = build_network(roads([(0, 0), (1000, 0)], [(5000, 0), (6000, 0)]))
    d = network.distance_matrix(points((0, 0), (6000, 0)))
    assert np.isinf(d[0, 1])


def test_travel_time_is_slower_on_earth_roads():
    layer = roads([(0, 0), (1000, 0)], [(0, 0), (0, 300), (1000, 300), (1000, 0)],
                  surfaces=["earth", "hardened"])
    network = build_network(layer)
    pts = points((0, 0), (1000, 0))
    by_length = network.distance_matrix(pts, include_access=False)
    by_time = network.distance_matrix(pts, weight="time_s", include_access=False)
    assert by_length[0, 1] == pytest.approx(1000, abs=0.5)  # the short earth road
    # 1000 m of earth at 15 km/h takes 240 s; the 1600 m hardened detour at 40 km/h 144 s
    assert by_time[0, 1] == pytest.approx(1600 / (40 / 3.6), rel=1e-3)


def test_multilines_and_bad_input():
    multi = gpd.GeoDataFrame({"surface": ["gravel"]}, geometry=[MultiLineString([
        [(X0, Y0), (X0 + 100, Y0)], [(X0 + 100, Y0), (X0 + 200, Y0)]])], crs=32648).to_crs(4326)
    network = build_network(multi)
    assert len(network.edges) == 2 and len(set(network.component_labels())) == 1
    with pytest.raises(ValidationError, match="not lines"):
        build_network(gpd.GeoDataFrame(geometry=[Point(105, 37)], crs=4326))
    with pytest.raises(ValidationError, match="no road lines"):
        build_network(gpd.GeoDataFrame(geometry=[], crs=4326))
    with pytest.raises(ValidationError, match=">= 0"):
        build_network(multi, snap_tolerance_m=-1)


def test_distances_from_one_origin_agree_with_the_matrix():
    # an L-shaped road with a side branch; the origin sits on the far end
    layer = roads([(0, 0), (1000, 0), (1000, 1000)], [(1000, 500), (1600, 500)], [(5000, 0), (6000, 0)])
    network = build_network(layer)
    pts = points((0, 30), (1000, 1000), (1600, 520), (5500, 0), (400, 0), (20_000, 0))
    one = network.distances_from(points((0, 30)), pts, max_access_m=500)
    full = network.distance_matrix(pts, max_access_m=500)
    assert one[0] == pytest.approx(60, abs=0.5)  # in and out on the same edge: 30 m + 30 m
    np.testing.assert_allclose(one[1:3], full[0, 1:3], atol=0.5)
    assert one[1] == pytest.approx(30 + 2000, abs=0.5)
    assert one[2] == pytest.approx(30 + 1000 + 500 + 600 + 20, abs=0.5)
    assert np.isinf(one[3]) and np.isinf(one[5])  # another component; off the network
    assert one[4] == pytest.approx(30 + 400, abs=0.5)  # same edge as the origin
    bare = network.distances_from(points((0, 30)), pts, include_access=False)
    assert bare[1] == pytest.approx(2000, abs=0.5)
    assert np.isinf(network.distances_from(points((20_000, 0)), pts, max_access_m=500)).all()
