"""Exit-standard scorecards: seed 003's village form (贫困村“十一有一低于”) item by item.

For every village and every item the data can speak to, the scorecard says *pass*, *fail*
or *unknown*, with the figure, the standard and where the figure came from. Figures are
taken, in order, from the village form's own indicator (``villages`` columns), from the
household records (their survey flags), or from the road and water analyses; when none
holds the answer the item is *unknown*, never assumed to pass.

The district summary follows seed 003's 表4 (督查任务完成情况汇总表): basic counts, the
households' “八有一超” shortfalls (with 其中：今年计划脱贫户), and the number of villages
failing each village item.

Thresholds: poverty incidence below 3 % (seed 003 表4: 贫困发生率高于3%的村数) and housing of
at least 13 m² a person (seed 003 village form) come from the documents. The form asks the
*share* of households with stable housing, medical insurance, safe water, power and TV
without a pass mark: each defaults to 90 %, an assumption to set to the provincial rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import _frames as F
from geo.analysis.result import AnalysisResult, Threshold, check_rules
from geo.analysis.roads import DEFAULT_ACCESS_TOLERANCE_M, DEFAULT_SETTLEMENT_MIN_HOUSEHOLDS, \
    DEFAULT_SETTLEMENT_MIN_WIDTH_M, DEFAULT_SNAP_TOLERANCE_M, analyze_roads
from geo.analysis.water import DEFAULT_SUPPLY_DISTANCE_M, analyze_water
from geo.enums import HouseholdStatus, VillageCategory
from geo.errors import ValidationError

#: Village poverty incidence must be below this for exit [%] (seed 003 表4).
DEFAULT_INCIDENCE_THRESHOLD_PCT = 3.0
#: Stable housing: at least this floor area a person [m²] (seed 003 village form).
DEFAULT_HOUSING_M2_PER_PERSON = 13.0
#: Pass mark for the form's share items [%]: an assumption (the form gives none).
DEFAULT_SHARE_THRESHOLD_PCT = 90.0

RESULTS = {"pass": "达标", "fail": "未达标", "unknown": "无法判断"}
SOURCE_LABELS = {
    "village_form": "村级调查表", "households": "农户记录", "roads": "道路图层分析", "water": "水利设施图层分析",
    "none": "无数据",
}


@dataclass(frozen=True)
class Item:
    """One exit standard: its code, 表4 number and wording."""

    code: str
    number: str
    label: str
    summary: str


ITEMS = (
    Item("feature_industry", "1", "有特色产业", "无特色产业村数"),
    Item("stable_housing", "2", "有稳固住房（人均13平方米以上）", "有稳固住房达不到标准的村数"),
    Item("education", "3", "义务教育有保障", "教育保障达不到标准的村数"),
    Item("medical", "4", "基本医疗有保障", "医疗保障达不到标准的村数"),
    Item("safe_water", "5", "有安全饮水", "安全饮水达不到标准的村数"),
    Item("road_to_village", "6(1)", "行政村通硬化路", "通村屯道路达不到标准的村数（行政村通硬化路）"),
    Item("roads_to_settlements", "6(2)", "20户以上自然村通砂石路以上且路面宽3.5米以上",
         "通村屯道路达不到标准的村数（20户以上自然村）"),
    Item("power", "7", "有电用", "有电用达不到标准的村数"),
    Item("public_services", "8", "有公共服务设施", "公共服务设施达不到标准的村数"),
    Item("tv", "9", "有电视看", "有电视看达不到标准的村数"),
    Item("collective_economy", "10", "有村集体经济", "无集体经济村数"),
    Item("party_organisation", "11", "村党组织不属软弱涣散", "软弱涣散基层党组织村数"),
    Item("poverty_incidence", "12", "贫困发生率低于3%", "贫困发生率高于3%的村数"),
)
ITEM_LABELS = {item.code: item.label for item in ITEMS}

COLUMNS = {
    "village_id": "村ID", "village_name": "行政村", "township_name": "乡镇", "category": "村类别",
    "item_no": "序号", "item_code": "项目代码", "item": "项目", "result": "结果", "figure": "数值",
    "figure_text": "实际情况", "standard": "标准", "source": "数据来源", "reason": "说明",
    "items_passed": "达标项数", "items_failed": "未达标项数", "items_unknown": "无法判断项数",
    "overall": "总体", "failed_items": "未达标项目", "unknown_items": "无法判断项目",
    "section": "类别", "unit": "单位", "count": "数量", "unknown": "无法判断", "note": "备注",
    **{item.code: item.label for item in ITEMS},
}
TABLES = {"villages": "行政村退出标准", "scorecard": "逐项评分", "summary": "督查任务完成情况汇总表（表4）"}
VIEWS = {
    "villages": ("township_name", "village_name", "category", "items_passed", "items_failed", "items_unknown",
                 "overall", "failed_items"),
    "scorecard": ("village_name", "item_no", "item", "result", "figure_text", "standard", "source"),
    "summary": ("township_name", "section", "item", "unit", "count", "unknown", "note"),
}
VALUES = {"category": VillageCategory.labels(), "result": RESULTS, "overall": RESULTS, "source": SOURCE_LABELS,
          **{item.code: RESULTS for item in ITEMS}}


@dataclass(frozen=True)
class _Verdict:
    result: str
    figure: float | None
    figure_text: str
    standard: str
    source: str
    reason: str


def exit_scorecard(
    villages: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    facility_links: pd.DataFrame | None = None,
    year: int | None = None,
    incidence_threshold_pct: float = DEFAULT_INCIDENCE_THRESHOLD_PCT,
    housing_m2_per_person: float = DEFAULT_HOUSING_M2_PER_PERSON,
    housing_share_threshold_pct: float = DEFAULT_SHARE_THRESHOLD_PCT,
    medical_share_threshold_pct: float = DEFAULT_SHARE_THRESHOLD_PCT,
    safe_water_threshold_pct: float = DEFAULT_SHARE_THRESHOLD_PCT,
    power_share_threshold_pct: float = DEFAULT_SHARE_THRESHOLD_PCT,
    tv_share_threshold_pct: float = DEFAULT_SHARE_THRESHOLD_PCT,
    collective_income_min_wan_yuan: float | None = None,
    access_tolerance_m: float = DEFAULT_ACCESS_TOLERANCE_M,
    snap_tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    settlement_min_households: int = DEFAULT_SETTLEMENT_MIN_HOUSEHOLDS,
    settlement_min_width_m: float = DEFAULT_SETTLEMENT_MIN_WIDTH_M,
    supply_distance_m: float = DEFAULT_SUPPLY_DISTANCE_M,
    roads_result: AnalysisResult | None = None,
    water_result: AnalysisResult | None = None,
) -> AnalysisResult:
    """Pass / fail / unknown for every village and exit standard, and a 表4-style summary.

    Parameters
    ----------
    villages
        ``villages`` layer with the village-form indicators (null = not filled in).
    settlements
        ``settlements`` layer (for the 20-household road rule).
    households
        ``households`` layer (``village_id``, ``settlement_id``, ``status``, ``status_year``,
        ``members`` and the survey flags); may be empty.
    roads
        ``roads`` layer; may be empty (road items are then unknown).
    townships
        ``townships`` layer with seats.
    facilities, facility_links
        ``water_facilities`` and ``water_facility_villages``: the last resort for safe water
        (share of households within ``supply_distance_m`` of a working supply point).
    year
        The current year, for “今年计划脱贫户” (planned exits of this year); default: every
        planned exit.
    incidence_threshold_pct
        Poverty incidence must be below this [%].
    housing_m2_per_person
        Stable housing floor area [m² a person] (household-record fallback).
    housing_share_threshold_pct, medical_share_threshold_pct, safe_water_threshold_pct, power_share_threshold_pct, tv_share_threshold_pct
        Pass marks of the share items [%].
    collective_income_min_wan_yuan
        Optional minimum collective income [万元] (default: any collective economy passes).
    access_tolerance_m, snap_tolerance_m, settlement_min_households, settlement_min_width_m
        Road rules, as in :func:`geo.analysis.roads.analyze_roads`.
    supply_distance_m
        Water rule, as in :func:`geo.analysis.water.analyze_water`.
    roads_result, water_result
        Results of the roads and water analyses already run on the same frames with the same
        rules (so a dashboard running all analyses computes them once); checked against the
        rules above.

    Returns
    -------
    AnalysisResult
        ``villages`` (Point): ``village_id``, ``village_name``, ``township_name``,
        ``category``, one column per item code of :data:`ITEMS` (``pass`` / ``fail`` /
        ``unknown``), ``items_passed``, ``items_failed``, ``items_unknown``, ``overall``
        (``fail`` if any item fails, ``pass`` if all pass, else ``unknown``),
        ``failed_items``, ``unknown_items``.

        ``scorecard`` (one row per village and item): ``village_id``, ``village_name``,
        ``township_name``, ``category``, ``item_no`` (表4 number), ``item_code``, ``item``,
        ``result``, ``figure`` (the number judged: % for shares and incidence, m for roads,
        a count for children and settlements), ``figure_text``, ``standard``, ``source``
        (``village_form`` / ``households`` / ``roads`` / ``water`` / ``none``), ``reason``.

        ``summary`` (表4 rows, per township then 全区): ``township_name``, ``section``,
        ``item``, ``unit``, ``count``, ``unknown`` (villages that cannot be judged), ``note``.
    """
    for name, value in (("incidence_threshold_pct", incidence_threshold_pct),
                        ("housing_share_threshold_pct", housing_share_threshold_pct),
                        ("medical_share_threshold_pct", medical_share_threshold_pct),
                        ("safe_water_threshold_pct", safe_water_threshold_pct),
                        ("power_share_threshold_pct", power_share_threshold_pct),
                        ("tv_share_threshold_pct", tv_share_threshold_pct)):
        if value is None or not 0 <= value <= 100:
            raise ValidationError(f"{name} must be a percentage between 0 and 100, not {value!r}")
    F.require(households, "households", ["village_id", "status"])
    v = F.village_frame(villages, townships)
    notes: list[str] = []
    road_rules = {"access_tolerance_m": access_tolerance_m, "snap_tolerance_m": snap_tolerance_m,
                  "settlement_min_households": settlement_min_households,
                  "settlement_min_width_m": settlement_min_width_m}
    if roads_result is not None:
        check_rules(roads_result, road_rules)
        road_result = roads_result
    else:
        road_result = analyze_roads(villages, settlements, roads, townships, households=households, band=False,
                                    **road_rules)
    if water_result is not None:
        check_rules(water_result, {"supply_distance_m": supply_distance_m})
    elif facilities is not None:
        water_result = analyze_water(villages, settlements, facilities, links=facility_links, households=households,
                                     townships=townships, supply_distance_m=supply_distance_m)
    no_roads = roads is None or roads.empty
    if no_roads:
        notes.append("道路图层为空：通路两项记为无法判断")
    evidence = _Evidence(v, households, road_result.tables["villages"], road_result.tables["settlements"],
                         None if water_result is None else water_result.tables["villages"], no_roads,
                         housing_m2_per_person)
    rules: dict[str, Callable[[pd.Series], _Verdict]] = {
        "feature_industry": lambda r: evidence.flag(r, "has_feature_industry", True, "有特色产业"),
        "stable_housing": lambda r: evidence.share(
            r, "stable_housing_share_pct", housing_share_threshold_pct,
            f"稳固住房且人均{housing_m2_per_person:g}平方米以上农户比例", household="stable_housing"),
        "education": lambda r: evidence.education(r),
        "medical": lambda r: evidence.share(r, "medical_insurance_share_pct", medical_share_threshold_pct,
                                            "参加医疗保险比例", household="assured_medical"),
        "safe_water": lambda r: evidence.safe_water(r, safe_water_threshold_pct),
        "road_to_village": lambda r: evidence.road_to_village(r, access_tolerance_m),
        "roads_to_settlements": lambda r: evidence.roads_to_settlements(r, settlement_min_households,
                                                                        settlement_min_width_m),
        "power": lambda r: evidence.share(r, "power_share_pct", power_share_threshold_pct, "有电用农户比例",
                                          household="has_power"),
        "public_services": lambda r: evidence.flag(r, "has_public_services", True, "有公共服务设施"),
        "tv": lambda r: evidence.share(r, "tv_share_pct", tv_share_threshold_pct, "有电视看农户比例",
                                       household="has_tv"),
        "collective_economy": lambda r: evidence.collective(r, collective_income_min_wan_yuan),
        "party_organisation": lambda r: evidence.flag(r, "weak_party_organisation", False, "村党组织不属软弱涣散"),
        "poverty_incidence": lambda r: evidence.incidence(r, incidence_threshold_pct),
    }
    rows = []
    for village in pd.DataFrame(v.drop(columns=[v.geometry.name])).to_dict("records"):
        for item in ITEMS:
            verdict = rules[item.code](village)
            rows.append({"village_id": village["village_id"], "village_name": village["village_name"],
                         "township_name": village["township_name"], "category": _text(village.get("category")),
                         "item_no": item.number, "item_code": item.code, "item": item.label,
                         **verdict.__dict__})
    scorecard = pd.DataFrame.from_records(rows, columns=[
        "village_id", "village_name", "township_name", "category", "item_no", "item_code", "item", "result",
        "figure", "figure_text", "standard", "source", "reason"])
    wide = _wide(v, scorecard)
    summary = _summary(v, scorecard, households, road_result.tables["settlements"], year, townships)
    if v.empty:
        notes.append("所选范围内没有行政村")
    thresholds = (
        Threshold("incidence_threshold_pct", "贫困发生率上限（%）", incidence_threshold_pct, "seed 003 表4：贫困发生率高于3%的村数"),
        Threshold("housing_m2_per_person", "稳固住房人均面积（平方米）", housing_m2_per_person,
                  "seed 003 村级调查表：稳固住房且人均达13平方米"),
        Threshold("housing_share_threshold_pct", "稳固住房农户比例达标线（%）", housing_share_threshold_pct, _ASSUMED),
        Threshold("medical_share_threshold_pct", "医疗保险参保比例达标线（%）", medical_share_threshold_pct, _ASSUMED),
        Threshold("safe_water_threshold_pct", "安全饮水农户比例达标线（%）", safe_water_threshold_pct, _ASSUMED),
        Threshold("power_share_threshold_pct", "有电用农户比例达标线（%）", power_share_threshold_pct, _ASSUMED),
        Threshold("tv_share_threshold_pct", "有电视看农户比例达标线（%）", tv_share_threshold_pct, _ASSUMED),
        Threshold("collective_income_min_wan_yuan", "村集体经济收入下限（万元）", collective_income_min_wan_yuan,
                  "默认不设下限：有集体经济即达标"),
        Threshold("access_tolerance_m", "通路判定距离（米）", access_tolerance_m, "本系统默认值"),
        Threshold("snap_tolerance_m", "路网端点吸附容差（米）", snap_tolerance_m, "路网构建"),
        Threshold("settlement_min_households", "自然村通路户数下限（户）", settlement_min_households, "seed 003 村级调查表"),
        Threshold("settlement_min_width_m", "自然村道路最小路面宽（米）", settlement_min_width_m, "seed 003 村级调查表"),
        Threshold("supply_distance_m", "取水距离上限（米）", supply_distance_m, "本系统默认1公里"),
        Threshold("year", "今年（计划脱贫年度）", year, "默认：所有计划脱贫户"),
    )
    notes.insert(0, "数据依次取自村级调查表指标、农户记录、道路/水利图层分析；都没有时记为无法判断，不推定达标")
    return AnalysisResult(name="exit", title="贫困村退出标准核查", tables={"villages": wide, "scorecard": scorecard,
                                                                   "summary": summary},
                          crs=road_result.crs, thresholds=thresholds, notes=tuple(notes), labels=COLUMNS,
                          titles=TABLES, views=VIEWS, values=VALUES)


_ASSUMED = "假设：seed 003 村级调查表只问比例，未给达标线"


def _text(value) -> str | None:
    return None if value is None or value is pd.NA or value != value else str(value)


def _household_flags(households: pd.DataFrame, housing_m2_per_person: float) -> dict:
    """(village id, flag) -> (households with a known value, households where it holds)."""
    if households is None or households.empty:
        return {}
    flags = {}
    for column in ("assured_education", "assured_medical", "has_safe_water", "has_power", "has_tv"):
        if column in households:
            flags[column] = households[column].astype("boolean")
    if "housing_m2_per_person" in households:
        area = F.as_number(households["housing_m2_per_person"])
        ok = (area >= housing_m2_per_person).astype("boolean")
        ok[area.isna()] = pd.NA
        if "assured_housing" in households:
            ok = ok & households["assured_housing"].astype("boolean").fillna(True)
        flags["stable_housing"] = ok
    out: dict = {}
    for name, values in flags.items():
        frame = pd.DataFrame({"village_id": households["village_id"].to_numpy(), "known": values.notna().to_numpy(),
                              "yes": values.fillna(False).astype(bool).to_numpy()})
        sums = frame.groupby("village_id")[["known", "yes"]].sum()
        for village_id, known, yes in zip(sums.index, sums["known"], sums["yes"]):
            out[(village_id, name)] = (int(known), int(yes))
    return out


def _settlement_roads(settlements: pd.DataFrame) -> dict:
    """village id -> (settlements needing a road, gaps, undecided, gap names)."""
    if settlements.empty:
        return {}
    needing = settlements["needs_road"].fillna(False).astype(bool)
    gap = settlements["road_gap"].fillna(False).astype(bool)
    undecided = settlements["road_gap"].isna() & ~(settlements["needs_road"] == False).fillna(False)  # noqa: E712
    label = [f"{n}（{int(h)}户）" if h == h else str(n)
             for n, h in zip(settlements["settlement_name"], F.as_number(settlements["households"]))]
    frame = pd.DataFrame({"village_id": settlements["village_id"].to_numpy(), "needing": needing.to_numpy(),
                          "gap": gap.to_numpy(), "undecided": undecided.to_numpy(dtype=bool),
                          "label": np.where(gap.to_numpy(), label, "")})
    grouped = frame.groupby("village_id").agg(needing=("needing", "sum"), gap=("gap", "sum"),
                                              undecided=("undecided", "sum"), label=("label", F.join_names))
    return {vid: (int(r.needing), int(r.gap), int(r.undecided), r.label) for vid, r in zip(grouped.index,
                                                                                          grouped.itertuples())}


class _Evidence:
    """Looks up the figure behind each item for one village."""

    def __init__(self, villages, households, road_villages, road_settlements, water_villages, no_roads: bool,
                 housing_m2_per_person: float):
        self.flags = _household_flags(households, housing_m2_per_person)
        self.poor_members = {}
        if len(households) and "members" in households:
            active = households[households["status"].isin(F.NOT_YET_OUT_STATUSES)]
            self.poor_members = F.as_number(active["members"]).fillna(0).groupby(active["village_id"]).sum().to_dict()
        self.surveyed = set(households["village_id"]) if len(households) else set()
        self.road = pd.DataFrame(road_villages.drop(columns="geometry")).set_index("village_id").to_dict("index")
        self.settlements = _settlement_roads(road_settlements)
        self.water = ({} if water_villages is None else
                      dict(zip(water_villages["village_id"], water_villages["supply_coverage_pct"])))
        self.no_roads = no_roads

    @staticmethod
    def _stored(row, column):
        value = row.get(column)
        return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value

    def flag(self, row, column: str, wanted: bool, what: str) -> _Verdict:
        value = self._stored(row, column)
        standard = f"{what}：{'是' if wanted else '否'}" if column == "weak_party_organisation" else what
        if value is None:
            return _Verdict("unknown", None, "未填报", standard, "none", "村级调查表未填此项")
        ok = bool(value) == wanted
        text = "是" if bool(value) else "否"
        return _Verdict("pass" if ok else "fail", float(bool(value)), text, standard, "village_form",
                        f"村级调查表：{text}")

    def share(self, row, column: str, threshold: float, what: str, *, household: str) -> _Verdict:
        standard = f"{what}≥{threshold:g}%"
        value = self._stored(row, column)
        if value is not None:
            ok = float(value) >= threshold
            return _Verdict("pass" if ok else "fail", float(value), f"{float(value):.1f}%", standard, "village_form",
                            f"村级调查表：{what}{float(value):.1f}%")
        known, yes = self.flags.get((row["village_id"], household), (0, 0))
        if known:
            pct = 100.0 * yes / known
            ok = pct >= threshold
            return _Verdict("pass" if ok else "fail", pct, f"{pct:.1f}%", standard, "households",
                            f"农户记录{known}户中{yes}户符合（{pct:.1f}%）；农户库以建档立卡户为主，按记录推算")
        return _Verdict("unknown", None, "无数据", standard, "none", "村级调查表未填，农户记录也无此项")

    def education(self, row) -> _Verdict:
        standard = "无因贫失学辍学的义务教育阶段儿童"
        value = self._stored(row, "out_of_school_children")
        if value is not None:
            count = int(value)
            return _Verdict("pass" if count == 0 else "fail", float(count), f"{count}人", standard, "village_form",
                            f"村级调查表：未能正常上学的适龄儿童{count}人")
        known, yes = self.flags.get((row["village_id"], "assured_education"), (0, 0))
        if known:
            lacking = known - yes
            return _Verdict("pass" if lacking == 0 else "fail", float(lacking), f"{lacking}户", standard,
                            "households", f"农户记录{known}户中{lacking}户义务教育无保障")
        return _Verdict("unknown", None, "无数据", standard, "none", "村级调查表未填，农户记录也无此项")

    def safe_water(self, row, threshold: float) -> _Verdict:
        verdict = self.share(row, "safe_water_share_pct", threshold, "安全饮水农户比例",
                             household="has_safe_water")
        if verdict.result != "unknown" or row["village_id"] not in self.water:
            return verdict
        estimate = self.water[row["village_id"]]
        if estimate is None or pd.isna(estimate):
            return verdict
        ok = float(estimate) >= threshold
        return _Verdict("pass" if ok else "fail", float(estimate), f"{float(estimate):.1f}%", verdict.standard, "water",
                        f"按取水距离推算：{float(estimate):.1f}%的农户在正常供水点取水距离内")

    def road_to_village(self, row, tolerance: float) -> _Verdict:
        standard = "行政村通硬化路（经硬化路连通乡镇驻地）"
        value = self._stored(row, "hardened_road")
        if value is not None:
            width = self._stored(row, "road_surface_width_m")
            extra = f"，路面宽{float(width):g}米" if width is not None else ""
            return _Verdict("pass" if bool(value) else "fail", float(bool(value)), ("是" if value else "否") + extra,
                            standard, "village_form", f"村级调查表：{'通' if value else '不通'}硬化路{extra}")
        if self.no_roads:
            return _Verdict("unknown", None, "无道路数据", standard, "none", "道路图层为空，无法判断")
        r = self.road[row["village_id"]]
        distance = r["distance_to_hardened_road_m"]
        figure = None if pd.isna(distance) else float(distance)
        text = "无硬化路" if figure is None else f"距硬化路{figure:,.0f}米"
        if r["road_status"] == "unknown":
            return _Verdict("unknown", figure, "无位置", standard, "none", "无村委会位置，无法量算")
        if r["joined_to_seat"] is pd.NA or pd.isna(r["joined_to_seat"]):
            return _Verdict("unknown", figure, text, standard, "roads", r["reason"])
        return _Verdict("pass" if bool(r["joined_to_seat"]) else "fail", figure, text, standard, "roads", r["reason"])

    def roads_to_settlements(self, row, min_households: int, min_width: float) -> _Verdict:
        standard = f"{min_households}户以上自然村通砂石路以上且路面宽{min_width:g}米以上"
        if self.no_roads:
            return _Verdict("unknown", None, "无道路数据", standard, "none", "道路图层为空，无法判断")
        found = self.settlements.get(row["village_id"])
        if found is None:
            return _Verdict("unknown", None, "无自然村数据", standard, "none", "没有该村的自然村记录")
        needing, gaps, undecided, names = found
        text = f"{needing}个{min_households}户以上自然村中{gaps}个未达标"
        if gaps:
            return _Verdict("fail", float(gaps), text, standard, "roads", f"未达标：{names}")
        if undecided:
            return _Verdict("unknown", 0.0, text, standard, "roads", f"{undecided}个自然村缺位置或户数，无法判断")
        return _Verdict("pass", 0.0, text, standard, "roads",
                        f"{needing}个{min_households}户以上自然村都有达标道路" if needing
                        else f"没有{min_households}户以上的自然村")

    def collective(self, row, minimum: float | None) -> _Verdict:
        standard = "有村集体经济" + (f"（收入≥{minimum:g}万元）" if minimum is not None else "")
        has = self._stored(row, "has_collective_economy")
        income = self._stored(row, "collective_income_wan_yuan")
        if has is None:
            return _Verdict("unknown", None, "未填报", standard, "none", "村级调查表未填此项")
        income_text = "" if income is None else f"，收入{float(income):g}万元"
        if not bool(has):
            return _Verdict("fail", 0.0, "无" + income_text, standard, "village_form", "村级调查表：无村集体经济")
        if minimum is not None:
            if income is None:
                return _Verdict("unknown", None, "有，收入未填", standard, "none", "有集体经济但收入未填")
            ok = float(income) >= minimum
            return _Verdict("pass" if ok else "fail", float(income), "有" + income_text, standard, "village_form",
                            f"村级调查表：集体经济收入{float(income):g}万元")
        return _Verdict("pass", None if income is None else float(income), "有" + income_text, standard,
                        "village_form", "村级调查表：有村集体经济" + income_text)

    def incidence(self, row, threshold: float) -> _Verdict:
        standard = f"贫困发生率<{threshold:g}%"
        population = self._stored(row, "population")
        poor = self._stored(row, "poor_population")
        source, how = "village_form", "村级调查表"
        if poor is None and row["village_id"] in self.surveyed and self.poor_members is not None:
            poor = float(self.poor_members.get(row["village_id"], 0.0))
            source, how = "households", "农户记录（未脱贫、计划脱贫、返贫户人口）"
        if population is None or poor is None or float(population) <= 0:
            return _Verdict("unknown", None, "无数据", standard, "none", "缺少人口或贫困人口数")
        pct = 100.0 * float(poor) / float(population)
        ok = pct < threshold
        return _Verdict("pass" if ok else "fail", pct, f"{pct:.2f}%", standard, source,
                        f"{how}：贫困人口{float(poor):,.0f}人 / 人口{float(population):,.0f}人")


def _wide(v: gpd.GeoDataFrame, scorecard: pd.DataFrame) -> gpd.GeoDataFrame:
    out = pd.DataFrame({"village_id": v["village_id"].to_numpy(), "village_name": v["village_name"].to_numpy(),
                        "township_name": v["township_name"].to_numpy(),
                        "category": [_text(c) for c in v["category"]] if "category" in v else None},
                       index=v.index)
    if scorecard.empty:
        for item in ITEMS:
            out[item.code] = None
        out["items_passed"] = out["items_failed"] = out["items_unknown"] = 0
        out["overall"] = out["failed_items"] = out["unknown_items"] = None
        return F.geoframe(out, v.geometry)
    pivot = scorecard.pivot(index="village_id", columns="item_code", values="result")
    for item in ITEMS:
        out[item.code] = out["village_id"].map(pivot[item.code])
    results = out[[item.code for item in ITEMS]]
    out["items_passed"] = (results == "pass").sum(axis=1)
    out["items_failed"] = (results == "fail").sum(axis=1)
    out["items_unknown"] = (results == "unknown").sum(axis=1)
    out["overall"] = np.where(out["items_failed"] > 0, "fail", np.where(out["items_unknown"] > 0, "unknown", "pass"))
    codes = list(results.columns)
    values = results.to_numpy(dtype=object)
    out["failed_items"] = ["、".join(ITEM_LABELS[c] for c, r in zip(codes, row) if r == "fail") for row in values]
    out["unknown_items"] = ["、".join(ITEM_LABELS[c] for c, r in zip(codes, row) if r == "unknown") for row in values]
    return F.geoframe(out, v.geometry)


_BASIC = "督查基本情况"
_HOUSEHOLD = "贫困户“八有一超”情况"
_VILLAGE = "贫困村“十一有一低于”情况"
#: 表4's household shortfalls: (label, household flag that must be True).
_HOUSEHOLD_ITEMS = (
    ("未实现两不愁户数", "assured_food_clothing"),
    ("义务教育无保障户数", "assured_education"),
    ("基本医疗无保障户数", "assured_medical"),
    ("无安全住房户数", "assured_housing"),
    ("无生活用电户数", "has_power"),
    ("无安全饮水户数", "has_safe_water"),
    ("无广播电视信号户数", "has_tv"),
)


def _summary(v, scorecard, households, road_settlements, year, townships) -> pd.DataFrame:
    names = list(townships["name"]) if townships is not None and len(townships) else []
    present = set(v["township_name"].dropna())
    names = [n for n in names if n in present] + sorted(present - set(names))
    town_of = dict(zip(v["village_id"], v["township_name"]))

    villages = pd.DataFrame({"township_name": v["township_name"].to_numpy()})
    category = v["category"].astype(str).to_numpy() if "category" in v else np.full(len(v), "")
    villages["villages"] = 1
    villages["exited"] = category == "exited"
    villages["not_exited"] = np.isin(category, ["key_poor", "poor"])
    villages["non_poor"] = category == "non_poor"

    h = households[households["village_id"].isin(set(v["village_id"]))] if len(households) else households
    status = h["status"].astype(str).to_numpy() if len(h) else np.array([], dtype=str)
    counts = pd.DataFrame({"township_name": h["village_id"].map(town_of).to_numpy() if len(h) else []})
    planned = status == HouseholdStatus.PLANNED_EXIT.value
    if year is not None and "status_year" in h:
        planned = planned & (F.as_number(h["status_year"]).to_numpy() == float(year))
    poor = np.isin(status, F.REGISTERED_POOR_STATUSES)
    counts["households"] = 1
    counts["exited"] = status == "exited"
    counts["planned"] = planned
    counts["unfinished"] = np.isin(status, ["registered", "returned"])
    counts["non_poor"] = status == "non_poor"
    available = {}
    for label, column in _HOUSEHOLD_ITEMS:
        available[column] = column in h
        flags = h[column].astype("boolean") if column in h else pd.Series(pd.NA, index=h.index, dtype="boolean")
        lacking = (flags == False).fillna(False).to_numpy(dtype=bool) & poor  # noqa: E712
        counts[f"{column}:lacking"] = lacking
        counts[f"{column}:planned"] = lacking & planned
        counts[f"{column}:unknown"] = flags.isna().to_numpy(dtype=bool) & poor
    gaps = road_settlements[road_settlements["road_gap"].fillna(False).astype(bool)]
    has_settlement = "settlement_id" in h and len(h) > 0
    cut_off = h["settlement_id"].isin(set(gaps["settlement_id"])).to_numpy(dtype=bool) & poor if has_settlement \
        else np.zeros(len(h), dtype=bool)
    counts["cut_off"] = cut_off
    counts["cut_off:planned"] = cut_off & planned

    cards = scorecard.assign(fail=scorecard["result"] == "fail", unknown=scorecard["result"] == "unknown")
    fails = cards[cards["fail"]].groupby(["township_name", "item_code"])["village_name"].agg(F.join_names)
    per_town = {key: (int(f), int(u)) for key, f, u in cards.groupby(["township_name", "item_code"])[
        ["fail", "unknown"]].sum().itertuples(name=None)}
    per_item = {key: (int(f), int(u)) for key, f, u in cards.groupby("item_code")[
        ["fail", "unknown"]].sum().itertuples(name=None)}

    def block(name: str, vil: pd.Series, hh: pd.Series, counted, failed) -> list[dict]:
        rows: list[dict] = []

        def add(section, item, unit, count, unknown=None, note=""):
            rows.append({"township_name": name, "section": section, "item": item, "unit": unit,
                         "count": count, "unknown": unknown, "note": note})

        planned_label = f"{year}年计划脱贫户" if year is not None else "计划脱贫户（各年度）"
        add(_BASIC, "抽查村总数", "个", int(vil.get("villages", 0)))
        add(_BASIC, "其中：已退出贫困村", "个", int(vil.get("exited", 0)))
        add(_BASIC, "其中：今年计划退出贫困村", "个", None, note="数据未登记村级退出计划")
        add(_BASIC, "其中：未退出贫困村", "个", int(vil.get("not_exited", 0)))
        add(_BASIC, "其中：非贫困村", "个", int(vil.get("non_poor", 0)))
        add(_BASIC, "抽查户总数", "户", int(hh.get("households", 0)), note="农户库中的记录（建档立卡户及抽样非贫困户）")
        add(_BASIC, "其中：已脱贫户", "户", int(hh.get("exited", 0)))
        add(_BASIC, f"其中：{planned_label}", "户", int(hh.get("planned", 0)))
        add(_BASIC, "其中：未脱贫户", "户", int(hh.get("unfinished", 0)))
        add(_BASIC, "其中：非贫困户", "户", int(hh.get("non_poor", 0)))
        for label, column in _HOUSEHOLD_ITEMS:
            if not available[column]:
                add(_HOUSEHOLD, label, "户", None, note="农户记录无此项")
                continue
            add(_HOUSEHOLD, label, "户", int(hh.get(f"{column}:lacking", 0)),
                int(hh.get(f"{column}:unknown", 0)) or None, "建档立卡户中")
            add(_HOUSEHOLD, f"其中：{planned_label}", "户", int(hh.get(f"{column}:planned", 0)))
        if has_settlement:
            add(_HOUSEHOLD, "无路通村屯户数", "户", int(hh.get("cut_off", 0)),
                note="住在道路未达标的20户以上自然村的建档立卡户")
            add(_HOUSEHOLD, f"其中：{planned_label}", "户", int(hh.get("cut_off:planned", 0)))
        else:
            add(_HOUSEHOLD, "无路通村屯户数", "户", None, note="农户记录无自然村")
        for item in ITEMS:
            fail, unknown = counted(item.code)
            add(_VILLAGE, f"{item.number}.{item.summary}", "个", fail, unknown or None, failed(item.code))
        return rows

    def counts_in(table: dict, key):
        return table.get(key, (0, 0))

    by_village = villages.groupby("township_name").sum()
    by_household = counts.groupby("township_name").sum() if len(counts) else pd.DataFrame()
    rows: list[dict] = []
    for name in names:
        vil = by_village.loc[name] if name in by_village.index else pd.Series(dtype=float)
        hh = by_household.loc[name] if name in by_household.index else pd.Series(dtype=float)
        rows += block(name, vil, hh, lambda code, n=name: counts_in(per_town, (n, code)),
                      lambda code, n=name: fails.get((n, code), ""))
    all_fails = cards[cards["fail"]].groupby("item_code")["village_name"].agg(F.join_names)
    rows += block(F.DISTRICT, villages.drop(columns="township_name").sum(),
                  counts.drop(columns="township_name").sum(), lambda code: counts_in(per_item, code),
                  lambda code: all_fails.get(code, ""))
    return pd.DataFrame(rows, columns=["township_name", "section", "item", "unit", "count", "unknown", "note"])
