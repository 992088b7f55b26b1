"""``atlas monitor ...``: 防止返贫动态监测 — risk leads in, cases through their dated steps,
assistance measures, overdue lists and the reports (XLSX, PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, cli_actor, echo_json, engine_for

monitor_app = typer.Typer(help="防止返贫动态监测: risk leads, monitoring cases and their steps, reports.",
                          no_args_is_help=True)
leads_app = typer.Typer(help="Risk leads (风险线索): department lists, visits, self-reports.", no_args_is_help=True)
case_app = typer.Typer(help="Monitoring cases: list, show, and take each dated step.", no_args_is_help=True)
monitor_app.add_typer(leads_app, name="leads")
monitor_app.add_typer(case_app, name="case")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TownshipOption = Annotated[str | None, typer.Option("--township", help="Only this township (name, code or id).")]
OnOption = Annotated[str | None, typer.Option("--on", help="Day the step was done, YYYY-MM-DD (default today).")]
ByOption = Annotated[str | None, typer.Option("--by", help="Who did the step (person or unit; default your login).")]
VersionOption = Annotated[int | None, typer.Option("--version", help="The case version you read (refused if changed).")]
NoteOption = Annotated[str | None, typer.Option("--note", help="A note kept with the step.")]


def _settings():
    from geo.settings import get_settings

    return get_settings()


def _scope(engine, township: str | None):
    if township is None:
        return None
    from geo.services.registry import resolve_township

    return [resolve_township(engine, township)]


def _line(row: dict) -> str:
    from geo.enums import CaseStatus, MonitorCategory

    category = MonitorCategory(row["category"]).label if row.get("category") else "类别待定"
    due = ""
    if row.get("next_step"):
        due = f"  下一步 {CaseStatus(row['next_step']).label}"
        if row.get("due_on") is not None:
            due += f" 限 {str(row['due_on'])[:10]}"
        if row.get("overdue"):
            due += f"  逾期{row['days_overdue']}天（{row['working_days_overdue']}个工作日）"
    return (f"{row['code']} [{CaseStatus(row['status']).label}] {row['township_name']}{row['village_name']} "
            f"{row['household_code']} {category} v{row['version']}{due}")


_SHOWN = ("code", "status", "category", "risk_types", "household_code", "township_name", "village_name",
          "income_per_person_yuan", "out_of_pocket_yuan", "assured_education", "assured_medical", "assured_housing",
          "safe_water", "opened_on", "step_on", "posted_until", "identified_on", "removed_on", "cadre_name",
          "unit_name", "version", "next_step", "due_on", "overdue", "days_overdue", "working_days_overdue", "notes")


def _echo(row: dict, as_json: bool) -> None:
    if as_json:
        echo_json({k: row.get(k) for k in (*_SHOWN, "events", "measures", "leads") if k in row})
        return
    typer.echo(_line(row))
    for note in row.get("notes") or ():
        typer.echo(f"  注意: {note}")


@leads_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="XLSX or CSV with Chinese headers (户编号 or 身份证号, 预警类型, 预警日期 ...).")],
    channel: Annotated[str, typer.Option("--channel", help="department, visit or self_report (部门筛查预警, 干部走访排查, 农户自主申报).")],
    match_id_numbers: Annotated[bool, typer.Option(
        "--match-id-numbers", help="Match rows without 户编号 by 身份证号 (personal data: only if you are allowed to see "
        "ID numbers; the match is audited).")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take a lead list in, whole or not at all: each lead opens a case or joins the household's open case."""
    from geo.services import monitoring

    result = monitoring.import_leads(engine_for(db), file, channel=channel, may_match_id_numbers=match_id_numbers,
                                     actor=cli_actor(), thresholds=monitoring.thresholds_from(_settings()))
    if as_json:
        echo_json(result.as_dict())
        return
    typer.echo(f"{result.file}: {result.leads} lead(s) recorded; {len(result.opened)} case(s) opened, "
               f"{len(result.joined)} joined an open case")
    if result.above_threshold is not None:
        typer.echo(f"  {result.above_threshold} lead(s) above the out-of-pocket threshold")
    for note in result.notes:
        typer.echo(f"  注意: {note}")


