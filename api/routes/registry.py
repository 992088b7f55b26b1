"""``/api/registry/{resource}``: list, read, create, change and delete registry records.

One router per layer is built from that layer's schema family (``api.schemas.registry``), so
every resource behaves the same and documents its own fields. Changes need the version the
client read (``If-Match: "3"`` or ``"version": 3`` in the body): a stale one is refused
with 412 (If-Match) or 409 (body), never silently overwritten. Every change is audited.
"""


from functools import cache
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Body,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
)

from api.deps import CurrentUser, Editor, EngineDep, TownshipParam, check_layer
from api.geojson import JSON, frame_records, page_links, record_json
from api.params import IF_MATCH_HELP, RowId, etag, expected_version, paging
from api.schemas.common import problem_responses
from api.schemas.registry import SCHEMAS, ResourceSchemas
from geo.layers import LAYERS, LayerSpec
from geo.services import personal, registry

PREFIX = "/api/registry"
def _filters(spec: LayerSpec) -> list[str]:
    return [c for c in ("township_id", "village_id", "unit_id") if c in spec.table.c]


def _build(spec: LayerSpec, schemas: ResourceSchemas) -> APIRouter:
    layer = spec.name
    router = APIRouter(prefix=f"{PREFIX}/{layer}", tags=[f"registry: {layer}"],
                       responses=problem_responses(401, 403))
    Public, Create, Update, Page = schemas.public, schemas.create, schemas.update, schemas.page
    filter_columns = _filters(spec)

    def list_rows(
        request: Request,
        user: CurrentUser,
        engine: EngineDep,
        township: TownshipParam,
        page: Annotated[tuple[int, int], Depends(paging(100, 1000))],
        village_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
        unit_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
        township_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
        category: Annotated[str | None, Query(max_length=100)] = None,
    ) -> Any:
        check_layer(user, layer)
        where = {}
        for name, value in (("village_id", village_id), ("unit_id", unit_id), ("township_id", township_id)):
            if value is not None:
                where[name] = value
        if category is not None and spec.category_column:
            where[spec.category_column] = category
        scope = user.township_filter(township)
        limit, offset = page
        found = registry.page(engine, layer, township=scope, where=where, limit=limit, offset=offset)
        matched = found.matched
        items = frame_records(found.frame, geometry_name="geometry" if spec.geometry else None)
        return JSON({"items": items, "numberMatched": matched, "numberReturned": len(items),
                     "links": page_links(request, limit=limit, offset=offset, matched=matched,
                                         returned=len(items), media_type="application/json")})

    list_rows = _drop_unused_filters(list_rows, filter_columns, spec)
    router.add_api_route(
        "", list_rows, methods=["GET"], response_model=Page, name=f"list_{layer}",
        summary=f"List {spec.label} ({layer})",
        description=f"{spec.label} rows in the caller's townships, in id order, paged.",
        responses=problem_responses(404, 422),
    )

    def read_row(row_id: RowId, response: Response, user: CurrentUser, engine: EngineDep) -> Any:
        check_layer(user, layer)
        row = registry.read(engine, layer, row_id, township=user.township_filter())
        response.headers["ETag"] = etag(row["version"])
        return record_json(row)

    router.add_api_route(
        "/{row_id}", read_row, methods=["GET"], response_model=Public, name=f"get_{layer}",
        summary=f"One {spec.label} ({layer}) row", responses=problem_responses(404, 422),
        description="The row with its ETag (its version), which a change must send back as If-Match.",
    )

    def create_row(
        request: Request,
        response: Response,
        user: Editor,
        engine: EngineDep,
        body: Annotated[Create, Body()],
    ) -> Any:
        values = body.model_dump(exclude_unset=True)
        source = values.pop("source", None) or "user"
        row = registry.create(engine, layer, values, actor=user.actor, township=user.write_scope,
                              source=source)
        response.status_code = 201
        response.headers["ETag"] = etag(row["version"])
        response.headers["Location"] = str(request.url_for(f"get_{layer}", row_id=row["id"]))
        return record_json(row)

    router.add_api_route(
        "", create_row, methods=["POST"], response_model=Public, status_code=201, name=f"create_{layer}",
        summary=f"Add a {spec.label} ({layer}) row", responses=problem_responses(409, 422),
        description="Enum fields take the English value or the Chinese label. A row whose natural "
                    "key exists already is refused (409); change that row instead.",
    )

    def update_row(
        row_id: RowId,
        response: Response,
        user: Editor,
        engine: EngineDep,
        body: Annotated[Update, Body()],
        if_match: Annotated[str | None, Header(description=IF_MATCH_HELP, max_length=100)] = None,
    ) -> Any:
        changes = body.model_dump(exclude_unset=True)
        version = expected_version(if_match, changes.pop("version", None))
        row = registry.update(engine, layer, row_id, changes, version=version, actor=user.actor,
                              township=user.write_scope)
        response.headers["ETag"] = etag(row["version"])
        return record_json(row)

    router.add_api_route(
        "/{row_id}", update_row, methods=["PATCH"], response_model=Public, name=f"update_{layer}",
        summary=f"Change a {spec.label} ({layer}) row",
        responses=problem_responses(404, 409, 412, 422, 428),
        description="Only the fields sent change. Needs the version you read (If-Match or body); "
                    "a stale version gets 412 (If-Match) or 409 (body) with the current version.",
    )

    def delete_row(
        row_id: RowId,
        user: Editor,
        engine: EngineDep,
        if_match: Annotated[str | None, Header(description=IF_MATCH_HELP, max_length=100)] = None,
        version: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="the version you read")] = None,
    ) -> Response:
        expected = expected_version(if_match, version)
        registry.delete(engine, layer, row_id, version=expected, actor=user.actor,
                        township=user.write_scope)
        return Response(status_code=204)

    router.add_api_route(
        "/{row_id}", delete_row, methods=["DELETE"], status_code=204, name=f"delete_{layer}",
        summary=f"Delete a {spec.label} ({layer}) row", response_class=Response,
        responses=problem_responses(404, 409, 412, 422, 428),
        description="Needs the version you read. Refused (409) while other rows refer to it.",
    )
    return router


