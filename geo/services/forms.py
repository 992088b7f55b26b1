"""Seed 000's forms written from the registry (``atlas forms export``): read the layers, pick
the year, lay them out with :mod:`geo.io.forms_export`, save."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo import storage
from geo.errors import ValidationError
from geo.io.forms_export import annex1_workbook
from geo.storage import Bind

#: The forms ``atlas forms export`` writes.
FORMS = {"annex1": "附件1 帮扶贫困村安排表"}


@dataclass(frozen=True)
class FormExport:
    """What was written: the form, its year, how many pairing rows and villages."""

    form: str
    year: int
    pairings: int
    villages: int
    path: Path


def export_form(bind: Bind, form: str, output: Path, *, year: int | None = None,
                township: str | int | None = None) -> FormExport:
    """Write ``form`` (``annex1``) for ``year`` (default: the latest year with pairings) to
    ``output`` (.xlsx), limited to ``township`` when given.

    Raises
    ------
    ValidationError
        An unknown form, a file that is not .xlsx, or a year with no pairings (naming those
        with some).
    NotFound
        An unknown township.
    """
    if form not in FORMS:
        raise ValidationError(f"form {form!r} is not known; forms: {', '.join(FORMS)}")
    if Path(output).suffix.lower() != ".xlsx":
        raise ValidationError(f"output {str(output)!r} must end in .xlsx")
    pairings = storage.read_layer(bind, "pairings", township=township)
    years = sorted({int(y) for y in pairings["year"].dropna()}, reverse=True)
    if not years:
        raise ValidationError("no pairings to export; import 附件1 first (atlas import FILE --layer pairings)")
    chosen = years[0] if year is None else int(year)
    if chosen not in years:
        raise ValidationError(f"year {chosen} has no pairings; years with pairings: {', '.join(map(str, years))}")
    pairings = pairings[pairings["year"] == chosen]
    teams = storage.read_layer(bind, "work_teams", township=township)
    villages = storage.read_layer(bind, "villages", township=township, columns=["category"], with_names=False)
    workbook = annex1_workbook(pairings, teams[teams["year"] == chosen], villages, year=chosen)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(output)
    return FormExport(form=form, year=chosen, pairings=len(pairings),
                      villages=pairings["village_id"].nunique(), path=output)
