"""What every atlas map shares: base layers, overlays, legend, search, controls, rendering.

A builder (``maps/pairing.py`` ...) calls :func:`new_map`, adds :class:`Overlay` layers made
from GeoDataFrames, and finishes with :func:`finish_map`, which adds the legend, the search
box, the layer control and fits the view. :func:`render_map` turns the result into one HTML
page whose scripts and stylesheets come from the product (served or embedded).

Coordinates. Overlays are stored in WGS 84 (EPSG:4326). Amap tiles are drawn in GCJ-02, so
every overlay also carries its geometries converted with
:func:`geo.chinacrs.geometries_from_wgs84`; ``maps/static/atlas.js`` draws the GCJ-02 copy
while the Amap base is active and the WGS 84 copy otherwise.

Escaping. Data reaches the page in two ways only: JSON inside a ``<script>`` element
(:func:`js_json` escapes ``<``, ``>`` and ``&``), which ``atlas.js`` turns into text nodes, and
server-built HTML for the title and legend, where every value passes through
:func:`html.escape`.
"""

from __future__ import annotations

import html
import json
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen
from folium.template import Template

from geo.chinacrs import geometries_from_wgs84
from geo.errors import ValidationError
from geo.geojson import geometry_dicts, json_value
from geo.tiles import TiledLayer
from maps.assets import AssetMode, asset_ref, localize_html

from maps.common import (  # noqa: F401  (re-exported: the builders use them as mb.*)
    BASES,
    DEFAULT_BASE,
    DEMO_NOTE,
    BaseName,
    BaseSpec,
    Crs,
    Tiles,
    available_bases,
    check_base,
    demo_flag,
)


