"""防返贫监测图: monitored households and open cases per village, over the road and water
gaps, for the county office.

Villages carry their counts (monitored households, open cases, overdue steps, monitored
households beyond the drinking-water supply distance); the open cases' household points are
drawn only when the frames hold them (roles allowed to see households one by one), a point
beyond the supply distance ringed in red. Roads are drawn by surface (gravel and earth: the
road gaps), working drinking-water supplies beneath. The frames come from
:func:`geo.services.monitoring.map_frames`.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo.enums import CaseStatus, MonitorCategory, VillageCategory
from maps import base as mb
from maps.overview import roads_legend, roads_overlay, water_legend, water_overlay

NONE_COLOR = "#bdbdbd"
OPEN_COLOR = "#fdae61"
MONITORED_COLOR = "#d7191c"
OVERDUE_STYLE = {"color": "#111111", "weight": 4, "dashArray": "4 3"}
BEYOND_STYLE = {"color": "#2b83ba", "weight": 3}
CASE_COLORS = {CaseStatus.LEAD.value: "#fee08b", CaseStatus.CHECKED.value: "#fdae61",
               CaseStatus.POSTED.value: "#f46d43", CaseStatus.TOWNSHIP_REVIEWED.value: "#f46d43",
               CaseStatus.APPROVED.value: "#d73027", CaseStatus.ASSISTING.value: "#a50026",
               CaseStatus.REMOVAL_POSTED.value: "#66bd63"}


def monitoring_map(*, villages: gpd.GeoDataFrame, cases: gpd.GeoDataFrame | None = None,
                   roads: gpd.GeoDataFrame | None = None, facilities: gpd.GeoDataFrame | None = None,
                   supply_distance_m: float = 1000.0, synthetic: bool = False, township: str | None = None,
                   base: str | None = None, tianditu_key: str | None = None) -> folium.Map:
    """The monitoring map (防返贫监测图).

    Parameters
    ----------
    villages
        Village points with ``monitored``, ``open_cases``, ``overdue`` and ``beyond_water`` counts.
    cases
        Open cases at their household's point (``beyond_water`` flag, ``distance_to_water_m``
        [m]), or None for a role that sees counts only.
    roads, facilities
        Roads and working drinking-water supplies beneath.
    supply_distance_m
        The water analysis's supply distance [m], for the legend.
    synthetic
        The cases are the demo's synthetic ones (said in the legend).
    """
    if cases is not None:
        mb.refuse_personal_fields(cases, "monitoring case")
    m = mb.new_map(base=base, tianditu_key=tianditu_key)
    demo = mb.demo_flag(villages, roads, facilities) or (mb.DEMO_NOTE if synthetic else None)
    legend = mb.Legend("图例", demo_note=demo)
    if roads is not None and len(roads):
        m.add_child(roads_overlay(roads))
        legend.sections.append(roads_legend())
    if facilities is not None and len(facilities):
        m.add_child(water_overlay(facilities, show=False))
        legend.sections.extend(water_legend())
    overdue = villages["overdue"] > 0
    m.add_child(mb.overlay(
        villages, key="villages", name="行政村（监测对象与在办案件）", kind="circle",
        properties={
            "name": villages["name"], "category": mb.labels(villages["category"], VillageCategory),
            "monitored": [f"{v} 户" for v in villages["monitored"]],
            "open_cases": [f"{v} 件" for v in villages["open_cases"]],
            "overdue": [f"{v} 件" for v in villages["overdue"]],
            "beyond": [f"{v} 户" for v in villages["beyond_water"]],
            "_warn": [([f"{o} 件逾期"] if o else []) + ([f"{b} 户监测对象超出取水距离"] if b else []) or None
                      for o, b in zip(villages["overdue"], villages["beyond_water"])],
        },
        style={"weight": 1.5, "color": "#ffffff", "fillOpacity": 0.9},
        feature_styles=[{"fillColor": _village_color(mon, op), "radius": 5 + min(int(op), 10) * 1.5,
                         **(OVERDUE_STYLE if late else {})}
                        for mon, op, late in zip(villages["monitored"], villages["open_cases"], overdue)],
        popup_title="name",
        popup_rows=[("类别", "category"), ("监测对象", "monitored"), ("在办案件", "open_cases"),
                    ("逾期环节", "overdue"), (f"超出{supply_distance_m / 1000:g}公里取水距离的监测户", "beyond")],
        tooltip="name", search="name", names=mb.Names("name"),
    ))
    legend.sections.insert(0, mb.LegendSection("行政村（圈大小示在办案件数）", (
        mb.LegendItem("有监测对象", MONITORED_COLOR, "circle"),
        mb.LegendItem("有在办案件（尚未纳入监测）", OPEN_COLOR, "circle"),
        mb.LegendItem("无在办案件", NONE_COLOR, "circle"),
        mb.LegendItem("有逾期环节（黑色虚线圈）", "#ffffff", "circle", border="#111111"),
    )))
    if cases is not None and len(cases):
        beyond = cases["beyond_water"].astype(bool)
        m.add_child(mb.overlay(
            cases, key="cases", name="监测案件（农户位置）", kind="circle",
            properties={
                "code": cases["code"], "household_code": cases["household_code"],
                "status": mb.labels(cases["status"], CaseStatus),
                "category": mb.labels(cases["category"], MonitorCategory),
                "village": cases["village_name"], "due": [None if pd.isna(d) else str(d)[:10] for d in cases["due_on"]],
                "distance": [None if pd.isna(d) else f"{float(d):,.0f} 米" for d in cases["distance_to_water_m"]],
                "_warn": [(["逾期"] if o else []) + (["超出取水距离"] if b else []) or None
                          for o, b in zip(cases["overdue"].astype(bool), beyond)],
            },
            style={"radius": 5, "weight": 1, "color": "#ffffff", "fillOpacity": 0.95},
            feature_styles=[{"fillColor": CASE_COLORS.get(s, MONITORED_COLOR), **(BEYOND_STYLE if b else {})}
                            for s, b in zip(cases["status"], beyond)],
            popup_title="code",
            popup_rows=[("户编号", "household_code"), ("状态", "status"), ("监测类别", "category"),
                        ("行政村", "village"), ("下一环节期限", "due"), ("距正常供水点", "distance")],
            tooltip="code", precision=5,
        ))
        legend.sections.insert(1, mb.LegendSection("监测案件（农户）", tuple(
            mb.LegendItem(CaseStatus(s).label, c, "circle", size_px=10) for s, c in CASE_COLORS.items()) + (
            mb.LegendItem(f"超出{supply_distance_m / 1000:g}公里取水距离（蓝圈）", "#ffffff", "circle",
                          border=BEYOND_STYLE["color"]),)))
    parts = [township, f"监测对象 {int(villages['monitored'].sum())} 户", f"在办案件 {int(villages['open_cases'].sum())} 件",
             f"逾期 {int(villages['overdue'].sum())} 件",
             f"超出取水距离的监测户 {int(villages['beyond_water'].sum())} 户",
             None if cases is not None else "按村汇总（无农户位置）"]
    return mb.finish_map(m, title="防返贫监测图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         search=["villages"], bounds_from=[villages])


def _village_color(monitored, open_cases) -> str:
    if monitored:
        return MONITORED_COLOR
    return OPEN_COLOR if open_cases else NONE_COLOR
