"""防止返贫动态监测 over HTTP: ``/api/monitoring/...``, the same use cases as ``atlas monitor``.

Reading cases, leads and reports needs ``read:all`` (no viewer); taking leads in, steps and
measures need ``write:registry``; everything is limited to the caller's townships. A step or
measure is conditional on the version read (``If-Match`` or ``version`` in the body). Matching
lead rows by ID number, and unmasked names in a posting list, need ``pii:all``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.deps import Editor, EngineDep, FullReader, SettingsDep, TownshipParam
from api.downloads import attachment
from api.params import IF_MATCH_HELP, etag, expected_version
from api.policy import Permission
from api.uploads import UploadLimit, display_name, named_errors, save_upload, upload_folder, upload_post
from geo.scratch import scratch_folder
from geo.services import monitoring
from maps.report_print import write_report

router = APIRouter(prefix="/api/monitoring", tags=["monitoring"])

LEADS_LIMIT = UploadLimit("max_upload_mb", "lead list", "a month's department list is small: split it by township")
_CASE_FIELDS = ("id", "code", "status", "category", "risk_types", "household_id", "household_code",
                "household_status", "members", "village_id", "village_name", "township_id", "township_name",
                "income_per_person_yuan", "out_of_pocket_yuan", "assured_education", "assured_medical",
                "assured_housing", "safe_water", "opened_on", "step_on", "posted_until", "identified_on",
                "removed_on", "cadre_id", "cadre_name", "unit_id", "unit_name", "source", "version", "next_step",
                "due_on", "overdue", "days_overdue", "working_days_overdue", "notes", "events", "measures", "leads")


def _json(data: Any, *, version: int | None = None, status: int = 200) -> JSONResponse:
    headers = {"ETag": etag(version)} if version is not None else None
    return JSONResponse(jsonable_encoder(data), status_code=status, headers=headers)


def _case(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in _CASE_FIELDS if k in row}


def _scope(user, township: int | None):
    scope = user.township_filter(township)
    return [scope] if isinstance(scope, int) else scope


@router.get("/thresholds", summary="监测范围与预警线 The yearly thresholds in force")
def thresholds(user: FullReader, settings: SettingsDep) -> JSONResponse:
    """The monitoring line and out-of-pocket threshold from the settings, with their source,
    or the statement that they are not set (each province sets them every year)."""
    found = monitoring.thresholds_from(settings)
    return _json({"income_line_yuan": found.income_line_yuan, "out_of_pocket_yuan": found.out_of_pocket_yuan,
                  "source": found.source, "missing": found.missing,
                  "statement": monitoring.thresholds_statement(found),
                  "min_posting_days": settings.monitor_posting_days})


@upload_post(router, "/leads/import", LEADS_LIMIT, summary="导入预警线索 Take a lead list in (XLSX or CSV)")
def import_leads(user: Editor, engine: EngineDep, settings: SettingsDep,
                 file: Annotated[UploadFile, File(description="XLSX or CSV with Chinese headers: 户编号 (or 身份证号), "
                                                  "预警类型, 预警日期, 自付费用, 预警部门, 备注")],
                 channel: Annotated[Literal["department", "visit", "self_report", "linked"], Form()]) -> JSONResponse:
    """Same as ``atlas monitor leads import FILE --channel ...``: the whole file or nothing
    (422 naming every refused row). Rows without 户编号 are matched by 身份证号 only for
    roles allowed to see ID numbers (audited)."""
    name = display_name(file.filename)
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ".xlsx"
    with upload_folder() as folder:
        path = folder / f"leads{suffix if suffix in ('.xlsx', '.csv') else '.xlsx'}"
        save_upload(file, path, LEADS_LIMIT, settings, name=name)
        with named_errors(path, name):
            result = monitoring.import_leads(engine, path, channel=channel, name=name,
                                             may_match_id_numbers=user.can(Permission.PII_ALL),
                                             township=user.write_scope, actor=user.actor,
                                             thresholds=monitoring.thresholds_from(settings))
    return _json(result.as_dict(), status=201)


class LeadIn(BaseModel):
    """One lead (a visit or a household's own report)."""

    household_code: str = Field(max_length=40, description="户编号")
    channel: Literal["department", "visit", "self_report", "linked"]
    received_on: dt.date | None = None
    risk_type: str | None = Field(default=None, max_length=40)
    out_of_pocket_yuan: float | None = Field(default=None, ge=0)
    department: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=1000)


@router.post("/leads", status_code=201, summary="登记一条线索 Record one lead")
def record_lead(user: Editor, engine: EngineDep, lead: LeadIn) -> JSONResponse:
    """Opens the household's case (线索待核实) or joins its open case; answers the case."""
    row = monitoring.record_lead(engine, **lead.model_dump(), township=user.write_scope, actor=user.actor)
    return _json(_case(row), version=row["version"], status=201)


@router.get("/leads", summary="预警线索 Leads received")
def list_leads(user: FullReader, engine: EngineDep, township: TownshipParam = None,
               since: dt.date | None = None, until: dt.date | None = None) -> JSONResponse:
    frame = monitoring.read_leads(engine, township=_scope(user, township), since=since, until=until)
    return _json(monitoring.plain_records(frame.drop(columns=["fields_json"])))