def js_json(value: Any) -> str:
    """JSON safe to place inside a ``<script>`` element: no ``</script>``, no HTML entities."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# ------------------------------------------------------------------ elements


class _Setup(JSCSSMixin):
    """Loads ``atlas.js``/``atlas.css`` and attaches the atlas state to the map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            atlas.setup({{ this._parent.get_name() }}, {{ this.options }});
        {% endmacro %}
    """)

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__()
        self._name = "AtlasSetup"
        self.options = js_json(dict(options or {}))
        self.default_js = [("atlas_js", asset_ref("atlas", "atlas.js"))]
        self.default_css = [("atlas_css", asset_ref("atlas", "atlas.css"))]


class BaseLayer(folium.map.Layer):
    """One base map (a group of tile layers) in the layer control."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = atlas.base({{ this._parent.get_name() }}, {{ this.spec }});
        {% endmacro %}
    """)

    def __init__(self, spec: BaseSpec, *, show: bool, tianditu_key: str | None,
                 fallback: str | None = None):
        super().__init__(name=spec.label, overlay=False, control=True, show=show)
        self._name = "BaseLayer"
        self.base = spec
        tiles = []
        for t in spec.tiles:
            options: dict[str, Any] = {"attribution": t.attribution, "maxZoom": t.max_zoom}
            if t.subdomains:
                options["subdomains"] = t.subdomains
            tiles.append({"url": t.url.replace("{key}", tianditu_key or ""), "options": options})
        self._spec = {"key": spec.key, "crs": spec.crs, "tiles": tiles, "fallback": fallback}
        self.spec = js_json(self._spec)

    def set_vector(self, payload: Mapping[str, Any]) -> None:
        """Features and names drawn with this base (the blank base's offline layers)."""
        self._spec["vector"] = dict(payload)
        self.spec = js_json(self._spec)

    @property
    def vector(self) -> dict[str, Any] | None:
        return self._spec.get("vector")


@dataclass(frozen=True)
class Names:
    """Names drawn on the map beside (or, for areas, inside) every feature of an overlay.

    Attributes
    ----------
    field
        The property holding the name (text; never interpreted as HTML).
    rank
        A numeric property: where names would overlap, the higher rank is kept (poor villages
        lacking a unit or a team before others); absent means 0.
    min_zoom
        Names are hidden below this zoom level (settlement names from 13).
    placement
        ``right`` of a point, or ``center`` of an area.
    always
        Never hidden by a name of higher rank (township names on their areas).
    always_from_rank
        Names of at least this rank are never hidden either (poor villages lacking a unit or
        a team); they are placed on the side of their point where they overlap least.
    """

    field: str = "name"
    rank: str | None = None
    min_zoom: int = 0
    placement: Literal["right", "center"] = "right"
    always: bool = False
    always_from_rank: float | None = None


class Overlay(JSCSSMixin, folium.map.Layer):
    """A layer of features drawn from a GeoDataFrame, toggled in the layer control.

    Build it with :func:`overlay`; the attributes are what tests inspect.

    Attributes
    ----------
    key
        Machine name (``villages``); drawn paths carry the CSS class ``atlas-<key>``.
    features
        ``[{"g": geometry, "p": properties, "s": style overrides}]`` in WGS 84.
    gcj
        The same geometries in GCJ-02, in feature order.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = atlas.overlay({{ this._parent.get_name() }}, {{ this.payload() }});
        {% endmacro %}
    """)

    def __init__(self, *, key: str, name: str, features: list[dict], gcj: list[dict | None],
                 kind: Literal["circle", "marker", "path"], style: Mapping[str, Any],
                 style_by: tuple[str, Mapping[str, Mapping[str, Any]]] | None,
                 popup_title: str | None, popup_rows: Sequence[tuple[str, str]],
                 tooltip: str | None, cluster: bool | str, search: str | None, show: bool,
                 label: str | None = None, names: Names | None = None):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "Overlay"
        self.key = key
        self.features = features
        self.gcj = gcj
        self.kind = kind
        self.style = dict(style)
        self.style_by = style_by
        self.popup_title = popup_title
        self.popup_rows = list(popup_rows)
        self.tooltip = tooltip
        self.cluster = bool(cluster)
        #: What a cluster's number counts (``户``): drawn as ``12户`` in a rounded box, so that it
        #: reads as a count, never as a visiting order or a rank.
        self.cluster_unit = cluster if isinstance(cluster, str) else None
        self.search = search
        self.label = label
        self.name_labels = names
        if cluster:
            self.default_js = [("markercluster", asset_ref("markercluster", "leaflet.markercluster.js"))]
            self.default_css = [
                ("markercluster_css", asset_ref("markercluster", "MarkerCluster.css")),
                ("markercluster_default_css", asset_ref("markercluster", "MarkerCluster.Default.css")),
            ]

    def payload(self) -> str:
        spec: dict[str, Any] = {
            "key": self.key, "name": self.layer_name, "kind": self.kind, "style": self.style,
            "features": self.features, "gcj": self.gcj, "cluster": self.cluster,
            "clusterUnit": self.cluster_unit, "tooltip": self.tooltip, "search": self.search, "label": self.label,
        }
        if self.name_labels is not None:
            spec["names"] = {"field": self.name_labels.field, "rank": self.name_labels.rank, "minZoom": self.name_labels.min_zoom,
                             "placement": self.name_labels.placement, "always": self.name_labels.always,
                             "alwaysFrom": self.name_labels.always_from_rank}
        if self.style_by:
            spec["styleBy"] = {"field": self.style_by[0], "values": self.style_by[1]}
        if self.popup_title or self.popup_rows:
            spec["popup"] = {"title": self.popup_title, "rows": [list(r) for r in self.popup_rows]}
        return js_json(spec)


# ------------------------------------------------------------------ large layers as vector tiles


@dataclass(frozen=True)
class TilePolicy:
    """When a served map draws a layer from the server's vector tiles (``/ogc/.../tiles``)
    rather than embedding its features: above ``above`` rows. ``township`` is the map's own
    township choice, sent with the tile requests (the server applies the caller's township
    limit in any case)."""

    above: int
    township: str | None = None


_TILE_POLICY: ContextVar[TilePolicy | None] = ContextVar("atlas_tile_policy", default=None)


@contextmanager
def tile_policy(policy: TilePolicy | None) -> Iterator[None]:
    """Builders called inside draw large layers as vector tiles (``None``: never, as in the
    files ``atlas map`` writes, which no server backs)."""
    token = _TILE_POLICY.set(policy)
    try:
        yield
    finally:
        _TILE_POLICY.reset(token)


def tiled(frame: gpd.GeoDataFrame | TiledLayer | None, collection: str) -> TiledLayer | None:
    """``frame`` as vector tiles of ``collection`` when the service gave a
    :class:`geo.tiles.TiledLayer`, or when the current :func:`tile_policy` says the frame is
    too large to embed; else None (embed it)."""
    if isinstance(frame, TiledLayer):
        return frame
    policy = _TILE_POLICY.get()
    if policy is None or frame is None or len(frame) <= policy.above:
        return None
    return TiledLayer(collection, len(frame), synthetic=demo_flag(frame) is not None, township=policy.township)


