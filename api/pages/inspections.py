"""督查: the inspection plans a visitor may reach, with their route map and downloads."""

from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from api.deps import EngineDep
from api.pages.render import render
from api.pages.session import PageUser
from api.policy import Permission
from geo.services.inspections import EXPORT_FORMATS, plans_in_scope

router = APIRouter()

FORMAT_LABELS = {"xlsx": "调查表 XLSX", "csv": "农户 CSV", "geojson": "GeoJSON", "gpx": "路线 GPX"}


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


@router.get("/inspections", response_class=HTMLResponse)
def inspection_plans(request: Request, user: PageUser, engine: EngineDep) -> HTMLResponse:
    """Every plan inside the visitor's townships, newest first (the API's ``GET /api/inspections``)."""
    if not user.can(Permission.READ_ALL):
        raise HTTPException(403, f"your role ({user.role.value}) may not see inspection plans")
    plans = [{**p, "route_km": _number(p.get("route_km"))} for p in plans_in_scope(engine, user.township_ids)]
    return render(request, "inspections.html", plans=plans, formats=[(f, FORMAT_LABELS[f]) for f in EXPORT_FORMATS],
                  may_draw=user.can(Permission.INSPECT), account=f"{user.name}（{user.role.label}）")
