"""``POST /api/pv/ledger`` records a station ledger XLSX (planners, checked whole first) and
``GET /api/pv/ledger/{project}`` reads it back checked, on the scratch copy of the demo."""

from __future__ import annotations

import io

import pandas as pd

from geo.pv.ledger import LEDGER_HEADERS

CODE = "DEMO-PV052"  # a village station in 常乐镇


def _xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame([dict(zip(LEDGER_HEADERS, row)) for row in rows]).to_excel(buffer, index=False)
    return buffer.getvalue()


def test_a_planner_records_a_ledger_and_anyone_who_reads_the_review_sees_it_flagged(scratch):
    book = _xlsx([[CODE, 2025, 100_000.0, 65_000.0, 5_000.0, 10_000.0, 3, 40_000.0, 10_000.0]])
    refused = scratch.post("/api/pv/ledger", headers=scratch.headers["leader"], files={"file": ("台账.xlsx", book)})
    assert refused.status_code == 403
    outside = scratch.post("/api/pv/ledger", headers=scratch.headers["scoped"], files={"file": ("台账.xlsx", book)})
    assert outside.status_code == 422 and f"({CODE})" in outside.json()["detail"]
    done = scratch.post("/api/pv/ledger", headers=scratch.headers["planner"], files={"file": ("台账.xlsx", book)})
    assert done.status_code == 200, done.text
    assert done.json()["recorded"][0]["action"] in ("create", "update")
    shown = scratch.get(f"/api/pv/ledger/{CODE}", headers=scratch.headers["leader"])
    assert shown.status_code == 200, shown.text
    row = shown.json()["rows"][-1]
    assert (row["year"], row["posts"]) == (2025, 3)
    assert row["flags"] == ["generation_below_model", "households_below_plan"]
    assert shown.json()["is_estimate"] is True
    assert scratch.get("/api/pv/ledger/NOPE", headers=scratch.headers["leader"]).status_code == 404
    assert scratch.get(f"/api/pv/ledger/{CODE}", headers=scratch.headers["scoped"]).status_code == 404


def test_a_bad_upload_names_the_row_and_the_file_and_records_nothing(scratch):
    before = scratch.get(f"/api/pv/ledger/{CODE}", headers=scratch.headers["planner"]).json()["rows"]
    book = _xlsx([[CODE, 2019, 1.0, 100.0, 10.0, 0.0, 0, 0.0, 0.0]])
    response = scratch.post("/api/pv/ledger", headers=scratch.headers["planner"], files={"file": ("坏台账.xlsx", book)})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("坏台账.xlsx: 1 problem(s), nothing was read: row 2") and "/tmp" not in detail
    assert scratch.get(f"/api/pv/ledger/{CODE}", headers=scratch.headers["planner"]).json()["rows"] == before
