"""帮扶结对图: which unit is paired with which village, for leaders.

Villages are coloured by category and linked to their pairing units. A unit whose office lies
in the district gets a line from the office; a unit whose office lies far outside (a
region-level department in Yinchuan) or is unknown gets a marker placed beside its villages,
drawn dashed, so the map stays on the district. Poor villages without a pairing unit or a
resident work team stand out with a thick dark ring and a warning in the popup.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.inputs import inputs_against_tasks
from geo.enums import POOR_VILLAGE_CATEGORIES, UnitKind, UnitLevel, VillageCategory
from geo.errors import NotFound
from maps import base as mb

CATEGORY_COLORS = {
    VillageCategory.KEY_POOR: "#c0392b",
    VillageCategory.POOR: "#e67e22",
    VillageCategory.EXITED: "#27ae60",
    VillageCategory.NON_POOR: "#7f8c8d",
}
UNIT_COLOR = "#2c3e50"
LEADER_COLOR = "#8e44ad"
GAP_STYLE = {"radius": 11, "color": "#111111", "weight": 4, "dashArray": "4 3"}
GAP_LABEL = "贫困村缺帮扶单位或驻村工作队"
#: Which name wins where names would overlap: poor villages lacking a unit or a team, then
#: township names, then other poor villages, then the rest (0).
NAME_RANKS = {"gap": 30, "township": 20, "poor": 10}
#: Offices farther than this outside the villages' extent are drawn beside the villages [km].
DEFAULT_OFFICE_MARGIN_KM = 15.0


def village_category_style() -> tuple[str, dict[str, dict[str, Any]]]:
    """``style_by`` for villages: fill colour by the category's Chinese label."""
    return ("category", {c.label: {"fillColor": col, "color": "#ffffff"} for c, col in CATEGORY_COLORS.items()})


def village_category_legend() -> mb.LegendSection:
    return mb.LegendSection("行政村类别", tuple(
        mb.LegendItem(c.label, col, "circle") for c, col in CATEGORY_COLORS.items()))


def township_overlay(townships: gpd.GeoDataFrame | None, *, show: bool = True) -> mb.Overlay | None:
    """Township outlines, shared by every map (context that renders with no tiles)."""
    if townships is None or townships.empty:
        return None
    return mb.overlay(
        townships, key="townships", name="乡镇界", kind="path",
        properties={"name": townships["name"], "code": townships.get("code"),
                    "_rank": [NAME_RANKS["township"]] * len(townships)},
        style={"color": "#555555", "weight": 1.5, "dashArray": "6 4", "fillColor": "#ffffff",
               "fillOpacity": 0.05},
        popup_title="name", popup_rows=[("统计代码", "code")], show=show,
        names=mb.Names("name", rank="_rank", placement="center", always=True),
    )


def township_legend() -> mb.LegendItem:
    return mb.LegendItem("乡镇界", "#555555", "dashed")


