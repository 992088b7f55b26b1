"""Answers in: the phone forms' submissions imported into a plan, the results they give (表4,
表5) and the findings they suggest, confirmed one by one by an inspector.

Reading and checking the exports is :mod:`geo.inspection.answers`; the results and proposals
are :mod:`geo.inspection.results`; the SQL is :mod:`geo.storage.answers`. An import writes
every accepted submission in one transaction (``strict``: nothing when any row is refused)
and is audited in it; photos are kept in the database and given out only to callers who may
see the household (:func:`answer_photo`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from shapely.geometry import Point

from geo import audit, storage
from geo.audit import Actor
from geo.errors import Conflict, Forbidden, NotFound
from geo.inspection import answers as reader
from geo.inspection import results, xlsform
from geo.storage import inspection as store
from geo.services.findings import add_finding, list_findings
from geo.services.inspections import PlanRecord, answered_tables, load_record
from geo.storage import Bind, connect
from geo.storage import answers as sql


@dataclass
class ImportReport:
    """What an import did: submissions written (new, changed, unchanged), the refused rows
    with their reasons, positions flagged far from the registry, photos kept or missing."""

    plan_id: int
    file: str
    written: bool
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[reader.Problem] = field(default_factory=list)
    far: list[dict[str, Any]] = field(default_factory=list)
    photos: int = 0
    photos_missing: list[dict[str, str]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.inserted) + len(self.updated) + len(self.unchanged)

    def as_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "file": self.file, "written": self.written, "accepted": self.accepted,
                "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "refused": [p.as_dict() | {"text": p.text()} for p in self.refused], "far": self.far,
                "photos": self.photos, "photos_missing": self.photos_missing}


def _point(geometry) -> Point | None:
    return None if geometry is None or geometry.is_empty else geometry


def _expected(bind: Bind, record: PlanRecord, max_photo_bytes: int) -> reader.Expected:
    households = {h.household_code: (h.village_key, _point(h.geometry)) for h in record.households.itertuples()}
    villages = {v.village_key: _point(v.geometry) for v in record.villages.itertuples()}
    townships = storage.read_layer(bind, "townships", columns=["name"], with_names=False)
    outlines = townships.geometry.dropna()
    area = outlines.union_all() if len(outlines) else None
    return reader.Expected(int(record.plan["id"]), xlsform.form_version(record.draw["result_hash"]), households,
                           villages, area, "the registry's county (its townships' outlines)", max_photo_bytes)


def import_answers(bind: Bind, plan: int | str, path: Path | str, *, strict: bool = False, name: str | None = None,
                   source: str = "user", actor: Actor | None = None,
                   max_photo_bytes: int = reader.MAX_PHOTO_BYTES) -> ImportReport:
    """Import an ODK Central or KoboToolbox export of a plan's forms.

    Parameters
    ----------
    path
        CSV, XLSX, or a zip holding one of them and the photos (Central's ``media/``).
    strict
        Write nothing when any row is refused.
    name
        The file's name in messages (an upload's original name).
    max_photo_bytes
        Largest photo kept [bytes].

    Returns
    -------
    ImportReport
        Accepted submissions (written unless ``strict`` and some were refused) and the
        refused rows, each naming the instance id and the field.

    Raises
    ------
    NotFound
        No such plan.
    ValidationError
        The file is not a submissions export.
    """
    record = load_record(bind, plan)
    plan_id = int(record.plan["id"])
    expected = _expected(bind, record, max_photo_bytes)
    source_file = reader.read_submission_file(Path(path), name=name)
    accepted, problems = reader.check_file(source_file, expected)
    report = ImportReport(plan_id, source_file.name, written=False, refused=problems)
    if strict and problems:
        return report
    villages = dict(zip(record.villages["village_key"], record.villages["id"].astype(int)))
    households = {h.household_code: (int(h.id), int(h.sample_village_id)) for h in record.households.itertuples()}
    with connect(bind, write=True) as conn:
        touched = set()
        for s in accepted:
            if s.form == "household":
                household_id, village_id = households[s.target]
                registered = expected.households[s.target][1]
            else:
                household_id, village_id = None, int(villages[s.target])
                registered = expected.villages[s.target]
            distance, far = reader.distance_from(s.position, registered)
            values = {"form": s.form, "form_version": s.form_version, "sample_village_id": village_id,
                      "sample_household_id": household_id, "submitted_at": s.submitted_at,
                      "answers_json": json.dumps(s.answers, ensure_ascii=False, sort_keys=True),
                      "distance_m": distance, "far": far, "geom": s.position}
            stored = sql.find_answer(conn, plan_id, s.instance_id)
            if stored is None:
                answer_id = sql.insert_answer(conn, {**values, "plan_id": plan_id, "instance_id": s.instance_id,
                                                     "current": True, "history_json": "[]", "source": source[:200]})
                report.inserted.append(s.instance_id)
            elif stored["answers_json"] == values["answers_json"] and not s.photos:
                answer_id = int(stored["id"])
                report.unchanged.append(s.instance_id)
            else:
                answer_id = int(stored["id"])
                history = json.loads(stored["history_json"] or "[]")
                if stored["answers_json"] != values["answers_json"]:
                    history.append({"replaced_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                                    "submitted_at": None if pd.isna(stored["submitted_at"])
                                    else str(stored["submitted_at"]),
                                    "answers": json.loads(stored["answers_json"])})
                sql.update_answer(conn, answer_id, {**values, "history_json": json.dumps(history, ensure_ascii=False)})
                report.updated.append(s.instance_id)
            if s.photos:
                sql.replace_photos(conn, answer_id, [{"field": p.field, "filename": p.filename[:200],
                                                      "media_type": p.media_type, "size_bytes": len(p.content),
                                                      "sha256": p.sha256, "content": p.content,
                                                      "source": source[:200]} for p in s.photos])
                report.photos += len(s.photos)
            report.photos_missing += [{"instance_id": s.instance_id, "field": f} for f in s.photos_missing]
            if far:
                report.far.append({"instance_id": s.instance_id, "target": s.target, "distance_m": distance})
            touched.add((village_id, household_id, s.form))
        for village_id, household_id, form in touched:
            sql.mark_current(conn, plan_id, village_id, household_id, form)
        if actor is not None:
            audit.record(conn, actor=actor, action="import", layer="inspection_answers", row_id=plan_id,
                         after={"file": source_file.name, "inserted": len(report.inserted),
                                "updated": len(report.updated), "unchanged": len(report.unchanged),
                                "refused": len(problems), "photos": report.photos})
    report.written = True
    return report


def list_answers(bind: Bind, plan: int | str, *, current_only: bool = False) -> pd.DataFrame:
    """A plan's submissions (no answers' free text, no photos): instance id, form, household
    code or village, submitted time, distance from the registry and whether far, current."""
    plan_id = int(store.find_plan(bind, plan)["id"])
    frame = sql.read_answers(bind, plan_id, current_only=current_only)
    columns = ["id", "instance_id", "form", "form_version", "team", "township_name", "village_name", "village_key",
               "household_code", "submitted_at", "distance_m", "far", "current", "photos"]
    return pd.DataFrame(frame[columns]) if len(frame) else pd.DataFrame(columns=columns)


def _current(bind: Bind, plan_id: int) -> pd.DataFrame:
    frame = sql.read_answers(bind, plan_id, current_only=True)
    if len(frame):
        frame["answers"] = [json.loads(t) for t in frame["answers_json"]]
    return frame


def answer_results(bind: Bind, plan: int | str) -> dict[str, Any]:
    """表4 with the result blocks filled from the latest answers, and 表5 with the spot check
    of each finding's rectification from its village's answer
    (:func:`geo.services.inspections.answered_tables`).

    Returns
    -------
    dict
        ``table4``, ``table5`` (DataFrames), ``households`` and ``villages`` answered.
    """
    record = load_record(bind, plan)
    return answered_tables(bind, record, list_findings(bind, plan=int(record.plan["id"])))


def _proposals(record: PlanRecord, answers: pd.DataFrame) -> list[results.Proposal]:
    out: list[results.Proposal] = []
    for r in answers.itertuples():
        place = f"{r.township_name}/{r.village_name}"
        if r.form == "household":
            out += results.household_proposals(r.instance_id, r.answers, village_name=place)
        else:
            out += results.village_proposals(r.instance_id, r.answers, village_name=place)
    return out


def _confirmed(bind: Bind, plan_id: int) -> set[str]:
    findings = store.read_findings(bind, plan_id=plan_id)
    return {s.removeprefix("answer:") for s in findings["source"] if isinstance(s, str) and s.startswith("answer:")} \
        if len(findings) else set()


def answer_proposals(bind: Bind, plan: int | str) -> list[dict[str, Any]]:
    """The findings the latest answers suggest, not yet confirmed: ``key`` (``instance#rule``),
    表3 category and kind, description (household codes, never names)."""
    record = load_record(bind, plan)
    plan_id = int(record.plan["id"])
    done = _confirmed(bind, plan_id)
    return [p.as_dict() for p in _proposals(record, _current(bind, plan_id)) if p.key not in done]


def add_finding_from_answer(bind: Bind, plan: int | str, key: str, *, responsible_unit: str, deadline: str,
                            description: str | None = None, found_on: str | None = None,
                            actor: Actor | None = None) -> dict[str, Any]:
    """Record the finding proposal ``key`` suggests (its category, kind, household or village
    and description, which ``description`` may replace): the inspector's confirmation.

    Raises
    ------
    NotFound
        No such proposal among the plan's latest answers.
    Conflict
        Already recorded.
    """
    record = load_record(bind, plan)
    plan_id = int(record.plan["id"])
    key = str(key).strip()
    if key in _confirmed(bind, plan_id):
        raise Conflict(f"the finding {key} suggests is already recorded; see atlas finding list --plan {plan_id}")
    found = {p.key: p for p in _proposals(record, _current(bind, plan_id))}.get(key)
    if found is None:
        raise NotFound(f"no proposal {key!r} among plan {plan_id}'s latest answers; list them with "
                       f"atlas sample answers proposals {plan_id}")
    return add_finding(bind, plan_id, description=description or found.description,
                       responsible_unit=responsible_unit, deadline=deadline, category=found.category.value,
                       kind=found.kind.value, household=found.household,
                       village=None if found.household else found.village, found_on=found_on,
                       source=f"answer:{key}"[:200], actor=actor)


def answer_photo(bind: Bind, plan_id: int, answer_id: int, field_name: str, *,
                 may_see: Callable[[Collection[int]], bool]) -> dict[str, Any]:
    """A photo of a submission, for a caller ``may_see(plan assignees)`` allows (the callers
    who may see the plan's households' names).

    Raises
    ------
    Forbidden
        The caller may not see the plan's households.
    NotFound
        No such submission or photo in the plan.
    """
    store.find_plan(bind, plan_id)
    if not may_see(store.plan_assignees(bind, plan_id)):
        raise Forbidden("photos of households are shown only to accounts that may see this plan's households "
                        "(inspectors assigned to it, administrators)")
    answers = sql.read_answers(bind, plan_id)
    if answer_id not in set(answers["id"].astype(int)) if len(answers) else True:
        raise NotFound(f"plan {plan_id} has no submission {answer_id}")
    photo = sql.read_photo(bind, answer_id, field_name)
    if photo is None:
        raise NotFound(f"submission {answer_id} has no photo {field_name!r}; photos: {', '.join(xlsform.PHOTOS)}")
    return photo


def write_results(result: dict[str, Any], path: Path | str) -> None:
    """表4 and 表5 of :func:`answer_results` as a workbook, with the demo-data notice."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"说明": [f"按入户答卷{result['households']}户、村级答卷{result['villages']}个村填报",
                               "演示数据（demo:synthetic / demo:approximate）为合成数据，不是实地调查结果"]}
                     ).to_excel(writer, sheet_name="说明", index=False)
        result["table4"].to_excel(writer, sheet_name="表4督查任务完成情况汇总表", index=False)
        result["table5"].to_excel(writer, sheet_name="表5反馈问题整改情况抽查汇总表", index=False)
