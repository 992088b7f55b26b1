"""``/api/pv``: ``atlas pv yield|review|site|size`` over HTTP.

Same parameters as the commands (in their API spelling: ``kwp``, ``price_yuan_per_kwh`` ...),
the same functions (:mod:`geo.pv.run`) and the same JSON (:mod:`geo.pv.output`). Yields rest
on the labelled clear-sky estimate: weather and DEM files are a CLI matter (``--weather``,
``--dem``), since uploads would need a size limit and a format check of their own.

The review and siting read households (their status only, never names), so they need the
permission to read the households layer; ``yield`` and ``size`` at a position read nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CurrentUser, EngineDep, Principal, Reader, TownshipParam, check_layer
from api.downloads import DOWNLOAD_CONTENT, attachment
from api.geojson import GEOJSON, JSON, GeoJSON
from api.schemas.common import problem_responses
from geo.errors import ValidationError
from geo.layers import LAYERS
from geo.pv import params
from geo.pv.output import REVIEW_TABLES, candidates_geojson, projects_geojson, review_csv, review_json, \
    review_xlsx, site_json, size_json, yield_json
from geo.pv.review import LOW_INCOME_RATIO
from geo.pv.run import run_review, run_siting, run_sizing
from geo.pv.siting import BENEFICIARY_DISTANCE_M, BLOCK_SIZE_M, MAX_GRID_DISTANCE_M, MIN_AREA_HA
from geo.pv.yield_model import estimate_yield

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

Latitude = Annotated[float, Query(ge=-90, le=90, description="latitude [degrees north]", examples=[37.5])]
Longitude = Annotated[float, Query(ge=-180, le=180, description="longitude [degrees east]", examples=[105.2])]
Price = Annotated[float, Query(ge=0, le=100, description="electricity price [yuan/kWh]; default: resource zone I "
                               "benchmark for village stations (发改价格〔2016〕2729号)")]
ClearskyFactor = Annotated[float, Query(gt=0, le=1.5, description="all-sky/clear-sky factor of the estimate "
                                        "(regional guess for central Ningxia)")]
Altitude = Annotated[float | None, Query(ge=-500, le=9000, description="altitude [m]; default pvlib's "
                                         "altitude map")]


def _check_reads(user: Principal, layers: tuple[str, ...]) -> None:
    for layer in layers:
        check_layer(user, layer)


@router.get("/yield", response_class=JSON, summary="年发电量与收益 Annual yield and income of one PV system")
def pv_yield(
    user: Reader,
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
) -> JSON:
    """Same as ``atlas pv yield --json`` without a weather file: the clear-sky estimate, labelled
    ``is_estimate`` with its banner."""
    result = estimate_yield(
        latitude=lat, longitude=lon, altitude_m=alt, capacity_kwp=kwp, tilt_deg=tilt, azimuth_deg=azimuth,
        price_yuan_per_kwh=price_yuan_per_kwh, beneficiary_households=households,
        clearsky_factor=clearsky_factor, losses_pct=losses, inverter_efficiency=inverter_efficiency,
        dc_ac_ratio=dc_ac_ratio)
    return JSON(yield_json(result))


@router.get("/review", response_class=JSON, summary="光伏项目核查 Review PV projects: modelled vs reported income",
            responses={200: {"description": "JSON, the projects as GeoJSON, or a CSV / XLSX download",
                             "content": {"application/json": {}, GEOJSON: {}, **DOWNLOAD_CONTENT}}})
def pv_review(
    user: CurrentUser,
    engine: EngineDep,
    township: TownshipParam,
    format: Annotated[Literal["json", "geojson", "csv", "xlsx"], Query(
        description="json: every table; geojson: the projects; csv: one table (see table); xlsx: three sheets "
                    "and 说明")] = "json",
    table: Annotated[Literal["projects", "villages", "townships"], Query(
        description="the table of a CSV download")] = "projects",
    price_yuan_per_kwh: Price = params.PRICE_YUAN_PER_KWH,
    low_income_ratio: Annotated[float, Query(ge=0, le=10, description="flag reported income below this share "
                                             "of the modelled income")] = LOW_INCOME_RATIO,
    clearsky_factor: ClearskyFactor = params.CLEARSKY_FACTOR,
) -> Response:
    """Same as ``atlas pv review``, in the caller's townships."""
    _check_reads(user, REVIEW_LAYERS)
    scope = user.township_filter(township)
    result = run_review(engine, township=scope, price_yuan_per_kwh=price_yuan_per_kwh,
                        low_income_ratio=low_income_ratio, clearsky_factor=clearsky_factor)
    suffix = f"_t{township}" if township is not None else ""
    if format == "json":
        return JSON(review_json(result))
    if format == "geojson":
        return GeoJSON(projects_geojson(result))
    if format == "csv":
        return attachment(review_csv(result, table), format="csv", filename=f"pv_review{suffix}_{table}.csv",
                          label=f"光伏项目核查{suffix}_{REVIEW_TABLES[table][0]}.csv")
    return attachment(review_xlsx(result), format="xlsx", filename=f"pv_review{suffix}.xlsx",
                      label=f"光伏项目核查{suffix}.xlsx")


@router.get("/site", response_class=JSON, summary="新建电站选址 Site new PV stations on a grid",
            responses={200: {"description": "the run and its candidates (JSON or GeoJSON)",
                             "content": {"application/json": {}, GEOJSON: {}}}})
