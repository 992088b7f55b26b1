"""Drinking-water access: how far people live from a working drinking-water facility, which
villages fall short of safe-water coverage, and who depends on facilities out of service.

Only facilities that are working (status ``working``) and supply drinking water
(``is_drinking``) count as supply points; canals do not. A settlement or household is
*beyond* a supply point when none lies within ``supply_distance_m`` (default 1 km: the
provincial exit standards' 人力取水半径不超过1公里). Safe-water coverage is taken, in
order, from the village form's figure (``safe_water_share_pct``), from household survey
flags (``has_safe_water``), else estimated as the share of households living within the
supply distance; the source is named on every row.

Partition-safe: :func:`water_distances` and :func:`dependents` build one spatial index
per call and can run per partition of settlements / households with the facilities (or
those within ``supply_distance_m`` of the partition) broadcast.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis import _frames as F
from geo.analysis.projects import project_supplies, with_projects
from geo.analysis.result import AnalysisResult, Threshold
from geo.analysis.spatial import choose_metric_crs, crs_name, nearest, to_metric
from geo.enums import FacilityStatus, HouseholdStatus, VillageCategory, WaterKind
from geo.errors import ValidationError

#: People beyond this distance of a working drinking-water facility lack a supply point [m]
#: (a project default; provincial exit standards: 人力取水半径不超过1公里).
DEFAULT_SUPPLY_DISTANCE_M = 1000.0
#: Villages below this safe-water coverage fall short [%]. Seed 003's village form asks for
#: the share (全村有安全饮水农户比例) without a pass mark: 90 % is an assumption.
DEFAULT_SAFE_WATER_THRESHOLD_PCT = 90.0
#: A village whose stated safe-water share (village form or household flags) reaches the
#: pass mark while more than this many people live beyond the supply distance is flagged as
#: a 疑点 (the two pieces of evidence disagree) [people]. An assumption: about one small
#: settlement; set your own.
DEFAULT_CONFLICT_POPULATION = 100.0
#: Statuses of facilities that should work but do not.
DEFAULT_OUT_OF_SERVICE_STATUSES = ("damaged", "stopped")

SOURCES = {
    "supply_distance_m": "本系统默认1公里；贫困村退出标准：人力取水半径不超过1公里",
    "safe_water_threshold_pct": "假设：seed 003 村级调查表只问比例（全村有安全饮水农户比例），未给达标线",
    "out_of_service_statuses": "设施状态：损坏待修、停用",
    "drinking_kinds": "计为供水点的设施类型（默认：所有饮用水设施）",
    "conflict_population": "假设：调查比例达标但超距人口多于此数（约一个小自然村）即列为疑点，可调整",
}

COVERAGE_SOURCE = {"village_form": "村级调查表", "household_survey": "农户调查", "distance": "按取水距离推算",
                   "unknown": "无数据"}
VALUES = {"category": VillageCategory.labels(), "kind": WaterKind.labels(), "status": FacilityStatus.labels(),
          "nearest_facility_kind": WaterKind.labels(), "coverage_source": COVERAGE_SOURCE,
          "household_status": HouseholdStatus.labels()}

COLUMNS = {
    "village_id": "村ID", "village_name": "行政村", "township_name": "乡镇", "category": "村类别",
    "settlement_id": "自然村ID", "settlement_name": "自然村", "household_id": "农户ID", "household_code": "户编号",
    "household_status": "农户类别", "members": "家庭人口",
    "households": "户数", "population": "人口", "registered_poor_households": "建档立卡户数",
    "distance_to_water_m": "距正常供水点（米）", "nearest_facility_id": "最近供水点ID",
    "nearest_facility_name": "最近供水点", "nearest_facility_kind": "最近供水点类型",
    "beyond_supply_distance": "超出取水距离",
    "distance_to_out_of_service_m": "距停用/损坏供水设施（米）",
    "served_if_repaired": "修复后可供水",
    "facilities": "水利设施数", "drinking_facilities": "饮水设施数",
    "working_drinking_facilities": "正常饮水设施数", "out_of_service_facilities": "停用/损坏设施数",
    "no_facility": "无任何水利设施", "no_working_supply": "无正常供水点",
    "settlements": "自然村数", "settlements_beyond": "超距自然村数", "households_beyond": "超距户数",
    "population_beyond": "超距人口", "supply_coverage_pct": "取水距离内户数比例（%）",
    "safe_water_share_pct": "安全饮水比例（%）", "coverage_source": "比例来源",
    "below_threshold": "低于达标线", "evidence_conflict": "疑点", "evidence_note": "疑点说明",
    "villages_evidence_conflict": "疑点村数",
    "facility_id": "设施ID", "facility_code": "设施编号", "facility_name": "设施名称", "kind": "设施类型",
    "status": "状态", "served_village_names": "服务行政村", "served_population": "服务村人口", "dependent_settlements": "依赖自然村数",
    "dependent_settlement_names": "依赖自然村", "dependent_households": "依赖户数",
    "dependent_population": "依赖人口", "dependent_registered_poor_households": "依赖建档立卡户数",
    "without_alternative_households": "无替代水源户数", "without_alternative_population": "无替代水源人口",
    "villages": "行政村数", "villages_no_facility": "无设施村数", "villages_no_working_supply": "无正常供水点村数",
    "villages_below_threshold": "低于达标线村数", "facilities_out_of_service": "停用/损坏设施数",
    "reason": "说明",
}
TABLES = {
    "villages": "行政村饮水", "settlements": "自然村饮水", "households": "超距农户",
    "facilities": "停用/损坏设施及依赖人口", "townships": "乡镇汇总", "district": "全区汇总",
}
VIEWS = {
    "villages": ("township_name", "village_name", "distance_to_water_m", "working_drinking_facilities",
                 "settlements_beyond", "population_beyond", "safe_water_share_pct", "coverage_source",
                 "below_threshold", "evidence_conflict", "no_facility"),
    "settlements": ("township_name", "village_name", "settlement_name", "households", "distance_to_water_m",
                    "nearest_facility_name", "beyond_supply_distance", "served_if_repaired"),
    "households": ("township_name", "village_name", "settlement_name", "household_code", "household_status",
                   "members", "distance_to_water_m"),
    "facilities": ("facility_name", "kind", "status", "served_village_names", "served_population",
                   "dependent_settlements",
                   "dependent_population", "without_alternative_population"),
    "townships": ("township_name", "villages", "villages_no_facility", "villages_no_working_supply",
                  "villages_below_threshold", "villages_evidence_conflict", "settlements_beyond", "population_beyond",
                  "supply_coverage_pct", "facilities_out_of_service"),
    "district": ("township_name", "villages", "villages_no_facility", "villages_no_working_supply",
                 "villages_below_threshold", "villages_evidence_conflict", "settlements_beyond", "population_beyond",
                 "supply_coverage_pct", "facilities_out_of_service"),
}


def supply_points(
    facilities: gpd.GeoDataFrame,
    *,
    drinking_kinds: Sequence[str] | None = None,
    statuses: Sequence[str] = (FacilityStatus.WORKING.value,),
) -> gpd.GeoDataFrame:
    """Drinking-water facilities in ``statuses`` (default: working), optionally of some kinds."""
    status = facilities["status"].astype(str)
    drinking = facilities["is_drinking"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    mask = status.isin([str(s) for s in statuses]).to_numpy() & drinking
    if drinking_kinds is not None:
        mask &= facilities["kind"].astype(str).isin([str(k) for k in drinking_kinds]).to_numpy()
    return facilities[mask]


def water_distances(points: gpd.GeoSeries, supplies: gpd.GeoDataFrame) -> pd.DataFrame:
    """Distance from every point to its nearest supply facility. Partition-safe.

    Parameters
    ----------
    points
        Points in a metric CRS.
    supplies
        Facilities (any geometry) in the same CRS, with ``id``, ``name``, ``kind``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``distance_to_water_m`` [m] (NaN: none at all),
        ``nearest_facility_id``, ``nearest_facility_name``, ``nearest_facility_kind``.
    """
    found = nearest(points, supplies.geometry)
    hit = found["target"]
    return pd.DataFrame({
        "distance_to_water_m": found["distance_m"],
        "nearest_facility_id": hit.map(supplies["id"]).astype("Int64") if len(supplies) else pd.NA,
        "nearest_facility_name": hit.map(supplies["name"]) if "name" in supplies else None,
        "nearest_facility_kind": hit.map(supplies["kind"].astype(str)),
    }, index=points.index)


def dependents(
    facilities: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame,
    served_villages: dict,
    *,
    supply_distance_m: float = DEFAULT_SUPPLY_DISTANCE_M,
) -> pd.DataFrame:
    """Settlements that depend on each facility. Partition-safe (one index per call).

    A settlement depends on a facility when it lies within ``supply_distance_m`` of it and
    belongs to a village the facility serves (any village when the facility lists none).

    Parameters
    ----------
    facilities
        Facilities in a metric CRS with ``id``.
    settlements
        Settlements in the same CRS with ``settlement_id`` and ``village_id``.
    served_villages
        Facility id -> set of village ids it serves.

    Returns
    -------
    pandas.DataFrame
        One row per (facility, settlement): ``facility_id``, ``settlement_id`` and
        ``distance_m`` [m].
    """
    columns = ["facility_id", "settlement_id", "distance_m"]
    valid = settlements[settlements.geometry.notna() & ~settlements.geometry.is_empty]
    if facilities.empty or valid.empty:
        return pd.DataFrame(columns=columns)
    tree = shapely.STRtree(valid.geometry.to_numpy())
    f_idx, s_idx = tree.query(facilities.geometry.to_numpy(), predicate="dwithin", distance=supply_distance_m)
    fac_ids = facilities["id"].to_numpy()[f_idx]
    s_villages = valid["village_id"].to_numpy()[s_idx]
    keep = np.array([not served_villages.get(f) or v in served_villages[f] for f, v in zip(fac_ids, s_villages)],
                    dtype=bool)
    distance = shapely.distance(facilities.geometry.to_numpy()[f_idx[keep]], valid.geometry.to_numpy()[s_idx[keep]])
    return pd.DataFrame({"facility_id": fac_ids[keep], "settlement_id": valid["settlement_id"].to_numpy()[s_idx[keep]],
                         "distance_m": distance}, columns=columns)


def analyze_water(
    villages: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    links: pd.DataFrame | None = None,
    households: gpd.GeoDataFrame | None = None,
    townships: gpd.GeoDataFrame | None = None,
    supply_distance_m: float = DEFAULT_SUPPLY_DISTANCE_M,
    safe_water_threshold_pct: float = DEFAULT_SAFE_WATER_THRESHOLD_PCT,
    out_of_service_statuses: Sequence[str] = DEFAULT_OUT_OF_SERVICE_STATUSES,
    drinking_kinds: Sequence[str] | None = None,
    conflict_population: float = DEFAULT_CONFLICT_POPULATION,
    projects: gpd.GeoDataFrame | None = None,
    include_planned: bool = False,
) -> AnalysisResult:
    """Drinking-water access of villages, settlements and households.

    Parameters
    ----------
    villages
        ``villages`` layer (``id``, ``name``, ``township_id``, ``category``, ``households``,
        ``population``, ``safe_water_share_pct``; Point geometry).
    settlements
        ``settlements`` layer (``id``, ``village_id``, ``name``, ``households``, ``population``).
    facilities
        ``water_facilities`` layer (``id``, ``name``, ``kind``, ``status``, ``is_drinking``,
        ``village_id``; any geometry).
    links
        ``water_facility_villages`` link rows (``facility_id``, ``village_id``): the villages
        each facility serves, besides the one it stands in.
    households
        Optional ``households`` layer (``id``, ``code``, ``village_id``, ``settlement_id``,
        ``status``, ``members``, ``has_safe_water``; Point geometry).
    townships
        ``townships`` layer, for names and the township table's areas.
    supply_distance_m
        Farther than this from every supply point is beyond supply [m].
    safe_water_threshold_pct
        Villages below this safe-water coverage fall short [%].
    out_of_service_statuses
        Facility statuses reported as out of service.
    drinking_kinds
        Facility kinds counted as supply points (default: every drinking facility).
    conflict_population
        A village whose stated share (village form or household flags) reaches
        ``safe_water_threshold_pct`` while more than this many people live beyond the supply
        distance is flagged ``evidence_conflict`` (疑点) [people].
    projects
        Optional ``projects`` layer: completed well projects with a position count as working
        supply points (see :mod:`geo.analysis.projects`).
    include_planned
        Also count planned and building well projects.

    Returns
    -------
    AnalysisResult
        ``villages`` (Point): ``village_id``, ``village_name``, ``township_name``,
        ``category``, ``households``, ``population``, ``distance_to_water_m`` [m],
        ``nearest_facility_name``, ``facilities``, ``drinking_facilities``,
        ``working_drinking_facilities``, ``out_of_service_facilities`` [count],
        ``no_facility``, ``no_working_supply`` (bool), ``settlements``,
        ``settlements_beyond``, ``households_beyond`` [households], ``population_beyond``
        [people], ``supply_coverage_pct`` [%], ``safe_water_share_pct`` [%],
        ``coverage_source`` (``village_form`` / ``household_survey`` / ``distance`` /
        ``unknown``), ``below_threshold`` (bool, NA when unknown), ``reason``.

        ``settlements`` (Point): ``settlement_id``, ``settlement_name``, ``village_id``,
        ``village_name``, ``township_name``, ``households``, ``population``,
        ``registered_poor_households``, ``distance_to_water_m`` [m], ``nearest_facility_id``,
        ``nearest_facility_name``, ``nearest_facility_kind``, ``beyond_supply_distance``,
        ``distance_to_out_of_service_m`` [m], ``served_if_repaired`` (beyond now, but an
        out-of-service facility lies within the distance), ``reason``.

        ``households`` (Point; only those beyond the distance, no personal data):
        ``household_id``, ``household_code``, ``village_name``, ``settlement_name``,
        ``township_name``, ``household_status``, ``members``, ``distance_to_water_m`` [m].

        ``facilities`` (facility geometry; those out of service): ``facility_id``,
        ``facility_code``, ``facility_name``, ``kind``, ``status``, ``village_name``,
        ``township_name`` (where it stands, else its first served village), ``served_village_names``, ``dependent_settlements``, ``dependent_settlement_names``,
        ``dependent_households``, ``dependent_population``,
        ``dependent_registered_poor_households``, ``without_alternative_households``,
        ``without_alternative_population`` (dependants with no working supply point within
        the distance).

        ``townships`` (area) and ``district``: ``township_name``, ``villages``,
        ``villages_no_facility``, ``villages_no_working_supply``, ``villages_below_threshold``,
        ``settlements``, ``settlements_beyond``, ``households_beyond``, ``population_beyond``,
        ``supply_coverage_pct`` [%], ``facilities_out_of_service``,
        ``without_alternative_population``.
    """
    if supply_distance_m is None or supply_distance_m < 0:
        raise ValidationError(f"supply_distance_m must be a number >= 0, not {supply_distance_m!r}")
    if safe_water_threshold_pct is None or not 0 <= safe_water_threshold_pct <= 100:
        raise ValidationError(f"safe_water_threshold_pct must be between 0 and 100, not {safe_water_threshold_pct!r}")
    F.require(settlements, "settlements", ["id", "village_id", "name", "households", "population"])
    F.require(facilities, "water_facilities", ["id", "kind", "status", "is_drinking"])
    v = F.village_frame(villages, townships)
    notes: list[str] = []
    dug = project_supplies(projects, include_planned=include_planned)
    if dug is not None:
        facilities = with_projects(facilities, dug)
        notes.append(f"{len(dug)}处{'已完成及计划/在建' if include_planned else '已完成'}的机井项目（有位置）计为正常供水点")
    crs = choose_metric_crs(villages, settlements, facilities, households)
    if crs is None:
        notes.append("行政村、自然村和水利设施都没有位置，无法量算距离")
    v_m = to_metric(v, crs)
    f_m = to_metric(facilities, crs)
    f_m = f_m.assign(name=f_m["name"] if "name" in f_m else None)
    s_m = F.settlement_frame(to_metric(settlements, crs), v_m, households)
    supplies = supply_points(f_m, drinking_kinds=drinking_kinds)
    supplies = supplies[supplies.geometry.notna() & ~supplies.geometry.is_empty]
    broken = supply_points(f_m, drinking_kinds=drinking_kinds, statuses=out_of_service_statuses)
    if supplies.empty:
        notes.append("没有正常运行的饮用水设施：所有人都按超出取水距离计")

    v_m = v_m.join(water_distances(v_m.geometry, supplies))
    s_m = s_m.join(water_distances(s_m.geometry, supplies))
    located = s_m.geometry.notna() & ~s_m.geometry.is_empty
    distance = F.as_number(s_m["distance_to_water_m"])
    s_m["beyond_supply_distance"] = (located & ~(distance <= supply_distance_m)).astype("boolean")
    s_m.loc[~located, "beyond_supply_distance"] = pd.NA
    s_m["distance_to_out_of_service_m"] = nearest(s_m.geometry, broken.geometry)["distance_m"]
    s_m["served_if_repaired"] = (s_m["beyond_supply_distance"].fillna(False)
                                 & (s_m["distance_to_out_of_service_m"] <= supply_distance_m))
    s_m["reason"] = [_settlement_reason(r, supply_distance_m) for r in s_m.itertuples()]

    served = _served_villages(facilities, links)
    v_m = _village_coverage(v_m, s_m, facilities, served, households, supply_distance_m,
                            safe_water_threshold_pct, out_of_service_statuses, drinking_kinds)
    if conflict_population is None or conflict_population < 0:
        raise ValidationError(f"conflict_population must be a number >= 0, not {conflict_population!r}")
    v_m = _evidence_conflicts(v_m, safe_water_threshold_pct, conflict_population, supply_distance_m)
    v_m["reason"] = [_village_reason(r, supply_distance_m, safe_water_threshold_pct) for r in v_m.itertuples()]
    # out-of-service facilities of the villages analysed (and unattributed ones): neighbours'
    # facilities may be loaded to measure distances across a boundary, not to be reported
    ours = set(v_m["village_id"])
    attributed = [bool(served.get(fid)) for fid in broken["id"]]
    mine = [bool(served.get(fid, set()) & ours) or not a for fid, a in zip(broken["id"], attributed)]
    facility_table = _facility_table(broken[mine], s_m, served, v_m, supply_distance_m, crs)
    household_table = _household_table(households, s_m, v_m, supplies, supply_distance_m, crs)
    if household_table is None:
        household_table = F.empty_geoframe(["household_id", "household_code", "village_name", "settlement_name",
                                            "township_name", "household_status", "members", "distance_to_water_m"])

    village_columns = ["village_id", "village_name", "township_name", "category", "households", "population",
                       "distance_to_water_m", "nearest_facility_name", "facilities", "drinking_facilities",
                       "working_drinking_facilities", "out_of_service_facilities", "no_facility",
                       "no_working_supply", "settlements", "settlements_beyond", "households_beyond",
                       "population_beyond", "supply_coverage_pct", "safe_water_share_pct", "coverage_source",
                       "below_threshold", "evidence_conflict", "evidence_note", "reason"]
    if "category" not in v_m:
        v_m["category"] = None
    settlement_columns = ["settlement_id", "settlement_name", "village_id", "village_name", "township_name",
                          "households", "population", "registered_poor_households", "distance_to_water_m",
                          "nearest_facility_id", "nearest_facility_name", "nearest_facility_kind",
                          "beyond_supply_distance", "distance_to_out_of_service_m", "served_if_repaired", "reason"]
    tables = {
        "villages": F.geoframe(v_m[village_columns], v_m.geometry, crs=crs),
        "settlements": F.geoframe(s_m[settlement_columns], s_m.geometry, crs=crs),
        "households": household_table,
        "facilities": facility_table,
    }
    tables["townships"], tables["district"] = _summaries(tables["villages"], facility_table, townships)
    thresholds = (
        Threshold("supply_distance_m", "取水距离上限（米）", supply_distance_m, SOURCES["supply_distance_m"]),
        Threshold("safe_water_threshold_pct", "安全饮水达标线（%）", safe_water_threshold_pct,
                  SOURCES["safe_water_threshold_pct"]),
        Threshold("out_of_service_statuses", "停用/损坏状态", tuple(out_of_service_statuses),
                  SOURCES["out_of_service_statuses"]),
        Threshold("conflict_population", "疑点：达标村超距人口上限（人）", conflict_population,
                  SOURCES["conflict_population"]),
        Threshold("include_planned", "计入计划/在建项目", include_planned,
                  "已完成的机井项目（有位置）总计为供水点；选此项时计划和在建项目也计入"),
        Threshold("drinking_kinds", "计为供水点的设施类型",
                  tuple(drinking_kinds) if drinking_kinds is not None else "全部饮用水设施", SOURCES["drinking_kinds"]),
    )
    notes.insert(0, f"只计正常运行的饮用水设施；取水距离{supply_distance_m:g}米；距离在{crs_name(crs)}中量算")
    conflicts = int(v_m["evidence_conflict"].sum())
    if conflicts:
        notes.append(f"疑点{conflicts}个村：调查的安全饮水比例达到{safe_water_threshold_pct:g}%，但超出取水距离的人口多于"
                     f"{conflict_population:g}人，两项证据不一致，须核实")
    return AnalysisResult(name="water", title="饮水安全分析", tables=tables, crs=crs_name(crs),
                          thresholds=thresholds, notes=tuple(notes), labels=COLUMNS, titles=TABLES, views=VIEWS,
                          values=VALUES)


# ------------------------------------------------------------------------------ steps


def _served_villages(facilities: pd.DataFrame, links: pd.DataFrame | None) -> dict:
    served: dict = {}
    if "village_id" in facilities:
        for fid, vid in zip(facilities["id"], facilities["village_id"]):
            if vid is not None and vid == vid:
                served.setdefault(fid, set()).add(vid)
    if links is not None and len(links):
        F.require(links, "water_facility_villages", ["facility_id", "village_id"])
        for fid, vid in zip(links["facility_id"], links["village_id"]):
            served.setdefault(fid, set()).add(vid)
    return served


def _village_coverage(v_m, s_m, facilities, served, households, supply_distance_m, threshold,
                      out_of_service, drinking_kinds) -> gpd.GeoDataFrame:
    out = v_m.copy()
    status = facilities["status"].astype(str)
    drinking = facilities["is_drinking"].astype("boolean").fillna(False)
    if drinking_kinds is not None:
        drinking = drinking & facilities["kind"].astype(str).isin([str(k) for k in drinking_kinds])
    pairs = pd.DataFrame([(fid, vid) for fid, vids in served.items() for vid in vids],
                         columns=["facility_id", "village_id"])
    info = pd.DataFrame({"facility_id": facilities["id"].to_numpy(), "drinking": drinking.to_numpy(dtype=bool),
                         "working": (status == FacilityStatus.WORKING.value).to_numpy(),
                         "broken": status.isin([str(s) for s in out_of_service]).to_numpy()})
    pairs = pairs.merge(info, on="facility_id", how="left")
    per = pairs.groupby("village_id")
    out["facilities"] = out["village_id"].map(per.size()).fillna(0).astype(int)
    out["drinking_facilities"] = out["village_id"].map(per["drinking"].sum()).fillna(0).astype(int)
    out["working_drinking_facilities"] = out["village_id"].map(
        pairs[pairs["drinking"] & pairs["working"]].groupby("village_id").size()).fillna(0).astype(int)
    out["out_of_service_facilities"] = out["village_id"].map(per["broken"].sum()).fillna(0).astype(int)
    out["no_facility"] = out["facilities"] == 0
    village_distance = F.as_number(out["distance_to_water_m"])
    out["no_working_supply"] = (out["working_drinking_facilities"] == 0) & ~(village_distance <= supply_distance_m)

    located = s_m[s_m.geometry.notna() & ~s_m.geometry.is_empty]
    hh = F.as_number(located["households"]).fillna(0)
    pop = F.as_number(located["population"]).fillna(0)
    beyond = located["beyond_supply_distance"].fillna(False).astype(bool)
    grouped = pd.DataFrame({"village_id": located["village_id"], "settlements": 1, "beyond": beyond.astype(int),
                            "hh": hh, "hh_beyond": hh.where(beyond, 0), "pop_beyond": pop.where(beyond, 0)}
                           ).groupby("village_id").sum()
    out["settlements"] = out["village_id"].map(grouped["settlements"]).fillna(0).astype(int)
    out["settlements_beyond"] = out["village_id"].map(grouped["beyond"]).fillna(0).astype(int)
    out["households_beyond"] = out["village_id"].map(grouped["hh_beyond"]).fillna(0.0)
    out["population_beyond"] = out["village_id"].map(grouped["pop_beyond"]).fillna(0.0)
    households_known = out["village_id"].map(grouped["hh"])
    coverage = F.ratio_pct(households_known - out["households_beyond"], households_known)
    # a village without located settlements: all or nothing at the village point
    bare = out["settlements"] == 0
    has_point = out.geometry.notna() & ~out.geometry.is_empty
    point_ok = (village_distance <= supply_distance_m)
    coverage = pd.Series(coverage, index=out.index)
    coverage[bare & has_point] = np.where(point_ok[bare & has_point], 100.0, 0.0)
    out.loc[bare & has_point & ~point_ok, "households_beyond"] = F.as_number(out["households"])[bare & has_point & ~point_ok]
    out.loc[bare & has_point & ~point_ok, "population_beyond"] = F.as_number(out["population"])[bare & has_point & ~point_ok]
    out["supply_coverage_pct"] = coverage.to_numpy(dtype=float)

    stated = F.as_number(out["safe_water_share_pct"]) if "safe_water_share_pct" in out else pd.Series(np.nan, index=out.index)
    surveyed = _survey_share(households, out["village_id"])
    share = stated.copy()
    source = pd.Series(np.where(stated.notna(), "village_form", "unknown"), index=out.index, dtype=object)
    use_survey = share.isna() & surveyed.notna()
    share[use_survey] = surveyed[use_survey]
    source[use_survey] = "household_survey"
    use_distance = share.isna() & out["supply_coverage_pct"].notna()
    share[use_distance] = out.loc[use_distance, "supply_coverage_pct"]
    source[use_distance] = "distance"
    out["safe_water_share_pct"] = share.to_numpy(dtype=float)
    out["coverage_source"] = source.to_numpy()
    below = pd.array([pd.NA if np.isnan(x) else bool(x < threshold) for x in share.to_numpy(dtype=float)],
                     dtype="boolean")
    out["below_threshold"] = below
    return out


def _evidence_conflicts(v_m: pd.DataFrame, threshold: float, population: float, supply_distance_m: float
                        ) -> pd.DataFrame:
    """Flag villages whose stated safe-water share (village form, household flags) passes
    while many people live beyond the supply distance, with both figures in the note."""
    out = v_m.copy()
    stated = out["coverage_source"].isin(["village_form", "household_survey"]).to_numpy()
    share = F.as_number(out["safe_water_share_pct"]).to_numpy(dtype=float)
    beyond = F.as_number(out["population_beyond"]).fillna(0).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        flag = stated & (share >= threshold) & (beyond > population)
    out["evidence_conflict"] = flag
    notes = []
    for yes, source, pct, people, coverage, distance in zip(
            flag, out["coverage_source"], share, beyond, F.as_number(out["supply_coverage_pct"]),
            F.as_number(out["distance_to_water_m"])):
        if not yes:
            notes.append(None)
            continue
        nearest = "" if pd.isna(distance) else f"，村委会距最近正常供水点{distance / 1000:,.1f}公里"
        within = "" if pd.isna(coverage) else f"（按距离推算取水距离内户数比例{coverage:.1f}%）"
        notes.append(f"{COVERAGE_SOURCE[source]}安全饮水比例{pct:.1f}%，但{people:,.0f}人住在距正常供水点"
                     f"{supply_distance_m:g}米以外{within}{nearest}")
    out["evidence_note"] = notes
    return out


def _survey_share(households, village_ids: pd.Series) -> pd.Series:
    """Share of surveyed households with safe water per village [%] (NaN: none surveyed)."""
    if households is None or households.empty or "has_safe_water" not in households:
        return pd.Series(np.nan, index=village_ids.index)
    flags = households[["village_id", "has_safe_water"]].dropna()
    if flags.empty:
        return pd.Series(np.nan, index=village_ids.index)
    share = flags.groupby("village_id")["has_safe_water"].agg(lambda x: 100.0 * x.astype(bool).mean())
    return village_ids.map(share).astype(float)


def _facility_table(broken, s_m, served, v_m, supply_distance_m, crs) -> gpd.GeoDataFrame:
    names = dict(zip(v_m["village_id"], v_m["village_name"]))
    townships = dict(zip(v_m["village_id"], v_m["township_name"]))
    population = dict(zip(v_m["village_id"], F.as_number(v_m["population"]).fillna(0.0)))
    deps = dependents(broken, s_m, served, supply_distance_m=supply_distance_m)
    settled = pd.DataFrame({
        "settlement_id": s_m["settlement_id"].to_numpy(),
        "label": (s_m["village_name"].astype(str) + s_m["settlement_name"].astype(str)).to_numpy(),
        "households": F.as_number(s_m["households"]).fillna(0).to_numpy(),
        "population": F.as_number(s_m["population"]).fillna(0).to_numpy(),
        "poor": F.as_number(s_m["registered_poor_households"]).fillna(0).to_numpy(),
        "alone": s_m["beyond_supply_distance"].fillna(False).to_numpy(dtype=bool),
    })
    joined = deps.merge(settled, on="settlement_id", how="left")
    joined["alone_households"] = joined["households"].where(joined["alone"], 0.0)
    joined["alone_population"] = joined["population"].where(joined["alone"], 0.0)
    per = joined.groupby("facility_id")
    sums = per[["households", "population", "poor", "alone_households", "alone_population"]].sum()
    labels = per["label"].agg(F.join_names)
    counts = per.size()
    rows = []
    for f in broken.itertuples():
        home = getattr(f, "village_id", None)
        home = home if home is not None and home == home else next(iter(sorted(served.get(f.id, ()))), None)
        mine = sums.loc[f.id] if f.id in sums.index else None
        rows.append({
            "facility_id": f.id, "facility_code": getattr(f, "code", None), "facility_name": getattr(f, "name", None),
            "kind": str(f.kind), "status": str(f.status),
            "village_name": names.get(home), "township_name": townships.get(home),
            "served_village_names": F.join_names(names.get(i, i) for i in sorted(served.get(f.id, ()))),
            "served_population": float(sum(population.get(i, 0.0) for i in served.get(f.id, ()))),
            "dependent_settlements": int(counts.get(f.id, 0)),
            "dependent_settlement_names": labels.get(f.id, ""),
            "dependent_households": 0.0 if mine is None else float(mine["households"]),
            "dependent_population": 0.0 if mine is None else float(mine["population"]),
            "dependent_registered_poor_households": 0.0 if mine is None else float(mine["poor"]),
            "without_alternative_households": 0.0 if mine is None else float(mine["alone_households"]),
            "without_alternative_population": 0.0 if mine is None else float(mine["alone_population"]),
        })
    columns = ["facility_id", "facility_code", "facility_name", "kind", "status", "village_name", "township_name",
               "served_village_names", "served_population", "dependent_settlements", "dependent_settlement_names",
               "dependent_households", "dependent_population", "dependent_registered_poor_households",
               "without_alternative_households", "without_alternative_population"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame = frame.set_axis(broken.index) if len(frame) else frame
    out = F.geoframe(frame, broken.geometry if len(broken) else gpd.GeoSeries([], crs=crs), crs=crs)
    return out.sort_values(["without_alternative_population", "dependent_population"], ascending=False,
                           kind="stable").reset_index(drop=True)


def _household_table(households, s_m, v_m, supplies, supply_distance_m, crs) -> gpd.GeoDataFrame | None:
    if households is None or households.empty:
        return None
    F.require(households, "households", ["id", "village_id", "status"])
    h = to_metric(households, crs)
    h = h[h.geometry.notna() & ~h.geometry.is_empty]
    if h.empty:
        return None
    distance = water_distances(h.geometry, supplies)["distance_to_water_m"]
    beyond = ~(F.as_number(distance) <= supply_distance_m)
    h = h[beyond.to_numpy()]
    names = v_m.set_index("village_id")
    settlement_names = dict(zip(s_m["settlement_id"], s_m["settlement_name"]))
    frame = pd.DataFrame({
        "household_id": h["id"].to_numpy(),
        "household_code": h["code"].to_numpy() if "code" in h else None,
        "village_name": h["village_id"].map(names["village_name"]).to_numpy(),
        "settlement_name": (h["settlement_id"].map(settlement_names).to_numpy() if "settlement_id" in h else None),
        "township_name": h["village_id"].map(names["township_name"]).to_numpy(),
        "household_status": h["status"].astype(str).to_numpy(),
        "members": F.as_number(h["members"]).to_numpy() if "members" in h else np.nan,
        "distance_to_water_m": distance[beyond].to_numpy(dtype=float),
    }, index=h.index)
    return F.geoframe(frame, h.geometry, crs=crs)


def _settlement_reason(row, supply_distance_m: float) -> str:
    geom = row.geometry
    if geom is None or geom.is_empty:
        return "无位置，无法量算"
    if pd.isna(row.distance_to_water_m):
        return "附近没有正常运行的饮用水设施"
    name = row.nearest_facility_name or "供水点"
    if row.distance_to_water_m <= supply_distance_m:
        return f"{name}距{row.distance_to_water_m:,.0f}米"
    repair = ""
    if F.yes(row.served_if_repaired):
        repair = f"；{row.distance_to_out_of_service_m:,.0f}米处有停用/损坏设施，修复后可供水"
    return f"最近正常供水点{name}距{row.distance_to_water_m:,.0f}米，超出{supply_distance_m:g}米{repair}"


def _village_reason(row, supply_distance_m: float, threshold: float) -> str:
    parts = []
    if row.no_facility:
        parts.append("无任何水利设施")
    elif row.working_drinking_facilities == 0:
        parts.append("无正常运行的饮用水设施")
    if row.settlements_beyond:
        parts.append(f"{row.settlements_beyond}个自然村{row.population_beyond:,.0f}人超出取水距离{supply_distance_m:g}米")
    if row.coverage_source == "unknown":
        parts.append("安全饮水比例无数据")
    else:
        below = f"，低于{threshold:g}%" if F.yes(row.below_threshold) else ""
        parts.append(f"安全饮水比例{row.safe_water_share_pct:.1f}%{below}（{COVERAGE_SOURCE[row.coverage_source]}）")
    if F.yes(getattr(row, "evidence_conflict", False)):
        parts.append(f"疑点：{row.evidence_note}")
    return "；".join(parts)


_SUMMARY_COLUMNS = ["villages", "villages_no_facility", "villages_no_working_supply", "villages_below_threshold",
                    "villages_evidence_conflict",
                    "settlements", "settlements_beyond", "households_beyond", "population_beyond",
                    "supply_coverage_pct", "facilities_out_of_service", "without_alternative_population"]


def _summary(villages: pd.DataFrame, facilities: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """Summary figures per value of ``key`` (None: one row for everything), by group-bys."""
    def keyed(frame):
        return frame[key].to_numpy(dtype=object) if key else np.full(len(frame), F.DISTRICT, dtype=object)

    weights = F.as_number(villages["households"])
    coverage = F.as_number(villages["supply_coverage_pct"])
    known = (weights.notna() & coverage.notna()).to_numpy()
    v = pd.DataFrame({
        "key": keyed(villages), "villages": 1,
        "villages_no_facility": villages["no_facility"].to_numpy(dtype=int),
        "villages_no_working_supply": villages["no_working_supply"].to_numpy(dtype=int),
        "villages_below_threshold": villages["below_threshold"].fillna(False).to_numpy(dtype=int),
        "villages_evidence_conflict": villages["evidence_conflict"].fillna(False).to_numpy(dtype=int),
        "settlements": villages["settlements"].to_numpy(dtype=int),
        "settlements_beyond": villages["settlements_beyond"].to_numpy(dtype=int),
        "households_beyond": F.as_number(villages["households_beyond"]).fillna(0).to_numpy(),
        "population_beyond": F.as_number(villages["population_beyond"]).fillna(0).to_numpy(),
        # households-weighted mean of the villages' coverage
        "covered": np.where(known, coverage.fillna(0).to_numpy() * weights.fillna(0).to_numpy() / 100.0, 0.0),
        "weight": np.where(known, weights.fillna(0).to_numpy(), 0.0),
    }).groupby("key").sum()
    f = pd.DataFrame({"key": keyed(facilities), "facilities_out_of_service": 1,
                      "without_alternative_population": F.as_number(
                          facilities["without_alternative_population"]).fillna(0).to_numpy()}).groupby("key").sum()
    out = v.join(f).fillna({"facilities_out_of_service": 0, "without_alternative_population": 0.0})
    out["facilities_out_of_service"] = out["facilities_out_of_service"].astype(int)
    out["supply_coverage_pct"] = F.ratio_pct(out["covered"], out["weight"])
    return out.reindex(columns=_SUMMARY_COLUMNS)


def _summaries(villages, facilities, townships):
    return F.township_tables(_summary(villages, facilities, "township_name"), _summary(villages, facilities, None),
                             townships, _SUMMARY_COLUMNS, ("supply_coverage_pct",))
