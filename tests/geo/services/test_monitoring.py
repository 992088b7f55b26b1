"""Monitoring cases on both backends: lead lists in (Chinese headers, by code or ID number),
the dated steps allowed and refused with their deadlines and versions, township scoping, the
reports' de-identification and the map's water flag."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import Point

from geo import models, storage
from geo.audit import Actor
from geo.errors import NotFound, StaleVersion, ValidationError
from geo.monitoring.workflow import Thresholds
from geo.services import monitoring

ACTOR = Actor("tester")
TODAY = dt.date(2026, 11, 27)  # a Friday
LINE = Thresholds(income_line_yuan=7000.0, out_of_pocket_yuan=10000.0, source="test notice")


def free_households(tx, status: str, n: int, township: str | None = None) -> pd.DataFrame:
    """Demo households of a status that have no case yet (the demo's own cases are left alone)."""
    households = storage.read_layer(tx, "households", township=township, columns=["code", "status", "village_id"],
                                    with_names=False)
    taken = set(storage.monitoring.read_cases(tx)["household_id"])
    mine = households[(households["status"] == status) & ~households["id"].isin(taken)]
    return mine.sort_values("code").head(n)


def lead(tx, code, on=dt.date(2026, 11, 2), **kwargs):
    return monitoring.record_lead(tx, household_code=code, channel="visit", received_on=on, actor=ACTOR,
                                  today=TODAY, **kwargs)


def cases_count(tx) -> int:
    return int(tx.execute(sa.select(sa.func.count()).select_from(models.MonitorCase.__table__)).scalar_one())


def test_a_department_list_with_chinese_headers_opens_cases_whole_or_not_at_all(tx, tmp_path):
    exited = free_households(tx, "exited", 3)
    path = tmp_path / "医保局2026年11月.xlsx"
    rows = {"户编号": list(exited["code"]) + ["NO-SUCH"], "户主姓名": ["甲", "乙", "丙", "丁"],
            "预警类型": ["医疗", "因病", "大病", "因病"], "预警日期": ["2026-11-03"] * 4,
            "医疗自付费用(元)": [15000, 9000, None, 100], "预警部门": ["医保局"] * 4}
    pd.DataFrame(rows).to_excel(path, index=False)
    before = cases_count(tx)
    with pytest.raises(ValidationError, match=r"1 of 4 row\(s\) refused, nothing was written.*row 5: 户编号 'NO-SUCH'"):
        monitoring.import_leads(tx, path, channel="department", actor=ACTOR, thresholds=LINE, today=TODAY)
    assert cases_count(tx) == before
    pd.DataFrame({k: v[:3] for k, v in rows.items()}).to_excel(path, index=False)
    result = monitoring.import_leads(tx, path, channel="department", actor=ACTOR, thresholds=LINE, today=TODAY)
    assert (result.leads, len(result.opened), result.above_threshold) == (3, 3, 1)
    assert cases_count(tx) == before + 3
    cases = storage.monitoring.read_cases(tx, codes=result.opened)
    assert set(cases["household_code"]) == set(exited["code"]) and set(cases["status"]) == {"lead"}
    leads = monitoring.read_leads(tx)
    mine = leads[leads["case_code"].isin(result.opened)]
    assert set(mine["channel"]) == {"department"} and set(mine["department"]) == {"医保局"}
    assert not mine["fields_json"].str.contains("甲|乙|丙").any()  # names are never stored
    # a second list naming the same households joins their open cases
    again = monitoring.import_leads(tx, path, channel="department", actor=ACTOR, thresholds=LINE, today=TODAY)
    assert again.opened == [] and sorted(again.joined) == sorted(result.opened)


def test_id_numbers_match_only_for_roles_allowed_and_the_match_is_audited(tx, tmp_path):
    household = free_households(tx, "exited", 1).iloc[0]
    number = storage.read_record(tx, "households", int(household["id"]), include_pii=True)["id_number"]
    path = tmp_path / "残联.csv"
    path.write_text(f"身份证号,预警类型\n{number},因残\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="row 2: no 户编号; matching by 身份证号 needs a role allowed"):
        monitoring.import_leads(tx, path, channel="department", actor=ACTOR, today=TODAY)
    result = monitoring.import_leads(tx, path, channel="department", actor=ACTOR, today=TODAY,
                                     may_match_id_numbers=True)
    assert storage.monitoring.read_cases(tx, codes=result.opened)["household_code"].tolist() == [household["code"]]
    entries, _ = storage.audit.read_entries(tx, action="match_id")
    assert entries and entries[0]["user_name"] == "tester" and number not in str(entries[0])


def test_a_case_goes_through_every_step_in_order_with_its_deadlines(tx):
    code = free_households(tx, "exited", 1)["code"].iloc[0]
    case = lead(tx, code, on=dt.date(2026, 11, 2))
    assert (case["status"], case["next_step"], case["due_on"]) == ("lead", "checked", dt.date(2026, 11, 5))
    assert case["overdue"] and case["working_days_overdue"] == 16
    c = case["code"]
    step = lambda name, **kw: monitoring.advance_case(tx, c, name, actor=ACTOR, today=TODAY, thresholds=LINE, **kw)  # noqa: E731
    row = step("check", on="2026-11-04", category="脱贫不稳定户", risk_types=["因病"], income_per_person_yuan=5200,
               out_of_pocket_yuan=16000, assured={"assured_medical": True}, by="村监测信息员")
    assert (row["status"], row["category"], row["risk_types"], row["version"]) == ("checked", "unstable_exited",
                                                                                  "illness", 2)
    row = step("post", on="2026-11-06", until="2026-11-12")
    assert row["posted_until"] == dt.date(2026, 11, 12) and row["due_on"] == dt.date(2026, 11, 18)
    row = step("review", on="2026-11-13")
    row = step("approve", on="2026-11-16", version=row["version"])
    assert row["identified_on"] == dt.date(2026, 11, 16) and row["due_on"] == dt.date(2026, 11, 30)
    with pytest.raises(ValidationError, match=f"case {c}: no assistance measure is recorded"):
        step("post-removal", on="2026-11-17", until="2026-11-23")
    row = monitoring.add_measure(tx, c, kind="公益岗位", on="2026-11-17", amount_yuan=9600, by="区人社局",
                                 actor=ACTOR, today=TODAY)
    assert row["status"] == "assisting"
    row = step("post-removal", on="2026-11-18", until="2026-11-24")
    row = step("remove", on="2026-11-25")
    assert (row["status"], row["removed_on"], row["next_step"]) == ("removed", dt.date(2026, 11, 25), None)
    shown = monitoring.get_case(tx, c, today=TODAY)
    assert [e["to_status"] for e in shown["events"]] == ["lead", "checked", "posted", "township_reviewed", "approved",
                                                        "assisting", "removal_posted", "removed"]
    assert shown["events"][1]["by_whom"] == "村监测信息员" and shown["events"][2]["actor"] == "tester"
    assert shown["measures"][0]["kind"] == "public_post"
    entries, _ = storage.audit.read_entries(tx, layer="monitor_cases", row_id=int(row["id"]))
    assert len(entries) == 8  # created, then 7 steps (the first measure takes 落实帮扶)


def test_refused_steps_write_nothing(tx):
    code = free_households(tx, "non_poor", 1)["code"].iloc[0]
    c = lead(tx, code)["code"]
    step = lambda name, **kw: monitoring.advance_case(tx, c, name, actor=ACTOR, today=TODAY, thresholds=LINE, **kw)  # noqa: E731
    with pytest.raises(ValidationError, match=f"case {c} is lead .*first 入户核实"):
        step("post", on="2026-11-03", until="2026-11-09")
    with pytest.raises(ValidationError, match="边缘易致贫户 applies to households never registered|at or above"):
        step("check", on="2026-11-03", category="marginal", risk_types="因病", income_per_person_yuan=9000)
    with pytest.raises(ValidationError, match="category and figures are recorded at the home check"):
        step("dismiss", on="2026-11-03", income_per_person_yuan=9000)
    assert monitoring.get_case(tx, c, today=TODAY)["version"] == 1
    row = step("check", on="2026-11-03", category="marginal", risk_types="因病", income_per_person_yuan=6000)
    with pytest.raises(ValidationError, match="lasts 3 working day.*at least 5 working days"):
        step("post", on="2026-11-04", until="2026-11-06")
    with pytest.raises(StaleVersion, match=f"case {c} is at version 2, not 1"):
        step("post", on="2026-11-04", until="2026-11-10", version=1)
    with pytest.raises(ValidationError, match="measures are recorded once the county has approved"):
        monitoring.add_measure(tx, c, kind="medical", actor=ACTOR, today=TODAY)
    after = monitoring.get_case(tx, c, today=TODAY)
    assert (after["status"], after["version"], len(after["events"]), after["measures"]) == ("checked", 2, 2, [])


def test_overdue_list_and_township_scoping(tx):
    towns = storage.read_layer(tx, "townships", columns=["name"], with_names=False).sort_values("name")
    first, second = int(towns["id"].iloc[0]), int(towns["id"].iloc[1])
    a = free_households(tx, "exited", 1, township=first)["code"].iloc[0]
    b = free_households(tx, "exited", 1, township=second)["code"].iloc[0]
    late = lead(tx, a, on=dt.date(2026, 11, 2))["code"]                 # due 5 Nov: overdue
    fresh = lead(tx, b, on=dt.date(2026, 11, 26))["code"]               # due 1 Dec: on time
    overdue = monitoring.list_cases(tx, overdue=True, today=TODAY)
    assert late in set(overdue["code"]) and fresh not in set(overdue["code"])
    mine = monitoring.list_cases(tx, township=[first], today=TODAY)
    assert late in set(mine["code"]) and fresh not in set(mine["code"]) and set(mine["township_id"]) == {first}
    with pytest.raises(NotFound, match=f"no monitoring case '{fresh}' in your townships"):
        monitoring.get_case(tx, fresh, township=[first])
    with pytest.raises(NotFound):
        monitoring.advance_case(tx, fresh, "dismiss", on="2026-11-26", actor=ACTOR, township=[first], today=TODAY)
    with pytest.raises(NotFound, match="in your townships"):
        lead(tx, b, township=[first])


def test_posting_lists_mask_names_and_never_carry_id_numbers(tx):
    code = free_households(tx, "exited", 1)["code"].iloc[0]
    c = lead(tx, code)["code"]
    monitoring.advance_case(tx, c, "check", on="2026-11-03", category="unstable_exited", risk_types="因病",
                            income_per_person_yuan=5000, actor=ACTOR, today=TODAY)
    monitoring.advance_case(tx, c, "post", on="2026-11-23", until="2026-11-29", actor=ACTOR, today=TODAY)
    household = storage.read_layer(tx, "households", where={"code": code}, include_pii=True).iloc[0]
    report = monitoring.report(tx, "posting", actor=ACTOR, today=TODAY)
    table = report.sheets["公示名单"]
    row = table[table["户编号"] == code].iloc[0]
    assert row["户主"] == household["head_name"][0] + "*" * (len(household["head_name"]) - 1)
    text = table.to_csv()
    assert household["head_name"] not in text and household["id_number"] not in text
    assert "脱敏" in report.note and "未设置" in report.note
    revealed = monitoring.report(tx, "posting", actor=ACTOR, today=TODAY, reveal_names=True).sheets["公示名单"]
    assert household["head_name"] in set(revealed["户主"]) and household["id_number"] not in revealed.to_csv()


def test_the_map_flags_monitored_households_beyond_the_water_distance(tx):
    facilities = storage.read_layer(tx, "water_facilities", where={"status": "working"})
    supply = facilities[facilities["is_drinking"].astype(bool) & (facilities.geometry.geom_type == "Point")].iloc[0]
    near, far = free_households(tx, "exited", 2)["code"]
    ids = {}
    for code, offset_deg in ((near, 0.0), (far, 1.5)):  # on a working supply; ~130 km east, outside the district
        row = storage.read_layer(tx, "households", where={"code": code}, with_names=False).iloc[0]
        ids[code] = int(row["id"])
        storage.update_record(tx, "households", int(row["id"]),
                              {"geometry": Point(supply.geometry.x + offset_deg, supply.geometry.y)},
                              version=int(row["version"]), actor=ACTOR)
        lead(tx, code)
    frames = monitoring.map_frames(tx, show_points=True, today=TODAY)
    cases = frames["cases"].set_index("household_code")
    assert cases.at[near, "distance_to_water_m"] < 1 and not cases.at[near, "beyond_water"]
    assert cases.at[far, "distance_to_water_m"] > 100_000 and cases.at[far, "beyond_water"]
    villages = frames["villages"].set_index("id")
    assert villages["beyond_water"].sum() == int(frames["cases"]["beyond_water"].sum())
    hidden = monitoring.map_frames(tx, show_points=False, today=TODAY)
    assert hidden["cases"] is None and hidden["villages"]["open_cases"].sum() == len(frames["cases"])
