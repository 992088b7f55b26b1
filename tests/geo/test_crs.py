from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo.crs import metric_crs_for, utm_crs
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
