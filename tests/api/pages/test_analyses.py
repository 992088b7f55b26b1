"""分析 in this process, on both backends: each analysis's form with the API's defaults, its
result tables with Chinese headers, the API's downloads and the matching map; bad options and
townships outside the visitor's scope as Chinese pages."""

from __future__ import annotations

import re

import pytest

from geo.analysis.catalog import ANALYSES
from tests.api.pages.test_pages import browser_session


def test_the_analysis_page_lists_the_five_and_shows_each_form_with_the_api_defaults(scratch):
    leader = browser_session(scratch, "t_leader")
    index = leader.get("/analyses")
    assert index.status_code == 200 and 'href="/analyses"' in index.text
    for name in ANALYSES:
        assert f'href="/analyses/{name}"' in index.text
    form = leader.get("/analyses/roads").text
    assert 'name="access_tolerance_m" value="200.0"' in form and "通路判定距离（米）" in form
    assert re.search(r'<option value="true" selected>是</option>', form)  # band: the API's default


@pytest.mark.parametrize("name, query, table", [
    ("coverage", "", "villages"),
    ("roads", "&township=兴仁镇&band=false", "villages"),
    ("water", "&supply_distance_m=800", "villages"),
    ("exit", "&year=2019", "villages"),
    ("priority", "&kind=pv&budget=500", "ranking"),
])
def test_each_analysis_runs_with_its_options_and_offers_downloads_and_its_map(scratch, name, query, table):
    planner = browser_session(scratch, "t_planner")
    page = planner.get(f"/analyses/{name}?run=1{query}")
    assert page.status_code == 200, page.text
    assert 'id="result"' in page.text and 'class="table table-sm table-striped result"' in page.text
    tables = re.findall(r'data-table="([a-z_]+)"', page.text)
    assert tables and (table in tables or name == "priority"), tables
    links = re.findall(r'class="btn btn-sm btn-outline-secondary me-2 download" href="([^"]+)"', page.text)
    assert len(links) == 3
    for link in links:
        download = planner.get(link.replace("&amp;", "&"))
        assert download.status_code == 200, (link, download.text[:300])
    xlsx = planner.get(links[0].replace("&amp;", "&"))
    assert xlsx.content[:2] == b"PK"
    map_href = re.search(r'id="map" href="([^"]+)"', page.text).group(1)
    assert map_href.startswith("/maps/")
    if "township" in query:
        assert "township=" in map_href and "township=" in links[0]


def test_bad_options_and_foreign_townships_are_chinese_pages(scratch):
    planner = browser_session(scratch, "t_planner")
    bad = planner.get("/analyses/water?run=1&supply_distance_m=-5")
    assert bad.status_code == 422 and "参数不正确" in bad.text and "supply_distance_m" in bad.text
    unknown = planner.get("/analyses/floods")
    assert unknown.status_code == 404 and "找不到该内容" in unknown.text and "coverage" in unknown.text
    scoped = browser_session(scratch, "t_scoped")  # limited to 兴仁镇
    outside = scoped.get("/analyses/coverage?run=1&township=宣和镇")
    assert outside.status_code == 403 and "无权访问" in outside.text
    viewer = browser_session(scratch, "t_viewer").get("/analyses/coverage?run=1")
    assert viewer.status_code == 403 and "which the coverage analysis reads" in viewer.text
