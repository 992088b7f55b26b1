"""``atlas forms export annex1 -o FILE.xlsx``: seed 000's forms written from the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, engine_for

forms_app = typer.Typer(help="Seed 000's forms (附件1) written from the registry, laid out as the seed lays them out.",
                        no_args_is_help=True)


@forms_app.command("export")
def export_command(
    form: Annotated[str, typer.Argument(help="Form: annex1 (附件1 帮扶贫困村安排表).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.xlsx.")],
    db: DbOption = None,
    year: Annotated[int | None, typer.Option(help="Year (default: the latest year with pairings).")] = None,
    township: Annotated[str | None, typer.Option(help="Township name, 9-digit code or id.")] = None,
) -> None:
    """Write FORM as seed 000 lays it out (title, headers, township sections, merged village cells, 合计);
    the file imports again with atlas import FILE --layer pairings."""
    from geo.services.forms import FORMS, export_form

    result = export_form(engine_for(db), form, output, year=year, township=township)
    typer.echo(f"{FORMS[form]} {result.year}年: {result.pairings} pairing rows, {result.villages} villages "
               f"written to {result.path}")


def register(app: typer.Typer) -> None:
    app.add_typer(forms_app, name="forms")
