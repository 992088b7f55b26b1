"""One build of each native library per process (``geo/db.py``): a process that has loaded
SpatiaLite can still open an SSL connection to PostgreSQL and rasterize with rasterio.

Each check runs in a fresh interpreter, in the order that used to crash it (exit -11, a
segmentation fault): SpatiaLite first. The SSL check needs a PostgreSQL with ``ssl = on``
(``ATLAS_TEST_POSTGRES_SSL_URL``; ``.ci/run`` makes one with ``scripts/bootstrap.sh``
``ensure_postgres_ssl``); without it the check skips, and fails under ``ATLAS_REQUIRE_POSTGIS=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REQUIRE_POSTGIS, ROOT

SSL_URL = os.environ.get("ATLAS_TEST_POSTGRES_SSL_URL")

LOAD_SPATIALITE = """
import sys
from geo.db import make_engine

lite = make_engine("sqlite:///" + sys.argv[1])
with lite.connect() as conn:
    conn.exec_driver_sql("SELECT spatialite_version()").scalar()
"""


def _run(script: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LOAD_SPATIALITE + script, str(tmp_path / "a.sqlite"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_an_ssl_connection_after_spatialite_loaded(tmp_path):
    if not SSL_URL:
        reason = "ATLAS_TEST_POSTGRES_SSL_URL is not set (scripts/bootstrap.sh ensure_postgres_ssl makes a cluster)"
        if REQUIRE_POSTGIS:
            pytest.fail(f"ATLAS_REQUIRE_POSTGIS=1 but {reason}")
        pytest.skip(reason)
    result = _run("""
from sqlalchemy import text
pg = make_engine(sys.argv[2], check=False)
for _ in range(2):  # a second connection after the first one closed
    with pg.connect() as conn:
        print(conn.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar())
pg.dispose()
""", tmp_path, SSL_URL)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-3000:]}"
    assert result.stdout.split() == ["True", "True"], "the connection did not use SSL"


def test_rasterio_after_spatialite_loaded(tmp_path):
    result = _run("""
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely.geometry import box

print(int(rasterize([(box(0, 0, 5, 5), 1)], out_shape=(10, 10), transform=from_origin(0, 10, 1, 1)).sum()))
""", tmp_path)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr[-3000:]}"
    assert result.stdout.split() == ["25"]


def test_psycopg_uses_the_system_libpq():
    """psycopg-binary brings its own OpenSSL: the cause of the SSL crash."""
    import psycopg

    assert psycopg.pq.__impl__ != "binary", "uninstall psycopg-binary: pip uninstall psycopg-binary"


def test_psycopg_runs_its_c_implementation():
    """psycopg-c, compiled against the system libpq by ./run.sh and ./test.sh (pyproject.toml)."""
    import psycopg

    assert psycopg.pq.__impl__ == "c", "install psycopg[c]: ./test.sh reinstalls it (needs libpq-dev and gcc)"
