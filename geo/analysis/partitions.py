"""County partitions of an analysis: which county a township belongs to, and one result made
from the results of every county.

A township's county is the first six digits of its nine-digit township code (GB/T 2260
county code + three digits); townships without such a code form one partition of their own
(:data:`NO_COUNTY`). Each county is analysed alone (``geo.services.partitioned`` reads it
with the margin the roads need and runs the analysis as a task); :func:`combine_results`
then puts the counties' tables one after the other, each row labelled with its
``county_code``, and redoes the steps that are global over the whole area:

- the priority ranking: every village's score is recomputed from the unmet need of *all*
  counties (the score is a share of the whole area's unmet need), sorted once and ranked
  1..n across counties;
- the coverage analysis' cadre loads: a cadre may carry households in several counties, so
  the loads are summed over the counties by cadre id and the limit checked on the sum.

Every other table is per place (village, settlement, link, facility) or per county (the
``district`` / ``summary`` rows, and coverage's ``units``: one row per county a unit pairs
villages in) and is concatenated as it is; ids numbered per run (``link_id``) restart in
each county, so ``county_code`` with the id names a row.

Pure: frames in, frames out; no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import _frames as F
from geo.analysis.result import AnalysisResult
from geo.errors import ValidationError

#: The partition of townships without a nine-digit code.
NO_COUNTY = "no-county-code"
#: Column that labels each row of a combined result with its county.
COUNTY_COLUMN = "county_code"
COUNTY_LABEL = "区县代码"

_TOWNSHIP_CODE = re.compile(r"^\d{9}$")


_COUNTY_CODE = re.compile(r"^\d{6}$")


def county_of(township_code: object) -> str:
    """The six-digit county code of a nine-digit township code (:data:`NO_COUNTY` when the
    code is missing or not nine digits)."""
    if township_code is None or (isinstance(township_code, float) and np.isnan(township_code)):
        return NO_COUNTY
    code = str(township_code).strip()
    return code[:6] if _TOWNSHIP_CODE.match(code) else NO_COUNTY


def county_partitions(townships: pd.DataFrame) -> dict[str, list[int]]:
    """County code -> ids of its townships, counties in code order (:data:`NO_COUNTY` last).

    Parameters
    ----------
    townships
        ``id`` and ``code`` of every township; optionally ``county_code``, the six-digit code
        of the county it is filed under, which places a township without a code of its own.
    """
    F.require(townships, "townships", ["id", "code"])
    filed = townships["county_code"].tolist() if "county_code" in townships else [None] * len(townships)
    groups: dict[str, list[int]] = {}
    for township_id, code, county in zip(townships["id"].tolist(), townships["code"].tolist(), filed):
        key = county_of(code)
        if key == NO_COUNTY and county is not None and _COUNTY_CODE.match(str(county)):
            key = str(county)
        groups.setdefault(key, []).append(int(township_id))
    order = sorted(groups, key=lambda c: (c == NO_COUNTY, c))
    return {c: sorted(groups[c]) for c in order}


def combine_results(parts: Sequence[tuple[str, AnalysisResult]], *, options: Mapping | None = None
                    ) -> AnalysisResult:
    """One result from the results of each county (see the module docstring).

    Parameters
    ----------
    parts
        (county code, result) pairs, in the order the tables are to follow each other; all
        results of one analysis.
    options
        The options the counties were run with (the priority ranking needs ``rank``,
        ``poor_weight``, ``population_weight``).

    Raises
    ------
    ValidationError
        No parts, or results of different analyses.
    """
    if not parts:
        raise ValidationError("no county to combine: the registry has no townships")
    names = {result.name for _, result in parts}
    if len(names) != 1:
        raise ValidationError(f"cannot combine results of different analyses: {', '.join(sorted(names))}")
    first = parts[0][1]
    tables: dict[str, pd.DataFrame] = {}
    for table in dict.fromkeys(t for _, result in parts for t in result.tables):
        tables[table] = _concat([(code, result.tables[table]) for code, result in parts if table in result.tables])
    if first.name == "priority" and "ranking" in tables:
        tables["ranking"] = rerank(tables["ranking"], **_rank_options(first, options or {}))
    if first.name == "coverage" and "cadres" in tables:
        tables["cadres"] = _cadre_loads(tables["cadres"], first)
    crs = list(dict.fromkeys(result.crs for _, result in parts if result.crs))
    notes = _notes(parts)
    return AnalysisResult(
        name=first.name, title=first.title, tables=tables, crs="、".join(crs) if crs else None,
        thresholds=first.thresholds, notes=tuple(notes), labels={**first.labels, COUNTY_COLUMN: COUNTY_LABEL},
        titles=first.titles, views={k: (COUNTY_COLUMN, *v) for k, v in first.views.items()}, values=first.values,
    )


def _concat(parts: Iterable[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    frames = []
    for code, frame in parts:
        labelled = frame.copy()
        labelled.insert(0, COUNTY_COLUMN, code)
        frames.append(labelled)
    geo = [f for f in frames if isinstance(f, gpd.GeoDataFrame)]
    frames = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(frames, ignore_index=True)
    if geo and not isinstance(out, gpd.GeoDataFrame):
        out = gpd.GeoDataFrame(out, geometry=geo[0].geometry.name, crs=geo[0].crs)
    return out


def _notes(parts: Sequence[tuple[str, AnalysisResult]]) -> list[str]:
    """Notes every county shares, once; the others prefixed with their county."""
    everywhere = set.intersection(*(set(result.notes) for _, result in parts))
    notes = [n for n in parts[0][1].notes if n in everywhere]
    notes += [f"{code}：{n}" for code, result in parts for n in result.notes if n not in everywhere]
    notes.append(f"按区县分区计算（{len(parts)}个分区，每行标注区县代码）；排序与帮扶责任人联系户数为全域统一计算，"
                 "汇总表为每区县一行")
    return notes


def _rank_options(result: AnalysisResult, options: Mapping) -> dict:
    used = {t.name: t.value for t in result.thresholds}
    return {"rank": options.get("rank", used.get("rank", "need")),
            "poor_weight": float(options.get("poor_weight", used.get("poor_weight", 1.0))),
            "population_weight": float(options.get("population_weight", used.get("population_weight", 1.0)))}


def rerank(ranking: pd.DataFrame, *, rank: str = "need", poor_weight: float, population_weight: float
           ) -> pd.DataFrame:
    """The priority ranking of several partitions as one: shares of the whole area's unmet
    need, one sort, ranks 1..n (the rule of :func:`geo.analysis.priority.rank_villages`).

    Raises
    ------
    ValidationError
        A budget was applied per partition (``funded`` set): a budget is one pot for the whole
        area and cannot be split by county.
    """
    if "funded" in ranking and ranking["funded"].notna().any():
        raise ValidationError("a budget cannot be spent county by county: run the ranking with --budget "
                              "without --by county, or rank by county without a budget")
    out = ranking.copy()
    total = poor_weight + population_weight
    w_poor, w_pop = poor_weight / total, population_weight / total
    poor = F.as_number(out["unmet_registered_poor_households"]).fillna(0.0)
    people = F.as_number(out["unmet_population"]).fillna(0.0)
    out["poor_share_pct"] = F.ratio_pct(poor, np.full(len(out), poor.sum()))
    out["population_share_pct"] = F.ratio_pct(people, np.full(len(out), people.sum()))
    out["poor_component"] = w_poor * np.nan_to_num(out["poor_share_pct"].to_numpy(dtype=float))
    out["population_component"] = w_pop * np.nan_to_num(out["population_share_pct"].to_numpy(dtype=float))
    out["score"] = out["poor_component"] + out["population_component"]
    cost = F.as_number(out["cost_wan_yuan"]) if "cost_wan_yuan" in out else pd.Series(np.nan, index=out.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        if "score_per_wan_yuan" in out:
            out["score_per_wan_yuan"] = np.where(cost > 0, out["score"] / cost, np.nan)
        value = {"poor_households_per_wan_yuan": np.where(cost > 0, poor / cost, np.where(cost == 0, np.inf, np.nan)),
                 "people_per_wan_yuan": np.where(cost > 0, people / cost, np.where(cost == 0, np.inf, np.nan))}
    without_need = (out["score"] <= 0).to_numpy()
    keys = pd.DataFrame({"score": out["score"].to_numpy(), "poor": poor.to_numpy(),
                         "village_id": out["village_id"].to_numpy()}, index=out.index)
    for name, values in value.items():
        keys[name] = np.where(without_need, np.nan, values)
        if name in out:  # free (cost 0): shown as unknown, ranked first
            out[name] = np.where(np.isinf(keys[name]), np.nan, keys[name])
    if rank == "need":
        order, ascending = ["score", "poor", "village_id"], [False, False, True]
    else:
        order = ["poor_households_per_wan_yuan", "people_per_wan_yuan", "score", "village_id"]
        ascending = [False, False, False, True]
    positions = keys.sort_values(order, ascending=ascending, kind="stable", na_position="last").index
    out = out.loc[positions].reset_index(drop=True)
    has_need = out["score"] > 0
    out["rank"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out.loc[has_need, "rank"] = np.arange(1, int(has_need.sum()) + 1)
    return out


def _cadre_loads(cadres: pd.DataFrame, result: AnalysisResult) -> pd.DataFrame:
    """Cadre loads summed over the counties (a cadre listed once, with every county's
    households), the limit checked on the sum."""
    limit = next((t.value for t in result.thresholds if t.name == "max_households_per_cadre"), None)
    first = cadres.drop_duplicates("cadre_id").set_index("cadre_id")
    carried = cadres.groupby("cadre_id")["households_carried"].sum()
    names = cadres.groupby("cadre_id")["village_names"].agg(lambda v: F.join_names(x for x in v if x))
    counties = cadres[cadres["households_carried"] > 0].groupby("cadre_id")[COUNTY_COLUMN].agg(
        lambda c: "、".join(dict.fromkeys(c)))
    out = first.drop(columns=[COUNTY_COLUMN]).copy()
    out["households_carried"] = carried.reindex(out.index).fillna(0).astype(int)
    if limit is not None:
        out["over_limit"] = out["households_carried"] > limit
        out["households_over_limit"] = (out["households_carried"] - limit).clip(lower=0)
    out["village_names"] = names.reindex(out.index).fillna("")
    out.insert(0, COUNTY_COLUMN, counties.reindex(out.index).fillna(""))
    out = out.reset_index()
    columns = [COUNTY_COLUMN, *[c for c in cadres.columns if c != COUNTY_COLUMN]]
    return out[columns].sort_values(["households_carried", "cadre_id"], ascending=[False, True]).reset_index(drop=True)
