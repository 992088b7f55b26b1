"""The landing page: the district's key figures and a link to every map.

:func:`key_figures` is a pure function over registry frames; :func:`analysis_figures` fills
the coverage, road-gap and water-gap cards from those analyses' district tables. A card the
viewer may not read says so, never zero. Poor villages are those of
:data:`geo.enums.POOR_VILLAGE_CATEGORIES`, as in every map and analysis.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import pandas as pd

from geo.analysis.catalog import NEEDS
from geo.crs import to_metric
from geo.enums import POOR_VILLAGE_CATEGORIES, PVStatus, RoadSurface, VillageCategory
from maps import charts
from maps.common import DEMO_NOTE, demo_flag
from maps.catalog import MapSpec


@dataclass
class KeyFigures:
    """Figures on the landing page (counts [1], funds [万元], capacity [kW], length [km])."""

    villages: int = 0
    villages_by_category: dict[str, int] = field(default_factory=dict)
    townships: int = 0
    units: int = 0
    units_paired: int = 0
    pairings: int = 0
    pairing_year: int | None = None
    task_funds_wan_yuan: float = 0.0
    poor_villages: int = 0
    poor_villages_without_unit: int = 0
    poor_villages_without_work_team: int = 0
    pv_projects: int = 0
    pv_capacity_kw: float = 0.0
    pv_grid_connected_kw: float = 0.0
    road_km_by_surface: dict[str, float] = field(default_factory=dict)
    demo_note: str | None = None
    #: From the coverage analysis (:func:`coverage_figures`): Chinese label -> text.
    coverage: Mapping[str, Any] | None = None
    #: From the road analysis (:func:`road_gap_figures`).
    road_gaps: Mapping[str, Any] | None = None
    #: From the water analysis (:func:`water_gap_figures`).
    water_gaps: Mapping[str, Any] | None = None
    #: The small charts' data (:func:`chart_figures`); a chart absent here says 无权查看或无数据.
    charts: "ChartData" = field(default_factory=lambda: ChartData())


@dataclass
class ChartData:
    """What the landing page's small charts draw (each None when the viewer may not read it)."""

    #: (township, task funds [万元], inputs [万元]) from the inputs analysis.
    funds_by_township: list[tuple[str, float | None, float | None]] | None = None
    #: (unit, inputs as a share of the task [%]), lowest first, at most :data:`UNITS_SHOWN`.
    inputs_by_unit: list[tuple[str, float | None]] | None = None
    #: Units with a task, and those that met it.
    units_with_task: int = 0
    units_met: int = 0
    #: (exit year, households exited that year) [households].
    exits_by_year: list[tuple[str, float]] | None = None
    #: (township, share of poor villages with unit and work team [%]) from the coverage analysis.
    coverage_by_township: list[tuple[str, float | None]] | None = None


def key_figures(
    *,
    villages: pd.DataFrame,
    townships: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    pairings: pd.DataFrame | None = None,
    work_teams: pd.DataFrame | None = None,
    pv_projects: pd.DataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
) -> KeyFigures:
    """Key figures computable from the registry alone (pairings of the latest year)."""
    f = KeyFigures()
    f.villages = len(villages)
    counts = villages["category"].value_counts() if len(villages) else pd.Series(dtype=int)
    f.villages_by_category = {c.label: int(counts.get(c.value, 0)) for c in VillageCategory}
    f.townships = 0 if townships is None else len(townships)
    f.units = 0 if units is None else len(units)
    poor_ids = set(villages.loc[villages["category"].isin(POOR_VILLAGE_CATEGORIES), "id"])
    f.poor_villages = len(poor_ids)
    if pairings is not None and len(pairings):
        f.pairing_year = int(pairings["year"].max())
        current = pairings[pairings["year"] == f.pairing_year]
        f.pairings = len(current)
        f.units_paired = current["unit_id"].nunique()
        f.task_funds_wan_yuan = round(float(current["task_funds_wan_yuan"].fillna(0).sum()), 2)
        f.poor_villages_without_unit = len(poor_ids - set(current["village_id"]))
    else:
        f.poor_villages_without_unit = len(poor_ids)
    if work_teams is not None and len(work_teams):
        year = f.pairing_year or int(work_teams["year"].max())
        teams = work_teams[work_teams["year"] == year]
        f.poor_villages_without_work_team = len(poor_ids - set(teams["village_id"]))
    else:
        f.poor_villages_without_work_team = len(poor_ids)
    if pv_projects is not None and len(pv_projects):
        f.pv_projects = len(pv_projects)
        f.pv_capacity_kw = round(float(pv_projects["capacity_kw"].sum()), 1)
        grid = pv_projects["status"] == PVStatus.GRID_CONNECTED.value
        f.pv_grid_connected_kw = round(float(pv_projects.loc[grid, "capacity_kw"].sum()), 1)
    if roads is not None and len(roads):
        metric = to_metric(roads)
        length_km = metric.geometry.length / 1000.0
        by_surface = length_km.groupby(roads["surface"].to_numpy()).sum()
        f.road_km_by_surface = {s.label: round(float(by_surface.get(s.value, 0.0)), 1) for s in RoadSurface}
    f.demo_note = demo_flag(villages, units, roads, pv_projects)
    return f


