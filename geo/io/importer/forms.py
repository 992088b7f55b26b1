"""The pipeline of seed 000's forms (附件1-5), recognised by their headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import ValidationError
from geo.io import registry_forms, sources
from geo.io.importer.context import Context


def import_forms(ctx: Context, path: Path, sheets: list[sources.Sheet], layouts: dict[str, str | None]) -> None:
    report = ctx.report
    kinds = {layouts[s.name] for s in sheets}
    layout = sorted(kinds)[0]
    expected = registry_forms.LAYOUT_LAYER[layout]
    if expected != ctx.layer:
        extra = " (it also writes townships, villages, units and work teams)" if layout == "pairing_table" else ""
        raise ValidationError(f"{ctx.name} is a {registry_forms.LAYOUT_LABEL[layout]}; import it with --layer "
                              f"{expected}{extra}")
    report.layout = ", ".join(registry_forms.LAYOUT_LABEL[k] for k in sorted(kinds))
    for s in sheets:
        kind = layouts[s.name]
        rows = [cells for _, cells in s.rows()]
        if kind == "pairing_table":
            _import_pairing_table(ctx, rows, s)
        elif kind == "unit_input_form":
            form = registry_forms.unit_input_forms([(s.name, rows)], source=ctx.name, year=ctx.year)
            _write_form(ctx, form)
        elif kind == "funds_table":
            form = registry_forms.parse_funds_table(rows, source=f"{ctx.name}" + (f" sheet {s.name}" if s.kind == "xlsx" else ""),
                                                    year=ctx.year, merged=s.merged)
            _write_form(ctx, form)
        elif kind == "cadre_table":
            form = registry_forms.parse_cadre_table(rows, source=f"{ctx.name}" + (f" sheet {s.name}" if s.kind == "xlsx" else ""),
                                                    year=ctx.year, merged=s.merged)
            _write_form(ctx, form)
        if ctx.progress:
            ctx.progress(report.read, None)


def _write_form(ctx: Context, form: registry_forms.FormFrame) -> None:
    report = ctx.report
    for note in form.notes:
        report.warn(note)
    for row, sheet, reason in form.refused:
        report.refuse(row, reason, layer=form.layer, sheet=sheet)
    report.read += len(form.frame) + len(form.refused)
    if len(form.frame):
        ctx.writer.write(form.layer, form.frame, form.rows, form.sheets)


def _import_pairing_table(ctx: Context, rows: list[list[Any]], sheet: sources.Sheet) -> None:
    """附件1: townships, villages, units, pairings and work teams, in that order."""
    frames = registry_forms.pairing_table_frames(rows, source=ctx.name, year=ctx.year)
    writer = ctx.writer
    report = ctx.report
    report.read += len(frames.pairings)
    writer.write("townships", frames.townships, frames.rows["townships"])
    writer.write("villages", frames.villages, frames.rows["villages"])
    known = set(writer.resolver.units()["name"])
    units = frames.units
    is_new = ~units["name"].isin(known)
    unit_rows = np.array(frames.rows["units"], dtype=object)
    if is_new.any():
        writer.write("units", units.loc[is_new], list(unit_rows[is_new.to_numpy()]))
    if (~is_new).any():  # units already registered keep the kind and level someone gave them
        writer.write("units", units.loc[~is_new, ["name"]], list(unit_rows[(~is_new).to_numpy()]))
    writer.write("pairings", frames.pairings, frames.rows["pairings"])
    if len(frames.work_teams):
        writer.write("work_teams", frames.work_teams, frames.rows["work_teams"])
