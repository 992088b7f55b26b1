"""The field kit over HTTP on both backends: forms and team packages where the other export
formats are served (names only for the roles allowed), answers posted by assigned inspectors
only, results and proposals, a proposal confirmed as a finding, photos only for callers who
may see the households."""

from __future__ import annotations

import io
import zipfile

import pytest

from geo.inspection import xlsform
from geo.storage import inspection as store
from geo.services import inspections as service
from geo.services import personal
from tests.geo.services.test_answers import _rows, central_csv, jpeg

DRAW = {"preset": "seed003", "seed": "2019-11-05 外业包", "year": 2019, "townships": "宣和镇", "teams": 2,
        "name": "外业包测试"}


@pytest.fixture(scope="module")
def plan_id(scratch) -> int:
    response = scratch.post("/api/inspections", json=DRAW, headers=scratch.headers["admin"])
    assert response.status_code == 201, response.text
    return response.json()["plan_id"]


def _names(scratch, plan_id) -> set[str]:
    households = store.read_sampled_households(scratch.engine, plan_id)
    pii = personal.household_pii(scratch.engine, list(households["household_id"]))
    return {n for n in pii["head_name"] if n}


def test_forms_and_packages_over_http_mask_names_unless_allowed(scratch, plan_id, tmp_path):
    path = f"/api/inspections/{plan_id}/export"
    names = _names(scratch, plan_id)
    form = scratch.get(path, params={"format": "xlsform", "form": "household"}, headers=scratch.headers["leader"])
    assert form.status_code == 200, form.text
    saved = tmp_path / "form.xlsx"
    saved.write_bytes(form.content)
    xml, warnings = xlsform.convert_xlsform(saved)
    assert warnings == [] and not any(n in xml for n in names)
    xform = scratch.get(path, params={"format": "xform", "form": "village"}, headers=scratch.headers["leader"])
    assert xform.status_code == 200 and xform.text.startswith("<?xml")
    package = scratch.get(path, params={"format": "package", "team": 1}, headers=scratch.headers["leader"])
    assert package.status_code == 200 and "team-1-field-kit.zip" in package.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        text = archive.read(f"plan{plan_id}-team1/households.csv").decode("utf-8")
    assert not any(n in text for n in names)
    denied = scratch.get(path, params={"format": "package", "team": 1, "show_names": True},
                         headers=scratch.headers["leader"])
    assert denied.status_code == 403
    shown = scratch.get(path, params={"format": "package", "team": 1, "show_names": True},
                        headers=scratch.headers["admin"])
    with zipfile.ZipFile(io.BytesIO(shown.content)) as archive:
        text = archive.read(f"plan{plan_id}-team1/households.csv").decode("utf-8")
    assert any(n in text for n in names)


def test_answers_posted_by_assigned_inspectors_fill_results_and_confirmed_findings(scratch, plan_id):
    base = f"/api/inspections/{plan_id}"
    record = service.load_record(scratch.engine, plan_id)
    households = record.households.reset_index(drop=True)
    members = {int(i): 3 for i in households["household_id"]}
    version = xlsform.form_version(record.draw["result_hash"])
    rows, vrow, h = _rows(record, households, members, version)
    rows[0]["photo_1"] = "a.jpg"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("export.csv", central_csv(rows))
        z.writestr("media/a.jpg", jpeg())
    files = {"file": ("atlas.zip", archive.getvalue(), "application/zip")}
    scratch.delete(f"{base}/assignments/t_inspector", headers=scratch.headers["admin"])
    assert scratch.post(f"{base}/answers", files=files, headers=scratch.headers["inspector"]).status_code == 403
    assert scratch.post(f"{base}/answers", files=files, headers=scratch.headers["leader"]).status_code == 403
    assert scratch.put(f"{base}/assignments/t_inspector", headers=scratch.headers["admin"]).status_code == 200
    bad = {"file": ("bad.csv", central_csv([{**rows[1], "instance": "uuid:x", "household": "NOPE"}]).encode(),
                    "text/csv")}
    strict = scratch.post(f"{base}/answers", params={"strict": True}, files=bad, headers=scratch.headers["inspector"])
    assert strict.status_code == 422 and strict.json()["refused"][0]["field"] == "household"
    assert strict.json()["refused"][0]["instance_id"] == "uuid:x"
    posted = scratch.post(f"{base}/answers", files=files, headers=scratch.headers["inspector"])
    assert posted.status_code == 200, posted.text
    assert len(posted.json()["inserted"]) == 4 and posted.json()["photos"] == 1
    listed = scratch.get(f"{base}/answers", headers=scratch.headers["leader"]).json()["items"]
    assert len(listed) == 4 and "answers_json" not in listed[0]
    results = scratch.get(f"{base}/answers/results", headers=scratch.headers["leader"]).json()
    water = next(r for r in results["table4"] if r["项目"] == "7.无安全饮水户数")
    assert water["数量"] == 1 and results["households"] == 4
    proposals = scratch.get(f"{base}/answers/proposals", headers=scratch.headers["leader"]).json()["items"]
    income = next(p for p in proposals if p["rule"] == "income_below_line")
    body = {"from_answer": income["key"], "responsible_unit": "宣和镇人民政府", "deadline": "2030-12-31"}
    assert scratch.post(f"{base}/findings", json={**body, "kind": "漏评"},
                        headers=scratch.headers["inspector"]).status_code == 422
    added = scratch.post(f"{base}/findings", json=body, headers=scratch.headers["inspector"])
    assert added.status_code == 201, added.text
    assert added.json()["kind"] == "wrong_exit" and added.json()["household_code"] == h[0].household_code
    assert scratch.post(f"{base}/findings", json=body, headers=scratch.headers["inspector"]).status_code == 409
    answer = next(a for a in listed if a["photos"])
    photo = f"{base}/answers/{answer['id']}/photos/photo_1"
    assert scratch.get(photo, headers=scratch.headers["leader"]).status_code == 403
    shown = scratch.get(photo, headers=scratch.headers["inspector"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg" and shown.content == jpeg()
