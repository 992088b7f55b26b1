"""``/api/pv``: ``atlas pv yield|review|site|size`` over HTTP.

Same parameters as the commands (in their API spelling: ``kwp``, ``price_yuan_per_kwh`` ...),
the same functions (:mod:`geo.services.pv`) and the same JSON (:mod:`geo.pv.output`).

``GET /yield``, ``/review`` and ``/site`` rest on the labelled clear-sky estimate (and
``/site`` on no terrain). ``POST`` to the same paths, with the same query parameters and a
multipart/form-data body holding a ``weather`` file (what ``--weather`` reads: TMY3 CSV,
TMY2, EPW, PVGIS TMY CSV or JSON) and, for ``/site``, a ``dem`` GeoTIFF (``--dem``), gives
the figures of that weather (``is_estimate`` false, ``weather`` naming the file) and keeps
the cells the DEM finds flat enough. Uploads are refused over their size limit
(``ATLAS_WEATHER_MAX_MB``, ``ATLAS_DEM_MAX_MB``: 413, before the body is read when its
declared length says so, else as soon as it passes), a DEM over ``ATLAS_DEM_MAX_PIXELS``
(413), and a file of another format, a weather file that is not a readable typical year, or
a DEM without a CRS or away from the area sited (422 naming the file). They are copied to a
private temporary folder removed after the request, and never logged.

``POST /ledger`` records a station ledger XLSX (multipart ``file``, as ``atlas pv ledger FILE
--record``: checked whole, then stored and audited; planners and administrators, only projects
of their townships); ``GET /ledger/{project}`` reads a project's recorded years back, checked.

The review and siting read households (their status only, never names), so they need the
permission to read the households layer, checked before any upload is read; ``yield`` and
``size`` at a position read nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from api.deps import (
    CurrentUser,
    Editor,
    EngineDep,
    Principal,
    Reader,
    SettingsDep,
    TownshipParam,
    check_layer,
)
from api.downloads import DOWNLOAD_CONTENT, attachment
from api.geojson import GEOJSON, JSON, GeoJSON
from api.schemas.common import problem_responses
from api.uploads import (
    UploadLimit,
    display_name,
    named_errors,
    save_upload,
    upload_folder,
    upload_post,
)
from geo.errors import ValidationError
from geo.layers import LAYERS
from geo.pv import params
from geo.pv.dem import check_dem
from geo.pv.ledger import UNDER_DELIVERY_RATIO
from geo.pv.output import (
    REVIEW_TABLES,
    candidates_geojson,
    ledger_json,
    projects_geojson,
    review_csv,
    review_json,
    review_xlsx,
    site_json,
    size_json,
    yield_json,
)
from geo.pv.review import LOW_INCOME_RATIO
from geo.pv.siting import (
    BENEFICIARY_DISTANCE_M,
    BLOCK_SIZE_M,
    MAX_GRID_DISTANCE_M,
    MIN_AREA_HA,
)
from geo.pv.weather import Weather, check_suffix, read_weather
from geo.pv.yield_model import estimate_yield
from geo.services.pv import (
    parse_buffer,
    parse_climate,
    read_project_ledger,
    record_ledger,
    run_review,
    run_siting,
    run_sizing,
)
from geo.settings import Settings

router = APIRouter(prefix="/api/pv", tags=["pv"], responses=problem_responses(401, 403, 404, 422))

#: Layers the review and the siting read.
REVIEW_LAYERS = ("pv_projects", "villages", "households")
#: Siting over HTTP: cells of at least this side [m], and at most this many cells (the whole
#: demo district at 250 m, one township at 100 m), so that one request stays within seconds.
MIN_HTTP_CELL_M = 100.0
MAX_HTTP_CELLS = 250_000
#: Beneficiary villages searched within at most this distance over HTTP [m] (the cost grows
#: with candidates × villages in reach).
MAX_HTTP_BENEFICIARY_M = 20_000.0
MAX_DISTANCE_M = 200_000.0

WEATHER_LIMIT = UploadLimit("weather_max_mb", "weather file", "a typical-year file is 1-3 MiB: upload one year "
                            "of hourly data")
LEDGER_LIMIT = UploadLimit("max_upload_mb", "ledger XLSX", "a county's yearly ledger is small: split it by year")
DEM_LIMIT = UploadLimit("dem_max_mb", "DEM", "crop the DEM to the area sited (gdal_translate -projwin) or resample "
                        "it coarser (gdalwarp -tr)")

Latitude = Annotated[float, Query(ge=-90, le=90, description="latitude [degrees north]", examples=[37.5])]
Longitude = Annotated[float, Query(ge=-180, le=180, description="longitude [degrees east]", examples=[105.2])]
Price = Annotated[float, Query(ge=0, le=100, description="electricity price [yuan/kWh]; default: resource zone I "
                               "benchmark for village stations (发改价格〔2016〕2729号)")]
ClearskyFactor = Annotated[float, Query(gt=0, le=1.5, description="all-sky/clear-sky factor of the estimate "
                                        "(regional guess for central Ningxia; unused with a weather file)")]
Altitude = Annotated[float | None, Query(ge=-500, le=9000, description="altitude [m]; default the weather file's, "
                                         "else pvlib's altitude map")]
CategoryPrice = Annotated[float | None, Query(ge=0, le=100, description="electricity price [yuan/kWh]; default the "
                                              "category's tariff (village 0.65, centralized the coal benchmark)")]
Category = Annotated[Literal["village", "centralized"], Query(
    description="station category: village (村级电站, at most 500 kW, 0.65 元/kWh) or centralized (集中式, MW-scale)")]
MonthlyTemp = Annotated[str | None, Query(max_length=200, description="monthly mean air temperature [°C] for the "
                                          "estimate: 12 numbers, January first, comma-separated (default: Zhongwei "
                                          "station normals)")]
MonthlyWind = Annotated[str | None, Query(max_length=200, description="monthly mean wind speed [m/s] for the "
                                          "estimate: 12 numbers, January first")]
_WEATHER_DOC = ("typical-year weather file: TMY3 CSV (.csv), TMY2 (.tm2), EPW (.epw), PVGIS TMY CSV (.csv) or "
                "JSON (.json), UTF-8 text, at least 8,000 hours")
REVIEW_RESPONSES = {200: {"description": "JSON, the projects as GeoJSON, or a CSV / XLSX download",
                          "content": {"application/json": {}, GEOJSON: {}, **DOWNLOAD_CONTENT}}}
SITE_RESPONSES = {200: {"description": "the run and its candidates (JSON or GeoJSON)",
                        "content": {"application/json": {}, GEOJSON: {}}}}


def _check_reads(user: Principal, layers: tuple[str, ...]) -> None:
    for layer in layers:
        check_layer(user, layer)


def household_reader(user: CurrentUser) -> Principal:
    """The caller, when they may read what the review and the siting read (else 401/403)."""
    _check_reads(user, REVIEW_LAYERS)
    return user


HouseholdReader = Annotated[Principal, Depends(household_reader)]

# ------------------------------------------------------------------------------ parameters (GET and POST)


def yield_options(
    lat: Latitude,
    lon: Longitude,
    kwp: Annotated[float, Query(gt=0, le=1_000_000, description="DC capacity [kWp]", examples=[300])],
    alt: Altitude = None,
    tilt: Annotated[float | None, Query(ge=0, le=90, description="tilt [degrees]; default the Jacobson & "
                                        "Jadhav (2018) optimum for the latitude")] = None,
    azimuth: Annotated[float | None, Query(ge=0, le=360, description="azimuth [degrees from north]; default "
                                           "180 (south)")] = None,
    price_yuan_per_kwh: Price = params.PRICE_YUAN_PER_KWH,
    households: Annotated[int | None, Query(ge=0, le=1_000_000, description="beneficiary households (income "
                                            "per household)")] = None,
    clearsky_factor: ClearskyFactor = params.CLEARSKY_FACTOR,
    losses: Annotated[float | None, Query(ge=0, lt=100, description="system losses [%]; default PVWatts "
                                          "14.08")] = None,
    inverter_efficiency: Annotated[float, Query(gt=0, le=1)] = params.INVERTER_EFFICIENCY,
    dc_ac_ratio: Annotated[float, Query(gt=0, le=10)] = params.DC_AC_RATIO,
) -> dict[str, Any]:
    """The query parameters of ``/yield``, as keywords of :func:`estimate_yield`."""
    return {"latitude": lat, "longitude": lon, "altitude_m": alt, "capacity_kwp": kwp, "tilt_deg": tilt,
            "azimuth_deg": azimuth, "price_yuan_per_kwh": price_yuan_per_kwh, "beneficiary_households": households,
            "clearsky_factor": clearsky_factor, "losses_pct": losses, "inverter_efficiency": inverter_efficiency,
            "dc_ac_ratio": dc_ac_ratio}


@dataclass(frozen=True)
class ReviewQuery:
    """The query parameters of ``/review``: the answer's form and :func:`run_review`'s options."""

    format: Literal["json", "geojson", "csv", "xlsx"]
    table: Literal["projects", "villages", "townships"]
    options: dict[str, Any]


def review_query(
    format: Annotated[Literal["json", "geojson", "csv", "xlsx"], Query(
        description="json: every table; geojson: the projects; csv: one table (see table); xlsx: three sheets "
                    "and 说明")] = "json",
    table: Annotated[Literal["projects", "villages", "townships"], Query(
        description="the table of a CSV download")] = "projects",
    price_yuan_per_kwh: Price = params.PRICE_YUAN_PER_KWH,
    low_income_ratio: Annotated[float, Query(ge=0, le=10, description="flag reported income below this share "
                                             "of the modelled income")] = LOW_INCOME_RATIO,
    clearsky_factor: ClearskyFactor = params.CLEARSKY_FACTOR,
) -> ReviewQuery:
    return ReviewQuery(format, table, {"price_yuan_per_kwh": price_yuan_per_kwh,
                                       "low_income_ratio": low_income_ratio, "clearsky_factor": clearsky_factor})


@dataclass(frozen=True)
class SiteQuery:
    """The query parameters of ``/site``: the answer's form, the registry layers named (checked
    against the caller's permissions) and :func:`run_siting`'s other options."""

    format: Literal["json", "geojson"]
    exclude: list[str]
    grid: str | None
    options: dict[str, Any]


def site_query(
    format: Annotated[Literal["json", "geojson"], Query(description="json: the run and the candidates; "
                                                        "geojson: the candidate areas")] = "json",
    cell_size: Annotated[float, Query(ge=MIN_HTTP_CELL_M, le=10_000, description="grid cell side [m]: at least "
                                      f"{MIN_HTTP_CELL_M:g} m and at most {MAX_HTTP_CELLS:,} cells over HTTP "
                                      "(finer grids with atlas pv site)")] = 500.0,
    max_slope: Annotated[float, Query(gt=0, le=1_000, description="steepest mean slope kept [%] (applies with "
                                      "a DEM: POST one)")] = params.MAX_SLOPE_PCT,
    exclude: Annotated[list[str] | None, Query(
        description="LAYER:BUFFER_M: a registry layer whose features, buffered, exclude the cells they touch "
                    "(repeatable), e.g. water_facilities:50", max_length=20)] = None,
    keep_existing: Annotated[bool, Query(description="do not exclude existing PV project footprints")] = False,
    no_exclude: Annotated[list[Literal[tuple(params.EXCLUSION_RULES)]] | None, Query(  # type: ignore[misc]
        description="switch a default exclusion off (repeatable)", max_length=10)] = None,
    buffer: Annotated[list[str] | None, Query(
        description="NAME=METRES: a default exclusion's buffer (repeatable), e.g. settlements=500", max_length=10)]
    = None,
    category: Category = "village",
    target_income: Annotated[float, Query(gt=0, le=1_000_000, description="per credited household [yuan/yr]")] =
    params.TARGET_INCOME_YUAN_PER_HOUSEHOLD,
    temp: MonthlyTemp = None,
    wind: MonthlyWind = None,
    grid: Annotated[str | None, Query(max_length=50, description="power lines / substations: a registry layer")]
    = None,
    max_grid_distance: Annotated[float, Query(gt=0, le=MAX_DISTANCE_M, description="[m]")] = MAX_GRID_DISTANCE_M,
    min_area: Annotated[float, Query(ge=0, le=100_000, description="smallest candidate [ha]")] = MIN_AREA_HA,
    block_size: Annotated[float, Query(ge=10, le=100_000, description="merge contiguous cells within blocks of "
                                       "this side [m]")] = BLOCK_SIZE_M,
    power_density: Annotated[float | None, Query(gt=0, le=10_000, description="[kWp/ha]; default the category's "
                                                 "(LBNL 2022 fixed tilt: 870)")] = None,
    max_kwp: Annotated[float | None, Query(gt=0, le=10_000_000, description="cap one candidate's capacity "
                                           "[kWp]; default the category's (village 500)")] = None,
    beneficiary_distance: Annotated[float, Query(ge=0, le=MAX_HTTP_BENEFICIARY_M, description="villages this "
                                                 "close to a candidate benefit from it [m]")] =
    BENEFICIARY_DISTANCE_M,
    top: Annotated[int, Query(ge=1, le=100, description="best N candidates")] = 10,
    price_yuan_per_kwh: CategoryPrice = None,
    clearsky_factor: ClearskyFactor = params.CLEARSKY_FACTOR,
) -> SiteQuery:
    return SiteQuery(format, exclude or [], grid, {
        "keep_existing": keep_existing, "no_exclude": list(no_exclude or []),
        "buffers": dict(parse_buffer(text) for text in buffer or []), "category": category,
        "target_income_yuan_per_household": target_income, "climate": parse_climate(temp, wind),
        "cell_size_m": cell_size, "max_slope_pct": max_slope,
        "max_grid_distance_m": max_grid_distance, "block_size_m": block_size, "min_area_ha": min_area,
        "power_density_kwp_per_ha": power_density, "max_station_kwp": max_kwp,
        "beneficiary_distance_m": beneficiary_distance, "clearsky_factor": clearsky_factor,
        "price_yuan_per_kwh": price_yuan_per_kwh, "top": top})


YieldOptions = Annotated[dict[str, Any], Depends(yield_options)]
ReviewOptions = Annotated[ReviewQuery, Depends(review_query)]
SiteOptions = Annotated[SiteQuery, Depends(site_query)]

# ------------------------------------------------------------------------------ uploads (POST)


def _read_weather_upload(upload: UploadFile, settings: Settings) -> Weather:
    name = display_name(upload.filename)
    suffix = check_suffix(name)
    with upload_folder() as folder:
        path = folder / f"weather{suffix}"
        save_upload(upload, path, WEATHER_LIMIT, settings, name=name)
        return read_weather(path, name=name)


def weather_upload(settings: SettingsDep, weather: Annotated[UploadFile, File(description=_WEATHER_DOC)]) -> Weather:
    """The uploaded weather file, read (its copy is removed at once)."""
    return _read_weather_upload(weather, settings)


def optional_weather_upload(
    settings: SettingsDep,
    weather: Annotated[UploadFile | None, File(description=f"{_WEATHER_DOC}; default the clear-sky estimate")] = None,
) -> Weather | None:
    return None if weather is None else _read_weather_upload(weather, settings)


@contextmanager
def _dem_file(upload: UploadFile, settings: Settings) -> Iterator[Path]:
    """The uploaded DEM, checked (GeoTIFF, CRS, pixels), as a temporary file for the ``with``
    block; errors about it in the block name the upload, not the copy."""
    name = display_name(upload.filename)
    with upload_folder() as folder:
        path = folder / "dem.tif"
        save_upload(upload, path, DEM_LIMIT, settings, name=name)
        info = check_dem(path, name=name)
        if info.pixels > settings.dem_max_pixels:
            raise HTTPException(413, f"DEM {name} has {info.width:,} × {info.height:,} = {info.pixels:,} pixels, "
                                     f"more than the limit of {settings.dem_max_pixels:,} (ATLAS_DEM_MAX_PIXELS); "
                                     f"{DEM_LIMIT.advice}")
        with named_errors(path, name):
            yield path


WeatherUpload = Annotated[Weather, Depends(weather_upload)]
OptionalWeatherUpload = Annotated[Weather | None, Depends(optional_weather_upload)]
DemFile = Annotated[UploadFile | None, File(description="DEM GeoTIFF, elevations in metres, with a CRS (any: it "
                                                      "is reprojected), covering the area sited")]

# ------------------------------------------------------------------------------ yield


@router.get("/yield", response_class=JSON, summary="年发电量与收益 Annual yield and income of one PV system")
def pv_yield(user: Reader, options: YieldOptions) -> JSON:
    """Same as ``atlas pv yield --json`` without a weather file: the clear-sky estimate, labelled
    ``is_estimate`` with its banner. POST a weather file for the yield of that weather."""
    return JSON(yield_json(estimate_yield(**options)))


@upload_post(router, "/yield", WEATHER_LIMIT, response_class=JSON,
             summary="年发电量与收益（上传气象文件）Annual yield and income from an uploaded weather file")
def pv_yield_weather(user: Reader, options: YieldOptions, weather: WeatherUpload) -> JSON:
    """Same as ``atlas pv yield --weather FILE --json``: the query parameters of ``GET`` and the
    weather file in a multipart body; ``is_estimate`` is false and ``weather`` names the file."""
    return JSON(yield_json(estimate_yield(**options, weather=weather)))


# ------------------------------------------------------------------------------ review


def _review(user: Principal, engine: Engine, township: int | None, query: ReviewQuery, weather: Weather | None
            ) -> Response:
    scope = user.township_filter(township)
    result = run_review(engine, township=scope, weather=weather, **query.options)
    suffix = f"_t{township}" if township is not None else ""
    if query.format == "json":
        return JSON(review_json(result))
    if query.format == "geojson":
        return GeoJSON(projects_geojson(result))
    if query.format == "csv":
        return attachment(review_csv(result, query.table), format="csv",
                          filename=f"pv_review{suffix}_{query.table}.csv",
                          label=f"光伏项目核查{suffix}_{REVIEW_TABLES[query.table][0]}.csv")
    return attachment(review_xlsx(result), format="xlsx", filename=f"pv_review{suffix}.xlsx",
                      label=f"光伏项目核查{suffix}.xlsx")


@router.get("/review", response_class=JSON, summary="光伏项目核查 Review PV projects: modelled vs reported income",
            responses=REVIEW_RESPONSES)
def pv_review(user: HouseholdReader, engine: EngineDep, township: TownshipParam, query: ReviewOptions) -> Response:
    """Same as ``atlas pv review``, in the caller's townships (clear-sky estimate)."""
    return _review(user, engine, township, query, None)


