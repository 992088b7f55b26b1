"""Headless Debian Chromium driven by Playwright (never a downloaded browser).

Every request that is not to the test server is blocked and recorded, so a test can prove
that a map loads nothing from the internet (only tile images are expected to try).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import ROOT, Server

if TYPE_CHECKING:
    import pandas as pd

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


#: The probes :func:`browser_site` writes: a poor village and a unit named to run a script if a
#: page ever inserted a name as HTML, and the name of the inspection plan drawn there.
XSS = "<img src=x onerror=alert(1)>"
XSS_UNIT = '"><script>alert(2)</script>'
PROBE_PLAN = "浏览器测试"


@dataclass
class BrowserSite:
    """A copy of the demo with every browser module's probes, served by ``atlas serve``."""

    server: Server
    url: str
    #: Open on the copy, for the tests' own reads.
    engine: Engine
    #: The PV map's siting candidates on the copy as written (best first).
    pv_candidates: pd.DataFrame

    @property
    def base(self) -> str:
        return self.server.base


@pytest.fixture(scope="session")
def _browser_sites(_database_factories) -> Iterator[dict[str, BrowserSite]]:
    """The :class:`BrowserSite` of each backend, kept when a worker's tests change backend and
    back (as :func:`tests.conftest._database_factories` keeps the databases), stopped at the end."""
    sites: dict[str, BrowserSite] = {}
    yield sites
    for site in sites.values():
        site.server.stop()
        site.engine.dispose()


@pytest.fixture(scope="session")
def browser_site(backend, databases, _browser_sites) -> BrowserSite:
    """One demo copy and one real server per backend and pytest worker for the browser modules
    that write probes (the shared demo stays as loaded); a server start costs 5-12 s.

    Written before the server starts: the village :data:`XSS` (poor, no unit, township 1) at the
    best PV siting candidate of the demo, so it is among that candidate's beneficiaries and
    heads the pairing panel's gaps; the unit :data:`XSS_UNIT` paired in 2020 only with 东滩村,
    which makes 2020 the pairing map's default year (2019 holds the demo's pairings); the test
    accounts; and the seed003 plan :data:`PROBE_PLAN` of 2019 (every village, the probe too).
    Tests may add rows of their own (a plan drawn, a finding) that no other test counts."""
    if backend not in _browser_sites:
        _browser_sites[backend] = _make_browser_site(databases.demo_url())
    return _browser_sites[backend]


def _make_browser_site(url: str) -> BrowserSite:
    import geopandas as gpd
    from shapely.geometry import Point

    from geo import storage
    from geo.db import make_engine
    from geo.inspection.plans import preset_plan
    from geo.services import inspections
    from geo.services.maps import map_siting
    from tests.api.accounts import ensure_users

    engine = make_engine(url)
    try:
        best = map_siting(engine, None)[0].candidates.iloc[0]
        storage.write_layer(engine, "villages", gpd.GeoDataFrame(
            {"name": [XSS], "township_id": [1], "category": ["key_poor"], "registered_poor_households": [30]},
            geometry=[Point(best["lon"], best["lat"])], crs="EPSG:4326"), source="test")
        unit_id = storage.write_layer(engine, "units", gpd.GeoDataFrame(
            {"name": [XSS_UNIT], "kind": ["other"], "level": ["other"]}, geometry=[None], crs="EPSG:4326"),
            source="test").ids[0]
        villages = storage.read_layer(engine, "villages")
        target = int(villages.loc[villages["name"] == "东滩村", "id"].iloc[0])
        storage.write_layer(engine, "pairings", gpd.GeoDataFrame(
            {"unit_id": [unit_id], "village_id": [target], "year": [2020], "task_funds_wan_yuan": [3.0]},
            geometry=[None], crs="EPSG:4326"), source="test")
        ensure_users(engine)
        # The routes' quality is not what the browser tests look at (tests/geo/inspection does):
        # a fifth of a second of search instead of the default 2.8 s for the plan's 46 villages
        # (the solver falls back to a search without a clock if even the first route takes longer).
        inspections.draw_plan(engine, preset_plan("seed003", year=2019, name=PROBE_PLAN), seed="browser",
                              teams=3, use_roads=False, solver_seconds=0.2)
        candidates = map_siting(engine, None)[0].candidates
        server = Server(url)
    except BaseException:
        engine.dispose()
        raise
    return BrowserSite(server=server, url=url, engine=engine, pv_candidates=candidates)
