"""Print and photograph a self-contained HTML page with Debian's headless Chromium, the browser
the maps are tested in (no second rendering engine): the map print sheets of ``atlas map -o
FILE.pdf|FILE.png`` and the village dossiers (一村一档).

Shared by the command line and the HTTP routes; it knows nothing of either.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from geo.errors import AtlasError

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


class RenderError(AtlasError):
    """The map could not be rendered to an image."""

    kind = "render"


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