@dataclass(frozen=True)
class TileField:
    """A property shown by a tiled layer, made in the page from the tile's ``source`` column
    (Chinese ``labels`` of its values, a ``unit`` after a number); ``detail``: read from the
    item (``/ogc/.../items/{id}``, names joined) when the feature is clicked."""

    source: str
    labels: Mapping[str, str] | None = None
    unit: str | None = None
    detail: bool = False


@dataclass(frozen=True)
class TileScale:
    """A style option computed from a number of the tile: ``option = clip(field / divide,
    low, high)``, ``default`` when missing (a road's line weight from its width)."""

    field: str
    option: str
    divide: float
    low: float
    high: float
    default: float


#: What a tiled feature whose ``source`` starts with ``demo:`` says in its popup.
TILE_DEMO_NOTE = "演示数据（近似位置或合成记录）"


class TileOverlay(JSCSSMixin, folium.map.Layer):
    """A layer drawn in the page from the server's vector tiles (Leaflet.VectorGrid, SVG):
    the same styles, popups and tooltips as :class:`Overlay`, its properties made from the
    tile's columns by :class:`TileField` rules. Tiles are asked with the page's session
    cookie, so the server applies the viewer's role, townships and personal-data rules."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = atlas.tileOverlay({{ this._parent.get_name() }}, {{ this.payload() }});
        {% endmacro %}
    """)

    def __init__(self, layer: TiledLayer, *, key: str, name: str, kind: Literal["circle", "path"],
                 fields: Mapping[str, TileField], style: Mapping[str, Any],
                 style_by: tuple[str, Mapping[str, Mapping[str, Any]]] | None, scale: Sequence[TileScale],
                 popup_title: str | None, popup_rows: Sequence[tuple[str, str]], tooltip: str | None,
                 min_zoom: int, show: bool):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "TileOverlay"
        self.layer = layer
        self.key = key
        self.kind = kind
        self.fields = dict(fields)
        self.style = dict(style)
        self.style_by = style_by
        self.scale = list(scale)
        self.popup_title = popup_title
        self.popup_rows = list(popup_rows)
        self.tooltip = tooltip
        self.min_zoom = min_zoom
        self.default_js = [("vectorgrid", asset_ref("vectorgrid", "dist/Leaflet.VectorGrid.bundled.min.js"))]

    def payload(self) -> str:
        spec: dict[str, Any] = {
            "key": self.key, "name": self.layer_name, "kind": self.kind, "style": self.style,
            "tooltip": self.tooltip, "rows": self.layer.rows,
            "tiles": {
                "url": self.layer.url(self.tile_properties()), "layer": self.layer.collection,
                "minZoom": self.min_zoom,
                "item": f"/ogc/collections/{self.layer.collection}/items/",
                "fields": {name: {"from": f.source, "labels": dict(f.labels) if f.labels else None,
                                  "unit": f.unit, "detail": f.detail} for name, f in self.fields.items()},
                "scale": [dict(vars(s)) for s in self.scale], "demoNote": TILE_DEMO_NOTE,
            },
        }
        if self.style_by:
            spec["styleBy"] = {"field": self.style_by[0], "values": self.style_by[1]}
        if self.popup_title or self.popup_rows:
            spec["popup"] = {"title": self.popup_title, "rows": [list(r) for r in self.popup_rows]}
        return js_json(spec)

    def tile_properties(self) -> list[str]:
        """The tile fields the page uses (asked alone: smaller tiles, made faster)."""
        wanted = [f.source for f in self.fields.values() if not f.detail] + [s.field for s in self.scale]
        return list(dict.fromkeys(wanted))

    def note(self) -> str:
        """What the legend says of the layer: its size, that it comes as tiles, from which zoom."""
        return f"{self.layer_name}：{self.layer.rows:,} 个要素，以矢量瓦片显示，放大至 {self.min_zoom} 级及以上可见"


def tile_overlays_of(m: folium.Map) -> dict[str, TileOverlay]:
    """The map's tiled overlays by key (for tests)."""
    return {child.key: child for child in m._children.values() if isinstance(child, TileOverlay)}