@leads_app.command("list")
def leads_list(
    since: Annotated[str | None, typer.Option(help="Received on or after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Received on or before YYYY-MM-DD.")] = None,
    township: TownshipOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Leads received, with their case."""
    from geo.services import monitoring

    engine = engine_for(db)
    frame = monitoring.read_leads(engine, township=_scope(engine, township),
                                  since=monitoring._parse_day(since, "since") if since else None,
                                  until=monitoring._parse_day(until, "until") if until else None)
    columns = ["received_on", "channel", "department", "risk_type", "household_code", "township_name",
               "village_name", "case_code", "case_status"]
    if as_json:
        echo_json(monitoring.plain_records(frame[columns]))
        return
    for row in frame[columns].to_dict("records"):
        typer.echo(f"{row['received_on']} {row['channel']:<12} {row['township_name']}{row['village_name']} "
                   f"{row['household_code']} -> {row['case_code']} ({row['case_status']})")
    if frame.empty:
        typer.echo("no leads")


@case_app.command("add")
def add(
    household: Annotated[str, typer.Option("--household", help="Household code (户编号).")],
    channel: Annotated[str, typer.Option("--channel", help="visit, self_report, department or linked.")],
    risk: Annotated[str | None, typer.Option("--risk", help="Risk type (因病, 因灾 ...).")] = None,
    on: OnOption = None,
    note: NoteOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record one lead (a visit, a household's own report): opens a case or joins the open one."""
    from geo.services import monitoring

    row = monitoring.record_lead(engine_for(db), household_code=household, channel=channel,
                                 received_on=monitoring._parse_day(on, "on") if on else None, risk_type=risk,
                                 note=note, actor=cli_actor())
    _echo(row, as_json)


@case_app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="Only this status (lead, checked, posted ...).")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases whose next step is overdue.")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="Only open cases.")] = False,
    township: TownshipOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cases with their next step, its due day and working days overdue."""
    from geo.services import monitoring

    engine = engine_for(db)
    frame = monitoring.list_cases(engine, township=_scope(engine, township), status=status, overdue=overdue,
                                  open_only=open_only, rules=monitoring.rules_from(_settings()))
    rows = monitoring.plain_records(frame)
    if as_json:
        echo_json([{k: r.get(k) for k in _SHOWN if k in r} for r in rows])
        return
    for row in rows:
        typer.echo(_line(row))
    if not rows:
        typer.echo("no cases" + (" overdue" if overdue else ""))


@case_app.command("show")
def show(
    case: Annotated[str, typer.Argument(help="Case code (JC2026-0001) or id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A case with its steps (who, when), measures and leads."""
    from geo.services import monitoring

    row = monitoring.get_case(engine_for(db), case, rules=monitoring.rules_from(_settings()))
    if as_json:
        _echo(row, True)
        return
    typer.echo(_line(row))
    for event in row["events"]:
        until = f" 至 {event['posted_until']}" if event.get("posted_until") else ""
        typer.echo(f"  {event['done_on']}{until} {event['action']} {event.get('to_status') or ''} "
                   f"by {event['by_whom']} ({event['actor']}) {event.get('note') or ''}".rstrip())
    for measure in row["measures"]:
        typer.echo(f"  措施 {measure['done_on']} {measure['kind']} {measure.get('amount_yuan') or ''} {measure['by_whom']}")


