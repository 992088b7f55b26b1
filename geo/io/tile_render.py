"""PNG map tiles (256 px, Web Mercator) drawn from an offline package's layers with Chinese
labels, for apps that read only raster MBTiles. Pure: frames in, PNG bytes out.

Drawn with Pillow (lines and areas at twice the size, then reduced, for smooth edges; text
anti-aliased in WenQuanYi Micro Hei, Debian's ``fonts-wqy-microhei``). Labels are placed once
per zoom over the whole package, highest rank first, and a label that would overlap one
already placed is left out; every tile then draws the placed labels that reach into it, so a
name cut by a tile edge continues on the next tile.

The layers are those of :func:`geo.services.field_maps.build_package`: ``townships``
(areas), ``township_names``, ``roads`` (``surface``: hardened, gravel, earth), ``water``,
``villages``, ``settlements``, ``route`` (``team``) and ``stops`` (``kind``, ``team``,
``stop``, ``label``, ``name``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import ValidationError
from geo.tiles import ORIGIN_SHIFT_M, tile_bounds_m

TILE_PX = 256
#: Lines and areas are drawn this many times larger, then reduced (anti-aliasing).
SUPERSAMPLE = 2
FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)
BACKGROUND = (243, 241, 234)  # the web maps' blank offline base (maps/static/atlas.css)

SURFACE_COLORS = {"hardened": (52, 73, 94), "gravel": (160, 82, 45), "earth": (200, 161, 101)}
TEAM_COLORS = ((228, 26, 28), (55, 126, 184), (77, 175, 74), (152, 78, 163), (255, 127, 0), (166, 86, 40),
               (247, 129, 191), (102, 102, 102))
TOWNSHIP_LINE = (106, 61, 154)
WATER_COLOR = (31, 120, 180)
VILLAGE_COLOR = (90, 90, 90)
SETTLEMENT_COLOR = (140, 140, 140)
HALO = (255, 255, 255)


Tile = tuple[int, int, int]


@dataclass(frozen=True)
class Label:
    """A name placed on the map at one zoom: its text, where (global pixels of that zoom) and
    how drawn."""

    text: str
    box: tuple[float, float, float, float]  # left, top, right, bottom [px]
    size: int
    color: tuple[int, int, int]


@lru_cache(maxsize=None)
def _font(size: int):
    from PIL import ImageFont

    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    raise ValidationError("raster tiles need the Chinese font WenQuanYi Micro Hei: install the Debian package "
                          "fonts-wqy-microhei (apt-get install fonts-wqy-microhei), or export vector tiles")


def _px_per_m(z: int) -> float:
    return TILE_PX * 2 ** z / (2 * ORIGIN_SHIFT_M)


def _global_px(x_m: np.ndarray, y_m: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    k = _px_per_m(z)
    return (np.asarray(x_m) + ORIGIN_SHIFT_M) * k, (ORIGIN_SHIFT_M - np.asarray(y_m)) * k


class _Layer:
    """A layer in EPSG:3857 with its index; areas kept as their outlines (a clipped area's
    outline would otherwise gain the clip's edges)."""

    def __init__(self, frame: gpd.GeoDataFrame | None):
        if frame is None or frame.empty:
            frame = gpd.GeoDataFrame({"id": []}, geometry=[], crs=4326)
        geoms = frame.geometry
        frame = frame[(geoms.notna() & ~geoms.is_empty).to_numpy()].reset_index(drop=True)
        self.frame = frame
        self.geoms = frame.geometry.to_crs(3857).array.to_numpy()
        polygonal = np.isin(shapely.get_type_id(self.geoms), (3, 6))
        self.geoms = np.where(polygonal, shapely.boundary(self.geoms), self.geoms)
        self.tree = shapely.STRtree(self.geoms)

    def value(self, column: str, i: int):
        return self.frame[column].iat[i] if column in self.frame else None

    def in_tile(self, z: int, row: int, col: int, pad_px: float) -> tuple[np.ndarray, np.ndarray]:
        """Indices and geometries meeting the tile and ``pad_px`` around it, clipped, in the
        tile's drawing pixels."""
        minx, miny, maxx, maxy = tile_bounds_m(z, row, col)
        pad = pad_px / _px_per_m(z)
        hits = np.sort(self.tree.query(shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)))
        if not len(hits):
            return hits, hits
        clipped = shapely.clip_by_rect(self.geoms[hits], minx - pad, miny - pad, maxx + pad, maxy + pad)
        scale = SUPERSAMPLE * TILE_PX / (maxx - minx)
        clipped = shapely.transform(clipped, lambda xy: np.column_stack(((xy[:, 0] - minx) * scale,
                                                                         (maxy - xy[:, 1]) * scale)))
        keep = ~shapely.is_empty(clipped)
        return hits[keep], clipped[keep]


