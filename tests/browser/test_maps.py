"""The maps in a real browser (Debian Chromium) against ``atlas serve`` on the demo data.

Every request that is not to the test server is blocked, so these tests also prove that
the maps load nothing from the internet: only tile images try to, and fail.
"""

from __future__ import annotations

import base64

import pytest

from geo import storage
from geo.chinacrs import wgs84_to_gcj02
from maps.catalog import MAPS
from tests.browser.conftest import PROBE_PLAN, XSS, screenshot, wait_for_map
from tests.conftest import run_cli

pytestmark = pytest.mark.browser

#: The maps the tests below count features of; the others are checked by test_every_new_map_loads.
FIRST_MAPS = ["pairing", "overview"]
NEW_MAPS = [name for name in MAPS if name not in FIRST_MAPS]
# A 1x1 transparent PNG: what the test's stub tile server answers (nothing leaves the machine).
TILE = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


def count(page, selector: str) -> int:
    return page.evaluate("(s) => document.querySelectorAll(s).length", selector)


def overlay_count(page, key: str) -> int:
    return page.evaluate("(k) => atlas.maps[0]._atlas.byKey[k].atlasCount()", key)


def expected_pairing(engine):
    pairings = storage.read_layer(engine, "pairings")
    teams = storage.read_layer(engine, "work_teams")
    links = set(zip(pairings["unit_id"], pairings["village_id"])) | {
        (int(u), v) for u, v in zip(teams["leader_unit_id"], teams["village_id"]) if u == u}
    return {"villages": storage.count_layer(engine, "villages"),
            "units": len({u for u, _ in links}), "pairing_links": len(links)}


def expected_overview(engine):
    return {layer: storage.count_layer(engine, layer)
            for layer in ("townships", "villages", "roads", "water_facilities", "pv_projects")}


def test_landing_page_links_to_every_map(guarded, demo_server, backend):
    page, guard = guarded(demo_server.base)
    page.goto(demo_server.base + "/")
    assert page.locator('[data-figure="行政村"] .value').inner_text() == "45"
    assert page.locator(".maps a").count() == len(MAPS)
    screenshot(page, f"landing-{backend}")
    page.locator(".maps a", has_text="帮扶结对图").click()
    wait_for_map(page)
    assert page.url.endswith("/maps/pairing")
    assert guard.blocked == [] or guard.non_tile_requests() == []
    assert guard.errors == []


@pytest.mark.parametrize("name", FIRST_MAPS)
def test_map_renders_its_features_offline(guarded, demo_server, demo_engine, backend, name):
    page, guard = guarded(demo_server.base)
    page.goto(f"{demo_server.base}/maps/{name}")
    wait_for_map(page)
    expected = expected_pairing(demo_engine) if name == "pairing" else expected_overview(demo_engine)
    # The pairing map draws unit offices and lines for a chosen unit only (they would pile up on
    # the city); the layer control shows them all.
    hidden = {"units": "帮扶单位", "pairing_links": "结对连线"} if name == "pairing" else {}
    for key, n in expected.items():
        selector = ".atlas-icon.atlas-units" if key == "units" else f"path.atlas-{key}"
        assert overlay_count(page, key) == n, key
        if key in hidden:
            assert count(page, selector) == 0, key
            page.locator(".leaflet-control-layers-overlays label", has_text=hidden[key]).locator("input").click()
        assert count(page, selector) == n, key
    # Controls all render without the internet.
    for selector in (".leaflet-control-layers", ".atlas-legend", ".leaflet-control-scale",
                     ".leaflet-control-zoom-fullscreen", ".atlas-search input", ".atlas-title"):
        assert count(page, selector) == 1, selector
    assert "演示数据" in page.locator(".atlas-legend").inner_text()
    # The OSM tiles failed (no network), so the map fell back to the blank base and says so.
    page.wait_for_selector(".atlas-notice")
    assert page.evaluate("() => atlas.maps[0].hasLayer(atlas.maps[0]._atlas.bases.blank)")
    assert guard.blocked, "the OSM base should have tried to load tiles"
    assert guard.non_tile_requests() == [], "a script or stylesheet was requested from the internet"
    assert guard.errors == []
    screenshot(page, f"{name}-{backend}")


def test_layer_control_toggles_a_layer(guarded, demo_server):
    page, _ = guarded(demo_server.base)
    page.goto(f"{demo_server.base}/maps/pairing")
    wait_for_map(page)
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="行政村").locator("input")
    assert count(page, "path.atlas-villages") == 45
    toggle.click()
    assert count(page, "path.atlas-villages") == 0
    assert count(page, "path.atlas-townships") == 7  # other layers stay
    toggle.click()
    assert count(page, "path.atlas-villages") == 45


