"""Yield and income of a fixed PV system, on pvlib's PVWatts models.

All irradiance and power physics is pvlib's, the chain ``ModelChain.with_pvwatts`` runs, called
step by step on NumPy arrays (the same functions, the same results, about five times faster
than through ModelChain's pandas bookkeeping, which mattered for the PV map's first view):
NREL SPA solar position (:mod:`geo.pv.sun`, shared across sites), Kasten-Young air mass, Perez
transposition, the physical incidence-angle modifier, the SAPM cell temperature model, PVWatts
DC (``pvlib.pvsystem.pvwatts_dc``), PVWatts system losses (``pvlib.pvsystem.pvwatts_losses``,
14.08 % with its defaults) and the PVWatts inverter (``pvlib.inverter.pvwatts``). This module
chooses the inputs, sums the energy and prices it.

Public functions:

- :func:`simulate`: the hourly power of one system over a weather year;
- :func:`estimate_yield`: annual and monthly energy, kWh/kWp, capacity factor and income;
- :func:`specific_yields`: kWh/kWp for many sites at once (sites on one lattice cell share a run;
  clear-sky estimates are kept per process, so the PV review, the PV map and siting share them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.cache import BoundedCache
from geo.errors import ValidationError
from geo.pv import params
from geo.pv.sun import solar_position
from geo.pv.weather import (
    FAR_STATION_KM,
    MAX_STATION_KM,
    Weather,
    clearsky_weather,
    distance_km,
    interval_hours,
    read_weather,
    site_altitude_m,
    year_scale,
)

# pvlib is imported in the functions that compute: its import costs ~0.3 s to every process
# that imports this module (the API server, most commands) whether or not it computes a yield.
# The two pvlib figures below are written out for that reason; a test checks them against pvlib.

#: The cell temperature model PVWatts v5 corresponds to (open rack, glass/polymer module):
#: pvlib's ``TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]``.
TEMPERATURE_PARAMETERS = {"a": -3.56, "b": -0.075, "deltaT": 3}
#: The PVWatts loss components (pvlib defaults), ``float(pvlib.pvsystem.pvwatts_losses())`` [%].
PVWATTS_DEFAULT_LOSSES_PCT = 14.075660688264469

#: Lattice points whose clear-sky specific yield one process keeps (a float each; a county
#: at 0.25° holds a few dozen, a province a few thousand).
YIELD_CACHE_SIZE = 4096

MONTH_LABELS = ("1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月")


@dataclass(frozen=True)
class SystemSpec:
    """A fixed, ground- or roof-mounted PV system (the parameters pvlib's PVWatts models take).

    Attributes
    ----------
    capacity_kwp
        DC nameplate [kWp].
    tilt_deg
        Tilt from horizontal [degrees].
    azimuth_deg
        Facing [degrees clockwise from north; 180 = south].
    losses_pct
        PVWatts system losses [%]; pvlib's ``pvwatts_losses()`` defaults give 14.08.
    inverter_efficiency
        Nominal inverter efficiency [-].
    dc_ac_ratio
        Array kWp over inverter kW AC [-].
    gamma_pdc_per_c
        Power temperature coefficient [1/°C].
    albedo
        Ground reflectance [-].
    """

    capacity_kwp: float
    tilt_deg: float
    azimuth_deg: float
    losses_pct: float = PVWATTS_DEFAULT_LOSSES_PCT
    inverter_efficiency: float = params.INVERTER_EFFICIENCY
    dc_ac_ratio: float = params.DC_AC_RATIO
    gamma_pdc_per_c: float = params.GAMMA_PDC_PER_C
    albedo: float = params.ALBEDO

    @property
    def inverter_ac_kw(self) -> float:
        """Inverter AC rating [kW] = capacity_kwp / dc_ac_ratio."""
        return self.capacity_kwp / self.dc_ac_ratio


def system_spec(
    *,
    latitude: float,
    capacity_kwp: float,
    tilt_deg: float | None = None,
    azimuth_deg: float | None = None,
    losses_pct: float | None = None,
    inverter_efficiency: float = params.INVERTER_EFFICIENCY,
    dc_ac_ratio: float = params.DC_AC_RATIO,
    gamma_pdc_per_c: float = params.GAMMA_PDC_PER_C,
    albedo: float = params.ALBEDO,
) -> SystemSpec:
    """A checked :class:`SystemSpec`; tilt and azimuth default to the latitude rule and the equator.

    Raises
    ------
    ValidationError
        Naming the parameter, its bad value and the allowed range.
    """
    params.check_latitude(latitude)
    capacity_kwp = params.check_positive("capacity", capacity_kwp, unit="kWp")
    tilt = params.default_tilt_deg(latitude) if tilt_deg is None else params.check_range(
        "tilt", tilt_deg, 0, 90, unit="degrees from horizontal")
    azimuth = params.default_azimuth_deg(latitude) if azimuth_deg is None else params.check_range(
        "azimuth", azimuth_deg, 0, 360, unit="degrees clockwise from north, 180 = south")
    losses = PVWATTS_DEFAULT_LOSSES_PCT if losses_pct is None else params.check_range(
        "losses", losses_pct, 0, 99, unit="%")
    return SystemSpec(
        capacity_kwp=capacity_kwp,
        tilt_deg=tilt,
        azimuth_deg=azimuth,
        losses_pct=losses,
        inverter_efficiency=params.check_range("inverter efficiency", inverter_efficiency, 0.5, 1.0, unit="-"),
        dc_ac_ratio=params.check_range("DC/AC ratio", dc_ac_ratio, 0.5, 3.0, unit="kWp per kW AC"),
        gamma_pdc_per_c=params.check_range("gamma_pdc", gamma_pdc_per_c, -0.02, 0.0, unit="1/°C"),
        albedo=params.check_range("albedo", albedo, 0.0, 1.0, unit="-"),
    )


def _losses_parameters(losses_pct: float) -> dict[str, float]:
    """``pvwatts_losses`` keywords giving ``losses_pct`` in total (pvlib's own components when
    the total is pvlib's default, else the whole figure as one component)."""
    if np.isclose(losses_pct, PVWATTS_DEFAULT_LOSSES_PCT):
        return {}
    zero = dict.fromkeys(("soiling", "shading", "snow", "mismatch", "wiring", "connections",
                          "lid", "nameplate_rating", "age", "availability"), 0.0)
    return {**zero, "availability": float(losses_pct)}


def simulate(
    weather: Weather,
    system: SystemSpec,
    *,
    latitude: float,
    longitude: float,
    altitude_m: float,
) -> pd.DataFrame:
    """Hourly power of one system over a weather year (the ``ModelChain.with_pvwatts`` chain).

    Parameters
    ----------
    weather
        From :func:`~geo.pv.weather.read_weather` or :func:`~geo.pv.weather.clearsky_weather`
        (whose solar position, computed for the same site, is reused).
    system
        The system (:func:`system_spec`).
    latitude, longitude, altitude_m
        The site [degrees north, degrees east, m].

    Returns
    -------
    pandas.DataFrame
        Indexed like ``weather.data``: ``poa_global`` [W/m²], ``cell_temperature`` [°C],
        ``dc_kw`` (after PVWatts losses) and ``ac_kw`` [kW].
    """
    from pvlib import atmosphere, iam, inverter, irradiance, temperature
    from pvlib.pvsystem import pvwatts_dc, pvwatts_losses

    data = weather.data
    times = data.index
    temp_air = data["temp_air"].to_numpy(dtype=float)
    same_site = (weather.latitude, weather.longitude, weather.altitude_m) == (latitude, longitude, altitude_m)
    sun = weather.solar_position if same_site and weather.solar_position is not None else solar_position(
        times, latitude=latitude, longitude=longitude, altitude_m=altitude_m, temperature_c=temp_air)
    zenith = sun["apparent_zenith"].to_numpy()
    azimuth = sun["azimuth"].to_numpy()
    poa = irradiance.get_total_irradiance(
        system.tilt_deg, system.azimuth_deg, zenith, azimuth, data["dni"].to_numpy(dtype=float),
        data["ghi"].to_numpy(dtype=float), data["dhi"].to_numpy(dtype=float),
        dni_extra=irradiance.get_extra_radiation(times).to_numpy(),
        airmass=atmosphere.get_relative_airmass(zenith), albedo=system.albedo, model="perez")
    aoi = irradiance.aoi(system.tilt_deg, system.azimuth_deg, zenith, azimuth)
    effective = poa["poa_direct"] * iam.physical(aoi) + poa["poa_diffuse"]
    cell = temperature.sapm_cell(poa["poa_global"], temp_air, data["wind_speed"].to_numpy(dtype=float),
                                 **TEMPERATURE_PARAMETERS)
    dc_w = pvwatts_dc(effective, cell, system.capacity_kwp * 1000.0, system.gamma_pdc_per_c)
    dc_w = dc_w * (1.0 - pvwatts_losses(**_losses_parameters(system.losses_pct)) / 100.0)
    # pvlib.inverter.pvwatts takes the inverter's DC input limit: AC rating / efficiency
    ac_w = inverter.pvwatts(dc_w, system.inverter_ac_kw * 1000.0 / system.inverter_efficiency,
                            eta_inv_nom=system.inverter_efficiency)
    return pd.DataFrame({
        "poa_global": np.nan_to_num(poa["poa_global"]),
        "cell_temperature": cell,
        "dc_kw": np.nan_to_num(dc_w) / 1000.0,
        "ac_kw": np.clip(np.nan_to_num(ac_w), 0.0, None) / 1000.0,
    }, index=times)


@dataclass(frozen=True)
class YieldResult:
    """Energy and income of one system over a typical year.

    Attributes
    ----------
    latitude, longitude, altitude_m
        The site [degrees north, degrees east, m].
    capacity_kwp, tilt_deg, azimuth_deg, losses_pct, inverter_efficiency, dc_ac_ratio
        The system as modelled [kWp, degrees, degrees, %, -, -].
    tilt_rule
        Where the tilt came from (the latitude rule or "given").
    annual_kwh
        AC energy of the year [kWh/yr].
    kwh_per_kwp
        Specific yield [kWh/kWp/yr].
    capacity_factor
        ``annual_kwh / (capacity_kwp * 8760)`` [-] (on DC nameplate, as PVWatts reports it).
    monthly_kwh
        AC energy per calendar month 1..12 [kWh].
    annual_ghi_kwh_m2, annual_poa_kwh_m2
        Irradiation on the horizontal and in the plane of the array [kWh/m²/yr].
    price_yuan_per_kwh, income_yuan_per_year
        Price used [yuan/kWh] and ``annual_kwh * price`` [yuan/yr].
    beneficiary_households, income_yuan_per_household_per_year
        Households sharing the income and each one's share [yuan/yr] (None when not given).
    is_estimate
        True when the weather was the clear-sky estimate.
    weather_format, weather_source, weather_label
        Which weather produced the figures; ``weather_label`` says "估算值 (estimate)" for the
        clear-sky estimate.
    notes
        Everything a reader should know about the inputs.
    """

    latitude: float
    longitude: float
    altitude_m: float
    capacity_kwp: float
    tilt_deg: float
    azimuth_deg: float
    tilt_rule: str
    losses_pct: float
    inverter_efficiency: float
    dc_ac_ratio: float
    annual_kwh: float
    kwh_per_kwp: float
    capacity_factor: float
    monthly_kwh: dict[int, float]
    annual_ghi_kwh_m2: float
    annual_poa_kwh_m2: float
    price_yuan_per_kwh: float
    income_yuan_per_year: float
    beneficiary_households: int | None
    income_yuan_per_household_per_year: float | None
    is_estimate: bool
    weather_format: str
    weather_source: str
    weather_label: str
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """JSON-ready dict; months keyed "1".."12"; an ``estimate`` block when estimated."""
        data = asdict(self)
        data["monthly_kwh"] = {str(m): round(v, 1) for m, v in self.monthly_kwh.items()}
        data["notes"] = list(self.notes)
        for key in ("annual_kwh", "kwh_per_kwp", "income_yuan_per_year", "annual_ghi_kwh_m2", "annual_poa_kwh_m2"):
            data[key] = round(data[key], 1)
        data["capacity_factor"] = round(self.capacity_factor, 4)
        if self.income_yuan_per_household_per_year is not None:
            data["income_yuan_per_household_per_year"] = round(self.income_yuan_per_household_per_year, 1)
        return data


def _weather_for(
    weather: Weather | str | Path | None, latitude: float, longitude: float, altitude_m: float,
    clearsky_factor: float, climate: params.MonthlyClimate | None = None,
) -> Weather:
    if weather is None:
        return clearsky_weather(latitude, longitude, altitude_m, factor=clearsky_factor, climate=climate)
    if isinstance(weather, Weather):
        return weather
    return read_weather(weather)


def estimate_yield(
    *,
    latitude: float,
    longitude: float,
    capacity_kwp: float,
    altitude_m: float | None = None,
    tilt_deg: float | None = None,
    azimuth_deg: float | None = None,
    weather: Weather | str | Path | None = None,
    clearsky_factor: float = params.CLEARSKY_FACTOR,
    climate: params.MonthlyClimate | None = None,
    price_yuan_per_kwh: float = params.PRICE_YUAN_PER_KWH,
    beneficiary_households: int | None = None,
    losses_pct: float | None = None,
    inverter_efficiency: float = params.INVERTER_EFFICIENCY,
    dc_ac_ratio: float = params.DC_AC_RATIO,
    gamma_pdc_per_c: float = params.GAMMA_PDC_PER_C,
    albedo: float = params.ALBEDO,
) -> YieldResult:
    """Annual and monthly AC energy, specific yield, capacity factor and income of one system.

    Parameters
    ----------
    latitude, longitude
        Site [degrees north, -90..90; degrees east, -180..180].
    capacity_kwp
        DC nameplate [kWp], above zero.
    altitude_m
        Site altitude [m]; default: the weather file's, else pvlib's altitude map.
    tilt_deg
        Tilt [degrees]; default :func:`geo.pv.params.default_tilt_deg` (Jacobson and Jadhav 2018).
    azimuth_deg
        Facing [degrees clockwise from north]; default 180 (south) north of the equator.
    weather
        A :class:`~geo.pv.weather.Weather`, or the path of a weather file pvlib reads; None:
        the clear-sky **estimate** (:func:`~geo.pv.weather.clearsky_weather`).
    clearsky_factor
        Regional factor of the clear-sky estimate [-].
    climate
        Monthly air temperature and wind of the clear-sky estimate; default
        :data:`geo.pv.params.SHAPOTOU_CLIMATE`.
    price_yuan_per_kwh
        Price of the electricity [yuan/kWh]; default :data:`geo.pv.params.PRICE_YUAN_PER_KWH`.
    beneficiary_households
        Households sharing the income (for the per-household figure).
    losses_pct
        PVWatts system losses [%]; default pvlib's ``pvwatts_losses()`` (14.08 %).
    inverter_efficiency, dc_ac_ratio, gamma_pdc_per_c, albedo
        See :class:`SystemSpec`.

    Returns
    -------
    YieldResult

    Raises
    ------
    ValidationError
        A parameter out of range (naming it), a weather file that cannot be read, or one whose
        station is more than :data:`~geo.pv.weather.MAX_STATION_KM` from the site.
    """
    latitude = params.check_latitude(latitude)
    longitude = params.check_longitude(longitude)
    system = system_spec(
        latitude=latitude, capacity_kwp=capacity_kwp, tilt_deg=tilt_deg, azimuth_deg=azimuth_deg,
        losses_pct=losses_pct, inverter_efficiency=inverter_efficiency, dc_ac_ratio=dc_ac_ratio,
        gamma_pdc_per_c=gamma_pdc_per_c, albedo=albedo,
    )
    price = params.check_positive("price", price_yuan_per_kwh, unit="yuan/kWh", allow_zero=True)
    if beneficiary_households is not None:
        if int(beneficiary_households) != beneficiary_households or beneficiary_households < 0:
            raise ValidationError(
                f"beneficiary households {beneficiary_households!r} is not allowed; give a whole number, 0 or more"
            )
        beneficiary_households = int(beneficiary_households)
    notes: list[str] = []
    if isinstance(weather, (str, Path)):
        weather = read_weather(weather)
    if altitude_m is None and isinstance(weather, Weather) and weather.altitude_m is not None \
            and not weather.is_estimate:
        altitude = weather.altitude_m
    else:
        altitude = site_altitude_m(latitude, longitude, altitude_m)
        if altitude_m is None:
            notes.append(f"altitude {altitude:.0f} m from pvlib's coarse altitude map (±100 m)")
    weather = _weather_for(weather, latitude, longitude, altitude, clearsky_factor, climate)
    notes.extend(weather.notes)
    if not weather.is_estimate and weather.latitude is not None and weather.longitude is not None:
        away = distance_km(latitude, longitude, weather.latitude, weather.longitude)
        if away > MAX_STATION_KM:
            raise ValidationError(
                f"{weather.source}: the weather station ({weather.latitude:.2f}, {weather.longitude:.2f}) is "
                f"{away:,.0f} km from the site ({latitude:.2f}, {longitude:.2f}), more than {MAX_STATION_KM:,.0f} km: "
                "its hours of sunshine and its climate are not the site's. Give a typical year for a station near "
                "the site (e.g. a PVGIS TMY file for its latitude and longitude), or no file for the clear-sky "
                "estimate")
        if away > FAR_STATION_KM:
            notes.append(
                f"the weather file's station is {away:,.0f} km from the site; its sunshine may not be the site's"
            )
    if tilt_deg is None:
        notes.append(f"tilt {system.tilt_deg:.1f}° from the latitude rule ({params.TILT_RULE})")

    hourly = simulate(weather, system, latitude=latitude, longitude=longitude, altitude_m=altitude)
    return _summarise(hourly, weather, system, latitude=latitude, longitude=longitude, altitude_m=altitude,
                      tilt_given=tilt_deg is not None, price=price, households=beneficiary_households,
                      notes=notes)


def _summarise(hourly, weather, system, *, latitude, longitude, altitude_m, tilt_given, price, households,
               notes) -> YieldResult:
    hours = interval_hours(hourly.index)
    scale = year_scale(hourly.index)
    energy_kwh = hourly["ac_kw"] * hours * scale
    annual_kwh = float(energy_kwh.sum())
    monthly = energy_kwh.groupby(hourly.index.month).sum()
    monthly_kwh = {int(m): float(monthly.get(m, 0.0)) for m in range(1, 13)}
    if not np.isclose(scale, 1.0, atol=0.01):
        notes = [*notes, f"the weather covers {len(hourly) * hours:,.0f} h; totals scaled to 8,760 h"]
    income = annual_kwh * price
    per_household = income / households if households else None
    return YieldResult(
        latitude=latitude,
        longitude=longitude,
        altitude_m=float(altitude_m),
        capacity_kwp=system.capacity_kwp,
        tilt_deg=system.tilt_deg,
        azimuth_deg=system.azimuth_deg,
        tilt_rule="given" if tilt_given else params.TILT_RULE,
        losses_pct=system.losses_pct,
        inverter_efficiency=system.inverter_efficiency,
        dc_ac_ratio=system.dc_ac_ratio,
        annual_kwh=annual_kwh,
        kwh_per_kwp=annual_kwh / system.capacity_kwp,
        capacity_factor=annual_kwh / (system.capacity_kwp * 8760.0),
        monthly_kwh=monthly_kwh,
        annual_ghi_kwh_m2=weather.annual_ghi_kwh_m2,
        annual_poa_kwh_m2=float(hourly["poa_global"].clip(lower=0).sum() * hours * scale / 1000.0),
        price_yuan_per_kwh=price,
        income_yuan_per_year=income,
        beneficiary_households=households,
        income_yuan_per_household_per_year=per_household,
        is_estimate=weather.is_estimate,
        weather_format=weather.format,
        weather_source=weather.source,
        weather_label=weather.label,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class SpecificYields:
    """kWh/kWp for many sites (:func:`specific_yields`).

    Attributes
    ----------
    kwh_per_kwp
        One value per site [kWh/kWp/yr].
    is_estimate
        True when the clear-sky estimate was used.
    weather_label
        What the weather was (estimates say so).
    runs
        How many lattice points were modelled (sites on one lattice cell share a run).
    cached
        Of them, how many came from the process's cache of clear-sky yields (no pvlib run).
    """

    kwh_per_kwp: np.ndarray
    is_estimate: bool
    weather_label: str
    runs: int
    cached: int = 0


def specific_yields(
    latitudes: Sequence[float] | np.ndarray,
    longitudes: Sequence[float] | np.ndarray,
    *,
    altitudes_m: Sequence[float] | np.ndarray | None = None,
    weather: Weather | str | Path | None = None,
    resolution_deg: float = params.YIELD_RESOLUTION_DEG,
    altitude_step_m: float = 100.0,
    clearsky_factor: float = params.CLEARSKY_FACTOR,
    climate: params.MonthlyClimate | None = None,
    tilt_deg: float | None = None,
    azimuth_deg: float | None = None,
    losses_pct: float | None = None,
    inverter_efficiency: float = params.INVERTER_EFFICIENCY,
    dc_ac_ratio: float = params.DC_AC_RATIO,
) -> SpecificYields:
    """Specific yield [kWh/kWp/yr] for many sites, one pvlib run per lattice cell.

    Sites are snapped to a ``resolution_deg`` lattice (and altitudes to ``altitude_step_m``);
    each distinct lattice point is modelled once with :func:`estimate_yield` for 1 kWp, with
    the tilt rule of its latitude unless ``tilt_deg`` is given. ``resolution_deg=0`` models
    every distinct site.

    With the clear-sky estimate (``weather=None``) a lattice point's yield depends on the
    point and the options only, so it is kept for the life of the process (at most
    :data:`YIELD_CACHE_SIZE` points, least recently used dropped first): the PV review, the
    PV map and siting then share their runs, and a repeated page view runs pvlib no more.
    Yields from a weather file are modelled anew on each call.

    Parameters
    ----------
    latitudes, longitudes
        Sites [degrees north, degrees east].
    altitudes_m
        Site altitudes [m]; default pvlib's altitude map at each lattice point.
    weather
        One weather file (or :class:`Weather`) for all sites; None: the clear-sky estimate at
        each lattice point.
    resolution_deg
        Lattice spacing [degrees].
    altitude_step_m
        Altitude rounding [m].
    climate
        Monthly air temperature and wind of the clear-sky estimate (default Shapotou's).

    Returns
    -------
    SpecificYields
    """
    lat = np.asarray(latitudes, dtype=float)
    lon = np.asarray(longitudes, dtype=float)
    if lat.shape != lon.shape:
        raise ValidationError("latitudes and longitudes must have the same length")
    alt = None if altitudes_m is None else np.asarray(altitudes_m, dtype=float)
    if isinstance(weather, (str, Path)):
        weather = read_weather(weather)
    if resolution_deg and resolution_deg > 0:
        key_lat = np.round(lat / resolution_deg) * resolution_deg
        key_lon = np.round(lon / resolution_deg) * resolution_deg
    else:
        key_lat, key_lon = lat, lon
    key_alt = None
    if alt is not None:
        key_alt = np.where(np.isfinite(alt), np.round(alt / altitude_step_m) * altitude_step_m, np.nan)
    out = np.full(lat.shape, np.nan)
    cache: dict[tuple, float] = {}  # this call's lattice points
    label = None
    cached = 0
    estimate = weather is None or (isinstance(weather, Weather) and weather.is_estimate)
    options = (("clearsky_factor", float(clearsky_factor)), ("climate", climate), ("tilt_deg", _option(tilt_deg)),
               ("azimuth_deg", _option(azimuth_deg)), ("losses_pct", _option(losses_pct)),
               ("inverter_efficiency", float(inverter_efficiency)), ("dc_ac_ratio", float(dc_ac_ratio)))
    for i in range(lat.size):
        a = None if key_alt is None or not np.isfinite(key_alt[i]) else float(key_alt[i])
        key = (round(float(key_lat[i]), 6), round(float(key_lon[i]), 6), a)
        if key not in cache:
            kept = _CLEARSKY_YIELDS.get((key, options)) if weather is None else None
            if kept is not None:
                cached += 1
            else:
                result = estimate_yield(latitude=key[0], longitude=key[1], altitude_m=a, capacity_kwp=1.0,
                                        weather=weather, **dict(options))
                kept = result.kwh_per_kwp, result.weather_label
                if weather is None:
                    _CLEARSKY_YIELDS.put((key, options), kept)
            cache[key], label = kept
        out[i] = cache[key]
    if label is None:
        label = weather.label if isinstance(weather, Weather) else "估算值 (estimate)"
    return SpecificYields(kwh_per_kwp=out, is_estimate=estimate, weather_label=label, runs=len(cache),
                          cached=cached)


def _option(value: float | None) -> float | None:
    return None if value is None else float(value)


#: Clear-sky yields by (lattice point, options): the estimate depends on these alone.
_CLEARSKY_YIELDS: BoundedCache[tuple[float, str]] = BoundedCache(YIELD_CACHE_SIZE)


def clear_yield_cache() -> None:
    """Forget the clear-sky yields kept by :func:`specific_yields` (tests, benchmarks)."""
    _CLEARSKY_YIELDS.clear()
