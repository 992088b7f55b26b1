"""The print layout of every map: one sheet (A4 or A3, portrait or landscape) with the title,
year, date, the map with its scale bar and north arrow, the whole legend beside it, the data
sources and the demo-data notice; the pairing map adds its pairing table on the pages after.

:func:`print_page` turns a built map into that page (HTML). ``atlas map NAME -o FILE.pdf``
prints it with headless Chromium (:mod:`maps.chromium`), and ``FILE.png`` is a screenshot of
the same sheet; a served map's print button opens it (``?print=A3``). Controls (zoom, layer
switcher, search, selectors, panel) are not on the sheet.

Escaping: every value from data passes through :func:`html.escape`; the map's own data stays
JSON handled by ``atlas.js`` as text.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any, Literal

import folium
from folium.template import Template

from maps import base as mb
from maps.assets import AssetMode
from maps.common import DATA_SOURCES

Paper = Literal["A4", "A3"]
#: Paper sizes, short side by long side [mm].
PAPER_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
PAPERS = tuple(PAPER_MM)
#: Heights of the sheet's title block and footer, and width of the legend column [mm].
HEADER_MM = 21.0
FOOTER_MM = 16.0
LEGEND_MM = 68.0
MM_PER_PX = 25.4 / 96


@dataclass(frozen=True)
class PrintLayout:
    """A sheet: its size and margin [mm].

    Build it with :func:`layout` (a paper) or :func:`layout_px` (a PNG of given pixels).
    """

    page_mm: tuple[float, float]
    margin_mm: float = 8.0
    paper: str | None = None
    landscape: bool = False

    @property
    def content_mm(self) -> tuple[float, float]:
        w, h = self.page_mm
        return w - 2 * self.margin_mm, h - 2 * self.margin_mm

    @property
    def map_mm(self) -> tuple[float, float]:
        w, h = self.content_mm
        legend = min(LEGEND_MM, w * 0.4)
        return w - legend - 3, h - HEADER_MM - FOOTER_MM

    @property
    def page_px(self) -> tuple[int, int]:
        w, h = self.page_mm
        return round(w / MM_PER_PX), round(h / MM_PER_PX)

    @property
    def label(self) -> str:
        if self.paper is None:
            return f"{self.page_px[0]}×{self.page_px[1]} 像素"
        return f"{self.paper} {'横向' if self.landscape else '纵向'}"


def layout(paper: str = "A4", *, landscape: bool = False) -> PrintLayout:
    """The layout of a paper size.

    Raises
    ------
    geo.errors.ValidationError
        An unknown paper, naming the known ones.
    """
    from geo.errors import ValidationError

    key = str(paper).strip().upper()
    if key not in PAPER_MM:
        raise ValidationError(f"paper {paper!r} is not known; use one of: {', '.join(PAPERS)}")
    short, long = PAPER_MM[key]
    return PrintLayout((long, short) if landscape else (short, long), paper=key, landscape=landscape)


def layout_px(width: int, height: int) -> PrintLayout:
    """A sheet of ``width`` x ``height`` CSS pixels with no margin (a PNG)."""
    return PrintLayout((width * MM_PER_PX, height * MM_PER_PX), margin_mm=0.0)


class _PrintSetup(folium.MacroElement):
    """Calls ``atlas.print``: moves the legend beside the map, adds the north arrow, hides the
    controls, and refits the view to the sheet's map frame."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            atlas.print({{ this._parent.get_name() }}, {{ this.spec }});
        {% endmacro %}
    """)

    def __init__(self, spec: dict[str, Any]):
        super().__init__()
        self._name = "AtlasPrint"
        self.spec = mb.js_json(spec)


def print_page(m: folium.Map, *, sheet: PrintLayout, title: str, assets: AssetMode = "embedded",
               year_note: str | None = None, township: str | None = None,
               made_on: dt.date | None = None) -> str:
    """The map ``m`` laid out on ``sheet`` as one HTML page (see the module docstring).

    Parameters
    ----------
    title
        The map's Chinese title (帮扶结对图).
    year_note
        The year shown and why (``2019年（结对数据最近年度）``).
    township
        The township the map is limited to, if any.
    made_on
        The date printed on the sheet (default: today).
    """
    e = html.escape
    made_on = made_on or dt.date.today()
    legend = getattr(m, "atlas_legend", None)
    base = mb.BASES.get(getattr(m, "atlas_base", "") or "")
    base_text = ("底图：" + base.label + ("（" + "；".join(sorted({t.attribution for t in base.tiles})) + "）"
                                        if base.tiles else "")) if base else ""
    facts = [f"年度：{year_note}" if year_note else None, f"乡镇：{township}" if township else "范围：全区",
             f"制图日期：{made_on:%Y年%m月%d日}", f"纸张：{sheet.label}"]
    demo = legend.demo_note if legend is not None else None
    table = _pairing_table(m)
    (w, h), (mw, mh) = sheet.content_mm, sheet.map_mm
    pw, ph = sheet.page_mm
    margin = sheet.margin_mm
    css = f"""
