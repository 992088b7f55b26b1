"""Page times of the landing page, the PV map and the PV review over real HTTP (issue 8):
the first view after the server starts, a repeated view (median), and a view right after a
registry write (median), which must recompute.

Starts ``atlas serve`` from ``--root`` (default this checkout; point it at another checkout to
compare before and after) over a copy of the demo database, signs in as a planner and times
each page ``--repeat`` times. A write is a PATCH of one village's population through the
registry API, alternating between two values.

Usage::

    .venv/bin/python benchmarks/map_cache_benchmark.py [--repeat 5] [--root PATH] [--db SQLITE_FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = {"landing": "/", "pv map": "/maps/pv", "pv review": "/api/pv/review"}
PASSWORD = "benchmark-password-1"


def prepare(db: Path) -> None:
    from api.security import hash_password
    from geo import migrate
    from geo.storage import accounts
    from geo.audit import SYSTEM
    from geo.db import make_engine
    from geo.demo import load_demo
    from geo.errors import NotFound

    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    if not engine.connect().exec_driver_sql("SELECT count(*) FROM villages").scalar():
        load_demo(engine)
    try:
        accounts.get_user(engine, name="bench_planner")
    except NotFound:
        accounts.create_user(engine, name="bench_planner", role="planner", password_hash=hash_password(PASSWORD),
                             actor=SYSTEM, source="benchmark")
    engine.dispose()


def serve(root: Path, db: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--db", f"sqlite:///{db}", "--port",
                                str(port)], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("atlas serve did not start")


def timed(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose server is timed")
    parser.add_argument("--db", type=Path, help="a demo SpatiaLite file to copy (default: load the demo)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.sqlite"
        if args.db:
            shutil.copyfile(args.db, db)
        prepare(db)
        process, base = serve(args.root.resolve(), db)
        try:
            client = httpx.Client(base_url=base, timeout=300)
            token = client.post("/api/auth/token", data={"username": "bench_planner", "password": PASSWORD})
            client.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['access_token']}"
            village = client.get("/api/registry/villages/1").raise_for_status()
            version = int(village.headers["ETag"].strip('"'))
            print(f"server from {args.root}; {args.repeat} views each; seconds")
            print(f"{'page':<10} {'first':>7} {'repeat':>7} {'after write':>12}")
            for name, path in PAGES.items():
                first = timed(client, path)
                again = statistics.median(timed(client, path) for _ in range(args.repeat))
                after = []
                for i in range(args.repeat):
                    changed = client.patch("/api/registry/villages/1", json={"population": 1000 + i % 2},
                                           headers={"If-Match": f'"{version}"'})
                    version = int(changed.raise_for_status().headers["ETag"].strip('"'))
                    after.append(timed(client, path))
                print(f"{name:<10} {first:>7.2f} {again:>7.2f} {statistics.median(after):>12.2f}")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
