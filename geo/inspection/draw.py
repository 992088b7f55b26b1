"""The draw: a sampling frame, a seed string, and a result anyone can recompute.

Pure functions over frames (no database). The algorithm, version ``atlas-sample/2``, is
specified step by step in ``docs/sampling-algorithm.md`` so a third party can re-implement it
(``tests/geo/inspection/test_specification.py`` does, with hashlib only); in short:

* ``H(part, key) = SHA-256(seed + U+001F + part + U+001F + key)`` read as a 256-bit
  big-endian integer; every random choice is an ordering by ``H``;
* villages: ``all``; ``random`` = the ``k`` smallest ``H("village", village_key)``;
  ``pps`` = the ``k`` smallest ``-ln(u) / weight`` with
  ``u = (floor(H / 2**203) + 0.5) / 2**53`` (Efraimidis-Spirakis: successive sampling with
  probability proportional to households);
* households: within each unit (a sampled village, or the whole scope) and stratum, the
  ``quota`` households with the smallest ``H("household", household_code)``; shortfalls
  are recorded and, where a stratum names ``fill_from``, covered from that stratum's
  leftovers in the same order.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from geo.enums import VillageSelection
from geo.errors import ValidationError
from geo.inspection.plans import PlanSpec, canonical_json

ALGORITHM = "atlas-sample/2"
#: Versions whose records this module still verifies. ``/1`` is ``/2`` except that, once a
#: ``fill_from`` had filled a household, the other households' ``filled_for`` could be written
#: as ``NaN`` (pandas 3) instead of ``null`` in the result JSON that is hashed.
ALGORITHMS = ("atlas-sample/1", ALGORITHM)
SCOPE_UNIT = "*"
_SEP = "\x1f"


def hash_int(seed: str, part: str, key: str) -> int:
    """``H(part, key)``: SHA-256 of ``seed, part, key`` joined by U+001F, as an integer."""
    digest = hashlib.sha256(_SEP.join((seed, part, key)).encode("utf-8")).digest()
    return int.from_bytes(digest, "big")


def hash_uniform(seed: str, part: str, key: str) -> float:
    """A number in (0, 1) from the top 53 bits of ``H`` (exact in a double)."""
    return ((hash_int(seed, part, key) >> 203) + 0.5) / 2.0**53


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def village_key(code: Any, township_name: str, name: str) -> str:
    """A village's key in the frame: its 12-digit code, else ``township/name``."""
    if code is not None and not (isinstance(code, float) and math.isnan(code)) and str(code).strip():
        return str(code).strip()
    return f"{township_name}/{name}"


# ---------------------------------------------------------------------- the frame

_VILLAGE_COLUMNS = ["village_key", "village_id", "village_name", "township_name", "category", "weight"]
_HOUSEHOLD_COLUMNS = ["household_code", "household_id", "village_key", "stratum", "status", "status_year"]
_OUTSIDE_COLUMNS = ["status", "status_year", "households"]


