"""The PV map's siting candidates in a real browser (Debian Chromium): every candidate drawn
as an area and a numbered marker, the layer control toggling them, popups with the figures
and a hostile beneficiary village name shown as text, served and as an offline file."""

from __future__ import annotations

import pytest

from tests.browser.conftest import XSS, screenshot, wait_for_map
from tests.browser.test_maps import count, overlay_count
from tests.conftest import run_cli

pytestmark = pytest.mark.browser

ICONS = ".atlas-icon.atlas-pv_candidates"
AREAS = "path.atlas-pv_candidates"


@pytest.fixture
def pv_site(browser_site):
    """The browser modules' demo copy (its village named like an XSS probe stands beside the
    demo's best candidate, so it is among that candidate's beneficiaries), its server, and the
    candidates the map's loader finds there."""
    return browser_site.server, browser_site.url, browser_site.pv_candidates


def open_popup(page, rank: int) -> str:
    # markers of neighbouring candidates overlap at district zoom: click the one numbered ``rank`` itself
    page.locator(ICONS).filter(has=page.get_by_text(str(rank), exact=True)).dispatch_event("click")
    page.wait_for_selector(".leaflet-popup-content h4")
    return page.locator(".leaflet-popup-content").inner_text()


def test_candidates_are_drawn_toggled_and_explained(guarded, pv_site, backend):
    server, _, candidates = pv_site
    expected = len(candidates)
    assert expected == 10
    page, guard = guarded(server.base)
    page.goto(f"{server.base}/maps/pv")
    wait_for_map(page)
    assert count(page, AREAS) == expected
    assert count(page, ICONS) == expected
    assert overlay_count(page, "pv_candidates") == expected
    numbers = page.evaluate("(s) => [...document.querySelectorAll(s + ' span')].map(e => e.textContent)", ICONS)
    assert sorted(int(n) for n in numbers) == list(range(1, expected + 1))
    legend = page.locator(".atlas-legend").inner_text()
    assert "评分 80 以上" in legend and "晴空估算" in legend
    projects = count(page, "path.atlas-pv_projects")
    assert projects > 0

    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="选址候选").locator("input")
    toggle.click()
    assert count(page, AREAS) == 0 and count(page, ICONS) == 0
    assert count(page, "path.atlas-pv_projects") == projects  # the other layers stay
    toggle.click()
    assert count(page, AREAS) == expected and count(page, ICONS) == expected

    text = open_popup(page, 1)
    best = candidates.iloc[0]
    assert "选址候选 第1名" in text
    assert f"{best['score']:.1f} / 100" in text
    assert f"{best['capacity_kwp']:,.0f} 千瓦（峰值）" in text
    assert f"{best['income_yuan_per_year'] / 10_000:,.1f} 万元/年" in text
    assert f"{int(best['beneficiary_households']):,} 户" in text
    assert "年发电量（估算）" in text and "晴空估算（非实测气象）" in text
    assert XSS in text  # the hostile village is a beneficiary, shown as text
    assert count(page, 'img[src="x"]') == 0
    page.wait_for_timeout(300)
    assert guard.dialogs == [] and guard.errors == []
    assert guard.non_tile_requests() == []
    screenshot(page, f"pv-candidates-{backend}")


def test_candidates_render_offline_in_a_written_file(guarded, pv_site, tmp_path):
    _, url, candidates = pv_site
    out = tmp_path / "pv.html"
    run_cli("map", "pv", "-o", str(out), "--db", url, check=True)
    page, guard = guarded(out.as_uri(), login_as=None)
    page.goto(out.as_uri())
    wait_for_map(page)
    assert count(page, AREAS) == len(candidates) == count(page, ICONS)
    assert "选址候选 第1名" in open_popup(page, 1)
    assert count(page, 'img[src="x"]') == 0
    assert guard.non_tile_requests() == []
    assert guard.errors == [] and guard.dialogs == []
