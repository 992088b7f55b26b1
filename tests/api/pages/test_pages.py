"""The server-rendered pages in this process: 督查 (plans), 用户 (accounts), and the Chinese
error page every browser error becomes (scripts keep problem+json)."""

from __future__ import annotations

import re

import pytest

from api.deps import SESSION_COOKIE
from api.pages.session import page_token
from tests.api.accounts import PASSWORD, login

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def browser_session(site, name: str):
    """A client that keeps cookies, logged in through the login form as a browser is."""
    client = site.session(headers=BROWSER)
    token = client.get("/api/auth/session/form").json()["csrf_token"]
    response = client.post("/api/auth/session", data={"username": name, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 200, response.text
    return client


def form_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_browser_error_is_a_chinese_page_and_a_script_error_stays_json(scratch):
    browser = browser_session(scratch, "t_leader")
    page = browser.get("/maps/inspection?plan=999999")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "找不到该内容" in page.text and "怎么办" in page.text and "999999" in page.text
    assert "/maps/assets/bootstrap/dist/css/bootstrap.min.css" in page.text
    script = scratch.get("/maps/inspection?plan=999999", headers=scratch.headers["leader"])
    assert script.status_code == 404 and script.headers["content-type"] == "application/problem+json"
    bad = browser.get("/api/inspections/1/export?format=docx")
    assert bad.status_code == 422 and "参数不正确" in bad.text and "format" in bad.text


def test_pages_send_a_browser_without_a_session_to_the_login_page(scratch):
    for path in ("/inspections", "/users"):
        response = scratch.get(path, headers=BROWSER)
        assert response.status_code == 303 and response.headers["location"] == f"/login?next={path}"


def test_the_inspection_page_lists_the_plans_in_scope_with_map_and_downloads(scratch):
    drawn = scratch.post("/api/inspections", headers=scratch.headers["inspector"],
                         json={"preset": "seed003", "seed": "page test 1", "year": 2019, "townships": "宣和镇",
                               "teams": 1, "name": "页面测试 宣和镇"})
    assert drawn.status_code == 201, drawn.text
    plan = drawn.json()["plan_id"]
    page = browser_session(scratch, "t_leader").get("/inspections")
    assert page.status_code == 200 and "督查方案" in page.text and "页面测试 宣和镇" in page.text
    assert 'href="/users"' not in page.text  # the accounts page is offered to administrators only
    assert f'href="/maps/inspection?plan={plan}"' in page.text
    assert f'href="/api/inspections/{plan}/export?format=xlsx"' in page.text
    scoped = browser_session(scratch, "t_scoped").get("/inspections")  # 兴仁镇 only: not this plan
    assert scoped.status_code == 200 and "页面测试 宣和镇" not in scoped.text
    viewer = browser_session(scratch, "t_viewer").get("/inspections")
    assert viewer.status_code == 403 and "无权访问" in viewer.text


def test_an_administrator_adds_and_changes_accounts_with_the_page_forms(scratch):
    admin = browser_session(scratch, "t_admin")
    page = admin.get("/users")
    assert page.status_code == 200 and "t_leader" in page.text and 'href="/users"' in page.text
    added = admin.post("/users", data={"csrf_token": form_token(page.text), "name": "page.user", "role": "inspector",
                                       "display_name": "页面用户", "townships": "兴仁镇"})
    assert added.status_code == 200, added.text
    password = re.search(r'<code id="password">([^<]+)</code>', added.text).group(1)
    assert "督查人员" in added.text
    me = scratch.get("/api/auth/me", headers=login(scratch, "page.user", password)).json()
    assert me["role"] == "inspector" and me["townships"] == ["兴仁镇"]

    user = next(u for u in scratch.get("/api/users", headers=scratch.headers["admin"]).json()
                if u["name"] == "page.user")
    form = {"csrf_token": form_token(added.text), "role": "leader", "version": user["version"], "townships": "",
            "is_active": "true"}
    changed = admin.post(f"/users/{user['id']}", data=form)
    assert changed.status_code == 200 and "已保存" in changed.text
    after = scratch.get(f"/api/users/{user['id']}", headers=scratch.headers["admin"]).json()
    assert after["role"] == "leader" and after["is_active"] is True and after["townships"] == []
    stale = admin.post(f"/users/{user['id']}", data=form)  # the version the page showed is gone
    assert stale.status_code in (409, 412) and "刷新页面" in stale.text
    reset = admin.post(f"/users/{user['id']}/password", data={"csrf_token": form_token(added.text)})
    new_password = re.search(r'<code id="password">([^<]+)</code>', reset.text).group(1)
    assert reset.status_code == 200 and "重置密码" in reset.text and new_password != password
    assert scratch.post("/api/auth/token", data={"username": "page.user", "password": password}).status_code == 401
    assert login(scratch, "page.user", new_password)
    duplicate = admin.post("/users", data={"csrf_token": form_token(added.text), "name": "page.user", "role": "viewer"})
    assert duplicate.status_code == 409 and "已存在" in duplicate.text and "exists" in duplicate.text


@pytest.mark.parametrize("case", ["no token", "wrong token", "cross-site", "not an admin"])
def test_account_forms_refuse_forged_and_unauthorised_requests(scratch, case):
    admin = browser_session(scratch, "t_admin")
    token = form_token(admin.get("/users").text)
    data = {"csrf_token": token, "name": f"forged.{case.replace(' ', '')}", "role": "admin"}
    headers = {}
    client = admin
    if case == "no token":
        data.pop("csrf_token")
    elif case == "wrong token":
        data["csrf_token"] = "0" * 64
    elif case == "cross-site":
        headers = {"Sec-Fetch-Site": "cross-site"}
    else:
        client = browser_session(scratch, "t_planner")  # a valid token of the planner's own session
        data["csrf_token"] = page_token(scratch.app.state.settings, client.cookies[SESSION_COOKIE])
    response = client.post("/users", data=data, headers=headers)
    assert response.status_code == 403 and "无权访问" in response.text
    names = [u["name"] for u in scratch.get("/api/users", headers=scratch.headers["admin"]).json()]
    assert data["name"] not in names
    if case == "not an admin":
        assert client.get("/users").status_code == 403


def test_an_inspector_fixes_a_frame_then_draws_with_the_announced_seed(scratch):
    inspector = browser_session(scratch, "t_inspector")
    page = inspector.get("/inspections")
    assert page.status_code == 200 and 'id="frame-form"' in page.text
    token = form_token(page.text)
    framed = inspector.post("/inspections/frames", data={"csrf_token": token, "preset": "seed003", "year": "2019",
                                                         "townships": "常乐镇", "name": "页面抽样框 常乐镇"})
    assert framed.status_code == 200 and 'id="frame"' in framed.text, framed.text
    frame_id = int(re.search(r'name="frame_id"[^>]*value="(\d+)"', framed.text).group(1))
    drawn = inspector.post("/inspections", data={"csrf_token": token, "frame_id": str(frame_id), "teams": "2",
                                                 "seed": "2019-11-05 会议公布号码 4711"})
    assert drawn.status_code == 200 and 'id="drawn"' in drawn.text, drawn.text
    plan = int(re.search(r"已抽取方案 <strong>(\d+)</strong>", drawn.text).group(1))
    shown = scratch.get(f"/api/inspections/{plan}", headers=scratch.headers["leader"]).json()
    assert "2019-11-05 会议公布号码 4711" in str(shown["plan"])
    again = inspector.post("/inspections", data={"csrf_token": token, "frame_id": str(frame_id),
                                                 "seed": "2019-11-05 会议公布号码 4711"})
    assert again.status_code == 409 and "与现有数据冲突" in again.text  # a draw is recorded once
    leader = browser_session(scratch, "t_leader")
    refused = leader.post("/inspections/frames", data={
        "csrf_token": page_token(scratch.app.state.settings, leader.cookies[SESSION_COOKIE]),
        "preset": "seed003", "year": "2019"})
    assert refused.status_code == 403 and "无权访问" in refused.text
    wrong = inspector.post("/inspections/frames", data={"csrf_token": token, "preset": "seed003", "year": "2019",
                                                        "townships": "没有这个镇<script>alert(1)</script>"})
    assert wrong.status_code == 404 and "没有这个镇" in wrong.text and "找不到该内容" in wrong.text
    assert "<script>alert(1)" not in wrong.text and "&lt;script&gt;" in wrong.text  # escaped


def test_an_administrator_makes_and_revokes_an_api_key_on_the_page(scratch):
    admin = browser_session(scratch, "t_admin")
    users = admin.get("/users").text
    leader = next(u for u in scratch.get("/api/users", headers=scratch.headers["admin"]).json()
                  if u["name"] == "t_leader")
    assert f'href="/users/{leader["id"]}/keys"' in users
    page = admin.get(f"/users/{leader['id']}/keys")
    assert page.status_code == 200 and "生成密钥" in page.text
    made = admin.post(f"/users/{leader['id']}/keys", data={"csrf_token": form_token(page.text), "label": "页面密钥",
                                                           "expires_in_days": "30"})
    assert made.status_code == 200 and "只显示这一次" in made.text
    key = re.search(r'<code id="key">([^<]+)</code>', made.text).group(1)
    assert scratch.get("/api/auth/me", headers={"X-API-Key": key}).json()["name"] == "t_leader"
    key_id = re.search(r'action="/users/\d+/keys/(\d+)/revoke"', made.text).group(1)
    revoked = admin.post(f"/users/{leader['id']}/keys/{key_id}/revoke", data={"csrf_token": form_token(made.text)})
    assert revoked.status_code == 200 and 'id="revoked"' in revoked.text
    assert scratch.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 401
    bad = admin.post(f"/users/{leader['id']}/keys", data={"csrf_token": form_token(made.text), "label": "x",
                                                          "expires_in_days": "forever"})
    assert bad.status_code == 422 and "参数不正确" in bad.text and "expires_in_days" in bad.text
    assert browser_session(scratch, "t_planner").get(f"/users/{leader['id']}/keys").status_code == 403
    assert admin.get("/users/999999/keys").status_code == 404
