"""The pipeline of tables: CSV and XLSX (header found, sections and totals skipped, rows in chunks)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS

from geo.errors import ValidationError
from geo.io import prefetch, registry_forms, sources
from geo.io.fields import label, layer_fields
from geo.io.importer.context import Context, write_chunk
from geo.io.importer.forms import import_forms
from geo.io.importer.geometry import TableGeometry
from geo.io.importer.headers import NOTE_WORDS, TOTAL_WORDS, TOWNSHIP_SECTION, find_header, is_blank, map_columns
from geo.io.importer.placement import Placement
from geo.layers import get_layer


def import_tables(ctx: Context, path: Path, fmt: str, *, sheet: str | int | None, encoding: str | None) -> None:
    report = ctx.report
    codec = None
    if fmt == "csv":
        codec, detected = sources.text_encoding(path, encoding)
        report.encoding = sources.encoding_label(codec) + (" (detected)" if detected or encoding is None else "")
    elif encoding is not None:
        report.warn("--encoding is ignored for XLSX workbooks (they are always Unicode)")
    if fmt == "csv" and sheet is not None:
        report.warn("--sheet is ignored for a CSV file (it has one table)")
        sheet = None
    with sources.opened_sheets(path, kind=fmt, codec=codec) as every_sheet:
        _import_sheets(ctx, path, fmt, sources.pick_sheet(every_sheet, sheet, path), sheet=sheet)


def _import_sheets(ctx: Context, path: Path, fmt: str, sheets: list[sources.Sheet], *, sheet: str | int | None) -> None:
    report = ctx.report
    heads = {s.name: [cells for _, cells in islice(s.rows(), 40)] for s in sheets}
    layouts = {s.name: registry_forms.detect_layout(heads[s.name]) for s in sheets}
    found = {v for v in layouts.values() if v}
    if found:
        import_forms(ctx, path, [s for s in sheets if layouts[s.name]], layouts)
        return
    if all(not any(not is_blank(c) for row in heads[s.name] for c in row) for s in sheets):
        raise ValidationError(f"{ctx.name}: the file is empty (no rows)" if fmt == "csv" else
                              f"{ctx.name}: the workbook's sheets are empty")
    candidates = []
    for s in sheets:
        numbered = list(islice(s.rows(), 30))
        index = find_header(numbered, ctx.layer, ctx.mapping)
        if index is not None:
            candidates.append((s, numbered[index][0]))
    if not candidates:
        where = f"sheet {sheets[0].name}" if fmt == "xlsx" and len(sheets) == 1 else (
            f"sheets {', '.join(s.name for s in sheets)}" if fmt == "xlsx" else "the first rows")
        spec = get_layer(ctx.layer)
        example = "、".join(list(dict.fromkeys(label(ctx.layer, f) for f in layer_fields(ctx.layer)
                                              if f not in spec.geometry_columns))[:6])
        raise ValidationError(f"{ctx.name}: no header row naming fields of {ctx.layer} in {where}; expected headers "
                              f"such as {example}, 经度, 纬度 (or map columns with --map column=field)")
    if len(candidates) > 1 and sheet is None:
        report.warn(f"the workbook has {len(candidates)} sheets with {ctx.layer} headers; read "
                    f"{candidates[0][0].name} (choose another with --sheet): " + ", ".join(c[0].name for c in candidates))
    chosen, header_number = candidates[0]
    if fmt == "xlsx":
        report.sheet = chosen.name
    _stream_table(ctx, chosen, header_number)


def _stream_table(ctx: Context, sheet: sources.Sheet, header_number: int) -> None:
    report = ctx.report
    rows_iter = sheet.rows(fill_merged=sheet.kind == "xlsx")
    headers: list[Any] = []
    for number, cells in rows_iter:
        if number == header_number:
            headers = cells
            break
    columns = map_columns(headers, ctx.layer, ctx.mapping, source=ctx.name)
    report.columns = {columns.headers[i]: f for i, f in columns.fields.items()}
    report.ignored_columns = columns.ignored
    mapped = set(columns.fields.values())
    spec = get_layer(ctx.layer)
    placement = Placement(file_crs=None, option=ctx.option, source=ctx.name, report=report,
                           table_kind=("lonlat" if {"lon", "lat"} <= mapped else "xy" if {"x", "y"} <= mapped
                                       else "wkt" if "wkt" in mapped else None))
    geometry = TableGeometry(mapped, crs=ctx.option if isinstance(ctx.option, CRS) else None,
                              web=placement.web, layer=ctx.layer, source=ctx.name, report=report)
    if geometry.kind is None and spec.geometry is not None:
        needs = not spec.table.c[spec.geometry].nullable
        if needs:
            raise ValidationError(
                f"{ctx.name} has no coordinate columns (经度 and 纬度, X and Y with --crs, or WKT) and the "
                f"{ctx.layer} layer needs a geometry for every row; columns: {', '.join(columns.headers)}")
        if spec.geometry_kind == "point":
            report.warn("no coordinate columns (经度/纬度): rows are written without positions; stored positions are kept")
    section_field = None
    if "township_name" not in mapped and any("township_name" in ref.fields or "township_code" in ref.fields
                                             for ref in _references(ctx.layer)):
        section_field = "township_name"
    positions = list(columns.fields)
    names = [columns.fields[p] for p in positions]
    done = 0
    sections_used = 0
    # a large CSV is parsed in a child process while this one checks and writes the chunk
    # before (geo.io.prefetch); the same chunks either way
    child = sheet.kind == "csv" and sheet.path.stat().st_size >= PREFETCH_MIN_BYTES and prefetch.can_fork()
    chunks = partial(_chunks, rows_iter, positions, headers=len(columns.headers), chunk_rows=ctx.chunk_rows,
                     pack=partial(_pack, names=names, parse=geometry.parse) if child else None)
    with prefetch.prefetched(chunks, child=child) as received:
        for chunk in received:
            sections_used = chunk.sections_used
            if not chunk.rows:
                continue
            raw = pd.DataFrame(chunk.cells(), columns=names, dtype=object)
            if section_field is not None and any(chunk.sections):
                raw[section_field] = chunk.sections
            geoms, why = geometry.build(raw, chunk.parsed)
            if geoms is not None and placement.crs is not None and geoms.crs is None:
                geoms = geoms.set_crs(placement.crs)
            write_chunk(ctx, raw, geoms, why, chunk.rows, placement)
            done += len(chunk.rows)
            report.read += len(chunk.rows)
            if ctx.progress:
                ctx.progress(done, None)
    if sections_used and section_field:
        report.warn(f"{sections_used} section row(s) naming a township (乡镇) were read as the 乡镇 of the rows below them")


#: A CSV file at least this large is parsed in a child process [bytes] (about 10,000 rows of
#: households; below that the fork costs more than it saves).
PREFETCH_MIN_BYTES = 1 << 20

#: Separates a text column's cells when a chunk crosses from the reader process: one text per
#: column pickles and splits far faster than a list of 20,000 texts (used where no cell holds it).
_SEPARATOR = "\x1f"


@dataclass
class _Chunk:
    """Data rows of a table: their row numbers, cells (one tuple per row, or ``columns``, a
    column's cells each, from the reader process) and township sections; ``sections_used``:
    the section rows read so far."""

    rows: list[int]
    sections: list[str | None]
    sections_used: int
    tuples: list | None = None
    columns: list | None = None
    parsed: tuple | None = None  # the coordinates, parsed (TableGeometry.parse)

    def cells(self) -> list | np.ndarray:
        """The cells, as :class:`pandas.DataFrame` takes them (row tuples or a 2-D array)."""
        if self.columns is None:
            return self.tuples
        out = np.empty((len(self.rows), len(self.columns)), dtype=object)
        for j, column in enumerate(self.columns):
            out[:, j] = column.split(_SEPARATOR) if type(column) is str else column
        return out


def _pack(chunk: _Chunk, *, names: list[str], parse: Callable[[pd.DataFrame], tuple | None]) -> _Chunk:
    """In the reader process: the chunk by columns, each text column as one text (see
    :data:`_SEPARATOR`), with its coordinates parsed."""
    parsed = parse(pd.DataFrame(chunk.tuples, columns=names, dtype=object)) if chunk.rows else None
    columns = []
    for column in map(list, zip(*chunk.tuples)):
        if all(type(c) is str for c in column):
            joined = _SEPARATOR.join(column)
            if joined.count(_SEPARATOR) == len(column) - 1:
                column = joined
        columns.append(column)
    return _Chunk(chunk.rows, chunk.sections, chunk.sections_used, columns=columns, parsed=parsed)


def _chunks(rows_iter, positions: list[int], *, headers: int, chunk_rows: int,
            pack: Callable[[_Chunk], _Chunk] | None) -> Iterator[_Chunk]:
    """The data rows after the header, ``chunk_rows`` at a time, the cells at ``positions``:
    blank rows, totals (合计), notes and township section rows (a cell alone naming a 镇 or
    乡: the 乡镇 of the rows below it) left out. The last chunk may be empty (it carries the
    count of section rows)."""
    section: str | None = None
    sections_used = 0
    batch_rows: list[int] = []
    batch_cells: list = []
    batch_sections: list[str | None] = []
    width = max(positions, default=-1) + 1
    pick = itemgetter(*positions) if len(positions) > 1 else None
    for number, cells in rows_iter:
        head = cells[0] if cells else None
        filled = head if type(head) is str and head.strip() else \
            next((c for c in cells if (c.strip() if type(c) is str else not is_blank(c))), None)
        if filled is None:
            continue
        first = str(filled).strip()
        if "计" in first and re.sub(r"\s+", "", first) in TOTAL_WORDS:
            continue
        second = cells[1] if filled is head and len(cells) > 1 else None
        if isinstance(filled, str) and not (type(second) is str and second.strip()):  # (two cells: a data row)
            note = first.startswith(NOTE_WORDS)
            heading = not note and headers > 1 and TOWNSHIP_SECTION.match(first) is not None
            if (note or heading) and _alone(cells):  # a row of one cell: a note, or a section naming a township
                if heading:
                    section = first
                    sections_used += 1
                continue
        batch_rows.append(number)
        batch_cells.append(pick(cells) if pick is not None and len(cells) >= width else
                           tuple(cells[p] if p < len(cells) else None for p in positions))
        batch_sections.append(section)
        if len(batch_rows) >= chunk_rows:
            chunk = _Chunk(batch_rows, batch_sections, sections_used, tuples=batch_cells)
            yield pack(chunk) if pack is not None else chunk
            batch_rows, batch_cells, batch_sections = [], [], []
    chunk = _Chunk(batch_rows, batch_sections, sections_used, tuples=batch_cells)
    yield pack(chunk) if pack is not None else chunk


def _alone(cells: list[Any]) -> bool:
    """Whether one cell of the row holds something (a note, or a township's section row)."""
    return sum(1 for c in cells if (c.strip() if type(c) is str else not is_blank(c))) == 1


def _references(layer: str):
    from geo.io.fields import REFERENCES

    return REFERENCES.get(layer, ())
