from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point

from geo.crs import (
    from_crs84,
    gauss_kruger_codes,
    metric_crs_for,
    parse_crs,
    to_crs84,
    utm_crs,
)
from geo.errors import ValidationError


def test_ningxia_is_utm_48n():
    frame = gpd.GeoDataFrame(geometry=[Point(104.3, 36.7), Point(105.7, 37.7)], crs=4326)
    assert metric_crs_for(frame).to_epsg() == 32648
    assert utm_crs(-70, -33).to_epsg() == 32719


def test_projected_or_missing_crs_is_refused():
    with pytest.raises(ValidationError, match="EPSG:32648"):
        metric_crs_for(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=32648))
    with pytest.raises(ValidationError, match="no CRS"):
        metric_crs_for(gpd.GeoDataFrame(geometry=[Point(0, 0)]))


# ---------------------------------------------------------------------- OGC CRSs


@pytest.mark.parametrize(("text", "code"), [
    ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", None), ("OGC:CRS84", None),
    ("http://www.opengis.net/def/crs/EPSG/0/4544", 4544), ("EPSG:4490", 4490), ("[EPSG:4326]", 4326),
    ("urn:ogc:def:crs:EPSG::4523", 4523),
])
def test_crs_parameters_in_every_usual_form(text, code):
    assert parse_crs(text) == code


@pytest.mark.parametrize("text", ["gcj02", "EPSG:", "EPSG:4326x", "http://example.org/crs/4326", "EPSG:1234567"])
def test_unknown_crs_parameters_are_refused(text):
    with pytest.raises(ValidationError, match="crs"):
        parse_crs(text)


def test_the_gauss_kruger_zones_over_shapotou_and_a_round_trip():
    assert gauss_kruger_codes((104.6, 37.0, 105.6, 37.7)) == [4496, 4507, 4523, 4544]
    assert gauss_kruger_codes(None) == []
    point = shapely.Point(105.2, 37.5)
    projected = from_crs84(point, 4544)
    assert 4_000_000 < projected.x < 4_300_000 and 500_000 < projected.y < 530_000  # northing first
    assert shapely.equals_exact(to_crs84(projected, 4544), point, tolerance=1e-9)
    assert from_crs84(point, 4490).coords[0] == pytest.approx((37.5, 105.2))
