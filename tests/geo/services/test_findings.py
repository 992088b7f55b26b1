"""Findings against sampled households and villages, their rectification, the overdue list
and the 表3 / 表4 summaries, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.errors import NotFound, ValidationError
from geo.inspection import findings
from geo.services import findings as recorded
from geo.services import inspections as service
from geo.inspection.plans import load_plan, with_overrides
from tests.geo.conftest import tx_on_module

FOUND = dt.date(2019, 11, 1)


@pytest.fixture(scope="module")
def plan(module_tx):
    """Drawn once for the module; each test's writes are rolled back (``tx``)."""
    spec = with_overrides(load_plan("seed003", year=2019), townships=("永康镇",))
    report = service.draw_plan(module_tx, spec, seed="findings")
    return service.load_record(module_tx, report.plan_id)


tx = tx_on_module("plan")


def add(tx, plan, **kwargs):
    values = {"description": "帮扶手册人口与系统不一致", "responsible_unit": "永康镇人民政府",
              "deadline": "2019-11-10", "found_on": FOUND, **kwargs}
    return recorded.add_finding(tx, plan.plan["id"], **values)


def test_a_finding_is_recorded_against_a_sampled_household_or_village(tx, plan):
    household = plan.households.iloc[0]
    first = add(tx, plan, household=household["household_code"], category="精准识别")
    assert (first["category"], first["kind"], first["status"]) == ("identification", "missed", "open")
    assert first["household_code"] == household["household_code"]
    assert first["village_name"] == household["village_name"]
    assert first["code"] == f"P{plan.plan['id']}-001"
    village = plan.villages.iloc[1]
    second = add(tx, plan, village=village["village_name"], category="精准帮扶", kind="资金使用")
    assert (second["category"], second["kind"], second["household_code"]) == ("assistance", "funds", None)
    third = add(tx, plan, village=village["village_name"], kind="错退")
    assert third["category"] == "exit"


@pytest.mark.parametrize("kwargs, error, message", [
    ({"household": "DEMO-00-0000"}, NotFound, "not in the sample"),
    ({"village": "火星村"}, NotFound, "not in the sample"),
    ({"village": None}, ValidationError, "say what the finding is about"),
    ({"category": "精准帮扶"}, ValidationError, "needs its kind"),
    ({"kind": "资金使用", "category": "精准识别"}, ValidationError, "does not belong to 精准识别"),
    ({"deadline": "2019-10-01"}, ValidationError, "before the date the problem was found"),
    ({"description": "  "}, ValidationError, "describe the problem"),
    ({"category": "rich"}, ValidationError, "'rich' is not a valid FindingCategory"),
])
def test_bad_findings_are_refused(tx, plan, kwargs, error, message):
    base = {"village": plan.villages.iloc[0]["village_name"], "category": "其他"}
    with pytest.raises(error, match=message):
        add(tx, plan, **{**base, **kwargs})


def test_a_finding_cannot_be_closed_without_a_note(tx, plan):
    f = add(tx, plan, village=plan.villages.iloc[0]["village_name"], category="其他")
    for note in (None, "", "   "):
        with pytest.raises(ValidationError, match="needs a note of the evidence"):
            recorded.close_finding(tx, f["code"], note=note)
    assert recorded.get_finding(tx, f["code"])["status"] == "open"
    moving = recorded.update_finding(tx, f["code"], status="整改中", note="已约谈村委", today=dt.date(2019, 11, 3))
    assert moving["status"] == "rectifying"
    closed = recorded.close_finding(tx, f["code"], note="补录手册，见镇档案2019-45号", today=dt.date(2019, 11, 8))
    assert (closed["status"], closed["evidence_note"], str(closed["closed_on"])[:10]) == (
        "closed", "补录手册，见镇档案2019-45号", "2019-11-08")
    with pytest.raises(ValidationError, match="is closed"):
        recorded.update_finding(tx, f["code"], status="rectifying")
    import json

    steps = [h.get("to") for h in json.loads(closed["history_json"])]
    assert steps == ["open", "rectifying", "closed"]


def test_status_moves_only_forward(tx, plan):
    f = add(tx, plan, village=plan.villages.iloc[0]["village_name"], category="其他")
    recorded.update_finding(tx, f["code"], status="rectifying")
    with pytest.raises(ValidationError, match="can move to: closed"):
        recorded.update_finding(tx, f["code"], status="open")


def test_overdue_findings_are_listed(tx, plan):
    v = plan.villages.iloc[0]["village_name"]
    late = add(tx, plan, village=v, category="其他", deadline="2019-11-05")
    on_time = add(tx, plan, village=v, category="其他", deadline="2019-12-31")
    done = add(tx, plan, village=v, category="其他", deadline="2019-11-05")
    recorded.close_finding(tx, done["code"], note="已整改", today=dt.date(2019, 11, 4))
    overdue = recorded.list_findings(tx, plan=plan.plan["id"], overdue=True, today=dt.date(2019, 11, 20))
    assert list(overdue["code"]) == [late["code"]]
    assert overdue["days_overdue"].iloc[0] == 15
    everything = recorded.list_findings(tx, plan=plan.plan["id"], today=dt.date(2019, 11, 20))
    assert set(everything["code"]) == {late["code"], on_time["code"], done["code"]}
    assert recorded.list_findings(tx, plan=plan.plan["id"], overdue=True, today=dt.date(2019, 11, 1)).empty


def test_table3_counts_by_category_and_table4_counts_the_sample(tx, plan):
    v = plan.villages.iloc[0]["village_name"]
    add(tx, plan, village=v, category="精准帮扶", kind="项目实施")
    add(tx, plan, village=v, category="精准帮扶", kind="项目实施", deadline="2019-11-02")
    f = add(tx, plan, village=v, category="精准识别")
    recorded.close_finding(tx, f["code"], note="已核实纳入", today=dt.date(2019, 11, 2))
    listed = recorded.list_findings(tx, plan=plan.plan["id"], today=dt.date(2019, 11, 5))
    table = findings.table3(listed).set_index(["类别", "方面"])
    assert list(table.index[:3]) == [("精准识别", "漏评"), ("精准识别", "错评"), ("精准帮扶", "措施制定")]
    assert table.loc[("精准帮扶", "项目实施"), "问题数"] == 2
    assert table.loc[("精准帮扶", "项目实施"), "逾期未整改"] == 1
    assert table.loc[("精准识别", "漏评"), "已整改"] == 1
    assert table.loc[("合计", ""), "问题数"] == 3
    items = findings.table3_items(listed)
    assert list(items["方面"]) == ["漏评", "项目实施", "项目实施"]
    labels = {s.key: s.label for s in plan.spec.strata}
    t4 = findings.table4(plan.villages, plan.households, plan.sample.tallies, plan_year=2019, labels=labels)
    counts = dict(zip(t4["counts"]["项目"], t4["counts"]["数量"]))
    assert counts["2.抽查村总数"] == len(plan.villages) == 4
    assert counts["3.抽查户总数"] == len(plan.households)
    assert sum(counts[f"  其中：{k}"] for k in ("已脱贫户", "今年计划脱贫户", "未脱贫户", "非贫困户")) == len(plan.households)
    # 表4 counts by status: the planned_this_year stratum also holds households already exited this year
    planned = (plan.households["status"] == "planned_exit") & (plan.households["status_year"] == 2019)
    assert counts["  其中：今年计划脱贫户"] == int(planned.sum())
    assert int(planned.sum()) <= int((plan.households["stratum"] == "planned_this_year").sum())
    assert len(t4["unmet"]) == int((~plan.sample.tallies["met"].astype(bool)).sum())
