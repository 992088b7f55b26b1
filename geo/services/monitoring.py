"""防止返贫动态监测 use cases: take risk leads in, move cases through their dated steps,
record assistance measures, and read cases, overdue lists, workloads and report tables.

Every change is checked by :mod:`geo.monitoring.workflow`, written with the case's version
(:func:`geo.storage.records.versioned_update`: a stale version is refused, never
overwritten) and audited in the same transaction; a lead file is taken whole or not at all.
Township scoping is the caller's policy: ``township`` (ids) limits what is read and changed.
Names are read only in :func:`posting_names` and the ID-number match, each audited.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import audit, storage
from geo.audit import Actor
from geo.enums import CaseStatus, LeadChannel, MeasureKind, MonitorCategory
from geo.errors import Forbidden, NotFound, StaleVersion, ValidationError
from geo.monitoring import leads as lead_io
from geo.monitoring import reports as tables
from geo.monitoring import workflow as wf
from geo.monitoring.workflow import Rules, Thresholds
from geo.services.personal import household_pii, personal_read
from geo.storage import Bind, connect
from geo.storage.types import row_id
from geo.storage import monitoring as store

Township = Sequence[int] | None
S = CaseStatus

#: Fields of a case the audit log keeps (figures and dates; no personal data is on a case).
_AUDITED = ("code", "household_id", "status", "category", "risk_types", "income_per_person_yuan",
            "out_of_pocket_yuan", "assured_education", "assured_medical", "assured_housing", "safe_water",
            "step_on", "posted_until", "identified_on", "removed_on", "cadre_id", "unit_id", "version")


def thresholds_from(settings: Any) -> Thresholds:
    """The yearly thresholds of the settings (None where the user has not set them)."""
    return Thresholds(income_line_yuan=settings.monitor_income_line_yuan,
                      out_of_pocket_yuan=settings.monitor_out_of_pocket_yuan,
                      source=settings.monitor_thresholds_source)


def rules_from(settings: Any) -> Rules:
    """The workflow's rules with the settings' minimum posting."""
    return Rules(min_posting_days=int(settings.monitor_posting_days))


def thresholds_statement(thresholds: Thresholds) -> str:
    """One Chinese line on the thresholds in force, or that the user must set them."""
    parts = []
    if thresholds.income_line_yuan is not None:
        parts.append(f"监测范围 {thresholds.income_line_yuan:,.0f} 元/人·年")
    if thresholds.out_of_pocket_yuan is not None:
        parts.append(f"自付费用预警线 {thresholds.out_of_pocket_yuan:,.0f} 元")
    missing = thresholds.missing
    text = "；".join(parts) + (f"（来源：{thresholds.source}）" if parts and thresholds.source else "")
    if missing:
        text += ("；" if text else "") + ("未设置 " + "、".join(missing) + "：由各省每年确定，须由用户按本省当年文件设置，"
                                          "相关核对未执行")
    return text


def _audited(row: Mapping[str, Any]) -> dict[str, Any]:
    return audit.snapshot({k: row.get(k) for k in _AUDITED if k in row})


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if key == "geometry":
            continue
        if value is pd.NaT or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            value = None
        elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()
        out[key] = value
    return out


def plain_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as plain dicts (NaN and NaT as None, no geometry), for JSON."""
    return [_plain(r) for r in frame.to_dict("records")]


# ---------------------------------------------------------------------- leads


@dataclass(frozen=True)
class LeadImport:
    """What a lead file did: leads recorded, cases opened and cases the leads joined."""

    file: str
    channel: str
    leads: int
    opened: list[str]
    joined: list[str]
    above_threshold: int | None
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "channel": self.channel, "leads": self.leads, "cases_opened": self.opened,
                "cases_joined": self.joined, "above_out_of_pocket_threshold": self.above_threshold,
                "notes": self.notes}