def _drop_unused_filters(endpoint, keep: list[str], spec: LayerSpec):
    """Remove the filter parameters a layer does not have from the endpoint's signature, so the
    OpenAPI document lists only real filters."""
    import inspect

    signature = inspect.signature(endpoint)
    unused = {"village_id", "unit_id", "township_id"} - set(keep)
    if spec.category_column is None:
        unused.add("category")
    params = [p for name, p in signature.parameters.items() if name not in unused]
    endpoint.__signature__ = signature.replace(parameters=params)
    return endpoint


def personal_router() -> APIRouter:
    """The one path to a household head's name and ID number, for roles that may see them."""
    router = APIRouter(prefix=f"{PREFIX}/households", tags=["registry: households"],
                       responses=problem_responses(401, 403, 404))

    @router.get("/{row_id}/personal", summary="A household's personal fields (role-checked, audited)")
    def household_personal(row_id: RowId, user: CurrentUser, engine: EngineDep) -> dict:
        """The household head's name and ID number. Only for roles that may see personal data
        (administrators and planners; inspectors through their own inspection plans). Every
        read is written to the audit log."""
        if user.via == "anonymous":
            raise HTTPException(401, "log in first: personal data needs an account",
                                headers={"WWW-Authenticate": 'Bearer realm="atlas"'})
        if not user.can_see_names():
            raise HTTPException(403, "your role may not see household heads' names or ID numbers")
        return personal.household_personal(engine, row_id, township=user.township_filter(), actor=user.actor)

    return router


@cache
def routers() -> tuple[APIRouter, ...]:
    """The registry's routers, built once per process: every application includes the same
    ones, as it does the modules' routers (FastAPI keeps what an inclusion adds, the
    application's dependencies and paths, in the application). Building them took 0.2-0.3 s
    of CPU, two thirds of :func:`api.app.create_app`, each time an application was made."""
    return (personal_router(), *(_build(spec, SCHEMAS[name]) for name, spec in LAYERS.items()))
