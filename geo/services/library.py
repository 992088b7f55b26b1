"""The project library (项目库) on the registry: propose a project, move it through the
township's review, the county's approval, works and completion, hand it over as an asset;
list projects with their stage and history, list and export the assets; fill the library
with candidates from the priority ranking.

Every step is one transaction: the project row locked, its stage worked out from its events,
the step checked by :mod:`geo.library.pipeline`, the project changed with
:func:`geo.storage.versioned_update` (a stale version is refused), the event recorded and
the change audited. A refused step writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import audit, storage
from geo.analysis.catalog import analyze
from geo.audit import Actor
from geo.enums import ProjectKind, ProjectStage, ProjectStatus
from geo.errors import Conflict, Forbidden, NotFound, ValidationError
from geo.inspection.findings import parse_choice, parse_day
from geo.library import assets as asset_tables
from geo.library import candidates as cand
from geo.library.pipeline import (
    STATUS_OF_STAGE,
    STEPS,
    Step,
    check_asset,
    check_step,
    check_targets,
    current_stage,
    parse_step,
    with_stages,
)
from geo.services.analyses import load_inputs
from geo.services.dossier import find_village
from geo.storage import Bind
from geo.storage.types import row_id
from geo.tabular import xlsx_safe_frame

Township = Sequence[int] | None
PROJECTS = storage.get_layer("projects").table
#: Fields of a project the audit log and the answers show.
SHOWN = ("id", "code", "name", "kind", "village_id", "village_name", "unit_name", "year", "status", "stage",
         "stage_label", "stage_date", "next_step", "stage_note", "funds_wan_yuan", "quantity", "quantity_unit",
         "performance_targets", "benefit_households", "benefit_jobs", "benefit_income_yuan", "benefit_mechanism",
         "source", "version")
_AUDITED = ("code", "name", "kind", "village_id", "status", "stage", "funds_wan_yuan", "performance_targets", "benefit_households", "benefit_jobs", "benefit_income_yuan",
            "benefit_mechanism", "version")


def _day(value: dt.date | str | None, field_name: str = "on") -> dt.date:
    """The day of a step: ``value`` (a date or YYYY-MM-DD), default today."""
    return parse_day(dt.date.today() if value is None else value, field_name)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def project_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of :func:`list_projects` as plain dicts of the :data:`SHOWN` fields (JSON-ready)."""
    return [{k: _plain(r.get(k)) for k in SHOWN if k in r} for r in frame.to_dict("records")]


