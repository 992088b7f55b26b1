"""The shared solar position equals pvlib's own (NREL SPA, as ModelChain computes it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pvlib.location import Location

from geo.pv.sun import solar_position


def _year(tz: str = "Etc/GMT-7") -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp("2019-01-01 00:30", tz=tz), periods=8760, freq="h")


@pytest.mark.parametrize(("lat", "lon", "alt"), [(37.5, 105.2, 1_250.0), (36.1, -79.95, 270.0), (-33.9, 18.4, 0.0)])
def test_equals_pvlib_at_any_site(lat, lon, alt):
    times = _year()
    temperature = np.where(times.month < 6, -5.0, 22.0)
    expected = Location(lat, lon, altitude=alt).get_solarposition(times, temperature=temperature)
    got = solar_position(times, latitude=lat, longitude=lon, altitude_m=alt, temperature_c=temperature)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=1e-9)


def test_uneven_instants_are_computed_too():
    times = pd.DatetimeIndex(["2019-03-01 06:00", "2019-03-01 12:00", "2019-07-14 13:30"], tz="UTC")
    expected = Location(37.5, 105.2, altitude=1_250).get_solarposition(times)
    got = solar_position(times, latitude=37.5, longitude=105.2, altitude_m=1_250)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=1e-9)