@dataclass(frozen=True)
class Frame:
    """The sampling frame: villages in scope and their households that fall in a stratum.

    ``villages``: village_key, village_id, village_name, township_name, category, weight
    (households, used by ``pps``; 0 otherwise). ``households``: household_code,
    household_id, village_key, stratum, status, status_year.
    """

    villages: pd.DataFrame
    households: pd.DataFrame
    uses_weights: bool
    #: Households of the scope in no stratum, counted by status and status_year (not hashed:
    #: the frame hash covers only what can be drawn); None for frames recorded before it was kept.
    outside: pd.DataFrame | None = None

    def lines(self) -> list[str]:
        """The hashed lines, sorted: ``V<TAB>village_key<TAB>weight`` (weight empty unless the
        plan selects by pps) and ``H<TAB>household_code<TAB>village_key<TAB>stratum``."""
        out = [f"V\t{k}\t{int(w) if self.uses_weights else ''}"
               for k, w in zip(self.villages["village_key"], self.villages["weight"])]
        out += [f"H\t{c}\t{v}\t{s}" for c, v, s in zip(
            self.households["household_code"], self.households["village_key"], self.households["stratum"])]
        return sorted(out)

    @property
    def hash(self) -> str:
        """SHA-256 (hex) of the sorted lines joined by ``\\n``, UTF-8."""
        return sha256_hex("\n".join(self.lines()))

    def to_dict(self) -> dict[str, Any]:
        v = self.villages.sort_values("village_key")
        h = self.households.sort_values("household_code")
        out = {
            "uses_weights": self.uses_weights,
            "villages": [[_plain(x) for x in row] for row in v[_VILLAGE_COLUMNS].itertuples(index=False)],
            "households": [[_plain(x) for x in row] for row in h[_HOUSEHOLD_COLUMNS].itertuples(index=False)],
        }
        if self.outside is not None:
            out["outside"] = [[_plain(x) for x in row] for row in self.outside[_OUTSIDE_COLUMNS].itertuples(index=False)]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Frame:
        outside = data.get("outside")
        return cls(pd.DataFrame(data["villages"], columns=_VILLAGE_COLUMNS),
                   pd.DataFrame(data["households"], columns=_HOUSEHOLD_COLUMNS),
                   bool(data["uses_weights"]),
                   None if outside is None else pd.DataFrame(outside, columns=_OUTSIDE_COLUMNS, dtype=object))

    def outside_lines(self) -> list[str]:
        """The households left out, one line per status and year, e.g. ``exited 2020: 12``."""
        if self.outside is None:
            return ["not recorded (frame recorded before atlas kept it)"]
        return [f"{_status_text(s, y)}: {int(n)}" for s, y, n in self.outside[_OUTSIDE_COLUMNS].itertuples(index=False)]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def build_frame(spec: PlanSpec, villages: pd.DataFrame, households: pd.DataFrame) -> Frame:
    """The frame of ``spec`` from the villages in scope and the registry's households.

    Parameters
    ----------
    villages
        The villages in scope: ``id``, ``code``, ``name``, ``township_name``, ``category``,
        ``households`` (count, may be null).
    households
        Households: ``id``, ``code``, ``village_id``, ``status``, ``status_year``. Those of
        other villages, and those matching no stratum, are left out.

    Raises
    ------
    ValidationError
        No village in scope, or no household of the scope in any stratum.
    """
    if villages.empty:
        raise ValidationError("the plan's scope selects no villages; widen the townships or "
                              "categories, or exclude fewer villages")
    keys = [village_key(c, t, n) for c, t, n in zip(villages["code"], villages["township_name"], villages["name"])]
    counted = households.groupby("village_id").size()
    weight = []
    for vid, stated in zip(villages["id"], villages["households"]):
        stated = None if pd.isna(stated) else int(stated)
        weight.append(stated if stated and stated > 0 else int(counted.get(vid, 0)))
    v = pd.DataFrame({"village_key": keys, "village_id": villages["id"].astype(int).to_numpy(),
                      "village_name": villages["name"].to_numpy(),
                      "township_name": villages["township_name"].to_numpy(),
                      "category": villages["category"].astype(str).to_numpy(), "weight": weight})
    key_of = dict(zip(v["village_id"], v["village_key"]))
    h = households[households["village_id"].isin(key_of)]
    strata = []
    for status, year in zip(h["status"].astype(str), h["status_year"]):
        year = None if pd.isna(year) else int(year)
        strata.append(next((s.key for s in spec.strata if s.matches(status, year)), None))
    frame_h = pd.DataFrame({
        "household_code": h["code"].astype(str).to_numpy(), "household_id": h["id"].astype(int).to_numpy(),
        "village_key": h["village_id"].map(key_of).to_numpy(), "stratum": strata,
        "status": h["status"].astype(str).to_numpy(),
        "status_year": [None if pd.isna(y) else int(y) for y in h["status_year"]],
    })
    outside = _count_outside(frame_h[frame_h["stratum"].isna()])
    frame_h = frame_h[frame_h["stratum"].notna()].reset_index(drop=True)
    if frame_h.empty:
        raise ValidationError(
            f"no household of the {len(v)} village(s) in scope falls in any stratum of the plan "
            f"({', '.join(s.key for s in spec.strata)}); check the plan year and the strata's statuses")
    return Frame(v, frame_h, spec.selection == VillageSelection.PPS, outside)


