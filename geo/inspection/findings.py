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


# ---------------------------------------------------------------------- 表4 whole, 表5

#: 表4's blocks in seed 003's order.
T4_ORGANISATION = "督查组织"
T4_BASIC = "督查基本情况"
T4_HOUSEHOLDS = "主要目标任务完成情况：贫困户“八有一超”情况"
T4_VILLAGES = "主要目标任务完成情况：贫困村“十一有一低于”情况"
T4_COUNTY = "摘帽县“九有一低于”情况"
T4_CONSOLIDATION = "脱贫摘帽对象巩固提升情况"
T4_FUNDS = "扶贫资金管理使用情况"
T4_SAMPLED = "抽查户情况"
T4_JUDGEMENT = "综合研判"
TO_FILL = "待督查组填报"
FROM_COUNTY = "数据由县提供"

#: 八有一超 rows: (seed 003's wording, unit, household flag whose False counts it, or None).
EIGHT_ITEMS = (
    ("1.未实现两不愁户数", "户", "assured_food_clothing"),
    ("2.因贫未读或辍学适龄学生人数", "人", "assured_education"),
    ("3.未参加城乡医保（新农合）人数", "人", "assured_medical"),
    ("4.无安全住房户数", "户", "assured_housing"),
    ("5.督查易地搬迁户数", "户", None),
    ("6.无生活用电户数", "户", "has_power"),
    ("7.无安全饮水户数", "户", "has_safe_water"),
    ("8.无广播电视信号户数", "户", "has_tv"),
    ("9.无路通村屯户数", "户", None),
)
#: 十一有一低于 rows: (seed 003's wording, the exit scorecard's item code).
ELEVEN_ITEMS = (
    ("1.无特色产业村数", ("feature_industry",)), ("2.有稳固住房达不到标准的村数", ("stable_housing",)),
    ("3.教育保障达不到标准的村数", ("education",)), ("4.医疗保障达不到标准的村数", ("medical",)),
    ("5.安全饮水达不到标准的村数", ("safe_water",)),
    ("6.通村屯道路达不到标准的村数", ("road_to_village", "roads_to_settlements")),
    ("7.有电用达不到标准的村数", ("power",)), ("8.公共服务设施达不到标准的村数", ("public_services",)),
    ("9.有电视看达不到标准的村数", ("tv",)), ("10.无集体经济村数", ("collective_economy",)),
    ("11.软弱涣散基层党组织村数", ("party_organisation",)), ("12.贫困发生率高于3%的村数", ("poverty_incidence",)),
)
COUNTY_ITEMS = ("1.有特色产业达标情况", "2.有稳固住房达标情况", "3.教育保障达标情况", "4.医疗保障达标情况",
                "5.安全饮水达标情况", "6.通村屯道路达标情况", "7.有电用达标情况", "8.公共服务设施达标情况",
                "9.有社会救助达标情况", "10.贫困发生率达标情况")
FUND_ITEMS = (("1.涉农资金整合计划数、实际到位数、截止检查时拨付数", "万元"),
              ("2.教育扶贫救助基金总额、已发放额、惠及人数", "万元/人"),
              ("3.卫生扶贫救助基金总额、已发放额、惠及人数", "万元/人"),
              ("4.扶贫小额信贷风险基金总额、贷款余额、惠及户数", "万元/户"),
              ("5.产业扶持基金全县总额、贫困村总额、抽查贫困村总额、借出总额", "万元"))


