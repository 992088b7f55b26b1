"""Sizing a station of a category: the kWp that pays each beneficiary household a target income.

capacity_kwp = households x target income / (kWh/kWp x price x household share), where the
household share is what the category's income distribution pays households (direct payments
plus 公益岗位 wages, :class:`geo.pv.params.IncomeDistribution`), then capped at the upper
bound of one station; when capped, the result says how many stations (of at most that size)
the households need, and what one capped station pays each household. The land it takes is
capacity x the category's land use per kWp.
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
    category
        Station category (``household``, ``village``, ``centralized``).
    land_m2
        Ground the proposed station takes [m²] (0 on a roof).
    public_posts
        公益岗位 its income pays a year.
    collective_yuan_per_year, operator_yuan_per_year
        Its income to the village collective's public works, and to O&M, the grid fee (and a
        centralized station's investor) [yuan/yr].
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
    category: str = params.DEFAULT_CATEGORY
    land_m2: float = 0.0
    public_posts: int = 0
    collective_yuan_per_year: float = 0.0
    operator_yuan_per_year: float = 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("required_kwp", "capacity_kwp", "kwp_per_household", "annual_kwh", "income_yuan_per_year",
                    "income_yuan_per_household", "kwh_per_kwp", "land_m2", "collective_yuan_per_year",
                    "operator_yuan_per_year"):
            data[key] = round(data[key], 2)
        return data


#: More stations than this for one village is a mistake in the inputs, not a plan.
MAX_STATIONS = 1_000_000


def size_station(
    *,
    households: int,
    kwh_per_kwp: float,
    category: str | params.StationCategory = params.DEFAULT_CATEGORY,
    target_income_yuan_per_household: float = params.TARGET_INCOME_YUAN_PER_HOUSEHOLD,
    price_yuan_per_kwh: float | None = None,
    max_station_kwp: float | None = None,
    distribution: params.IncomeDistribution | None = None,
    household_share: float | None = None,
    is_estimate: bool = False,
) -> StationSize:
    """The kWp a station needs so that each beneficiary household gets the target income.

    Parameters
    ----------
    households
        Beneficiary households, 1 or more.
    kwh_per_kwp
        Specific yield at the site [kWh/kWp/yr] (:func:`geo.pv.yield_model.estimate_yield`).
    target_income_yuan_per_household
        Income each household should get [yuan/yr] (default 3,000).
    category
        Station category (:data:`geo.pv.params.CATEGORIES`, default ``village``).
    price_yuan_per_kwh
        Price [yuan/kWh]; default the category's tariff (0.65 for a village station).
    max_station_kwp
        Upper bound of one station [kWp]; default the category's (500 for a village station).
    distribution
        How the income is split; default the category's.
    household_share
        Share of the income reaching households, above 0 and at most 1 [-]; default the
        distribution's (direct payments plus 公益岗位 wages).
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
    kind = category if isinstance(category, params.StationCategory) else params.station_category(category)
    distribution = distribution or kind.distribution
    price_yuan_per_kwh = kind.price_yuan_per_kwh if price_yuan_per_kwh is None else price_yuan_per_kwh
    max_station_kwp = kind.max_kwp if max_station_kwp is None else max_station_kwp
    household_share = distribution.to_households if household_share is None else household_share
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
    split = distribution.split(income)
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
        category=kind.name,
        land_m2=capacity * kind.land_m2_per_kwp,
        public_posts=int(split["public_posts"]),
        collective_yuan_per_year=float(split["collective_yuan_per_year"]),
        operator_yuan_per_year=float(split["operator_yuan_per_year"]),
    )
