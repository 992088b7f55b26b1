"""``atlas projects ...``: the project library (项目库), from the village's proposal to the
asset it leaves; ``atlas assets ...``: the asset ledger (资产台账)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, cli_actor, echo_json, engine_for
from geo.enums import AssetClass, ProjectKind, ProjectStage
from geo.errors import ValidationError

projects_app = typer.Typer(help="项目库: projects from the village's proposal through township review and county "
                                "approval to completion and hand-over as an asset.", no_args_is_help=True)
assets_app = typer.Typer(help="资产台账: the assets completed projects left, PV stations with their ledger.",
                         no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
OnOption = Annotated[str | None, typer.Option("--on", help="The day the step was taken, YYYY-MM-DD (default today).")]
OfficeOption = Annotated[str | None, typer.Option(help="On whose behalf (default the step's: 村两委, 乡镇人民政府 ...).")]
NoteOption = Annotated[str | None, typer.Option("--note", "-m", help="A note kept with the step (批复文号 ...).")]
VersionOption = Annotated[int | None, typer.Option(help="The version you read: refused if the project changed since.")]
TownshipOption = Annotated[str | None, typer.Option("--township", "-t", help="Only this township (name, code or id).")]
TargetsOption = Annotated[str | None, typer.Option("--targets", help="绩效目标: what the project will deliver.")]
HouseholdsOption = Annotated[int | None, typer.Option("--households", help="联农带农: households it links.")]
JobsOption = Annotated[int | None, typer.Option("--jobs", help="联农带农: jobs it gives (persons).")]
IncomeOption = Annotated[float | None, typer.Option("--income", help="联农带农: income it adds (元/年).")]
MechanismOption = Annotated[str | None, typer.Option("--mechanism", help="联农带农机制: 务工、分红、订单收购 ...")]

_STAGES = ", ".join(f"{s.value} ({s.label})" for s in ProjectStage)


def _targets(targets, households, jobs, income, mechanism) -> dict:
    return {"performance_targets": targets, "benefit_households": households, "benefit_jobs": jobs,
            "benefit_income_yuan": income, "benefit_mechanism": mechanism}


def _line(row: dict) -> str:
    money = f"，{row['funds_wan_yuan']:g}万元" if row.get("funds_wan_yuan") is not None else ""
    note = f"（{row['stage_note']}）" if row.get("stage_note") else ""
    return (f"{row.get('code') or row['id']} [{row['stage_label']}]{note} {ProjectKind(row['kind']).label} "
            f"{row.get('village_name') or ''} {row['name']}{money}  v{row['version']}")


def _echo(row: dict, as_json: bool) -> None:
    if as_json:
        echo_json({k: v for k, v in row.items() if k != "geometry"})
        return
    typer.echo(_line(row))
    for event in row.get("history", []):
        typer.echo(f"  {event['event_date']} {event['step']:<9} → {ProjectStage(event['stage']).label}  "
                   f"{event.get('office') or ''}  {event['actor']}" + (f"  {event['note']}" if event.get("note") else ""))
    if row.get("asset"):
        asset = row["asset"]
        typer.echo(f"  资产 {asset['code']} {AssetClass(asset['asset_class']).label} 所有权人 {asset['owner']} "
                   f"管护 {asset['maintainer']}" + (f" 光伏电站 {asset['pv_code']}" if asset.get("pv_code") else ""))


@projects_app.command("propose")
def propose(
    name: Annotated[str, typer.Option("--name", help="The project's name.")],
    kind: Annotated[str, typer.Option("--kind", help="road 道路建设, well 打机井, canal, reservoir, farmland, breeding, "
                                                     "planting, other (value or Chinese label).")],
    village: Annotated[str, typer.Option("--village", help="The village proposing it: name, township/name, code or id.")],
    year: Annotated[int | None, typer.Option(help="The project's year (default this year).")] = None,
    code: Annotated[str | None, typer.Option(help="Its code (default XM<year>-<village code>-<n>).")] = None,
    funds: Annotated[float | None, typer.Option("--funds", help="Estimated funds (万元).")] = None,
    quantity: Annotated[float | None, typer.Option(help="Quantity, in --unit.")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit of the quantity: km, 眼, 个, 亩 ...")] = None,
    targets: TargetsOption = None,
    households: HouseholdsOption = None,
    jobs: JobsOption = None,
    income: IncomeOption = None,
    mechanism: MechanismOption = None,
    on: OnOption = None,
    office: OfficeOption = None,
    note: NoteOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """村级申报: a village proposes a project (stage proposed, status 计划)."""
    from geo.services import library

    row = library.propose(engine_for(db), name=name, kind=kind, village=village, year=year, code=code,
                          funds_wan_yuan=funds, quantity=quantity, quantity_unit=unit,
                          targets=_targets(targets, households, jobs, income, mechanism), on=on, office=office,
                          note=note, actor=cli_actor())
    _echo(row, as_json)


def _step(step: str, project: str, *, on, office, note, version, db, as_json, targets=None, asset=None) -> None:
    from geo.services import library

    row = library.advance(engine_for(db), project, step, on=on, version=version, office=office, note=note,
                          targets=targets, asset=asset, actor=cli_actor())
    _echo(row, as_json)


ProjectArg = Annotated[str, typer.Argument(help="The project's code or id.")]


@projects_app.command("review")
def review(project: ProjectArg, targets: TargetsOption = None, households: HouseholdsOption = None,
           jobs: JobsOption = None, income: IncomeOption = None, mechanism: MechanismOption = None,
           on: OnOption = None, office: OfficeOption = None, note: NoteOption = None, version: VersionOption = None,
           db: DbOption = None, as_json: JsonOption = False) -> None:
    """乡镇审核: the township reviews a proposed project."""
    _step("review", project, on=on, office=office, note=note, version=version, db=db, as_json=as_json,
          targets=_targets(targets, households, jobs, income, mechanism))


@projects_app.command("approve")
def approve(project: ProjectArg, targets: TargetsOption = None, households: HouseholdsOption = None,
            jobs: JobsOption = None, income: IncomeOption = None, mechanism: MechanismOption = None,
            on: OnOption = None, office: OfficeOption = None, note: NoteOption = None, version: VersionOption = None,
            db: DbOption = None, as_json: JsonOption = False) -> None:
    """县级审批入库: the county approves a reviewed project (needs 绩效目标; industry projects 联农带农)."""
    _step("approve", project, on=on, office=office, note=note, version=version, db=db, as_json=as_json,
          targets=_targets(targets, households, jobs, income, mechanism))


@projects_app.command("start")
def start(project: ProjectArg, on: OnOption = None, office: OfficeOption = None, note: NoteOption = None,
          version: VersionOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """开工实施: works start on an approved project (status 在建)."""
    _step("start", project, on=on, office=office, note=note, version=version, db=db, as_json=as_json)


@projects_app.command("complete")
def complete(project: ProjectArg, on: OnOption = None, office: OfficeOption = None, note: NoteOption = None,
             version: VersionOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """竣工验收: the project is completed (status 已完成: its road or well now closes the gap)."""
    _step("complete", project, on=on, office=office, note=note, version=version, db=db, as_json=as_json)


@projects_app.command("handover")
def handover(
    project: ProjectArg,
    asset_class: Annotated[str | None, typer.Option("--class", help="资产类别: 经营性 (operating), 公益性 "
                                                                    "(public_welfare) or 到户 (household).")] = None,
    owner: Annotated[str | None, typer.Option(help="所有权人, e.g. 某某村股份经济合作社 (村集体).")] = None,
    maintainer: Annotated[str | None, typer.Option(help="管护主体: who maintains it.")] = None,
    value: Annotated[float | None, typer.Option("--value", help="资产价值 (万元); default the project's funds.")] = None,
    asset_code: Annotated[str | None, typer.Option("--asset-code", help="资产编号 (default ZC-<project code>).")] = None,
    asset_name: Annotated[str | None, typer.Option("--asset-name", help="资产名称 (default the project's name).")] = None,
    pv_station: Annotated[str | None, typer.Option("--pv-station", help="A PV station's 项目编号 (PV ledger): the asset "
                                                                        "is that station.")] = None,
    on: OnOption = None, office: OfficeOption = None, note: NoteOption = None, version: VersionOption = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """资产移交: a completed project becomes an asset (class, owner and maintainer required)."""
    from geo.services.library import AssetInput

    _step("handover", project, on=on, office=office, note=note, version=version, db=db, as_json=as_json,
          asset=AssetInput(asset_class=asset_class, owner=owner, maintainer=maintainer, value_wan_yuan=value,
                           code=asset_code, name=asset_name, pv_station=pv_station, note=note))


@projects_app.command("list")
def list_(
    stage: Annotated[str | None, typer.Option(help=f"Only this stage: {_STAGES}.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind (value or Chinese label).")] = None,
    township: TownshipOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The projects with their stage, by code."""
    from geo.services import library

    engine = engine_for(db)
    frame = library.list_projects(engine, stage=stage, kind=kind, township=_scope(engine, township))
    rows = library.project_records(frame)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no projects")
    for row in rows:
        typer.echo(_line(row))


