"""光伏项目图: PV poverty-alleviation projects, modelled against reported income.

Projects are sized by capacity and coloured by status; a project the review flags (no
income though grid-connected, income far below the model, non-poor beneficiaries ...) gets
a dark ring and its flags in the popup. The figures come from
:func:`geo.pv.review.review_projects`, run here on the frames given.

Siting candidates (:func:`geo.pv.siting.site_stations`) are not drawn: even on a coarse
1 km grid, siting rasterizes the district and runs pvlib per lattice cell, too slow for a
page view (and ``rasterio.features.rasterize`` crashes in this environment); run
``atlas pv site`` and open its GeoJSON instead.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.enums import VillageCategory
from geo.pv import params
from geo.pv.review import LOW_INCOME_RATIO, PVReview, review_projects
from maps import base as mb
from maps.overview import PV_COLORS, pv_legend, pv_radius_px
from maps.pairing import township_legend, township_overlay, village_category_legend, village_category_style

FLAG_STYLE = {"color": "#111111", "weight": 3}
FLAG_LABEL = "核查发现问题的项目（黑圈）"


def pv_map(
    *,
    projects: gpd.GeoDataFrame,
    households: pd.DataFrame,
    project_households: pd.DataFrame,
    project_villages: pd.DataFrame,
    villages: pd.DataFrame,
    village_points: gpd.GeoDataFrame | None = None,
    townships: gpd.GeoDataFrame | None = None,
    kwh_per_kwp: float | None = None,
    price_yuan_per_kwh: float = params.PRICE_YUAN_PER_KWH,
    low_income_ratio: float = LOW_INCOME_RATIO,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """The PV project map (光伏项目图).

    Parameters
    ----------
    projects, households, project_households, project_villages, villages
        As :func:`geo.pv.review.review_projects` takes them (see
        :func:`geo.pv.load.load_review_frames`; households without personal fields).
    village_points
        The ``villages`` layer with points, drawn for context and the search box.
    townships
        Township areas, drawn as outlines.
    kwh_per_kwp
        Specific yield [kWh/kWp/yr]; default modelled per project (clear-sky estimate).
    price_yuan_per_kwh, low_income_ratio
        The review's price [yuan/kWh] and low-income flag ratio [-].
    township, base, tianditu_key
        See :func:`maps.pairing.pairing_map`.
    """
    review = review_projects(projects, households, project_households, project_villages, villages,
                             kwh_per_kwp=kwh_per_kwp, price_yuan_per_kwh=price_yuan_per_kwh,
                             low_income_ratio=low_income_ratio)
    return pv_map_from(review, village_points=village_points, townships=townships,
                       demo_note=mb.demo_flag(projects, village_points, townships), township=township,
                       base=base, tianditu_key=tianditu_key)


def pv_map_from(review: PVReview, *, village_points: gpd.GeoDataFrame | None = None,
                townships: gpd.GeoDataFrame | None = None, demo_note: str | None = None,
                township: str | None = None, base: str | None = None,
                tianditu_key: str | None = None) -> folium.Map:
    """The PV project map from a :class:`~geo.pv.review.PVReview`."""
    m = mb.new_map(base=base, tianditu_key=tianditu_key)
    legend = mb.Legend("图例", demo_note=demo_note)
    town_layer = township_overlay(townships)
    if town_layer is not None:
        m.add_child(town_layer)
        legend.sections.append(mb.LegendSection("行政区", (township_legend(),)))
    if village_points is not None and len(village_points):
        m.add_child(mb.overlay(
            village_points, key="villages", name="行政村", kind="circle",
            properties={"name": village_points["name"], "township_name": village_points.get("township_name"),
                        "category": mb.labels(village_points["category"], VillageCategory)},
            style={"radius": 5, "weight": 1, "fillOpacity": 0.6, "color": "#ffffff"},
            style_by=village_category_style(),
            popup_title="name", popup_rows=[("乡镇", "township_name"), ("类别", "category")],
            tooltip="name", search="name",
        ))
        legend.sections.insert(0, village_category_legend())

    projects = review.projects
    flagged = [len(f) > 0 for f in projects["flags"]]
    m.add_child(mb.overlay(
        projects, key="pv_projects", name="光伏项目（按状态、装机）", kind="circle",
        properties=_project_properties(projects, review),
        style={"weight": 1.5, "color": "#7a5c00", "fillOpacity": 0.85},
        feature_styles=[{"radius": pv_radius_px(c), "fillColor": PV_COLORS_BY_VALUE.get(s, "#999999"),
                         **(FLAG_STYLE if f else {})}
                        for c, s, f in zip(projects["capacity_kw"], projects["status"], flagged)],
        popup_title="name",
        popup_rows=[("类型", "kind"), ("状态", "status"), ("装机容量", "capacity"), ("所在村", "village_name"),
                    ("并网日期", "grid_date"), ("模型年发电量", "modelled_kwh"), ("模型年收益", "modelled"),
                    ("上报年收益", "reported"), ("上报/模型", "ratio"), ("受益户（名单）", "households"),
                    ("其中建档立卡户", "poor"), ("发电量依据", "basis")],
        tooltip="name", cluster=len(projects) > 300,
    ))
    legend.sections.extend(pv_legend())
    legend.sections.append(mb.LegendSection("核查", (mb.LegendItem(FLAG_LABEL, "#ffffff", "circle", border="#111111"),)))
    if review.is_estimate:
        legend.sections.append(mb.LegendSection("模型说明", (mb.LegendItem(
            f"模型收益按晴空估算发电量（非实测气象），电价 {review.price_yuan_per_kwh:g} 元/千瓦时", "#d4a017",
            "square", size_px=8),)))

    capacity = float(projects["capacity_kw"].sum()) if len(projects) else 0.0
    parts = [township, f"{len(projects)} 个项目，{mb.fmt_number(round(capacity, 1), '千瓦')}",
             f"{int(sum(flagged))} 个项目有问题"]
    return mb.finish_map(m, title="光伏项目图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         search=["villages"] if village_points is not None and len(village_points) else [],
                         bounds_from=[projects, village_points, townships])


PV_COLORS_BY_VALUE = {s.value: c for s, c in PV_COLORS.items()}


def _yuan(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return f"{float(value):,.0f} 元/年"


def _project_properties(projects: pd.DataFrame, review: PVReview) -> pd.DataFrame:
    ratio = projects["income_ratio"].to_numpy(dtype=float)
    return pd.DataFrame({
        "name": projects["name"],
        "kind": projects["kind_label"],
        "status": projects["status_label"],
        "capacity": [mb.fmt_number(v, "千瓦") for v in projects["capacity_kw"]],
        "village_name": projects["village_name"],
        "grid_date": projects["grid_date"],
        "modelled_kwh": [None if pd.isna(v) else f"{float(v):,.0f} 千瓦时" for v in projects["modelled_annual_kwh"]],
        "modelled": [_yuan(v) for v in projects["modelled_income_yuan_per_year"]],
        "reported": [_yuan(v) for v in projects["reported_income_yuan_per_year"]],
        "ratio": [None if not np.isfinite(r) else f"{r * 100:.0f}%" for r in ratio],
        "households": [mb.fmt_number(v, "户") for v in projects["linked_households"]],
        "poor": [mb.fmt_number(v, "户") for v in projects["linked_poor_households"]],
        "basis": ["晴空估算（非实测）" if review.is_estimate else review.weather_label] * len(projects),
        "_warn": [f.split("；") if isinstance(f, str) and f else None for f in projects["flag_labels"]],
    }, index=projects.index)
