"""``/ogc``: OGC API - Features (Part 1 Core, GeoJSON, OpenAPI 3.0; Part 2 CRS by
reference; Part 3 queryables, CQL2 filters in text and JSON, sorting).

Every layer the caller may read is a collection (mixed-geometry layers also one per geometry
type, see :mod:`geo.services.ogc`); items never carry personal fields and follow the
caller's townships. Clients send ``Authorization: Bearer``, ``X-API-Key`` or, for those
without header authentication (QGIS 3.22, GDAL's ``GDAL_HTTP_USERPWD``), HTTP Basic. Invalid
parameters answer 400, as the standard asks (the rest of the API answers 422).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, LayerReader, Principal, TownshipParam, check_layer
from api.geojson import GEOJSON, JSON, GeoJSON, page_links, row_features
from api.params import (
    MAX_OFFSET,
    PropertiesParam,
    bbox_numbers,
    bbox_param,
    select_properties,
)
from api.schemas.common import problem_responses
from geo import crs as crs_mod
from geo import tiles
from geo.cache import BoundedCache
from geo.errors import ValidationError
from geo.layers import LayerSpec, get_layer
from geo.services import ogc

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"], responses=problem_responses(401, 403))

OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
CRS84 = crs_mod.CRS84_URI
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
#: Query parameters of the items operation that are not queryables.
ITEM_PARAMETERS = {"limit", "offset", "after", "bbox", "bbox-crs", "crs", "datetime", "properties", "f", "township", "area",
                   "filter", "filter-lang", "filter-crs", "sortby"}
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string",
               dt.date: "string", dt.datetime: "string"}
_GEOMETRY_FORMATS = {"point": "geometry-point-or-multipoint", "line": "geometry-linestring-or-multilinestring",
                     "polygon": "geometry-polygon-or-multipolygon", "any": "geometry-any"}


def _url(request: Request, name: str, **params) -> str:
    return _url_at(request, str(request.base_url), name, tuple(sorted(params.items())))


def _url_at(request: Request, base_url: str, name: str, params: tuple) -> str:
    """``request.url_for(name, **params)``, kept per base URL (scheme, host, root path): the
    route search it does was a tenth of a single item's time."""
    return _URLS.get_or_compute((base_url, name, params), lambda: str(request.url_for(name, **dict(params))))


#: URLs of the routes by base URL, name and parameters (a Host header a client chose makes a
#: new base URL: the least recently used go first).
_URLS: BoundedCache[str] = BoundedCache(4096)


