"""Schemathesis against the OpenAPI document over real HTTP (a real ``atlas serve``: schemathesis
is a client of its own): a bounded number of generated requests per operation (examples, random
data, linked sequences) on both backends, and, on SpatiaLite, every boundary value of every
parameter and the heavy operations' valid generated values (marker ``boundaries``:
``.ci/run`` runs them, ``./test.sh`` leaves them out unless ``ATLAS_REQUIRE_POSTGIS=1`` or
``-m boundaries``), signed in as an administrator so the requests reach the handlers, finds
no 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo.db import make_engine
from tests.api.accounts import ensure_users
from tests.conftest import EmptyDatabase, Server

#: Examples per operation and phase.
MAX_EXAMPLES = 5
#: Generated requests and linked sequences: both backends.
GENERATED = "examples,fuzzing,stateful"
#: Every boundary value of every parameter (about 10,000 requests, the longest test of the
#: suite: minutes): SpatiaLite only, since it checks how the routes parse and validate their
#: parameters, which is the same code on both backends. A test of its own, so that a second
#: pytest worker runs it beside the generated requests; marked ``boundaries``.
COVERAGE = "coverage"
#: Operations that compute over the whole district on every request (an analysis, a PV model
#: run, a map, an inspection draw or export, the ranking behind propose-from-priority: 0.3-1.5 s
#: each). In the coverage phase they get
#: the invalid boundary values only (answered before any computing); their valid values come
#: from the examples and fuzzing phases on both backends. Valid boundaries of every
#: parameter of them would be about 600 computations, two thirds of the suite's longest test.
HEAVY_PATHS = r"^/(api/analyses/.+|api/pv/.+|maps/.+|api/inspections.*|api/projects/propose-from-priority)$"
CONFIG = f"""
[[operations]]
include-path-regex = '{HEAVY_PATHS}'
phases.coverage.generation.mode = "negative"
"""
#: In the suite's generated run (both backends) the heavy operations get invalid generated
#: values only in the fuzzing phase too: what reading their layers adds is reached by their
#: examples phase and by the analysis, PV, map and inspection tests of both backends. Their
#: valid generated values (the same pure computations on either backend: two thirds of the
#: SpatiaLite run's time) run in :func:`test_heavy_operations_with_valid_generated_values`,
#: marked ``boundaries`` like the coverage phase, so CI runs them and ``./test.sh`` does not.
GENERATED_CONFIG = CONFIG + 'phases.fuzzing.generation.mode = "negative"\n'

#: A request may take this long [s] on a loaded machine (an analysis of the whole demo takes
#: about a second; schemathesis' default of 10 s reports a slow answer as a network error).
REQUEST_TIMEOUT_S = 120


def _run(url: str, phases: str, tmp_path: Path, config_text: str = CONFIG, only: str | None = None) -> None:
    engine = make_engine(url)  # its own copy of the demo: the run changes and deletes rows
    user_ids = ensure_users(engine)
    target = Server(url)
    try:
        from api import security
        from geo.storage import accounts
        from geo.audit import SYSTEM

        new = security.new_api_key()
        accounts.add_api_key(engine, user_ids["t_admin"], label="schemathesis",
                             prefix=new.prefix, key_hash=new.key_hash, actor=SYSTEM)
        schemathesis = Path(sys.executable).with_name("schemathesis")
        config = tmp_path / "schemathesis.toml"
        config.write_text(config_text, encoding="utf-8")
        result = subprocess.run(
            [str(schemathesis), "--config-file", str(config), "run", f"{target.base}/openapi.json",
             "--header", f"X-API-Key: {new.key}",
             "--checks", "not_a_server_error",
             "--phases", phases,
             "--max-examples", str(MAX_EXAMPLES), "--seed", "7", "--no-shrink", "--warnings", "off",
             "--request-timeout", str(REQUEST_TIMEOUT_S),
             # Its example database would sit in this test's new working folder: never read
             # again, so writing every generated case into it only cost time.
             "--generation-database", "none",
             # Logging out would only end this run's own session; it returns no data.
             "--exclude-path", "/api/auth/logout",
             # A by-county job starts a Dask cluster of worker processes per valid request; the
             # job routes are tested in tests/api/test_analysis_jobs.py.
             "--exclude-path-regex", "^/api/analyses/[^/]+/jobs",
             *(["--include-path-regex", only] if only else [])],
            capture_output=True, text=True, timeout=3600, env={**os.environ, "NO_COLOR": "1"},
            cwd=tmp_path,  # schemathesis keeps a cache folder in its working directory
        )
        report = result.stdout + result.stderr
        (tmp_path / "schemathesis.txt").write_text(report)
        assert "Tested: " in report, report[-3000:]
        assert result.returncode == 0, report[-6000:]
        assert "No issues found" in report
    finally:
        target.stop()
        engine.dispose()


@pytest.fixture(autouse=True)
def no_login_slowdown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of generated logins with invented names come from one address; the per-address
    slow-down (tested in test_auth_login.py) would only make the run wait."""
    monkeypatch.setenv("ATLAS_LOGIN_MAX_DELAY_SECONDS", "0")


@pytest.mark.long
def test_no_server_errors(databases, tmp_path: Path):
    _run(databases.demo_url(), GENERATED, tmp_path, GENERATED_CONFIG)


@pytest.mark.boundaries
@pytest.mark.long
def test_heavy_operations_with_valid_generated_values(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path):
    """The heavy operations' fuzzing phase with valid values too (SpatiaLite: the computations
    are the backend's pure code, the same on PostGIS)."""
    databases = EmptyDatabase("spatialite", tmp_path_factory)
    try:
        _run(databases.demo_url(), "fuzzing", tmp_path, CONFIG, only=HEAVY_PATHS)
    finally:
        databases.cleanup()


@pytest.mark.boundaries
@pytest.mark.long
def test_no_server_errors_at_parameter_boundaries(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path):
    databases = EmptyDatabase("spatialite", tmp_path_factory)
    try:
        _run(databases.demo_url(), COVERAGE, tmp_path)
    finally:
        databases.cleanup()
