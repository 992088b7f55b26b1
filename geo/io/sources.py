"""Reading the files county offices have, in chunks: Shapefile (folder or zip), GeoJSON,
GeoPackage, KML, CSV and XLSX.

Everything here reads; nothing validates against the registry (that is
:mod:`geo.io.importer`). Vector files come through pyogrio, ``max_features`` rows at a time;
CSV through the ``csv`` module (so each row keeps its line number); XLSX through openpyxl's
read-only mode, streaming rows, with merged cells read from the sheet's XML. Row numbers in
messages are the numbers a user sees: spreadsheet rows (header = row 1) for tables, feature
numbers (from 1) for vector files.
"""

from __future__ import annotations

import codecs
import csv
import re
import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from geo.errors import ValidationError
from geo.tabular import FORMULA_START

#: File suffix -> format.
SUFFIXES = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".shp": "shp", ".zip": "zip", ".dbf": "dbf",
    ".geojson": "geojson", ".json": "geojson",
    ".gpkg": "gpkg",
    ".kml": "kml", ".kmz": "kml",
}
VECTOR_DRIVERS = {"shp": "ESRI Shapefile", "geojson": "GeoJSON", "gpkg": "GPKG", "kml": None}

#: ``--encoding`` spellings -> the Python codec used to read (GB18030 is a superset of GBK and GB2312).
ENCODINGS = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8",
    "gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "gb18030": "gb18030", "936": "gb18030",
    "big5": "big5", "cp950": "big5", "latin-1": "latin-1", "iso-8859-1": "latin-1",
}
#: Python codec -> the name GDAL (iconv) understands.
GDAL_ENCODINGS = {"utf-8": "UTF-8", "gb18030": "GB18030", "big5": "BIG5", "latin-1": "ISO-8859-1"}
#: DBF language driver ids of Chinese code pages (byte 29 of the header).
DBF_LDID = {0x4D: "gb18030", 0x7A: "gb18030", 0x78: "big5", 0x4E: "big5"}

DEFAULT_CHUNK_ROWS = 20_000


def codec_for(encoding: str) -> str:
    """The Python codec for an ``--encoding`` value.

    Raises
    ------
    ValidationError
        Unknown encoding, naming the accepted ones.
    """
    key = encoding.strip().lower().replace("_", "-")
    try:
        return ENCODINGS[key]
    except KeyError:
        raise ValidationError(
            f"--encoding {encoding!r} is not supported; use utf-8, gbk (also gb2312, gb18030, cp936) or big5"
        ) from None


def encoding_label(codec: str) -> str:
    return {"utf-8": "UTF-8", "gb18030": "GBK/GB18030", "big5": "Big5", "latin-1": "Latin-1"}.get(codec, codec)


# --------------------------------------------------------------------------------------
# Text encodings
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecodeFailure:
    line: int
    byte: int


