"""Maps over HTTP: the landing page, ``/maps/<name>`` and the maps' own script assets.

Every map gets its own route, so a dependency (a role check) can be attached per map:
``maps_router(dependencies={"inspection": [Depends(require_role("inspector"))]})``.
Handlers call :func:`maps.pages.map_page` (:func:`maps.pages.load_map`, as ``atlas map`` does:
data from :mod:`geo.services.maps`, built by the builders in ``maps/``; the page kept per
database state); no SQL here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Depends as depends
from fastapi.params import Depends
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlalchemy.engine import Engine

from api.deps import EngineDep, Principal, SettingsDep, _api_key, _bearer, get_principal, township_param
from api.pages.render import navigation_for
from api.policy import Permission
from geo.errors import NotFound
from geo.services import monitoring, registry
from geo.services.inspections import list_plans
from geo.services.maps import (
    MAP_CANDIDATES,
    MAP_CELL_M,
    MAX_MAP_CANDIDATES,
    MAX_MAP_CELL_M,
    MAX_MAP_CELLS,
    MIN_MAP_CELL_M,
)
from maps import catalog
from maps.assets import SERVABLE, SERVED_PREFIX, AssetError, asset_file
from maps.common import BASES
from maps.landing import landing_html, map_headlines, plan_chooser_html
from maps.pages import landing_figures, map_page

TownshipQuery = Annotated[str | None, Query(description="乡镇: township name, 9-digit code or id (an area above "
                                                       "it is taken too, as area)")]
AreaQuery = Annotated[str | None, Query(max_length=100, description="区划: an area at any level by GB/T 2260 code or "
                                        "name (640000 宁夏回族自治区, 640500 中卫市, 640502 沙坡头区, or a township)")]
LevelQuery = Annotated[Literal["county"] | None, Query(description="county: show the counties as the units (the "
                                                       "区县对比图 of the area), whatever map was asked for")]
UnitQuery = Annotated[str | None, Query(description="帮扶单位: unit name or id (maps that take it)")]
PlanQuery = Annotated[str | None, Query(description="督查方案: inspection plan id or name (inspection map)")]
YearQuery = Annotated[int | None, Query(ge=1990, le=2100, description="年度: pairing year (maps that take it; "
                                       "default: the latest year with pairings)")]
PrintQuery = Annotated[Literal["A4", "A3"] | None, Query(
    alias="print", description="打印: the print sheet on this paper (title, legend, scale bar, north arrow)")]
LandscapeQuery = Annotated[bool, Query(description="print sheet in landscape")]
BaseQuery = Annotated[str | None, Query(description=f"base map shown first: {', '.join(BASES)}")]
TeamQuery = Annotated[int | None, Query(ge=1, le=20, description="检查组: only this team (inspection map)")]
DayQuery = Annotated[int | None, Query(ge=1, le=366, description="第几天: only this day of the schedule (inspection map)")]

CandidatesQuery = Annotated[int | None, Query(
    ge=0, le=MAX_MAP_CANDIDATES, description=f"选址候选: siting candidates drawn, best first (default "
    f"{MAP_CANDIDATES}; 0 hides them)")]
CellSizeQuery = Annotated[float | None, Query(
    ge=MIN_MAP_CELL_M, le=MAX_MAP_CELL_M, description=f"siting grid cell side [m] (default {MAP_CELL_M:g}; "
    f"at most {MAX_MAP_CELLS:,} cells)")]

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
    def landing(request: Request, user: MapViewer, engine: EngineDep, area: AreaQuery = None) -> HTMLResponse:
        scope = user.township_filter(township_param(engine, None, area) if area else None)
        figures = landing_figures(engine, scope, can_read=user.can_read_layer)
        plans = len(list_plans(engine)) if user.can_read_layer("households") else None
        cases = monitoring.headline(engine, township=scope) if user.can_read_layer("households") else None
        title = registry.area_title(engine, area)
        return HTMLResponse(landing_html(figures, catalog.MAPS.values(), account=f"{user.name}（{user.role.label}）",
                                         district=title[0] if title else "沙坡头区",
                                         area=(title[1] or area) if area and title else None,
                                         headlines=map_headlines(figures, plans=plans, monitoring=cases),
                                         pages=[(path, title) for path, title, _ in navigation_for(user)[1:]]))

    @router.get("/maps", response_class=JSONResponse)
    def list_maps() -> list[dict[str, Any]]:
        """Every map with its Chinese title, audience and URL."""
        return [{"name": s.name, "title": s.title, "audience": s.audience, "url": f"/maps/{s.name}",
                 "options": ["township", "area", "level", "base", "print", "landscape", *s.options]} for s in catalog.MAPS.values()]

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


def _map_handler(name: str):
    spec = catalog.MAPS[name]

    def serve(request: Request, user: Principal, engine: Engine, settings, township, paper=None, landscape=False,
              area=None, level=None, **options) -> HTMLResponse:
        if spec.source == "inspection_plan" and not (options.get("plan") or "").strip() and _wants_html(request):
            plans = list_plans(engine) if user.can_read_layer("households") else []
            return HTMLResponse(plan_chooser_html(spec, plans))
        requested = township_param(engine, township, area)
        scope = user.township_filter(requested)
        shown = name
        if level == "county":
            shown = "counties"
            options = {k: v for k, v in options.items() if k == "base"}
        key = (township if not area else area) if not (township and area) else scope

        def render(spec_, m) -> str:
            # Folium's modules load with the first map drawn, not with the server (docs/install.md)
            from maps.base import render_map
            from maps.printing import layout, print_page

            if paper is not None:
                return print_page(m, sheet=layout(paper, landscape=landscape), title=spec_.title, assets="served",
                                  year_note=getattr(m, "atlas_year_note", None),
                                  township=getattr(m, "atlas_township", None))
            return render_map(m, assets="served", page_title=f"{spec_.title} · 村级帮扶地图")

        return HTMLResponse(map_page(
            engine, shown, render=render,
            page_key=(tuple(sorted(map(str, user.permissions))), paper, bool(landscape)),
            township=key if requested is not None else scope, tianditu_key=settings.tianditu_key,
            whole_district=user.township_ids is None, can_read=user.can_read_layer,
            can_see_names=lambda assignees: user.can_see_names(plan_assignees=assignees), actor=user.actor,
            choices_scope=user.township_filter(None), selectors=paper is None,
            tile_above=settings.map_tile_threshold or None, **options))

    if "candidates" in spec.options:
        def handler(request: Request, user: MapViewer, engine: EngineDep, settings: SettingsDep,
                    township: TownshipQuery = None, unit: UnitQuery = None, plan: PlanQuery = None,
                    base: BaseQuery = None, year: YearQuery = None, candidates: CandidatesQuery = None,
                    cell_size: CellSizeQuery = None, paper: PrintQuery = None,
                    landscape: LandscapeQuery = False, area: AreaQuery = None,
                    level: LevelQuery = None) -> HTMLResponse:
            return serve(request, user, engine, settings, township, paper, landscape, area, level, unit=unit,
                         plan=plan,
                         base=base, year=year, candidates=candidates, cell_size=cell_size)
    elif "team" in spec.options:
        def handler(request: Request, user: MapViewer, engine: EngineDep, settings: SettingsDep,
                    township: TownshipQuery = None, unit: UnitQuery = None, plan: PlanQuery = None,
                    base: BaseQuery = None, year: YearQuery = None, team: TeamQuery = None, day: DayQuery = None,
                    paper: PrintQuery = None, landscape: LandscapeQuery = False, area: AreaQuery = None,
                    level: LevelQuery = None) -> HTMLResponse:
            return serve(request, user, engine, settings, township, paper, landscape, area, level, unit=unit,
                         plan=plan,
                         base=base, year=year, team=team, day=day)
    else:
        def handler(request: Request, user: MapViewer, engine: EngineDep, settings: SettingsDep,
                    township: TownshipQuery = None, unit: UnitQuery = None, plan: PlanQuery = None,
                    base: BaseQuery = None, year: YearQuery = None, paper: PrintQuery = None,
                    landscape: LandscapeQuery = False, area: AreaQuery = None,
                    level: LevelQuery = None) -> HTMLResponse:
            return serve(request, user, engine, settings, township, paper, landscape, area, level, unit=unit,
                         plan=plan,
                         base=base, year=year)

    handler.__name__ = f"map_{name}"
    return handler
