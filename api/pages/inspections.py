"""督查: the inspection plans a visitor may reach, with their route map and downloads; on a
plan's own page its verification (核验), its inspectors (分配检查人员) and its findings (问题),
recorded, moved to 整改中 and closed (整改销号) with the rules of the HTTP API."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, Principal, SettingsDep
from api.pages.render import render
from api.pages.session import FormUser, PageUser, token_for
from api.policy import Permission
from geo.enums import FINDING_KINDS, FindingCategory, FindingKind, FindingStatus
from geo.inspection.findings import SHOWN_FIELDS
from geo.inspection.plans import PRESETS, plan_from_options
from geo.services import findings
from geo.services import inspections as service
from geo.services.inspections import EXPORT_FORMATS, FIELD_FORMATS, plans_in_scope

router = APIRouter()

FORMAT_LABELS = {"xlsx": "调查表 XLSX", "csv": "农户 CSV", "geojson": "GeoJSON", "gpx": "路线 GPX"}
#: The printed downloads of a plan; the field kit's (phone forms, team packages) are listed on
#: the plan's page (docs/field-kit.md).
PAGE_FORMATS = [f for f in EXPORT_FORMATS if f not in FIELD_FORMATS]


def _field_kit(summary: dict) -> list[tuple[str, str]]:
    """The plan page's field-kit links: both XLSForms, then one package per team."""
    links = [("format=xlsform&form=household", "附件1 农户调查表 XLSForm（ODK/Kobo）"),
             ("format=xlsform&form=village", "附件2 村级调查表 XLSForm（ODK/Kobo）")]
    teams = sorted({int(t["team"]) for t in summary["teams"]})
    return links + [(f"format=package&team={t}", f"第{t}组外业任务包 ZIP") for t in teams]


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _page(request: Request, engine, settings, user: Principal, **notice) -> HTMLResponse:
    if not user.can(Permission.READ_ALL):
        raise HTTPException(403, f"your role ({user.role.value}) may not see inspection plans")
    plans = [{**p, "route_km": _number(p.get("route_km"))} for p in plans_in_scope(engine, user.township_ids)]
    return render(request, "inspections.html", user, plans=plans, formats=[(f, FORMAT_LABELS[f]) for f in PAGE_FORMATS],
                  may_draw=user.can(Permission.INSPECT), presets=list(PRESETS), csrf_token=token_for(request, settings), **notice)


def _inspector(user: Principal) -> Principal:
    if not user.can(Permission.INSPECT):
        raise HTTPException(403, f"your role ({user.role.value}) may not record frames or draw samples; "
                                 "inspectors and administrators do")
    return user


