"""OGC API - Features over the registry: which collections exist, their CRSs, and reading
items with Part 2 (CRS) and Part 3 (CQL2 filters, sorting) parameters.

Collections
-----------
Every layer is a collection of the same name, declaring one geometry type, except the layers
whose rows may hold points, lines or polygons (water facilities, PV projects, projects): they
are listed as one collection per geometry type instead (``water_facilities_points``,
``_lines``, ``_polygons``; PV projects are points or polygons), because QGIS and GDAL give a
layer the one geometry type of its first features and cannot draw the others. The mixed
collection is not listed but still answers at its old address (scripts, rows without
geometry).

Scoping
-------
The caller's township scope and the personal-data rule are applied by the storage layer to
every read, whatever the filter says: a CQL2 filter only ever narrows the rows.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from geo import crs as crs_mod
from geo import storage, tiles
from geo.cache import StampedCache
from geo.errors import NotFound, ValidationError
from geo.layers import LAYERS, LayerSpec
from geo.storage import tiles as storage_tiles
from geo.storage.cql import CqlFilter, cql2_json_for_pygeofilter

GeometryType = Literal["point", "line", "polygon"]

#: Collection-name suffix, Chinese label and dimension of each geometry type.
GEOMETRY_TYPES: dict[GeometryType, tuple[str, str, int]] = {
    "point": ("points", "点", 0),
    "line": ("lines", "线", 1),
    "polygon": ("polygons", "面", 2),
}
#: Most rows counted for ``numberMatched``; beyond that it is left out (the count stays cheap).
MAX_COUNT = 100_000
#: An unfiltered read of a PostGIS table the planner estimates above this many rows gives the
#: estimate as ``numberMatched`` (no count of the table per page).
ESTIMATE_ABOVE = 10_000
#: Page size when the client gives none, and the largest one served (a larger limit is clamped).
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
FilterLang = Literal["cql2-text", "cql2-json"]


@dataclass(frozen=True)
class Collection:
    """One OGC collection: a layer, or the rows of one geometry type of a mixed layer."""

    id: str
    layer: LayerSpec
    geometry_type: GeometryType | None = None

    @property
    def title(self) -> str:
        if self.geometry_type is None:
            return self.layer.label
        return f"{self.layer.label}（{GEOMETRY_TYPES[self.geometry_type][1]}）"

    @property
    def geometry_kind(self) -> str | None:
        """``point``, ``line``, ``polygon``, ``any`` or None (no geometry)."""
        return self.geometry_type or self.layer.geometry_kind

    @property
    def dimension(self) -> int | None:
        return None if self.geometry_type is None else GEOMETRY_TYPES[self.geometry_type][2]


#: The geometry types a mixed layer's rows take (DESIGN.md's data model); all three otherwise.
MIXED_TYPES: dict[str, tuple[GeometryType, ...]] = {"pv_projects": ("point", "polygon")}


def _collections() -> dict[str, Collection]:
    out = {}
    for spec in LAYERS.values():
        out[spec.name] = Collection(spec.name, spec)
        if spec.geometry_kind == "any":
            for kind in MIXED_TYPES.get(spec.name, tuple(GEOMETRY_TYPES)):
                name = f"{spec.name}_{GEOMETRY_TYPES[kind][0]}"
                out[name] = Collection(name, spec, kind)
    return out


COLLECTIONS = _collections()
#: The collections listed at ``/collections``: each of one geometry type (or none).
LISTED = [c for c in COLLECTIONS.values() if c.geometry_kind != "any"]


def get_collection(collection_id: str) -> Collection:
    """The collection called ``collection_id``.

    Raises
    ------
    NotFound
        Naming the collections that exist.
    """
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(f"there is no collection {collection_id[:60]!r}; collections: "
                       f"{', '.join(COLLECTIONS)}") from None


def collection_extent(engine: Engine, collection: Collection, *, township=None):
    """``(minx, miny, maxx, maxy)`` [degrees] of the collection's rows in scope, or None."""
    return storage.layer_extent(engine, collection.layer.name, township=township,
                                geometry_dimension=collection.dimension)