@router.get("", summary="Landing page", response_class=JSON)
def landing(request: Request, user: LayerReader) -> JSON:
    """Title, description and the links every OGC API client starts from."""
    return JSON({
        "title": "村级帮扶地图 Village assistance atlas",
        "description": "Registry layers of county-level rural assistance work as OGC API - Features "
                       "(townships, villages, households without personal fields, roads, water, PV...).",
        "links": [
            {"href": _url(request, "landing"), "rel": "self", "type": "application/json",
             "title": "this document"},
            {"href": _url(request, "ogc_openapi"), "rel": "service-desc", "type": OPENAPI_30,
             "title": "the API definition (OpenAPI 3.0)"},
            {"href": str(request.base_url) + "docs", "rel": "service-doc", "type": "text/html",
             "title": "the API documentation"},
            {"href": _url(request, "conformance"), "rel": "conformance", "type": "application/json",
             "title": "conformance classes implemented"},
            {"href": _url(request, "collections"), "rel": "data", "type": "application/json",
             "title": "the feature collections"},
            {"href": _url(request, "tile_matrix_sets"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
             "type": "application/json", "title": "the tile matrix sets"},
        ],
    })


@router.get("/conformance", summary="Conformance classes", response_class=JSON)
def conformance(user: LayerReader) -> JSON:
    return JSON({"conformsTo": CONFORMANCE})


@router.get("/api", summary="The OGC API's definition (OpenAPI 3.0)", name="ogc_openapi",
            responses={200: {"content": {OPENAPI_30: {}}}})
def ogc_openapi(request: Request) -> JSON:
    """The ``/ogc`` paths of this API as an OpenAPI 3.0 document (the oas30 conformance class);
    the whole API's OpenAPI 3.1 document is ``/openapi.json``."""
    from api.openapi30 import openapi_30

    document = openapi_30(request.app.openapi(), path_prefix="/ogc")
    return JSON(document, media_type=OPENAPI_30)


def _collection(request: Request, collection: ogc.Collection, extent, crs_list: list[int | None]) -> dict:
    items = _url(request, "items", collection_id=collection.id)
    kind = collection.geometry_kind
    body = {
        "id": collection.id,
        "title": collection.title,
        "description": f"{collection.title} ({collection.id})" + (
            "; no geometry" if kind is None else f"; {kind} geometry" + (
                " (mixed, not listed: read the _points, _lines and _polygons collections)"
                if kind == "any" else "")),
        "itemType": "feature",
        "crs": [crs_mod.crs_uri(code) for code in crs_list],
        "storageCrs": CRS84,
        "links": [
            {"href": _url(request, "collection", collection_id=collection.id), "rel": "self",
             "type": "application/json", "title": collection.title},
            {"href": items, "rel": "items", "type": GEOJSON, "title": f"{collection.title} features"},
            {"href": _url(request, "queryables", collection_id=collection.id),
             "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": SCHEMA_JSON,
             "title": "queryable properties"},
        ],
    }
    if kind is not None:
        body["x-geometry-type"] = kind
        body["links"].append({"href": _url(request, "collection_tilesets", collection_id=collection.id),
                              "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                              "type": "application/json", "title": f"{collection.title} vector tiles"})
    if extent is not None:
        body["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return body


def _readable(user: Principal) -> list[ogc.Collection]:
    return [c for c in ogc.LISTED if user.can_read_layer(c.layer.name)]


def _checked(user: Principal, collection_id: str) -> ogc.Collection:
    collection = ogc.get_collection(collection_id)
    check_layer(user, collection.layer.name)
    return collection


@router.get("/collections", summary="The feature collections you may read", response_class=JSON)
def collections(request: Request, user: LayerReader, engine: EngineDep) -> JSON:
    scope = user.township_filter()
    return JSON({
        "links": [{"href": _url(request, "collections"), "rel": "self", "type": "application/json",
                   "title": "the collections"}],
        "crs": [CRS84, *(crs_mod.crs_uri(c) for c in crs_mod.GEOGRAPHIC_CODES)],
        "collections": [_collection(request, c, ogc.collection_extent(engine, c, township=scope),
                                    ogc.collection_crs(engine, c))
                        for c in _readable(user)],
    })


@router.get("/collections/{collection_id}", summary="One collection", response_class=JSON,
            responses=problem_responses(404))
def collection(collection_id: str, request: Request, user: LayerReader, engine: EngineDep) -> JSON:
    found = _checked(user, collection_id)
    extent = ogc.collection_extent(engine, found, township=user.township_filter())
    return JSON(_collection(request, found, extent, ogc.collection_crs(engine, found)))


def queryable_columns(spec: LayerSpec) -> dict[str, dict]:
    """JSON Schema of each property a client may filter or sort the items by (a new dict;
    the schemas are made once per layer)."""
    return dict(_queryable_columns(spec.name))


@functools.lru_cache(maxsize=None)
def _queryable_columns(layer: str) -> dict[str, dict]:
    spec = get_layer(layer)
    out = {}
    for column in spec.table.columns:
        if column.name in spec.pii_columns or column.name in spec.geometry_columns or column.name == "id":
            continue
        enum_cls = getattr(column.type, "enum_class", None)
        if enum_cls is not None:
            out[column.name] = {"type": "string", "enum": [m.value for m in enum_cls],
                                "description": "; ".join(f"{m.value} {m.label}" for m in enum_cls)}
            continue
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            continue
        schema = {"type": _JSON_TYPES.get(python_type, "string")}
        if python_type is dt.date:
            schema["format"] = "date"
        elif python_type is dt.datetime:
            schema["format"] = "date-time"
        if column.doc:
            schema["description"] = column.doc
        out[column.name] = schema
    return out


@router.get("/collections/{collection_id}/queryables", summary="Properties the items can be filtered by",
            responses={200: {"content": {SCHEMA_JSON: {}}}, **problem_responses(404)})
def queryables(collection_id: str, request: Request, user: LayerReader) -> JSON:
    found = _checked(user, collection_id)
    spec = found.layer
    properties = {name: {"title": name, **schema} for name, schema in queryable_columns(spec).items()}
    if spec.geometry is not None:
        properties["geometry"] = {"format": _GEOMETRY_FORMATS[found.geometry_kind or "any"],
                                  "x-ogc-role": "primary-geometry"}
    return JSON({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url(request, "queryables", collection_id=collection_id),
        "type": "object",
        "title": found.title,
        "properties": properties,
        "additionalProperties": False,
    }, media_type=SCHEMA_JSON)


def _where(request: Request, spec: LayerSpec) -> dict[str, str]:
    """Property filters from the query string; unknown parameters are a 400 (as Part 1 asks)."""
    allowed = queryable_columns(spec)
    where = {}
    for name, value in request.query_params.multi_items():
        if name in ITEM_PARAMETERS:
            continue
        if name not in allowed:
            raise ValidationError(
                f"unknown query parameter {name[:60]!r}; parameters: {', '.join(sorted(ITEM_PARAMETERS))}, "
                f"and the queryables: {', '.join(allowed)}"
            )
        where[name] = value
    return where


def _bbox(text: str | None, code: int | None) -> tuple[float, float, float, float] | None:
    if text is None or text == "":
        return None
    if code is None:
        return bbox_param(text)
    return tuple(bbox_numbers(text))  # type: ignore[return-value]


def _content_crs(code: int | None) -> dict[str, str]:
    return {"Content-Crs": f"<{crs_mod.crs_uri(code)}>"}


def _precision(code: int | None) -> int | None:
    """Decimals of the coordinates: the default (~0.1 m) in degrees, millimetres in metres."""
    return None if crs_mod.is_geographic(code) else 3


@router.get(
    "/collections/{collection_id}/items",
    summary="The features of a collection",
    response_class=GeoJSON,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON FeatureCollection"},
               **problem_responses(400, 404)},
)
async def items(
    collection_id: str,
    request: Request,
    user: LayerReader,
    engine: EngineDep,
    township: TownshipParam,
    properties: PropertiesParam,
    limit: Annotated[int, Query(ge=1, description=f"page size (default {ogc.DEFAULT_LIMIT}; a larger "
                                                  f"value than {ogc.MAX_LIMIT} is served as {ogc.MAX_LIMIT})")
                     ] = ogc.DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="features to skip")] = 0,
    after: Annotated[int | None, Query(ge=0, le=2**31 - 1, description=(
        "keyset paging, as the next links send it: the features after this id (in id order; "
        "offset then only numbers the page). Not with sortby"))] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in CRS84 (longitude, latitude), "
                                                  "or in bbox-crs's axis order", max_length=200,
                                      examples=["105.0,37.3,105.4,37.6"])] = None,
    datetime: Annotated[str | None, Query(description="accepted for compatibility; the collections "
                                                      "have no temporal extent, so it filters nothing",
                                          max_length=100)] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200,
                                          description="CRS of bbox (one of the collection's crs)")] = None,
    crs: Annotated[str | None, Query(max_length=200, description="CRS of the returned coordinates "
                                                                 "(one of the collection's crs)")] = None,
    filter: Annotated[str | None, Query(max_length=20_000, description="a CQL2 filter, e.g. "
                                        "population > 500 AND S_INTERSECTS(geometry, BBOX(105,37,106,38))")
                      ] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang", max_length=40,
                                             description="cql2-text (default) or cql2-json")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs", max_length=200,
                                            description="CRS of the filter's geometries (default CRS84)")] = None,
    sortby: Annotated[str | None, Query(max_length=1000, description="queryables to sort by, comma-separated; "
                                                                     "-name for descending")] = None,
    f: Annotated[str | None, Query(max_length=20, description="json or geojson")] = None,
) -> GeoJSON:
    """GeoJSON features (no personal fields) in the caller's townships: ``limit``/``offset``
    paging with ``next`` links, ``bbox`` (+ ``bbox-crs``), ``crs``, any queryable as
    ``?property=value``, CQL2 ``filter`` and ``sortby``.

    A coroutine: a plain page or bbox page on PostGIS is read on the event loop
    (:func:`geo.services.ogc.read_items_async`); any other read runs in the thread pool."""
    found = _checked(user, collection_id)
    spec = found.layer
    if f not in (None, "json", "geojson"):
        raise HTTPException(406, "only GeoJSON is offered: leave f out or send f=json")
    out_crs = await _check_crs(engine, found, crs, name="crs")
    box_crs = await _check_crs(engine, found, bbox_crs, name="bbox-crs")
    where = _where(request, spec)
    names = list(queryable_columns(spec))
    cql = None
    if filter is not None and filter.strip():
        cql = await run_in_threadpool(_parse_filter, engine, found, filter, filter_lang, filter_crs, names)
    order = ogc.parse_sortby(sortby, names)
    if after is not None and order:
        raise HTTPException(400, "after pages in id order: leave it out with sortby and page with offset")
    scope = user.township_filter(township)
    box = _bbox(bbox, box_crs)
    options = dict(township=scope, bbox=box, bbox_crs=box_crs, where=where, cql=cql, sortby=order, crs=out_crs,
                   limit=limit, offset=offset, after=after)
    page = await ogc.read_items_async(engine, found, **options)  # None: not a read the event loop serves
    if page is None:
        page = await run_in_threadpool(functools.partial(ogc.read_items, engine, found, **options))
    chosen = select_properties(page.columns, properties)
    returned = len(page)
    served_limit = min(limit, ogc.MAX_LIMIT)
    # an estimated total never decides whether a next page exists (a full page always has one)
    # keyset paging in id order: the next link carries this page's last id
    links = page_links(request, limit=served_limit, offset=offset, returned=returned, media_type=GEOJSON,
                       matched=None if page.estimated or after is not None else page.matched,
                       after=page.ids[-1] if page.ids and not order else None)
    links.append({"href": _url(request, "collection", collection_id=found.id), "rel": "collection",
                  "type": "application/json", "title": found.title})
    body = {
        "type": "FeatureCollection",
        "features": row_features(page.ids, page.geometry, page.columns, page.rows, chosen,
                                 precision=_precision(out_crs)),
        "numberReturned": returned,
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    if page.matched is not None:
        body["numberMatched"] = page.matched
    return GeoJSON(body, headers=_content_crs(out_crs))


async def _check_crs(engine: Engine, found: ogc.Collection, value: str | None, *, name: str) -> int | None:
    """:func:`geo.services.ogc.check_crs`; in the thread pool only when a CRS is given (its
    check reads the layer's extent)."""
    if value is None or value == "":
        return None
    return await run_in_threadpool(functools.partial(ogc.check_crs, engine, found, value, name=name))


def _parse_filter(engine: Engine, found: ogc.Collection, text: str, lang: str | None, filter_crs: str | None,
                  names: list[str]):
    return ogc.parse_filter(text, lang=lang, queryables=names,
                            filter_crs=ogc.check_crs(engine, found, filter_crs, name="filter-crs"))


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    response_class=GeoJSON,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON Feature"},
               **problem_responses(400, 404)},
)
async def item(collection_id: str, feature_id: str, request: Request, user: LayerReader, engine: EngineDep,
               crs: Annotated[str | None, Query(max_length=200, description="CRS of the returned coordinates")] = None,
               ) -> GeoJSON:
    """One feature (no personal fields) in the caller's townships. A coroutine: read on the
    event loop on PostGIS, in the thread pool on SpatiaLite."""
    found = _checked(user, collection_id)
    if not feature_id.isdigit() or len(feature_id) > 9:
        raise HTTPException(404, f"there is no feature {feature_id[:20]!r} in {collection_id}; "
                                 "feature ids are whole numbers")
    out_crs = await _check_crs(engine, found, crs, name="crs")
    ids, scope = [int(feature_id)], user.township_filter()
    page = await ogc.read_items_async(engine, found, ids=ids, township=scope, crs=out_crs, limit=1)
    if page is None:
        page = await run_in_threadpool(functools.partial(ogc.read_items, engine, found, ids=ids, township=scope,
                                                         crs=out_crs, limit=1))
    if not len(page):
        raise HTTPException(404, f"there is no feature {feature_id} in {collection_id}")
    feature = row_features(page.ids, page.geometry, page.columns, page.rows, page.columns,
                           precision=_precision(out_crs))[0]
    feature["links"] = [
        {"href": str(request.url.replace(query="")), "rel": "self", "type": GEOJSON},
        {"href": _url(request, "collection", collection_id=found.id), "rel": "collection",
         "type": "application/json", "title": found.title},
    ]
    return GeoJSON(feature, headers=_content_crs(out_crs))


