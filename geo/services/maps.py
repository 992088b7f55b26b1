"""The data each map shows: the frames read from the registry for a map entry of
:mod:`maps.catalog` (filtered to the caller's townships and readable layers), the PV map's
siting candidates and the landing page's key figures, the last two kept per database state.

Shared by ``/maps/<name>`` and ``atlas map`` (through :mod:`maps.pages`). Nothing here knows
Folium: the builders in ``maps/`` turn these frames into maps.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol, TypeVar

import geopandas as gpd
import pandas as pd

from geo import storage
from geo.analysis.catalog import analyze
from geo.audit import Actor
from geo.cache import BoundedCache
from geo.errors import Forbidden, NotFound, ValidationError
from geo.storage import inspection as inspection_store
from geo.library.pipeline import with_stages
from geo.pv.siting import SitingResult
from geo.services.analyses import load_inputs
from geo.services.personal import household_pii, personal_read
from geo.services.pv import load_review_frames, run_siting
from geo.storage import Bind
from geo.storage.cql import CqlFilter
from geo.tiles import MAP_TILED_LAYERS, TiledLayer

T = TypeVar("T")

#: Layers whose figures the landing page shows (each when the caller may read it).
LANDING_LAYERS = ("villages", "townships", "units", "pairings", "work_teams", "pv_projects", "roads", "households")
#: The columns read of a landing layer (default: all non-personal ones): households only for
#: the exits-by-year chart.
LANDING_COLUMNS = {"households": ["status", "status_year"]}

#: The PV map's siting candidates: how many by default, and at most.
MAP_CANDIDATES = 10
MAX_MAP_CANDIDATES = 100
#: Its grid: cells of this side [m] by default (the demo district siting in about a second
#: once its yields are known), at least ``MIN_MAP_CELL_M`` and at most ``MAX_MAP_CELLS``
#: cells, as ``/api/pv/site`` allows (finer grids with ``atlas pv site``).
MAP_CELL_M = 500.0
MIN_MAP_CELL_M = 100.0
MAX_MAP_CELL_M = 10_000.0
MAX_MAP_CELLS = 250_000

#: Results kept per process, keyed by the database, its state (:func:`geo.storage.state_token`)
#: and the options, so that a write is never followed by an old answer.
_SITING_RUNS: BoundedCache[SitingResult] = BoundedCache(16)
_LANDING_FIGURES: BoundedCache[Any] = BoundedCache(32)
#: Served map pages (their HTML), keyed likewise by the map and every option and permission
#: that shapes it; the inspection map (audited reads of names) is never kept.
_PAGES: BoundedCache[Any] = BoundedCache(64)

#: Frame names of the map builders that are not registry layer names, and the layer whose
#: read permission they need.
_FRAME_LAYERS = {"projects": "pv_projects", "village_points": "villages", "project_households": "pv_projects",
                 "project_villages": "pv_projects", "water_facility_villages": "water_facilities"}


class MapSource(Protocol):
    """What the service reads of a map entry (:class:`maps.catalog.MapSpec`)."""

    name: str
    source: str
    layers: Mapping[str, tuple[str, ...] | None]
    analysis: str | None
    requires: tuple[str, ...]


def map_frames(bind: Bind, spec: MapSource, *, township: str | int | list[int] | None = None,
               plan: str | None = None, can_read: Callable[[str], bool] | None = None,
               can_see_names: Callable[[Collection[int]], bool] | None = None,
               actor: Actor | None = None, tile_above: int | None = None) -> dict[str, Any]:
    """Read the frames map ``spec`` needs, filtered to ``township``.

    ``township`` is a name, code or id, or a list of ids (a user limited to some townships);
    ``can_read`` leaves out the layers the caller may not read (a viewer's overview has no
    households) and refuses a map whose required layers they may not read; ``can_see_names``
    decides, from a plan's assignees, whether the inspection map shows household heads'
    names (never when not given); such a read is audited as ``actor`` in its transaction.
    With ``tile_above`` (a served map), a layer of :data:`geo.tiles.MAP_TILED_LAYERS` that a
    map of registry layers takes and that holds more than ``tile_above`` rows is not read: its
    frame is a :class:`geo.tiles.TiledLayer`, which the map draws from the vector tiles.

    Raises
    ------
    Forbidden
        The caller may not read a layer the map requires.
    NotFound
        Unknown township or plan.
    ValidationError
        A plan for a map that takes none, or none for the inspection map.
    """
    refused = [layer for layer in spec.requires if can_read is not None and not can_read(layer)]
    if refused:
        raise Forbidden(f"the {spec.name} map shows {', '.join(refused)}, which your role may not read")
    if spec.source == "inspection_plan":
        return _plan_frames(bind, plan, township=township, can_see_names=can_see_names, actor=actor)
    if spec.source == "monitoring":
        return _monitoring_frames(bind, township, can_see_names=can_see_names, actor=actor)
    if plan is not None:
        raise ValidationError(f"map {spec.name!r} does not take plan; only the inspection map does")
    if spec.source == "layers":
        frames = _layer_frames(bind, spec, township, tile_above=tile_above)
    else:
        frames = {"analysis": _analysis_frames, "pv_review": _pv_frames}[spec.source](bind, spec, township)
    frames = {k: (v if can_read is None or can_read(_FRAME_LAYERS.get(k, k)) else None) for k, v in frames.items()}
    if spec.source == "layers":
        frames = {k: v for k, v in frames.items() if v is not None}
    return frames


def map_siting(bind: Bind, township, *, candidates: int | None = None, cell_size_m: float | None = None,
               whole_district: bool = True, allowed: bool = True) -> tuple[SitingResult | None, str | None]:
    """The PV map's siting candidates, and why there are none when siting could not run.

    Runs :func:`geo.services.pv.run_siting` (the defaults of ``atlas pv site``, no files) for
    the best ``candidates`` on ``cell_size_m`` cells, or takes the run kept for the same
    database state and options. With the defaults, a siting that cannot run (no township
    areas, too many cells) leaves the candidates out and says why; options the caller gave
    explicitly are refused instead.

    Raises
    ------
    ValidationError
        A number of candidates or a cell size out of range, or an explicit request siting
        cannot serve.
    """
    top = MAP_CANDIDATES if candidates is None else candidates
    cell = MAP_CELL_M if cell_size_m is None else cell_size_m
    if isinstance(top, bool) or int(top) != top or not 0 <= top <= MAX_MAP_CANDIDATES:
        raise ValidationError(f"candidates {candidates!r} is not allowed; give a whole number from 0 (none) "
                              f"to {MAX_MAP_CANDIDATES}")
    if not MIN_MAP_CELL_M <= cell <= MAX_MAP_CELL_M:
        raise ValidationError(f"cell_size {cell_size_m!r} is not allowed; give {MIN_MAP_CELL_M:g} to "
                              f"{MAX_MAP_CELL_M:g} metres (finer grids with atlas pv site)")
    if top == 0 or not allowed:
        return None, None
    scope = tuple(township) if isinstance(township, (list, tuple)) else township
    # the cell cap belongs in the key: a run kept under another cap must not answer for this one
    key = (*storage.state_key(bind), repr(scope), whole_district, float(cell), int(top), MAX_MAP_CELLS)
    try:
        return _SITING_RUNS.get_or_compute(key, lambda: run_siting(
            bind, township=township, whole_district=whole_district, allow_files=False, cell_size_m=float(cell),
            top=int(top), max_cells=MAX_MAP_CELLS)), None
    except ValidationError as exc:
        if candidates is not None or cell_size_m is not None:
            raise
        return None, str(exc)


def landing_figures(bind: Bind, scope, *, can_read: Callable[[str], bool], analyses: Mapping[str, MapSource],
                    summarize: Callable[[dict[str, Any], dict[str, pd.DataFrame]], T]) -> T:
    """The landing page's figures for the caller's townships and readable layers: the
    :data:`LANDING_LAYERS` frames, and the tables of each analysis in ``analyses`` (coverage,
    roads, water, inputs) whose inputs they may read, through ``summarize``; kept per database
    state (the analyses take a second or two)."""
    readable = tuple(layer for layer in LANDING_LAYERS if can_read(layer))
    allowed = tuple(name for name, spec in analyses.items() if all(can_read(layer) for layer in spec.requires))

    def compute() -> T:
        frames = {layer: storage.read_layer(bind, layer, township=scope, columns=LANDING_COLUMNS.get(layer))
                  for layer in readable}
        tables = {name: analyze(_analysis_frames(bind, analyses[name], scope), analyses[name].analysis).tables
                  for name in allowed}
        return summarize(frames, tables)

    key = (*storage.state_key(bind), repr(scope), readable, allowed,
           f"{summarize.__module__}.{summarize.__qualname__}")
    return _LANDING_FIGURES.get_or_compute(key, compute)


def kept_page(bind: Bind, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()`` (a map built and rendered), kept for the database's current state and
    ``key`` (the map's name, options, the caller's townships and permissions): a map viewed
    again is not rebuilt until the registry changes (:func:`geo.storage.state_key`)."""
    return _PAGES.get_or_compute((*storage.state_key(bind), *key), compute)


