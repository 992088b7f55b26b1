"""The README's quick start, run as a new user runs it: in a clean clone, its first command
(taken from the README, not retyped) sets up its own virtual environment, loads the demo and
serves the landing page; its second command is the one CI runs."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.test_readme import README, _BLOCK, _commands, _section

ROOT = Path(__file__).resolve().parents[1]
#: Set-up (a virtual environment from PyPI's pinned packages), the demo and the first start;
#: generous, since the machine may be busy: this is not a speed test.
FIRST_PAGE_WITHIN_S = 900


def _quick_start() -> list[str]:
    (block,) = _BLOCK.findall(_section(README, "Quick start"))
    return _commands(block)


@pytest.mark.long
def test_the_readme_quick_start_serves_the_first_page_from_a_clean_clone(tmp_path):
    clone = tmp_path / "atlas"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert not (clone / ".venv").exists() and not (clone / "node_modules").exists()
    first, second = _quick_start()
    port = free_port()
    log = (tmp_path / "run.log").open("w+")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATLAS_", "VIRTUAL_ENV", "PYTHON"))}
    started = time.monotonic()
    server = subprocess.Popen([*shlex.split(first), "--port", str(port)], cwd=clone, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        page = None
        with httpx.Client(timeout=120) as probe:  # one client: each new one loads the CA bundle
            while time.monotonic() - started < FIRST_PAGE_WITHIN_S and server.poll() is None:
                try:
                    page = probe.get(f"http://127.0.0.1:{port}/login")
                    break
                except httpx.TransportError:  # a refused connection costs nothing: look often
                    time.sleep(0.1)
        log.seek(0)
        output = log.read()
        assert page is not None, f"no page after {time.monotonic() - started:.0f} s; {first} said:\n{output[-3000:]}"
        assert page.status_code == 200 and "登录" in page.text
        print(f"\nquick start: first page after {time.monotonic() - started:.0f} s (venv, demo, server)")
        assert (clone / ".venv/bin/atlas").exists() and (clone / "var/atlas.sqlite").exists()
        password = re.search(r"administrator 'admin' with the one-time password (\S+)", output).group(1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, headers={"Accept": "text/html"}) as browser:
            token = browser.get("/api/auth/session/form").json()["csrf_token"]
            login = browser.post("/api/auth/session", data={"username": "admin", "password": password,
                                                           "csrf_token": token})
            assert login.status_code == 200, login.text
            landing = browser.get("/")
        assert landing.status_code == 200 and "沙坡头区" in landing.text and "演示" in landing.text
        assert not (clone / "node_modules").exists() and not (clone / "package.json").exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=120)
    assert second == "./test.sh" and "./test.sh" in (ROOT / ".ci/run").read_text()