@router.get("/cases", summary="监测案件 Cases with their next step and due day")
def list_cases(user: FullReader, engine: EngineDep, settings: SettingsDep, township: TownshipParam = None,
               status: Annotated[str | None, Query(max_length=40)] = None, overdue: bool = False,
               open: bool = False) -> JSONResponse:
    """Cases in the caller's townships (no names), ``overdue=true`` for the overdue list."""
    frame = monitoring.list_cases(engine, township=_scope(user, township), status=status, overdue=overdue,
                                  open_only=open, rules=monitoring.rules_from(settings))
    rows = [_case(r) for r in monitoring.plain_records(frame)]
    return _json({"count": len(rows), "cases": rows})


@router.get("/cases/{case}", summary="一个监测案件 A case with its steps, measures and leads")
def get_case(user: FullReader, engine: EngineDep, settings: SettingsDep, case: str) -> JSONResponse:
    row = monitoring.get_case(engine, case, township=_scope(user, None), rules=monitoring.rules_from(settings))
    return _json(_case(row), version=row["version"])


class StepIn(BaseModel):
    """One step of a case; the home check (``check``) carries the category and figures."""

    step: Literal["check", "dismiss", "post", "review", "approve", "post-removal", "remove"]
    on: dt.date | None = None
    by: str | None = Field(default=None, max_length=200)
    until: dt.date | None = Field(default=None, description="last day of a posting (公示)")
    note: str | None = Field(default=None, max_length=2000)
    category: str | None = Field(default=None, max_length=40)
    risk_types: list[str] | None = None
    income_per_person_yuan: float | None = None
    out_of_pocket_yuan: float | None = None
    assured_education: bool | None = None
    assured_medical: bool | None = None
    assured_housing: bool | None = None
    safe_water: bool | None = None
    version: int | None = Field(default=None, description="the version you read (or If-Match)")


@router.post("/cases/{case}/steps", summary="办理环节 Take a case's next step")
def take_step(user: Editor, engine: EngineDep, settings: SettingsDep, case: str, body: StepIn,
              if_match: Annotated[str | None, Header(description=IF_MATCH_HELP)] = None) -> JSONResponse:
    """A step out of order, a posting shorter than the minimum, a removal without a measure or
    figures contradicting the category: 422, nothing written; a stale version: 409."""
    version = expected_version(if_match, body.version)
    flags = {k: getattr(body, k) for k in ("assured_education", "assured_medical", "assured_housing", "safe_water")}
    row = monitoring.advance_case(
        engine, case, body.step, on=body.on, by=body.by, until=body.until, version=version, note=body.note,
        category=body.category, risk_types=body.risk_types, income_per_person_yuan=body.income_per_person_yuan,
        out_of_pocket_yuan=body.out_of_pocket_yuan, assured=flags, township=user.write_scope, actor=user.actor,
        thresholds=monitoring.thresholds_from(settings), rules=monitoring.rules_from(settings))
    return _json(_case(row), version=row["version"])


class MeasureIn(BaseModel):
    kind: str = Field(max_length=40, description="industry, employment, public_post, minimum_income, medical, "
                                                 "education, housing, water, other (or the Chinese label)")
    on: dt.date | None = None
    amount_yuan: float | None = Field(default=None, ge=0)
    by: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    version: int | None = None


@router.post("/cases/{case}/measures", summary="帮扶措施 Record an assistance measure")
def add_measure(user: Editor, engine: EngineDep, settings: SettingsDep, case: str, body: MeasureIn,
                if_match: Annotated[str | None, Header(description=IF_MATCH_HELP)] = None) -> JSONResponse:
    version = expected_version(if_match, body.version)
    row = monitoring.add_measure(engine, case, kind=body.kind, on=body.on, amount_yuan=body.amount_yuan, by=body.by,
                                 note=body.note, version=version, township=user.write_scope, actor=user.actor,
                                 rules=monitoring.rules_from(settings))
    return _json(_case(row), version=row["version"])


@router.get("/reports/{kind}", summary="监测报表 A report as XLSX or PDF (or JSON)")
def report(user: FullReader, engine: EngineDep, settings: SettingsDep,
           kind: Literal["monthly", "posting", "removal-posting", "quarterly", "workload"],
           format: Literal["xlsx", "pdf", "json"] = "xlsx", year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
           month: Annotated[int | None, Query(ge=1, le=12)] = None,
           quarter: Annotated[int | None, Query(ge=1, le=4)] = None, names: bool = False,
           township: TownshipParam = None) -> Response:
    """Posting lists mask names unless ``names=true`` (roles allowed to see names; audited);
    ID numbers are never in a report."""
    if names:
        monitoring.require_names_allowed(user.can(Permission.PII_ALL))
    result = monitoring.report(engine, kind, year=year, month=month, quarter=quarter, township=_scope(user, township),
                               reveal_names=names, actor=user.actor, thresholds=monitoring.thresholds_from(settings),
                               rules=monitoring.rules_from(settings))
    if format == "json":
        return _json({"title": result.title, "note": result.note,
                      "sheets": {k: monitoring.plain_records(v) for k, v in result.sheets.items()}})
    with scratch_folder("report") as folder:
        path = write_report(result, folder / f"report.{format}")
        content = path.read_bytes()
    return attachment(content, format=format, filename=f"monitoring_{kind}.{format}", label=f"{result.title}.{format}")
