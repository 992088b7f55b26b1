"""数据导入, 分析 and 登记簿 in Chromium against a real ``atlas serve`` on the demo: each page's
main path and its error path (a Chinese page with the fix, never raw JSON). Nothing is left
changed: the rows imported are deleted and the registry change is undone afterwards."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api.accounts import CLIENT_TIMEOUT_S, login
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_planner_checks_then_imports_a_file_in_the_browser(guarded, demo_server, tmp_path):
    codes = [f"BW-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    path = tmp_path / "新建水井.csv"
    path.write_text("设施编号,设施名称,设施类型,运行状态,经度,纬度\n" + "".join(
        f"{code},浏览器测试井{i},机井,正常运行,105.{i + 1},37.5\n" for i, code in enumerate(codes)), encoding="utf-8")
    page, guard = guarded(demo_server.base, login_as="t_planner")
    try:
        page.goto(f"{demo_server.base}/imports")
        page.set_input_files("#upload input[name=file]", str(path))
        page.click("#upload button")
        page.wait_for_selector("#report")
        assert "水利设施" in page.inner_text("#guessed")  # the layer, recognised from the headers
        assert page.inner_text("#inserted") == "2" and page.inner_text("#refused-count") == "0"
        screenshot(page, "page-imports-checked")
        page.click("#commit button")
        page.wait_for_selector("#done")
        assert "新建水井.csv" in page.inner_text("#history tbody tr:first-child")
        assert guard.blocked == [] and guard.errors == []
    finally:
        headers = login(demo_server.base, "t_admin")
        rows = httpx.get(f"{demo_server.base}/api/registry/water_facilities", params={"limit": 1000},
                         headers=headers, timeout=CLIENT_TIMEOUT_S).json()["items"]
        for row in rows:
            if row["code"] in codes:
                httpx.delete(f"{demo_server.base}/api/registry/water_facilities/{row['id']}",
                             params={"version": row["version"]}, headers=headers,
                             timeout=CLIENT_TIMEOUT_S).raise_for_status()


def test_a_refused_row_is_shown_with_its_row_and_nothing_is_written(guarded, demo_server, tmp_path):
    path = tmp_path / "wells.csv"
    path.write_text("设施编号,设施名称,设施类型,运行状态,经度,纬度\nBR-1,井,机井,正常运行,105.1,37.5\n"
                    "BR-2,塔,水塔,正常运行,105.2,37.5\n", encoding="utf-8")
    page, guard = guarded(demo_server.base, login_as="t_planner")
    page.goto(f"{demo_server.base}/imports")
    page.set_input_files("#upload input[name=file]", str(path))
    page.click("#upload button")
    page.wait_for_selector("#blocked")
    refused = page.locator("#rows tr[data-kind=refused]")
    assert refused.count() == 1 and refused.locator("td").first.inner_text() == "3"
    assert "水塔" in refused.inner_text() and page.locator("#commit").count() == 0
    screenshot(page, "page-imports-refused")
    assert guard.blocked == [] and guard.errors == []


def test_a_leader_runs_an_analysis_and_opens_its_map(guarded, demo_server):
    page, guard = guarded(demo_server.base)
    page.goto(f"{demo_server.base}/analyses")
    page.click("#catalogue a[href='/analyses/roads']")
    page.fill("#options input[name=township]", "兴仁镇")
    page.select_option("#options select[name=band]", "false")
    page.click("#options button")
    page.wait_for_selector("#result")
    assert page.locator("table.result").count() >= 2
    assert "村" in page.inner_text("table.result[data-table=villages] thead")
    downloads = page.locator("a.download")
    assert downloads.count() == 3 and "format=xlsx" in downloads.first.get_attribute("href")
    with page.expect_download() as download:
        downloads.first.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    screenshot(page, "page-analyses-roads")
    page.click("#map")
    page.wait_for_url("**/maps/roads?township=*")
    assert guard.non_tile_requests() == []


def test_a_bad_analysis_option_is_a_chinese_page_naming_it(guarded, demo_server):
    page, guard = guarded(demo_server.base)
    page.goto(f"{demo_server.base}/analyses/water")
    page.fill("#options input[name=supply_distance_m]", "-5")
    with page.expect_response(lambda r: "/analyses/water?" in r.url) as answer:
        page.click("#options button")
    assert answer.value.status == 422
    page.wait_for_selector("#error")
    assert page.inner_text("#error h1").startswith("参数不正确") and "supply_distance_m" in page.inner_text("#detail")
    assert guard.blocked == [] and guard.errors == []


def test_a_planner_changes_a_registry_record_and_a_stale_form_is_refused(guarded, demo_server, browser):
    headers = login(demo_server.base, "t_planner")
    road = httpx.get(f"{demo_server.base}/api/registry/roads", params={"limit": 1}, headers=headers,
                     timeout=CLIENT_TIMEOUT_S).json()["items"][0]
    page, guard = guarded(demo_server.base, login_as="t_planner")
    try:
        page.goto(f"{demo_server.base}/registry/roads")
        page.fill("#search input[name=q]", road["code"] or road["name"])
        page.click("#search button")
        page.click(f"#rows tr[data-id='{road['id']}'] a")
        other, _ = guarded(demo_server.base, login_as="t_planner")  # a colleague with the same record open
        other.goto(page.url)
        page.fill("#record input[name=name]", f"{road['name']}（改）")
        page.click("#record button")
        page.wait_for_selector("#saved")
        screenshot(page, "page-registry-saved")
        other.fill("#record input[name=name]", f"{road['name']}（另改）")
        with other.expect_response(lambda r: r.request.method == "POST") as answer:
            other.click("#record button")
        assert answer.value.status in (409, 412)
        other.wait_for_selector("#error")
        assert "刷新页面" in other.inner_text("#error")
        assert guard.blocked == [] and guard.errors == []
    finally:
        now = httpx.get(f"{demo_server.base}/api/registry/roads/{road['id']}", headers=headers,
                        timeout=CLIENT_TIMEOUT_S).json()
        if now["name"] != road["name"]:
            httpx.patch(f"{demo_server.base}/api/registry/roads/{road['id']}", json={"name": road["name"]},
                        headers={**headers, "If-Match": f'"{now["version"]}"'},
                        timeout=CLIENT_TIMEOUT_S).raise_for_status()


def test_a_viewer_meets_a_chinese_page_on_a_closed_layer(guarded, demo_server):
    page, guard = guarded(demo_server.base, login_as="t_viewer")
    response = page.goto(f"{demo_server.base}/registry/households")
    assert response.status == 403 and page.inner_text("#error h1").startswith("无权访问")
    assert guard.blocked == [] and guard.errors == []
