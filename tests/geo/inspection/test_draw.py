"""The draw on small hand-built frames: quotas, shortfalls, fills, scope, reproducibility,
and an independent re-implementation of the documented algorithm."""

from __future__ import annotations

import hashlib
import json
import math

import pytest

from geo.enums import VillageSelection
from geo.errors import ValidationError
from geo.inspection.draw import ALGORITHM, build_frame, diff_frames, draw_sample, select_villages
from geo.inspection.plans import PlanSpec, Stratum, preset_plan, seed003_strata
from geo.enums import HouseholdStatus as S
from tests.geo.inspection.conftest import small_registry

RICH = {("exited", 2014): 3, ("exited", 2015): 2, ("exited", 2018): 4, ("planned_exit", 2019): 6,
        ("registered", None): 5, ("returned", None): 1, ("non_poor", None): 8, ("exited", 2020): 3}
POOR = {("exited", 2014): 1, ("exited", 2018): 2, ("planned_exit", 2019): 3, ("registered", None): 2,
        ("non_poor", None): 1}


def seed003(year=2019, **kwargs) -> PlanSpec:
    return PlanSpec(name="t", year=year, strata=seed003_strata(year), **kwargs)


def draw(spec, villages, households, seed="seed-1"):
    frame = build_frame(spec, villages, households)
    return frame, draw_sample(spec, frame, seed)


def test_quotas_are_met_exactly_where_the_frame_allows():
    villages, households = small_registry({"甲村": RICH, "乙村": RICH, "丙村": RICH})
    _, sample = draw(seed003(), villages, households)
    assert len(sample.households) == 30
    counts = sample.households.groupby(["village_key", "stratum"]).size()
    for village in ("甲镇/甲村", "甲镇/乙村", "乙镇/丙村"):
        assert counts[village].to_dict() == {"exited_earlier": 2, "exited_last_year": 2,
                                             "planned_this_year": 3, "registered": 2, "non_poor": 1}
    assert (sample.tallies["shortfall"] == 0).all() and sample.tallies["met"].all()


def test_shortfalls_are_recorded_and_everything_available_is_taken():
    villages, households = small_registry({"甲村": RICH, "乙村": POOR})
    _, sample = draw(seed003(), villages, households)
    tallies = sample.tallies.set_index(["unit", "stratum"])
    short = tallies.loc[("乙镇/乙村", "exited_earlier")]
    assert (short["available"], short["drawn"], short["shortfall"], short["met"]) == (1, 1, 1, False)
    assert tallies.loc[("乙镇/乙村", "planned_this_year"), "shortfall"] == 0
    assert tallies.loc[("甲镇/甲村", "exited_earlier"), "shortfall"] == 0
    assert int(tallies["shortfall"].sum()) == 1


def test_a_fill_rule_covers_a_shortfall_from_the_named_stratum_and_says_so():
    strata = list(seed003_strata(2019))
    strata[0] = Stratum("exited_earlier", "2014、2015年退出户", (S.EXITED,), 2, 2, 2014, 2015,
                        fill_from="exited_last_year")
    spec = PlanSpec(name="t", year=2019, strata=tuple(strata))
    villages, households = small_registry({"乙村": {**POOR, ("exited", 2018): 4}})
    _, sample = draw(spec, villages, households)
    filled = sample.households[sample.households["filled_for"].notna()]
    assert len(filled) == 1 and filled["stratum"].iloc[0] == "exited_last_year"
    assert filled["filled_for"].iloc[0] == "exited_earlier"
    row = sample.tallies.set_index("stratum").loc["exited_earlier"]
    assert (row["drawn"], row["filled"], row["shortfall"], row["met"]) == (1, 1, 0, True)
    assert (sample.households["stratum"] == "exited_last_year").sum() == 3  # its own 2 plus the fill