def collection_crs(engine: Engine, collection: Collection) -> list[int | None]:
    """The CRSs a collection is served in (None = CRS84): CRS84, EPSG:4326, EPSG:4490 and
    the CGCS2000 Gauss-Krüger zones whose area meets the layer's data (the townships' when
    the layer is empty). A layer without geometry is served in CRS84 only."""
    if collection.layer.geometry is None:
        return [None]
    bounds = storage.layer_extent(engine, collection.layer.name) or storage.layer_extent(engine, "townships")
    return [None, *crs_mod.GEOGRAPHIC_CODES, *crs_mod.gauss_kruger_codes(bounds)]


def check_crs(engine: Engine, collection: Collection, value: str | None, *, name: str) -> int | None:
    """The EPSG code (None: CRS84) a ``crs``/``bbox-crs``/``filter-crs`` parameter names.

    Raises
    ------
    ValidationError
        An unknown CRS, or one the collection is not served in (naming those it is).
    """
    if value is None or value == "":
        return None
    code = crs_mod.parse_crs(value, name=name)
    if code is None:
        return None
    offered = collection_crs(engine, collection)
    if code not in offered:
        raise ValidationError(f"{name} EPSG:{code} is not offered for {collection.id}; offered: "
                              + ", ".join(crs_mod.crs_uri(c) for c in offered))
    return code


def parse_filter(text: str, *, lang: str | None, filter_crs: int | None,
                 queryables: Sequence[str]) -> CqlFilter:
    """A CQL2 filter (text or JSON) parsed by pygeofilter, with its geometries' CRS.

    Raises
    ------
    ValidationError
        An unknown ``filter-lang`` or a filter that does not parse (saying where).
    """
    lang = lang or "cql2-text"
    try:
        if lang == "cql2-text" and text.strip().upper() in ("TRUE", "FALSE"):
            node = text.strip().upper() == "TRUE"  # pygeofilter 0.4 reads no bare boolean
        elif lang == "cql2-text":
            from pygeofilter.parsers.cql2_text import parse as parse_text

            node = parse_text(text)
        elif lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            node = parse_json(cql2_json_for_pygeofilter(json.loads(text)))
        else:
            raise ValidationError(f"filter-lang {lang[:40]!r} is not supported; use cql2-text or cql2-json")
    except ValidationError:
        raise
    except RecursionError:
        raise ValidationError("the filter nests too deeply; write it with fewer parentheses") from None
    except Exception as exc:
        # lark's parse errors, json's, and what pygeofilter's JSON walker meets in a bad document.
        # lark (and the regex module it loads, ~0.15 s) is imported here, not with this module.
        from lark.exceptions import LarkError

        if not isinstance(exc, (LarkError, ValueError, TypeError, KeyError, AttributeError, IndexError)):
            raise
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ValidationError(f"the filter is not valid {lang}: {reason}. Example: "
                              "population > 500 AND category = 'poor'") from None

    def to_storage(geom: BaseGeometry) -> BaseGeometry:
        return _finite(crs_mod.to_crs84(geom, filter_crs), "a geometry of the filter")

    return CqlFilter(node=node, queryables=tuple(queryables), to_storage=to_storage)


def parse_sortby(value: str | None, queryables: Sequence[str]) -> list[tuple[str, bool]]:
    """``sortby=name,-population`` as ``(column, descending)`` pairs.

    Raises
    ------
    ValidationError
        Naming a property that is not a queryable.
    """
    if not value:
        return []
    out = []
    for part in value.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if name not in queryables:
            raise ValidationError(f"sortby names {name[:60]!r}, which is not a queryable; queryables: "
                                  f"{', '.join(queryables)}")
        out.append((name, descending))
    return out


