"""/api/monitoring and /maps/monitoring in the real app, on both backends: who may read and
change cases, township scoping, lead lists uploaded with Chinese headers, steps conditional on
the version, posting lists without names or ID numbers (XLSX and PDF read back) and the map's
points only for roles allowed."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import openpyxl
import pandas as pd

from geo import storage

API = "/api/monitoring"


def _cases(site, role: str, **params) -> list[dict]:
    response = site.get(f"{API}/cases", headers=site.headers[role], params=params)
    assert response.status_code == 200, response.text
    return response.json()["cases"]


def test_reading_needs_read_all_and_a_scoped_user_sees_only_their_townships(scratch):
    assert scratch.get(f"{API}/cases", headers=scratch.headers["viewer"]).status_code == 403
    everything = _cases(scratch, "leader")
    assert {c["status"] for c in everything} >= {"lead", "checked", "posted", "township_reviewed", "approved",
                                                  "assisting", "removal_posted", "removed", "dismissed"}
    assert all(c["source"] == "demo:synthetic" for c in everything)
    assert any(c["overdue"] for c in _cases(scratch, "leader", overdue="true"))
    scoped = _cases(scratch, "scoped")
    assert scoped and {c["township_name"] for c in scoped} == {"兴仁镇"} and len(scoped) < len(everything)
    outside = next(c for c in everything if c["township_name"] != "兴仁镇")
    assert scratch.get(f"{API}/cases/{outside['code']}", headers=scratch.headers["scoped"]).status_code == 404
    assert "head_name" not in str(everything) and "id_number" not in str(everything)
    leads = scratch.get(f"{API}/leads", headers=scratch.headers["leader"])  # blank figures were NaN: a 500
    assert leads.status_code == 200 and len(leads.json()) >= len(everything)


def test_a_lead_list_upload_is_taken_whole_and_steps_need_the_version(scratch):
    households = storage.read_layer(scratch.engine, "households", township="兴仁镇", columns=["code", "status"],
                                    with_names=False)
    taken = set(storage.monitoring.read_cases(scratch.engine)["household_id"])
    code = households[(households["status"] == "exited") & ~households["id"].isin(taken)]["code"].iloc[0]
    bad = "户编号,预警类型,预警日期\nNO-SUCH,因病,2026-11-03\n".encode("utf-8")
    refused = scratch.post(f"{API}/leads/import", headers=scratch.headers["planner"],
                           files={"file": ("民政局.csv", bad)}, data={"channel": "department"})
    assert refused.status_code == 422 and "民政局.csv" in refused.text and "row 2" in refused.text
    good = f"户编号,预警类型,预警日期,自付费用（元）\n{code},因病,2026-11-03,20000\n".encode("utf-8")
    assert scratch.post(f"{API}/leads/import", headers=scratch.headers["leader"], files={"file": ("l.csv", good)},
                        data={"channel": "department"}).status_code == 403
    done = scratch.post(f"{API}/leads/import", headers=scratch.headers["scoped"], files={"file": ("医保局.csv", good)},
                        data={"channel": "department"})
    assert done.status_code == 201, done.text
    case = done.json()["cases_opened"][0]
    shown = scratch.get(f"{API}/cases/{case}", headers=scratch.headers["planner"])
    assert shown.headers["etag"] == '"1"' and shown.json()["status"] == "lead"
    body = {"step": "check", "on": "2026-11-04", "category": "脱贫不稳定户", "risk_types": ["因病"],
            "income_per_person_yuan": 5000, "out_of_pocket_yuan": 20000}
    assert scratch.post(f"{API}/cases/{case}/steps", headers=scratch.headers["planner"], json=body).status_code == 428
    checked = scratch.post(f"{API}/cases/{case}/steps", headers={**scratch.headers["planner"], "If-Match": '"1"'},
                           json=body)
    assert checked.status_code == 200 and checked.json()["status"] == "checked", checked.text
    stale = scratch.post(f"{API}/cases/{case}/steps", headers={**scratch.headers["planner"], "If-Match": '"1"'},
                         json={"step": "post", "on": "2026-11-05", "until": "2026-11-11"})
    assert stale.status_code == 412  # If-Match names an old version
    short = scratch.post(f"{API}/cases/{case}/steps", headers=scratch.headers["planner"],
                         json={"step": "post", "on": "2026-11-05", "until": "2026-11-06", "version": 2})
    assert short.status_code == 422 and "at least 5 working days" in short.json()["detail"]


def _names_and_numbers(site, codes: list[str]) -> tuple[set[str], set[str]]:
    rows = storage.read_layer(site.engine, "households", include_pii=True)
    mine = rows[rows["code"].isin(codes)]
    return set(mine["head_name"].dropna()), set(mine["id_number"].dropna())


def _pdf_text(content: bytes, tmp_path) -> str:
    assert shutil.which("pdftotext"), "pdftotext is missing: apt-get install -y poppler-utils"
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_posting_lists_are_de_identified_in_xlsx_and_pdf(scratch, tmp_path):
    for kind, status in (("posting", "posted"), ("removal-posting", "removal_posted")):
        codes = [c["household_code"] for c in _cases(scratch, "leader", status=status)]
        assert codes, f"the demo has a case in {status}"
        names, numbers = _names_and_numbers(scratch, codes)
        xlsx = scratch.get(f"{API}/reports/{kind}", headers=scratch.headers["leader"], params={"format": "xlsx"})
        assert xlsx.status_code == 200, xlsx.text
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        cells = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value)
        assert all(code in cells for code in codes) and "脱敏" in cells and "合成" in cells
        assert not any(n in cells for n in names) and not any(n in cells for n in numbers)
        assert any(n[0] + "*" in cells for n in names)
        pdf = scratch.get(f"{API}/reports/{kind}", headers=scratch.headers["leader"], params={"format": "pdf"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = _pdf_text(pdf.content, tmp_path)
        assert all(code in text for code in codes) and "公示名单" in text
        assert not any(n in text for n in names) and not any(n in text for n in numbers)
    assert scratch.get(f"{API}/reports/posting", headers=scratch.headers["leader"],
                       params={"names": "true"}).status_code == 403
    revealed = scratch.get(f"{API}/reports/posting", headers=scratch.headers["planner"],
                           params={"names": "true", "format": "json"})
    codes = [c["household_code"] for c in _cases(scratch, "leader", status="posted")]
    names, numbers = _names_and_numbers(scratch, codes)
    assert names <= {r["户主"] for r in revealed.json()["sheets"]["公示名单"]}
    assert not any(n in revealed.text for n in numbers)


def test_monthly_quarterly_and_workload_reports(scratch):
    monthly = scratch.get(f"{API}/reports/monthly", headers=scratch.headers["leader"], params={"format": "json"})
    table = pd.DataFrame(monthly.json()["sheets"]["月度预警处置"])
    assert list(table["预警渠道"])[-1] == "合计" and table["接收线索"].iloc[-1] == table["接收线索"].iloc[:-1].sum()
    workload = scratch.get(f"{API}/reports/workload", headers=scratch.headers["leader"], params={"format": "json"})
    sheets = workload.json()["sheets"]
    towns = pd.DataFrame(sheets["乡镇"])
    cases = _cases(scratch, "leader")
    assert towns["逾期环节"].sum() == sum(1 for c in cases if c["overdue"])
    assert towns["在办案件"].sum() == sum(1 for c in cases if c["status"] not in ("removed", "dismissed"))
    assert pd.DataFrame(sheets["帮扶责任人"])["在办监测案件"].sum() <= towns["在办案件"].sum()
    assert scratch.get(f"{API}/reports/nope", headers=scratch.headers["leader"]).status_code == 422


def test_the_map_shows_points_only_to_roles_allowed(scratch):
    codes = [c["code"] for c in _cases(scratch, "leader", open="true")]
    leader = scratch.get("/maps/monitoring", headers=scratch.headers["leader"])
    assert leader.status_code == 200 and "防返贫监测图" in leader.text
    assert not any(code in leader.text for code in codes) and "按村汇总" in leader.text
    planner = scratch.get("/maps/monitoring", headers=scratch.headers["planner"])
    assert planner.status_code == 200 and all(code in planner.text for code in codes)
    assert scratch.get("/maps/monitoring", headers=scratch.headers["viewer"]).status_code == 403
    overdue = sum(1 for c in _cases(scratch, "leader", open="true") if c["overdue"])
    landing = scratch.get("/", headers=scratch.headers["leader"]).text
    assert f"在办案件 {len(codes)} 件，逾期 {overdue} 件" in landing and 'href="/maps/monitoring"' in landing
    assert not re.search(r"在办案件 \d+ 件", scratch.get("/", headers=scratch.headers["viewer"]).text)
