"""Inputs against tasks: what each unit has put into each village (seed 000's 附件2 figures,
``unit_inputs``) beside the task funds 附件1 gave it (``pairings``).

Per unit and village of the year: the task funds [万元], the unit's total input [万元] (and
its parts: project funds, in-kind value, the warmth visits' money), cadres by rank, visits per
cadre and the projects registered for the pair, the input as a share of the task and the
shortfall. Summed per unit, per township and for the district. A pair with a task but no
附件2 row is 无投入记录 (not yet reported), never a zero input.

Rules: seed 000 附件1 (帮扶任务（万元）), 附件2 (投入资金共计, 包保干部, 人均入户次数, 项目帮扶资金);
附件2's 填报说明: the total counts the unit's own money, not coordinated funds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.analysis import _frames as F
from geo.analysis.result import AnalysisResult, Threshold

#: The 附件2 figures carried into the tables (unit_inputs columns).
INPUT_FIGURES = ("total_input_wan_yuan", "project_funds_wan_yuan", "in_kind_wan_yuan", "coordinated_funds_wan_yuan",
                 "warmth_money_yuan", "cadres_division", "cadres_section", "cadres_general")
STATUS = {"met": "已达任务", "short": "未达任务", "unreported": "无投入记录", "no_task": "无帮扶任务"}

COLUMNS = {
    "unit_id": "单位ID", "village_id": "村ID", "unit_name": "帮扶单位", "village_name": "行政村",
    "township_name": "乡镇", "year": "年度", "task_funds_wan_yuan": "帮扶任务（万元）",
    "total_input_wan_yuan": "投入资金共计（万元）", "project_funds_wan_yuan": "项目帮扶资金（万元）",
    "in_kind_wan_yuan": "实物折价（万元）", "coordinated_funds_wan_yuan": "协调资金（万元）",
    "warmth_money_yuan": "慰问金（元）", "cadres_division": "处级干部（人）", "cadres_section": "科级干部（人）",
    "cadres_general": "一般干部（人）", "cadres_total": "包保干部（人）", "visits_per_cadre": "人均入户次数",
    "projects": "登记项目（个）", "project_register_wan_yuan": "登记项目资金（万元）",
    "input_vs_task_pct": "投入/任务（%）", "shortfall_wan_yuan": "差额（万元）", "status": "完成情况",
    "villages": "帮扶村数", "pairs_reported": "已报附件2（对）", "pairs": "结对（对）",
    "units": "帮扶单位数", "units_short": "未达任务单位数",
}
TABLES = {"pairs": "单位与村投入对照", "units": "帮扶单位投入对照", "townships": "乡镇投入对照",
          "district": "全区投入对照"}
VIEWS = {
    "pairs": ("township_name", "village_name", "unit_name", "task_funds_wan_yuan", "total_input_wan_yuan",
              "input_vs_task_pct", "cadres_total", "visits_per_cadre", "projects", "status"),
    "units": ("unit_name", "villages", "task_funds_wan_yuan", "total_input_wan_yuan", "input_vs_task_pct",
              "cadres_total", "visits_per_cadre", "projects", "status"),
    "townships": ("township_name", "pairs", "pairs_reported", "task_funds_wan_yuan", "total_input_wan_yuan",
                  "input_vs_task_pct", "cadres_total", "projects"),
    "district": ("township_name", "pairs", "pairs_reported", "units", "units_short", "task_funds_wan_yuan",
                 "total_input_wan_yuan", "input_vs_task_pct", "cadres_total", "projects"),
}
_SUMS = ("task_funds_wan_yuan", "total_input_wan_yuan", "project_funds_wan_yuan", "in_kind_wan_yuan",
         "coordinated_funds_wan_yuan", "warmth_money_yuan", "cadres_division", "cadres_section", "cadres_general",
         "cadres_total", "projects", "project_register_wan_yuan")


def inputs_against_tasks(
    pairings: pd.DataFrame,
    unit_inputs: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    units: pd.DataFrame | None = None,
    projects: pd.DataFrame | None = None,
    year: int | None = None,
) -> AnalysisResult:
    """What each unit put into each village against its task funds.

    Parameters
    ----------
    pairings
        ``pairings`` layer: ``unit_id``, ``village_id``, ``year``, ``task_funds_wan_yuan`` [万元].
    unit_inputs
        ``unit_inputs`` layer (附件2): ``unit_id``, ``village_id``, ``year`` and the figures of
        :data:`INPUT_FIGURES` (money [万元] / [元], cadres [人]), ``visits_per_cadre``.
    villages
        ``villages`` layer: ``id``, ``name``, ``township_name``.
    units
        ``units`` layer (``id``, ``name``), for the names of units with inputs but no pairing.
    projects
        ``projects`` layer: ``unit_id``, ``village_id``, ``year``, ``funds_wan_yuan`` [万元].
    year
        The year [year]; default the latest year of pairings or inputs.

    Returns
    -------
    AnalysisResult
        Tables ``pairs`` (one row per unit and village with a task or an input), ``units``,
        ``townships``, ``district``. ``input_vs_task_pct`` [%] is empty without a task;
        ``shortfall_wan_yuan`` [万元] is task minus input (negative: more than the task).

    Raises
    ------
    ValidationError
        A frame without the columns named above.
    """
    F.require(pairings, "pairings", ["unit_id", "village_id", "year", "task_funds_wan_yuan"])
    F.require(unit_inputs, "unit_inputs", ["unit_id", "village_id", "year"])
    F.require(villages, "villages", ["id", "name"])
    years = [int(y) for y in pd.concat([pairings["year"], unit_inputs["year"]]).dropna()]
    chosen = year if year is not None else (max(years) if years else None)
    tasks = pairings[pairings["year"] == chosen].groupby(["unit_id", "village_id"], as_index=False).agg(
        task_funds_wan_yuan=("task_funds_wan_yuan", lambda s: s.sum(min_count=1)))
    given = unit_inputs[unit_inputs["year"] == chosen].copy()
    for column in INPUT_FIGURES + ("visits_per_cadre",):
        if column not in given:
            given[column] = np.nan
    given = given[["unit_id", "village_id", *INPUT_FIGURES, "visits_per_cadre"]].assign(reported=True)
    pairs = tasks.merge(given, on=["unit_id", "village_id"], how="outer")
    pairs["reported"] = pairs["reported"].eq(True)
    for column in INPUT_FIGURES + ("visits_per_cadre", "task_funds_wan_yuan"):
        pairs[column] = pd.to_numeric(pairs[column], errors="coerce").astype(float)
    ranks = pairs[["cadres_division", "cadres_section", "cadres_general"]]
    pairs["cadres_total"] = ranks.sum(axis=1, min_count=1)
    pairs[["projects", "project_register_wan_yuan"]] = _project_counts(pairs, projects, chosen)
    names = F.names_of(units) if units is not None else {}
    for frame in (pairings, unit_inputs):
        if "unit_name" in frame:
            names.update(dict(zip(frame["unit_id"], frame["unit_name"])))
    pairs["unit_name"] = pairs["unit_id"].map(names)
    village_names = dict(zip(villages["id"], villages["name"]))
    towns = dict(zip(villages["id"], villages["township_name"])) if "township_name" in villages else {}
    pairs["village_name"] = pairs["village_id"].map(village_names)
    pairs["township_name"] = pairs["village_id"].map(towns)
    pairs["year"] = chosen
    pairs = _shares(pairs)
    pairs = pairs.sort_values(["township_name", "village_name", "unit_name"], na_position="last").reset_index(drop=True)
    pairs = pairs[["unit_id", "village_id", "township_name", "village_name", "unit_name", "year",
                   "task_funds_wan_yuan", *INPUT_FIGURES, "cadres_total", "visits_per_cadre", "projects",
                   "project_register_wan_yuan", "input_vs_task_pct", "shortfall_wan_yuan", "status", "reported"]]

    by_unit = _summary(pairs, ["unit_id", "unit_name"]).assign(villages=lambda t: t["pairs"])
    by_unit = by_unit.sort_values(["input_vs_task_pct", "unit_name"], na_position="first").reset_index(drop=True)
    by_town = _summary(pairs, ["township_name"]).sort_values("township_name").reset_index(drop=True)
    district = _summary(pairs.assign(township_name=F.DISTRICT), ["township_name"])
    district["units"] = pairs["unit_id"].nunique()
    district["units_short"] = int((by_unit["status"] == STATUS["short"]).sum())
    unreported = int((~pairs["reported"] & pairs["task_funds_wan_yuan"].notna()).sum())
    notes = [f"{chosen}年：{len(pairs)} 对单位与村，{unreported} 对有帮扶任务但未报附件2（无投入记录，不计为零）"] \
        if chosen is not None else ["无结对和投入数据"]
    notes.append("投入资金共计只计本单位投入，不含协调资金（附件2 填报说明）")
    return AnalysisResult(
        name="inputs", title="帮扶投入与任务对照",
        tables={"pairs": pairs.drop(columns="reported"), "units": by_unit.drop(columns="reported"),
                "townships": by_town.drop(columns="reported"), "district": district.drop(columns="reported")},
        thresholds=(Threshold("year", "年度", chosen, "帮扶年度（默认：结对或投入数据中最近的年度）"),),
        notes=tuple(notes), labels=COLUMNS, titles=TABLES, views=VIEWS,
    )


def _project_counts(pairs: pd.DataFrame, projects: pd.DataFrame | None, year: int | None) -> pd.DataFrame:
    """Projects registered for each pair in ``year`` and their funds [万元]."""
    if projects is None or projects.empty or not {"unit_id", "village_id"} <= set(projects):
        return pd.DataFrame({"projects": 0.0, "project_register_wan_yuan": np.nan}, index=pairs.index)
    chosen = projects[projects["year"] == year] if "year" in projects else projects
    grouped = chosen.groupby(["unit_id", "village_id"]).agg(
        projects=("unit_id", "size"), project_register_wan_yuan=("funds_wan_yuan", lambda s: s.sum(min_count=1)))
    keys = pd.MultiIndex.from_frame(pairs[["unit_id", "village_id"]])
    out = grouped.reindex(keys).reset_index(drop=True)
    out.index = pairs.index
    out["projects"] = out["projects"].fillna(0).astype(float)
    return out


def _shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Input as a share of the task [%], the shortfall [万元] and the status of each row."""
    task, given = frame["task_funds_wan_yuan"], frame["total_input_wan_yuan"]
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["input_vs_task_pct"] = np.where(task > 0, (given / task * 100).round(1), np.nan)
    frame["shortfall_wan_yuan"] = (task - given.fillna(0)).where(task.notna()).round(4)
    status = np.select(
        [task.isna() | (task == 0), ~frame["reported"], given.fillna(0) >= task],
        [STATUS["no_task"], STATUS["unreported"], STATUS["met"]], STATUS["short"])
    frame["status"] = status
    return frame


def _summary(pairs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = pairs.groupby(keys, dropna=False)
    out = grouped[list(_SUMS)].sum(min_count=1)
    out["pairs"] = grouped.size()
    out["pairs_reported"] = grouped["reported"].sum()
    # visits per cadre, weighted by each pair's cadres
    weight = pairs["cadres_total"].where(pairs["visits_per_cadre"].notna())
    visits = (pairs["visits_per_cadre"] * weight).groupby([pairs[k] for k in keys], dropna=False).sum(min_count=1)
    cadres = weight.groupby([pairs[k] for k in keys], dropna=False).sum(min_count=1)
    out["visits_per_cadre"] = (visits / cadres).round(1)
    out = out.reset_index()
    out["reported"] = out["pairs_reported"] > 0
    return _shares(out)
