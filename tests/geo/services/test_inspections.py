"""Draws recorded in real SpatiaLite and PostGIS databases holding the demo data: quotas,
scope, reproducibility, verification after an edit, and routes on the demo roads."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import storage
from geo.enums import RouteMethod
from geo.errors import Conflict, NotFound, ValidationError
from geo.inspection.draw import draw_sample
from geo.inspection.plans import load_plan, with_overrides
from geo.inspection.tours import leg_distances, path_cost
from geo.services import inspections as service

START = Point(105.19, 37.51)


def seed003(**overrides):
    return with_overrides(load_plan("seed003", year=2019), **overrides)


def test_a_seed003_draw_meets_quotas_records_shortfalls_and_keeps_geometry(tx):
    report = service.draw_plan(tx, seed003(townships=("宣和镇", "永康镇")), seed="2019-11-05 第37号", teams=2)
    record = service.load_record(tx, report.plan_id)
    households = storage.read_layer(tx, "households", columns=["code", "village_id", "status", "status_year"])
    villages = storage.read_layer(tx, "villages", columns=["name", "township_id"])
    assert set(record.villages["township_name"]) == {"宣和镇", "永康镇"}
    assert len(record.villages) == int(villages["township_name"].isin(["宣和镇", "永康镇"]).sum()) == 12
    drawn = record.households
    assert drawn["household_code"].is_unique
    assert len(drawn) == report.households == 120 - int(report.shortfalls()["shortfall"].sum())
    # wherever a village's frame allows, its quota is met exactly
    tallies = record.sample.tallies
    full = tallies[tallies["available"] >= tallies["wanted"]]
    assert (full["drawn"] == full["wanted"]).all()
    short = tallies[tallies["available"] < tallies["wanted"]]
    assert (short["drawn"] == short["available"]).all() and (short["shortfall"] > 0).all()
    # stored snapshot agrees with the registry, geometry kept
    registry = households.set_index("code")
    for row in drawn.itertuples():
        assert registry.at[row.household_code, "status"] == row.status
        assert row.geometry.equals_exact(registry.at[row.household_code, "geometry"], 1e-9)
    assert record.villages.geometry.notna().all()
    assert sorted(set(record.villages["team"])) == [1, 2]
    for team in (1, 2):
        orders = sorted(record.villages.loc[record.villages["team"] == team, "visit_order"])
        assert orders == list(range(1, len(orders) + 1))


def test_same_seed_same_sample_other_seed_other_sample(tx):
    spec = seed003(townships=("迎水桥镇",))
    first = service.draw_plan(tx, spec, seed="A-1")
    # the same seed on the same frame gives the same sample; drawing it a second time is refused
    frame, _, _ = service.current_frame(tx, spec)
    assert draw_sample(spec, frame, "A-1").hash == first.result_hash
    with pytest.raises(Conflict, match=r"seed 'A-1' was already drawn from this frame .* as plan \d+; a seed is "
                                       "announced once"):
        service.draw_plan(tx, with_overrides(spec, name="the same again"), seed="A-1")
    other = service.draw_plan(tx, with_overrides(spec, name="another seed"), seed="A-2")
    assert first.frame_hash == other.frame_hash
    a = set(service.load_record(tx, first.plan_id).households["household_code"])
    c = set(service.load_record(tx, other.plan_id).households["household_code"])
    assert a != c and other.result_hash != first.result_hash
    # the same seed over another frame (another scope) is another draw
    service.draw_plan(tx, seed003(townships=("东园镇",), name="东园镇 A-1"), seed="A-1")


def test_a_draw_is_never_replaced(tx):
    spec = seed003(townships=("东园镇",), name="东园镇检查")
    service.draw_plan(tx, spec, seed="x")
    with pytest.raises(Conflict, match="already drawn.*never replaced"):
        service.draw_plan(tx, spec, seed="y")


def test_verify_passes_then_names_the_household_whose_status_was_edited(tx):
    report = service.draw_plan(tx, seed003(townships=("常乐镇",)), seed="verify me")
    ok = service.verify_plan(tx, report.plan_id)
    assert ok.ok and ok.record_ok and ok.frame_unchanged and ok.same_sample
    record = service.load_record(tx, report.plan_id)
    victim = record.households[record.households["stratum"] == "registered"].sort_values("household_code").iloc[0]
    storage.write_layer(tx, "households", pd.DataFrame(
        {"id": [int(victim["household_id"])], "status": ["exited"], "status_year": [2017]}))
    changed = service.verify_plan(tx, report.plan_id)
    assert not changed.ok and changed.record_ok and not changed.frame_unchanged
    assert changed.frame_changes["households_restratified"] == [{
        "household_code": victim["household_code"], "from": "registered", "to": "exited_earlier",
        "status_from": "registered", "status_to": "exited 2017"}]
    text = "\n".join(changed.describe())
    assert f"household re-stratified: {victim['household_code']} registered -> exited_earlier" in text
    assert victim["household_code"] in changed.sample_changes["households_out"]
    assert not changed.same_sample


def test_verify_detects_an_altered_record(tx, inspect_engine):
    report = service.draw_plan(tx, seed003(townships=("东园镇",)), seed="tamper")
    from geo.storage import inspection as store

    stored = json.loads(store.read_draw(tx, report.plan_id)["result_json"])
    stored["households"][0][0] = "DEMO-99-9999"
    tx.execute(store.DRAWS.update().where(store.DRAWS.c.plan_id == report.plan_id)
               .values(result_json=json.dumps(stored), result_hash="0" * 64))
    result = service.verify_plan(tx, report.plan_id)
    assert not result.record_ok and not result.ok
    assert "RECORD ALTERED" in "\n".join(result.describe())


def test_bad_scopes_are_refused_with_clear_messages(tx):
    before = len(service.list_plans(tx))  # other tests of this session may have committed plans
    with pytest.raises(ValidationError, match="scope selects no villages.*非贫困村"):
        service.draw_plan(tx, seed003(categories=("non_poor",)), seed="s")
    with pytest.raises(NotFound, match="no township '火星镇'.*Townships: "):
        service.draw_plan(tx, seed003(townships=("火星镇",)), seed="s")
    with pytest.raises(NotFound, match="excluded village '无名村' is not in the registry"):
        service.draw_plan(tx, seed003(exclude_villages=("无名村",)), seed="s")
    with pytest.raises(ValidationError, match=r"exited_last_year \(2029年退出户\): the quota of 2 is larger than the frame"):
        service.draw_plan(tx, with_overrides(load_plan("seed003", year=2030), townships=("东园镇",)), seed="s")
    assert len(service.list_plans(tx)) == before  # nothing was recorded by the refused draws


def test_excluded_villages_are_left_out(tx):
    report = service.draw_plan(tx, seed003(townships=("迎水桥镇",), exclude_villages=("迎水桥镇/孟家湾村",)),
                               seed="s")
    names = set(service.load_record(tx, report.plan_id).villages["village_name"])
    assert "孟家湾村" not in names and len(names) == 5


def test_the_demo_route_is_shorter_than_the_sampled_order_and_a_random_order(tx):
    report = service.draw_plan(tx, seed003(), seed="route test", teams=1, start=START)
    record = service.load_record(tx, report.plan_id)
    assert report.route_method in (RouteMethod.ROAD_NETWORK, RouteMethod.MIXED)
    villages = record.villages  # in visiting order
    points = gpd.GeoSeries([START, *villages.geometry.to_numpy()], crs=4326)
    roads = storage.read_layer(tx, "roads", columns=["surface"])
    d = leg_distances(points, roads=roads)
    routed = path_cost(list(range(len(points))), d.time_s)
    key_position = {k: i + 1 for i, k in enumerate(villages["village_key"])}
    sampled = [0] + [key_position[k] for k in record.sample.villages]
    random_order = [0] + list(np.random.default_rng(1).permutation(np.arange(1, len(points))))
    assert routed < path_cost(sampled, d.time_s)
    assert routed < path_cost(random_order, d.time_s)
    assert report.route_km == pytest.approx(villages["leg_km"].sum(), rel=1e-6)
    assert report.route_km < path_cost(random_order, d.length_m) / 1000


def test_teams_split_by_township_and_report_km(tx):
    report = service.draw_plan(tx, seed003(), seed="teams", teams=3, return_to_start=True)
    record = service.load_record(tx, report.plan_id)
    # the solver shares the villages for short, balanced routes (townships may be split)
    assert sorted(record.villages["village_key"]) == sorted(record.sample.villages)
    assert [t["team"] for t in record.teams] == [1, 2, 3]
    assert all(t["length_km"] > 0 and t["return_leg"] and t["days"] for t in record.teams)
    loads = [t["work_hours"] for t in record.teams]
    assert max(loads) <= 1.5 * min(loads)
    assert sum(t["length_km"] for t in record.teams) == pytest.approx(report.route_km, rel=1e-3)