# ---------------------------------------------------------------------- OGC API - Tiles

MVT = "application/vnd.mapbox-vector-tile"
TILE_TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"


@router.get("/tileMatrixSets", summary="The tile matrix sets (WebMercatorQuad)", response_class=JSON)
def tile_matrix_sets(request: Request, user: LayerReader) -> JSON:
    return JSON({"tileMatrixSets": [{
        "id": "WebMercatorQuad", "title": "Google Maps Compatible for the World", "uri": tiles.TMS_URI,
        "links": [{"href": _url(request, "tile_matrix_set", tile_matrix_set_id="WebMercatorQuad"),
                   "rel": "self", "type": "application/json"}],
    }]})


@router.get("/tileMatrixSets/{tile_matrix_set_id}", summary="One tile matrix set", response_class=JSON,
            name="tile_matrix_set", responses=problem_responses(404))
def tile_matrix_set(tile_matrix_set_id: str, user: LayerReader) -> JSON:
    _check_tms(tile_matrix_set_id)
    return JSON(tiles.tile_matrix_set())


def _check_tms(tile_matrix_set_id: str) -> None:
    if tile_matrix_set_id != "WebMercatorQuad":
        raise HTTPException(404, f"tile matrix set {tile_matrix_set_id[:40]!r} is not offered; use WebMercatorQuad")


