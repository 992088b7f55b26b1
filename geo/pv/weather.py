"""Weather for the yield model: a file pvlib reads, or pvlib's clear-sky estimate.

Two sources, one result type (:class:`Weather`):

- :func:`read_weather`: a typical-year file in a format pvlib's ``iotools`` reads (TMY3 CSV,
  TMY2, EPW, PVGIS TMY CSV or JSON);
- :func:`clearsky_weather`: pvlib's Ineichen clear-sky model with its bundled Linke turbidity
  climatology, scaled to all-sky by a regional factor. This is an **estimate** and says so
  (``Weather.is_estimate``, ``Weather.label``), and so does every result built on it.

Frames hold ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C] and ``wind_speed`` [m/s],
indexed by time-zone aware timestamps at the middle of each interval (pvlib's solar
position is taken at those instants).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from geo.errors import ValidationError
from geo.pv import params
from geo.pv.sun import solar_position as shared_solar_position

WeatherFormat = Literal["tmy3", "tmy2", "epw", "pvgis_csv", "pvgis_json", "clearsky"]

#: Columns the yield model uses.
COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
#: Chinese and English label every clear-sky result carries.
ESTIMATE_LABEL = "估算值：晴空模型×区域系数，非实测气象 (estimate: clear-sky model × regional factor, not measured weather)"
#: Typical-year files mix calendar years month by month; TMY3 and EPW rows are put in this one
#: (non-leap) year, as pvlib's readers offer, so that the index runs in order.
TYPICAL_YEAR = 2019
#: Fewer hours than this is not a typical year.
MIN_HOURS = 8_000
#: A weather file whose station is farther than this from the site gets a note [km].
FAR_STATION_KM = 50.0
#: ... and farther than this is refused [km]: a typical year is hours of local sunshine, so a
#: distant station's puts its sunny hours where the site has other ones (a US TMY3 at a
#: Ningxia site falls on the site's nights: 27 instead of 1,400 kWh/kWp) and brings another
#: climate. 300 km shifts solar noon by about 15 minutes at these latitudes.
MAX_STATION_KM = 300.0

_FORMAT_NAMES = "a TMY3 CSV, a TMY2 file, an EPW file or a PVGIS TMY CSV/JSON file"
#: File name endings of the formats, and what each is.
SUFFIXES = {".csv": "TMY3 or PVGIS TMY CSV", ".epw": "EPW", ".tm2": "TMY2", ".json": "PVGIS TMY JSON"}
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Weather:
    """A year of weather for one site.

    Attributes
    ----------
    data
        ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C], ``wind_speed`` [m/s]; index at
        the middle of each interval, time-zone aware.
    format
        ``tmy3``, ``tmy2``, ``epw``, ``pvgis_csv``, ``pvgis_json`` or ``clearsky``.
    source
        The file read, or how the estimate was made.
    latitude, longitude, altitude_m
        The weather station's position [degrees, m] when the file gives it.
    clearsky_factor
        The regional factor of a clear-sky estimate, else None.
    notes
        What a reader of the results should know (missing columns filled, time shifts).
    solar_position
        The solar position at the site over ``data.index`` when it was already computed
        (the clear-sky estimate needs it), so that the yield model does not compute it again.
    """

    data: pd.DataFrame
    format: WeatherFormat
    source: str
    latitude: float | None = None
    longitude: float | None = None
    altitude_m: float | None = None
    clearsky_factor: float | None = None
    notes: tuple[str, ...] = field(default=())
    solar_position: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def is_estimate(self) -> bool:
        """True for the clear-sky estimate (no measured or typical-year weather behind it)."""
        return self.format == "clearsky"

    @property
    def label(self) -> str:
        """What the weather is, Chinese first; estimates say they are estimates."""
        if self.is_estimate:
            return f"{ESTIMATE_LABEL}; factor {self.clearsky_factor:g}"
        return f"气象文件 weather file ({self.format}): {self.source}"

    @property
    def annual_ghi_kwh_m2(self) -> float:
        """Global horizontal irradiation of the year [kWh/m²] (scaled to 8,760 h)."""
        hours = interval_hours(self.data.index)
        return float(self.data["ghi"].clip(lower=0).sum() * hours / 1000.0 * year_scale(self.data.index))


# ------------------------------------------------------------------------------ files


def check_suffix(name: str) -> str:
    """The ending of a weather file's ``name`` when it is one of :data:`SUFFIXES`, for
    callers that have a file by its name only (an upload) and must keep the ending.

    Raises
    ------
    ValidationError
        Another ending; the message names the file and the endings taken.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        taken = ", ".join(f"{what} ({ending})" for ending, what in SUFFIXES.items())
        kind = f"the file type {suffix!r}" if suffix else "a name without a file type"
        raise ValidationError(f"{name}: {kind} is not a weather format the yield model reads; give {taken}")
    return suffix


