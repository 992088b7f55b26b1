"""监测: the monitoring cases of the visitor's townships with their next step and due day (the
overdue first), the thresholds in force, and links to the 防返贫监测图 and the reports (the
API's own downloads). Read only: steps are taken with ``atlas monitor case`` or the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, SettingsDep, township_param
from api.pages.render import render
from api.pages.session import PageUser
from api.policy import Permission
from geo.enums import CaseStatus, MonitorCategory
from geo.services import monitoring

router = APIRouter()

REPORTS = (("monthly", "月度预警处置"), ("posting", "识别公示名单（脱敏）"), ("removal-posting", "风险消除公示名单（脱敏）"),
           ("quarterly", "季度风险消除名单"), ("workload", "工作量与逾期"))


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, user: PageUser, engine: EngineDep, settings: SettingsDep,
                    status: Annotated[str, Query(max_length=40)] = "", overdue: bool = False,
                    township: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    """Cases (no names), overdue first, filtered by status, overdue and township."""
    if not user.can(Permission.READ_ALL):
        raise HTTPException(403, f"your role ({user.role.value}) may not read monitoring cases")
    scope = user.township_filter(township_param(engine, township) if township else None)
    frame = monitoring.list_cases(engine, township=[scope] if isinstance(scope, int) else scope,
                                  status=status or None, overdue=overdue, rules=monitoring.rules_from(settings))
    rows = sorted(monitoring.plain_records(frame), key=lambda r: (not r["overdue"], -(r["days_overdue"] or 0),
                                                                  r["code"]))
    labels, categories = CaseStatus.labels(), MonitorCategory.labels()
    cases = [{**r, "status_label": labels.get(r["status"], r["status"]),
              "category_label": categories.get(r["category"] or "", "类别待定"),
              "next_label": labels.get(r["next_step"] or "", "")} for r in rows]
    return render(request, "monitoring.html", user, cases=cases, statuses=list(labels.items()), status=status,
                  overdue=overdue, township=township, reports=REPORTS,
                  thresholds=monitoring.thresholds_statement(monitoring.thresholds_from(settings)),
                  names_allowed=user.can(Permission.PII_ALL))