@upload_post(router, "/review", WEATHER_LIMIT, response_class=JSON, responses=REVIEW_RESPONSES,
             summary="光伏项目核查（上传气象文件）Review PV projects with an uploaded weather file")
def pv_review_weather(user: HouseholdReader, engine: EngineDep, township: TownshipParam, query: ReviewOptions,
                      weather: WeatherUpload) -> Response:
    """Same as ``atlas pv review --weather FILE``: the query parameters of ``GET`` and the weather
    file in a multipart body."""
    return _review(user, engine, township, query, weather)


# ------------------------------------------------------------------------------ site


def _site(user: Principal, engine: Engine, township: int | None, query: SiteQuery, *, weather: Weather | None = None,
          dem: Path | None = None) -> Response:
    off = set(query.options.get("no_exclude", ())) | ({"existing_pv"} if query.options.get("keep_existing") else set())
    for rule in params.EXCLUSION_RULES.values():
        if rule.name not in off:
            check_layer(user, rule.layer)
    named = [("exclude", text.rpartition(":")[0] if ":" in text else text) for text in query.exclude]
    for param, layer in named + ([("grid", query.grid)] if query.grid else []):
        if layer not in LAYERS:
            raise ValidationError(f"{param}: {layer!r} is not a registry layer; give one of {', '.join(LAYERS)}"
                                  + (" with :METRES, e.g. water_facilities:50" if param == "exclude" else ""))
        check_layer(user, layer)
    scope = user.township_filter(township)
    result = run_siting(
        engine, township=scope, whole_district=user.township_ids is None, exclude=query.exclude, grid=query.grid,
        allow_files=False, dem=dem, weather=weather, max_cells=MAX_HTTP_CELLS, **query.options)
    return GeoJSON(candidates_geojson(result)) if query.format == "geojson" else JSON(site_json(result))