def _first_decode_failure(path: Path, codec: str, *, block: int = 1 << 20) -> DecodeFailure | None:
    """Decode the whole file as a stream; where it first fails (line number and byte), or None."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    lines = 1
    with open(path, "rb") as handle:
        while True:
            data = handle.read(block)
            final = not data
            try:
                decoder.decode(data, final=final)
            except UnicodeDecodeError as exc:
                # exc.object holds the decoder's pending bytes followed by this block
                pending = len(exc.object) - len(data)
                bad_in_block = max(exc.start - pending, 0)
                lines += data[:bad_in_block].count(b"\n")
                byte = exc.object[exc.start] if exc.start < len(exc.object) else 0
                return DecodeFailure(lines, byte)
            if final:
                return None
            lines += data.count(b"\n")


def text_encoding(path: Path, encoding: str | None) -> tuple[str, bool]:
    """The codec to read a text file (CSV, GeoJSON, KML) with, and whether it was detected.

    Without ``encoding``: UTF-8 (with or without BOM) if the whole file decodes, else GBK
    (GB18030) if it does. With ``encoding``: that codec, checked on the whole file.

    Raises
    ------
    ValidationError
        The file does not decode: names the line and byte, and the encoding that would work.
    """
    if encoding is not None:
        codec = codec_for(encoding)
        failure = _first_decode_failure(path, codec)
        if failure is None:
            return codec, False
        other = next((c for c in ("utf-8", "gb18030") if c != codec and _first_decode_failure(path, c) is None), None)
        hint = (f"; it decodes as {encoding_label(other)}: import with --encoding "
                f"{'utf-8' if other == 'utf-8' else 'gbk'}") if other else (
            "; save it as UTF-8 (in Excel: 另存为 CSV UTF-8) and import again")
        raise ValidationError(
            f"{path.name} is not {encoding_label(codec)} text: line {failure.line} has the byte "
            f"0x{failure.byte:02x} that {encoding_label(codec)} cannot decode{hint}"
        )
    for codec in ("utf-8", "gb18030"):
        if _first_decode_failure(path, codec) is None:
            return codec, codec != "utf-8"
    failure = _first_decode_failure(path, "utf-8")
    raise ValidationError(
        f"{path.name} is neither UTF-8 nor GBK text (line {failure.line}, byte 0x{failure.byte:02x}); "
        "save it as UTF-8 and import again, or name its encoding with --encoding"
    )


# --------------------------------------------------------------------------------------
# DBF (Shapefile attributes) encodings
# --------------------------------------------------------------------------------------


def _dbf_text_samples(dbf: Path, *, max_records: int = 20_000) -> list[bytes]:
    """The raw bytes of the character fields of the first records of a DBF file."""
    with open(dbf, "rb") as handle:
        header = handle.read(32)
        if len(header) < 32:
            return []
        records, header_length, record_length = struct.unpack("<IHH", header[4:12])
        fields = []
        offset = 1  # the deletion flag
        while True:
            descriptor = handle.read(32)
            if not descriptor or descriptor[0] == 0x0D:
                break
            kind, length = chr(descriptor[11]), descriptor[16]
            if kind in "CM":
                fields.append((offset, length))
            offset += length
        if not fields or record_length == 0:
            return []
        handle.seek(header_length)
        samples = []
        for _ in range(min(records, max_records)):
            record = handle.read(record_length)
            if len(record) < record_length:
                break
            samples.extend(record[o:o + n].rstrip(b" \x00") for o, n in fields)
        return [s for s in samples if s]


def _dbf_ldid(dbf: Path) -> int:
    with open(dbf, "rb") as handle:
        header = handle.read(32)
    return header[29] if len(header) >= 30 else 0


def _decodes(samples: Sequence[bytes], codec: str) -> bool:
    try:
        for sample in samples:
            sample.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _cpg_codec(cpg: Path) -> str | None:
    text = cpg.read_text(encoding="ascii", errors="ignore").strip().lower()
    if not text:
        return None
    if text in ("65001", "utf-8", "utf8"):
        return "utf-8"
    if text in ("936", "gbk", "gb2312", "gb18030", "cp936", "ansi 936"):
        return "gb18030"
    return ENCODINGS.get(text)


def shapefile_encoding(shp: Path, encoding: str | None) -> tuple[str, str]:
    """The codec of a Shapefile's attributes and how it was decided (for the report).

    Order: ``--encoding``; the ``.cpg`` file; the DBF's language driver byte; else detected
    from the bytes (UTF-8 if they decode, else GBK). Each is checked against the first
    records' text.

    Raises
    ------
    ValidationError
        The named or declared encoding does not decode the text; the message says which does.
    """
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        raise ValidationError(f"{shp.name} has no {shp.stem}.dbf beside it; a Shapefile needs its .shp, .shx and .dbf")
    samples = _dbf_text_samples(dbf)
    cpg = next((p for p in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")) if p.exists()), None)
    if encoding is not None:
        codec, how = codec_for(encoding), f"--encoding {encoding}"
    elif cpg is not None and _cpg_codec(cpg):
        codec, how = _cpg_codec(cpg), f"{cpg.name}"
    elif DBF_LDID.get(_dbf_ldid(dbf)):
        codec, how = DBF_LDID[_dbf_ldid(dbf)], "the DBF's code page"
    else:
        for codec in ("utf-8", "gb18030"):
            if _decodes(samples, codec):
                return codec, ("no .cpg; the text decodes as UTF-8" if codec == "utf-8"
                               else "no .cpg; the text is not UTF-8 and decodes as GBK")
        raise ValidationError(
            f"{shp.name}: the attribute text is neither UTF-8 nor GBK; name the encoding with --encoding"
        )
    if not _decodes(samples, codec):
        other = next((c for c in ("utf-8", "gb18030") if c != codec and _decodes(samples, c)), None)
        hint = (f"; the text decodes as {encoding_label(other)}: import with --encoding "
                f"{'utf-8' if other == 'utf-8' else 'gbk'}") if other else "; name the right one with --encoding"
        raise ValidationError(
            f"{shp.name}: the attribute text is not {encoding_label(codec)} (as {how} says){hint}"
        )
    return codec, how


# --------------------------------------------------------------------------------------
# Raw tables (CSV, XLSX)
# --------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """Rows of one table: cell values as read (merged cells: top-left value, then blanks)."""

    name: str
    path: Path
    kind: str  # csv or xlsx
    codec: str | None = None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_row, min_col, max_row, max_col), 1-based
    book: Any = None  # XLSX: the workbook, opened once for all its sheets (opened_sheets)

    def rows(self, *, fill_merged: bool = False) -> Iterator[tuple[int, list[Any]]]:
        """``(row number, cells)`` for every row; ``fill_merged`` copies a vertically merged
        cell's value into the rows it covers (for plain lists where a merged 乡镇 cell
        applies to every row beside it)."""
        source = self._csv_rows() if self.kind == "csv" else self._xlsx_rows()
        if not fill_merged or not self.merged:
            yield from source
            return
        vertical = [m for m in self.merged if m[2] > m[0]]
        by_start: dict[int, list[tuple[int, int, int, int]]] = {}
        for m in vertical:
            by_start.setdefault(m[0], []).append(m)
        active: list[tuple[tuple[int, int, int, int], Any]] = []
        for number, cells in source:
            active = [(m, v) for m, v in active if m[2] >= number]
            for m, value in active:
                for col in range(m[1], m[3] + 1):
                    while len(cells) < col:
                        cells.append(None)
                    if col == m[1] and _blank(cells[col - 1]):
                        cells[col - 1] = value
            for m in by_start.get(number, []):
                value = cells[m[1] - 1] if len(cells) >= m[1] else None
                if not _blank(value):
                    active.append((m, value))
            yield number, cells

    def _csv_rows(self) -> Iterator[tuple[int, list[Any]]]:
        """Rows of an RFC 4180 CSV (see :func:`_sniff`); a row's number is the line it starts on."""
        with open(self.path, encoding="utf-8-sig" if self.codec == "utf-8" else self.codec, newline="") as handle:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            dialect = _sniff(sample)
            reader = csv.reader(handle, dialect)
            last = 0
            try:
                for cells in reader:
                    if "'" in "".join(cells):  # cell by cell only where a guard can be (rare)
                        cells = [c if c[:1] != "'" else _unguarded(c) for c in cells]
                    yield last + 1, cells
                    last = reader.line_num
            except csv.Error as exc:
                raise ValidationError(
                    f"{self.path.name} line {reader.line_num}: not a valid CSV row ({exc}); a quote inside a quoted "
                    'field must be doubled ("") and a quoted field must end with a quote (RFC 4180: save the file '
                    "as CSV from Excel or WPS)") from None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[Any]]]:
        rows = self.book[self.name].iter_rows(min_row=1, values_only=True)
        for number, values in enumerate(rows, start=1):
            yield number, list(values)


