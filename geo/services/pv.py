"""The PV analyses run on the registry: read the frames they need (through
:mod:`geo.storage`) or vector files, then call the pure functions of :mod:`geo.pv`. Shared by
``atlas pv``, ``/api/pv`` and the PV map, so all give the same answer for the same options.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import audit, storage
from geo.audit import Actor
from geo.enums import PVStatus
from geo.errors import NotFound, ValidationError
from geo.layers import LAYERS
from geo.pv import params
from geo.pv.ledger import check_ledger, read_ledger_xlsx, with_latest_year
from geo.pv.review import PVReview, review_projects
from geo.pv.siting import Exclusion, SitingResult, site_stations
from geo.pv.sizing import StationSize, size_station
from geo.pv.weather import Weather, read_weather
from geo.pv.yield_model import YieldResult, estimate_yield

#: Largest exclusion buffer [m]: a county is well inside it.
MAX_BUFFER_M = 100_000.0

#: Project statuses whose linked households count as already covered when siting.
COVERING = (PVStatus.GRID_CONNECTED.value, PVStatus.BUILDING.value, PVStatus.PLANNED.value)


@dataclass(frozen=True)
class ReviewFrames:
    """The registry frames a review reads (EPSG:4326; links and households as plain frames)."""

    projects: gpd.GeoDataFrame
    households: pd.DataFrame
    project_households: pd.DataFrame
    project_villages: pd.DataFrame
    villages: pd.DataFrame


def load_review_frames(bind: storage.Bind, *, township: int | str | Sequence[int | str] | None = None) -> ReviewFrames:
    """Read the frames :func:`geo.pv.review.review_projects` needs (no personal data).

    Projects and villages are those of ``township`` when given; households and links are
    read whole so that a project's beneficiaries in another township keep their status.
    """
    with storage.connect(bind) as conn:
        projects = storage.read_layer(conn, "pv_projects", township=township)
        villages = storage.read_layer(conn, "villages", township=township,
                                      columns=["name", "township_id", "category", "registered_poor_households"])
        households = storage.read_layer(conn, "households", columns=["village_id", "status"], with_names=False)
        return ReviewFrames(
            projects=projects,
            households=pd.DataFrame(households.drop(columns="geometry")),
            project_households=storage.read_links(conn, "pv_project_households"),
            project_villages=storage.read_links(conn, "pv_project_villages"),
            villages=pd.DataFrame(villages.drop(columns="geometry")),
        )


@dataclass(frozen=True)
class SitingFrames:
    """The registry frames siting reads.

    Attributes
    ----------
    area
        Township polygons (``name``), EPSG:4326: the district, or one township.
    villages
        Village points (``id, name, township_name, registered_poor_households``).
    households
        ``id, village_id, status`` of every household.
    covered_household_ids
        Households linked to a grid-connected, building or planned PV project.
    pv_projects
        Existing PV projects (their footprints are an exclusion by default).
    """

    area: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    households: pd.DataFrame
    covered_household_ids: list[int]
    pv_projects: gpd.GeoDataFrame


def load_siting_frames(bind: storage.Bind, *, township: int | str | Sequence[int | str] | None = None,
                       whole_district: bool = True) -> SitingFrames:
    """Read the area (all townships, or ``township``), villages, households and coverage.

    Villages and households are read for the whole district unless ``whole_district`` is
    False: a village across a township border can still benefit from a station near it.
    False keeps them to ``township`` (a caller who may see only those townships).

    Raises
    ------
    NotFound
        Unknown township.
    ValidationError
        No township has an area to site in.
    """
    with storage.connect(bind) as conn:
        area = storage.read_layer(conn, "townships", township=township, columns=["code", "name"])
        area = area[area.geometry.notna() & ~area.geometry.is_empty]
        if area.empty:
            raise ValidationError("no township has an area polygon to site in; import township areas first "
                                  "(or give --area FILE)")
        scope = None if whole_district else township
        villages = storage.read_layer(conn, "villages", township=scope,
                                      columns=["name", "township_id", "registered_poor_households"])
        households = storage.read_layer(conn, "households", township=scope, columns=["village_id", "status"],
                                        with_names=False)
        projects = storage.read_layer(conn, "pv_projects", columns=["code", "name", "status", "capacity_kw"])
        links = storage.read_links(conn, "pv_project_households")
    covering = projects.loc[projects["status"].astype(str).isin(COVERING), "id"]
    covered = sorted(links.loc[links["project_id"].isin(set(covering)), "household_id"].astype(int).unique())
    return SitingFrames(
        area=area,
        villages=villages,
        households=pd.DataFrame(households.drop(columns="geometry")),
        covered_household_ids=[int(i) for i in covered],
        pv_projects=projects,
    )


def read_geometries(source: str | Path, *, bind: storage.Bind | None = None,
                    allow_files: bool = True) -> gpd.GeoDataFrame:
    """A registry layer (by name) or a vector file (any format pyogrio reads), in EPSG:4326.

    ``allow_files=False`` accepts layer names only (for callers over the network, who must
    never make the server read a file of its own).

    A file in another CRS is reprojected to EPSG:4326 here, at the boundary, so that the
    analyses receive EPSG:4326 only.

    Raises
    ------
    ValidationError
        A file without a CRS or that cannot be read; a name that is neither a file nor a layer.
    NotFound
        A layer name when no database was given.
    """
    text = str(source)
    path = Path(text)
    if allow_files and path.exists():
        try:
            frame = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises its own error types per driver
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValidationError(f"cannot read {path} as a vector file ({reason[:200]}); "
                                  "give a GeoJSON, GeoPackage or Shapefile") from None
        if frame.crs is None:
            raise ValidationError(f"{path} has no CRS; save it with one (e.g. EPSG:4326) and try again")
        if frame.crs.to_epsg() not in (4326, 4490):
            frame = frame.to_crs(4326)
        return frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if text in LAYERS:
        if bind is None:
            raise NotFound(f"{text!r} is a registry layer; give --db to read it")
        frame = storage.read_layer(bind, text)
        if LAYERS[text].geometry is None:
            raise ValidationError(f"layer {text!r} has no geometry; name a layer with geometry or a file")
        return frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if not allow_files:
        raise ValidationError(f"{text!r} is not a registry layer; give one of: {', '.join(LAYERS)}")
    raise ValidationError(
        f"{text!r} is neither a file nor a registry layer; give a vector file path or one of: {', '.join(LAYERS)}"
    )


def parse_layer_buffer(text: str) -> tuple[str, float]:
    """Split ``LAYER:BUFFER`` (buffer in metres, optional) into the source and the buffer.

    Raises
    ------
    ValidationError
        When the buffer is not a number of metres, 0 or more.
    """
    source, sep, tail = text.rpartition(":")
    if not sep or not source or Path(text).exists():
        return text, 0.0
    try:
        buffer_m = float(tail)
    except ValueError:
        raise ValidationError(f"{text!r}: the buffer {tail!r} is not a number; write LAYER:METRES, e.g. "
                              "water_facilities:50 or farmland.geojson:100") from None
    if not 0 <= buffer_m <= MAX_BUFFER_M:
        raise ValidationError(f"{text!r}: the buffer must be 0 to {MAX_BUFFER_M:,.0f} metres")
    return source, buffer_m


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
    review = review_projects(frames.projects, frames.households, frames.project_households,
                             frames.project_villages, frames.villages, **options)
    recorded = storage.pv_ledger.read_years(bind, review.projects["id"].tolist())
    return replace(review, projects=with_latest_year(review.projects, recorded))


#: Endings of land-cover files read as rasters (anything else is read as a vector layer).
RASTER_SUFFIXES = (".tif", ".tiff")


def check_exclusion_options(no_exclude: Sequence[str] = (), buffers: Mapping[str, float] | None = None) -> None:
    """Refuse unknown default exclusions and buffers that are not 0 to :data:`MAX_BUFFER_M`.

    Raises
    ------
    ValidationError
        Naming the bad exclusion or buffer and the allowed ones.
    """
    known = ", ".join(params.EXCLUSION_RULES)
    for name in [*no_exclude, *(buffers or {})]:
        if name not in params.EXCLUSION_RULES:
            raise ValidationError(f"exclusion {name!r} is unknown; the default exclusions are {known}")
    for name, value in (buffers or {}).items():
        if not params._finite(value) or not 0 <= float(value) <= MAX_BUFFER_M:
            raise ValidationError(f"buffer of exclusion {name!r}: {value!r} metres is not allowed; give 0 to "
                                  f"{MAX_BUFFER_M:,.0f} metres (a buffer cannot be negative)")


def parse_buffer(text: str) -> tuple[str, float]:
    """Split ``NAME=METRES`` (a default exclusion's buffer).

    Raises
    ------
    ValidationError
        Not of that form, an unknown exclusion or a buffer out of range.
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    try:
        metres = float(value) if sep else math.nan
    except ValueError:
        metres = math.nan
    if not sep or math.isnan(metres):
        raise ValidationError(f"buffer {text!r}: write NAME=METRES, e.g. settlements=500; exclusions: "
                              f"{', '.join(params.EXCLUSION_RULES)}")
    check_exclusion_options(buffers={name: metres})
    return name, metres


def default_exclusions(bind: storage.Bind, frames: SitingFrames, *, no_exclude: Sequence[str] = (),
                       buffers: Mapping[str, float] | None = None) -> list[Exclusion]:
    """The default exclusions (:data:`geo.pv.params.EXCLUSION_RULES`) read from the registry,
    but those in ``no_exclude``, each with its buffer or the one given in ``buffers``.

    Raises
    ------
    ValidationError
        An unknown exclusion or a buffer out of range.
    """
    check_exclusion_options(no_exclude, buffers)
    out = []
    for rule in params.EXCLUSION_RULES.values():
        if rule.name in no_exclude:
            continue
        if rule.layer == "villages":
            geometries = frames.villages
        elif rule.layer == "pv_projects":
            geometries = frames.pv_projects
        else:
            frame = storage.read_layer(bind, rule.layer, where={k: list(v) for k, v in rule.where} or None,
                                       columns=[rule.geometry] if rule.geometry else ["id"], with_names=False)
            if rule.geometry:
                frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(frame[rule.geometry].to_numpy(), crs=4326))
            geometries = frame
        out.append(Exclusion(rule.name, geometries, float((buffers or {}).get(rule.name, rule.buffer_m))))
    return out


