"""督查路线图: the sampled villages and households of an inspection plan, for inspectors.

Villages and households are numbered in visiting order, one colour per team (检查组); each
team's route is drawn as a line through its villages (the recorded legs, over roads where
the draw used them). ``team=`` and ``day=`` show one team and/or one day of the recorded
schedule; the start of the shown route is marked (the county seat, or on a later day the
village where the team spent the night). A village's popup lists its sampled households in
visiting order. Household markers carry no names unless the caller says the viewer may see
them (``show_names``, decided by the API from the viewer's role and the plan's assignees)
and passes a ``head_name`` column.
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
from geo.errors import ValidationError
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
    teams: list[dict[str, Any]] | None = None,
    township: str | None = None,
    team: int | None = None,
    day: int | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """The inspection route map (督查路线图).

    Parameters
    ----------
    sampled_villages
        The plan's sampled villages (:func:`geo.storage.inspection.read_sampled_villages`):
        ``village_name``, ``township_name``, ``category``, ``team``, ``visit_order``,
        ``leg_km``, ``leg_method``, ``households_sampled``; Point geometry and the ``leg``
        LineString from the previous stop.
    sampled_households
        The plan's sampled households (:func:`geo.storage.inspection.read_sampled_households`):
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
    teams
        The recorded team routes (``routes_json`` of the draw), whose ``days`` give each
        village's day, stop and arrival time.
    team, day
        Show only this team (1-based) and/or this day of the schedule.
    township, base, tianditu_key
        See :func:`maps.pairing.pairing_map`.

    Raises
    ------
    ValueError
        Households carrying personal fields while ``show_names`` is False.
    ValidationError
        A team the plan does not have, or a day its schedule does not have.
    """
    mb.refuse_personal_fields(sampled_households, "sampled household",
                              allowed=("head_name",) if show_names else (),
                              hint="pass them only when show_names is True (names only, never ID numbers)")
    mb.require_columns(sampled_villages, "sampled_villages", ("village_name", "team", "visit_order"))
    mb.require_columns(sampled_households, "sampled_households",
                       ("household_code", "team", "village_order", "visit_order"))
    from maps.pairing import township_legend, township_overlay

    schedule = _schedule(teams)
    sampled_villages, sampled_households, starts = _select(sampled_villages, sampled_households, plan, schedule,
                                                           team=team, day=day)
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
        cluster="户" if len(households) > 200 else False, precision=5,
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
    when = [schedule.get(k) for k in villages.get("village_key", pd.Series([None] * len(villages), index=villages.index))]
    v_props["day"] = [f"第{w['day']}天 第{w['stop']}站，{w['arrive']}到，{w['leave']}离开" if w else None for w in when]
    v_props["visits"] = _household_lists(villages, households, names)
    v_props["tip"] = [f"{t} {('第' + str(w['day']) + '天 ') if w else ''}第{o}站 {n}"
                      + (f" {w['arrive']}" if w else "")
                      for t, o, n, w in zip(v_props["team"], v_props["order"], v_props["name"], when)]
    m.add_child(mb.overlay(
        villages, key="inspection_villages", name="抽中行政村（按访问顺序）", kind="marker",
        properties=v_props, label="order",
        feature_styles=[{"fillColor": team_color(t)} for t in villages["team"]],
        popup_title="name",
        popup_rows=[("检查组", "team"), ("访问顺序", "order"), ("日程", "day"), ("乡镇", "township_name"),
                    ("类别", "category"), ("抽中农户", "households"), ("入户顺序", "visits"), ("上一站至此", "leg")],
        tooltip="tip", search="name",
    ))

    if starts:
        start_frame = gpd.GeoDataFrame({"label": [s[1] for s in starts], "what": [s[2] for s in starts]},
                                       geometry=[s[0] for s in starts], crs="EPSG:4326")
        m.add_child(mb.overlay(
            start_frame, key="inspection_start", name="出发地", kind="marker", properties=start_frame[["label", "what"]],
            label="label", feature_styles=[{"fillColor": "#111111"}] * len(start_frame),
            popup_title="label", popup_rows=[("说明", "what")], tooltip="what",
        ))
    teams_shown = sorted({int(t) for t in villages["team"]})
    legend.sections.append(mb.LegendSection("检查组（路线与标记同色）", tuple(
        mb.LegendItem(f"第{t}组", team_color(t), "line") for t in teams_shown)))
    legend.sections.append(mb.LegendSection("标记", (
        mb.LegendItem("出发地（起）", "#111111", "square"),
        mb.LegendItem("抽中行政村（数字为访问顺序）", "#555555", "square"),
        mb.LegendItem("抽中农户（村序-户序）", "#555555", "square", size_px=10),
    )))
    legend.sections.append(mb.LegendSection("个人信息", (mb.LegendItem(
        "显示户主姓名（本方案授权人员）" if names else "不显示户主姓名（无权限或未授权）", "#999999", "square",
        size_px=8),)))
    if town_layer is not None:
        legend.sections.append(mb.LegendSection("行政区", (township_legend(),)))

    parts = [str(plan.get("name") or ""), f"{plan.get('year')}年" if plan.get("year") else None, township,
             f"第{team}组" if team is not None else None, f"第{day}天" if day is not None else None,
             f"{len(teams_shown)} 个检查组，{len(villages)} 个村，{len(households)} 户"]
    return mb.finish_map(m, title="督查路线图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         search=["inspection_villages"],
                         bounds_from=[villages, households] + ([start_frame] if starts else []))


# ------------------------------------------------------------------ steps


def _schedule(teams: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Village key -> its team, day, stop, arrival and leaving time (empty for plans drawn
    before routes were planned in days)."""
    out = {}
    for t in teams or []:
        for d in t.get("days") or []:
            for s in d.get("stops") or []:
                out[s["village_key"]] = {"team": t["team"], "day": d["day"], "stop": s["stop"],
                                         "arrive": s["arrive"], "leave": s["leave"]}
    return out


