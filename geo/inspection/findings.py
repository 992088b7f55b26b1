"""Findings (督查发现问题) and their rectification (整改), with the summaries of seed 003's
表3 (problems by category) and 表4 (what was checked, by village and household type).

A finding is recorded against a sampled village or household of a plan, with a category of
表3 and its kind, a description, the unit responsible for fixing it and a deadline. Its status
moves forward only: open (待整改) -> rectifying (整改中) -> closed (已整改销号); it may be closed
straight from open (立行立改). Closing needs a note of the evidence; every change is kept in
the finding's history.

These are the rules and the summaries, over frames; :mod:`geo.services.findings` records and
changes findings in the registry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from geo.enums import FINDING_KINDS, FindingCategory, FindingKind, FindingStatus, HouseholdStatus, VillageCategory
from geo.errors import ValidationError

#: The statuses a finding may move to from each status (forward only).
NEXT_STATUS = {
    FindingStatus.OPEN: {FindingStatus.RECTIFYING, FindingStatus.CLOSED},
    FindingStatus.RECTIFYING: {FindingStatus.CLOSED},
    FindingStatus.CLOSED: set(),
}
_NUMERALS = "一二三四五六七八九十"

#: The fields of a finding that ``atlas finding --json`` and the HTTP API show.
SHOWN_FIELDS = ["code", "status", "category", "kind", "township_name", "village_name", "household_code",
                "description", "responsible_unit", "found_on", "deadline", "overdue", "days_overdue",
                "evidence_note"]


def parse_choice(enum_cls, text: Any, field: str):
    """``enum_cls.parse(text)``, a failure naming ``field``."""
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
    parsed_kind = parse_choice(FindingKind, kind, "kind") if kind is not None else None
    if category is None:
        found = next(c for c, kinds in FINDING_KINDS.items() if parsed_kind in kinds)
        return found, parsed_kind
    parsed = parse_choice(FindingCategory, category, "category")
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


def parse_day(value: Any, field: str) -> dt.date:
    """A date from a date, a datetime or ``YYYY-MM-DD`` text, a failure naming ``field``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{field}: {value!r} is not a date; use YYYY-MM-DD") from None


def village_matches(villages: pd.DataFrame, text: str) -> list[int]:
    """Ids of the sampled villages ``text`` names (name, village key or township/name)."""
    text = str(text).strip()
    if "/" in text:
        township, name = (p.strip() for p in text.split("/", 1))
        hit = villages[(villages["township_name"] == township) & (villages["village_name"] == name)]
    else:
        hit = villages[(villages["village_name"] == text) | (villages["village_key"] == text)]
    return [int(i) for i in hit["id"]]


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
