"""Schemathesis against the OpenAPI document over real HTTP: a bounded number of generated
requests per operation (examples, boundary values, random data, linked sequences), signed in
as an administrator so the requests reach the handlers, finds no 5xx on either backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.api.conftest import Scratch

#: Examples per operation and phase.
MAX_EXAMPLES = 5
#: The coverage phase (every boundary value of every parameter, about 10,000 requests and
#: seven minutes) runs on SpatiaLite only: it checks how the routes parse and validate their
#: parameters, which is the same code on both backends. Both backends get the examples,
#: fuzzing and stateful phases.
PHASES = {"spatialite": "examples,coverage,fuzzing,stateful", "postgis": "examples,fuzzing,stateful"}


def test_no_server_errors(databases, tmp_path: Path):
    target = Scratch(databases.demo_url())  # its own copy of the demo: the run changes and deletes rows
    try:
        from api import security
        from geo import accounts
        from geo.audit import SYSTEM

        new = security.new_api_key()
        accounts.add_api_key(target.engine, target.user_ids["t_admin"], label="schemathesis",
                             prefix=new.prefix, key_hash=new.key_hash, actor=SYSTEM)
        schemathesis = Path(sys.executable).with_name("schemathesis")
        result = subprocess.run(
            [str(schemathesis), "run", f"{target.base}/openapi.json",
             "--header", f"X-API-Key: {new.key}",
             "--checks", "not_a_server_error",
             "--phases", PHASES[databases.backend],
             "--max-examples", str(MAX_EXAMPLES), "--seed", "7", "--no-shrink", "--warnings", "off",
             # Logging out would only end this run's own session; it returns no data.
             "--exclude-path", "/api/auth/logout"],
            capture_output=True, text=True, timeout=1500, env={**os.environ, "NO_COLOR": "1"},
            cwd=tmp_path,  # schemathesis keeps a cache folder in its working directory
        )
        report = result.stdout + result.stderr
        (tmp_path / "schemathesis.txt").write_text(report)
        assert "Tested: " in report, report[-3000:]
        assert result.returncode == 0, report[-6000:]
        assert "No issues found" in report
    finally:
        target.server.stop()
        target.engine.dispose()
