"""督查路线图: the sampled villages and households of an inspection plan, for inspectors.

Villages and households are numbered in visiting order, one colour per team (检查组); each
team's route is drawn as a line through its villages (the recorded legs, over roads where
the draw used them). Household markers carry no names unless the caller says the viewer
may see them (``show_names``, decided by the API from the viewer's role and the plan's
assignees) and passes a ``head_name`` column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString

from geo.enums import HouseholdStatus, RouteMethod, VillageCategory
from maps import base as mb

TEAM_COLORS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#666666")


def team_color(team: Any) -> str:
    """The colour of team ``team`` (1-based; colours repeat after eight teams)."""
    try:
        return TEAM_COLORS[(int(team) - 1) % len(TEAM_COLORS)]
    except (TypeError, ValueError):
        return "#333333"


def inspection_map(
    *,
    sampled_villages: gpd.GeoDataFrame,
    sampled_households: gpd.GeoDataFrame,
    plan: Mapping[str, Any],
    show_names: bool = False,
    townships: gpd.GeoDataFrame | None = None,
    villages: pd.DataFrame | None = None,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """The inspection route map (督查路线图).

    Parameters
    ----------
    sampled_villages
        The plan's sampled villages (:func:`geo.inspection.store.read_sampled_villages`):
        ``village_name``, ``township_name``, ``category``, ``team``, ``visit_order``,
        ``leg_km``, ``leg_method``, ``households_sampled``; Point geometry and the ``leg``
        LineString from the previous stop.
    sampled_households
        The plan's sampled households (:func:`geo.inspection.store.read_sampled_households`):
        ``household_code``, ``stratum_label``, ``status``, ``team``, ``village_order``,
        ``visit_order``, ``village_name``; ``head_name`` only when ``show_names``.
    plan
        The plan row (``id``, ``name``, ``year``, ``start`` Point).
    show_names
        The viewer may see household heads' names (checked by the caller).
    townships
        Township areas, drawn as outlines (optional).
    villages
        The registry villages the sample came from (their ``source`` sets the demo flag).
    township, base, tianditu_key
        See :func:`maps.pairing.pairing_map`.

    Raises
    ------
    ValueError
        Households carrying personal fields while ``show_names`` is False.
    """
    mb.refuse_personal_fields(sampled_households, "sampled household",
                              allowed=("head_name",) if show_names else (),
                              hint="pass them only when show_names is True (names only, never ID numbers)")
    mb.require_columns(sampled_villages, "sampled_villages", ("village_name", "team", "visit_order"))
    mb.require_columns(sampled_households, "sampled_households",
                       ("household_code", "team", "village_order", "visit_order"))
    from maps.pairing import township_legend, township_overlay

    m = mb.new_map(base=base, tianditu_key=tianditu_key)
    legend = mb.Legend("图例", demo_note=mb.demo_flag(sampled_villages, sampled_households, townships, villages))
    town_layer = township_overlay(townships)
    if town_layer is not None:
        m.add_child(town_layer)

    routes = _routes(sampled_villages, plan.get("start"))
    m.add_child(mb.overlay(
        routes, key="inspection_route", name="检查路线", kind="path",
        properties=routes[["label"]],
        style={"weight": 3, "opacity": 0.85},
        feature_styles=[{"color": team_color(t)} for t in routes["team"]],
        tooltip="label",
    ))
    households = sampled_households
    names = show_names and "head_name" in households.columns
    rows = [("检查组", "team"), ("行政村", "village_name"), ("抽样层", "stratum"), ("户类别", "status")]
    if names:
        rows.insert(0, ("户主", "head_name"))
    props = pd.DataFrame({
        "code": households["household_code"],
        "order": [f"{int(v)}-{int(h)}" for v, h in zip(households["village_order"], households["visit_order"])],
        "team": [f"第{int(t)}组" for t in households["team"]],
        "village_name": households.get("village_name"),
        "stratum": households.get("stratum_label"),
        "status": mb.labels(households["status"], HouseholdStatus) if "status" in households else None,
        **({"head_name": households["head_name"]} if names else {}),
    }, index=households.index)
    props["tip"] = [f"{o} {c}" for o, c in zip(props["order"], props["code"])]
    m.add_child(mb.overlay(
        households, key="inspection_households", name="抽中农户（按访问顺序）", kind="marker",
        properties=props, label="order",
        feature_styles=[{"fillColor": team_color(t)} for t in households["team"]],
        popup_title="code", popup_rows=rows, tooltip="tip",
        cluster=len(households) > 200, precision=5,
    ))
    villages = sampled_villages
    v_props = pd.DataFrame({
        "name": villages["village_name"],
        "order": [str(int(o)) for o in villages["visit_order"]],
        "team": [f"第{int(t)}组" for t in villages["team"]],
        "township_name": villages.get("township_name"),
        "category": mb.labels(villages["category"], VillageCategory) if "category" in villages else None,
        "households": [mb.fmt_number(v, "户") for v in villages.get("households_sampled", [None] * len(villages))],
        "leg": [_leg(k, m_) for k, m_ in zip(villages.get("leg_km", [None] * len(villages)),
                                             villages.get("leg_method", [None] * len(villages)))],
    }, index=villages.index)
    v_props["tip"] = [f"{t} 第{o}站 {n}" for t, o, n in zip(v_props["team"], v_props["order"], v_props["name"])]
    m.add_child(mb.overlay(
        villages, key="inspection_villages", name="抽中行政村（按访问顺序）", kind="marker",
        properties=v_props, label="order",
        feature_styles=[{"fillColor": team_color(t)} for t in villages["team"]],
        popup_title="name",
        popup_rows=[("检查组", "team"), ("访问顺序", "order"), ("乡镇", "township_name"), ("类别", "category"),
                    ("抽中农户", "households"), ("上一站至此", "leg")],
        tooltip="tip", search="name",
    ))

    teams = sorted({int(t) for t in villages["team"]})
    legend.sections.append(mb.LegendSection("检查组（路线与标记同色）", tuple(
        mb.LegendItem(f"第{t}组", team_color(t), "line") for t in teams)))
    legend.sections.append(mb.LegendSection("标记", (
        mb.LegendItem("抽中行政村（数字为访问顺序）", "#555555", "square"),
        mb.LegendItem("抽中农户（村序-户序）", "#555555", "square", size_px=10),
    )))
    legend.sections.append(mb.LegendSection("个人信息", (mb.LegendItem(
        "显示户主姓名（本方案授权人员）" if names else "不显示户主姓名（无权限或未授权）", "#999999", "square",
        size_px=8),)))
    if town_layer is not None:
        legend.sections.append(mb.LegendSection("行政区", (township_legend(),)))

    parts = [str(plan.get("name") or ""), f"{plan.get('year')}年" if plan.get("year") else None, township,
             f"{len(teams)} 个检查组，{len(villages)} 个村，{len(households)} 户"]
    return mb.finish_map(m, title="督查路线图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         search=["inspection_villages"], bounds_from=[villages, households])


# ------------------------------------------------------------------ steps


def _leg(km, method) -> str | None:
    if km is None or pd.isna(km):
        return None
    text = f"{float(km):,.1f} 公里"
    if method is not None and not pd.isna(method):
        try:
            text += f"（{RouteMethod(method).label}）"
        except ValueError:
            pass
    return text


def _routes(villages: gpd.GeoDataFrame, start) -> gpd.GeoDataFrame:
    """One (Multi)LineString per team: the recorded legs, or straight lines where none is recorded."""
    rows, geoms = [], []
    legs = villages["leg"] if "leg" in villages.columns else pd.Series([None] * len(villages), index=villages.index)
    for team, group in villages.sort_values(["team", "visit_order"]).groupby("team", sort=True):
        parts = []
        previous = start if start is not None and not getattr(start, "is_empty", True) else None
        for index, row in group.iterrows():
            leg = legs.loc[index]
            point = row.geometry
            if leg is not None and not pd.isna(leg) and not leg.is_empty:
                parts.extend(shapely.get_parts(leg))
            elif previous is not None and point is not None and not point.is_empty:
                parts.append(LineString([previous, point]))
            if point is not None and not point.is_empty:
                previous = point
        km = pd.to_numeric(group.get("leg_km"), errors="coerce").sum() if "leg_km" in group else float("nan")
        rows.append({"team": int(team), "label": f"第{int(team)}组路线：{len(group)} 个村"
                     + (f"，{km:,.1f} 公里" if km == km and km > 0 else "")})
        geoms.append(MultiLineString(parts) if parts else None)
    return gpd.GeoDataFrame(rows or {"team": [], "label": []}, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
                            crs="EPSG:4326")