def import_leads(bind: Bind, path: str | Path, *, channel: str, name: str | None = None,
                 may_match_id_numbers: bool = False, township: Township = None, actor: Actor,
                 thresholds: Thresholds = Thresholds(), today: dt.date | None = None,
                 source: str | None = None) -> LeadImport:
    """Take a lead file in, whole or not at all.

    Each row names a household by 户编号, else by 身份证号 (only when
    ``may_match_id_numbers``: a caller allowed to see ID numbers; the match is audited). A
    lead for a household with an open case joins it; otherwise it opens a case (线索待核实).

    Raises
    ------
    ValidationError
        A file that cannot be read, or any refused row (unknown household, ID numbers not
        allowed, a household outside ``township``, a bad date, amount or risk type): the
        message lists every refused row by number; nothing is written.
    """
    kind = lead_io.parse_channel(channel)
    rows = lead_io.read_lead_table(path, name=name)
    today = today or dt.date.today()
    frame = rows.frame
    if frame.empty:
        raise ValidationError(f"{rows.name}: no lead rows under the headers; nothing was written")
    problems = dict(rows.problems)
    by_id = frame["household_code"].isna() & frame["id_number"].notna()
    with connect(bind, write=True) as conn:
        codes = dict(zip(frame.index, frame["household_code"]))
        if by_id.any():
            if not may_match_id_numbers:
                for i in frame.index[by_id]:
                    _add(problems, frame.at[i, "row_number"], "no 户编号; matching by 身份证号 needs a role allowed "
                         "to see ID numbers (planner, admin): add the household code")
            else:
                with personal_read(conn, actor=actor, layer="households", action="match_id",
                                   after={"file": rows.name, "rows": int(by_id.sum())}) as read:
                    found = store.households_by_id_number(read.conn, frame.loc[by_id, "id_number"].tolist())
                for i in frame.index[by_id]:
                    code = found.get(frame.at[i, "id_number"])
                    if code is None:
                        _add(problems, frame.at[i, "row_number"], "no household in the registry has this 身份证号")
                    codes[i] = code
        wanted = sorted({c for c in codes.values() if c})
        households = store.households_by_code(conn, wanted).set_index("code") if wanted else pd.DataFrame()
        for i, code in codes.items():
            number = frame.at[i, "row_number"]
            if code and code not in households.index:
                _add(problems, number, f"户编号 {code!r} is not in the registry; add the household first or correct the code")
            elif code and township is not None and int(households.at[code, "township_id"]) not in set(township):
                _add(problems, number, f"household {code} lies outside your townships")
            day = frame.at[i, "received_on"]
            if day is not None and day > today:
                _add(problems, number, f"预警日期 {day} is in the future")
        if problems:
            listing = "; ".join(f"row {n}: {p}" for n, p in sorted(problems.items()))
            raise ValidationError(f"{rows.name}: {len(problems)} of {len(frame)} row(s) refused, nothing was written "
                                  f"(fix them and import the file again): {listing}")
        opened, joined = [], []
        for i in frame.index:
            row = frame.loc[i].to_dict()
            household = households.loc[codes[i]]
            case, new = _case_for_lead(conn, household_id=int(household["id"]), household=household,
                                       received_on=row["received_on"] or today, actor=actor,
                                       source=source or f"file:{rows.name}", channel=kind)
            (opened if new else joined).append(case)
            store.insert_lead(conn, {
                "case_id": _case_id(conn, case), "household_id": int(household["id"]), "channel": kind,
                "received_on": row["received_on"] or today, "department": _text(row.get("department"), 100),
                "risk_type": row["risk_type"], "out_of_pocket_yuan": row["out_of_pocket_yuan"],
                "file_name": rows.name[:200], "row_number": int(row["row_number"]),
                "fields_json": json.dumps(lead_io.stored_fields(row), ensure_ascii=False, default=str),
                "source": source or f"file:{rows.name}"[:200]})
        audit.record(conn, actor=actor, action="import", layer="monitor_leads",
                     after={"file": rows.name, "channel": kind.value, "leads": len(frame),
                            "cases_opened": opened, "cases_joined": joined})
    above = None
    if thresholds.out_of_pocket_yuan is not None:
        costs = pd.to_numeric(frame["out_of_pocket_yuan"], errors="coerce")
        above = int((costs > thresholds.out_of_pocket_yuan).sum())
    notes = [thresholds_statement(thresholds)] if thresholds.missing else []
    return LeadImport(rows.name, kind.value, len(frame), sorted(set(opened)), sorted(set(joined) - set(opened)),
                      above, notes)


def _add(problems: dict[int, str], number: int, text: str) -> None:
    problems[int(number)] = f"{problems[int(number)]}; {text}" if int(number) in problems else text


