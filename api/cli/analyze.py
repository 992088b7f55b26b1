"""``atlas analyze NAME``: the gap analyses (coverage, roads, water, exit, priority).

Every command takes ``--township``, ``--format table|csv|json|geojson|xlsx``, ``-o FILE``
and ``--table`` (which table to write; CSV holds one, the others default to all), plus the
analysis' thresholds as options whose defaults are the documented ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, engine_for
from geo.analysis import coverage as coverage_mod
from geo.analysis import exit_standards as exit_mod
from geo.analysis import priority as priority_mod
from geo.analysis import roads as roads_mod
from geo.analysis import water as water_mod
from geo.analysis.catalog import check_table
from geo.services.analyses import run_analysis
from geo.analysis.options import analysis_options
from geo.analysis.output import FORMATS, render, write
from geo.errors import ValidationError

analyze_app = typer.Typer(
    help="Gap analyses: pairing coverage, road and water access, exit-standard scorecards, project priority.",
    no_args_is_help=True,
)

TownshipOption = Annotated[
    str | None, typer.Option("--township", "--area", "-t", help="Only this area: a township (name, 9-digit code or id) "
                                                  "or a county, prefecture or province (GB/T 2260 six-digit code or name).")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help=f"Output format: {'|'.join(FORMATS)}.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to FILE instead of the terminal (required for xlsx).")]
TableOption = Annotated[
    str | None, typer.Option("--table", help="Only this result table (e.g. villages, links); CSV defaults to the "
                                             "first table, other formats to all.")]


ByOption = Annotated[
    str | None, typer.Option("--by", help="county: run each county (first 6 digits of the township code) as a "
                                          "Dask task, results concatenated, rankings sorted over all counties.")]
WorkersOption = Annotated[
    int | None, typer.Option("--workers", help="With --by county: worker processes of the local cluster "
                                               "(default 2).")]
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="With --by county: address of a running Dask scheduler "
                                                 "(tcp://HOST:8786) instead of a local cluster.")]


def _emit(name: str, township: str | None, fmt: str, output: Path | None, table: str | None, db: str | None,
          partition: tuple[str | None, int | None, str | None], **options) -> None:
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if fmt == "xlsx" and output is None:
        raise ValidationError("xlsx is a binary file: give -o FILE.xlsx")
    check_table(name, table)
    by, workers, scheduler = partition
    if by is None:
        if workers is not None or scheduler is not None:
            raise ValidationError("--workers and --scheduler go with --by county")
        result = run_analysis(engine_for(db), name, township=township, **analysis_options(name, **options))
    else:
        result = _by_county(name, by, township, db, workers, scheduler, analysis_options(name, **options))
    if output is not None:
        write(result, fmt, output, table=table)
        shown = table or ("全部" if fmt != "csv" else result.primary)
        typer.echo(f"{result.title}：已写入 {output}（{fmt}，表 {shown}；距离坐标系 {result.crs or '—'}）", err=True)
        return
    typer.echo(render(result, fmt, table=table), nl=fmt != "table")


def _by_county(name: str, by: str, township: str | None, db: str | None, workers: int | None,
               scheduler: str | None, options: dict):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from geo.services.partitioned import run_by_county

    if by != "county":
        raise ValidationError(f"--by must be 'county', not {by!r}")
    if township is not None:
        raise ValidationError("--township and --by county do not go together: one township is one partition")
    url = engine_for(db).url.render_as_string(hide_password=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(f"{name} 按区县计算", total=None)

        def advance(done: int, total: int, county: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{name} 按区县计算（{county} 完成）")

        return run_by_county(url, name, workers=workers, scheduler=scheduler, progress=advance, **options)


@analyze_app.command("coverage")
def coverage(
    db: DbOption = None,
    township: TownshipOption = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    table: TableOption = None,
    by: ByOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    year: Annotated[int | None, typer.Option(help="Pairing year (default: the latest in the data).")] = None,
    max_households_per_cadre: Annotated[int, typer.Option(
        help="Households one cadre may carry (seed 001).")] = coverage_mod.DEFAULT_MAX_HOUSEHOLDS_PER_CADRE,
    poor_categories: Annotated[str, typer.Option(
        help="Village categories counted as poor villages, comma-separated.")] = ",".join(
        coverage_mod.DEFAULT_POOR_CATEGORIES),
) -> None:
    """Pairing coverage: units, funds, work teams and cadres per village, township and district."""
    _emit("coverage", township, fmt, output, table, db, (by, workers, scheduler), year=year, max_households_per_cadre=max_households_per_cadre,
          poor_categories=poor_categories)


@analyze_app.command("roads")
def roads(
    db: DbOption = None,
    township: TownshipOption = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    table: TableOption = None,
    by: ByOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    access_tolerance_m: Annotated[float, typer.Option(
        help="A place this close to a road is on it (m).")] = roads_mod.DEFAULT_ACCESS_TOLERANCE_M,
    snap_tolerance_m: Annotated[float, typer.Option(
        help="Road endpoints this close are joined (m).")] = roads_mod.DEFAULT_SNAP_TOLERANCE_M,
    settlement_min_households: Annotated[int, typer.Option(
        help="Settlements this large need a road (seed 003).")] = roads_mod.DEFAULT_SETTLEMENT_MIN_HOUSEHOLDS,
    settlement_min_width_m: Annotated[float, typer.Option(
        help="Minimum width of that road (m) (seed 003).")] = roads_mod.DEFAULT_SETTLEMENT_MIN_WIDTH_M,
    all_season_surfaces: Annotated[str, typer.Option(
        help="Surfaces counted as all-season for the RAI, comma-separated.")] = ",".join(
        roads_mod.DEFAULT_ALL_SEASON_SURFACES),
    rai_distance_m: Annotated[float, typer.Option(
        help="Rural Access Index distance (m) (World Bank).")] = roads_mod.DEFAULT_RAI_DISTANCE_M,
    rai_population_from: Annotated[str, typer.Option(
        help="People for the RAI: settlements or households.")] = "settlements",
    cost_yuan_per_km: Annotated[float, typer.Option(
        help="Cost of a new link (yuan/km).")] = roads_mod.DEFAULT_COST_YUAN_PER_KM,
    link_plan: Annotated[str, typer.Option(
        help="network: links chosen together, least total length; one_by_one: each place's own shortest link "
             "(both are compared in table link_plans).")] = "network",
    include_planned: Annotated[bool, typer.Option(
        "--include-planned", help="Also count planned and building projects (completed road and well projects "
                                  "with geometry always count).")] = False,
    band: Annotated[bool, typer.Option(help="Include the all-season road band polygon.")] = True,
) -> None:
    """Road access: distances, seat connection, settlement gaps, RAI and the links still to build."""
    _emit("roads", township, fmt, output, table, db, (by, workers, scheduler), access_tolerance_m=access_tolerance_m,
          snap_tolerance_m=snap_tolerance_m, settlement_min_households=settlement_min_households,
          settlement_min_width_m=settlement_min_width_m,
          all_season_surfaces=all_season_surfaces,
          rai_distance_m=rai_distance_m, rai_population_from=rai_population_from, cost_yuan_per_km=cost_yuan_per_km,
          link_plan=link_plan, include_planned=include_planned, band=band)


@analyze_app.command("water")
def water(
    db: DbOption = None,
    township: TownshipOption = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    table: TableOption = None,
    by: ByOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    supply_distance_m: Annotated[float, typer.Option(
        help="Farther than this from a working supply point is beyond supply (m).")] =
    water_mod.DEFAULT_SUPPLY_DISTANCE_M,
    safe_water_threshold_pct: Annotated[float, typer.Option(
        help="Safe-water coverage pass mark (%) (assumption).")] = water_mod.DEFAULT_SAFE_WATER_THRESHOLD_PCT,
    out_of_service_statuses: Annotated[str, typer.Option(
        help="Facility statuses reported as out of service, comma-separated.")] = ",".join(
        water_mod.DEFAULT_OUT_OF_SERVICE_STATUSES),
    conflict_population: Annotated[float, typer.Option(
        help="疑点: flag a village whose stated share passes while more people than this live beyond the supply "
             "distance (assumption).")] = water_mod.DEFAULT_CONFLICT_POPULATION,
    include_planned: Annotated[bool, typer.Option(
        "--include-planned", help="Also count planned and building projects (completed road and well projects "
                                  "with geometry always count).")] = False,
) -> None:
    """Drinking water: distances to working supply points, coverage, facilities out of service."""
    _emit("water", township, fmt, output, table, db, (by, workers, scheduler), supply_distance_m=supply_distance_m,
          safe_water_threshold_pct=safe_water_threshold_pct,
          out_of_service_statuses=out_of_service_statuses, conflict_population=conflict_population,
          include_planned=include_planned)


@analyze_app.command("exit")
def exit_(
    db: DbOption = None,
    township: TownshipOption = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    table: TableOption = None,
    by: ByOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    year: Annotated[int | None, typer.Option(help="This year, for 今年计划脱贫户 (default: every year).")] = None,
    incidence_threshold_pct: Annotated[float, typer.Option(
        help="Poverty incidence must be below this (%) (seed 003).")] = exit_mod.DEFAULT_INCIDENCE_THRESHOLD_PCT,
    housing_m2_per_person: Annotated[float, typer.Option(
        help="Stable housing floor area (m2 a person) (seed 003).")] = exit_mod.DEFAULT_HOUSING_M2_PER_PERSON,
    share_threshold_pct: Annotated[float, typer.Option(
        help="Pass mark of the share items: housing, medical, water, power, TV (%) (assumption).")] =
    exit_mod.DEFAULT_SHARE_THRESHOLD_PCT,
    collective_income_min_wan_yuan: Annotated[float | None, typer.Option(
        help="Minimum collective income (万元) (default: any collective economy passes).")] = None,
    access_tolerance_m: Annotated[float, typer.Option(help="Road rule (m).")] = roads_mod.DEFAULT_ACCESS_TOLERANCE_M,
    supply_distance_m: Annotated[float, typer.Option(help="Water rule (m).")] = water_mod.DEFAULT_SUPPLY_DISTANCE_M,
) -> None:
    """Exit standards (seed 003 village form): pass / fail / unknown per village, and 表4."""
    _emit("exit", township, fmt, output, table, db, (by, workers, scheduler), year=year, incidence_threshold_pct=incidence_threshold_pct,
          housing_m2_per_person=housing_m2_per_person, collective_income_min_wan_yuan=collective_income_min_wan_yuan,
          access_tolerance_m=access_tolerance_m, supply_distance_m=supply_distance_m,
          share_threshold_pct=share_threshold_pct)


@analyze_app.command("priority")
def priority(
    db: DbOption = None,
    township: TownshipOption = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    table: TableOption = None,
    by: ByOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    kind: Annotated[str, typer.Option(help="Project kind: road, water or pv.")] = "road",
    budget_wan_yuan: Annotated[float | None, typer.Option(
        "--budget", help="Money available (万元); the result says what it buys.")] = None,
    rank: Annotated[str, typer.Option(
        help="need: by the score; value: by registered-poor households (then people) reached per 万元.")] = "need",
    optimise: Annotated[bool, typer.Option(
        "--optimise/--no-optimise", help="With --budget: the set reaching the most registered-poor households "
                                         "(integer programme), the rank-order choice beside it.")] = False,
    poor_weight: Annotated[float, typer.Option(
        help="Weight of registered-poor households in the score.")] = priority_mod.DEFAULT_POOR_WEIGHT,
    population_weight: Annotated[float, typer.Option(
        help="Weight of population in the score.")] = priority_mod.DEFAULT_POPULATION_WEIGHT,
    cost_yuan_per_km: Annotated[float, typer.Option(
        help="Road: cost of a new link (yuan/km).")] = roads_mod.DEFAULT_COST_YUAN_PER_KM,
    cost_wan_yuan_per_supply_point: Annotated[float | None, typer.Option(
        help="Water: cost of one new supply point (万元).")] = None,
    kw_per_household: Annotated[float, typer.Option(
        help="PV: capacity per household (kW).")] = priority_mod.DEFAULT_KW_PER_HOUSEHOLD,
    cost_wan_yuan_per_kw: Annotated[float | None, typer.Option(
        help="PV: cost (万元/kW) (default: median of the registered PV projects).")] = None,
    pv_statuses: Annotated[str, typer.Option(
        help="PV: household statuses to reach, comma-separated.")] = ",".join(priority_mod.DEFAULT_PV_STATUSES),
) -> None:
    """Where the next road, water or PV project should go, with the score's components."""
    if kind not in priority_mod.KINDS:
        raise ValidationError(f"--kind must be one of {', '.join(priority_mod.KINDS)}, not {kind!r}")
    _emit("priority", township, fmt, output, table, db, (by, workers, scheduler), kind=kind, budget_wan_yuan=budget_wan_yuan, rank=rank,
          optimise=optimise,
          poor_weight=poor_weight, population_weight=population_weight, cost_yuan_per_km=cost_yuan_per_km,
          cost_wan_yuan_per_supply_point=cost_wan_yuan_per_supply_point, kw_per_household=kw_per_household,
          cost_wan_yuan_per_kw=cost_wan_yuan_per_kw, pv_statuses=pv_statuses)


@analyze_app.command("inputs")
def inputs(
    db: DbOption = None,
    township: TownshipOption = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    table: TableOption = None,
    year: Annotated[int | None, typer.Option(help="Year (default: the latest year with pairings or inputs).")] = None,
) -> None:
    """Inputs against tasks: each unit's 附件2 figures (funds, cadres by rank, visits, projects) beside its
    task funds (附件1), per village, unit, township and district."""
    _emit("inputs", township, fmt, output, table, db, (None, None, None), year=year)


def register(app: typer.Typer) -> None:
    app.add_typer(analyze_app, name="analyze")
