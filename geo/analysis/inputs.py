"""Loading the frames an analysis needs from the registry (the only module of
``geo.analysis`` that touches the database, and only through :func:`geo.storage.read_layer`).

A township filter keeps that township's villages and what hangs off them. Roads, and water
facilities besides the township's own, are read within :data:`ROAD_MARGIN_M` of the
township's area (a village road may leave the township before it meets the network; the
nearest well may stand across the boundary), and cadre loads always use every household a
cadre carries, since cadres serve villages in several townships.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import storage
from geo.analysis import coverage, exit_standards, priority, roads, water
from geo.analysis.coverage import analyze_coverage
from geo.analysis.exit_standards import exit_scorecard
from geo.analysis.priority import prioritize
from geo.analysis.result import AnalysisResult
from geo.analysis.roads import analyze_roads
from geo.analysis.water import analyze_water
from geo.cache import BoundedCache
from geo.errors import NotFound, ValidationError
from geo.storage import Bind

#: Roads within this distance of a township's area are loaded with it [m].
ROAD_MARGIN_M = 5_000.0

#: Layers (and link tables) each analysis reads.
NEEDS: dict[str, tuple[str, ...]] = {
    "coverage": ("townships", "villages", "pairings", "work_teams", "units", "cadres", "households"),
    "roads": ("townships", "villages", "settlements", "roads", "households"),
    "water": ("townships", "villages", "settlements", "water_facilities", "water_facility_villages", "households"),
    "exit": ("townships", "villages", "settlements", "households", "roads", "water_facilities",
             "water_facility_villages"),
    "priority": ("townships", "villages", "settlements", "households", "roads", "water_facilities",
                 "water_facility_villages", "pv_projects", "pv_project_households"),
}
ANALYSES = tuple(NEEDS)
TITLES = {"coverage": "帮扶覆盖分析", "roads": "道路通达分析", "water": "饮水安全分析", "exit": "贫困村退出标准核查",
          "priority": "项目优先排序"}
#: Every table each analysis can return (some only with some options: the roads band, the
#: priority budget); a result holds a subset.
TABLES: dict[str, tuple[str, ...]] = {
    "coverage": tuple(coverage.TABLES), "roads": tuple(roads.TABLES), "water": tuple(water.TABLES),
    "exit": tuple(exit_standards.TABLES), "priority": tuple(priority.TABLES),
}


def check_table(analysis: str, table: str | None) -> None:
    """Refuse a table ``analysis`` never returns, before spending seconds on running it.

    Raises
    ------
    ValidationError
        Naming the tables the analysis has.
    """
    if table is not None and table != "all" and table not in TABLES[analysis]:
        raise ValidationError(f"the {analysis} analysis has no table {table!r}; tables: {', '.join(TABLES[analysis])}")


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
    if not reuse:
        return _load(bind, analysis, wanted, township_ids)
    key = (*storage.state_key(bind), analysis, wanted, None if township_ids is None else tuple(sorted(township_ids)))
    frames = _INPUTS.get_or_compute(key, lambda: _load(bind, analysis, wanted, township_ids))
    return {name: frame.copy() for name, frame in frames.items()}


def _load(bind: Bind, analysis: str, wanted: tuple[str, ...], township_ids: list[int] | None
          ) -> dict[str, pd.DataFrame]:
    with storage.connect(bind) as conn:
        return {name: _read(conn, name, analysis, township_ids) for name in wanted}


def _wanted(analysis: str, kind: str | None) -> tuple[str, ...]:
    layers = NEEDS[analysis]
    if analysis != "priority" or kind is None:
        return layers
    skip = {"road": {"water_facilities", "water_facility_villages", "pv_projects", "pv_project_households"},
            "water": {"roads", "pv_projects", "pv_project_households"},
            "pv": {"roads", "water_facilities", "water_facility_villages"}}.get(kind, set())
    return tuple(n for n in layers if n not in skip)


def _read(conn, name: str, analysis: str, township_ids: list[int] | None) -> pd.DataFrame:
    if name in ("water_facility_villages", "pv_project_households"):
        return storage.read_links(conn, name)
    if township_ids is None:
        return storage.read_layer(conn, name)
    if name == "roads":
        return storage.read_layer(conn, name, bbox=_area_near(conn, township_ids))
    if name == "water_facilities":  # its villages' facilities and any others within reach
        own = storage.read_layer(conn, name, township=township_ids)
        near = storage.read_layer(conn, name, bbox=_area_near(conn, township_ids))
        both = pd.concat([own, near[~near["id"].isin(own["id"])]], ignore_index=True)
        return gpd.GeoDataFrame(both.sort_values("id").reset_index(drop=True), geometry="geometry", crs=4326)
    if name == "households" and analysis == "coverage":
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


def analyze(frames: Mapping[str, pd.DataFrame], analysis: str, **options: Any) -> AnalysisResult:
    """Run ``analysis`` on loaded frames (see :func:`load_inputs`) with keyword options.

    Raises
    ------
    NotFound
        Unknown analysis.
    """
    runners: dict[str, Callable[..., AnalysisResult]] = {
        "coverage": lambda f, **o: analyze_coverage(f["villages"], f["pairings"], f["work_teams"], f["units"],
                                                    f["cadres"], f["households"], f["townships"], **o),
        "roads": lambda f, **o: analyze_roads(f["villages"], f["settlements"], f["roads"], f["townships"],
                                              households=f["households"], **o),
        "water": lambda f, **o: analyze_water(f["villages"], f["settlements"], f["water_facilities"],
                                              links=f["water_facility_villages"], households=f["households"],
                                              townships=f["townships"], **o),
        "exit": lambda f, **o: exit_scorecard(f["villages"], f["settlements"], f["households"], f["roads"],
                                              f["townships"], facilities=f["water_facilities"],
                                              facility_links=f["water_facility_villages"], **o),
        "priority": lambda f, **o: prioritize(
            o.pop("kind"), f["villages"], f["settlements"], f["townships"], households=f.get("households"),
            roads=f.get("roads"), facilities=f.get("water_facilities"),
            facility_links=f.get("water_facility_villages"), pv_projects=f.get("pv_projects"),
            pv_households=f.get("pv_project_households"), **o),
    }
    if analysis not in runners:
        raise NotFound(f"unknown analysis {analysis!r}; analyses: {', '.join(ANALYSES)}")
    return runners[analysis](frames, **options)


def analyze_all(frames: Mapping[str, pd.DataFrame], *, kind: str = "road") -> dict[str, AnalysisResult]:
    """All five analyses on one set of frames with their default rules, the roads and water
    analyses computed once and reused by the exit scorecard and the ranking.

    Parameters
    ----------
    frames
        Every layer :data:`NEEDS` lists (``load_inputs(bind, "priority")`` plus the
        coverage layers).
    kind
        Project kind of the ranking.
    """
    roads = analyze(frames, "roads")
    water = analyze(frames, "water")
    return {
        "coverage": analyze(frames, "coverage"),
        "roads": roads,
        "water": water,
        "exit": analyze(frames, "exit", roads_result=roads, water_result=water),
        "priority": analyze(frames, "priority", kind=kind, roads_result=roads, water_result=water),
    }


def run_analysis(bind: Bind, analysis: str, *, township: int | str | Sequence[int | str] | None = None,
                 reuse: bool = False, **options: Any) -> AnalysisResult:
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
    **options
        Keyword options of the analysis function (thresholds; ``kind`` for ``priority``).

    Raises
    ------
    NotFound
        Unknown analysis or township.
    ValidationError
        Bad options.
    """
    frames = load_inputs(bind, analysis, township=township, kind=options.get("kind"), reuse=reuse)
    return analyze(frames, analysis, **options)
