"""The Shapotou District demo dataset: build it (:func:`build_demo`) and load it (:func:`load_demo`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from geo import storage
from geo.audit import Actor
from geo.demo.build import COUNTY, Demo, build_demo
from geo.demo.monitoring import SYNTHETIC, monitoring_plan
from geo.layers import get_layer
from geo.storage import Bind, WriteResult

__all__ = ["Demo", "build_demo", "load_demo"]


def _ids(frame: pd.DataFrame, result: WriteResult, *columns: str) -> dict:
    keys = frame[list(columns)].itertuples(index=False, name=None)
    return {(k[0] if len(columns) == 1 else k): i for k, i in zip(keys, result.ids)}


def load_demo(bind: Bind, demo_dir: Path | None = None) -> dict[str, WriteResult]:
    """Load the demo dataset in one transaction. Idempotent: a second load changes nothing.

    Parameters
    ----------
    bind
        Engine or connection of a database whose schema is current (``atlas db upgrade``).
    demo_dir
        Folder with the demo files; defaults to the settings' ``demo_dir`` (``data/``).

    Returns
    -------
    dict
        Layer name -> :class:`~geo.storage.WriteResult`.
    """
    if demo_dir is None:
        from geo.settings import get_settings

        demo_dir = get_settings().demo_dir
    demo = build_demo(Path(demo_dir))
    results: dict[str, WriteResult] = {}
    with storage.connect(bind) as conn:
        def write(layer: str, frame: pd.DataFrame) -> WriteResult:
            # the demo frames carry township_name to find villages; drop it where it is no label
            if "township_name" in frame and "township_name" not in {n.label for n in get_layer(layer).names}:
                frame = frame.drop(columns=["township_name"])
            results[layer] = storage.write_layer(conn, layer, frame)
            return results[layer]

        county = _ids(demo.areas, write("areas", demo.areas), "code")[COUNTY[0]]
        townships = demo.townships.assign(county_id=county)
        towns = _ids(townships, write("townships", townships), "name")
        villages = demo.villages.assign(township_id=demo.villages["township_name"].map(towns))
        village_ids = _ids(villages, write("villages", villages), "township_name", "name")

        def village_id(frame: pd.DataFrame) -> pd.Series:
            keys = list(zip(frame["township_name"], frame["village_name"]))
            return pd.Series([village_ids[k] for k in keys], index=frame.index)

        unit_ids = _ids(demo.units, write("units", demo.units), "name")
        write("pairings", demo.pairings.assign(unit_id=demo.pairings["unit_name"].map(unit_ids),
                                               village_id=village_id(demo.pairings)))
        teams = demo.work_teams.assign(village_id=village_id(demo.work_teams),
                                       leader_unit_id=demo.work_teams["leader_unit_name"].map(unit_ids))
        write("work_teams", teams)

        settlements = demo.settlements.assign(village_id=village_id(demo.settlements))
        settlement_ids = _ids(settlements, write("settlements", settlements), "village_id", "name")
        cadres = demo.cadres.assign(unit_id=demo.cadres["unit_name"].map(unit_ids))
        cadre_ids = _ids(cadres, write("cadres", cadres.drop(columns=["unit_name"])), "code")

        households = demo.households.assign(village_id=village_id(demo.households))
        households["settlement_id"] = [
            settlement_ids[(v, s)] for v, s in zip(households["village_id"], households["settlement_name"])
        ]
        households["cadre_id"] = households["cadre_code"].map(cadre_ids).astype("Int64")
        household_ids = _ids(households, write("households", households.drop(columns=["cadre_code"])), "code")

        write("roads", demo.roads)

        water = demo.water_facilities.assign(village_id=village_id(demo.water_facilities))
        water_ids = write("water_facilities", water.drop(columns=["served"])).ids
        links = [{"facility_id": fid, "village_id": village_ids[k]}
                 for fid, served in zip(water_ids, water["served"]) for k in served]
        storage.write_links(conn, "water_facility_villages", pd.DataFrame(links))

        pv = demo.pv_projects.assign(village_id=village_id(demo.pv_projects))
        pv_ids = write("pv_projects", pv.drop(columns=["beneficiaries"])).ids
        storage.write_links(conn, "pv_project_villages", pd.DataFrame(
            [{"project_id": pid, "village_id": village_ids[k]}
             for pid, b in zip(pv_ids, pv["beneficiaries"]) for k in b["villages"]]))
        storage.write_links(conn, "pv_project_households", pd.DataFrame(
            [{"project_id": pid, "household_id": household_ids[c]}
             for pid, b in zip(pv_ids, pv["beneficiaries"]) for c in b["households"]]))

        projects = demo.projects.assign(village_id=village_id(demo.projects),
                                        unit_id=demo.projects["unit_name"].map(unit_ids))
        write("projects", projects)
        inputs = demo.unit_inputs.assign(village_id=village_id(demo.unit_inputs),
                                         unit_id=demo.unit_inputs["unit_name"].map(unit_ids))
        write("unit_inputs", inputs)
        load_monitoring(conn, households)
    return results


def load_monitoring(bind: Bind, households: pd.DataFrame, *, today: dt.date | None = None) -> int:
    """The demo's synthetic monitoring cases (:mod:`geo.demo.monitoring`), taken through the
    workflow's service; none when the demo's cases are there already (a second load changes
    nothing). Returns the number of cases written."""
    from geo.services import monitoring

    if (storage.monitoring.read_cases(bind)["source"] == SYNTHETIC).any():
        return 0
    today = today or dt.date.today()
    actor = Actor("demo")
    plan = monitoring_plan(households, today=today)
    for case in plan:
        row = monitoring.record_lead(bind, household_code=case.household_code, channel=case.channel,
                                     received_on=case.received_on, risk_type=case.risk, actor=actor, today=today,
                                     source=SYNTHETIC, note="演示用合成线索", department="医保局" if
                                     case.channel == "department" else None,
                                     out_of_pocket_yuan=case.out_of_pocket_yuan or None)
        measures = list(case.measures)
        for step, day, until in case.steps:
            while measures and measures[0][1] <= day:
                kind, on, amount = measures.pop(0)
                monitoring.add_measure(bind, row["code"], kind=kind, on=on, amount_yuan=amount, actor=actor,
                                       today=today, source=SYNTHETIC, note="演示用合成措施")
            figures = {} if step != "check" else {
                "category": case.category, "risk_types": [case.risk],
                "income_per_person_yuan": case.income_per_person_yuan,
                "out_of_pocket_yuan": case.out_of_pocket_yuan,
                "assured": {"assured_education": True, "assured_medical": True, "assured_housing": case.risk != "disaster",
                            "safe_water": True}}
            monitoring.advance_case(bind, row["code"], step, on=day, until=until, by="演示数据", actor=actor,
                                    today=today, note="演示用合成数据", **figures)
        for kind, on, amount in measures:
            monitoring.add_measure(bind, row["code"], kind=kind, on=on, amount_yuan=amount, actor=actor, today=today,
                                   source=SYNTHETIC, note="演示用合成措施")
    return len(plan)
