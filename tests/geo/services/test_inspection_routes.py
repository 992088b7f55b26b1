"""Routes planned in days on the demo (real SpatiaLite and PostGIS): every team day within its
limit, the schedule recorded and exported, bad day limits refused with nothing written; a seed
drawn once per frame; a recorded frame drawn as recorded after the registry changed."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from geo import storage
from geo.errors import Conflict, ValidationError
from geo.storage import inspection as store
from geo.inspection.plans import load_plan, with_overrides
from geo.inspection.tours import DayRules
from geo.services import inspections as service


def seed003(**overrides):
    return with_overrides(load_plan("seed003", year=2019), **overrides)


def minutes(clock: str) -> int:
    hours, mins = clock.split("+")[0].split(":")
    return int(hours) * 60 + int(mins)


def test_every_team_day_fits_the_limit_and_the_schedule_is_recorded(tx, tmp_path):
    rules = DayRules(hours_per_day=9, village_min=20, household_min=10, day_start="07:30")
    report = service.draw_plan(tx, seed003(townships=("宣和镇", "永康镇")), seed="days", teams=2, rules=rules,
                               solver_seconds=1.0)
    record = service.load_record(tx, report.plan_id)
    seen = []
    for team in record.teams:
        assert team["days"], "every team has days"
        assert team["longest_day_hours"] <= 9
        for day in team["days"]:
            assert day["start"] == "07:30" and day["hours"] <= 9
            assert minutes(day["end"]) - minutes(day["start"]) <= 9 * 60 + 1
            arrivals = [minutes(s["arrive"]) for s in day["stops"]]
            assert arrivals == sorted(arrivals) and [s["stop"] for s in day["stops"]] == list(range(1, len(arrivals) + 1))
            for s in day["stops"]:
                assert minutes(s["leave"]) - minutes(s["arrive"]) >= 20 + 10 * s["households"] - 1
            seen += [s["village_key"] for s in day["stops"]]
    assert sorted(seen) == sorted(record.villages["village_key"])
    # the visiting order of the villages runs through the days
    by_key = record.villages.set_index("village_key")
    for team in record.teams:
        order = [int(by_key.at[s["village_key"], "visit_order"]) for d in team["days"] for s in d["stops"]]
        assert order == list(range(1, len(order) + 1))
    path = tmp_path / "plan.xlsx"
    service.export_plan(tx, report.plan_id, path, fmt="xlsx")
    sheet = load_workbook(path)["日程"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:8] == ("检查组", "第几天", "站序", "乡镇", "行政村", "抽查户数", "到达", "离开")
    assert len(rows) - 1 == len(record.villages)


def test_a_day_shorter_than_one_visit_or_too_few_days_are_refused_and_nothing_is_written(tx):
    plans = len(service.list_plans(tx))
    with pytest.raises(ValidationError, match=r"--hours-per-day 1: a day is shorter than one visit \(.+村: .* h in "
                                              r"the village.*nothing was drawn"):
        service.draw_plan(tx, seed003(townships=("永康镇",)), seed="short", rules=DayRules(hours_per_day=1))
    with pytest.raises(ValidationError, match=r"villages do not fit in 1 team\(s\) × 1 day\(s\) of 8 h"):
        service.draw_plan(tx, seed003(townships=("永康镇",)), seed="short", rules=DayRules(days=1),
                          solver_seconds=0.5)
    assert len(service.list_plans(tx)) == plans


def test_a_frame_drawn_as_recorded_after_the_registry_changed_says_what_changed(tx):
    fixed = service.record_frame(tx, seed003(townships=("永康镇",)))
    registry = storage.read_layer(tx, "households", columns=["code", "village_id", "status"], with_names=False)
    villages = storage.read_layer(tx, "villages", columns=["township_id"])
    ours = registry[registry["village_id"].isin(villages[villages["township_name"] == "永康镇"]["id"])]
    victim = ours[ours["status"] == "non_poor"].iloc[0]
    storage.write_layer(tx, "households", pd.DataFrame({"id": [int(victim["id"])], "status": ["registered"],
                                                        "status_year": [None]}))
    with pytest.raises(Conflict, match=r"Draw it as recorded \(--as-recorded"):
        service.draw_plan(tx, None, seed="r", frame_id=fixed.frame_id, use_roads=False)
    report = service.draw_plan(tx, None, seed="r", frame_id=fixed.frame_id, as_recorded=True, use_roads=False,
                               solver_seconds=0.5)
    assert report.as_recorded and report.frame_hash == fixed.frame_hash
    change = f"household re-stratified: {victim['code']} non_poor -> registered (status non_poor -> registered)"
    assert report.registry_changes == [change]
    verified = service.verify_plan(tx, report.plan_id)
    assert verified.record_ok and not verified.frame_unchanged and not verified.ok
    # the seed is drawn once from that frame, as recorded or not
    with pytest.raises(Conflict, match="seed 'r' was already drawn from this frame"):
        service.draw_plan(tx, None, seed="r", frame_id=fixed.frame_id, as_recorded=True, name="again")
    with pytest.raises(ValidationError, match="--as-recorded draws from a recorded frame; give --frame ID"):
        service.draw_plan(tx, seed003(townships=("永康镇",)), seed="r2", as_recorded=True)
    assert json.loads(store.read_draw(tx, report.plan_id)["routes_json"])[0]["days"]