@dataclasses.dataclass(frozen=True)
class MapChoices:
    """What a map page's selectors offer: pairing years (latest first), township names and
    the names of units paired with or leading a village in the caller's townships."""

    years: tuple[int, ...]
    townships: tuple[str, ...]
    units: tuple[str, ...]

    @property
    def latest_year(self) -> int | None:
        return self.years[0] if self.years else None


def map_choices(bind: Bind, scope, *, can_read: Callable[[str], bool] | None = None) -> MapChoices:
    """The selectors' choices for a caller limited to ``scope`` (None: the whole district);
    layers the caller may not read offer nothing."""
    def readable(layer: str) -> bool:
        return can_read is None or can_read(layer)

    years: set[int] = set()
    unit_ids: set[int] = set()
    for layer, column in (("pairings", "unit_id"), ("work_teams", "leader_unit_id")):
        if readable(layer):
            frame = storage.read_layer(bind, layer, township=scope, with_names=False)
            years |= {int(y) for y in frame["year"].dropna()}
            unit_ids |= {int(u) for u in frame[column].dropna()}
    towns = storage.read_layer(bind, "townships", township=scope, columns=["name"], with_names=False) \
        if readable("townships") else pd.DataFrame({"name": []})
    units = storage.read_layer(bind, "units", ids=sorted(unit_ids), columns=["name"], with_names=False) \
        if unit_ids and readable("units") else pd.DataFrame({"name": []})
    return MapChoices(years=tuple(sorted(years, reverse=True)), townships=tuple(towns["name"]),
                      units=tuple(sorted(units["name"])))


