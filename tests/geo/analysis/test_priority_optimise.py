"""Ranking by value for money and the budget optimiser, on need frames worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.analysis.priority import optimise_budget, rank_villages
from geo.errors import ValidationError
from tests.geo.analysis.conftest import point


def _villages(names):
    return gpd.GeoDataFrame({"village_id": list(range(1, len(names) + 1)), "village_name": names,
                             "township_name": ["甲镇"] * len(names), "category": ["poor"] * len(names),
                             "population": [1_000] * len(names), "registered_poor_households": [100] * len(names)},
                            geometry=[point(1_000 * k, 0) for k in range(len(names))], crs=4326)


def _need(rows):
    """rows: (poor households, people, cost [万元], items)."""
    return pd.DataFrame([{"village_id": k + 1, "unmet_population": people, "unmet_registered_poor_households": poor,
                          "quantity": 1.0, "quantity_unit": "km", "cost_wan_yuan": cost, "items": items, "reason": ""}
                         for k, (poor, people, cost, items) in enumerate(rows)])


def test_value_ranks_by_poor_households_per_wan_yuan():
    need = _need([(60, 600, 10.0, [1]), (50, 500, 5.0, [2]), (10, 900, 1.0, [3])])
    ranked, _, _ = rank_villages(need, _villages(["大村", "中村", "小村"]), rank="value")
    assert list(ranked["village_name"]) == ["小村", "中村", "大村"]  # 10, 10 and 6 households a 万元
    assert list(ranked["rank"]) == [1, 2, 3]
    assert ranked.set_index("village_name").loc["大村", "poor_households_per_wan_yuan"] == pytest.approx(6.0)
    by_need, _, _ = rank_villages(need, _villages(["大村", "中村", "小村"]))
    assert by_need.iloc[0]["village_name"] == "大村"
    with pytest.raises(ValidationError, match="rank must be one of need, value"):
        rank_villages(need, _villages(["大村", "中村", "小村"]), rank="cheapest")


def test_the_optimiser_beats_greedy_where_rank_order_is_wrong():
    # by need, 大村 (60 households, 10 万元) comes first and fills the 10 万元 budget; the two
    # small villages together reach 100 households for the same money.
    need = _need([(60, 600, 10.0, [1]), (50, 500, 5.0, [2]), (50, 500, 5.0, [3])])
    costs = {1: 10.0, 2: 5.0, 3: 5.0}
    ranked, budget, bought = rank_villages(need, _villages(["大村", "东村", "西村"]), budget_wan_yuan=10,
                                           item_costs=costs, optimise=True)
    rows = ranked.set_index("village_name")
    assert rows.loc["大村", "funded_greedy"] and not rows.loc["东村", "funded_greedy"]
    assert not rows.loc["大村", "funded"] and rows.loc["东村", "funded"] and rows.loc["西村", "funded"]
    assert bought == {2, 3}
    greedy, optimal = budget.iloc[0], budget.iloc[1]
    assert greedy["method"] == "greedy" and greedy["unmet_registered_poor_households_served"] == 60
    assert optimal["method"] == "optimal" and optimal["unmet_registered_poor_households_served"] == 100
    assert optimal["gain_registered_poor_households"] == 40 and optimal["solver_status"] == "OPTIMAL"
    assert optimal["spent_wan_yuan"] == pytest.approx(10.0)


def test_a_shared_link_is_paid_once_by_the_optimiser():
    # 东村 and 西村 both need link 7 (8 万元); 大村 needs link 9 (9 万元); 10 万元 buys one link.
    need = _need([(60, 600, 9.0, [9]), (50, 500, 8.0, [7]), (50, 500, 8.0, [7])])
    chosen, bought, status = optimise_budget(rank_villages(need, _villages(["大村", "东村", "西村"]))[0], 10.0,
                                             {7: 8.0, 9: 9.0})
    assert chosen == {2, 3} and bought == {7} and status == "OPTIMAL"


def test_optimise_needs_a_budget():
    need = _need([(60, 600, 9.0, [9])])
    with pytest.raises(ValidationError, match="optimise needs a budget"):
        rank_villages(need, _villages(["大村"]), optimise=True)


def test_the_optimiser_never_overspends_on_rounding():
    # three villages of 3.334 万元 each: 10 万元 buys two, not three (rounded down they would fit)
    need = _need([(10, 100, 3.334, [1]), (10, 100, 3.334, [2]), (10, 100, 3.334, [3])])
    chosen, _, _ = optimise_budget(rank_villages(need, _villages(["甲村", "乙村", "丙村"]))[0], 10.0)
    assert len(chosen) == 2


def test_villages_without_need_come_last_by_value():
    need = _need([(0, 0, 0.0, []), (50, 500, 5.0, [2]), (10, 100, np.nan, [])])
    ranked, _, _ = rank_villages(need, _villages(["通村", "中村", "未知村"]), rank="value")
    assert list(ranked["village_name"]) == ["中村", "未知村", "通村"]
    assert list(ranked["rank"].astype(object).where(ranked["rank"].notna(), None)) == [1, 2, None]