#: The analyses whose district tables fill landing cards (map names of :mod:`maps.catalog`).
LANDING_ANALYSES = ("coverage", "roads", "water")
#: Units drawn on the inputs-against-tasks chart (lowest shares first).
UNITS_SHOWN = 20


@dataclass(frozen=True)
class AnalysisSource:
    """An analysis the landing page runs that has no map of its own (inputs against tasks)."""

    name: str
    analysis: str
    requires: tuple[str, ...]
    source: str = "analysis"
    layers: Mapping[str, Any] = field(default_factory=dict)


#: The inputs-against-tasks analysis, for the landing page's charts.
INPUTS_SOURCE = AnalysisSource("inputs", "inputs", tuple(n for n in NEEDS["inputs"]))


def chart_figures(figures: KeyFigures, tables: Mapping[str, Mapping[str, pd.DataFrame]], *,
                  households: pd.DataFrame | None = None) -> KeyFigures:
    """``figures`` with the small charts' data: from the inputs analysis' ``townships`` and
    ``units`` tables, the coverage analysis' ``townships`` table and the households' exit
    years (``status`` exited, ``status_year``); what the viewer may not read stays None."""
    c = ChartData()
    inputs = tables.get("inputs")
    if inputs is not None:
        towns = inputs["townships"]
        c.funds_by_township = [(str(r.township_name), _num(r.task_funds_wan_yuan), _num(r.total_input_wan_yuan))
                               for r in towns.itertuples() if isinstance(r.township_name, str)]
        units = inputs["units"]
        tasked = units[units["task_funds_wan_yuan"] > 0]
        c.units_with_task = len(tasked)
        c.units_met = int((tasked["total_input_wan_yuan"].fillna(0) >= tasked["task_funds_wan_yuan"]).sum())
        lowest = tasked.sort_values("input_vs_task_pct", na_position="first").head(UNITS_SHOWN)
        c.inputs_by_unit = [(str(r.unit_name), _num(r.input_vs_task_pct)) for r in lowest.itertuples()]
    coverage = tables.get("coverage")
    if coverage is not None:
        c.coverage_by_township = [(str(r.township_name), _num(round(r.covered_pct, 1)) if pd.notna(r.covered_pct) else None)
                                  for r in coverage["townships"].itertuples()]
    if households is not None:
        exited = households[(households["status"] == "exited") & households["status_year"].notna()]
        counts = exited["status_year"].astype(int).value_counts().sort_index()
        c.exits_by_year = [(f"{year}年", float(n)) for year, n in counts.items()]
    figures.charts = c
    return figures


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def charts_html(data: "ChartData") -> str:
    """The landing page's four small charts (inline SVG, :mod:`maps.charts`), each in a card
    titled in Chinese; a chart without data says so."""
    e = html.escape
    cards = []

    def card(key: str, title: str, svg: str | None, note: str = "") -> None:
        body = svg if svg else f'<p class="detail">{NOT_AVAILABLE}</p>'
        cards.append(f'<figure class="chart-card" id="chart-{e(key)}"><figcaption>{e(title)}</figcaption>{body}'
                     + (f'<p class="detail">{e(note)}</p>' if note else "") + "</figure>")

    rows = data.funds_by_township
    card("funds-by-township", "各乡镇帮扶任务与投入（万元）",
         charts.paired_bars(rows, title="各乡镇帮扶任务与投入", names=("帮扶任务", "投入资金"), unit="万元",
                            chart="funds-by-township") if rows else None,
         "投入：附件2 投入资金共计（不含协调资金）")
    units = data.inputs_by_unit
    note = (f"{data.units_met}/{data.units_with_task} 个单位投入达到帮扶任务；图中为投入占比最低的 {len(units)} 个单位"
            if units else "")
    card("inputs-by-unit", "各帮扶单位投入/任务（%）",
         charts.share_bars(units, title="各帮扶单位投入占帮扶任务的比例", chart="inputs-by-unit") if units else None,
         note)
    exits = data.exits_by_year
    card("exits-by-year", "各年度脱贫户数",
         charts.column_bars(exits, title="各年度脱贫户数", unit="户", chart="exits-by-year") if exits else None)
    cover = data.coverage_by_township
    card("coverage-by-township", "各乡镇贫困村帮扶覆盖率（%）",
         charts.share_bars(cover, title="各乡镇贫困村单位和工作队齐全的比例", chart="coverage-by-township")
         if cover else None, "覆盖：有帮扶单位且有驻村工作队")
    return f'<div class="charts">{"".join(cards)}</div>'

