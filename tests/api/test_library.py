"""``/api/projects`` and ``/api/assets`` on the scratch copy of the demo: the pipeline over
HTTP with its version checks, roles and township scope, refusals that write nothing, the
ranking's candidates added once and drawn on the road map by stage, and the 资产台账 download."""

from __future__ import annotations

import io

import openpyxl

from geo.library.assets import ASSET_HEADERS

STATION = "DEMO-PV053"


def _propose(scratch, code: str, village: str = "兴仁镇/郝集村", who: str = "planner", **extra):
    return scratch.post("/api/projects", headers=scratch.headers[who], json={
        "name": f"{code} 肉牛养殖场", "kind": "breeding", "village": village, "code": code, "funds_wan_yuan": 80,
        "performance_targets": "新建牛舍2栋，存栏肉牛200头", "benefit_households": 40, "benefit_mechanism": "务工、分红",
        "on": "2026-03-01", **extra})


def _step(scratch, code: str, step: str, version: int | None, who: str = "planner", **body):
    headers = dict(scratch.headers[who])
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return scratch.post(f"/api/projects/{code}/{step}", headers=headers, json=body)


def test_the_pipeline_over_http_with_versions_roles_and_scope(scratch):
    assert _propose(scratch, "H-1", who="leader").status_code == 403
    made = _propose(scratch, "H-1")
    assert made.status_code == 201, made.text
    assert made.headers["ETag"] == '"1"' and made.json()["stage"] == "proposed"
    assert _step(scratch, "H-1", "review", None).status_code == 428
    reviewed = _step(scratch, "H-1", "review", 1, who="scoped", on="2026-03-05")  # the township's own account
    assert reviewed.status_code == 200, reviewed.text
    assert _step(scratch, "H-1", "approve", 1).status_code == 412  # stale If-Match
    refused = _step(scratch, "H-1", "approve", 2, who="scoped")
    assert refused.status_code == 403 and "county" in refused.json()["detail"]
    skipped = _step(scratch, "H-1", "complete", 2)
    assert skipped.status_code == 422 and "the next step is approve" in skipped.json()["detail"]
    for step, version in (("approve", 2), ("start", 3), ("complete", 4)):
        done = _step(scratch, "H-1", step, version, on="2026-06-01")
        assert done.status_code == 200, done.text
    no_owner = _step(scratch, "H-1", "handover", 5, asset_class="经营性", maintainer="合作社")
    assert no_owner.status_code == 422 and "owner" in no_owner.json()["detail"]
    no_station = _step(scratch, "H-1", "handover", 5, asset_class="经营性", owner="郝集村股份经济合作社",
                       maintainer="合作社", pv_station="DEMO-PV999")
    assert no_station.status_code == 404 and "DEMO-PV999" in no_station.json()["detail"]
    shown = scratch.get("/api/projects/H-1", headers=scratch.headers["viewer"])
    assert shown.status_code == 200 and shown.headers["ETag"] == '"5"' and shown.json()["asset"] is None
    handed = _step(scratch, "H-1", "handover", 5, asset_class="经营性", owner="郝集村股份经济合作社",
                   maintainer="郝集村肉牛养殖合作社", pv_station=STATION, on="2026-07-01")
    assert handed.status_code == 200, handed.text
    body = handed.json()
    assert body["stage"] == "handed_over" and body["asset"]["pv_code"] == STATION
    assert [e["step"] for e in body["history"]] == ["propose", "review", "approve", "start", "complete", "handover"]
    listed = scratch.get("/api/projects", params={"stage": "已移交资产"}, headers=scratch.headers["viewer"]).json()
    assert "H-1" in {p["code"] for p in listed["projects"]}
    outside = _propose(scratch, "H-2", village="常乐镇/罗泉村", who="scoped")
    assert outside.status_code == 404  # a village outside the account's townships is not found


def test_candidates_and_the_asset_ledger_download(scratch):
    first = scratch.post("/api/projects/propose-from-priority", headers=scratch.headers["planner"],
                         json={"kind": "road", "top": 1})
    assert first.status_code == 200, first.text
    again = scratch.post("/api/projects/propose-from-priority", headers=scratch.headers["planner"],
                         json={"kind": "road", "top": 1}).json()
    assert again["created"] == [] and len(again["skipped"]) == 1
    roads_map = scratch.get("/maps/roads", headers=scratch.headers["planner"])
    assert roads_map.status_code == 200, roads_map.text[:500]
    assert "项目库道路项目（按阶段）" in roads_map.text and "村级申报" in roads_map.text
    assert scratch.get("/api/assets", headers=scratch.headers["viewer"]).status_code == 403
    assets = scratch.get("/api/assets", headers=scratch.headers["leader"]).json()
    download = scratch.get("/api/assets.xlsx", headers=scratch.headers["leader"])
    assert download.status_code == 200
    assert "filename*=UTF-8''%E8%B5%84%E4%BA%A7%E5%8F%B0%E8%B4%A6.xlsx" in download.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(download.content))["资产台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(ASSET_HEADERS.values()) and len(rows) - 1 == assets["count"]