def table4_full(
    villages: pd.DataFrame,
    households: pd.DataFrame,
    tallies: pd.DataFrame,
    *,
    plan_year: int,
    labels: dict[str, str],
    findings: pd.DataFrame,
    household_flags: pd.DataFrame | None = None,
    village_results: pd.DataFrame | None = None,
    inspectors: int | None = None,
) -> pd.DataFrame:
    """表4 督查任务完成情况汇总表, every block of seed 003, filled where the atlas knows.

    Parameters
    ----------
    villages, households
        The recorded sample.
    findings
        The plan's findings (:func:`geo.services.findings.list_findings`): 漏评 and 错退 are
        counted by household from findings of those kinds.
    household_flags
        Registry flags of the sampled households by ``household_id`` (``assured_*``,
        ``has_*``; None where unknown): 八有一超 counts among registered poor households.
    village_results
        The exit scorecard of the sampled villages: ``village_id``, ``item_code``, ``result``
        (pass, fail, unknown): 十一有一低于 counts.
    inspectors
        Inspectors assigned to the plan (参与人数).

    Returns
    -------
    DataFrame
        ``类别``, ``项目``, ``单位``, ``数量``, ``备注``; 数量 is None where the inspectors or the
        county fill it in (备注 says who).
    """
    rows: list[tuple] = []

    def add(block, item, unit, value=None, note=""):
        rows.append((block, item, unit, value, note))

    add(T4_ORGANISATION, "参与部门", "个", None, TO_FILL)
    add(T4_ORGANISATION, "参与人数", "人", inspectors, "已分配到本方案的督查人员" if inspectors else TO_FILL)
    for item, unit, value in table4(villages, households, tallies, plan_year=plan_year, labels=labels)[
            "counts"].itertuples(index=False):
        add(T4_BASIC, item.strip(), unit, value)
    add(T4_BASIC, "4.家庭人口、户籍、明白卡等不一致的户数", "户", None, "入户核实后填报（附件1第1项）")
    add(T4_BASIC, "5.帮扶措施与致贫原因不一致的户数", "户", None, "入户核实后填报（附件1第1项）")

    poor = households["status"].isin([HouseholdStatus.REGISTERED.value, HouseholdStatus.RETURNED.value,
                                      HouseholdStatus.PLANNED_EXIT.value, HouseholdStatus.EXITED.value])
    planned = [household_type(s, y, plan_year) == "今年计划脱贫户"
               for s, y in zip(households["status"], households["status_year"])]
    flags = household_flags.set_index("household_id") if household_flags is not None and len(household_flags) \
        else None
    for item, unit, column in EIGHT_ITEMS:
        if column is None or flags is None or column not in flags.columns:
            add(T4_HOUSEHOLDS, item, unit, None, "入户核实后填报（附件1）")
            add(T4_HOUSEHOLDS, "  其中：今年计划脱贫户", unit, None, "")
            continue
        lacking = unknown = lacking_planned = 0
        for hid, is_poor, is_planned in zip(households["household_id"], poor, planned):
            if not is_poor:
                continue
            value = flags[column].get(int(hid)) if hid is not None and not pd.isna(hid) else None
            if value is None or pd.isna(value):
                unknown += 1
            elif not bool(value):
                lacking += 1
                lacking_planned += int(is_planned)
        note = "登记农户标记（按户计），入户核实后更正" + (f"；{unknown}户无记录" if unknown else "")
        add(T4_HOUSEHOLDS, item, "户" if unit == "人" else unit, lacking, note)
        add(T4_HOUSEHOLDS, "  其中：今年计划脱贫户", "户" if unit == "人" else unit, lacking_planned, "")

    cards = village_results if village_results is not None else pd.DataFrame(columns=["village_id", "item_code",
                                                                                        "result"])
    cards = cards[cards["village_id"].isin(set(villages["village_id"].dropna().astype(int)))]
    for item, codes in ELEVEN_ITEMS:
        mine = cards[cards["item_code"].isin(codes)]
        if mine.empty:
            add(T4_VILLAGES, item, "个", None, "入村核实后填报（附件2）")
            continue
        failed = mine.loc[mine["result"] == "fail", "village_id"].nunique()
        unknown = mine.loc[mine["result"] == "unknown", "village_id"].nunique()
        add(T4_VILLAGES, item, "个", int(failed), "按登记村级指标和图层分析（贫困村退出标准核查）；已退出村和今年计划退出村填报"
            + (f"；{unknown}个村无法判断" if unknown else ""))
    for item in COUNTY_ITEMS:
        add(T4_COUNTY, item, "", None, "已摘帽县和今年计划摘帽县填报")
    add(T4_CONSOLIDATION, "1.全县“回头看”发现已脱贫户个别指标未达到脱贫标准户数", "户", None, FROM_COUNTY)
    add(T4_CONSOLIDATION, "2.全县截至检查时通过“回头帮”实现达标户数", "户", None, FROM_COUNTY)
    for item, unit in FUND_ITEMS:
        add(T4_FUNDS, item, unit, None, FROM_COUNTY)

    def households_with(kind: FindingKind) -> int:
        if findings is None or findings.empty:
            return 0
        mine = findings[findings["kind"] == kind.value]
        coded = mine["household_code"].dropna()
        return int(coded.nunique() + mine["household_code"].isna().sum())

    add(T4_SAMPLED, "贫困户信息比对核查不一致户数", "户", None, "入户核实后填报（附件2第5项）")
    add(T4_SAMPLED, "漏评情况：疑似漏评户数", "户", households_with(FindingKind.MISSED), "按已登记的“漏评”问题计")
    add(T4_SAMPLED, "错退情况：疑似错退户数", "户", households_with(FindingKind.WRONG_EXIT), "按已登记的“错退”问题计")
    add(T4_SAMPLED, "帮扶认可情况：对脱贫攻坚政策、帮扶措施及成效、脱贫退出等不认可户数", "户", None,
        "入户核实后填报（附件1第3项第8问）")
    add(T4_SAMPLED, "  其中：非贫困户户数", "户", None, "")
    total = 0 if findings is None else len(findings)
    open_ = 0 if findings is None or findings.empty else int((findings["status"] != FindingStatus.CLOSED.value).sum())
    add(T4_JUDGEMENT, "研判该县能否顺利完成今年扶贫目标任务？（能/不能，若不能说明具体原因）", "", None,
        f"督查组研判填报；已登记问题{total}个，其中未整改销号{open_}个")
    return pd.DataFrame(rows, columns=["类别", "项目", "单位", "数量", "备注"])


def table5(findings: pd.DataFrame) -> pd.DataFrame:
    """表5 反馈问题整改情况抽查汇总表: every finding fed back, its rectification as recorded,
    and a blank column for what the spot check of the rectification found."""
    columns = ["序号", "问题编号", "乡镇", "行政村", "类别", "问题", "责任单位", "整改时限", "整改状态", "整改佐证",
               "销号日期", "是否逾期", "抽查核实情况", "备注"]
    if findings is None or findings.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for n, f in enumerate(findings.itertuples(index=False), start=1):
        rows.append([n, f.code, f.township_name, f.village_name,
                     f"{FindingCategory(f.category).label}·{FindingKind(f.kind).label}", f.description,
                     f.responsible_unit, f.deadline, FindingStatus(f.status).label, f.evidence_note or "",
                     f.closed_on, "是" if bool(f.overdue) else "否", "", ""])
    return pd.DataFrame(rows, columns=columns)
