"""``/api/inspections``: inspection samples (``atlas sample``) and their findings
(``atlas finding``), with the same options and the same services
(:mod:`geo.services.inspections`, :mod:`geo.services.findings`).

Who may do what: every role that reads the whole registry reads plans and findings (never
names); inspectors and administrators draw; planners and administrators assign inspectors;
only inspectors assigned to a plan (and administrators) record and change its findings.
Household heads' names and ID numbers appear only in exports with ``show_names=true``, for
callers :meth:`~api.deps.Principal.can_see_names` allows with the plan's assignees, and each
such export is written to the audit log.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Header, Query, Request, Response, UploadFile
from fastapi import Path as PathParam  # pathlib's Path is used for files
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.background import BackgroundTask

from api.deps import Editor, EngineDep, FullReader, Inspector, Principal, SettingsDep
from api.geojson import JSON
from api.params import IF_MATCH_HELP, INT32_MAX, expected_version
from api.schemas.common import problem_responses, text
from api.uploads import UploadLimit, display_name, named_errors, save_upload, upload_folder, upload_post
from geo.errors import ValidationError
from geo.inspection.findings import SHOWN_FIELDS, table3
from geo.inspection.plans import PRESETS, parse_date, parse_start, plan_from_options
from geo.inspection.tours import DayRules
from geo.services import answers as answers_service
from geo.services import field_maps
from geo.services import findings as domain
from geo.services import inspections as service
from geo.services.exports import remove_download

PREFIX = "/api/inspections"
PlanId = Annotated[int, PathParam(ge=1, le=INT32_MAX, description="the plan's id (see GET /api/inspections)")]
# An id has at most 9 digits (a 32-bit row id), so no number beyond the databases' integers
# reaches a query.
FindingKey = Annotated[str, PathParam(max_length=40, pattern=r"^(?:[0-9]{1,9}|[A-Za-z][A-Za-z0-9-]*)$",
                                      description="the finding's code (P1-001) or id")]

router = APIRouter(tags=["inspections"], responses=problem_responses(401, 403, 404, 422))

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "gpx": "application/gpx+xml",
    "mbtiles": "application/vnd.sqlite3",
    "xlsform": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xform": "application/xml",
    "package": "application/zip",
}


# ---------------------------------------------------------------------- scope


def _check_plan_scope(user: Principal, engine, plan_id: int) -> None:
    service.check_plan_scope(engine, plan_id, user.township_ids)


# ---------------------------------------------------------------------- plans


class SampleScope(BaseModel):
    """The plan year and scope options that ``atlas sample frame`` and ``draw`` share."""

    model_config = ConfigDict(extra="forbid")

    year: int | None = Field(None, ge=1990, le=2100, description="the plan's year ('this year'); default: now")
    townships: text(1000) | None = Field(None, description="comma-separated townships in scope (name, code or id)")
    categories: text(200) | None = Field(None, description="comma-separated village categories in scope")
    exclude: text(2000) | None = Field(None, description="comma-separated villages to leave out")
    villages: int | None = Field(None, ge=1, le=10_000, description="draw K villages (at random unless select=pps)")
    select: Literal["all", "random", "pps"] | None = Field(None, description="village selection")


class FrameRequest(SampleScope):
    """The options of ``atlas sample frame``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"preset": "seed003", "year": 2019, "townships": "宣和镇,永康镇"}]})

    preset: Literal[PRESETS] = Field(description="seed003 (10 households in every village in scope) or "
                                                 "county-spot (3 villages by PPS, 8-10 poor and 3-5 non-poor)")
    name: text(200) | None = Field(None, description="frame name (unique); default from year, preset and frame hash")


