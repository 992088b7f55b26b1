"""The project library on the registry, both backends: a project followed from the village's
proposal to the asset it leaves (linked to its PV station's ledger), every refused step
writing nothing, candidates from the priority ranking added once, and the asset ledger's
XLSX with its Chinese headers and rows."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from geo import storage
from geo.audit import Actor
from geo.db import make_engine
from geo.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationError
from geo.library.assets import ASSET_HEADERS, NOT_AN_ASSET, PV_HEADERS
from geo.services import library
from geo.services.library import AssetInput

ACTOR = Actor("t_planner", None)
STATION = "DEMO-PV051"  # 罗泉村村级光伏电站
SEAT_GAP = "行政村未经硬化路连通乡镇驻地"


@pytest.fixture(scope="module")
def engine(databases):
    engine = make_engine(databases.demo_url())
    yield engine
    engine.dispose()


def _propose(engine, name: str, **options) -> dict:
    return library.propose(engine, name=name, kind=options.pop("kind", "other"), village="常乐镇/罗泉村",
                           targets={"performance_targets": "建成村级光伏电站一座"}, on="2026-03-01", actor=ACTOR,
                           **options)


def _snapshot(engine, code: str) -> tuple:
    row = library.get_project(engine, code)
    return row["version"], row["stage"], row["status"], len(row["history"]), row["asset"]


def test_a_project_goes_from_the_villages_proposal_to_an_asset_linked_to_its_pv_station(engine):
    storage.pv_ledger.upsert_years(engine, [
        {"project_id": storage.pv_ledger.project_ids(engine, [STATION])[STATION], "year": 2025,
         "generation_kwh": 420_000.0, "income_yuan": 273_000.0, "households_yuan": 27_300.0,
         "public_posts_yuan": 163_800.0, "posts": 27, "public_works_yuan": 54_600.0, "operator_yuan": 27_300.0,
         "note": None}], source="test")
    row = _propose(engine, "罗泉村村级光伏电站（项目库）", funds_wan_yuan=180.0, code="T-PV-1")
    assert (row["stage"], row["status"], row["version"]) == ("proposed", "planned", 1)
    for step, day, stage, status in (("review", "2026-03-05", "reviewed", "planned"),
                                     ("approve", "2026-03-20", "approved", "planned"),
                                     ("start", "2026-04-01", "in_progress", "building"),
                                     ("complete", "2026-09-30", "completed", "completed")):
        row = library.advance(engine, "T-PV-1", step, on=day, version=row["version"], actor=ACTOR)
        assert (row["stage"], row["status"]) == (stage, status)
    row = library.advance(engine, "T-PV-1", "handover", on="2026-10-15", version=row["version"], actor=ACTOR,
                          asset=AssetInput(asset_class="经营性", owner="罗泉村股份经济合作社", maintainer="罗泉村村委会",
                                           pv_station=STATION))
    assert (row["stage"], row["status"], row["version"]) == ("handed_over", "completed", 6)
    assert [(e["step"], str(e["event_date"])[:10], e["actor"]) for e in row["history"]] == [
        ("propose", "2026-03-01", "t_planner"), ("review", "2026-03-05", "t_planner"),
        ("approve", "2026-03-20", "t_planner"), ("start", "2026-04-01", "t_planner"),
        ("complete", "2026-09-30", "t_planner"), ("handover", "2026-10-15", "t_planner")]
    assert row["history"][1]["office"] == "乡镇人民政府"
    asset = row["asset"]
    assert (asset["code"], asset["asset_class"], asset["owner"], asset["pv_code"], asset["value_wan_yuan"]) == \
        ("ZC-T-PV-1", "operating", "罗泉村股份经济合作社", STATION, 180.0)
    listed = library.list_assets(engine)
    mine = listed[listed["code"] == "ZC-T-PV-1"].iloc[0]
    assert (int(mine["ledger_year"]), mine["income_yuan"], int(mine["posts"])) == (2025, 273_000.0, 27)
    actions, _ = storage.audit.read_entries(engine, layer="projects", row_id=row["id"], limit=20)
    assert {e["action"] for e in actions} >= {"create", "review", "approve", "start", "complete", "handover"}
    assert storage.audit.read_entries(engine, layer="assets", limit=5)[0][0]["after"]["owner"] == "罗泉村股份经济合作社"
    with pytest.raises(ValidationError, match="the pipeline has ended"):
        library.advance(engine, "T-PV-1", "complete", actor=ACTOR)


def test_refused_steps_write_nothing(engine):
    row = _propose(engine, "拒绝测试项目", code="T-NO-1", kind="breeding")
    before = _snapshot(engine, "T-NO-1")
    with pytest.raises(ValidationError, match="is at 村级申报 .*the next step is review"):
        library.advance(engine, "T-NO-1", "approve", actor=ACTOR)
    row = library.advance(engine, "T-NO-1", "review", on="2026-03-02", actor=ACTOR)
    with pytest.raises(ValidationError, match="before the previous step"):
        library.advance(engine, "T-NO-1", "approve", on="2026-03-01", actor=ACTOR)
    with pytest.raises(ValidationError, match="联农带农"):
        library.advance(engine, "T-NO-1", "approve", on="2026-03-03", actor=ACTOR)
    with pytest.raises(StaleVersion):
        library.advance(engine, "T-NO-1", "approve", on="2026-03-03", version=row["version"] - 1, actor=ACTOR,
                        targets={"benefit_mechanism": "务工", "benefit_households": 12})
    with pytest.raises(Forbidden, match="county"):
        library.advance(engine, "T-NO-1", "approve", on="2026-03-03", actor=ACTOR, township=[1],
                        targets={"benefit_mechanism": "务工", "benefit_households": 12})
    assert _snapshot(engine, "T-NO-1") == (before[0] + 1, "reviewed", "planned", 2, None)
    with pytest.raises(NotFound, match="no project 'T-NOPE'"):
        library.advance(engine, "T-NOPE", "review", actor=ACTOR)
    with pytest.raises(NotFound, match="village .不存在村. not found"):
        library.propose(engine, name="x", kind="road", village="不存在村", actor=ACTOR)


def test_a_handover_without_class_owner_or_a_known_station_writes_nothing(engine):
    _propose(engine, "移交测试项目", code="T-HO-1", funds_wan_yuan=20.0)
    for step, day in (("review", "2026-03-02"), ("approve", "2026-03-03"), ("start", "2026-03-04"),
                      ("complete", "2026-03-05")):
        library.advance(engine, "T-HO-1", step, on=day, actor=ACTOR)
    before = _snapshot(engine, "T-HO-1")
    assets_before = len(library.list_assets(engine))
    with pytest.raises(ValidationError, match="without its class .*its owner"):
        library.advance(engine, "T-HO-1", "handover", actor=ACTOR, asset=AssetInput(maintainer="村委会"))
    with pytest.raises(NotFound, match="no PV station 'DEMO-PV999'"):
        library.advance(engine, "T-HO-1", "handover", actor=ACTOR,
                        asset=AssetInput(asset_class="公益性", owner="村集体", maintainer="村委会", pv_station="DEMO-PV999"))
    taken = library.list_assets(engine)["pv_code"].dropna()
    if len(taken):  # the first test's station is one asset already
        with pytest.raises(Conflict, match="already the asset"):
            library.advance(engine, "T-HO-1", "handover", actor=ACTOR, asset=AssetInput(
                asset_class="公益性", owner="村集体", maintainer="村委会", pv_station=taken.iloc[0]))
    assert _snapshot(engine, "T-HO-1") == before and len(library.list_assets(engine)) == assets_before
    row = library.advance(engine, "T-HO-1", "handover", actor=ACTOR, on=dt.date(2026, 3, 6),
                          asset=AssetInput(asset_class="public_welfare", owner="村集体", maintainer="村委会"))
    assert row["asset"]["pv_code"] is None and row["asset"]["value_wan_yuan"] == 20.0


def test_priority_candidates_are_proposed_once(engine):
    first = library.propose_from_priority(engine, kind="road", top=3, actor=ACTOR)
    assert first.created and len(first.created) + len(first.skipped) == 3
    again = library.propose_from_priority(engine, kind="road", top=3, actor=ACTOR)
    assert again.created == [] and {s["code"] for s in again.skipped} >= {c["code"] for c in first.created}
    made = library.get_project(engine, first.created[0]["code"])
    assert made["stage"] == "proposed" and made["kind"] == "road" and made["source"] == "priority:road"
    assert made["geometry"].geom_type in ("LineString", "MultiLineString") and made["quantity_unit"] == "km"
    assert made["funds_wan_yuan"] > 0 and "公里" in made["performance_targets"]
    assert made["history"][0]["note"].startswith("道路项目优先排序第")
    wells = library.propose_from_priority(engine, kind="water", top=2, cost_wan_yuan_per_supply_point=20.0,
                                          actor=ACTOR)
    assert all(c["code"].startswith("CAND-WELL-") for c in wells.created)
    assert library.propose_from_priority(engine, kind="water", top=2, actor=ACTOR).created == []
    with pytest.raises(ValidationError, match="road or water"):
        library.propose_from_priority(engine, kind="pv", actor=ACTOR)


def test_a_completed_candidate_closes_the_villages_seat_connection_gap(engine):
    from geo.services.analyses import run_analysis

    library.propose_from_priority(engine, kind="road", top=3, actor=ACTOR)  # the tests share no state
    candidates = library.list_projects(engine)
    candidates = candidates[candidates["source"] == "priority:road"]
    chosen = [c for c in candidates["code"] if SEAT_GAP in library.get_project(engine, c)["history"][0]["note"]]
    assert chosen, "the top road candidates of the demo include a village not joined to its seat"
    code = chosen[0]
    village = int(candidates.set_index("code").at[code, "village_id"])
    before = run_analysis(engine, "priority", kind="road").tables["ranking"].set_index("village_id").loc[village]
    assert SEAT_GAP in before["reason"]
    for step in ("review", "approve", "start", "complete"):
        library.advance(engine, code, step, actor=ACTOR)
    after = run_analysis(engine, "priority", kind="road").tables["ranking"].set_index("village_id").loc[village]
    assert SEAT_GAP not in after["reason"] and after["unmet_population"] < before["unmet_population"]


def test_the_asset_ledger_xlsx_has_its_chinese_headers_and_every_row(engine):
    station = "DEMO-PV054"  # 新水村村级光伏电站
    storage.pv_ledger.upsert_years(engine, [
        {"project_id": storage.pv_ledger.project_ids(engine, [station])[station], "year": year,
         "generation_kwh": 400_000.0 + year, "income_yuan": 260_000.0, "households_yuan": 26_000.0,
         "public_posts_yuan": 156_000.0, "posts": 26, "public_works_yuan": 52_000.0, "operator_yuan": 26_000.0,
         "note": None} for year in (2024, 2025)], source="test")
    library.propose(engine, name="新水村村级光伏电站（项目库）", kind="other", village="新水村", code="T-XL-1",
                    funds_wan_yuan=150.0, targets={"performance_targets": "建成村级光伏电站"}, on="2026-03-01",
                    actor=ACTOR)
    for step in ("review", "approve", "start", "complete"):
        library.advance(engine, "T-XL-1", step, on="2026-04-01", actor=ACTOR)
    library.advance(engine, "T-XL-1", "handover", on="2026-05-01", actor=ACTOR, asset=AssetInput(
        asset_class="经营性", owner="新水村股份经济合作社", maintainer="新水村村委会", pv_station=station))
    book = openpyxl.load_workbook(io.BytesIO(library.asset_ledger_xlsx(engine)))
    assert book.sheetnames == ["资产台账", "光伏电站资产", "说明"]
    assets = list(book["资产台账"].iter_rows(values_only=True))
    assert list(assets[0]) == list(ASSET_HEADERS.values())
    assert len(assets) - 1 == len(library.list_assets(engine))
    mine = {r[0]: dict(zip(assets[0], r)) for r in assets[1:]}["ZC-T-XL-1"]
    assert (mine["资产类别"], mine["所有权人"], mine["资产价值(万元)"], str(mine["移交日期"])[:10]) == \
        ("经营性", "新水村股份经济合作社", 150, "2026-05-01")
    assert (mine["光伏电站编号"], mine["台账年度"], mine["发电量(kWh)"], mine["公益岗位数"]) == (station, 2025, 402025, 26)
    stations = list(book["光伏电站资产"].iter_rows(values_only=True))
    assert list(stations[0]) == list(PV_HEADERS.values())
    assert len(stations) - 1 == len(storage.read_layer(engine, "pv_projects"))
    by_station = {r[0]: dict(zip(PV_HEADERS, r)) for r in stations[1:]}
    assert (by_station[station]["asset_code"], by_station[station]["ledger_year"]) == ("ZC-T-XL-1", 2025)
    linked = set(library.list_assets(engine)["pv_code"].dropna())
    assert all(row["asset_code"] == NOT_AN_ASSET for code, row in by_station.items() if code not in linked)
    notes = [r[0] for r in book["说明"].iter_rows(values_only=True)]
    assert any("合成数据" in str(n) for n in notes)  # the demo's stations are synthetic, and say so


def test_the_village_dossier_shows_each_projects_stage(engine):
    from geo.services.dossier import village_dossier
    from maps.dossier import dossier_html

    _propose(engine, "档案阶段测试", code="T-DOS-1")
    library.advance(engine, "T-DOS-1", "review", on="2026-03-09", actor=ACTOR)
    dossier = village_dossier(engine, "常乐镇/罗泉村")
    mine = {p["name"]: p for p in dossier.projects}
    assert (mine["档案阶段测试"]["stage_label"], str(mine["档案阶段测试"]["stage_date"])[:10]) == ("乡镇审核", "2026-03-09")
    html = dossier_html(dossier)
    assert "项目库阶段" in html and "乡镇审核（2026-03-09）" in html
