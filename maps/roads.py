"""道路通达图: which villages and settlements the road network reaches, for planners.

Roads are styled by surface and width; villages and settlements are coloured by their
distance to the nearest hardened road; the missing links the analysis proposes are drawn
dashed with their length and cost; the band within 2 km of an all-season road (the Rural
Access Index) is shaded. The figures come from :func:`geo.analysis.roads.analyze_roads`, run
here on the frames given.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import pandas as pd

from geo.analysis.roads import (DEFAULT_ACCESS_TOLERANCE_M, DEFAULT_ALL_SEASON_SURFACES, DEFAULT_COST_YUAN_PER_KM,
                                DEFAULT_RAI_DISTANCE_M, ROAD_STATUS, analyze_roads)
from geo.analysis.result import AnalysisResult
from geo.enums import RoadSurface, VillageCategory
from maps import base as mb
from maps.library import library_legend, library_overlay
from maps.overview import roads_legend, roads_overlay
from maps.pairing import township_legend, township_overlay

LINK_COLOR = "#e31a1c"
BAND_COLOR = "#74c476"


def distance_classes(access_tolerance_m: float = DEFAULT_ACCESS_TOLERANCE_M) -> mb.Classes:
    """Distance to a hardened road [m]: on it, within 2 km, within 5 km, farther."""
    return mb.Classes(
        breaks=(access_tolerance_m, 2000.0, 5000.0),
        colors=("#1a9850", "#fee08b", "#fc8d59", "#d73027"),
        labels=(f"{access_tolerance_m:g}米内（通硬化路）", f"{access_tolerance_m:g}米–2公里", "2–5公里", "5公里以上"),
        missing_label="无位置或无硬化路",
    )


def roads_map(
    *,
    villages: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame | None = None,
    projects: gpd.GeoDataFrame | None = None,
    access_tolerance_m: float = DEFAULT_ACCESS_TOLERANCE_M,
    all_season_surfaces: Sequence[str] = DEFAULT_ALL_SEASON_SURFACES,
    rai_distance_m: float = DEFAULT_RAI_DISTANCE_M,
    cost_yuan_per_km: float = DEFAULT_COST_YUAN_PER_KM,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """The road access map (道路通达图).

    Parameters
    ----------
    villages, settlements, roads, townships, households, projects
        Registry layers as :func:`geo.analysis.roads.analyze_roads` takes them (households
        optional, without personal fields; completed road projects join the network).
    access_tolerance_m, all_season_surfaces, rai_distance_m, cost_yuan_per_km
        The analysis' rules [m, -, m, yuan/km].
    township
        Name of the township the frames were filtered to (title only).
    base, tianditu_key
        See :func:`maps.base.new_map`.

    Raises
    ------
    ValidationError
        A frame without a column the analysis needs, or a bad rule.
    """
    result = analyze_roads(villages, settlements, roads, townships, households=households, projects=projects,
                           access_tolerance_m=access_tolerance_m, all_season_surfaces=all_season_surfaces,
                           rai_distance_m=rai_distance_m, cost_yuan_per_km=cost_yuan_per_km, band=True)
    return roads_map_from(result, roads=roads, townships=townships,
                          demo_note=mb.demo_flag(villages, settlements, roads, townships),
                          township=township, base=base, tianditu_key=tianditu_key, projects=projects)


def roads_map_from(result: AnalysisResult, *, roads: gpd.GeoDataFrame, townships: gpd.GeoDataFrame | None = None,
                   demo_note: str | None = None, township: str | None = None, base: str | None = None,
                   tianditu_key: str | None = None, projects: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The road access map from a roads :class:`~geo.analysis.result.AnalysisResult`; with
    ``projects``, the project library's road projects in the colour of their stage."""
    m = mb.new_map(base=base, tianditu_key=tianditu_key)
    rules = {t.name: t.value for t in result.thresholds}
    tolerance = float(rules.get("access_tolerance_m", DEFAULT_ACCESS_TOLERANCE_M))
    rai_m = float(rules.get("rai_distance_m", DEFAULT_RAI_DISTANCE_M))
    classes = distance_classes(tolerance)
    legend = mb.Legend("图例", demo_note=demo_note)

    town_layer = township_overlay(townships)
    if town_layer is not None:
        m.add_child(town_layer)
    band = result.tables.get("band")
    if band is not None and len(band) and band.geometry.notna().any():
        m.add_child(mb.overlay(
            band, key="rai_band", name=f"全天候道路{rai_m / 1000:g}公里范围", kind="path",
            properties={"label": [f"全天候道路（{_surfaces(rules)}）{rai_m / 1000:g}公里范围，"
                                  f"{mb.fmt_number(round(float(a), 1), '平方公里')}" for a in band["area_km2"]]},
            style={"stroke": False, "fillColor": BAND_COLOR, "fillOpacity": 0.25},
            tooltip="label",
        ))
    roads = mb.within_areas(roads, townships)
    if len(roads):
        m.add_child(roads_overlay(roads))
    links = result.tables["links"]
    m.add_child(mb.overlay(
        links, key="road_links", name="待建连接线（虚线）", kind="path",
        properties=_link_properties(links),
        style={"color": LINK_COLOR, "weight": 3, "dashArray": "8 6", "opacity": 0.9},
        popup_title="label",
        popup_rows=[("连接对象", "kind"), ("乡镇", "township_name"), ("受益行政村", "villages"),
                    ("受益户", "households"), ("长度", "km"), ("估算造价", "cost"), ("说明", "reason")],
        tooltip="label",
    ))
    library = library_overlay(projects, kinds=("road",), key="library_projects", name="项目库道路项目（按阶段）")
    if library is not None:
        m.add_child(library)
    settlements = result.tables["settlements"]
    m.add_child(mb.overlay(
        settlements, key="settlements", name="自然村（按距硬化路）", kind="circle",
        properties=_settlement_properties(settlements),
        style={"radius": 4, "weight": 1, "color": "#ffffff", "fillOpacity": 0.9},
        feature_styles=[{"fillColor": c, **({"color": "#111111", "weight": 2.5} if gap else {})}
                        for c, gap in zip(classes.colors_of(settlements["distance_to_hardened_road_m"]),
                                          settlements["road_gap"].fillna(False))],
        popup_title="name",
        popup_rows=[("行政村", "village_name"), ("户数", "households"), ("距硬化路", "hardened"),
                    ("距达标道路", "qualifying"), ("道路达标", "gap"), ("新建连接线", "link"), ("说明", "reason")],
        tooltip="name", cluster=len(settlements) > 500, names=mb.Names("name", min_zoom=13),
    ))
    villages = result.tables["villages"]
    m.add_child(mb.overlay(
        villages, key="villages", name="行政村（按距硬化路）", kind="circle",
        properties=_village_properties(villages),
        style={"radius": 8, "weight": 2, "color": "#ffffff", "fillOpacity": 0.95},
        feature_styles=[{"fillColor": c} for c in classes.colors_of(villages["distance_to_hardened_road_m"])],
        popup_title="name",
        popup_rows=[("乡镇", "township_name"), ("类别", "category"), ("通路状况", "status"),
                    ("距硬化路", "hardened"), ("至乡镇驻地", "seat"), ("农村可达性指数", "rai"),
                    ("未达标自然村", "gaps"), ("新建连接线", "link"), ("说明", "reason")],
        tooltip="name", search="name", names=mb.Names("name"),
    ))

    legend.sections.append(classes.legend("行政村、自然村：距硬化路", shape="circle"))
    legend.sections.append(mb.LegendSection("道路缺口", (
        mb.LegendItem("自然村道路未达标（黑圈）", "#ffffff", "circle", border="#111111"),
        mb.LegendItem("待建连接线（标注长度、造价）", LINK_COLOR, "dashed"),
        mb.LegendItem(f"全天候道路{rai_m / 1000:g}公里范围", BAND_COLOR, "area"),
    )))
    legend.sections.append(roads_legend())
    if library is not None:
        legend.sections.append(library_legend())
    if town_layer is not None:
        legend.sections.append(mb.LegendSection("行政区", (township_legend(),)))

    parts = [township, f"{len(villages)} 个行政村"]
    district = result.tables.get("district")
    if district is not None and len(district):
        row = district.iloc[0]
        parts.append(f"未连通乡镇驻地 {int(row['villages_not_joined'])} 个，待建连接线 {int(row['new_links'])} 条 "
                     f"{mb.fmt_number(round(float(row['new_link_km']), 1), '公里')}")
    return mb.finish_map(m, title="道路通达图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         search=["villages"], bounds_from=[villages, settlements, townships])


# ------------------------------------------------------------------ steps


def _surfaces(rules: dict) -> str:
    surfaces = rules.get("all_season_surfaces", DEFAULT_ALL_SEASON_SURFACES)
    return "、".join(RoadSurface.labels().get(str(s), str(s)) for s in surfaces)


def _metres(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return f"{value / 1000:,.1f} 公里" if value >= 1000 else f"{value:,.0f} 米"


def _link_text(km, cost) -> str | None:
    if km is None or pd.isna(km):
        return None
    return f"{float(km):,.2f} 公里，约 {float(cost):,.1f} 万元"


def _link_properties(links: pd.DataFrame) -> pd.DataFrame:
    kinds = {"village": "行政村", "settlement": "自然村"}
    labels = []
    for kind, villages, settlement, km, cost in zip(links["link_kind"], links["village_names"],
                                                    links["settlement_name"], links["length_km"],
                                                    links["cost_wan_yuan"]):
        target = settlement if kind == "settlement" and isinstance(settlement, str) else villages
        labels.append(f"待建连接线：{target}（{_link_text(km, cost)}）")
    return pd.DataFrame({
        "label": labels,
        "kind": [kinds.get(k, k) for k in links["link_kind"]],
        "township_name": links["township_name"],
        "villages": links["village_names"],
        "households": [mb.fmt_number(v, "户") for v in links["households_served"]],
        "km": [mb.fmt_number(round(float(v), 2), "公里", decimals=2) for v in links["length_km"]],
        "cost": [mb.fmt_number(round(float(v), 1), "万元") for v in links["cost_wan_yuan"]],
        "reason": links["reason"],
    }, index=links.index)


def _settlement_properties(settlements: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "name": settlements["settlement_name"],
        "village_name": settlements["village_name"],
        "households": [mb.fmt_number(v, "户") for v in settlements["households"]],
        "hardened": [_metres(v) for v in settlements["distance_to_hardened_road_m"]],
        "qualifying": [_metres(v) for v in settlements["distance_to_qualifying_road_m"]],
        "gap": [None if pd.isna(need) or not need else ("未达标" if not pd.isna(gap) and bool(gap) else "达标")
                for need, gap in zip(settlements["needs_road"], settlements["road_gap"])],
        "link": [_link_text(k, c) for k, c in zip(settlements["new_link_km"], settlements["new_link_cost_wan_yuan"])],
        "reason": settlements["reason"],
    }, index=settlements.index)


def _village_properties(villages: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "name": villages["village_name"],
        "township_name": villages["township_name"],
        "category": mb.labels(villages["category"], VillageCategory),
        "status": [ROAD_STATUS.get(s, s) for s in villages["road_status"]],
        "hardened": [_metres(v) for v in villages["distance_to_hardened_road_m"]],
        "seat": [mb.yes_no(j, "经硬化路连通", "未连通") for j in villages["joined_to_seat"]],
        "rai": [mb.fmt_number(None if pd.isna(v) else round(float(v), 1), "%") for v in villages["rai_pct"]],
        "gaps": [mb.fmt_number(v, "个") for v in villages["settlement_road_gaps"]],
        "link": [_link_text(k, c) for k, c in zip(villages["new_link_km"], villages["new_link_cost_wan_yuan"])],
        "reason": villages["reason"],
        "_warn": [["未经硬化路连通乡镇驻地"] if not pd.isna(j) and not bool(j) else None
                  for j in villages["joined_to_seat"]],
    }, index=villages.index)