def pairing_map(
    *,
    villages: gpd.GeoDataFrame,
    pairings: pd.DataFrame,
    work_teams: pd.DataFrame,
    units: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame | None = None,
    unit_inputs: pd.DataFrame | None = None,
    unit: str | int | None = None,
    year: int | None = None,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
    office_margin_km: float = DEFAULT_OFFICE_MARGIN_KM,
) -> folium.Map:
    """The pairing map (帮扶结对图).

    Parameters
    ----------
    villages
        Registry ``villages`` layer (points, EPSG:4326) with ``township_name``.
    pairings
        ``pairings`` layer: ``unit_id``, ``village_id``, ``year``, ``task_funds_wan_yuan``.
    work_teams
        ``work_teams`` layer: ``village_id``, ``year``, ``leader_unit_id``.
    units
        ``units`` layer: ``name``, ``kind``, ``level``, office point (may be empty).
    townships
        Township areas, drawn as outlines (optional).
    unit_inputs
        ``unit_inputs`` layer (附件2 figures; absent for a role that may not read it): each
        unit's input beside its task funds in the popups and the panel.
    unit
        Show only the villages this unit is paired with or leads the work team of
        (name or id); popups still list every unit of those villages.
    year
        Pairing year; the latest in ``pairings`` when not given.
    township
        Name of the township the frames were filtered to (shown in the title only).
    base
        Base map shown first (see :data:`maps.base.BASES`).
    tianditu_key
        Enables the Tianditu bases.
    office_margin_km
        Offices farther than this beyond the villages' extent are drawn beside the villages
        instead [km].

    Raises
    ------
    NotFound
        ``unit`` names no unit.
    ValidationError
        A frame lacks a column the map needs.
    """
    _require(villages, "villages", ("id", "name", "category"))
    _require(pairings, "pairings", ("unit_id", "village_id", "year"))
    _require(work_teams, "work_teams", ("village_id", "year", "leader_unit_id"))
    _require(units, "units", ("id", "name"))
    m = mb.new_map(base=base, tianditu_key=tianditu_key)

    year = _year(pairings, work_teams, year)
    pairings = pairings[pairings["year"] == year] if year is not None else pairings.iloc[0:0]
    work_teams = work_teams[work_teams["year"] == year] if year is not None else work_teams.iloc[0:0]
    unit_names = dict(zip(units["id"], units["name"]))

    shown = villages
    focus_unit = None
    if unit is not None and str(unit).strip():
        focus_unit = _find_unit(units, unit)
        linked = set(pairings.loc[pairings["unit_id"] == focus_unit, "village_id"]) | \
            set(work_teams.loc[work_teams["leader_unit_id"] == focus_unit, "village_id"])
        shown = villages[villages["id"].isin(linked)]

    town_layer = township_overlay(townships)
    if town_layer is not None:
        m.add_child(town_layer)

    given = _inputs(pairings, unit_inputs, villages, units, year)
    village_props, gaps = _village_properties(shown, pairings, work_teams, unit_names, given)
    links, unit_points, unit_props, unit_far = _unit_links(
        shown, pairings, work_teams, units, focus_unit=focus_unit,
        margin_km=office_margin_km, townships=townships)
    unit_props = _unit_inputs(unit_props, given)

    # Every unit's office lies in the city: drawn by default they pile up there. The panel
    # lists them; the markers and lines appear for the unit chosen (here or in the panel).
    focused = focus_unit is not None
    m.add_child(mb.overlay(
        links, key="pairing_links", name="结对连线", kind="path",
        properties=links[["label", "unit_id"]],
        style={"weight": 1.6, "opacity": 0.7, "color": UNIT_COLOR},
        feature_styles=links["style"].tolist(),
        tooltip="label", show=focused,
    ))
    m.add_child(mb.overlay(
        unit_points, key="units", name="帮扶单位", kind="marker",
        properties=unit_props, style={"fillColor": UNIT_COLOR},
        feature_styles=[{"iconClass": "atlas-far"} if far else None for far in unit_far],
        popup_title="name",
        popup_rows=[("单位类型", "kind"), ("层级", "level"), ("位置", "where"),
                    ("帮扶村", "villages"), ("任务资金合计", "funds"), ("投入资金（附件2）", "input"),
                    ("包保干部", "cadres"), ("人均入户次数", "visits"), ("工作队队长单位", "leads")],
        tooltip="name", show=focused, names=mb.Names("name", min_zoom=12),
    ))
    m.add_child(mb.overlay(
        shown, key="villages", name="行政村（按类别）", kind="circle",
        properties=village_props,
        style={"radius": 7, "weight": 1.5, "fillOpacity": 0.9, "color": "#ffffff"},
        style_by=village_category_style(),
        feature_styles=[GAP_STYLE if g else None for g in gaps],
        popup_title="name",
        popup_rows=[("乡镇", "township_name"), ("类别", "category"), ("户数", "households"),
                    ("建档立卡贫困户", "registered_poor_households"), ("帮扶单位", "units"),
                    ("任务资金合计", "funds"), ("投入资金（附件2）", "input"), ("工作队队长单位", "leader")],
        tooltip="name", search="name", names=mb.Names("name", rank="_rank", always_from_rank=NAME_RANKS["gap"]),
    ))
    m.add_child(mb.Panel(pairing_panel(village_props, pairings, work_teams, units, unit_far=dict(
        zip(unit_props["id"], unit_far)), year=year, focus_unit=focus_unit, inputs=given)))

    legend = mb.Legend("图例", demo_note=mb.demo_flag(villages, units, townships, pairings))
    legend.sections.append(village_category_legend())
    legend.sections.append(mb.LegendSection("结对", (
        mb.LegendItem(GAP_LABEL, "#ffffff", "circle", border="#111111"),
        mb.LegendItem("帮扶单位（办公地点；在左侧列表点选单位后显示）", UNIT_COLOR, "square"),
        mb.LegendItem("帮扶单位（区外，标于帮扶村旁）", UNIT_COLOR, "square", border="#999999"),
        mb.LegendItem("结对连线：帮扶单位—村", UNIT_COLOR, "line"),
        mb.LegendItem("结对连线：区外单位（示意）", UNIT_COLOR, "dashed"),
        mb.LegendItem("工作队队长单位—村", LEADER_COLOR, "dashed"),
    )))
    if town_layer is not None:
        legend.sections.append(mb.LegendSection("行政区", (township_legend(),)))

    parts = [f"{year}年" if year else None, township,
             f"帮扶单位：{unit_names.get(focus_unit)}" if focus_unit is not None else None,
             f"{len(shown)} 个行政村，{int(sum(gaps))} 个贫困村缺帮扶单位或工作队"]
    return mb.finish_map(m, title="帮扶结对图", subtitle=" · ".join(p for p in parts if p),
                         legend=legend, search=["villages", "units"],
                         bounds_from=[shown, links, townships if focus_unit is None else None])