class DrawRequest(SampleScope):
    """The options of ``atlas sample draw``: a preset and scope, or a recorded frame."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"preset": "seed003", "seed": "2019-11-05 第37号", "year": 2019, "townships": "宣和镇,永康镇", "teams": 2},
        {"frame_id": 1, "seed": "2019-11-05 第37号", "teams": 2}]})

    preset: Literal[PRESETS] | None = Field(None, description="seed003 (10 households in every village in scope) "
                                                              "or county-spot (3 villages by PPS, 8-10 poor and "
                                                              "3-5 non-poor); or give frame_id")
    frame_id: int | None = Field(None, ge=1, le=INT32_MAX, description="draw from this recorded frame "
                                                                       "(POST /api/inspections/frames) instead")
    as_recorded: bool = Field(False, description="with frame_id: draw from the recorded frame even if the registry "
                                                 "changed since; registry_changes in the answer say what changed")
    seed: text(200) = Field(description="the seed string announced for this draw")
    name: text(200) | None = Field(None, description="plan name (unique); default from year, preset and seed")
    teams: int = Field(1, ge=1, le=20, description="number of inspection teams")
    start: text(60) | None = Field(None, description="start LON,LAT in degrees; default the county seat",
                                   examples=["105.19,37.51"])
    return_to_start: bool = Field(False, description="routes end back at the start")
    date: text(10) | None = Field(None, description="inspection date YYYY-MM-DD, for the record")
    straight: bool = Field(False, description="ignore roads; straight-line distances")
    hours_per_day: float = Field(8.0, gt=0, le=24, description="a team's working day [h]: driving and visits")
    days: int | None = Field(None, ge=1, le=366, description="days each team may use; default as many as needed")
    visit_village_min: float = Field(30.0, ge=0, le=1440, description="time at each village besides its households [min]")
    visit_household_min: float = Field(15.0, ge=0, le=1440, description="time at each sampled household [min]")
    day_start: str = Field("08:00", pattern=r"^[0-2][0-9]:[0-5][0-9]$", description="when each day starts, HH:MM")

    @model_validator(mode="after")
    def _preset_or_frame(self) -> DrawRequest:
        plan_options = [k for k in ("preset", "year", "townships", "categories", "exclude", "villages", "select")
                        if getattr(self, k) is not None]
        if self.frame_id is not None and plan_options:
            raise ValueError(f"frame_id takes the plan from the recorded frame; drop {', '.join(plan_options)}")
        if self.frame_id is None and self.preset is None:
            raise ValueError("give preset (with its scope options) or frame_id (a recorded frame)")
        return self


@router.get(PREFIX, summary="Inspection plans, newest first (atlas sample list)")
def list_plans(user: FullReader, engine: EngineDep) -> Any:
    items = service.plans_in_scope(engine, user.township_ids)
    return JSON({"items": items, "numberReturned": len(items)})


@router.post(PREFIX, status_code=201, summary="Draw a sample and record the plan (atlas sample draw)",
             responses=problem_responses(409))
def draw_plan(request: Request, user: Inspector, engine: EngineDep,
              body: Annotated[DrawRequest, Body()]) -> Any:
    """Draw a stratified sample with the given seed, plan the teams' routes and record the draw
    (never replaced: a plan name already drawn is refused with 409). The same seed over the same
    registry always gives the same sample; check it with GET .../verify."""
    spec = None
    if body.frame_id is not None:
        service.check_frame_scope(engine, body.frame_id, user.township_ids)
    else:
        spec = plan_from_options(body.preset, year=body.year, name=body.name,
                                 townships=service.scoped_townships(engine, user.township_ids, body.townships),
                                 categories=body.categories, exclude=body.exclude, villages=body.villages,
                                 select=body.select, allow_files=False)
    report = service.draw_plan(engine, spec, seed=body.seed, teams=body.teams, start=parse_start(body.start),
                               return_to_start=body.return_to_start, planned_on=parse_date(body.date),
                               use_roads=not body.straight, source=f"api:{user.name}"[:200], actor=user.actor,
                               frame_id=body.frame_id, name=body.name, as_recorded=body.as_recorded,
                               rules=DayRules(hours_per_day=body.hours_per_day, days=body.days,
                                              village_min=body.visit_village_min,
                                              household_min=body.visit_household_min, day_start=body.day_start))
    location = str(request.url_for("show_plan", plan_id=report.plan_id))
    return JSON(report.as_dict(), status_code=201, headers={"Location": location})


@router.post(PREFIX + "/frames", status_code=201, summary="Record a sampling frame before the seed (atlas sample frame)",
             responses=problem_responses(409))
def record_frame(user: Inspector, engine: EngineDep, body: Annotated[FrameRequest, Body()]) -> Any:
    """Record the plan's frame from today's registry (id, hash, counts by stratum, households
    outside it) before the seed is announced; then draw with ``frame_id``, which is refused
    (409, naming the changes) if the registry no longer gives the same frame."""
    spec = plan_from_options(body.preset, year=body.year, name=body.name,
                             townships=service.scoped_townships(engine, user.township_ids, body.townships),
                             categories=body.categories, exclude=body.exclude, villages=body.villages,
                             select=body.select, allow_files=False)
    report = service.record_frame(engine, spec, source=f"api:{user.name}"[:200], actor=user.actor)
    return JSON(report.as_dict(), status_code=201)


@router.get(PREFIX + "/verify", summary="Check every plan and the chain of draw records (atlas sample verify --all)")
def verify_all(user: FullReader, engine: EngineDep) -> Any:
    """``verified`` is false, with ``differences`` naming each, when any plan fails its checks or
    the chain of records is broken (a record deleted, reordered or edited). Callers whose
    account covers the whole registry only."""
    service.check_whole_registry(user.township_ids)
    return JSON(service.verify_all(engine).as_dict())


@router.get(PREFIX + "/{plan_id}", summary="A plan, its routes and the 表4 summary (atlas sample show)")
def show_plan(plan_id: PlanId, user: FullReader, engine: EngineDep) -> Any:
    """The plan's facts, spec, teams, villages and households in visiting order (household codes,
    never names) and seed 003's 表4 summary."""
    _check_plan_scope(user, engine, plan_id)
    return JSON(service.plan_summary(service.load_record(engine, plan_id)))


