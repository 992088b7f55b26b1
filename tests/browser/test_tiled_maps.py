"""Large layers drawn from vector tiles in a real browser (Debian Chromium): ``atlas serve``
with the tile threshold lowered through its setting (``ATLAS_MAP_TILE_THRESHOLD``) rather than
20,000 rows written, the overview opened as a leader (may read households, not their heads'
names) and as a viewer (may not read households).

What is proved: the tiles are asked with the page's session cookie and answered 200 with
features, the features are drawn as SVG paths with the layer's class, a popup shows the
Chinese labels and the names read from the item, no tile the browser received carries a
personal field, and a viewer gets no household tiles."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from geo import storage
from tests.browser.conftest import screenshot, wait_for_map
from tests.conftest import Server

pytestmark = pytest.mark.browser

THRESHOLD = 50
PERSONAL = {"head_name", "id_number"}


@pytest.fixture(scope="module")
def tiled_server(demo_url, demo_accounts):
    server = Server(demo_url, env={"ATLAS_MAP_TILE_THRESHOLD": str(THRESHOLD)})
    yield server
    server.stop()


def _tiles_seen(page) -> list:
    seen = []
    page.on("response", lambda r: seen.append(r) if "/tiles/WebMercatorQuad/" in r.url else None)
    return seen


def _show_households_at(page, lat: float, lon: float, zoom: int) -> None:
    page.evaluate("""([lat, lon, zoom]) => {
        const map = atlas.maps[0];
        map.addLayer(map._atlas.byKey.households);
        map.setView([lat, lon], zoom, {animate: false});
    }""", [lat, lon, zoom])


def _drawn(page, key: str) -> int:
    return page.evaluate("(k) => document.querySelectorAll('path.atlas-tiled.atlas-' + k).length", key)


def test_households_and_roads_are_drawn_from_tiles(guarded, tiled_server, demo_engine, backend):
    households = storage.read_layer(demo_engine, "households", columns=["code"], with_names=False)
    assert len(households) > THRESHOLD
    point = households.geometry.iloc[len(households) // 2]
    page, guard = guarded(tiled_server.base, login_as="t_leader")
    seen = _tiles_seen(page)
    page.goto(f"{tiled_server.base}/maps/overview")
    wait_for_map(page)
    # Roads are shown from the start (zoom 9 on), households once switched on and zoomed in.
    page.wait_for_function("() => document.querySelectorAll('path.atlas-tiled.atlas-roads').length > 0")
    assert page.evaluate("() => atlas.maps[0]._atlas.byKey.households.atlasTiled") is True
    _show_households_at(page, point.y, point.x, 15)
    page.wait_for_function("() => document.querySelectorAll('path.atlas-tiled.atlas-households').length > 0")
    page.wait_for_load_state("networkidle")
    screenshot(page, f"tiled-households-{backend}")

    household_tiles = [r for r in seen if "/collections/households/" in r.url]
    assert household_tiles and {r.status for r in household_tiles} <= {200, 204}
    # The same tiles again with the page's cookie (Playwright keeps no body of a fetch the page
    # itself read), decoded with a Python MVT decoder.
    features = []
    for url in {r.url for r in household_tiles if r.status == 200}:
        again = page.context.request.get(url)
        assert again.status == 200
        features += mapbox_vector_tile.decode(again.body()).get("households", {"features": []})["features"]
    assert features, "no household tile held features"
    for feature in features:
        assert not PERSONAL & set(feature["properties"]), "a tile carried a personal field"
        assert feature["properties"]["source"]  # synthetic rows are still marked as such
    # Every feature of the loaded tiles is drawn (a feature near a tile's edge is in both tiles).
    drawn = _drawn(page, "households")
    assert drawn == len(features)
    assert {r.status for r in seen if "/collections/roads/" in r.url} <= {200, 204}
    assert _drawn(page, "roads") > 0
    assert guard.errors == []
    assert guard.non_tile_requests() == []  # the tiles come from the server, nothing from a CDN


def test_a_household_popup_has_labels_and_names(guarded, tiled_server, demo_engine):
    households = storage.read_layer(demo_engine, "households", columns=["code", "status"])
    row = households.iloc[0]
    page, guard = guarded(tiled_server.base, login_as="t_leader")
    page.goto(f"{tiled_server.base}/maps/overview")
    wait_for_map(page)
    _show_households_at(page, row.geometry.y, row.geometry.x, 17)
    page.wait_for_function("() => document.querySelectorAll('path.atlas-tiled.atlas-households').length > 0")
    page.wait_for_load_state("networkidle")
    # Click the feature drawn nearest the map's centre (the household the view is on).
    page.evaluate("""() => {
        const box = document.querySelector('.leaflet-container').getBoundingClientRect();
        const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
        let best = null, bestD = Infinity;
        document.querySelectorAll('path.atlas-tiled.atlas-households').forEach((p) => {
            const r = p.getBoundingClientRect();
            const d = Math.hypot(r.left + r.width / 2 - cx, r.top + r.height / 2 - cy);
            if (d < bestD) { best = p; bestD = d; }
        });
        best.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: cx, clientY: cy}));
    }""")
    popup = page.locator(".leaflet-popup-content .atlas-popup")
    popup.wait_for()
    assert popup.locator("h4").inner_text() == row["code"]
    # The village's name comes from the item, read with the page's cookie.
    page.wait_for_function("() => [...document.querySelectorAll('.leaflet-popup-content th')]"
                           ".some((th) => th.textContent === '行政村')")
    text = popup.inner_text()
    assert "状态" in text and "家庭人口" in text
    from geo.enums import HouseholdStatus

    assert HouseholdStatus.labels()[str(row["status"])] in text
    assert "演示数据" in text  # a synthetic household says so
    assert guard.errors == []


def test_a_viewer_gets_no_household_tiles(guarded, tiled_server):
    page, guard = guarded(tiled_server.base, login_as="t_viewer")
    page.goto(f"{tiled_server.base}/maps/overview")
    wait_for_map(page)
    assert page.evaluate("() => 'households' in atlas.maps[0]._atlas.byKey") is False
    status = page.evaluate("""(url) => fetch(url, {credentials: 'same-origin'}).then((r) => r.status)""",
                           "/ogc/collections/households/tiles/WebMercatorQuad/12/1581/3247")
    assert status in (403, 404)
    # The public layers still come as tiles, asked with the viewer's cookie.
    page.wait_for_function("() => document.querySelectorAll('path.atlas-tiled.atlas-roads').length > 0")
    assert guard.errors == []