@router.get("/site", response_class=JSON, summary="新建电站选址 Site new PV stations on a grid",
            responses=SITE_RESPONSES)
def pv_site(user: HouseholdReader, engine: EngineDep, township: TownshipParam, query: SiteOptions) -> Response:
    """Same as ``atlas pv site`` on the registry: sites in the townships asked (default: the
    caller's townships, or the district). Exclusions and the grid name registry layers only
    (never files); a caller limited to some townships counts beneficiaries in them only. No
    terrain and the clear-sky estimate: POST a DEM and a weather file for those."""
    return _site(user, engine, township, query)


@upload_post(router, "/site", WEATHER_LIMIT, DEM_LIMIT, response_class=JSON, responses=SITE_RESPONSES,
             summary="新建电站选址（上传DEM与气象文件）Site new PV stations with an uploaded DEM and weather file")
def pv_site_files(user: HouseholdReader, engine: EngineDep, settings: SettingsDep, township: TownshipParam,
                  query: SiteOptions, weather: OptionalWeatherUpload, dem: DemFile = None) -> Response:
    """Same as ``atlas pv site --dem FILE --weather FILE``: the query parameters of ``GET`` and a
    multipart body with a ``dem`` GeoTIFF (cells steeper than ``max_slope`` are dropped), a
    ``weather`` file, or both. (A land-cover layer is given to ``atlas pv site --land-cover``.)"""
    if dem is None:
        if weather is None:
            raise ValidationError("send a dem GeoTIFF, a weather file or both (multipart fields dem and weather); "
                                  "without files, GET /api/pv/site")
        return _site(user, engine, township, query, weather=weather)
    with _dem_file(dem, settings) as path:
        return _site(user, engine, township, query, weather=weather, dem=path)


