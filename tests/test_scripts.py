"""The shell scripts a user runs: scripts/postgis-database.sh ("Using PostGIS" in docs/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def _may_be_postgres() -> bool:
    if os.geteuid() == 0:
        return True
    return shutil.which("sudo") is not None and subprocess.run(["sudo", "-n", "true"], check=False).returncode == 0


@pytest.mark.postgis
def test_postgis_database_script_works_as_root_or_with_sudo(tmp_path):
    """As root (who has no PostgreSQL role: createdb used to fail) or with sudo: a role that is
    not a superuser, its database with PostGIS, and a URL the atlas migrates and uses."""
    if not _may_be_postgres():
        pytest.skip("needs root or password-less sudo to act as the postgres OS user")
    suffix = uuid.uuid4().hex[:8]
    database, role = f"atlas_script_{suffix}", f"atlas_script_{suffix}"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "ATLAS_POSTGRES_ROLE": role}
    try:
        for _ in range(2):  # running it again changes nothing and prints the same line
            done = subprocess.run(["bash", str(ROOT / "scripts/postgis-database.sh"), database],
                                  check=False, capture_output=True, text=True, env=env, timeout=600)
            assert done.returncode == 0, done.stderr
            line = done.stdout.strip()
            assert line.startswith("export ATLAS_DATABASE_URL=postgresql+psycopg://" + role + ":")
        url = line.removeprefix("export ATLAS_DATABASE_URL=")
        assert (tmp_path / "atlas" / f"postgres-{role}-password").stat().st_mode & 0o077 == 0
        added = run_cli("user", "add", "boss", "--role", "admin", "--generate-password", "--db", url)
        assert added.returncode == 0, added.stderr
        assert "boss" in run_cli("user", "list", "--db", url, check=True).stdout
    finally:
        drop = (f'source "{ROOT}/scripts/bootstrap.sh"; port=$(ensure_postgres_running); '
                f'as_postgres -p "$port" -c "DROP DATABASE IF EXISTS {database}" -c "DROP ROLE IF EXISTS {role}"')
        subprocess.run(["bash", "-c", drop], check=False, capture_output=True, timeout=300)
