"""光伏项目图: PV poverty-alleviation projects, modelled against reported income, and where
new stations could go.

Projects are sized by capacity and coloured by status; a project the review flags (no
income though grid-connected, income far below the model, non-poor beneficiaries ...) gets
a dark ring and its flags in the popup. The figures come from
:func:`geo.pv.review.review_projects`, run here on the frames given.

Siting candidates (:func:`geo.pv.siting.site_stations`, run by the map's loader on a coarse
grid and passed in as a :class:`~geo.pv.siting.SitingResult`) are drawn in a layer of their
own: each candidate's area and a marker numbered by rank, coloured by score, with its
capacity, estimated yield and income, and its beneficiary villages and household counts.
"""

from __future__ import annotations

from dataclasses import replace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.enums import VillageCategory
from geo.pv import params
from geo.pv.ledger import with_latest_year
from geo.pv.review import LOW_INCOME_RATIO, PVReview, review_projects
from geo.pv.siting import SitingResult
from maps import base as mb
from maps.overview import PV_COLORS, pv_legend, pv_radius_px
from maps.pairing import (
    township_legend,
    township_overlay,
    village_category_legend,
    village_category_style,
)

FLAG_STYLE = {"color": "#111111", "weight": 3}
FLAG_LABEL = "核查发现问题的项目（黑圈）"
#: Siting candidates by score (0-100, relative to the best candidate of the run).
SCORE_CLASSES = mb.Classes(
    breaks=(40, 60, 80),
    colors=("#c7e9b4", "#7fcdbb", "#2c7fb8", "#253494"),
    labels=("评分 40 及以下", "评分 40–60", "评分 60–80", "评分 80 以上"),
)
CANDIDATE_LAYER = "选址候选（按评分）"
ESTIMATE_LABEL = "晴空估算（非实测气象）"


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
    siting: SitingResult | None = None,
    siting_note: str | None = None,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
    pv_ledger: pd.DataFrame | None = None,
) -> folium.Map:
    """The PV project map (光伏项目图).

    Parameters
    ----------
    projects, households, project_households, project_villages, villages
        As :func:`geo.pv.review.review_projects` takes them (see
        :func:`geo.services.pv.load_review_frames`; households without personal fields).
    village_points
        The ``villages`` layer with points, drawn for context and the search box.
    townships
        Township areas, drawn as outlines.
    kwh_per_kwp
        Specific yield [kWh/kWp/yr]; default modelled per project (clear-sky estimate).
    price_yuan_per_kwh, low_income_ratio
        The review's price [yuan/kWh] and low-income flag ratio [-].
    siting
        Siting candidates to draw (:func:`geo.pv.siting.site_stations`, best first); None
        draws none.
    siting_note
        Why there are no candidates when siting could not run (shown in the legend).
    township, base, tianditu_key
        See :func:`maps.pairing.pairing_map`.
    pv_ledger
        Recorded station ledger years (:func:`geo.storage.pv_ledger.read_years`); each
        project's latest year, checked, shows in its popup.
    """
    review = review_projects(projects, households, project_households, project_villages, villages,
                             kwh_per_kwp=kwh_per_kwp, price_yuan_per_kwh=price_yuan_per_kwh,
                             low_income_ratio=low_income_ratio)
    if pv_ledger is not None and len(pv_ledger):
        review = replace(review, projects=with_latest_year(review.projects, pv_ledger))
    return pv_map_from(review, village_points=village_points, townships=townships,
                       demo_note=mb.demo_flag(projects, village_points, townships), siting=siting,
                       siting_note=siting_note, township=township, base=base, tianditu_key=tianditu_key)


