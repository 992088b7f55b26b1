"""督查's plan page in Chromium against a real ``atlas serve`` over the browser modules' copy of
the demo (a draw is recorded for good, so the shared demo is left alone): 核验 shows VERIFIED
with its checks, and an administrator records a finding through the form."""

from __future__ import annotations

import httpx
import pytest

from tests.api.accounts import CLIENT_TIMEOUT_S, login
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_verify_then_record_a_finding_on_the_plan_page(guarded, browser_site):
    base = browser_site.base
    drawn = httpx.post(f"{base}/api/inspections", headers=login(base, "t_inspector"), timeout=CLIENT_TIMEOUT_S,
                       json={"preset": "seed003", "seed": "浏览器测试 2019-11-05", "year": 2019,
                             "townships": "宣和镇", "name": "浏览器方案页 宣和镇"})
    assert drawn.status_code == 201, drawn.text
    plan = drawn.json()["plan_id"]
    page, guard = guarded(base, login_as="t_admin")
    page.goto(f"{base}/")
    page.click("#work-pages a[href='/inspections']")
    page.click(f"#plans a[href='/inspections/{plan}']")
    page.wait_for_selector("#facts")
    page.click("#verify")
    page.wait_for_selector("#verification")
    assert "核验通过" in page.inner_text("#verification h2") and "VERIFIED" in page.inner_text("#verification h2")
    assert page.locator("#differences").count() == 0
    screenshot(page, "page-inspection-verified")

    form = page.locator("#finding-form")
    household = form.locator("select[name=household] option").nth(1).get_attribute("value")
    form.locator("select[name=household]").select_option(household)
    form.locator("select[name=kind]").select_option("measures")
    form.locator("textarea[name=description]").fill("帮扶措施与致贫原因不一致（浏览器测试）")
    form.locator("input[name=responsible_unit]").fill("宣和镇人民政府")
    form.locator("input[name=found_on]").fill("2019-11-06")
    form.locator("input[name=deadline]").fill("2019-12-31")
    form.locator("button").click()
    page.wait_for_selector("#recorded")
    code = page.inner_text("#recorded strong")
    row = page.locator(f"#findings tr[data-finding='{code}']")
    assert "待整改" in row.inner_text() and household in row.inner_text() and "措施制定" in row.inner_text()
    screenshot(page, "page-inspection-finding")

    row.locator("textarea[name=note]").fill(" ")
    row.locator("button[value=close]").click()  # closing needs the evidence: a Chinese page
    page.wait_for_selector("#error")
    assert page.inner_text("#error h1").startswith("参数不正确") and "evidence" in page.inner_text("#detail")
    assert guard.blocked == [] and guard.errors == []
