"""From the answers of the phone forms to seed 003's results: 表4's result blocks (八有一超,
十一有一低于, 抽查户情况: 漏评 / 错退 / 认可), 表5's spot check of rectification, and the
findings an answer suggests (proposals an inspector confirms; never recorded here).

Counting rules (docs/field-kit.md says them in Chinese):

* A household counts with its **latest** answer and the type the inspector verified on the
  spot (``hh_type``); 八有一超 rows count poor households (every type but 非贫困户), each
  "其中" row those verified as 今年计划脱贫户.
* Rows in 人 (辍学, 未参保) add the numbers given; a "有/否" answer without its number counts 1.
* 十一有一低于 counts answered villages verified as 已退出 or 今年计划退出 (seed 003: "已退出村和
  今年计划退出村填报"); a share below :data:`SHARE_LINE_PCT` or an incidence above
  :data:`INCIDENCE_LINE_PCT` misses the standard (the thresholds of the exit analysis).

Pure: frames and dicts in, frames and dicts out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from geo.analysis.exit_standards import DEFAULT_INCIDENCE_THRESHOLD_PCT, DEFAULT_SHARE_THRESHOLD_PCT
from geo.enums import FindingCategory, FindingKind
from geo.inspection import findings as t4

#: The household income line (seed 004: 4,000 yuan a person a year, 2014 prices) [yuan/person/year].
INCOME_LINE_YUAN = 4000.0
SHARE_LINE_PCT = DEFAULT_SHARE_THRESHOLD_PCT
INCIDENCE_LINE_PCT = DEFAULT_INCIDENCE_THRESHOLD_PCT
#: Public services a village must have (assumed: office, clinic, culture room — the three the
#: village form names first among buildings).
REQUIRED_SERVICES = ("office", "clinic", "culture")
EXITED = ("exited_2014_2015", "exited")
EXIT_VILLAGES = ("exited", "planned_exit")


def _is(answers: dict, name: str, value: str) -> bool:
    return answers.get(name) == value


def _num(answers: dict, name: str, default: float | None = None) -> float | None:
    value = answers.get(name)
    return default if value is None or value == "" else float(value)


def _poor(a: dict) -> bool:
    return a.get("hh_type") not in (None, "non_poor")


def _planned(a: dict) -> bool:
    return a.get("hh_type") == "planned_exit"


@dataclass(frozen=True)
class Row:
    """A 表4 figure: the main value, the 其中 value (None: no such row) and the note."""

    value: Any
    sub: Any = None
    note: str = ""


def _count(items: list[dict], test, *, sub=_planned, weight=None) -> Row:
    chosen = [a for a in items if test(a)]
    size = (lambda a: weight(a)) if weight else (lambda a: 1)
    return Row(int(sum(size(a) for a in chosen)), int(sum(size(a) for a in chosen if sub(a))))


def household_rows(answers: list[dict], registered_members: dict[str, Any]) -> dict[str, Row]:
    """表4 rows from the latest household answers (each a dict of :mod:`geo.inspection.answers`
    answers with ``household``): item -> :class:`Row`."""
    poor = [a for a in answers if _poor(a)]
    n = f"按{len(answers)}户入户答卷（贫困户{len(poor)}户）"
    rows: dict[str, Row] = {}

    def members_differ(a: dict) -> bool:
        given = [a.get(k) for k in ("members_actual", "members_hukou", "members_card", "members_handbook")]
        given = [int(v) for v in given if v not in (None, "")]
        return len(set(given)) > 1

    rows["4.家庭人口、户籍、明白卡等不一致的户数"] = Row(sum(members_differ(a) for a in answers), None, n)
    rows["5.帮扶措施与致贫原因不一致的户数"] = Row(sum(_is(a, "measures_match", "no") for a in poor), None, n)
    rows["1.未实现两不愁户数"] = _count(poor, lambda a: _is(a, "food", "no") or _is(a, "clothing", "no"))
    rows["2.因贫未读或辍学适龄学生人数"] = _count(poor, lambda a: _is(a, "dropout", "have"),
                                        weight=lambda a: _num(a, "dropout_count", 1))
    rows["3.未参加城乡医保（新农合）人数"] = _count(poor, lambda a: _is(a, "medical_all", "no"),
                                         weight=lambda a: _num(a, "medical_uninsured", 1))
    rows["4.无安全住房户数"] = _count(poor, lambda a: _is(a, "safe_housing", "none"))
    moved = [a for a in poor if _is(a, "relocated", "yes")]
    detail = (f"其中今年易地搬迁{sum(_is(a, 'relocation_this_year', 'yes') for a in moved)}户，"
              f"今年搬迁户中未完工{sum(_is(a, 'relocation_this_year', 'yes') and _is(a, 'relocation_state', 'not_built') for a in moved)}户，"
              f"住房面积人均超过25平方米{sum(_is(a, 'relocation_over_25m2', 'yes') for a in moved)}户，"
              f"自筹资金超过1万元{sum(_is(a, 'relocation_self_funds_over_10k', 'yes') for a in moved)}户，"
              f"因建房负债{sum(_is(a, 'relocation_debt', 'yes') for a in moved)}户")
    rows["5.督查易地搬迁户数"] = Row(len(moved), sum(_planned(a) for a in moved), detail)
    rows["6.无生活用电户数"] = _count(poor, lambda a: _is(a, "power", "none"))
    rows["7.无安全饮水户数"] = _count(poor, lambda a: _is(a, "safe_water", "none"))
    rows["8.无广播电视信号户数"] = _count(poor, lambda a: _is(a, "tv", "no"))
    rows["9.无路通村屯户数"] = _count(poor, lambda a: _is(a, "road_hardened", "no"))
    for key in list(rows)[2:]:
        if not rows[key].note:
            rows[key] = Row(rows[key].value, rows[key].sub, n)

    def info_differs(a: dict) -> bool:
        registered = registered_members.get(a.get("household"))
        actual = a.get("members_actual")
        return registered not in (None, "") and actual not in (None, "") and int(registered) != int(actual)

    rows["贫困户信息比对核查不一致户数"] = Row(sum(info_differs(a) for a in poor), None,
                                    "入户核实的家庭实际人口与登记家庭人口不一致的贫困户")
    rows["漏评情况：疑似漏评户数"] = Row(
        sum(_is(a, "suspected_missed", "yes") or _is(a, "non_poor_missed", "yes") for a in answers), None,
        "入户答卷：经现场核查疑似漏评，或判断非贫困户属于漏评")
    wrong = sum(_is(a, "wrong_or_returned", "wrong_exit") for a in answers)
    returned = sum(_is(a, "wrong_or_returned", "returned") for a in answers)
    rows["错退情况：疑似错退户数"] = Row(wrong, None, f"入户答卷：已脱贫户未达到脱贫标准且判断为错退；另判断为返贫{returned}户")
    rows["帮扶认可情况：对脱贫攻坚政策、帮扶措施及成效、脱贫退出等不认可户数"] = Row(
        sum(_is(a, "recognised", "no") for a in answers),
        sum(_is(a, "recognised", "no") and a.get("hh_type") == "non_poor" for a in answers), n)
    return rows


def village_rows(answers: list[dict]) -> dict[str, Row]:
    """十一有一低于 rows from the latest village answers: item -> :class:`Row`."""
    counted = [a for a in answers if a.get("v_type") in EXIT_VILLAGES]
    note = (f"按{len(counted)}个已退出或今年计划退出村的村级答卷" +
            (f"（另{len(answers) - len(counted)}个村不在填报范围）" if len(answers) > len(counted) else ""))

    def below(name: str, line: float = SHARE_LINE_PCT):
        return lambda a: _num(a, name) is not None and _num(a, name) < line

    tests = {
        "1.无特色产业村数": lambda a: _is(a, "industry", "none"),
        "2.有稳固住房达不到标准的村数": below("stable_housing_pct"),
        "3.教育保障达不到标准的村数": lambda a: (_num(a, "out_of_school", 0) or 0) > 0 or _is(a, "education_policy", "no"),
        "4.医疗保障达不到标准的村数": lambda a: below("medical_pct")(a) or _is(a, "medical_policy", "no"),
        "5.安全饮水达不到标准的村数": below("safe_water_pct"),
        "6.通村屯道路达不到标准的村数": lambda a: _is(a, "road_hardened", "no") or _is(a, "hamlet_roads", "no"),
        "7.有电用达不到标准的村数": below("power_pct"),
        "8.公共服务设施达不到标准的村数": lambda a: not set(REQUIRED_SERVICES) <= set(a.get("public_services") or []),
        "9.有电视看达不到标准的村数": below("tv_pct"),
        "10.无集体经济村数": lambda a: _is(a, "collective_economy", "none"),
        "11.软弱涣散基层党组织村数": lambda a: _is(a, "weak_party", "yes") and not _is(a, "weak_party_fixed", "yes"),
        "12.贫困发生率高于3%的村数": lambda a: (_num(a, "incidence_pct") or 0) > INCIDENCE_LINE_PCT,
    }
    return {item: Row(sum(bool(test(a)) for a in counted), None, note) for item, test in tests.items()}


def fill_table4(table: pd.DataFrame, rows: dict[str, Row]) -> pd.DataFrame:
    """:func:`geo.inspection.findings.table4_full` with the rows the answers give replaced:
    数量 from the answers, the following "其中" row from ``sub``, 备注 saying so. A copy."""
    out = table.copy()
    out["数量"] = out["数量"].astype(object)
    last: Row | None = None
    for i, item in enumerate(out["项目"]):
        text = str(item).strip()
        if text.startswith("其中") and last is not None:
            if last.sub is not None:
                out.at[i, "数量"] = last.sub
                out.at[i, "备注"] = "入户答卷"
            last = None
            continue
        last = rows.get(text)
        if last is not None:
            out.at[i, "数量"] = last.value
            out.at[i, "备注"] = last.note
    return out


def table5_checks(table5: pd.DataFrame, findings: pd.DataFrame, village_answers: dict[str, dict]) -> pd.DataFrame:
    """表5 with 抽查核实情况 filled from the village answers (附件2 5.2: 整改落实情况, 台账,
    责任人, 措施, 举一反三) of each finding's village; ``village_answers`` by village name."""
    out = table5.copy()
    if out.empty:
        return out
    yes = {"yes": "是", "no": "否"}
    for i, code in enumerate(out["问题编号"]):
        village = findings.loc[findings["code"] == code, "village_name"]
        answers = village_answers.get(village.iloc[0]) if len(village) else None
        if not answers:
            continue
        parts = [f"{label}：{yes.get(answers.get(key), '未答')}"
                 for key, label in (("ledger", "整改台账"), ("responsible_named", "整改责任人"),
                                    ("measures_set", "整改措施"), ("lessons_applied", "举一反三"))]
        if answers.get("rectification"):
            parts.append(f"整改落实情况：{answers['rectification']}")
        out.at[i, "抽查核实情况"] = "；".join(parts) + "（村级答卷）"
    return out