def pv_map_from(review: PVReview, *, village_points: gpd.GeoDataFrame | None = None,
                townships: gpd.GeoDataFrame | None = None, demo_note: str | None = None,
                siting: SitingResult | None = None, siting_note: str | None = None,
                township: str | None = None, base: str | None = None,
                tianditu_key: str | None = None) -> folium.Map:
    """The PV project map from a :class:`~geo.pv.review.PVReview` (and siting candidates)."""
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
                    ("其中建档立卡户", "poor"), ("发电量依据", "basis"), ("台账年度", "ledger_year"),
                    ("台账发电量/模型", "ledger_generation"), ("台账到户(含公益岗位)/方案", "ledger_households"),
                    ("公益岗位数", "ledger_posts"), ("台账问题", "ledger_flags")],
        tooltip="name", cluster=len(projects) > 300,
    ))
    legend.sections.extend(pv_legend())
    legend.sections.append(mb.LegendSection("核查", (mb.LegendItem(FLAG_LABEL, "#ffffff", "circle", border="#111111"),)))
    if review.is_estimate:
        legend.sections.append(mb.LegendSection("模型说明", (mb.LegendItem(
            f"模型收益按晴空估算发电量（非实测气象），电价 {review.price_yuan_per_kwh:g} 元/千瓦时", "#d4a017",
            "square", size_px=8),)))

    candidates = _add_candidates(m, legend, siting, siting_note)

    capacity = float(projects["capacity_kw"].sum()) if len(projects) else 0.0
    parts = [township, f"{len(projects)} 个项目，{mb.fmt_number(round(capacity, 1), '千瓦')}",
             f"{int(sum(flagged))} 个项目有问题"]
    if candidates is not None:
        parts.append(f"选址候选 {len(candidates)} 处")
    return mb.finish_map(m, title="光伏项目图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         search=["villages"] if village_points is not None and len(village_points) else [],
                         bounds_from=[projects, village_points, townships, candidates])


def _add_candidates(m: folium.Map, legend: mb.Legend, siting: SitingResult | None,
                    note: str | None) -> gpd.GeoDataFrame | None:
    """The candidates layer and its legend; the candidates drawn (None without siting)."""
    if siting is None:
        if note:
            legend.sections.append(mb.LegendSection("选址候选", (mb.LegendItem(
                f"未绘制选址候选：{note}", "#bdbdbd", "square", size_px=8),)))
        return None
    candidates = siting.candidates
    mb.require_columns(candidates, "siting candidates", CANDIDATE_FIELDS)
    candidates = candidates[candidates.geometry.notna() & ~candidates.geometry.is_empty]
    basis = ESTIMATE_LABEL if siting.is_estimate else siting.weather_label
    if len(candidates):
        # one feature per candidate: its area and a numbered marker inside it, one popup
        shapes = gpd.GeoDataFrame(
            geometry=[shapely.GeometryCollection([g, shapely.Point(x, y)])
                      for g, x, y in zip(candidates.geometry, candidates["lon"], candidates["lat"])],
            crs=candidates.crs, index=candidates.index)
        m.add_child(mb.overlay(
            shapes, key="pv_candidates", name=CANDIDATE_LAYER, kind="marker",
            properties=_candidate_properties(candidates, basis),
            style={"color": "#08306b", "weight": 1.5, "fillOpacity": 0.55},
            feature_styles=[{"fillColor": c} for c in SCORE_CLASSES.colors_of(candidates["score"])],
            popup_title="title",
            popup_rows=[("评分", "score"), ("电站类别", "category"), ("所在乡镇", "area_name"), ("用地", "area"),
                        ("装机容量", "capacity"), ("年发电量（估算）", "annual_kwh"), ("年收益（估算）", "income"),
                        ("单位千瓦年发电量", "kwh_per_kwp"), ("受益行政村", "village_count"),
                        ("受益村（计入户数）", "villages"), ("新增受益建档立卡户", "households"),
                        ("可达未覆盖户", "uncovered"), ("到户收益（公益岗位+奖补）", "per_household"),
                        ("公益岗位", "posts"), ("村集体公益事业", "collective"), ("选入后尚未覆盖", "unreached"),
                        ("最近行政村", "nearest"), ("发电量依据", "basis")],
            tooltip="tooltip", label="rank",
        ))
    legend.sections.append(SCORE_CLASSES.legend(f"{CANDIDATE_LAYER}，编号为排名", shape="square",
                                                with_missing=False))
    found = siting.candidates_found or len(candidates)
    grid = mb.fmt_number(siting.cell_size_m, "米")
    legend.sections.append(mb.LegendSection("选址说明", (mb.LegendItem(
        f"{grid}网格粗筛 {found:,} 处，取评分最高 {len(candidates)} 处；发电量、收益为{basis}",
        "#2c7fb8", "square", size_px=8),)))
    return candidates


