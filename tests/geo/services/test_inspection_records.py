"""Tamper-evident draw records on real SpatiaLite and PostGIS: every stored part of a draw is
checked against the others, and the records form a chain, so an edit, a swapped row or a
deleted plan is named by ``verify``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo import storage
from geo.errors import Conflict, NotFound, ValidationError
from geo.storage import inspection as store
from geo.inspection.draw import ALGORITHM, GENESIS, draw_sample, record_hash, sha256_hex
from geo.inspection.plans import load_plan, with_overrides
from geo.services import inspections as service


def _draw(tx, township="东园镇", seed="record", name=None):
    spec = with_overrides(load_plan("seed003", year=2019), townships=(township,), name=name)
    return service.draw_plan(tx, spec, seed=seed, use_roads=False)


def _set_draw(tx, plan_id, **values):
    tx.execute(store.DRAWS.update().where(store.DRAWS.c.plan_id == plan_id).values(**values))


def test_a_fresh_draw_verifies_and_is_chained_to_the_record_before_it(tx):
    before = store.last_record_hash(tx)
    report = _draw(tx)
    draw = store.read_draw(tx, report.plan_id)
    assert draw["algorithm"] == ALGORITHM == "atlas-sample/2"
    assert draw["prev_hash"] == (before or GENESIS) and draw["record_hash"] == report.record_hash
    plan = store.find_plan(tx, report.plan_id)
    assert draw["record_hash"] == record_hash(
        plan_id=report.plan_id, name=plan["name"], seed=draw["seed"], algorithm=draw["algorithm"],
        spec_json=plan["spec_json"], frame_hash=draw["frame_hash"], result_hash=draw["result_hash"],
        frame_json=draw["frame_json"], result_json=draw["result_json"], prev_hash=draw["prev_hash"])
    assert sha256_hex(draw["result_json"]) == draw["result_hash"]
    result = service.verify_plan(tx, report.plan_id)
    assert result.ok and result.differences == [] and result.as_dict()["verified"] is True
    assert "stored record consistent" in "\n".join(result.describe())
    assert "chain intact" in "\n".join(result.describe())


def test_a_household_row_swapped_for_another_of_the_same_village_is_named(tx):
    report = _draw(tx)
    rows = store.read_sampled_households(tx, report.plan_id)
    victim = rows.iloc[0]
    village = store.read_sampled_villages(tx, report.plan_id).set_index("id").loc[victim["sample_village_id"]]
    registry = storage.read_layer(tx, "households", columns=["code", "village_id"], with_names=False)
    others = registry[(registry["village_id"] == village["village_id"]) & ~registry["code"].isin(rows["household_code"])]
    other = others.iloc[0]
    tx.execute(store.HOUSEHOLDS.update().where(store.HOUSEHOLDS.c.id == int(victim["id"]))
               .values(household_code=other["code"], household_id=int(other["id"])))
    result = service.verify_plan(tx, report.plan_id)
    assert not result.ok and not result.record_ok
    assert f"household {victim['household_code']} of the stored result is missing from the sampled households" \
        in result.differences
    assert f"sampled household {other['code']} is not in the stored result" in result.differences
    assert result.redraw_ok  # the hashes alone still agree: only the rows betray the swap
    assert "STORED RECORD ALTERED" in "\n".join(result.describe())


def test_a_household_row_with_another_registry_id_or_stratum_is_named(tx):
    report = _draw(tx)
    victim = store.read_sampled_households(tx, report.plan_id).iloc[0]
    tx.execute(store.HOUSEHOLDS.update().where(store.HOUSEHOLDS.c.id == int(victim["id"]))
               .values(household_id=int(victim["household_id"]) + 1, stratum="non_poor"
                       if victim["stratum"] != "non_poor" else "registered"))
    differences = service.verify_plan(tx, report.plan_id).differences
    code = victim["household_code"]
    assert any(d.startswith(f"sampled household {code}: stored stratum ") for d in differences)
    assert any(d.startswith(f"sampled household {code}: registry id {int(victim['household_id']) + 1}, the frame says")
               for d in differences)


def test_a_village_row_edited_is_named(tx):
    report = _draw(tx)
    village = store.read_sampled_villages(tx, report.plan_id).iloc[0]
    tx.execute(store.VILLAGES.update().where(store.VILLAGES.c.id == int(village["id"]))
               .values(village_key="640502999999"))
    differences = service.verify_plan(tx, report.plan_id).differences
    assert f"village {village['village_key']} of the stored result is missing from the sampled villages" in differences
    assert "sampled village 640502999999 is not in the stored result" in differences


def test_the_result_json_edited_without_its_hash_is_named(tx):
    report = _draw(tx)
    stored = json.loads(store.read_draw(tx, report.plan_id)["result_json"])
    stored["households"][0][2] = "non_poor" if stored["households"][0][2] != "non_poor" else "registered"
    text = json.dumps(stored, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    _set_draw(tx, report.plan_id, result_json=text)
    result = service.verify_plan(tx, report.plan_id)
    assert not result.ok
    assert result.differences[0] == (f"stored result (result_json) hashes to {sha256_hex(text)}, not the recorded "
                                     f"result hash {report.result_hash}: the result was edited")
    assert any("record's contents hash to" in d for d in result.chain_differences)


def test_the_frame_json_edited_is_named_and_the_redraw_disagrees(tx):
    report = _draw(tx)
    frame = json.loads(store.read_draw(tx, report.plan_id)["frame_json"])
    frame["households"] = frame["households"][1:]  # one household dropped from the frame
    _set_draw(tx, report.plan_id, frame_json=json.dumps(frame, ensure_ascii=False))
    result = service.verify_plan(tx, report.plan_id)
    assert not result.ok
    assert any(d.startswith("stored frame (frame_json) hashes to ") and d.endswith("the frame was edited")
               for d in result.differences)


def test_result_and_hash_edited_together_are_caught_by_the_redraw_and_the_chain(tx):
    report = _draw(tx)
    stored = json.loads(store.read_draw(tx, report.plan_id)["result_json"])
    stored["households"][0][0] = "DEMO-99-9999"
    text = json.dumps(stored, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    _set_draw(tx, report.plan_id, result_json=text, result_hash=sha256_hex(text))
    result = service.verify_plan(tx, report.plan_id)
    assert not result.redraw_ok and not result.ok and result.chain_differences
    assert "RECORD ALTERED" in "\n".join(result.describe())


def test_a_deleted_plan_and_an_edited_record_break_the_chain_for_verify_all(tx):
    first = _draw(tx, seed="c1", name="chain 1")
    second = _draw(tx, seed="c2", name="chain 2")
    third = _draw(tx, seed="c3", name="chain 3")
    assert service.verify_all(tx).ok
    for table in (store.HOUSEHOLDS, store.VILLAGES, store.DRAWS):
        tx.execute(table.delete().where(table.c.plan_id == second.plan_id))
    tx.execute(store.PLANS.delete().where(store.PLANS.c.id == second.plan_id))
    chain = service.verify_all(tx)
    assert not chain.ok and chain.head_plan == third.plan_id and chain.head_hash == third.record_hash
    broken = {v.plan_id: v for v in chain.plans}
    assert broken[first.plan_id].ok
    assert broken[third.plan_id].chain_differences == [
        f"plan {third.plan_id} follows record {second.record_hash[:12]}…, but the record before it is plan "
        f"{first.plan_id}'s record ({first.record_hash[:12]}…): a record was deleted, reordered or edited"]
    assert any(d.startswith(f"plan {third.plan_id}: plan {third.plan_id} follows") for d in chain.as_dict()["differences"])
    # an edit of the first record's seed: its own hash and the next link both name it
    _set_draw(tx, first.plan_id, seed="c1 (edited)")
    again = {v.plan_id: v for v in service.verify_all(tx).plans}
    assert any("the record was edited" in d for d in again[first.plan_id].chain_differences)


def test_unknown_plans_are_refused(tx):
    with pytest.raises(NotFound, match="no inspection plan '999999'"):
        service.verify_plan(tx, 999999)


def test_the_2019_seed003_frame_draws_from_the_2017_to_2019_exits_and_reports_the_rest(tx):
    report = _draw(tx, township="宣和镇", seed="cohorts")
    record = service.load_record(tx, report.plan_id)
    frame = record.frame.households
    exited = frame[frame["status"] == "exited"]
    assert {2017, 2018, 2019} <= set(int(y) for y in exited["status_year"])
    strata = dict(zip(exited["status_year"], exited["stratum"]))
    assert (strata[2017], strata[2018], strata[2019]) == ("exited_earlier", "exited_last_year", "planned_this_year")
    drawn = record.households
    assert {"exited_earlier", "exited_last_year"} <= set(drawn["stratum"])
    # every household of the scope is either in the frame or counted outside it
    registry = storage.read_layer(tx, "households", columns=["village_id"], with_names=False)
    in_scope = registry["village_id"].isin(record.frame.villages["village_id"]).sum()
    outside = service.outside_records(record.frame)
    assert len(frame) + sum(o["households"] for o in outside) == in_scope
    assert report.outside == outside
    summary = service.plan_summary(record)
    assert summary["outside_frame"] == outside and summary["record_hash"] == report.record_hash
    assert "抽样框外农户(按状态和年份)" in summary["plan"]


# ---------------------------------------------------------------------- frame first


def _frame(tx, township="永康镇", name=None):
    spec = with_overrides(load_plan("seed003", year=2019), townships=(township,), name=name)
    return service.record_frame(tx, spec)


def test_a_frame_recorded_first_is_drawn_from_exactly_and_the_draw_names_it(tx):
    fixed = _frame(tx)
    assert fixed.frame_id > 0 and len(fixed.frame_hash) == 64 and fixed.name.endswith(fixed.frame_hash[:12])
    assert [r["stratum"] for r in fixed.strata] == ["exited_earlier", "exited_last_year", "planned_this_year",
                                                    "registered", "non_poor"]
    assert sum(r["households"] for r in fixed.strata) == fixed.households
    with pytest.raises(Conflict, match=f"already recorded \\(id {fixed.frame_id}\\).*--frame {fixed.frame_id}"):
        _frame(tx)  # the same frame again under its default name
    report = service.draw_plan(tx, None, seed="after the frame", frame_id=fixed.frame_id, name="先框后抽",
                               use_roads=False)
    assert report.frame_hash == fixed.frame_hash and report.frame_id == fixed.frame_id
    spec = with_overrides(load_plan("seed003", year=2019), townships=("永康镇",), name="直接抽")
    today, _, _ = service.current_frame(tx, spec)
    assert draw_sample(spec, today, "after the frame").hash == report.result_hash
    with pytest.raises(Conflict, match="seed 'after the frame' was already drawn from this frame"):
        service.draw_plan(tx, spec, seed="after the frame", use_roads=False)
    assert store.read_draw(tx, report.plan_id)["frame_id"] == fixed.frame_id
    assert service.verify_plan(tx, report.plan_id).ok
    assert dict(service.plan_notes(service.load_record(tx, report.plan_id), show_names=False))["抽样框记录"] \
        == f"先行记录的抽样框 {fixed.frame_id}"


def test_a_draw_from_a_frame_the_registry_no_longer_gives_is_refused_naming_the_change(tx):
    fixed = _frame(tx)
    registry = storage.read_layer(tx, "households", columns=["code", "village_id", "status"], with_names=False)
    villages = storage.read_layer(tx, "villages", columns=["township_id"])
    ours = registry[registry["village_id"].isin(villages[villages["township_name"] == "永康镇"]["id"])]
    victim = ours[ours["status"] == "registered"].iloc[0]
    storage.write_layer(tx, "households", pd.DataFrame({"id": [int(victim["id"])], "status": ["non_poor"],
                                                        "status_year": [None]}))
    plans = len(service.list_plans(tx))
    with pytest.raises(Conflict, match=f"no longer gives recorded frame {fixed.frame_id}.*household re-stratified: "
                                       f"{victim['code']} registered -> non_poor.*nothing was drawn"):
        service.draw_plan(tx, None, seed="s", frame_id=fixed.frame_id, use_roads=False)
    assert len(service.list_plans(tx)) == plans


def test_an_unknown_or_altered_frame_is_refused_and_nothing_is_written(tx):
    plans = len(service.list_plans(tx))
    with pytest.raises(NotFound, match="no recorded frame 999999; frames: "):
        service.draw_plan(tx, None, seed="s", frame_id=999999)
    fixed = _frame(tx)
    stored = json.loads(store.read_frame(tx, fixed.frame_id)["frame_json"])
    stored["households"] = stored["households"][1:]
    tx.execute(store.FRAMES.update().where(store.FRAMES.c.id == fixed.frame_id)
               .values(frame_json=json.dumps(stored, ensure_ascii=False)))
    with pytest.raises(ValidationError, match=f"recorded frame {fixed.frame_id} was altered: its stored frame hashes to"):
        service.draw_plan(tx, None, seed="s", frame_id=fixed.frame_id)
    assert len(service.list_plans(tx)) == plans
