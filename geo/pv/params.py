"""Defaults of the photovoltaic analyses, each with the source it comes from.

Every default here is a keyword argument of the functions that use it; nothing is fixed.
"""

from __future__ import annotations

import math

from geo.errors import ValidationError

#: Nominal inverter efficiency [-]: PVWatts v5 (Dobos 2014), ``pvlib.inverter.pvwatts``.
INVERTER_EFFICIENCY = 0.96

#: DC/AC ratio [-] (array kWp over inverter kW AC): the PVWatts v5 default.
DC_AC_RATIO = 1.2

#: Power temperature coefficient [1/°C] of a PVWatts v5 "standard" module (-0.47 %/°C).
GAMMA_PDC_PER_C = -0.0047

#: Ground albedo [-]: pvlib's default for a fixed array.
ALBEDO = 0.25

#: Price of PV electricity [yuan/kWh]: the benchmark on-grid tariff of resource zone I (all of
#: Ningxia) for PV stations from 2017 (NDRC 发改价格〔2016〕2729号: zone I 0.65, II 0.75,
#: III 0.85; 2016 had been 0.80/0.88/0.98 under 发改价格〔2015〕3044号), which village-level
#: poverty-alleviation stations kept when ordinary tariffs were cut in 2018 (发改价格规〔2017〕
#: 2196号) and 2019 (发改价格〔2019〕761号: village stations stay at 0.65/0.75/0.85).
PRICE_YUAN_PER_KWH = 0.65

#: Scale from clear-sky to typical all-sky global horizontal irradiance [-] for the estimate
#: used when no weather file is given. 0.72 brings pvlib's Ineichen clear-sky GHI at Shapotou
#: (about 2,320 kWh/m² a year at 37.5°N, 105.2°E, 1,250 m) to about 1,670 kWh/m², inside the
#: "很丰富" class (1,400-1,750 kWh/m²) of GB/T 31155-2014 that central Ningxia belongs to.
#: A regional guess, not a measurement: results built on it are labelled estimates.
CLEARSKY_FACTOR = 0.72

#: Air temperature [°C] and wind speed [m/s] for the clear-sky estimate: the values pvlib's
#: ModelChain assumes when weather data has none.
CLEARSKY_TEMP_AIR_C = 20.0
CLEARSKY_WIND_SPEED_M_S = 0.0

#: Power density of fixed-tilt ground-mounted PV [kWp DC per hectare]: 0.87 MWdc/ha
#: (0.35 MWdc/acre), the 2019 median of US utility-scale fixed-tilt plants (Bolinger and
#: Bolinger 2022, "Land Requirements for Utility-Scale PV: An Empirical Update on Power and
#: Energy Density", IEEE Journal of Photovoltaics 12(2), LBNL).
POWER_DENSITY_KWP_PER_HA = 870.0

#: Steepest terrain kept for ground-mounted PV [% slope]: NREL reV's default exclusion.
MAX_SLOPE_PCT = 5.0

#: Upper bound of one village station [kWp]: the 0.5 MW ceiling of the "村级光伏扶贫电站
#: （0.5兆瓦及以下）" tariff category (发改价格规〔2017〕2196号).
MAX_STATION_KWP = 500.0

#: Yearly PV income a beneficiary household should get [yuan/yr]: the figure the issue names
#: (about 3,000 yuan a household a year was the programme's common target).
TARGET_INCOME_YUAN_PER_HOUSEHOLD = 3_000.0

#: Model yields on this lattice [degrees] when many sites share one weather source: sites in
#: one 0.1° cell (about 10 km) get the same kWh/kWp (the clear-sky estimate varies by far less
#: than its own uncertainty over that distance).
YIELD_RESOLUTION_DEG = 0.1

TILT_RULE = (
    "Jacobson and Jadhav (2018), Solar Energy 169:55-66: 3rd-order fit of PVWatts optimal fixed "
    "tilt to latitude"
)


def default_tilt_deg(latitude: float) -> float:
    """Fixed tilt [degrees] for a site at ``latitude``, chosen for the most annual energy.

    The third-order polynomial Jacobson and Jadhav (2018) fitted to the PVWatts optimum tilt
    of every country (their northern and southern hemisphere fits; the southern one is
    written here for the absolute latitude). About 30.4° at Shapotou (37.5°N). Capped to
    0-90°.

    Parameters
    ----------
    latitude
        Site latitude [degrees north, -90..90].

    Returns
    -------
    float
        Tilt from horizontal [degrees].

    Raises
    ------
    ValidationError
        When the latitude is outside -90..90.
    """
    check_latitude(latitude)
    phi = abs(latitude)
    if latitude >= 0:
        tilt = 1.3793 + phi * (1.2011 + phi * (-0.014404 + phi * 0.000080509))
    else:
        tilt = 0.41657 + phi * (1.4216 + phi * (-0.024051 + phi * 0.00021828))
    return float(min(max(tilt, 0.0), 90.0))


def default_azimuth_deg(latitude: float) -> float:
    """Facing the equator [degrees clockwise from north]: 180 (south) north of it, else 0."""
    return 180.0 if latitude >= 0 else 0.0


# ------------------------------------------------------------------------------ checks


def check_latitude(latitude: float) -> float:
    if not _finite(latitude) or not -90 <= latitude <= 90:
        raise ValidationError(
            f"latitude {latitude!r} is out of range; give degrees north between -90 and 90 "
            "(e.g. 37.5 for Shapotou)"
        )
    return float(latitude)


def check_longitude(longitude: float) -> float:
    if not _finite(longitude) or not -180 <= longitude <= 180:
        raise ValidationError(
            f"longitude {longitude!r} is out of range; give degrees east between -180 and 180 "
            "(e.g. 105.2 for Shapotou)"
        )
    return float(longitude)


def check_positive(name: str, value: float, *, unit: str, allow_zero: bool = False) -> float:
    """``value`` as a float; a clear error when it is not a finite number above zero."""
    ok = _finite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = "zero or more" if allow_zero else "above zero"
        raise ValidationError(f"{name} {value!r} is not allowed; give a number {bound} [{unit}]")
    return float(value)


def check_range(name: str, value: float, low: float, high: float, *, unit: str) -> float:
    if not _finite(value) or not low <= value <= high:
        raise ValidationError(f"{name} {value!r} is out of range; give {low} to {high} [{unit}]")
    return float(value)


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
