"""The village dossier (一村一档) as one printable HTML page (A4 portrait): the village map
drawn as SVG from the dossier's layers (no tiles, so it prints offline), then the tables.
Data comes from :func:`geo.services.dossier.village_dossier`; the template is
``maps/templates/dossier.html`` (Jinja2, every value escaped). ``atlas dossier`` prints the
page to PDF with headless Chromium (:func:`maps.chromium.print_pdf`).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from geo.analysis.exit_standards import RESULTS
from geo.analysis.roads import ROAD_STATUS
from geo.enums import (
    CadreRank,
    HouseholdStatus,
    ProjectKind,
    ProjectStatus,
    PVKind,
    PVStatus,
    VillageCategory,
)
from maps.common import DATA_SOURCES, DEMO_NOTE

if TYPE_CHECKING:  # the service reads the database; this layout does not
    from geo.services.dossier import Dossier

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)

#: The map frame [SVG user units, about mm on A4].
MAP_W, MAP_H = 180.0, 120.0

#: Figures of 附件2 (unit_inputs) shown per unit, with their Chinese headers.
INPUT_FIGURES = (
    ("total_input_wan_yuan", "投入合计（万元）"), ("project_funds_wan_yuan", "项目资金（万元）"),
    ("in_kind_wan_yuan", "实物折款（万元）"), ("coordinated_funds_wan_yuan", "协调资金（万元）"),
    ("cadres_division", "县处级干部"), ("cadres_section", "科级干部"), ("cadres_general", "一般干部"),
    ("visits_per_cadre", "人均入户次数"), ("warmth_households", "慰问户数"),
    ("warmth_money_yuan", "慰问金（元）"), ("labour_export_persons", "劳务输出人数"),
)

LABELS = {"category": VillageCategory.labels(), "rank": CadreRank.labels(), "household_status": HouseholdStatus.labels(), "result": RESULTS,
          "road_status": ROAD_STATUS, "pv_kind": PVKind.labels(), "pv_status": PVStatus.labels(),
          "project_kind": ProjectKind.labels(), "project_status": ProjectStatus.labels()}


def dossier_html(d: Dossier, *, made_on: dt.date | None = None) -> str:
    """The dossier ``d`` as one HTML page for printing."""
    made_on = made_on or dt.date.today()
    inputs = {int(r["unit_id"]): r for r in d.inputs if r.get("unit_id") is not None}
    pairings = [{**p, "inputs": inputs.get(int(p["unit_id"]))} for p in d.pairings]
    return _env.get_template("dossier.html").render(
        d=d, v=d.village, pairings=pairings, figures=INPUT_FIGURES, labels=LABELS,
        map_svg=village_svg(d), made_on=f"{made_on:%Y年%m月%d日}", sources=DATA_SOURCES,
        demo_note=DEMO_NOTE if d.demo else None, num=_num,
        funds=sum(p["task_funds_wan_yuan"] or 0 for p in d.pairings),
        over=sum(1 for c in d.cadres if c["over_limit"]))


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value)}"
    return str(value)


def village_svg(d: Dossier) -> Markup:
    """The village and its surroundings (boundary or 3 km around its point): settlements,
    roads, water facilities, PV projects, neighbouring villages; a scale bar and north arrow."""
    minx, miny, maxx, maxy = d.bounds
    kx = math.cos(math.radians((miny + maxy) / 2))
    scale = min(MAP_W / ((maxx - minx) * kx), MAP_H / (maxy - miny))
    ox = (MAP_W - (maxx - minx) * kx * scale) / 2
    oy = (MAP_H - (maxy - miny) * scale) / 2

    def xy(x: float, y: float) -> tuple[float, float]:
        return ox + (x - minx) * kx * scale, oy + (maxy - y) * scale

    def path(geom) -> str:
        if geom is None or geom.is_empty:
            return ""
        if geom.geom_type.startswith("Multi") or geom.geom_type == "GeometryCollection":
            return " ".join(path(g) for g in geom.geoms)
        if geom.geom_type == "Polygon":
            return " ".join(_ring([xy(*c[:2]) for c in r.coords]) + "Z" for r in (geom.exterior, *geom.interiors))
        if geom.geom_type == "LineString":
            return _ring([xy(*c[:2]) for c in geom.coords])
        return ""

    frame = f'<rect x="0" y="0" width="{MAP_W:g}" height="{MAP_H:g}" fill="#fbfaf5" stroke="#555" stroke-width="0.3"/>'
    parts = [frame]
    boundary = d.layers.get("boundary")
    if boundary is not None:
        parts.append(f'<path d="{path(boundary.geometry.iloc[0])}" fill="#f3e6c8" stroke="#8b1a1a" '
                     'stroke-width="0.5" stroke-dasharray="2 1"/>')
    for _, r in d.layers["roads"].iterrows():
        hard = str(r.get("surface")) == "hardened"
        parts.append(f'<path d="{path(r.geometry)}" fill="none" stroke="{"#c0392b" if hard else "#a67c52"}" '
                     f'stroke-width="{0.7 if hard else 0.45}"/>')
    symbols = (("water", "#1f78b4", "▲"), ("pv", "#e6a100", "◆"), ("settlements", "#333", "●"))
    for key, colour, mark in symbols:
        for _, r in d.layers[key].iterrows():
            g = r.geometry
            if g is None or g.is_empty:
                continue
            p = g if g.geom_type == "Point" else g.representative_point()
            x, y = xy(p.x, p.y)
            if not (0 <= x <= MAP_W and 0 <= y <= MAP_H):
                continue
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}" fill="{colour}" font-size="2.6" '
                         f'text-anchor="middle" dominant-baseline="central">{mark}</text>')
            if key == "settlements":
                parts.append(f'<text x="{x + 1.8:.1f}" y="{y:.1f}" font-size="2.4" fill="#333" '
                             f'dominant-baseline="central">{escape(r["name"])}</text>')
    for _, r in d.layers["villages"].iterrows():
        x, y = xy(r.geometry.x, r.geometry.y)
        here = r["name"] == d.village["name"] and r["id"] == d.village["id"]
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{1.6 if here else 1}" fill="{"#8b1a1a" if here else "#777"}"/>'
                     f'<text x="{x + 2:.1f}" y="{y - 1.5:.1f}" font-size="{3.6 if here else 2.6}" '
                     f'font-weight="{700 if here else 400}" fill="#222">{escape(r["name"])}</text>')
    # Scale bar (a round length near a fifth of the width) and north arrow.
    metres_per_unit = 111_320.0 / scale
    target = MAP_W / 5 * metres_per_unit
    step = 10 ** math.floor(math.log10(target))
    length = max(s * step for s in (1, 2, 5) if s * step <= target)
    bar = length / metres_per_unit
    label = f"{length / 1000:g} 公里" if length >= 1000 else f"{length:g} 米"
    parts.append(f'<g transform="translate(6,{MAP_H - 6})"><rect width="{bar:.1f}" height="1.2" fill="#222"/>'
                 f'<text y="-1.2" font-size="2.8">{label}</text></g>'
                 f'<g transform="translate({MAP_W - 8},10)"><path d="M0,-6 L2.5,1 L0,-0.5 L-2.5,1 Z" fill="#222"/>'
                 '<text y="5" font-size="3.4" text-anchor="middle">北</text></g>')
    return Markup(f'<svg viewBox="0 0 {MAP_W:g} {MAP_H:g}" width="{MAP_W:g}mm" height="{MAP_H:g}mm" '
                  f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')


def _ring(points: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{x:.2f},{y:.2f}" for x, y in points)