def _text(value: Any, limit: int) -> str | None:
    return None if value is None else str(value).strip()[:limit] or None


def _case_id(conn, code: str) -> int:
    return int(store.read_cases(conn, codes=[code])["id"].iloc[0])


def _case_for_lead(conn, *, household_id: int, household, received_on: dt.date, actor: Actor, source: str,
                   channel: LeadChannel) -> tuple[str, bool]:
    """The open case of the household, or a new one at 线索待核实; (code, opened)."""
    cases = store.read_cases(conn, household_ids=[household_id])
    open_ = cases[~cases["status"].isin([s.value for s in wf.CLOSED])]
    if len(open_):
        return str(open_["code"].iloc[0]), False
    prefix = f"JC{received_on.year}-"
    code = f"{prefix}{store.case_count(conn, prefix) + 1:04d}"
    cadre = household.get("cadre_id")
    unit = household.get("unit_id")
    values = {"code": code, "household_id": household_id, "status": S.LEAD, "opened_on": received_on,
              "step_on": received_on, "source": source[:200],
              "cadre_id": None if pd.isna(cadre) else int(cadre), "unit_id": None if pd.isna(unit) else int(unit)}
    case_id = store.insert_case(conn, values)
    store.insert_event(conn, {"case_id": case_id, "action": "lead", "to_status": S.LEAD.value, "done_on": received_on,
                              "by_whom": channel.label, "actor": actor.name[:64], "note": None})
    audit.record(conn, actor=actor, action="create", layer="monitor_cases", row_id=case_id,
                 after=_audited({**values, "status": S.LEAD.value, "version": 1}))
    return code, True


def record_lead(bind: Bind, *, household_code: str, channel: str, received_on: dt.date | None = None,
                risk_type: str | None = None, out_of_pocket_yuan: float | None = None, department: str | None = None,
                note: str | None = None, township: Township = None, actor: Actor,
                today: dt.date | None = None, source: str = "user") -> dict[str, Any]:
    """One lead (a visit or a household's own report) for a household by code; opens its case
    or joins the open one. Returns the case.

    Raises
    ------
    NotFound
        No such household (in ``township``).
    ValidationError
        A bad channel, date or risk type.
    """
    kind = lead_io.parse_channel(channel)
    today = today or dt.date.today()
    day = received_on or today
    if day > today:
        raise ValidationError(f"received_on {day} is in the future")
    risk = wf.parse_risk_types(risk_type)[0].value if risk_type else None
    if out_of_pocket_yuan is not None and not out_of_pocket_yuan >= 0:
        raise ValidationError("out_of_pocket_yuan must be a number 0 or more [yuan]")
    with connect(bind, write=True) as conn:
        found = store.households_by_code(conn, [household_code])
        if found.empty or (township is not None and int(found["township_id"].iloc[0]) not in set(township)):
            raise NotFound(f"no household {household_code!r}" + (" in your townships" if township is not None else "")
                           + "; give a household code (户编号) of the registry")
        household = found.iloc[0]
        code, _ = _case_for_lead(conn, household_id=int(household["id"]), household=household, received_on=day,
                                 actor=actor, source=source, channel=kind)
        store.insert_lead(conn, {"case_id": _case_id(conn, code), "household_id": int(household["id"]),
                                 "channel": kind, "received_on": day, "department": _text(department, 100),
                                 "risk_type": risk, "out_of_pocket_yuan": out_of_pocket_yuan,
                                 "fields_json": json.dumps({"note": note} if note else {}, ensure_ascii=False),
                                 "source": source})
        audit.record(conn, actor=actor, action="create", layer="monitor_leads",
                     after={"case": code, "channel": kind.value, "received_on": day.isoformat()})
    return get_case(bind, code, township=township, today=today)


# ---------------------------------------------------------------------- cases


def _find(conn, case: str | int, township: Township) -> dict[str, Any]:
    key = str(case).strip()
    frame = store.read_cases(conn, codes=[key], township_ids=township)
    if frame.empty and row_id(key) is not None:
        frame = store.read_cases(conn, ids=[row_id(key)], township_ids=township)
    if frame.empty:
        raise NotFound(f"no monitoring case {key!r}" + (" in your townships" if township is not None else "")
                       + "; list them with atlas monitor case list")
    return _plain(frame.iloc[0].to_dict())


