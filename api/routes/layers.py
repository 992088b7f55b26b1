"""``/api/layers``: every layer as GeoJSON, filtered and paged, without personal fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.deps import EngineDep, LayerReader, TownshipParam, check_layer
from api.geojson import GEOJSON, GeoJSON, frame_features, page_links
from api.params import BBoxParam, PropertiesParam, paging, select_properties
from api.schemas.common import problem_responses
from geo.errors import ValidationError
from geo.layers import LAYERS, get_layer
from geo.services import registry

router = APIRouter(prefix="/api/layers", tags=["layers"], responses=problem_responses(401, 403))


@router.get("", summary="The layers you may read, with their row counts")
def list_layers(user: LayerReader, engine: EngineDep, request: Request) -> list[dict]:
    """Every layer the caller may read: name, Chinese label, geometry kind, rows in the
    caller's townships, and a link to its GeoJSON."""
    readable = [spec for spec in LAYERS.values() if user.can_read_layer(spec.name)]
    counts = registry.counts(engine, [spec.name for spec in readable], township=user.township_filter())
    return [{
        "name": spec.name, "label": spec.label, "geometry": spec.geometry_kind,
        "category_field": spec.category_column, "count": counts[spec.name],
        "href": str(request.url_for("layer_geojson", layer=spec.name)),
    } for spec in readable]


@router.get(
    "/{layer}",
    response_class=GeoJSON,
    responses={200: {"content": {GEOJSON: {}}, "description": "a GeoJSON FeatureCollection"},
               **problem_responses(404, 422)},
    summary="A layer as GeoJSON",
)
def layer_geojson(
    layer: str,
    request: Request,
    user: LayerReader,
    engine: EngineDep,
    township: TownshipParam,
    bbox: BBoxParam,
    properties: PropertiesParam,
    page: Annotated[tuple[int, int], Depends(paging(1000))],
    category: Annotated[
        str | None,
        Query(description="value (or Chinese label) of the layer's category field: villages by "
                          "category, households by status, roads by surface, units, water and "
                          "projects by kind, cadres by rank; several separated by commas",
              max_length=200, examples=["key_poor"]),
    ] = None,
) -> GeoJSON:
    """A FeatureCollection of the layer (coordinates to 6 decimals, about 0.1 m), never with
    personal fields, limited to the caller's townships. Paged by ``limit``/``offset`` with
    ``numberMatched``, ``numberReturned`` and ``next``/``prev`` links."""
    check_layer(user, layer)
    spec = get_layer(layer)
    where = {}
    if category is not None:
        if spec.category_column is None:
            raise ValidationError(f"the {layer} layer has no category field; leave category out")
        where[spec.category_column] = [c.strip() for c in category.split(",") if c.strip()]
    scope = user.township_filter(township)
    limit, offset = page
    found = registry.page(engine, layer, township=scope, bbox=bbox, where=where, limit=limit, offset=offset)
    frame, matched = found.frame, found.matched
    available = [c for c in frame.columns if c != frame.geometry.name
                 and c not in spec.secondary_geometries]
    names = select_properties(available, properties)
    body = {
        "type": "FeatureCollection",
        "name": layer,
        "title": spec.label,
        "features": frame_features(frame, names),
        "numberMatched": matched,
        "numberReturned": len(frame),
        "links": page_links(request, limit=limit, offset=offset, matched=matched,
                            returned=len(frame), media_type=GEOJSON),
    }
    return GeoJSON(body)

