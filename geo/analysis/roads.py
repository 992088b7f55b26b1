"""Road access: which villages and settlements the road network reaches, and what it would
take to reach the rest.

Questions answered (seed 003's village form and the World Bank Rural Access Index):

- how far is every village and settlement from the nearest hardened road;
- is the village joined to its township seat over hardened roads (a network built from the
  road lines, endpoints snapped within ``snap_tolerance_m``);
- which settlements of 20+ households have no road of at least 3.5 m, gravel or better,
  within ``access_tolerance_m`` (seed 003: 20户以上自然村通砂石路以上且路面宽3.5米以上);
- the share of people within 2 km of an all-season road (RAI), per village, township and
  district. *Assumption:* all-season = hardened or gravel (earth roads are not);
- for every village not joined to its seat and every settlement gap, the shortest new
  straight link to the hardened network that reaches the seat, its length [km] and cost.

Partition-safety: :func:`road_distances` and :func:`rural_access` are partition-safe (one
spatial index per call). :func:`seat_connections` and :func:`new_links` need the road
network of the whole area the partition's villages route through: run them per township
(or county) with the roads of that area plus a margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from geo.analysis import _frames as F
from geo.analysis.projects import project_roads, with_projects
from geo.analysis.result import AnalysisResult, Threshold
from geo.analysis.spatial import choose_metric_crs, crs_name, nearest, to_metric
from geo.enums import RoadSurface, VillageCategory
from geo.errors import ValidationError
from geo.network import RoadNetwork, build_network

#: A village or settlement is "on" a road within this distance [m] (a project default).
DEFAULT_ACCESS_TOLERANCE_M = 200.0
#: Road endpoints closer than this are joined when building the network [m].
DEFAULT_SNAP_TOLERANCE_M = 10.0
#: Settlements of at least this many households need a road (seed 003 village form).
DEFAULT_SETTLEMENT_MIN_HOUSEHOLDS = 20
#: ... of at least this surface width [m] (seed 003 village form) ...
DEFAULT_SETTLEMENT_MIN_WIDTH_M = 3.5
#: ... and gravel or better (seed 003 village form: 砂石路以上).
DEFAULT_SETTLEMENT_SURFACES = ("hardened", "gravel")
#: Surfaces passable all year, for the RAI (assumption: hardened and gravel).
DEFAULT_ALL_SEASON_SURFACES = ("hardened", "gravel")
#: World Bank Rural Access Index: within 2 km of an all-season road [m].
DEFAULT_RAI_DISTANCE_M = 2000.0
#: Cost of a new hardened rural road [yuan/km]: Ningxia's 2009-2012 programme budgeted
#: 5.2 billion yuan for about 8,000 km of rural roads (中国交通运输网, 2009-04-22), about
#: 650,000 yuan a km. Set your own tender price.
DEFAULT_COST_YUAN_PER_KM = 650_000.0

SOURCES = {
    "access_tolerance_m": "本系统默认值：村委会/自然村距道路在此范围内视为通路",
    "snap_tolerance_m": "路网构建：端点相距不超过此距离视为相连",
    "settlement_min_households": "seed 003 村级调查表：20户以上（含）的自然村",
    "settlement_min_width_m": "seed 003 村级调查表：路面宽3.5米以上（含）",
    "settlement_surfaces": "seed 003 村级调查表：砂石路以上（含）",
    "all_season_surfaces": "假设：硬化路和砂石路全年通行（土路不计）",
    "rai_distance_m": "世界银行农村可达性指数（RAI）：全天候道路2公里范围内",
    "rai_population_from": "人口来自自然村人口（缺失时按户数×村户均人口），或农户成员数",
    "cost_yuan_per_km": "宁夏2009-2012年农村公路计划：约52亿元建设8000余公里（约65万元/公里），可按当地招标价调整",
    "link_plan": "network 网络统筹（默认：各连接线一并选择，总长最短）/ one_by_one 逐条选择（原方法）",
    "include_planned": "已完成的道路项目（有线形）总计入路网；选此项时计划和在建项目也计入",
}

ROAD_STATUS = {
    "hardened_joined": "硬化路连通乡镇驻地",
    "hardened_not_joined": "有硬化路但未连通乡镇驻地",
    "hardened_seat_unknown": "有硬化路（乡镇驻地位置不明）",
    "gravel_only": "仅通砂石路",
    "earth_only": "仅通土路",
    "no_road": "范围内无道路",
    "unknown": "无位置，无法量算",
}

VALUES = {"category": VillageCategory.labels(), "nearest_road_surface": RoadSurface.labels(),
          "road_status": ROAD_STATUS, "link_kind": {"village": "行政村", "settlement": "自然村"},
          "plan": {"network": "网络统筹", "one_by_one": "逐条选择（原方法）"}}

COLUMNS = {
    "village_id": "村ID", "village_name": "行政村", "township_name": "乡镇", "category": "村类别",
    "settlement_id": "自然村ID", "settlement_name": "自然村",
    "households": "户数", "population": "人口", "registered_poor_households": "建档立卡户数",
    "distance_to_hardened_road_m": "距硬化路（米）",
    "distance_to_all_season_road_m": "距全天候道路（米）",
    "distance_to_any_road_m": "距任意道路（米）",
    "distance_to_qualifying_road_m": "距达标道路（米）",
    "nearest_road_id": "最近道路ID", "nearest_road_surface": "最近道路路面",
    "nearest_road_width_m": "最近道路路面宽（米）",
    "hardened_road_within_tolerance": "容差内有硬化路",
    "joined_to_seat": "经硬化路连通乡镇驻地", "seat_road_distance_km": "至乡镇驻地硬化路距离（公里）",
    "joined_to_seat_all_season": "经全天候道路连通乡镇驻地",
    "road_status": "通路状况",
    "settlements_20plus": "20户以上自然村数", "settlement_road_gaps": "未达标自然村数",
    "needs_road": "20户以上", "road_gap": "道路未达标",
    "within_rai_distance": "在全天候道路2公里内",
    "rai_population": "计算人口", "rai_population_served": "2公里内人口", "rai_pct": "农村可达性指数（%）",
    "new_link_id": "新建连接线编号", "new_link_km": "新建连接线（公里）",
    "new_link_cost_wan_yuan": "新建连接线造价（万元）",
    "link_id": "连接线编号", "link_kind": "连接对象", "village_names": "受益行政村",
    "villages_served": "受益村数", "households_served": "受益户数", "population_served": "受益人口",
    "registered_poor_households_served": "受益建档立卡户数",
    "length_m": "长度（米）", "length_km": "长度（公里）", "cost_wan_yuan": "造价（万元）",
    "villages": "行政村数", "villages_hardened_within_tolerance": "通硬化路村数",
    "villages_joined_to_seat": "硬化路连通乡镇驻地村数", "villages_not_joined": "未连通乡镇驻地村数",
    "villages_no_road": "无路村数", "new_links": "新建连接线条数",
    "band_distance_m": "范围（米）", "area_km2": "面积（平方公里）",
    "settlement_names": "受益自然村", "joins": "接入", "via_link_id": "接入的规划连接线编号",
    "path_link_ids": "连通驻地须建的连接线", "plan": "方案", "chosen": "本结果采用",
    "reason": "说明",
}
TABLES = {
    "villages": "行政村通路", "settlements": "自然村通路", "links": "待建连接线", "link_plans": "连接线方案对比",
    "townships": "乡镇汇总", "district": "全区汇总", "band": "全天候道路2公里范围",
}
VIEWS = {
    "villages": ("township_name", "village_name", "distance_to_hardened_road_m", "road_status",
                 "seat_road_distance_km", "settlement_road_gaps", "rai_pct", "new_link_km",
                 "new_link_cost_wan_yuan"),
    "settlements": ("township_name", "village_name", "settlement_name", "households",
                    "distance_to_qualifying_road_m", "nearest_road_surface", "nearest_road_width_m",
                    "road_gap", "new_link_km"),
    "links": ("link_id", "link_kind", "township_name", "village_names", "settlement_name",
              "households_served", "length_km", "cost_wan_yuan", "joins"),
    "link_plans": ("plan", "new_links", "length_km", "cost_wan_yuan", "chosen"),
    "townships": ("township_name", "villages", "villages_joined_to_seat", "villages_no_road",
                  "settlements_20plus", "settlement_road_gaps", "rai_pct", "new_links", "new_link_km",
                  "new_link_cost_wan_yuan"),
    "district": ("township_name", "villages", "villages_joined_to_seat", "villages_no_road",
                 "settlements_20plus", "settlement_road_gaps", "rai_pct", "new_links", "new_link_km",
                 "new_link_cost_wan_yuan"),
    "band": ("band_distance_m", "area_km2"),
}

_DISTANCE_COLUMNS = ("distance_to_hardened_road_m", "distance_to_all_season_road_m",
                     "distance_to_any_road_m", "distance_to_qualifying_road_m")


# ------------------------------------------------------------------------------ kernels


def road_distances(
    points: gpd.GeoSeries,
    roads: gpd.GeoDataFrame,
    *,
    all_season_surfaces: Sequence[str] = DEFAULT_ALL_SEASON_SURFACES,
    qualifying_surfaces: Sequence[str] = DEFAULT_SETTLEMENT_SURFACES,
    qualifying_min_width_m: float = DEFAULT_SETTLEMENT_MIN_WIDTH_M,
) -> pd.DataFrame:
    """Distances from points to the nearest road of each kind. Partition-safe.

    Parameters
    ----------
    points
        Points in a metric CRS.
    roads
        Road lines in the same CRS with ``id``, ``surface`` and ``width_m``.
    all_season_surfaces
        Surfaces counted as all-season roads.
    qualifying_surfaces, qualifying_min_width_m
        What counts as a road for a settlement: these surfaces and at least this width [m];
        roads of unknown width do not count.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``distance_to_hardened_road_m``,
        ``distance_to_all_season_road_m``, ``distance_to_any_road_m``,
        ``distance_to_qualifying_road_m`` [m] (NaN: no such road or no point), and the nearest
        road of any kind: ``nearest_road_id``, ``nearest_road_surface``,
        ``nearest_road_width_m`` [m].
    """
    surface = roads["surface"].astype(object).map(lambda s: None if s is None else str(s))
    width = F.as_number(roads["width_m"])
    masks = {
        "distance_to_hardened_road_m": surface == RoadSurface.HARDENED.value,
        "distance_to_all_season_road_m": surface.isin([str(s) for s in all_season_surfaces]),
        "distance_to_any_road_m": pd.Series(True, index=roads.index),
        "distance_to_qualifying_road_m": surface.isin([str(s) for s in qualifying_surfaces])
        & (width >= qualifying_min_width_m),
    }
    out = pd.DataFrame(index=points.index)
    for column, mask in masks.items():
        found = nearest(points, roads.geometry[mask.to_numpy()])
        out[column] = found["distance_m"]
        if column == "distance_to_any_road_m":
            hit = found["target"]
            out["nearest_road_id"] = hit.map(roads["id"]).astype("Int64") if len(roads) else pd.NA
            out["nearest_road_surface"] = hit.map(surface)
            out["nearest_road_width_m"] = hit.map(width).astype(float)
    return out


def seat_connections(
    points: gpd.GeoSeries,
    township_ids: pd.Series,
    network: RoadNetwork | None,
    seats: gpd.GeoSeries,
    *,
    access_tolerance_m: float = DEFAULT_ACCESS_TOLERANCE_M,
    with_distance: bool = True,
) -> pd.DataFrame:
    """Whether each point is joined to its township seat over the (hardened) network.

    A point and a seat are on the network when they lie within ``access_tolerance_m`` of an
    edge; they are joined when those edges are in one connected component.

    Parameters
    ----------
    points
        Village or settlement points in the network's CRS.
    township_ids
        The township of each point (aligned with ``points``).
    network
        Network built from the hardened roads, or None when there are none.
    seats
        Township seat points in the network's CRS, indexed by township id.
    with_distance
        Also compute the network distance from the seat (one shortest-path run per seat).

    Returns
    -------
    pandas.DataFrame
        ``component`` (network component of the point's nearest edge, -1 when off the
        network), ``joined_to_seat`` (nullable boolean: NA when the point has no geometry or
        its seat is not on the network) and ``seat_road_distance_km`` [km] (network distance
        from the seat, NaN when not joined or not computed).
    """
    n = len(points)
    has_point = (points.notna() & ~points.is_empty).to_numpy()
    component = np.full(n, -1, dtype=np.int64)
    joined = np.full(n, np.nan)  # 1 joined, 0 not, NaN unknown
    distance = np.full(n, np.nan)
    if network is None or network.edges.empty:
        joined[has_point] = 0.0
    else:
        labels = network.component_labels()
        edge_u = network.edges["u"].to_numpy()
        located = network.locate(points, max_distance_m=access_tolerance_m)
        component = np.where(located.edge >= 0, labels[edge_u[np.maximum(located.edge, 0)]], -1)
        seat_component = seat_components(network, seats, access_tolerance_m=access_tolerance_m)
        seat_of = township_ids.map(seat_component).to_numpy(dtype=float)
        known_seat = ~np.isnan(seat_of)
        joined[has_point & (component < 0)] = 0.0
        on = has_point & (component >= 0) & known_seat
        joined[on] = (component[on] == seat_of[on]).astype(float)
        if with_distance:
            # every point and seat located once; one bounded shortest-path run per seat
            on_seat = np.flatnonzero(joined == 1.0)
            groups = pd.Series(on_seat).groupby(township_ids.to_numpy()[on_seat], sort=False).indices
            wanted = list(groups)
            seat_at = network.locate(gpd.GeoSeries([seats[t] for t in wanted], crs=seats.crs),
                                     max_distance_m=access_tolerance_m)
            for k, township_id in enumerate(wanted):
                rows = on_seat[groups[township_id]]
                metres = network.distances_between(seat_at.take([k]), located.take(rows))
                distance[rows] = np.where(np.isfinite(metres), metres / 1000.0, np.nan)
    flags = pd.array([pd.NA if np.isnan(j) else bool(j) for j in joined], dtype="boolean")
    return pd.DataFrame({"component": component, "joined_to_seat": flags, "seat_road_distance_km": distance},
                        index=points.index)


def seat_components(network: RoadNetwork, seats: gpd.GeoSeries, *, access_tolerance_m: float) -> dict:
    """Township id -> network component of its seat (seats off the network are left out).

    Kept with the network (keyed by the seats and the tolerance), so the several steps of one
    analysis locate the seats once.
    """
    valid = seats[seats.notna() & ~seats.is_empty]
    if valid.empty or network.edges.empty:
        return {}
    key = ("seat_components", float(access_tolerance_m), str(valid.crs), tuple(valid.index.tolist()),
           shapely.get_coordinates(valid.to_numpy()).tobytes())
    if key not in network._cache:
        located = network.locate(valid, max_distance_m=access_tolerance_m)
        edge_component = network.edge_components()
        network._cache[key] = {tid: int(edge_component[e]) for tid, e in zip(valid.index, located.edge) if e >= 0}
    return dict(network._cache[key])


def rural_access(
    units: pd.DataFrame,
    *,
    rai_distance_m: float = DEFAULT_RAI_DISTANCE_M,
) -> pd.DataFrame:
    """Rural Access Index per village from population units. Partition-safe.

    Parameters
    ----------
    units
        One row per place people live: ``village_id``, ``people`` and
        ``distance_to_all_season_road_m`` [m] (NaN = no road / no position: not served).

    Returns
    -------
    pandas.DataFrame
        Indexed by village id: ``rai_population`` (people counted), ``rai_population_served``
        (people within ``rai_distance_m``) and ``rai_pct`` [%].
    """
    people = F.as_number(units["people"]).fillna(0.0)
    served = people.where(F.as_number(units["distance_to_all_season_road_m"]) <= rai_distance_m, 0.0)
    grouped = pd.DataFrame({"rai_population": people, "rai_population_served": served,
                            "village_id": units["village_id"]}).groupby("village_id").sum()
    grouped["rai_pct"] = F.ratio_pct(grouped["rai_population_served"], grouped["rai_population"])
    return grouped


# ------------------------------------------------------------------------------ links


def _known_sum(values) -> float:
    """Sum of the known numbers (NaN when none is known)."""
    known = [float(v) for v in values if v is not None and v is not pd.NA and not pd.isna(v)]
    return float(sum(known)) if known else np.nan


def new_links(
    network: RoadNetwork | None,
    villages: pd.DataFrame,
    settlements: pd.DataFrame,
    seats: gpd.GeoSeries,
    *,
    access_tolerance_m: float = DEFAULT_ACCESS_TOLERANCE_M,
    settlement_min_width_m: float = DEFAULT_SETTLEMENT_MIN_WIDTH_M,
    cost_yuan_per_km: float = DEFAULT_COST_YUAN_PER_KM,
) -> gpd.GeoDataFrame:
    """The shortest new straight links that join unconnected places to the seat network.

    Villages not joined to their seat are linked from the piece of hardened network they
    stand on (so the villages beyond a break share one link: the break) or, when they stand
    on none, from the village point. Settlement gaps are linked from the settlement point to
    the seat-connected hardened roads at least ``settlement_min_width_m`` wide (any width
    when there are none). Targets are the hardened edges in the component of the place's
    own township seat; when that seat is not on the network, any seat's component; when no
    seat is, the largest component.

    Parameters
    ----------
    network
        Hardened-road network in a metric CRS (None: no links can be drawn).
    villages
        Metric-CRS village rows with ``village_id``, ``village_name``, ``township_id``,
        ``township_name``, ``households``, ``population``, ``registered_poor_households``,
        ``geometry`` and, from :func:`seat_connections`, ``component`` and ``joined_to_seat``.
    settlements
        Metric-CRS settlement rows with ``settlement_id``, ``settlement_name``, ``village_id``,
        ``village_name``, ``township_id``, ``township_name``, ``households``, ``population``,
        ``registered_poor_households``, ``road_gap`` and ``geometry``.
    seats
        Seat points in the network's CRS, indexed by township id.
    cost_yuan_per_km
        Construction cost [yuan/km].

    Returns
    -------
    geopandas.GeoDataFrame
        One row per link (metric CRS): ``link_id``, ``link_kind`` (``village`` or
        ``settlement``), ``township_id``, ``township_name``, ``village_ids`` (list),
        ``village_names``, ``settlement_id``, ``settlement_name``, ``villages_served``,
        ``households_served``, ``population_served``, ``registered_poor_households_served``,
        ``length_m`` [m], ``length_km`` [km], ``cost_wan_yuan`` [万元], ``reason`` and the
        LineString ``geometry``.
    """
    columns = ["link_id", "link_kind", "township_id", "township_name", "village_ids", "village_names",
               "settlement_id", "settlement_name", "villages_served", "households_served",
               "population_served", "registered_poor_households_served", "length_m", "length_km",
               "cost_wan_yuan", "reason"]
    crs = network.crs if network is not None else None
    if network is None or network.edges.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    edges = network.edges
    edge_geoms = edges.geometry.to_numpy()
    edge_component = network.edge_components()
    seat_of = seat_components(network, seats, access_tolerance_m=access_tolerance_m)
    all_seats = frozenset(seat_of.values())
    lengths = pd.Series(edges["length_m"].to_numpy()).groupby(edge_component).sum()
    largest = frozenset([int(lengths.idxmax())])
    width = F.as_number(edges["width_m"]) if "width_m" in edges else pd.Series(np.nan, index=edges.index)
    wide = (width >= settlement_min_width_m).to_numpy()
    # one spatial index per target set of seats (a seat's component, all seats' components, the
    # largest) and per component a place's own links join, each built once
    trees: dict = {}

    def targets(township_id) -> tuple[frozenset, str]:
        if township_id in seat_of:
            return frozenset([seat_of[township_id]]), "本乡镇驻地连通的硬化路网"
        if all_seats:
            return all_seats, "乡镇驻地不在路网上，接入其他乡镇驻地连通的硬化路网"
        return largest, "无乡镇驻地位置，接入最大的硬化路网"

    def index(components: frozenset, wide_only: bool):
        key = (components, wide_only)
        if key not in trees:
            chosen = np.sort(np.concatenate([network.component_edges(c) for c in components]))
            if wide_only:
                chosen = chosen[wide[chosen]]
            geoms = edge_geoms[chosen]
            trees[key] = (shapely.STRtree(geoms), geoms) if len(geoms) else None
        return trees[key]

    def shortest(sources: list, indexes: list):
        src = np.array(sources, dtype=object)
        best = None
        for found in indexes:
            if found is None:
                continue
            tree, geoms = found
            (i, j), dist = tree.query_nearest(src, return_distance=True, all_matches=False)
            k = int(np.argmin(dist))
            if best is None or dist[k] < best[0]:
                best = (float(dist[k]), src[i[k]], geoms[j[k]])
        if best is None:
            return None, None
        line = shapely.shortest_line(best[1], best[2])
        return (line if best[0] > 0 else LineString([line.coords[0], line.coords[0]])), best[0]

    records: list[dict] = []
    geoms_out: list = []

    def add(kind, township_id, township_name, served: dict, line, length: float, why: str):
        records.append({
            "link_kind": kind, "township_id": township_id, "township_name": township_name, **served,
            "length_m": length, "length_km": length / 1000.0,
            "cost_wan_yuan": length / 1000.0 * cost_yuan_per_km / 10_000.0,
            "reason": why,
        })
        geoms_out.append(line)

    total = _known_sum

    def served_by(rows: pd.DataFrame) -> dict:
        return {"village_ids": [int(v) for v in rows["village_id"]],
                "village_names": F.join_names(rows["village_name"]), "settlement_id": None, "settlement_name": None,
                "villages_served": int(rows["village_id"].nunique()),
                "households_served": total(rows["households"]), "population_served": total(rows["population"]),
                "registered_poor_households_served": total(rows["registered_poor_households"])}

    cut_off = villages[(villages["joined_to_seat"] == False) & villages.geometry.notna()  # noqa: E712
                       & ~villages.geometry.is_empty]
    linked_components: dict = {}  # township id -> components the village links will join
    for (township_id, component), group in cut_off.groupby(["township_id", "component"], sort=True, dropna=False):
        components, target_text = targets(township_id)
        township_name = group["township_name"].iloc[0]
        if component >= 0:
            linked_components.setdefault(township_id, set()).add(int(component))
            chunks = [(group, list(edge_geoms[network.component_edges(component)]) + list(group.geometry),
                       f"所在硬化路段与乡镇驻地不连通，连接到{target_text}")]
        else:
            chunks = [(group.iloc[[k]], [geom], f"{access_tolerance_m:g}米内无硬化路，连接到{target_text}")
                      for k, geom in enumerate(group.geometry)]
        for rows, sources, why in chunks:
            line, length = shortest(sources, [index(components, False)])
            if line is not None:
                add("village", township_id, township_name, served_by(rows), line, length, why)
    planned = pd.Series(geoms_out, index=[r["township_id"] for r in records], dtype=object)
    planned_by_town = {t: group.to_numpy() for t, group in planned.groupby(level=0, sort=False)}

    # settlements join the network as it will be once the village links are built
    gaps = settlements[(settlements["road_gap"] == True) & settlements.geometry.notna()  # noqa: E712
                       & ~settlements.geometry.is_empty]
    for township_id, group in gaps.groupby("township_id", sort=True):
        components, target_text = targets(township_id)
        linked = [frozenset([c]) for c in sorted(linked_components.get(township_id, ())) if c not in components]
        mine = planned_by_town.get(township_id, np.empty(0, dtype=object))
        planned_index = (shapely.STRtree(mine), mine) if len(mine) else None
        wide_only = any(index(c, True) is not None for c in [components, *linked])
        network_indexes = [index(c, wide_only) for c in [components, *linked]]
        why = f"连接到{target_text}中{settlement_min_width_m:g}米以上的路段或规划连接线"
        if not wide_only:
            why = f"连接到{target_text}（其中无{settlement_min_width_m:g}米以上路段）或规划连接线"
        columns_of = {c: group[c].to_numpy(dtype=object) for c in (
            "settlement_id", "settlement_name", "village_id", "village_name", "township_name", "households",
            "population", "registered_poor_households")}
        for k, geometry in enumerate(group.geometry.to_numpy()):
            line, length = shortest([geometry], [*network_indexes, planned_index])
            if line is None:
                continue
            served = {"village_ids": [int(columns_of["village_id"][k])],
                      "village_names": columns_of["village_name"][k],
                      "settlement_id": int(columns_of["settlement_id"][k]),
                      "settlement_name": columns_of["settlement_name"][k], "villages_served": 1,
                      "households_served": total([columns_of["households"][k]]),
                      "population_served": total([columns_of["population"][k]]),
                      "registered_poor_households_served": total([columns_of["registered_poor_households"][k]])}
            add("settlement", township_id, columns_of["township_name"][k], served, line, length, why)

    frame = pd.DataFrame.from_records(records, columns=columns[1:])
    frame.insert(0, "link_id", np.arange(1, len(frame) + 1, dtype=np.int64))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms_out, crs=crs), crs=crs)


# ------------------------------------------------------------------------------ the network plan

LinkPlan = Literal["network", "one_by_one"]
LINK_PLANS: tuple[str, ...] = ("network", "one_by_one")

_PLAN_COLUMNS = ["link_id", "link_kind", "township_id", "township_name", "village_ids", "village_names",
                 "settlement_id", "settlement_name", "settlement_ids", "settlement_names", "villages_served",
                 "households_served", "population_served", "registered_poor_households_served", "joins",
                 "via_link_id", "path_link_ids", "length_m", "length_km", "cost_wan_yuan", "reason"]


class _Terminal:
    """A place to join to the seat network: a cut-off piece of hardened road with the villages
    on it, a village standing on no road, or a settlement gap."""

    __slots__ = ("kind", "point", "settlement_rows", "source", "target_all", "target_wide", "township_id",
                 "township_name", "village_rows", "why")

    def __init__(self, kind, source, target_all, target_wide, point, township_id, township_name, why,
                 village_rows=None, settlement_rows=None):
        self.kind, self.source, self.point = kind, source, point
        self.target_all, self.target_wide = target_all, target_wide
        self.township_id, self.township_name, self.why = township_id, township_name, why
        self.village_rows = village_rows if village_rows is not None else []
        self.settlement_rows = settlement_rows if settlement_rows is not None else []


def plan_links(
    network: RoadNetwork | None,
    villages: pd.DataFrame,
    settlements: pd.DataFrame,
    seats: gpd.GeoSeries,
    *,
    township_names: dict | None = None,
    access_tolerance_m: float = DEFAULT_ACCESS_TOLERANCE_M,
    settlement_min_width_m: float = DEFAULT_SETTLEMENT_MIN_WIDTH_M,
    cost_yuan_per_km: float = DEFAULT_COST_YUAN_PER_KM,
) -> gpd.GeoDataFrame:
    """New straight links chosen together, as one network, to join every cut-off village and
    settlement gap to a seat-connected hardened network at the least total length.

    The candidates of each place are every seat-connected hardened network (its own
    township's and its neighbours'), every link already planned and every cut-off piece of
    road already joined by a planned link. The plan grows like Prim's minimum spanning tree
    over those candidates, measured to the nearest *point* of each (so a link may join the
    middle of a planned one: a Steiner point): the place nearest to the network as planned so
    far is joined first, and every remaining place's distance is re-evaluated against the new
    link. A village or settlement within ``access_tolerance_m`` of a planned link shares it
    (no link of its own). A last pass re-joins each link to anything nearer that is not
    downstream of it, so no link is longer than the distance from its place to the nearest
    seat-connected hardened road or other planned link it could join.

    Villages beyond a break of the hardened network share one link from the broken piece.
    Settlements join hardened roads at least ``settlement_min_width_m`` wide (any width when
    there are none) or planned links (built to standard).

    Parameters
    ----------
    network, villages, settlements, seats, access_tolerance_m, settlement_min_width_m, cost_yuan_per_km
        As for :func:`new_links`.
    township_names
        Township id -> name, to say whose seat network a link joins.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`new_links`, plus ``settlement_ids`` / ``settlement_names`` (every settlement
        the link serves, sharers included), ``joins`` (what the link joins, in Chinese),
        ``via_link_id`` (the planned link it joins, NA when it joins the road network) and
        ``path_link_ids`` (this link and every planned link between it and the seat network:
        what must be built for the places it serves to reach their seat).
    """
    crs = network.crs if network is not None else None
    empty = gpd.GeoDataFrame({c: [] for c in _PLAN_COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if network is None or network.edges.empty:
        return empty
    names = township_names or {}
    edges = network.edges
    edge_geoms = edges.geometry.to_numpy()
    edge_component = network.edge_components()
    seat_of = seat_components(network, seats, access_tolerance_m=access_tolerance_m)
    seat_towns: dict[int, list] = {}
    for township_id, component in seat_of.items():
        seat_towns.setdefault(component, []).append(township_id)
    if seat_towns:
        root = np.isin(edge_component, list(seat_towns))
    else:
        lengths = pd.Series(edges["length_m"].to_numpy()).groupby(edge_component).sum()
        root = edge_component == int(lengths.idxmax())
    width = F.as_number(edges["width_m"]) if "width_m" in edges else pd.Series(np.nan, index=edges.index)
    wide = (width >= settlement_min_width_m).to_numpy()
    root_all = np.flatnonzero(root)
    root_wide = np.flatnonzero(root & wide)
    wide_text = f"{settlement_min_width_m:g}米以上路段"
    if len(root_wide) == 0:
        root_wide, wide_text = root_all, f"路段（其中无{settlement_min_width_m:g}米以上路段）"

    def root_text(edge: int, township_id) -> str:
        towns = seat_towns.get(int(edge_component[edge]))
        if not towns:
            return "最大的硬化路网（无乡镇驻地在路网上）"
        if township_id in towns:
            return "本乡镇驻地连通的硬化路网"
        return f"{F.join_names(names.get(t, t) for t in towns)}驻地连通的硬化路网"

    terminals = _plan_terminals(villages, settlements, network, wide, access_tolerance_m)
    n = len(terminals)
    if n == 0:
        return empty
    is_settlement = np.array([t.kind == "settlement" for t in terminals])
    sources = np.array([t.source for t in terminals], dtype=object)
    bounds = shapely.bounds(sources)

    # distance of every place to the seat network, by one nearest query per target set
    best = np.full(n, np.inf)
    target: list = [None] * n  # ("root", edge) / ("link", link number) / ("piece", terminal)
    for mask, chosen in ((~is_settlement, root_all), (is_settlement, root_wide)):
        rows = np.flatnonzero(mask)
        if len(rows) and len(chosen):
            tree = shapely.STRtree(edge_geoms[chosen])
            (i, j), dist = tree.query_nearest(sources[rows], return_distance=True, all_matches=False)
            for r, e, d in zip(rows[i], chosen[j], dist):
                if d < best[r]:
                    best[r], target[r] = float(d), ("root", int(e))

    lines: list = []  # planned link geometries, by link number
    owner: list[int] = []  # terminal of each link
    link_of = np.full(n, -1)  # link number that joined each terminal (shared: the link it shares)
    via: list = []  # link number each link joins, or None
    joins: list[str] = []
    done = np.zeros(n, dtype=bool)

    def target_geometry(ref, for_settlement: bool):
        kind, k = ref
        if kind == "root":
            return edge_geoms[k]
        if kind == "link":
            return lines[k]
        piece = terminals[k]
        return piece.target_wide if for_settlement else piece.target_all

    def consider(geom, ref, for_settlement: bool | None) -> None:
        """Re-evaluate the places not yet joined against one new target."""
        if geom is None or geom.is_empty:
            return
        b = geom.bounds
        dx = np.maximum(0.0, np.maximum(b[0] - bounds[:, 2], bounds[:, 0] - b[2]))
        dy = np.maximum(0.0, np.maximum(b[1] - bounds[:, 3], bounds[:, 1] - b[3]))
        open_ = ~done & (np.hypot(dx, dy) < best)
        if for_settlement is not None:
            open_ &= is_settlement == for_settlement
        rows = np.flatnonzero(open_)
        if len(rows) == 0:
            return
        dist = shapely.distance(sources[rows], geom)
        better = dist < best[rows]
        for r, d in zip(rows[better], dist[better]):
            best[r], target[r] = float(d), ref

    while True:
        candidates = np.where(done, np.inf, best)
        i = int(np.argmin(candidates))
        if not np.isfinite(candidates[i]):
            break
        done[i] = True
        term, ref = terminals[i], target[i]
        upstream = None if ref[0] == "root" else (ref[1] if ref[0] == "link" else int(link_of[ref[1]]))
        if term.point and ref[0] != "root" and best[i] <= access_tolerance_m:
            link_of[i] = upstream  # within reach of a planned link: shares it
            continue
        geom = target_geometry(ref, term.kind == "settlement")
        line = shapely.shortest_line(term.source, geom)
        if best[i] <= 0:
            line = LineString([line.coords[0], line.coords[0]])
        k = len(lines)
        lines.append(line)
        owner.append(i)
        via.append(upstream)
        joins.append(root_text(ref[1], term.township_id) if ref[0] == "root" else "规划连接线")
        link_of[i] = k
        consider(line, ("link", k), None)
        if term.kind == "piece":
            consider(term.target_all, ("piece", i), False)
            consider(term.target_wide, ("piece", i), True)

    _improve_plan(terminals, sources, lines, owner, via, joins, link_of, edge_geoms, root_all, root_wide,
                  root_text, is_settlement)
    return _plan_frame(terminals, lines, owner, via, joins, link_of, crs, cost_yuan_per_km, wide_text,
                       access_tolerance_m)


_PLACE_COLUMNS = ("village_id", "village_name", "township_id", "township_name", "households", "population",
                  "registered_poor_households")


def _plan_terminals(villages, settlements, network, wide, tolerance_m) -> list[_Terminal]:
    """The places a plan must join: cut-off pieces with their villages, villages on no road,
    settlement gaps."""
    out: list[_Terminal] = []
    edge_geoms = network.edges.geometry.to_numpy()
    cut_off = villages[(villages["joined_to_seat"] == False) & villages.geometry.notna()
                       & ~villages.geometry.is_empty]
    records = cut_off[list(_PLACE_COLUMNS)].to_dict("records")
    points = cut_off.geometry.to_numpy()
    components = cut_off["component"].to_numpy()
    for component in sorted(set(components.tolist())):
        at = np.flatnonzero(components == component)
        rows = [records[k] for k in at]
        if component >= 0:
            mine = network.component_edges(component)
            wide_edges = list(edge_geoms[mine[wide[mine]]])
            towns = pd.Series([r["township_id"] for r in rows])
            town = towns.mode().iloc[0]
            name = next(r["township_name"] for r in rows if r["township_id"] == town)
            out.append(_Terminal("piece", shapely.GeometryCollection([*edge_geoms[mine], *points[at]]),
                                 shapely.MultiLineString(list(edge_geoms[mine])),
                                 shapely.MultiLineString(wide_edges) if wide_edges else None, False, town, name,
                                 "所在硬化路段与乡镇驻地不连通", village_rows=rows))
        else:
            for k, row in zip(at, rows):
                out.append(_Terminal("village", points[k], None, None, True, row["township_id"],
                                     row["township_name"], f"{tolerance_m:g}米内无硬化路", village_rows=[row]))
    gaps = settlements[(settlements["road_gap"] == True) & settlements.geometry.notna()
                       & ~settlements.geometry.is_empty]
    columns = ["settlement_id", "settlement_name", *_PLACE_COLUMNS]
    for row, geometry in zip(gaps[columns].to_dict("records"), gaps.geometry.to_numpy()):
        out.append(_Terminal("settlement", geometry, None, None, True, row["township_id"], row["township_name"],
                             "20户以上自然村无达标道路", settlement_rows=[row]))
    return out


def _upstream_of(via: list, m: int) -> set:
    """Link ``m`` and every planned link it reaches the network through."""
    chain, step = set(), m
    while step is not None and step not in chain:
        chain.add(step)
        step = via[step]
    return chain


def _improve_plan(terminals, sources, lines, owner, via, joins, link_of, edge_geoms, root_all, root_wide,
                  root_text, is_settlement, *, passes: int = 3) -> None:
    """Re-join each link to the nearest thing it could join that is not downstream of it
    (the seat network, another planned link, a piece another link joins), in place."""
    if not lines:
        return
    roots = {False: (shapely.STRtree(edge_geoms[root_all]), root_all) if len(root_all) else None,
             True: (shapely.STRtree(edge_geoms[root_wide]), root_wide) if len(root_wide) else None}
    pieces = [(int(link_of[t]), t) for t, term in enumerate(terminals) if term.kind == "piece" and link_of[t] >= 0]
    for _ in range(passes):
        # what a link may join, per kind of place: planned links, and pieces joined by one
        refs, trees = {}, {}
        for settlement in (False, True):
            geoms = list(lines)
            kinds = [("link", m) for m in range(len(lines))]
            for m, t in pieces:
                geom = terminals[t].target_wide if settlement else terminals[t].target_all
                if geom is not None:
                    geoms.append(geom)
                    kinds.append(("piece", t))
            refs[settlement], trees[settlement] = kinds, shapely.STRtree(geoms)
        changed = False
        for k, i in enumerate(owner):
            term, settlement = terminals[i], bool(is_settlement[i])
            length = float(lines[k].length)
            if length <= 0.5:
                continue
            best, choice = length - 0.5, None
            found = roots[settlement]
            if found is not None:
                tree, chosen = found
                (_, j), dist = tree.query_nearest([sources[i]], return_distance=True, all_matches=False)
                if dist[0] < best:
                    best, choice = float(dist[0]), ("root", int(chosen[j[0]]))
            for position in trees[settlement].query(sources[i], predicate="dwithin", distance=best):
                ref = refs[settlement][position]
                link = ref[1] if ref[0] == "link" else int(link_of[ref[1]])
                if k in _upstream_of(via, link):
                    continue  # downstream of this link: joining it would make a loop
                geom = lines[ref[1]] if ref[0] == "link" else (
                    terminals[ref[1]].target_wide if settlement else terminals[ref[1]].target_all)
                distance = float(shapely.distance(sources[i], geom))
                if distance < best:
                    best, choice = distance, ref
            if choice is None:
                continue
            geom = (edge_geoms[choice[1]] if choice[0] == "root" else lines[choice[1]] if choice[0] == "link"
                    else (terminals[choice[1]].target_wide if settlement else terminals[choice[1]].target_all))
            lines[k] = shapely.shortest_line(term.source, geom)
            via[k] = None if choice[0] == "root" else (choice[1] if choice[0] == "link" else int(link_of[choice[1]]))
            joins[k] = root_text(choice[1], term.township_id) if choice[0] == "root" else "规划连接线"
            changed = True
        if not changed:
            return


def _plan_frame(terminals, lines, owner, via, joins, link_of, crs, cost_yuan_per_km, wide_text, tolerance_m
                ) -> gpd.GeoDataFrame:
    """The plan's links as rows (see :func:`plan_links`)."""
    sharers: dict[int, list[int]] = {}
    owned = set(owner)
    for t, k in enumerate(link_of):
        if k >= 0 and t not in owned:
            sharers.setdefault(int(k), []).append(t)

    total = _known_sum

    records = []
    for k, i in enumerate(owner):
        term = terminals[i]
        group = [term] + [terminals[t] for t in sharers.get(k, [])]
        v_rows = [r for g in group for r in g.village_rows]
        s_rows = [r for g in group for r in g.settlement_rows]
        village_names = list(dict.fromkeys([r["village_name"] for r in v_rows] + [r["village_name"] for r in s_rows]))
        path, step = [], k
        while step is not None:
            path.append(step + 1)
            step = via[step]
        upstream = via[k]
        target = f"规划连接线{upstream + 1}号" if upstream is not None else joins[k]
        if term.kind == "settlement" and upstream is None:
            target += f"的{wide_text}"
        shared = len(group) - 1
        why = f"{term.why}，连接到{target}" + (f"；另有{shared}处在其{tolerance_m:g}米内，共用此线" if shared else "")
        length = float(lines[k].length)
        first = term.settlement_rows[0] if term.settlement_rows else None
        records.append({
            "link_id": k + 1, "link_kind": "settlement" if term.kind == "settlement" else "village",
            "township_id": term.township_id, "township_name": term.township_name,
            "village_ids": [int(r["village_id"]) for r in v_rows], "village_names": F.join_names(village_names),
            "settlement_id": None if first is None else int(first["settlement_id"]),
            "settlement_name": None if first is None else first["settlement_name"],
            "settlement_ids": [int(r["settlement_id"]) for r in s_rows],
            "settlement_names": F.join_names(r["settlement_name"] for r in s_rows) or None,
            "villages_served": len(village_names),
            "households_served": total([r["households"] for r in v_rows + s_rows]),
            "population_served": total([r["population"] for r in v_rows + s_rows]),
            "registered_poor_households_served": total([r["registered_poor_households"] for r in v_rows + s_rows]),
            "joins": target, "via_link_id": None if upstream is None else upstream + 1, "path_link_ids": path,
            "length_m": length, "length_km": length / 1000.0,
            "cost_wan_yuan": length / 1000.0 * cost_yuan_per_km / 10_000.0, "reason": why,
        })
    frame = pd.DataFrame.from_records(records, columns=_PLAN_COLUMNS)
    frame["via_link_id"] = frame["via_link_id"].astype("Int64")
    frame["settlement_id"] = frame["settlement_id"].astype("Int64")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(lines, crs=crs), crs=crs)


