#!/usr/bin/env bash
# API benchmark: installs wrk (Debian) and tipg (PyPI, in its own venv under var/bench, so its
# pins never touch the project's), then runs benchmarks/api_benchmark.py with the given options.
# Usage: benchmarks/run.sh [--seconds 15] [--connections 50] [--limit 100]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
ensure_packages libsqlite3-mod-spatialite wrk
ensure_venv
ensure_postgis
TIPG_VENV=var/bench/tipg-venv
if [ ! -x "$TIPG_VENV/bin/python" ] || ! "$TIPG_VENV/bin/python" -c 'import tipg' 2>/dev/null; then
    say "installing tipg into $TIPG_VENV"
    mkdir -p var/bench
    "$(python_for_venv)" -m venv "$TIPG_VENV"
    "$TIPG_VENV/bin/pip" install -q tipg uvicorn
fi
exec "$VENV/bin/python" benchmarks/api_benchmark.py "$@"
