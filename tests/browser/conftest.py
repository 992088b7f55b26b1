"""Headless Debian Chromium driven by Playwright (never a downloaded browser).

Every request that is not to the test server is blocked and recorded, so a test can prove
that a map loads nothing from the internet (only tile images are expected to try).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
#: Hosts of the base maps' tiles: the only requests a map may try beyond the server.
TILE_HOSTS = ("tile.openstreetmap.org", "is.autonavi.com", "tianditu.gov.cn")


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: ./test.sh installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class Guard:
    """What a page tried beyond the allowed origin, and what went wrong in it."""

    allowed: str
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def non_tile_requests(self) -> list[str]:
        return [u for u in self.blocked if not any(h in u for h in TILE_HOSTS)]


@pytest.fixture
def guarded(browser) -> Iterator:
    """``open(origin, login_as=NAME)`` -> (page, guard): a page whose requests outside ``origin``
    are blocked, logged in (a session cookie, as the login page sets it) as a test account of
    :mod:`tests.api.accounts` unless ``login_as=None``."""
    from tests.api.accounts import PASSWORD

    contexts = []

    def open_page(origin: str, *, login_as: str | None = "t_leader"):
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        if login_as is not None:
            token = context.request.get(f"{origin}/api/auth/session/form", timeout=TIMEOUT_MS).json()["csrf_token"]
            response = context.request.post(f"{origin}/api/auth/session",
                                            form={"username": login_as, "password": PASSWORD, "csrf_token": token},
                                            timeout=TIMEOUT_MS)
            assert response.ok, response.text()
        page = context.new_page()
        guard = Guard(origin)

        def route(route):
            url = route.request.url
            if url.startswith(origin):
                route.continue_()
            else:
                guard.blocked.append(url)
                route.abort()

        context.route("**/*", route)
        page.on("pageerror", lambda exc: guard.errors.append(str(exc)))
        page.on("dialog", lambda dialog: (guard.dialogs.append(dialog.message), dialog.dismiss()))
        return page, guard

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


#: How long a page may take to do something [ms]: generous, a loaded machine is slow (the
#: tests never measure speed).
TIMEOUT_MS = 120_000


def wait_for_map(page, timeout_ms: int = TIMEOUT_MS) -> None:
    page.wait_for_selector(".leaflet-container", timeout=timeout_ms)
    page.wait_for_function("() => window.atlas && atlas.maps.length > 0 && atlas.maps[0]._loaded",
                           timeout=timeout_ms)


@pytest.fixture(scope="session", autouse=True)
def demo_accounts(demo_engine) -> dict[str, int]:
    """The test accounts on the demo database the browser tests log in with."""
    from tests.api.accounts import ensure_users

    return ensure_users(demo_engine)


@pytest.fixture(scope="session")
def demo_server(live_server):
    """A browser needs a socket: here the demo is served by the real ``atlas serve`` that the
    other socket clients share (one per backend and pytest worker)."""
    return live_server
