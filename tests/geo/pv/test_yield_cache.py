"""The process's cache of clear-sky yields: shared by calls (review, siting, the map), keyed
by the lattice point and every model option, never used for weather files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.pv import yield_model
from geo.pv.review import review_projects
from geo.pv.yield_model import clear_yield_cache, estimate_yield, specific_yields

LAT = np.array([37.50, 37.52, 37.90])
LON = np.array([105.20, 105.21, 105.60])


@pytest.fixture(autouse=True)
def empty_cache():
    clear_yield_cache()
    yield
    clear_yield_cache()


def test_a_second_call_runs_pvlib_no_more_and_gives_the_same_yields():
    first = specific_yields(LAT, LON, resolution_deg=0.25)
    assert (first.runs, first.cached) == (2, 0)
    again = specific_yields(LAT, LON, resolution_deg=0.25)
    assert (again.runs, again.cached) == (2, 2)
    np.testing.assert_array_equal(again.kwh_per_kwp, first.kwh_per_kwp)
    assert again.weather_label == first.weather_label and again.is_estimate
    # the kept value is the model's own for 1 kWp at the lattice point
    direct = estimate_yield(latitude=37.5, longitude=105.25, capacity_kwp=1.0)
    assert first.kwh_per_kwp[0] == pytest.approx(direct.kwh_per_kwp, rel=1e-12)


@pytest.mark.parametrize("option", [{"clearsky_factor": 0.6}, {"tilt_deg": 10.0}, {"azimuth_deg": 150.0},
                                    {"losses_pct": 20.0}, {"inverter_efficiency": 0.9}, {"dc_ac_ratio": 1.5},
                                    {"altitudes_m": [2500.0, 2500.0, 2500.0]}, {"resolution_deg": 0.1}])
def test_other_options_are_other_entries(option):
    base = specific_yields(LAT, LON, resolution_deg=0.25)
    other = specific_yields(LAT, LON, **{"resolution_deg": 0.25, **option})
    assert other.cached == 0
    assert not np.allclose(other.kwh_per_kwp, base.kwh_per_kwp)


def test_yields_from_a_weather_file_are_never_kept(tmy3_path):
    specific_yields([36.1], [-79.95], weather=tmy3_path)
    again = specific_yields([36.1], [-79.95], weather=tmy3_path)
    assert again.cached == 0 and not again.is_estimate
    assert len(yield_model._CLEARSKY_YIELDS) == 0


def test_the_review_and_a_later_siting_share_runs():
    projects = gpd.GeoDataFrame(
        {"id": [1, 2], "name": ["甲站", "乙站"], "kind": ["village_station"] * 2, "capacity_kw": [100.0, 50.0],
         "status": ["grid_connected"] * 2, "village_id": [1, 1], "annual_income_yuan": [60_000.0, 30_000.0],
         "beneficiary_households": [None, None]},
        geometry=[Point(105.20, 37.50), Point(105.60, 37.90)], crs=4326)
    empty = pd.DataFrame({"project_id": [], "household_id": [], "village_id": []})
    review = review_projects(projects, pd.DataFrame({"id": [], "village_id": [], "status": []}),
                             empty[["project_id", "household_id"]], empty[["project_id", "village_id"]],
                             pd.DataFrame({"id": [1], "name": ["一村"], "township_name": ["甲镇"]}))
    later = specific_yields(LAT, LON, resolution_deg=0.25)  # siting's lattice and options
    assert later.cached == later.runs == 2
    np.testing.assert_allclose(later.kwh_per_kwp[[0, 2]], review.projects["kwh_per_kwp"].to_numpy())


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(yield_model._CLEARSKY_YIELDS, "size", 1)
    result = specific_yields(LAT, LON, resolution_deg=0.25)
    assert result.runs == 2 and len(yield_model._CLEARSKY_YIELDS) == 1