def detect_format(path: Path, *, name: str | None = None) -> WeatherFormat:
    """The weather format of ``path`` from its extension and first line.

    Parameters
    ----------
    name
        What messages call the file (default: its path).

    Raises
    ------
    ValidationError
        When the file is none of the formats pvlib reads here, or UTF-16 text.
    """
    name = name or str(path)
    try:
        with path.open("rb") as handle:
            head = handle.readline(4096)
    except OSError as exc:
        raise ValidationError(f"cannot read weather file {name}: {exc.strerror or exc}") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError(f"weather file {name} is UTF-16 text; save it as UTF-8 (or ASCII) and try again")
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return "epw"
    if suffix == ".json":
        return "pvgis_json"
    if suffix == ".tm2":
        return "tmy2"
    first = head.removeprefix(_UTF8_BOM).decode("utf-8", errors="replace").strip()
    if first.lower().startswith("latitude"):
        return "pvgis_csv"
    if first.upper().startswith("LOCATION,"):
        return "epw"
    fields = [f.strip() for f in first.split(",")]
    if len(fields) == 7 and fields[0].isdigit() and all(_is_number(f) for f in fields[3:]):
        return "tmy3"
    raise ValidationError(
        f"weather file {name} is not in a format the yield model reads (first line: {first[:80]!r}); "
        f"give {_FORMAT_NAMES}"
    )


def read_weather(path: str | Path, *, format: WeatherFormat | None = None, name: str | None = None) -> Weather:
    """Read a typical-year weather file with pvlib's readers.

    Parameters
    ----------
    path
        TMY3 CSV (``pvlib.iotools.read_tmy3``), TMY2 (``read_tmy2``), EPW (``read_epw``) or
        PVGIS TMY CSV/JSON (``read_pvgis_tmy``).
    format
        Skip detection and read as this format.
    name
        What messages and the result's ``source`` call the file (default: its path), e.g.
        the name an upload came with.

    Returns
    -------
    Weather
        Timestamps are moved to mid-hour (TMY3 labels hours by their end, pvlib's TMY2 and
        EPW readers by their start); PVGIS timestamps are moved by the file's "irradiance
        time offset" when it gives one. Missing air
        temperature or wind speed are filled with pvlib's ModelChain defaults (20 °C, 0 m/s),
        noted in ``notes``.

    Raises
    ------
    ValidationError
        Missing file, unknown format, a file the reader cannot parse, text not in UTF-8,
        missing irradiance columns or fewer than 8,000 hours; the message names the file
        and what to give.
    """
    path = Path(path)
    name = name or str(path)
    if not path.is_file():
        raise ValidationError(f"weather file {name} does not exist; give the path of {_FORMAT_NAMES}")
    fmt = format or detect_format(path, name=name)
    try:
        data, meta, shift_hours = _read(path, fmt)
    except ValidationError:
        raise
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"weather file {name} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} cannot be decoded); "
            "save it as UTF-8 (or ASCII) and try again"
        ) from None
    except Exception as exc:  # pvlib's parsers raise many kinds on malformed input
        raise ValidationError(
            f"weather file {name} could not be read as {fmt} ({_reason(exc, path, name)}); give {_FORMAT_NAMES}"
        ) from None
    return _finish(data, meta, shift_hours, fmt=fmt, source=name)


def _reason(exc: Exception, path: Path, name: str) -> str:
    """What went wrong in a reader, in one short line (calling the file ``name``)."""
    text = str(exc).strip().replace(str(path), name)
    if isinstance(exc, KeyError):
        reason = f"no {text} field where the layout has one"
    else:
        reason = text.splitlines()[0] if text else type(exc).__name__
    with path.open("rb") as handle:
        if handle.read(3) == _UTF8_BOM:
            reason += "; the file starts with a byte-order mark: save it as UTF-8 without BOM"
    return reason[:240]


