"""An independent implementation of ``docs/sampling-algorithm.md``, from the exported frame CSV
and the plan's JSON only, with nothing but ``hashlib``, ``json``, ``math`` and ``csv``: it must
match atlas's frame hash, households and result hash at the first try, for every preset."""

from __future__ import annotations

import csv
import hashlib
import json
import math

import pytest

from geo.inspection import exports
from geo.inspection.draw import build_frame, draw_sample
from geo.inspection.plans import plan_from_dict, preset_plan
from tests.geo.inspection.conftest import small_registry

# ---------------------------------------------------------------------- the re-implementation
# Written from the document; it never imports geo.


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def reimplemented_draw(seed: str, plan: dict, frame_rows: list[dict]) -> tuple[str, list[list], str]:
    """(frame hash, households, result hash) per the specification."""
    def h(part, key):
        return int.from_bytes(hashlib.sha256(f"{seed}\x1f{part}\x1f{key}".encode("utf-8")).digest(), "big")

    villages = {r["村"]: int(r["权重(户数)"]) for r in frame_rows if r["类型"] == "村"}
    households = [(r["户编号"], r["村"], r["抽样层"]) for r in frame_rows if r["类型"] == "户"]
    select = plan["villages"]["select"]
    # section 4: the frame hash
    lines = [f"V\t{k}\t{w if select == 'pps' else ''}" for k, w in villages.items()]
    lines += [f"H\t{c}\t{v}\t{s}" for c, v, s in households]
    frame_hash = sha("\n".join(sorted(lines)))
    # section 5: villages
    if select == "pps":
        def pps_key(key):
            u = ((h("village", key) // 2**203) + 0.5) / 2**53
            return (-math.log(u) / villages[key], h("village", key))
        chosen = sorted((k for k, w in villages.items() if w > 0), key=pps_key)[: plan["villages"]["count"]]
    else:
        chosen = sorted(villages, key=lambda k: h("village", k))
        if select == "random":
            chosen = chosen[: plan["villages"]["count"]]
    # section 6: households
    per_scope = plan["households"]["per"] == "scope"
    units = ["*"] if per_scope else chosen
    strata = plan["households"]["strata"]
    lists = {}
    for code, village, stratum in sorted(households, key=lambda x: h("household", x[0])):
        if village in chosen:
            lists.setdefault(("*" if per_scope else village, stratum), []).append((code, village))
    picked, tallies = [], []
    for unit in units:
        used, rows = {}, {}
        for s in strata:
            minimum, target = s["quota"]
            own = lists.get((unit, s["key"]), [])
            take = own[:target]
            used[s["key"]] = len(take)
            picked += [[c, v, s["key"], None] for c, v in take]
            rows[s["key"]] = [unit, s["key"], target, minimum, len(own), len(take), 0]
        for s in strata:
            missing = s["quota"][1] - rows[s["key"]][5]
            if missing > 0 and s["fill_from"]:
                f = s["fill_from"]
                extra = lists.get((unit, f), [])[used[f]: used[f] + missing]
                used[f] += len(extra)
                picked += [[c, v, f, s["key"]] for c, v in extra]
                rows[s["key"]][6] = len(extra)
        for s in strata:
            unit_, key, wanted, minimum, available, drawn, filled = rows[s["key"]]
            tallies.append([unit_, key, wanted, minimum, available, drawn, filled, wanted - drawn - filled,
                            drawn + filled >= minimum])
    picked.sort(key=lambda row: row[0])
    result = {"villages": chosen, "households": picked, "tallies": tallies}
    return frame_hash, picked, sha(canonical(result))


# ---------------------------------------------------------------------- the comparison

SEED003_VILLAGE = {("exited", 2013): 1, ("exited", 2015): 2, ("exited", 2016): 2, ("exited", 2017): 3,
                   ("exited", 2018): 4, ("exited", 2019): 1, ("planned_exit", 2019): 3, ("registered", None): 3,
                   ("returned", None): 1, ("non_poor", None): 6, ("exited", 2020): 2, ("exited", None): 1}
FILL_PLAN = {
    "name": "fill", "year": 2019, "villages": {"select": "random", "count": 2},
    "households": {"per": "village", "strata": [
        {"key": "recent", "statuses": ["exited"], "years": ["this-1", "this"], "quota": [2, 4],
         "fill_from": "poor"},
        {"key": "poor", "statuses": ["registered", "returned", "planned_exit"], "quota": 2},
        {"key": "non_poor", "statuses": ["non_poor"], "quota": [0, 1]},
    ]},
}


def _registry():
    counts = {f"村{i:02d}": {k: (n + i) % 5 + (1 if k[0] == "non_poor" else 0) for k, n in SEED003_VILLAGE.items()}
              for i in range(9)}
    villages, households = small_registry(counts)
    villages.loc[villages.index[::3], "code"] = [f"64050200{i:04d}" for i in range(len(villages.index[::3]))]
    villages.loc[villages.index[4], "households"] = None  # weight from the registry's count
    return villages, households


@pytest.mark.parametrize("plan", ["seed003", "county-spot", "fill-file"])
@pytest.mark.parametrize("seed", ["2019-11-05 会议公布号码 4711", "7"])
def test_the_documented_draw_reimplemented_with_hashlib_matches_at_the_first_try(plan, seed, tmp_path):
    villages, households = _registry()
    if plan == "fill-file":
        spec = plan_from_dict(FILL_PLAN)
    else:
        spec = preset_plan(plan, year=2019)
    frame = build_frame(spec, villages, households)
    sample = draw_sample(spec, frame, seed)
    # what an auditor gets: the exported frame CSV and the plan's JSON
    path = tmp_path / "frame.csv"
    exports.write_csv(exports.frame_table(frame, seed), path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    plan_json = json.loads(spec.to_json())

    frame_hash, picked, result_hash = reimplemented_draw(seed, plan_json, rows)

    assert frame_hash == frame.hash
    assert picked == [[c, v, s, None if f is None or f != f else f] for c, v, s, f in sample.households.sort_values(
        "household_code")[["household_code", "village_key", "stratum", "filled_for"]].itertuples(index=False)]
    assert result_hash == sample.hash
    # the ordering keys in the CSV are H(part, key) in hex, as documented
    first = next(r for r in rows if r["类型"] == "户")
    digest = hashlib.sha256(f"{seed}\x1fhousehold\x1f{first['户编号']}".encode()).hexdigest()
    assert first["排序键(SHA-256)"] == digest
    if spec.selection.value == "pps":
        assert all(r["PPS键"] for r in rows if r["类型"] == "村")
    if plan == "fill-file":
        assert sample.households["filled_for"].notna().any()  # the fill rule was exercised


def test_the_seed003_frame_of_2019_holds_every_exit_cohort_and_reports_the_rest():
    villages, households = _registry()
    frame = build_frame(preset_plan("seed003", year=2019), villages, households)
    codes = set(frame.households["household_code"])
    exited = households[households["status"] == "exited"]
    for year in (2017, 2018, 2019):
        cohort = set(exited[exited["status_year"] == year]["code"])
        assert cohort and cohort <= codes, year
    by_year = dict(zip(frame.households["status_year"], frame.households["stratum"]))
    assert by_year[2017] == "exited_earlier" and by_year[2018] == "exited_last_year"
    left = {(r["status"], r["status_year"]): r["households"] for r in frame.outside.to_dict("records")}
    assert set(left) == {("exited", 2020), ("exited", None)}
    assert sum(left.values()) == len(households) - len(frame.households)
