"""``/api/inspections`` over real HTTP on both backends: a draw equals
:func:`geo.services.inspections.draw_plan` with the same seed and verifies; exports in every
format; names only for the right roles, each read audited; findings only by assigned
inspectors, with optimistic concurrency and an audit trail; township scope."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import gpxpy
import openpyxl
import pytest

from geo.storage import inspection as store
from geo.inspection.draw import draw_sample
from geo.services import inspections as service
from geo.services import personal
from geo.inspection.plans import plan_from_options

SEED = "2019-11-05 API第1号"
DRAW = {"preset": "seed003", "seed": SEED, "year": 2019, "townships": "宣和镇", "teams": 2}


@pytest.fixture(scope="module")
def plan(scratch) -> dict:
    """One plan drawn over HTTP by an inspector (module-wide: a draw plans routes)."""
    response = scratch.post("/api/inspections", json=DRAW, headers=scratch.headers["inspector"])
    assert response.status_code == 201, response.text
    return response.json()


def _get(scratch, role, path, **params):
    return scratch.get(path, params=params, headers=scratch.headers[role])


def test_a_draw_over_http_equals_the_geo_draw_and_verifies(scratch, plan):
    spec = plan_from_options("seed003", year=2019, townships="宣和镇", name="same seed, other name")
    frame, _, _ = service.current_frame(scratch.engine, spec)
    direct = draw_sample(spec, frame, SEED)
    assert plan["result_hash"] == direct.hash and plan["frame_hash"] == frame.hash
    assert plan["households"] == len(direct.households) > 0 and len(plan["teams"]) == 2
    # the same seed from the same frame again is refused: a seed is announced once
    again = scratch.post("/api/inspections", json={**DRAW, "name": "same seed, other name"},
                         headers=scratch.headers["inspector"])
    assert again.status_code == 409 and "a seed is announced once" in again.text

    verified = _get(scratch, "leader", f"/api/inspections/{plan['plan_id']}/verify").json()
    assert verified["ok"] and verified["record_ok"] and verified["same_sample"]
    shown = _get(scratch, "leader", f"/api/inspections/{plan['plan_id']}").json()
    assert len(shown["households"]) == plan["households"] and shown["plan"]["随机种子"] == SEED
    listed = _get(scratch, "viewer", "/api/inspections")
    assert listed.status_code == 403
    assert plan["plan_id"] in [p["id"] for p in _get(scratch, "leader", "/api/inspections").json()["items"]]

    audit = _get(scratch, "admin", "/api/audit", action="draw", layer="inspection_plans",
                 row_id=plan["plan_id"]).json()["items"]
    assert audit and audit[0]["user_name"] == "t_inspector" and audit[0]["after"]["result_hash"] == plan["result_hash"]


def test_bad_draws_are_refused_with_messages(scratch):
    for body, status, words in (
        ({**DRAW, "seed": "x", "categories": "non_poor"}, 422, "scope selects no villages"),
        ({**DRAW, "seed": "y", "start": "37.5,105.2"}, 422, "LON,LAT order"),
        ({**DRAW, "preset": "/etc/passwd"}, 422, "preset"),
        ({**DRAW, "seed": "z", "townships": "没有镇"}, 404, "没有镇"),
        ({**DRAW, "seed": "h", "hours_per_day": 1}, 422, "--hours-per-day 1: a day is shorter than one visit"),
        ({**DRAW, "seed": "h", "hours_per_day": 0}, 422, "hours_per_day"),
        ({**DRAW, "seed": "h", "day_start": "8h"}, 422, "day_start"),
        ({**DRAW, "seed": "h", "as_recorded": True}, 422, "--as-recorded draws from a recorded frame"),
    ):
        response = scratch.post("/api/inspections", json=body, headers=scratch.headers["admin"])
        assert response.status_code == status, response.text
        assert words in response.text
    for role in ("leader", "planner", "viewer"):
        response = scratch.post("/api/inspections", json=DRAW, headers=scratch.headers[role])
        assert response.status_code == 403


def _household_names(scratch, plan_id) -> set[str]:
    households = store.read_sampled_households(scratch.engine, plan_id)
    pii = personal.household_pii(scratch.engine, list(households["household_id"]))
    return {v for v in list(pii["head_name"]) + list(pii["id_number"]) if v}


def test_names_only_for_assigned_inspectors_and_planners_and_audited(scratch, plan):
    plan_id = plan["plan_id"]
    names = _household_names(scratch, plan_id)
    assert names
    path = f"/api/inspections/{plan_id}/export"

    masked = _get(scratch, "leader", path, format="csv")
    assert masked.status_code == 200 and masked.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(masked.content.decode("utf-8-sig"))))
    assert len(rows) == plan["households"] and all("*" in r["户主姓名"] for r in rows if r["户主姓名"])
    assert not any(n in masked.text for n in names)
    assert _get(scratch, "leader", path, format="csv", show_names=True).status_code == 403
    assert _get(scratch, "inspector", path, format="csv", show_names=True).status_code == 403  # not assigned yet

    assign = scratch.put(f"/api/inspections/{plan_id}/assignments/t_inspector", json={"team": 1},
                         headers=scratch.headers["planner"])
    assert assign.status_code == 200 and assign.json()["changed"]
    assert scratch.put(f"/api/inspections/{plan_id}/assignments/t_leader",
                       headers=scratch.headers["planner"]).status_code == 422  # only inspectors
    assert scratch.put(f"/api/inspections/{plan_id}/assignments/t_inspector",
                       headers=scratch.headers["leader"]).status_code == 403

    for role in ("inspector", "planner"):
        full = _get(scratch, role, path, format="csv", show_names=True)
        assert full.status_code == 200 and any(n in full.text for n in names), role
    log = _get(scratch, "admin", "/api/audit", action="read_pii", layer="inspection_plans", row_id=plan_id).json()
    assert {e["user_name"] for e in log["items"]} >= {"t_inspector", "t_planner"}
    assert not any(n in json.dumps(log, ensure_ascii=False) for n in names)
    assigned = _get(scratch, "leader", f"/api/inspections/{plan_id}/assignments").json()["items"]
    assert [a["user_name"] for a in assigned] == ["t_inspector"]


def test_every_export_format(scratch, plan):
    path = f"/api/inspections/{plan['plan_id']}/export"
    xlsx = _get(scratch, "leader", path, format="xlsx")
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert "农户调查表" in book.sheetnames and book["农户调查表"].max_row == plan["households"] + 1
    geojson = _get(scratch, "leader", path, format="geojson").json()
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) > plan["households"]
    gpx = gpxpy.parse(_get(scratch, "leader", path, format="gpx", team=1).text)
    assert 0 < len(gpx.waypoints) < plan["households"] + plan["villages"] + 1
    frame = _get(scratch, "leader", path, format="csv", table="frame")
    assert frame.status_code == 200 and SEED not in frame.headers.get("x-atlas-export", "")


def test_the_offline_map_of_a_team_over_http(scratch, plan, tmp_path):
    path = f"/api/inspections/{plan['plan_id']}/export"
    answer = _get(scratch, "leader", path, format="mbtiles", team=1)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/vnd.sqlite3"
    assert 'filename="plan-' in answer.headers["content-disposition"]
    summary = json.loads(answer.headers["x-atlas-export"])
    assert summary["teams"] == [1] and summary["tile_format"] == "pbf" and summary["bytes"] == len(answer.content)
    file = tmp_path / "team1.mbtiles"
    file.write_bytes(answer.content)
    db = sqlite3.connect(file)
    assert dict(db.execute("SELECT name, value FROM metadata"))["format"] == "pbf"
    assert {z for (z,) in db.execute("SELECT DISTINCT zoom_level FROM tiles")} == set(range(10, 18))
    db.close()
    assert _get(scratch, "leader", path, format="mbtiles", team=9).status_code == 422
    assert _get(scratch, "leader", path, format="gpx", raster=True).status_code == 422
    assert _get(scratch, "scoped", path, format="mbtiles", team=1).status_code == 403


def test_findings_by_assigned_inspectors_with_versions_and_audit(scratch, plan):
    plan_id = plan["plan_id"]
    base = f"{scratch.base}/api/inspections/{plan_id}/findings"
    code = store.read_sampled_households(scratch.engine, plan_id)["household_code"].iloc[0]
    body = {"description": "帮扶措施与致贫原因不一致", "responsible_unit": "宣和镇人民政府", "deadline": "2019-12-31",
            "found_on": "2019-11-06", "kind": "措施制定", "household": code}
    scratch.delete(f"/api/inspections/{plan_id}/assignments/t_inspector", headers=scratch.headers["admin"])
    assert scratch.post(base, json=body, headers=scratch.headers["inspector"]).status_code == 403
    assert scratch.post(base, json=body, headers=scratch.headers["leader"]).status_code == 403
    scratch.put(f"/api/inspections/{plan_id}/assignments/t_inspector", headers=scratch.headers["admin"])

    added = scratch.post(base, json=body, headers=scratch.headers["inspector"])
    assert added.status_code == 201, added.text
    finding = added.json()
    assert finding["code"] == f"P{plan_id}-001" and finding["status"] == "open" and finding["household_code"] == code
    assert scratch.post(base, json={**body, "household": "NO-SUCH"}, headers=scratch.headers["inspector"]).status_code == 404

    url = f"{base}/{finding['code']}"
    moved = scratch.patch(url, json={"status": "rectifying", "note": "已约谈"},
                        headers={**scratch.headers["inspector"], "If-Match": '"1"'})
    assert moved.status_code == 200 and moved.json()["status"] == "rectifying" and moved.headers["etag"] == '"2"'
    stale = scratch.patch(url, json={"deadline": "2020-01-31"}, headers={**scratch.headers["inspector"], "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    assert scratch.post(f"{url}/close", json={"note": "已整改"}, headers=scratch.headers["inspector"]).status_code == 428
    closed = scratch.post(f"{url}/close", json={"note": "已整改，见台账第3页", "version": 2}, headers=scratch.headers["admin"])
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert [h.get("to") for h in closed.json()["history"]] == ["open", "rectifying", "closed"]

    listed = _get(scratch, "leader", f"/api/inspections/{plan_id}/findings").json()["items"]
    assert [f["code"] for f in listed] == [finding["code"]]
    assert _get(scratch, "leader", f"/api/inspections/{plan_id}/findings", status="open").json()["items"] == []
    summary = _get(scratch, "leader", f"/api/inspections/{plan_id}/findings/summary").json()
    row = next(r for r in summary if r["方面"] == "措施制定")
    assert row["问题数"] == 1 and row["已整改"] == 1 and row["待整改"] == 0
    log = _get(scratch, "admin", "/api/audit", layer="inspection_findings", row_id=finding["id"]).json()["items"]
    assert [(e["action"], e["user_name"]) for e in log] == [("update", "t_admin"), ("update", "t_inspector"),
                                                            ("create", "t_inspector")]


def test_township_scoped_users_see_only_plans_inside_their_townships(scratch, plan):
    plan_id = plan["plan_id"]
    assert _get(scratch, "scoped", f"/api/inspections/{plan_id}").status_code == 403
    assert _get(scratch, "scoped", f"/api/inspections/{plan_id}/export", format="csv").status_code == 403
    listed = _get(scratch, "scoped", "/api/inspections").json()["items"]
    assert plan_id not in [p["id"] for p in listed]


def test_verify_over_http_names_a_tampered_household_and_the_chain_needs_the_whole_registry(scratch, plan):
    spec = plan_from_options("seed003", year=2019, townships="东园镇", name="tampered over HTTP")
    report = service.draw_plan(scratch.engine, spec, seed="http tamper", use_roads=False)
    path = f"/api/inspections/{report.plan_id}/verify"
    assert _get(scratch, "leader", path).json()["verified"] is True
    whole = _get(scratch, "leader", "/api/inspections/verify")
    assert whole.status_code == 200 and whole.json()["head_plan"] == report.plan_id
    assert _get(scratch, "scoped", "/api/inspections/verify").status_code == 403

    victim = store.read_sampled_households(scratch.engine, report.plan_id).iloc[0]
    with scratch.engine.begin() as conn:
        conn.execute(store.HOUSEHOLDS.update().where(store.HOUSEHOLDS.c.id == int(victim["id"]))
                     .values(household_code="DEMO-99-9999"))
    body = _get(scratch, "leader", path).json()
    assert body["verified"] is False
    assert "sampled household DEMO-99-9999 is not in the stored result" in body["differences"]
    assert f"household {victim['household_code']} of the stored result is missing from the sampled households" \
        in body["differences"]
    whole = _get(scratch, "leader", "/api/inspections/verify").json()
    assert whole["verified"] is False
    assert f"plan {report.plan_id}: sampled household DEMO-99-9999 is not in the stored result" in whole["differences"]


def test_frame_first_over_http_then_a_draw_from_it(scratch, plan):
    body = {"preset": "seed003", "year": 2019, "townships": "常乐镇", "name": "HTTP 常乐镇抽样框"}
    fixed = scratch.post("/api/inspections/frames", json=body, headers=scratch.headers["inspector"])
    assert fixed.status_code == 201, fixed.text
    frame = fixed.json()
    assert frame["name"] == body["name"] and sum(r["households"] for r in frame["strata"]) == frame["households"]
    again = scratch.post("/api/inspections/frames", json=body, headers=scratch.headers["inspector"])
    assert again.status_code == 409 and f"--frame {frame['frame_id']}" in again.text
    drawn = scratch.post("/api/inspections", headers=scratch.headers["inspector"],
                         json={"frame_id": frame["frame_id"], "seed": "HTTP 框后", "straight": True})
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["frame_hash"] == frame["frame_hash"] and drawn.json()["frame_id"] == frame["frame_id"]
    for payload, status, words in (
        ({"frame_id": 999999, "seed": "s"}, 404, "no recorded frame 999999"),
        ({"frame_id": frame["frame_id"], "preset": "seed003", "seed": "s"}, 422, "drop preset"),
        ({"seed": "s"}, 422, "give preset"),
    ):
        response = scratch.post("/api/inspections", json=payload, headers=scratch.headers["inspector"])
        assert response.status_code == status and words in response.text, response.text
    assert scratch.post("/api/inspections/frames", json=body,
                        headers=scratch.headers["viewer"]).status_code == 403


def test_the_schedule_and_the_map_of_one_team_and_day(scratch, plan):
    shown = _get(scratch, "leader", f"/api/inspections/{plan['plan_id']}").json()
    team = shown["teams"][1]
    assert team["days"] and all(day["hours"] <= 8 for day in team["days"])
    first = team["days"][0]["stops"][0]
    page = _get(scratch, "inspector", "/maps/inspection", plan=str(plan["plan_id"]), team=2, day=1)
    assert page.status_code == 200 and first["village"] in page.text and "出发地" in page.text
    other = shown["teams"][0]["days"][0]["stops"][0]["village"]
    overlays = "".join(re.findall(r"atlas\.overlay\([^,]+, (\{.*?\})\);\n", page.text))
    assert first["village"] in overlays and other not in overlays  # team 1's villages are left out
    assert other in page.text  # (the offline base names every village, as a base map would)
    bad = _get(scratch, "inspector", "/maps/inspection", plan=str(plan["plan_id"]), team=3)
    assert bad.status_code == 422 and "has teams 1-2" in bad.text
    bad = _get(scratch, "inspector", "/maps/inspection", plan=str(plan["plan_id"]), team=2, day=99)
    assert bad.status_code == 422 and "day=99" in bad.text