@case_app.command("check")
def check(
    case: Annotated[str, typer.Argument(help="Case code or id.")],
    category: Annotated[str, typer.Option("--category", help="unstable_exited, marginal or sudden_hardship (脱贫不稳定户, 边缘易致贫户, 突发严重困难户).")],
    risk: Annotated[list[str], typer.Option("--risk", help="Risk type(s): 因病, 因残, 因学, 因灾, 务工就业不稳, 产业项目失败, 因意外事故, 其他.")],
    income: Annotated[float, typer.Option("--income", help="12-month net income per person [yuan].")],
    out_of_pocket: Annotated[float | None, typer.Option("--out-of-pocket", help="Compliant out-of-pocket costs, 12 months [yuan].")] = None,
    education: Annotated[bool | None, typer.Option("--education/--no-education", help="义务教育有保障.")] = None,
    medical: Annotated[bool | None, typer.Option("--medical/--no-medical", help="基本医疗有保障.")] = None,
    housing: Annotated[bool | None, typer.Option("--housing/--no-housing", help="住房安全有保障.")] = None,
    water: Annotated[bool | None, typer.Option("--water/--no-water", help="饮水安全有保障.")] = None,
    on: OnOption = None, by: ByOption = None, version: VersionOption = None, note: NoteOption = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """入户核实: the home check with the category, risk types and figures."""
    from geo.services import monitoring

    settings = _settings()
    row = monitoring.advance_case(
        engine_for(db), case, "check", on=on, by=by, version=version, note=note, category=category,
        risk_types=risk, income_per_person_yuan=income, out_of_pocket_yuan=out_of_pocket,
        assured={"assured_education": education, "assured_medical": medical, "assured_housing": housing,
                 "safe_water": water},
        actor=cli_actor(), thresholds=monitoring.thresholds_from(settings), rules=monitoring.rules_from(settings))
    _echo(row, as_json)


def _step_command(step: str, summary: str, *, posting: bool):
    def command(
        case: Annotated[str, typer.Argument(help="Case code or id.")],
        on: OnOption = None, by: ByOption = None,
        until: Annotated[str | None, typer.Option("--until", help="Last day of the posting (公示), YYYY-MM-DD.")] = None,
        version: VersionOption = None, note: NoteOption = None, db: DbOption = None, as_json: JsonOption = False,
    ) -> None:
        from geo.services import monitoring

        settings = _settings()
        row = monitoring.advance_case(engine_for(db), case, step, on=on, by=by, until=until, version=version,
                                      note=note, actor=cli_actor(), thresholds=monitoring.thresholds_from(settings),
                                      rules=monitoring.rules_from(settings))
        _echo(row, as_json)

    command.__doc__ = summary + (" Give --until, the posting's last day." if posting else "")
    case_app.command(step)(command)


for _step, _summary, _posting in (
        ("dismiss", "核实不纳入: the home check found no risk; the case is closed.", False),
        ("post", "村级评议公示: the village appraised the case and posts it.", True),
        ("review", "乡镇审核: the township reviewed the case (after the posting ended).", False),
        ("approve", "县级审定: the county approved; the household is monitored (纳入监测).", False),
        ("post-removal", "风险消除公示: posting the removal of the risk (needs a measure).", True),
        ("remove", "标注风险消除: the risk is removed (after its posting ended).", False)):
    _step_command(_step, _summary, posting=_posting)


@case_app.command("measure")
def measure(
    case: Annotated[str, typer.Argument(help="Case code or id.")],
    kind: Annotated[str, typer.Option("--kind", help="industry, employment, public_post, minimum_income, medical, education, housing, water, other (or 产业帮扶, 公益岗位 ...).")],
    amount: Annotated[float | None, typer.Option("--amount", help="Funds [yuan].")] = None,
    on: OnOption = None, by: ByOption = None, version: VersionOption = None, note: NoteOption = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Record an assistance measure (帮扶措施); the first one takes the step 落实帮扶."""
    from geo.services import monitoring

    row = monitoring.add_measure(engine_for(db), case, kind=kind, on=on, amount_yuan=amount, by=by, note=note,
                                 version=version, actor=cli_actor(), rules=monitoring.rules_from(_settings()))
    _echo(row, as_json)


@monitor_app.command("thresholds")
def thresholds() -> None:
    """The monitoring line and out-of-pocket threshold in force, or that they must be set."""
    from geo.services import monitoring

    typer.echo(monitoring.thresholds_statement(monitoring.thresholds_from(_settings())))


@monitor_app.command("report")
def report(
    kind: Annotated[str, typer.Argument(help="monthly, posting, removal-posting, quarterly or workload.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.xlsx or FILE.pdf.")],
    year: Annotated[int | None, typer.Option(help="Year (default this year).")] = None,
    month: Annotated[int | None, typer.Option(help="Month of the monthly report (default this month).")] = None,
    quarter: Annotated[int | None, typer.Option(help="Quarter of the quarterly list (default this quarter).")] = None,
    names: Annotated[bool, typer.Option("--names", help="Unmasked names for internal use (personal data, audited); "
                                        "posting lists are de-identified without it. ID numbers are never shown.")] = False,
    township: TownshipOption = None,
    db: DbOption = None,
) -> None:
    """Write a report as XLSX or PDF (A4, Chinese headers)."""
    from geo.services import monitoring
    from maps.report_print import report_format, write_report

    engine = engine_for(db)
    settings = _settings()
    report_format(output)  # a wrong suffix is refused before anything is read
    result = monitoring.report(engine, kind, year=year, month=month, quarter=quarter,
                               township=_scope(engine, township), reveal_names=names, actor=cli_actor(),
                               thresholds=monitoring.thresholds_from(settings), rules=monitoring.rules_from(settings))
    write_report(result, output)
    rows = sum(len(f) for f in result.sheets.values())
    typer.echo(f"{output}: {result.title}, {rows} row(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(monitor_app, name="monitor")
