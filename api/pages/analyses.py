"""分析: each gap analysis with its options, its result tables, downloads and its map.

The options are the API's (:mod:`api.routes.analyses`): the form of each analysis is built from
its route's query parameters (names, defaults, limits), the page validates them with the same
limits and runs the route itself with an output that renders the page instead of JSON, so the
checks (layers the role may read, the visitor's townships) and the service call are the API's.
Downloads are the API's own links (XLSX, CSV, GeoJSON) with the same options.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any
from urllib.parse import urlencode

import pydantic
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, Principal, township_param
from api.pages.render import render
from api.pages.session import PageUser
from api.routes import analyses as api
from geo.analysis.catalog import ANALYSES, NEEDS, TITLES
from geo.analysis.output import readable
from geo.analysis.result import AnalysisResult
from geo.layers import LAYERS

router = APIRouter()

#: Rows of a table shown on the page (the downloads hold them all).
MAX_ROWS = 300
#: Chinese labels of the options (the API's parameter names).
LABELS = {
    "year": "年度", "max_households_per_cadre": "每名干部最多联系户数", "poor_categories": "计为贫困村的类别",
    "access_tolerance_m": "通路判定距离（米）", "snap_tolerance_m": "路网端点连接容差（米）",
    "settlement_min_households": "需通路的自然村最少户数", "settlement_min_width_m": "通自然村道路最小路宽（米）",
    "all_season_surfaces": "全天候路面", "rai_distance_m": "农村可达指数距离（米）",
    "rai_population_from": "可达指数人口来源", "cost_yuan_per_km": "新建道路造价（元/公里）",
    "band": "绘制全天候道路 2 公里带", "supply_distance_m": "取水距离上限（米）",
    "safe_water_threshold_pct": "安全饮水达标线（%）", "out_of_service_statuses": "视为停用的设施状态",
    "incidence_threshold_pct": "贫困发生率上限（%）", "housing_m2_per_person": "人均住房面积（平方米）",
    "share_threshold_pct": "比例类指标达标线（%）", "collective_income_min_wan_yuan": "村集体收入下限（万元）",
    "kind": "项目类型", "budget": "可用资金（万元）", "poor_weight": "贫困户权重", "population_weight": "人口权重",
    "cost_wan_yuan_per_supply_point": "每个供水点造价（万元）", "kw_per_household": "每户光伏容量（千瓦）",
    "cost_wan_yuan_per_kw": "光伏造价（万元/千瓦）", "pv_statuses": "光伏覆盖的农户状态",
}
CHOICES = {"road": "道路", "water": "饮水", "pv": "光伏", "settlements": "自然村人口", "households": "农户人口",
           True: "是", False: "否"}
#: The map of each analysis (priority: of its project kind).
MAPS = {"coverage": "/maps/coverage", "roads": "/maps/roads", "water": "/maps/water", "exit": "/maps/overview",
        "road": "/maps/roads", "pv": "/maps/pv", "inputs": "/maps/pairing"}
DOWNLOADS = (("xlsx", "全部表格 XLSX"), ("csv", "主表 CSV"), ("geojson", "GeoJSON"))


def _parameters(name: str) -> list:
    """The query parameters of the API route of analysis ``name`` (township and output aside)."""
    for route in api.router.routes:
        if getattr(route, "name", None) == f"analysis_{name}":
            return list(route.dependant.query_params)
    raise HTTPException(404, f"no analysis {name!r}; analyses: {', '.join(ANALYSES)}")


def _endpoint(name: str):
    return next(r.endpoint for r in api.router.routes if getattr(r, "name", None) == f"analysis_{name}")


def _form(name: str, query: dict[str, str]) -> list[dict[str, Any]]:
    """The form fields of an analysis: label, input kind, choices and current value."""
    fields = []
    for param in _parameters(name):
        info = param.field_info
        annotation = info.annotation
        choices = [v for v in typing.get_args(annotation) if v is not None]
        if annotation is bool:
            choices = [True, False]
        elif typing.get_origin(annotation) is not typing.Literal:
            choices = []
        default = None if info.is_required() else info.default
        value = query.get(param.alias, "" if default is None else str(default).lower() if annotation is bool
                          else str(default))
        fields.append({"name": param.alias, "label": LABELS.get(param.alias, param.alias), "help": info.description,
                       "value": value, "choices": [(str(c).lower() if c in (True, False) else c,
                                                    CHOICES.get(c, c)) for c in choices]})
    return fields


def _validated(name: str, query: dict[str, str]) -> dict[str, Any]:
    """The options of the query, checked against the API's types and limits (422 naming the option)."""
    out = {}
    for param in _parameters(name):
        text = query.get(param.alias, "").strip()
        if not text:
            continue
        adapter = pydantic.TypeAdapter(Annotated[param.field_info.annotation, param.field_info])
        try:
            out[param.name] = adapter.validate_python(text)  # lax: numbers and true/false from text
        except pydantic.ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            raise HTTPException(422, f"{LABELS.get(param.alias, param.alias)} ({param.alias}) = {text!r}: "
                                     f"{reason}") from None
    return out