def bbox_area(bbox: tuple[float, float, float, float], code: int | None) -> BaseGeometry | None:
    """The bbox (given in ``code``'s axis order) as an EPSG:4326 polygon, edges densified so
    the curved image of a projected box is followed; None for a CRS84 bbox."""
    if code is None:
        return None
    a, b, c, d = bbox
    if max(abs(v) for v in bbox) > 1e9:
        raise ValidationError("bbox numbers beyond 1e9 are no coordinates of any offered CRS")
    if not (a <= c and b <= d):
        raise ValidationError(f"bbox {bbox} needs its lower corner first (min <= max on both axes)")
    box = shapely.box(a, b, c, d)
    step = max(c - a, d - b) / 32 or 1.0
    return _finite(crs_mod.to_crs84(shapely.segmentize(box, step), code), "the bbox")


def _finite(geom: BaseGeometry, what: str) -> BaseGeometry:
    """``geom`` when its CRS84 coordinates are real longitudes and latitudes.

    Raises
    ------
    ValidationError
        When the transformation left the CRS's domain (infinite or out-of-range coordinates).
    """
    coords = shapely.get_coordinates(geom)
    if not (len(coords) and np.isfinite(coords).all() and (np.abs(coords[:, 0]) <= 540).all()
            and (np.abs(coords[:, 1]) <= 90).all()):
        raise ValidationError(f"{what} lies outside the area its CRS can express; check the axis order "
                              "(EPSG:4326 and 4490 are latitude first, the Gauss-Krüger zones northing first)")
    return geom


@dataclass(frozen=True)
class ItemsPage:
    """A page of items as plain rows (no pandas: a page is answered many times a second)."""

    ids: list[int]
    #: Shapely geometries in ``crs`` (None where a row has none), aligned with ``ids``.
    geometry: np.ndarray
    #: The properties each row holds (no id, no geometry, no personal field), and the rows.
    columns: list[str]
    rows: list[tuple]
    matched: int | None
    crs: int | None
    #: ``matched`` is the planner's estimate (an unfiltered large table), not a count.
    estimated: bool = False

    def __len__(self) -> int:
        return len(self.ids)


def _read_only(engine: Engine) -> Engine:
    """:func:`geo.storage.read_only` of ``engine``, made once and kept on it (making it anew
    cost a tenth of a single item's time)."""
    found = engine.__dict__.get("_atlas_read_only")
    if found is None:
        found = engine.__dict__["_atlas_read_only"] = storage.read_only(engine)
    return found


def read_items(
    engine: Engine,
    collection: Collection,
    *,
    township=None,
    bbox: tuple[float, float, float, float] | None = None,
    bbox_crs: int | None = None,
    where: dict | None = None,
    cql: CqlFilter | None = None,
    sortby: Sequence[tuple[str, bool]] = (),
    crs: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    after: int | None = None,
    ids: Sequence[int] | None = None,
) -> ItemsPage:
    """A page of the collection's features (no personal fields), in ``crs``, read over one
    connection (outside a transaction on PostGIS: no BEGIN/COMMIT round trips).

    ``numberMatched`` comes from the page itself when it is the last one; for an unfiltered
    PostGIS table larger than :data:`ESTIMATE_ABOVE` rows it is the planner's estimate
    (``estimated``); else a count that stops at :data:`MAX_COUNT` (None beyond).

    ``after`` (keyset paging, what the ``next`` links send): the rows after this id, in id
    order; ``offset`` then only numbers the page (for ``numberMatched`` and the links) and
    skips nothing, so a deep page costs what the first does.
    """
    spec = collection.layer
    area = bbox_area(bbox, bbox_crs) if bbox is not None else None
    filters = {"township": township, "bbox": bbox if area is None else None, "where": where or {},
               "geometry_dimension": collection.dimension, "intersects": area, "cql": cql}
    limit = _served_limit(limit)
    with storage.connect(_read_only(engine)) as conn:
        names, raw = storage.read_rows(conn, spec.name, limit=limit, offset=0 if after is not None else offset,
                                       after_id=after, sortby=sortby, ids=ids, **filters)
        if _counted_from_page(ids=ids, after=after, returned=len(raw), limit=limit, offset=offset):
            matched, estimated = offset + len(raw), False
        else:
            matched, estimated = storage.matched_rows(conn, spec.name, at_most=MAX_COUNT,
                                                      estimate_above=ESTIMATE_ABOVE, **filters)
            matched = _at_least_the_page(matched, after=after, offset=offset, returned=len(raw))
    return _items_page(spec, names, raw, matched=matched, estimated=estimated, crs=crs)