# ------------------------------------------------------------------------------ size


@router.get("/size", response_class=JSON, summary="电站规模 Size a station of a category for a target income")
def pv_size(
    user: Reader,
    engine: EngineDep,
    households: Annotated[int | None, Query(ge=1, le=1_000_000, description="beneficiary households; default: "
                                            "the village's poor households")] = None,
    village: Annotated[str | None, Query(min_length=1, max_length=100, description="village name or id: "
                                         "position and poor households from the registry", examples=["景庄村"])]
    = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="latitude [degrees north]")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="longitude [degrees east]")] = None,
    alt: Altitude = None,
    target_income: Annotated[float, Query(gt=0, le=1_000_000, description="per household [yuan/yr]")] =
    params.TARGET_INCOME_YUAN_PER_HOUSEHOLD,
    max_kwp: Annotated[float | None, Query(ge=1, le=10_000_000, description="upper bound of one station [kWp]; "
                                           "default the category's (village 500)")] = None,
    household_share: Annotated[float | None, Query(gt=0, le=1, description="share of income reaching households; "
                                                   "default the category's distribution")] = None,
    category: Annotated[Literal["household", "village", "centralized"], Query(
        description="station category: household (户用), village (村级电站) or centralized (集中式)")] = "village",
    price_yuan_per_kwh: CategoryPrice = None,
    clearsky_factor: ClearskyFactor = params.CLEARSKY_FACTOR,
    temp: MonthlyTemp = None,
    wind: MonthlyWind = None,
) -> JSON:
    """Same as ``atlas pv size --json``: give ``lat`` and ``lon`` with ``households``, or a
    ``village`` (in the caller's townships; its households need the households layer)."""
    if village is not None:
        _check_reads(user, ("villages", "households"))
    result, modelled, name = run_sizing(
        engine, households=households, latitude=lat, longitude=lon, village=village,
        township=user.township_filter() if village is not None else None, altitude_m=alt,
        price_yuan_per_kwh=price_yuan_per_kwh, clearsky_factor=clearsky_factor, climate=parse_climate(temp, wind),
        category=category, target_income_yuan_per_household=target_income, max_station_kwp=max_kwp,
        household_share=household_share)
    return JSON(size_json(result, modelled, village=name, latitude=modelled.latitude,
                          longitude=modelled.longitude))


