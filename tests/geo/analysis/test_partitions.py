"""County partitions and the combined result, on tiny hand-made frames."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis.partitions import NO_COUNTY, combine_results, county_of, county_partitions, rerank
from geo.analysis.result import AnalysisResult, Threshold
from geo.errors import ValidationError


@pytest.mark.parametrize(("code", "county"), [
    ("640502100", "640502"), (" 640521001 ", "640521"), (None, NO_COUNTY), (float("nan"), NO_COUNTY),
    ("64050210", NO_COUNTY), ("6405021001", NO_COUNTY), ("64050210X", NO_COUNTY)])
def test_a_townships_county_is_its_codes_first_six_digits(code, county):
    assert county_of(code) == county


def test_partitions_in_code_order_with_the_uncoded_last():
    towns = pd.DataFrame({"id": [5, 1, 2, 9, 3], "code": ["640521001", None, "640502002", "640502001", "bad"]})
    assert county_partitions(towns) == {"640502": [2, 9], "640521": [5], NO_COUNTY: [1, 3]}


def _ranking(rows):
    return pd.DataFrame(rows, columns=["village_id", "unmet_registered_poor_households", "unmet_population",
                                       "cost_wan_yuan", "county_code", "rank", "score"])


def test_a_township_without_a_code_goes_with_the_county_it_is_filed_under():
    towns = pd.DataFrame({"id": [1, 2, 3, 4], "code": ["640521100", None, None, "640502100"],
                          "county_code": ["640502", "640502", None, "640502"]})
    # a code of its own wins over the county it is filed under (the write checks make them agree)
    assert county_partitions(towns) == {"640502": [2, 4], "640521": [1], NO_COUNTY: [3]}


def test_the_ranking_is_redone_with_the_whole_areas_shares():
    # county A alone would give village 1 a score of 100; with county B's need beside it the
    # shares are of 30 poor households and 300 people
    ranking = _ranking([(1, 10, 100, 5.0, "A", 1, 100.0), (2, 20, 200, 1.0, "B", 1, 100.0),
                        (3, 0, 0, 1.0, "B", None, 0.0)])
    out = rerank(ranking, poor_weight=1.0, population_weight=1.0)
    assert out["village_id"].tolist() == [2, 1, 3]
    assert out["score"].tolist() == pytest.approx([100 * 2 / 3, 100 / 3, 0.0])
    assert out["rank"].tolist()[:2] == [1, 2] and pd.isna(out["rank"].iloc[2])
    by_value = rerank(ranking, rank="value", poor_weight=1.0, population_weight=1.0)
    assert by_value["village_id"].tolist() == [2, 1, 3]  # 20 per 万元 before 2 per 万元


def test_a_budget_cannot_be_split_by_county():
    ranking = _ranking([(1, 10, 100, 5.0, "A", 1, 100.0)]).assign(funded=[True])
    with pytest.raises(ValidationError, match="budget cannot be spent county by county"):
        rerank(ranking, poor_weight=1.0, population_weight=1.0)


def test_cadre_loads_are_summed_over_the_counties():
    def part(carried):
        cadres = pd.DataFrame({"cadre_id": [7, 8], "cadre_name": ["甲", "乙"], "households_carried": carried,
                               "over_limit": [False, False], "households_over_limit": [0, 0],
                               "village_names": ["一村", ""]})
        return AnalysisResult(name="coverage", title="帮扶覆盖分析", tables={"cadres": cadres},
                              thresholds=(Threshold("max_households_per_cadre", "上限", 5, "seed"),))
    combined = combine_results([("640502", part([3, 0])), ("640521", part([4, 1]))])
    cadres = combined.tables["cadres"].set_index("cadre_id")
    assert cadres.loc[7, "households_carried"] == 7 and bool(cadres.loc[7, "over_limit"])
    assert cadres.loc[7, "households_over_limit"] == 2 and cadres.loc[7, "county_code"] == "640502、640521"
    assert cadres.loc[8, "households_carried"] == 1 and not cadres.loc[8, "over_limit"]


def test_results_of_different_analyses_are_not_combined():
    a = AnalysisResult(name="roads", title="", tables={"villages": pd.DataFrame({"x": [1]})})
    b = AnalysisResult(name="water", title="", tables={"villages": pd.DataFrame({"x": [1]})})
    with pytest.raises(ValidationError, match="different analyses: roads, water"):
        combine_results([("1", a), ("2", b)])
    with pytest.raises(ValidationError, match="no county"):
        combine_results([])
