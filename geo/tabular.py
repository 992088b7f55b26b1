"""Writing tables: every CSV the atlas writes goes through :func:`write_csv` or
:func:`csv_writer`; every text cell of an XLSX through :func:`xlsx_text`.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=cmd|' /C calc'!A0``, ``@SUM(...)``), and a leading tab or carriage return can hide one.
Following OWASP's advice on CSV injection, a *text* cell starting with one of those
characters is written with a leading apostrophe (``'=1+1``), which Excel and WPS show as the
text it was. Numbers stay numbers: ``-3`` from a numeric column is written as ``-3``; only
values that are Python/NumPy strings are touched. Quoting is RFC 4180 (``csv.QUOTE_MINIMAL``,
quotes doubled), and files carry a UTF-8 byte-order mark so Excel reads the Chinese headers.

XLSX (Office Open XML) cannot hold most control characters at all: openpyxl raises
``IllegalCharacterError`` on ``\x1b``. :func:`xlsx_safe_frame` shows each as its code
(``\x1b`` becomes ``<U+001B>``) so a workbook is always written and nothing is hidden.

Pure: this module imports only the standard library and pandas.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from typing import Any, TextIO

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text starting like a formula; else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` of each value of a row."""
    return [safe_cell(v) for v in values]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised; numeric columns untouched.
    The header is neutralised too (a column name can come from a user)."""
    out = pd.DataFrame(frame).copy()
    for position, column in enumerate(out.columns):
        values = out.iloc[:, position]
        if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
            # element by element into an object column: Series.map would infer a dtype and turn
            # integers beside a blank (1, None) into floats (1.0, NaN)
            out.isetitem(position, pd.Series([v if pd.isna(v) is True else safe_cell(v) for v in values],
                                             index=values.index, dtype=values.dtype))
    out.columns = [safe_cell(c) for c in out.columns]
    return out


class _SafeWriter:
    """A ``csv.writer`` whose rows pass through :func:`safe_row`."""

    def __init__(self, handle: TextIO, **options: Any):
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: TextIO, **options: Any) -> _SafeWriter:
    """Like :func:`csv.writer` (RFC 4180 quoting), with formula-like text cells neutralised.
    Open the file with ``newline=""`` (and ``encoding="utf-8-sig"`` for Excel)."""
    return _SafeWriter(handle, **options)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike | None = None, *, index: bool = False,
              bom: bool = True, lineterminator: str = "\r\n") -> str | None:
    """Write ``frame`` as CSV with formula-like text neutralised (see the module docstring).

    Parameters
    ----------
    frame
        The table; not changed.
    path
        The file to write; ``None`` returns the text instead (without a byte-order mark:
        encode it with ``utf-8-sig`` for Excel).
    index
        Write the frame's index as the first column.
    bom
        Start the file with a UTF-8 byte-order mark (Excel needs it for Chinese text).
    lineterminator
        Line ending (RFC 4180: CRLF).

    Returns
    -------
    str or None
        The CSV text when ``path`` is None.
    """
    safe = safe_frame(frame)
    if path is None:
        buffer = io.StringIO()
        safe.to_csv(buffer, index=index, lineterminator=lineterminator)
        return buffer.getvalue()
    safe.to_csv(path, index=index, encoding="utf-8-sig" if bom else "utf-8", lineterminator=lineterminator)
    return None


#: Characters XLSX cannot store (XML 1.0 forbids them; openpyxl's ILLEGAL_CHARACTERS_RE).
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_text(value: Any) -> Any:
    """``value`` with the characters XLSX cannot store shown as ``<U+001B>``; non-text unchanged."""
    if isinstance(value, str) and XLSX_ILLEGAL.search(value):
        return XLSX_ILLEGAL.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)
    return value


def xlsx_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and header) an XLSX sheet can hold."""
    out = pd.DataFrame(frame).copy()
    for position in range(out.shape[1]):
        values = out.iloc[:, position]
        if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
            out.isetitem(position, pd.Series([v if pd.isna(v) is True else xlsx_text(v) for v in values],
                                             index=values.index, dtype=values.dtype))
    out.columns = [xlsx_text(c) for c in out.columns]
    return out


def print_a4(sheet: Any, *, title_rows: str, landscape: bool = False, margin_in: float = 0.5) -> None:
    """Set an openpyxl worksheet up to print on A4 as the county's forms are printed: the
    header rows ``title_rows`` (e.g. ``"1:3"``) repeated on every page, one page wide,
    centred, ``margin_in`` inches left and right."""
    sheet.print_title_rows = title_rows
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = margin_in