def pv_site(
    user: CurrentUser,
    engine: EngineDep,
    township: TownshipParam,
    format: Annotated[Literal["json", "geojson"], Query(description="json: the run and the candidates; "
                                                        "geojson: the candidate areas")] = "json",
    cell_size: Annotated[float, Query(ge=MIN_HTTP_CELL_M, le=10_000, description="grid cell side [m]: at least "
                                      f"{MIN_HTTP_CELL_M:g} m and at most {MAX_HTTP_CELLS:,} cells over HTTP "
                                      "(finer grids with atlas pv site)")] = 500.0,
    max_slope: Annotated[float, Query(gt=0, le=1_000, description="steepest mean slope kept [%] (applies with "
                                      "a DEM, which is a CLI option)")] = params.MAX_SLOPE_PCT,
    exclude: Annotated[list[str] | None, Query(
        description="LAYER:BUFFER_M: a registry layer whose features, buffered, exclude the cells they touch "
                    "(repeatable), e.g. water_facilities:50", max_length=20)] = None,
    keep_existing: Annotated[bool, Query(description="do not exclude existing PV project footprints")] = False,
    grid: Annotated[str | None, Query(max_length=50, description="power lines / substations: a registry layer")]
    = None,
    max_grid_distance: Annotated[float, Query(gt=0, le=MAX_DISTANCE_M, description="[m]")] = MAX_GRID_DISTANCE_M,
    min_area: Annotated[float, Query(ge=0, le=100_000, description="smallest candidate [ha]")] = MIN_AREA_HA,
    block_size: Annotated[float, Query(ge=10, le=100_000, description="merge contiguous cells within blocks of "
                                       "this side [m]")] = BLOCK_SIZE_M,
    power_density: Annotated[float, Query(gt=0, le=10_000, description="[kWp/ha]; LBNL 2022 fixed tilt: 870")]
    = params.POWER_DENSITY_KWP_PER_HA,
    max_kwp: Annotated[float | None, Query(gt=0, le=10_000_000, description="cap one candidate's capacity "
                                           "[kWp]")] = None,
    beneficiary_distance: Annotated[float, Query(ge=0, le=MAX_HTTP_BENEFICIARY_M, description="villages this "
                                                 "close to a candidate benefit from it [m]")] =
    BENEFICIARY_DISTANCE_M,
    top: Annotated[int, Query(ge=1, le=100, description="best N candidates")] = 10,
    price_yuan_per_kwh: Price = params.PRICE_YUAN_PER_KWH,
    clearsky_factor: ClearskyFactor = params.CLEARSKY_FACTOR,
) -> Response:
    """Same as ``atlas pv site`` on the registry: sites in the townships asked (default: the
    caller's townships, or the district). Exclusions and the grid name registry layers only
    (never files); a caller limited to some townships counts beneficiaries in them only."""
    _check_reads(user, REVIEW_LAYERS)
    named = [("exclude", text.rpartition(":")[0] if ":" in text else text) for text in exclude or []]
    for param, layer in named + ([("grid", grid)] if grid else []):
        if layer not in LAYERS:
            raise ValidationError(f"{param}: {layer!r} is not a registry layer; give one of {', '.join(LAYERS)}"
                                  + (" with :METRES, e.g. water_facilities:50" if param == "exclude" else ""))
        check_layer(user, layer)
    scope = user.township_filter(township)
    result = run_siting(
        engine, township=scope, whole_district=user.township_ids is None, exclude=exclude or (),
        keep_existing=keep_existing, grid=grid, allow_files=False, cell_size_m=cell_size, max_slope_pct=max_slope,
        max_grid_distance_m=max_grid_distance, block_size_m=block_size, min_area_ha=min_area,
        power_density_kwp_per_ha=power_density, max_station_kwp=max_kwp, beneficiary_distance_m=beneficiary_distance,
        clearsky_factor=clearsky_factor, price_yuan_per_kwh=price_yuan_per_kwh, top=top, max_cells=MAX_HTTP_CELLS)
    return GeoJSON(candidates_geojson(result)) if format == "geojson" else JSON(site_json(result))


@router.get("/size", response_class=JSON, summary="村级电站规模 Size a village station for a target income")
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
    max_kwp: Annotated[float, Query(ge=1, le=10_000_000, description="upper bound of one station [kWp]")] =
    params.MAX_STATION_KWP,
    household_share: Annotated[float, Query(gt=0, le=1, description="share of income paid to households")] = 1.0,
    price_yuan_per_kwh: Price = params.PRICE_YUAN_PER_KWH,
    clearsky_factor: ClearskyFactor = params.CLEARSKY_FACTOR,
) -> JSON:
    """Same as ``atlas pv size --json``: give ``lat`` and ``lon`` with ``households``, or a
    ``village`` (in the caller's townships; its households need the households layer)."""
    if village is not None:
        _check_reads(user, ("villages", "households"))
    result, modelled, name = run_sizing(
        engine, households=households, latitude=lat, longitude=lon, village=village,
        township=user.township_filter() if village is not None else None, altitude_m=alt,
        price_yuan_per_kwh=price_yuan_per_kwh, clearsky_factor=clearsky_factor,
        target_income_yuan_per_household=target_income, max_station_kwp=max_kwp, household_share=household_share)
    return JSON(size_json(result, modelled, village=name, latitude=modelled.latitude,
                          longitude=modelled.longitude))
