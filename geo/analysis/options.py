"""The options of each analysis as users give them (the CLI's ``atlas analyze`` options and the
API's query parameters), turned into the keyword options of the analysis functions.

Both front ends call :func:`analysis_options`, so a rule such as "one share threshold sets
all five exit share items" or "priority takes only the options of its project kind" lives
here once. Lists of codes arrive as comma-separated text (values or Chinese labels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from geo.analysis import priority as priority_mod
from geo.enums import FacilityStatus, HouseholdStatus, RoadSurface, VillageCategory
from geo.errors import NotFound, ValidationError

#: Exit scorecard items whose pass mark is a share [%]; ``share_threshold_pct`` sets them all.
EXIT_SHARE_ITEMS = ("housing_share", "medical_share", "safe_water", "power_share", "tv_share")


def parse_codes(text: str | None, enum_cls, option: str) -> tuple[str, ...] | None:
    """Comma-separated values or Chinese labels of ``enum_cls``, as stored values.

    Parameters
    ----------
    text
        ``"key_poor,poor"`` or ``"重点贫困村，贫困村"`` (full-width commas accepted); None
        keeps the analysis' default.
    enum_cls
        An enum of :mod:`geo.enums` with a ``parse`` class method.
    option
        The option's name, quoted in the error.

    Raises
    ------
    ValidationError
        Naming the option and the values it accepts.
    """
    if text is None:
        return None
    try:
        return tuple(enum_cls.parse(part).value for part in text.replace("，", ",").split(",") if part.strip())
    except ValueError as exc:
        raise ValidationError(f"{option}: {exc}") from None


def _coverage(*, poor_categories: str | None = None, **rest: Any) -> dict[str, Any]:
    return {**rest, "poor_categories": parse_codes(poor_categories, VillageCategory, "poor_categories")}


def _roads(*, all_season_surfaces: str | None = None, **rest: Any) -> dict[str, Any]:
    return {**rest, "all_season_surfaces": parse_codes(all_season_surfaces, RoadSurface, "all_season_surfaces")}


def _water(*, out_of_service_statuses: str | None = None, **rest: Any) -> dict[str, Any]:
    return {**rest, "out_of_service_statuses": parse_codes(out_of_service_statuses, FacilityStatus,
                                                           "out_of_service_statuses")}


def _exit(*, share_threshold_pct: float | None = None, **rest: Any) -> dict[str, Any]:
    shares = {} if share_threshold_pct is None else \
        {f"{item}_threshold_pct": share_threshold_pct for item in EXIT_SHARE_ITEMS}
    return {**rest, **shares}


def _priority(*, kind: str = "road", budget_wan_yuan: float | None = None, rank: str | None = None,
              optimise: bool | None = None, poor_weight: float | None = None,
              population_weight: float | None = None, cost_yuan_per_km: float | None = None,
              cost_wan_yuan_per_supply_point: float | None = None, kw_per_household: float | None = None,
              cost_wan_yuan_per_kw: float | None = None, pv_statuses: str | None = None) -> dict[str, Any]:
    if kind not in priority_mod.KINDS:
        raise ValidationError(f"kind must be one of {', '.join(priority_mod.KINDS)}, not {kind!r}")
    if rank is not None and rank not in priority_mod.RANKS:
        raise ValidationError(f"rank must be one of {', '.join(priority_mod.RANKS)}, not {rank!r}")
    if optimise and budget_wan_yuan is None:
        raise ValidationError("optimise needs a budget: give budget_wan_yuan (CLI --budget)")
    options: dict[str, Any] = {"kind": kind, "budget_wan_yuan": budget_wan_yuan, "poor_weight": poor_weight,
                               "population_weight": population_weight, "rank": rank, "optimise": optimise or None}
    if kind == "road":
        options["cost_yuan_per_km"] = cost_yuan_per_km
    elif kind == "water":
        options["cost_wan_yuan_per_supply_point"] = cost_wan_yuan_per_supply_point
    else:
        options.update(kw_per_household=kw_per_household, cost_wan_yuan_per_kw=cost_wan_yuan_per_kw,
                       pv_statuses=parse_codes(pv_statuses, HouseholdStatus, "pv_statuses"))
    return options


_BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "coverage": _coverage, "roads": _roads, "water": _water, "exit": _exit, "priority": _priority,
    "inputs": lambda **given: given,
}


def analysis_options(analysis: str, **given: Any) -> dict[str, Any]:
    """The keyword options of ``analysis`` for :func:`geo.services.analyses.run_analysis`.

    Parameters
    ----------
    analysis
        ``coverage``, ``roads``, ``water``, ``exit`` or ``priority``.
    **given
        The options as users give them: thresholds as numbers, code lists as
        comma-separated text, ``share_threshold_pct`` for every exit share item, ``kind``
        and the costs of each kind for ``priority``. None means "the documented default"
        and is left out, so the analysis function's own default applies.

    Raises
    ------
    NotFound
        Unknown analysis.
    ValidationError
        A code list with an unknown value, or an unknown priority kind.
    """
    if analysis not in _BUILDERS:
        raise NotFound(f"unknown analysis {analysis!r}; analyses: {', '.join(_BUILDERS)}")
    options = _BUILDERS[analysis](**given)
    return {name: value for name, value in options.items() if value is not None}
