"""``atlas dossier VILLAGE -o FILE.pdf``: a village's dossier (一村一档), and ``--all`` for one
PDF per village in a zip. The page is :func:`maps.dossier.dossier_html`, printed to PDF by
Debian's headless Chromium as ``atlas map`` prints (:func:`maps.chromium.print_pdf`).
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, engine_for
from geo.errors import ValidationError


def dossier_command(
    village: Annotated[str | None, typer.Argument(help="Village name, township/name, 12-digit code or id.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.pdf (or FILE.html); with --all FILE.zip.")]
    = Path("dossier.pdf"),
    db: DbOption = None,
    year: Annotated[int | None, typer.Option(help="Pairing year (default: the village's latest).")] = None,
    township: Annotated[str | None, typer.Option(help="With --all: only this township (name, code or id).")] = None,
    all_villages: Annotated[bool, typer.Option("--all", help="One PDF per village, written into FILE.zip.")] = False,
    show_names: Annotated[bool, typer.Option("--show-names", help="Household heads' and cadres' names "
                                             "(authorised users only); hidden otherwise.")] = False,
) -> None:
    """Write a village's dossier (一村一档) as PDF, or every village's into a zip (--all)."""
    from geo.services.dossier import list_villages, village_dossier
    from maps.chromium import print_pdf
    from maps.dossier import dossier_html

    engine = engine_for(db)
    suffix = output.suffix.lower()
    if all_villages:
        if village is not None:
            raise ValidationError("give either VILLAGE or --all, not both")
        if suffix != ".zip":
            raise ValidationError(f"output {str(output)!r} must end in .zip with --all")
    elif village is None:
        raise ValidationError("give a village (name, township/name, code or id), or --all")
    elif suffix not in (".pdf", ".html", ".htm"):
        raise ValidationError(f"output {str(output)!r} must end in .pdf or .html")
    output.parent.mkdir(parents=True, exist_ok=True)
    if not all_villages:
        d = village_dossier(engine, village, year=year, show_names=show_names)
        page = dossier_html(d)
        if suffix == ".pdf":
            print_pdf(page, output, offline=True)
        else:
            output.write_text(page, encoding="utf-8")
        typer.echo(f"一村一档 {d.village['township_name']}/{d.village['name']} written to {output} "
                   f"({output.stat().st_size / 1e6:.2f} MB)")
        return
    ids = list_villages(engine, township=township)
    if not ids:
        raise ValidationError("no villages to write (atlas import villages ... first)")
    with tempfile.TemporaryDirectory(prefix="atlas-dossier-") as tmp:
        part = Path(tmp) / "all.zip"
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for vid in ids:
                d = village_dossier(engine, vid, year=year, show_names=show_names)
                pdf = Path(tmp) / "one.pdf"
                print_pdf(dossier_html(d), pdf, offline=True)
                archive.write(pdf, f"{d.village['township_name']}_{d.village['name']}_一村一档.pdf")
        part.replace(output) if part.stat().st_dev == output.parent.stat().st_dev else \
            output.write_bytes(part.read_bytes())  # whole file or none
    typer.echo(f"一村一档: {len(ids)} villages written to {output} ({output.stat().st_size / 1e6:.2f} MB)")


def register(app: typer.Typer) -> None:
    app.command("dossier")(dossier_command)
