"""Findings (督查发现问题) of an inspection plan, recorded and moved forward in the registry:
each change checked against the rules of :mod:`geo.inspection.findings`, stored through
:mod:`geo.storage.inspection` and audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from geo import audit
from geo.audit import Actor
from geo.enums import FindingStatus
from geo.errors import NotFound, StaleVersion, ValidationError
from geo.storage import inspection as store
from geo.inspection.findings import NEXT_STATUS, parse_choice, parse_day, resolve_kind, village_matches
from geo.storage import Bind, connect


def add_finding(
    bind: Bind,
    plan: int | str,
    *,
    description: str,
    responsible_unit: str,
    deadline: dt.date | str,
    category: str | None = None,
    kind: str | None = None,
    household: str | None = None,
    village: str | None = None,
    found_on: dt.date | str | None = None,
    source: str = "user",
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Record a finding against a sampled household (by code) or village (name, key or
    township/name) of a plan. Returns the stored finding. With ``actor``, the finding is
    written to the audit log in the same transaction.

    Raises
    ------
    NotFound
        The plan, or a household or village not in its sample.
    ValidationError
        Missing description, unit or target; a bad category/kind; a deadline before the
        date found.
    """
    found = parse_day(found_on or dt.date.today(), "found_on")
    due = parse_day(deadline, "deadline")
    if due < found:
        raise ValidationError(f"deadline {due} is before the date the problem was found ({found})")
    if not str(description or "").strip():
        raise ValidationError("describe the problem (description): 问题要分门别类、见事见人、明确具体")
    if not str(responsible_unit or "").strip():
        raise ValidationError("name the unit responsible for rectification (responsible_unit)")
    cat, knd = resolve_kind(category, kind)
    with connect(bind, write=True) as conn:  # reads, then writes what it read
        row = store.find_plan(conn, plan)
        plan_id = int(row["id"])
        villages = store.read_sampled_villages(conn, plan_id)
        household_id = None
        if household is not None:
            households = store.read_sampled_households(conn, plan_id)
            hit = households[households["household_code"] == str(household).strip()]
            if hit.empty:
                raise NotFound(f"household {household!r} is not in the sample of plan {plan_id}; "
                               "findings are recorded against sampled households (see atlas sample show)")
            household_id = int(hit["id"].iloc[0])
            village_id = int(hit["sample_village_id"].iloc[0])
            if village is not None and village_id not in village_matches(villages, village):
                raise ValidationError(f"household {household} is not in village {village!r}")
        elif village is not None:
            matches = village_matches(villages, village)
            if not matches:
                raise NotFound(f"village {village!r} is not in the sample of plan {plan_id}; sampled: "
                               + ", ".join(villages["village_name"]))
            if len(matches) > 1:
                raise ValidationError(f"village {village!r} is ambiguous; write it as township/name")
            village_id = matches[0]
        else:
            raise ValidationError("say what the finding is about: a sampled household (--household CODE) "
                                  "or village (--village NAME)")
        code = f"P{plan_id}-{store.count_findings(conn, plan_id) + 1:03d}"
        history = [{"date": found.isoformat(), "to": FindingStatus.OPEN.value, "note": "recorded"}]
        finding_id = store.insert_finding(conn, {
            "code": code, "plan_id": plan_id, "sample_village_id": village_id,
            "sample_household_id": household_id, "category": cat, "kind": knd,
            "description": str(description).strip(), "responsible_unit": str(responsible_unit).strip(),
            "found_on": found, "deadline": due, "status": FindingStatus.OPEN,
            "history_json": json.dumps(history, ensure_ascii=False), "source": source,
        })
        stored = store.read_findings(conn, ids=[finding_id]).iloc[0].to_dict()
        if actor is not None:
            audit.record(conn, actor=actor, action="create", layer="inspection_findings", row_id=finding_id,
                         after=_audited(stored))
        return stored


#: Fields of a finding the audit log keeps (it is about villages and units, not persons).
_AUDITED = ("code", "plan_id", "status", "category", "kind", "description", "responsible_unit", "found_on",
            "deadline", "evidence_note", "closed_on", "version")


def _audited(row: dict[str, Any]) -> dict[str, Any]:
    return audit.snapshot({k: row.get(k) for k in _AUDITED if k in row})


def get_finding(bind: Bind, finding: int | str) -> dict[str, Any]:
    """A finding by code (``P3-007``) or id."""
    key = str(finding).strip()
    frame = store.read_findings(bind, code=key)
    if frame.empty and key.isdigit():
        frame = store.read_findings(bind, ids=[int(key)])
    if frame.empty:
        raise NotFound(f"no finding {key!r}; list them with atlas finding list")
    return frame.iloc[0].to_dict()