def get_case(bind: Bind, case: str | int, *, township: Township = None, today: dt.date | None = None,
             rules: Rules = wf.DEFAULT_RULES) -> dict[str, Any]:
    """A case with its next step and due date, its events, measures and leads (no names)."""
    with connect(bind) as conn:
        row = _find(conn, case, township)
        events = store.read_events(conn, [row["id"]])
        measures = store.read_measures(conn, [row["id"]])
        leads = store.read_leads(conn, township_ids=township)
    row.update(_due(row, today or dt.date.today(), rules))
    row["events"] = [_plain(e) for e in events.to_dict("records")]
    row["measures"] = [_plain(m) for m in measures.to_dict("records")]
    row["leads"] = [_plain({k: v for k, v in r.items() if k != "fields_json"})
                    for r in leads[leads["case_id"] == row["id"]].to_dict("records")]
    return row


def _due(row: Mapping[str, Any], today: dt.date, rules: Rules) -> dict[str, Any]:
    status = S(row["status"])
    step, due = wf.next_due(status, _day(row["step_on"]), _day(row.get("posted_until")), rules=rules)
    overdue = due is not None and today > due
    return {"next_step": None if step is None else step.value, "due_on": due, "overdue": overdue,
            "days_overdue": (today - due).days if overdue else 0,
            "working_days_overdue": wf.working_days_between(due, today, holidays=rules.holidays) if overdue else 0}


def _day(value: Any) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _parse_day(value: Any, field: str) -> dt.date:
    try:
        day = _day(value)
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(f"{field}: {value!r} is not a date; use YYYY-MM-DD")
    return day


#: The step verbs of the command line and the API.
STEPS = {name: status for status, name in wf.STEP_NAMES.items()}


def advance_case(bind: Bind, case: str | int, step: str, *, on: dt.date | str | None = None, by: str | None = None,
                 until: dt.date | str | None = None, version: int | None = None, note: str | None = None,
                 category: str | None = None, risk_types: Sequence[str] | str | None = None,
                 income_per_person_yuan: float | None = None, out_of_pocket_yuan: float | None = None,
                 assured: Mapping[str, bool | None] | None = None, township: Township = None, actor: Actor,
                 thresholds: Thresholds = Thresholds(), rules: Rules = wf.DEFAULT_RULES,
                 today: dt.date | None = None) -> dict[str, Any]:
    """Take one step of a case (``check``, ``dismiss``, ``post``, ``review``, ``approve``,
    ``post-removal``, ``remove``; ``assist`` is taken by the first measure), dated ``on``
    (default today) and done by ``by`` (default the actor). The home check records the
    category, risk types and figures.

    ``version``, when given, is the version the caller read: a case changed since is refused.

    Raises
    ------
    NotFound
        No such case (in ``township``).
    ValidationError
        An unknown step, a step out of order, a posting shorter than the minimum, a removal
        without a measure, figures that contradict the category; nothing is written.
    StaleVersion
        The case changed since ``version``.
    """
    if step not in STEPS or STEPS[step] == S.ASSISTING:
        raise ValidationError(f"unknown step {step!r}; steps: "
                              + ", ".join(f"{n} ({wf.STEP_LABELS[s]})" for n, s in STEPS.items() if s != S.ASSISTING)
                              + " (落实帮扶 follows the first measure: atlas monitor case measure)")
    to = STEPS[step]
    today = today or dt.date.today()
    day = _parse_day(on, "on") if on is not None else today
    last = _parse_day(until, "until") if until is not None else None
    with connect(bind, write=True) as conn:
        row = _locked(conn, case, township, version)
        measures = len(store.read_measures(conn, [row["id"]]))
        wf.check_step(row["code"], S(row["status"]), to, on=day, step_on=_day(row["step_on"]),
                      posted_until=_day(row.get("posted_until")), measures=measures, until=last, today=today,
                      rules=rules)
        values: dict[str, Any] = {"status": to, "step_on": day, "posted_until": last if to in wf.POSTINGS else None}
        notes: list[str] = []
        if to == S.CHECKED:
            values.update(_check_values(row, category=category, risk_types=risk_types,
                                        income=income_per_person_yuan, costs=out_of_pocket_yuan,
                                        assured=assured or {}, thresholds=thresholds, notes=notes))
        elif any(v is not None for v in (category, risk_types, income_per_person_yuan, out_of_pocket_yuan)):
            raise ValidationError(f"case {row['code']}: category and figures are recorded at the home check "
                                  "(step check)")
        if to == S.APPROVED:
            values["identified_on"] = day
        if to == S.REMOVED:
            values["removed_on"] = day
        after = _write(conn, row, values, action="step", to=to, day=day, until=last, by=by, note=note, actor=actor)
    after.update(_due(after, today, rules))
    if notes:
        after["notes"] = notes
    return after


