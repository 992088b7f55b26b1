"""``atlas map NAME -o FILE.html|FILE.pdf|FILE.png``: a map written to disk.

HTML files carry every script, stylesheet, image and font inside them, so they open with no
server and no network (emailed, on a USB stick). PDF and PNG files are the map's print sheet
(:mod:`maps.printing`: title, year, date, whole legend, scale bar, north arrow, sources,
demo-data notice; the pairing map's table on the pages after) printed or photographed by
Debian's headless Chromium, the browser the maps are tested in (no second rendering engine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, engine_for
from geo.errors import ValidationError
from geo.settings import get_settings
from maps.base import BASES, render_map
from maps.catalog import MAPS
from maps.chromium import print_pdf, screenshot
from maps.printing import PAPERS, layout, layout_px, print_page


def map_command(
    name: Annotated[str, typer.Argument(help=f"Map name: {', '.join(MAPS)}.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.html (works offline) or FILE.png.")],
    db: DbOption = None,
    township: Annotated[str | None, typer.Option("--township", "--area", help="Township name, 9-digit code or id, or an area above it (six-digit code or name).")] = None,
    unit: Annotated[str | None, typer.Option(help="Assistance unit name or id (pairing map).")] = None,
    plan: Annotated[str | None, typer.Option(help="Inspection plan id or name (inspection map).")] = None,
    team: Annotated[int | None, typer.Option(help="Inspection map: only this team.")] = None,
    day: Annotated[int | None, typer.Option(help="Inspection map: only this day of the schedule.")] = None,
    year: Annotated[int | None, typer.Option(help="Pairing year (pairing and coverage maps; default: the "
                                             "latest year with pairings).")] = None,
    show_names: Annotated[bool, typer.Option("--show-names", help="Inspection map: household heads' names "
                                             "(authorised inspectors only); hidden otherwise.")] = False,
    candidates: Annotated[int | None, typer.Option(help="PV map: siting candidates drawn, best first "
                                                   "(default 10; 0 hides them).")] = None,
    cell_size: Annotated[float | None, typer.Option(help="PV map: siting grid cell side [m] (default 500, at "
                                                    "least 100).")] = None,
    base: Annotated[str | None, typer.Option(help=f"Base map shown first: {', '.join(BASES)}.")] = None,
    paper: Annotated[str, typer.Option(help=f"PDF/PNG paper: {', '.join(PAPERS)}.")] = "A4",
    landscape: Annotated[bool, typer.Option("--landscape", help="PDF/PNG: landscape (default portrait).")] = False,
    width: Annotated[int | None, typer.Option(help="PNG width [px] (default: the paper's).")] = None,
    height: Annotated[int | None, typer.Option(help="PNG height [px] (default: the paper's).")] = None,
    offline: Annotated[bool, typer.Option(help="PDF/PNG: do not fetch base-map tiles (blank base).")] = False,
) -> None:
    """Write map NAME to FILE.html (self-contained), FILE.pdf or FILE.png (print sheet, headless Chromium)."""
    from maps.pages import load_map

    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".png", ".pdf"):
        raise ValidationError(f"output {str(output)!r} must end in .html, .pdf or .png")
    sheet = layout(paper, landscape=landscape)
    if suffix == ".png" and (width or height):
        sheet = layout_px(width or sheet.page_px[0], height or sheet.page_px[1])
    spec, m = load_map(engine_for(db), name, township=township, unit=unit, plan=plan, year=year,
                       candidates=candidates, cell_size=cell_size, team=team, day=day,
                       base="blank" if offline and base is None else base,
                       tianditu_key=get_settings().tianditu_key,
                       can_see_names=(lambda assignees: True) if show_names else None)
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".html", ".htm"):
        output.write_text(render_map(m, assets="embedded", page_title=f"{spec.title} · 村级帮扶地图"),
                          encoding="utf-8")
    else:
        page = print_page(m, sheet=sheet, title=spec.title, year_note=getattr(m, "atlas_year_note", None),
                          township=getattr(m, "atlas_township", None))
        if suffix == ".png":
            screenshot(page, output, width=sheet.page_px[0], height=sheet.page_px[1], offline=offline)
        else:
            print_pdf(page, output, offline=offline)
    typer.echo(f"{spec.title} ({name}) written to {output} ({output.stat().st_size / 1e6:.2f} MB)")


def list_maps() -> None:
    """List the maps with their Chinese titles."""
    for spec in MAPS.values():
        typer.echo(f"{spec.name:<10} {spec.title}（{spec.audience}）")


def register(app: typer.Typer) -> None:
    app.command("map")(map_command)
    app.command("maps")(list_maps)