def _read(path: Path, fmt: WeatherFormat) -> tuple[pd.DataFrame, dict, float]:
    """Data, metadata (latitude, longitude, altitude) and the shift to mid-interval [h]."""
    from pvlib import iotools

    if fmt == "tmy3":
        # TMY3 labels each hour with its end
        data, meta = iotools.read_tmy3(path, coerce_year=TYPICAL_YEAR, map_variables=True, encoding="utf-8-sig")
        return data, _position(meta, "latitude", "longitude", "altitude"), -0.5
    if fmt == "tmy2":
        data, meta = iotools.read_tmy2(path)
        data = data.rename(columns={"GHI": "ghi", "DNI": "dni", "DHI": "dhi",
                                    "DryBulb": "temp_air", "Wspd": "wind_speed"})
        # TMY2 stores tenths of a degree and of a m/s; pvlib labels each hour with its start
        data = data.assign(temp_air=data["temp_air"] / 10.0, wind_speed=data["wind_speed"] / 10.0)
        return data, _position(meta, "latitude", "longitude", "altitude"), 0.5
    if fmt == "epw":
        data, meta = iotools.read_epw(path, coerce_year=TYPICAL_YEAR)
        # pvlib labels EPW hour h (ending at h:00) with its start, (h-1):00
        return data, _position(meta, "latitude", "longitude", "altitude"), 0.5
    if fmt in ("pvgis_csv", "pvgis_json"):
        result = iotools.read_pvgis_tmy(path, pvgis_format="csv" if fmt == "pvgis_csv" else "json",
                                        map_variables=True)
        # pvlib >= 0.13 returns (data, meta); older releases returned four items
        data, meta = (result[0], result[-1]) if isinstance(result, tuple) else (result, {})
        inputs = meta.get("inputs", {}) if isinstance(meta, dict) else {}
        location = inputs.get("location", inputs)
        offset = float(inputs.get("irradiance time offset", 0.0) or 0.0)
        return data, _position(location, "latitude", "longitude", "elevation"), offset
    raise ValidationError(f"unknown weather format {fmt!r}; give one of tmy3, tmy2, epw, pvgis_csv, pvgis_json")


def _position(meta: dict, lat: str, lon: str, alt: str) -> dict:
    def number(key):
        try:
            value = float(meta.get(key))
        except (TypeError, ValueError):
            return None
        return value if math.isfinite(value) else None

    return {"latitude": number(lat), "longitude": number(lon), "altitude_m": number(alt)}


def _finish(data: pd.DataFrame, meta: dict, shift_hours: float, *, fmt: WeatherFormat, source: str) -> Weather:
    missing = [c for c in ("ghi", "dni", "dhi") if c not in data]
    if missing:
        raise ValidationError(
            f"weather file {source} has no {', '.join(missing)} column(s) (read as {fmt}); "
            f"the yield model needs global, direct normal and diffuse irradiance"
        )
    if len(data) < MIN_HOURS:
        raise ValidationError(
            f"weather file {source} holds {len(data)} time steps; a typical year has 8,760 hours "
            f"(at least {MIN_HOURS:,} are needed)"
        )
    if not isinstance(data.index, pd.DatetimeIndex) or data.index.tz is None:
        raise ValidationError(f"weather file {source} has no time-zone aware timestamps (read as {fmt})")
    notes = []
    frame = pd.DataFrame(index=data.index)
    for column in ("ghi", "dni", "dhi"):
        frame[column] = pd.to_numeric(data[column], errors="coerce").clip(lower=0).fillna(0.0)
    for column, default, unit in (("temp_air", params.CLEARSKY_TEMP_AIR_C, "°C"),
                                  ("wind_speed", params.CLEARSKY_WIND_SPEED_M_S, "m/s")):
        if column in data:
            frame[column] = pd.to_numeric(data[column], errors="coerce")
            if frame[column].isna().any():
                frame[column] = frame[column].interpolate(limit_direction="both").fillna(default)
        else:
            frame[column] = default
            notes.append(f"no {column} in the file; {default:g} {unit} assumed (pvlib ModelChain default)")
    if shift_hours:
        frame.index = frame.index + pd.Timedelta(hours=shift_hours)
        notes.append(f"timestamps moved by {shift_hours:+g} h to mid-interval for the sun position")
    return Weather(data=frame, format=fmt, source=source, notes=tuple(notes), **meta)


# ------------------------------------------------------------------------------ clear sky


