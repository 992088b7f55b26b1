"""``/api/exports/{layer}``: the file ``atlas export`` writes, streamed as a download.

The same function (:func:`geo.io.export.export_layer`) writes it, through
:func:`geo.services.exports.export_download`, into a temporary folder, which is removed once
the response is sent. The caller's read permission on the layer and
township scope apply; personal household fields (head's name, ID number) are left out unless
asked for with ``include_pii`` by a role that may see them, and such an export is audited.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.deps import CurrentUser, EngineDep, TownshipParam, check_layer, township_tag
from api.downloads import MEDIA_TYPES, content_disposition
from api.schemas.common import problem_responses
from geo.layers import LAYERS
from geo.services.exports import export_download, remove_download

router = APIRouter(prefix="/api/exports", tags=["exports"], responses=problem_responses(401, 403, 404, 422))

ExportFormat = Literal["gpkg", "geojson", "shp", "csv", "xlsx"]


@router.get(
    "/{layer}",
    summary="Download a layer as GeoPackage, GeoJSON, zipped Shapefile, CSV or XLSX",
    response_class=FileResponse,
    responses={200: {"description": "the file atlas export writes",
                     "content": {MEDIA_TYPES[f]: {"schema": {"type": "string", "format": "binary"}}
                                 for f in ("gpkg", "geojson", "shp", "xlsx")} | {"text/csv": {}}}},
)
def export(
    layer: str,
    user: CurrentUser,
    engine: EngineDep,
    township: TownshipParam,
    format: Annotated[ExportFormat, Query(
        description="gpkg, geojson (English field names), shp (a zip), csv or xlsx (Chinese headers and labels)",
    )] = "gpkg",
    include_pii: Annotated[bool, Query(
        description="households: include the heads' names and ID numbers (personal data; only roles that may "
                    "see them; audited)")] = False,
) -> FileResponse:
    """Same as ``atlas export LAYER --format F``, in the caller's townships."""
    check_layer(user, layer)
    scope = user.township_filter(township)
    path, _ = export_download(engine, layer, format=format, township=scope, include_pii=include_pii,
                              may_see_names=user.can_see_names(), actor=user.actor)
    tag = f"_{township_tag(township)}" if township is not None else ""
    suffix = path.suffix
    disposition = content_disposition(f"{layer}{tag}{suffix}", f"{LAYERS[layer].label}{tag}{suffix}")
    return FileResponse(path, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition},
                        background=BackgroundTask(remove_download, path))