@router.get(PREFIX + "/{plan_id}/verify", summary="Redraw a plan and compare (atlas sample verify)")
def verify_plan(plan_id: PlanId, user: FullReader, engine: EngineDep) -> Any:
    """``ok`` is true when the record is intact, the registry gives the same frame today and a
    redraw gives the recorded sample; ``describe`` says in words what was checked or changed."""
    _check_plan_scope(user, engine, plan_id)
    result = service.verify_plan(engine, plan_id)
    return JSON({**result.as_dict(), "describe": result.describe()})


@router.get(
    PREFIX + "/{plan_id}/export",
    summary="The sample as printable forms, GeoJSON, GPX, the field kit or an offline map (atlas sample export)",
    response_class=Response,
    responses={200: {"description": "the file", "content": {m.split(";")[0]: {} for m in MEDIA.values()}}},
)
def export_plan(
    plan_id: PlanId,
    user: FullReader,
    engine: EngineDep,
    format: Annotated[Literal["xlsx", "csv", "geojson", "gpx", "xlsform", "xform", "package", "mbtiles"],
                      Query(description="xlsx, csv, geojson or gpx; the field kit: xlsform, xform (ODK/Kobo forms), "
                                        "package (a team's zip: forms, preload CSVs, GPX, offline map) or mbtiles "
                                        "(an offline map of the team's area for ODK Collect, QField, QGIS)")],
    table: Annotated[Literal["households", "villages", "strata", "frame"],
                     Query(description="for csv: households, villages, strata or frame")] = "households",
    team: Annotated[int | None, Query(ge=1, le=20, description="for gpx, package and mbtiles: only this team")] = None,
    form: Annotated[Literal["household", "village"], Query(description="for xlsform and xform: household (附件1) or "
                                                                      "village (附件2)")] = "household",
    raster: Annotated[bool, Query(description="for mbtiles: PNG tiles with the names drawn in (default: vector "
                                              "tiles)")] = False,
    show_names: Annotated[bool, Query(description="household heads' names and ID numbers in full (only for "
                                                  "roles allowed, e.g. inspectors assigned to the plan; "
                                                  "audited); masked otherwise; an offline map never holds them")] = False,
) -> Response:
    if raster and format != "mbtiles":
        raise ValidationError("raster is an option of format=mbtiles only")
    _check_plan_scope(user, engine, plan_id)
    if format == "mbtiles":
        path, result = field_maps.mbtiles_download(engine, plan_id, team=team, raster=raster)
    else:
        path, result = service.export_plan_download(
            engine, plan_id, fmt=format, table=table, team=team, form=form, show_names=show_names,
            may_see_names=lambda assignees: user.can_see_names(plan_assignees=assignees), actor=user.actor)
    headers = {"X-Atlas-Export": json.dumps({k: v for k, v in result.items() if k != "path"}, ensure_ascii=True)}
    return FileResponse(path, media_type=MEDIA[format], filename=path.name, headers=headers,
                        background=BackgroundTask(remove_download, path))


# ---------------------------------------------------------------------- inspectors


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: int | None = Field(None, ge=1, le=20, description="the team (检查组) they join; default every team")