def _tileset(request: Request, found: ogc.Collection) -> dict:
    tile_url = _url(request, "collection_tileset", collection_id=found.id, tile_matrix_set_id="WebMercatorQuad")
    return {
        "title": f"{found.title} vector tiles",
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": tiles.TMS_URI,
        "links": [
            {"href": tile_url, "rel": "self", "type": "application/json"},
            {"href": _url(request, "tile_matrix_set", tile_matrix_set_id="WebMercatorQuad"),
             "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json"},
            {"href": f"{tile_url}/{TILE_TEMPLATE}", "rel": "item", "type": MVT, "templated": True},
        ],
        "layers": [{"id": found.id, "dataType": "vector", "geometryType": found.geometry_kind}],
    }


@router.get("/collections/{collection_id}/tiles", summary="The collection's vector tilesets",
            response_class=JSON, responses=problem_responses(404))
def collection_tilesets(collection_id: str, request: Request, user: LayerReader) -> JSON:
    found = _checked_tiled(user, collection_id)
    return JSON({"links": [{"href": str(request.url.replace(query="")), "rel": "self", "type": "application/json"}],
                 "tilesets": [_tileset(request, found)]})


@router.get("/collections/{collection_id}/tiles/{tile_matrix_set_id}", summary="A vector tileset",
            response_class=JSON, name="collection_tileset", responses=problem_responses(404))