def pairing_panel(village_props: pd.DataFrame, pairings: pd.DataFrame, work_teams: pd.DataFrame,
                  units: pd.DataFrame, *, unit_far: dict[int, bool], year: int | None,
                  focus_unit: int | None = None, inputs: "Inputs | None" = None) -> dict[str, Any]:
    """The side panel of the pairing map: per township, each village with its pairing units
    (task funds) and work-team leader unit, poor villages lacking a unit or a team first;
    and every unit with its villages, those whose office lies outside the district marked.

    ``village_props`` are the village overlay's properties (``id``, ``name``, ``category``
    label, ``township_name``, ``funds``, ``_warn``); ``pairings`` and ``work_teams`` those of
    ``year``; ``unit_far`` tells, per unit id, whether its office lies outside the district;
    ``inputs`` (:func:`_inputs`) adds each unit's 附件2 input beside its task funds.
    Every value is plain text: the page puts it in text nodes.
    """
    inputs = inputs or Inputs()
    names = dict(zip(units["id"], units["name"]))
    shown = set(village_props["id"])
    pair_rows = pairings[pairings["village_id"].isin(shown)]
    if "seq" in pair_rows:
        pair_rows = pair_rows.sort_values(["village_id", "seq"])
    by_village: dict[int, list[dict[str, Any]]] = defaultdict(list)
    unit_villages: dict[int, list[int]] = defaultdict(list)
    unit_funds: dict[int, float] = defaultdict(float)
    for r in pair_rows.itertuples():
        amount = getattr(r, "task_funds_wan_yuan", None)
        has_amount = amount is not None and not pd.isna(amount)
        by_village[int(r.village_id)].append({"id": int(r.unit_id), "name": names.get(r.unit_id, f"单位#{r.unit_id}"),
                                              "funds": _funds_text(amount) if has_amount else None,
                                              "input": inputs.pairs.get((int(r.unit_id), int(r.village_id)))})
        unit_villages[int(r.unit_id)].append(int(r.village_id))
        unit_funds[int(r.unit_id)] += float(amount) if has_amount else 0.0
    leaders: dict[int, dict[str, Any]] = {}
    unit_leads: dict[int, list[int]] = defaultdict(list)
    for r in work_teams[work_teams["village_id"].isin(shown) & work_teams["leader_unit_id"].notna()].itertuples():
        leaders[int(r.village_id)] = {"id": int(r.leader_unit_id), "name": names.get(r.leader_unit_id)}
        unit_leads[int(r.leader_unit_id)].append(int(r.village_id))

    towns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in village_props.to_dict("records"):
        warn = list(v["_warn"]) if isinstance(v["_warn"], list) else []
        town = v["township_name"] if isinstance(v["township_name"], str) else "未注明乡镇"
        towns[town].append({
            "id": int(v["id"]), "name": str(v["name"]), "category": v["category"], "warn": warn,
            "units": by_village.get(int(v["id"]), []), "leader": leaders.get(int(v["id"])), "funds": v["funds"],
            "input": v["input"]})
    townships = []
    for town, rows in towns.items():
        rows.sort(key=lambda r: (not r["warn"], r["name"]))
        townships.append({"name": town, "villages": rows, "gaps": sum(1 for r in rows if r["warn"])})
    townships.sort(key=lambda t: (-t["gaps"], t["name"]))
    unit_list = [{"id": u, "name": names.get(u, f"单位#{u}"), "far": bool(unit_far.get(u, False)),
                  "villages": unit_villages.get(u, []), "leads": unit_leads.get(u, []),
                  "funds": _funds_text(unit_funds[u]) if unit_funds.get(u) else None,
                  "input": inputs.units.get(u, {}).get("input")}
                 for u in sorted(set(unit_villages) | set(unit_leads), key=lambda u: str(names.get(u, u)))]
    gaps = [r for t in townships for r in t["villages"] if r["warn"]]
    return {"title": f"帮扶结对一览（{year}年）" if year else "帮扶结对一览", "townships": townships,
            "units": unit_list, "gaps": [{"id": r["id"], "name": r["name"], "warn": r["warn"]} for r in gaps],
            "focus": focus_unit, "gapLabel": GAP_LABEL}


