"""Where the next project should go: villages ranked by unmet need for a road, water or PV
project, weighted by registered-poor households and population, with every component of
the score shown so a planner can defend the order.

The need of each kind (one function each, :func:`road_need`, :func:`water_need`,
:func:`pv_need`; :func:`get_need` dispatches) is measured as the people and registered-poor
households the project would reach:

- road: the whole village when it is not joined to its township seat over hardened roads,
  else the settlements of 20+ households without a qualifying road (roads analysis); the
  cost is the new links' (shared links are paid once);
- water: the settlements (or village) beyond the supply distance of every working
  drinking-water facility (water analysis); one new supply point each;
- PV: registered households not yet out of poverty that no grid-connected, income-bearing
  PV project benefits (seed 001: PV projects that bring no income do not count); a system
  of ``kw_per_household`` each.

score = 100 × (w_poor × unmet poor households / all unmet poor households
             + w_population × unmet people / all unmet people),
i.e. the weighted share of the county's unmet need the village holds (weights normalised
to sum to 1). Ranked by ``need`` (the score) or by ``value`` for money: unmet registered-poor
households reached per 万元 (then people per 万元). With a budget, villages are funded in rank
order, skipping those that no longer fit (greedy), and the result says what the money buys;
with ``optimise`` an integer programme (SCIP through OR-Tools) chooses the set of villages that
reaches the most registered-poor households (then people) within the budget, shared road
links paid once, and the greedy result stands beside it with the gain.

Partition-safety: the needs are per-village figures and partition-safe as their analyses
are; the score's shares and the ranking are global (one sort over all villages).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import _frames as F
from geo.analysis.result import AnalysisResult, Threshold, check_rules
from geo.analysis.roads import (
    DEFAULT_ACCESS_TOLERANCE_M,
    DEFAULT_COST_YUAN_PER_KM,
    DEFAULT_SNAP_TOLERANCE_M,
    analyze_roads,
)
from geo.analysis.water import DEFAULT_SUPPLY_DISTANCE_M, analyze_water
from geo.enums import VillageCategory
from geo.errors import ValidationError

ProjectKind = Literal["road", "water", "pv"]
RankBy = Literal["need", "value"]
RANKS: tuple[str, ...] = ("need", "value")
#: The optimiser stops here and keeps the best set found (said in the result) [s].
OPTIMISER_TIME_LIMIT_S = 30.0
METHOD_LABELS = {"greedy": "按排序依次安排", "optimal": "最优组合（整数规划）"}
KINDS: tuple[str, ...] = ("road", "water", "pv")
KIND_LABELS = {"road": "道路", "water": "饮水", "pv": "光伏"}

#: Weight of registered-poor households in the score (the rest goes to population).
DEFAULT_POOR_WEIGHT = 0.5
DEFAULT_POPULATION_WEIGHT = 0.5
#: PV capacity per household [kW]: an assumption matching rooftop systems of 3-5 kW.
DEFAULT_KW_PER_HOUSEHOLD = 5.0
#: Households a PV project should reach: those not yet out of poverty.
DEFAULT_PV_STATUSES = ("registered", "planned_exit", "returned")

COLUMNS = {
    "rank": "排序", "village_id": "村ID", "village_name": "行政村", "township_name": "乡镇", "category": "村类别",
    "population": "人口", "registered_poor_households": "建档立卡户数",
    "unmet_population": "未覆盖人口", "unmet_registered_poor_households": "未覆盖建档立卡户",
    "unmet_share_pct": "未覆盖人口比例（%）", "poor_share_pct": "占全部未覆盖建档立卡户（%）",
    "population_share_pct": "占全部未覆盖人口（%）", "poor_component": "建档立卡户得分",
    "population_component": "人口得分", "score": "得分", "quantity": "工程量", "quantity_unit": "单位",
    "cost_wan_yuan": "估算投资（万元）", "score_per_wan_yuan": "每万元得分", "funded": "预算内",
    "poor_households_per_wan_yuan": "每万元覆盖建档立卡户", "people_per_wan_yuan": "每万元覆盖人口",
    "funded_greedy": "按排序安排时预算内", "method": "安排方法", "gain_registered_poor_households": "较按排序多覆盖建档立卡户",
    "gain_population": "较按排序多覆盖人口", "solver_status": "求解状态",
    "cumulative_cost_wan_yuan": "累计投资（万元）", "reason": "说明",
    "budget_wan_yuan": "预算（万元）", "spent_wan_yuan": "已安排（万元）", "remaining_wan_yuan": "结余（万元）",
    "villages_funded": "安排村数", "unmet_population_served": "覆盖人口",
    "unmet_registered_poor_households_served": "覆盖建档立卡户", "villages_left": "未安排的有需求村",
    "note": "备注",
    "link_id": "连接线编号", "link_kind": "连接对象", "village_names": "受益行政村", "settlement_name": "自然村",
    "length_km": "长度（公里）",
}
TABLES = {"ranking": "项目优先排序", "budget": "预算安排", "links": "预算内连接线"}
VIEWS = {
    "ranking": ("rank", "township_name", "village_name", "unmet_population", "unmet_registered_poor_households",
                "poor_component", "population_component", "score", "quantity", "cost_wan_yuan", "funded"),
    "budget": ("method", "budget_wan_yuan", "spent_wan_yuan", "remaining_wan_yuan", "villages_funded",
               "unmet_population_served",
               "unmet_registered_poor_households_served", "quantity", "quantity_unit",
               "gain_registered_poor_households"),
    "links": ("link_id", "link_kind", "village_names", "settlement_name", "length_km", "cost_wan_yuan", "funded"),
}
VALUES = {"category": VillageCategory.labels(), "link_kind": {"village": "行政村", "settlement": "自然村"},
          "method": METHOD_LABELS, "solver_status": {"OPTIMAL": "已证明最优", "FEASIBLE": "限时内最好（未证明最优）"}}

_NEED_COLUMNS = ["village_id", "unmet_population", "unmet_registered_poor_households", "quantity", "quantity_unit",
                 "cost_wan_yuan", "items", "reason"]


# ------------------------------------------------------------------------------ needs


def road_need(roads_result: AnalysisResult) -> pd.DataFrame:
    """Unmet road need per village from a roads analysis.

    Returns
    -------
    pandas.DataFrame
        ``village_id``, ``unmet_population`` [people], ``unmet_registered_poor_households``
        [households], ``quantity`` [km of new links], ``quantity_unit`` (km),
        ``cost_wan_yuan`` [万元], ``items`` (link ids, so shared links are paid once),
        ``reason``.
    """
    villages = roads_result.tables["villages"]
    settlements = roads_result.tables["settlements"]
    links = roads_result.tables["links"]
    km_of = dict(zip(links["link_id"], links["length_km"]))
    cost_of = dict(zip(links["link_id"], links["cost_wan_yuan"]))
    # a link of a network plan reaches the seat only with the planned links it joins
    path_of = dict(zip(links["link_id"], links["path_link_ids"])) if "path_link_ids" in links else {}

    def with_path(ids: list[int]) -> list[int]:
        return list(dict.fromkeys(int(p) for i in ids for p in path_of.get(i, [i])))

    gaps = _by_village(settlements[settlements["road_gap"].fillna(False).astype(bool)])
    rows = []
    for v in villages.drop(columns="geometry").itertuples():
        mine = gaps.get(v.village_id)
        count = 0 if mine is None else len(mine["settlement_id"])
        items = [] if mine is None else [int(i) for i in mine["new_link_id"] if not pd.isna(i)]
        if F.yes(v.joined_to_seat) or v.joined_to_seat is pd.NA or v.road_status == "unknown":
            population = 0.0 if mine is None else float(np.nansum(mine["population"]))
            poor = 0.0 if mine is None else _poor_of(mine, v)
            reason = f"{count}个20户以上自然村道路未达标" if count else ""
        else:
            population = _number(v.population)
            poor = _number(v.registered_poor_households)
            if not pd.isna(v.new_link_id):
                items.insert(0, int(v.new_link_id))
            reason = "行政村未经硬化路连通乡镇驻地" + (f"；另有{count}个自然村道路未达标" if count else "")
        items = with_path(items)
        rows.append((v.village_id, population, poor, float(sum(km_of[i] for i in items)), "km",
                     float(sum(cost_of[i] for i in items)), items, reason))
    return pd.DataFrame(rows, columns=_NEED_COLUMNS)


def _by_village(settlements: pd.DataFrame) -> dict:
    """village id -> {column: numpy array} of its settlements (plain arrays: fast to read)."""
    columns = ["settlement_id", "population", "households", "registered_poor_households", "new_link_id",
               "served_if_repaired"]
    plain = pd.DataFrame({c: (F.as_number(settlements[c]) if c != "served_if_repaired"
                              else settlements[c].fillna(False).astype(bool))
                          for c in columns if c in settlements})
    plain["village_id"] = settlements["village_id"].to_numpy()
    return {vid: {c: group[c].to_numpy() for c in plain.columns} for vid, group in plain.groupby("village_id")}


def water_need(water_result: AnalysisResult, *, cost_wan_yuan_per_supply_point: float | None = None) -> pd.DataFrame:
    """Unmet drinking-water need per village from a water analysis.

    Parameters
    ----------
    cost_wan_yuan_per_supply_point
        Cost of one new supply point [万元]; None leaves costs unknown.

    Returns
    -------
    pandas.DataFrame
        As :func:`road_need`, with ``quantity`` [new supply points] and ``items`` the
        settlement ids to serve.
    """
    villages = water_result.tables["villages"]
    settlements = water_result.tables["settlements"]
    beyond = _by_village(settlements[settlements["beyond_supply_distance"].fillna(False).astype(bool)])
    rows = []
    for v in villages.drop(columns="geometry").itertuples():
        mine = beyond.get(v.village_id)
        if mine is not None:
            population = float(np.nansum(mine["population"]))
            poor = _poor_of(mine, v)
            points = len(mine["settlement_id"])
            repairable = int(mine["served_if_repaired"].sum())
            reason = f"{points}个自然村超出取水距离" + (f"（其中{repairable}个修复附近设施即可）" if repairable else "")
            items = [int(i) for i in mine["settlement_id"]]
        elif v.settlements == 0 and v.population_beyond > 0:
            population, poor, points, items = float(v.population_beyond), _number(v.registered_poor_households) \
                if hasattr(v, "registered_poor_households") else np.nan, 1, []
            reason = "村委会超出取水距离（无自然村数据）"
        else:
            population, poor, points, items, reason = 0.0, 0.0, 0, [], ""
        cost = points * cost_wan_yuan_per_supply_point if cost_wan_yuan_per_supply_point is not None else np.nan
        rows.append((v.village_id, population, poor, float(points), "处", cost, items, reason))
    return pd.DataFrame(rows, columns=_NEED_COLUMNS)


def pv_need(
    villages: pd.DataFrame,
    households: pd.DataFrame,
    pv_projects: pd.DataFrame | None,
    pv_households: pd.DataFrame | None,
    *,
    statuses: Sequence[str] = DEFAULT_PV_STATUSES,
    kw_per_household: float = DEFAULT_KW_PER_HOUSEHOLD,
    cost_wan_yuan_per_kw: float | None = None,
) -> pd.DataFrame:
    """Unmet PV need per village: households in ``statuses`` without PV income.

    A household benefits when it is linked (``pv_project_households``) to a project that is
    grid-connected and whose reported income is not zero (unknown income counts as
    benefiting).

    Returns
    -------
    pandas.DataFrame
        As :func:`road_need`, with ``quantity`` [kW] and ``items`` the household ids.
    """
    F.require(households, "households", ["id", "village_id", "status"])
    benefiting: set = set()
    if pv_projects is not None and len(pv_projects) and pv_households is not None and len(pv_households):
        income = F.as_number(pv_projects["annual_income_yuan"]) if "annual_income_yuan" in pv_projects \
            else pd.Series(np.nan, index=pv_projects.index)
        working = pv_projects[(pv_projects["status"].astype(str) == "grid_connected") & ~(income == 0)]
        benefiting = set(pv_households.loc[pv_households["project_id"].isin(set(working["id"])), "household_id"])
    target = households[households["status"].isin(list(statuses)) & ~households["id"].isin(benefiting)]
    members = F.as_number(target["members"]).fillna(0) if "members" in target else pd.Series(0.0, index=target.index)
    grouped = pd.DataFrame({"village_id": target["village_id"], "members": members, "one": 1,
                            "id": target["id"]}).groupby("village_id")
    counts = grouped["one"].sum()
    people = grouped["members"].sum()
    ids = grouped["id"].agg(list)
    rows = []
    for village_id in villages["id"]:
        n = int(counts.get(village_id, 0))
        kw = n * kw_per_household
        cost = kw * cost_wan_yuan_per_kw if cost_wan_yuan_per_kw is not None else np.nan
        reason = f"{n}户未脱贫建档立卡户没有光伏收益" if n else ""
        rows.append((village_id, float(people.get(village_id, 0.0)), float(n), kw, "kW", cost,
                     [int(i) for i in ids.get(village_id, [])], reason))
    return pd.DataFrame(rows, columns=_NEED_COLUMNS)


def _number(value) -> float:
    return np.nan if value is None or value is pd.NA or pd.isna(value) else float(value)


def _poor_of(settlements: dict, village) -> float:
    """Registered-poor households of some settlements (arrays from :func:`_by_village`):
    household records when loaded, else settlement households × the village's share of
    registered-poor households."""
    recorded = np.asarray(settlements["registered_poor_households"], dtype=float)
    if not np.isnan(recorded).any():
        return float(recorded.sum())
    households = _number(getattr(village, "households", np.nan))
    ratio = _number(getattr(village, "registered_poor_households", np.nan)) / households if households else np.nan
    estimate = np.asarray(settlements["households"], dtype=float) * ratio
    return float(np.nansum(np.where(np.isnan(recorded), estimate, recorded)))


# ------------------------------------------------------------------------------ ranking


def rank_villages(
    need: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    *,
    poor_weight: float = DEFAULT_POOR_WEIGHT,
    population_weight: float = DEFAULT_POPULATION_WEIGHT,
    budget_wan_yuan: float | None = None,
    item_costs: dict | None = None,
    rank: RankBy = "need",
    optimise: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, set]:
    """Score and rank villages by need; optionally fund them in rank order within a budget.

    Parameters
    ----------
    need
        One of the ``*_need`` frames.
    villages
        Village rows with ``village_id``, ``village_name``, ``township_name``, ``category``,
        ``population``, ``registered_poor_households`` and geometry (EPSG:4326).
    poor_weight, population_weight
        Score weights (normalised to sum to 1).
    budget_wan_yuan
        Money available [万元]; None ranks without funding.
    item_costs
        Cost of each item [万元] when items (road links) may serve several villages: a
        village then costs what its items not yet bought cost, so a shared link is paid once.
    rank
        ``need``: by score; ``value``: by unmet registered-poor households per 万元, then
        unmet people per 万元 (villages of unknown cost last).
    optimise
        With a budget: choose the villages by integer programme (see :func:`optimise_budget`);
        ``funded`` is then the optimal set and ``funded_greedy`` the rank-order one.

    Returns
    -------
    tuple
        The ranking (see :func:`prioritize`), the budget summary (empty without a budget)
        and the set of funded items.
    """
    if poor_weight < 0 or population_weight < 0 or poor_weight + population_weight <= 0:
        raise ValidationError(f"weights must be >= 0 and not both 0 (poor_weight={poor_weight}, "
                              f"population_weight={population_weight})")
    total_weight = poor_weight + population_weight
    w_poor, w_pop = poor_weight / total_weight, population_weight / total_weight
    out = pd.DataFrame({c: villages[c].to_numpy() for c in ("village_id", "village_name", "township_name")},
                       index=villages.index)
    out["category"] = [None if c is None or c != c else str(c) for c in villages["category"]] \
        if "category" in villages else None
    out["population"] = F.as_number(villages["population"]).to_numpy() if "population" in villages else np.nan
    out["registered_poor_households"] = F.as_number(villages["registered_poor_households"]).to_numpy() \
        if "registered_poor_households" in villages else np.nan
    out = out.merge(need, on="village_id", how="left").set_axis(villages.index)
    out["items"] = [i if isinstance(i, list) else [] for i in out["items"]]
    out["unmet_population"] = F.as_number(out["unmet_population"]).fillna(0.0)
    out["unmet_registered_poor_households"] = F.as_number(out["unmet_registered_poor_households"]).fillna(0.0)
    out["unmet_share_pct"] = F.ratio_pct(out["unmet_population"], out["population"])
    poor_total = out["unmet_registered_poor_households"].sum()
    pop_total = out["unmet_population"].sum()
    out["poor_share_pct"] = F.ratio_pct(out["unmet_registered_poor_households"], np.full(len(out), poor_total))
    out["population_share_pct"] = F.ratio_pct(out["unmet_population"], np.full(len(out), pop_total))
    out["poor_component"] = w_poor * np.nan_to_num(out["poor_share_pct"].to_numpy(dtype=float))
    out["population_component"] = w_pop * np.nan_to_num(out["population_share_pct"].to_numpy(dtype=float))
    out["score"] = out["poor_component"] + out["population_component"]
    cost = F.as_number(out["cost_wan_yuan"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["score_per_wan_yuan"] = np.where(cost > 0, out["score"] / cost, np.nan)
        out["poor_households_per_wan_yuan"] = np.where(cost > 0, out["unmet_registered_poor_households"] / cost,
                                                       np.where(cost == 0, np.inf, np.nan))
        out["people_per_wan_yuan"] = np.where(cost > 0, out["unmet_population"] / cost,
                                              np.where(cost == 0, np.inf, np.nan))
    without_need = (out["score"] <= 0).to_numpy()
    out.loc[without_need, ["poor_households_per_wan_yuan", "people_per_wan_yuan"]] = np.nan
    if rank not in RANKS:
        raise ValidationError(f"rank must be one of {', '.join(RANKS)}, not {rank!r}")
    if rank == "need":
        order = ["score", "unmet_registered_poor_households", "village_id"]
    else:
        order = ["poor_households_per_wan_yuan", "people_per_wan_yuan", "score", "village_id"]
        # villages of unknown cost follow those of known value, those without need come last
    out = out.sort_values(order, ascending=[False] * (len(order) - 1) + [True], kind="stable", na_position="last")
    for column in ("poor_households_per_wan_yuan", "people_per_wan_yuan"):  # free: shown as unknown, ranked first
        out[column] = out[column].replace(np.inf, np.nan)
    has_need = out["score"] > 0
    out["rank"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out.loc[has_need, "rank"] = np.arange(1, int(has_need.sum()) + 1)
    out["funded"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out["cumulative_cost_wan_yuan"] = np.nan
    bought: set = set()
    budget = pd.DataFrame()
    if budget_wan_yuan is not None:
        if budget_wan_yuan < 0:
            raise ValidationError(f"budget_wan_yuan must be >= 0, not {budget_wan_yuan}")
        out, bought, budget = _fund(out, float(budget_wan_yuan), item_costs)
        if optimise:
            chosen, bought, status = optimise_budget(out, float(budget_wan_yuan), item_costs)
            out, budget = _with_optimum(out, budget, chosen, bought, float(budget_wan_yuan), item_costs, status)
    elif optimise:
        raise ValidationError("optimise needs a budget (budget_wan_yuan, CLI --budget)")
    return out, budget, bought


def _items_and_costs(out: pd.DataFrame, item_costs: dict | None) -> tuple[list[list], dict]:
    """Each village's items and the cost of every item (a village is its own item when
    nothing is shared)."""
    if item_costs is not None:
        return [list(items) for items in out["items"]], dict(item_costs)
    keys = [[("village", v)] for v in out["village_id"]]
    return keys, {k[0]: float(c) for k, c in zip(keys, F.as_number(out["cost_wan_yuan"]))}


def optimise_budget(out: pd.DataFrame, budget_wan_yuan: float, item_costs: dict | None = None,
                    *, time_limit_s: float = OPTIMISER_TIME_LIMIT_S) -> tuple[set, set, str]:
    """The villages to fund within a budget to reach the most unmet registered-poor households
    (then the most unmet people), items shared by several villages (road links) paid once.

    A 0/1 integer programme solved by SCIP through OR-Tools (``pywraplp``): a choice per
    village and per item, a village chosen only with all its items, the items' cost within the
    budget. Solved twice: the most registered-poor households, then, with that many kept, the
    most people. Costs are rounded up to 0.01 万元 and households to 0.01, so the set chosen
    never overspends. (CP-SAT, tried first, could not prove the optimum of the 450-village
    county in 30 s; SCIP's LP bound closes this knapsack in well under a second.)

    Parameters
    ----------
    out
        Ranking rows with ``village_id``, ``score``, ``unmet_registered_poor_households``,
        ``unmet_population``, ``cost_wan_yuan`` [万元] and ``items``.
    budget_wan_yuan
        Money available [万元].
    item_costs
        Item -> cost [万元] when items are shared; None: each village costs ``cost_wan_yuan``.
    time_limit_s
        Stop each solve after this long with the best set found [s].

    Returns
    -------
    tuple
        Chosen village ids, the items bought, and the solver status (``OPTIMAL`` or
        ``FEASIBLE``: stopped by the time limit).
    """
    from ortools.linear_solver import pywraplp

    items, costs = _items_and_costs(out, item_costs)
    solver = pywraplp.Solver.CreateSolver("SCIP")
    solver.SetTimeLimit(int(time_limit_s * 1000))
    pick: dict = {}
    buy: dict = {}
    need = (out["score"] > 0).to_numpy()
    poor = F.as_number(out["unmet_registered_poor_households"]).fillna(0).to_numpy()
    people = F.as_number(out["unmet_population"]).fillna(0).to_numpy()
    for row, (village, mine) in enumerate(zip(out["village_id"], items)):
        if not need[row] or any(pd.isna(costs.get(i, np.nan)) for i in mine):
            continue
        pick[row] = solver.BoolVar(f"v{village}")
        for item in mine:
            if item not in buy:
                buy[item] = solver.BoolVar(f"i{len(buy)}")
            solver.Add(pick[row] <= buy[item])
    if not pick:
        return set(), set(), "OPTIMAL"
    spend = solver.Constraint(0.0, math.floor(budget_wan_yuan * 100 + 1e-6))
    for item, variable in buy.items():
        spend.SetCoefficient(variable, math.ceil(costs[item] * 100 - 1e-6))
    statuses = []
    reached = None
    for weights in ({r: round(float(poor[r]) * 100) for r in pick}, {r: round(float(people[r])) for r in pick}):
        if reached is not None:  # keep the households reached, then reach the most people
            keep = solver.Constraint(reached, solver.infinity())
            for r, variable in pick.items():
                keep.SetCoefficient(variable, round(float(poor[r]) * 100))
        objective = solver.Objective()
        objective.Clear()
        for r, variable in pick.items():
            objective.SetCoefficient(variable, weights[r])
        objective.SetMaximization()
        status = solver.Solve()
        if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return set(), set(), "FEASIBLE"
        statuses.append(status)
        reached = round(sum(weights[r] for r, variable in pick.items() if variable.solution_value() > 0.5))
    chosen = {out["village_id"].iat[r] for r, variable in pick.items() if variable.solution_value() > 0.5}
    bought = {i for i, variable in buy.items() if variable.solution_value() > 0.5}
    optimal = all(s == pywraplp.Solver.OPTIMAL for s in statuses)
    return chosen, bought, "OPTIMAL" if optimal else "FEASIBLE"


def _with_optimum(out, greedy_budget, chosen, bought, budget, item_costs, status):
    """The ranking with the optimal set as ``funded`` (greedy kept as ``funded_greedy``) and
    the budget table with both rows and the gain."""
    out = out.copy()
    _, costs = _items_and_costs(out, item_costs)
    out["funded_greedy"] = out["funded"]
    has_need = out["score"] > 0
    out["funded"] = pd.array([bool(v in chosen) if n else pd.NA for v, n in zip(out["village_id"], has_need)],
                             dtype="boolean")
    keys = _items_and_costs(out, item_costs)[0]
    spent_by, spent, seen = [], 0.0, set()
    for mine, funded in zip(keys, out["funded"].fillna(False)):
        if funded:
            for item in mine:
                if item not in seen:
                    seen.add(item)
                    spent += float(costs[item])
        spent_by.append(spent if funded else np.nan)
    out["cumulative_cost_wan_yuan"] = spent_by
    optimal = _budget_row(out, budget, spent, "optimal")
    optimal["solver_status"] = status
    greedy = greedy_budget.iloc[0].to_dict()
    greedy["method"] = "greedy"
    optimal["gain_registered_poor_households"] = (optimal["unmet_registered_poor_households_served"]
                                                  - greedy["unmet_registered_poor_households_served"])
    optimal["gain_population"] = optimal["unmet_population_served"] - greedy["unmet_population_served"]
    return out, pd.DataFrame([greedy, optimal])


def _fund(out: pd.DataFrame, budget: float, item_costs: dict | None):
    """Fund villages in rank order while the money lasts, skipping those that do not fit."""
    remaining, spent = budget, 0.0
    bought: set = set()
    funded, cumulative = [], []
    for row in out.itertuples():
        if not row.score > 0:
            funded.append(pd.NA)
            cumulative.append(np.nan)
            continue
        cost = row.cost_wan_yuan
        if item_costs is not None:
            cost = sum(item_costs.get(i, 0.0) for i in row.items if i not in bought)
        if cost is not None and not pd.isna(cost) and cost <= remaining + 1e-9:
            remaining -= cost
            spent += cost
            funded.append(True)
            bought.update(row.items)
        else:
            funded.append(False)
        cumulative.append(spent)
    out = out.copy()
    out["funded"] = pd.array(funded, dtype="boolean")
    out["cumulative_cost_wan_yuan"] = cumulative
    return out, bought, pd.DataFrame([_budget_row(out, budget, spent, "greedy")])


def _budget_row(out: pd.DataFrame, budget: float, spent: float, method: str) -> dict:
    """What the villages marked ``funded`` buy."""
    chosen = out[out["funded"].fillna(False).astype(bool)]
    left = out[(out["score"] > 0) & ~out["funded"].fillna(False).astype(bool)]
    return {
        "method": method, "budget_wan_yuan": budget, "spent_wan_yuan": spent, "remaining_wan_yuan": budget - spent,
        "villages_funded": len(chosen),
        "unmet_population_served": float(chosen["unmet_population"].sum()),
        "unmet_registered_poor_households_served": float(chosen["unmet_registered_poor_households"].sum()),
        "quantity": float(chosen["quantity"].sum()),
        "quantity_unit": out["quantity_unit"].dropna().iloc[0] if out["quantity_unit"].notna().any() else None,
        "villages_left": len(left),
        "note": "" if left.empty else "预算外仍有需求的村：" + F.join_names(left["village_name"].head(20))
                                       + ("等" if len(left) > 20 else ""),
    }


# ------------------------------------------------------------------------------ the analysis


def prioritize(
    kind: ProjectKind,
    villages: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    *,
    households: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    facility_links: pd.DataFrame | None = None,
    pv_projects: gpd.GeoDataFrame | None = None,
    pv_households: pd.DataFrame | None = None,
    poor_weight: float = DEFAULT_POOR_WEIGHT,
    population_weight: float = DEFAULT_POPULATION_WEIGHT,
    budget_wan_yuan: float | None = None,
    rank: RankBy = "need",
    optimise: bool = False,
    cost_yuan_per_km: float = DEFAULT_COST_YUAN_PER_KM,
    access_tolerance_m: float = DEFAULT_ACCESS_TOLERANCE_M,
    snap_tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    supply_distance_m: float = DEFAULT_SUPPLY_DISTANCE_M,
    cost_wan_yuan_per_supply_point: float | None = None,
    kw_per_household: float = DEFAULT_KW_PER_HOUSEHOLD,
    cost_wan_yuan_per_kw: float | None = None,
    pv_statuses: Sequence[str] = DEFAULT_PV_STATUSES,
    roads_result: AnalysisResult | None = None,
    water_result: AnalysisResult | None = None,
    projects: gpd.GeoDataFrame | None = None,
) -> AnalysisResult:
    """Rank villages for one project kind and, with a budget, say what the money buys.

    Parameters
    ----------
    kind
        ``road``, ``water`` or ``pv``.
    villages, settlements, townships
        The layers (as for the roads and water analyses).
    households
        ``households`` layer (registered-poor households per settlement; PV beneficiaries).
    roads
        ``roads`` layer (kind ``road``).
    facilities, facility_links
        ``water_facilities`` and ``water_facility_villages`` (kind ``water``).
    pv_projects, pv_households
        ``pv_projects`` and ``pv_project_households`` (kind ``pv``).
    poor_weight, population_weight
        Score weights (normalised to sum to 1).
    budget_wan_yuan
        Money available [万元].
    rank
        ``need`` (score) or ``value`` (unmet registered-poor households, then people, per 万元).
    optimise
        With a budget, choose the set of villages by integer programme (:func:`optimise_budget`)
        and keep the rank-order (greedy) choice beside it.
    cost_yuan_per_km
        New road cost [yuan/km] (kind ``road``).
    access_tolerance_m, snap_tolerance_m
        Road rules (kind ``road``) [m].
    supply_distance_m
        Water rule (kind ``water``) [m].
    cost_wan_yuan_per_supply_point
        Cost of one supply point [万元] (kind ``water``); default: the median cost per well
        of the registry's well projects is not known here, so costs stay unknown unless given.
    kw_per_household
        PV capacity per household [kW] (kind ``pv``).
    cost_wan_yuan_per_kw
        PV cost [万元/kW]; default: the median investment per kW of ``pv_projects``.
    pv_statuses
        Household statuses a PV project should reach.
    roads_result, water_result
        Roads / water results already computed on the same frames with the same rules
        (checked), to avoid running them twice.
    projects
        Optional ``projects`` layer: completed road and well projects with geometry close
        the gaps they were built for (see :mod:`geo.analysis.projects`).

    Returns
    -------
    AnalysisResult
        ``ranking`` (village Point, best first): ``rank`` (NA without need), ``village_id``,
        ``village_name``, ``township_name``, ``category``, ``population``,
        ``registered_poor_households``, ``unmet_population`` [people],
        ``unmet_registered_poor_households`` [households], ``unmet_share_pct`` [% of the
        village], ``poor_share_pct`` and ``population_share_pct`` [% of all unmet],
        ``poor_component``, ``population_component``, ``score`` [0-100], ``quantity`` with
        ``quantity_unit`` (km / 处 / kW), ``cost_wan_yuan`` [万元], ``score_per_wan_yuan``,
        ``funded`` (NA without a budget), ``cumulative_cost_wan_yuan`` [万元], ``reason``.

        ``budget`` (with a budget): ``budget_wan_yuan``, ``spent_wan_yuan``,
        ``remaining_wan_yuan``, ``villages_funded``, ``unmet_population_served``,
        ``unmet_registered_poor_households_served``, ``quantity``, ``quantity_unit``,
        ``villages_left``, ``note``.

        ``links`` (kind ``road``): the new links (LineString) with ``funded``.
    """
    if kind not in KINDS:
        raise ValidationError(f"unknown project kind {kind!r}; use one of: {', '.join(KINDS)}")
    v = F.village_frame(villages, townships)
    notes: list[str] = []
    extra: dict[str, pd.DataFrame] = {}
    crs = None
    thresholds = [
        Threshold("kind", "项目类型", kind, "road 道路 / water 饮水 / pv 光伏"),
        Threshold("poor_weight", "建档立卡户权重", poor_weight, "默认各占一半，可调整"),
        Threshold("population_weight", "人口权重", population_weight, "默认各占一半，可调整"),
        Threshold("budget_wan_yuan", "预算（万元）", budget_wan_yuan, "可选"),
        Threshold("rank", "排序依据", rank, "need 按需求得分 / value 按每万元覆盖建档立卡户（再按人口）"),
        Threshold("optimise", "预算最优组合", optimise, "整数规划（OR-Tools / SCIP）：预算内覆盖建档立卡户最多（再求人口最多），共用连接线只计一次"),
    ]
    if kind == "road":
        if roads is None:
            raise ValidationError("a road ranking needs the roads layer")
        rules = {"access_tolerance_m": access_tolerance_m, "snap_tolerance_m": snap_tolerance_m,
                 "cost_yuan_per_km": cost_yuan_per_km}
        if roads_result is not None:
            check_rules(roads_result, rules)
            result = roads_result
        else:
            result = analyze_roads(villages, settlements, roads, townships, households=households, band=False,
                                   projects=projects, **rules)
        need = road_need(result)
        crs = result.crs
        notes += [n for n in result.notes]
        thresholds.append(Threshold("cost_yuan_per_km", "新建道路单价（元/公里）", cost_yuan_per_km,
                                    "宁夏2009-2012年农村公路计划：约65万元/公里"))
        item_costs = dict(zip(result.tables["links"]["link_id"], result.tables["links"]["cost_wan_yuan"]))
        notes.append("连接线造价按直线长度估算；多个村共用的连接线只计一次")
    elif kind == "water":
        if facilities is None:
            raise ValidationError("a water ranking needs the water_facilities layer")
        if water_result is not None:
            check_rules(water_result, {"supply_distance_m": supply_distance_m})
            result = water_result
        else:
            result = analyze_water(villages, settlements, facilities, links=facility_links, households=households,
                                   townships=townships, supply_distance_m=supply_distance_m, projects=projects)
        need = water_need(result, cost_wan_yuan_per_supply_point=cost_wan_yuan_per_supply_point)
        crs = result.crs
        thresholds.append(Threshold("cost_wan_yuan_per_supply_point", "每处供水点投资（万元）",
                                    cost_wan_yuan_per_supply_point, "须由用户给出（文件中无依据）"))
        if cost_wan_yuan_per_supply_point is None:
            notes.append("未给出每处供水点投资：估算投资和预算安排无法计算")
    else:
        if households is None:
            raise ValidationError("a PV ranking needs the households layer")
        if cost_wan_yuan_per_kw is None:
            cost_wan_yuan_per_kw = _median_cost_per_kw(pv_projects)
            if cost_wan_yuan_per_kw is not None:
                notes.append(f"光伏单价取登记光伏项目的投资中位数：{cost_wan_yuan_per_kw:.2f}万元/kW")
            else:
                notes.append("没有可用的光伏投资数据：估算投资和预算安排无法计算")
        need = pv_need(villages, households, pv_projects, pv_households, statuses=pv_statuses,
                       kw_per_household=kw_per_household, cost_wan_yuan_per_kw=cost_wan_yuan_per_kw)
        thresholds += [
            Threshold("kw_per_household", "每户光伏容量（kW）", kw_per_household, "假设：户用光伏3-5 kW"),
            Threshold("cost_wan_yuan_per_kw", "光伏单价（万元/kW）", cost_wan_yuan_per_kw, "默认：登记光伏项目投资中位数"),
            Threshold("pv_statuses", "光伏帮扶对象", tuple(pv_statuses), "未脱贫、计划脱贫、返贫户"),
        ]
    if budget_wan_yuan is not None and need["cost_wan_yuan"].isna().all() and need["unmet_population"].sum() > 0:
        raise ValidationError(
            f"a budget needs project costs; give the {KIND_LABELS[kind]} unit cost "
            + ("(cost_wan_yuan_per_supply_point, CLI --cost-wan-yuan-per-supply-point)" if kind == "water"
               else "(cost_wan_yuan_per_kw, CLI --cost-wan-yuan-per-kw)"))
    ranked, budget, bought = rank_villages(need, v, poor_weight=poor_weight, population_weight=population_weight,
                                           budget_wan_yuan=budget_wan_yuan, rank=rank, optimise=optimise,
                                           item_costs=item_costs if kind == "road" else None)
    columns = ["rank", "village_id", "village_name", "township_name", "category", "population",
               "registered_poor_households", "unmet_population", "unmet_registered_poor_households",
               "unmet_share_pct", "poor_share_pct", "population_share_pct", "poor_component",
               "population_component", "score", "quantity", "quantity_unit", "cost_wan_yuan",
               "score_per_wan_yuan", "poor_households_per_wan_yuan", "people_per_wan_yuan", "funded",
               *(["funded_greedy"] if "funded_greedy" in ranked else []), "cumulative_cost_wan_yuan", "reason"]
    geometry = v.set_index("id").geometry.reindex(ranked["village_id"].to_numpy())
    tables = {"ranking": F.geoframe(ranked[columns].reset_index(drop=True), geometry.to_numpy(), crs=4326)}
    if budget_wan_yuan is not None:
        if kind == "road":  # shared links once: the km bought, not the sum over villages
            lengths = dict(zip(result.tables["links"]["link_id"], result.tables["links"]["length_km"]))
            for position, method in enumerate(budget["method"]):
                funded = ranked["funded_greedy" if method == "greedy" and optimise else "funded"]
                items = {i for mine, yes in zip(ranked["items"], funded.fillna(False)) if yes for i in mine}
                budget.loc[position, "quantity"] = float(sum(lengths.get(i, 0.0) for i in items))
        tables["budget"] = budget
        if optimise:
            notes.append(_gain_note(budget))
    if kind == "road":
        links = result.tables["links"].copy()
        links["funded"] = links["link_id"].isin(bought) if budget_wan_yuan is not None else pd.NA
        extra["links"] = links
    tables.update(extra)
    if not (ranked["score"] > 0).any():
        notes.append("所选范围内没有该类未满足的需求")
    return AnalysisResult(name="priority", title=f"{KIND_LABELS[kind]}项目优先排序", tables=tables, crs=crs,
                          thresholds=tuple(thresholds), notes=tuple(notes), labels=COLUMNS, titles=TABLES,
                          views=VIEWS, values=VALUES)


def _gain_note(budget: pd.DataFrame) -> str:
    greedy, optimal = budget.iloc[0], budget.iloc[1]
    proof = "已证明最优" if optimal["solver_status"] == "OPTIMAL" else "求解限时内的最好结果，未证明最优"
    return (f"预算最优组合（{proof}）覆盖建档立卡户{optimal['unmet_registered_poor_households_served']:,.0f}户、"
            f"人口{optimal['unmet_population_served']:,.0f}人，用款{optimal['spent_wan_yuan']:,.2f}万元；"
            f"按排序依次安排覆盖{greedy['unmet_registered_poor_households_served']:,.0f}户、"
            f"{greedy['unmet_population_served']:,.0f}人，用款{greedy['spent_wan_yuan']:,.2f}万元；"
            f"多覆盖建档立卡户{optimal['gain_registered_poor_households']:,.0f}户、"
            f"人口{optimal['gain_population']:,.0f}人")


def _median_cost_per_kw(pv_projects) -> float | None:
    if pv_projects is None or pv_projects.empty or "investment_wan_yuan" not in pv_projects:
        return None
    capacity = F.as_number(pv_projects["capacity_kw"])
    investment = F.as_number(pv_projects["investment_wan_yuan"])
    per_kw = (investment / capacity.where(capacity > 0)).dropna()
    return float(per_kw.median()) if len(per_kw) else None