@router.get(PREFIX + "/{plan_id}/assignments", summary="Inspectors assigned to a plan")
def list_assignments(plan_id: PlanId, user: FullReader, engine: EngineDep) -> Any:
    _check_plan_scope(user, engine, plan_id)
    frame = service.plan_assignments(engine, plan_id)
    return JSON({"items": frame.to_dict("records")})


UserName = Annotated[str, PathParam(max_length=64, pattern=r"^[^/\x00-\x1f]+$", description="login name")]


@router.put(PREFIX + "/{plan_id}/assignments/{user_name}", summary="Assign an inspector (atlas sample assign)")
def assign(plan_id: PlanId, user_name: UserName, user: Editor, engine: EngineDep,
           body: Annotated[AssignRequest | None, Body()] = None) -> Any:
    """Assign an inspector (or administrator) to the plan: they record its findings and see its
    households' names. Planners and administrators only; audited."""
    _check_plan_scope(user, engine, plan_id)
    team = body.team if body is not None else None
    return JSON(service.assign_inspector(engine, plan_id, user_name, team=team, actor=user.actor))


@router.delete(PREFIX + "/{plan_id}/assignments/{user_name}",
               summary="Take an inspector off a plan (atlas sample assign --remove)")
def unassign(plan_id: PlanId, user_name: UserName, user: Editor, engine: EngineDep) -> Any:
    _check_plan_scope(user, engine, plan_id)
    return JSON(service.assign_inspector(engine, plan_id, user_name, remove=True, actor=user.actor))


# ---------------------------------------------------------------------- findings

FINDINGS = PREFIX + "/{plan_id}/findings"


def finding_json(row: dict) -> dict:
    out = {"id": int(row["id"]), "plan_id": int(row["plan_id"]), "version": int(row["version"])}
    out.update({k: row.get(k) for k in SHOWN_FIELDS if k in row})
    out["history"] = json.loads(row.get("history_json") or "[]")
    return out


def _may_record(user: Principal, engine, plan_id: int) -> None:
    service.check_may_record(engine, plan_id,
                             lambda assignees: user.can_record_findings(plan_assignees=assignees))


def _changeable(user: Principal, engine, plan_id: int, finding: str, if_match: str | None,
                body_version: int | None) -> tuple[int, int]:
    """The finding's id and the version a change is conditional on, once the caller may change it."""
    _check_plan_scope(user, engine, plan_id)
    _may_record(user, engine, plan_id)
    version = expected_version(if_match, body_version)
    return int(domain.finding_of_plan(engine, plan_id, finding)["id"]), version


def _finding_response(row: dict, status_code: int = 200) -> JSON:
    return JSON(finding_json(row), status_code=status_code, headers={"ETag": f'"{int(row["version"])}"'})


