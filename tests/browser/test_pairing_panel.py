"""The pairing map as a leader reads it, in Debian's Chromium against ``atlas serve``: names
drawn on the map, the side panel (a unit's click highlights exactly its villages), the year,
township and unit selectors in the URL, and hostile names kept inert."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from geo import storage
from tests.browser.conftest import XSS as XSS_VILLAGE, XSS_UNIT, screenshot, wait_for_map

pytestmark = pytest.mark.browser

VISIBLE_LABELS = """() => Array.from(document.querySelectorAll('.atlas-label'))
    .filter(n => n.style.visibility !== 'hidden' && n.style.display !== 'none').map(n => n.textContent)"""
HIGHLIGHTED = """() => atlas.maps[0]._atlas.byKey.villages.atlasChild().atlasLayers
    .filter(l => l.getElement().classList.contains('atlas-hl')).map(l => l.feature.properties.id)"""


@pytest.fixture
def site(browser_site):
    """The browser modules' demo copy: its poor village named as an XSS probe has no unit (it
    heads the panel), and its one pairing of 2020 is with a unit named as a script probe."""
    return browser_site


def test_names_are_drawn_as_text_at_the_default_view(guarded, site):
    page, guard = guarded(site.base)
    page.goto(f"{site.base}/maps/pairing?year=2019")
    wait_for_map(page)
    page.wait_for_timeout(300)  # the declutter pass after the first draw
    shown = set(page.evaluate(VISIBLE_LABELS))
    towns = set(storage.read_layer(site.engine, "townships")["name"])
    assert towns <= shown  # every township's name, on its area
    gaps = page.locator(".atlas-panel-gaps .atlas-village-name").all_inner_texts()
    assert gaps and set(gaps) <= shown  # poor villages lacking a unit or team are never hidden
    assert len(shown - towns) >= 20  # and many other village names beside their points
    font = page.evaluate("() => getComputedStyle(document.querySelector('.atlas-label')).fontFamily")
    assert "Noto Sans CJK SC" in font or "WenQuanYi" in font
    # The panel names every village and the whole pairing, without hovering anything.
    panel = page.locator(".atlas-panel").inner_text()
    for name in storage.read_layer(site.engine, "villages")["name"]:
        assert name in panel, name
    assert "工作队队长单位" in panel and "任务资金" in panel
    assert page.locator(".atlas-panel > section").first.get_attribute("class") == "atlas-panel-gaps"
    screenshot(page, "pairing-names")
    assert guard.errors == [] and guard.dialogs == []


def test_a_units_click_highlights_exactly_its_villages(guarded, site):
    pairings = storage.read_layer(site.engine, "pairings")
    pairings = pairings[pairings["year"] == 2019]
    teams = storage.read_layer(site.engine, "work_teams")
    teams = teams[teams["year"] == 2019]
    counts = pairings.groupby("unit_id")["village_id"].nunique()
    unit_id = int(counts.idxmax())  # a unit paired with several villages
    expected = set(pairings.loc[pairings["unit_id"] == unit_id, "village_id"]) | \
        set(teams.loc[teams["leader_unit_id"] == unit_id, "village_id"])
    assert len(expected) > 1
    name = storage.read_layer(site.engine, "units", ids=[unit_id])["name"].iloc[0]

    page, guard = guarded(site.base)
    page.goto(f"{site.base}/maps/pairing?year=2019")
    wait_for_map(page)
    assert page.evaluate(HIGHLIGHTED) == []
    page.locator(f'.atlas-panel-units [data-unit="{unit_id}"]').click()
    assert set(page.evaluate(HIGHLIGHTED)) == {int(v) for v in expected}
    assert page.locator(".atlas-panel-status").inner_text().startswith(name)
    # Its lines and office appear, and no other unit's.
    links = page.evaluate("""(u) => atlas.maps[0]._atlas.byKey.pairing_links.atlasChild().atlasLayers
        .filter(l => l.getElement().style.display !== 'none').map(l => l.feature.properties.unit_id)""", unit_id)
    assert links and set(links) == {unit_id}
    screenshot(page, "pairing-unit-click")
    # A village's click shows its units in the panel.
    village = next(iter(expected))
    page.locator(f'.atlas-panel-town [data-village="{village}"] .atlas-village-name').click()
    assert page.evaluate(HIGHLIGHTED) == [int(village)]
    active = page.locator(".atlas-panel-town li.active .atlas-unit-chip.active").all_inner_texts()
    assert name in active
    page.locator(".atlas-panel-reset").click()
    assert page.evaluate(HIGHLIGHTED) == []
    assert guard.errors == []


def test_selectors_change_year_township_and_unit_in_the_url(guarded, site):
    page, guard = guarded(site.base)
    page.goto(f"{site.base}/maps/pairing")
    wait_for_map(page)
    # The default is the latest year with pairings, and the page says so.
    assert "2020年（结对数据最近年度）" in page.locator(".atlas-selectors").inner_text()
    assert "2020年" in page.locator(".atlas-title").inner_text()
    page.select_option(".atlas-selectors select[name=year]", "2019")
    page.wait_for_url("**/maps/pairing?year=2019")
    wait_for_map(page)
    assert "2019年" in page.locator(".atlas-title").inner_text()

    page.select_option(".atlas-selectors select[name=township]", "兴仁镇")
    page.wait_for_url("**township=*")
    wait_for_map(page)
    assert parse_qs(urlparse(page.url).query) == {"year": ["2019"], "township": ["兴仁镇"]}
    assert page.evaluate("() => atlas.maps[0]._atlas.byKey.villages.atlasCount()") == 11

    unit = page.locator(".atlas-panel-town .atlas-unit-chip").first.inner_text()
    page.select_option(".atlas-selectors select[name=unit]", unit)
    page.wait_for_url("**unit=*")
    wait_for_map(page)
    assert parse_qs(urlparse(page.url).query)["unit"] == [unit]
    assert f"帮扶单位：{unit}" in page.locator(".atlas-title").inner_text()
    assert page.locator(".atlas-selectors select[name=unit]").input_value() == unit
    assert guard.errors == []


def test_hostile_names_stay_text_in_labels_panel_and_print(guarded, site):
    page, guard = guarded(site.base)
    page.goto(f"{site.base}/maps/pairing")  # 2020: the script-named unit's pairing
    wait_for_map(page)
    page.wait_for_timeout(300)
    assert XSS_VILLAGE in page.evaluate(VISIBLE_LABELS)  # a poor village with no unit: its name wins
    panel = page.locator(".atlas-panel").inner_text()
    assert XSS_VILLAGE in panel and XSS_UNIT in panel
    page.locator(".atlas-panel-units .atlas-unit-chip", has_text="alert(2)").click()
    assert page.locator(".atlas-panel-status").inner_text().startswith(XSS_UNIT)
    page.goto(f"{site.base}/maps/pairing?print=A4")
    page.wait_for_function("() => window.atlasPrintReady === true")
    assert XSS_VILLAGE in page.locator("#atlas-table").inner_text()
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    page.wait_for_timeout(300)
    assert guard.dialogs == [] and guard.errors == []


def test_print_button_opens_the_sheet_without_controls(guarded, site):
    page, guard = guarded(site.base)
    page.goto(f"{site.base}/maps/pairing?year=2019")
    wait_for_map(page)
    href = page.locator(".atlas-print-button a").get_attribute("href")
    query = parse_qs(urlparse(href).query)
    assert query["print"] == ["A3"] and query["year"] == ["2019"]
    page.goto(f"{site.base}/maps/pairing?year=2019&print=A3&landscape=true")
    page.wait_for_function("() => window.atlasPrintReady === true")
    for selector in (".leaflet-control-zoom", ".leaflet-control-layers", ".atlas-search", ".atlas-panel",
                     ".atlas-selectors"):
        assert not page.locator(selector).first.is_visible() if page.locator(selector).count() else True, selector
    assert page.locator("#atlas-side .atlas-legend").is_visible()
    assert page.locator(".atlas-north").is_visible() and page.locator(".leaflet-control-scale").is_visible()
    assert guard.errors == []