def _layer_frames(bind: Bind, spec: MapSource, township, *, tile_above: int | None = None) -> dict[str, Any]:
    frames: dict[str, Any] = {}
    for layer, columns in spec.layers.items():
        tiled = _tiled_layer(bind, layer, township, tile_above) if tile_above else None
        frames[layer] = tiled if tiled is not None else storage.read_layer(
            bind, layer, township=township, columns=list(columns) if columns else None)
    return frames


#: Rows whose ``source`` says they are demo rows (approximate or synthetic).
_DEMO_ROWS = "source LIKE 'demo:%'"


def _tiled_layer(bind: Bind, layer: str, township, tile_above: int) -> TiledLayer | None:
    """The layer as vector tiles when it is one that may be tiled and holds more than
    ``tile_above`` rows in ``township``; else None (the map embeds its rows)."""
    if layer not in MAP_TILED_LAYERS:
        return None
    rows = storage.count_layer(bind, layer, township=township)
    if rows <= tile_above:
        return None
    # pygeofilter's CQL2 text parser builds its grammar when imported (~0.4 s): only here.
    from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

    demo = CqlFilter(node=parse_cql2_text(_DEMO_ROWS), queryables=("source",))
    synthetic = storage.count_layer(bind, layer, township=township, cql=demo, at_most=0) != 0
    query = None if township is None or isinstance(township, (list, tuple)) else str(township)
    return TiledLayer(layer, rows, synthetic=synthetic, township=query)


def _each_township(read: Callable[[Any], dict[str, Any]], township) -> dict[str, Any]:
    """``read(township)`` for one township or none, or merged over several (rows deduplicated)."""
    if not isinstance(township, (list, tuple)):
        return read(township)
    if len(township) == 1:
        return read(township[0])
    parts = [read(t) for t in township] or [read(None)]
    merged = {}
    for key in parts[0]:
        frames = [p[key] for p in parts]
        both = pd.concat(frames, ignore_index=True)
        keys = ["id"] if "id" in both.columns else [c for c in both.columns if c != "geometry"]
        both = both.drop_duplicates(subset=keys).reset_index(drop=True)
        merged[key] = gpd.GeoDataFrame(both, geometry="geometry", crs=4326) \
            if isinstance(frames[0], gpd.GeoDataFrame) else both
    return merged


def _analysis_frames(bind: Bind, spec: MapSource, township) -> dict[str, Any]:
    # The same loader as ``atlas analyze`` (roads and water read with a margin around the township).
    frames = _each_township(lambda t: load_inputs(bind, spec.analysis, township=t, reuse=True), township)
    if "projects" in frames:  # the project library's stage of each project, for its colour on the map
        projects = frames["projects"]
        frames["projects"] = with_stages(projects, storage.library.read_events(bind, [int(i) for i in projects["id"]]))
    return frames