# ------------------------------------------------------------------------------ ledger

LedgerRatio = Annotated[float, Query(ge=0, le=1, description="flag a year below this share of the model or the "
                                     "distribution plan")]


@upload_post(router, "/ledger", LEDGER_LIMIT, response_class=JSON,
             summary="电站收益台账记录 Record a station ledger (XLSX), checked whole first")
def pv_ledger_record(user: Editor, engine: EngineDep, settings: SettingsDep,
                     file: Annotated[UploadFile, File(description="station ledger XLSX: 项目编号, 年度, 发电量(kWh), "
                                                      "收益(元), 到户(元), 公益岗位工资(元), 公益岗位数, 公益事业(元), "
                                                      "运维及并网费(元)")],
                     ratio: LedgerRatio = UNDER_DELIVERY_RATIO) -> Response:
    """Same as ``atlas pv ledger FILE --record``: every row checked (422 naming each bad row,
    nothing stored), then stored; a project's year recorded before is replaced (version + 1)."""
    _check_reads(user, REVIEW_LAYERS)
    name = display_name(file.filename)
    with upload_folder() as folder:
        path = folder / "ledger.xlsx"
        save_upload(file, path, LEDGER_LIMIT, settings, name=name)
        with named_errors(path, name):
            checked, review, written = record_ledger(engine, path, actor=user.actor, name=name,
                                                     township=user.township_filter(None), under_delivery_ratio=ratio)
    return JSON(ledger_json(checked, review, written))


@router.get("/ledger/{project}", response_class=JSON, summary="电站收益台账 A project's recorded ledger, checked")
def pv_ledger_show(user: HouseholdReader, engine: EngineDep, project: str, ratio: LedgerRatio = UNDER_DELIVERY_RATIO
                   ) -> Response:
    """Same as ``atlas pv ledger --show PROJECT``: the recorded years, oldest first (none yet: no rows)."""
    checked, review = read_project_ledger(engine, project, township=user.township_filter(None),
                                          under_delivery_ratio=ratio)
    return JSON(ledger_json(checked, review))
