"""Solar position for many sites over one year of hours, the time-only work done once.

pvlib's NREL SPA (``pvlib.solarposition.spa_python``, the ``nrel_numpy`` method ModelChain
uses) spends almost all its time on terms that depend on the instant alone: the Earth's
heliocentric position, nutation, sidereal time and the Sun's geocentric right ascension and
declination. Only the last steps (hour angle, parallax, refraction) depend on the site.

:func:`solar_position` computes the time-only terms once per index (kept per process, a few
index lengths at most) with ``pvlib.spa``'s own functions and finishes each site with them,
so a clear-sky estimate at twenty lattice points pays for the expensive part once. The
result equals ``Location.get_solarposition(times, temperature=...)`` (same algorithm, same
``delta_t`` of 67 s, pressure from the altitude as pvlib computes it).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

#: SPA defaults of ``pvlib.solarposition.spa_python``: Earth-rotation lag [s] and refraction at
#: the horizon [degrees].
DELTA_T_S = 67.0
ATMOS_REFRACT_DEG = 0.5667


@lru_cache(maxsize=8)
def _even_terms(first_ns: int, count: int, step_ns: int) -> tuple[np.ndarray, ...]:
    """:func:`_time_terms` of ``count`` instants from ``first_ns`` every ``step_ns`` [ns since
    1970, UTC], kept: every clear-sky year of one time zone has the same instants."""
    terms = _time_terms((first_ns + step_ns * np.arange(count, dtype=np.int64)) / 1e9)
    for array in terms:
        array.setflags(write=False)
    return terms


def _time_terms(unixtime: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sidereal time, right ascension, declination, equatorial horizontal parallax and equation
    of time [degrees, minutes] at ``unixtime`` [s since 1970, UTC]."""
    from pvlib import spa  # pvlib's import costs ~0.3 s: paid by the processes that compute

    jd = spa.julian_day(unixtime)
    jde = spa.julian_ephemeris_day(jd, DELTA_T_S)
    jc = spa.julian_century(jd)
    jce = spa.julian_ephemeris_century(jde)
    jme = spa.julian_ephemeris_millennium(jce)
    radius = spa.heliocentric_radius_vector(jme)
    theta = spa.geocentric_longitude(spa.heliocentric_longitude(jme))
    beta = spa.geocentric_latitude(spa.heliocentric_latitude(jme))
    x = (spa.mean_elongation(jce), spa.mean_anomaly_sun(jce), spa.mean_anomaly_moon(jce),
         spa.moon_argument_latitude(jce), spa.moon_ascending_longitude(jce))
    nutation = np.empty((2, len(x[0])))
    spa.longitude_obliquity_nutation(jce, *x, nutation)
    delta_psi, delta_epsilon = nutation
    epsilon = spa.true_ecliptic_obliquity(spa.mean_ecliptic_obliquity(jme), delta_epsilon)
    lamd = spa.apparent_sun_longitude(theta, delta_psi, spa.aberration_correction(radius))
    sidereal = spa.apparent_sidereal_time(spa.mean_sidereal_time(jd, jc), delta_psi, epsilon)
    alpha = spa.geocentric_sun_right_ascension(lamd, epsilon, beta)
    delta = spa.geocentric_sun_declination(lamd, epsilon, beta)
    eot = spa.equation_of_time(spa.sun_mean_longitude(jme), alpha, delta_psi, epsilon)
    return sidereal, alpha, delta, spa.equatorial_horizontal_parallax(radius), eot


def solar_position(times: pd.DatetimeIndex, *, latitude: float, longitude: float, altitude_m: float,
                   temperature_c: float | np.ndarray = 12.0) -> pd.DataFrame:
    """Solar position at one site, as ``pvlib.location.Location.get_solarposition`` gives it.

    Parameters
    ----------
    times
        Evenly spaced, time-zone aware instants.
    latitude, longitude
        Site [degrees north, degrees east].
    altitude_m
        Site altitude [m] (pressure from it with ``pvlib.atmosphere.alt2pres``).
    temperature_c
        Air temperature for the refraction [°C], one value or one per instant.

    Returns
    -------
    pandas.DataFrame
        ``apparent_zenith, zenith, apparent_elevation, elevation, azimuth`` [degrees] and
        ``equation_of_time`` [minutes], indexed by ``times``.
    """
    from pvlib import atmosphere, spa

    utc = times.tz_convert("UTC") if times.tz is not None else times.tz_localize("UTC")
    stamps = utc.asi8 if utc.unit == "ns" else utc.as_unit("ns").asi8
    steps = np.diff(stamps)
    if len(stamps) > 1 and np.all(steps == steps[0]):
        sidereal, alpha, delta, xi, eot = _even_terms(int(stamps[0]), len(stamps), int(steps[0]))
    else:  # not evenly spaced: nothing to share, the same algorithm
        sidereal, alpha, delta, xi, eot = _time_terms(stamps / 1e9)
    pressure_mbar = atmosphere.alt2pres(altitude_m) / 100.0
    hour_angle = spa.local_hour_angle(sidereal, longitude, alpha)
    u = spa.uterm(latitude)
    x = spa.xterm(u, latitude, altitude_m)
    y = spa.yterm(u, latitude, altitude_m)
    delta_alpha = spa.parallax_sun_right_ascension(x, xi, hour_angle, delta)
    delta_prime = spa.topocentric_sun_declination(delta, x, y, xi, delta_alpha, hour_angle)
    h_prime = spa.topocentric_local_hour_angle(hour_angle, delta_alpha)
    e0 = spa.topocentric_elevation_angle_without_atmosphere(latitude, delta_prime, h_prime)
    delta_e = spa.atmospheric_refraction_correction(pressure_mbar, np.asarray(temperature_c, dtype=float), e0,
                                                    ATMOS_REFRACT_DEG)
    e = spa.topocentric_elevation_angle(e0, delta_e)
    gamma = spa.topocentric_astronomers_azimuth(h_prime, delta_prime, latitude)
    return pd.DataFrame({
        "apparent_zenith": spa.topocentric_zenith_angle(e), "zenith": spa.topocentric_zenith_angle(e0),
        "apparent_elevation": e, "elevation": e0, "azimuth": spa.topocentric_azimuth_angle(gamma),
        "equation_of_time": eot,
    }, index=times)

