"""Inspection plans: scope, village selection and household strata, with the two presets the
seeds describe and a YAML/JSON file format for any other scheme.

A plan is data (:class:`PlanSpec`); it says nothing about the database. Its canonical JSON
(:meth:`PlanSpec.to_dict`) is stored with the draw, so a draw can always be re-run exactly.

Strata are tried in order: a household belongs to the *first* stratum whose statuses and year
range it matches, and to none if it matches none (it is then outside the sampling frame).

File format (YAML or JSON; every key but ``households.strata`` is optional)::

    name: 2019年沙坡头区脱贫攻坚大检查        # default: made from preset, year and seed
    year: 2019                               # "this year"; default: the current year
    scope:
      townships: [迎水桥镇, 东园镇]           # names, 9-digit codes or ids; default: all
      categories: [key_poor, 贫困村]          # village categories (value or label)
      exclude_villages: [沙坡头村, 迎水桥镇/夹道村]   # name, code or township/name
    villages:
      select: all | random | pps             # pps: probability proportional to households
      count: 5                               # for random and pps
    households:
      per: village | scope                   # quotas per sampled village, or for the whole scope
      strata:
        - key: exited_earlier                 # letters, digits, underscores
          label: 2017年及以前退出户
          statuses: [exited]                  # registered exited planned_exit returned non_poor
          years: [null, this-2]               # status_year range, inclusive; "this", "this-1" ...
          quota: 2                            # or [minimum, maximum], e.g. [8, 10]
          fill_from: exited_last_year         # optional: cover a shortfall from that stratum
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from geo.enums import HouseholdStatus, VillageCategory, VillageSelection
from geo.errors import NotFound, ValidationError

PRESETS = ("seed003", "county-spot")
QuotaPer = Literal["village", "scope"]
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_POOR = (HouseholdStatus.REGISTERED, HouseholdStatus.EXITED, HouseholdStatus.PLANNED_EXIT,
         HouseholdStatus.RETURNED)


@dataclass(frozen=True)
class Stratum:
    """One household stratum: a status rule and its quota.

    Attributes
    ----------
    key, label
        Identifier and the Chinese name shown on forms.
    statuses
        Household statuses that belong here.
    year_from, year_to
        Inclusive range of ``status_year`` (exit or planned exit year); ``None`` is open.
    quota
        How many to draw [households] per unit (village or scope).
    minimum
        Fewest that still meet the target [households]; equals ``quota`` unless a range was given.
    fill_from
        Key of a later or earlier stratum whose leftover households cover this one's shortfall.
    """

    key: str
    label: str
    statuses: tuple[HouseholdStatus, ...]
    quota: int
    minimum: int
    year_from: int | None = None
    year_to: int | None = None
    fill_from: str | None = None

    def matches(self, status: str, year: int | None) -> bool:
        if status not in self.statuses:
            return False
        if self.year_from is None and self.year_to is None:
            return True
        if year is None:
            return False
        return (self.year_from is None or year >= self.year_from) and (
            self.year_to is None or year <= self.year_to)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "statuses": [s.value for s in self.statuses],
                "years": [self.year_from, self.year_to], "quota": [self.minimum, self.quota],
                "fill_from": self.fill_from}


@dataclass(frozen=True)
class Scope:
    """Which villages the plan may sample from (empty tuples mean: no restriction)."""

    townships: tuple[str, ...] = ()
    categories: tuple[VillageCategory, ...] = ()
    exclude_villages: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"townships": list(self.townships), "categories": [c.value for c in self.categories],
                "exclude_villages": list(self.exclude_villages)}


@dataclass(frozen=True)
class PlanSpec:
    """A whole inspection plan, minus its seed (the seed is announced separately)."""

    name: str
    year: int
    strata: tuple[Stratum, ...]
    scope: Scope = field(default_factory=Scope)
    selection: VillageSelection = VillageSelection.ALL
    village_count: int | None = None
    quota_per: QuotaPer = "village"
    preset: str | None = None

    def stratum(self, key: str) -> Stratum:
        for s in self.strata:
            if s.key == key:
                return s
        raise NotFound(f"plan {self.name!r} has no stratum {key!r}; strata: "
                       + ", ".join(s.key for s in self.strata))

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data; :func:`plan_from_dict` reads it back unchanged."""
        return {
            "name": self.name, "year": self.year, "preset": self.preset,
            "scope": self.scope.to_dict(),
            "villages": {"select": self.selection.value, "count": self.village_count},
            "households": {"per": self.quota_per, "strata": [s.to_dict() for s in self.strata]},
        }

    def to_json(self) -> str:
        return canonical_json(self.to_dict())


