"""The project library (项目库) and the asset ledger (资产台账) over HTTP, as ``atlas projects``
and ``atlas assets``.

``GET /api/projects`` lists projects with their stage; ``GET /api/projects/{project}`` gives one
with its dated history, its asset and its ETag. ``POST /api/projects`` proposes a project;
``POST /api/projects/{project}/{step}`` takes the next step (review, approve, start, complete,
handover) and needs the version read (``If-Match`` or ``version`` in the body): a project
changed since is refused (412 / 409). A step out of order, a hand-over without class, owner
or maintainer, a PV station the ledger does not hold: 422 or 404, nothing written. Approval is
the county's: an account limited to townships gets 403. ``POST /api/projects/propose-from-priority``
fills the library with the ranking's candidates (idempotent). ``GET /api/assets`` and
``GET /api/assets.xlsx`` give the asset ledger. Writes: planners and administrators, inside
their townships; every change audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Editor, EngineDep, FullReader, Reader, TownshipParam
from api.downloads import DOWNLOAD_CONTENT, attachment
from api.geojson import JSON
from api.params import IF_MATCH_HELP, expected_version
from api.schemas.common import problem_responses, text
from geo.geojson import geometry_dicts
from geo.services import library

router = APIRouter(tags=["project library"], responses=problem_responses(401, 403, 404, 422))

ProjectKey = Annotated[str, Path(min_length=1, max_length=40, description="the project's code or id")]
Step = Literal["review", "approve", "start", "complete", "handover"]


class Targets(BaseModel):
    """绩效目标 and 联农带农."""

    model_config = ConfigDict(extra="forbid")

    performance_targets: text(4000) | None = Field(None, description="绩效目标: what the project will deliver")
    benefit_households: int | None = Field(None, ge=0, le=10_000_000, description="联农带农: households linked")
    benefit_jobs: int | None = Field(None, ge=0, le=10_000_000, description="联农带农: jobs [persons]")
    benefit_income_yuan: float | None = Field(None, ge=0, le=1e12, description="联农带农: income added [yuan/year]")
    benefit_mechanism: text(1000) | None = Field(None, description="联农带农机制: 务工、分红、订单收购 ...")


class Proposal(Targets):
    """The options of ``atlas projects propose``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "郝集村肉牛养殖场", "kind": "breeding", "village": "兴仁镇/郝集村", "funds_wan_yuan": 80,
         "performance_targets": "新建牛舍2栋，存栏肉牛200头", "benefit_households": 40,
         "benefit_mechanism": "务工、分红"}]})

    name: text(200) = Field(description="the project's name")
    kind: text(40) = Field(description="road, well, canal, reservoir, farmland, breeding, planting, other (or 道路建设 ...)")
    village: text(200) = Field(description="the village proposing it: name, township/name, 12-digit code or id")
    year: int | None = Field(None, ge=1949, le=2100)
    code: text(40) | None = Field(None, description="default XM<year>-<village code>-<n>")
    funds_wan_yuan: float | None = Field(None, ge=0, le=1e9, description="estimated funds [万元]")
    quantity: float | None = Field(None, ge=0, le=1e9)
    quantity_unit: text(20) | None = Field(None, description="km, 眼, 个, 亩 ...")
    on: dt.date | None = Field(None, description="the day it was proposed (default today)")
    office: text(200) | None = None
    note: text(2000) | None = None


class StepBody(Targets):
    """A step: when, on whose behalf, a note; at hand-over the asset."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"on": "2026-10-01", "version": 5, "asset_class": "经营性", "owner": "郝集村股份经济合作社",
         "maintainer": "郝集村肉牛养殖合作社"}]})

    version: int | None = Field(None, ge=1, le=2**31 - 1, description="the version you read (or If-Match)")
    on: dt.date | None = Field(None, description="the day the step was taken (default today)")
    office: text(200) | None = None
    note: text(2000) | None = None
    asset_class: text(40) | None = Field(None, description="handover: 经营性 / 公益性 / 到户 (operating, "
                                                            "public_welfare, household)")
    owner: text(200) | None = Field(None, description="handover: 所有权人 (村集体 ...)")
    maintainer: text(200) | None = Field(None, description="handover: 管护主体")
    value_wan_yuan: float | None = Field(None, ge=0, le=1e9, description="handover: value [万元]")
    asset_code: text(40) | None = None
    asset_name: text(200) | None = None
    pv_station: text(40) | None = Field(None, description="handover: the PV station's 项目编号 (PV ledger)")


class CandidateRequest(BaseModel):
    """The options of ``atlas projects propose-from-priority``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["road", "water"] = "road"
    top: int = Field(10, ge=1, le=500)
    budget_wan_yuan: float | None = Field(None, ge=0, le=1e9)
    funded_only: bool = False
    rank: Literal["need", "value"] = "need"
    cost_yuan_per_km: float | None = Field(None, gt=0, le=1e9)
    cost_wan_yuan_per_supply_point: float | None = Field(None, gt=0, le=1e6)
    on: dt.date | None = None