def test_no_household_is_drawn_twice_and_strata_follow_the_first_matching_rule():
    villages, households = small_registry({"甲村": RICH, "乙村": RICH})
    frame, sample = draw(seed003(), villages, households)
    assert sample.households["household_code"].is_unique
    by_code = households.set_index("code")
    for code, stratum in zip(sample.households["household_code"], sample.households["stratum"]):
        status, year = by_code.at[code, "status"], by_code.at[code, "status_year"]
        if stratum == "registered":
            assert status in ("registered", "returned", "planned_exit")
            assert not (status == "planned_exit" and year == 2019)  # that is planned_this_year
    # exited after the plan year (2020) belongs to no seed003 stratum: outside the frame, and counted
    late = households[(households["status"] == "exited") & (households["status_year"] == 2020)]["code"]
    assert not set(late) & set(frame.households["household_code"])
    assert frame.outside.to_dict("records") == [{"status": "exited", "status_year": 2020, "households": 6}]
    assert frame.outside_lines() == ["exited 2020: 6"]


def test_only_villages_in_scope_are_sampled():
    villages, households = small_registry({"甲村": RICH, "乙村": RICH, "丙村": RICH, "丁村": RICH})
    in_scope = villages[villages["township_name"] == "乙镇"]
    frame, sample = draw(seed003(), in_scope, households)
    assert set(sample.villages) == {"乙镇/丙村", "乙镇/丁村"}
    assert set(sample.households["village_key"]) <= {"乙镇/丙村", "乙镇/丁村"}
    outside = set(households[households["village_id"].isin([1, 2])]["code"])
    assert not outside & set(sample.households["household_code"])


def test_the_same_seed_and_frame_give_the_same_sample_and_another_seed_another():
    villages, households = small_registry({"甲村": RICH, "乙村": RICH, "丙村": RICH})
    frame, first = draw(seed003(), villages, households, seed="2019-11-05 第37号")
    _, again = draw(seed003(), villages.sample(frac=1, random_state=1), households.sample(frac=1, random_state=2),
                    seed="2019-11-05 第37号")
    assert again.hash == first.hash  # row order of the inputs does not matter
    assert sorted(again.households["household_code"]) == sorted(first.households["household_code"])
    _, other = draw(seed003(), villages, households, seed="2019-11-05 第38号")
    assert set(other.households["household_code"]) != set(first.households["household_code"])
    assert other.hash != first.hash


def test_the_frame_hash_and_diff_name_what_changed():
    villages, households = small_registry({"甲村": RICH, "乙村": RICH})
    before = build_frame(seed003(), villages, households)
    changed = households.copy()
    target = changed.index[changed["status"] == "registered"][0]
    changed.loc[target, ["status", "status_year"]] = ["exited", 2018]
    after = build_frame(seed003(), villages, changed)
    assert after.hash != before.hash
    diff = diff_frames(before, after)
    assert diff["households_restratified"] == [{
        "household_code": changed.at[target, "code"], "from": "registered", "to": "exited_last_year",
        "status_from": "registered", "status_to": "exited 2018"}]
    assert not diff["households_added"] and not diff["households_removed"]
    assert build_frame(seed003(), villages, households).hash == before.hash


def test_random_and_pps_village_selection_pick_k_and_pps_favours_large_villages():
    counts = {f"村{i}": {("registered", None): 3, ("non_poor", None): 1} for i in range(12)}
    villages, households = small_registry(counts)
    villages["households"] = [10] * 11 + [5000]  # one very large village
    spec = PlanSpec(name="t", year=2019, selection=VillageSelection.RANDOM, village_count=4,
                    strata=(Stratum("poor", "贫困户", (S.REGISTERED,), 1, 1),))
    frame = build_frame(spec, villages, households)
    chosen = select_villages(spec, frame, "s")
    assert len(chosen) == 4 and len(set(chosen)) == 4
    pps = PlanSpec(**{**spec.__dict__, "selection": VillageSelection.PPS, "village_count": 1})
    pps_frame = build_frame(pps, villages, households)
    hits = sum(select_villages(pps, pps_frame, f"seed {i}") == ["乙镇/村11"] for i in range(60))
    assert hits >= 50  # inclusion probability 5000/5110 for the first pick


def test_county_spot_draws_8_to_10_poor_and_3_to_5_non_poor_for_the_whole_scope():
    counts = {f"村{i}": {("registered", None): 4, ("exited", 2016): 3, ("non_poor", None): 3} for i in range(5)}
    villages, households = small_registry(counts)
    spec = preset_plan("county-spot", year=2019, name="t")
    _, sample = draw(spec, villages, households)
    assert len(sample.villages) == 3
    sizes = sample.households.groupby("stratum").size()
    assert sizes["poor"] == 10 and sizes["non_poor"] == 5
    assert set(sample.tallies["unit"]) == {"*"}