# ---------------------------------------------------------------------- proposals


@dataclass(frozen=True)
class Proposal:
    """A finding an answer suggests; recorded only when an inspector confirms it."""

    instance_id: str
    rule: str
    category: FindingCategory
    kind: FindingKind
    description: str
    household: str | None
    village: str

    @property
    def key(self) -> str:
        return f"{self.instance_id}#{self.rule}"

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "instance_id": self.instance_id, "rule": self.rule,
                "category": self.category.value, "category_label": self.category.label,
                "kind": self.kind.value, "kind_label": self.kind.label, "description": self.description,
                "household": self.household, "village": self.village}


_LACKS = (  # (rule, test, what, kind for a household still poor)
    ("no_food_clothing", lambda a: _is(a, "food", "no") or _is(a, "clothing", "no"), "未实现不愁吃、不愁穿",
     FindingKind.MEASURES),
    ("dropout", lambda a: _is(a, "dropout", "have"), "有义务教育阶段因贫未读或辍学学生", FindingKind.POLICIES),
    ("no_medical_insurance", lambda a: _is(a, "medical_all", "no"), "未全部参加城乡居民医疗保险", FindingKind.POLICIES),
    ("no_safe_housing", lambda a: _is(a, "safe_housing", "none"), "无安全住房", FindingKind.POLICIES),
    ("no_power", lambda a: _is(a, "power", "none"), "无生活用电", FindingKind.PROJECTS),
    ("no_safe_water", lambda a: _is(a, "safe_water", "none"), "无安全饮水", FindingKind.PROJECTS),
    ("no_tv", lambda a: _is(a, "tv", "no"), "未通广播电视信号", FindingKind.PROJECTS),
    ("road_not_hardened", lambda a: _is(a, "road_hardened", "no"), "通村屯道路未硬化", FindingKind.PROJECTS),
)