#: What the page says in a card whose analysis the viewer may not read (or that found no data).
NOT_AVAILABLE = "无权查看或无数据"


def coverage_figures(district: pd.DataFrame) -> dict[str, str]:
    """The landing page's coverage card from the coverage analysis' ``district`` table."""
    if district is None or district.empty:
        return {}
    row = district.iloc[0]
    pct = row["covered_pct"]
    return {"贫困村": f"{int(row['poor_villages'])} 个",
            "单位和工作队齐全": f"{int(row['poor_villages_covered'])} 个"
                            + ("" if pd.isna(pct) else f"（{float(pct):.1f}%）"),
            "超5户责任人": f"{int(row['cadres_over_limit'])} 人"}


def road_gap_figures(district: pd.DataFrame) -> dict[str, str]:
    """The road-gap card from the road analysis' ``district`` table."""
    if district is None or district.empty:
        return {}
    row = district.iloc[0]
    joined = int(row["villages"]) - int(row["villages_joined_to_seat"])
    out = {"未达标自然村": f"{int(row['settlement_road_gaps'])} 个（20户以上 {int(row['settlements_20plus'])} 个）",
           "未经硬化路连通乡镇驻地的村": f"{joined} 个",
           "待建连接线": f"{int(row['new_links'])} 条，{_fmt(float(row['new_link_km']))} 公里"}
    if not pd.isna(row.get("new_link_cost_wan_yuan")):
        out["估算造价"] = f"{_fmt(float(row['new_link_cost_wan_yuan']))} 万元"
    return out


def water_gap_figures(district: pd.DataFrame) -> dict[str, str]:
    """The water-gap card from the water analysis' ``district`` table."""
    if district is None or district.empty:
        return {}
    row = district.iloc[0]
    return {"超出取水距离自然村": f"{int(row['settlements_beyond'])} 个，{int(row['population_beyond'])} 人",
            "低于达标线行政村": f"{int(row['villages_below_threshold'])} 个",
            "停用/损坏设施": f"{int(row['facilities_out_of_service'])} 处"}


def analysis_figures(figures: KeyFigures, districts: Mapping[str, pd.DataFrame]) -> KeyFigures:
    """``figures`` with the coverage, road-gap and water-gap cards filled from the analyses'
    district tables (``districts``: analysis name -> table; absent when not readable)."""
    if "coverage" in districts:
        figures.coverage = coverage_figures(districts["coverage"])
    if "roads" in districts:
        figures.road_gaps = road_gap_figures(districts["roads"])
    if "water" in districts:
        figures.water_gaps = water_gap_figures(districts["water"])
    return figures