@page {{ size: {pw:.1f}mm {ph:.1f}mm; margin: {margin:.1f}mm; }}
html, body {{ margin: 0; padding: 0; background: #fff; }}
body.atlas-print {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
  color: #222; -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
#atlas-sheet {{ position: relative; width: {w:.1f}mm; height: {h:.1f}mm; overflow: hidden; }}
#atlas-sheet header {{ position: absolute; left: 0; top: 0; width: 100%; height: {HEADER_MM - 2:.1f}mm;
  border-bottom: 0.6mm solid #8b1a1a; }}
#atlas-sheet header h1 {{ margin: 0; font-size: 20pt; line-height: 1.15; }}
#atlas-sheet header p {{ margin: 1mm 0 0; font-size: 9.5pt; color: #444; }}
body.atlas-print .folium-map {{ position: absolute !important; left: 0 !important;
  top: {HEADER_MM:.1f}mm !important; width: {mw:.1f}mm !important; height: {mh:.1f}mm !important;
  border: 0.3mm solid #555; box-sizing: border-box; }}
@media screen {{ body.atlas-print .folium-map {{ left: {margin:.1f}mm !important;
  top: {margin + HEADER_MM:.1f}mm !important; }} #atlas-sheet {{ margin: {margin:.1f}mm; }} }}
#atlas-side {{ position: absolute; right: 0; top: {HEADER_MM:.1f}mm; width: {w - mw - 3:.1f}mm;
  height: {mh:.1f}mm; overflow: hidden; }}
#atlas-side .atlas-legend {{ max-height: none !important; max-width: none !important; box-shadow: none;
  border: 0.3mm solid #999; font-size: 8pt; line-height: 1.35; padding: 2mm; }}
#atlas-side .atlas-legend summary {{ list-style: none; }}
#atlas-side .atlas-demo {{ max-width: none; }}
#atlas-sheet footer {{ position: absolute; left: 0; bottom: 0; width: 100%; height: {FOOTER_MM - 1:.1f}mm;
  font-size: 7.5pt; color: #444; border-top: 0.3mm solid #999; padding-top: 0.8mm; box-sizing: border-box; }}
#atlas-sheet footer p {{ margin: 0 0 0.6mm; }}
#atlas-sheet footer .atlas-demo-note {{ color: #6b4e00; font-weight: 600; }}
.atlas-north {{ background: rgba(255,255,255,0.9); padding: 2px 4px; border-radius: 3px; text-align: center;
  font: 600 11pt/1 "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; }}
body.atlas-print .leaflet-control-zoom, body.atlas-print .leaflet-control-layers,
body.atlas-print .atlas-search, body.atlas-print .atlas-selectors, body.atlas-print .atlas-panel,
body.atlas-print .leaflet-control-zoom-fullscreen, body.atlas-print .atlas-title,
body.atlas-print .atlas-print-button, body.atlas-print .atlas-notice {{ display: none !important; }}
body.atlas-print .leaflet-control-scale-line {{ font-size: 9pt; }}
/* A text shadow prints as a second copy of the text: names get a light box instead. */
body.atlas-print .leaflet-tooltip.atlas-label {{ text-shadow: none; background: rgba(255,255,255,0.75);
  padding: 0 1px; border-radius: 2px; }}
#atlas-table {{ break-before: page; page-break-before: always; width: {w:.1f}mm; }}
#atlas-table h2 {{ font-size: 14pt; margin: 0 0 2mm; }}
#atlas-table table {{ border-collapse: collapse; width: 100%; font-size: 8.5pt; }}
#atlas-table th, #atlas-table td {{ border: 0.2mm solid #666; padding: 0.8mm 1.5mm; vertical-align: top;
  text-align: left; }}
#atlas-table thead {{ display: table-header-group; }}
#atlas-table tr {{ break-inside: avoid; }}
#atlas-table .town td {{ background: #eee; font-weight: 600; }}
#atlas-table .gap td {{ color: #b00020; }}
"""
    subtitle = getattr(m, "atlas_subtitle", None)
    header = (f'<div id="atlas-sheet"><header><h1>{e(title)}</h1><p>{e(" · ".join(f for f in facts if f))}</p>'
              + (f'<p class="atlas-subtitle">{e(subtitle)}</p>' if subtitle else "")
              + f'</header><div id="atlas-side"></div><footer><p>{e(DATA_SOURCES)}</p>'
              + (f"<p>{e(base_text)}</p>" if base_text else "")
              + (f'<p class="atlas-demo-note">{e(demo)}</p>' if demo else "")
              + "</footer></div>")
    m.options["zoomSnap"] = 0.1  # the view fills the sheet's frame, not the next whole zoom level down
    fit = next((c for c in m._children.values() if isinstance(c, folium.map.FitBounds)), None)
    m.add_child(_PrintSetup({"legendTarget": "atlas-side", "bounds": fit.bounds if fit is not None else None}))
    figure = m.get_root()
    figure.header.add_child(folium.Element(f"<style>{css}</style>"), name="atlas_print_css")
    figure.html.add_child(folium.Element(header + table), name="atlas_print_sheet")
    page = mb.render_map(m, assets=assets, page_title=f"{title} · 村级帮扶地图")
    return page.replace("<body>", '<body class="atlas-print">', 1)


def _pairing_table(m: folium.Map) -> str:
    """The pairing map's table (乡镇, 行政村, 类别, 帮扶单位与任务资金, 工作队队长单位, 备注) from its
    panel, or nothing for maps without one."""
    panel = next((c for c in m._children.values() if isinstance(c, mb.Panel)), None)
    if panel is None:
        return ""
    e = html.escape
    spec = panel.spec
    rows = []
    for town in spec["townships"]:
        rows.append(f'<tr class="town"><td colspan="6">{e(town["name"])}（{len(town["villages"])} 个村）</td></tr>')
        for v in town["villages"]:
            units = "；".join(u["name"] + (f"（{u['funds']}" + (f"，投入 {u['input']}" if u.get("input") else "") + "）"
                                          if u.get("funds") else "") for u in v["units"])
            leader = v["leader"]["name"] if v.get("leader") else "无驻村工作队"
            rows.append(f'<tr class="{"gap" if v["warn"] else ""}"><td>{e(town["name"])}</td><td>{e(v["name"])}</td>'
                        f'<td>{e(str(v["category"] or ""))}</td><td>{e(units or "无帮扶单位")}</td>'
                        f'<td>{e(str(leader or ""))}</td><td>{e("，".join(v["warn"]))}</td></tr>')
    return (f'<section id="atlas-table"><h2>{e(spec["title"])}</h2><table><thead><tr><th>乡镇</th><th>行政村</th>'
            f'<th>类别</th><th>帮扶单位（任务资金）</th><th>驻村工作队队长单位</th><th>备注</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')