def _unguarded(cell: str) -> str:
    """A cell as written before :mod:`geo.tabular` guarded it against formulas: ``'=A1`` is
    read as ``=A1`` (Excel, too, takes a leading apostrophe as "this is text", not as part of
    it), so the atlas reads its own CSV exports back unchanged."""
    if cell.startswith("'") and cell[1:2] and cell[1] in FORMULA_START:
        return cell[1:]
    return cell


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


#: Column separators a table may use; the quoting is always RFC 4180's.
DELIMITERS = ",\t;|"


class Rfc4180(csv.Dialect):
    """RFC 4180: fields quoted with ``"``, a quote inside doubled (``""``), quoted fields may
    hold the delimiter and line breaks. ``strict`` makes a stray quote after a closing quote
    an error instead of a silent guess."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    escapechar = None
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True


def _sniff(sample: str) -> type[csv.Dialect]:
    """RFC 4180 with the file's delimiter (comma, tab, semicolon or bar).

    Only the delimiter is guessed, from the header row (the first record, read with RFC 4180
    quoting so a quoted header holding a comma or a line break does not mislead): the
    candidate outside quotes that splits it into the most fields; a comma when none does.
    Quoting is never guessed: ``csv.Sniffer`` decides ``doublequote`` from the lines it sees
    and, on a header without doubled quotes, reads ``"a""b"`` as ``a"b""`` (silently wrong).
    """
    header = _first_record(sample)
    counts = {d: _count_outside_quotes(header, d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    if counts[delimiter] == 0:
        delimiter = ","
    return type("FileDialect", (Rfc4180,), {"delimiter": delimiter})


def _first_record(sample: str) -> str:
    """The text of the first record: up to the first line break outside quotes."""
    inside = False
    for i, ch in enumerate(sample):
        if ch == '"':
            inside = not inside
        elif ch in "\r\n" and not inside:
            return sample[:i]
    return sample


def _count_outside_quotes(text: str, delimiter: str) -> int:
    inside, count = False, 0
    for ch in text:
        if ch == '"':
            inside = not inside
        elif ch == delimiter and not inside:
            count += 1
    return count


def _open_workbook(path: Path):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ValidationError(f"{path.name} is not a readable XLSX workbook ({exc}); save it as .xlsx from Excel or WPS") from None
    except Exception as exc:  # zipfile.BadZipFile and friends: a damaged or renamed file
        raise ValidationError(f"{path.name} is not a readable XLSX workbook ({type(exc).__name__}); "
                              "save it as .xlsx from Excel or WPS") from None


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.decode():
        number = number * 26 + (ord(ch) - 64)
    return number


def xlsx_merged_ranges(worksheet) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a read-only worksheet, read from its XML (openpyxl's read-only mode
    does not expose them); ``(min_row, min_col, max_row, max_col)``, 1-based."""
    ranges = []
    tail = b""
    with worksheet._get_source() as source:
        while block := source.read(1 << 20):
            data = tail + block
            for m in _MERGE.finditer(data):
                ranges.append((int(m.group(2)), _column_number(m.group(1)), int(m.group(4)), _column_number(m.group(3))))
            tail = data[-200:]
            # a match inside the overlap is found again next time: remove the duplicates below
    return sorted(set(ranges))