def _count_outside(left_out: pd.DataFrame) -> pd.DataFrame:
    """Households in no stratum by status and status_year (no year sorts first)."""
    counts: dict[tuple[str, int | None], int] = {}
    for status, year in zip(left_out["status"], left_out["status_year"]):
        key = (str(status), None if year is None or pd.isna(year) else int(year))
        counts[key] = counts.get(key, 0) + 1
    rows = [[s, y, n] for (s, y), n in sorted(counts.items(), key=lambda i: (i[0][0], i[0][1] is not None,
                                                                             i[0][1] or 0))]
    return pd.DataFrame(rows, columns=_OUTSIDE_COLUMNS, dtype=object)  # years stay int or None


# ---------------------------------------------------------------------- the draw


@dataclass(frozen=True)
class Sample:
    """A draw's result.

    ``villages``: the sampled village keys in selection order. ``households``: household_code,
    village_key, stratum, filled_for. ``tallies``: per unit and stratum: wanted (quota),
    minimum, available, drawn, filled (covered from ``fill_from``), shortfall, met.
    """

    villages: list[str]
    households: pd.DataFrame
    tallies: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        h = self.households.sort_values("household_code")
        return {
            "villages": list(self.villages),
            "households": [[c, v, s, _plain(f)] for c, v, s, f in h[
                ["household_code", "village_key", "stratum", "filled_for"]].itertuples(index=False)],
            "tallies": [[_plain(x) for x in row] for row in self.tallies.itertuples(index=False)],
        }

    @property
    def hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`to_dict` (``filled_for`` null when empty)."""
        return sha256_hex(canonical_json(self.to_dict()))

    def hashes(self, algorithm: str) -> list[str]:
        """The result hashes this sample may carry in a record of ``algorithm``: for
        ``atlas-sample/1`` also the form with ``NaN`` for an empty ``filled_for`` beside a
        filled one (what version 1 wrote under pandas 3).

        Raises
        ------
        ValidationError
            An algorithm this module does not implement.
        """
        if algorithm not in ALGORITHMS:
            raise ValidationError(f"drawn with {algorithm}; this atlas implements {', '.join(ALGORITHMS)}")
        out = [self.hash]
        data = self.to_dict()
        if algorithm == "atlas-sample/1" and any(row[3] is not None for row in data["households"]):
            data["households"] = [[c, v, s, float("nan") if f is None else f] for c, v, s, f in data["households"]]
            out.append(sha256_hex(canonical_json(data)))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sample:
        h = pd.DataFrame(data["households"], columns=["household_code", "village_key", "stratum", "filled_for"])
        t = pd.DataFrame(data["tallies"], columns=_TALLY_COLUMNS)
        return cls(list(data["villages"]), h, t)


_TALLY_COLUMNS = ["unit", "stratum", "wanted", "minimum", "available", "drawn", "filled", "shortfall", "met"]


def select_villages(spec: PlanSpec, frame: Frame, seed: str) -> list[str]:
    """The sampled village keys, in selection order.

    Raises
    ------
    ValidationError
        More villages asked for than the scope has, or pps with no household counts.
    """
    keys = list(frame.villages["village_key"])
    if spec.selection == VillageSelection.ALL:
        return sorted(keys, key=lambda k: hash_int(seed, "village", k))
    k = int(spec.village_count or 0)
    if k > len(keys):
        raise ValidationError(f"the plan asks for {k} villages but its scope has only {len(keys)}; "
                              "lower the count (--villages) or widen the scope")
    if spec.selection == VillageSelection.RANDOM:
        return sorted(keys, key=lambda key: hash_int(seed, "village", key))[:k]
    weights = dict(zip(frame.villages["village_key"], frame.villages["weight"]))
    positive = [key for key in keys if weights[key] > 0]
    if len(positive) < k:
        raise ValidationError(f"selection by pps needs household counts: only {len(positive)} of the "
                              f"villages in scope have any, fewer than the {k} asked for")

    def pps_key(key: str) -> tuple[float, int]:
        return (-math.log(hash_uniform(seed, "village", key)) / weights[key], hash_int(seed, "village", key))

    return sorted(positive, key=pps_key)[:k]


def draw_sample(spec: PlanSpec, frame: Frame, seed: str) -> Sample:
    """Draw the plan's sample from ``frame`` with ``seed`` (algorithm ``atlas-sample/2``).

    Raises
    ------
    ValidationError
        An empty seed; more villages than the scope has; a stratum whose minimum quota no
        unit of the sample can meet (the quota is larger than every frame).
    """
    if not str(seed).strip():
        raise ValidationError("the seed is empty; announce a seed string (e.g. a number drawn in "
                              "the meeting and the date) and pass it with --seed")
    chosen = select_villages(spec, frame, seed)
    h = frame.households[frame.households["village_key"].isin(chosen)].copy()
    h["rank"] = [hash_int(seed, "household", c) for c in h["household_code"]]
    h = h.sort_values("rank", kind="stable")
    units = list(chosen) if spec.quota_per == "village" else [SCOPE_UNIT]
    h["unit"] = h["village_key"] if spec.quota_per == "village" else SCOPE_UNIT
    # (unit, stratum) -> [(code, village_key), ...] in hash order
    groups = {key: list(zip(g["household_code"], g["village_key"]))
              for key, g in h.groupby(["unit", "stratum"], sort=False)}
    _check_quotas(spec, units, groups)
    picked: list[tuple[str, str, str, str | None]] = []
    tallies = []
    for unit in units:
        by_stratum = {s.key: groups.get((unit, s.key), []) for s in spec.strata}
        used = {s.key: 0 for s in spec.strata}
        rows = {}
        for s in spec.strata:
            take = by_stratum[s.key][: s.quota]
            used[s.key] = len(take)
            picked += [(code, vkey, s.key, None) for code, vkey in take]
            rows[s.key] = {"unit": unit, "stratum": s.key, "wanted": s.quota, "minimum": s.minimum,
                           "available": len(by_stratum[s.key]), "drawn": len(take), "filled": 0}
        for s in spec.strata:
            missing = s.quota - rows[s.key]["drawn"]
            if missing > 0 and s.fill_from:
                source = by_stratum[s.fill_from]
                extra = source[used[s.fill_from]: used[s.fill_from] + missing]
                used[s.fill_from] += len(extra)
                picked += [(code, vkey, s.fill_from, s.key) for code, vkey in extra]
                rows[s.key]["filled"] = len(extra)
        for s in spec.strata:
            row = rows[s.key]
            row["shortfall"] = s.quota - row["drawn"] - row["filled"]
            row["met"] = row["drawn"] + row["filled"] >= s.minimum
            tallies.append(row)
    households = pd.DataFrame(picked, columns=["household_code", "village_key", "stratum", "filled_for"])
    return Sample(chosen, households, pd.DataFrame(tallies, columns=_TALLY_COLUMNS))


def _check_quotas(spec: PlanSpec, units: list[str], groups: dict[tuple[str, str], list]) -> None:
    for s in spec.strata:
        if s.minimum == 0:
            continue
        best = 0
        for unit in units:
            available = len(groups.get((unit, s.key), []))
            if s.fill_from:
                available += max(0, len(groups.get((unit, s.fill_from), [])) - spec.stratum(s.fill_from).quota)
            best = max(best, available)
        if best < s.minimum:
            where = "any sampled village" if spec.quota_per == "village" else "the sampled villages together"
            raise ValidationError(
                f"stratum {s.key} ({s.label}): the quota of {s.minimum} is larger than the frame of "
                f"{where} (at most {best} household(s)); check the plan year (--year), the "
                "stratum's statuses and years, or lower its quota")


# ---------------------------------------------------------------------- the chain of records

#: ``prev_hash`` of the first draw record.
GENESIS = "0" * 64


def record_hash(*, plan_id: int, name: str, seed: str, algorithm: str, spec_json: str, frame_hash: str,
                result_hash: str, frame_json: str, result_json: str, prev_hash: str) -> str:
    """The hash of one draw record, covering the record before it (``prev_hash``).

    SHA-256 (hex) of the canonical JSON of the plan id and name, seed, algorithm, the frame and
    result hashes, the SHA-256 of the stored plan, frame and result texts, and ``prev_hash``.
    Deleting, reordering or editing a record breaks the link of the record after it.
    """
    body = {
        "plan_id": int(plan_id), "name": name, "seed": seed, "algorithm": algorithm,
        "spec_sha256": sha256_hex(spec_json), "frame_hash": frame_hash, "result_hash": result_hash,
        "frame_json_sha256": sha256_hex(frame_json), "result_json_sha256": sha256_hex(result_json),
        "prev_hash": prev_hash,
    }
    return sha256_hex(canonical_json(body))


# ---------------------------------------------------------------------- comparing frames


def diff_frames(old: Frame, new: Frame) -> dict[str, list]:
    """What changed between two frames: households added, removed, re-stratified or moved,
    villages added, removed or re-weighted (codes and keys only, never personal data)."""
    o = old.households.set_index("household_code")
    n = new.households.set_index("household_code")
    added = sorted(set(n.index) - set(o.index))
    removed = sorted(set(o.index) - set(n.index))
    both = sorted(set(o.index) & set(n.index))
    restratified = [
        {"household_code": c, "from": o.at[c, "stratum"], "to": n.at[c, "stratum"],
         "status_from": _status_text(o.at[c, "status"], o.at[c, "status_year"]),
         "status_to": _status_text(n.at[c, "status"], n.at[c, "status_year"])}
        for c in both if o.at[c, "stratum"] != n.at[c, "stratum"]
    ]
    moved = [{"household_code": c, "from": o.at[c, "village_key"], "to": n.at[c, "village_key"]}
             for c in both if o.at[c, "village_key"] != n.at[c, "village_key"]]
    ov = old.villages.set_index("village_key")
    nv = new.villages.set_index("village_key")
    villages_added = sorted(set(nv.index) - set(ov.index))
    villages_removed = sorted(set(ov.index) - set(nv.index))
    reweighted = []
    if old.uses_weights or new.uses_weights:
        reweighted = [{"village_key": k, "from": int(ov.at[k, "weight"]), "to": int(nv.at[k, "weight"])}
                      for k in sorted(set(ov.index) & set(nv.index)) if ov.at[k, "weight"] != nv.at[k, "weight"]]
    return {
        "households_added": [{"household_code": c, "stratum": n.at[c, "stratum"]} for c in added],
        "households_removed": [{"household_code": c, "stratum": o.at[c, "stratum"]} for c in removed],
        "households_restratified": restratified,
        "households_moved": moved,
        "villages_added": villages_added,
        "villages_removed": villages_removed,
        "villages_reweighted": reweighted,
    }


def _status_text(status: Any, year: Any) -> str:
    year = _plain(year)
    return f"{status} {int(year)}" if year is not None else str(status)


def diff_samples(old: Sample, new: Sample) -> dict[str, list[str]]:
    """Households and villages that a redraw would add to or drop from the recorded sample."""
    a, b = set(old.households["household_code"]), set(new.households["household_code"])
    return {"households_in": sorted(b - a), "households_out": sorted(a - b),
            "villages_in": sorted(set(new.villages) - set(old.villages)),
            "villages_out": sorted(set(old.villages) - set(new.villages))}
