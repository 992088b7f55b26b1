"""总览图: every registry layer, each toggled in the layer control."""

from __future__ import annotations

import math
from typing import Any

import folium
import geopandas as gpd
import numpy as np

from geo.enums import (FacilityStatus, HouseholdStatus, PVKind, PVStatus, RoadClass, RoadSurface,
                       UnitKind, UnitLevel, VillageCategory, WaterKind)
from maps import base as mb
from maps.pairing import UNIT_COLOR, township_legend, township_overlay, village_category_legend, \
    village_category_style

SURFACE_STYLES = {
    RoadSurface.HARDENED: {"color": "#34495e"},
    RoadSurface.GRAVEL: {"color": "#a0522d", "dashArray": "8 4"},
    RoadSurface.EARTH: {"color": "#c8a165", "dashArray": "3 5"},
}
WATER_COLORS = {
    WaterKind.SUPPLY_POINT: "#1f78b4",
    WaterKind.WELL: "#17becf",
    WaterKind.CANAL: "#6baed6",
    WaterKind.RESERVOIR: "#08519c",
    WaterKind.PIPELINE: "#4292c6",
}
STATUS_STROKES = {
    FacilityStatus.WORKING: {"color": "#ffffff"},
    FacilityStatus.DAMAGED: {"color": "#e31a1c", "weight": 3},
    FacilityStatus.STOPPED: {"color": "#333333", "weight": 3, "dashArray": "2 3"},
    FacilityStatus.BUILDING: {"color": "#ff9900", "weight": 3},
    FacilityStatus.PLANNED: {"color": "#999999", "weight": 2, "dashArray": "4 3"},
}
PV_COLORS = {
    PVStatus.GRID_CONNECTED: "#d4a017",
    PVStatus.BUILDING: "#f39c12",
    PVStatus.PLANNED: "#bdc3c7",
    PVStatus.STOPPED: "#7f8c8d",
}
HOUSEHOLD_COLORS = {
    HouseholdStatus.REGISTERED: "#c0392b",
    HouseholdStatus.PLANNED_EXIT: "#e67e22",
    HouseholdStatus.EXITED: "#27ae60",
    HouseholdStatus.RETURNED: "#6d0000",
    HouseholdStatus.NON_POOR: "#95a5a6",
}
SETTLEMENT_COLOR = "#8e44ad"


def road_width_px(width_m: Any) -> float:
    """Line weight for a road of ``width_m`` [m]: 1.5 px for tracks up to 6 px for 9 m roads."""
    try:
        width = float(width_m)
    except (TypeError, ValueError):
        return 2.0
    if math.isnan(width):
        return 2.0
    return float(np.clip(width / 1.5, 1.5, 6.0))


def pv_radius_px(capacity_kw: Any) -> float:
    """Marker radius for a PV project of ``capacity_kw`` [kW]: 5 px at 3 kW, about 17 px at 20 MW."""
    try:
        kw = max(float(capacity_kw), 0.0)
    except (TypeError, ValueError):
        return 5.0
    return round(4.0 + 3.2 * math.log10(1.0 + kw), 1)


#: Zoom from which a tiled layer is drawn [Leaflet zoom]: at lower zooms one tile would hold
#: a whole county's roads or households. A zoom-12 tile is about 10 km wide.
ROADS_TILE_ZOOM = 9
SETTLEMENTS_TILE_ZOOM = 11
HOUSEHOLDS_TILE_ZOOM = 12


def _enum_labels(enum_cls) -> dict[str, str]:
    return {str(k): v for k, v in enum_cls.labels().items()}


def roads_overlay(roads: gpd.GeoDataFrame | mb.TiledLayer, *, show: bool = True) -> mb.Overlay | mb.TileOverlay:
    """Roads styled by surface (colour, dashes) and width (line weight); drawn from the
    vector tiles when too many to embed (:func:`maps.base.tiled`)."""
    layer = mb.tiled(roads, "roads")
    if layer is not None:
        return mb.TileOverlay(
            layer, key="roads", name="道路（按路面、宽度；矢量瓦片）", kind="path",
            fields={"name": mb.TileField("name"), "road_class": mb.TileField("road_class", _enum_labels(RoadClass)),
                    "surface": mb.TileField("surface", _enum_labels(RoadSurface)),
                    "width": mb.TileField("width_m", unit="米"), "code": mb.TileField("code"),
                    "source": mb.TileField("source")},
            style={"opacity": 0.85},
            style_by=("surface", {s.label: st for s, st in SURFACE_STYLES.items()}),
            scale=[mb.TileScale("width_m", "weight", 1.5, 1.5, 6.0, 2.0)],
            popup_title="name",
            popup_rows=[("等级", "road_class"), ("路面", "surface"), ("路面宽度", "width"), ("编号", "code")],
            tooltip="name", min_zoom=ROADS_TILE_ZOOM, show=show,
        )
    return mb.overlay(
        roads, key="roads", name="道路（按路面、宽度）", kind="path",
        properties={
            "name": roads.get("name"),
            "road_class": mb.labels(roads.get("road_class", [None] * len(roads)), RoadClass),
            "surface": mb.labels(roads["surface"], RoadSurface),
            "width": [mb.fmt_number(w, "米") for w in roads.get("width_m", [None] * len(roads))],
            "code": roads.get("code"),
        },
        style={"opacity": 0.85},
        style_by=("surface", {s.label: st for s, st in SURFACE_STYLES.items()}),
        feature_styles=[{"weight": road_width_px(w)} for w in roads.get("width_m", [None] * len(roads))],
        popup_title="name",
        popup_rows=[("等级", "road_class"), ("路面", "surface"), ("路面宽度", "width"), ("编号", "code")],
        tooltip="name", show=show,
    )


