"""The PV analyses run on the registry: read the frames (:mod:`geo.pv.load`), then call the
pure functions. Shared by ``atlas pv`` and the HTTP API so both give the same answer for the
same options.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geo import storage
from geo.errors import NotFound, ValidationError
from geo.pv import params
from geo.pv.load import load_review_frames, load_siting_frames, parse_layer_buffer, read_geometries
from geo.pv.review import PVReview, review_projects
from geo.pv.siting import Exclusion, SitingResult, site_stations
from geo.pv.sizing import StationSize, size_station
from geo.pv.weather import Weather, read_weather
from geo.pv.yield_model import YieldResult, estimate_yield

Township = int | str | Sequence[int | str] | None


def run_review(bind: storage.Bind, *, township: Township = None, **options: Any) -> PVReview:
    """Review the registered PV projects (of ``township``), see :func:`review_projects` for
    ``options`` (``weather``, ``price_yuan_per_kwh``, ``low_income_ratio``, ``clearsky_factor``).

    Raises
    ------
    NotFound
        Unknown township.
    ValidationError
        Bad options.
    """
    frames = load_review_frames(bind, township=township)
    return review_projects(frames.projects, frames.households, frames.project_households,
                           frames.project_villages, frames.villages, **options)


def run_siting(
    bind: storage.Bind,
    *,
    township: Township = None,
    whole_district: bool = True,
    area: str | Path | None = None,
    exclude: Sequence[str] = (),
    keep_existing: bool = False,
    grid: str | None = None,
    allow_files: bool = True,
    **options: Any,
) -> SitingResult:
    """Site new stations in the townships' areas (or ``area``), see :func:`site_stations`.

    Parameters
    ----------
    township
        Site in this township or these townships (None: the whole district).
    whole_district
        Count beneficiary villages and households across the whole district (a village
        across a township border can still benefit). False keeps them to ``township``
        too, for a caller limited to those townships.
    area
        A vector file of polygons to site in instead of the townships.
    exclude
        ``LAYER:BUFFER_M`` texts: registry layers (or vector files) whose buffered features
        exclude the cells they touch.
    keep_existing
        Do not exclude the footprints of existing PV projects.
    grid
        Power lines / substations: a layer name or vector file.
    allow_files
        False: ``exclude``, ``grid`` and ``area`` must name registry layers, never files
        (for callers over the network).
    **options
        Keyword options of :func:`site_stations` (``cell_size_m``, ``top``, ``dem`` ...).

    Raises
    ------
    ValidationError
        A bad exclusion text, a file where files are not allowed, bad options.
    NotFound
        Unknown township.
    """
    frames = load_siting_frames(bind, township=township, whole_district=whole_district)

    def source(text: str) -> Any:
        return read_geometries(text, bind=bind, allow_files=allow_files)

    if area is not None and not allow_files:
        raise ValidationError("area files cannot be given here; site in townships instead")
    polygons = frames.area if area is None else read_geometries(area)
    exclusions = []
    for text in exclude:
        name, buffer_m = parse_layer_buffer(text)
        label = Path(name).stem if allow_files and Path(name).exists() else name
        exclusions.append(Exclusion(label, source(name), buffer_m))
    if not keep_existing and len(frames.pv_projects):
        exclusions.append(Exclusion("existing_pv", frames.pv_projects, 0.0))
    return site_stations(
        polygons, exclusions=exclusions, grid=source(grid) if grid else None, villages=frames.villages,
        households=frames.households, covered_household_ids=frames.covered_household_ids, **options)


def run_sizing(
    bind: storage.Bind | None = None,
    *,
    households: int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    village: str | None = None,
    township: Township = None,
    altitude_m: float | None = None,
    weather: Weather | str | Path | None = None,
    price_yuan_per_kwh: float = params.PRICE_YUAN_PER_KWH,
    clearsky_factor: float = params.CLEARSKY_FACTOR,
    **options: Any,
) -> tuple[StationSize, YieldResult, str | None]:
    """Size a village station: the specific yield at the site (1 kWp), then
    :func:`size_station` with ``options`` (``target_income_yuan_per_household``,
    ``max_station_kwp``, ``household_share``).

    Parameters
    ----------
    bind
        The registry, needed for ``village``.
    households, latitude, longitude
        Beneficiary households and the site; a ``village`` gives those left out.
    village
        Village name or id (see :func:`village_site`), looked up in ``township``.

    Returns
    -------
    tuple
        The size, the 1 kWp yield, and the village's full name (None without a village).

    Raises
    ------
    ValidationError
        No site or households, a bad position, households or options.
    NotFound
        Unknown village.
    """
    name = None
    if village is not None:
        if bind is None:
            raise ValidationError("a village is looked up in the registry; give the database too")
        latitude, longitude, village_households, name = village_site(bind, village, township=township)
        households = households if households is not None else village_households
    if latitude is None or longitude is None:
        raise ValidationError("give the site's latitude and longitude, or a village")
    if households is None:
        raise ValidationError("give the beneficiary households (or a village, to use its poor households)")
    weather_data = read_weather(weather) if isinstance(weather, (str, Path)) else weather
    modelled = estimate_yield(latitude=latitude, longitude=longitude, altitude_m=altitude_m, capacity_kwp=1.0,
                              weather=weather_data, clearsky_factor=clearsky_factor,
                              price_yuan_per_kwh=price_yuan_per_kwh)
    result = size_station(households=households, kwh_per_kwp=modelled.kwh_per_kwp,
                          price_yuan_per_kwh=price_yuan_per_kwh, is_estimate=modelled.is_estimate, **options)
    return result, modelled, name


def village_site(bind: storage.Bind, village: str, *, township: Township = None) -> tuple[float, float, int, str]:
    """Position, poor households and full name of a village given by name or id.

    The households are the village's household records that are not ``non_poor`` (its
    registered-poor count when it has no records).

    Parameters
    ----------
    township
        Look only among the villages of this township or these townships.

    Returns
    -------
    tuple
        ``(latitude, longitude, households, "乡镇行政村")``.

    Raises
    ------
    NotFound
        No such village (in ``township``).
    ValidationError
        The name is ambiguous (the ids are listed) or the village has no position.
    """
    key = village.strip()
    where = {"id": int(key)} if key.isascii() and key.isdigit() and len(key) < 10 else {"name": key}
    match = storage.read_layer(bind, "villages", where=where, township=township,
                               columns=["name", "township_id", "registered_poor_households"])
    if match.empty:
        raise NotFound(f"no village {village!r}; give a village name or id from the villages layer")
    if len(match) > 1:
        raise ValidationError(f"{len(match)} villages are called {village!r}; give its id: "
                              + ", ".join(f"{r.id} ({r.township_name})" for r in match.itertuples()))
    row = match.iloc[0]
    if row.geometry is None or row.geometry.is_empty:
        raise ValidationError(f"village {village!r} has no position; give the latitude and longitude")
    households = storage.read_layer(bind, "households", where={"village_id": int(row["id"])},
                                    columns=["status"], with_names=False)
    poor = int((households["status"].astype(str) != "non_poor").sum())
    count = poor if len(households) else int(row["registered_poor_households"] or 0)
    return float(row.geometry.y), float(row.geometry.x), count, f"{row['township_name']}{row['name']}"
