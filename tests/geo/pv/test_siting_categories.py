"""Siting a county would sign: candidates sized to their station category, the default
exclusions, beneficiaries counted once, and income split by the distribution model.

Toy areas near Shapotou in UTM zone 48N (EPSG:32648, the CRS the analysis chooses), aligned
to the 100 m grid; every answer below is worked out by hand from the geometry.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point, box

from geo.errors import ValidationError
from geo.pv import params
from geo.pv.siting import Exclusion, site_stations
from tests.geo.pv.test_siting import UTM, X0, Y0, utm_frame

VILLAGE = params.CATEGORIES["village"]
#: What one kWp pays households at a village station, per kWh/kWp of yield: 0.65 yuan/kWh x 70 %
#: (公益岗位 60 % + 奖励补助 10 %).
YUAN_PER_KWH_TO_HOUSEHOLDS = 0.65 * 0.7


def one_cell_area() -> gpd.GeoDataFrame:
    """One 100 m cell: room for one village station (0.57 ha) and nothing else."""
    return utm_frame(box(X0, Y0, X0 + 100, Y0 + 100), name=["一格"])


def settlement_at(x: float, y: float) -> gpd.GeoDataFrame:
    return utm_frame(Point(x, y), name=["新庄"])


# ------------------------------------------------------------------------------ exclusions


def test_a_settlement_inside_a_would_be_candidate_excludes_it():
    area = one_cell_area()
    alone = site_stations(area, min_area_ha=0)
    assert len(alone.candidates) == 1  # the cell would hold a village station
    settled = site_stations(area, min_area_ha=0,
                            exclusions=[Exclusion("settlements", settlement_at(X0 + 50, Y0 + 50), 300.0)])
    assert settled.candidates.empty
    assert settled.excluded_cells["exclusion:settlements"] == 1
    assert settled.excluded_area_ha["exclusion:settlements"] == pytest.approx(1.0)


def test_no_station_overlaps_a_buffered_settlement():
    area = utm_frame(box(X0, Y0, X0 + 2_000, Y0 + 1_000), name=["试验区"])
    houses = settlement_at(X0 + 550, Y0 + 450)  # the middle of a cell
    result = site_stations(area, exclusions=[Exclusion("settlements", houses, 300.0)], min_area_ha=0)
    zone = houses.to_crs(UTM).buffer(300.0).union_all()
    stations = result.candidates.to_crs(UTM)
    assert len(stations) and not stations.intersects(zone).any()
    # 300 m around the middle of a cell: the 7 x 7 cells around it, less the four corner cells
    # (their nearest corner lies 250 m east and 250 m north of the point: 354 m)
    assert result.excluded_cells["exclusion:settlements"] == 7 * 7 - 4


# ------------------------------------------------------------------------------ categories


def test_a_village_station_is_at_most_500_kw_on_its_land_use_per_kwp():
    area = utm_frame(box(X0, Y0, X0 + 2_000, Y0 + 1_000), name=["试验区"])
    result = site_stations(area, category="village", min_area_ha=0)
    stations = result.candidates
    assert (stations["category"] == "village").all()
    assert (stations["capacity_kwp"] <= 500.0 + 1e-9).all()
    # no households to serve: each station is the largest the category allows
    assert stations["capacity_kwp"].tolist() == pytest.approx([500.0, 500.0])
    # 500 kWp x 10,000 / 870 m²/kWp = 5,747 m², far from the 100 ha of the kept land around it
    land_m2 = stations["capacity_kwp"] * VILLAGE.land_m2_per_kwp
    assert (stations["area_ha"] * 10_000).tolist() == pytest.approx(land_m2.tolist())
    assert stations.to_crs(UTM).area.tolist() == pytest.approx(land_m2.tolist(), rel=1e-6)
    assert sorted(result.sites["site_area_ha"]) == [100.0, 100.0]
    assert result.price_yuan_per_kwh == pytest.approx(0.65)


def test_a_centralized_station_is_mw_scale_at_the_coal_benchmark():
    area = utm_frame(box(X0, Y0, X0 + 2_000, Y0 + 1_000), name=["试验区"])
    result = site_stations(area, category="centralized", min_area_ha=0)
    # each 1 km block holds a kept square of 9 x 9 cells around its centre: 81 ha x 870 kWp/ha
    assert result.candidates["capacity_kwp"].tolist() == pytest.approx([81 * 870.0] * 2)
    assert result.price_yuan_per_kwh == pytest.approx(params.COAL_BENCHMARK_YUAN_PER_KWH)
    small = utm_frame(box(X0, Y0, X0 + 100, Y0 + 100), name=["一格"])
    too_small = site_stations(small, category="centralized", min_area_ha=0)
    assert too_small.candidates.empty  # 1 ha holds 870 kWp, under the 1 MW of the category
    assert too_small.excluded_cells["below_category_minimum"] == 1


def test_an_unknown_category_is_refused_naming_the_known_ones():
    with pytest.raises(ValidationError, match="category 'farm' is unknown.*village"):
        site_stations(one_cell_area(), category="farm")
    with pytest.raises(ValidationError, match="not sited on the ground"):
        site_stations(one_cell_area(), category="household")


# ------------------------------------------------------------------------------ beneficiaries once


def test_two_candidates_sharing_a_village_credit_each_household_once():
    # two 1-cell areas 1 km apart, a village of 150 registered-poor households between them
    area = utm_frame(box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 1_000, Y0, X0 + 1_100, Y0 + 100),
                     name=["西", "东"])
    villages = utm_frame(Point(X0 + 550, Y0 + 50), id=[1], name=["共村"], registered_poor_households=[150])
    result = site_stations(area, villages=villages, min_area_ha=0, beneficiary_distance_m=5_000)
    stations = result.candidates
    kwh = float(stations["kwh_per_kwp"].iloc[0])  # both on one yield lattice point
    assert stations["kwh_per_kwp"].tolist() == pytest.approx([kwh, kwh])
    # one 500 kWp village station pays households 500 x kWh/kWp x 0.65 x 0.7 yuan: that many
    # households at 3,000 yuan; the second station is credited those left, not 150 again
    first = int(500 * kwh * YUAN_PER_KWH_TO_HOUSEHOLDS // 3_000)
    assert 100 < first < 150
    assert stations["uncovered_households"].tolist() == [150, 150]
    assert stations["beneficiary_households"].tolist() == [first, 150 - first]
    assert stations["households_unreached_after"].tolist() == [150 - first, 0]
    assert result.households_to_reach == 150 and result.households_unreached == 0
    assert stations["villages"].tolist() == [f"共村 {first}户", f"共村 {150 - first}户"]
    # each is sized to its households: n x 3,000 / (kWh/kWp x 0.65 x 0.7) kWp
    per_household_kwp = 3_000 / (kwh * YUAN_PER_KWH_TO_HOUSEHOLDS)
    assert stations["capacity_kwp"].tolist() == pytest.approx([first * per_household_kwp,
                                                               (150 - first) * per_household_kwp])
    assert stations["income_yuan_per_beneficiary_household"].tolist() == pytest.approx([3_000.0, 3_000.0])


def test_the_ranking_goes_to_households_not_yet_reached():
    # 西 and 中 reach the big village; only 东 reaches the small one: after 西 is credited the
    # big village (it fits in one station), 东 adds households and 中 none
    area = utm_frame(box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 200, Y0, X0 + 300, Y0 + 100),
                     box(X0 + 9_000, Y0, X0 + 9_100, Y0 + 100), name=["西", "中", "东"])
    villages = utm_frame(Point(X0 + 150, Y0 + 500), Point(X0 + 9_050, Y0 + 500), id=[1, 2], name=["大村", "小村"],
                         registered_poor_households=[100, 20])
    result = site_stations(area, villages=villages, min_area_ha=0, beneficiary_distance_m=2_000)
    order = result.candidates["area_name"].tolist()
    assert order[1] == "东" and set(order[:1]) <= {"西", "中"}
    assert result.candidates["beneficiary_households"].tolist() == [100, 20, 0]
    assert result.households_unreached == 0


# ------------------------------------------------------------------------------ income by hand


def test_per_household_income_from_the_distribution_worked_by_hand():
    # a village station earning 100,000 yuan: 10 % O&M and grid fee, 60 % 公益岗位, 20 % public
    # works, 10 % paid to households; 35 beneficiary households
    split = VILLAGE.distribution.split(100_000.0, households=35)
    assert split["operator_yuan_per_year"] == pytest.approx(10_000)
    assert split["public_posts_yuan_per_year"] == pytest.approx(60_000)
    assert split["public_posts"] == 10  # 60,000 / 6,000 yuan a post
    assert split["collective_yuan_per_year"] == pytest.approx(20_000)
    assert split["households_direct_yuan_per_year"] == pytest.approx(10_000)
    assert split["income_yuan_per_household"] == pytest.approx(70_000 / 35)  # 2,000, not 100,000 / 35


def test_shares_that_do_not_add_up_are_refused():
    with pytest.raises(ValidationError, match="add up to 1.1"):
        params.IncomeDistribution(operator=0.1, public_posts=0.6, collective=0.2, households=0.2,
                                  wage_yuan_per_post=6_000, source="test")
    with pytest.raises(ValidationError, match="out of range"):
        params.IncomeDistribution(operator=-0.1, public_posts=0.9, collective=0.1, households=0.1,
                                  wage_yuan_per_post=6_000, source="test")


# ------------------------------------------------------------------------------ land cover


def _land_cover(path, *, crs: str | None, cropland_east_of: float) -> None:
    """A 10 m WorldCover-like raster over the 2 km x 1 km area: bare (60) west, cropland (40) east."""
    res = 10.0
    cols, rows = 220, 120
    left, top = X0 - 100, Y0 + 1_100
    x = left + (np.arange(cols) + 0.5) * res
    grid = np.tile(np.where(x < cropland_east_of, 60, 40), (rows, 1)).astype("uint8")
    profile = {"driver": "GTiff", "height": rows, "width": cols, "count": 1, "dtype": "uint8",
               "transform": from_origin(left, top, res, res)}
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid, 1)


def test_a_land_cover_raster_excludes_its_cropland_cells(tmp_path):
    path = tmp_path / "cover.tif"
    _land_cover(path, crs=UTM, cropland_east_of=X0 + 1_000)
    area = utm_frame(box(X0, Y0, X0 + 2_000, Y0 + 1_000), name=["试验区"])
    result = site_stations(area, land_cover=path, min_area_ha=0)
    assert result.excluded_cells["land_cover"] == 100  # the east half: 10 columns x 10 rows
    assert result.excluded_area_ha["land_cover"] == pytest.approx(100.0)
    assert len(result.candidates) == 1


def test_a_land_cover_raster_without_a_crs_is_refused(tmp_path):
    path = tmp_path / "nocrs.tif"
    _land_cover(path, crs=None, cropland_east_of=X0 + 1_000)
    with pytest.raises(ValidationError, match="no CRS"):
        site_stations(one_cell_area(), land_cover=path)


# ------------------------------------------------------------------------------ inputs untouched


def test_households_frame_is_not_changed():
    villages = utm_frame(Point(X0 + 50, Y0 + 500), id=[1], name=["甲村"])
    households = pd.DataFrame({"id": [1, 2], "village_id": [1, 1], "status": ["registered", "non_poor"]})
    before = households.copy()
    result = site_stations(one_cell_area(), villages=villages, households=households, min_area_ha=0)
    pd.testing.assert_frame_equal(before, households)
    assert result.candidates["beneficiary_households"].tolist() == [1]
