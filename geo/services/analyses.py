"""The analyses run on the registry: read the frames an analysis needs (through
:func:`geo.storage.read_layer`), keep them per registry state, and run the pure analysis
(:mod:`geo.analysis.catalog`). Shared by ``atlas analyze``, ``/api/analyses`` and the maps.

A township filter keeps that township's villages and what hangs off them. Roads, and water
facilities besides the township's own, are read within :data:`ROAD_MARGIN_M` of the
township's area (a village road may leave the township before it meets the network; the
nearest well may stand across the boundary), and cadre loads always use every household a
cadre carries, since cadres serve villages in several townships.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import storage
from geo.analysis.catalog import ANALYSES, NEEDS, analyze
from geo.analysis.result import AnalysisResult
from geo.cache import BoundedCache
from geo.errors import NotFound
from geo.storage import Bind

#: Roads within this distance of a township's area are loaded with it [m].
ROAD_MARGIN_M = 5_000.0

#: Input frames kept between runs with ``reuse=True``, keyed by the database, its state
#: (:func:`geo.storage.state_token`) and what was read: re-running an analysis with other
#: thresholds skips the registry read, 40-70 % of a run over the demo district.
INPUT_CACHE_SIZE = 8
_INPUTS: BoundedCache[dict[str, pd.DataFrame]] = BoundedCache(INPUT_CACHE_SIZE)


def load_inputs(
    bind: Bind,
    analysis: str,
    *,
    township: int | str | Sequence[int | str] | None = None,
    kind: str | None = None,
    reuse: bool = False,
    cadre_households: str = "all",
) -> dict[str, pd.DataFrame]:
    """Read the layers ``analysis`` needs, for one township or the whole registry.

    Parameters
    ----------
    bind
        Engine or connection.
    analysis
        One of :data:`ANALYSES`.
    township
        Township id, code or name, or a sequence of them (a user limited to some
        townships); None: everything.
    kind
        For ``priority``: the project kind (``road``, ``water``, ``pv``), to skip layers it
        does not use.
    reuse
        Take the frames from the last read of the same layers and townships when the
        registry has not changed since (copies: the caller may change them), and keep them
        for the next call. For a server, where the same analysis is asked again with other
        thresholds; a one-off command gains nothing from it.
    cadre_households
        ``all``: the coverage analysis reads every household (a cadre's load counts them
        all); ``area``: only the townships' (a county partition, whose cadre loads are summed
        over the counties afterwards: :func:`geo.analysis.partitions.combine_results`).

    Returns
    -------
    dict
        Layer or link-table name -> frame (GeoDataFrames in EPSG:4326; personal data never
        read).

    Raises
    ------
    NotFound
        Unknown analysis or township.
    """
    if analysis not in NEEDS:
        raise NotFound(f"unknown analysis {analysis!r}; analyses: {', '.join(ANALYSES)}")
    wanted = _wanted(analysis, kind)
    township_ids = storage.resolve_townships(bind, township) if township is not None else None
    whole = cadre_households == "all"
    if not reuse:
        return _load(bind, analysis, wanted, township_ids, whole)
    key = (*storage.state_key(bind), analysis, wanted, None if township_ids is None else tuple(sorted(township_ids)),
           whole)
    frames = _INPUTS.get_or_compute(key, lambda: _load(bind, analysis, wanted, township_ids, whole))
    return {name: frame.copy() for name, frame in frames.items()}


#: Link tables -> the layer of their first key: with a township filter only the links of
#: that layer's rows already read are read (the rest name no row the analysis holds).
LINK_OWNERS = {"water_facility_villages": "water_facilities", "pv_project_households": "pv_projects"}


def _load(bind: Bind, analysis: str, wanted: tuple[str, ...], township_ids: list[int] | None,
          whole_cadre_loads: bool = True) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    with storage.connect(bind) as conn:
        # owners before their links, so a township's links are read by its owners' ids
        for name in sorted(wanted, key=lambda n: n in LINK_OWNERS):
            owners = frames.get(LINK_OWNERS.get(name, ""))
            if township_ids is not None and owners is not None:
                frames[name] = storage.read_links(conn, name, owners=owners["id"])
            else:
                frames[name] = _read(conn, name, analysis, township_ids, whole_cadre_loads)
    return {name: frames[name] for name in wanted}


def _wanted(analysis: str, kind: str | None) -> tuple[str, ...]:
    layers = NEEDS[analysis]
    if analysis != "priority" or kind is None:
        return layers
    skip = {"road": {"water_facilities", "water_facility_villages", "pv_projects", "pv_project_households"},
            "pv": {"roads", "water_facilities", "water_facility_villages", "projects"},
            "water": {"roads", "pv_projects", "pv_project_households"}}.get(kind, set())
    return tuple(n for n in layers if n not in skip)


def _read(conn, name: str, analysis: str, township_ids: list[int] | None, whole_cadre_loads: bool = True
          ) -> pd.DataFrame:
    if name in ("water_facility_villages", "pv_project_households"):
        return storage.read_links(conn, name)
    if township_ids is None:
        return storage.read_layer(conn, name)
    if name in ("roads", "projects"):  # a project's road or well may lie across the boundary
        return storage.read_layer(conn, name, bbox=_area_near(conn, township_ids))
    if name == "water_facilities":  # its villages' facilities and any others within reach
        own = storage.read_layer(conn, name, township=township_ids)
        near = storage.read_layer(conn, name, bbox=_area_near(conn, township_ids))
        both = pd.concat([own, near[~near["id"].isin(own["id"])]], ignore_index=True)
        return gpd.GeoDataFrame(both.sort_values("id").reset_index(drop=True), geometry="geometry", crs=4326)
    if name == "households" and analysis == "coverage" and whole_cadre_loads:
        return storage.read_layer(conn, name)  # cadre loads need every household a cadre carries
    if name == "townships":
        return storage.read_layer(conn, name, ids=township_ids)
    return storage.read_layer(conn, name, township=township_ids)


def _area_near(conn, township_ids: list[int]) -> tuple[float, float, float, float]:
    """Bounds of the townships' areas, seats, villages and settlements grown by ROAD_MARGIN_M."""
    towns = storage.read_layer(conn, "townships", ids=township_ids)
    villages = storage.read_layer(conn, "villages", township=township_ids, columns=["id"])
    settlements = storage.read_layer(conn, "settlements", township=township_ids, columns=["id"])
    parts = [g for g in (towns.geometry, towns["seat"], villages.geometry, settlements.geometry)
             if g.notna().any() and not g.is_empty.all()]
    if not parts:
        return (0.0, 0.0, 0.0, 0.0)  # nothing located: an empty box selects nothing
    minx = min(p.total_bounds[0] for p in parts)
    miny = min(p.total_bounds[1] for p in parts)
    maxx = max(p.total_bounds[2] for p in parts)
    maxy = max(p.total_bounds[3] for p in parts)
    dlat = ROAD_MARGIN_M / 111_320.0
    dlon = ROAD_MARGIN_M / (111_320.0 * max(math.cos(math.radians((miny + maxy) / 2)), 0.01))
    return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)


def run_analysis(bind: Bind, analysis: str, *, township: int | str | Sequence[int | str] | None = None,
                 reuse: bool = False, cadre_households: str = "all", **options: Any) -> AnalysisResult:
    """Load what ``analysis`` needs from the registry and run it.

    Parameters
    ----------
    bind
        Engine or connection.
    analysis
        ``coverage``, ``roads``, ``water``, ``exit`` or ``priority``.
    township
        Township id, code or name, or a sequence of them (None: the whole registry).
    reuse
        Reuse the input frames of an earlier run on the same registry state (see
        :func:`load_inputs`).
    cadre_households
        See :func:`load_inputs`.
    **options
        Keyword options of the analysis function (thresholds; ``kind`` for ``priority``).

    Raises
    ------
    NotFound
        Unknown analysis or township.
    ValidationError
        Bad options.
    """
    frames = load_inputs(bind, analysis, township=township, kind=options.get("kind"), reuse=reuse,
                         cadre_households=cadre_households)
    return analyze(frames, analysis, **options)