def render_tiles(layers: Mapping[str, gpd.GeoDataFrame], tiles: Iterable[Tile]) -> Iterator[tuple[Tile, bytes]]:
    """Every tile as a 256-pixel PNG, in the order given.

    Raises
    ------
    ValidationError
        The Chinese font is not installed.
    """
    _font(12)  # fail before any drawing when the font is missing
    indexed = {name: _Layer(layers.get(name)) for name in
               ("townships", "township_names", "roads", "water", "villages", "settlements", "route", "stops")}
    placed: dict[int, tuple[list[Label], np.ndarray]] = {}
    for tile in tiles:
        z = tile[0]
        if z not in placed:
            labels = place_labels(indexed, z)
            boxes = np.array([lab.box for lab in labels]).reshape(-1, 4)
            placed[z] = (labels, boxes)
        yield tile, _render(indexed, tile, *placed[z])


# ------------------------------------------------------------------ labels


def _candidates(indexed: Mapping[str, _Layer], z: int) -> list[tuple[float, str, float, float, str, int, tuple]]:
    """``(rank, text, x, y, placement, size, colour)`` of every name shown at zoom ``z``."""
    out = []

    def points(layer: _Layer, column: str, rank, size, color, placement, *, where=None, text=None):
        if not len(layer.geoms):
            return
        anchors = shapely.point_on_surface(layer.geoms) if placement == "center" else layer.geoms
        xs, ys = _global_px(shapely.get_x(anchors), shapely.get_y(anchors), z)
        for i in range(len(layer.geoms)):
            if where is not None and not where(i):
                continue
            value = text(i) if text is not None else layer.value(column, i)
            if value is None or value != value or str(value).strip() == "":
                continue
            out.append((rank(i) if callable(rank) else rank, str(value), float(xs[i]), float(ys[i]), placement,
                        size, color))

    stops = indexed["stops"]
    points(stops, "label", 100, 13, (0, 0, 0), "right", where=lambda i: stops.value("kind", i) == "village",
           text=lambda i: f"{stops.value('label', i)} {stops.value('name', i)}")
    if z >= 15:
        points(stops, "label", 50, 11, (60, 60, 60), "right", where=lambda i: stops.value("kind", i) == "household")
    points(indexed["township_names"], "name", 90, 15 if z >= 12 else 14, TOWNSHIP_LINE, "center")
    points(indexed["villages"], "name", 70, 13 if z >= 12 else 12, (34, 34, 34), "right")
    if z >= 13:
        points(indexed["settlements"], "name", 40, 11, (70, 70, 70), "right")
    if z >= 14:
        roads = indexed["roads"]
        if len(roads.geoms):
            middles = shapely.line_interpolate_point(shapely.line_merge(roads.geoms), 0.5, normalized=True)
            xs, ys = _global_px(shapely.get_x(middles), shapely.get_y(middles), z)
            for i in range(len(roads.geoms)):
                name = roads.value("name", i)
                if name and name == name and not shapely.is_empty(middles[i]):
                    out.append((30, str(name), float(xs[i]), float(ys[i]), "center", 11, (122, 75, 0)))
    if z >= 15:
        points(indexed["water"], "name", 20, 10, WATER_COLOR, "right")
    return out


def place_labels(indexed: Mapping[str, _Layer], z: int) -> list[Label]:
    """The names drawn at zoom ``z``: highest rank first, each kept only where it overlaps no
    name kept before it (2 px apart)."""
    kept: list[Label] = []
    boxes = np.empty((0, 4))
    for rank, text, x, y, placement, size, color in sorted(_candidates(indexed, z), key=lambda c: -c[0]):
        left, top, right, bottom = _font(size).getbbox(text)
        w, h = right - left, bottom - top
        if placement == "center":
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        else:
            box = (x + 7, y - h / 2, x + 7 + w, y + h / 2)
        if len(boxes) and np.any((boxes[:, 0] < box[2] + 2) & (boxes[:, 2] + 2 > box[0])
                                 & (boxes[:, 1] < box[3] + 2) & (boxes[:, 3] + 2 > box[1])):
            continue
        kept.append(Label(text, box, size, color))
        boxes = np.vstack([boxes, box])
    return kept


# ------------------------------------------------------------------ drawing


def _team_color(team) -> tuple[int, int, int]:
    try:
        return TEAM_COLORS[(int(team) - 1) % len(TEAM_COLORS)]
    except (TypeError, ValueError):
        return TEAM_COLORS[-1]