def local_timezone(longitude: float) -> str:
    """A fixed-offset zone near solar time for ``longitude`` (``Etc/GMT-7`` at 105°E).

    Only month boundaries depend on it; solar position is computed in UTC.
    """
    offset = int(round(longitude / 15.0))
    offset = max(-12, min(14, offset))
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def clearsky_weather(
    latitude: float,
    longitude: float,
    altitude_m: float | None = None,
    *,
    factor: float = params.CLEARSKY_FACTOR,
    year: int = 2019,
    climate: params.MonthlyClimate | None = None,
) -> Weather:
    """A year of estimated weather from pvlib's clear-sky model (an **estimate**).

    pvlib's Ineichen-Perez clear-sky model with the Linke turbidity climatology pvlib ships
    (``Location.get_clearsky``) gives clear-sky GHI hour by hour; GHI is multiplied by
    ``factor`` to stand for an average sky, then split into direct and diffuse with pvlib's
    Erbs model, so the estimate keeps an all-sky share of diffuse light rather than the
    clear-sky one (about 8 %), which would overstate the gain from tilting. Air temperature
    and wind speed are the month's means from ``climate``.

    The solar position is computed once (:func:`geo.pv.sun.solar_position`, NREL SPA as
    pvlib's) and kept in the result for the yield model.

    Parameters
    ----------
    latitude, longitude
        Site [degrees north, degrees east].
    altitude_m
        Site altitude [m]; default: pvlib's bundled altitude map (``lookup_altitude``).
    factor
        Regional all-sky/clear-sky factor [-], 0 < factor <= 1.2 (default
        :data:`geo.pv.params.CLEARSKY_FACTOR`).
    year
        Calendar year of the hourly index (a non-leap year gives 8,760 hours).
    climate
        Monthly mean air temperature [°C] and wind speed [m/s]; default
        :data:`geo.pv.params.SHAPOTOU_CLIMATE`.

    Returns
    -------
    Weather
        ``format='clearsky'``, ``is_estimate`` true.

    Raises
    ------
    ValidationError
        Latitude or longitude out of range, or a factor outside (0, 1.2].
    """
    import pvlib.irradiance  # pvlib's import costs ~0.3 s: paid by the processes that compute
    from pvlib.location import Location

    latitude = params.check_latitude(latitude)
    longitude = params.check_longitude(longitude)
    if not (params._finite(factor) and 0 < factor <= 1.2):
        raise ValidationError(f"clear-sky factor {factor!r} is out of range; give a number above 0 and at most 1.2")
    climate = climate or params.SHAPOTOU_CLIMATE
    altitude_m = site_altitude_m(latitude, longitude, altitude_m)
    tz = local_timezone(longitude)
    start = pd.Timestamp(year=year, month=1, day=1, hour=0, minute=30, tz=tz)
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz=tz)
    times = pd.date_range(start, end, freq="h", inclusive="left")
    month = times.month.to_numpy() - 1
    temp_air = np.asarray(climate.temp_air_c, dtype=float)[month]
    wind_speed = np.asarray(climate.wind_speed_m_s, dtype=float)[month]
    location = Location(latitude, longitude, tz=tz, altitude=altitude_m)
    solar_position = shared_solar_position(times, latitude=latitude, longitude=longitude, altitude_m=altitude_m,
                                           temperature_c=temp_air)
    clear = location.get_clearsky(times, model="ineichen", solar_position=solar_position)
    ghi = clear["ghi"] * factor
    split = pvlib.irradiance.erbs(ghi, solar_position["zenith"], times)
    data = pd.DataFrame({
        "ghi": ghi,
        "dni": split["dni"].fillna(0.0),
        "dhi": split["dhi"].fillna(0.0),
        "temp_air": temp_air,
        "wind_speed": wind_speed,
    }, index=times)
    source = (
        f"pvlib Ineichen clear-sky (bundled Linke turbidity) at {latitude:.4f}, {longitude:.4f}, "
        f"{altitude_m:.0f} m, GHI x {factor:g}, Erbs split; monthly air temperature and wind: {climate.source}"
    )
    return Weather(data=data, format="clearsky", source=source, latitude=latitude, longitude=longitude,
                   altitude_m=altitude_m, clearsky_factor=float(factor), solar_position=solar_position)


def site_altitude_m(latitude: float, longitude: float, altitude_m: float | None) -> float:
    """``altitude_m`` when given, else pvlib's bundled coarse altitude map (±100 m)."""
    if altitude_m is not None:
        return params.check_range("altitude", altitude_m, -500, 9000, unit="m")
    from pvlib.location import lookup_altitude

    return float(lookup_altitude(latitude, longitude))


# ------------------------------------------------------------------------------ helpers


def interval_hours(index: pd.DatetimeIndex) -> float:
    """Length of one time step [h] (the median spacing; 1 for hourly data)."""
    if len(index) < 2:
        return 1.0
    step = float(np.median((index[1:] - index[:-1]).total_seconds())) / 3600.0
    return step if step > 0 else 1.0


def year_scale(index: pd.DatetimeIndex) -> float:
    """Factor scaling totals over ``index`` to a 8,760-hour year (1 for a full year)."""
    covered = len(index) * interval_hours(index)
    return 8760.0 / covered if covered else 1.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance [km] (for notes only; analyses measure in a metric CRS)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat = p2 - p1
    dlon = math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
