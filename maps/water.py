"""饮水安全图: who lives beyond a working drinking-water supply, for planners.

Facilities are drawn by kind and status; settlements beyond the supply distance stand out;
villages below the safe-water coverage threshold get a dark ring and a warning. The figures
come from :func:`geo.analysis.water.analyze_water`, run here on the frames given.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import pandas as pd

from geo.analysis.result import AnalysisResult
from geo.analysis.water import (COVERAGE_SOURCE, DEFAULT_OUT_OF_SERVICE_STATUSES, DEFAULT_SAFE_WATER_THRESHOLD_PCT,
                                DEFAULT_SUPPLY_DISTANCE_M, analyze_water)
from geo.enums import HouseholdStatus, VillageCategory
from maps import base as mb
from maps.library import library_legend, library_overlay
from maps.overview import water_legend, water_overlay
from maps.pairing import township_legend, township_overlay

WITHIN_COLOR = "#2b8cbe"
BEYOND_COLOR = "#d7301f"
REPAIR_COLOR = "#fd8d3c"
UNKNOWN_COLOR = "#bdbdbd"
BELOW_STYLE = {"color": "#111111", "weight": 4, "dashArray": "4 3"}
BELOW_LABEL = "安全饮水比例低于达标线的行政村（黑色虚线圈）"
#: Villages whose stated share passes while many live beyond the supply distance (疑点).
CONFLICT_STYLE = {"color": "#d4a000", "weight": 5, "dashArray": "2 4"}
CONFLICT_LABEL = "疑点：调查比例达标但超距人口多（黄色点线圈）"


def water_map(
    *,
    villages: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame,
    water_facilities: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame | None = None,
    water_facility_villages: pd.DataFrame | None = None,
    households: gpd.GeoDataFrame | None = None,
    projects: gpd.GeoDataFrame | None = None,
    supply_distance_m: float = DEFAULT_SUPPLY_DISTANCE_M,
    safe_water_threshold_pct: float = DEFAULT_SAFE_WATER_THRESHOLD_PCT,
    out_of_service_statuses: Sequence[str] = DEFAULT_OUT_OF_SERVICE_STATUSES,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """The drinking-water map (饮水安全图).

    Parameters
    ----------
    villages, settlements, water_facilities, townships, water_facility_villages, households, projects
        Registry layers and the facility-village link table, as
        :func:`geo.analysis.water.analyze_water` takes them (households optional, without
        personal fields; completed well projects count as supply points).
    supply_distance_m, safe_water_threshold_pct, out_of_service_statuses
        The analysis' rules [m, %, -].
    township
        Name of the township the frames were filtered to (title only).
    base, tianditu_key
        See :func:`maps.base.new_map`.

    Raises
    ------
    ValidationError
        A frame without a column the analysis needs, or a bad rule.
    """
    mb.refuse_personal_fields(households, "household")
    result = analyze_water(villages, settlements, water_facilities, links=water_facility_villages,
                           households=households, townships=townships, projects=projects,
                           supply_distance_m=supply_distance_m,
                           safe_water_threshold_pct=safe_water_threshold_pct,
                           out_of_service_statuses=out_of_service_statuses)
    return water_map_from(result, facilities=water_facilities, townships=townships,
                          demo_note=mb.demo_flag(villages, settlements, water_facilities, townships, households),
                          township=township, base=base, tianditu_key=tianditu_key, projects=projects)


def water_map_from(result: AnalysisResult, *, facilities: gpd.GeoDataFrame,
                   townships: gpd.GeoDataFrame | None = None, demo_note: str | None = None,
                   township: str | None = None, base: str | None = None,
                   tianditu_key: str | None = None, projects: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The drinking-water map from a water :class:`~geo.analysis.result.AnalysisResult`; with
    ``projects``, the project library's well projects in the colour of their stage."""
    m = mb.new_map(base=base, tianditu_key=tianditu_key)
    rules = {t.name: t.value for t in result.thresholds}
    distance_m = float(rules.get("supply_distance_m", DEFAULT_SUPPLY_DISTANCE_M))
    threshold = float(rules.get("safe_water_threshold_pct", DEFAULT_SAFE_WATER_THRESHOLD_PCT))
    legend = mb.Legend("图例", demo_note=demo_note)
    within = f"{distance_m / 1000:g}公里内有正常供水点"
    beyond = f"超出取水距离（{distance_m / 1000:g}公里内无正常供水点）"
    repair = "超出取水距离，修复附近停用/损坏设施即可供水"

    town_layer = township_overlay(townships)
    if town_layer is not None:
        m.add_child(town_layer)
    facilities = mb.within_areas(facilities, townships)
    if len(facilities):
        m.add_child(water_overlay(facilities))
    households = result.tables.get("households")
    if households is not None and len(households):
        m.add_child(mb.overlay(
            households, key="water_households", name="超出取水距离的农户（聚合）", kind="circle",
            properties={"code": households["household_code"],
                        "status": mb.labels(households["household_status"], HouseholdStatus),
                        "members": [mb.fmt_number(v, "人") for v in households["members"]],
                        "village_name": households["village_name"],
                        "distance": [_metres(v) for v in households["distance_to_water_m"]]},
            style={"radius": 4, "weight": 1, "color": "#ffffff", "fillColor": BEYOND_COLOR, "fillOpacity": 0.85},
            popup_title="code",
            popup_rows=[("农户类别", "status"), ("家庭人口", "members"), ("行政村", "village_name"),
                        ("距正常供水点", "distance")],
            cluster="户", show=False, precision=5,
        ))
        legend.sections.append(mb.LegendSection("农户", (
            mb.LegendItem("超出取水距离的农户（默认隐藏，聚合显示为“N户”）", BEYOND_COLOR, "circle", size_px=8),)))
    settlements = result.tables["settlements"]
    m.add_child(mb.overlay(
        settlements, key="settlements", name="自然村（取水距离）", kind="circle",
        properties=_settlement_properties(settlements),
        style={"radius": 5, "weight": 1, "color": "#ffffff", "fillOpacity": 0.9},
        feature_styles=[{"fillColor": _settlement_color(b, r), "radius": 6 if _yes(b) else 4}
                        for b, r in zip(settlements["beyond_supply_distance"], settlements["served_if_repaired"])],
        popup_title="name",
        popup_rows=[("行政村", "village_name"), ("户数", "households"), ("人口", "population"),
                    ("距正常供水点", "distance"), ("最近供水点", "nearest"), ("说明", "reason")],
        tooltip="name", cluster=len(settlements) > 500, names=mb.Names("name", min_zoom=13),
    ))
    villages = result.tables["villages"]
    below = [_yes(b) for b in villages["below_threshold"]]
    doubtful = [_yes(c) for c in villages["evidence_conflict"]] if "evidence_conflict" in villages \
        else [False] * len(villages)
    m.add_child(mb.overlay(
        villages, key="villages", name="行政村（安全饮水比例）", kind="circle",
        properties=_village_properties(villages, threshold),
        style={"radius": 8, "weight": 1.5, "color": "#ffffff", "fillOpacity": 0.95},
        feature_styles=[{"fillColor": _village_color(v), **(BELOW_STYLE if b else {}), **(CONFLICT_STYLE if c else {})}
                        for v, b, c in zip(villages["no_working_supply"], below, doubtful)],
        popup_title="name",
        popup_rows=[("乡镇", "township_name"), ("类别", "category"), ("安全饮水比例", "share"),
                    ("比例来源", "source"), ("距正常供水点", "distance"), ("正常饮水设施", "working"),
                    ("停用/损坏设施", "broken"), ("超距自然村", "beyond"), ("超距人口", "population_beyond"),
                    ("疑点", "conflict"), ("说明", "reason")],
        tooltip="name", search="name", names=mb.Names("name"),
    ))

    legend.sections.insert(0, mb.LegendSection("行政村", (
        mb.LegendItem(BELOW_LABEL, "#ffffff", "circle", border="#111111"),
        mb.LegendItem(CONFLICT_LABEL, "#ffffff", "circle", border=CONFLICT_STYLE["color"]),
        mb.LegendItem("有正常供水点", WITHIN_COLOR, "circle"),
        mb.LegendItem("无正常供水点", BEYOND_COLOR, "circle"),
    )))
    legend.sections.insert(1, mb.LegendSection("自然村：取水距离", (
        mb.LegendItem(within, WITHIN_COLOR, "circle", size_px=10),
        mb.LegendItem(beyond, BEYOND_COLOR, "circle", size_px=12),
        mb.LegendItem(repair, REPAIR_COLOR, "circle", size_px=12),
        mb.LegendItem("无位置", UNKNOWN_COLOR, "circle", size_px=10),
    )))
    legend.sections.extend(water_legend())
    library = library_overlay(projects, kinds=("well",), key="library_projects", name="项目库打井项目（按阶段）")
    if library is not None:
        m.add_child(library)
        legend.sections.append(library_legend(shape="circle"))
    if town_layer is not None:
        legend.sections.append(mb.LegendSection("行政区", (township_legend(),)))

    parts = [township, f"{len(villages)} 个行政村",
             f"超距自然村 {int(settlements['beyond_supply_distance'].fillna(False).sum())} 个",
             f"低于{threshold:g}%的村 {int(sum(below))} 个",
             f"疑点村 {int(sum(doubtful))} 个（调查比例达标但超距人口多）"]
    return mb.finish_map(m, title="饮水安全图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         search=["villages"], bounds_from=[villages, settlements, townships])


# ------------------------------------------------------------------ steps


def _yes(value) -> bool:
    return not pd.isna(value) and bool(value)


def _metres(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return f"{value / 1000:,.1f} 公里" if value >= 1000 else f"{value:,.0f} 米"


def _settlement_color(beyond, repaired) -> str:
    if pd.isna(beyond):
        return UNKNOWN_COLOR
    if bool(beyond):
        return REPAIR_COLOR if _yes(repaired) else BEYOND_COLOR
    return WITHIN_COLOR


def _village_color(no_working_supply) -> str:
    return BEYOND_COLOR if _yes(no_working_supply) else WITHIN_COLOR


def _settlement_properties(settlements: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "name": settlements["settlement_name"],
        "village_name": settlements["village_name"],
        "households": [mb.fmt_number(v, "户") for v in settlements["households"]],
        "population": [mb.fmt_number(v, "人") for v in settlements["population"]],
        "distance": [_metres(v) for v in settlements["distance_to_water_m"]],
        "nearest": settlements["nearest_facility_name"],
        "reason": settlements["reason"],
        "_warn": [["超出取水距离"] if _yes(b) else None for b in settlements["beyond_supply_distance"]],
    }, index=settlements.index)


def _village_properties(villages: pd.DataFrame, threshold: float) -> pd.DataFrame:
    return pd.DataFrame({
        "name": villages["village_name"],
        "township_name": villages["township_name"],
        "category": mb.labels(villages["category"], VillageCategory),
        "share": [mb.fmt_number(None if pd.isna(v) else round(float(v), 1), "%") for v in villages["safe_water_share_pct"]],
        "source": [COVERAGE_SOURCE.get(s, s) for s in villages["coverage_source"]],
        "distance": [_metres(v) for v in villages["distance_to_water_m"]],
        "working": [mb.fmt_number(v, "处") for v in villages["working_drinking_facilities"]],
        "broken": [mb.fmt_number(v, "处") for v in villages["out_of_service_facilities"]],
        "beyond": [mb.fmt_number(v, "个") for v in villages["settlements_beyond"]],
        "population_beyond": [mb.fmt_number(v, "人", decimals=0) for v in villages["population_beyond"]],
        "conflict": villages.get("evidence_note"),
        "reason": villages["reason"],
        "_warn": [([f"安全饮水比例低于{threshold:g}%"] if _yes(b) else []) + (["疑点：调查比例与取水距离不一致"] if _yes(c) else [])
                  or None for b, c in zip(villages["below_threshold"],
                                          villages["evidence_conflict"] if "evidence_conflict" in villages
                                          else [False] * len(villages))],
    }, index=villages.index)