# ------------------------------------------------------------------------------ the analysis


def analyze_roads(
    villages: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    *,
    households: gpd.GeoDataFrame | None = None,
    access_tolerance_m: float = DEFAULT_ACCESS_TOLERANCE_M,
    snap_tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    settlement_min_households: int = DEFAULT_SETTLEMENT_MIN_HOUSEHOLDS,
    settlement_min_width_m: float = DEFAULT_SETTLEMENT_MIN_WIDTH_M,
    settlement_surfaces: Sequence[str] = DEFAULT_SETTLEMENT_SURFACES,
    all_season_surfaces: Sequence[str] = DEFAULT_ALL_SEASON_SURFACES,
    rai_distance_m: float = DEFAULT_RAI_DISTANCE_M,
    rai_population_from: Literal["settlements", "households"] = "settlements",
    cost_yuan_per_km: float = DEFAULT_COST_YUAN_PER_KM,
    link_plan: LinkPlan = "network",
    projects: gpd.GeoDataFrame | None = None,
    include_planned: bool = False,
    band: bool = False,
) -> AnalysisResult:
    """Road access of every village and settlement, the RAI, and the links still to build.

    Parameters
    ----------
    villages
        ``villages`` layer: ``id``, ``name``, ``township_id``, ``category``, ``households``,
        ``population``, ``registered_poor_households``, Point geometry (EPSG:4326).
    settlements
        ``settlements`` layer: ``id``, ``village_id``, ``name``, ``households``,
        ``population``, Point geometry.
    roads
        ``roads`` layer: ``id``, ``surface``, ``width_m``, line geometry. May be empty.
    townships
        ``townships`` layer: ``id``, ``name``, area geometry and the ``seat`` point column.
    households
        Optional ``households`` layer (``village_id``, ``settlement_id``, ``status``,
        ``members``, geometry): counts registered-poor households per settlement and, with
        ``rai_population_from='households'``, places people.
    access_tolerance_m
        A place within this distance of a road is on it [m].
    snap_tolerance_m
        Road endpoints within this distance are joined in the network [m].
    settlement_min_households
        Settlements with at least this many households need a road [households].
    settlement_min_width_m
        Minimum surface width of such a road [m].
    settlement_surfaces
        Surfaces that count for such a road (gravel or better).
    all_season_surfaces
        Surfaces counted as all-season for the RAI.
    rai_distance_m
        RAI distance [m].
    rai_population_from
        ``settlements``: settlement population (households × the village's mean household
        size when missing; the village point and population for villages without
        settlements); ``households``: members of household records at their points (or their
        settlement's / village's point).
    cost_yuan_per_km
        Cost of a new link [yuan/km].
    link_plan
        ``network``: the links chosen together (:func:`plan_links`); ``one_by_one``: each
        place's shortest link to its own seat's network, chosen alone (:func:`new_links`).
        Both are computed; the ``link_plans`` table compares them.
    projects
        Optional ``projects`` layer: completed road projects with a line join the hardened
        network (see :mod:`geo.analysis.projects`).
    include_planned
        Also count planned and building road projects.
    band
        Also return the all-season-road band (``rai_distance_m`` buffer) as a polygon, for
        maps. Off by default: the union of the buffers is the costliest step at county scale.

    Returns
    -------
    AnalysisResult
        Tables (geometry in EPSG:4326; distances measured in ``result.crs``):

        ``villages``
            ``village_id``, ``village_name``, ``township_name``, ``category``, ``households``,
            ``population``, ``registered_poor_households``, ``distance_to_hardened_road_m``,
            ``distance_to_all_season_road_m``, ``distance_to_any_road_m``,
            ``distance_to_qualifying_road_m`` [m], ``nearest_road_id``,
            ``nearest_road_surface``, ``nearest_road_width_m`` [m],
            ``hardened_road_within_tolerance`` (bool), ``joined_to_seat`` (bool, NA when the
            seat is not on the network or the village has no point),
            ``seat_road_distance_km`` [km] (along hardened roads from the seat),
            ``joined_to_seat_all_season`` (the same over all-season roads: a gravel road may
            reach the seat where no hardened one does),
            ``road_status`` (one of :data:`ROAD_STATUS`), ``settlements_20plus``,
            ``settlement_road_gaps``, ``rai_population``, ``rai_population_served`` [people],
            ``rai_pct`` [%], ``new_link_id``, ``new_link_km`` [km],
            ``new_link_cost_wan_yuan`` [万元], ``reason``; Point geometry.
        ``settlements``
            ``settlement_id``, ``settlement_name``, ``village_id``, ``village_name``,
            ``township_name``, ``households``, ``population``,
            ``registered_poor_households`` (from household records), the four distances and
            nearest-road columns as above, ``needs_road`` (households ≥ the minimum; NA when
            unknown), ``road_gap`` (needs a road and has no qualifying one within the
            tolerance), ``joined_to_seat``, ``within_rai_distance``, ``new_link_id``,
            ``new_link_km``, ``new_link_cost_wan_yuan``, ``reason``; Point geometry.
        ``links``
            See :func:`plan_links` / :func:`new_links` (without the internal id columns);
            LineString geometry.
        ``link_plans``
            Both plans side by side: ``plan``, ``new_links`` [count], ``length_km`` [km],
            ``cost_wan_yuan`` [万元], ``chosen`` (the one in ``links``).
        ``townships``
            ``township_name``, ``villages``, ``villages_hardened_within_tolerance``,
            ``villages_joined_to_seat``, ``villages_not_joined``, ``villages_no_road``,
            ``settlements_20plus``, ``settlement_road_gaps``, ``rai_population``,
            ``rai_population_served``, ``rai_pct`` [%], ``new_links``, ``new_link_km`` [km],
            ``new_link_cost_wan_yuan`` [万元]; township area geometry.
        ``district``
            The same figures for all the villages given (``township_name`` = 全区).
        ``band``
            ``band_distance_m`` [m], ``area_km2`` [km²] and the band polygon (only with
            ``band=True``).

    Raises
    ------
    ValidationError
        Missing columns, frames not in EPSG:4326, or a negative tolerance.
    """
    for name, value in (("access_tolerance_m", access_tolerance_m), ("snap_tolerance_m", snap_tolerance_m),
                        ("rai_distance_m", rai_distance_m), ("cost_yuan_per_km", cost_yuan_per_km)):
        if value is None or value < 0:
            raise ValidationError(f"{name} must be a number >= 0, not {value!r}")
    if rai_population_from not in ("settlements", "households"):
        raise ValidationError(f"rai_population_from must be 'settlements' or 'households', not {rai_population_from!r}")
    F.require(settlements, "settlements", ["id", "village_id", "name", "households", "population"])
    F.require(roads, "roads", ["id", "surface", "width_m"])
    F.require(townships, "townships", ["id", "name"])
    v = F.village_frame(villages, townships)
    notes: list[str] = []
    built = project_roads(projects, include_planned=include_planned)
    if built is not None:
        roads = with_projects(roads, built)
        notes.append(f"{len(built)}条{'已完成及计划/在建' if include_planned else '已完成'}的道路项目（有线形）"
                     "按硬化路并入路网（路面宽未知）")
    crs = choose_metric_crs(villages, settlements, roads)
    if crs is None:
        notes.append("行政村、自然村和道路都没有位置，无法量算距离")

    v_m = to_metric(v, crs)
    s_m = F.settlement_frame(to_metric(settlements, crs), v_m, households)
    r_m = to_metric(roads, crs).reset_index(drop=True)
    r_m = r_m[r_m.geometry.notna() & ~r_m.geometry.is_empty].reset_index(drop=True)
    seats = _seats(townships, crs)
    if r_m.empty:
        notes.append("道路图层为空：所有行政村和自然村都按无路计，无法给出连接线")

    kernel = {"all_season_surfaces": all_season_surfaces, "qualifying_surfaces": settlement_surfaces,
              "qualifying_min_width_m": settlement_min_width_m}
    v_m = v_m.join(road_distances(v_m.geometry, r_m, **kernel))
    s_m = s_m.join(road_distances(s_m.geometry, r_m, **kernel))

    hardened = r_m[r_m["surface"].astype(str) == RoadSurface.HARDENED.value]
    network = (build_network(hardened, crs=crs, snap_tolerance_m=snap_tolerance_m, keep=("surface", "width_m"))
               if not hardened.empty else None)
    notes += _seat_notes(v, townships, seats, network, access_tolerance_m)
    v_m = v_m.join(seat_connections(v_m.geometry, v_m["township_id"], network, seats,
                                    access_tolerance_m=access_tolerance_m))
    all_season = r_m[r_m["surface"].astype(str).isin([str(x) for x in all_season_surfaces])]
    all_season_network = (build_network(all_season, crs=crs, snap_tolerance_m=snap_tolerance_m, keep=("surface",))
                          if not all_season.empty else None)
    by_all_season = seat_connections(v_m.geometry, v_m["township_id"], all_season_network, seats,
                                     access_tolerance_m=access_tolerance_m, with_distance=False)
    v_m["joined_to_seat_all_season"] = by_all_season["joined_to_seat"]
    s_m = s_m.join(seat_connections(s_m.geometry, s_m["township_id"], network, seats,
                                    access_tolerance_m=access_tolerance_m, with_distance=False)[["joined_to_seat"]])

    s_m = _settlement_gaps(s_m, min_households=settlement_min_households, tolerance_m=access_tolerance_m,
                           rai_distance_m=rai_distance_m)

    if link_plan not in LINK_PLANS:
        raise ValidationError(f"link_plan must be one of {', '.join(LINK_PLANS)}, not {link_plan!r}")
    link_options = {"access_tolerance_m": access_tolerance_m, "settlement_min_width_m": settlement_min_width_m,
                    "cost_yuan_per_km": cost_yuan_per_km}
    planned = plan_links(network, v_m, s_m, seats, township_names=F.names_of(townships), **link_options)
    one_by_one = new_links(network, v_m, s_m, seats, **link_options)
    links = planned if link_plan == "network" else one_by_one
    comparison = _plan_comparison(planned, one_by_one, link_plan)
    notes.append(_plan_note(comparison, link_plan))
    v_m = _attach_links(v_m, links, "village")
    s_m = _attach_links(s_m, links, "settlement")

    units = _population_units(v_m, s_m, households, crs, rai_population_from, r_m, kernel)
    rai = rural_access(units, rai_distance_m=rai_distance_m)
    v_m = v_m.join(rai, on="village_id")
    if rai_population_from == "households":
        notes.append("RAI人口按农户记录的成员数计算（仅包含已登记的农户）")

    v_m["hardened_road_within_tolerance"] = F.as_number(v_m["distance_to_hardened_road_m"]) <= access_tolerance_m
    v_m["road_status"] = _village_status(v_m, access_tolerance_m)
    per_village = pd.DataFrame({
        "village_id": s_m["village_id"].to_numpy(),
        "settlements_20plus": s_m["needs_road"].fillna(False).to_numpy(dtype=int),
        "settlement_road_gaps": s_m["road_gap"].fillna(False).to_numpy(dtype=int),
    }).groupby("village_id").sum()
    v_m = v_m.join(per_village, on="village_id")
    for column in ("settlements_20plus", "settlement_road_gaps"):
        v_m[column] = v_m[column].fillna(0).astype(int)
    v_m["reason"] = [_village_reason(row, access_tolerance_m, snap_tolerance_m) for row in v_m.itertuples()]
    s_m["reason"] = [_settlement_reason(row, access_tolerance_m, settlement_min_households, settlement_min_width_m)
                     for row in s_m.itertuples()]

    village_columns = ["village_id", "village_name", "township_name", "category", "households", "population",
                       "registered_poor_households", *_DISTANCE_COLUMNS, "nearest_road_id",
                       "nearest_road_surface", "nearest_road_width_m", "hardened_road_within_tolerance",
                       "joined_to_seat", "seat_road_distance_km", "joined_to_seat_all_season",
                       "road_status", "settlements_20plus",
                       "settlement_road_gaps", "rai_population", "rai_population_served", "rai_pct",
                       "new_link_id", "new_link_km", "new_link_cost_wan_yuan", "reason"]
    if "category" not in v_m:
        v_m["category"] = None
    settlement_columns = ["settlement_id", "settlement_name", "village_id", "village_name", "township_name",
                          "households", "population", "registered_poor_households", *_DISTANCE_COLUMNS,
                          "nearest_road_id", "nearest_road_surface", "nearest_road_width_m", "needs_road",
                          "road_gap", "joined_to_seat", "within_rai_distance", "new_link_id", "new_link_km",
                          "new_link_cost_wan_yuan", "reason"]
    tables: dict[str, pd.DataFrame] = {
        "villages": F.geoframe(v_m[village_columns], v_m.geometry, crs=crs),
        "settlements": F.geoframe(s_m[settlement_columns], s_m.geometry, crs=crs),
        "links": F.geoframe(links.drop(columns=[c for c in ("township_id", "village_ids", "settlement_ids")
                                                if c in links]), links.geometry, crs=crs),
    }
    tables["townships"], tables["district"] = _summaries(tables["villages"], tables["settlements"], links, townships)
    tables["link_plans"] = comparison
    if band:
        tables["band"] = _band(r_m, crs, all_season_surfaces, rai_distance_m)
    thresholds = tuple(Threshold(name, _THRESHOLD_LABELS[name], value, SOURCES[name]) for name, value in (
        ("access_tolerance_m", access_tolerance_m), ("snap_tolerance_m", snap_tolerance_m),
        ("settlement_min_households", settlement_min_households),
        ("settlement_min_width_m", settlement_min_width_m),
        ("settlement_surfaces", tuple(settlement_surfaces)), ("all_season_surfaces", tuple(all_season_surfaces)),
        ("rai_distance_m", rai_distance_m), ("rai_population_from", rai_population_from),
        ("cost_yuan_per_km", cost_yuan_per_km), ("link_plan", link_plan), ("include_planned", include_planned)))
    notes.insert(0, f"全天候道路按{'、'.join(F.label_of(RoadSurface, s) or s for s in all_season_surfaces)}计（假设）；"
                    f"路网端点吸附容差{snap_tolerance_m:g}米；距离在{crs_name(crs)}中量算")
    return AnalysisResult(
        name="roads", title="道路通达分析", tables=tables, crs=crs_name(crs), thresholds=thresholds,
        notes=tuple(notes), labels=COLUMNS, titles=TABLES, views=VIEWS, values=VALUES,
    )


