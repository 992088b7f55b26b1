"""Size and opening time of a map with 10,000 households (issue 8: < 5 MB, < 3 s).

Builds the overview map from the demo registry plus synthetic households (demo households
copied with a small deterministic jitter until there are ``--households`` of them), writes
it as served HTML and as a self-contained file, and opens the self-contained file (the
heavier of the two: every script, style and font inline) in headless Debian Chromium with
the network cut off. Prints medians over ``--repeat`` runs.

Usage::

    .venv/bin/python benchmarks/map_size_and_speed.py [--db URL] [--households 10000] [--repeat 5]

Without ``--db`` the demo is loaded into a temporary SpatiaLite file first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo import migrate, storage  # noqa: E402
from geo.db import make_engine  # noqa: E402
from maps.base import render_map  # noqa: E402
from maps.catalog import MAPS  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def frames_with_households(engine, n: int) -> dict:
    spec = MAPS["overview"]
    frames = {layer: storage.read_layer(engine, layer, columns=list(cols) if cols else None)
              for layer, cols in spec.layers.items()}
    base = frames["households"]
    rng = np.random.default_rng(8)
    copies = [base]
    while sum(len(c) for c in copies) < n:
        extra = base.copy()
        extra["code"] = extra["code"] + f"-S{len(copies)}"
        extra["source"] = "demo:synthetic"
        extra["geometry"] = extra.geometry.translate(*rng.normal(0, 0.002, 2))
        copies.append(extra)
    households = pd.concat(copies).iloc[:n]
    frames["households"] = households.set_geometry("geometry").set_crs("EPSG:4326", allow_override=True)
    return frames


def open_times(path: Path, repeat: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    opened, clustered = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeat):
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page = context.new_page()
            start = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_function("() => window.atlas && atlas.maps[0] && atlas.maps[0]._loaded "
                                   "&& document.querySelectorAll('path.atlas-villages').length > 0")
            opened.append(time.perf_counter() - start)
            start = time.perf_counter()
            page.locator(".leaflet-control-layers-overlays label", has_text="农户").locator("input").click()
            page.wait_for_selector(".marker-cluster")
            clustered.append(time.perf_counter() - start)
            context.close()
        browser.close()
    return opened, clustered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL with the demo loaded (default: a temporary one)")
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        url = args.db
        if url is None:
            from geo.demo import load_demo

            url = f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
            engine = make_engine(url)
            migrate.upgrade(engine)
            load_demo(engine)
        engine = make_engine(url)
        frames = frames_with_households(engine, args.households)
        build_s, served_mb, embedded_mb = [], 0.0, 0.0
        page = ""
        for _ in range(args.repeat):
            start = time.perf_counter()
            m = MAPS["overview"].build(**frames, township=None, base=None, tianditu_key=None)
            served = render_map(m, assets="served")
            m = MAPS["overview"].build(**frames, township=None, base=None, tianditu_key=None)
            page = render_map(m, assets="embedded")
            build_s.append((time.perf_counter() - start) / 2)
            served_mb, embedded_mb = len(served.encode()) / 1e6, len(page.encode()) / 1e6
        out = Path(tmp) / "overview.html"
        out.write_text(page, encoding="utf-8")
        opened, clustered = open_times(out, args.repeat)
    print(f"overview map, {len(frames['households']):,} households, {args.repeat} runs (medians)")
    print(f"  build + render in Python:        {statistics.median(build_s):6.2f} s")
    print(f"  HTML served (assets linked):     {served_mb:6.2f} MB   (limit 5 MB: {served_mb / 5:.0%})")
    print(f"  HTML self-contained (emailed):   {embedded_mb:6.2f} MB   (limit 5 MB: {embedded_mb / 5:.0%})")
    print(f"  open in headless Chromium:       {statistics.median(opened):6.2f} s    "
          f"(limit 3 s: {statistics.median(opened) / 3:.0%}; min {min(opened):.2f}, max {max(opened):.2f})")
    print(f"  switch households on (cluster):  {statistics.median(clustered):6.2f} s")


if __name__ == "__main__":
    main()
