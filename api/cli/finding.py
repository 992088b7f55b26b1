"""``atlas finding ...``: findings of an inspection and their rectification (整改)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli._common import DbOption, cli_actor, echo_json, engine_for
from geo.errors import ValidationError
from geo.enums import FindingCategory, FindingKind, FindingStatus
from geo.inspection.findings import SHOWN_FIELDS, table3
from geo.services import findings as domain

finding_app = typer.Typer(help="Inspection findings (督查发现问题) and their rectification.",
                          no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
_SHOWN = SHOWN_FIELDS


def _echo_finding(row: dict, as_json: bool) -> None:
    if as_json:
        echo_json({k: row.get(k) for k in [*_SHOWN, "history_json"] if k in row})
        return
    typer.echo(_line(row))


def _line(row: dict) -> str:
    """One finding in Chinese labels: code, status, 类别/方面, place, problem, unit, deadline."""
    target = f" {row['household_code']}" if row.get("household_code") else ""
    late = f"  逾期{row['days_overdue']}天" if row.get("overdue") else ""
    return (f"{row['code']} [{FindingStatus(row['status']).label}] {FindingCategory(row['category']).label}/"
            f"{FindingKind(row['kind']).label} {row['township_name']}{row['village_name']}{target}: "
            f"{row['description']}（{row['responsible_unit']}，整改期限 {str(row['deadline'])[:10]}）{late}")


@finding_app.command("add")
def add(
    plan: Annotated[str, typer.Option("--plan", help="Plan id or name.")],
    unit: Annotated[str, typer.Option("--unit", help="Unit responsible for rectification.")],
    deadline: Annotated[str, typer.Option("--deadline", help="Rectification deadline YYYY-MM-DD.")],
    description: Annotated[str | None, typer.Option("--description", "-m", help="The problem, concrete (见事见人); with --from-answer it replaces the proposal's.")] = None,
    from_answer: Annotated[str | None, typer.Option("--from-answer", help="Confirm a proposal of the answers (KEY from atlas sample answers proposals): its category, kind, household or village and description.")] = None,
    category: Annotated[str | None, typer.Option(help="精准识别, 精准帮扶, 精准脱贫 or 其他 (or identification, assistance, exit, other).")] = None,
    kind: Annotated[str | None, typer.Option(help="表3 row: 漏评, 措施制定, 项目实施, 资金使用, 政策保障, 驻村帮扶, 错退 ...")] = None,
    household: Annotated[str | None, typer.Option(help="Sampled household code.")] = None,
    village: Annotated[str | None, typer.Option(help="Sampled village (name or township/name).")] = None,
    found_on: Annotated[str | None, typer.Option(help="Date found YYYY-MM-DD (default today).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a finding against a sampled household or village, or confirm one an answer suggests."""
    if from_answer is not None:
        given = [o for o, v in (("--category", category), ("--kind", kind), ("--household", household),
                                ("--village", village)) if v is not None]
        if given:
            raise ValidationError(f"--from-answer takes them from the proposal; drop {', '.join(given)}")
        from geo.services.answers import add_finding_from_answer

        row = add_finding_from_answer(engine_for(db), plan, from_answer, responsible_unit=unit, deadline=deadline,
                                      description=description, found_on=found_on, actor=cli_actor())
        _echo_finding(row, as_json)
        return
    if description is None:
        raise ValidationError("describe the problem with --description (or confirm a proposal with --from-answer KEY)")
    row = domain.add_finding(engine_for(db), plan, description=description, responsible_unit=unit,
                             deadline=deadline, category=category, kind=kind, household=household,
                             village=village, found_on=found_on)
    _echo_finding(row, as_json)


@finding_app.command("list")
def list_(
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan (id or name).")] = None,
    status: Annotated[str | None, typer.Option(help="open, rectifying or closed.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only findings past their deadline and not closed.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Findings, with how many days overdue."""
    frame = domain.list_findings(engine_for(db), plan=plan, status=status, overdue=overdue)
    if as_json:
        echo_json(frame[[c for c in _SHOWN if c in frame]].to_dict("records"))
        return
    if frame.empty:
        typer.echo("no findings" + (" overdue" if overdue else ""))
    for row in frame.to_dict("records"):
        typer.echo(_line(row))


@finding_app.command("update")
def update(
    finding: Annotated[str, typer.Argument(help="Finding code (P1-001) or id.")],
    status: Annotated[str | None, typer.Option(help="rectifying (整改中) or closed (already: use close).")] = None,
    note: Annotated[str | None, typer.Option(help="Progress note (required when closing).")] = None,
    deadline: Annotated[str | None, typer.Option(help="New deadline YYYY-MM-DD.")] = None,
    unit: Annotated[str | None, typer.Option(help="New responsible unit.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a finding forward or change its deadline or unit."""
    row = domain.update_finding(engine_for(db), finding, status=status, note=note, deadline=deadline,
                                responsible_unit=unit)
    _echo_finding(row, as_json)


@finding_app.command("close")
def close(
    finding: Annotated[str, typer.Argument(help="Finding code (P1-001) or id.")],
    note: Annotated[str | None, typer.Option(help="Evidence of the rectification (required).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a finding (已整改销号); refused without a note of evidence."""
    row = domain.close_finding(engine_for(db), finding, note=note)
    _echo_finding(row, as_json)


@finding_app.command("summary")
def summary(
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan (id or name).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """表3: findings by category and kind, with open, rectifying, closed and overdue counts."""
    table = table3(domain.list_findings(engine_for(db), plan=plan))
    if as_json:
        echo_json(table.to_dict("records"))
        return
    for row in table.to_dict("records"):
        typer.echo(f"{row['序号']:<2}{row['类别']:<6}{row['方面']:<6} 问题{row['问题数']:>3}  待整改{row['待整改']:>3}  "
                   f"整改中{row['整改中']:>3}  已整改{row['已整改']:>3}  逾期{row['逾期未整改']:>3}")


def register(app: typer.Typer) -> None:
    app.add_typer(finding_app, name="finding")