class PageOutput(api.Output):
    """The route's output for the page: the result rendered as HTML, not JSON."""

    def __init__(self, request: Request, user: Principal, name: str, query: dict[str, str]):
        super().__init__(format="json")
        self.request, self.user, self.name, self.query = request, user, name, query

    def render(self, result: AnalysisResult) -> HTMLResponse:
        tables = []
        for table in result.tables:
            frame = readable(result, table, view=True)
            tables.append({"name": table, "title": result.titles.get(table, table), "columns": list(frame.columns),
                           "rows": frame.head(MAX_ROWS).itertuples(index=False, name=None), "total": len(frame)})
        given = {k: v for k, v in self.query.items() if v != ""}
        downloads = [(label, f"/api/analyses/{self.name}?{urlencode({**given, 'format': fmt})}")
                     for fmt, label in DOWNLOADS]
        kind = self.query.get("kind") or "road"
        target = MAPS.get(kind if self.name == "priority" else self.name, "/maps/overview")
        township = self.query.get("township")
        return render(self.request, "analyses.html", self.user, analyses=_catalogue(self.user), current=self.name,
                      title=result.title, fields=_form(self.name, self.query), township=township or "",
                      result=result, tables=tables, max_rows=MAX_ROWS, downloads=downloads,
                      map_href=target + (f"?{urlencode({'township': township})}" if township else ""))


def _catalogue(user: Principal) -> list[dict[str, Any]]:
    return [{"name": n, "title": TITLES[n], "allowed": all(user.can_read_layer(x) for x in NEEDS[n] if x in LAYERS),
             "layers": "、".join(LAYERS[x].label for x in NEEDS[n] if x in LAYERS)} for n in ANALYSES]


@router.get("/analyses", response_class=HTMLResponse)
def analyses_page(request: Request, user: PageUser) -> HTMLResponse:
    """The five analyses, each with a link to its form."""
    return render(request, "analyses.html", user, analyses=_catalogue(user), current=None)


@router.get("/analyses/{name}", response_class=HTMLResponse)
def analysis_page(request: Request, name: str, user: PageUser, engine: EngineDep) -> HTMLResponse:
    """One analysis: its options (the API's defaults) and, once run, its tables."""
    query = dict(request.query_params)
    if name not in ANALYSES:
        raise HTTPException(404, f"no analysis {name!r}; analyses: {', '.join(ANALYSES)}")
    if "run" not in query:
        return render(request, "analyses.html", user, analyses=_catalogue(user), current=name, title=TITLES[name],
                      fields=_form(name, query), township=query.get("township", ""))
    query.pop("run")
    options = _validated(name, query)
    township = township_param(engine, query.get("township") or None)
    return _endpoint(name)(user=user, engine=engine, township=township,
                           output=PageOutput(request, user, name, query), **options)