async def read_items_async(
    engine: Engine,
    collection: Collection,
    *,
    township=None,
    bbox: tuple[float, float, float, float] | None = None,
    bbox_crs: int | None = None,
    where: dict | None = None,
    cql: CqlFilter | None = None,
    sortby: Sequence[tuple[str, bool]] = (),
    crs: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    after: int | None = None,
    ids: Sequence[int] | None = None,
) -> ItemsPage | None:
    """:func:`read_items` of the reads served many times a second (an item, a page, a CRS84
    bbox page in the caller's township ids), on the running event loop over PostGIS: the same
    page, read without a trip through the thread pool. Takes :func:`read_items`' options; None
    when the read is not one of those (SpatiaLite, a township given by name, a filter, sorting,
    a ``bbox_crs``, ...): the caller then runs :func:`read_items`.

    Raises
    ------
    ValidationError
        As :func:`read_items`.
    DatabaseError
        The database cannot be reached.
    """
    if bbox_crs is not None or where or cql is not None or sortby:
        return None  # read_items' general path
    spec = collection.layer
    filters = {"township": township, "bbox": bbox, "geometry_dimension": collection.dimension}
    limit = _served_limit(limit)
    found = await storage.read_rows_async(engine, spec.name, limit=limit, offset=0 if after is not None else offset,
                                          after_id=after, ids=ids, **filters)
    if found is None:
        return None
    names, raw = found
    if _counted_from_page(ids=ids, after=after, returned=len(raw), limit=limit, offset=offset):
        matched, estimated = offset + len(raw), False
    else:
        counted = await storage.matched_rows_async(engine, spec.name, at_most=MAX_COUNT,
                                                   estimate_above=ESTIMATE_ABOVE, **filters)
        if counted is None:  # pragma: no cover - the read was a hot one, so is its count
            return None
        matched, estimated = counted
        matched = _at_least_the_page(matched, after=after, offset=offset, returned=len(raw))
    return _items_page(spec, names, raw, matched=matched, estimated=estimated, crs=crs)


def _served_limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


def _counted_from_page(*, ids, after: int | None, returned: int, limit: int, offset: int) -> bool:
    """Whether the page itself says how many rows match: one by id, or the last page (after a
    keyset the offset is only the client's numbering: the total is counted)."""
    return ids is not None or (after is None and returned < limit and (returned > 0 or offset == 0))


def _at_least_the_page(matched: int | None, *, after: int | None, offset: int, returned: int) -> int | None:
    """A count or estimate never below the rows up to this page's end (numbered by offset)."""
    if matched is not None and after is None:
        return max(matched, offset + returned)
    return matched


def _items_page(spec: LayerSpec, names: list[str], raw: list[tuple], *, matched: int | None, estimated: bool,
                crs: int | None) -> ItemsPage:
    """The page of rows ``raw`` (columns ``names``, geometries as WKB) in ``crs``."""
    returned = len(raw)
    id_at = names.index("id")
    if spec.geometry is not None:
        at = names.index(spec.geometry)
        geometry = shapely.from_wkb(np.array([None if r[at] is None else bytes(r[at]) for r in raw], dtype=object))
        if crs is not None:
            geometry = crs_mod.from_crs84(geometry, crs)
    else:
        geometry = np.array([None] * returned, dtype=object)
    hidden = {"id", *spec.geometry_columns}
    keep = [i for i, name in enumerate(names) if name not in hidden]
    pick = _picker(keep)
    return ItemsPage(ids=[r[id_at] for r in raw], geometry=geometry, columns=[names[i] for i in keep],
                     rows=[pick(r) for r in raw], matched=matched, crs=crs, estimated=estimated)