@router.get("/inspections", response_class=HTMLResponse)
def inspection_plans(request: Request, user: PageUser, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """Every plan inside the visitor's townships, newest first (the API's ``GET /api/inspections``)."""
    return _page(request, engine, settings, user)


@router.post("/inspections/frames", response_class=HTMLResponse)
def record_frame(request: Request, user: FormUser, engine: EngineDep, settings: SettingsDep,
                 preset: Annotated[str, Form(max_length=40)], year: Annotated[int, Form(ge=2000, le=2100)],
                 townships: Annotated[str, Form(max_length=2000)] = "",
                 name: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    """Fix the frame before the seed is announced (``atlas sample frame``)."""
    inspector = _inspector(user)
    spec = plan_from_options(preset, year=year, name=name.strip() or None,
                             townships=service.scoped_townships(engine, inspector.township_ids, townships.strip() or None),
                             allow_files=False)
    frame = service.record_frame(engine, spec, source=f"page:{inspector.name}"[:200], actor=inspector.actor)
    return _page(request, engine, settings, inspector, frame=frame)


@router.post("/inspections", response_class=HTMLResponse)
def draw(request: Request, user: FormUser, engine: EngineDep, settings: SettingsDep,
         frame_id: Annotated[int, Form(ge=1, le=2**31 - 1)], seed: Annotated[str, Form(min_length=1, max_length=200)],
         teams: Annotated[int, Form(ge=1, le=20)] = 1) -> HTMLResponse:
    """Draw from a recorded frame with the seed announced in public (``atlas sample draw --frame``)."""
    inspector = _inspector(user)
    service.check_frame_scope(engine, frame_id, inspector.township_ids)
    report = service.draw_plan(engine, None, seed=seed, teams=teams, frame_id=frame_id,
                               source=f"page:{inspector.name}"[:200], actor=inspector.actor)
    return _page(request, engine, settings, inspector, drawn=report)


# ---------------------------------------------------------------------- one plan: verify, inspectors, findings

PlanId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
FindingKey = Annotated[str, PathParam(max_length=40, pattern=r"^(?:[0-9]{1,9}|[A-Za-z][A-Za-z0-9-]*)$")]


def _label(enum_cls, value) -> str:
    try:
        return enum_cls.parse(value).label
    except (ValueError, KeyError):
        return "" if value is None else str(value)


def _finding_rows(engine, plan_id: int) -> list[dict]:
    rows = []
    for row in findings.list_findings(engine, plan=plan_id).to_dict("records"):
        shown = {k: row.get(k) for k in SHOWN_FIELDS}
        shown.update(id=int(row["id"]), version=int(row["version"]), status_label=_label(FindingStatus, row["status"]),
                     category_label=_label(FindingCategory, row["category"]), kind_label=_label(FindingKind, row["kind"]),
                     history=json.loads(row.get("history_json") or "[]"))
        rows.append(shown)
    return rows


def _reader(engine, user: Principal, plan_id: int) -> Principal:
    if not user.can(Permission.READ_ALL):
        raise HTTPException(403, f"your role ({user.role.value}) may not see inspection plans")
    service.check_plan_scope(engine, plan_id, user.township_ids)
    return user


def _plan_page(request: Request, engine, settings, user: Principal, plan_id: int, **notice) -> HTMLResponse:
    """The page of one plan: its facts, downloads, verification, inspectors and findings."""
    _reader(engine, user, plan_id)
    summary = service.plan_summary(service.load_record(engine, plan_id))
    assignments = service.plan_assignments(engine, plan_id).to_dict("records")
    assignees = [int(a["user_id"]) for a in assignments]
    return render(request, "inspection_plan.html", user, plan_id=plan_id, summary=summary, assignments=assignments,
                  findings=_finding_rows(engine, plan_id), formats=[(f, FORMAT_LABELS[f]) for f in PAGE_FORMATS],
                  field_kit=_field_kit(summary),
                  may_assign=user.can(Permission.WRITE), may_record=user.can_record_findings(plan_assignees=assignees),
                  kinds=[(c.label, [(m.value, m.label) for m in ms]) for c, ms in FINDING_KINDS.items()],
                  today=dt.date.today().isoformat(), csrf_token=token_for(request, settings), **notice)


@router.get("/inspections/{plan_id}", response_class=HTMLResponse)
def inspection_plan(request: Request, plan_id: PlanId, user: PageUser, engine: EngineDep,
                    settings: SettingsDep) -> HTMLResponse:
    """One plan (``GET /api/inspections/{id}``), with its inspectors and findings."""
    return _plan_page(request, engine, settings, user, plan_id)


@router.get("/inspections/{plan_id}/verify", response_class=HTMLResponse)
def verify(request: Request, plan_id: PlanId, user: PageUser, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """核验: redraw the plan and compare (``GET /api/inspections/{id}/verify``); a read, so a link."""
    _reader(engine, user, plan_id)
    result = service.verify_plan(engine, plan_id)
    checks = [("存储的记录自洽，按原抽样框和种子可重现原样本", result.record_ok),
              ("记录链完整（前后记录未被删除、调换或修改）", not result.chain_differences),
              ("抽样框未变（今天的登记簿给出同一抽样框）", result.frame_unchanged),
              ("按今天的登记簿重抽得到相同样本", result.same_sample)]
    return _plan_page(request, engine, settings, user, plan_id,
                      verification={"ok": result.ok, "checks": checks, "differences": result.differences,
                                    "describe": result.describe()})


@router.post("/inspections/{plan_id}/assignments", response_class=HTMLResponse)
def assign(request: Request, plan_id: PlanId, user: FormUser, engine: EngineDep, settings: SettingsDep,
           user_name: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[^/\x00-\x1f]+$")],
           team: Annotated[str, Form(max_length=3, pattern=r"^[0-9]{0,2}$")] = "",
           remove: Annotated[bool, Form()] = False) -> HTMLResponse:
    """分配检查人员 (``PUT``/``DELETE /api/inspections/{id}/assignments/NAME``): planners and administrators."""
    if not user.can(Permission.WRITE):
        raise HTTPException(403, f"your role ({user.role.value}) may not assign inspectors; planners and "
                                 "administrators do")
    _reader(engine, user, plan_id)
    result = service.assign_inspector(engine, plan_id, user_name.strip(), team=int(team) if team else None,
                                      remove=remove, actor=user.actor)
    return _plan_page(request, engine, settings, user, plan_id, assigned={**result, "removed": remove})


def _recorder(engine, user: Principal, plan_id: int) -> Principal:
    inspector = _inspector(user)
    _reader(engine, inspector, plan_id)
    service.check_may_record(engine, plan_id, lambda assignees: user.can_record_findings(plan_assignees=assignees))
    return inspector


def _optional(text: str) -> str | None:
    return text.strip() or None


@router.post("/inspections/{plan_id}/findings", response_class=HTMLResponse)
def record_finding(request: Request, plan_id: PlanId, user: FormUser, engine: EngineDep, settings: SettingsDep,
                   description: Annotated[str, Form(max_length=4000)],
                   responsible_unit: Annotated[str, Form(max_length=200)],
                   deadline: Annotated[str, Form(max_length=10)],
                   kind: Annotated[str, Form(max_length=20)] = "",
                   household: Annotated[str, Form(max_length=40)] = "",
                   village: Annotated[str, Form(max_length=200)] = "",
                   found_on: Annotated[str, Form(max_length=10)] = "") -> HTMLResponse:
    """Record a finding (``POST /api/inspections/{id}/findings``): the plan's inspectors and administrators."""
    inspector = _recorder(engine, user, plan_id)
    row = findings.add_finding(engine, plan_id, description=description, responsible_unit=responsible_unit,
                               deadline=deadline, kind=_optional(kind), household=_optional(household),
                               village=_optional(village), found_on=_optional(found_on),
                               source=f"page:{inspector.name}"[:200], actor=inspector.actor)
    return _plan_page(request, engine, settings, inspector, plan_id, recorded=row["code"])


@router.post("/inspections/{plan_id}/findings/{finding}", response_class=HTMLResponse)
def move_finding(request: Request, plan_id: PlanId, finding: FindingKey, user: FormUser, engine: EngineDep,
                 settings: SettingsDep, action: Annotated[Literal["rectifying", "close"], Form()],
                 version: Annotated[int, Form(ge=1, le=2**31 - 1)],
                 note: Annotated[str, Form(max_length=4000)] = "") -> HTMLResponse:
    """整改中 or 整改销号 (``PATCH .../findings/{code}``, ``POST .../close``), on the version shown."""
    inspector = _recorder(engine, user, plan_id)
    finding_id = int(findings.finding_of_plan(engine, plan_id, finding)["id"])
    if action == "close":
        row = findings.close_finding(engine, finding_id, note=note, version=version, actor=inspector.actor)
    else:
        row = findings.update_finding(engine, finding_id, status=action, note=_optional(note), version=version,
                                      actor=inspector.actor)
    return _plan_page(request, engine, settings, inspector, plan_id, moved=row["code"])