def roads_legend() -> mb.LegendSection:
    return mb.LegendSection("道路（线宽示路面宽度）", tuple(
        mb.LegendItem(s.label, st["color"], "dashed" if "dashArray" in st else "line")
        for s, st in SURFACE_STYLES.items()))


def water_overlay(water: gpd.GeoDataFrame, *, show: bool = True) -> mb.Overlay:
    """Water facilities: fill colour by kind, outline by status."""
    kinds = mb.labels(water["kind"], WaterKind)
    statuses = mb.labels(water["status"], FacilityStatus)
    fill = {k.label: c for k, c in WATER_COLORS.items()}
    strokes = {s.label: st for s, st in STATUS_STROKES.items()}
    styles = []
    for kind, status, geom in zip(kinds, statuses, water.geometry):
        style: dict[str, Any] = {"fillColor": fill.get(kind, "#1f78b4")}
        style.update(strokes.get(status, {}))
        if geom is not None and geom.geom_type in ("LineString", "MultiLineString"):
            # Lines carry the kind's colour; status shows as dashes.
            style["color"] = fill.get(kind, "#1f78b4")
        styles.append(style)
    return mb.overlay(
        water, key="water_facilities", name="水利设施（按类型、状态）", kind="circle",
        properties={
            "name": water.get("name"), "kind": kinds, "status": statuses,
            "drinking": ["饮水" if d else "非饮水（灌溉等）" for d in water.get("is_drinking", [True] * len(water))],
            "capacity": [mb.fmt_number(c, "立方米/日") for c in water.get("capacity_m3_per_day", [None] * len(water))],
            "village_name": water.get("village_name"),
        },
        style={"radius": 6, "weight": 2, "fillOpacity": 0.9, "opacity": 0.9},
        feature_styles=styles,
        popup_title="name",
        popup_rows=[("类型", "kind"), ("状态", "status"), ("用途", "drinking"), ("供水能力", "capacity"),
                    ("所在村", "village_name")],
        tooltip="name", show=show,
    )


def water_legend() -> list[mb.LegendSection]:
    return [
        mb.LegendSection("水利设施类型", tuple(mb.LegendItem(k.label, c, "circle") for k, c in WATER_COLORS.items())),
        mb.LegendSection("水利设施状态（外圈）", tuple(
            mb.LegendItem(s.label, "#dddddd", "circle", border=st["color"]) for s, st in STATUS_STROKES.items())),
    ]


def pv_overlay(pv: gpd.GeoDataFrame, *, show: bool = True) -> mb.Overlay:
    """PV projects coloured by status and sized by capacity."""
    return mb.overlay(
        pv, key="pv_projects", name="光伏项目（按状态、装机）", kind="circle",
        properties={
            "name": pv["name"], "kind": mb.labels(pv["kind"], PVKind),
            "status": mb.labels(pv["status"], PVStatus),
            "capacity": [mb.fmt_number(c, "千瓦") for c in pv["capacity_kw"]],
            "grid_date": pv.get("grid_date"),
            "investment": [mb.fmt_number(v, "万元") for v in pv.get("investment_wan_yuan", [None] * len(pv))],
            "households": [mb.fmt_number(v, "户") for v in pv.get("beneficiary_households", [None] * len(pv))],
            "income": [mb.fmt_number(v, "元/年", decimals=0) for v in pv.get("annual_income_yuan", [None] * len(pv))],
            "village_name": pv.get("village_name"),
        },
        style={"weight": 1.5, "color": "#7a5c00", "fillOpacity": 0.85},
        style_by=("status", {s.label: {"fillColor": c} for s, c in PV_COLORS.items()}),
        feature_styles=[{"radius": pv_radius_px(c)} for c in pv["capacity_kw"]],
        popup_title="name",
        popup_rows=[("类型", "kind"), ("状态", "status"), ("装机容量", "capacity"), ("并网日期", "grid_date"),
                    ("投资", "investment"), ("受益户", "households"), ("上报年收益", "income"),
                    ("所在村", "village_name")],
        tooltip="name", show=show,
    )


