"""督查's plan page in this process, on both backends: 核验 (verify), 分配检查人员 (assign
inspectors), 问题 (record a finding, 整改中, 整改销号) and the 表3/4/5 download, each with its
error path as a Chinese page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from api.deps import SESSION_COOKIE
from api.pages.session import page_token
from tests.api.pages.test_pages import browser_session, form_token


@pytest.fixture(scope="module")
def plan(scratch) -> int:
    """The module's plan: drawn once per scratch registry (pytest sets a module fixture up again
    when the tests of its two backends interleave, so a second set-up finds the plan drawn)."""
    name = "方案页测试 宣和镇"
    drawn = scratch.post("/api/inspections", headers=scratch.headers["inspector"],
                         json={"preset": "seed003", "seed": "plan page 1", "year": 2019, "townships": "宣和镇",
                               "teams": 2, "name": name})
    if drawn.status_code == 409:
        plans = scratch.get("/api/inspections", headers=scratch.headers["inspector"]).json()
        return next(p["id"] for p in (plans["items"] if isinstance(plans, dict) else plans) if p["name"] == name)
    assert drawn.status_code == 201, drawn.text
    return drawn.json()["plan_id"]


def _first_household(page: str) -> str:
    return re.search(r'<select name="household"[^>]*>\s*<option value="">[^<]*</option>\s*<option value="([^"]+)"',
                     page).group(1)


def test_the_plan_page_shows_the_plan_and_links_the_tables_3_4_5(scratch, plan):
    page = browser_session(scratch, "t_leader").get(f"/inspections/{plan}")
    assert page.status_code == 200 and "方案页测试 宣和镇" in page.text and "plan page 1" in page.text
    assert f'href="/api/inspections/{plan}/export?format=xlsx" id="tables-345"' in page.text
    assert "表5反馈问题整改情况抽查汇总表" in page.text
    assert 'id="assign-form"' not in page.text and 'id="finding-form"' not in page.text  # a leader only reads
    workbook = scratch.get(f"/api/inspections/{plan}/export?format=xlsx", headers=scratch.headers["leader"])
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    listed = browser_session(scratch, "t_leader").get("/inspections")
    assert f'href="/inspections/{plan}/verify"' in listed.text


def test_the_plan_page_links_the_field_kit_forms_and_each_teams_package(scratch, plan):
    page = browser_session(scratch, "t_leader").get(f"/inspections/{plan}").text
    links = re.findall(r'href="(/api/inspections/\d+/export\?format=(?:xlsform|package)[^"]*)"', page)
    assert [link.replace("&amp;", "&").split("?")[1] for link in links] == [
        "format=xlsform&form=household", "format=xlsform&form=village", "format=package&team=1",
        "format=package&team=2"]
    package = scratch.get(links[-1].replace("&amp;", "&"), headers=scratch.headers["leader"])
    assert package.status_code == 200 and package.content[:2] == b"PK"
    listed = browser_session(scratch, "t_leader").get("/inspections").text
    assert "format=xlsform" not in listed  # the list keeps the printed downloads


def test_plan_page_errors_are_chinese_pages(scratch, plan):
    missing = browser_session(scratch, "t_leader").get("/inspections/999999")
    assert missing.status_code == 404 and "找不到该内容" in missing.text
    scoped = browser_session(scratch, "t_scoped").get(f"/inspections/{plan}")  # 兴仁镇 only
    assert scoped.status_code == 403 and "无权访问" in scoped.text
    viewer = browser_session(scratch, "t_viewer").get(f"/inspections/{plan}/verify")
    assert viewer.status_code == 403 and "无权访问" in viewer.text


def test_verify_shows_verified_with_the_checks(scratch, plan):
    page = browser_session(scratch, "t_leader").get(f"/inspections/{plan}/verify")
    assert page.status_code == 200 and 'id="verification"' in page.text
    assert "核验通过" in page.text and "VERIFIED" in page.text and "NOT VERIFIED" not in page.text
    assert page.text.count("✔") == 4


def test_verify_shows_not_verified_with_what_differs(scratch):
    drawn = scratch.post("/api/inspections", headers=scratch.headers["inspector"],
                         json={"preset": "seed003", "seed": "plan page tampered", "year": 2019,
                               "townships": "常乐镇", "name": "方案页测试 篡改"})
    assert drawn.status_code == 201, drawn.text
    plan = drawn.json()["plan_id"]
    with scratch.engine.begin() as conn:  # someone edits the stored result behind the atlas' back
        conn.execute(sa.text("UPDATE inspection_draws SET result_json = result_json || ' ' WHERE plan_id = :p"),
                     {"p": plan})
    page = browser_session(scratch, "t_leader").get(f"/inspections/{plan}/verify")
    assert page.status_code == 200 and "核验未通过" in page.text and "NOT VERIFIED" in page.text
    assert 'id="differences"' in page.text and "result was edited" in page.text and "✘" in page.text


def test_a_planner_assigns_and_removes_an_inspector(scratch, plan):
    planner = browser_session(scratch, "t_planner")
    token = form_token(planner.get(f"/inspections/{plan}").text)
    added = planner.post(f"/inspections/{plan}/assignments",
                         data={"csrf_token": token, "user_name": "t_inspector", "team": "2"})
    assert added.status_code == 200 and 'id="assigned"' in added.text and "第 2 组" in added.text
    assert 'data-user="t_inspector"' in added.text
    listed = scratch.get(f"/api/inspections/{plan}/assignments", headers=scratch.headers["leader"]).json()["items"]
    assert [(a["user_name"], a["team"]) for a in listed] == [("t_inspector", 2)]
    removed = planner.post(f"/inspections/{plan}/assignments",
                           data={"csrf_token": token, "user_name": "t_inspector", "remove": "true"})
    assert removed.status_code == 200 and "移出本方案" in removed.text
    assert scratch.get(f"/api/inspections/{plan}/assignments", headers=scratch.headers["leader"]).json()["items"] == []


@pytest.mark.parametrize("case", ["a leader", "a viewer's role", "no token", "not an inspector", "no such team",
                                  "no such user"])
def test_assigning_refuses_with_a_chinese_page(scratch, plan, case):
    name, data = "t_planner", {"user_name": "t_inspector"}
    if case == "a leader":
        name = "t_leader"
    elif case == "a viewer's role":
        name = "t_viewer"
    elif case == "not an inspector":
        data["user_name"] = "t_leader"
    elif case == "no such team":
        data["team"] = "9"
    elif case == "no such user":
        data["user_name"] = "nobody.here"
    client = browser_session(scratch, name)
    if case != "no token":
        data["csrf_token"] = page_token(scratch.app.state.settings, client.cookies[SESSION_COOKIE])
    response = client.post(f"/inspections/{plan}/assignments", data=data)
    expected = {"not an inspector": (422, "参数不正确"), "no such team": (422, "参数不正确"),
                "no such user": (404, "找不到该内容")}.get(case, (403, "无权访问"))
    assert (response.status_code, expected[1] in response.text) == (expected[0], True), response.text
    assert response.headers["content-type"].startswith("text/html")
    assert scratch.get(f"/api/inspections/{plan}/assignments", headers=scratch.headers["leader"]).json()["items"] == []


def test_an_assigned_inspector_records_a_finding_moves_it_and_closes_it(scratch, plan):
    assert scratch.put(f"/api/inspections/{plan}/assignments/t_inspector",
                       headers=scratch.headers["planner"]).status_code == 200
    try:
        inspector = browser_session(scratch, "t_inspector")
        page = inspector.get(f"/inspections/{plan}")
        assert 'id="finding-form"' in page.text
        token, household = form_token(page.text), _first_household(page.text)
        recorded = inspector.post(f"/inspections/{plan}/findings", data={
            "csrf_token": token, "household": household, "village": "", "kind": "measures",
            "description": "帮扶措施与致贫原因不一致", "responsible_unit": "宣和镇人民政府",
            "found_on": "2019-11-06", "deadline": "2019-12-31"})
        assert recorded.status_code == 200 and 'id="recorded"' in recorded.text, recorded.text
        code = re.search(r"已记录问题 <strong>([^<]+)</strong>", recorded.text).group(1)
        assert f'data-finding="{code}"' in recorded.text and "待整改" in recorded.text and "措施制定" in recorded.text
        version = re.search(rf'findings/{code}".*?name="version" value="(\d+)"', recorded.text, re.DOTALL).group(1)
        moving = inspector.post(f"/inspections/{plan}/findings/{code}", data={
            "csrf_token": token, "version": version, "action": "rectifying", "note": "已调整帮扶措施"})
        assert moving.status_code == 200 and "整改中" in moving.text, moving.text
        stale = inspector.post(f"/inspections/{plan}/findings/{code}", data={
            "csrf_token": token, "version": version, "action": "close", "note": "佐证"})
        assert stale.status_code == 409 and "与现有数据冲突" in stale.text
        version = re.search(rf'findings/{code}".*?name="version" value="(\d+)"', moving.text, re.DOTALL).group(1)
        no_note = inspector.post(f"/inspections/{plan}/findings/{code}", data={
            "csrf_token": token, "version": version, "action": "close", "note": " "})
        assert no_note.status_code == 422 and "参数不正确" in no_note.text and "evidence" in no_note.text
        closed = inspector.post(f"/inspections/{plan}/findings/{code}", data={
            "csrf_token": token, "version": version, "action": "close", "note": "入户核实，措施已调整，见镇整改台账第3页"})
        assert closed.status_code == 200 and "已整改销号" in closed.text and "整改台账第3页" in closed.text
        shown = scratch.get(f"/api/inspections/{plan}/findings/{code}", headers=scratch.headers["leader"]).json()
        assert shown["status"] == "closed" and [h.get("to") for h in shown["history"]] == ["open", "rectifying", "closed"]
    finally:
        scratch.delete(f"/api/inspections/{plan}/assignments/t_inspector", headers=scratch.headers["planner"])


@pytest.mark.parametrize("case", ["not assigned", "a planner", "cross-site", "bad deadline", "not in the sample",
                                  "another plan's finding"])
def test_recording_a_finding_refuses_with_a_chinese_page(scratch, plan, case):
    client = browser_session(scratch, "t_planner" if case == "a planner" else "t_inspector")
    token = page_token(scratch.app.state.settings, client.cookies[SESSION_COOKIE])
    assigned = case not in ("not assigned", "a planner")
    if assigned:
        scratch.put(f"/api/inspections/{plan}/assignments/t_inspector", headers=scratch.headers["planner"])
    data = {"csrf_token": token, "village": "宣和镇/" + "不存在的村" if case == "not in the sample" else "",
            "household": "", "kind": "funds", "description": "资金拨付滞后", "responsible_unit": "镇政府",
            "deadline": "2019-13-45" if case == "bad deadline" else "2030-12-31"}
    if case != "not in the sample":
        shown = scratch.get(f"/api/inspections/{plan}", headers=scratch.headers["leader"]).json()
        data["household"] = shown["households"][0]["household_code"]
    headers = {"Sec-Fetch-Site": "cross-site"} if case == "cross-site" else {}
    before = len(scratch.get(f"/api/inspections/{plan}/findings", headers=scratch.headers["leader"]).json()["items"])
    try:
        if case == "another plan's finding":
            response = client.post(f"/inspections/{plan}/findings/P999999-001",
                                   data={"csrf_token": token, "version": "1", "action": "close", "note": "x"})
        else:
            response = client.post(f"/inspections/{plan}/findings", data=data, headers=headers)
    finally:
        scratch.delete(f"/api/inspections/{plan}/assignments/t_inspector", headers=scratch.headers["planner"])
    expected = {"bad deadline": (422, "参数不正确"), "not in the sample": (404, "找不到该内容"),
                "another plan's finding": (404, "找不到该内容")}.get(case, (403, "无权访问"))
    assert (response.status_code, expected[1] in response.text) == (expected[0], True), response.text
    after = len(scratch.get(f"/api/inspections/{plan}/findings", headers=scratch.headers["leader"]).json()["items"])
    assert after == before


@pytest.mark.parametrize(("name", "shown", "hidden"), [
    ("t_admin", ("/inspections", "/imports", "/registry", "/analyses", "/users"), ()),
    ("t_planner", ("/inspections", "/imports", "/registry", "/analyses"), ("/users",)),
    ("t_viewer", ("/registry",), ("/inspections", "/imports", "/analyses", "/users")),
])
def test_the_landing_page_links_the_work_pages_the_role_opens(scratch, name, shown, hidden):
    page = browser_session(scratch, name).get("/")
    assert page.status_code == 200 and 'id="work-pages"' in page.text
    row = re.search(r'<nav class="work" id="work-pages">(.*?)</nav>', page.text).group(1)
    assert all(f'href="{path}"' in row for path in shown) and not any(f'href="{path}"' in row for path in hidden)
