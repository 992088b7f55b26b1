"""A road network built from road lines: nodes, edges, components and shortest paths.

Road data from county offices is drawn, not topologically built: lines meet where a clerk
clicked, endpoints miss each other by a few metres, and a side road ends on the middle of a
main road. :func:`build_network` therefore

1. projects the lines to a metric CRS,
2. splits every line where another line's endpoint lies on it within the snap tolerance
   (T-junctions) and, optionally, where two lines cross,
3. merges endpoints closer than the snap tolerance into one node,

and keeps every piece as an edge with its length, road attributes and a travel time. The
tolerance used is part of the result, so reports can say it.

Shortest paths use SciPy's sparse-graph Dijkstra. Everything here is a pure function of the
input frame (no global state), so it can run partition by partition.

Growth: :meth:`RoadNetwork.distances_from` runs Dijkstra on the part of the network around the
origin (a disc of nodes taken from a KD-tree, widened until the answer is proven exact), so
one call costs what its neighbourhood costs, not what the whole network costs; the component
of every edge and the edges of every component are computed once per network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import LineString, Point
import shapely.ops
from shapely.ops import substring

from geo.crs import metric_crs_for
from geo.errors import ValidationError

# scipy (sparse graphs, k-d trees: ~0.35 s to import) is imported in the methods that use it,
# so that the API server and the commands that never route pay nothing for it.
if TYPE_CHECKING:
    from scipy.spatial import cKDTree

#: Travel speeds by surface [km/h] for routing costs; indicative rural speeds, configurable.
DEFAULT_SPEED_KPH = {"hardened": 40.0, "gravel": 25.0, "earth": 15.0}
#: Endpoints closer than this are one node [m].
DEFAULT_SNAP_TOLERANCE_M = 10.0


@dataclass(frozen=True)
class LocatedPoints:
    """Where points meet the network: the nearest edge, how far off it they are, and how far
    along that edge (from its ``u`` end) the nearest point lies."""

    edge: np.ndarray  # edge index, -1 when farther than the limit
    distance_m: np.ndarray  # point to its nearest edge
    along_m: np.ndarray  # position of the nearest point along the edge, from u

    @property
    def on_network(self) -> np.ndarray:
        return self.edge >= 0

    def take(self, rows) -> LocatedPoints:
        """The located points at positions ``rows``."""
        return LocatedPoints(edge=self.edge[rows], distance_m=self.distance_m[rows], along_m=self.along_m[rows])


@dataclass(frozen=True)
class NetworkPath:
    """A path over the network: its line (network CRS), length [m], travel time [s] and the
    part of the length on roads [m] (the rest is the straight access legs)."""

    geometry: LineString
    length_m: float
    time_s: float
    road_m: float


@dataclass(frozen=True)
class RoadNetwork:
    """A routable road network in a metric CRS.

    Attributes
    ----------
    edges
        One row per edge: ``u``, ``v`` (node indices), ``length_m``, ``time_s``, ``road_index``
        (the row label of the source road), the road attributes kept, and the geometry.
    nodes
        Node coordinates, shape (n, 2), in ``crs``.
    crs
        The metric CRS of ``edges`` and ``nodes``.
    snap_tolerance_m
        Endpoints within this distance were merged [m].
    """

    edges: gpd.GeoDataFrame
    nodes: np.ndarray
    crs: CRS
    snap_tolerance_m: float
    _tree: shapely.STRtree = field(repr=False, compare=False, default=None)
    # sparse matrices and component labels, computed once per network (edges are not changed)
    _cache: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def node_count(self) -> int:
        return len(self.nodes)

    def component_labels(self) -> np.ndarray:
        """Connected-component label of every node."""
        return self._labels().copy()

    def _labels(self) -> np.ndarray:
        from scipy.sparse.csgraph import connected_components

        if "components" not in self._cache:
            _, self._cache["components"] = connected_components(self._matrix("length_m"), directed=False)
        return self._cache["components"]

    def edge_components(self) -> np.ndarray:
        """Connected-component label of every edge (the label of its ``u`` node)."""
        if "edge_components" not in self._cache:
            self._cache["edge_components"] = self._labels()[self.edges["u"].to_numpy()]
        return self._cache["edge_components"].copy()

    def component_edges(self, component: int) -> np.ndarray:
        """Positions of the edges of one component, in edge order (empty for an unknown label)."""
        if "component_edges" not in self._cache:
            labels = self._labels()[self.edges["u"].to_numpy()]
            order = np.argsort(labels, kind="stable")
            bounds = np.flatnonzero(np.diff(labels[order])) + 1
            groups = np.split(order, bounds)
            self._cache["component_edges"] = {int(labels[g[0]]): g for g in groups if len(g)}
        return self._cache["component_edges"].get(int(component), np.empty(0, dtype=np.int64))

    def locate(self, points: gpd.GeoSeries | gpd.GeoDataFrame, *, max_distance_m: float = np.inf
               ) -> LocatedPoints:
        """The nearest edge of each point (points in any CRS; projected to the network's).

        Points farther than ``max_distance_m`` from every edge get edge -1.
        """
        geoms = _geoseries(points)
        if geoms.crs is None or not geoms.crs.equals(self.crs):
            geoms = geoms.to_crs(self.crs)  # raises on a missing CRS, as before
        n = len(geoms)
        edge = np.full(n, -1, dtype=np.int64)
        distance = np.full(n, np.inf)
        along = np.full(n, np.nan)
        valid = ~(geoms.isna() | geoms.is_empty).to_numpy()
        if valid.any() and len(self.edges):
            # shapely wants max_distance > 0; a tolerance of 0 keeps points on an edge (to 1 nm).
            kwargs = {} if np.isinf(max_distance_m) else {"max_distance": max(float(max_distance_m), 1e-9)}
            input_idx, tree_idx = self._tree.query_nearest(
                geoms.to_numpy()[valid], all_matches=False, **kwargs
            )
            rows = np.flatnonzero(valid)[input_idx]
            lines = self.edges.geometry.to_numpy()[tree_idx]
            pts = geoms.to_numpy()[rows]
            edge[rows] = tree_idx
            distance[rows] = shapely.distance(pts, lines)
            along[rows] = shapely.line_locate_point(lines, pts)
        return LocatedPoints(edge=edge, distance_m=distance, along_m=along)

    def distance_matrix(
        self,
        points: gpd.GeoSeries | gpd.GeoDataFrame,
        *,
        weight: str = "length_m",
        max_access_m: float = np.inf,
        include_access: bool = True,
    ) -> np.ndarray:
        """Shortest network distances (or times) between every pair of points.

        Each point enters the network at the nearest point of its nearest edge. With
        ``include_access`` the straight legs from the points to the network are added (as
        length, or as time at the slowest surface speed when ``weight='time_s'``).
        Unreachable pairs, and points farther than ``max_access_m`` from every road, are inf.

        Parameters
        ----------
        points
            K points.
        weight
            ``length_m`` [m] or ``time_s`` [s].
        """
        from scipy.sparse.csgraph import dijkstra

        if weight not in ("length_m", "time_s"):
            raise ValidationError(f"weight must be 'length_m' or 'time_s', not {weight!r}")
        located = self.locate(points, max_distance_m=max_access_m)
        k = len(located.edge)
        result = np.full((k, k), np.inf)
        np.fill_diagonal(result, 0.0)
        on = np.flatnonzero(located.on_network)
        if len(on) == 0:
            return result
        e = self.edges
        u = e["u"].to_numpy()[located.edge[on]]
        v = e["v"].to_numpy()[located.edge[on]]
        length = e["length_m"].to_numpy()[located.edge[on]]
        scale = (e[weight].to_numpy() / np.maximum(e["length_m"].to_numpy(), 1e-9))[located.edge[on]]
        to_u = located.along_m[on] * scale  # cost from the entry point to u
        to_v = (length - located.along_m[on]) * scale
        access = np.zeros(len(on))
        if include_access:
            access = located.distance_m[on] * (1.0 if weight == "length_m" else 3.6 / min(DEFAULT_SPEED_KPH.values()))
        sources = np.unique(np.concatenate([u, v]))
        table = dijkstra(self._matrix(weight), directed=False, indices=sources)
        row = {node: i for i, node in enumerate(sources)}
        for a_pos, a in enumerate(on):
            du, dv = table[row[u[a_pos]]], table[row[v[a_pos]]]
            for b_pos, b in enumerate(on):
                if a == b:
                    continue
                best = min(
                    to_u[a_pos] + du[u[b_pos]] + to_u[b_pos],
                    to_u[a_pos] + du[v[b_pos]] + to_v[b_pos],
                    to_v[a_pos] + dv[u[b_pos]] + to_u[b_pos],
                    to_v[a_pos] + dv[v[b_pos]] + to_v[b_pos],
                )
                if located.edge[a] == located.edge[b]:
                    best = min(best, abs(located.along_m[a] - located.along_m[b]) * scale[a_pos])
                result[a, b] = best + access[a_pos] + access[b_pos]
        return result

    def path(
        self,
        a: Point,
        b: Point,
        *,
        crs: CRS | str | int = 4326,
        weight: str = "length_m",
        max_access_m: float = np.inf,
    ) -> NetworkPath | None:
        """The cheapest way from ``a`` to ``b`` over the network, as a line.

        The line runs from ``a`` straight to the nearest point of its nearest edge, along the
        edges, and straight on to ``b`` (the same entry rule as :meth:`distance_matrix`).

        Parameters
        ----------
        a, b
            Points in ``crs`` (default EPSG:4326).
        weight
            ``length_m`` or ``time_s``: what the path minimises.
        max_access_m
            Points farther than this from every road give ``None`` [m].

        Returns
        -------
        NetworkPath or None
            The geometry in the network's CRS, its length [m] and its travel time [s] (access
            legs at the slowest surface speed); ``None`` when no road path joins them.
        """
        from scipy.sparse.csgraph import dijkstra

        if weight not in ("length_m", "time_s"):
            raise ValidationError(f"weight must be 'length_m' or 'time_s', not {weight!r}")
        pts = gpd.GeoSeries([a, b], crs=crs)
        located = self.locate(pts, max_distance_m=max_access_m)
        if not located.on_network.all():
            return None
        pa, pb = pts.to_crs(self.crs).to_numpy()
        e = self.edges
        ea, eb = (int(x) for x in located.edge)
        options = []  # (cost, node path or None, exit of a: node or None, entry of b)
        if ea == eb:
            options.append((abs(located.along_m[0] - located.along_m[1]) * self._scale(ea, weight), None, None, None))
        sources = [int(e.at[ea, "u"]), int(e.at[ea, "v"])]
        costs, predecessors = dijkstra(self._matrix(weight), directed=False, indices=sources,
                                       return_predecessors=True)
        for si, start in enumerate(sources):
            to_start = self._along_cost(ea, located.along_m[0], start, weight)
            for end in (int(e.at[eb, "u"]), int(e.at[eb, "v"])):
                middle = costs[si, end]
                if np.isinf(middle):
                    continue
                total = to_start + middle + self._along_cost(eb, located.along_m[1], end, weight)
                options.append((total, predecessors[si], start, end))
        if not options:
            return None
        _, pred, start, end = min(options, key=lambda o: o[0])
        pieces: list[LineString] = [LineString([pa, shapely.line_interpolate_point(
            e.geometry.iat[ea], located.along_m[0])])]
        if pred is None:
            pieces.append(substring(e.geometry.iat[ea], located.along_m[0], located.along_m[1]))
        else:
            pieces.append(self._piece(ea, located.along_m[0], start))
            nodes = [end]
            while nodes[-1] != start:
                nodes.append(int(pred[nodes[-1]]))
            nodes.reverse()
            for n1, n2 in zip(nodes[:-1], nodes[1:]):
                pieces.append(self._edge_between(n1, n2, weight))
            pieces.append(self._piece(eb, located.along_m[1], end).reverse())
        pieces.append(LineString([shapely.line_interpolate_point(e.geometry.iat[eb], located.along_m[1]), pb]))
        coords = []
        for piece in pieces:
            part = shapely.get_coordinates(piece)
            if len(part) == 0:
                continue
            if coords and np.allclose(coords[-1], part[0]):
                part = part[1:]
            coords.extend(part.tolist())
        if len(coords) < 2:
            coords = [list(pa), list(pb)]
        line = LineString(coords)
        length = float(sum(p.length for p in pieces))
        access = (float(shapely.distance(pa, e.geometry.iat[ea])) + float(shapely.distance(pb, e.geometry.iat[eb])))
        on_roads = length - access
        time = self._time_along(pieces[1:-1]) if pred is not None or ea == eb else 0.0
        time_s = time + access * 3.6 / min(DEFAULT_SPEED_KPH.values())
        return NetworkPath(geometry=line, length_m=length, time_s=float(time_s), road_m=float(on_roads))

    def _scale(self, edge: int, weight: str) -> float:
        row = self.edges.iloc[edge]
        return float(row[weight] / max(row["length_m"], 1e-9))

    def _along_cost(self, edge: int, along: float, node: int, weight: str) -> float:
        length = float(self.edges["length_m"].iat[edge])
        distance = along if int(self.edges["u"].iat[edge]) == node else length - along
        return distance * self._scale(edge, weight)

    def _piece(self, edge: int, along: float, node: int) -> LineString:
        """The part of ``edge`` from the point ``along`` to its end at ``node``."""
        geom = self.edges.geometry.iat[edge]
        if int(self.edges["u"].iat[edge]) == node:
            return substring(geom, along, 0.0)
        return substring(geom, along, geom.length)

    def _edge_between(self, n1: int, n2: int, weight: str) -> LineString:
        e = self.edges
        mask = ((e["u"] == n1) & (e["v"] == n2)) | ((e["u"] == n2) & (e["v"] == n1))
        best = e[mask][weight].idxmin()
        geom = e.geometry.at[best]
        return geom if int(e.at[best, "u"]) == n1 else geom.reverse()

    def _time_along(self, pieces: list[LineString]) -> float:
        """Travel time of pieces lying on edges [s], each at the speed of the edge under it."""
        if not pieces:
            return 0.0
        speeds = (self.edges["length_m"] / self.edges["time_s"].clip(lower=1e-9)).to_numpy()
        total = 0.0
        for piece in pieces:
            if piece.length == 0:
                continue
            mid = shapely.line_interpolate_point(piece, 0.5, normalized=True)
            nearest = self._tree.query_nearest(mid)[0]
            total += piece.length / speeds[nearest]
        return total

    def distances_from(
        self,
        origin: gpd.GeoSeries | gpd.GeoDataFrame,
        points: gpd.GeoSeries | gpd.GeoDataFrame,
        *,
        weight: str = "length_m",
        max_access_m: float = np.inf,
        include_access: bool = True,
    ) -> np.ndarray:
        """Shortest network distances (or times) from one origin to each of many points.

        One Dijkstra run from the origin's edge, so it stays cheap for thousands of points
        (where :meth:`distance_matrix` is quadratic). Points enter the network as in
        :meth:`distance_matrix`.

        Parameters
        ----------
        origin
            One point (the first row is used), in any CRS.
        points
            K points, in any CRS.
        weight
            ``length_m`` [m] or ``time_s`` [s].
        max_access_m
            Points (and the origin) farther than this from every edge are off the network [m].
        include_access
            Add the straight legs between the points and the network.

        Returns
        -------
        numpy.ndarray
            K distances [m] or times [s]; inf where unreachable or off the network.
        """
        if weight not in ("length_m", "time_s"):
            raise ValidationError(f"weight must be 'length_m' or 'time_s', not {weight!r}")
        start = self.locate(_geoseries(origin).iloc[:1], max_distance_m=max_access_m)
        located = self.locate(points, max_distance_m=max_access_m)
        return self.distances_between(start, located, weight=weight, include_access=include_access)

    def distances_between(self, start: LocatedPoints, located: LocatedPoints, *, weight: str = "length_m",
                          include_access: bool = True) -> np.ndarray:
        """:meth:`distances_from` for points already located (``start``: the origin, its first
        entry used), so a caller with many origins locates every point once."""
        result = np.full(len(located.edge), np.inf)
        on = np.flatnonzero(located.on_network)
        if not start.on_network[0] or len(on) == 0:
            return result
        e = self.edges
        scale_all = e[weight].to_numpy() / np.maximum(e["length_m"].to_numpy(), 1e-9)
        leg = 1.0 if weight == "length_m" else 3.6 / min(DEFAULT_SPEED_KPH.values())
        o_edge = start.edge[0]
        o_u, o_v = e["u"].to_numpy()[o_edge], e["v"].to_numpy()[o_edge]
        o_scale = scale_all[o_edge]
        o_to_u = start.along_m[0] * o_scale
        o_to_v = (e["length_m"].to_numpy()[o_edge] - start.along_m[0]) * o_scale
        edge = located.edge[on]
        u, v = e["u"].to_numpy()[edge], e["v"].to_numpy()[edge]
        scale = scale_all[edge]
        to_u = located.along_m[on] * scale
        to_v = (e["length_m"].to_numpy()[edge] - located.along_m[on]) * scale
        same = edge == o_edge
        along_same = np.abs(located.along_m[on][same] - start.along_m[0]) * o_scale

        def combine(table_u, table_v) -> np.ndarray:
            best = np.minimum.reduce([o_to_u + table_u(u) + to_u, o_to_u + table_u(v) + to_v,
                                      o_to_v + table_v(u) + to_u, o_to_v + table_v(v) + to_v])
            best[same] = np.minimum(best[same], along_same)
            return best

        best = self._near_distances(weight, o_u, o_v, u, v, combine)
        if include_access:
            best = best + (located.distance_m[on] + start.distance_m[0]) * leg
        result[on] = best
        return result

    def _near_distances(self, weight: str, o_u: int, o_v: int, u: np.ndarray, v: np.ndarray, combine
                        ) -> np.ndarray:
        """``combine(table_u, table_v)`` over shortest distances from nodes ``o_u`` and ``o_v``,
        computed on a disc of the network around ``o_u`` that grows until the result is exact.

        Dijkstra runs on the subgraph of the nodes within a radius of ``o_u`` (first twice the
        farthest target node plus 1 km). Let ``B`` be the smallest distance, inside the
        subgraph, of a node with an edge leaving it: a shorter path that leaves the subgraph
        costs at least ``B``, so every combined value not above ``B`` is exact. Targets above
        ``B`` are recomputed on a disc twice as wide, until none is left or the disc holds
        whole components (no edge leaves it: ``B`` is infinite).
        """
        from scipy.sparse.csgraph import dijkstra

        matrix = self._symmetric(weight)
        tree = self._node_tree()
        centre = self.nodes[o_u]
        targets = np.concatenate([u, v])
        reach = float(np.max(np.hypot(*(self.nodes[targets] - centre).T))) if len(targets) else 0.0
        reach = max(reach, float(np.hypot(*(self.nodes[o_v] - centre))))
        radius = 2.0 * reach + 1000.0
        result = np.full(len(u), np.inf)
        todo = np.arange(len(u))
        while len(todo):
            inside = np.sort(np.asarray(tree.query_ball_point(centre, radius), dtype=np.int64))
            sub, leaving = _subgraph(matrix, inside)
            table = dijkstra(sub, directed=False, indices=np.searchsorted(inside, [o_u, o_v]))
            bound = float(table[0][leaving].min(initial=np.inf))
            bound = min(bound, float(table[1][leaving].min(initial=np.inf)))

            def lookup(row):
                def at(nodes):
                    pos = np.minimum(np.searchsorted(inside, nodes), len(inside) - 1)
                    return np.where(inside[pos] == nodes, table[row][pos], np.inf)
                return at

            best = combine(lookup(0), lookup(1))[todo]
            exact = best <= bound
            result[todo[exact]] = best[exact]
            if np.isinf(bound):
                result[todo[~exact]] = best[~exact]
                break
            todo = todo[~exact]
            radius *= 2.0
        return result

    def _symmetric(self, weight: str):
        """The cheapest edge between each pair of nodes, stored both ways (so a node's row
        lists all its neighbours)."""
        from scipy.sparse import coo_matrix

        key = ("symmetric", weight)
        if key not in self._cache:
            e = self.edges
            a, b = e["u"].to_numpy(), e["v"].to_numpy()
            pairs = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "w": e[weight].to_numpy()})
            cheapest = pairs.groupby(["a", "b"], sort=False)["w"].min().reset_index()
            rows = np.concatenate([cheapest["a"].to_numpy(), cheapest["b"].to_numpy()])
            cols = np.concatenate([cheapest["b"].to_numpy(), cheapest["a"].to_numpy()])
            data = np.concatenate([cheapest["w"].to_numpy(), cheapest["w"].to_numpy()])
            self._cache[key] = coo_matrix((data, (rows, cols)), shape=(self.node_count,) * 2).tocsr()
        return self._cache[key]

    def _node_tree(self) -> cKDTree:
        from scipy.spatial import cKDTree

        if "node_tree" not in self._cache:
            self._cache["node_tree"] = cKDTree(self.nodes)
        return self._cache["node_tree"]

    def _matrix(self, weight: str):
        from scipy.sparse import coo_matrix

        key = ("matrix", weight)
        if key not in self._cache:
            e = self.edges
            n = self.node_count
            # several edges between two nodes: the sparse matrix must keep the cheapest
            cheapest = e.groupby(["u", "v"], sort=False)[weight].min().reset_index()
            self._cache[key] = coo_matrix(
                (cheapest[weight].to_numpy(), (cheapest["u"].to_numpy(), cheapest["v"].to_numpy())),
                shape=(n, n),
            ).tocsr()
        return self._cache[key]


def _subgraph(matrix, inside: np.ndarray):
    """The CSR matrix restricted to the sorted node positions ``inside`` and the positions
    (in the subgraph) of the nodes with an edge to a node outside it."""
    from scipy.sparse import csr_matrix

    rows = matrix[inside]
    pos = np.minimum(np.searchsorted(inside, rows.indices), len(inside) - 1)
    kept = inside[pos] == rows.indices
    row_of = np.repeat(np.arange(len(inside)), np.diff(rows.indptr))
    counts = np.bincount(row_of[kept], minlength=len(inside))
    leaving = np.unique(row_of[~kept])
    sub = csr_matrix((rows.data[kept], pos[kept], np.concatenate([[0], np.cumsum(counts)])),
                     shape=(len(inside), len(inside)))
    return sub, leaving


def _geoseries(points) -> gpd.GeoSeries:
    if isinstance(points, gpd.GeoDataFrame):
        return points.geometry
    if isinstance(points, gpd.GeoSeries):
        return points
    raise ValidationError("points must be a GeoSeries or GeoDataFrame with a CRS")


def _explode_lines(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    lines = roads[roads.geometry.notna() & ~roads.geometry.is_empty]
    bad = lines[~lines.geom_type.isin(["LineString", "MultiLineString"])]
    if len(bad):
        raise ValidationError(
            f"road rows {list(bad.index[:5])} are {bad.geom_type.iloc[0]}, not lines; "
            "a road network needs LineString or MultiLineString geometries"
        )
    exploded = lines.explode(index_parts=False)
    exploded = exploded[exploded.geometry.length > 0]
    exploded["road_index"] = exploded.index
    return exploded.reset_index(drop=True)


def _split_points(lines: gpd.GeoDataFrame, tolerance: float, at_crossings: bool) -> dict[int, list[float]]:
    """Distances along each line where it must be cut (T-junctions, optionally crossings)."""
    geoms = lines.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    cuts: dict[int, list[float]] = {}
    ends = np.concatenate([shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)])
    owner = np.concatenate([np.arange(len(geoms)), np.arange(len(geoms))])
    end_idx, line_idx = tree.query(ends, predicate="dwithin", distance=tolerance)
    other = owner[end_idx] != line_idx
    end_idx, line_idx = end_idx[other], line_idx[other]
    positions = shapely.line_locate_point(geoms[line_idx], ends[end_idx])
    inside = (positions > tolerance) & (positions < shapely.length(geoms[line_idx]) - tolerance)
    for li, position in zip(line_idx[inside].tolist(), positions[inside].tolist()):
        cuts.setdefault(li, []).append(position)
    if at_crossings:
        # bounding-box candidates, then one vectorised predicate (cheaper than preparing
        # every line for a predicate query)
        left, right = tree.query(geoms)
        ordered = left < right
        left, right = left[ordered], right[ordered]
        crossing_pairs = shapely.crosses(geoms[left], geoms[right])
        for a, b in zip(left[crossing_pairs].tolist(), right[crossing_pairs].tolist()):
            crossing = geoms[a].intersection(geoms[b])
            for point in shapely.get_parts(shapely.extract_unique_points(crossing)):
                for li in (a, b):
                    position = geoms[li].project(point)
                    if tolerance < position < geoms[li].length - tolerance:
                        cuts.setdefault(int(li), []).append(float(position))
    return cuts


def _cut(line: LineString, positions: list[float]) -> list[LineString]:
    """``line`` cut at distances along it [m] (as shapely's ``substring``, without its
    per-piece overhead)."""
    coords = shapely.get_coordinates(line)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    stops = [0.0, *sorted(set(positions)), float(along[-1])]
    pieces = []
    for a, b in zip(stops[:-1], stops[1:]):
        if b - a <= 0:
            continue
        inside = (along > a) & (along < b)
        xs = np.concatenate([[np.interp(a, along, coords[:, 0])], coords[inside, 0], [np.interp(b, along, coords[:, 0])]])
        ys = np.concatenate([[np.interp(a, along, coords[:, 1])], coords[inside, 1], [np.interp(b, along, coords[:, 1])]])
        pieces.append(LineString(np.column_stack([xs, ys])))
    return pieces


def _cut_many(lines: np.ndarray, positions: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Every line cut at its distances along it [m], all at once (:func:`_cut` for many
    lines): the position in ``lines`` of each piece, and the pieces, in line order."""
    if len(lines) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    n = len(lines)
    step = np.hypot(*np.diff(coords, axis=0).T)
    step[owner[1:] != owner[:-1]] = 0.0
    first = np.searchsorted(owner, np.arange(n))
    last = np.append(first[1:], len(coords)) - 1
    along = np.empty(len(coords))
    for j in range(n):  # per line, as _cut measures it (no sums carried across lines)
        along[first[j]:last[j] + 1] = np.concatenate([[0.0], np.cumsum(step[first[j]:last[j]])])
    # a key that increases over all vertices: the line's number plus the distance along it,
    # scaled into [0, 0.5) so that lines never overlap
    length = along[last]
    scale = 0.5 / np.maximum(length, 1e-9)
    key = owner + along * scale[owner]
    piece_line, a, b = [], [], []
    for j, cut in enumerate(positions):
        stops = [0.0, *sorted(set(cut)), float(length[j])]
        for lo, hi in zip(stops[:-1], stops[1:]):
            if hi - lo > 0:
                piece_line.append(j)
                a.append(lo)
                b.append(hi)
    piece_line, a, b = np.array(piece_line), np.array(a), np.array(b)

    def point_at(at: np.ndarray) -> np.ndarray:
        k = np.searchsorted(key, piece_line + at * scale[piece_line], side="right") - 1
        k = np.clip(k, first[piece_line], np.maximum(last[piece_line] - 1, first[piece_line]))
        span = along[k + 1] - along[k]
        t = np.where(span > 0, (at - along[k]) / np.where(span > 0, span, 1.0), 0.0)
        out = coords[k] + t[:, None] * (coords[k + 1] - coords[k])
        end = at >= length[piece_line]
        out[end] = coords[last[piece_line[end]]]
        return out

    starts, ends = point_at(a), point_at(b)
    lo = np.searchsorted(key, piece_line + a * scale[piece_line], side="right")
    hi = np.searchsorted(key, piece_line + b * scale[piece_line], side="left")
    inner = np.maximum(hi - lo, 0)
    counts = inner + 2
    row_piece = np.repeat(np.arange(len(piece_line)), counts)
    offset = np.concatenate([[0], np.cumsum(counts)[:-1]])
    r = np.arange(int(counts.sum())) - offset[row_piece]
    flat = coords[np.clip(lo[row_piece] + r - 1, 0, len(coords) - 1)]
    is_start = r == 0
    is_end = r == counts[row_piece] - 1
    flat[is_start] = starts[row_piece[is_start]]
    flat[is_end] = ends[row_piece[is_end]]
    return piece_line, shapely.linestrings(flat, indices=row_piece)