class Box(folium.MacroElement):
    """A control holding server-built HTML (title, legend); callers escape every value."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            atlas.box({{ this._parent.get_name() }}, {{ this.position }}, {{ this.class_name }}, {{ this.html_json }});
        {% endmacro %}
    """)

    def __init__(self, html_text: str, *, position: str, class_name: str):
        super().__init__()
        self._name = "AtlasBox"
        self.html = html_text
        self.html_json = js_json(html_text)
        self.position = js_json(position)
        self.class_name = js_json(class_name)


class SearchBox(folium.MacroElement):
    """A search box over the names of the given overlays (village names)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            atlas.search({{ this._parent.get_name() }}, {{ this.spec }});
        {% endmacro %}
    """)

    def __init__(self, overlays: Sequence[str], *, placeholder: str):
        super().__init__()
        self._name = "AtlasSearch"
        self.overlays = list(overlays)
        self.spec = js_json({"overlays": self.overlays, "placeholder": placeholder})


class Panel(folium.MacroElement):
    """A side panel beside the map (the pairing map's list of who pairs with whom), built in
    the page from ``spec`` with text nodes only."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            atlas.panel({{ this._parent.get_name() }}, {{ this.spec_json }});
        {% endmacro %}
    """)

    def __init__(self, spec: Mapping[str, Any]):
        super().__init__()
        self._name = "AtlasPanel"
        self.spec = dict(spec)
        self.spec_json = js_json(_clean_tree(self.spec))


def _clean_tree(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_tree(v) for v in value]
    return _clean(value)


class Selectors(folium.MacroElement):
    """The page's selectors (year, township, unit): choosing one reloads the page with that
    value in the URL's query, so a link or a bookmark gives the same map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            atlas.selectors({{ this._parent.get_name() }}, {{ this.spec }});
        {% endmacro %}
    """)

    def __init__(self, fields: Sequence[Mapping[str, Any]]):
        super().__init__()
        self._name = "AtlasSelectors"
        self.fields = [dict(f) for f in fields]
        self.spec = js_json({"fields": self.fields})


# ------------------------------------------------------------------ building


#: The scripts and stylesheets of folium's defaults an atlas map loads (the rest are dropped).
MAP_SCRIPTS = frozenset({"leaflet"})
MAP_STYLES = frozenset({"leaflet_css"})


def new_map(*, base: str | None = None, tianditu_key: str | None = None) -> folium.Map:
    """An empty atlas map: base layers (the chosen one shown), scale bar and fullscreen.

    Parameters
    ----------
    base
        The base shown first: one of :data:`BASES` (default :data:`DEFAULT_BASE`).
    tianditu_key
        Tianditu key; without one the Tianditu bases are left out.

    Raises
    ------
    ValidationError
        An unknown base, or a Tianditu base without a key.
    """
    chosen = check_base(base, tianditu_key=tianditu_key)
    # maxZoom on the map itself: the blank base has no tiles to take it from (clustering needs it).
    m = folium.Map(location=[37.5, 105.2], zoom_start=9, tiles=None, control_scale=True,
                   prefer_canvas=False)
    # Leaflet alone: folium's other defaults (jQuery, Bootstrap, Font Awesome, awesome-markers)
    # serve folium.Icon markers and Bootstrap widgets, which no atlas map uses; they were five
    # requests and about 1 MB to parse before the first layer was drawn.
    m.default_js = [js for js in m.default_js if js[0] in MAP_SCRIPTS]
    m.default_css = [css for css in m.default_css if css[0] in MAP_STYLES]
    m.options["maxZoom"] = 18
    m.atlas_base = chosen  # type: ignore[attr-defined]  # named on prints
    m.add_child(_Setup())
    for key in available_bases(tianditu_key=tianditu_key):
        # Only a base that needs the internet falls back; the blank one never fails.
        fallback = "blank" if key == chosen and BASES[key].tiles else None
        m.add_child(BaseLayer(BASES[key], show=(key == chosen), tianditu_key=tianditu_key,
                              fallback=fallback))
    Fullscreen(position="topleft", title="全屏", title_cancel="退出全屏").add_to(m)
    return m


#: Simplification of the offline base's lines and areas [degrees; 0.0002 is about 20 m] and
#: the decimals kept (5: about 1 m): the whole demo district is some 40 KB of JSON.
OFFLINE_TOLERANCE_DEG = 0.0002
OFFLINE_PRECISION = 5