def _project_json(row: dict, status_code: int = 200) -> JSON:
    body = {k: v for k, v in row.items() if k != "geometry"}
    body["geometry"] = geometry_dicts([row.get("geometry")])[0] if row.get("geometry") is not None else None
    return JSON(body, status_code=status_code, headers={"ETag": f'"{int(row["version"])}"'})


def _targets(body: Targets) -> dict[str, Any]:
    return body.model_dump(include=set(Targets.model_fields), exclude_none=True)


@router.get("/api/projects", summary="Projects with their pipeline stage (atlas projects list)")
def list_projects(
    user: Reader, engine: EngineDep, township: TownshipParam = None,
    stage: Annotated[str | None, Query(max_length=40, description="proposed, reviewed, approved, in_progress, "
                                                                   "completed, handed_over (or 村级申报 ...)")] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> Any:
    frame = library.list_projects(engine, township=user.township_filter(township), stage=stage, kind=kind)
    rows = library.project_records(frame)
    return JSON({"count": len(rows), "projects": rows})


@router.post("/api/projects", status_code=201, summary="Propose a project (atlas projects propose)",
             responses=problem_responses(409))
def propose(user: Editor, engine: EngineDep, body: Annotated[Proposal, Body()]) -> Any:
    """村级申报: stage proposed, status 计划; audited."""
    row = library.propose(engine, name=body.name, kind=body.kind, village=body.village, year=body.year,
                          code=body.code, funds_wan_yuan=body.funds_wan_yuan, quantity=body.quantity,
                          quantity_unit=body.quantity_unit, targets=_targets(body), on=body.on, office=body.office,
                          note=body.note, actor=user.actor, township=user.write_scope,
                          source=f"api:{user.name}"[:200])
    return _project_json(row, status_code=201)


@router.post("/api/projects/propose-from-priority", summary="The ranking's top candidates as proposed projects")
def propose_from_priority(user: Editor, engine: EngineDep, body: Annotated[CandidateRequest, Body()]) -> Any:
    """Road links or wells of the top ranked villages; running it again adds nothing."""
    options: dict[str, Any] = {"budget_wan_yuan": body.budget_wan_yuan, "rank": body.rank}
    for name in ("cost_yuan_per_km", "cost_wan_yuan_per_supply_point"):
        if getattr(body, name) is not None:
            options[name] = getattr(body, name)
    done = library.propose_from_priority(engine, kind=body.kind, top=body.top, funded_only=body.funded_only,
                                         on=body.on, actor=user.actor, township=user.write_scope, **options)
    return JSON({"kind": done.kind, "created": done.created, "skipped": done.skipped})


@router.get("/api/projects/{project}", summary="One project with its history, asset and ETag")
def get_project(project: ProjectKey, user: Reader, engine: EngineDep) -> Any:
    return _project_json(library.get_project(engine, project, township=user.township_filter()))


@router.post("/api/projects/{project}/{step}", summary="The next step of a project (atlas projects review ...)",
             responses=problem_responses(409, 412, 428))
def advance(
    project: ProjectKey, step: Step, user: Editor, engine: EngineDep, body: Annotated[StepBody, Body()],
    if_match: Annotated[str | None, Header(description=IF_MATCH_HELP, max_length=100)] = None,
) -> Any:
    """One step, in order, none skipped; needs the version you read. Approval: county-wide
    accounts only. Hand-over: the asset's class, owner and maintainer."""
    version = expected_version(if_match, body.version)
    asset = None
    if step == "handover":
        asset = library.AssetInput(asset_class=body.asset_class, owner=body.owner, maintainer=body.maintainer,
                                   value_wan_yuan=body.value_wan_yuan, code=body.asset_code, name=body.asset_name,
                                   pv_station=body.pv_station, note=body.note)
    row = library.advance(engine, project, step, on=body.on, version=version, office=body.office, note=body.note,
                          targets=_targets(body), asset=asset, actor=user.actor, township=user.write_scope)
    return _project_json(row)


@router.get("/api/assets", summary="The asset ledger (atlas assets list)")
def list_assets(user: FullReader, engine: EngineDep, township: TownshipParam = None) -> Any:
    frame = library.list_assets(engine, township=user.township_filter(township))
    rows = library.asset_records(frame)
    return JSON({"count": len(rows), "assets": rows})


@router.get("/api/assets.xlsx", summary="资产台账 as XLSX (atlas assets export)",
            responses={200: {"content": DOWNLOAD_CONTENT}})
def export_assets(user: FullReader, engine: EngineDep, township: TownshipParam = None) -> Any:
    content = library.asset_ledger_xlsx(engine, township=user.township_filter(township))
    return attachment(content, format="xlsx", filename="assets.xlsx", label="资产台账.xlsx")