def canonical_json(data: Any) -> str:
    """JSON with sorted keys, no spaces and UTF-8 characters kept: the form that is hashed."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------- presets


def seed003_strata(year: int) -> tuple[Stratum, ...]:
    """Seed 003's 10 households a village, each cohort relative to the plan year ``year``.

    Seed 003 (2017) drew 2 households exited 2014-15 (``year-2`` and before), 2 exited 2016
    (``year-1``), 3 planned to exit in 2017 (``year``; those already marked exited that year
    count here too), 2 still registered (返贫 households and planned exits of other years are
    registered poor households too) and 1 non-poor. Exits after the plan year, and exited
    households without a year, fall in no stratum: they are reported as outside the frame.
    """
    s = HouseholdStatus
    return (
        Stratum("exited_earlier", f"{year - 2}年及以前退出户", (s.EXITED,), 2, 2, None, year - 2),
        Stratum("exited_last_year", f"{year - 1}年退出户", (s.EXITED,), 2, 2, year - 1, year - 1),
        Stratum("planned_this_year", f"{year}年计划脱贫户", (s.PLANNED_EXIT, s.EXITED), 3, 3, year, year),
        Stratum("registered", "建档立卡贫困户（含返贫户）", (s.REGISTERED, s.RETURNED, s.PLANNED_EXIT), 2, 2),
        Stratum("non_poor", "非贫困户", (s.NON_POOR,), 1, 1),
    )


def county_spot_strata() -> tuple[Stratum, ...]:
    """Seed 001's spot check: 8-10 poor and 3-5 non-poor households a county."""
    return (
        Stratum("poor", "贫困户", _POOR, 10, 8),
        Stratum("non_poor", "非贫困户", (HouseholdStatus.NON_POOR,), 5, 3),
    )


def preset_plan(preset: str, *, year: int, name: str | None = None) -> PlanSpec:
    """The plan of a named preset.

    ``seed003``: every village in scope, 10 households each (seed 003, 样本数量).
    ``county-spot``: 3 villages drawn with probability proportional to households, and 8-10
    poor plus 3-5 non-poor households from them for the whole county (seed 001, 督查方式).

    Raises
    ------
    NotFound
        An unknown preset.
    """
    if preset == "seed003":
        spec = PlanSpec(name=name or "", year=year, strata=seed003_strata(year), preset=preset)
    elif preset == "county-spot":
        spec = PlanSpec(name=name or "", year=year, strata=county_spot_strata(),
                        selection=VillageSelection.PPS, village_count=3, quota_per="scope",
                        preset=preset)
    else:
        raise NotFound(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)} "
                       "or the path of a YAML/JSON plan file")
    return spec


def load_plan(preset_or_path: str, *, year: int | None = None, name: str | None = None) -> PlanSpec:
    """A preset by name, or a plan read from a YAML or JSON file.

    Parameters
    ----------
    preset_or_path
        ``seed003``, ``county-spot`` or a file path.
    year
        The plan's year; overrides the file's. Default: the file's, else the current year.
    name
        Overrides the plan's name.

    Raises
    ------
    NotFound
        Neither a preset nor an existing file.
    ValidationError
        The file cannot be parsed or a field is wrong (the message names file and field).
    """
    if preset_or_path in PRESETS:
        return preset_plan(preset_or_path, year=year or dt.date.today().year, name=name)
    path = Path(preset_or_path)
    if not path.is_file():
        raise NotFound(f"unknown preset {preset_or_path!r} and no such plan file; use one of "
                       f"{', '.join(PRESETS)} or the path of a YAML/JSON plan file")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # the parsers' own errors carry line and column
        raise ValidationError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                              f"{str(exc).splitlines()[0]}") from None
    spec = plan_from_dict(data, where=str(path), year=year)
    if name:
        spec = replace(spec, name=name)
    return replace(spec, preset=spec.preset or path.name)


# ---------------------------------------------------------------------- parsing


def _fail(where: str, field_name: str, message: str) -> ValidationError:
    return ValidationError(f"{where}, field {field_name}: {message}")