_THRESHOLD_LABELS = {
    "access_tolerance_m": "通路判定距离（米）", "snap_tolerance_m": "路网端点吸附容差（米）",
    "settlement_min_households": "自然村通路户数下限（户）", "settlement_min_width_m": "自然村道路最小路面宽（米）",
    "settlement_surfaces": "自然村道路路面", "all_season_surfaces": "全天候道路路面",
    "rai_distance_m": "RAI距离（米）", "rai_population_from": "RAI人口来源",
    "cost_yuan_per_km": "新建道路单价（元/公里）", "link_plan": "连接线方案", "include_planned": "计入计划/在建项目",
}


# ------------------------------------------------------------------------------ steps


def _seat_notes(villages, townships, seats, network, tolerance_m: float) -> list[str]:
    """Say which townships' seats are unknown or off the hardened network."""
    names = townships.set_index("id")["name"]
    missing = [names.get(t) for t in villages["township_id"].unique() if t not in seats.index or seats.get(t) is None]
    if missing:
        return [f"乡镇驻地位置缺失（{F.join_names(missing)}）：其行政村是否连通驻地记为未知"]
    if network is None:
        return []
    on_network = seat_components(network, seats, access_tolerance_m=tolerance_m)
    off = [t for t in seats.index if t not in on_network]
    if off:
        return [f"乡镇驻地{tolerance_m:g}米内无硬化路（{F.join_names(names.get(t) for t in off)}）："
                "其行政村是否连通驻地记为未知"]
    return []


