"""``POST /api/imports``: a file upload into a layer, with the options of ``atlas import``.

The upload is refused before it is parsed when its declared size is over the limit
(``ATLAS_MAX_UPLOAD_MB``), and after when the bytes received are; a zip is extracted by
:func:`geo.io.uploads.safe_extract_zip` (no ``../`` or absolute members, no links, no
decompression bombs). The import itself is :func:`geo.io.import_file`, in one transaction,
audited with the caller's name.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.routing import APIRoute

from api.deps import Editor, EngineDep, SettingsDep
from api.errors import TITLES, problem
from api.geojson import JSON
from api.schemas.common import problem_responses
from geo.io import import_file
from geo.io.sources import SUFFIXES
from geo.layers import LAYERS
from geo.settings import Settings

MiB = 1024 * 1024
#: Room for the multipart envelope and the form fields around the file [bytes].
_ENVELOPE_BYTES = 64 * 1024


def max_upload_bytes(settings: Settings) -> int:
    return int(settings.max_upload_mb) * MiB


def _too_large(settings: Settings, size: int | None = None) -> HTTPException:
    got = f"{size / MiB:.1f} MiB is" if size is not None else "the upload is"
    return HTTPException(413, f"{got} larger than the upload limit of {settings.max_upload_mb} MiB "
                              "(ATLAS_MAX_UPLOAD_MB); split the file, or import it on the server with "
                              "atlas import")


class LimitedUploadRoute(APIRoute):
    """Refuses a request whose Content-Length is over the upload limit before the body is read
    (FastAPI parses the whole form before any dependency runs)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_upload_bytes(settings) + _ENVELOPE_BYTES:
                exc = _too_large(settings, int(declared))
                return problem(413, TITLES[413], exc.detail, "payload-too-large",
                               limit_bytes=max_upload_bytes(settings))
            return await handler(request)

        return limited


router = APIRouter(tags=["imports"], route_class=LimitedUploadRoute,
                   responses=problem_responses(401, 403, 413, 422))

_UNSAFE = re.compile(r"[^\w.\-()\[\] \u4e00-\u9fff]")


def _display_name(filename: str | None) -> str:
    """The upload's own file name, for messages: its last path part, printable, short."""
    name = PurePosixPath((filename or "upload").replace("\\", "/")).name or "upload"
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    return _UNSAFE.sub("_", name)[-120:] or "upload"


def _suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES and suffix != ".xls":
        raise HTTPException(422, f"{name}: unknown file type {suffix or '(none)'!r}; upload GeoJSON (.geojson), a "
                                 "zipped Shapefile (.zip), GeoPackage (.gpkg), KML/KMZ, CSV or XLSX")
    return suffix


def _save(upload: UploadFile, target: Path, settings: Settings) -> int:
    """Copy the upload to ``target``, refusing it (413) as soon as it passes the limit."""
    limit = max_upload_bytes(settings)
    size = 0
    upload.file.seek(0)
    with open(target, "wb") as sink:
        while block := upload.file.read(MiB):
            size += len(block)
            if size > limit:
                raise _too_large(settings, size)
            sink.write(block)
    if size == 0:
        raise HTTPException(422, f"{target.name}: the uploaded file is empty (0 bytes)")
    return size


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
    if user.township_ids is not None:
        raise HTTPException(403, "imports are refused for accounts limited to some townships: the importer "
                                 "cannot check that every row of a file lies inside them; ask a planner or "
                                 "administrator without a township limit to import the file")
    name = _display_name(file.filename)
    suffix = _suffix(name)
    folder = Path(tempfile.mkdtemp(prefix="atlas-upload-"))
    try:
        path = folder / f"upload{suffix}"
        _save(file, path, settings)
        report = import_file(engine, path, layer=layer, sheet=sheet, source_layer=source_layer, crs=crs,
                             encoding=encoding, mapping=map, year=year, dry_run=dry_run, strict=strict,
                             display_name=name, source=f"import:{name}", actor=user.actor)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    body = report.as_dict()
    if strict and report.refused_count:
        first = report.refused[0]
        where = f"{report.row_numbers} {first.row}: " if first.row is not None else ""
        return problem(422, TITLES[422], f"{name}: {report.refused_count} row(s) refused, nothing was written "
                       f"(strict). First: {where}{first.reason}. Fix the rows listed in report.refused and "
                       "upload again, or send strict=false to import the others", "import-refused", report=body)
    return JSON(body)
