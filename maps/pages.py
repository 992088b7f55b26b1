"""A map from the registry, and the landing page's figures: the data from
:mod:`geo.services.maps` (which reads, audits and caches), built by the map's builder in
:mod:`maps.catalog`. Shared by ``/maps/<name>`` and ``atlas map``; this module never queries
the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from geo.audit import Actor
from geo.errors import ValidationError
from geo.services import maps as data
from geo.storage import Bind
from maps import catalog
from maps.landing import INPUTS_SOURCE, LANDING_ANALYSES, KeyFigures, analysis_figures, chart_figures, key_figures

if TYPE_CHECKING:
    import folium


def load_map(bind: Bind, name: str, *, township: str | int | list[int] | None = None,
             unit: str | None = None, plan: str | None = None, base: str | None = None,
             year: int | None = None, tianditu_key: str | None = None, candidates: int | None = None,
             cell_size: float | None = None, team: int | None = None, day: int | None = None,
             whole_district: bool = True, can_read: Callable[[str], bool] | None = None,
             can_see_names: Callable[[Collection[int]], bool] | None = None,
             actor: Actor | None = None, choices_scope: Any = None,
             selectors: bool = False, tile_above: int | None = None) -> tuple[catalog.MapSpec, folium.Map]:
    """Read the frames map ``name`` needs (filtered to ``township``) and build it.

    ``township``, ``can_read``, ``can_see_names`` and ``actor`` are those of
    :func:`geo.services.maps.map_frames`. The PV map also sites new stations: the best
    ``candidates`` on a grid of ``cell_size`` metres (:func:`geo.services.maps.map_siting`),
    beneficiaries counted across the district unless ``whole_district`` is False (a caller
    limited to some townships). A map that takes ``year`` shows the latest year with pairings
    when none is given, and says so. ``selectors`` adds the page's year, township and unit
    selectors, offering what the caller may see (``choices_scope``: their townships).
    ``tile_above`` (served maps only: a file has no server to ask) draws households, roads and
    settlements from the server's vector tiles when a layer holds more rows than that.

    Raises
    ------
    NotFound
        Unknown map, township, unit or plan.
    ValidationError
        An option the map does not take, a year without pairings, a missing plan, or a base
        that is not available.
    Forbidden
        The caller may not read a layer the map requires.
    """
    from maps import base as mb  # Folium: imported when a map is drawn, not with this module

    spec = catalog.get_map(name)
    catalog.check_options(spec, {"unit": unit, "candidates": candidates, "cell_size": cell_size, "year": year})
    choices = data.map_choices(bind, choices_scope, can_read=can_read) \
        if "year" in spec.options or selectors else None
    year_note = None
    if "year" in spec.options:
        year, year_note = _year(year, choices)
    frames = data.map_frames(bind, spec, township=township, plan=plan, can_read=can_read,
                             can_see_names=can_see_names, actor=actor, tile_above=tile_above)
    label = township if isinstance(township, str) else None
    towns = frames.get("townships")
    if township and towns is not None and len(towns) == 1:
        label = str(towns["name"].iloc[0])
    options = {"township": label, "base": base, "tianditu_key": tianditu_key, "unit": unit,
               "candidates": candidates, "cell_size": cell_size, "team": team, "day": day, "year": year}
    catalog.check_options(spec, options)  # an option the map does not take is refused before any siting
    if spec.source == "pv_review":
        frames["siting"], frames["siting_note"] = data.map_siting(
            bind, township, candidates=candidates, cell_size_m=cell_size, whole_district=whole_district,
            allowed=can_read is None or can_read("townships"))
    policy = None
    if tile_above:
        asked = None if township is None or isinstance(township, (list, tuple)) else str(township)
        policy = mb.TilePolicy(int(tile_above), township=asked)
    with mb.tile_policy(policy):
        m = catalog.build(spec, frames, options=options)
    mb.add_offline_base(m, data.offline_base_frames(bind, township=township, can_read=can_read,
                                                    tile_above=tile_above))
    m.atlas_year = year  # type: ignore[attr-defined]
    m.atlas_township = label if township else None  # type: ignore[attr-defined]
    m.atlas_year_note = year_note  # type: ignore[attr-defined]
    if selectors and choices is not None:
        add_selectors(m, spec, choices, year=year, township=label if township else None, unit=unit,
                      year_note=year_note)
    return spec, m


def map_page(bind: Bind, name: str, *, render: Callable[[catalog.MapSpec, folium.Map], str],
             page_key: tuple, **options: Any) -> str:
    """The page of map ``name``: :func:`load_map` with ``options``, turned into HTML by
    ``render``, kept per database state and ``page_key`` (what besides ``options`` shapes the
    page: the caller's permissions and townships, print settings) so that a map viewed again
    is served without being rebuilt. The inspection map is built on every view (its reads of
    household heads' names are audited per view).

    Raises
    ------
    As :func:`load_map`.
    """
    def build() -> str:
        return render(*load_map(bind, name, **options))

    if catalog.get_map(name).source == "inspection_plan":
        return build()
    shaping = tuple(sorted((k, repr(v)) for k, v in options.items()
                           if k not in ("can_read", "can_see_names", "actor")))
    return data.kept_page(bind, ("map", name, shaping, page_key), build)


def _year(year: int | None, choices) -> tuple[int | None, str | None]:
    """The year a map shows and what the page says of it.

    Raises
    ------
    ValidationError
        A year with no pairings, naming those with some.
    """
    if year is None:
        latest = choices.latest_year
        return latest, (f"{latest}年（结对数据最近年度）" if latest is not None else "无结对数据")
    if choices.years and int(year) not in choices.years:
        raise ValidationError(f"year {year} has no pairings or work teams; years with data: "
                              f"{', '.join(map(str, choices.years))}")
    return int(year), f"{int(year)}年"


def add_selectors(m: folium.Map, spec: catalog.MapSpec, choices, *, year: int | None, township: str | None,
                  unit: str | None, year_note: str | None) -> None:
    """The page's selectors (year, township, unit where the map takes them), each changing
    the URL's query."""
    fields = []
    if "year" in spec.options:
        fields.append({"name": "year", "label": "年度", "value": None if year is None else str(year),
                       "options": [[str(y), f"{y}年"] for y in choices.years], "note": year_note})
    fields.append({"name": "township", "label": "乡镇", "value": township,
                   "options": [["", "全部乡镇"]] + [[t, t] for t in choices.townships]})
    if "unit" in spec.options:
        fields.append({"name": "unit", "label": "帮扶单位", "value": unit,
                       "options": [["", "全部单位"]] + [[u, u] for u in choices.units]})
    from maps.base import Selectors

    m.add_child(Selectors(fields))


def landing_figures(bind: Bind, scope, *, can_read: Callable[[str], bool]) -> KeyFigures:
    """The landing page's key figures for the caller's townships and readable layers, with the
    coverage, road-gap and water-gap cards when they may read those analyses' inputs (kept per
    database state)."""
    return data.landing_figures(bind, scope, can_read=can_read, summarize=_summarize,
                                analyses={**{name: catalog.MAPS[name] for name in LANDING_ANALYSES},
                                          "inputs": INPUTS_SOURCE})


def _summarize(frames: dict[str, Any], tables: dict[str, Any]) -> KeyFigures:
    households = frames.pop("households", None)
    figures = key_figures(**frames)
    figures = analysis_figures(figures, {name: t["district"] for name, t in tables.items() if name != "inputs"})
    return chart_figures(figures, tables, households=households)
