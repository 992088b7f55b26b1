"""``atlas map NAME -o FILE.html|FILE.png``: a map written to disk.

HTML files carry every script, stylesheet, image and font inside them, so they open with no
server and no network (emailed, on a USB stick). PNG files are that page rendered by
Debian's headless Chromium.
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
    year: Annotated[int | None, typer.Option(help="Pairing year (pairing and coverage maps; default: the "
                                             "latest year with pairings).")] = None,
    show_names: Annotated[bool, typer.Option("--show-names", help="Inspection map: household heads' names "
                                             "(authorised inspectors only); hidden otherwise.")] = False,
    candidates: Annotated[int | None, typer.Option(help="PV map: siting candidates drawn, best first "
                                                   "(default 10; 0 hides them).")] = None,
    cell_size: Annotated[float | None, typer.Option(help="PV map: siting grid cell side [m] (default 500, at "
                                                    "least 100).")] = None,
    base: Annotated[str | None, typer.Option(help=f"Base map shown first: {', '.join(BASES)}.")] = None,
    width: Annotated[int, typer.Option(help="PNG width [px].")] = 1600,
    height: Annotated[int, typer.Option(help="PNG height [px].")] = 1000,
    offline: Annotated[bool, typer.Option(help="PNG: do not fetch base-map tiles (blank base).")] = False,
) -> None:
    """Write map NAME to FILE.html (self-contained) or FILE.png (headless Chromium)."""
    from maps.pages import load_map

    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".png"):
        raise ValidationError(f"output {str(output)!r} must end in .html or .png")
    spec, m = load_map(engine_for(db), name, township=township, unit=unit, plan=plan, year=year,
                       candidates=candidates, cell_size=cell_size,
                       base="blank" if offline and base is None else base,
                       tianditu_key=get_settings().tianditu_key,
                       can_see_names=(lambda assignees: True) if show_names else None)
    page = render_map(m, assets="embedded", page_title=f"{spec.title} · 村级帮扶地图")
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        screenshot(page, output, width=width, height=height, offline=offline)
    else:
        output.write_text(page, encoding="utf-8")
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
    raise RenderError("PNG output needs Chromium; install it with: sudo apt-get install -y chromium "
                      "fonts-wqy-microhei (or write .html instead)")


def screenshot(page: str, output: Path, *, width: int, height: int, offline: bool,
               timeout_s: float = 120) -> None:
    """Render an embedded HTML page to ``output`` (PNG) with headless Chromium.

    Raises
    ------
    RenderError
        When Chromium fails or writes no image.
    """
    browser = chromium_path()
    with tempfile.TemporaryDirectory(prefix="atlas-map-") as tmp:
        source = Path(tmp) / "map.html"
        source.write_text(page, encoding="utf-8")
        args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={Path(tmp) / 'profile'}", f"--window-size={width},{height}",
                "--virtual-time-budget=10000", f"--screenshot={output.resolve()}"]
        if offline:
            args.append("--host-resolver-rules=MAP * ~NOTFOUND")
        args.append(source.as_uri())
        try:
            result = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise RenderError(f"Chromium did not finish the screenshot within {timeout_s:.0f} s") from None
    if result.returncode != 0 or not output.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RenderError(f"Chromium could not render the map (exit {result.returncode}): {last}")


def list_maps() -> None:
    """List the maps with their Chinese titles."""
    for spec in MAPS.values():
        typer.echo(f"{spec.name:<10} {spec.title}（{spec.audience}）")


def register(app: typer.Typer) -> None:
    app.command("map")(map_command)
    app.command("maps")(list_maps)
