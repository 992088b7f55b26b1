"""The bounded shortest paths of :meth:`RoadNetwork.distances_from` (a disc of the network
around the origin, widened until exact) give the whole-network answers.

The reference is :meth:`RoadNetwork.distance_matrix`, which runs Dijkstra over the whole
network with the same entry rule; the network is a 12 x 12 grid of 500 m streets with
random streets missing (detours longer than the straight line, and pieces cut off), so the
disc must grow several times for the far points.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from geo.network import build_network

X0, Y0 = 500_000.0, 4_150_000.0


def _grid(seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lines, surfaces = [], []
    for i in range(12):
        for j in range(12):
            for dx, dy in ((1, 0), (0, 1)):
                if i + dx < 12 and j + dy < 12 and rng.random() > 0.3:
                    lines.append(LineString([(X0 + 500 * i, Y0 + 500 * j), (X0 + 500 * (i + dx), Y0 + 500 * (j + dy))]))
                    surfaces.append(str(rng.choice(["hardened", "gravel", "earth"])))
    return gpd.GeoDataFrame({"surface": surfaces}, geometry=lines, crs=32648).to_crs(4326)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weight", ["length_m", "time_s"])
def test_distances_from_equal_the_whole_network_dijkstra(seed, weight):
    network = build_network(_grid(seed), snap_tolerance_m=5)
    rng = np.random.default_rng(seed + 10)
    xy = rng.uniform(0, 5500, size=(40, 2))
    pts = gpd.GeoSeries([Point(X0 + x, Y0 + y) for x, y in xy], crs=32648)
    reference = network.distance_matrix(pts, weight=weight, max_access_m=300)
    for origin in (0, 7, 23):
        got = network.distances_from(pts.iloc[[origin]], pts, weight=weight, max_access_m=300)
        want = reference[origin].copy()
        want[origin] = got[origin]  # the matrix's diagonal is 0 by definition, not a path
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def test_a_point_on_a_separate_piece_far_away_is_unreachable():
    # a 6 km road and, 20 km off, a piece of its own: the disc grows until it holds both
    # whole components, then says inf instead of growing forever
    layer = gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 6000, Y0)]),
                                       LineString([(X0 + 26_000, Y0), (X0 + 27_000, Y0)])], crs=32648)
    network = build_network(layer.assign(surface="hardened").to_crs(4326))
    pts = gpd.GeoSeries([Point(X0 + 100, Y0 + 50), Point(X0 + 5900, Y0 - 20), Point(X0 + 26_500, Y0)], crs=32648)
    got = network.distances_from(pts.iloc[[0]], pts)
    assert got[1] == pytest.approx(50 + 5800 + 20, abs=1e-6)
    assert np.isinf(got[2])