def _pv_frames(bind: Bind, spec: MapSource, township) -> dict[str, Any]:
    def read(t):
        review = load_review_frames(bind, township=t)
        return {**{f.name: getattr(review, f.name) for f in dataclasses.fields(review)},
                "village_points": storage.read_layer(bind, "villages", township=t,
                                                     columns=["name", "township_id", "category", "source"]),
                "townships": storage.read_layer(bind, "townships", township=t),
                "pv_ledger": storage.pv_ledger.read_years(bind, review.projects["id"].tolist())}
    return _each_township(read, township)


def _plan_frames(bind: Bind, plan: str | None, *, township, can_see_names, actor) -> dict[str, Any]:
    """The plan's sample in visiting order, limited to the caller's townships, with names
    only when ``can_see_names(plan assignees)`` says so."""
    if plan is None or not str(plan).strip():
        listing = "; ".join(f"{r.id} {r.name}" for r in inspection_store.read_plans(bind).itertuples())
        raise ValidationError("the inspection map needs plan=ID or name; plans: "
                              + (listing or "none yet (atlas sample draw ...)"))
    if not str(plan).isprintable() or len(str(plan)) > 200:
        raise ValidationError("plan must be a plan id or name (printable text, at most 200 characters)")
    row = inspection_store.find_plan(bind, plan)
    villages = inspection_store.read_sampled_villages(bind, row["id"])
    households = inspection_store.read_sampled_households(bind, row["id"])
    registry = storage.read_layer(bind, "villages", township=township, columns=["source"], with_names=False)
    if township is not None:
        villages = villages[villages["village_id"].isin(set(registry["id"]))]
        households = households[households["sample_village_id"].isin(set(villages["id"]))]
    show = can_see_names is not None and can_see_names(inspection_store.plan_assignees(bind, row["id"]))
    if show and len(households):
        with personal_read(bind, actor=actor, layer="inspection_households", row_id=int(row["id"])) as read:
            pii = household_pii(read.conn, households["household_id"].dropna().astype(int).tolist())
        households = households.merge(pii[["id", "head_name"]].rename(columns={"id": "household_id"}),
                                      on="household_id", how="left")
        households = gpd.GeoDataFrame(households, geometry="geometry", crs=4326)
    try:
        teams = json.loads(inspection_store.read_draw(bind, row["id"])["routes_json"] or "[]")
    except (NotFound, ValueError):
        teams = []
    return {"sampled_villages": villages, "sampled_households": households, "plan": row, "show_names": show,
            "teams": teams,
            "townships": storage.read_layer(bind, "townships", township=township), "villages": registry}


def _monitoring_frames(bind: Bind, township, *, can_see_names, actor) -> dict[str, Any]:
    """The monitoring map's frames; the cases' household points only for a caller who may see
    households by name (``can_see_names`` of no plan: the personal-data roles)."""
    from geo.services.monitoring import map_frames as monitoring_frames

    scope = None if township is None else storage.resolve_townships(bind, township)
    show = can_see_names is not None and can_see_names(())
    return monitoring_frames(bind, township=scope, show_points=show, actor=actor)


#: The layers the blank (offline) base draws on every map, and the columns it reads.
OFFLINE_BASE_LAYERS = {"townships": ("name",), "villages": ("name",), "settlements": ("name",),
                       "roads": ("name", "surface")}


def offline_base_frames(bind: Bind, *, township: str | int | list[int] | None = None,
                        can_read: Callable[[str], bool] | None = None,
                        tile_above: int | None = None) -> dict[str, gpd.GeoDataFrame]:
    """What the blank base map draws so that a map stays readable without network: township
    areas and names, village and settlement names, roads by surface with names, in
    ``township`` (the map's, or the caller's townships) and only of layers the caller may read.
    No personal field is read. With ``tile_above`` (a served map), a layer of
    :data:`geo.tiles.MAP_TILED_LAYERS` holding more rows is left out: the map draws it from
    the vector tiles, which need the server, not the internet."""
    def wanted(layer: str) -> bool:
        if can_read is not None and not can_read(layer):
            return False
        return not (tile_above and layer in MAP_TILED_LAYERS
                    and storage.count_layer(bind, layer, township=township, at_most=tile_above) is None)

    return {layer: storage.read_layer(bind, layer, township=township, columns=list(columns), with_names=False)
            for layer, columns in OFFLINE_BASE_LAYERS.items() if wanted(layer)}
