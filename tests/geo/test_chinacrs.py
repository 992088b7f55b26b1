"""GCJ-02 and BD-09 against the published reference pairs, and the iterative inverse."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point

from geo import chinacrs

# Published pairs for the input (116.404, 39.915), from the test of the widely used
# coordtransform package (github.com/wandergis/coordtransform, test/app.js).
REFERENCE = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
    # coordtransform's gcj02towgs84 is the one-step approximation of the inverse
    "gcj02_to_wgs84_one_step": (116.39775550083061, 39.91359571849836),
}
GEOD = Geod(ellps="WGS84")


def metres(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.mark.parametrize("name", ["wgs84_to_gcj02", "gcj02_to_bd09", "bd09_to_gcj02"])
def test_forward_formulas_match_the_published_pairs(name):
    lon, lat = getattr(chinacrs, name)(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx(REFERENCE[name], abs=1e-12)


def test_iterative_inverse_beats_the_one_step_approximation():
    gcj = (116.404, 39.915)
    exact = tuple(float(v) for v in chinacrs.gcj02_to_wgs84(*gcj))
    back = tuple(float(v) for v in chinacrs.wgs84_to_gcj02(*exact))
    assert metres(back, gcj) < 0.001  # the forward image of our inverse is the input, to 1 mm
    one_step = REFERENCE["gcj02_to_wgs84_one_step"]
    assert 0.01 < metres(one_step, exact) < 5  # the approximation is off by centimetres to metres
    one_step_back = tuple(float(v) for v in chinacrs.wgs84_to_gcj02(*one_step))
    assert metres(one_step_back, gcj) > metres(back, gcj)


def test_offset_size_in_shapotou_and_none_outside_china():
    lon, lat = chinacrs.wgs84_to_gcj02(105.19, 37.51)
    assert 100 < metres((105.19, 37.51), (float(lon), float(lat))) < 700
    assert chinacrs.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_bd09_round_trip_and_vectorised():
    lons, lats = np.array([105.19, 105.30, 116.404]), np.array([37.51, 36.85, 39.915])
    b_lon, b_lat = chinacrs.from_wgs84(lons, lats, "bd09")
    w_lon, w_lat = chinacrs.to_wgs84(b_lon, b_lat, "bd09")
    for i in range(3):
        assert metres((lons[i], lats[i]), (w_lon[i], w_lat[i])) < 0.5


def test_geometries_are_transformed_vertex_by_vertex():
    line = LineString([(105.1, 37.5), (105.2, 37.55)])
    shifted = chinacrs.geometries_from_wgs84(line, "gcj02")
    assert shifted.geom_type == "LineString"
    assert metres(shifted.coords[0], chinacrs.wgs84_to_gcj02(105.1, 37.5)) < 1e-6
    back = chinacrs.geometries_to_wgs84(shifted, "gcj02")
    assert back.equals_exact(line, 1e-9)
    assert chinacrs.geometries_to_wgs84(Point(105.1, 37.5), "gcj02").geom_type == "Point"


def test_unknown_crs_is_refused():
    with pytest.raises(ValueError, match="gcj02"):
        chinacrs.to_wgs84(105.0, 37.0, "mars")