def build_network(
    roads: gpd.GeoDataFrame,
    *,
    crs: CRS | None = None,
    snap_tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    split_at_crossings: bool = True,
    speed_kph: Mapping[str, float] | None = None,
    keep: tuple[str, ...] = ("surface", "width_m", "road_class"),
) -> RoadNetwork:
    """Build a routable network from road lines.

    Parameters
    ----------
    roads
        Road lines in EPSG:4326 (LineString or MultiLineString), e.g. the ``roads`` layer or a
        filtered part of it (only hardened roads, only roads at least 3.5 m wide ...).
    crs
        Metric CRS to work in; default: the UTM zone of the roads.
    snap_tolerance_m
        Endpoints closer than this are merged, and an endpoint this close to another line's
        interior splits that line there [m].
    split_at_crossings
        Also split lines where they cross (treat crossings as junctions).
    speed_kph
        Travel speed per surface [km/h] for ``time_s``; default :data:`DEFAULT_SPEED_KPH`.
        Roads without a known surface travel at the slowest speed.
    keep
        Road columns copied onto the edges.

    Raises
    ------
    ValidationError
        Non-line geometries, a negative tolerance, or no roads at all.
    """
    if snap_tolerance_m < 0:
        raise ValidationError(f"snap tolerance must be >= 0 m, not {snap_tolerance_m}")
    if roads.crs is None:
        raise ValidationError("the roads frame has no CRS; set EPSG:4326")
    if roads.empty or roads.geometry.isna().all():
        raise ValidationError("no road lines to build a network from")
    crs = crs or metric_crs_for(roads)
    speeds = {**DEFAULT_SPEED_KPH, **(speed_kph or {})}
    lines = _explode_lines(roads.to_crs(crs))
    if lines.empty:
        raise ValidationError("no road lines to build a network from")
    cuts = _split_points(lines, snap_tolerance_m, split_at_crossings)
    columns = [c for c in keep if c in lines.columns]
    geoms = lines.geometry.to_numpy()
    cut_ids = np.array(sorted(cuts), dtype=np.int64)
    cut_of, cut_pieces = _cut_many(geoms[cut_ids], [cuts[i] for i in cut_ids.tolist()])
    whole = np.setdiff1d(np.arange(len(geoms)), cut_ids)
    # every piece after its line's earlier pieces, lines in their order (a stable sort by line)
    source_all = np.concatenate([whole, cut_ids[cut_of]])
    pieces_all = np.concatenate([geoms[whole], cut_pieces])
    order = np.argsort(source_all, kind="stable")
    source, pieces = source_all[order], pieces_all[order]
    taken = lines.iloc[source]
    edges = gpd.GeoDataFrame({"road_index": taken["road_index"].to_numpy(),
                              **{c: taken[c].to_numpy() for c in columns}},
                             geometry=gpd.GeoSeries(pieces, crs=crs), crs=crs)

    geoms = edges.geometry.to_numpy()
    starts = shapely.get_coordinates(shapely.get_point(geoms, 0))
    ends = shapely.get_coordinates(shapely.get_point(geoms, -1))
    endpoints = np.vstack([starts, ends])
    node_of = _snap(endpoints, snap_tolerance_m)
    count = int(node_of.max()) + 1
    nodes = np.zeros((count, 2))
    np.add.at(nodes, node_of, endpoints)
    nodes /= np.bincount(node_of, minlength=count)[:, None]
    m = len(edges)
    edges["u"] = node_of[:m]
    edges["v"] = node_of[m:]
    edges["length_m"] = edges.geometry.length
    slowest = min(speeds.values())
    surface = edges["surface"] if "surface" in edges else pd.Series([None] * m)
    speed = surface.map(lambda s: speeds.get(str(s), slowest) if s is not None else slowest).astype(float)
    edges["time_s"] = edges["length_m"] / (speed.to_numpy() / 3.6)
    edges = edges[edges["u"] != edges["v"]].reset_index(drop=True)  # pieces shorter than the tolerance
    order = ["u", "v", "length_m", "time_s", "road_index", *columns, "geometry"]
    edges = edges[order]
    return RoadNetwork(edges=edges, nodes=nodes, crs=crs, snap_tolerance_m=snap_tolerance_m,
                       _tree=shapely.STRtree(edges.geometry.to_numpy()))


def _snap(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Label points so that points within ``tolerance`` of each other share a label
    (single linkage: connected components of the KD-tree pairs)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(points)
    pairs = cKDTree(points).query_pairs(tolerance, output_type="ndarray") if tolerance > 0 \
        else np.empty((0, 2), dtype=np.int64)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, components = connected_components(graph, directed=False)
    # number the groups in order of their first point, as the union-find did
    _, first = np.unique(components, return_index=True)
    order = np.empty(len(first), dtype=np.int64)
    order[np.argsort(first)] = np.arange(len(first))
    return order[components]


def nearest_point_on(network: RoadNetwork, point: Point, edge_mask: np.ndarray | None = None) -> Point:
    """The point of the network (optionally only of ``edge_mask`` edges) nearest ``point``
    (both in the network's CRS)."""
    lines = network.edges.geometry if edge_mask is None else network.edges.geometry[edge_mask]
    if lines.empty:
        raise ValidationError("no edges to connect to")
    union = shapely.union_all(lines.to_numpy())
    return shapely.ops.nearest_points(union, point)[0]