def asset_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of :func:`list_assets` as plain dicts (JSON-ready)."""
    return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]


# ------------------------------------------------------------------------------ reading


def _project_id(bind: Bind, project: int | str, township: Township) -> int:
    """The id of the project named by its code or id, within ``township``.

    Raises
    ------
    NotFound
        No such project (in the caller's townships).
    """
    key = str(project).strip()
    found = storage.read_layer(bind, "projects", where={"code": key}, township=township, columns=["code"])
    if found.empty and row_id(key) is not None:
        found = storage.read_layer(bind, "projects", ids=[row_id(key)], township=township, columns=["code"])
    if found.empty:
        where = "" if township is None else " in your townships"
        raise NotFound(f"no project {key!r}{where}; give its code or id (atlas projects list shows them)")
    return int(found["id"].iloc[0])


def list_projects(bind: Bind, *, township: Township = None, stage: str | None = None,
                  kind: str | None = None) -> gpd.GeoDataFrame:
    """The projects (of ``township``) with their stage (:func:`geo.library.pipeline.with_stages`),
    by code; ``stage`` and ``kind`` (values or Chinese labels) keep only those."""
    with storage.connect(bind) as conn:
        frame = storage.read_layer(conn, "projects", township=township)
        events = storage.library.read_events(conn, [int(i) for i in frame["id"]])
    frame = with_stages(frame, events)
    if stage is not None:
        frame = frame[frame["stage"] == parse_choice(ProjectStage, stage, "stage").value]
    if kind is not None:
        frame = frame[frame["kind"] == parse_choice(ProjectKind, kind, "kind").value]
    return frame.sort_values(["code", "id"], na_position="last").reset_index(drop=True)


def get_project(bind: Bind, project: int | str, *, township: Township = None) -> dict[str, Any]:
    """One project with its stage, its events (``history``) and its asset (``asset``, None
    before the hand-over).

    Raises
    ------
    NotFound
        No such project (in the caller's townships).
    """
    with storage.connect(bind) as conn:
        pid = _project_id(conn, project, township)
        frame = storage.read_layer(conn, "projects", ids=[pid])
        events = storage.library.read_events(conn, [pid])
        assets = storage.library.read_assets(conn, project_ids=[pid])
    row = with_stages(frame, events).iloc[0]
    out = {k: _plain(row.get(k)) for k in SHOWN if k in row}
    out["geometry"] = row.geometry
    out["history"] = [{k: _plain(v) for k, v in e.items() if k != "project_id"} for e in events.to_dict("records")]
    out["asset"] = {k: _plain(v) for k, v in assets.iloc[0].to_dict().items()} if len(assets) else None
    return out


# ------------------------------------------------------------------------------ steps


def _audited(row: Mapping[str, Any]) -> dict[str, Any]:
    return audit.snapshot({k: row.get(k) for k in _AUDITED if k in row})


def _event(conn, pid: int, step: Step, on: dt.date, actor: Actor | None, office: str | None, note: str | None) -> None:
    storage.library.insert_event(conn, {
        "project_id": pid, "step": step.name, "stage": step.target, "event_date": on,
        "actor": (actor.name if actor else "system")[:64], "user_id": actor.user_id if actor else None,
        "office": (office or step.office)[:200], "note": (note or "").strip() or None})


def _next_code(conn, year: int, village: Mapping[str, Any]) -> str:
    key = village.get("code") or f"V{int(village['id'])}"
    prefix = f"XM{year}-{key}-"
    taken = storage.library.codes_like(conn, prefix)
    numbers = [int(c[len(prefix):]) for c in taken if c[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"


def propose(bind: Bind, *, name: str, kind: str, village: str | int, year: int | None = None,
            code: str | None = None, funds_wan_yuan: float | None = None, quantity: float | None = None,
            quantity_unit: str | None = None, geometry=None, targets: Mapping[str, Any] | None = None,
            on: dt.date | str | None = None, office: str | None = None, note: str | None = None,
            actor: Actor | None = None, township: Township = None, source: str = "user") -> dict[str, Any]:
    """A new project proposed by its village (村级申报): stage proposed, status 计划.

    Parameters
    ----------
    name, kind
        The project's name and kind (value or Chinese label: road 道路建设, well 打机井 ...).
    village
        The village proposing it: name, ``township/name``, 12-digit code or id.
    year
        Its year (default the year of ``on``).
    code
        Its code (default ``XM<year>-<village code>-<n>``).
    funds_wan_yuan, quantity, quantity_unit
        Estimated funds [万元] and quantity (km, 眼, 个, 亩 ...).
    geometry
        Where (shapely, EPSG:4326): a road project's line closes a road gap once completed.
    targets
        绩效目标 and 联农带农 fields (``performance_targets``, ``benefit_households``,
        ``benefit_jobs``, ``benefit_income_yuan``, ``benefit_mechanism``).
    on
        The day it was proposed (default today).

    Raises
    ------
    NotFound
        An unknown village (in the caller's townships).
    ValidationError
        A missing name or kind, a bad value; nothing is written.
    Conflict
        The code is taken.
    """
    day = _day(on, "on")
    step = STEPS["propose"]
    values = check_targets(targets or {})
    if not str(name or "").strip():
        raise ValidationError("a proposal needs the project's name (--name)")
    kind_value = parse_choice(ProjectKind, kind, "kind").value
    with storage.connect(bind, write=True) as conn:
        place = find_village(conn, village, township=township)
        year = int(year or day.year)
        project = {"name": str(name).strip(), "kind": kind_value, "village_id": int(place["id"]), "year": year,
                   "code": (str(code).strip() or None) if code else None, "funds_wan_yuan": funds_wan_yuan,
                   "quantity": quantity, "quantity_unit": quantity_unit, **values}
        check_step(step, project, stage=None, on=day, last_date=None)
        project["code"] = project["code"] or _next_code(conn, year, place)
        project["status"] = STATUS_OF_STAGE[step.target].value
        if geometry is not None:
            project["geometry"] = geometry
        created = storage.insert_record(conn, "projects", {k: v for k, v in project.items() if v is not None},
                                        actor=actor or audit.SYSTEM, township=township, source=source)
        _event(conn, int(created["id"]), step, day, actor, office, note)
        return get_project(conn, int(created["id"]))


@dataclass(frozen=True)
class AssetInput:
    """What a hand-over needs to know of the asset."""

    asset_class: str | None = None
    owner: str | None = None
    maintainer: str | None = None
    value_wan_yuan: float | None = None
    name: str | None = None
    code: str | None = None
    pv_station: str | None = None
    note: str | None = None


def advance(bind: Bind, project: int | str, step: str, *, on: dt.date | str | None = None,
            version: int | None = None, office: str | None = None, note: str | None = None,
            targets: Mapping[str, Any] | None = None, asset: AssetInput | None = None,
            actor: Actor | None = None, township: Township = None) -> dict[str, Any]:
    """Take one step of the pipeline (review, approve, start, complete, handover).

    Parameters
    ----------
    project
        Its code or id.
    step
        The step (English name or Chinese label, see :data:`geo.library.pipeline.STEPS`).
    on
        The day the step was taken (default today); not before the previous step.
    version
        The version of the project the caller read: a project changed since is refused
        (:class:`~geo.errors.StaleVersion`); None skips the check (the command line).
    office
        On whose behalf (default the step's: 乡镇人民政府, 县级项目主管部门 ...).
    targets
        绩效目标 and 联农带农 fields to set with the step (e.g. at review or approval).
    asset
        For ``handover``: class, owner, maintainer (required), value, PV station code.
    township
        The caller's townships: projects outside them are not found; approval, the
        county's step, needs an account not limited to townships.

    Returns
    -------
    dict
        The project after the step (as :func:`get_project`).

    Raises
    ------
    NotFound
        An unknown project (in the caller's townships), or a PV station the PV ledger does
        not hold.
    ValidationError
        A step out of order, dated before the previous one, or missing what it needs (targets
        at approval; class, owner, maintainer at hand-over). Nothing is written.
    Forbidden
        Approval by an account limited to some townships.
    StaleVersion
        The project changed since ``version``.
    Conflict
        The PV station is already another asset.
    """
    chosen = parse_step(step)
    if chosen.name == "propose":
        raise ValidationError("a project is proposed with atlas projects propose (a new project), not as a step")
    day = _day(on, "on")
    changes = check_targets(targets or {})
    if chosen.name == "approve" and township is not None:
        raise Forbidden("approval (县级审批入库) is the county's step: your account is limited to some townships; "
                        "a county-wide account (no township scope) approves")
    with storage.connect(bind, write=True) as conn:
        pid = _project_id(conn, project, township)
        storage.lock_row(conn, PROJECTS, pid)
        frame = storage.read_layer(conn, "projects", ids=[pid])
        events = storage.library.read_events(conn, [pid])
        before = with_stages(frame, events).iloc[0].to_dict()
        if version is not None and int(version) != int(before["version"]):
            raise storage.records.stale(f"project {before['code'] or pid}", int(before["version"]), int(version))
        stage, outside = current_stage(before["status"], events["stage"].iloc[-1] if len(events) else None)
        last_date = None if outside or events.empty else _day(events["event_date"].iloc[-1])
        after = {**before, **changes}
        check_step(chosen, after, stage=stage, on=day, last_date=last_date)
        made = None
        if chosen.name == "handover":
            made = _asset_values(conn, after, asset or AssetInput(), day)
        values = {**changes, "status": ProjectStatus(STATUS_OF_STAGE[chosen.target].value)}
        storage.versioned_update(conn, PROJECTS, pid, version, values, what=f"project {before['code'] or pid}")
        _event(conn, pid, chosen, day, actor, office, note)
        if made is not None:
            asset_id = storage.library.insert_asset(conn, made)
            audit.record(conn, actor=actor or audit.SYSTEM, action="create", layer="assets", row_id=asset_id,
                         after=audit.snapshot(made))
        now = with_stages(storage.read_layer(conn, "projects", ids=[pid]),
                          storage.library.read_events(conn, [pid])).iloc[0].to_dict()
        audit.record(conn, actor=actor or audit.SYSTEM, action=chosen.name, layer="projects", row_id=pid,
                     before=_audited(before), after=_audited(now))
        return get_project(conn, pid)


def _asset_values(conn, project: Mapping[str, Any], asset: AssetInput, day: dt.date) -> dict[str, Any]:
    """The asset row a hand-over writes, checked (see :func:`geo.library.pipeline.check_asset`).

    Raises
    ------
    ValidationError
        Class, owner or maintainer missing, a bad class or value.
    NotFound
        A PV station code the PV ledger's stations (``pv_projects``) do not hold.
    Conflict
        That station is another asset already.
    """
    checked = check_asset(project, {"asset_class": asset.asset_class, "owner": asset.owner,
                                    "maintainer": asset.maintainer, "value_wan_yuan": asset.value_wan_yuan,
                                    "name": asset.name, "note": asset.note})
    station = None
    if asset.pv_station:
        code = str(asset.pv_station).strip()
        station = storage.pv_ledger.project_ids(conn, [code]).get(code)
        if station is None:
            raise NotFound(f"project {project.get('code')}: no PV station {code!r} in the PV ledger's stations; give "
                           "the 项目编号 of a registered PV project (atlas pv review lists them). Nothing was written")
        taken = storage.library.asset_of_station(conn, station)
        if taken:
            raise Conflict(f"PV station {code} is already the asset {taken}; one station is one asset. Nothing was "
                           "written")
    code = (asset.code or "").strip() or f"ZC-{project.get('code') or project['id']}"
    return {"code": code[:40], "name": checked["name"] or code, "asset_class": checked["asset_class"],
            "owner": checked["owner"], "maintainer": checked["maintainer"],
            "value_wan_yuan": checked["value_wan_yuan"], "handover_date": day, "project_id": int(project["id"]),
            "pv_project_id": station, "village_id": _plain(project.get("village_id")), "note": checked["note"],
            "source": f"handover {project.get('code') or project['id']}"[:200]}


# ------------------------------------------------------------------------------ assets


def list_assets(bind: Bind, *, township: Township = None) -> pd.DataFrame:
    """The assets (of villages of ``township``), by code, with project, village and PV
    station, and a PV station's latest ledger year."""
    with storage.connect(bind) as conn:
        assets = storage.library.read_assets(conn, township=township)
        years = storage.pv_ledger.read_years(conn, [int(i) for i in assets["pv_project_id"].dropna()])
    latest = asset_tables.latest_ledger(years).rename(columns={"project_id": "pv_project_id"})
    out = assets.merge(latest, on="pv_project_id", how="left") if len(assets) else assets
    return out


def asset_ledger_xlsx(bind: Bind, *, township: Township = None) -> bytes:
    """资产台账 as XLSX: sheet 资产台账 (every asset, PV ones with their station's latest
    ledger year), sheet 光伏电站资产 (every PV station, its asset or 未登记为资产, its ledger),
    sheet 说明 (what the figures are; rows of demo data say they are synthetic)."""
    with storage.connect(bind) as conn:
        assets = storage.library.read_assets(conn, township=township)
        stations = storage.read_layer(conn, "pv_projects", township=township)
        years = storage.pv_ledger.read_years(conn)
    sheets = {"资产台账": asset_tables.asset_table(assets, years),
              "光伏电站资产": asset_tables.pv_station_table(stations, assets, years)}
    synthetic = any(str(s).startswith("demo") for s in [*assets.get("source", []), *stations.get("source", [])])
    notes = ["资产台账：项目库中已竣工并移交的项目形成的资产（经营性、公益性、到户），含所有权人、管护主体、价值和移交日期。",
             "光伏电站的台账数字取该电站最近一个已记录年度（atlas pv ledger --record）。",
             "光伏电站资产：登记的全部光伏电站；未随项目移交登记的标为“未登记为资产”。"]
    if synthetic:
        notes.append("注意：来源以 demo 开头的行是演示用的合成数据（demo:synthetic / demo:approximate），不是实际调查数据。")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, table in sheets.items():
            xlsx_safe_frame(table).to_excel(writer, sheet_name=sheet, index=False)
        pd.DataFrame({"说明": notes}).to_excel(writer, sheet_name="说明", index=False)
    return buffer.getvalue()


# ------------------------------------------------------------------------------ candidates


@dataclass(frozen=True)
class Proposed:
    """What :func:`propose_from_priority` did: the projects created and the candidates skipped
    (with why)."""

    kind: str
    created: list[dict[str, Any]]
    skipped: list[dict[str, Any]]


def propose_from_priority(bind: Bind, *, kind: str = "road", top: int = 10, funded_only: bool = False,
                          on: dt.date | str | None = None, actor: Actor | None = None, township: Township = None,
                          **options: Any) -> Proposed:
    """Fill the library with the priority ranking's top candidates as proposed projects.

    The ranking of ``kind`` (``road`` or ``water``) is computed with ``options`` (the
    ranking's: ``budget_wan_yuan``, ``rank``, ``cost_yuan_per_km``,
    ``cost_wan_yuan_per_supply_point`` ...); its ``top`` villages with a need (only the
    funded ones with ``funded_only``) become proposed projects with their links or supply
    points, cost, 绩效目标 and 联农带农 households (:func:`geo.library.candidates.candidates`).
    Idempotent: a candidate whose code is taken, or whose village has an open project of the
    same kind (not yet completed), is skipped and said so.

    Raises
    ------
    ValidationError
        A kind other than road or water, a ``top`` below 1, bad ranking options.
    """
    if kind not in cand.PROJECT_KIND:
        raise ValidationError(f"candidates come from a road or water ranking, not {kind!r}; use road or water")
    day = _day(on, "on")
    frames = load_inputs(bind, "priority", township=township, kind=kind)
    gap_options = {k: options[k] for k in ("access_tolerance_m", "snap_tolerance_m", "cost_yuan_per_km")
                   if k in options} if kind == "road" else \
        {k: options[k] for k in ("supply_distance_m",) if k in options}
    gaps = analyze(frames, "roads", band=False, **gap_options) if kind == "road" else analyze(frames, "water", **gap_options)
    ranking = analyze(frames, "priority", kind=kind, **({"roads_result": gaps} if kind == "road" else
                                                         {"water_result": gaps}), **options)
    found = cand.candidates(kind, ranking.tables["ranking"], gaps, frames["villages"], top=top,
                            funded_only=funded_only)
    created, skipped = [], []
    with storage.connect(bind, write=True) as conn:
        taken = storage.library.existing_codes(conn, list(found["code"]))
        current = list_projects(conn)
        open_ = current[(current["kind"] == cand.PROJECT_KIND[kind])
                        & ~current["stage"].isin([ProjectStage.COMPLETED.value, ProjectStage.HANDED_OVER.value])]
        open_by_village = dict(zip(open_["village_id"], open_["code"]))
        for row in found.to_dict("records"):
            if row["code"] in taken:
                skipped.append({"code": row["code"], "village_name": row["village_name"],
                                "reason": f"已在项目库（{row['code']}）"})
                continue
            if row["village_id"] in open_by_village:
                skipped.append({"code": row["code"], "village_name": row["village_name"],
                                "reason": f"该村已有未竣工的同类项目 {open_by_village[row['village_id']]}"})
                continue
            made = propose(conn, name=row["name"], kind=row["kind"], village=int(row["village_id"]), code=row["code"],
                           funds_wan_yuan=_plain(row["funds_wan_yuan"]), quantity=_plain(row["quantity"]),
                           quantity_unit=row["quantity_unit"], geometry=row["geometry"], on=day,
                           targets={"performance_targets": row["performance_targets"],
                                    "benefit_households": row["benefit_households"]},
                           office="项目优先排序候选", note=f"{ranking.title}第{row['rank']}位；{row['reason']}",
                           actor=actor, township=township, source=f"priority:{kind}")
            created.append({k: made.get(k) for k in ("id", "code", "name", "village_name", "funds_wan_yuan",
                                                     "quantity", "quantity_unit", "stage")})
    return Proposed(kind=kind, created=created, skipped=skipped)
