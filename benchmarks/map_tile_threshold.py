"""Where a served map should switch a layer from embedded GeoJSON to vector tiles: the overview
map over the API benchmark's data (the demo topped up to 50,000 households and 20,000 roads),
served by ``atlas serve`` with every layer embedded (``ATLAS_MAP_TILE_THRESHOLD=0``) and with
the default threshold (households and roads from tiles), opened as a leader in headless
Chromium (Debian's): the page's size, the server's time to build it (first view, nothing
kept) and the time from navigation to "all drawn" (the count of drawn paths, markers and
names holds still for 20 frames, as ``benchmarks/bench_maps_browser.py`` counts it).

Usage: python benchmarks/map_tile_threshold.py --db URL --key KEY [--runs 3]
(a database prepared by ``benchmarks.api_benchmark.prepare``; KEY: its API key, a leader's).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api_benchmark import wait_until_up  # noqa: E402
from benchmarks.bench_maps_browser import ARGS, CHROMIUM, READY_OURS, WATCH, free_port  # noqa: E402

CONFIGS = {"embedded (threshold 0)": "0", "tiles (threshold 10000)": "10000"}


def start(url: str, threshold: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "ATLAS_DATABASE_URL": url, "ATLAS_MAP_TILE_THRESHOLD": threshold,
           "ATLAS_SECRET_KEY": "bench-secret-key-not-for-production-0123456789"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/health", proc, timeout=300)
    except RuntimeError:
        proc.terminate()
        raise
    return proc, base


def measure(browser, base: str, key: str) -> dict:
    import httpx

    started = time.perf_counter()
    page = httpx.get(f"{base}/maps/overview", headers={"X-API-Key": key}, timeout=600)
    build_s = time.perf_counter() - started
    assert page.status_code == 200, page.text[:500]
    context = browser.new_context(viewport={"width": 1400, "height": 900}, extra_http_headers={"X-API-Key": key})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
    context.add_init_script(READY_OURS + WATCH)
    tab = context.new_page()
    tab.goto(f"{base}/maps/overview", wait_until="domcontentloaded", timeout=600_000)
    tab.wait_for_function("() => window.__drawn", timeout=600_000, polling=100)
    drawn = tab.evaluate("() => window.__drawn")
    context.close()
    return {"build_s": build_s, "mb": len(page.content) / 1e6, "drawn_ms": float(drawn["ms"]),
            "elements": int(drawn["elements"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    servers = {name: start(args.db, threshold) for name, threshold in CONFIGS.items()}
    results: dict[str, list[dict]] = {name: [] for name in CONFIGS}
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}; nice {os.nice(0)}", flush=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            for run in range(args.runs):
                for name, (_, base) in servers.items():  # interleaved
                    if run:  # a new server process: nothing kept from the last view
                        servers[name][0].terminate()
                        servers[name][0].wait(timeout=60)
                        servers[name] = start(args.db, CONFIGS[name])
                        base = servers[name][1]
                    result = measure(browser, base, args.key)
                    results[name].append(result)
                    print(run, name, {k: round(v, 2) for k, v in result.items()}, flush=True)
            browser.close()
    finally:
        for proc, _ in servers.values():
            proc.terminate()
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    for name, rows in results.items():
        print(name, "medians:", {k: round(statistics.median(r[k] for r in rows), 2) for k in rows[0]})


if __name__ == "__main__":
    main()
