"""Demo geography: township areas, village and settlement points, and a road network.

Everything here is generated deterministically inside the district's real outline; nothing
is a surveyed position. Work happens in UTM zone 48N (EPSG:32648, metres) and the results
are returned in EPSG:4326.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point
import shapely.ops
from shapely.ops import substring

UTM = "EPSG:32648"
_TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
_TO_WGS = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)

#: Approximate township government seats [lon, lat]. Placed by hand near where each town
#: lies; they are not surveyed coordinates (rows carry source 'demo:approximate').
TOWNSHIP_SEATS = {
    "常乐镇": (105.30, 37.33),
    "香山乡": (105.02, 37.08),
    "兴仁镇": (105.30, 36.85),
    "迎水桥镇": (105.08, 37.49),
    "永康镇": (105.13, 37.42),
    "东园镇": (105.24, 37.54),
    "宣和镇": (105.38, 37.43),
}
#: Approximate centre of Zhongwei city (沙坡头区 government), hub of the county roads.
CITY_CENTRE = (105.19, 37.51)
#: Yinchuan, where the autonomous-region units have their offices (approximate).
YINCHUAN = (106.23, 38.49)


def _reproject(transformer: Transformer, geom):
    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, apply)


def to_utm(geom):
    return _reproject(_TO_UTM, geom)


def to_wgs(geom):
    return _reproject(_TO_WGS, geom)


def utm_point(lonlat: tuple[float, float]) -> Point:
    return to_utm(Point(lonlat))


def township_areas(outline_utm: MultiPolygon, seats_utm: dict[str, Point]) -> dict[str, MultiPolygon]:
    """A Voronoi tessellation of the seats clipped to the outline (one area per township)."""
    names = list(seats_utm)
    points = shapely.multipoints([seats_utm[n] for n in names])
    envelope = outline_utm.envelope.buffer(50_000)
    cells = shapely.voronoi_polygons(points, extend_to=envelope, ordered=True)
    areas = {}
    for name, cell in zip(names, cells.geoms):
        clipped = cell.intersection(outline_utm)
        if clipped.geom_type == "Polygon":
            clipped = MultiPolygon([clipped])
        elif clipped.geom_type == "GeometryCollection":
            clipped = MultiPolygon([g for g in clipped.geoms if g.geom_type == "Polygon"])
        areas[name] = clipped
    return areas


def scatter_points(
    rng: np.random.Generator,
    area,
    centre: Point,
    count: int,
    *,
    min_radius_m: float,
    max_radius_m: float,
    min_spacing_m: float,
    avoid: list[Point] | None = None,
) -> list[Point]:
    """``count`` points inside ``area`` around ``centre``, at least ``min_spacing_m`` apart."""
    placed: list[Point] = []
    others = list(avoid or [])
    inner = area.buffer(-300) if area.area > 5e6 else area
    radius = max_radius_m
    attempts = 0
    while len(placed) < count:
        attempts += 1
        if attempts % 400 == 0:
            radius *= 1.25  # widen the search when the area near the centre is full
            min_spacing_m *= 0.9
        angle = rng.uniform(0, 2 * np.pi)
        r = np.sqrt(rng.uniform((min_radius_m / radius) ** 2, 1.0)) * radius
        candidate = Point(centre.x + r * np.cos(angle), centre.y + r * np.sin(angle))
        if not inner.contains(candidate):
            continue
        if any(candidate.distance(p) < min_spacing_m for p in placed + others):
            continue
        placed.append(candidate)
    return placed


def wiggle_line(
    rng: np.random.Generator, a: Point, b: Point, *, bends: int = 3, amplitude: float = 0.08, within=None,
    _depth: int = 0,
) -> LineString:
    """A road-like line from a to b: straight with a few perpendicular bends, kept inside
    ``within`` when given (smaller bends are tried before giving up and going straight)."""
    if within is not None and _depth < 4:
        for scale in (1.0, 0.5, 0.25):
            line = wiggle_line(rng, a, b, bends=bends, amplitude=amplitude * scale)
            if within.contains(line):
                return line
        # a concave outline: go round through the interior point nearest the midpoint
        interior = within.buffer(-1_500)
        midpoint = LineString([a, b]).interpolate(0.5, normalized=True)
        via = shapely.ops.nearest_points(interior, midpoint)[0]
        legs = {"bends": max(1, bends // 2), "amplitude": amplitude / 2, "within": within, "_depth": _depth + 1}
        first = wiggle_line(rng, a, via, **legs)
        second = wiggle_line(rng, via, b, **legs)
        return LineString(list(first.coords) + list(second.coords)[1:])
    length = a.distance(b)
    if length == 0:
        return LineString([a, b])
    dx, dy = (b.x - a.x) / length, (b.y - a.y) / length
    coords = [(a.x, a.y)]
    for i in range(1, bends + 1):
        t = i / (bends + 1)
        offset = rng.normal(0, amplitude * length / (bends + 1))
        coords.append((a.x + dx * length * t - dy * offset, a.y + dy * length * t + dx * offset))
    coords.append((b.x, b.y))
    return LineString(coords)


def minimum_spanning_edges(points: list[Point]) -> list[tuple[int, int]]:
    """Edges of the Euclidean minimum spanning tree over ``points`` (Prim's algorithm)."""
    n = len(points)
    if n < 2:
        return []
    xy = np.array([(p.x, p.y) for p in points])
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    best = np.linalg.norm(xy - xy[0], axis=1)
    parent = np.zeros(n, dtype=int)
    edges = []
    for _ in range(n - 1):
        candidates = np.where(~in_tree, best, np.inf)
        j = int(np.argmin(candidates))
        edges.append((int(parent[j]), j))
        in_tree[j] = True
        distance = np.linalg.norm(xy - xy[j], axis=1)
        closer = distance < best
        best = np.where(closer, distance, best)
        parent = np.where(closer, j, parent)
    return edges


def cut_gap(line: LineString, gap_m: float, at: float = 0.5) -> tuple[LineString, LineString]:
    """Split a line leaving ``gap_m`` metres missing around the fraction ``at`` of its length."""
    length = line.length
    start = max(1.0, length * at - gap_m / 2)
    end = min(length - 1.0, length * at + gap_m / 2)
    return (
        substring(line, 0, start),
        substring(line, end, length),
    )


@dataclass
class RoadDraft:
    """A road before it gets a code: geometry in UTM and its attributes."""

    name: str
    road_class: str
    surface: str
    width_m: float
    geom: LineString
    note: str = ""
    extra: dict = field(default_factory=dict)