def _locked(conn, case, township: Township, version: int | None) -> dict[str, Any]:
    row = _find(conn, case, township)
    current = store.lock_case(conn, int(row["id"]))
    if version is not None and current is not None and int(version) != int(current):
        raise StaleVersion(f"case {row['code']} is at version {current}, not {version}: someone changed it since "
                           "you read it; read it again and repeat the step", current_version=int(current))
    return _find(conn, row["id"], township) if current != row["version"] else row


def _write(conn, row: dict[str, Any], values: dict[str, Any], *, action: str, to: CaseStatus | None, day: dt.date,
           until: dt.date | None, by: str | None, note: str | None, actor: Actor) -> dict[str, Any]:
    store.update_case(conn, int(row["id"]), int(row["version"]), values, what=f"case {row['code']}")
    store.insert_event(conn, {"case_id": int(row["id"]), "action": action, "from_status": row["status"],
                              "to_status": None if to is None else to.value, "done_on": day, "posted_until": until,
                              "by_whom": (str(by).strip() if by and str(by).strip() else actor.name)[:200],
                              "actor": actor.name[:64], "note": (note or None)})
    after = _find(conn, row["id"], None)
    audit.record(conn, actor=actor, action="update", layer="monitor_cases", row_id=int(row["id"]),
                 before=_audited(row), after=_audited(after))
    return after


def _check_values(row, *, category, risk_types, income, costs, assured, thresholds, notes) -> dict[str, Any]:
    if category is None:
        raise ValidationError(f"case {row['code']}: the home check needs the category (--category "
                              + ", ".join(f"{c.value} ({c.label})" for c in MonitorCategory) + ")")
    try:
        parsed = MonitorCategory.parse(category)
    except ValueError as exc:
        raise ValidationError(f"case {row['code']}: category: {exc}") from None
    risks = wf.parse_risk_types(risk_types)
    if not risks:
        raise ValidationError(f"case {row['code']}: the home check needs at least one risk type (--risk 因病 ...)")
    flags = {k: assured.get(k) for k in ("assured_education", "assured_medical", "assured_housing", "safe_water")}
    notes += wf.check_figures(row["code"], parsed, household_status=row.get("household_status"),
                              income_per_person_yuan=income, out_of_pocket_yuan=costs, risk_types=risks,
                              assured=flags, thresholds=thresholds)
    return {"category": parsed, "risk_types": ",".join(r.value for r in risks), "income_per_person_yuan": income,
            "out_of_pocket_yuan": costs, **flags}