def _category(kind: FindingKind) -> FindingCategory:
    from geo.enums import FINDING_KINDS

    return next(c for c, kinds in FINDING_KINDS.items() if kind in kinds)


def household_proposals(instance_id: str, a: dict, *, village_name: str,
                        income_line_yuan: float = INCOME_LINE_YUAN) -> list[Proposal]:
    """The findings a household answer suggests (codes only, never names)."""
    code = a.get("household")
    out: list[Proposal] = []

    def add(rule: str, kind: FindingKind, text: str) -> None:
        out.append(Proposal(instance_id, rule, _category(kind), kind, f"{village_name}农户{code}：{text}", code,
                            village_name))

    exited = a.get("hh_type") in EXITED
    income = _num(a, "income_yuan")
    if exited and income is not None and income < income_line_yuan:
        add("income_below_line", FindingKind.WRONG_EXIT,
            f"已脱贫户人均纯收入{income:g}元，低于脱贫收入标准{income_line_yuan:g}元，疑似错退")
    if _is(a, "wrong_or_returned", "wrong_exit"):
        add("judged_wrong_exit", FindingKind.WRONG_EXIT, "入户判断已脱贫户未达到脱贫标准，疑似错退")
    if _is(a, "wrong_or_returned", "returned"):
        add("judged_returned", FindingKind.RETURNED, "入户判断已脱贫户未达到脱贫标准，疑似返贫")
    if _is(a, "suspected_missed", "yes") or _is(a, "non_poor_missed", "yes"):
        add("suspected_missed", FindingKind.MISSED, "经现场核查疑似漏评")
    if _poor(a):
        for rule, test, what, kind in _LACKS:
            if test(a):
                add(rule, FindingKind.WRONG_EXIT if exited else kind,
                    f"{'已脱贫户' if exited else '贫困户'}{what}" + ("，未达到脱贫标准" if exited else ""))
        if _is(a, "measures_match", "no"):
            add("measures_mismatch", FindingKind.MEASURES, "帮扶措施与致贫原因不一致")
        if _is(a, "cadre_assigned", "no"):
            add("no_cadre", FindingKind.RESIDENT_TEAM, "县、乡未安排干部联系帮扶")
    given = [int(a[k]) for k in ("members_actual", "members_hukou", "members_card", "members_handbook")
             if a.get(k) not in (None, "")]
    if len(set(given)) > 1:
        add("members_inconsistent", FindingKind.RECORDS, "家庭实际人口、户籍人口、明白卡人口、扶贫手册人口不一致")
    return out


