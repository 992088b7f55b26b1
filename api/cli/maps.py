"""``atlas map NAME -o FILE.html|FILE.pdf|FILE.png``: a map written to disk.

HTML files carry every script, stylesheet, image and font inside them, so they open with no
server and no network (emailed, on a USB stick). PDF and PNG files are the map's print sheet
(:mod:`maps.printing`: title, year, date, whole legend, scale bar, north arrow, sources,
demo-data notice; the pairing map's table on the pages after) printed or photographed by
Debian's headless Chromium, the browser the maps are tested in (no second rendering engine).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from api.cli._common import DbOption, engine_for
from geo.errors import AtlasError, ValidationError
from geo.settings import get_settings
from maps.base import BASES, render_map
from maps.catalog import MAPS
from maps.printing import PAPERS, layout, layout_px, print_page

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


class RenderError(AtlasError):
    """The map could not be rendered to an image."""

    kind = "render"


def map_command(
    name: Annotated[str, typer.Argument(help=f"Map name: {', '.join(MAPS)}.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.html (works offline) or FILE.png.")],
    db: DbOption = None,
    township: Annotated[str | None, typer.Option(help="Township name, 9-digit code or id.")] = None,
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


def chromium_path() -> str:
    """Debian's Chromium.

    Raises
    ------
    RenderError
        When it is not installed, with the command that installs it.
    """
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise RenderError("PDF and PNG output need Chromium; install it with: sudo apt-get install -y chromium "
                      "fonts-wqy-microhei (or write .html instead)")


def screenshot(page: str, output: Path, *, width: int, height: int, offline: bool,
               timeout_s: float = 120) -> None:
    """Render an embedded HTML page to ``output`` (PNG) with headless Chromium.

    Raises
    ------
    RenderError
        When Chromium fails or writes no image.
    """
    _chromium(page, output, [f"--window-size={width},{height}", f"--screenshot={output.resolve()}"],
              offline=offline, timeout_s=timeout_s, what="screenshot")


def print_pdf(page: str, output: Path, *, offline: bool, timeout_s: float = 120) -> None:
    """Print an embedded HTML page (its ``@page`` sets paper and margins) to ``output`` (PDF).

    Raises
    ------
    RenderError
        When Chromium fails or writes no PDF.
    """
    _chromium(page, output, ["--window-size=1600,1200", "--no-pdf-header-footer",
                             f"--print-to-pdf={output.resolve()}"],
              offline=offline, timeout_s=timeout_s, what="PDF")


def _chromium(page: str, output: Path, extra: list[str], *, offline: bool, timeout_s: float, what: str) -> None:
    browser = chromium_path()
    if output.exists():
        output.unlink()  # an old file must not pass for a new one
    with tempfile.TemporaryDirectory(prefix="atlas-map-") as tmp:
        source = Path(tmp) / "map.html"
        source.write_text(page, encoding="utf-8")
        args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={Path(tmp) / 'profile'}", "--virtual-time-budget=10000", *extra]
        if offline:
            args.append("--host-resolver-rules=MAP * ~NOTFOUND")
        args.append(source.as_uri())
        try:
            result = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"Chromium did not finish the {what} within {timeout_s:.0f} s") from None
    if result.returncode != 0 or not output.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RenderError(f"Chromium could not render the map as {what} (exit {result.returncode}): {last}")


def list_maps() -> None:
    """List the maps with their Chinese titles."""
    for spec in MAPS.values():
        typer.echo(f"{spec.name:<10} {spec.title}（{spec.audience}）")


def register(app: typer.Typer) -> None:
    app.command("map")(map_command)
    app.command("maps")(list_maps)