def offline_base_payload(frames: Mapping[str, gpd.GeoDataFrame | None]) -> dict[str, Any]:
    """The blank base's own layers, drawn when no tile can load: township outlines, roads
    (``s``: surface) and village and settlement points, each with its name (``n``), and the
    names' positions (``labels``: township names inside their areas, road names at the
    middle of the road; ``k`` the kind, ``t`` the text, ``p`` ``[lat, lon]``)."""
    payload: dict[str, Any] = {"townships": [], "roads": [], "villages": [], "settlements": [], "labels": []}

    def geoms(frame: gpd.GeoDataFrame, simplify: bool) -> tuple[gpd.GeoDataFrame, list]:
        frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        values = frame.geometry.values
        if simplify:
            values = frame.geometry.simplify(OFFLINE_TOLERANCE_DEG, preserve_topology=True).values
        return frame, geometry_dicts(values, OFFLINE_PRECISION)

    def label(kind: str, text: Any, point) -> None:
        text = _clean(text)
        if text not in (None, "") and point is not None and not point.is_empty:
            payload["labels"].append({"k": kind, "t": str(text),
                                      "p": [round(point.y, OFFLINE_PRECISION), round(point.x, OFFLINE_PRECISION)]})

    towns = frames.get("townships")
    if towns is not None and len(towns):
        towns, shapes = geoms(towns, True)
        payload["townships"] = [{"g": g} for g in shapes]
        for name, point in zip(towns["name"], towns.geometry.representative_point()):
            label("township", name, point)
    roads = frames.get("roads")
    if roads is not None and len(roads):
        roads, shapes = geoms(roads, True)
        payload["roads"] = [{"g": g, "s": _clean(s)} for g, s in zip(shapes, roads["surface"].astype(str))]
        middles = roads.geometry.apply(lambda g: g.interpolate(0.5, normalized=True) if g.geom_type == "LineString"
                                       else max(g.geoms, key=lambda p: p.length).interpolate(0.5, normalized=True))
        for name, point in zip(roads["name"], middles):
            label("road", name, point)
    for key in ("villages", "settlements"):
        frame = frames.get(key)
        if frame is not None and len(frame):
            frame, shapes = geoms(frame, False)
            payload[key] = [{"g": g} for g in shapes]
            for name, point in zip(frame["name"], frame.geometry):
                label(key[:-1], name, point)
    return payload


def add_offline_base(m: folium.Map, frames: Mapping[str, gpd.GeoDataFrame | None]) -> None:
    """Give the map's blank base the registry's township areas and names, village and
    settlement names and roads (:func:`offline_base_payload`), so that a map whose online
    base cannot load (no network in the field) is still readable."""
    for child in m._children.values():
        if isinstance(child, BaseLayer) and child.base.key == "blank":
            child.set_vector(offline_base_payload(frames))


def overlay(
    frame: gpd.GeoDataFrame,
    *,
    key: str,
    name: str,
    properties: pd.DataFrame | Mapping[str, Iterable[Any]],
    kind: Literal["circle", "marker", "path"] = "circle",
    style: Mapping[str, Any] | None = None,
    style_by: tuple[str, Mapping[str, Mapping[str, Any]]] | None = None,
    feature_styles: Sequence[Mapping[str, Any] | None] | None = None,
    popup_title: str | None = None,
    popup_rows: Sequence[tuple[str, str]] = (),
    tooltip: str | None = None,
    cluster: bool | str = False,
    search: str | None = None,
    show: bool = True,
    precision: int = 6,
    label: str | None = None,
    names: Names | None = None,
) -> Overlay:
    """An :class:`Overlay` from a frame in EPSG:4326 (rows without geometry are skipped).

    Parameters
    ----------
    frame
        Features; only the active geometry is used.
    properties
        Values shown in popups and tooltips and used by ``style_by``, one per row of
        ``frame`` (plain text; the page shows them as text, never as HTML).
    style_by
        ``(property, {value: Leaflet path options})``: a categorical style.
    feature_styles
        Per-row Leaflet path options overriding the others (``radius`` by capacity ...).
    cluster
        Gather nearby points into clusters; a text (``户``) is what their number counts and is
        written after it (``12户``) in a rounded box unlike any numbered marker.
    popup_rows
        ``(Chinese label, property)`` pairs; empty values are left out of the popup.
    precision
        Decimals kept in coordinates [degrees]; 6 is about 0.1 m, 5 about 1 m.
    label
        Property drawn as text inside ``marker`` icons (a visiting order number).
    names
        Names drawn on the map beside the features (replacing the hover tooltip), decluttered
        by rank and zoom (:class:`Names`).

    Raises
    ------
    ValueError
        When the frame is not in EPSG:4326.
    """
    if frame.crs is not None and frame.crs.to_epsg() not in (4326, 4490):
        raise ValueError(f"map overlays need EPSG:4326; the {key} frame is in {frame.crs}")
    props = pd.DataFrame(properties, index=frame.index) if not isinstance(properties, pd.DataFrame) \
        else properties.set_axis(frame.index)
    geoms = frame.geometry.values
    present = ~(pd.isna(np.asarray(geoms, dtype=object)) | frame.geometry.is_empty.to_numpy())
    wgs = geometry_dicts(geoms[present], precision)
    gcj = geometry_dicts(geometries_from_wgs84(np.asarray(geoms[present], dtype=object), "gcj02"), precision)
    columns = list(props.columns)
    rows = props[present].itertuples(index=False, name=None)
    styles = list(feature_styles) if feature_styles is not None else None
    positions = np.flatnonzero(present)
    features = []
    for position, values, g in zip(positions, rows, wgs):
        item: dict[str, Any] = {"g": g, "p": {n: _clean(v) for n, v in zip(columns, values) if _clean(v) is not None}}
        if styles is not None and styles[position]:
            item["s"] = dict(styles[position])
        features.append(item)
    return Overlay(key=key, name=name, features=features, gcj=gcj, kind=kind,
                   style=style or {}, style_by=style_by, popup_title=popup_title,
                   popup_rows=popup_rows, tooltip=tooltip, cluster=cluster, search=search,
                   show=show, label=label, names=names)


