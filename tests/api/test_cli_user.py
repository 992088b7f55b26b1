"""``atlas user ...`` (in this process) and ``atlas serve``'s start-up rules: a real subprocess
where the console of the real command is the point (the first start's password, one refusal),
else the command in this process up to the moment it would start serving."""

from __future__ import annotations

import json
import re
import subprocess

from tests.api.accounts import login
from tests.conftest import Server, Site, _run_cli_here, free_port, run_cli


def _serve_here(monkeypatch, *args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, list]:
    """``atlas serve ARGS`` in this process, through the console script's entry point, up to the
    point where uvicorn would take over: its loop is replaced by a recorder of the options it
    was given, so a start is recorded and a refusal is an exit code, never a server left
    running (a subprocess would spend seconds importing the application for each call)."""
    import uvicorn

    served: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: served.append(options))
    return _run_cli_here(["serve", *args], env or {}, None), served


def _input(args: list[str], text: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, input=text, env=env)


def test_user_commands(databases, monkeypatch):
    empty_url = databases.demo_url()  # a copy of the demo (its townships), with no users yet
    added = _input(["user", "add", "wang.fang", "--role", "leader", "--township", "兴仁镇",
                    "--password-stdin", "--db", empty_url], "a-good-password-1\n")
    assert added.returncode == 0, added.stderr
    assert "wang.fang" in added.stdout and "兴仁镇" in added.stdout
    weak = _input(["user", "add", "li.si", "--role", "viewer", "--password-stdin", "--db", empty_url], "short\n")
    assert weak.returncode == 1 and "8 to 256 characters" in weak.stderr and "Traceback" not in weak.stderr
    bad_role = _input(["user", "add", "li.si", "--role", "boss", "--password-stdin", "--db", empty_url], "x" * 10 + "\n")
    assert bad_role.returncode == 1 and "planner" in bad_role.stderr
    dup = _input(["user", "add", "wang.fang", "--role", "viewer", "--password-stdin", "--db", empty_url],
                 "a-good-password-1\n")
    assert dup.returncode == 1 and "exists already" in dup.stderr

    run_cli("user", "set", "wang.fang", "--role", "planner", "--all-townships", "--db", empty_url, check=True)
    users = json.loads(run_cli("user", "list", "--json", "--db", empty_url, check=True).stdout)
    assert [(u["name"], u["role"], u["township_names"]) for u in users] == [("wang.fang", "planner", [])]
    assert "password_hash" not in users[0]

    key = run_cli("user", "key", "wang.fang", "--label", "nightly", "--db", empty_url, check=True).stdout.strip()
    assert re.fullmatch(r"atlas_[0-9a-f]{12}_\S+", key)
    port = free_port()
    started, served = _serve_here(monkeypatch, "--db", empty_url, "--port", str(port))
    assert started.returncode == 0, started.stderr
    assert [options["port"] for options in served] == [port] and "running at" in started.stdout
    assert "First start" not in started.stdout  # users exist: no bootstrap account
    assert [u["name"] for u in json.loads(run_cli("user", "list", "--json", "--db", empty_url).stdout)] == ["wang.fang"]
    site = Site(empty_url)  # the API in this process over the same database
    try:
        me = site.get("/api/auth/me", headers={"X-API-Key": key}).json()
        assert me["name"] == "wang.fang" and me["role"] == "planner"
        assert site.get("/api/auth/me", headers=login(site, "wang.fang", "a-good-password-1")).status_code == 200
        key_id = run_cli("user", "keys", "wang.fang", "--db", empty_url, check=True).stdout.split()[0]
        run_cli("user", "revoke", "wang.fang", key_id, "--db", empty_url, check=True)
        assert site.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 401
        _input(["user", "password", "wang.fang", "--password-stdin", "--db", empty_url], "another-password-2\n")
        assert site.post("/api/auth/token",
                         data={"username": "wang.fang", "password": "a-good-password-1"}).status_code == 401
        run_cli("user", "remove", "wang.fang", "--db", empty_url, check=True)
        assert site.post("/api/auth/token",
                         data={"username": "wang.fang", "password": "another-password-2"}).status_code == 401
    finally:
        site.close()


def test_user_add_on_a_new_database_creates_the_schema_before_the_password(empty_url):
    """The README's tip: the first administrator, made before the first start."""
    added = run_cli("user", "add", "boss", "--role", "admin", "--generate-password", "--db", empty_url)
    assert added.returncode == 0, added.stderr
    assert "schema upgraded from empty" in added.stderr
    password = re.search(r"password \(shown once\): (\S+)", added.stdout).group(1)
    site = Site(empty_url)
    try:
        headers = login(site, "boss", password)
        assert [u["name"] for u in site.get("/api/users", headers=headers).json()] == ["boss"]
    finally:
        site.close()
    again = run_cli("user", "add", "li.si", "--role", "viewer", "--generate-password", "--db", empty_url)
    assert again.returncode == 0 and "schema" not in again.stderr


def test_first_start_creates_an_admin_with_a_one_time_password(empty_url):
    run_cli("db", "upgrade", "--db", empty_url, check=True)
    server = Server(empty_url)
    out, _ = server.stop()
    match = re.search(r"administrator 'admin' with the one-time password (\S+)", out)
    assert match, out
    site = Site(empty_url)  # a later start shows no password (test above: users exist)
    try:
        headers = login(site, "admin", match.group(1))
        assert site.get("/api/users", headers=headers).json()[0]["role"] == "admin"
    finally:
        site.close()


def test_serve_refuses_the_default_secret_outside_development(empty_url, monkeypatch):
    run_cli("db", "upgrade", "--db", empty_url, check=True)
    port = str(free_port())
    # The real command (a subprocess): its exit code and console are the point.
    result = run_cli("serve", "--db", empty_url, "--port", port, env={"ATLAS_ENVIRONMENT": "production"})
    assert result.returncode == 1
    assert "ATLAS_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    short, served = _serve_here(monkeypatch, "--db", empty_url, "--port", port,
                                env={"ATLAS_ENVIRONMENT": "production", "ATLAS_SECRET_KEY": "too-short"})
    assert short.returncode == 1 and "32 characters" in short.stderr and served == []
    assert "Traceback" not in short.stderr


def test_serve_refuses_an_outdated_schema(empty_url, monkeypatch):
    run_cli("db", "upgrade", "--db", empty_url, "--revision", "0001", check=True)
    result, served = _serve_here(monkeypatch, "--db", empty_url, "--port", str(free_port()))
    assert result.returncode == 1 and "atlas db upgrade" in result.stderr and served == []