@contextmanager
def opened_sheets(path: Path, *, kind: str, codec: str | None = None) -> Iterator[list[Sheet]]:
    """The tables of a CSV (one) or an XLSX workbook (one per visible worksheet), the workbook
    opened once for every read of its sheets until the block ends."""
    if kind == "csv":
        yield [Sheet(name=path.stem, path=path, kind="csv", codec=codec)]
        return
    workbook = _open_workbook(path)  # once: opening parses every shared string of the file
    try:
        out = []
        for worksheet in workbook.worksheets:
            if getattr(worksheet, "sheet_state", "visible") != "visible":
                continue
            out.append(Sheet(name=worksheet.title, path=path, kind="xlsx", merged=xlsx_merged_ranges(worksheet),
                             book=workbook))
        yield out
    finally:
        workbook.close()


def pick_sheet(sheets: list[Sheet], sheet: str | int | None, path: Path) -> list[Sheet]:
    """The sheets ``--sheet`` names (by name or 1-based number), or all of them."""
    if sheet is None:
        return sheets
    names = [s.name for s in sheets]
    text = str(sheet).strip()
    for s in sheets:
        if s.name == text:
            return [s]
    if text.isdigit() and 1 <= int(text) <= len(sheets):
        return [sheets[int(text) - 1]]
    raise ValidationError(f"{path.name} has no sheet {text!r}; sheets: {', '.join(names)}")


# --------------------------------------------------------------------------------------
# Vector files (pyogrio)
# --------------------------------------------------------------------------------------