def map_headlines(figures: KeyFigures, *, plans: int | None = None,
                  monitoring: tuple[int, int, int] | None = None) -> dict[str, str]:
    """One line of headline figures per map name, from figures already computed (cheap);
    ``monitoring``: monitored households, open cases and overdue steps, for a caller who may
    read households."""
    lines = {
        "pairing": f"{figures.pairings} 对结对关系，任务资金 {_fmt(figures.task_funds_wan_yuan, 2)} 万元",
        "overview": f"{figures.villages} 个行政村，{figures.townships} 个乡镇",
        "roads": f"道路 {_fmt(sum(figures.road_km_by_surface.values()))} 公里",
        "pv": f"{figures.pv_projects} 个项目，{_fmt(figures.pv_capacity_kw)} 千瓦",
    }
    if figures.coverage:
        lines["coverage"] = "，".join(f"{k} {v}" for k, v in figures.coverage.items())
    else:
        lines["coverage"] = f"贫困村缺工作队 {figures.poor_villages_without_work_team} 个"
    if plans is not None:
        lines["inspection"] = f"已抽样督查方案 {plans} 个（打开时加 ?plan=编号）"
    if monitoring is not None:
        monitored, open_cases, overdue = monitoring
        lines["monitoring"] = f"监测对象 {monitored} 户，在办案件 {open_cases} 件，逾期 {overdue} 件"
    return lines


def _first(figures: Mapping[str, Any], key: str) -> str:
    """The leading count of a card's line (``3 个（...）`` -> ``3 个``)."""
    return str(figures.get(key, "—")).split("（")[0].split("，")[0]


def _covered_share(figures: Mapping[str, Any]) -> str:
    """The covered share of poor villages (``37 个（92.5%）`` -> ``92.5%``)."""
    text = str(figures.get("单位和工作队齐全", "—"))
    return text.split("（")[1].rstrip("）") if "（" in text else text


def _fmt(value: float, decimals: int = 1) -> str:
    return f"{value:,.{decimals}f}" if not float(value).is_integer() else f"{int(value):,}"


def landing_html(figures: KeyFigures, maps: Iterable[MapSpec], *, district: str = "沙坡头区",
                 account: str | None = None, headlines: Mapping[str, str] | None = None,
                 pages: Iterable[tuple[str, str]] = (), area: str | None = None) -> str:
    """The landing page (Chinese), every value escaped; ``account`` names who is logged in and
    ``pages`` are the (path, title) of the work pages the visitor may open (the 工作页面 row);
    ``area`` (a code) is carried into every map link, so the maps show the same area."""
    e = html.escape
    cards = [
        ("行政村", f"{figures.villages}", "，".join(f"{k} {v}" for k, v in figures.villages_by_category.items() if v)),
        ("帮扶单位", f"{figures.units}", f"其中 {figures.units_paired} 个承担结对帮扶"),
        ("结对关系", f"{figures.pairings}", f"{figures.pairing_year or '—'} 年，任务资金 {_fmt(figures.task_funds_wan_yuan, 2)} 万元"),
        ("贫困村缺驻村工作队", f"{figures.poor_villages_without_work_team}",
         f"贫困村 {figures.poor_villages} 个，缺帮扶单位 {figures.poor_villages_without_unit} 个"),
        ("光伏装机", f"{_fmt(figures.pv_capacity_kw)} 千瓦",
         f"{figures.pv_projects} 个项目，已并网 {_fmt(figures.pv_grid_connected_kw)} 千瓦"),
        ("道路里程", f"{_fmt(sum(figures.road_km_by_surface.values()))} 公里",
         "，".join(f"{k} {_fmt(v)}" for k, v in figures.road_km_by_surface.items())),
    ]
    for label, value, headline in (("帮扶覆盖率", figures.coverage, _covered_share),
                                   ("道路缺口", figures.road_gaps, lambda v: _first(v, "未达标自然村")),
                                   ("饮水缺口", figures.water_gaps, lambda v: _first(v, "超出取水距离自然村"))):
        if value:
            detail = "，".join(f"{k} {v}" for k, v in value.items())
            cards.append((label, headline(value), detail))
        else:
            cards.append((label, "—", NOT_AVAILABLE))
    card_html = "".join(
        f'<div class="card" data-figure="{e(label)}"><div class="label">{e(label)}</div>'
        f'<div class="value">{e(value)}</div><div class="detail">{e(detail)}</div></div>'
        for label, value, detail in cards)
    suffix = f"?area={quote(area)}" if area else ""
    links = "".join(
        f'<li><a href="/maps/{e(s.name)}{e(suffix)}">{e(s.title)}</a> <span class="who">（{e(s.audience)}）</span>'
        f'<p>{e(s.description)}</p>'
        + (f'<p class="headline" data-map="{e(s.name)}">{e(headlines[s.name])}</p>' if s.name in (headlines or {}) else "")
        + '</li>' for s in maps)
    demo = f'<p class="demo">{e(figures.demo_note)}</p>' if figures.demo_note else ""
    nav = (f'<p class="account">当前用户：{e(account)} · <a href="/logout">退出登录</a></p>'
           if account else "")
    work = "".join(f'<a href="{e(path)}">{e(title)}</a>' for path, title in pages)
    work = f'<nav class="work" id="work-pages"><span>工作页面：</span>{work}</nav>' if work else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(district)} · 村级帮扶地图</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 0;
  background: #f5f5f2; color: #222; }}