def pv_legend() -> list[mb.LegendSection]:
    return [
        mb.LegendSection("光伏项目状态", tuple(mb.LegendItem(s.label, c, "circle") for s, c in PV_COLORS.items())),
        mb.LegendSection("光伏装机（圆大小）", tuple(
            mb.LegendItem(f"{kw:,} 千瓦", "#d4a017", "circle", size_px=int(2 * pv_radius_px(kw)))
            for kw in (3, 300, 20000))),
    ]


def households_overlay(households: gpd.GeoDataFrame | mb.TiledLayer, *,
                       show: bool = False) -> mb.Overlay | mb.TileOverlay:
    """Households (clustered) by status, or from the vector tiles (not clustered) when too many
    to embed. Never names: the frame must not carry PII columns, and tiles never do."""
    layer = mb.tiled(households, "households")
    if layer is not None:
        return mb.TileOverlay(
            layer, key="households", name="农户（矢量瓦片）", kind="circle",
            fields={"code": mb.TileField("code"), "status": mb.TileField("status", _enum_labels(HouseholdStatus)),
                    "members": mb.TileField("members", unit="人"),
                    "village_name": mb.TileField("village_name", detail=True),
                    "settlement_name": mb.TileField("settlement_name", detail=True),
                    "source": mb.TileField("source")},
            style={"radius": 5, "weight": 1, "color": "#ffffff", "fillOpacity": 0.9},
            style_by=("status", {s.label: {"fillColor": c} for s, c in HOUSEHOLD_COLORS.items()}),
            scale=[], popup_title="code",
            popup_rows=[("状态", "status"), ("家庭人口", "members"), ("行政村", "village_name"),
                        ("自然村", "settlement_name")],
            tooltip="code", min_zoom=HOUSEHOLDS_TILE_ZOOM, show=show,
        )
    mb.refuse_personal_fields(households, "household")
    return mb.overlay(
        households, key="households", name="农户（聚合）", kind="circle",
        properties={
            "code": households["code"], "status": mb.labels(households["status"], HouseholdStatus),
            "members": [mb.fmt_number(v, "人") for v in households.get("members", [None] * len(households))],
            "village_name": households.get("village_name"),
            "settlement_name": households.get("settlement_name"),
        },
        style={"radius": 5, "weight": 1, "color": "#ffffff", "fillOpacity": 0.9},
        style_by=("status", {s.label: {"fillColor": c} for s, c in HOUSEHOLD_COLORS.items()}),
        popup_title="code",
        popup_rows=[("状态", "status"), ("家庭人口", "members"), ("行政村", "village_name"),
                    ("自然村", "settlement_name")],
        cluster="户", show=show, precision=5,
    )


def households_legend(*, tiled: bool = False) -> mb.LegendSection:
    statuses = tuple(mb.LegendItem(s.label, c, "circle") for s, c in HOUSEHOLD_COLORS.items())
    if tiled:
        return mb.LegendSection("农户状态", statuses)
    return mb.LegendSection("农户状态（聚合显示）", statuses + (CLUSTER_LEGEND,))


#: How a cluster of households reads: a count of households, not a visit number.
CLUSTER_LEGEND = mb.LegendItem("聚合：框中数字为该处农户数（如“12户”），放大后分开", "#ffffff", "square", border="#555555")


