"""Sizing a village station: the kWp that pays each beneficiary household a target income.

capacity_kwp = households x target income / (kWh/kWp x price x household share), then capped
at the upper bound of one station; when capped, the result says how many stations (of at
most that size) the households need, and what one capped station pays each household.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from geo.errors import ValidationError
from geo.pv import params


@dataclass(frozen=True)
class StationSize:
    """Result of :func:`size_station`.

    Attributes
    ----------
    households
        Beneficiary households.
    target_income_yuan_per_household
        Income each should get [yuan/yr].
    kwh_per_kwp, price_yuan_per_kwh, household_share
        Specific yield [kWh/kWp/yr], price [yuan/kWh] and the share of the station's income
        paid out to households [-] (the rest stays with the village collective).
    required_kwp
        Capacity the target needs [kWp], before the cap.
    capacity_kwp
        Capacity of the station proposed [kWp] (``min(required_kwp, max_station_kwp)``).
    max_station_kwp
        Upper bound of one station [kWp].
    capped
        True when the target needs more than one station of the upper bound.
    stations_needed
        Stations of at most ``max_station_kwp`` that reach the target.
    kwp_per_household
        ``required_kwp / households`` [kWp].
    annual_kwh, income_yuan_per_year
        Energy [kWh/yr] and income [yuan/yr] of the proposed station.
    income_yuan_per_household
        What each household gets from the proposed station [yuan/yr].
    is_estimate
        True when ``kwh_per_kwp`` came from the clear-sky estimate.
    """

    households: int
    target_income_yuan_per_household: float
    kwh_per_kwp: float
    price_yuan_per_kwh: float
    household_share: float
    required_kwp: float
    capacity_kwp: float
    max_station_kwp: float
    capped: bool
    stations_needed: int
    kwp_per_household: float
    annual_kwh: float
    income_yuan_per_year: float
    income_yuan_per_household: float
    is_estimate: bool

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("required_kwp", "capacity_kwp", "kwp_per_household", "annual_kwh", "income_yuan_per_year",
                    "income_yuan_per_household", "kwh_per_kwp"):
            data[key] = round(data[key], 2)
        return data


#: More stations than this for one village is a mistake in the inputs, not a plan.
MAX_STATIONS = 1_000_000


def size_station(
    *,
    households: int,
    kwh_per_kwp: float,
    target_income_yuan_per_household: float = params.TARGET_INCOME_YUAN_PER_HOUSEHOLD,
    price_yuan_per_kwh: float = params.PRICE_YUAN_PER_KWH,
    max_station_kwp: float = params.MAX_STATION_KWP,
    household_share: float = 1.0,
    is_estimate: bool = False,
) -> StationSize:
    """The kWp a village station needs so that each beneficiary household gets the target income.

    Parameters
    ----------
    households
        Beneficiary households, 1 or more.
    kwh_per_kwp
        Specific yield at the site [kWh/kWp/yr] (:func:`geo.pv.yield_model.estimate_yield`).
    target_income_yuan_per_household
        Income each household should get [yuan/yr] (default 3,000).
    price_yuan_per_kwh
        Price [yuan/kWh] (default :data:`geo.pv.params.PRICE_YUAN_PER_KWH`).
    max_station_kwp
        Upper bound of one station [kWp] (default 500: the 0.5 MW village-station category).
    household_share
        Share of the income paid to households, above 0 and at most 1 [-].
    is_estimate
        Whether ``kwh_per_kwp`` is an estimate (carried into the result).

    Returns
    -------
    StationSize

    Raises
    ------
    ValidationError
        A parameter out of range, naming it.
    """
    if int(households) != households or households < 1:
        raise ValidationError(f"households {households!r} is not allowed; give a whole number, 1 or more")
    households = int(households)
    kwh_per_kwp = params.check_positive("kWh/kWp", kwh_per_kwp, unit="kWh/kWp/yr")
    target = params.check_positive("target income", target_income_yuan_per_household, unit="yuan/yr per household")
    price = params.check_positive("price", price_yuan_per_kwh, unit="yuan/kWh")
    cap = params.check_positive("maximum station capacity", max_station_kwp, unit="kWp")
    if not (params._finite(household_share) and 0 < household_share <= 1):
        raise ValidationError(f"household share {household_share!r} is out of range; give a fraction above 0, at most 1")
    income_per_kwp = kwh_per_kwp * price * household_share
    required = households * target / income_per_kwp if income_per_kwp > 0 else math.inf
    if not math.isfinite(required):
        raise ValidationError(f"no station reaches the target: each kWp earns households {income_per_kwp:.3g} "
                              "yuan a year here; give a larger household share, price or a sunnier site")
    if not math.isfinite(required / cap) or required / cap > MAX_STATIONS:
        raise ValidationError(f"the target needs {required:.3g} kWp, more than {MAX_STATIONS:,} stations of {cap!r} kWp; "
                              "check the price, the household share and the station limit")
    capacity = min(required, cap)
    annual_kwh = capacity * kwh_per_kwp
    income = annual_kwh * price
    return StationSize(
        households=households,
        target_income_yuan_per_household=target,
        kwh_per_kwp=kwh_per_kwp,
        price_yuan_per_kwh=price,
        household_share=float(household_share),
        required_kwp=required,
        capacity_kwp=capacity,
        max_station_kwp=cap,
        capped=required > cap,
        stations_needed=max(1, math.ceil(required / cap - 1e-9)),
        kwp_per_household=required / households,
        annual_kwh=annual_kwh,
        income_yuan_per_year=income,
        income_yuan_per_household=income * household_share / households,
        is_estimate=bool(is_estimate),
    )