def test_households_cluster(guarded, demo_server, demo_engine):
    page, _ = guarded(demo_server.base)
    page.goto(f"{demo_server.base}/maps/overview")
    wait_for_map(page)
    assert count(page, ".marker-cluster") == 0  # hidden until switched on
    page.locator(".leaflet-control-layers-overlays label", has_text="农户").locator("input").click()
    page.wait_for_selector(".marker-cluster")
    assert overlay_count(page, "households") == storage.count_layer(demo_engine, "households")
    shown = page.evaluate("""() => { let n = 0; document.querySelectorAll('.marker-cluster span')
        .forEach(s => n += parseInt(s.textContent)); return n; }""")
    assert 0 < shown <= storage.count_layer(demo_engine, "households")
    # A cluster reads as a count of households ("12户" in a rounded box), never as a visit number.
    texts = page.evaluate("() => [...document.querySelectorAll('.marker-cluster span')].map(s => s.textContent)")
    assert texts and all(t.endswith("户") and t[:-1].isdigit() for t in texts), texts
    assert count(page, ".atlas-count-cluster") == len(texts)
    assert "框中数字为该处农户数" in page.locator(".atlas-legend").inner_text()


def test_amap_base_shifts_overlays_by_gcj02(guarded, demo_server, demo_engine):
    page, guard = guarded(demo_server.base)
    # A stub tile server inside the browser: Amap tiles "load", so the map keeps that base.
    page.context.route("**/appmaptile*", lambda route: route.fulfill(body=TILE, content_type="image/png"))
    page.context.route("**/tile.openstreetmap.org/**",
                       lambda route: route.fulfill(body=TILE, content_type="image/png"))
    first = storage.read_layer(demo_engine, "villages").geometry.iloc[0]
    gcj_lon, gcj_lat = (float(v) for v in wgs84_to_gcj02(first.x, first.y))

    def drawn():
        return page.evaluate("() => atlas.maps[0]._atlas.byKey.villages.atlasLatLngOf(0)")

    page.goto(f"{demo_server.base}/maps/pairing?base=amap")
    wait_for_map(page)
    at = drawn()
    assert abs(at["lng"] - gcj_lon) < 2e-6 and abs(at["lat"] - gcj_lat) < 2e-6
    assert abs(at["lng"] - first.x) > 1e-3  # hundreds of metres off WGS 84 here
    page.locator(".leaflet-control-layers-base label", has_text="OpenStreetMap").locator("input").click()
    at = drawn()
    assert abs(at["lng"] - first.x) < 2e-6 and abs(at["lat"] - first.y) < 2e-6
    page.locator(".leaflet-control-layers-base label", has_text="高德").locator("input").click()
    assert abs(drawn()["lng"] - gcj_lon) < 2e-6
    assert count(page, ".atlas-notice") == 0
    assert guard.errors == []


@pytest.mark.parametrize("name", FIRST_MAPS)
def test_village_name_is_shown_as_text(guarded, browser_site, name):
    page, guard = guarded(browser_site.base)
    page.goto(f"{browser_site.base}/maps/{name}")
    wait_for_map(page)
    search = page.locator(".atlas-search input")
    search.fill("onerror")
    search.press("Enter")
    page.wait_for_selector(".leaflet-popup-content h4")
    assert page.locator(".leaflet-popup-content h4").inner_text() == XSS
    page.locator("path.atlas-villages").last.hover(force=True)
    assert count(page, 'img[src="x"]') == 0
    page.wait_for_timeout(300)
    assert guard.dialogs == []
    assert guard.errors == []


def test_emailed_file_works_with_no_network(guarded, demo_url, tmp_path):
    out = tmp_path / "pairing.html"
    run_cli("map", "pairing", "-o", str(out), "--db", demo_url, check=True)
    page, guard = guarded(out.as_uri(), login_as=None)
    page.goto(out.as_uri())
    wait_for_map(page)
    assert count(page, "path.atlas-villages") == 45
    assert count(page, ".leaflet-control-layers") == 1
    assert guard.non_tile_requests() == []
    assert guard.errors == []


