"""Maps over HTTP: the landing page, ``/maps/<name>`` and the maps' own script assets.

Every map gets its own route, so a dependency (a role check) can be attached per map:
``maps_router(dependencies={"inspection": [Depends(require_role("inspector"))]})``.
Handlers read frames with :func:`geo.storage.read_layer` and hand them to the builders in
``maps/``; no SQL here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import quote

import folium
import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Depends as depends
from fastapi.params import Depends
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlalchemy.engine import Engine

from api.deps import EngineDep, Principal, SettingsDep, _api_key, _bearer, get_principal
from api.policy import Permission

from geo import audit, storage
from geo.analysis.inputs import analyze, load_inputs
from geo.audit import Actor
from geo.cache import BoundedCache
from geo.errors import NotFound, ValidationError
from geo.inspection import store as inspection_store
from geo.inspection.service import household_pii
from geo.pv.load import load_review_frames
from geo.pv.run import run_siting
from geo.pv.siting import SitingResult
from maps import catalog
from maps.assets import SERVED_PREFIX, SERVABLE, AssetError, asset_file
from maps.base import BASES, render_map
from maps.landing import KeyFigures, coverage_figures, key_figures, landing_html, map_headlines

TownshipQuery = Annotated[str | None, Query(description="乡镇: township name, 9-digit code or id")]
UnitQuery = Annotated[str | None, Query(description="帮扶单位: unit name or id (maps that take it)")]
PlanQuery = Annotated[str | None, Query(description="督查方案: inspection plan id or name (inspection map)")]
BaseQuery = Annotated[str | None, Query(description=f"base map shown first: {', '.join(BASES)}")]

LANDING_LAYERS = ("villages", "townships", "units", "pairings", "work_teams", "pv_projects", "roads")

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

CandidatesQuery = Annotated[int | None, Query(
    ge=0, le=MAX_MAP_CANDIDATES, description=f"选址候选: siting candidates drawn, best first (default "
    f"{MAP_CANDIDATES}; 0 hides them)")]
CellSizeQuery = Annotated[float | None, Query(
    ge=MIN_MAP_CELL_M, le=MAX_MAP_CELL_M, description=f"siting grid cell side [m] (default {MAP_CELL_M:g}; "
    f"at most {MAX_MAP_CELLS:,} cells)")]

#: Results kept per process, keyed by the database, its state (:func:`geo.storage.state_token`)
#: and the options, so that a write is never followed by an old answer.
_SITING_RUNS: BoundedCache[SitingResult] = BoundedCache(16)
_LANDING_FIGURES: BoundedCache[KeyFigures] = BoundedCache(32)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def map_viewer(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    bearer: Annotated[str | None, depends(_bearer)] = None,
    api_key: Annotated[str | None, depends(_api_key)] = None,
) -> Principal:
    """The caller of a map page, who must be allowed to read the public layers.

    A browser without a session is sent to the login page (and back afterwards); scripts get
    the API's 401/403.
    """
    try:
        user = get_principal(request, engine, settings, bearer, api_key)
    except HTTPException as exc:
        if exc.status_code == 401 and _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(303, "log in first", headers={"Location": f"/login?next={quote(target)}"}) from None
        raise
    if not user.can(Permission.READ_PUBLIC):
        raise HTTPException(403, f"your role ({user.role.value}) may not view maps")
    return user


MapViewer = Annotated[Principal, depends(map_viewer)]


def load_map(engine: Engine, name: str, *, township: str | int | list[int] | None = None,
             unit: str | None = None, plan: str | None = None, base: str | None = None,
             tianditu_key: str | None = None, candidates: int | None = None, cell_size: float | None = None,
             whole_district: bool = True, can_read: Callable[[str], bool] | None = None,
             can_see_names: Callable[[Collection[int]], bool] | None = None,
             actor: Actor | None = None) -> tuple[catalog.MapSpec, folium.Map]:
    """Read the frames map ``name`` needs (filtered to ``township``) and build it.

    Shared by the HTTP route and ``atlas map``. ``township`` is a name, code or id, or a list
    of ids (a user limited to some townships); ``can_read`` leaves out the layers the caller
    may not read (a viewer's overview has no households) and refuses a map whose required
    layers they may not read; ``can_see_names`` decides, from a plan's assignees, whether the
    inspection map shows household heads' names (never when not given); a read of names is
    written to the audit log as ``actor``.

    The PV map also sites new stations: the best ``candidates`` (default
    :data:`MAP_CANDIDATES`, 0 for none) on a grid of ``cell_size`` metres (default
    :data:`MAP_CELL_M`), beneficiaries counted across the district unless ``whole_district``
    is False (a caller limited to some townships). A run is kept per database state, so
    repeated views cost nothing until the registry changes.

    Raises
    ------
    NotFound
        Unknown map, township, unit or plan.
    ValidationError
        An option the map does not take, a missing plan, or a base that is not available.
    HTTPException
        403 when the caller may not read a layer the map requires.
    """
    spec = catalog.get_map(name)
    refused = [layer for layer in spec.requires if can_read is not None and not can_read(layer)]
    if refused:
        raise HTTPException(403, f"the {name} map shows {', '.join(refused)}, which your role may not read")
    if spec.source == "inspection_plan":
        frames = _plan_frames(engine, plan, township=township, can_see_names=can_see_names, actor=actor)
    else:
        if plan is not None:
            raise ValidationError(f"map {name!r} does not take plan; only the inspection map does")
        readers = {"layers": _layer_frames, "analysis": _analysis_frames, "pv_review": _pv_frames}
        frames = readers[spec.source](engine, spec, township)
        frames = {k: (v if can_read is None or can_read(_layer_of(k)) else None) for k, v in frames.items()}
        if spec.source == "layers":
            frames = {k: v for k, v in frames.items() if v is not None}
    label = township if isinstance(township, str) else None
    towns = frames.get("townships")
    if township and towns is not None and len(towns) == 1:
        label = str(towns["name"].iloc[0])
    options = {"township": label, "base": base, "tianditu_key": tianditu_key, "unit": unit,
               "candidates": candidates, "cell_size": cell_size}
    catalog.check_options(spec, options)  # an option the map does not take is refused before any siting
    if spec.source == "pv_review":
        frames["siting"], frames["siting_note"] = map_siting(
            engine, township, candidates=candidates, cell_size_m=cell_size, whole_district=whole_district,
            allowed=can_read is None or can_read("townships"))
    return spec, catalog.build(spec, frames, options=options)


def map_siting(engine: Engine, township, *, candidates: int | None = None, cell_size_m: float | None = None,
               whole_district: bool = True, allowed: bool = True) -> tuple[SitingResult | None, str | None]:
    """The PV map's siting candidates, and why there are none when siting could not run.

    Runs :func:`geo.pv.run.run_siting` (the defaults of ``atlas pv site``, no files) for the
    best ``candidates`` on ``cell_size_m`` cells, or takes the run kept for the same
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
    key = (*storage.state_key(engine), repr(scope), whole_district, float(cell), int(top))
    try:
        return _SITING_RUNS.get_or_compute(key, lambda: run_siting(
            engine, township=township, whole_district=whole_district, allow_files=False, cell_size_m=float(cell),
            top=int(top), max_cells=MAX_MAP_CELLS)), None
    except ValidationError as exc:
        if candidates is not None or cell_size_m is not None:
            raise
        return None, str(exc)


#: Frame names of the map builders that are not registry layer names, and the layer whose
#: read permission they need.
_FRAME_LAYERS = {"projects": "pv_projects", "village_points": "villages", "project_households": "pv_projects",
                 "project_villages": "pv_projects", "water_facility_villages": "water_facilities"}


def _layer_of(frame: str) -> str:
    return _FRAME_LAYERS.get(frame, frame)


def _layer_frames(engine: Engine, spec: catalog.MapSpec, township) -> dict[str, Any]:
    return {layer: storage.read_layer(engine, layer, township=township, columns=list(columns) if columns else None)
            for layer, columns in spec.layers.items()}


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


def _analysis_frames(engine: Engine, spec: catalog.MapSpec, township) -> dict[str, Any]:
    # The same loader as ``atlas analyze`` (roads and water read with a margin around the township).
    return _each_township(lambda t: load_inputs(engine, spec.analysis, township=t, reuse=True), township)


def _pv_frames(engine: Engine, spec: catalog.MapSpec, township) -> dict[str, Any]:
    def read(t):
        review = load_review_frames(engine, township=t)
        return {**{f.name: getattr(review, f.name) for f in dataclasses.fields(review)},
                "village_points": storage.read_layer(engine, "villages", township=t,
                                                     columns=["name", "township_id", "category", "source"]),
                "townships": storage.read_layer(engine, "townships", township=t)}
    return _each_township(read, township)


def _plan_frames(engine: Engine, plan: str | None, *, township, can_see_names, actor) -> dict[str, Any]:
    """The plan's sample in visiting order, limited to the caller's townships, with names
    only when ``can_see_names(plan assignees)`` says so."""
    if plan is None or not str(plan).strip():
        listing = "; ".join(f"{r.id} {r.name}" for r in inspection_store.read_plans(engine).itertuples())
        raise ValidationError("the inspection map needs plan=ID or name; plans: "
                              + (listing or "none yet (atlas sample draw ...)"))
    if not str(plan).isprintable() or len(str(plan)) > 200:
        raise ValidationError("plan must be a plan id or name (printable text, at most 200 characters)")
    row = inspection_store.find_plan(engine, plan)
    villages = inspection_store.read_sampled_villages(engine, row["id"])
    households = inspection_store.read_sampled_households(engine, row["id"])
    registry = storage.read_layer(engine, "villages", township=township, columns=["source"], with_names=False)
    if township is not None:
        villages = villages[villages["village_id"].isin(set(registry["id"]))]
        households = households[households["sample_village_id"].isin(set(villages["id"]))]
    show = can_see_names is not None and can_see_names(inspection_store.plan_assignees(engine, row["id"]))
    if show and len(households):
        pii = household_pii(engine, households["household_id"].dropna().astype(int).tolist())
        households = households.merge(pii[["id", "head_name"]].rename(columns={"id": "household_id"}),
                                      on="household_id", how="left")
        households = gpd.GeoDataFrame(households, geometry="geometry", crs=4326)
        if actor is not None:
            audit.record(engine, actor=actor, action="read_pii", layer="inspection_households", row_id=int(row["id"]))
    return {"sampled_villages": villages, "sampled_households": households, "plan": row, "show_names": show,
            "townships": storage.read_layer(engine, "townships", township=township), "villages": registry}


def maps_router(*, dependencies: Mapping[str, Sequence[Depends]] | None = None) -> APIRouter:
    """The router: ``/``, ``/maps``, ``/maps/<name>`` for every map, ``/maps/assets/...``.

    Parameters
    ----------
    dependencies
        Extra FastAPI dependencies per map name (role checks once auth lands).
    """
    router = APIRouter(tags=["maps"])
    dependencies = dependencies or {}

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def landing(request: Request, user: MapViewer, engine: EngineDep) -> HTMLResponse:
        figures = landing_figures(engine, user.township_filter(None), can_read=user.can_read_layer)
        plans = len(inspection_store.read_plans(engine)) if user.can_read_layer("households") else None
        return HTMLResponse(landing_html(figures, catalog.MAPS.values(), account=f"{user.name}（{user.role.label}）",
                                         headlines=map_headlines(figures, plans=plans)))

    @router.get("/maps", response_class=JSONResponse)
    def list_maps() -> list[dict[str, Any]]:
        """Every map with its Chinese title, audience and URL."""
        return [{"name": s.name, "title": s.title, "audience": s.audience, "url": f"/maps/{s.name}",
                 "options": ["township", "base", *s.options]} for s in catalog.MAPS.values()]

    @router.get(SERVED_PREFIX + "/{package}/{path:path}", include_in_schema=False)
    def asset(package: str, path: str) -> FileResponse:
        try:
            file = asset_file(package, path)
        except AssetError as exc:  # an asset package missing on the server: not the caller's fault
            return JSONResponse({"title": "AssetError", "status": 500, "detail": str(exc)},
                                status_code=500, media_type="application/problem+json")
        return FileResponse(file, media_type=SERVABLE[file.suffix],
                            headers={"Cache-Control": "public, max-age=3600"})

    for spec in catalog.MAPS.values():
        router.add_api_route(
            f"/maps/{spec.name}", _map_handler(spec.name), methods=["GET"],
            response_class=HTMLResponse, summary=f"{spec.title} ({spec.name})",
            description=spec.description, dependencies=list(dependencies.get(spec.name, ())),
        )

    @router.get("/maps/{name}", include_in_schema=False)
    def unknown_map(name: str) -> None:
        catalog.get_map(name)  # raises NotFound listing the maps
        raise NotFound(f"no map {name!r}")  # pragma: no cover - every known map has its route

    return router


def landing_figures(engine: Engine, scope, *, can_read: Callable[[str], bool]) -> KeyFigures:
    """The landing page's key figures for the caller's townships and readable layers, with the
    coverage card when they may read its inputs; kept per database state (the coverage
    analysis takes most of a second)."""
    readable = tuple(layer for layer in LANDING_LAYERS if can_read(layer))
    coverage = catalog.MAPS["coverage"]
    with_coverage = all(can_read(layer) for layer in coverage.requires)

    def compute() -> KeyFigures:
        figures = key_figures(**{layer: storage.read_layer(engine, layer, township=scope) for layer in readable})
        if with_coverage:
            inputs = _analysis_frames(engine, coverage, scope)
            figures.coverage = coverage_figures(analyze(inputs, "coverage").tables["district"])
        return figures

    key = (*storage.state_key(engine), repr(scope), readable, with_coverage)
    return _LANDING_FIGURES.get_or_compute(key, compute)


def _map_handler(name: str):
    spec = catalog.MAPS[name]

    def serve(user: Principal, engine: Engine, settings, township, **options) -> HTMLResponse:
        requested = storage.resolve_township(engine, township) if township else None
        scope = user.township_filter(requested)
        spec, m = load_map(engine, name, township=township if requested is not None else scope,
                           tianditu_key=settings.tianditu_key, whole_district=user.township_ids is None,
                           can_read=user.can_read_layer,
                           can_see_names=lambda assignees: user.can_see_names(plan_assignees=assignees),
                           actor=user.actor, **options)
        return HTMLResponse(render_map(m, assets="served", page_title=f"{spec.title} · 村级帮扶地图"))

    if "candidates" in spec.options:
        def handler(user: MapViewer, engine: EngineDep, settings: SettingsDep, township: TownshipQuery = None,
                    unit: UnitQuery = None, plan: PlanQuery = None, base: BaseQuery = None,
                    candidates: CandidatesQuery = None, cell_size: CellSizeQuery = None) -> HTMLResponse:
            return serve(user, engine, settings, township, unit=unit, plan=plan, base=base, candidates=candidates,
                         cell_size=cell_size)
    else:
        def handler(user: MapViewer, engine: EngineDep, settings: SettingsDep, township: TownshipQuery = None,
                    unit: UnitQuery = None, plan: PlanQuery = None, base: BaseQuery = None) -> HTMLResponse:
            return serve(user, engine, settings, township, unit=unit, plan=plan, base=base)

    handler.__name__ = f"map_{name}"
    return handler
