"""A map from the registry, and the landing page's figures: the data from
:mod:`geo.services.maps` (which reads, audits and caches), built by the map's builder in
:mod:`maps.catalog`. Shared by ``/maps/<name>`` and ``atlas map``; this module never queries
the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import folium

from geo.audit import Actor
from geo.services import maps as data
from geo.storage import Bind
from maps import catalog
from maps.landing import KeyFigures, coverage_figures, key_figures


def load_map(bind: Bind, name: str, *, township: str | int | list[int] | None = None,
             unit: str | None = None, plan: str | None = None, base: str | None = None,
             tianditu_key: str | None = None, candidates: int | None = None, cell_size: float | None = None,
             team: int | None = None, day: int | None = None,
             whole_district: bool = True, can_read: Callable[[str], bool] | None = None,
             can_see_names: Callable[[Collection[int]], bool] | None = None,
             actor: Actor | None = None) -> tuple[catalog.MapSpec, folium.Map]:
    """Read the frames map ``name`` needs (filtered to ``township``) and build it.

    ``township``, ``can_read``, ``can_see_names`` and ``actor`` are those of
    :func:`geo.services.maps.map_frames`. The PV map also sites new stations: the best
    ``candidates`` on a grid of ``cell_size`` metres (:func:`geo.services.maps.map_siting`),
    beneficiaries counted across the district unless ``whole_district`` is False (a caller
    limited to some townships).

    Raises
    ------
    NotFound
        Unknown map, township, unit or plan.
    ValidationError
        An option the map does not take, a missing plan, or a base that is not available.
    Forbidden
        The caller may not read a layer the map requires.
    """
    spec = catalog.get_map(name)
    frames = data.map_frames(bind, spec, township=township, plan=plan, can_read=can_read,
                             can_see_names=can_see_names, actor=actor)
    label = township if isinstance(township, str) else None
    towns = frames.get("townships")
    if township and towns is not None and len(towns) == 1:
        label = str(towns["name"].iloc[0])
    options = {"township": label, "base": base, "tianditu_key": tianditu_key, "unit": unit,
               "candidates": candidates, "cell_size": cell_size, "team": team, "day": day}
    catalog.check_options(spec, options)  # an option the map does not take is refused before any siting
    if spec.source == "pv_review":
        frames["siting"], frames["siting_note"] = data.map_siting(
            bind, township, candidates=candidates, cell_size_m=cell_size, whole_district=whole_district,
            allowed=can_read is None or can_read("townships"))
    return spec, catalog.build(spec, frames, options=options)


def landing_figures(bind: Bind, scope, *, can_read: Callable[[str], bool]) -> KeyFigures:
    """The landing page's key figures for the caller's townships and readable layers, with the
    coverage card when they may read its inputs (kept per database state)."""
    return data.landing_figures(bind, scope, can_read=can_read, coverage=catalog.MAPS["coverage"],
                                summarize=_summarize)


def _summarize(frames: dict[str, Any], district) -> KeyFigures:
    figures = key_figures(**frames)
    if district is not None:
        figures.coverage = coverage_figures(district)
    return figures