def test_a_leader_logs_in_and_lands_on_the_map_asked_for(guarded, demo_server):
    from tests.api.accounts import PASSWORD

    page, guard = guarded(demo_server.base, login_as=None)
    page.goto(f"{demo_server.base}/maps/pairing?township=兴仁镇")
    assert "/login?next=" in page.url
    page.fill("input[name=username]", "t_leader")
    page.fill("input[name=password]", PASSWORD)
    page.click("button")
    page.wait_for_url("**/maps/pairing?township=*")
    wait_for_map(page)
    assert count(page, "path.atlas-villages") == 11
    page.goto(f"{demo_server.base}/")
    assert "t_leader" in page.inner_text("header")
    page.click("text=退出登录")
    page.wait_for_url("**/login")
    page.goto(f"{demo_server.base}/maps/pairing")
    assert "/login?next=" in page.url
    assert guard.errors == []


def test_every_new_map_loads_with_its_legend_and_escapes_names(guarded, browser_site):
    """One page visits every map added after the first two: no script errors, the legend and
    its demo notice visible, the hostile village name shown as text, nothing from the internet."""
    page, guard = guarded(browser_site.base)
    for name in NEW_MAPS:
        query = f"?plan={PROBE_PLAN}" if MAPS[name].source == "inspection_plan" else ""
        page.goto(f"{browser_site.base}/maps/{name}{query}")
        wait_for_map(page)
        legend = page.locator(".atlas-legend")
        assert legend.is_visible(), name
        assert "演示数据" in legend.inner_text(), name
        for selector in (".leaflet-control-layers", ".leaflet-control-scale", ".leaflet-control-zoom-fullscreen"):
            assert count(page, selector) == 1, (name, selector)
        if name == "counties":  # counties are the units: no village layer, so no village search
            assert count(page, ".atlas-search input") == 0 and "沙坡头区" in page.content(), name
            assert guard.errors == [] and guard.non_tile_requests() == [], (name, guard.errors)
            continue
        assert count(page, ".atlas-search input") == 1, name
        search_key = "inspection_villages" if name == "inspection" else "villages"
        assert overlay_count(page, search_key) > 0, name
        search = page.locator(".atlas-search input")  # the probe village is drawn (and sampled) too
        search.fill("onerror")
        search.press("Enter")
        page.wait_for_selector(".leaflet-popup-content h4")
        assert page.locator(".leaflet-popup-content h4").inner_text() == XSS, name
        assert count(page, 'img[src="x"]') == 0, name
        assert guard.errors == [], (name, guard.errors)
        assert guard.non_tile_requests() == [], name
        screenshot(page, f"new-{name}")
    page.wait_for_timeout(300)
    assert guard.dialogs == []


def _shown_base_labels(page, kind: str) -> list[str]:
    return page.evaluate("""(k) => [...document.querySelectorAll('.atlas-base-label-' + k)]
        .filter(n => n.style.display !== 'none' && n.getBoundingClientRect().width > 0)
        .map(n => n.textContent)""", kind)


def test_the_offline_base_shows_township_village_and_road_names_without_network(guarded, demo_server, demo_engine):
    page, guard = guarded(demo_server.base)
    page.goto(f"{demo_server.base}/maps/overview?base=blank")
    wait_for_map(page)
    assert page.evaluate("() => atlas.maps[0].hasLayer(atlas.maps[0]._atlas.bases.blank)")
    assert count(page, "path.atlas-base-township") == 7 and count(page, "path.atlas-base-road") > 0
    # the overlay of township outlines names them: the base leaves its own names hidden...
    assert _shown_base_labels(page, "township") == []
    page.locator(".leaflet-control-layers-overlays label", has_text="乡镇界").locator("input").click()
    # ... and shows them, as text, once that overlay is off
    towns = set(storage.read_layer(demo_engine, "townships", columns=["name"])["name"])
    page.wait_for_function("() => document.querySelectorAll('.atlas-base-label-township').length > 0")
    assert set(_shown_base_labels(page, "township")) == towns
    # road names from zoom 14, around a village committee
    village = storage.read_layer(demo_engine, "villages", where={"name": "长流水村"}).geometry.iloc[0]
    page.evaluate("([lat, lon]) => atlas.maps[0].setView([lat, lon], 15, {animate: false})", [village.y, village.x])
    page.wait_for_function("() => [...document.querySelectorAll('.atlas-base-label-road')]"
                           ".some(n => n.style.display !== 'none')")
    assert any("长流水村" in name for name in _shown_base_labels(page, "road"))
    assert guard.non_tile_requests() == [] and guard.errors == []
    screenshot(page, "offline-base")