def _picker(positions: Sequence[int]):
    """A function of a row giving the tuple of its values at ``positions`` (``itemgetter``,
    which answers one value rather than a tuple of one, and nothing for no position)."""
    if len(positions) > 1:
        return operator.itemgetter(*positions)
    if positions:
        at = positions[0]
        return lambda row: (row[at],)
    return lambda row: ()


#: Tiles kept per process (each at most ~200 KB: a zoom-12 tile of 2,500 households).
TILE_CACHE_SIZE = 512
#: Longest a tile is served from the cache [s]: the bound on how late a write the registry
#: stamp cannot see (another host, SQL by hand) shows in the tiles; atlas's own writes show at once.
TILE_CACHE_S = 60.0
_TILES: StampedCache[bytes] = StampedCache(TILE_CACHE_SIZE, ttl_s=TILE_CACHE_S)


def vector_tile(engine: Engine, collection: Collection, *, z: int, row: int, col: int, township=None,
                properties: Sequence[str] | None = None) -> bytes:
    """The collection's features in one WebMercatorQuad tile as a Mapbox Vector Tile (one
    layer named after the collection; empty bytes for an empty tile): PostGIS makes it with
    ``ST_AsMVT``, over SpatiaLite mapbox-vector-tile encodes the rows. The township scope and
    the personal-data rule are the items'. ``properties`` keeps only those of the tile's
    fields (a map asks for what it shows: a smaller tile, made faster).

    Tiles are kept per database, collection, tile, township scope and properties while the
    registry's stamp (:func:`geo.storage.registry_stamp`: any atlas write on this host) is
    unchanged, for at most :data:`TILE_CACHE_S` seconds.

    Raises
    ------
    NotFound
        A tile outside the grid, or a collection without geometry.
    ValidationError
        A property that is not one of the tile's fields (personal fields never are).
    """
    tiles.check_tile(z, row, col)
    spec = collection.layer
    if spec.geometry is None:
        raise NotFound(f"{collection.id} has no geometry and so no tiles")
    fields = _tile_fields(collection, properties)
    scope = None if township is None else tuple(sorted(township)) if isinstance(township, list) else township
    key = (storage.stamps.database_of(engine), collection.id, z, row, col, scope, fields)
    return _TILES.get_or_compute(key, storage.registry_stamp(engine),
                                 lambda: _make_tile(engine, collection, z=z, row=row, col=col, township=township,
                                                    properties=list(fields)))


def _tile_fields(collection: Collection, properties: Sequence[str] | None) -> tuple[str, ...]:
    available = storage_tiles.tile_columns(collection.layer)
    if properties is None:
        return tuple(available)
    unknown = [p for p in properties if p not in available]
    if unknown:
        raise ValidationError(f"unknown tile properties {', '.join(unknown)}; the tiles of {collection.id} carry: "
                              f"{', '.join(available)}")
    return tuple(dict.fromkeys(properties))


def _make_tile(engine: Engine, collection: Collection, *, z: int, row: int, col: int, township,
               properties: list[str]) -> bytes:
    spec = collection.layer
    if storage.backend_name(engine) == "postgis":
        return storage_tiles.postgis_mvt(storage.read_only(engine), spec.name, name=collection.id, z=z, row=row,
                                         col=col, township=township, geometry_dimension=collection.dimension,
                                         properties=properties)
    frame = storage_tiles.tile_rows(engine, spec.name, z=z, row=row, col=col, township=township,
                                    geometry_dimension=collection.dimension, properties=properties)
    if frame.empty:
        return b""
    return tiles.encode_mvt(frame, layer=collection.id, z=z, row=row, col=col, properties=properties)