def add_measure(bind: Bind, case: str | int, *, kind: str, on: dt.date | str | None = None,
                amount_yuan: float | None = None, by: str | None = None, note: str | None = None,
                version: int | None = None, township: Township = None, actor: Actor,
                rules: Rules = wf.DEFAULT_RULES, today: dt.date | None = None, source: str = "user") -> dict[str, Any]:
    """Record an assistance measure of an approved case; the first one takes the step 落实帮扶.

    Raises
    ------
    NotFound
        No such case (in ``township``).
    ValidationError
        A case not (yet) approved or already closed, a bad kind, amount or date.
    StaleVersion
        The case changed since ``version``.
    """
    try:
        measure = MeasureKind.parse(kind)
    except ValueError as exc:
        raise ValidationError(f"kind: {exc}") from None
    if amount_yuan is not None and not amount_yuan >= 0:
        raise ValidationError("amount_yuan must be a number 0 or more [yuan]")
    today = today or dt.date.today()
    day = _parse_day(on, "on") if on is not None else today
    with connect(bind, write=True) as conn:
        row = _locked(conn, case, township, version)
        status = S(row["status"])
        if status not in (S.APPROVED, S.ASSISTING):
            raise ValidationError(f"case {row['code']} is {status.value} ({status.label}): measures are recorded once "
                                  "the county has approved the case and until the risk-removal posting")
        if day > today:
            raise ValidationError(f"case {row['code']}: the measure's date {day} is in the future")
        if day < _day(row["step_on"]) and status == S.APPROVED:
            raise ValidationError(f"case {row['code']}: the measure on {day} is before the county approval "
                                  f"({row['step_on']})")
        who = (str(by).strip() if by and str(by).strip() else (row.get("unit_name") or actor.name))[:200]
        store.insert_measure(conn, {"case_id": int(row["id"]), "kind": measure, "done_on": day,
                                    "amount_yuan": amount_yuan, "by_whom": who, "note": note, "source": source})
        if status == S.APPROVED:
            wf.check_step(row["code"], status, S.ASSISTING, on=day, step_on=_day(row["step_on"]), posted_until=None,
                          measures=1, today=today, rules=rules)
            after = _write(conn, row, {"status": S.ASSISTING, "step_on": day, "posted_until": None}, action="step",
                           to=S.ASSISTING, day=day, until=None, by=who, note=f"{measure.label}: {note or ''}".strip(),
                           actor=actor)
        else:
            after = _write(conn, row, {}, action="measure", to=None, day=day, until=None, by=who,
                           note=f"{measure.label}: {note or ''}".strip(), actor=actor)
    after.update(_due(after, today, rules))
    return after


def list_cases(bind: Bind, *, township: Township = None, status: str | None = None, overdue: bool = False,
               open_only: bool = False, today: dt.date | None = None,
               rules: Rules = wf.DEFAULT_RULES) -> gpd.GeoDataFrame:
    """Cases (no names) with their next step, due date and working days overdue as of ``today``."""
    today = today or dt.date.today()
    statuses = None
    if status is not None:
        try:
            statuses = [CaseStatus.parse(status).value]
        except ValueError as exc:
            raise ValidationError(f"status: {exc}") from None
    frame = store.read_cases(bind, township_ids=township, statuses=statuses)
    due = [_due(r, today, rules) for r in frame.to_dict("records")]
    for key in ("next_step", "due_on", "overdue", "days_overdue", "working_days_overdue"):
        frame[key] = [d[key] for d in due]
    if open_only:
        frame = frame[~frame["status"].isin([s.value for s in wf.CLOSED])]
    if overdue:
        frame = frame[frame["overdue"].astype(bool)]
    return frame.reset_index(drop=True)


def headline(bind: Bind, *, township: Township = None, today: dt.date | None = None,
             rules: Rules = wf.DEFAULT_RULES) -> tuple[int, int, int]:
    """Monitored households, open cases and overdue steps (the landing page's line)."""
    cases = list_cases(bind, township=township, open_only=True, today=today, rules=rules)
    return (int(cases["status"].isin([s.value for s in wf.MONITORED]).sum()), len(cases),
            int(cases["overdue"].astype(bool).sum()))


def read_leads(bind: Bind, *, township: Township = None, since: dt.date | None = None,
               until: dt.date | None = None) -> pd.DataFrame:
    """Leads received (in the period), with their case's code and status."""
    return store.read_leads(bind, township_ids=township, since=since, until=until)


def read_measures(bind: Bind, case_ids: Sequence[int]) -> pd.DataFrame:
    return store.read_measures(bind, case_ids)


def read_events(bind: Bind, case_ids: Sequence[int]) -> pd.DataFrame:
    return store.read_events(bind, case_ids)


def posting_names(bind: Bind, household_ids: Sequence[int], *, reveal: bool, actor: Actor | None,
                  purpose: str) -> dict[int, str]:
    """Household id -> the head's name for a posting list: masked (张*, 欧阳**) unless
    ``reveal`` (a caller allowed to see names). Reading the names is audited either way."""
    ids = sorted({int(i) for i in household_ids})
    if not ids:
        return {}
    with personal_read(bind, actor=actor, layer="monitor_cases", action="read_pii",
                       after={"purpose": purpose, "households": len(ids), "masked": not reveal}) as read:
        names = household_pii(read.conn, ids)
    return {int(i): (n if reveal else tables.mask_name(n)) for i, n in zip(names["id"], names["head_name"])}


