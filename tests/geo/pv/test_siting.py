"""Siting on a toy area near Shapotou whose answer is known cell by cell.

The area is 2 km x 1 km in UTM zone 48N (EPSG:32648, the metric CRS the analysis chooses),
aligned to the 100 m cell grid: 20 columns x 10 rows = 200 cells. DEMs are written by the
tests: flat west of x0 + 1,000 m, a 20 % ramp east of it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, box

from geo.errors import ValidationError
from geo.pv.siting import CANDIDATE_COLUMNS, Exclusion, site_stations

UTM = "EPSG:32648"
X0, Y0 = 500_000.0, 4_150_000.0  # about 105.0°E, 37.5°N
TO_WGS = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)


def utm_frame(*geoms, **columns) -> gpd.GeoDataFrame:
    """Geometries given in UTM metres, returned in EPSG:4326 as the analyses expect."""
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=UTM).to_crs(4326)


@pytest.fixture
def area() -> gpd.GeoDataFrame:
    return utm_frame(box(X0, Y0, X0 + 2_000, Y0 + 1_000), name=["试验区"])


def elevation_at(x: np.ndarray) -> np.ndarray:
    return np.where(x < X0 + 1_000, 1_200.0, 1_200.0 + 0.20 * (x - (X0 + 1_000)))


@pytest.fixture
def dem_utm(tmp_path):
    path = tmp_path / "dem_utm.tif"
    res = 20.0
    left, top = X0 - 200, Y0 + 1_200
    cols, rows = int(2_400 / res), int(1_400 / res)
    x = left + (np.arange(cols) + 0.5) * res
    grid = np.tile(elevation_at(x), (rows, 1)).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1, dtype="float32",
                       crs=UTM, transform=from_origin(left, top, res, res), nodata=-9999) as dst:
        dst.write(grid, 1)
    return path


@pytest.fixture
def dem_wgs84(tmp_path):
    """The same terrain in geographic coordinates (as SRTM tiles come)."""
    path = tmp_path / "dem_wgs84.tif"
    west, south = TO_WGS.transform(X0 - 300, Y0 - 300)
    east, north = TO_WGS.transform(X0 + 2_300, Y0 + 1_300)
    res = 0.0002
    cols, rows = int((east - west) / res) + 1, int((north - south) / res) + 1
    lon = west + (np.arange(cols) + 0.5) * res
    lat = north - (np.arange(rows) + 0.5) * res
    lon2, lat2 = np.meshgrid(lon, lat)
    x, _ = TO_UTM.transform(lon2, lat2)
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west, north, res, res)) as dst:
        dst.write(elevation_at(x).astype("float32"), 1)
    return path


def covered(result, x: float, y: float) -> bool:
    """Whether any candidate's kept land (``result.sites``) covers the UTM point (x, y)."""
    return bool(result.sites.to_crs(UTM).geometry.buffer(0.01).covers(Point(x, y)).any())


def test_steep_cells_are_dropped_and_flat_ones_kept(area, dem_utm):
    result = site_stations(area, dem=dem_utm, min_area_ha=0)
    assert result.cells_evaluated == 200
    assert result.metric_crs == UTM
    assert covered(result, X0 + 300, Y0 + 500)  # flat
    assert not covered(result, X0 + 1_600, Y0 + 500)  # on the 20 % ramp
    # columns 11-19 are wholly on the ramp (10 rows each); the column at the break may go either way
    assert 90 <= result.excluded_cells["slope"] <= 100
    assert result.excluded_cells["no_dem_data"] == 0
    flat = result.candidates
    assert (flat["mean_slope_pct"] < 5).all()
    assert flat["mean_elevation_m"].between(1_190, 1_230).all()


def test_a_dem_in_another_crs_is_reprojected_not_refused(area, dem_wgs84):
    result = site_stations(area, dem=dem_wgs84, min_area_ha=0)
    assert covered(result, X0 + 300, Y0 + 500)
    assert not covered(result, X0 + 1_600, Y0 + 500)
    assert 90 <= result.excluded_cells["slope"] <= 100
    assert any("reprojected from EPSG:4326" in note for note in result.notes)