def read_land_cover(source: str | Path) -> tuple[Path | None, gpd.GeoDataFrame | None]:
    """A land-cover layer the user imports: a raster (GeoTIFF, returned as its path) or a vector
    file of the polygons to exclude (returned in EPSG:4326).

    Raises
    ------
    ValidationError
        A file that does not exist, or a vector layer without a known CRS.
    """
    path = Path(source)
    if not path.is_file():
        raise ValidationError(f"land-cover file {path} does not exist; give a GeoTIFF of class codes or a vector "
                              "file of cropland/forest polygons, with its CRS")
    if path.suffix.lower() in RASTER_SUFFIXES:
        return path, None
    try:
        frame = read_geometries(path)
    except ValidationError as exc:
        raise ValidationError(f"land-cover layer: {exc}") from None
    return None, frame


def run_siting(
    bind: storage.Bind,
    *,
    township: Township = None,
    whole_district: bool = True,
    area: str | Path | None = None,
    exclude: Sequence[str] = (),
    no_exclude: Sequence[str] = (),
    buffers: Mapping[str, float] | None = None,
    keep_existing: bool = False,
    land_cover: str | Path | None = None,
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
        exclude the cells they touch, besides the default exclusions (one named like a default
        exclusion, e.g. ``settlements:500``, replaces it).
    no_exclude
        Default exclusions (:data:`geo.pv.params.EXCLUSION_RULES`) switched off.
    buffers
        Buffers [m] replacing the default exclusions' own, by name.
    keep_existing
        Do not exclude the footprints of existing PV projects (same as ``no_exclude`` of
        ``existing_pv``).
    land_cover
        A land-cover raster (GeoTIFF of class codes) or vector file of polygons to exclude: a
        file the caller vouches for (the CLI user's, or the copy of an upload), read even when
        ``allow_files`` is False.
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
    check_exclusion_options(no_exclude, buffers)
    params.station_category(options.get("category", params.DEFAULT_CATEGORY))
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
    # a layer named in ``exclude`` under a default exclusion's name replaces that default
    off = [*no_exclude, *(["existing_pv"] if keep_existing else []),
           *(e.name for e in exclusions if e.name in params.EXCLUSION_RULES)]
    exclusions = default_exclusions(bind, frames, no_exclude=off, buffers=buffers) + exclusions
    raster = None
    if land_cover is not None:
        raster, polygons_cover = read_land_cover(land_cover)
        if polygons_cover is not None:
            exclusions.append(Exclusion("land_cover", polygons_cover, 0.0))
    return site_stations(
        polygons, exclusions=exclusions, grid=source(grid) if grid else None, villages=frames.villages,
        households=frames.households, covered_household_ids=frames.covered_household_ids, land_cover=raster,
        **options)


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
    price_yuan_per_kwh: float | None = None,
    clearsky_factor: float = params.CLEARSKY_FACTOR,
    climate: params.MonthlyClimate | None = None,
    category: str = params.DEFAULT_CATEGORY,
    **options: Any,
) -> tuple[StationSize, YieldResult, str | None]:
    """Size a village station: the specific yield at the site (1 kWp), then
    :func:`size_station` with ``options`` (``target_income_yuan_per_household``,
    ``max_station_kwp``, ``household_share``, ``distribution``) for the station ``category``
    (its tariff unless ``price_yuan_per_kwh`` is given).

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
    kind = params.station_category(category)
    price = kind.price_yuan_per_kwh if price_yuan_per_kwh is None else price_yuan_per_kwh
    weather_data = read_weather(weather) if isinstance(weather, (str, Path)) else weather
    modelled = estimate_yield(latitude=latitude, longitude=longitude, altitude_m=altitude_m, capacity_kwp=1.0,
                              weather=weather_data, clearsky_factor=clearsky_factor, climate=climate,
                              price_yuan_per_kwh=price)
    result = size_station(households=households, kwh_per_kwp=modelled.kwh_per_kwp, category=kind,
                          price_yuan_per_kwh=price, is_estimate=modelled.is_estimate, **options)
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


def parse_climate(temp_air_c: str | None = None, wind_speed_m_s: str | None = None) -> params.MonthlyClimate | None:
    """The clear-sky estimate's monthly climate from user text: 12 comma-separated numbers,
    January first, for temperature [°C] and/or wind [m/s]; the one not given is Shapotou's
    (:data:`geo.pv.params.SHAPOTOU_CLIMATE`). None when neither is given.

    Raises
    ------
    ValidationError
        Not 12 numbers, or out of range, naming the field.
    """
    if temp_air_c is None and wind_speed_m_s is None:
        return None
    base = params.SHAPOTOU_CLIMATE

    def numbers(text: str | None, field: str, default: tuple[float, ...]) -> tuple[float, ...]:
        if text is None:
            return default
        parts = [p.strip() for p in str(text).replace("，", ",").split(",") if p.strip()]
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            values = ()
        if len(values) != 12:
            raise ValidationError(f"{field}: give 12 numbers separated by commas, January first (got {text!r})")
        return values

    return params.MonthlyClimate(
        temp_air_c=numbers(temp_air_c, "monthly temperature", base.temp_air_c),
        wind_speed_m_s=numbers(wind_speed_m_s, "monthly wind speed", base.wind_speed_m_s),
        source="用户输入 entered by the user"
               + ("" if temp_air_c is not None and wind_speed_m_s is not None else f"; the rest: {base.source}"),
    )


def run_ledger_check(bind: storage.Bind, ledger_file: str | Path, *, weather: Weather | str | Path | None = None,
                     township: Township = None, name: str | None = None,
                     **options: Any) -> tuple[pd.DataFrame, PVReview]:
    """Check a station ledger (XLSX) against the registry's projects, their modelled yields
    and their distribution plans (:func:`geo.pv.ledger.check_ledger` with ``options``).
    Reads the file whole before anything else; nothing is written. ``township`` limits the
    projects a row may name (a caller's scope); ``name`` is the file's name in messages.

    Returns
    -------
    tuple
        The checked ledger rows and the review whose modelled yields they were checked against.

    Raises
    ------
    ValidationError
        A bad file or row (all named), rows for unknown projects.
    """
    ledger = read_ledger_xlsx(ledger_file, name=name)
    review = run_review(bind, weather=weather, township=township)
    return check_ledger(ledger, pd.DataFrame(review.projects.drop(columns="geometry")), **options), review


def record_ledger(bind: storage.Bind, ledger_file: str | Path, *, actor: Actor | None = None,
                  weather: Weather | str | Path | None = None, township: Township = None,
                  name: str | None = None, **options: Any) -> tuple[pd.DataFrame, PVReview, list[dict[str, Any]]]:
    """Check a station ledger (XLSX) as :func:`run_ledger_check` does, then record every year
    of it in ``pv_ledger``: all or nothing, each change in the audit log in the same
    transaction. A project's year recorded before is replaced (its version goes up; the audit
    entry keeps the values before). ``township`` and ``name`` as for :func:`run_ledger_check`;
    the rows' source is ``ledger <file name>``.

    Returns
    -------
    tuple
        The checked rows, the review they were checked against, and per row the write
        (``id``, ``action`` create/update, ``version``).

    Raises
    ------
    ValidationError
        A bad file or row, rows for unknown projects (all named); nothing is written then.
    """
    path = Path(ledger_file)
    with storage.connect(bind, write=True) as conn:
        checked, review = run_ledger_check(conn, path, weather=weather, township=township, name=name, **options)
        ids = storage.pv_ledger.project_ids(conn, checked["project_code"])
        rows = [{"project_id": ids[code], "year": int(year),
                 **{c: _plain(getattr(row, c)) for c in storage.pv_ledger.VALUE_COLUMNS if c != "note"}}
                for row, code, year in zip(checked.itertuples(index=False), checked["project_code"], checked["year"])]
        written = storage.pv_ledger.upsert_years(conn, rows, source=f"ledger {name or path.name}"[:200])
        if actor is not None:
            for row, done in zip(rows, written):
                audit.record(conn, actor=actor, action=done["action"], layer="pv_ledger", row_id=done["id"],
                             before=audit.snapshot(done["before"]) if done["before"] else None,
                             after=audit.snapshot(row))
    return checked, review, written


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number the database driver takes."""
    return value.item() if hasattr(value, "item") else value


def read_project_ledger(bind: storage.Bind, project_code: str, *, weather: Weather | str | Path | None = None,
                        township: Township = None, **options: Any) -> tuple[pd.DataFrame, PVReview]:
    """A project's recorded ledger years checked against its model and distribution plan
    (the columns of :func:`geo.pv.ledger.check_ledger` plus ``version`` and ``source``),
    oldest year first; no row when nothing was recorded yet.

    Raises
    ------
    NotFound
        The registry holds no project of that code (in ``township``, a caller's scope).
    """
    code = str(project_code).strip()
    ids = storage.pv_ledger.project_ids(bind, [code])
    # An unknown code is answered before the review (a second or more: every project modelled).
    review = run_review(bind, weather=weather, township=township) if code in ids else None
    if review is None or code not in set(review.projects["code"]):
        where = "" if township is None else " in your townships"
        raise NotFound(f"the registry holds no PV project with the code {code!r}{where}; see atlas pv review "
                       "for the codes")
    stored = storage.pv_ledger.read_years(bind, [ids[code]])
    projects = pd.DataFrame(review.projects.drop(columns="geometry"))
    return check_ledger(stored.assign(row=range(1, len(stored) + 1)), projects, **options), review