@dataclass
class VectorPart:
    """One layer of a vector file, read in chunks."""

    path: Path
    layer: str | None
    format: str
    codec: str | None = None
    encoding_note: str | None = None
    info: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.path.name if self.layer is None or self.format == "shp" else f"{self.path.name}:{self.layer}"

    @property
    def crs(self) -> CRS | None:
        text = self.info.get("crs")
        return CRS.from_user_input(text) if text else None

    @property
    def count(self) -> int | None:
        count = self.info.get("features")
        return int(count) if count is not None and count >= 0 else None

    @property
    def fields(self) -> list[str]:
        return [str(f) for f in self.info.get("fields", [])]

    def _options(self) -> dict:
        options: dict[str, Any] = {}
        if self.layer is not None:
            options["layer"] = self.layer
        if self.codec is not None and self.format == "shp":
            options["encoding"] = GDAL_ENCODINGS.get(self.codec, self.codec)
        return options

    def load_info(self) -> None:
        try:
            self.info = pyogrio.read_info(self.path, **self._options())
        except Exception as exc:
            if "codec can't decode" in str(exc):
                raise ValidationError(
                    f"{self.label}: the attribute table holds text that is not "
                    f"{encoding_label(self.codec or 'utf-8')} ({_one_line(exc)}); name the encoding with --encoding "
                    "(gbk or utf-8). A Chinese field name cut at DBF's 10-byte limit does this too: rename the "
                    "field to at most 3 Chinese characters"
                ) from None
            raise ValidationError(f"{self.label}: cannot be read as {self.format.upper()} ({_one_line(exc)})") from None

    def chunks(self, size: int) -> Iterator[tuple[np.ndarray, gpd.GeoDataFrame]]:
        """``(feature numbers, frame)`` chunks in file order."""
        start = 0
        while True:
            try:
                frame = pyogrio.read_dataframe(self.path, skip_features=start, max_features=size,
                                               **self._options())
            except ValueError as exc:
                if "skip_features" in str(exc) and start > 0:
                    return  # asked past the last feature
                raise ValidationError(f"{self.label}: cannot read features {start + 1}-{start + size} "
                                      f"({_one_line(exc)})") from None
            except Exception as exc:
                raise ValidationError(f"{self.label}: cannot read features {start + 1}-{start + size} "
                                      f"({_one_line(exc)})") from None
            if len(frame) == 0:
                return
            numbers = np.arange(start + 1, start + 1 + len(frame))
            frame.index = pd.RangeIndex(len(frame))
            yield numbers, frame
            start += len(frame)
            if len(frame) < size:
                return


#: An absolute path's folders (``/tmp/atlas-upload-x1/``): left out of messages, which name files only.
_FOLDERS = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][^/\\\s:'\"]+)+[/\\]")


def _one_line(exc: BaseException) -> str:
    """The first line of a reader's error, without the folders of any path it quotes (the
    server's temporary folders are nobody's business; the caller knows the file's name)."""
    text = str(exc).strip().splitlines()
    return _FOLDERS.sub("", text[0]) if text else type(exc).__name__


def list_layers(path: Path) -> list[tuple[str, str | None]]:
    """``(name, geometry type)`` of each layer of a GeoPackage, KML or GeoJSON file."""
    try:
        return [(str(name), None if kind is None else str(kind)) for name, kind in pyogrio.list_layers(path)]
    except Exception as exc:
        raise ValidationError(f"{path.name}: cannot be opened ({_one_line(exc)})") from None


def pick_layer(path: Path, layers: list[tuple[str, str | None]], wanted: str | None, target: str) -> str:
    """The layer to read: ``--source-layer``, the only one, or the one named like the target layer."""
    names = [n for n, _ in layers]
    if wanted is not None:
        if wanted in names:
            return wanted
        raise ValidationError(f"{path.name} has no layer {wanted!r}; layers: {', '.join(names)}")
    if len(names) == 1:
        return names[0]
    if target in names:
        return target
    if not names:
        raise ValidationError(f"{path.name} holds no layers")
    raise ValidationError(
        f"{path.name} holds {len(names)} layers ({', '.join(names)}); choose one with --source-layer"
    )


def shapefiles_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".shp")


def describe_files(paths: Sequence[Path], root: Path, limit: int = 12) -> str:
    names = [str(p.relative_to(root)) for p in paths if p.is_file()]
    shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
    return shown or "nothing"
