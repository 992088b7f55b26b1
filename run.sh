#!/usr/bin/env bash
# The main job: set everything up, load the Shapotou demo data into SpatiaLite, serve the atlas.
# Usage: ./run.sh [--host 0.0.0.0] [--port 8000]   (ATLAS_DATABASE_URL selects another database)
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
ensure_packages libsqlite3-mod-spatialite
ensure_venv
"$VENV/bin/atlas" demo load
exec "$VENV/bin/atlas" serve "$@"
