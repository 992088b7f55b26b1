"""Candidates for the project library from the priority ranking: the top villages of a road
or water ranking become proposed projects (a road project with the new links it needs, a
well project at the settlements beyond the supply distance), each with its cost, quantity,
绩效目标 and 联农带农 households worked out from the gap it closes.

A candidate's code is fixed by its kind and village (``CAND-ROAD-<village code>``), so
proposing from the same ranking twice finds the codes taken and adds nothing. A road link
shared by several villages goes to the best-ranked one only (paid once, as in the ranking).

Pure: the ranking and the gap analysis it was computed from in, a frame out.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiLineString, MultiPoint
from shapely.ops import linemerge

from geo.analysis.priority import road_need, water_need
from geo.analysis.result import AnalysisResult
from geo.errors import ValidationError

CandidateKind = Literal["road", "water"]
#: Ranking kind -> the project kind its candidates get.
PROJECT_KIND = {"road": "road", "water": "well"}
CODE_PREFIX = {"road": "CAND-ROAD", "water": "CAND-WELL"}
#: Columns of :func:`candidates`.
COLUMNS = ["code", "name", "kind", "village_id", "village_name", "township_name", "rank", "score", "quantity",
           "quantity_unit", "funds_wan_yuan", "performance_targets", "benefit_households", "benefit_mechanism",
           "reason", "geometry"]


def candidate_code(kind: str, village_code: object, village_id: int) -> str:
    """The fixed code of a village's candidate of ``kind`` (its 12-digit code, else ``V<id>``)."""
    key = str(village_code).strip() if village_code is not None and not pd.isna(village_code) else f"V{int(village_id)}"
    return f"{CODE_PREFIX[kind]}-{key}"


def candidates(kind: CandidateKind, ranking: pd.DataFrame, gaps: AnalysisResult, villages: pd.DataFrame, *,
               top: int, funded_only: bool = False) -> gpd.GeoDataFrame:
    """The top ``top`` ranked villages with a need of ``kind`` as projects to propose.

    Parameters
    ----------
    kind
        ``road`` or ``water`` (the ranking's kind).
    ranking
        The priority result's ``ranking`` table (``rank``, ``village_id``, ``score``,
        ``cost_wan_yuan``, ``funded`` ...).
    gaps
        The roads (kind ``road``) or water (kind ``water``) analysis the ranking was computed
        from: it holds the links and settlements.
    villages
        ``id`` and ``code`` of the villages (the candidate's code).
    top
        How many ranked villages at most [-].
    funded_only
        Only villages the ranking's budget funds.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`COLUMNS`, in rank order, EPSG:4326: road links as a (Multi)LineString, wells
        as a MultiPoint of the settlements (or the village) to serve.

    Raises
    ------
    ValidationError
        An unknown kind or a ``top`` below 1.
    """
    if kind not in PROJECT_KIND:
        raise ValidationError(f"candidates come from a road or water ranking, not {kind!r}; use --kind road or water")
    if int(top) < 1:
        raise ValidationError(f"top must be 1 or more, not {top}")
    chosen = ranking[ranking["rank"].notna()].sort_values("rank")
    if funded_only:
        chosen = chosen[chosen["funded"].fillna(False).astype(bool)]
    chosen = chosen.head(int(top))
    codes = dict(zip(villages["id"], villages["code"])) if "code" in villages else {}
    rows = (_roads if kind == "road" else _wells)(chosen, gaps)
    for row in rows:
        row["code"] = candidate_code(kind, codes.get(row["village_id"]), row["village_id"])
        row["kind"] = PROJECT_KIND[kind]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


def _base(row) -> dict:
    return {"village_id": int(row.village_id), "village_name": row.village_name, "township_name": row.township_name,
            "rank": int(row.rank), "score": float(row.score)}


def _roads(chosen: pd.DataFrame, gaps: AnalysisResult) -> list[dict]:
    need = road_need(gaps).set_index("village_id")
    links = gaps.tables["links"].to_crs(4326).set_index("link_id")
    taken: set = set()
    rows = []
    for row in chosen.itertuples():
        items = [i for i in need.at[row.village_id, "items"] if i not in taken] if row.village_id in need.index else []
        if not items:
            continue
        taken.update(items)
        km = float(links.loc[items, "length_km"].sum())
        cost = float(links.loc[items, "cost_wan_yuan"].sum())
        merged = linemerge(MultiLineString([g for g in links.loc[items].geometry if g is not None]))
        households = _count(row.unmet_registered_poor_households)
        people = _count(row.unmet_population)
        rows.append({**_base(row), "name": f"{row.village_name}通村连接道路（优先排序第{int(row.rank)}位）",
                     "quantity": round(km, 3), "quantity_unit": "km", "funds_wan_yuan": round(cost, 2),
                     "performance_targets": f"新建硬化连接道路{km:.2f}公里，使{people}人（建档立卡{households}户）通硬化路",
                     "benefit_households": households, "benefit_mechanism": None,
                     "reason": need.at[row.village_id, "reason"], "geometry": merged})
    return rows


def _wells(chosen: pd.DataFrame, gaps: AnalysisResult) -> list[dict]:
    need = water_need(gaps).set_index("village_id")
    settlements = gaps.tables["settlements"].to_crs(4326).set_index("settlement_id")
    places = gaps.tables["villages"].to_crs(4326).set_index("village_id")
    rows = []
    for row in chosen.itertuples():
        if row.village_id not in need.index:
            continue
        items = list(need.at[row.village_id, "items"])
        points = [g for g in settlements.loc[items].geometry if g is not None] if items else []
        if not points and row.village_id in places.index:
            points = [places.at[row.village_id, "geometry"]]
        if not points:
            continue
        wells = int(need.at[row.village_id, "quantity"]) or len(points)
        cost = row.cost_wan_yuan if "cost_wan_yuan" in chosen and not pd.isna(row.cost_wan_yuan) else np.nan
        households = _count(row.unmet_registered_poor_households)
        people = _count(row.unmet_population)
        rows.append({**_base(row), "name": f"{row.village_name}饮水供水点（优先排序第{int(row.rank)}位）",
                     "quantity": float(wells), "quantity_unit": "眼",
                     "funds_wan_yuan": None if pd.isna(cost) else round(float(cost), 2),
                     "performance_targets": f"新打机井（供水点）{wells}眼，解决{people}人（建档立卡{households}户）安全饮水",
                     "benefit_households": households, "benefit_mechanism": None,
                     "reason": need.at[row.village_id, "reason"], "geometry": MultiPoint(points)})
    return rows


def _count(value) -> int:
    return 0 if value is None or pd.isna(value) else int(round(float(value)))