def _settlement_gaps(s_m: gpd.GeoDataFrame, *, min_households: int, tolerance_m: float, rai_distance_m: float
                     ) -> gpd.GeoDataFrame:
    """Seed 003's rule: a settlement of ``min_households`` or more needs a qualifying road
    within the tolerance (NA when its households or position are unknown)."""
    out = s_m.copy()
    households = F.as_number(out["households"])
    out["needs_road"] = (households >= min_households).astype("boolean")
    out.loc[households.isna(), "needs_road"] = pd.NA
    qualifying_near = F.as_number(out["distance_to_qualifying_road_m"]) <= tolerance_m
    out["road_gap"] = (out["needs_road"] & ~qualifying_near).astype("boolean")
    out.loc[out.geometry.isna() | out.geometry.is_empty, "road_gap"] = pd.NA
    out["within_rai_distance"] = F.as_number(out["distance_to_all_season_road_m"]) <= rai_distance_m
    return out


def _seats(townships: gpd.GeoDataFrame, crs) -> gpd.GeoSeries:
    """Seat points indexed by township id, in ``crs`` (empty geometries when unknown)."""
    if "seat" in townships and crs is not None:
        seat = townships["seat"]
        seat = seat if isinstance(seat, gpd.GeoSeries) else gpd.GeoSeries(seat, crs=4326)
        if seat.crs is None:
            seat = seat.set_crs(4326)
        seat = seat.to_crs(crs)
        return gpd.GeoSeries(seat.to_numpy(), index=townships["id"].to_numpy(), crs=crs)
    return gpd.GeoSeries([None] * len(townships), index=townships["id"].to_numpy(), crs=crs)