def require_names_allowed(allowed: bool) -> None:
    """Refuse an unmasked posting list to a caller not allowed to see names."""
    if not allowed:
        raise Forbidden("unmasked names need a role allowed to see household heads' names (planner, admin); "
                        "posting lists are de-identified by default")


# ---------------------------------------------------------------------- reports and workload

REPORTS = {"monthly": "月度预警处置情况", "posting": "监测对象识别公示名单", "removal-posting": "风险消除公示名单",
           "quarterly": "季度风险消除名单", "workload": "监测工作量与逾期环节"}


@dataclass(frozen=True)
class Report:
    """A report's title, its note (period, thresholds, de-identification) and its tables."""

    kind: str
    title: str
    note: str
    sheets: dict[str, pd.DataFrame]


def report(bind: Bind, kind: str, *, year: int | None = None, month: int | None = None,
           quarter: int | None = None, township: Township = None, reveal_names: bool = False,
           actor: Actor | None = None, thresholds: Thresholds = Thresholds(), rules: Rules = wf.DEFAULT_RULES,
           today: dt.date | None = None) -> Report:
    """One report's tables: ``monthly`` (alerts received and processed in ``year``/``month``),
    ``posting`` and ``removal-posting`` (the cases in their posting now), ``quarterly`` (risks
    removed in ``year``/``quarter``), ``workload`` (per township and cadre, by month).

    Posting and removal lists mask names unless ``reveal_names`` (the caller must be allowed;
    see :func:`require_names_allowed`); ID numbers are never in any report.

    Raises
    ------
    ValidationError
        An unknown report, month or quarter.
    """
    if kind not in REPORTS:
        raise ValidationError(f"unknown report {kind!r}; reports: "
                              + ", ".join(f"{k} ({v})" for k, v in REPORTS.items()))
    today = today or dt.date.today()
    year = int(year or today.year)
    cases = list_cases(bind, township=township, today=today, rules=rules)
    synthetic = bool(len(cases)) and cases["source"].astype(str).str.startswith("demo:").any()
    notes = [f"制表日期 {today}", thresholds_statement(thresholds)]
    if kind == "monthly":
        month = int(month or today.month)
        if not 1 <= month <= 12:
            raise ValidationError(f"month {month} must be 1 to 12")
        leads = read_leads(bind, township=township)
        title = f"{year}年{month}月{REPORTS[kind]}"
        sheets = {"月度预警处置": tables.monthly_table(leads, cases, year=year, month=month)}
    elif kind in ("posting", "removal-posting"):
        wanted = S.POSTED if kind == "posting" else S.REMOVAL_POSTED
        mine = cases[cases["status"] == wanted.value]
        names = posting_names(bind, mine["household_id"].tolist(), reveal=reveal_names, actor=actor,
                              purpose=kind)
        title = REPORTS[kind]
        notes.append("户主姓名已隐去（脱敏），不含身份证号" if not reveal_names else "内部名单：含户主姓名，不得张贴")
        sheets = {"公示名单": tables.posting_table(mine, names, removal=kind == "removal-posting")}
    elif kind == "quarterly":
        quarter = int(quarter or (today.month - 1) // 3 + 1)
        if not 1 <= quarter <= 4:
            raise ValidationError(f"quarter {quarter} must be 1 to 4")
        first = dt.date(year, 3 * quarter - 2, 1)
        last = (dt.date(year, 3 * quarter, 1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        in_quarter = [d is not None and first <= d <= last for d in map(_day, cases["removed_on"])]
        mine = cases[(cases["status"] == S.REMOVED.value).to_numpy() & pd.Series(in_quarter, dtype=bool).to_numpy()] \
            if len(cases) else cases
        names = posting_names(bind, mine["household_id"].tolist(), reveal=reveal_names, actor=actor,
                              purpose=kind)
        title = f"{year}年第{quarter}季度{REPORTS[kind]}"
        notes.append("户主姓名已隐去（脱敏），不含身份证号" if not reveal_names else "内部名单：含户主姓名，不得张贴")
        sheets = {"风险消除名单": tables.removal_table(mine, read_measures(bind, mine["id"].tolist()), names)}
    else:
        title = REPORTS[kind]
        sheets = workload(bind, township=township, today=today, rules=rules, cases=cases)
    if synthetic:
        notes.append(tables.SYNTHETIC_NOTE)
    return Report(kind, title, "；".join(n for n in notes if n), sheets)


def workload(bind: Bind, *, township: Township = None, today: dt.date | None = None,
             rules: Rules = wf.DEFAULT_RULES, cases: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """乡镇 alert load and overdue steps, cadre workload (households carried plus open cases),
    and the counts by month."""
    today = today or dt.date.today()
    if cases is None:
        cases = list_cases(bind, township=township, today=today, rules=rules)
    leads = read_leads(bind, township=township)
    towns = storage.read_layer(bind, "townships", township=township, columns=["name"], with_names=False)
    households = storage.read_layer(bind, "households", township=township, columns=["cadre_id"], with_names=False)
    cadres = storage.read_layer(bind, "cadres", columns=["name", "unit_id"])
    cadres = cadres.rename(columns={c: "unit_name" for c in cadres.columns if c in ("unit_name", "unit")})
    events = read_events(bind, cases["id"].tolist()) if len(cases) else pd.DataFrame()
    return {"乡镇": tables.township_table(cases, leads, towns),
            "帮扶责任人": tables.cadre_table(households, cases, cadres),
            "按月": tables.by_month(leads, events)}


# ---------------------------------------------------------------------- the map


def map_frames(bind: Bind, *, township: Township = None, show_points: bool, actor: Actor | None = None,
               today: dt.date | None = None, rules: Rules = wf.DEFAULT_RULES,
               supply_distance_m: float | None = None) -> dict[str, Any]:
    """The monitoring map's frames: villages with their counts of monitored households, open
    cases, overdue steps and monitored households beyond ``supply_distance_m`` of a working
    drinking-water supply (the water analysis's rule, default 1 km); the roads and water
    facilities beneath; the open cases' points only when ``show_points`` (a role allowed to
    see households one by one), else None."""
    from geo.analysis.spatial import choose_metric_crs, to_metric
    from geo.analysis.water import DEFAULT_SUPPLY_DISTANCE_M, supply_points, water_distances

    distance = DEFAULT_SUPPLY_DISTANCE_M if supply_distance_m is None else float(supply_distance_m)
    cases = list_cases(bind, township=township, open_only=True, today=today, rules=rules)
    villages = storage.read_layer(bind, "villages", township=township, columns=["name", "township_id", "category"])
    facilities = storage.read_layer(bind, "water_facilities")
    roads = storage.read_layer(bind, "roads", township=township, columns=["surface", "road_class", "width_m"])
    supplies = supply_points(facilities) if len(facilities) else facilities
    placed = cases[cases.geometry.notna() & ~cases.geometry.is_empty] if len(cases) else cases
    cases["distance_to_water_m"] = float("nan")
    if len(placed) and len(supplies):
        crs = choose_metric_crs(placed, supplies)
        found = water_distances(to_metric(placed, crs).geometry, to_metric(supplies, crs))
        cases.loc[found.index, "distance_to_water_m"] = found["distance_to_water_m"]
    cases["beyond_water"] = ~(pd.to_numeric(cases["distance_to_water_m"]) <= distance) & cases.geometry.notna()
    monitored = cases["status"].isin([s.value for s in wf.MONITORED])
    counts = pd.DataFrame({
        "monitored": cases[monitored].groupby("village_id").size(),
        "open_cases": cases.groupby("village_id").size(),
        "overdue": cases[cases["overdue"].astype(bool)].groupby("village_id").size(),
        "beyond_water": cases[cases["beyond_water"]].groupby("village_id").size(),
    })
    villages = villages.merge(counts, left_on="id", right_index=True, how="left")
    for column in ("monitored", "open_cases", "overdue", "beyond_water"):
        villages[column] = villages[column].fillna(0).astype(int)
    points = None
    if show_points:
        points = cases.drop(columns=[c for c in ("note",) if c in cases])
        if actor is not None and len(points):
            audit.record(bind, actor=actor, action="read_points", layer="monitor_cases",
                         after={"cases": int(len(points))})
    return {"villages": villages, "cases": points, "roads": roads, "facilities": supplies,
            "supply_distance_m": distance,
            "synthetic": bool(len(cases)) and cases["source"].astype(str).str.startswith("demo:").any()}
