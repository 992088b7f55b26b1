"""The pages beyond the maps in Chromium against a real ``atlas serve``: 督查 and 用户, their
main paths and their error paths (a Chinese page with the fix, never raw JSON)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api.accounts import CLIENT_TIMEOUT_S, PASSWORD, login
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def _styled(page) -> bool:
    """Bootstrap's stylesheet (served by the atlas, vendored) applies to the navigation bar."""
    return page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"


def test_the_inspection_page_after_logging_in(guarded, demo_server):
    page, guard = guarded(demo_server.base, login_as=None)
    page.goto(f"{demo_server.base}/inspections")
    page.wait_for_url(f"{demo_server.base}/login?next=/inspections")
    page.fill("input[name=username]", "t_leader")
    page.fill("input[name=password]", PASSWORD)
    page.click("button")
    page.wait_for_url(f"{demo_server.base}/inspections")
    assert page.inner_text("h1").startswith("督查方案")
    assert page.locator("#plans").count() + page.locator("#no-plans").count() == 1
    assert _styled(page)
    screenshot(page, "page-inspections")
    assert guard.blocked == [] and guard.errors == []


def test_a_missing_plan_is_a_chinese_page_with_the_fix(guarded, demo_server):
    page, guard = guarded(demo_server.base)
    response = page.goto(f"{demo_server.base}/maps/inspection?plan=999999")
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    assert page.inner_text("#error h1").startswith("找不到该内容")
    assert "怎么办" in page.inner_text("#error") and "999999" in page.inner_text("#detail")
    assert _styled(page)
    screenshot(page, "page-error-404")
    assert guard.blocked == [] and guard.errors == []


def test_an_administrator_adds_an_account_in_the_browser(guarded, demo_server):
    name = f"b.{uuid.uuid4().hex[:8]}"
    page, guard = guarded(demo_server.base, login_as="t_admin")
    page.goto(f"{demo_server.base}/users")
    try:
        page.fill("#add input[name=name]", name)
        page.fill("#add input[name=display_name]", "浏览器测试")
        page.select_option("#add select[name=role]", "inspector")
        page.fill("#add input[name=townships]", "兴仁镇")
        page.click("#add button")
        page.wait_for_selector("#added")
        password = page.inner_text("#password")
        screenshot(page, "page-users-added")
        assert login(demo_server.base, name, password)
        # the same name again: a Chinese page saying what is wrong, the status kept
        page.goto(f"{demo_server.base}/users")
        page.fill("#add input[name=name]", name)
        with page.expect_response(f"{demo_server.base}/users") as answer:
            page.click("#add button")
        assert answer.value.status == 409
        page.wait_for_selector("#error")
        assert page.inner_text("#error h1").startswith("与现有数据冲突")
        assert guard.blocked == [] and guard.errors == []
    finally:
        headers = login(demo_server.base, "t_admin")
        users = httpx.get(f"{demo_server.base}/api/users", headers=headers, timeout=CLIENT_TIMEOUT_S).json()
        for user in users:
            if user["name"] == name:
                httpx.delete(f"{demo_server.base}/api/users/{user['id']}", params={"version": user["version"]},
                             headers=headers, timeout=CLIENT_TIMEOUT_S).raise_for_status()


def test_accounts_are_for_administrators_only(guarded, demo_server):
    page, guard = guarded(demo_server.base, login_as="t_leader")
    response = page.goto(f"{demo_server.base}/users")
    assert response.status == 403
    assert page.inner_text("#error h1").startswith("无权访问") and "管理员" in page.inner_text("#error")
    assert guard.blocked == [] and guard.errors == []


def test_an_administrator_makes_an_api_key_and_a_bad_expiry_is_a_chinese_page(guarded, demo_server):
    page, guard = guarded(demo_server.base, login_as="t_admin")
    page.goto(f"{demo_server.base}/users")
    page.click("tr[data-user=t_viewer] a.keys")
    page.fill("#add-key input[name=label]", "浏览器测试密钥")
    page.fill("#add-key input[name=expires_in_days]", "1")
    page.click("#add-key button")
    page.wait_for_selector("#added-key")
    key = page.inner_text("#key")
    me = httpx.get(f"{demo_server.base}/api/auth/me", headers={"X-API-Key": key}, timeout=CLIENT_TIMEOUT_S)
    assert me.json()["name"] == "t_viewer"
    page.click("#keys tr:first-child form.revoke button")
    page.wait_for_selector("#revoked")
    assert httpx.get(f"{demo_server.base}/api/auth/me", headers={"X-API-Key": key},
                     timeout=CLIENT_TIMEOUT_S).status_code == 401
    page.fill("#add-key input[name=label]", "坏的")
    page.fill("#add-key input[name=expires_in_days]", "永久")
    page.click("#add-key button")
    page.wait_for_selector("#error")
    assert page.inner_text("#error h1").startswith("参数不正确") and "expires_in_days" in page.inner_text("#detail")
    assert guard.blocked == [] and guard.errors == []
