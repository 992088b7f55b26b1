"""The project pipeline (项目库流程): a project is proposed by its village, reviewed by the
township, approved by the county (入库), started, completed, and handed over as an asset.

Each step moves the project one stage on, never two, never back:

======== ============ ============ =====================================================
step     from         to           needs
======== ============ ============ =====================================================
propose  (new)        proposed     a name, a kind and the village proposing it
review   proposed     reviewed
approve  reviewed     approved     绩效目标; an industry project (养殖, 种植) also 联农带农
                                   (its mechanism and the households it links)
start    approved     in_progress
complete in_progress  completed
handover completed    handed_over  the asset's class (经营性 / 公益性 / 到户), owner, maintainer
======== ============ ============ =====================================================

A step is dated (the day it was taken, not before the previous step's). The coarse
``status`` of a project (计划 / 在建 / 已完成, what the gap analyses and the imports know)
follows the stage (:data:`STATUS_OF_STAGE`). A project with no pipeline history, or whose
status was changed outside the pipeline (an import, a registry edit), takes the stage of
its status (:data:`STAGE_OF_STATUS`): 计划 counts as approved (it is in the county's plan).

Pure: no database; :mod:`geo.services.library` reads, checks here, writes and audits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from geo.enums import AssetClass, ProjectKind, ProjectStage, ProjectStatus
from geo.errors import ValidationError

S = ProjectStage


@dataclass(frozen=True)
class Step:
    """One step of the pipeline: the stage it starts from (None: a new project), the stage it
    leads to, its Chinese name and who takes it."""

    name: str
    source: ProjectStage | None
    target: ProjectStage
    label: str
    office: str


STEPS: dict[str, Step] = {step.name: step for step in (
    Step("propose", None, S.PROPOSED, "村级申报", "村两委"),
    Step("review", S.PROPOSED, S.REVIEWED, "乡镇审核", "乡镇人民政府"),
    Step("approve", S.REVIEWED, S.APPROVED, "县级审批入库", "县级项目主管部门"),
    Step("start", S.APPROVED, S.IN_PROGRESS, "开工实施", "项目实施单位"),
    Step("complete", S.IN_PROGRESS, S.COMPLETED, "竣工验收", "县级项目主管部门"),
    Step("handover", S.COMPLETED, S.HANDED_OVER, "资产移交", "县级项目主管部门"),
)}
#: The stages in pipeline order.
ORDER: tuple[ProjectStage, ...] = tuple(ProjectStage)
#: The step that leaves each stage.
NEXT_STEP: dict[ProjectStage, str] = {step.source: name for name, step in STEPS.items() if step.source is not None}

#: The coarse status a project has at each stage.
STATUS_OF_STAGE: dict[ProjectStage, ProjectStatus] = {
    S.PROPOSED: ProjectStatus.PLANNED, S.REVIEWED: ProjectStatus.PLANNED, S.APPROVED: ProjectStatus.PLANNED,
    S.IN_PROGRESS: ProjectStatus.BUILDING, S.COMPLETED: ProjectStatus.COMPLETED,
    S.HANDED_OVER: ProjectStatus.COMPLETED,
}
#: The stage of a project known only by its status (recorded before the pipeline, imported, or
#: changed outside it). Migration 0010 wrote the same mapping as each old project's first event.
STAGE_OF_STATUS: dict[ProjectStatus, ProjectStage] = {
    ProjectStatus.PLANNED: S.APPROVED, ProjectStatus.BUILDING: S.IN_PROGRESS,
    ProjectStatus.COMPLETED: S.COMPLETED,
}
#: Industry projects: approval needs how farmers benefit (联农带农).
INDUSTRY_KINDS = (ProjectKind.BREEDING.value, ProjectKind.PLANTING.value)
#: Fields of performance targets and farmer benefits a step may set.
TARGET_FIELDS = ("performance_targets", "benefit_households", "benefit_jobs", "benefit_income_yuan",
                 "benefit_mechanism")
OUTSIDE_NOTE = "状态在项目库流程外被修改，按状态计"


def parse_step(text: str) -> Step:
    """The step named ``text`` (English name or Chinese label).

    Raises
    ------
    ValidationError
        Naming the steps.
    """
    key = str(text).strip()
    for step in STEPS.values():
        if key in (step.name, step.label):
            return step
    raise ValidationError(f"unknown step {key!r}; steps: " + ", ".join(f"{s.name} ({s.label})" for s in STEPS.values()))


def current_stage(status: Any, last_stage: Any) -> tuple[ProjectStage, str | None]:
    """The stage of a project from its status and its latest pipeline event's stage (None:
    no event), and a note when the two disagree (the status was changed outside the
    pipeline: the status wins)."""
    status = ProjectStatus.parse(status)
    if last_stage is None or (isinstance(last_stage, float) and pd.isna(last_stage)):
        return STAGE_OF_STATUS[status], None
    stage = ProjectStage.parse(last_stage)
    if STATUS_OF_STAGE[stage] == status:
        return stage, None
    return STAGE_OF_STATUS[status], OUTSIDE_NOTE


def _name(project: Mapping[str, Any]) -> str:
    code = project.get("code")
    return f"project {code}" if code else f"project {project.get('id')}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or (isinstance(value, str) and not value.strip())


def check_step(step: Step, project: Mapping[str, Any], *, stage: ProjectStage | None, on: dt.date,
               last_date: dt.date | None) -> None:
    """Refuse a step that does not follow from the project's stage, is dated before the
    previous step, or lacks what the step needs.

    Parameters
    ----------
    step
        The step asked for.
    project
        The project's fields as they will be after the step (``code``, ``kind``, targets ...).
    stage
        The project's stage now (None: a new project).
    on
        The day of the step.
    last_date
        The day of the project's latest step (None: none).

    Raises
    ------
    ValidationError
        Saying the stage the project is at, the step that comes next, and what is missing.
    """
    who = _name(project)
    if step.source is None and stage is not None:
        raise ValidationError(f"{who} is already in the library ({stage.label}); propose a new project instead")
    if step.source is not None and stage != step.source:
        if stage == ProjectStage.HANDED_OVER:
            raise ValidationError(f"{who} is {stage.label} ({stage.value}): the pipeline has ended; nothing follows "
                                  "the hand-over")
        following = STEPS[NEXT_STEP[stage]]
        raise ValidationError(
            f"{who} is at {stage.label} ({stage.value}); {step.name} ({step.label}) needs {step.source.label} "
            f"({step.source.value}). No step may be skipped or repeated: the next step is {following.name} "
            f"({following.label})")
    if last_date is not None and on < last_date:
        raise ValidationError(f"{who}: {step.label} dated {on} is before the previous step ({last_date}); "
                              "give the day it was taken (YYYY-MM-DD), on or after that")
    if step.name == "propose":
        missing = [f for f in ("name", "kind", "village_id") if _blank(project.get(f))]
        if missing:
            raise ValidationError(f"a proposal needs {', '.join(missing)}: a project is proposed by its village "
                                  "(--village NAME), with a name and a kind")
    if step.name == "approve":
        if _blank(project.get("performance_targets")):
            raise ValidationError(f"{who} cannot be approved without 绩效目标 (performance_targets): state what it "
                                  "will deliver, e.g. --targets '新建硬化路2.1公里，2025年底前完工'")
        if str(project.get("kind")) in INDUSTRY_KINDS and (
                _blank(project.get("benefit_mechanism")) or not (project.get("benefit_households") or 0) > 0):
            raise ValidationError(f"{who} is an industry project ({ProjectKind(str(project['kind'])).label}): its "
                                  "approval needs 联农带农, the mechanism (--mechanism, e.g. 务工、分红) and the "
                                  "households it links (--households N, more than 0)")


def check_targets(values: Mapping[str, Any]) -> dict[str, Any]:
    """The target and benefit fields given (None left out), checked.

    Raises
    ------
    ValidationError
        A negative or non-whole count, a negative income, naming the field.
    """
    out: dict[str, Any] = {}
    for field in TARGET_FIELDS:
        value = values.get(field)
        if value is None:
            continue
        if field in ("benefit_households", "benefit_jobs"):
            if isinstance(value, bool) or not float(value).is_integer() or value < 0:
                raise ValidationError(f"{field} must be a whole number 0 or more, not {value!r}")
            value = int(value)
        elif field == "benefit_income_yuan":
            if isinstance(value, bool) or not pd.notna(value) or float(value) < 0:
                raise ValidationError(f"benefit_income_yuan must be a number of yuan a year, 0 or more, not {value!r}")
            value = float(value)
        else:
            value = str(value).strip() or None
        out[field] = value
    return out


def check_asset(project: Mapping[str, Any], asset: Mapping[str, Any]) -> dict[str, Any]:
    """The asset a hand-over creates, checked: class, owner and maintainer required.

    Returns
    -------
    dict
        ``asset_class`` (value), ``owner``, ``maintainer``, ``value_wan_yuan`` [万元]
        (default the project's funds), ``name``, ``note``.

    Raises
    ------
    ValidationError
        Naming every missing or bad field and how to give it.
    """
    who = _name(project)
    problems = []
    klass = None
    if _blank(asset.get("asset_class")):
        problems.append("its class (--class 经营性 | 公益性 | 到户)")
    else:
        try:
            klass = AssetClass.parse(asset["asset_class"])
        except ValueError as exc:
            problems.append(f"a known class ({exc})")
    for field, label in (("owner", "its owner (--owner, e.g. 村集体经济组织)"),
                         ("maintainer", "its maintainer (--maintainer, the 管护主体)")):
        if _blank(asset.get(field)):
            problems.append(label)
    value = asset.get("value_wan_yuan")
    if value is None or (isinstance(value, float) and pd.isna(value)):
        value = project.get("funds_wan_yuan")
        value = None if value is None or pd.isna(value) else float(value)
    elif isinstance(value, bool) or not float(value) >= 0:
        problems.append(f"a value of 0 万元 or more (--value), not {value!r}")
    if problems:
        raise ValidationError(f"{who} cannot be handed over as an asset without " + "; ".join(problems)
                              + ". Nothing was written")
    return {"asset_class": klass.value, "owner": str(asset["owner"]).strip(),
            "maintainer": str(asset["maintainer"]).strip(), "value_wan_yuan": None if value is None else float(value),
            "name": str(asset.get("name") or project.get("name") or "").strip(),
            "note": (str(asset["note"]).strip() or None) if asset.get("note") else None}


def with_stages(projects: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """``projects`` with ``stage``, ``stage_label``, ``stage_date`` (the day of the latest
    step), ``next_step`` and ``stage_note`` from their events (``project_id``, ``stage``,
    ``event_date``, in the order they were recorded)."""
    out = projects.copy()
    last = events.groupby("project_id").tail(1).set_index("project_id") if len(events) else None
    stages, dates, notes = [], [], []
    for pid, status in zip(out["id"], out["status"]):
        row = None if last is None or pid not in last.index else last.loc[pid]
        stage, note = current_stage(status, None if row is None else row["stage"])
        stages.append(stage)
        dates.append(None if row is None or note else row["event_date"])
        notes.append(note)
    out["stage"] = [s.value for s in stages]
    out["stage_label"] = [s.label for s in stages]
    out["stage_date"] = dates
    out["next_step"] = [NEXT_STEP.get(s) for s in stages]
    out["stage_note"] = notes
    return out