#: Columns of :attr:`geo.pv.siting.SitingResult.candidates` the map shows.
CANDIDATE_FIELDS = ("rank", "score", "area_name", "area_ha", "capacity_kwp", "kwh_per_kwp", "annual_kwh",
                    "income_yuan_per_year", "village_count", "villages", "beneficiary_households",
                    "uncovered_households", "income_yuan_per_beneficiary_household", "nearest_village",
                    "nearest_village_distance_m", "lon", "lat")
#: Chinese names of the station categories.
CATEGORY_LABELS = {name: kind.label for name, kind in params.CATEGORIES.items()}


def _wan_yuan(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return f"{float(value) / 10_000:,.1f} 万元/年"


def _candidate_properties(candidates: pd.DataFrame, basis: str) -> pd.DataFrame:
    def nearest(name, distance_m):
        if name is None or pd.isna(name):
            return None
        return f"{name}（{float(distance_m) / 1000:,.1f} 公里）" if pd.notna(distance_m) else str(name)

    rank = candidates["rank"].astype(int)
    score = candidates["score"].astype(float)
    return pd.DataFrame({
        "rank": rank.to_numpy(),
        "title": [f"选址候选 第{r}名" for r in rank],
        "tooltip": [f"选址候选 第{r}名 · 评分 {v:.1f}" for r, v in zip(rank, score)],
        "score": [f"{v:.1f} / 100" for v in score],
        "area_name": candidates["area_name"],
        "area": [f"{float(v) * 10_000:,.0f} 平方米" if float(v) < 1 else mb.fmt_number(round(float(v), 1), "公顷")
                 for v in candidates["area_ha"]],
        "category": _optional(candidates, "category", lambda v: CATEGORY_LABELS.get(v, v)),
        "posts": _optional(candidates, "public_posts", lambda v: f"{int(v)} 个"),
        "collective": _optional(candidates, "collective_yuan_per_year", _wan_yuan),
        "unreached": _optional(candidates, "households_unreached_after", lambda v: f"{int(v):,} 户"),
        "capacity": [f"{float(v):,.0f} 千瓦（峰值）" for v in candidates["capacity_kwp"]],
        "annual_kwh": [f"{float(v):,.0f} 千瓦时" for v in candidates["annual_kwh"]],
        "income": [_wan_yuan(v) for v in candidates["income_yuan_per_year"]],
        "kwh_per_kwp": [f"{float(v):,.0f} 千瓦时/千瓦" for v in candidates["kwh_per_kwp"]],
        "village_count": [f"{int(v)} 个" for v in candidates["village_count"]],
        "villages": [v if isinstance(v, str) and v else None for v in candidates["villages"]],
        "households": [f"{int(v):,} 户" for v in candidates["beneficiary_households"]],
        "uncovered": [f"{int(v):,} 户" for v in candidates["uncovered_households"]],
        "per_household": [None if pd.isna(v) else f"{float(v):,.0f} 元/户·年" for v in
                          candidates["income_yuan_per_beneficiary_household"]],
        "nearest": [nearest(n, d) for n, d in zip(candidates["nearest_village"],
                                                  candidates["nearest_village_distance_m"])],
        "basis": basis,
    }, index=candidates.index)


def _optional(frame: pd.DataFrame, column: str, fmt) -> list:
    if column not in frame:
        return [None] * len(frame)
    return [None if v is None or pd.isna(v) else fmt(v) for v in frame[column]]


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
        **_ledger_properties(projects),
    }, index=projects.index)


def _ledger_properties(projects: pd.DataFrame) -> dict[str, list]:
    """The popup's rows of the latest recorded ledger year (none without a ledger)."""
    if "ledger_year" not in projects:
        return {}
    has = projects["ledger_year"].notna().to_numpy()

    def share(values) -> list:
        return [f"{float(v) * 100:.0f}%" if h and pd.notna(v) and np.isfinite(float(v)) else None
                for h, v in zip(has, values)]

    return {
        "ledger_year": [f"{int(v)}年" if h else None for h, v in zip(has, projects["ledger_year"])],
        "ledger_generation": share(projects["ledger_generation_ratio"]),
        "ledger_households": share(projects["ledger_households_ratio"]),
        "ledger_posts": [mb.fmt_number(int(v), "个") if h else None for h, v in zip(has, projects["ledger_posts"])],
        "ledger_flags": [(f or "无") if h else None for h, f in zip(has, projects["ledger_flag_labels"])],
    }