def test_an_exclusion_with_a_buffer_removes_the_cells_it_touches(area):
    farmland = utm_frame(box(X0 + 310, Y0 + 310, X0 + 490, Y0 + 490))
    bare = site_stations(area, exclusions=[Exclusion("farmland", farmland, 0.0)], min_area_ha=0)
    assert bare.excluded_cells["exclusion:farmland"] == 4  # the 2 x 2 cells the square lies in
    buffered = site_stations(area, exclusions=[Exclusion("farmland", farmland, 50.0)], min_area_ha=0)
    assert buffered.excluded_cells["exclusion:farmland"] == 16  # 4 x 4 once 50 m wider on each side
    assert not covered(buffered, X0 + 400, Y0 + 400)  # under the field
    assert not covered(buffered, X0 + 250, Y0 + 400)  # in a cell the buffer reaches
    assert covered(bare, X0 + 250, Y0 + 400)
    assert covered(buffered, X0 + 150, Y0 + 400)  # beyond the buffer
    assert buffered.sites["site_area_ha"].sum() == pytest.approx(200 - 16)


def test_cells_too_far_from_the_grid_are_dropped(area):
    line = utm_frame(LineString([(X0, Y0), (X0, Y0 + 1_000)]))
    result = site_stations(area, grid=line, max_grid_distance_m=500.0, min_area_ha=0)
    # cell centres lie 50, 150, ... m from the line: five columns within 500 m
    assert result.excluded_cells["grid_distance"] == 150
    assert covered(result, X0 + 300, Y0 + 500)
    assert not covered(result, X0 + 1_500, Y0 + 500)
    assert result.candidates["grid_distance_m"].min() == pytest.approx(50.0, abs=0.01)
    assert result.candidates["score_grid"].notna().all()


def test_contiguous_cells_merge_within_blocks_and_small_areas_go(area):
    result = site_stations(area, block_size_m=1_000, min_area_ha=0)
    assert len(result.candidates) == 2  # the two 1 km blocks
    assert sorted(result.sites["site_area_ha"]) == [100.0, 100.0]
    assert (result.candidates["cells"] == 100).all()
    # a strip of farmland cuts the west block in two: 30 ha and 60 ha, then drop what is under 40 ha
    strip = utm_frame(box(X0 + 310, Y0 - 10, X0 + 390, Y0 + 1_010))
    split = site_stations(area, exclusions=[Exclusion("strip", strip)], min_area_ha=40)
    assert sorted(split.sites["site_area_ha"]) == [60.0, 100.0]
    assert split.excluded_cells["small_area"] == 30


def test_capacity_yield_income_and_the_cap(area):
    result = site_stations(area, power_density_kwp_per_ha=500, max_station_kwp=30_000, price_yuan_per_kwh=0.5)
    row = result.candidates.iloc[0]
    assert row["developable_kwp"] == pytest.approx(100 * 500)
    assert row["capacity_kwp"] == pytest.approx(30_000)
    assert 1_300 < row["kwh_per_kwp"] < 1_700
    assert row["annual_kwh"] == pytest.approx(row["capacity_kwp"] * row["kwh_per_kwp"])
    assert row["income_yuan_per_year"] == pytest.approx(row["annual_kwh"] * 0.5)
    assert bool(row["yield_is_estimate"]) and "估算" in row["yield_basis"]
    assert result.is_estimate


def test_beneficiaries_are_registered_poor_households_of_villages_nearby(area):
    villages = utm_frame(Point(X0 + 1_000, Y0 + 3_000), Point(X0 + 1_000, Y0 + 20_000), id=[1, 2],
                         name=["近村", "远村"])
    households = pd.DataFrame({"id": [1, 2, 3, 4, 5, 6], "village_id": [1, 1, 1, 1, 2, 2],
                               "status": ["registered", "exited", "planned_exit", "non_poor", "registered",
                                          "registered"]})
    result = site_stations(area, villages=villages, households=households, covered_household_ids=[2],
                           beneficiary_distance_m=5_000)
    # households 1 and 3 are poor and not yet covered (2 is covered, 4 not poor, 5-6 too far):
    # both blocks reach them, the first chosen is credited them, the second nothing
    assert result.candidates["uncovered_households"].tolist() == [2, 2]
    assert result.candidates["beneficiary_households"].tolist() == [2, 0]
    assert result.candidates["villages"].tolist() == ["近村 2户", ""]
    assert result.households_to_reach == 4 and result.households_unreached == 2
    assert (result.candidates["nearest_village"] == "近村").all()
    # measured from the station's centre (lon, lat)
    x, y = TO_UTM.transform(result.candidates["lon"].to_numpy(), result.candidates["lat"].to_numpy())
    expected = np.hypot(x - (X0 + 1_000), y - (Y0 + 3_000))
    assert result.candidates["nearest_village_distance_m"].to_numpy() == pytest.approx(expected, abs=1)
    assert result.candidates["score_beneficiaries"].max() == pytest.approx(1.0)


