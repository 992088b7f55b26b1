"""Findings (督查发现问题) and their rectification (整改), with the summaries of seed 003's
表3 (problems by category) and 表4 (what was checked, by village and household type).

A finding is recorded against a sampled village or household of a plan, with a category of
表3 and its kind, a description, the unit responsible for fixing it and a deadline. Its status
moves forward only: open (待整改) -> rectifying (整改中) -> closed (已整改销号); it may be closed
straight from open (立行立改). Closing needs a note of the evidence; every change is kept in
the finding's history.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from geo.enums import FINDING_KINDS, FindingCategory, FindingKind, FindingStatus, HouseholdStatus, VillageCategory
from geo import audit
from geo.audit import Actor
from geo.errors import NotFound, StaleVersion, ValidationError
from geo.inspection import store
from geo.storage import Bind, connect

_NEXT = {
    FindingStatus.OPEN: {FindingStatus.RECTIFYING, FindingStatus.CLOSED},
    FindingStatus.RECTIFYING: {FindingStatus.CLOSED},
    FindingStatus.CLOSED: set(),
}
_NUMERALS = "一二三四五六七八九十"

#: The fields of a finding that ``atlas finding --json`` and the HTTP API show.
SHOWN_FIELDS = ["code", "status", "category", "kind", "township_name", "village_name", "household_code",
                "description", "responsible_unit", "found_on", "deadline", "overdue", "days_overdue",
                "evidence_note"]


def _parse(enum_cls, text: Any, field: str):
    try:
        return enum_cls.parse(text)
    except ValueError as exc:
        raise ValidationError(f"{field}: {exc}") from None


def resolve_kind(category: str | None, kind: str | None) -> tuple[FindingCategory, FindingKind]:
    """Category and kind from what the user gave (either may be a value or a Chinese label).

    A kind alone implies its category; a category alone takes its first kind, except 精准帮扶,
    whose five kinds are separate rows of 表3 and must be named.

    Raises
    ------
    ValidationError
        Neither given, an unknown value, or a kind that does not belong to the category.
    """
    if category is None and kind is None:
        raise ValidationError("give the finding's category (精准识别, 精准帮扶, 精准脱贫, 其他) or its kind")
    parsed_kind = _parse(FindingKind, kind, "kind") if kind is not None else None
    if category is None:
        found = next(c for c, kinds in FINDING_KINDS.items() if parsed_kind in kinds)
        return found, parsed_kind
    parsed = _parse(FindingCategory, category, "category")
    allowed = FINDING_KINDS[parsed]
    if parsed_kind is None:
        if parsed == FindingCategory.ASSISTANCE:
            raise ValidationError("a 精准帮扶 finding needs its kind: "
                                  + ", ".join(f"{k.value} ({k.label})" for k in allowed))
        return parsed, allowed[0]
    if parsed_kind not in allowed:
        raise ValidationError(f"kind {parsed_kind.label} does not belong to {parsed.label}; its kinds: "
                              + ", ".join(f"{k.value} ({k.label})" for k in allowed))
    return parsed, parsed_kind


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{field}: {value!r} is not a date; use YYYY-MM-DD") from None


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
    found = _date(found_on or dt.date.today(), "found_on")
    due = _date(deadline, "deadline")
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
            if village is not None and village_id not in _village_matches(villages, village):
                raise ValidationError(f"household {household} is not in village {village!r}")
        elif village is not None:
            matches = _village_matches(villages, village)
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


def _village_matches(villages: pd.DataFrame, text: str) -> list[int]:
    text = str(text).strip()
    if "/" in text:
        township, name = (p.strip() for p in text.split("/", 1))
        hit = villages[(villages["township_name"] == township) & (villages["village_name"] == name)]
    else:
        hit = villages[(villages["village_name"] == text) | (villages["village_key"] == text)]
    return [int(i) for i in hit["id"]]


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
            new = _parse(FindingStatus, status, "status")
            if new not in _NEXT[old]:
                allowed = ", ".join(f"{s.value} ({s.label})" for s in _NEXT[old])
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
            due = _date(deadline, "deadline")
            if due < _date(current["found_on"], "found_on"):
                raise ValidationError(f"deadline {due} is before the date the problem was found ({current['found_on']})")
            history.append({"date": today.isoformat(), "deadline": due.isoformat(),
                            "was": _date(current["deadline"], "deadline").isoformat()})
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
        frame = frame[frame["status"] == _parse(FindingStatus, status, "status").value]
    if overdue:
        frame = frame[frame["overdue"]]
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------------- 表3 and 表4


def table3(findings: pd.DataFrame) -> pd.DataFrame:
    """表3 督查发现问题汇总表: one row per category and kind in the table's order, with the
    number of problems and how many are open, rectifying, closed and overdue."""
    rows = []
    for n, (category, kinds) in enumerate(FINDING_KINDS.items()):
        for kind in kinds:
            mine = findings[(findings["category"] == category.value) & (findings["kind"] == kind.value)] \
                if len(findings) else findings
            rows.append({
                "序号": _NUMERALS[n], "类别": category.label, "方面": kind.label, "问题数": len(mine),
                "待整改": int((mine["status"] == "open").sum()) if len(mine) else 0,
                "整改中": int((mine["status"] == "rectifying").sum()) if len(mine) else 0,
                "已整改": int((mine["status"] == "closed").sum()) if len(mine) else 0,
                "逾期未整改": int(mine["overdue"].sum()) if len(mine) and "overdue" in mine else 0,
            })
    total = pd.DataFrame(rows)
    sums = total[["问题数", "待整改", "整改中", "已整改", "逾期未整改"]].sum()
    return pd.concat([total, pd.DataFrame([{"序号": "", "类别": "合计", "方面": "", **sums.to_dict()}])],
                     ignore_index=True)


def table3_items(findings: pd.DataFrame) -> pd.DataFrame:
    """表3's itemised form: 一个问题一行, grouped by category and kind."""
    order = {k.value: i for i, k in enumerate(k for kinds in FINDING_KINDS.values() for k in kinds)}
    frame = findings.assign(_o=findings["kind"].map(order)).sort_values(["_o", "code"]) if len(findings) else findings
    return pd.DataFrame({
        "编号": frame.get("code", []), "类别": frame.get("category", pd.Series(dtype=str)).map(FindingCategory.labels()),
        "方面": frame.get("kind", pd.Series(dtype=str)).map(FindingKind.labels()),
        "乡镇": frame.get("township_name", []), "行政村": frame.get("village_name", []),
        "户编号": frame.get("household_code", []), "问题": frame.get("description", []),
        "整改责任单位": frame.get("responsible_unit", []), "发现日期": frame.get("found_on", []),
        "整改期限": frame.get("deadline", []),
        "状态": frame.get("status", pd.Series(dtype=str)).map(FindingStatus.labels()),
        "是否逾期": frame.get("overdue", pd.Series(dtype=bool)).map({True: "是", False: "否"}),
        "整改佐证": frame.get("evidence_note", []),
    })


