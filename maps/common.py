"""What the maps share that needs no Folium: the base maps and the demo-data notice.

The API's routes and pages import these when the server starts; the builders, which import
Folium (about 0.3 s of CPU, see docs/install.md), are imported by the requests that draw a map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from geo.errors import ValidationError
from geo.tiles import TiledLayer

if TYPE_CHECKING:
    import pandas as pd

Crs = Literal["wgs84", "gcj02"]
BaseName = Literal["osm", "tianditu_vec", "tianditu_img", "amap", "blank"]

#: The base shown when a request names none. OSM tiles need the internet; when none load,
#: ``atlas.js`` switches to the blank base, so the default still renders offline.
DEFAULT_BASE: BaseName = "osm"


@dataclass(frozen=True)
class Tiles:
    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True)
class BaseSpec:
    """A base map: its Chinese label, the CRS its tiles are drawn in, and its tile layers."""

    key: BaseName
    label: str
    crs: Crs
    tiles: tuple[Tiles, ...]
    needs_key: bool = False


_TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
             "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}")
_TIANDITU_ATTRIBUTION = "© 天地图 国家地理信息公共服务平台"


def _tianditu(layer: str) -> Tiles:
    # {s}, {z}, {x}, {y} stay Leaflet placeholders; {layer} now, {key} per map (see base_specs).
    url = _TIANDITU.replace("{layer}", layer)
    return Tiles(url, _TIANDITU_ATTRIBUTION, subdomains="01234567")


BASES: dict[str, BaseSpec] = {
    b.key: b
    for b in (
        BaseSpec("osm", "OpenStreetMap", "wgs84", (
            Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                  "© OpenStreetMap contributors", subdomains="", max_zoom=19),)),
        BaseSpec("tianditu_vec", "天地图·矢量", "wgs84", (_tianditu("vec"), _tianditu("cva")),
                 needs_key=True),
        BaseSpec("tianditu_img", "天地图·影像", "wgs84", (_tianditu("img"), _tianditu("cia")),
                 needs_key=True),
        BaseSpec("amap", "高德地图（GCJ-02）", "gcj02", (
            Tiles("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                  "&style=8&x={x}&y={y}&z={z}", "© 高德地图 AutoNavi", subdomains="1234"),)),
        BaseSpec("blank", "离线底图（乡镇、村名、道路）", "wgs84", ()),
    )
}


def available_bases(*, tianditu_key: str | None) -> list[str]:
    """Names of the base maps this installation can show (Tianditu only with a key)."""
    return [k for k, b in BASES.items() if not b.needs_key or tianditu_key]


def check_base(base: str | None, *, tianditu_key: str | None) -> BaseName:
    """Validate a requested base map name.

    Raises
    ------
    ValidationError
        Naming the bases that can be used here.
    """
    if base is None or base == "":
        return DEFAULT_BASE
    allowed = available_bases(tianditu_key=tianditu_key)
    if base not in allowed:
        hint = " (Tianditu needs ATLAS_TIANDITU_KEY)" if base in BASES else ""
        raise ValidationError(f"base {base!r} is not available{hint}; use one of: {', '.join(allowed)}")
    return base  # type: ignore[return-value]


#: The legend's notice on maps showing demo rows.
DEMO_NOTE = ("演示数据：含近似位置或合成记录（来源 demo:approximate / demo:synthetic），"
             "仅供演示，不作为实测数据。")


def demo_flag(*frames: pd.DataFrame | None) -> str | None:
    """The legend's demo notice when any row's ``source`` starts with ``demo:``, else None."""
    for frame in frames:
        if isinstance(frame, TiledLayer):
            if frame.synthetic:
                return DEMO_NOTE
            continue
        if frame is None or "source" not in frame or frame.empty:
            continue
        if frame["source"].astype(str).str.startswith("demo:").any():
            return DEMO_NOTE
    return None


#: Where the figures come from; the base map's own attribution is added on the sheet.
DATA_SOURCES = ("数据来源：村级帮扶地图登记库（帮扶结对、任务资金和驻村工作队据各单位填报的附件1导入；"
                "行政区划、村点和基础设施见各图层 source 字段）")