def _lines(draw, geom, color, width: float) -> None:
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type in ("LineString", "LinearRing"):
            coords = list(part.coords)
            if len(coords) > 1:
                draw.line(coords, fill=color, width=max(1, round(width * SUPERSAMPLE)), joint="curve")
        elif part.geom_type == "MultiLineString" or part.geom_type == "GeometryCollection":
            _lines(draw, part, color, width)


def _dot(draw, geom, radius: float, fill, outline=HALO, width: float = 1.0) -> None:
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type != "Point":
            _lines(draw, part, fill, 2.0)
            continue
        r = radius * SUPERSAMPLE
        draw.ellipse((part.x - r, part.y - r, part.x + r, part.y + r), fill=fill, outline=outline,
                     width=max(1, round(width * SUPERSAMPLE)))


def _render(indexed: Mapping[str, _Layer], tile: Tile, labels: list[Label], boxes: np.ndarray) -> bytes:
    from PIL import Image, ImageDraw

    z, row, col = tile
    pad = 12.0
    left, top = col * TILE_PX, row * TILE_PX
    near = np.flatnonzero((boxes[:, 0] < left + TILE_PX) & (boxes[:, 2] > left)
                          & (boxes[:, 1] < top + TILE_PX) & (boxes[:, 3] > top))
    if not len(near) and not any(_meets(layer, z, row, col, pad) for layer in indexed.values()):
        return _blank_png()
    size = TILE_PX * SUPERSAMPLE
    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)

    hits, geoms = indexed["townships"].in_tile(z, row, col, pad)
    for g in geoms:
        _lines(draw, g, TOWNSHIP_LINE, 2.0 if z < 14 else 2.5)
    roads = indexed["roads"]
    hits, geoms = roads.in_tile(z, row, col, pad)
    width = 1.0 + max(0, z - 11) * 0.6
    order = sorted(range(len(hits)), key=lambda k: roads.value("surface", hits[k]) == "hardened")
    for k in order:
        surface = roads.value("surface", hits[k])
        _lines(draw, geoms[k], SURFACE_COLORS.get(surface, (120, 120, 120)),
               width * (1.3 if surface == "hardened" else 1.0))
    layer = indexed["route"]
    hits, geoms = layer.in_tile(z, row, col, pad)
    for i, g in zip(hits, geoms):
        _lines(draw, g, _team_color(layer.value("team", i)), 2.0 if z < 14 else 3.0)
    if z >= 12:
        hits, geoms = indexed["water"].in_tile(z, row, col, pad)
        for g in geoms:
            _dot(draw, g, 3.0 if z < 15 else 4.5, WATER_COLOR)
        hits, geoms = indexed["settlements"].in_tile(z, row, col, pad)
        for g in geoms:
            _dot(draw, g, 2.5 if z < 15 else 3.5, SETTLEMENT_COLOR)
    hits, geoms = indexed["villages"].in_tile(z, row, col, pad)
    for g in geoms:
        _dot(draw, g, 3.5 if z < 13 else 5.0, VILLAGE_COLOR)
    stops = indexed["stops"]
    hits, geoms = stops.in_tile(z, row, col, pad)
    for i, g in zip(hits, geoms):
        village = stops.value("kind", i) == "village"
        if village or z >= 13:
            _dot(draw, g, (6.5 if village else 3.5) + (1.0 if z >= 15 else 0.0), _team_color(stops.value("team", i)),
                 width=1.5)
    image = image.reduce(SUPERSAMPLE)  # a box filter: as smooth here as Lanczos, several times faster

    draw = ImageDraw.Draw(image)
    for i in near:
        label = labels[i]
        font = _font(label.size)
        x0, y0 = font.getbbox(label.text)[:2]
        draw.text((label.box[0] - left - x0, label.box[1] - top - y0), label.text, font=font,
                  fill=label.color, stroke_width=2, stroke_fill=HALO)
    return _png(image)


def _meets(layer: _Layer, z: int, row: int, col: int, pad_px: float) -> bool:
    minx, miny, maxx, maxy = tile_bounds_m(z, row, col)
    pad = pad_px / _px_per_m(z)
    return len(layer.tree.query(shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad), predicate="intersects")) > 0


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


@lru_cache(maxsize=1)
def _blank_png() -> bytes:
    """The tile with nothing on it (drawn once: most of the closest zooms' tiles)."""
    from PIL import Image

    return _png(Image.new("RGB", (TILE_PX, TILE_PX), BACKGROUND))
