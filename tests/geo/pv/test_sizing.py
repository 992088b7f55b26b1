"""Sizing a village station, checked by hand."""

from __future__ import annotations

import pytest

from geo.errors import ValidationError
from geo.pv.sizing import size_station


def test_capacity_for_the_target_income():
    # a village station pays households 70 % of its income (公益岗位 60 % + 奖励补助 10 %):
    # 100 households x 3,000 yuan / (1,500 kWh/kWp x 0.65 yuan/kWh x 0.7 = 682.5 yuan/kWp) = 439.56 kWp
    result = size_station(households=100, kwh_per_kwp=1_500, target_income_yuan_per_household=3_000,
                          price_yuan_per_kwh=0.65, max_station_kwp=500)
    assert result.household_share == pytest.approx(0.7)
    assert result.required_kwp == pytest.approx(300_000 / 682.5)
    assert result.capacity_kwp == pytest.approx(result.required_kwp)
    assert not result.capped and result.stations_needed == 1
    assert result.kwp_per_household == pytest.approx(4.396, abs=0.001)
    assert result.income_yuan_per_household == pytest.approx(3_000)
    assert result.annual_kwh == pytest.approx(result.capacity_kwp * 1_500)


def test_the_upper_bound_caps_one_station():
    # 300 households need 1,318.7 kWp: three stations of at most 500 kWp; one pays 500 x 682.5 / 300
    result = size_station(households=300, kwh_per_kwp=1_500, price_yuan_per_kwh=0.65, max_station_kwp=500)
    assert result.capped and result.capacity_kwp == 500
    assert result.stations_needed == 3
    assert result.income_yuan_per_household == pytest.approx(500 * 682.5 / 300)


def test_only_a_share_reaches_households():
    result = size_station(households=10, kwh_per_kwp=1_000, price_yuan_per_kwh=1.0,
                          target_income_yuan_per_household=1_000, household_share=0.5)
    assert result.required_kwp == pytest.approx(20.0)
    assert result.income_yuan_per_household == pytest.approx(1_000)


@pytest.mark.parametrize("kwargs, message", [
    ({"households": 0}, "households 0"),
    ({"households": 2.5}, "whole number"),
    ({"kwh_per_kwp": -1}, "kWh/kWp"),
    ({"price_yuan_per_kwh": 0}, "price"),
    ({"max_station_kwp": -10}, "maximum station capacity"),
    ({"household_share": 1.5}, "household share"),
])
def test_bad_inputs_name_the_parameter(kwargs, message):
    arguments = {"households": 10, "kwh_per_kwp": 1_500, **kwargs}
    with pytest.raises(ValidationError, match=message):
        size_station(**arguments)


def test_an_absurd_station_count_is_refused_not_computed():
    # Found by schemathesis: a price of 1e-218 yuan/kWh asked for 1e224 kWp, a station count
    # JSON cannot carry (the API answered 500).
    with pytest.raises(ValidationError, match="more than 1,000,000 stations"):
        size_station(households=524_289, kwh_per_kwp=1_200, price_yuan_per_kwh=1e-218, max_station_kwp=1.1)
    just_enough = size_station(households=1, kwh_per_kwp=1_000, price_yuan_per_kwh=1.0, household_share=1.0,
                               target_income_yuan_per_household=1_000_000, max_station_kwp=1.0)
    assert just_enough.stations_needed == 1_000
