"""Pairing coverage: is every poor village paired with a unit and a resident work team, how
much has each unit pledged, and does every registered household have a responsible cadre?

Rules: seed 000's 附件1 (pairing units, task funds, work-team leader units); seed 003's
village form (每个贫困村有1个帮扶单位、1个驻村工作队、1名第一书记); seed 001 (四) and
seed 004 (a cadre carries at most 5 registered households; every household has a cadre).

Work teams without a recorded first secretary are reported as *unknown* (未登记), never as
missing: seed 000 names the leader units but not the secretaries.

Partition-safe: the per-village figures are group-bys on village id and can run per
partition of villages (with their pairings, teams and households); cadre loads need every
household a cadre carries, so run them on the whole county.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from geo.analysis import _frames as F
from geo.analysis.result import AnalysisResult, Threshold
from geo.enums import POOR_VILLAGE_CATEGORIES, CadreRank, UnitKind, UnitLevel, VillageCategory
from geo.errors import ValidationError

#: Most registered households one cadre may carry (seed 001 (四): 帮扶不超过5户贫困户).
DEFAULT_MAX_HOUSEHOLDS_PER_CADRE = 5
#: Village categories counted as poor villages: the one definition, :data:`geo.enums.POOR_VILLAGE_CATEGORIES`.
DEFAULT_POOR_CATEGORIES = POOR_VILLAGE_CATEGORIES

SOURCES = {
    "max_households_per_cadre": "seed 001（四）：确保每人帮扶不超过5户贫困户",
    "poor_categories": "建档立卡贫困村（含已脱贫销号村，脱贫不脱帮扶）",
    "year": "帮扶年度（默认：结对数据中最近的年度）",
}

COLUMNS = {
    "village_id": "村ID", "village_name": "行政村", "township_name": "乡镇", "category": "村类别",
    "is_poor_village": "贫困村", "pairing_units": "帮扶单位", "pairing_unit_count": "帮扶单位数",
    "task_funds_wan_yuan": "帮扶任务（万元）", "has_pairing_unit": "有帮扶单位",
    "has_work_team": "有驻村工作队", "work_team_leader_unit": "工作队队长单位",
    "has_first_secretary": "第一书记（已登记）", "first_secretary_status": "第一书记",
    "registered_poor_households": "建档立卡户数",
    "registered_poor_household_records": "农户库中建档立卡户数",
    "households_without_cadre": "无帮扶责任人户数",
    "funds_per_registered_household_yuan": "户均帮扶任务（元/户）",
    "villages": "行政村数", "poor_villages": "贫困村数",
    "poor_villages_paired": "有帮扶单位的贫困村", "poor_villages_with_work_team": "有工作队的贫困村",
    "poor_villages_covered": "单位和工作队齐全的贫困村",
    "paired_pct": "帮扶单位覆盖率（%）", "work_team_pct": "工作队覆盖率（%）", "covered_pct": "全覆盖率（%）",
    "first_secretary_unknown": "第一书记未登记村数", "units": "帮扶单位数",
    "cadres_over_limit": "超5户责任人数",
    "cadre_id": "责任人ID", "cadre_name": "帮扶责任人", "unit_id": "单位ID", "unit_name": "帮扶单位",
    "rank": "职级", "households_carried": "联系户数", "over_limit": "超过上限",
    "households_over_limit": "超出户数", "village_names": "联系村",
    "kind": "单位类型", "level": "单位层级", "villages_paired": "结对村数",
    "work_teams_led": "牵头工作队数", "cadres": "责任人数", "cadres_with_households": "有联系户的责任人数",
    "pairing_id": "结对ID", "year": "年度", "leads_work_team": "队长单位",
}
TABLES = {
    "villages": "行政村帮扶覆盖", "townships": "乡镇汇总", "district": "全区汇总",
    "cadres": "帮扶责任人联系户数", "units": "帮扶单位", "pairings": "结对关系",
}
VIEWS = {
    "villages": ("township_name", "village_name", "category", "pairing_units", "task_funds_wan_yuan",
                 "work_team_leader_unit", "first_secretary_status", "registered_poor_households",
                 "households_without_cadre"),
    "townships": ("township_name", "poor_villages", "paired_pct", "work_team_pct", "covered_pct",
                  "task_funds_wan_yuan", "registered_poor_households", "funds_per_registered_household_yuan",
                  "households_without_cadre", "cadres_over_limit"),
    "district": ("township_name", "poor_villages", "paired_pct", "work_team_pct", "covered_pct",
                 "task_funds_wan_yuan", "registered_poor_households", "funds_per_registered_household_yuan",
                 "households_without_cadre", "cadres_over_limit"),
    "cadres": ("unit_name", "cadre_name", "rank", "households_carried", "over_limit", "village_names"),
    "units": ("unit_name", "villages_paired", "task_funds_wan_yuan", "work_teams_led", "cadres",
              "households_carried", "cadres_over_limit"),
    "pairings": ("township_name", "village_name", "unit_name", "task_funds_wan_yuan", "leads_work_team"),
}

FIRST_SECRETARY = {"present": "已登记", "unknown": "未登记", "no_team": "无工作队记录"}
VALUES = {"category": VillageCategory.labels(), "kind": UnitKind.labels(), "level": UnitLevel.labels(),
          "rank": CadreRank.labels(), "first_secretary_status": FIRST_SECRETARY}


def cadre_loads(
    cadres: pd.DataFrame,
    households: pd.DataFrame,
    *,
    max_households_per_cadre: int = DEFAULT_MAX_HOUSEHOLDS_PER_CADRE,
    statuses: Sequence[str] = F.REGISTERED_POOR_STATUSES,
    village_names: dict | None = None,
) -> pd.DataFrame:
    """Registered households carried by every cadre.

    Parameters
    ----------
    cadres
        ``cadres`` layer: ``id``, ``name``, ``unit_id``, ``rank`` (``unit_name`` if joined).
    households
        ``households`` layer: ``cadre_id``, ``status``, ``village_id``.
    max_households_per_cadre
        The most households a cadre may carry [households].
    statuses
        Household statuses that need a cadre (default: all registered-poor statuses).

    Returns
    -------
    pandas.DataFrame
        ``cadre_id``, ``cadre_name``, ``unit_id``, ``unit_name``, ``rank``,
        ``households_carried`` [households], ``over_limit`` (bool), ``households_over_limit``
        [households above the limit], ``village_names``; heaviest loads first.
    """
    F.require(cadres, "cadres", ["id", "name", "unit_id"])
    chosen = households[households["status"].isin(list(statuses)) & households["cadre_id"].notna()]
    counts = chosen.groupby("cadre_id").size()
    villages = chosen.groupby("cadre_id")["village_id"].agg(
        lambda ids: F.join_names((village_names or {}).get(i, i) for i in ids))
    out = pd.DataFrame({
        "cadre_id": cadres["id"].to_numpy(),
        "cadre_name": cadres["name"].to_numpy(),
        "unit_id": cadres["unit_id"].to_numpy(),
        "unit_name": cadres["unit_name"].to_numpy() if "unit_name" in cadres else None,
        "rank": cadres["rank"].to_numpy() if "rank" in cadres else None,
    })
    out["households_carried"] = out["cadre_id"].map(counts).fillna(0).astype(int)
    out["over_limit"] = out["households_carried"] > max_households_per_cadre
    out["households_over_limit"] = (out["households_carried"] - max_households_per_cadre).clip(lower=0)
    out["village_names"] = out["cadre_id"].map(villages).fillna("")
    return out.sort_values(["households_carried", "cadre_id"], ascending=[False, True]).reset_index(drop=True)


def analyze_coverage(
    villages: gpd.GeoDataFrame,
    pairings: pd.DataFrame,
    work_teams: pd.DataFrame,
    units: gpd.GeoDataFrame,
    cadres: pd.DataFrame,
    households: pd.DataFrame,
    townships: gpd.GeoDataFrame | None = None,
    *,
    year: int | None = None,
    max_households_per_cadre: int = DEFAULT_MAX_HOUSEHOLDS_PER_CADRE,
    poor_categories: Sequence[str] = DEFAULT_POOR_CATEGORIES,
) -> AnalysisResult:
    """Pairing coverage per village, township and district; cadre loads; unit summaries.

    Parameters
    ----------
    villages
        ``villages`` layer (``id``, ``name``, ``township_id``, ``category``,
        ``registered_poor_households``; Point geometry).
    pairings
        ``pairings`` layer (``unit_id``, ``village_id``, ``year``, ``task_funds_wan_yuan``).
    work_teams
        ``work_teams`` layer (``village_id``, ``year``, ``leader_unit_id``, ``first_secretary``).
    units
        ``units`` layer (``id``, ``name``, ``kind``, ``level``; office Point geometry).
    cadres
        ``cadres`` layer (``id``, ``name``, ``unit_id``, ``rank``).
    households
        ``households`` layer (``village_id``, ``status``, ``cadre_id``). For true cadre loads
        pass every household the cadres carry, not only one township's.
    townships
        ``townships`` layer (names and areas for the township table).
    year
        Pairing year; default the latest year in ``pairings``.
    max_households_per_cadre
        Cadre load limit [households].
    poor_categories
        Village categories counted as poor villages.

    Returns
    -------
    AnalysisResult
        ``villages``: ``village_id``, ``village_name``, ``township_name``, ``category``,
        ``is_poor_village``, ``pairing_units`` (names, ；-separated), ``pairing_unit_count``,
        ``task_funds_wan_yuan`` [万元], ``has_pairing_unit``, ``has_work_team``,
        ``work_team_leader_unit``, ``has_first_secretary`` (True, or NA when not recorded),
        ``first_secretary_status`` (``present`` / ``unknown`` / ``no_team``),
        ``registered_poor_households`` [households] (the village figure, else the household
        records), ``registered_poor_household_records`` [households], ``households_without_cadre``
        [households], ``funds_per_registered_household_yuan`` [yuan/household]; Point geometry.

        ``townships`` (township area geometry) and ``district``: ``township_name``,
        ``villages``, ``poor_villages``, ``poor_villages_paired``,
        ``poor_villages_with_work_team``, ``poor_villages_covered`` (both), ``paired_pct``,
        ``work_team_pct``, ``covered_pct`` [% of poor villages], ``first_secretary_unknown``,
        ``units`` (distinct pairing units), ``task_funds_wan_yuan`` [万元],
        ``registered_poor_households``, ``funds_per_registered_household_yuan``
        [yuan/household], ``households_without_cadre``, ``cadres_over_limit`` (cadres over
        the limit carrying households here).

        ``cadres``: see :func:`cadre_loads` (cadres of the units concerned).

        ``units``: ``unit_id``, ``unit_name``, ``kind``, ``level``, ``villages_paired``,
        ``village_names``, ``task_funds_wan_yuan`` [万元], ``work_teams_led``, ``cadres``,
        ``cadres_with_households``, ``households_carried``, ``cadres_over_limit``; office
        Point geometry.

        ``pairings``: ``pairing_id``, ``year``, ``unit_id``, ``unit_name``, ``village_id``,
        ``village_name``, ``township_name``, ``task_funds_wan_yuan`` [万元],
        ``leads_work_team``; a LineString from the unit's office to the village (None when
        either position is unknown).
    """
    F.require(pairings, "pairings", ["unit_id", "village_id", "year", "task_funds_wan_yuan"])
    F.require(work_teams, "work_teams", ["village_id", "year", "leader_unit_id", "first_secretary"])
    F.require(units, "units", ["id", "name"])
    F.require(households, "households", ["village_id", "status", "cadre_id"])
    if max_households_per_cadre is None or max_households_per_cadre < 0:
        raise ValidationError(f"max_households_per_cadre must be >= 0, not {max_households_per_cadre!r}")
    v = F.village_frame(villages, townships)
    unknown = set(map(str, poor_categories)) - {c.value for c in VillageCategory}
    if unknown:
        raise ValidationError(f"unknown village categories {sorted(unknown)}; use {[c.value for c in VillageCategory]}")
    notes: list[str] = []
    year = _year(pairings, year)
    paired = pairings[pairings["year"] == year] if year is not None else pairings.iloc[:0]
    teams = work_teams[work_teams["year"] == year] if year is not None else work_teams.iloc[:0]
    paired = paired[paired["village_id"].isin(v["village_id"])]
    teams = teams[teams["village_id"].isin(v["village_id"])]
    unit_names = F.names_of(units)
    village_names = dict(zip(v["village_id"], v["village_name"]))

    table = _village_table(v, paired, teams, households, unit_names, poor_categories)
    if table.empty:
        notes.append("所选范围内没有行政村")
    unknown_secretaries = int((table["first_secretary_status"] == "unknown").sum())
    if unknown_secretaries:
        notes.append(f"{unknown_secretaries}个驻村工作队未登记第一书记（数据未提供，不等于没有第一书记）")
    no_team = int((table["first_secretary_status"] == "no_team").sum())
    if no_team:
        notes.append(f"{no_team}个村没有{year}年驻村工作队记录")

    loads = cadre_loads(cadres, households, max_households_per_cadre=max_households_per_cadre,
                        village_names=village_names)
    concerned_units = set(paired["unit_id"]) | set(teams["leader_unit_id"].dropna())
    local_cadres = set(households.loc[households["village_id"].isin(v["village_id"]), "cadre_id"].dropna())
    loads = loads[loads["unit_id"].isin(concerned_units) | loads["cadre_id"].isin(local_cadres)].reset_index(drop=True)
    if loads["unit_name"].isna().all():
        loads["unit_name"] = loads["unit_id"].map(unit_names)

    by_township, district = _summaries(table, loads, households, paired, townships)
    thresholds = (
        Threshold("year", "帮扶年度", year, SOURCES["year"]),
        Threshold("max_households_per_cadre", "每名责任人联系户数上限（户）", max_households_per_cadre,
                  SOURCES["max_households_per_cadre"]),
        Threshold("poor_categories", "计为贫困村的类别", tuple(poor_categories), SOURCES["poor_categories"]),
    )
    return AnalysisResult(
        name="coverage", title="帮扶覆盖分析",
        tables={
            "villages": table,
            "townships": by_township,
            "district": district,
            "cadres": loads,
            "units": _unit_table(units, paired, teams, loads, village_names),
            "pairings": _pairing_lines(paired, teams, units, v),
        },
        crs=None, thresholds=thresholds, notes=tuple(notes), labels=COLUMNS, titles=TABLES, views=VIEWS, values=VALUES,
    )


def _year(pairings: pd.DataFrame, year: int | None) -> int | None:
    if year is not None:
        return int(year)
    years = pd.to_numeric(pairings["year"], errors="coerce").dropna()
    return int(years.max()) if len(years) else None


def _village_table(v, paired, teams, households, unit_names, poor_categories) -> gpd.GeoDataFrame:
    by_village = paired.groupby("village_id")
    unit_lists = by_village["unit_id"].agg(lambda ids: F.join_names((unit_names.get(i, i) for i in ids), "；"))
    funds = by_village["task_funds_wan_yuan"].agg(lambda x: F.as_number(x).sum(min_count=1))
    team = teams.drop_duplicates("village_id").set_index("village_id")
    secretary = team["first_secretary"].map(lambda s: None if s is None or s != s or str(s).strip() == "" else s)
    registered = F.household_counts(households, "village_id", F.REGISTERED_POOR_STATUSES)
    needing = households[households["status"].isin(F.REGISTERED_POOR_STATUSES)]
    without = needing[needing["cadre_id"].isna()].groupby("village_id").size()

    out = pd.DataFrame({"village_id": v["village_id"].to_numpy(), "village_name": v["village_name"].to_numpy(),
                        "township_name": v["township_name"].to_numpy(),
                        "category": v["category"].astype(object).map(str).to_numpy() if "category" in v else None},
                       index=v.index)
    out["is_poor_village"] = out["category"].isin([str(c) for c in poor_categories])
    out["pairing_units"] = out["village_id"].map(unit_lists).astype(object).fillna("")
    out["pairing_unit_count"] = out["village_id"].map(by_village.size()).fillna(0).astype(int)
    out["task_funds_wan_yuan"] = out["village_id"].map(funds).astype(float)
    out["has_pairing_unit"] = out["pairing_unit_count"] > 0
    out["has_work_team"] = out["village_id"].isin(team.index)
    out["work_team_leader_unit"] = out["village_id"].map(team["leader_unit_id"]).map(
        lambda i: None if i is None or i != i else unit_names.get(i, str(i)))
    present = out["village_id"].map(secretary).notna()
    out["has_first_secretary"] = pd.array([True if p else pd.NA for p in present], dtype="boolean")
    out["first_secretary_status"] = np.where(present, "present", np.where(out["has_work_team"], "unknown", "no_team"))
    records = out["village_id"].map(registered).fillna(0).astype(int)
    stated = F.as_number(v["registered_poor_households"]) if "registered_poor_households" in v else None
    out["registered_poor_households"] = (stated.fillna(records.astype(float)) if stated is not None
                                         else records.astype(float)).to_numpy()
    out["registered_poor_household_records"] = records
    out["households_without_cadre"] = out["village_id"].map(without).fillna(0).astype(int)
    out["funds_per_registered_household_yuan"] = _per_household(out["task_funds_wan_yuan"],
                                                                out["registered_poor_households"])
    return F.geoframe(out, v.geometry)


def _per_household(funds_wan_yuan, households):
    funds = np.asarray(funds_wan_yuan, dtype=float)
    count = np.asarray(households, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(count > 0, funds * 10_000.0 / count, np.nan)
    return out if out.ndim else float(out)


_SUMMARY_COLUMNS = ["villages", "poor_villages", "poor_villages_paired", "poor_villages_with_work_team",
                    "poor_villages_covered", "paired_pct", "work_team_pct", "covered_pct", "first_secretary_unknown",
                    "units", "task_funds_wan_yuan", "registered_poor_households", "funds_per_registered_household_yuan",
                    "households_without_cadre", "cadres_over_limit"]


def _summary(table: pd.DataFrame, loads: pd.DataFrame, households: pd.DataFrame, paired: pd.DataFrame,
             by_township: bool) -> pd.DataFrame:
    """Summary figures per township (or one row for everything), by group-bys."""
    town_of = dict(zip(table["village_id"], table["township_name"])) if by_township else \
        dict.fromkeys(table["village_id"], F.DISTRICT)
    poor = table["is_poor_village"].to_numpy(dtype=bool)
    paired_flag = table["has_pairing_unit"].to_numpy(dtype=bool)
    team = table["has_work_team"].to_numpy(dtype=bool)
    v = pd.DataFrame({
        "key": table["village_id"].map(town_of).to_numpy(dtype=object), "villages": 1, "poor_villages": poor,
        "poor_villages_paired": poor & paired_flag, "poor_villages_with_work_team": poor & team,
        "poor_villages_covered": poor & paired_flag & team,
        "first_secretary_unknown": (table["first_secretary_status"] != "present").to_numpy(),
        "task_funds_wan_yuan": F.as_number(table["task_funds_wan_yuan"]).fillna(0).to_numpy(),
        "registered_poor_households": F.as_number(table["registered_poor_households"]).fillna(0).to_numpy(),
        "households_without_cadre": table["households_without_cadre"].to_numpy(dtype=int),
    }).groupby("key").sum()
    units = pd.DataFrame({"key": paired["village_id"].map(town_of), "unit_id": paired["unit_id"]}).dropna(
        subset=["key"]).groupby("key")["unit_id"].nunique()
    mine = households[households["village_id"].isin(town_of.keys()) & households["cadre_id"].notna()]
    over = set(loads.loc[loads["over_limit"], "cadre_id"])
    carried = pd.DataFrame({"key": mine["village_id"].map(town_of), "cadre_id": mine["cadre_id"]}).drop_duplicates()
    over_counts = carried[carried["cadre_id"].isin(over)].groupby("key").size()
    out = v.astype({c: int for c in v.columns if c not in ("task_funds_wan_yuan", "registered_poor_households")})
    out["units"] = units.reindex(out.index).fillna(0).astype(int)
    out["cadres_over_limit"] = over_counts.reindex(out.index).fillna(0).astype(int)
    out["paired_pct"] = F.ratio_pct(out["poor_villages_paired"], out["poor_villages"])
    out["work_team_pct"] = F.ratio_pct(out["poor_villages_with_work_team"], out["poor_villages"])
    out["covered_pct"] = F.ratio_pct(out["poor_villages_covered"], out["poor_villages"])
    out["funds_per_registered_household_yuan"] = _per_household(out["task_funds_wan_yuan"],
                                                                out["registered_poor_households"])
    return out.reindex(columns=_SUMMARY_COLUMNS)


def _summaries(table, loads, households, paired, townships):
    return F.township_tables(_summary(table, loads, households, paired, True),
                             _summary(table, loads, households, paired, False), townships, _SUMMARY_COLUMNS,
                             ("paired_pct", "work_team_pct", "covered_pct", "funds_per_registered_household_yuan"))


def _unit_table(units, paired, teams, loads, village_names) -> gpd.GeoDataFrame:
    involved = set(paired["unit_id"]) | set(teams["leader_unit_id"].dropna())
    chosen = units[units["id"].isin(involved)]
    by_unit = paired.groupby("unit_id")
    out = pd.DataFrame({
        "unit_id": chosen["id"].to_numpy(), "unit_name": chosen["name"].to_numpy(),
        "kind": chosen["kind"].to_numpy() if "kind" in chosen else None,
        "level": chosen["level"].to_numpy() if "level" in chosen else None,
    }, index=chosen.index)
    out["villages_paired"] = out["unit_id"].map(by_unit["village_id"].nunique()).fillna(0).astype(int)
    names = by_unit["village_id"].agg(lambda ids: F.join_names(village_names.get(i, i) for i in ids))
    out["village_names"] = out["unit_id"].map(names).fillna("")
    out["task_funds_wan_yuan"] = out["unit_id"].map(
        by_unit["task_funds_wan_yuan"].agg(lambda x: F.as_number(x).sum(min_count=1))).astype(float)
    out["work_teams_led"] = out["unit_id"].map(teams.groupby("leader_unit_id").size()).fillna(0).astype(int)
    per_unit = loads.groupby("unit_id")
    out["cadres"] = out["unit_id"].map(per_unit.size()).fillna(0).astype(int)
    out["cadres_with_households"] = out["unit_id"].map(
        per_unit["households_carried"].agg(lambda x: int((x > 0).sum()))).fillna(0).astype(int)
    out["households_carried"] = out["unit_id"].map(per_unit["households_carried"].sum()).fillna(0).astype(int)
    out["cadres_over_limit"] = out["unit_id"].map(per_unit["over_limit"].sum()).fillna(0).astype(int)
    out = out.sort_values(["task_funds_wan_yuan", "unit_id"], ascending=[False, True], na_position="last")
    return F.geoframe(out, chosen.geometry.loc[out.index])


def _pairing_lines(paired, teams, units, v) -> gpd.GeoDataFrame:
    office = dict(zip(units["id"], units.geometry)) if len(units) else {}
    village_point = dict(zip(v["village_id"], v.geometry))
    leader = dict(zip(teams["village_id"], teams["leader_unit_id"]))
    unit_names = F.names_of(units)
    names = v.set_index("village_id")
    rows, geoms = [], []
    for p in paired.itertuples():
        a, b = office.get(p.unit_id), village_point.get(p.village_id)
        ok = a is not None and b is not None and not a.is_empty and not b.is_empty
        geoms.append(LineString([a, b]) if ok else None)
        rows.append({
            "pairing_id": getattr(p, "id", None), "year": p.year, "unit_id": p.unit_id,
            "unit_name": unit_names.get(p.unit_id), "village_id": p.village_id,
            "village_name": names["village_name"].get(p.village_id),
            "township_name": names["township_name"].get(p.village_id),
            "task_funds_wan_yuan": p.task_funds_wan_yuan, "leads_work_team": leader.get(p.village_id) == p.unit_id,
        })
    columns = ["pairing_id", "year", "unit_id", "unit_name", "village_id", "village_name", "township_name",
               "task_funds_wan_yuan", "leads_work_team"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)