def _clean(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    value = json_value(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ------------------------------------------------------------------ legend and title


@dataclass(frozen=True)
class LegendItem:
    """One legend line: a swatch (``circle``, ``square``, ``line``, ``dashed``, ``area``) and a label."""

    label: str
    color: str
    shape: Literal["circle", "square", "line", "dashed", "area"] = "circle"
    border: str | None = None
    size_px: int = 14


@dataclass(frozen=True)
class LegendSection:
    title: str
    items: tuple[LegendItem, ...]


@dataclass
class Legend:
    """The map's legend; :func:`finish_map` renders it (every text escaped)."""

    title: str
    sections: list[LegendSection] = field(default_factory=list)
    demo_note: str | None = None

    def labels(self) -> list[str]:
        return [item.label for s in self.sections for item in s.items]

    def html(self) -> str:
        e = html.escape
        parts = [f"<details open><summary><h2>{e(self.title)}</h2></summary>"]
        for section in self.sections:
            parts.append(f"<h3>{e(section.title)}</h3><ul>")
            for item in section.items:
                parts.append(f"<li>{_swatch(item)}<span>{e(item.label)}</span></li>")
            parts.append("</ul>")
        if self.demo_note:
            parts.append(f'<div class="atlas-demo">{e(self.demo_note)}</div>')
        parts.append("</details>")
        return "".join(parts)


def _swatch(item: LegendItem) -> str:
    color = _css_color(item.color)
    size = f"width:{item.size_px}px;height:{item.size_px}px;"
    if item.shape in ("line", "dashed"):
        return f'<i class="atlas-swatch {item.shape}" style="border-top-color:{color}"></i>'
    border = f"border:2px solid {_css_color(item.border)};" if item.border else ""
    shape = "circle" if item.shape == "circle" else ("area" if item.shape == "area" else "")
    return f'<i class="atlas-swatch {shape}" style="{size}background:{color};{border}"></i>'


def _css_color(value: str | None) -> str:
    text = str(value or "")
    if text.startswith("#") and all(c in "0123456789abcdefABCDEF" for c in text[1:]) and len(text) in (4, 7, 9):
        return text
    if text.isalpha():
        return text
    raise ValueError(f"legend colour {value!r} is not #rgb, #rrggbb or a colour name")


@dataclass(frozen=True)
class Classes:
    """Graded classes of a number (choropleths, markers by distance): colours by upper bound.

    Attributes
    ----------
    breaks
        Upper bounds (inclusive) of every class but the last, ascending.
    colors
        One colour per class (``len(breaks) + 1``).
    labels
        One Chinese legend label per class.
    missing, missing_label
        Colour and label of a missing value.
    """

    breaks: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    missing: str = "#bdbdbd"
    missing_label: str = "无数据"
    #: How the breaks were chosen, stated in the legend (``自然断点法（Fisher-Jenks），据图中数据``).
    method: str | None = None

    def __post_init__(self):
        if not (len(self.colors) == len(self.labels) == len(self.breaks) + 1):
            raise ValueError("Classes need one colour and one label per class (breaks + 1)")

    def color(self, value: Any) -> str:
        value = json_value(value)
        if value is None or isinstance(value, str) or (isinstance(value, float) and not math.isfinite(value)):
            return self.missing
        for bound, color in zip(self.breaks, self.colors):
            if value <= bound:
                return color
        return self.colors[-1]

    def colors_of(self, values: Iterable[Any]) -> list[str]:
        return [self.color(v) for v in values]

    def legend(self, title: str, *, shape: Literal["circle", "square", "area"] = "area",
               with_missing: bool = True) -> LegendSection:
        items = [LegendItem(label, color, shape) for label, color in zip(self.labels, self.colors)]
        if with_missing:
            items.append(LegendItem(self.missing_label, self.missing, shape))
        return LegendSection(f"{title}；分级：{self.method}" if self.method else title, tuple(items))


#: Classification schemes for :func:`classes_from_data` (mapclassify) and how a legend names them.
SCHEMES = {"fisher_jenks": "自然断点法（Fisher-Jenks）", "quantiles": "分位数法"}


def classes_from_data(values: Iterable[Any], *, colors: Sequence[str], unit: str,
                      scheme: Literal["fisher_jenks", "quantiles"] = "fisher_jenks",
                      decimals: int = 0) -> Classes:
    """Graded classes whose breaks come from the data (mapclassify), so that seven townships
    between 124 and 220 yuan a household are not one colour; the legend states the method.

    Parameters
    ----------
    values
        The numbers shown (missing values are left out of the classification).
    colors
        One colour per class, light to dark; fewer classes use colours spread over them.
    unit
        Unit in the labels (``元/户``).
    scheme
        ``fisher_jenks`` (natural breaks, exact and deterministic) or ``quantiles``.
    decimals
        Decimals in the labels.
    """
    import mapclassify

    data = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").astype(float)
    data = data[np.isfinite(data)].to_numpy()
    method = f"{SCHEMES[scheme]}，据图中数据"
    k = min(len(colors), len(np.unique(data)))
    if k < 2:
        label = f"{fmt_number(round(float(data[0]), decimals), unit, decimals=decimals)}" if len(data) else "无数据"
        return Classes(breaks=(), colors=(colors[-1],), labels=(label,), method=method)
    with warnings.catch_warnings():  # "Numba not installed": a few townships need no compiler
        warnings.simplefilter("ignore", UserWarning)
        classifier = (mapclassify.FisherJenks(data, k=k) if scheme == "fisher_jenks"
                      else mapclassify.Quantiles(data, k=k))
    bins = [float(b) for b in classifier.bins]
    k = len(bins)
    picked = [colors[round(i * (len(colors) - 1) / (k - 1))] for i in range(k)]
    lows = [float(data.min()), *bins[:-1]]

    def text(value: float) -> str:
        return f"{value:,.{decimals}f}"

    labels = [f"{text(lo)}–{text(hi)} {unit}" if i == 0 else f"{text(lo)}（不含）–{text(hi)} {unit}"
              for i, (lo, hi) in enumerate(zip(lows, bins))]
    return Classes(breaks=tuple(bins[:-1]), colors=tuple(picked), labels=tuple(labels), method=method)


def refuse_personal_fields(frame: pd.DataFrame | None, name: str, *, allowed: Iterable[str] = (),
                           hint: str = "read them with include_pii=False") -> None:
    """Raise when a households frame carries personal columns (the registry's ``pii``
    columns) a map must not show; ``allowed`` lists those this viewer may see.

    Raises
    ------
    ValueError
        Naming the frame and the columns.
    """
    from geo.layers import get_layer

    if frame is None:
        return
    leaked = [c for c in get_layer("households").pii_columns if c in frame.columns and c not in set(allowed)]
    if leaked:
        raise ValueError(f"{name} frames for maps must not carry personal fields {leaked}; {hint}")


def require_columns(frame: pd.DataFrame, name: str, columns: Iterable[str]) -> None:
    """Raise when a builder's input frame lacks columns.

    Raises
    ------
    ValidationError
        Naming the frame and the missing columns.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"the {name} frame lacks column(s) {', '.join(missing)}; pass the registry's "
            f"{name} layer (geo.storage.read_layer)")


def within_areas(frame: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The rows of ``frame`` touching any of ``areas`` (all rows when there are no areas).

    An analysis reads roads and facilities a margin beyond a township (the nearest road may
    cross the border); the map draws only those inside the townships it shows.
    """
    if areas is None or areas.empty or frame.empty:
        return frame
    polygons = areas.geometry[areas.geometry.notna() & ~areas.geometry.is_empty]
    if polygons.empty:
        return frame
    return frame[frame.geometry.intersects(polygons.union_all())]


def yes_no(value: Any, yes: str = "是", no: str = "否", unknown: str | None = "未知") -> str | None:
    """A nullable boolean as Chinese text."""
    value = json_value(value)
    if value is None:
        return unknown
    return yes if bool(value) else no


def title_html(title: str, subtitle: str | None = None) -> str:
    e = html.escape
    sub = f"<p>{e(subtitle)}</p>" if subtitle else ""
    return f"<h1>{e(title)}</h1>{sub}"


def finish_map(
    m: folium.Map,
    *,
    title: str,
    subtitle: str | None,
    legend: Legend,
    search: Sequence[str] = (),
    bounds_from: Sequence[gpd.GeoDataFrame | None] = (),
) -> folium.Map:
    """Add title, legend, search box and layer control; fit the view to the data."""
    m.add_child(Box(title_html(title, subtitle), position="topright", class_name="atlas-title"))
    tiled_layers = list(tile_overlays_of(m).values())
    if tiled_layers:
        legend.sections.append(LegendSection("矢量瓦片图层（数量大，按需加载）", tuple(
            LegendItem(t.note(), "#dddddd", "square") for t in tiled_layers) + (
            LegendItem("矢量瓦片按 WGS 84 绘制，高德底图上未作 GCJ-02 偏移", "#dddddd", "square"),)))
    if search:
        m.add_child(SearchBox(search, placeholder="搜索村名或帮扶单位" if "units" in search else "搜索村名"))
    m.add_child(Box(legend.html(), position="bottomright", class_name="atlas-legend"))
    m.atlas_legend = legend  # type: ignore[attr-defined]
    m.atlas_subtitle = subtitle  # type: ignore[attr-defined]  # the print sheet repeats it
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    bounds = _bounds(bounds_from)
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20))
    return m


