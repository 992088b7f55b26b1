"""``/api/analyses``: the gap analyses of ``atlas analyze`` over HTTP, one endpoint per command.

Each endpoint takes the command's options as query parameters (same names, same documented
defaults), turns them into the analysis options with :func:`geo.analysis.options.analysis_options`
(shared with the CLI), runs :func:`geo.services.analyses.run_analysis` in the caller's townships,
and answers in the format asked: JSON (every table), GeoJSON (tables with geometry), or a CSV
or XLSX download with the Chinese headers the CLI writes (:mod:`geo.analysis.output`).

An analysis reads several layers (households among them); the caller must be allowed to read
every one. Analyses never read personal fields: results count households, never name them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as FastAPIPath
from fastapi.responses import Response

from api.deps import CurrentUser, EngineDep, Principal, TownshipParam, check_layer, township_tag
from api.downloads import DOWNLOAD_CONTENT, attachment
from api.geojson import GEOJSON, JSON, GeoJSON
from api.schemas.common import problem_responses
from geo.analysis import coverage as coverage_mod
from geo.analysis import exit_standards as exit_mod
from geo.analysis import priority as priority_mod
from geo.analysis import roads as roads_mod
from geo.analysis import water as water_mod
from geo.analysis.catalog import ANALYSES, NEEDS, TITLES, check_table
from geo.analysis.options import analysis_options
from geo.analysis.output import to_csv, to_geojson, to_json, to_xlsx
from geo.analysis.result import AnalysisResult
from geo.layers import LAYERS
from geo.errors import Conflict
from geo.services.analyses import run_analysis
from geo.services.partitioned import get_job, start_job

router = APIRouter(prefix="/api/analyses", tags=["analyses"], responses=problem_responses(401, 403, 404, 422))

OutputFormat = Literal["json", "geojson", "csv", "xlsx"]
#: Upper bound of distances and tolerances [m]: a county is well inside 200 km.
MAX_DISTANCE_M = 200_000.0
MAX_MONEY = 1e12


class Output:
    """The ``format`` and ``table`` query parameters every analysis takes."""

    def __init__(
        self,
        format: Annotated[OutputFormat, Query(
            description="json: metadata and every table (English names, codes); geojson: the tables with "
                        "geometry as one FeatureCollection (or one table); csv: one table (default the first) "
                        "with Chinese headers, UTF-8 with BOM; xlsx: every table on its sheet plus 说明")] = "json",
        table: Annotated[str | None, Query(
            description="only this result table (e.g. villages, links); csv defaults to the first table",
            max_length=50, pattern=r"^[a-z_]+$", examples=["villages"])] = None,
    ):
        self.format = format
        self.table = table


OutputParam = Annotated[Output, Depends()]
_RESPONSES = {200: {"description": "the result: JSON, GeoJSON, or a CSV / XLSX download",
                    "content": {"application/json": {}, GEOJSON: {}, **DOWNLOAD_CONTENT}}}


def _check_inputs(user: Principal, analysis: str) -> None:
    """401/403 unless the caller may read every layer the analysis reads."""
    for layer in NEEDS[analysis]:
        if layer in LAYERS:
            try:
                check_layer(user, layer)
            except HTTPException as exc:
                exc.detail = f"{exc.detail}, which the {analysis} analysis reads"
                raise


def _answer(result: AnalysisResult, output: Output, township_label: str | None) -> Response:
    """The result in the format asked (tables checked by :mod:`geo.analysis.output`)."""
    if output.format == "json":
        return JSON(to_json(result, table=output.table))
    if output.format == "geojson":
        return GeoJSON(to_geojson(result, table=output.table))
    table = output.table or (result.primary if output.format == "csv" else None)
    stem = "_".join(p for p in (result.name, township_label, table) if p)
    label = "_".join(p for p in (result.title, township_label, result.titles.get(table, table) if table else None)
                     if p)
    if output.format == "csv":
        return attachment(to_csv(result, table=table).encode("utf-8-sig"), format="csv",
                          filename=f"{stem}.csv", label=f"{label}.csv")
    return attachment(to_xlsx(result, table=table), format="xlsx", filename=f"{stem}.xlsx", label=f"{label}.xlsx")


def _run(engine, user: Principal, analysis: str, township: int | list[int] | None, output: Output,
         **given: Any) -> Response:
    _check_inputs(user, analysis)
    check_table(analysis, output.table)
    options = analysis_options(analysis, **given)
    scope = user.township_filter(township)
    result = run_analysis(engine, analysis, township=scope, reuse=True, **options)
    render = getattr(output, "render", None)  # the 分析 page's output (api.pages.analyses) renders HTML
    return render(result) if render else _answer(result, output, township_tag(township))


def _parameters(analysis: str) -> list[dict]:
    """The query parameters of an analysis endpoint, read from the route itself."""
    for route in router.routes:
        if getattr(route, "name", None) == f"analysis_{analysis}":
            out = []
            for param in route.dependant.query_params + [q for d in route.dependant.dependencies
                                                        for q in d.query_params]:
                info = param.field_info
                default = None if info.is_required() else info.default
                out.append({"name": param.alias, "default": default, "description": info.description})
            return out
    return []


@router.get("", summary="The analyses, with their Chinese titles and parameters")
def list_analyses(user: CurrentUser, request: Request) -> list[dict]:
    """Every analysis: name, Chinese title, the layers it reads, whether the caller may run it,
    its query parameters with their defaults, and its link."""
    out = []
    for name in ANALYSES:
        layers = [n for n in NEEDS[name] if n in LAYERS]
        out.append({
            "name": name, "title": TITLES[name], "layers": layers,
            "allowed": all(user.can_read_layer(n) for n in layers),
            "parameters": _parameters(name),
            "href": str(request.url_for(f"analysis_{name}")),
        })
    return out


@router.get("/coverage", name="analysis_coverage", response_class=JSON, responses=_RESPONSES,
            summary="帮扶覆盖分析 Pairing coverage: units, funds, work teams and cadres per village")
def coverage(
    user: CurrentUser, engine: EngineDep, township: TownshipParam, output: OutputParam,
    year: Annotated[int | None, Query(ge=1949, le=2100, description="pairing year (default: the latest in "
                                                                   "the data)")] = None,
    max_households_per_cadre: Annotated[int, Query(ge=1, le=10_000, description="households one cadre may "
                                                   "carry (seed 001)")] = coverage_mod.DEFAULT_MAX_HOUSEHOLDS_PER_CADRE,
    poor_categories: Annotated[str, Query(max_length=200, description="village categories counted as poor "
                                          "villages, comma-separated (codes or Chinese labels)")] =
    ",".join(coverage_mod.DEFAULT_POOR_CATEGORIES),
) -> Response:
    """Same as ``atlas analyze coverage``."""
    return _run(engine, user, "coverage", township, output, year=year,
                max_households_per_cadre=max_households_per_cadre, poor_categories=poor_categories)


@router.get("/roads", name="analysis_roads", response_class=JSON, responses=_RESPONSES,
            summary="道路通达分析 Road access: distances, seat connection, settlement gaps, RAI, links to build")
def roads(
    user: CurrentUser, engine: EngineDep, township: TownshipParam, output: OutputParam,
    access_tolerance_m: Annotated[float, Query(ge=0, le=MAX_DISTANCE_M, description="a place this close to a "
                                               "road is on it [m]")] = roads_mod.DEFAULT_ACCESS_TOLERANCE_M,
    snap_tolerance_m: Annotated[float, Query(ge=0, le=1_000, description="road endpoints this close are "
                                             "joined [m]")] = roads_mod.DEFAULT_SNAP_TOLERANCE_M,
    settlement_min_households: Annotated[int, Query(ge=0, le=100_000, description="settlements this large need "
                                                    "a road (seed 003)")] = roads_mod.DEFAULT_SETTLEMENT_MIN_HOUSEHOLDS,
    settlement_min_width_m: Annotated[float, Query(ge=0, le=100, description="minimum width of that road [m] "
                                                   "(seed 003)")] = roads_mod.DEFAULT_SETTLEMENT_MIN_WIDTH_M,
    all_season_surfaces: Annotated[str, Query(max_length=200, description="surfaces counted as all-season for "
                                              "the RAI, comma-separated")] =
    ",".join(roads_mod.DEFAULT_ALL_SEASON_SURFACES),
    rai_distance_m: Annotated[float, Query(ge=0, le=MAX_DISTANCE_M, description="Rural Access Index distance "
                                           "[m] (World Bank)")] = roads_mod.DEFAULT_RAI_DISTANCE_M,
    rai_population_from: Annotated[Literal["settlements", "households"], Query(
        description="people for the RAI: settlements or households")] = "settlements",
    cost_yuan_per_km: Annotated[float, Query(ge=0, le=MAX_MONEY, description="cost of a new link "
                                             "[yuan/km]")] = roads_mod.DEFAULT_COST_YUAN_PER_KM,
    link_plan: Annotated[Literal["network", "one_by_one"], Query(
        description="network: links chosen together, least total length (default); one_by_one: each place's "
                    "own shortest link to its seat's network (the two are compared in table link_plans)")] =
    "network",
    include_planned: Annotated[bool, Query(description="also count planned and building projects (completed "
                                                       "road and well projects with geometry always count)")] = False,
    band: Annotated[bool, Query(description="include the all-season road band polygon")] = True,
) -> Response:
    """Same as ``atlas analyze roads``."""
    return _run(engine, user, "roads", township, output, access_tolerance_m=access_tolerance_m,
                snap_tolerance_m=snap_tolerance_m, settlement_min_households=settlement_min_households,
                settlement_min_width_m=settlement_min_width_m, all_season_surfaces=all_season_surfaces,
                rai_distance_m=rai_distance_m, rai_population_from=rai_population_from,
                cost_yuan_per_km=cost_yuan_per_km, link_plan=link_plan, include_planned=include_planned, band=band)


@router.get("/water", name="analysis_water", response_class=JSON, responses=_RESPONSES,
            summary="饮水安全分析 Drinking water: distances to supply points, coverage, facilities out of service")
def water(
    user: CurrentUser, engine: EngineDep, township: TownshipParam, output: OutputParam,
    supply_distance_m: Annotated[float, Query(ge=0, le=MAX_DISTANCE_M, description="farther than this from a "
                                              "working supply point is beyond supply [m]")] =
    water_mod.DEFAULT_SUPPLY_DISTANCE_M,
    safe_water_threshold_pct: Annotated[float, Query(ge=0, le=100, description="safe-water coverage pass mark "
                                                     "[%] (assumption)")] = water_mod.DEFAULT_SAFE_WATER_THRESHOLD_PCT,
    out_of_service_statuses: Annotated[str, Query(max_length=200, description="facility statuses reported as "
                                                  "out of service, comma-separated")] =
    ",".join(water_mod.DEFAULT_OUT_OF_SERVICE_STATUSES),
    conflict_population: Annotated[float, Query(ge=0, le=10_000_000, description="疑点: a village whose stated "
                                                "share passes while more people than this live beyond the supply "
                                                "distance is flagged [people] (assumption)")] =
    water_mod.DEFAULT_CONFLICT_POPULATION,
    include_planned: Annotated[bool, Query(description="also count planned and building projects (completed "
                                                       "road and well projects with geometry always count)")] = False,
) -> Response:
    """Same as ``atlas analyze water``."""
    return _run(engine, user, "water", township, output, supply_distance_m=supply_distance_m,
                safe_water_threshold_pct=safe_water_threshold_pct, out_of_service_statuses=out_of_service_statuses,
                conflict_population=conflict_population, include_planned=include_planned)


@router.get("/exit", name="analysis_exit", response_class=JSON, responses=_RESPONSES,
            summary="贫困村退出标准核查 Exit standards: pass / fail / unknown per village, and 表4")
def exit_(
    user: CurrentUser, engine: EngineDep, township: TownshipParam, output: OutputParam,
    year: Annotated[int | None, Query(ge=1949, le=2100, description="this year, for 今年计划脱贫户 (default: "
                                                                   "every year)")] = None,
    incidence_threshold_pct: Annotated[float, Query(ge=0, le=100, description="poverty incidence must be below "
                                                    "this [%] (seed 003)")] = exit_mod.DEFAULT_INCIDENCE_THRESHOLD_PCT,
    housing_m2_per_person: Annotated[float, Query(ge=0, le=1_000, description="stable housing floor area [m2 a "
                                                  "person] (seed 003)")] = exit_mod.DEFAULT_HOUSING_M2_PER_PERSON,
    share_threshold_pct: Annotated[float, Query(ge=0, le=100, description="pass mark of the share items: "
                                                "housing, medical, water, power, TV [%] (assumption)")] =
    exit_mod.DEFAULT_SHARE_THRESHOLD_PCT,
    collective_income_min_wan_yuan: Annotated[float | None, Query(ge=0, le=MAX_MONEY, description="minimum "
                                              "collective income [万元] (default: any collective economy passes)")]
    = None,
    access_tolerance_m: Annotated[float, Query(ge=0, le=MAX_DISTANCE_M, description="road rule [m]")] =
    roads_mod.DEFAULT_ACCESS_TOLERANCE_M,
    supply_distance_m: Annotated[float, Query(ge=0, le=MAX_DISTANCE_M, description="water rule [m]")] =
    water_mod.DEFAULT_SUPPLY_DISTANCE_M,
) -> Response:
    """Same as ``atlas analyze exit``."""
    return _run(engine, user, "exit", township, output, year=year, incidence_threshold_pct=incidence_threshold_pct,
                housing_m2_per_person=housing_m2_per_person, share_threshold_pct=share_threshold_pct,
                collective_income_min_wan_yuan=collective_income_min_wan_yuan,
                access_tolerance_m=access_tolerance_m, supply_distance_m=supply_distance_m)


@router.get("/priority", name="analysis_priority", response_class=JSON, responses=_RESPONSES,
            summary="项目优先排序 Where the next road, water or PV project should go")
def priority(
    user: CurrentUser, engine: EngineDep, township: TownshipParam, output: OutputParam,
    kind: Annotated[Literal["road", "water", "pv"], Query(description="project kind")] = "road",
    budget: Annotated[float | None, Query(ge=0, le=MAX_MONEY, description="money available [万元]; the result "
                                          "says what it buys")] = None,
    rank: Annotated[Literal["need", "value"], Query(
        description="need: by the score; value: by unmet registered-poor households (then people) per 万元")] =
    "need",
    optimise: Annotated[bool, Query(
        description="with a budget: the set of villages reaching the most registered-poor households (integer "
                    "programme, shared links paid once), the rank-order choice beside it")] = False,
    poor_weight: Annotated[float, Query(ge=0, le=1_000, description="weight of registered-poor households in "
                                        "the score")] = priority_mod.DEFAULT_POOR_WEIGHT,
    population_weight: Annotated[float, Query(ge=0, le=1_000, description="weight of population in the score")]
    = priority_mod.DEFAULT_POPULATION_WEIGHT,
    cost_yuan_per_km: Annotated[float, Query(ge=0, le=MAX_MONEY, description="road: cost of a new link "
                                             "[yuan/km]")] = roads_mod.DEFAULT_COST_YUAN_PER_KM,
    cost_wan_yuan_per_supply_point: Annotated[float | None, Query(ge=0, le=MAX_MONEY, description="water: cost "
                                              "of one new supply point [万元]")] = None,
    kw_per_household: Annotated[float, Query(gt=0, le=1_000, description="PV: capacity per household [kW]")] =
    priority_mod.DEFAULT_KW_PER_HOUSEHOLD,
    cost_wan_yuan_per_kw: Annotated[float | None, Query(ge=0, le=MAX_MONEY, description="PV: cost [万元/kW] "
                                    "(default: median of the registered PV projects)")] = None,
    pv_statuses: Annotated[str, Query(max_length=200, description="PV: household statuses to reach, "
                                      "comma-separated")] = ",".join(priority_mod.DEFAULT_PV_STATUSES),
) -> Response:
    """Same as ``atlas analyze priority`` (``budget`` is its ``--budget``)."""
    return _run(engine, user, "priority", township, output, kind=kind, budget_wan_yuan=budget, rank=rank,
                optimise=optimise, poor_weight=poor_weight, population_weight=population_weight, cost_yuan_per_km=cost_yuan_per_km,
                cost_wan_yuan_per_supply_point=cost_wan_yuan_per_supply_point, kw_per_household=kw_per_household,
                cost_wan_yuan_per_kw=cost_wan_yuan_per_kw, pv_statuses=pv_statuses)


@router.get("/inputs", name="analysis_inputs", response_class=JSON, responses=_RESPONSES,
            summary="帮扶投入与任务对照 Inputs (附件2) against task funds (附件1) per unit and village")
def inputs(
    user: CurrentUser, engine: EngineDep, township: TownshipParam, output: OutputParam,
    year: Annotated[int | None, Query(ge=1949, le=2100, description="the year (default: the latest year with "
                                                                   "pairings or inputs)")] = None,
) -> Response:
    """Same as ``atlas analyze inputs``."""
    return _run(engine, user, "inputs", township, output, year=year)


# ------------------------------------------------------------------------------ by-county jobs

AnalysisName = Annotated[Literal["coverage", "roads", "water", "exit", "priority"], FastAPIPath(
    description="the analysis to run county by county")]


@router.post("/{analysis}/jobs", name="analysis_job_start", status_code=202, response_class=JSON,
             summary="按区县后台计算 Start an analysis county by county (Dask tasks) in the background")
def start_by_county_job(
    analysis: AnalysisName, user: CurrentUser, engine: EngineDep, request: Request,
    by: Annotated[Literal["county"], Query(description="partition: county (first 6 digits of the township "
                                                       "code)")] = "county",
    kind: Annotated[Literal["road", "water", "pv"], Query(description="priority: the project kind")] = "road",
) -> Response:
    """202 with the job's status and its link (``Location``); poll it, then fetch the result.

    The run reads the whole registry, so only accounts that may read every township start one.
    """
    _check_inputs(user, analysis)
    if user.township_filter(None) is not None:
        raise HTTPException(403, "a by-county run reads every township; your account may read some townships only")
    options = analysis_options(analysis, **({"kind": kind} if analysis == "priority" else {}))
    job = start_job(engine.url.render_as_string(hide_password=False), analysis, **options)
    href = str(request.url_for("analysis_job", analysis=analysis, job_id=job.id))
    return JSON({**job.status(), "by": by, "href": href,
                 "result_href": str(request.url_for("analysis_job_result", analysis=analysis, job_id=job.id))},
                status_code=202, headers={"Location": href})


@router.get("/{analysis}/jobs/{job_id}", name="analysis_job", response_class=JSON,
            summary="Status of a by-county job: queued, running (counties done), done or failed")
def by_county_job(analysis: AnalysisName, job_id: Annotated[str, FastAPIPath(max_length=64)], user: CurrentUser,
                  request: Request) -> Response:
    _check_inputs(user, analysis)
    job = get_job(job_id, analysis)
    return JSON({**job.status(),
                 "result_href": str(request.url_for("analysis_job_result", analysis=analysis, job_id=job.id))})


@router.get("/{analysis}/jobs/{job_id}/result", name="analysis_job_result", response_class=JSON,
            responses=_RESPONSES, summary="The result of a finished by-county job (409 until it is done)")
def by_county_job_result(analysis: AnalysisName, job_id: Annotated[str, FastAPIPath(max_length=64)],
                         user: CurrentUser, output: OutputParam) -> Response:
    _check_inputs(user, analysis)
    job = get_job(job_id, analysis)
    if job.state == "failed":
        raise Conflict(f"job {job_id} failed: {job.error}")
    if job.result is None:
        raise Conflict(f"job {job_id} is {job.state} ({job.done} of {job.total or '?'} counties done); "
                       "ask its status again later")
    check_table(analysis, output.table)
    return _answer(job.result, output, "by_county")