def overview_map(
    *,
    townships: gpd.GeoDataFrame | None = None,
    villages: gpd.GeoDataFrame,
    settlements: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    water_facilities: gpd.GeoDataFrame | None = None,
    pv_projects: gpd.GeoDataFrame | None = None,
    units: gpd.GeoDataFrame | None = None,
    households: gpd.GeoDataFrame | None = None,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """The overview (总览图): every registry layer the caller passes, toggled in the layer control.

    Parameters
    ----------
    townships, villages, settlements, roads, water_facilities, pv_projects, units, households
        Registry layers in EPSG:4326; a layer not passed (or empty) is left out. Households
        are clustered and hidden until switched on; they must not carry personal fields.
    township
        Name of the township the frames were filtered to (title only).
    base, tianditu_key
        See :func:`maps.base.new_map`.
    """
    m = mb.new_map(base=base, tianditu_key=tianditu_key)
    legend = mb.Legend("图例", demo_note=mb.demo_flag(townships, villages, settlements, roads,
                                                      water_facilities, pv_projects, units, households))
    counts = []

    def present(frame):
        return frame is not None and not frame.empty

    if present(townships):
        m.add_child(township_overlay(townships))
        legend.sections.append(mb.LegendSection("行政区", (township_legend(),)))
    if present(roads):
        m.add_child(roads_overlay(roads))
        legend.sections.append(roads_legend())
        counts.append(f"道路 {len(roads):,} 条")
    if present(water_facilities):
        m.add_child(water_overlay(water_facilities))
        legend.sections.extend(water_legend())
        counts.append(f"水利设施 {len(water_facilities)} 处")
    if present(pv_projects):
        m.add_child(pv_overlay(pv_projects))
        legend.sections.extend(pv_legend())
        counts.append(f"光伏项目 {len(pv_projects)} 个")
    tiled_settlements = mb.tiled(settlements, "settlements") if present(settlements) else None
    if tiled_settlements is not None:
        m.add_child(mb.TileOverlay(
            tiled_settlements, key="settlements", name="自然村（矢量瓦片）", kind="circle",
            fields={"name": mb.TileField("name"), "village_name": mb.TileField("village_name", detail=True),
                    "households": mb.TileField("households", unit="户"),
                    "population": mb.TileField("population", unit="人"), "source": mb.TileField("source")},
            style={"radius": 3.5, "weight": 1, "color": "#ffffff", "fillColor": SETTLEMENT_COLOR, "fillOpacity": 0.85},
            style_by=None, scale=[], popup_title="name",
            popup_rows=[("行政村", "village_name"), ("户数", "households"), ("人口", "population")],
            tooltip="name", min_zoom=SETTLEMENTS_TILE_ZOOM, show=False,
        ))
        legend.sections.append(mb.LegendSection("自然村", (mb.LegendItem("自然村", SETTLEMENT_COLOR, "circle", size_px=8),)))
    elif present(settlements):
        m.add_child(mb.overlay(
            settlements, key="settlements", name="自然村", kind="circle",
            properties={"name": settlements["name"], "village_name": settlements.get("village_name"),
                        "households": [mb.fmt_number(v, "户") for v in settlements.get("households", [None] * len(settlements))],
                        "population": [mb.fmt_number(v, "人") for v in settlements.get("population", [None] * len(settlements))]},
            style={"radius": 3.5, "weight": 1, "color": "#ffffff", "fillColor": SETTLEMENT_COLOR, "fillOpacity": 0.85},
            popup_title="name",
            popup_rows=[("行政村", "village_name"), ("户数", "households"), ("人口", "population")],
            tooltip="name", show=False, names=mb.Names("name", min_zoom=13),
        ))
        legend.sections.append(mb.LegendSection("自然村", (mb.LegendItem("自然村", SETTLEMENT_COLOR, "circle", size_px=8),)))
    if present(households):
        drawn = households_overlay(households)
        m.add_child(drawn)
        legend.sections.append(households_legend(tiled=isinstance(drawn, mb.TileOverlay)))
        counts.append(f"农户 {len(households):,} 户")
    if present(units):
        offices = units[units.geometry.notna() & ~units.geometry.is_empty]
        m.add_child(mb.overlay(
            offices, key="units", name="帮扶单位（办公地点）", kind="marker",
            properties={"name": offices["name"], "kind": mb.labels(offices.get("kind", [None] * len(offices)), UnitKind),
                        "level": mb.labels(offices.get("level", [None] * len(offices)), UnitLevel)},
            style={"fillColor": UNIT_COLOR},
            popup_title="name", popup_rows=[("单位类型", "kind"), ("层级", "level")],
            tooltip="name", show=False, names=mb.Names("name", min_zoom=12),
        ))
        legend.sections.append(mb.LegendSection("帮扶单位", (mb.LegendItem("帮扶单位办公地点", UNIT_COLOR, "square"),)))
    m.add_child(mb.overlay(
        villages, key="villages", name="行政村", kind="circle",
        properties={
            "name": villages["name"], "township_name": villages.get("township_name"),
            "category": mb.labels(villages["category"], VillageCategory),
            "households": [mb.fmt_number(v, "户") for v in villages.get("households", [None] * len(villages))],
            "population": [mb.fmt_number(v, "人") for v in villages.get("population", [None] * len(villages))],
            "registered_poor_households": [mb.fmt_number(v, "户") for v in villages.get("registered_poor_households", [None] * len(villages))],
        },
        style={"radius": 7, "weight": 1.5, "fillOpacity": 0.9, "color": "#ffffff"},
        style_by=village_category_style(),
        popup_title="name",
        popup_rows=[("乡镇", "township_name"), ("类别", "category"), ("户数", "households"),
                    ("人口", "population"), ("建档立卡贫困户", "registered_poor_households")],
        tooltip="name", search="name", names=mb.Names("name"),
    ))
    legend.sections.insert(0, village_category_legend())
    counts.insert(0, f"行政村 {len(villages)} 个")
    subtitle = " · ".join([p for p in [township, "，".join(counts)] if p])
    return mb.finish_map(m, title="村级帮扶总览图", subtitle=subtitle, legend=legend,
                         search=["villages"], bounds_from=[villages, townships])