class FindingCreate(BaseModel):
    """The options of ``atlas finding add``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"description": "帮扶措施与致贫原因不一致", "responsible_unit": "兴仁镇人民政府", "deadline": "2019-12-31",
         "kind": "措施制定", "village": "兴仁镇/郝集村"}]})

    description: text(4000) | None = Field(None, description="the problem, concrete (见事见人); required unless "
                                                           "from_answer (then it replaces the proposal's)")
    from_answer: text(200) | None = Field(None, description="confirm a proposal of the answers (its key from GET "
                                                            ".../answers/proposals): category, kind, household or "
                                                            "village and description come from it")
    responsible_unit: text(200) = Field(description="unit responsible for rectification")
    deadline: text(10) = Field(description="rectification deadline YYYY-MM-DD")
    category: text(20) | None = Field(None, description="精准识别, 精准帮扶, 精准脱贫 or 其他 (or identification, "
                                                        "assistance, exit, other)")
    kind: text(20) | None = Field(None, description="表3 row: 漏评, 措施制定, 项目实施, 资金使用, 政策保障, 驻村帮扶, 错退 ...")
    household: text(40) | None = Field(None, description="sampled household code")
    village: text(200) | None = Field(None, description="sampled village (name or township/name)")
    found_on: text(10) | None = Field(None, description="date found YYYY-MM-DD (default today)")

    @model_validator(mode="after")
    def _described_or_proposed(self) -> FindingCreate:
        if self.from_answer is not None:
            given = [k for k in ("category", "kind", "household", "village") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"from_answer takes them from the proposal; drop {', '.join(given)}")
        elif self.description is None:
            raise ValueError("give description (or confirm a proposal with from_answer)")
        return self


class FindingUpdate(BaseModel):
    """The options of ``atlas finding update``; ``version`` (or If-Match) is the version you read."""

    model_config = ConfigDict(extra="forbid")

    status: text(20) | None = Field(None, description="rectifying (整改中) or closed (已整改销号; or use .../close)")
    note: text(4000) | None = Field(None, description="progress note (required when closing)")
    deadline: text(10) | None = Field(None, description="new deadline YYYY-MM-DD")
    responsible_unit: text(200) | None = None
    version: int | None = Field(None, ge=1, le=INT32_MAX)


class FindingClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: text(4000) = Field(description="evidence of the rectification (整改佐证)")
    version: int | None = Field(None, ge=1, le=INT32_MAX)


@router.get(FINDINGS, summary="Findings of a plan (atlas finding list)")
def list_findings(
    plan_id: PlanId, user: FullReader, engine: EngineDep,
    status: Annotated[Literal["open", "rectifying", "closed"] | None, Query()] = None,
    overdue: Annotated[bool, Query(description="only findings past their deadline and not closed")] = False,
) -> Any:
    _check_plan_scope(user, engine, plan_id)
    frame = domain.list_findings(engine, plan=plan_id, status=status, overdue=overdue)
    items = [finding_json(r) for r in frame.to_dict("records")]
    return JSON({"items": items, "numberReturned": len(items)})


@router.get(FINDINGS + "/summary", summary="表3: findings by category and kind (atlas finding summary)")
def findings_summary(plan_id: PlanId, user: FullReader, engine: EngineDep) -> Any:
    _check_plan_scope(user, engine, plan_id)
    return JSON(table3(domain.list_findings(engine, plan=plan_id)).to_dict("records"))


@router.post(FINDINGS, status_code=201, summary="Record a finding (atlas finding add)")
def add_finding(plan_id: PlanId, user: Inspector, engine: EngineDep,
                body: Annotated[FindingCreate, Body()]) -> Any:
    """Against a sampled household (its code) or village of the plan. Inspectors assigned to the
    plan and administrators only; audited."""
    _check_plan_scope(user, engine, plan_id)
    _may_record(user, engine, plan_id)
    if body.from_answer is not None:
        row = answers_service.add_finding_from_answer(
            engine, plan_id, body.from_answer, responsible_unit=body.responsible_unit, deadline=body.deadline,
            description=body.description, found_on=body.found_on, actor=user.actor)
        return _finding_response(row, status_code=201)
    row = domain.add_finding(engine, plan_id, description=body.description, responsible_unit=body.responsible_unit,
                             deadline=body.deadline, category=body.category, kind=body.kind,
                             household=body.household, village=body.village, found_on=body.found_on,
                             source=f"api:{user.name}"[:200], actor=user.actor)
    return _finding_response(row, status_code=201)


@router.get(FINDINGS + "/{finding}", summary="One finding, with its history and ETag")
def get_finding(plan_id: PlanId, finding: FindingKey, user: FullReader, engine: EngineDep) -> Any:
    _check_plan_scope(user, engine, plan_id)
    return _finding_response(domain.finding_of_plan(engine, plan_id, finding))


@router.patch(FINDINGS + "/{finding}", summary="Move a finding forward or change it (atlas finding update)",
              responses=problem_responses(409, 412, 428))
def update_finding(
    plan_id: PlanId, finding: FindingKey, user: Inspector, engine: EngineDep,
    body: Annotated[FindingUpdate, Body()],
    if_match: Annotated[str | None, Header(description=IF_MATCH_HELP, max_length=100)] = None,
) -> Any:
    """Needs the version you read (If-Match or ``version``): a finding changed since is refused
    (412/409), never overwritten. Status moves forward only: open -> rectifying -> closed."""
    finding_id, version = _changeable(user, engine, plan_id, finding, if_match, body.version)
    row = domain.update_finding(engine, finding_id, status=body.status, note=body.note, deadline=body.deadline,
                                responsible_unit=body.responsible_unit, version=version, actor=user.actor)
    return _finding_response(row)


@router.post(FINDINGS + "/{finding}/close", summary="Close a finding (atlas finding close)",
             responses=problem_responses(409, 412, 428))
def close_finding(
    plan_id: PlanId, finding: FindingKey, user: Inspector, engine: EngineDep,
    body: Annotated[FindingClose, Body()],
    if_match: Annotated[str | None, Header(description=IF_MATCH_HELP, max_length=100)] = None,
) -> Any:
    """已整改销号: needs a note of the evidence and the version you read."""
    finding_id, version = _changeable(user, engine, plan_id, finding, if_match, body.version)
    return _finding_response(domain.close_finding(engine, finding_id, note=body.note, version=version,
                                                  actor=user.actor))


# ---------------------------------------------------------------------- answers of the phone forms

ANSWERS = PREFIX + "/{plan_id}/answers"
ANSWERS_LIMIT = UploadLimit("max_upload_mb", "submissions export", "export the photos in several zips, or import "
                            "on the server with atlas sample answers import")


@upload_post(router, ANSWERS, ANSWERS_LIMIT, response_class=JSON,
             summary="Import an ODK Central or KoboToolbox export (atlas sample answers import)")
def import_answers(plan_id: PlanId, user: Inspector, engine: EngineDep, settings: SettingsDep,
                   file: Annotated[UploadFile, File(description="ODK Central CSV or its zip with media/; KoboToolbox "
                                                                "XLSX or CSV (or a zip with the photos)")],
                   strict: Annotated[bool, Query(description="write nothing when any row is refused")] = False,
                   ) -> Response:
    """Accepted rows are written, refused rows listed (each naming the instance id and field);
    ``strict`` writes nothing when any is refused. Inspectors assigned to the plan and
    administrators only; audited."""
    _check_plan_scope(user, engine, plan_id)
    _may_record(user, engine, plan_id)
    name = display_name(file.filename)
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ".csv"
    with upload_folder() as folder:
        path = folder / f"answers{suffix if suffix in ('.csv', '.xlsx', '.zip') else '.csv'}"
        save_upload(file, path, ANSWERS_LIMIT, settings, name=name)
        with named_errors(path, name):
            report = answers_service.import_answers(engine, plan_id, path, strict=strict, name=name,
                                                    source=f"api:{user.name}"[:200], actor=user.actor)
    return JSON(report.as_dict(), status_code=200 if report.written else 422)


@router.get(ANSWERS, summary="Submissions of a plan's phone forms (atlas sample answers list)")
def list_answers(plan_id: PlanId, user: FullReader, engine: EngineDep) -> Any:
    """Instance id, form, household code or village, submitted, distance from the registered
    position and whether over 1 km, current or superseded, number of photos (never answers'
    free text or names)."""
    _check_plan_scope(user, engine, plan_id)
    items = answers_service.list_answers(engine, plan_id).to_dict("records")
    return JSON({"items": items, "numberReturned": len(items)})


@router.get(ANSWERS + "/results", summary="表4 and 表5 from the answers (atlas sample answers results)")
def answer_results(plan_id: PlanId, user: FullReader, engine: EngineDep) -> Any:
    _check_plan_scope(user, engine, plan_id)
    result = answers_service.answer_results(engine, plan_id)
    return JSON({"households": result["households"], "villages": result["villages"],
                 "table4": result["table4"].to_dict("records"), "table5": result["table5"].to_dict("records")})


@router.get(ANSWERS + "/proposals", summary="Findings the answers suggest (atlas sample answers proposals)")
def answer_proposals(plan_id: PlanId, user: FullReader, engine: EngineDep) -> Any:
    """Not recorded until an inspector confirms one: POST .../findings with ``from_answer``."""
    _check_plan_scope(user, engine, plan_id)
    items = answers_service.answer_proposals(engine, plan_id)
    return JSON({"items": items, "numberReturned": len(items)})


@router.get(ANSWERS + "/{answer_id}/photos/{field}", summary="A photo of a submission",
            response_class=Response, responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
def answer_photo(plan_id: PlanId, answer_id: Annotated[int, PathParam(ge=1, le=INT32_MAX)],
                 field: Annotated[Literal["photo_1", "photo_2", "photo_3"], PathParam()],
                 user: FullReader, engine: EngineDep) -> Response:
    """Only for callers who may see the plan's households (as for their names)."""
    _check_plan_scope(user, engine, plan_id)
    photo = answers_service.answer_photo(engine, plan_id, answer_id, field,
                                         may_see=lambda assignees: user.can_see_names(plan_assignees=assignees))
    return Response(photo["content"], media_type=photo["media_type"],
                    headers={"Cache-Control": "private, no-store"})