def _bounds(frames: Sequence[gpd.GeoDataFrame | None]) -> tuple[float, float, float, float] | None:
    boxes = []
    for frame in frames:
        if frame is None or isinstance(frame, TiledLayer) or frame.empty:
            continue
        geoms = frame.geometry.dropna()
        geoms = geoms[~geoms.is_empty]
        if len(geoms):
            boxes.append(geoms.total_bounds)
    if not boxes:
        return None
    arr = np.array(boxes)
    return float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max())


def overlays_of(m: folium.Map) -> dict[str, Overlay]:
    """The map's overlays by key (for tests and the benchmark)."""
    return {child.key: child for child in m._children.values() if isinstance(child, Overlay)}


def render_map(m: folium.Map, *, assets: AssetMode = "served", page_title: str | None = None) -> str:
    """The map as one HTML page whose every script and stylesheet comes from the product.

    Parameters
    ----------
    assets
        ``served``: link the API's asset route; ``embedded``: inline everything so the file
        works offline when emailed or copied.
    """
    figure = m.get_root()
    if page_title:
        figure.title = page_title
    return localize_html(figure.render(), mode=assets)


# ------------------------------------------------------------------ shared helpers


def labels(values: Iterable[Any], enum_cls) -> list[str | None]:
    """Chinese labels of enum values (unknown values kept as given, missing as None)."""
    mapping = enum_cls.labels()
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        else:
            out.append(mapping.get(str(v), str(v)))
    return out


def fmt_number(value: Any, unit: str = "", *, decimals: int = 1) -> str | None:
    """``1.5 万元``; None for a missing value."""
    value = json_value(value)
    if value is None:
        return None
    if isinstance(value, (int, float)):
        text = f"{value:,.{decimals}f}" if isinstance(value, float) else f"{value:,}"
        if isinstance(value, float) and "." in text:  # 1.50 -> 1.5, never 100 -> 1
            text = text.rstrip("0").rstrip(".")
        return f"{text} {unit}".strip()
    return f"{value} {unit}".strip()
