"""import_file: open the file, pick the pipeline, commit or roll back, audit."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pyproj import CRS
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from geo import heap, storage
from geo.db import require_schema
from geo.errors import ValidationError
from geo.io import coords, sources
from geo.io.fields import parse_fixed, parse_mapping
from geo.io.importer.context import Context
from geo.io.importer.report import ImportReport, Progress
from geo.io.importer.tables import import_tables
from geo.io.importer.vectors import import_vectors
from geo.io.importer.writer import Writer
from geo.io.uploads import ExtractLimits, safe_extract_zip
from geo.layers import get_layer
from geo.scratch import scratch_folder


def import_file(
    bind: storage.Bind,
    path: str | os.PathLike,
    *,
    layer: str,
    sheet: str | int | None = None,
    source_layer: str | None = None,
    crs: str | int | CRS | None = None,
    encoding: str | None = None,
    mapping: Sequence[str] | dict[str, str] | None = None,
    fixed: Sequence[str] | dict[str, Any] | None = None,
    year: int | None = None,
    dry_run: bool = False,
    strict: bool = False,
    exclusive: bool = False,
    progress: Progress | None = None,
    chunk_rows: int = sources.DEFAULT_CHUNK_ROWS,
    source: str | None = None,
    display_name: str | None = None,
    extract_limits: ExtractLimits = ExtractLimits(),
    actor=None,
) -> ImportReport:
    """Import a file into a layer, all-or-nothing (see the module docstring).

    Parameters
    ----------
    bind
        Engine (the import runs in its own transaction) or connection (a savepoint inside
        the caller's transaction).
    path
        GeoJSON, Shapefile (``.shp``, a folder, or a ``.zip``), GeoPackage, KML/KMZ, CSV or
        XLSX file.
    layer
        Target layer (``villages``, ``roads`` ...). A seed-000 form (附件1-5) is recognised
        by its headers and must be imported into its layer (附件1: ``pairings``, which also
        writes townships, villages, units and work teams; 附件2 and 附件5: ``unit_inputs``;
        附件3/4: ``projects``).
    sheet
        XLSX sheet by name or number (from 1); default: the sheets that hold the layer.
    source_layer
        Layer of a GeoPackage or KML file, or the Shapefile of a zip holding several.
    crs
        The coordinates' CRS when the file has none or has the wrong one (``EPSG:4544``), or
        ``gcj02`` / ``bd09`` for coordinates copied from Chinese web maps (converted to WGS 84).
    encoding
        Text encoding of a CSV or Shapefile (``gbk``, ``utf-8``); detected when not given.
    mapping
        ``["column=field", ...]`` or ``{column: field}`` for headers the importer does not know.
    fixed
        ``["field=value", ...]`` or ``{field: value}``: a value every row of the file gets
        (``--set``), e.g. the kind and status of wells in a KML without attributes; checked
        like the file's own cells.
    year
        Year of a form whose title gives none, and of every row of a table without a 年度 column.
    dry_run
        Check everything and report what would happen; write nothing.
    strict
        Write nothing if any row is refused or any geometry would need repair.
    exclusive
        Bulk mode for first or large loads (PostGIS): each written layer's table is locked
        (``ACCESS EXCLUSIVE``, with the tables its foreign keys refer to) for the whole import,
        its GiST and other non-unique indexes and its foreign keys are dropped while the rows
        go in, then rebuilt and validated before the commit (:mod:`geo.storage.bulk`). Readers
        of those tables wait until the import ends. Nothing changes on SpatiaLite; a dry run
        takes no lock.
    progress
        Called as ``progress(rows_done, rows_total_or_None)`` after each chunk.
    chunk_rows
        Rows read, checked and written at a time (memory stays flat on large files).
    source
        Provenance stored on rows without a ``source`` (default ``import:<file name>``).
    display_name
        File name shown in messages (an upload's original name).
    extract_limits
        Limits for zip archives (see :func:`geo.io.uploads.safe_extract_zip`).
    actor
        Who imports (:class:`geo.audit.Actor`): a committed import writes one audit entry
        (file, options and counts per layer) in its own transaction, so both land or neither.

    Returns
    -------
    ImportReport

    Raises
    ------
    ValidationError
        The file cannot be read or mapped, or its positions are outside China as a whole.
    NotFound
        Unknown layer.
    SchemaMissing
        The database has no atlas tables.
    DatabaseBusy
        With ``exclusive``: another transaction holds a table to be locked; nothing was written.
    """
    spec = get_layer(layer)
    path = Path(path)
    name = display_name or path.name
    heap.settle()  # the libraries' objects out of the full collections (a quarter of a bulk import)
    with _file_named(name):
        if not path.exists():
            raise ValidationError(f"{name}: no such file or folder")
        option = coords.parse_crs(crs) if crs is not None else None
        fmt = "shp" if path.is_dir() else sources.SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            if path.suffix.lower() == ".xls":
                raise ValidationError(f"{name}: old Excel .xls files are not read; save it as .xlsx "
                                      "(Excel or WPS: 另存为 .xlsx)")
            raise ValidationError(f"{name}: unknown file type {path.suffix!r}; import GeoJSON, Shapefile (.shp, folder "
                                  "or .zip), GeoPackage (.gpkg), KML, CSV or XLSX")
        if path.is_file() and path.stat().st_size == 0:
            raise ValidationError(f"{name}: the file is empty (0 bytes)")
        report = ImportReport(file=name, layer=spec.name, format=fmt, dry_run=dry_run, strict=strict,
                              exclusive=exclusive and not dry_run,
                              sheet=str(sheet) if sheet is not None else None, source_layer=source_layer)
        mapping_dict = parse_mapping(mapping, spec.name)
        fixed_dict = parse_fixed(fixed, spec.name)
        with ExitStack() as stack:
            if fmt == "zip":
                folder = stack.enter_context(scratch_folder("import"))
                safe_extract_zip(path, folder, limits=extract_limits)
                path, fmt = inner_file(folder, name, spec.name)
                report.format = f"zip/{fmt}"
            stack.enter_context(_database_errors(name))
            conn, transaction = stack.enter_context(storage.transaction(bind, write=True))
            require_schema(conn)
            writer = Writer(conn, report, strict=strict, source=source or f"import:{name}"[:200], fixed=fixed_dict,
                            exclusive=report.exclusive)
            stack.callback(writer.close)  # before the transaction ends: no write left running
            context = Context(writer=writer, report=report, layer=spec.name, name=name, option=option,
                               mapping=mapping_dict, progress=progress, chunk_rows=chunk_rows, year=year)
            if fmt in ("csv", "xlsx"):
                import_tables(context, path, fmt, sheet=sheet, encoding=encoding)
            else:
                import_vectors(context, path, fmt, source_layer=source_layer, encoding=encoding)
            writer.finish()
            if report.read == 0 and report.refused_count == 0:
                raise ValidationError(f"{name}: no data rows to import (the file has a header but no rows)"
                                      if report.row_numbers == "row" else f"{name}: the file holds no features")
            if dry_run or (strict and report.refused_count):
                transaction.rollback()
                report.committed = False
            else:
                writer.restore()  # an exclusive import's indexes and foreign keys, validated
                if actor is not None:
                    _audit_import(conn, actor, report)
                transaction.commit()
                report.committed = True
        return report


@contextmanager
def _file_named(name: str) -> Iterator[None]:
    """Every message about the import names the file as the user knows it (an upload's or a
    zip's name, not a member or a temporary copy): a message that does not is prefixed."""
    try:
        yield
    except ValidationError as exc:
        text = str(exc)
        if name in text:
            raise
        raise type(exc)(f"{name}: {text}") from None


@contextmanager
def _database_errors(name: str) -> Iterator[None]:
    """A statement the database refuses becomes a one-line :class:`ValidationError` naming the
    file (the transaction rolls back first: nothing written). Neither the statement nor its
    parameters appear (they can hold a household head's name or ID number), and quoted
    values in the database's own message are left out for the same reason."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        first = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()
        text = _QUOTED.sub("…", first[0]) if first else type(exc).__name__
        raise ValidationError(f"{name}: the database refused the rows ({text}); nothing was written. Check the "
                              "file's values against the layer's fields (atlas fields LAYER) and import again") from None


_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|\([^()]*\)=\([^()]*\)")


def _audit_import(conn: Connection, actor, report: ImportReport) -> None:
    from geo.audit import record

    record(conn, actor=actor, action="import", layer=report.layer, after={
        "file": report.file, "format": report.format, "read": report.read, "inserted": report.inserted,
        "updated": report.updated, "unchanged": report.unchanged, "refused": report.refused_count,
        "repaired": report.repaired_count, "strict": report.strict,
        "exclusive": report.exclusive, "layers": {name: asdict(c) for name, c in report.layers.items()},
    })


def inner_file(folder: Path, archive: str, layer: str) -> tuple[Path, str]:
    """The file to read inside an extracted zip: its Shapefile(s); for a layer without
    geometry a lone ``.dbf`` (as exports write them); else one other data file."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("._") and "__MACOSX" not in p.parts]
    shapefiles = [p for p in files if p.suffix.lower() == ".shp"]
    if shapefiles:
        return folder, "shp"
    tables = [p for p in files if p.suffix.lower() == ".dbf"]
    if len(tables) == 1 and get_layer(layer).geometry is None:
        return tables[0], "dbf"
    others = [p for p in files if p.suffix.lower() in (".geojson", ".json", ".gpkg", ".kml", ".kmz", ".csv", ".xlsx")]
    others = [p for p in others if p.name != "fields.csv"]
    if len(others) == 1:
        return others[0], sources.SUFFIXES[others[0].suffix.lower()]
    listing = sources.describe_files(sorted(files), folder)
    parts = {p.suffix.lower() for p in files}
    if ".dbf" in parts or ".shx" in parts:
        raise ValidationError(f"{archive} holds no .shp file (it has: {listing}); a zipped Shapefile needs the .shp, "
                              ".shx and .dbf files together")
    if len(others) > 1:
        raise ValidationError(f"{archive} holds several data files ({listing}); zip one, or unzip and import one")
    raise ValidationError(f"{archive} holds no .shp file or other data file (it has: {listing}); zip the "
                          "Shapefile's .shp, .shx, .dbf and .prj together")