@projects_app.command("show")
def show(project: ProjectArg, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One project with its dated history and its asset."""
    from geo.services import library

    _echo(library.get_project(engine_for(db), project), as_json)


@projects_app.command("propose-from-priority")
def propose_from_priority(
    kind: Annotated[str, typer.Option(help="road (new links) or water (wells).")] = "road",
    top: Annotated[int, typer.Option(help="The top N ranked villages.")] = 10,
    budget_wan_yuan: Annotated[float | None, typer.Option("--budget", help="Rank within this budget (万元).")] = None,
    funded_only: Annotated[bool, typer.Option("--funded-only", help="Only villages the budget funds.")] = False,
    rank: Annotated[str, typer.Option(help="need or value (as atlas analyze priority).")] = "need",
    cost_yuan_per_km: Annotated[float | None, typer.Option(help="Road: cost of a new link (yuan/km).")] = None,
    cost_wan_yuan_per_supply_point: Annotated[float | None, typer.Option(
        help="Water: cost of one new supply point (万元).")] = None,
    township: TownshipOption = None,
    on: OnOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The priority ranking's top candidates as proposed projects; running it again adds nothing."""
    from geo.services import library

    if funded_only and budget_wan_yuan is None:
        raise ValidationError("--funded-only needs --budget (the ranking's money)")
    options = {"budget_wan_yuan": budget_wan_yuan, "rank": rank}
    if cost_yuan_per_km is not None:
        options["cost_yuan_per_km"] = cost_yuan_per_km
    if cost_wan_yuan_per_supply_point is not None:
        options["cost_wan_yuan_per_supply_point"] = cost_wan_yuan_per_supply_point
    engine = engine_for(db)
    done = library.propose_from_priority(engine, kind=kind, top=top, funded_only=funded_only, on=on,
                                         actor=cli_actor(), township=_scope(engine, township), **options)
    if as_json:
        echo_json({"kind": done.kind, "created": done.created, "skipped": done.skipped})
        return
    typer.echo(f"项目库候选（{done.kind}）：新增 {len(done.created)} 个，跳过 {len(done.skipped)} 个")
    for row in done.created:
        typer.echo(f"  + {row['code']} {row['name']}")
    for row in done.skipped:
        typer.echo(f"  = {row['code']} {row['village_name']}：{row['reason']}")


def _scope(engine, township: str | None):
    if township is None:
        return None
    from geo.services.registry import resolve_township

    return [resolve_township(engine, township)]


@assets_app.command("list")
def assets_list(township: TownshipOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The assets, PV stations with their latest ledger year."""
    from geo.services import library

    engine = engine_for(db)
    frame = library.list_assets(engine, township=_scope(engine, township))
    rows = library.asset_records(frame)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no assets")
    for row in rows:
        pv = ""
        if row.get("pv_code"):
            pv = f" 光伏电站 {row['pv_code']}"
            if row.get("ledger_year") is not None:
                pv += f"（{int(row['ledger_year'])}年 发电 {row['generation_kwh']:,.0f} kWh，收益 {row['income_yuan']:,.0f} 元）"
        typer.echo(f"{row['code']} [{AssetClass(row['asset_class']).label}] {row['name']} 所有权人 {row['owner']} "
                   f"管护 {row['maintainer']} 移交 {row['handover_date']}{pv}")


@assets_app.command("export")
def assets_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The XLSX file to write (资产台账).")],
    township: TownshipOption = None,
    db: DbOption = None,
) -> None:
    """资产台账 as XLSX with Chinese headers: assets, PV stations with their ledger, notes."""
    from geo.services import library

    if output.suffix.lower() != ".xlsx":
        raise ValidationError(f"{output}: the asset ledger is written as XLSX; give -o FILE.xlsx")
    engine = engine_for(db)
    output.write_bytes(library.asset_ledger_xlsx(engine, township=_scope(engine, township)))
    typer.echo(f"资产台账：已写入 {output}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(projects_app, name="projects")
    app.add_typer(assets_app, name="assets")