def test_a_quota_larger_than_any_frame_is_refused_with_a_clear_message():
    villages, households = small_registry({"甲村": RICH, "乙村": POOR})
    with pytest.raises(ValidationError, match=r"planned_this_year .*quota of 3 is larger than the frame.*at most 0.*--year"):
        draw(seed003(year=2021), villages, households)
    spec = PlanSpec(name="t", year=2019, strata=(Stratum("non_poor", "非贫困户", (S.NON_POOR,), 50, 50),))
    with pytest.raises(ValidationError, match="quota of 50 is larger than the frame of any sampled village"):
        draw(spec, villages, households)


def test_an_empty_scope_an_empty_seed_and_too_many_villages_are_refused():
    villages, households = small_registry({"甲村": RICH})
    with pytest.raises(ValidationError, match="scope selects no villages"):
        build_frame(seed003(), villages.iloc[0:0], households)
    with pytest.raises(ValidationError, match="seed is empty"):
        draw(seed003(), villages, households, seed="  ")
    spec = seed003(selection=VillageSelection.RANDOM, village_count=5)
    with pytest.raises(ValidationError, match="asks for 5 villages but its scope has only 1"):
        draw(spec, villages, households)


def test_a_third_party_reimplementation_of_the_documented_algorithm_agrees():
    """Follows the README's description only (hashlib and sorting), not the module's code."""
    villages, households = small_registry({"甲村": RICH, "乙村": POOR, "丙村": RICH})
    seed = "会议公布 4711 2019-11-05"
    frame, sample = draw(seed003(), villages, households, seed=seed)

    def h(part, key):
        return int.from_bytes(hashlib.sha256(f"{seed}\x1f{part}\x1f{key}".encode()).digest(), "big")

    quotas = {"exited_earlier": 2, "exited_last_year": 2, "planned_this_year": 3, "registered": 2, "non_poor": 1}
    expected = set()
    rows = frame.households
    for village in rows["village_key"].unique():
        for stratum, quota in quotas.items():
            codes = rows[(rows["village_key"] == village) & (rows["stratum"] == stratum)]["household_code"]
            expected |= set(sorted(codes, key=lambda c: h("household", c))[:quota])
    assert set(sample.households["household_code"]) == expected
    lines = sorted([f"V\t{k}\t" for k in frame.villages["village_key"]]
                   + [f"H\t{c}\t{v}\t{s}" for c, v, s in rows[["household_code", "village_key", "stratum"]].itertuples(index=False)])
    assert frame.hash == hashlib.sha256("\n".join(lines).encode()).hexdigest()
    # pps: smallest -ln(u)/w with u from the top 53 bits
    u = ((h("village", "甲镇/甲村") >> 203) + 0.5) / 2**53
    assert 0 < u < 1 and math.isfinite(-math.log(u))
    assert ALGORITHM == "atlas-sample/2"


def test_version_1_records_with_a_fill_verify_under_either_encoding_of_empty_filled_for():
    strata = list(seed003_strata(2019))
    strata[0] = Stratum("exited_earlier", "早退出户", (S.EXITED,), 2, 2, 2014, 2015, fill_from="exited_last_year")
    spec = PlanSpec(name="t", year=2019, strata=tuple(strata))
    villages, households = small_registry({"乙村": {**POOR, ("exited", 2018): 4}})
    _, sample = draw(spec, villages, households)
    data = sample.to_dict()
    assert None in [row[3] for row in data["households"]]  # version 2: null, never NaN
    v1 = sample.hashes("atlas-sample/1")
    assert v1[0] == sample.hash == sample.hashes(ALGORITHM)[0] and len(sample.hashes(ALGORITHM)) == 1
    nan_form = json.dumps({**data, "households": [[c, v, st, float("nan") if f is None else f]
                                                  for c, v, st, f in data["households"]]},
                          sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert "NaN" in nan_form and v1[1] == hashlib.sha256(nan_form.encode()).hexdigest()
    with pytest.raises(ValidationError, match="atlas-sample/0"):
        sample.hashes("atlas-sample/0")
