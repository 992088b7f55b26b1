#!/usr/bin/env bash
# Run the whole test suite on real SpatiaLite and real PostGIS.
# Usage: ./test.sh [pytest arguments]   (ATLAS_REQUIRE_POSTGIS=1 fails the run if a test skips,
#        and makes the small second cluster with ssl = on that the SSL test needs;
#        ATLAS_TEST_WORKERS=N runs N pytest workers, default: one per core up to 4; 0 runs in-process)
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
# Two runs at once (two clones, or CI beside a developer) set up one at a time: apt, the
# PostgreSQL role, template and atlas_ssl cluster are the machine's, not the clone's. The tests
# themselves never collide (unique database names, free ports, pytest's own temporary folders).
exec 9>"${TMPDIR:-/tmp}/atlas-test-setup-$(id -u).lock"
flock 9
# gdal-bin and python3-qgis: Debian's own GDAL 3.6 and QGIS 3.22 (on Debian 12) run the README's
# OGC recipes in tests/api/test_ogc_clients.py; poppler-utils: pdftotext and pdfinfo read the printed PDFs.
ensure_packages libsqlite3-mod-spatialite chromium fonts-wqy-microhei gdal-bin python3-qgis qgis-providers poppler-utils
ensure_venv
ensure_postgis
if [ "${ATLAS_REQUIRE_POSTGIS:-}" = 1 ]; then ensure_postgres_ssl; fi
flock -u 9
exec 9>&-
cores=$(nproc 2>/dev/null || echo 1)
workers=${ATLAS_TEST_WORKERS:-$(( cores < 4 ? cores : 4 ))}
# The schemathesis boundary phase (minutes) runs in CI (ATLAS_REQUIRE_POSTGIS=1) or with -m boundaries.
select=(-m "not boundaries")
if [ "${ATLAS_REQUIRE_POSTGIS:-}" = 1 ]; then select=(); fi
# Bytecode caches on, even where the environment turns them off (PYTHONDONTWRITEBYTECODE, as
# in many containers): the suite starts dozens of Python processes (workers, atlas serve, the
# CLI), and without caches each one compiles the atlas's modules again and pytest rewrites every
# test module again (a worker's collection: 13.5 s of CPU instead of 7 s). __pycache__ is ignored by git.
unset PYTHONDONTWRITEBYTECODE
exec "$VENV/bin/python" -m pytest -n "$workers" --dist worksteal "${select[@]}" "$@"