def update_finding(
    bind: Bind,
    finding: int | str,
    *,
    status: str | None = None,
    note: str | None = None,
    deadline: dt.date | str | None = None,
    responsible_unit: str | None = None,
    today: dt.date | None = None,
    version: int | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Move a finding forward (open -> rectifying -> closed) or change its deadline or unit.

    ``version``, when given, is the version the caller read: a finding changed since is
    refused (:class:`~geo.errors.StaleVersion`) instead of overwritten. With ``actor`` the
    change is audited (before and after) in the same transaction.

    Raises
    ------
    ValidationError
        Closing without a note of evidence; a backward or repeated status change; changing
        a closed finding.
    Conflict
        Changed by someone else meanwhile.
    """
    today = today or dt.date.today()
    with connect(bind, write=True) as conn:  # reads, then writes what it read
        current = get_finding(conn, finding)
        if version is not None and int(version) != int(current["version"]):
            raise StaleVersion(f"finding {current['code']} is at version {current['version']}, not {version}: "
                               "someone changed it since you read it; read it again and repeat the change",
                               current_version=int(current["version"]))
        old = FindingStatus(current["status"])
        values: dict[str, Any] = {}
        history = json.loads(current["history_json"] or "[]")
        note_text = str(note).strip() if note is not None else ""
        if old == FindingStatus.CLOSED:
            raise ValidationError(f"finding {current['code']} is closed (已整改销号) and cannot change; "
                                  "record a new finding if the problem came back")
        if status is not None:
            new = parse_choice(FindingStatus, status, "status")
            if new not in NEXT_STATUS[old]:
                allowed = ", ".join(f"{s.value} ({s.label})" for s in NEXT_STATUS[old])
                raise ValidationError(f"finding {current['code']} is {old.value} ({old.label}); it can move to: {allowed}")
            if new == FindingStatus.CLOSED:
                if not note_text:
                    raise ValidationError(f"closing finding {current['code']} needs a note of the evidence "
                                          "(整改佐证: what was done and where it is documented), e.g. --note '...'")
                values.update(evidence_note=note_text, closed_on=today)
            values["status"] = new
            history.append({"date": today.isoformat(), "from": old.value, "to": new.value, "note": note_text})
        elif note_text:
            history.append({"date": today.isoformat(), "note": note_text})
        if deadline is not None:
            due = parse_day(deadline, "deadline")
            if due < parse_day(current["found_on"], "found_on"):
                raise ValidationError(f"deadline {due} is before the date the problem was found ({current['found_on']})")
            history.append({"date": today.isoformat(), "deadline": due.isoformat(),
                            "was": parse_day(current["deadline"], "deadline").isoformat()})
            values["deadline"] = due
        if responsible_unit is not None:
            if not responsible_unit.strip():
                raise ValidationError("responsible_unit cannot be empty")
            values["responsible_unit"] = responsible_unit.strip()
        if not values and not note_text:
            raise ValidationError("nothing to change: give --status, --note, --deadline or --unit")
        values["history_json"] = json.dumps(history, ensure_ascii=False)
        store.update_finding(conn, int(current["id"]), int(current["version"]), values)
        changed = get_finding(conn, current["code"])
        if actor is not None:
            audit.record(conn, actor=actor, action="update", layer="inspection_findings", row_id=int(current["id"]),
                         before=_audited(current), after=_audited(changed))
        return changed


def close_finding(bind: Bind, finding: int | str, *, note: str | None, today: dt.date | None = None,
                  version: int | None = None, actor: Actor | None = None) -> dict[str, Any]:
    """Close a finding; the note of evidence is required."""
    return update_finding(bind, finding, status=FindingStatus.CLOSED.value, note=note, today=today,
                          version=version, actor=actor)


def list_findings(
    bind: Bind,
    *,
    plan: int | str | None = None,
    status: str | None = None,
    overdue: bool = False,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Findings (of one plan or all), with ``overdue`` and ``days_overdue`` as of ``today``.

    Overdue: not closed and past its deadline.
    """
    today = today or dt.date.today()
    with connect(bind) as conn:
        plan_id = int(store.find_plan(conn, plan)["id"]) if plan is not None else None
        frame = store.read_findings(conn, plan_id=plan_id)
    deadline = pd.to_datetime(frame["deadline"]).dt.date if len(frame) else pd.Series(dtype=object)
    frame["overdue"] = [(s != FindingStatus.CLOSED.value) and d < today
                        for s, d in zip(frame["status"], deadline)]
    frame["days_overdue"] = [(today - d).days if o else 0 for o, d in zip(frame["overdue"], deadline)]
    if status is not None:
        frame = frame[frame["status"] == parse_choice(FindingStatus, status, "status").value]
    if overdue:
        frame = frame[frame["overdue"]]
    return frame.reset_index(drop=True)


def finding_of_plan(bind: Bind, plan_id: int, finding: int | str) -> dict[str, Any]:
    """:func:`get_finding`, refused when the finding belongs to another plan.

    Raises
    ------
    NotFound
        No such finding, or one of another plan.
    """
    row = get_finding(bind, finding)
    if int(row["plan_id"]) != plan_id:
        raise NotFound(f"finding {finding!r} belongs to plan {row['plan_id']}, not plan {plan_id}")
    return row
