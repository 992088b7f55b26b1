#!/usr/bin/env bash
# Run the whole test suite on real SpatiaLite and real PostGIS.
# Usage: ./test.sh [pytest arguments]   (ATLAS_REQUIRE_POSTGIS=1 fails the run if a test skips)
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
ensure_packages libsqlite3-mod-spatialite chromium fonts-wqy-microhei
ensure_venv
ensure_map_assets
ensure_postgis
exec "$VENV/bin/python" -m pytest "$@"