def _attach_links(frame: gpd.GeoDataFrame, links: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    chosen = links[links["link_kind"] == kind]
    if "settlement_ids" in links:  # a network plan: every link lists the villages and settlements it joins
        chosen = links
        column = "village_ids" if kind == "village" else "settlement_ids"
        exploded = chosen[["link_id", column, "length_km", "cost_wan_yuan"]].explode(column).dropna(subset=[column])
        key = exploded[column].astype("Int64") if len(exploded) else pd.Series(dtype="Int64")
        own = "village_id" if kind == "village" else "settlement_id"
        exploded = exploded[~key.duplicated().to_numpy()]
        key = key[~key.duplicated()]
    elif kind == "village":
        exploded = chosen[["link_id", "village_ids", "length_km", "cost_wan_yuan"]].explode("village_ids")
        key = exploded["village_ids"].astype("Int64") if len(exploded) else pd.Series(dtype="Int64")
        own = "village_id"
    else:
        exploded = chosen[["link_id", "settlement_id", "length_km", "cost_wan_yuan"]].dropna(subset=["settlement_id"])
        key = exploded["settlement_id"].astype("Int64") if len(exploded) else pd.Series(dtype="Int64")
        own = "settlement_id"
    table = pd.DataFrame({"new_link_id": exploded["link_id"].to_numpy(),
                          "new_link_km": exploded["length_km"].to_numpy(dtype=float),
                          "new_link_cost_wan_yuan": exploded["cost_wan_yuan"].to_numpy(dtype=float)},
                         index=pd.Index(key.to_numpy(), name=own))
    out = frame.join(table, on=own)
    out["new_link_id"] = out["new_link_id"].astype("Int64")
    return out


def _population_units(v_m, s_m, households, crs, source, roads_m, kernel) -> pd.DataFrame:
    """Places people live, with their people count and all-season-road distance."""
    if source == "households" and households is not None and not households.empty:
        h = to_metric(households, crs).copy()
        fallback_s = s_m.set_index("settlement_id").geometry
        fallback_v = v_m.set_index("village_id").geometry
        geoms = h.geometry.copy()
        missing = geoms.isna() | geoms.is_empty
        if "settlement_id" in h:
            geoms[missing] = h.loc[missing, "settlement_id"].map(fallback_s)
            missing = geoms.isna() | geoms.is_empty
        geoms[missing] = h.loc[missing, "village_id"].map(fallback_v)
        geoms = gpd.GeoSeries(geoms, crs=crs)
        distance = road_distances(geoms, roads_m, **kernel)["distance_to_all_season_road_m"]
        return pd.DataFrame({"village_id": h["village_id"].to_numpy(), "people": F.as_number(h["members"]).to_numpy(),
                             "distance_to_all_season_road_m": distance.to_numpy()})
    size = F.as_number(v_m["population"]) / F.as_number(v_m["households"]).where(lambda x: x > 0)
    size = pd.Series(size.to_numpy(), index=v_m["village_id"].to_numpy())
    people = F.as_number(s_m["population"])
    estimate = F.as_number(s_m["households"]) * s_m["village_id"].map(size)
    people = people.fillna(estimate)
    located = s_m.geometry.notna() & ~s_m.geometry.is_empty
    units = pd.DataFrame({"village_id": s_m["village_id"], "people": people,
                          "distance_to_all_season_road_m": s_m["distance_to_all_season_road_m"]})[located.to_numpy()]
    without = ~v_m["village_id"].isin(units["village_id"])
    village_units = pd.DataFrame({"village_id": v_m.loc[without, "village_id"],
                                  "people": F.as_number(v_m.loc[without, "population"]),
                                  "distance_to_all_season_road_m": v_m.loc[without, "distance_to_all_season_road_m"]})
    return pd.concat([units, village_units], ignore_index=True)


def _village_status(v: pd.DataFrame, tolerance: float) -> list[str]:
    out = []
    for row in v.itertuples():
        geom = row.geometry
        if geom is None or geom.is_empty:
            out.append("unknown")
        elif row.distance_to_hardened_road_m <= tolerance:
            joined = row.joined_to_seat
            out.append("hardened_seat_unknown" if joined is pd.NA
                       else "hardened_joined" if joined else "hardened_not_joined")
        elif row.distance_to_all_season_road_m <= tolerance:
            out.append("gravel_only")
        elif row.distance_to_any_road_m <= tolerance:
            out.append("earth_only")
        else:
            out.append("no_road")
    return out


def _metres(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.0f}米"


def _village_reason(row, tolerance: float, snap: float) -> str:
    status = row.road_status
    link = "" if pd.isna(row.new_link_km) else f"；新建连接线{row.new_link_km * 1000:,.0f}米"
    if status == "unknown":
        return "无村委会位置，无法量算"
    if status == "hardened_joined":
        km = "" if pd.isna(row.seat_road_distance_km) else f"（路网距离{row.seat_road_distance_km:,.1f}公里）"
        return f"距硬化路{_metres(row.distance_to_hardened_road_m)}，经硬化路连通乡镇驻地{km}"
    if status == "hardened_not_joined":
        via_gravel = ""
        if F.yes(row.joined_to_seat_all_season):
            via_gravel = "；经砂石路等全天候道路可达乡镇驻地"
        return (f"距硬化路{_metres(row.distance_to_hardened_road_m)}，但该路与乡镇驻地不连通"
                f"（端点吸附容差{snap:g}米）{via_gravel}{link}")
    if status == "hardened_seat_unknown":
        return f"距硬化路{_metres(row.distance_to_hardened_road_m)}；乡镇驻地不在硬化路网上，无法判断是否连通"
    nearest_hardened = f"最近硬化路{_metres(row.distance_to_hardened_road_m)}"
    if F.yes(row.joined_to_seat_all_season):
        nearest_hardened += "；经砂石路等全天候道路可达乡镇驻地"
    if status == "gravel_only":
        return f"{tolerance:g}米内无硬化路，只有砂石路（{_metres(row.distance_to_all_season_road_m)}）；{nearest_hardened}{link}"
    if status == "earth_only":
        return f"{tolerance:g}米内只有土路（{_metres(row.distance_to_any_road_m)}）；{nearest_hardened}{link}"
    return f"{tolerance:g}米内无任何道路（最近道路{_metres(row.distance_to_any_road_m)}）；{nearest_hardened}{link}"


def _settlement_reason(row, tolerance: float, min_households: int, min_width: float) -> str:
    geom = row.geometry
    if geom is None or geom.is_empty:
        return "无位置，无法量算"
    if pd.isna(row.households):
        return "户数未知，无法判断是否须通路"
    households = int(row.households)
    if households < min_households:
        return f"{households}户，不足{min_households}户，不作要求"
    if not row.road_gap:
        return f"{households}户，{_metres(row.distance_to_qualifying_road_m)}处有{min_width:g}米以上砂石路或硬化路"
    if pd.isna(row.distance_to_any_road_m) or row.distance_to_any_road_m > tolerance:
        nearby = f"{tolerance:g}米内无道路"
    else:
        surface = F.label_of(RoadSurface, row.nearest_road_surface) or "未知路面"
        width = "宽度未知" if pd.isna(row.nearest_road_width_m) else f"宽{row.nearest_road_width_m:g}米"
        nearby = f"最近道路为{surface}，{width}，距{_metres(row.distance_to_any_road_m)}"
    link = "" if pd.isna(row.new_link_km) else f"；新建连接线{row.new_link_km * 1000:,.0f}米"
    return f"{households}户，{tolerance:g}米内无{min_width:g}米以上砂石路或硬化路（{nearby}）{link}"


_SUMMARY_COLUMNS = ["villages", "villages_hardened_within_tolerance", "villages_joined_to_seat", "villages_not_joined",
                    "villages_no_road", "settlements_20plus", "settlement_road_gaps", "rai_population",
                    "rai_population_served", "rai_pct", "new_links", "new_link_km", "new_link_cost_wan_yuan"]


def _summary(villages: pd.DataFrame, settlements: pd.DataFrame, links: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """The summary figures per value of ``key`` (None: one row for everything), by group-bys."""
    def keyed(frame: pd.DataFrame) -> np.ndarray:
        return frame[key].to_numpy(dtype=object) if key else np.full(len(frame), F.DISTRICT, dtype=object)

    joined = villages["joined_to_seat"]
    v = pd.DataFrame({
        "key": keyed(villages), "villages": 1,
        "villages_hardened_within_tolerance": villages["hardened_road_within_tolerance"].to_numpy(dtype=int),
        "villages_joined_to_seat": joined.fillna(False).to_numpy(dtype=int),
        "villages_not_joined": (joined == False).fillna(False).to_numpy(dtype=int),  # noqa: E712
        "villages_no_road": (villages["road_status"] == "no_road").to_numpy(dtype=int),
        "rai_population": F.as_number(villages["rai_population"]).fillna(0).to_numpy(),
        "rai_population_served": F.as_number(villages["rai_population_served"]).fillna(0).to_numpy(),
    }).groupby("key").sum()
    s = pd.DataFrame({
        "key": keyed(settlements),
        "settlements_20plus": settlements["needs_road"].fillna(False).to_numpy(dtype=int),
        "settlement_road_gaps": settlements["road_gap"].fillna(False).to_numpy(dtype=int),
    }).groupby("key").sum()
    k = pd.DataFrame({"key": keyed(links), "new_links": 1, "new_link_km": links["length_km"].to_numpy(dtype=float),
                      "new_link_cost_wan_yuan": links["cost_wan_yuan"].to_numpy(dtype=float)}).groupby("key").sum()
    out = v.join(s).join(k).fillna(0)
    for column in ("settlements_20plus", "settlement_road_gaps", "new_links"):
        out[column] = out[column].astype(int)
    out["rai_pct"] = F.ratio_pct(out["rai_population_served"], out["rai_population"])
    return out.reindex(columns=_SUMMARY_COLUMNS)


def _summaries(villages, settlements, links, townships) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    return F.township_tables(_summary(villages, settlements, links, "township_name"),
                             _summary(villages, settlements, links, None), townships, _SUMMARY_COLUMNS, ("rai_pct",))


PLAN_LABELS = {"network": "网络统筹", "one_by_one": "逐条选择（原方法）"}


def _plan_comparison(planned: pd.DataFrame, one_by_one: pd.DataFrame, chosen: str) -> pd.DataFrame:
    """The two link plans side by side: links, km and cost."""
    rows = [{"plan": name, "new_links": len(frame), "length_km": float(frame["length_km"].sum()),
             "cost_wan_yuan": float(frame["cost_wan_yuan"].sum()), "chosen": name == chosen}
            for name, frame in (("network", planned), ("one_by_one", one_by_one))]
    return pd.DataFrame(rows, columns=["plan", "new_links", "length_km", "cost_wan_yuan", "chosen"])


def _plan_note(comparison: pd.DataFrame, chosen: str) -> str:
    net, old = comparison.iloc[0], comparison.iloc[1]
    saved = old["length_km"] - net["length_km"]
    return (f"连接线网络统筹方案{int(net['new_links'])}条、{net['length_km']:,.2f}公里、{net['cost_wan_yuan']:,.2f}万元；"
            f"逐条选择（原方法）{int(old['new_links'])}条、{old['length_km']:,.2f}公里、{old['cost_wan_yuan']:,.2f}万元；"
            f"统筹{'少建' if saved >= 0 else '多建'}{abs(saved):,.2f}公里（结果采用{PLAN_LABELS[chosen]}）")


def _band(roads_m: gpd.GeoDataFrame, crs, surfaces: Sequence[str], distance_m: float) -> gpd.GeoDataFrame:
    """The area within ``distance_m`` of an all-season road, as one polygon in EPSG:4326."""
    chosen = roads_m[roads_m["surface"].astype(str).isin([str(s) for s in surfaces])]
    columns = {"band_distance_m": [distance_m], "area_km2": [0.0]}
    if chosen.empty or crs is None:
        return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([None], crs=4326), crs=4326)
    # merged, 25 m-simplified lines buffered one by one and then unioned: true to 25 m, and
    # far faster than buffering the whole network as one geometry
    merged = shapely.line_merge(shapely.union_all(chosen.geometry.to_numpy()))
    parts = shapely.get_parts(shapely.simplify(merged, 25.0))
    polygon = shapely.union_all(shapely.buffer(parts, distance_m, quad_segs=4))
    columns["area_km2"] = [float(polygon.area) / 1e6]
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([polygon], crs=crs), crs=crs).to_crs(4326)
