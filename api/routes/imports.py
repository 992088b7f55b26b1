"""``POST /api/imports``: a file upload into a layer, with the options of ``atlas import``.

The upload is refused before it is parsed when its declared size is over the limit
(``ATLAS_MAX_UPLOAD_MB``), and as soon as the bytes received pass it
(:func:`api.uploads.upload_route`); a zip is extracted by
:func:`geo.io.uploads.safe_extract_zip` (no ``../`` or absolute members, no links, no
decompression bombs). The import itself is :func:`geo.services.imports.import_path`, in one transaction,
audited with the caller's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, UploadFile

from api.deps import Editor, EngineDep, SettingsDep
from api.errors import TITLES, problem
from api.geojson import JSON
from api.schemas.common import problem_responses
from api.uploads import UploadLimit, display_name, save_upload, upload_folder, upload_route
from geo.services import imports
from geo.io.sources import SUFFIXES
from geo.layers import LAYERS

#: One file per import, within ``ATLAS_MAX_UPLOAD_MB``.
IMPORT_LIMIT = UploadLimit("max_upload_mb", "upload", "split the file, or import it on the server with atlas import")

router = APIRouter(tags=["imports"], route_class=upload_route(IMPORT_LIMIT),
                   responses=problem_responses(401, 403, 413, 422))


def _suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES and suffix != ".xls":
        raise HTTPException(422, f"{name}: unknown file type {suffix or '(none)'!r}; upload GeoJSON (.geojson), a "
                                 "zipped Shapefile (.zip), GeoPackage (.gpkg), KML/KMZ, CSV or XLSX")
    return suffix


@router.post(
    "/api/imports",
    summary="Import a file into a layer (atlas import)",
    response_class=JSON,
    responses={200: {"description": "The import report (committed, or what a dry run would do)"}},
)
def create_import(
    user: Editor,
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, CSV or XLSX "
                                                 "(also seed 000's 附件1-5 forms)")],
    layer: Annotated[str, Form(description=f"target layer: {', '.join(LAYERS)}", max_length=40,
                               examples=["villages"])],
    sheet: Annotated[str | None, Form(description="XLSX sheet, by name or number from 1", max_length=100)] = None,
    source_layer: Annotated[str | None, Form(description="layer of a GeoPackage or KML file, or the Shapefile "
                                                         "inside a zip", max_length=200)] = None,
    crs: Annotated[str | None, Form(description="CRS of the coordinates when the file has none or a wrong one: "
                                                "EPSG:N, or gcj02 / bd09", max_length=40)] = None,
    encoding: Annotated[str | None, Form(description="text encoding of a CSV or Shapefile: gbk or utf-8 "
                                                     "(detected when not given)", max_length=20)] = None,
    map: Annotated[list[str] | None, Form(description="column=field for a header the importer does not know "
                                                      "(repeat the field), e.g. 村庄=name")] = None,
    fixed: Annotated[list[str] | None, Form(alias="set", description="field=value given to every row (repeat the field), e.g. "
                                                      "设施类型=水井 for a KML or GeoJSON without attributes")] = None,
    year: Annotated[int | None, Form(ge=1949, le=2100, description="year of a 附件 form whose title names "
                                                                   "none, or of every row without 年度")] = None,
    dry_run: Annotated[bool, Form(description="check everything and report; write nothing")] = False,
    strict: Annotated[bool, Form(description="write nothing if any row is refused or any geometry would "
                                             "need repair (default here: true; all or nothing)")] = True,
) -> Any:
    """The same import as ``atlas import``, in one transaction, with the same report: rows read,
    inserted, updated and unchanged per layer, geometries repaired, and every refused row with
    its file, row (spreadsheet row) or feature number and the reason.

    Unlike the command line, ``strict`` is on by default: an upload with a refused row writes
    nothing (422, with the report) unless ``strict=false`` is sent. Only roles that edit the
    registry may import, and only accounts not limited to some townships (the importer cannot
    check that every row lies inside them). A committed import is written to the audit log.
    """
    imports.refuse_limited(user.township_ids)  # before the upload is saved
    name = display_name(file.filename)
    _suffix(name)
    with upload_folder() as folder:
        path = folder / name  # saved under its own name: messages about the whole file name it
        save_upload(file, path, IMPORT_LIMIT, settings, name=name)
        report = imports.import_path(engine, path, layer=layer, sheet=sheet, source_layer=source_layer, crs=crs,
                                     encoding=encoding, mapping=map, fixed=fixed, year=year, dry_run=dry_run,
                                     strict=strict, display_name=name, source=f"import:{name}", actor=user.actor)
    body = report.as_dict()
    if strict and report.refused_count:
        first = report.refused[0]
        where = f"{report.row_numbers} {first.row}: " if first.row is not None else ""
        return problem(422, TITLES[422], f"{name}: {report.refused_count} row(s) refused, nothing was written "
                       f"(strict). First: {where}{first.reason}. Fix the rows listed in report.refused and "
                       "upload again, or send strict=false to import the others", "import-refused", report=body)
    return JSON(body)