#: 表4's village types from the registry's categories. The registry does not record which
#: poor villages plan to exit this year, so 今年计划退出贫困村 cannot be told apart.
VILLAGE_TYPES = {
    VillageCategory.EXITED.value: "已退出贫困村",
    VillageCategory.KEY_POOR.value: "未退出贫困村",
    VillageCategory.POOR.value: "未退出贫困村",
    VillageCategory.NON_POOR.value: "非贫困村",
}


def household_type(status: str, year: Any, plan_year: int) -> str:
    """表4's household types: 已脱贫户, 今年计划脱贫户, 未脱贫户, 非贫困户."""
    year = None if year is None or pd.isna(year) else int(year)
    if status == HouseholdStatus.EXITED.value:
        return "已脱贫户"
    if status == HouseholdStatus.PLANNED_EXIT.value and year == plan_year:
        return "今年计划脱贫户"
    if status == HouseholdStatus.NON_POOR.value:
        return "非贫困户"
    return "未脱贫户"


def table4(villages: pd.DataFrame, households: pd.DataFrame, tallies: pd.DataFrame, *, plan_year: int,
           labels: dict[str, str]) -> dict[str, pd.DataFrame]:
    """表4 督查任务完成情况汇总表, the sample part: counts of townships, villages by type and
    households by type, and the strata whose target was not met.

    Returns
    -------
    dict
        ``counts`` (项目, 单位, 数量) and ``unmet`` (抽样单元, 抽样层, 应抽, 已抽, 缺额).
    """
    v_types = villages["category"].map(VILLAGE_TYPES)
    h_types = [household_type(s, y, plan_year) for s, y in zip(households["status"], households["status_year"])]
    h_types = pd.Series(h_types, dtype=object)
    rows = [("1.抽查乡镇数", "个", int(villages["township_name"].nunique())),
            ("2.抽查村总数", "个", len(villages))]
    for name in ("已退出贫困村", "今年计划退出贫困村", "未退出贫困村", "非贫困村"):
        rows.append((f"  其中：{name}", "个", int((v_types == name).sum())))
    rows.append(("3.抽查户总数", "户", len(households)))
    for name in ("已脱贫户", "今年计划脱贫户", "未脱贫户", "非贫困户"):
        rows.append((f"  其中：{name}", "户", int((h_types == name).sum())))
    counts = pd.DataFrame(rows, columns=["项目", "单位", "数量"])
    bad = tallies[~tallies["met"].astype(bool)]
    unmet = pd.DataFrame({
        "抽样单元": bad["unit"].replace({"*": "全部抽查范围"}), "抽样层": bad["stratum"].map(labels),
        "应抽(户)": bad["wanted"], "最少(户)": bad["minimum"], "已抽(户)": bad["drawn"] + bad["filled"],
        "缺额(户)": bad["shortfall"],
    }).reset_index(drop=True)
    return {"counts": counts, "unmet": unmet}