def collection_tileset(collection_id: str, tile_matrix_set_id: str, request: Request, user: LayerReader) -> JSON:
    found = _checked_tiled(user, collection_id)
    _check_tms(tile_matrix_set_id)
    return JSON(_tileset(request, found))


def _checked_tiled(user: Principal, collection_id: str) -> ogc.Collection:
    found = _checked(user, collection_id)
    if found.layer.geometry is None:
        raise HTTPException(404, f"{collection_id} has no geometry and so no tiles")
    return found


@router.get(
    "/collections/{collection_id}/tiles/{tile_matrix_set_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="One vector tile (Mapbox Vector Tile); 204 when empty",
    responses={200: {"content": {MVT: {}}}, 204: {"description": "no feature in this tile"},
               **problem_responses(404)},
)
def collection_tile(collection_id: str, tile_matrix_set_id: str, tile_matrix: int, tile_row: int, tile_col: int,
                    user: LayerReader, engine: EngineDep, township: TownshipParam,
                    properties: PropertiesParam = None) -> Response:
    """The features in one tile, in the caller's townships, without personal fields; the MVT
    layer is named after the collection and feature ids are the items' ids. ``properties``
    keeps only those fields (as tipg's tiles do)."""
    found = _checked_tiled(user, collection_id)
    _check_tms(tile_matrix_set_id)
    data = ogc.vector_tile(engine, found, z=tile_matrix, row=tile_row, col=tile_col,
                           township=user.township_filter(township), properties=properties)
    if not data:
        return Response(status_code=204)
    return Response(data, media_type=MVT)
