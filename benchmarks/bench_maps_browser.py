"""Served maps against a plain Folium map, timed to "all layers drawn" in headless Chromium.

The demo registry is loaded into a temporary SpatiaLite file and grown to ``--households``
households (demo households copied with a small deterministic jitter, ``source =
demo:synthetic``). ``atlas serve`` then serves it; a leader logs in and Playwright (Debian's
Chromium, network cut off but for the server) opens ``/maps/pairing``, ``/maps/coverage`` and
``/maps/overview``. The reference is a plain Folium map of the same points (every household
and village as a ``folium.CircleMarker``, Folium's defaults otherwise) written to a static
file, its scripts inlined from the packaged copies (the CDN is unreachable here).

"All layers drawn" is the moment, measured from navigation start (``performance.now()``), at
which the number of drawn elements (SVG paths and canvas layers, marker icons, name labels)
reaches the value it then keeps for 20 animation frames, once the map says it is loaded; the
same rule for both pages. The ratio is plain time / ours (>= 1: ours draws no slower).

Also times the pairing map's PDF (A3 landscape, with its table, blank base): in process
(load + print layout + Chromium) and as the command ``atlas map pairing -o p.pdf``.

Usage::

    .venv/bin/python benchmarks/bench_maps_browser.py [--households 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import migrate, storage  # noqa: E402
from geo.db import make_engine  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
MAPS = ("pairing", "coverage", "overview")
USER, PASSWORD = "bench_leader", "bench-password-123"
#: Frames the drawn-element count must hold still to call the page drawn.
STABLE_FRAMES = 20

#: Counts drawn elements on every animation frame; records when the count last changed once
#: ``ready()`` holds, and sets window.__drawn when it held still for STABLE_FRAMES frames.
WATCH = """
(() => {
  const count = () => document.querySelectorAll(
    '.leaflet-overlay-pane path, .leaflet-overlay-pane canvas, .leaflet-marker-pane > *, .leaflet-tooltip-pane > *').length;
  let last = -1, since = 0, frames = 0;
  const tick = () => {
    const ready = window.__ready && window.__ready();
    const n = count();
    if (n !== last) { last = n; since = performance.now(); frames = 0; }
    else if (ready && n > 0) { frames += 1; }
    if (frames >= %d) { window.__drawn = {ms: since, elements: n}; return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
""" % STABLE_FRAMES
READY_OURS = "window.__ready = () => window.atlas && atlas.maps.length > 0 && atlas.maps[0]._loaded;"
READY_PLAIN = ("window.__ready = () => Object.values(window).some(v => v && v instanceof L.Map && v._loaded);")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def grow_households(engine, n: int) -> int:
    """Copies of the demo households with jittered positions until there are ``n`` [households]."""
    base = storage.read_layer(engine, "households")
    keep = ["code", "village_id", "settlement_id", "status", "status_year", "members", "geometry"]
    base = base[keep]
    rng = np.random.default_rng(14)
    copies, have = [], len(base)
    k = 1
    while have < n:
        extra = base.copy().head(n - have)
        extra["code"] = extra["code"] + f"-B{k}"
        extra["geometry"] = extra.geometry.translate(*rng.normal(0, 0.002, 2))
        copies.append(extra)
        have += len(extra)
        k += 1
    if copies:
        frame = pd.concat(copies, ignore_index=True).set_geometry("geometry")
        storage.write_layer(engine, "households", frame, source="demo:synthetic")
    return storage.count_layer(engine, "households")


def plain_folium(engine, path: Path) -> int:
    """A plain Folium map of the same points: households and villages as CircleMarkers."""
    import folium

    from maps.assets import localize_html

    households = storage.read_layer(engine, "households", columns=["code"])
    villages = storage.read_layer(engine, "villages", columns=["name"])
    m = folium.Map(location=[37.3, 105.2], zoom_start=9, tiles=None)
    points = 0
    for frame, color in ((households, "#2c7fb8"), (villages, "#c0392b")):
        for geom in frame.geometry:
            if geom is None or geom.is_empty:
                continue
            folium.CircleMarker([geom.y, geom.x], radius=4, color=color, fill=True).add_to(m)
            points += 1
    path.write_text(localize_html(m.get_root().render(), mode="embedded"), encoding="utf-8")
    return points


def start_server(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "ATLAS_DATABASE_URL": url, "ATLAS_SECRET_KEY": "bench-secret-key-not-for-production-0123456789"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    import httpx

    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/maps", timeout=5).status_code < 500:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"atlas serve did not start: {proc.stderr.read()[-2000:]}")


def drawn_ms(browser, url: str, ready: str, headers: dict | None, allow: str) -> tuple[float, int]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, extra_http_headers=headers or {})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(allow) else r.abort())
    context.add_init_script(ready + WATCH)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded", timeout=300_000)
    page.wait_for_function("() => window.__drawn", timeout=300_000, polling=100)
    result = page.evaluate("() => window.__drawn")
    context.close()
    return float(result["ms"]), int(result["elements"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from api.security import hash_password
    from geo.storage import accounts
    from geo.audit import SYSTEM
    from geo.demo import load_demo

    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        load_demo(engine)
        households = grow_households(engine, args.households)
        accounts.create_user(engine, name=USER, role="leader", password_hash=hash_password(PASSWORD), townships=(),
                             actor=SYSTEM, source="benchmark")
        plain = Path(tmp) / "plain.html"
        points = plain_folium(engine, plain)
        engine.dispose()

        port = free_port()
        server = start_server(url, port)
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            token = httpx.post(f"{base}/api/auth/token", data={"username": USER, "password": PASSWORD},
                               timeout=120).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for name in MAPS:  # the first view of each map warms the server's caches
                httpx.get(f"{base}/maps/{name}", headers=headers, timeout=600).raise_for_status()
            times: dict[str, list[float]] = {name: [] for name in (*MAPS, "plain")}
            elements: dict[str, int] = {}
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for _ in range(args.repeat):
                    ms, n = drawn_ms(browser, plain.as_uri(), READY_PLAIN, None, "file:")
                    times["plain"].append(ms)
                    elements["plain"] = n
                    for name in MAPS:
                        ms, n = drawn_ms(browser, f"{base}/maps/{name}", READY_OURS, headers, base)
                        times[name].append(ms)
                        elements[name] = n
                browser.close()
            pdf_process, pdf_cli, pdf_cpu = pdf_times(url, Path(tmp), args.repeat)
        finally:
            server.terminate()
            server.wait(timeout=30)

    load = os.getloadavg()
    plain_ms = statistics.median(times["plain"])
    print(f"maps served by atlas serve, {households:,} households; medians of {args.repeat} runs; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(f"  plain Folium map, {points:,} CircleMarkers (static file): {plain_ms:8.0f} ms to all drawn "
          f"({elements['plain']:,} elements)")
    for name in MAPS:
        ours = statistics.median(times[name])
        print(f"  /maps/{name:<9} {ours:8.0f} ms to all drawn ({elements[name]:,} elements)   "
              f"ratio plain/ours {plain_ms / ours:5.2f}   (min {min(times[name]):.0f}, max {max(times[name]):.0f})")
    print(f"  pairing map PDF (A3 landscape, with its table): in process {statistics.median(pdf_process):5.2f} s, "
          f"atlas map ... -o p.pdf {statistics.median(pdf_cli):5.2f} s, of which CPU {statistics.median(pdf_cpu):5.2f} s "
          "(command and Chromium; target < 5 s)")


def pdf_times(url: str, tmp: Path, repeat: int) -> tuple[list[float], list[float], list[float]]:
    from maps.chromium import print_pdf
    from maps.pages import load_map
    from maps.printing import layout, print_page

    import resource

    engine = make_engine(url)
    process, cli, cpu = [], [], []
    for i in range(repeat):
        start = time.perf_counter()
        spec, m = load_map(engine, "pairing", base="blank")
        page = print_page(m, sheet=layout("A3", landscape=True), title=spec.title,
                          year_note=getattr(m, "atlas_year_note", None), township=None)
        print_pdf(page, tmp / f"p{i}.pdf", offline=True)
        process.append(time.perf_counter() - start)
        start = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "api.cli", "map", "pairing", "-o", str(tmp / f"c{i}.pdf"),
                        "--paper", "A3", "--landscape", "--offline", "--db", url],
                       cwd=ROOT, check=True, capture_output=True)
        cli.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of the command and the Chromium it ran: about its wall time on an idle machine
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    engine.dispose()
    return process, cli, cpu


if __name__ == "__main__":
    main()