# ------------------------------------------------------------------ steps


def _require(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    mb.require_columns(frame, name, columns)


def _year(pairings: pd.DataFrame, work_teams: pd.DataFrame, year: int | None) -> int | None:
    if year is not None:
        return int(year)
    years = pd.concat([pairings["year"], work_teams["year"]]).dropna()
    return int(years.max()) if len(years) else None


def _find_unit(units: pd.DataFrame, unit: str | int) -> int:
    key = str(unit).strip()
    hit = units[units["name"] == key]
    if hit.empty and key.isdigit():
        hit = units[units["id"] == int(key)]
    if hit.empty:
        close = [n for n in units["name"] if key in n][:10]
        hint = f" Similar: {', '.join(close)}." if close else ""
        raise NotFound(f"no assistance unit {key!r}; give a unit's full name or id (atlas layers, "
                       f"/api/layers/units).{hint}")
    return int(hit["id"].iloc[0])


def _funds_text(value: float) -> str:
    return mb.fmt_number(round(float(value), 2), "万元", decimals=2) or "0 万元"


class Inputs:
    """Each unit's 附件2 input against its task funds, as text for popups and the panel:
    per (unit, village), per unit (input, cadres, visits) and per village (the sum)."""

    def __init__(self, pairs: dict | None = None, units: dict | None = None, villages: dict | None = None):
        self.pairs: dict[tuple[int, int], str] = pairs or {}
        self.units: dict[int, dict[str, str | None]] = units or {}
        self.villages: dict[int, str] = villages or {}


def _input_text(given: float | None, share: float | None) -> str | None:
    """``1.73 万元，为任务的 86.5%``; None when the unit reported no 附件2 figures."""
    if given is None or pd.isna(given):
        return None
    text = _funds_text(given)
    return text + (f"，为任务的 {float(share):g}%" if share is not None and not pd.isna(share) else "")


def _inputs(pairings: pd.DataFrame, unit_inputs: pd.DataFrame | None, villages: pd.DataFrame,
            units: pd.DataFrame, year: int | None) -> Inputs:
    """The inputs-against-tasks analysis (:func:`geo.analysis.inputs.inputs_against_tasks`) of
    ``year`` as popup and panel text; empty when the 附件2 rows are not readable."""
    if unit_inputs is None or year is None or not {"unit_id", "village_id", "year"} <= set(unit_inputs):
        return Inputs()
    result = inputs_against_tasks(pairings, unit_inputs, villages, units=units, year=year)
    pairs = {(int(r.unit_id), int(r.village_id)): _input_text(r.total_input_wan_yuan, r.input_vs_task_pct)
             for r in result.tables["pairs"].itertuples()}
    by_unit = {}
    for r in result.tables["units"].itertuples():
        cadres = None if pd.isna(r.cadres_total) else (
            f"{int(r.cadres_total)} 人（处级 {_int(r.cadres_division)}、科级 {_int(r.cadres_section)}、"
            f"一般 {_int(r.cadres_general)}）")
        by_unit[int(r.unit_id)] = {"input": _input_text(r.total_input_wan_yuan, r.input_vs_task_pct),
                                   "cadres": cadres,
                                   "visits": None if pd.isna(r.visits_per_cadre) else f"{r.visits_per_cadre:g} 次"}
    frame = result.tables["pairs"]
    summed = frame.groupby("village_id")["total_input_wan_yuan"].sum(min_count=1)
    tasks = frame.groupby("village_id")["task_funds_wan_yuan"].sum(min_count=1)
    share = (summed / tasks * 100).round(1).where(tasks > 0)
    return Inputs(pairs={k: v for k, v in pairs.items() if v}, units=by_unit,
                  villages={int(v): t for v, t in ((v, _input_text(summed[v], share.get(v))) for v in summed.index) if t})


def _int(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else str(int(value))


def _unit_inputs(props: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """The unit overlay's properties with its 附件2 input, cadres and visits."""
    out = props.copy()
    for key in ("input", "cadres", "visits"):
        out[key] = [inputs.units.get(int(u), {}).get(key) for u in out["id"]]
    return out


def _village_properties(villages: gpd.GeoDataFrame, pairings: pd.DataFrame,
                        work_teams: pd.DataFrame, unit_names: dict,
                        inputs: Inputs | None = None) -> tuple[pd.DataFrame, list[bool]]:
    inputs = inputs or Inputs()
    by_village: dict[int, list[str]] = defaultdict(list)
    funds: dict[int, float] = defaultdict(float)
    for row in pairings.sort_values(["village_id", "seq"] if "seq" in pairings else ["village_id"]).itertuples():
        name = unit_names.get(row.unit_id, f"单位#{row.unit_id}")
        amount = getattr(row, "task_funds_wan_yuan", None)
        given = inputs.pairs.get((int(row.unit_id), int(row.village_id)))
        if amount is not None and not pd.isna(amount):
            funds[row.village_id] += float(amount)
            by_village[row.village_id].append(f"{name}（任务 {_funds_text(amount)}；投入 {given}）" if given
                                              else f"{name}（{_funds_text(amount)}）")
        else:
            by_village[row.village_id].append(f"{name}（投入 {given}）" if given else name)
    leaders = {r.village_id: unit_names.get(r.leader_unit_id) for r in work_teams.itertuples()
               if r.leader_unit_id is not None and not pd.isna(r.leader_unit_id)}
    has_team = set(work_teams["village_id"])
    rows, gaps = [], []
    for v in villages.itertuples():
        warn = []
        poor = v.category in POOR_VILLAGE_CATEGORIES
        if poor and not by_village.get(v.id):
            warn.append("贫困村无帮扶单位")
        if poor and v.id not in has_team:
            warn.append("贫困村无驻村工作队")
        gaps.append(bool(warn))
        rows.append({
            "id": int(v.id),
            "name": v.name,
            "_rank": NAME_RANKS["gap"] if warn else (NAME_RANKS["poor"] if poor else 0),
            "township_name": getattr(v, "township_name", None),
            "category": VillageCategory.labels().get(v.category, v.category),
            "households": mb.fmt_number(getattr(v, "households", None), "户"),
            "registered_poor_households": mb.fmt_number(getattr(v, "registered_poor_households", None), "户"),
            "units": by_village.get(v.id, []),
            "funds": _funds_text(funds[v.id]) if v.id in funds else None,
            "input": inputs.villages.get(int(v.id)),
            "leader": leaders.get(v.id) or ("无驻村工作队" if v.id not in has_team else None),
            "_warn": warn or None,
        })
    return pd.DataFrame(rows, index=villages.index, columns=[
        "id", "name", "_rank", "township_name", "category", "households", "registered_poor_households", "units",
        "funds", "input", "leader", "_warn"]), gaps


def _extent(villages: gpd.GeoDataFrame, townships: gpd.GeoDataFrame | None, margin_km: float):
    frames = [f for f in (villages, townships) if f is not None and not f.empty]
    if not frames:
        return None
    boxes = np.array([f.geometry.dropna().total_bounds for f in frames])
    minx, miny = boxes[:, 0].min(), boxes[:, 1].min()
    maxx, maxy = boxes[:, 2].max(), boxes[:, 3].max()
    dlat = margin_km / 111.32
    dlon = margin_km / (111.32 * max(math.cos(math.radians((miny + maxy) / 2)), 0.1))
    return shapely.box(minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)


def _unit_links(villages, pairings, work_teams, units, *, focus_unit, margin_km, townships):
    """Unit markers (office or beside the villages) and the lines to their villages."""
    points = dict(zip(villages["id"], villages.geometry))
    shown = set(villages["id"])
    pair_rows = pairings[pairings["village_id"].isin(shown)]
    lead_rows = work_teams[work_teams["village_id"].isin(shown) & work_teams["leader_unit_id"].notna()]
    if focus_unit is not None:
        pair_rows = pair_rows[pair_rows["unit_id"] == focus_unit]
        lead_rows = lead_rows[lead_rows["leader_unit_id"] == focus_unit]
    relations: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    funds: dict[int, float] = defaultdict(float)
    for r in pair_rows.itertuples():
        relations[int(r.unit_id)][int(r.village_id)].add("pair")
        amount = getattr(r, "task_funds_wan_yuan", None)
        if amount is not None and not pd.isna(amount):
            funds[int(r.unit_id)] += float(amount)
    for r in lead_rows.itertuples():
        relations[int(r.leader_unit_id)][int(r.village_id)].add("lead")

    extent = _extent(villages, townships, margin_km)
    unit_rows = units.set_index("id")
    names = dict(zip(villages["id"], villages["name"]))
    out_points, out_props, far_flags = [], [], []
    link_geoms, link_props = [], []
    far_index = 0
    for unit_id in sorted(relations):
        if unit_id not in unit_rows.index:
            continue
        row = unit_rows.loc[unit_id]
        office = row.geometry if "geometry" in unit_rows.columns else None
        village_ids = sorted(v for v in relations[unit_id] if points.get(v) is not None)
        if not village_ids:
            continue
        near = office is not None and not office.is_empty and extent is not None and extent.contains(office)
        if near:
            where, position = "办公地点", office
        else:
            position = _beside([points[v] for v in village_ids], far_index)
            far_index += 1
            where = "办公地点在区外或未登记，标注于其帮扶村旁（示意位置）"
        out_points.append(position)
        far_flags.append(not near)
        pair_villages = [names[v] for v in village_ids if "pair" in relations[unit_id][v]]
        lead_villages = [names[v] for v in village_ids if "lead" in relations[unit_id][v]]
        out_props.append({
            "id": int(unit_id),
            "name": row["name"],
            "kind": UnitKind.labels().get(row.get("kind"), row.get("kind")) if "kind" in row else None,
            "level": UnitLevel.labels().get(row.get("level"), row.get("level")) if "level" in row else None,
            "where": where,
            "villages": pair_villages,
            "funds": _funds_text(funds[unit_id]) if unit_id in funds else None,
            "leads": lead_villages,
        })
        for v in village_ids:
            roles = relations[unit_id][v]
            line = shapely.LineString([position, points[v]])
            label = f"{row['name']} — {names[v]}"
            if roles == {"lead"}:
                style = {"color": LEADER_COLOR, "dashArray": "2 5"}
                label += "（工作队队长单位）"
            else:
                style = {"dashArray": "6 5"} if not near else {}
                if "lead" in roles:
                    label += "（结对并任工作队队长单位）"
            link_geoms.append(line)
            link_props.append({"label": label, "unit_id": int(unit_id), "style": style or None})
    unit_frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(out_points, crs="EPSG:4326"))
    prop_frame = pd.DataFrame(out_props, columns=["id", "name", "kind", "level", "where", "villages", "funds", "leads"])
    links = gpd.GeoDataFrame(link_props or {"label": [], "unit_id": [], "style": []},
                             geometry=gpd.GeoSeries(link_geoms, crs="EPSG:4326"))
    return links, unit_frame, prop_frame, far_flags


def _beside(village_points: list, index: int) -> shapely.Point:
    """A position near the villages' centre, offset so far units do not sit on a village or
    on each other (golden-angle spiral, 2-4 km out)."""
    xs = [p.x for p in village_points]
    ys = [p.y for p in village_points]
    angle = math.radians(index * 137.5)
    distance_deg = 0.02 + 0.008 * (index % 3)
    cx, cy = float(np.mean(xs)), float(np.mean(ys))
    return shapely.Point(cx + distance_deg * math.cos(angle) / math.cos(math.radians(cy)),
                         cy + distance_deg * math.sin(angle))
