"""The pipeline of tables: CSV and XLSX (header found, sections and totals skipped, rows in chunks)."""

from __future__ import annotations

import re
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

import pandas as pd
from pyproj import CRS

from geo.errors import ValidationError
from geo.io import registry_forms, sources
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
    section: str | None = None
    sections_used = 0
    batch_rows: list[int] = []
    batch_cells: list[list[Any]] = []
    batch_sections: list[str | None] = []
    done = 0

    def flush() -> None:
        nonlocal batch_rows, batch_cells, batch_sections, done
        if not batch_rows:
            return
        raw = pd.DataFrame(batch_cells, columns=names, dtype=object)
        if section_field is not None and any(batch_sections):
            raw[section_field] = batch_sections
        geoms, why = geometry.build(raw)
        if geoms is not None and placement.crs is not None and geoms.crs is None:
            geoms = geoms.set_crs(placement.crs)
        write_chunk(ctx, raw, geoms, why, batch_rows, placement)
        done += len(batch_rows)
        report.read += len(batch_rows)
        if ctx.progress:
            ctx.progress(done, None)
        batch_rows, batch_cells, batch_sections = [], [], []

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
            heading = not note and len(columns.headers) > 1 and TOWNSHIP_SECTION.match(first) is not None
            if (note or heading) and _alone(cells):  # a row of one cell: a note, or a section naming a township
                if heading:
                    section = first
                    sections_used += 1
                continue
        batch_rows.append(number)
        batch_cells.append(pick(cells) if pick is not None and len(cells) >= width else
                           [cells[p] if p < len(cells) else None for p in positions])
        batch_sections.append(section)
        if len(batch_rows) >= ctx.chunk_rows:
            flush()
    flush()
    if sections_used and section_field:
        report.warn(f"{sections_used} section row(s) naming a township (乡镇) were read as the 乡镇 of the rows below them")


def _alone(cells: list[Any]) -> bool:
    """Whether one cell of the row holds something (a note, or a township's section row)."""
    return sum(1 for c in cells if (c.strip() if type(c) is str else not is_blank(c))) == 1


def _references(layer: str):
    from geo.io.fields import REFERENCES

    return REFERENCES.get(layer, ())