header {{ background: #8b1a1a; color: #fff; padding: 16px 24px; }}
header h1 {{ margin: 0; font-size: 22px; }} header p {{ margin: 4px 0 0; opacity: .85; }}
header .account a {{ color: #fff; }}
main {{ padding: 16px 24px; max-width: 1100px; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }}
.card {{ background: #fff; border-radius: 6px; padding: 12px 14px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }}
.card .label {{ color: #666; font-size: 13px; }} .card .value {{ font-size: 24px; font-weight: 600; margin: 4px 0; }}
.card .detail {{ font-size: 12px; color: #555; }}
.maps li {{ margin: 8px 0; }} .maps a {{ font-size: 17px; }} .maps p {{ margin: 2px 0; color: #555; font-size: 13px; }}
.who {{ color: #888; font-size: 13px; }} .maps p.headline {{ color: #8b1a1a; }}
.work {{ margin: 0 0 12px; }} .work a {{ margin-right: 14px; font-size: 16px; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 12px; }}
.chart-card {{ background: #fff; border-radius: 6px; padding: 10px 12px; margin: 0;
  box-shadow: 0 1px 3px rgba(0,0,0,.15); }}
.chart-card figcaption {{ color: #444; font-size: 14px; font-weight: 600; margin-bottom: 6px; }}
.chart-card .detail {{ font-size: 12px; color: #555; margin: 4px 0 0; }}
.demo {{ background: #fff4d6; border: 1px solid #e0b64a; padding: 8px 12px; border-radius: 4px; color: #6b4e00; }}
</style></head>
<body><header><h1>{e(district)} 村级帮扶地图</h1><p>帮扶结对、基础设施与光伏项目登记与分析</p>{nav}</header>
<main>{work}{demo}<h2>主要指标</h2><div class="cards">{card_html}</div>
<h2>图表</h2>{charts_html(figures.charts)}
<h2>地图</h2><ul class="maps">{links}</ul>
<p class="who">接口文档：<a href="/docs">/docs</a> · OGC API - Features（QGIS / GDAL）：<a href="/ogc">/ogc</a>
· 图层 GeoJSON：<a href="/api/layers">/api/layers</a></p></main></body></html>"""


def plan_chooser_html(spec: MapSpec, plans: pd.DataFrame) -> str:
    """The page ``/maps/inspection`` answers a browser that named no plan: the plans to choose
    from (the newest first), each a link, or how to draw one; every value escaped."""
    e = html.escape
    rows = "".join(
        f'<li><a href="/maps/{e(spec.name)}?plan={int(p.id)}">{e(str(p.name))}</a>'
        + (f'<span class="who">（{e(str(p.year))}年）</span>' if "year" in plans and not pd.isna(p.year) else "")
        + "</li>" for p in plans.itertuples()) if len(plans) else ""
    body = (f'<p>请选择督查方案：</p><ul class="maps">{rows}</ul>' if rows else
            "<p>尚无督查抽样方案。请先用 <code>atlas sample draw ...</code> 抽样，或联系督查组负责人。</p>")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(spec.title)} · 村级帮扶地图</title>
<style>body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #222; }}
.who {{ color: #888; font-size: 13px; }} li {{ margin: 6px 0; }}</style></head>
<body><h1>{e(spec.title)}</h1><p>督查路线图需要指定一个督查方案（地址加 ?plan=编号）。</p>{body}
<p><a href="/">返回首页</a></p></body></html>"""


__all__ = ["DEMO_NOTE", "INPUTS_SOURCE", "LANDING_ANALYSES", "ChartData", "KeyFigures", "analysis_figures",
           "chart_figures", "charts_html", "coverage_figures", "key_figures",
           "landing_html", "map_headlines", "plan_chooser_html", "road_gap_figures", "water_gap_figures"]
