"""督查: the inspection plans a visitor may reach, with their route map and downloads."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, Principal, SettingsDep
from api.pages.render import render
from api.pages.session import FormUser, PageUser, token_for
from api.policy import Permission
from geo.inspection.plans import PRESETS, plan_from_options
from geo.services import inspections as service
from geo.services.inspections import EXPORT_FORMATS, plans_in_scope

router = APIRouter()

FORMAT_LABELS = {"xlsx": "调查表 XLSX", "csv": "农户 CSV", "geojson": "GeoJSON", "gpx": "路线 GPX"}


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _page(request: Request, engine, settings, user: Principal, **notice) -> HTMLResponse:
    if not user.can(Permission.READ_ALL):
        raise HTTPException(403, f"your role ({user.role.value}) may not see inspection plans")
    plans = [{**p, "route_km": _number(p.get("route_km"))} for p in plans_in_scope(engine, user.township_ids)]
    return render(request, "inspections.html", user, plans=plans, formats=[(f, FORMAT_LABELS[f]) for f in EXPORT_FORMATS],
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