def village_proposals(instance_id: str, a: dict, *, village_name: str) -> list[Proposal]:
    """The findings a village answer suggests."""
    out: list[Proposal] = []

    def add(rule: str, kind: FindingKind, text: str) -> None:
        out.append(Proposal(instance_id, rule, _category(kind), kind, f"{village_name}：{text}", None, village_name))

    if _is(a, "eligible_not_listed", "have"):
        add("eligible_not_listed", FindingKind.MISSED, "有符合条件但未纳入贫困户的群众，疑似漏评")
    if _is(a, "work_team", "no") or _is(a, "first_secretary", "no"):
        add("resident_team", FindingKind.RESIDENT_TEAM, "驻村工作队或第一书记未到岗到位")
    if _is(a, "info_consistent", "no"):
        add("info_inconsistent", FindingKind.RECORDS, "贫困户实际信息与帮扶手册、全国扶贫开发信息系统不一致")
    if _is(a, "ledger", "no"):
        add("no_ledger", FindingKind.RECORDS, "未建立问题整改台账")
    incidence = _num(a, "incidence_pct")
    if a.get("v_type") in EXIT_VILLAGES and incidence is not None and incidence > INCIDENCE_LINE_PCT:
        add("incidence_above_line", FindingKind.WRONG_EXIT,
            f"已退出或计划退出贫困村贫困发生率{incidence:g}%，高于{INCIDENCE_LINE_PCT:g}%")
    return out