def _only(data: dict, allowed: set[str], where: str, prefix: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(where, prefix + unknown[0], f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _mapping(value: Any, where: str, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(where, name, f"expected a mapping, got {type(value).__name__}")
    return value


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, list):
        raise _fail(where, name, "expected a list")
    return tuple(str(v).strip() for v in value)


def _year(value: Any, plan_year: int, where: str, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip().replace(" ", "")
    match = re.fullmatch(r"this([+-]\d+)?", text)
    if match:
        return plan_year + int(match.group(1) or 0)
    if text.isdigit():
        return int(text)
    raise _fail(where, name, f"{value!r} is not a year; use e.g. 2016, this, this-1")


def _quota(value: Any, where: str, name: str) -> tuple[int, int]:
    if isinstance(value, bool):
        raise _fail(where, name, f"{value!r} is not a number of households")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        low, high = value
    else:
        raise _fail(where, name, f"{value!r} is not a number or [minimum, maximum]")
    if low < 0 or high < 1 or low > high:
        raise _fail(where, name, f"{value!r}: need 0 <= minimum <= maximum and maximum >= 1")
    return low, high


def plan_from_dict(data: Any, *, where: str = "plan", year: int | None = None) -> PlanSpec:
    """Read a plan from plain data (a parsed file or :meth:`PlanSpec.to_dict`).

    Raises
    ------
    ValidationError
        Naming ``where`` and the field, the bad value and what is expected.
    """
    if not isinstance(data, dict):
        raise ValidationError(f"{where}: a plan is a mapping with households.strata; got {type(data).__name__}")
    _only(data, {"name", "year", "preset", "scope", "villages", "households"}, where, "")
    plan_year = year if year is not None else _year(data.get("year"), 0, where, "year")
    if plan_year is None:
        plan_year = dt.date.today().year
    scope_data = _mapping(data.get("scope"), where, "scope")
    _only(scope_data, {"townships", "categories", "exclude_villages"}, where, "scope.")
    categories = []
    for i, text in enumerate(_strings(scope_data.get("categories"), where, "scope.categories")):
        try:
            categories.append(VillageCategory.parse(text))
        except ValueError as exc:
            raise _fail(where, f"scope.categories[{i}]", str(exc)) from None
    scope = Scope(townships=_strings(scope_data.get("townships"), where, "scope.townships"),
                  categories=tuple(categories),
                  exclude_villages=_strings(scope_data.get("exclude_villages"), where,
                                            "scope.exclude_villages"))

    villages = _mapping(data.get("villages"), where, "villages")
    _only(villages, {"select", "count"}, where, "villages.")
    try:
        selection = VillageSelection.parse(villages.get("select", "all"))
    except ValueError as exc:
        raise _fail(where, "villages.select", str(exc)) from None
    count = villages.get("count")
    if selection == VillageSelection.ALL:
        count = None
    elif not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise _fail(where, "villages.count", f"{count!r}: selecting {selection.value} needs a count >= 1")

    households = _mapping(data.get("households"), where, "households")
    _only(households, {"per", "strata"}, where, "households.")
    per = households.get("per", "village")
    if per not in ("village", "scope"):
        raise _fail(where, "households.per", f"{per!r}; use village or scope")
    raw = households.get("strata")
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "households.strata", "a plan needs a non-empty list of strata")
    strata = []
    for i, item in enumerate(raw):
        name = f"households.strata[{i}]"
        item = _mapping(item, where, name)
        _only(item, {"key", "label", "statuses", "years", "year", "quota", "fill_from"}, where, name + ".")
        key = str(item.get("key", "")).strip()
        if not _KEY.match(key):
            raise _fail(where, name + ".key", f"{key!r}: use lower-case letters, digits and _ (max 40)")
        statuses = []
        for text in _strings(item.get("statuses"), where, name + ".statuses"):
            try:
                statuses.append(HouseholdStatus.parse(text))
            except ValueError as exc:
                raise _fail(where, name + ".statuses", str(exc)) from None
        if not statuses:
            raise _fail(where, name + ".statuses", "list at least one household status")
        if "year" in item and "years" in item:
            raise _fail(where, name + ".year", "give year or years, not both")
        years = item.get("years", [item.get("year"), item.get("year")])
        if not isinstance(years, list) or len(years) != 2:
            raise _fail(where, name + ".years", f"{years!r}: use [from, to] (either may be null)")
        year_from = _year(years[0], plan_year, where, name + ".years")
        year_to = _year(years[1], plan_year, where, name + ".years")
        if year_from is not None and year_to is not None and year_from > year_to:
            raise _fail(where, name + ".years", f"{years!r}: from is after to")
        if "quota" not in item:
            raise _fail(where, name + ".quota", "missing; give a number or [minimum, maximum]")
        low, high = _quota(item["quota"], where, name + ".quota")
        label = str(item.get("label") or key)
        fill = item.get("fill_from")
        strata.append(Stratum(key, label, tuple(dict.fromkeys(statuses)), high, low, year_from, year_to,
                              str(fill) if fill is not None else None))
    keys = [s.key for s in strata]
    for s in strata:
        if keys.count(s.key) > 1:
            raise _fail(where, "households.strata", f"stratum key {s.key!r} is used twice")
        if s.fill_from is not None and (s.fill_from not in keys or s.fill_from == s.key):
            raise _fail(where, f"households.strata[{keys.index(s.key)}].fill_from",
                        f"{s.fill_from!r} is not another stratum of this plan; strata: {', '.join(keys)}")
    return PlanSpec(name=str(data.get("name") or ""), year=int(plan_year), strata=tuple(strata),
                    scope=scope, selection=selection, village_count=count, quota_per=per,
                    preset=data.get("preset"))


def with_overrides(
    spec: PlanSpec,
    *,
    name: str | None = None,
    townships: tuple[str, ...] | None = None,
    categories: tuple[str, ...] | None = None,
    exclude_villages: tuple[str, ...] | None = None,
    village_count: int | None = None,
    selection: str | None = None,
) -> PlanSpec:
    """A copy of ``spec`` with the command line's choices applied (``None`` keeps the plan's)."""
    scope = spec.scope
    if townships is not None:
        scope = replace(scope, townships=tuple(townships))
    if categories is not None:
        parsed = []
        for text in categories:
            try:
                parsed.append(VillageCategory.parse(text))
            except ValueError as exc:
                raise ValidationError(f"--categories: {exc}") from None
        scope = replace(scope, categories=tuple(parsed))
    if exclude_villages is not None:
        scope = replace(scope, exclude_villages=tuple(exclude_villages))
    spec = replace(spec, scope=scope, name=name or spec.name)
    if selection is not None:
        try:
            chosen = VillageSelection.parse(selection)
        except ValueError as exc:
            raise ValidationError(f"--select: {exc}") from None
        spec = replace(spec, selection=chosen,
                       village_count=None if chosen == VillageSelection.ALL else spec.village_count)
    if village_count is not None:
        if village_count < 1:
            raise ValidationError(f"--villages {village_count}: give a number of villages >= 1")
        selection_now = spec.selection if spec.selection != VillageSelection.ALL else VillageSelection.RANDOM
        spec = replace(spec, village_count=village_count, selection=selection_now)
    if spec.selection != VillageSelection.ALL and not spec.village_count:
        raise ValidationError(f"selecting villages by {spec.selection.value} needs a count (--villages K)")
    return spec


# ---------------------------------------------------------------------- options of a draw
# ``atlas sample draw`` and ``POST /api/inspections`` take the same options as text; both
# parse them here.


def split_list(text: str | None) -> tuple[str, ...] | None:
    """``"a, b，c"`` -> ``("a", "b", "c")`` (ASCII or full-width commas); None stays None."""
    if text is None:
        return None
    return tuple(p.strip() for p in text.replace("，", ",").split(",") if p.strip())


def parse_start(text: str | None):
    """``LON,LAT`` in degrees (EPSG:4326) -> a shapely Point; None stays None.

    Raises
    ------
    ValidationError
        Not two numbers, or outside ±180/±90 (most often latitude and longitude swapped).
    """
    from shapely.geometry import Point

    if text is None:
        return None
    parts = split_list(text) or ()
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        raise ValidationError(f"--start {text!r}: give LON,LAT in degrees, e.g. 105.19,37.51") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(f"--start {text!r}: longitude must be within ±180 and latitude within ±90 "
                              "(LON,LAT order)")
    return Point(lon, lat)


def parse_date(text: str | None, option: str = "--date") -> dt.date | None:
    """``YYYY-MM-DD`` -> a date; None stays None."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationError(f"{option} {text!r}: use YYYY-MM-DD") from None


def plan_from_options(
    preset: str,
    *,
    year: int | None = None,
    name: str | None = None,
    townships: str | None = None,
    categories: str | None = None,
    exclude: str | None = None,
    villages: int | None = None,
    select: str | None = None,
    allow_files: bool = True,
) -> PlanSpec:
    """The plan a draw's options describe: a preset (or, with ``allow_files``, a plan file)
    with the comma-separated scope options applied.

    Parameters
    ----------
    allow_files
        Accept the path of a YAML/JSON plan file as ``preset`` (the command line); the HTTP
        API passes False so a request can never make the server read one of its files.

    Raises
    ------
    NotFound
        An unknown preset (or missing file).
    ValidationError
        A bad category, selection or village count.
    """
    if not allow_files and preset not in PRESETS:
        raise NotFound(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
    spec = load_plan(preset, year=year, name=name)
    return with_overrides(spec, townships=split_list(townships), categories=split_list(categories),
                          exclude_villages=split_list(exclude), village_count=villages, selection=select)
