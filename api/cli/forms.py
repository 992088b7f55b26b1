"""``atlas forms export annex1|annex2|annex3|annex4|annex5 -o FILE.xlsx``: seed 000's forms written
from the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, engine_for

forms_app = typer.Typer(help="Seed 000's forms (附件1-5) written from the registry, laid out as the seed lays them out.",
                        no_args_is_help=True)


@forms_app.command("export")
def export_command(
    form: Annotated[str, typer.Argument(help="Form: annex1 (附件1 帮扶贫困村安排表), annex2 (附件2 投入情况统计表, one "
                                             "sheet per unit and village), annex3 / annex4 (投入资金情况统计表, 自筹 / "
                                             "协调), annex5 (帮扶责任人联系帮扶贫困户情况统计表).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.xlsx.")],
    db: DbOption = None,
    year: Annotated[int | None, typer.Option(help="Year (default: the latest year with pairings).")] = None,
    township: Annotated[str | None, typer.Option(help="Township name, 9-digit code or id.")] = None,
    unit: Annotated[str | None, typer.Option(help="annex2-annex5: only this unit (name or id).")] = None,
    village: Annotated[str | None, typer.Option(
        help="annex2-annex5: only this village (name, township/name, 12-digit code or id).")] = None,
) -> None:
    """Write FORM as seed 000 lays it out (title, merged headers, borders, A4 print setup with the header
    rows repeated); 附件1 imports again with atlas import FILE --layer pairings, 附件2 and 附件5 with
    --layer unit_inputs, 附件3/4 with --layer projects."""
    from geo.services.forms import FORMS, export_form

    result = export_form(engine_for(db), form, output, year=year, township=township, unit=unit, village=village)
    if form == "annex1":
        typer.echo(f"{FORMS[form]} {result.year}年: {result.pairings} pairing rows, {result.villages} villages "
                   f"written to {result.path}")
    else:
        typer.echo(f"{FORMS[form]} {result.year}年: {result.pairings} unit-village rows ({result.filled} with "
                   f"figures from the registry), {result.villages} villages written to {result.path}")


def register(app: typer.Typer) -> None:
    app.add_typer(forms_app, name="forms")
