"""``/ogc``: OGC API - Features (Part 1 Core, GeoJSON, OpenAPI 3.0; Part 3 queryables).

Every layer the caller may read is a collection; items never carry personal fields and
follow the caller's townships. Clients (QGIS, GDAL's OAPIF driver, OWSLib) send the same
credentials as any other client: ``Authorization: Bearer`` or ``X-API-Key``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from api.deps import CurrentUser, EngineDep, Principal, TownshipParam, check_layer
from api.geojson import GEOJSON, JSON, GeoJSON, frame_features, page_links
from api.params import MAX_LIMIT, BBoxParam, PropertiesParam, paging, select_properties
from api.schemas.common import problem_responses
from geo import storage
from geo.errors import ValidationError
from geo.layers import LAYERS, LayerSpec, get_layer

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"], responses=problem_responses(401, 403))

OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
#: Query parameters of the items operation that are not queryables.
ITEM_PARAMETERS = {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "properties", "f", "township"}
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string",
               dt.date: "string", dt.datetime: "string"}
_GEOMETRY_FORMATS = {"point": "geometry-point", "line": "geometry-multilinestring",
                     "polygon": "geometry-multipolygon", "any": "geometry-any"}


def _url(request: Request, name: str, **params) -> str:
    return str(request.url_for(name, **params))


@router.get("", summary="Landing page", response_class=JSON)
def landing(request: Request, user: CurrentUser) -> JSON:
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
        ],
    })


@router.get("/conformance", summary="Conformance classes", response_class=JSON)
def conformance(user: CurrentUser) -> JSON:
    return JSON({"conformsTo": CONFORMANCE})


@router.get("/api", summary="The OGC API's definition (OpenAPI 3.0)", name="ogc_openapi",
            responses={200: {"content": {OPENAPI_30: {}}}})
def ogc_openapi(request: Request) -> JSON:
    """The ``/ogc`` paths of this API as an OpenAPI 3.0 document (the oas30 conformance class);
    the whole API's OpenAPI 3.1 document is ``/openapi.json``."""
    from api.openapi30 import openapi_30

    document = openapi_30(request.app.openapi(), path_prefix="/ogc")
    return JSON(document, media_type=OPENAPI_30)