def test_output_is_a_ranked_geodataframe_for_maps(area):
    result = site_stations(area, top=1)
    frame = result.candidates
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [*CANDIDATE_COLUMNS, "geometry"]
    assert len(frame) == 1 and frame["rank"].tolist() == [1]
    assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"}
    assert frame["area_name"].tolist() == ["试验区"]
    assert 0 <= frame["score"].iloc[0] <= 100
    assert any("best 1" in note for note in result.notes)


def test_inputs_are_not_changed(area):
    before = area.copy()
    site_stations(area, min_area_ha=0)
    pd.testing.assert_frame_equal(pd.DataFrame(before), pd.DataFrame(area))


# ------------------------------------------------------------------------------ bad inputs


def test_a_frame_in_a_projected_crs_is_refused(area):
    with pytest.raises(ValidationError, match="expect EPSG:4326"):
        site_stations(area.to_crs(3857))


def test_bad_parameters_name_themselves(area):
    with pytest.raises(ValidationError, match="cell size"):
        site_stations(area, cell_size_m=1)
    with pytest.raises(ValidationError, match="buffer of exclusion 'x'"):
        site_stations(area, exclusions=[Exclusion("x", area, -5)])
    with pytest.raises(ValidationError, match="unknown score component"):
        site_stations(area, weights={"beauty": 1})


def test_a_dem_without_crs_or_elsewhere_is_refused_clearly(area, tmp_path):
    nocrs = tmp_path / "nocrs.tif"
    with rasterio.open(nocrs, "w", driver="GTiff", height=10, width=10, count=1, dtype="float32",
                       transform=from_origin(X0, Y0 + 1_000, 200, 100)) as dst:
        dst.write(np.ones((10, 10), dtype="float32"), 1)
    with pytest.raises(ValidationError, match="has no CRS"):
        site_stations(area, dem=nocrs)
    far = tmp_path / "far.tif"
    with rasterio.open(far, "w", driver="GTiff", height=10, width=10, count=1, dtype="float32", crs=UTM,
                       transform=from_origin(X0 + 90_000, Y0 + 90_000, 100, 100)) as dst:
        dst.write(np.ones((10, 10), dtype="float32"), 1)
    with pytest.raises(ValidationError, match="does not cover the siting area"):
        site_stations(area, dem=far)
    text = tmp_path / "dem.tif"
    text.write_text("not a raster")
    with pytest.raises(ValidationError, match="cannot be read as a raster"):
        site_stations(area, dem=text)


def test_a_national_exclusion_layer_does_not_move_the_metric_crs(area):
    far_away = gpd.GeoDataFrame(geometry=[box(116.0, 39.0, 117.0, 40.0), box(87.0, 43.0, 88.0, 44.0)], crs=4326)
    result = site_stations(area, exclusions=[Exclusion("reserves", far_away, 1_000)], min_area_ha=0)
    assert result.metric_crs == UTM
    assert result.excluded_cells["exclusion:reserves"] == 0
    with pytest.raises(ValidationError, match="exclusion 'reserves' layer is in EPSG:3857"):
        site_stations(area, exclusions=[Exclusion("reserves", far_away.to_crs(3857))])


def test_no_candidate_left_gives_an_empty_frame_not_an_error(area):
    everything = utm_frame(box(X0 - 500, Y0 - 500, X0 + 2_500, Y0 + 1_500))
    result = site_stations(area, exclusions=[Exclusion("all", everything)])
    assert result.candidates.empty and result.cells_kept == 0
    assert list(result.candidates.columns) == [*CANDIDATE_COLUMNS, "geometry"]
    assert result.candidates.crs.to_epsg() == 4326
    assert result.excluded_cells["exclusion:all"] == 200
