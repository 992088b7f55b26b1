"""A monitoring report (:class:`geo.services.monitoring.Report`) written as XLSX or printed as
an A4 PDF by headless Chromium: shared by ``atlas monitor report`` and
``/api/monitoring/reports/{kind}``, which know nothing of each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geo.errors import ValidationError
from geo.monitoring.reports import report_html, write_xlsx
from maps.chromium import print_pdf

FORMATS = ("xlsx", "pdf")


def report_format(output: Path, format: str | None = None) -> str:
    """``xlsx`` or ``pdf``, from ``format`` or the file's suffix.

    Raises
    ------
    ValidationError
        Another format.
    """
    fmt = (format or output.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValidationError(f"{output.name}: a report is written as .xlsx or .pdf, not {fmt or 'no suffix'}")
    return fmt


def write_report(report: Any, output: Path, *, format: str | None = None) -> Path:
    """Write ``report`` (title, note, sheets) to ``output`` as XLSX or PDF (from its suffix
    unless ``format`` is given).

    Raises
    ------
    ValidationError
        Another format.
    RenderError
        Chromium could not print the PDF.
    """
    if report_format(output, format) == "xlsx":
        write_xlsx(output, title=report.title, note=report.note, sheets=report.sheets)
    else:
        print_pdf(report_html(title=report.title, note=report.note, sheets=report.sheets), output, offline=True)
    return output