def _collection(request: Request, spec: LayerSpec, extent) -> dict:
    items = _url(request, "items", collection_id=spec.name)
    body = {
        "id": spec.name,
        "title": spec.label,
        "description": f"{spec.label} ({spec.name})" + (
            "; no geometry" if spec.geometry is None else f"; {spec.geometry_kind} geometry"),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            {"href": _url(request, "collection", collection_id=spec.name), "rel": "self",
             "type": "application/json", "title": spec.label},
            {"href": items, "rel": "items", "type": GEOJSON, "title": f"{spec.label} features"},
            {"href": _url(request, "queryables", collection_id=spec.name),
             "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": SCHEMA_JSON,
             "title": "queryable properties"},
        ],
    }
    if extent is not None:
        body["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return body


def _readable(user: Principal) -> list[LayerSpec]:
    return [spec for spec in LAYERS.values() if user.can_read_layer(spec.name)]


@router.get("/collections", summary="The feature collections you may read", response_class=JSON)
def collections(request: Request, user: CurrentUser, engine: EngineDep) -> JSON:
    scope = user.township_filter()
    return JSON({
        "links": [{"href": _url(request, "collections"), "rel": "self", "type": "application/json",
                   "title": "the collections"}],
        "collections": [_collection(request, spec, storage.layer_extent(engine, spec.name, township=scope))
                        for spec in _readable(user)],
    })


@router.get("/collections/{collection_id}", summary="One collection", response_class=JSON,
            responses=problem_responses(404))
def collection(collection_id: str, request: Request, user: CurrentUser, engine: EngineDep) -> JSON:
    check_layer(user, collection_id)
    spec = get_layer(collection_id)
    extent = storage.layer_extent(engine, spec.name, township=user.township_filter())
    return JSON(_collection(request, spec, extent))


def queryable_columns(spec: LayerSpec) -> dict[str, dict]:
    """JSON Schema of each property a client may filter the items by (``?name=value``)."""
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
def queryables(collection_id: str, request: Request, user: CurrentUser) -> JSON:
    check_layer(user, collection_id)
    spec = get_layer(collection_id)
    properties = {name: {"title": name, **schema} for name, schema in queryable_columns(spec).items()}
    if spec.geometry is not None:
        properties["geometry"] = {"format": _GEOMETRY_FORMATS[spec.geometry_kind or "any"],
                                  "x-ogc-role": "primary-geometry"}
    return JSON({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url(request, "queryables", collection_id=collection_id),
        "type": "object",
        "title": spec.label,
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
                f"unknown query parameter {name!r}; parameters: {', '.join(sorted(ITEM_PARAMETERS))}, "
                f"and the queryables: {', '.join(allowed)}"
            )
        where[name] = value
    return where


def _check_crs(bbox_crs: str | None, crs: str | None) -> None:
    for name, value in (("bbox-crs", bbox_crs), ("crs", crs)):
        if value not in (None, CRS84, "EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326"):
            raise ValidationError(f"{name} {value!r} is not supported; coordinates are in {CRS84}")


@router.get(
    "/collections/{collection_id}/items",
    summary="The features of a collection",
    response_class=GeoJSON,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON FeatureCollection"},
               **problem_responses(400, 404, 422)},
)
def items(
    collection_id: str,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    bbox: BBoxParam,
    township: TownshipParam,
    properties: PropertiesParam,
    page: Annotated[tuple[int, int], Depends(paging(10, MAX_LIMIT))],
    datetime: Annotated[str | None, Query(description="accepted for compatibility; the collections "
                                                      "have no temporal extent, so it filters nothing",
                                          max_length=100)] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200)] = None,
    crs: Annotated[str | None, Query(max_length=200)] = None,
    f: Annotated[str | None, Query(max_length=20, description="json or geojson")] = None,
) -> GeoJSON:
    """GeoJSON features (no personal fields), ``limit``/``offset`` paging with ``next`` links,
    ``bbox`` in CRS84, and any queryable as ``?property=value``."""
    check_layer(user, collection_id)
    spec = get_layer(collection_id)
    _check_crs(bbox_crs, crs)
    if f not in (None, "json", "geojson"):
        raise HTTPException(406, "only GeoJSON is offered: leave f out or send f=json")
    where = _where(request, spec)
    limit, offset = page
    scope = user.township_filter(township)
    frame = storage.read_layer(engine, spec.name, township=scope, bbox=bbox, where=where, limit=limit,
                               offset=offset)
    available = [c for c in frame.columns if c not in (frame.geometry.name, "id")
                 and c not in spec.secondary_geometries]
    names = select_properties(available, properties)
    returned = len(frame)
    if returned < limit and (returned > 0 or offset == 0):
        matched = offset + returned
    else:
        matched = storage.count_layer(engine, spec.name, township=scope, bbox=bbox, where=where)
    links = page_links(request, limit=limit, offset=offset, matched=matched, returned=returned,
                       media_type=GEOJSON)
    links.append({"href": _url(request, "collection", collection_id=spec.name), "rel": "collection",
                  "type": "application/json", "title": spec.label})
    return GeoJSON({
        "type": "FeatureCollection",
        "features": frame_features(frame, names),
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    })


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    response_class=GeoJSON,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON Feature"},
               **problem_responses(404)},
)
def item(collection_id: str, feature_id: str, request: Request, user: CurrentUser,
         engine: EngineDep) -> GeoJSON:
    check_layer(user, collection_id)
    spec = get_layer(collection_id)
    if not feature_id.isdigit() or len(feature_id) > 9:
        raise HTTPException(404, f"there is no feature {feature_id[:20]!r} in {collection_id}; "
                                 "feature ids are whole numbers")
    frame = storage.read_layer(engine, spec.name, ids=[int(feature_id)], township=user.township_filter())
    if frame.empty:
        raise HTTPException(404, f"there is no feature {feature_id} in {collection_id}")
    names = [c for c in frame.columns if c not in (frame.geometry.name, "id")
             and c not in spec.secondary_geometries]
    feature = frame_features(frame, names)[0]
    feature["links"] = [
        {"href": str(request.url.replace(query="")), "rel": "self", "type": GEOJSON},
        {"href": _url(request, "collection", collection_id=spec.name), "rel": "collection",
         "type": "application/json", "title": spec.label},
    ]
    return GeoJSON(feature)