def _select(villages: gpd.GeoDataFrame, households: gpd.GeoDataFrame, plan: Mapping[str, Any],
            schedule: dict[str, dict[str, Any]], *, team: int | None, day: int | None):
    """The villages and households of ``team`` and ``day`` (None: all), and where the shown
    routes start: ``(point, label, description)``."""
    plan_teams = int(plan.get("teams") or 0) or (int(villages["team"].max()) if len(villages) else 0)
    if team is not None and not 1 <= int(team) <= plan_teams:
        raise ValidationError(f"team={team}: plan {plan.get('id')} has teams 1-{plan_teams}")
    keep = pd.Series(True, index=villages.index)
    if team is not None:
        keep &= villages["team"].astype(int) == int(team)
    if day is not None:
        if not schedule:
            raise ValidationError(f"day={day}: plan {plan.get('id')} was drawn before routes were planned in days; "
                                  "draw a new plan for a day-by-day schedule")
        days = sorted({w["day"] for w in schedule.values() if team is None or w["team"] == int(team)})
        if int(day) not in days:
            raise ValidationError(f"day={day}: the schedule of {'team ' + str(team) if team is not None else 'the plan'}"
                                  f" has days {days[0]}-{days[-1]}" if days else f"day={day}: no days scheduled")
        keep &= pd.Series([schedule.get(k, {}).get("day") == int(day) for k in villages["village_key"]],
                          index=villages.index)
    chosen = villages[keep]
    if "sample_village_id" in households.columns and "id" in villages.columns:
        shown = households[households["sample_village_id"].isin(set(chosen["id"]))]
    else:
        shown = households[households["team"].isin(set(chosen["team"]))] if team is not None else households
    start = plan.get("start")
    has_start = start is not None and not getattr(start, "is_empty", True)
    starts = []
    for t, group in chosen.sort_values(["team", "visit_order"]).groupby("team", sort=True):
        first = group.iloc[0]
        previous = villages[(villages["team"] == t) & (villages["visit_order"] < first["visit_order"])]
        if len(previous) and day is not None:
            last = previous.sort_values("visit_order").iloc[-1]
            starts.append((last.geometry, "起", f"第{int(t)}组第{day}天从{last['village_name']}出发（前一天在此住宿）"))
        elif has_start and not any(s[0] == start for s in starts):
            starts.append((start, "起", "出发地" + (f"（{plan.get('start_label')}）" if plan.get("start_label") else "")))
    return chosen, shown, starts


def _household_lists(villages: gpd.GeoDataFrame, households: gpd.GeoDataFrame, names: bool) -> list[str | None]:
    """Per village: its sampled households in visiting order, ``1 代码（抽样层）；2 ...``."""
    if "sample_village_id" not in households.columns or "id" not in villages.columns:
        return [None] * len(villages)
    out = []
    for vid in villages["id"]:
        mine = households[households["sample_village_id"] == vid].sort_values("visit_order")
        items = [f"{int(o)} {c}" + (f" {n}" if names and isinstance(n, str) else "")
                 + (f"（{st}）" if isinstance(st, str) else "")
                 for o, c, st, n in zip(mine["visit_order"], mine["household_code"],
                                        mine.get("stratum_label", pd.Series([None] * len(mine), index=mine.index)),
                                        mine.get("head_name", pd.Series([None] * len(mine), index=mine.index)))]
        out.append("；".join(items) or None)
    return out


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
