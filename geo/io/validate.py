"""Cell values and geometries checked against a layer's fields, column by column.

Each check returns the converted values and, per row, the reason it is refused (or None).
Numbers accept thousands separators and full-width digits, booleans 是/否 有/无 √/×,
enums their English value or Chinese label, dates ``2019-06-30``, ``2019/6/30`` and
``2019年6月30日``. Personal fields never quote their value in a message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from geo.enums import LabeledEnum
from geo.layers import GEOMETRY_TYPE_NAMES

#: Cell texts that mean "no value" in a non-text field.
MISSING_TOKENS = frozenset({"", "-", "--", "—", "/", "null", "none", "nan", "n/a", "#n/a"})
TRUE_TOKENS = frozenset({"是", "有", "true", "t", "1", "yes", "y", "√", "✓", "✔", "对", "通", "已"})
FALSE_TOKENS = frozenset({"否", "无", "false", "f", "0", "no", "n", "×", "✗", "没有", "未", "不通"})

Reasons = pd.Series  # of str | None, aligned with the values


def _texts(values: pd.Series, *, nfkc: bool = True) -> pd.Series:
    """Cells as stripped strings (pd.NA for missing); integral floats lose their ``.0``.

    ``nfkc`` folds full-width digits and signs (for numbers, dates, enums); text fields keep
    their characters as written (a name's full-width brackets stay).
    """

    def one(value):
        if value is None or value is pd.NA or value is pd.NaT:
            return pd.NA
        if isinstance(value, float):
            if np.isnan(value):
                return pd.NA
            if value.is_integer() and abs(value) < 1e15:
                return str(int(value))
            return repr(value)
        if isinstance(value, (np.floating,)):
            return one(float(value))
        if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
            return value.isoformat()
        return str(value)

    cells = values.to_numpy(dtype=object).tolist()
    if set(map(type, cells)) <= {str, type(None)}:  # a CSV's cells: no conversion cell by cell
        texts = [None if v is None else v.strip() for v in cells]
        if not nfkc or _joined(texts).isascii():  # ASCII is its own NFKC form
            return pd.Series(texts, index=values.index, dtype="string")
        texts = pd.Series(texts, index=values.index, dtype="string")
    else:
        texts = pd.Series([one(v) for v in cells], index=values.index, dtype="string")
    return (texts.str.normalize("NFKC") if nfkc else texts).str.strip()


def _message(label: str, value: object, problem: str, pii: bool) -> str:
    if pii:
        return f"{label}: {problem} (value not shown: personal data)"
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{label} {text!r}: {problem}"


@dataclass(frozen=True)
class Checked:
    values: pd.Series
    reasons: pd.Series  # str where refused, None elsewhere


def _reasons(index: pd.Index) -> pd.Series:
    return pd.Series([None] * len(index), index=index, dtype=object)


#: Largest value of each integer column type [-]: what the database can store.
INTEGER_RANGE = {"SmallInteger": 2**15 - 1, "Integer": 2**31 - 1, "BigInteger": 2**63 - 1}

#: Control characters refused in text: C0 except tab, line feed and carriage return (which
#: a quoted CSV field may hold), DEL and C1. NUL cannot be stored by PostgreSQL at all; ESC
#: and the others are invisible and end up in exports and spreadsheets.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def holds_control_characters(texts) -> bool:
    """Whether any of ``texts`` (None and non-text values skipped) holds a control character:
    one search over the column as one text, before looking row by row."""
    return CONTROL_CHARACTERS.search(_joined(texts, "\n")) is not None


def _joined(texts, separator: str = "") -> str:
    """The texts among ``texts`` joined (None and non-text values left out): at once where all
    are texts (a CSV's cells), else looked at one by one."""
    if type(texts) is not list:
        texts = list(texts)
    try:
        return separator.join(texts)
    except TypeError:
        return separator.join(t for t in texts if type(t) is str)


def control_character(text: str) -> str | None:
    """Why ``text`` is refused for its control characters (without quoting it), or None."""
    match = CONTROL_CHARACTERS.search(text)
    if match is None:
        return None
    return (f"holds the control character U+{ord(match.group()):04X} at character {match.start() + 1}; "
            "remove it (control characters are not stored)")


def _plain_numbers(cells: np.ndarray) -> np.ndarray:
    """Each text cell as a float, NaN where it is not a plain number (as ``pd.to_numeric``
    with ``errors="coerce"``). ASCII without ``_`` (which ``float`` reads as a digit separator,
    like digits of other scripts) is parsed by ``float`` cell by cell in C, 2-3x faster."""
    joined = _joined(cells.tolist())
    if joined.isascii() and "_" not in joined:
        try:
            return cells.astype(float)
        except ValueError:  # a cell that is not a number: each one is found below
            pass
    return pd.to_numeric(cells, errors="coerce").astype(float)


def check_numbers(values: pd.Series, *, label: str, integer: bool, pii: bool = False,
                  maximum: float | None = None, minimum: float | None = None) -> Checked:
    """Numbers (integers with ``integer``), refusing what is not one, is not finite, or lies
    outside ``minimum``..``maximum`` (integers: also outside what the column type stores)."""
    texts = _texts(values)
    # most columns are plain numbers: parsed at once; the cleaning below only when one is not
    plain = _plain_numbers(texts.to_numpy(dtype=object, na_value=np.nan))
    if not (texts.notna().to_numpy(dtype=bool) & np.isnan(plain)).any():
        missing = texts.isna().to_numpy(dtype=bool)
        array = plain
    else:
        missing = (texts.isna() | texts.str.lower().isin(MISSING_TOKENS)).to_numpy(dtype=bool)
        cleaned = texts.str.replace(",", "", regex=False).str.rstrip("%")
        numbers = pd.to_numeric(cleaned.where(~missing), errors="coerce").astype(float)
        array = numbers.to_numpy(dtype=float)
    reasons = [None] * len(values)
    bad = ~missing & np.isnan(array)
    for i in np.flatnonzero(bad):
        reasons[i] = _message(label, texts.iat[i], "not a number", pii)
    infinite = ~missing & ~bad & ~np.isfinite(array)
    for i in np.flatnonzero(infinite):
        reasons[i] = _message(label, texts.iat[i], "too large to be a number", pii)
    bad = bad | infinite
    array = np.where(infinite, np.nan, array)
    high = maximum if maximum is not None else (INTEGER_RANGE["BigInteger"] if integer else None)
    low = minimum if minimum is not None else (-INTEGER_RANGE["BigInteger"] if integer else None)
    with np.errstate(invalid="ignore"):
        above = ~missing & ~bad & (array > high) if high is not None else np.zeros(len(array), dtype=bool)
        below = ~missing & ~bad & (array < low) if low is not None else np.zeros(len(array), dtype=bool)
    for i in np.flatnonzero(above):
        reasons[i] = _message(label, texts.iat[i], f"larger than {high:,.0f}, the most this field holds", pii)
    for i in np.flatnonzero(below):
        reasons[i] = _message(label, texts.iat[i], "negative; a count cannot be below 0" if low == 0 else
                              f"smaller than {low:,.0f}, the least this field holds", pii)
    bad = bad | above | below
    array = np.where(above | below, np.nan, array)
    if integer:
        with np.errstate(invalid="ignore"):
            fraction = ~missing & ~bad & (np.mod(array, 1) != 0)
        for i in np.flatnonzero(fraction):
            reasons[i] = _message(label, texts.iat[i], "not a whole number", pii)
        array = np.where(fraction, np.nan, array)
        out = pd.Series(pd.array(np.where(np.isnan(array), None, array).tolist(), dtype="Int64") if len(array) else
                        pd.array([], dtype="Int64"), index=values.index)
    else:
        out = pd.Series(array, index=values.index)
    return Checked(out, pd.Series(reasons, index=values.index, dtype=object))


def check_booleans(values: pd.Series, *, label: str, pii: bool = False) -> Checked:
    texts = _texts(values).str.lower()
    out: list = []
    reasons: list = []
    for text in texts.tolist():
        if text is pd.NA or text is None or text in MISSING_TOKENS:
            out.append(None)
            reasons.append(None)
        elif text in TRUE_TOKENS:
            out.append(True)
            reasons.append(None)
        elif text in FALSE_TOKENS:
            out.append(False)
            reasons.append(None)
        else:
            out.append(None)
            reasons.append(_message(label, text, "not yes/no (use 是/否, 有/无, true/false, 1/0)", pii))
    return Checked(pd.Series(out, index=values.index, dtype=object), pd.Series(reasons, index=values.index, dtype=object))


_CHINESE_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(?:(\d{1,2})\s*日?)?$")


def check_dates(values: pd.Series, *, label: str, pii: bool = False) -> Checked:
    out: list = []
    reasons: list = []
    for text in _texts(values).tolist():
        value = reason = None
        if text is not pd.NA and text is not None and str(text).lower() not in MISSING_TOKENS:
            match = _CHINESE_DATE.match(text)
            try:
                if match:
                    value = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
                else:
                    value = pd.Timestamp(text.replace("/", "-").replace(".", "-")).date()
            except (ValueError, TypeError):
                reason = _message(label, text, "not a date (use 2019-06-30 or 2019年6月30日)", pii)
        out.append(value)
        reasons.append(reason)
    return Checked(pd.Series(out, index=values.index, dtype=object), pd.Series(reasons, index=values.index, dtype=object))


def check_texts(values: pd.Series, *, label: str, max_length: int | None, pii: bool = False) -> Checked:
    texts = _texts(values, nfkc=False)
    blank = (texts.isna() | (texts == "")).to_numpy(dtype=bool)
    out = np.asarray(texts.astype(object).where(~blank, None), dtype=object)
    reasons: list = [None] * len(values)
    # the rows that may be refused, found column-wise; the reasons in the order of precedence
    # (each test column-wise only where the column's text as a whole may hold a case)
    present = [t for t in out.tolist() if t is not None]
    joined = "\n".join(present)  # a line feed is allowed in text
    nothing = np.zeros(len(values), dtype=bool)
    control = texts.str.contains(CONTROL_CHARACTERS, regex=True).fillna(False).to_numpy(dtype=bool) \
        if CONTROL_CHARACTERS.search(joined) else nothing
    scientific = texts.str.fullmatch(r"\d(\.\d+)?e\+\d+", case=False).fillna(False).to_numpy(dtype=bool) \
        if "e+" in joined or "E+" in joined else nothing
    long = (texts.str.len() > max_length).fillna(False).to_numpy(dtype=bool) \
        if max_length is not None and max(map(len, present), default=0) > max_length else nothing
    originals = values.to_numpy(dtype=object)
    rounded = np.zeros(len(values), dtype=bool)
    if not set(map(type, originals.tolist())) <= {str, type(None)}:
        rounded = np.array([isinstance(v, float) and abs(v) >= 1e11 and not v.is_integer() for v in originals],
                           dtype=bool)
    for i in np.flatnonzero(~blank & (control | rounded | scientific | long)):
        text = out[i]
        problem = control_character(text)
        if problem is not None:
            reasons[i] = f"{label}: {problem}"
        elif rounded[i]:
            reasons[i] = _message(label, text, "a long number Excel has rounded; format the column as text "
                                  "(文本) and type the code again", pii)
        elif scientific[i]:
            reasons[i] = _message(label, text, "a code Excel turned into scientific notation; format the "
                                  "column as text (文本) and type the code again", pii)
        elif long[i]:
            reasons[i] = _message(label, text, f"longer than {max_length} characters", pii)
    return Checked(pd.Series(out, index=values.index, dtype=object), pd.Series(reasons, index=values.index, dtype=object))


def check_enum(values: pd.Series, enum_cls: type, *, label: str) -> Checked:
    lookup: dict[str, str] = {}
    for member in enum_cls:
        lookup[member.value] = member.value
        lookup[member.value.lower()] = member.value
        if isinstance(member, LabeledEnum):
            lookup[member.label] = member.value
    choices = "、".join(f"{m.label}" if isinstance(m, LabeledEnum) else m.value for m in enum_cls)
    out: list = []
    reasons: list = []
    cells = values.to_numpy(dtype=object)
    if set(map(type, cells.tolist())) <= {str, type(None)}:  # a CSV's cells: each distinct one read once
        codes, uniques = pd.factorize(cells, use_na_sentinel=True)
        uniques = _texts(pd.Series(uniques, dtype=object)).tolist()
    else:
        codes, uniques = pd.factorize(_texts(values), use_na_sentinel=True)
    decided: list[tuple] = []  # per distinct text (a CSV's: per distinct cell): (value, reason)
    for text in list(uniques):
        if text is pd.NA or text is None or str(text).lower() in MISSING_TOKENS:
            decided.append((None, None))
            continue
        value = lookup.get(text) or lookup.get(str(text).lower())
        decided.append((value, None if value is not None else f"{label} {text!r} is not one of: {choices}"))
    decided.append((None, None))  # missing cells
    pairs = [decided[c] for c in codes.tolist()]
    out = [v for v, _ in pairs]
    reasons = [r for _, r in pairs]
    return Checked(pd.Series(out, index=values.index, dtype=object), pd.Series(reasons, index=values.index, dtype=object))


def check_column(column: sa.Column, values: pd.Series, *, label: str) -> Checked:
    """Convert one attribute column to what ``column`` stores; reasons where a cell cannot be."""
    pii = bool(column.info.get("pii"))
    enum_cls = getattr(column.type, "enum_class", None)
    if enum_cls is not None:
        return check_enum(values, enum_cls, label=label)
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = str
    if python_type is bool:
        return check_booleans(values, label=label, pii=pii)
    if python_type is int:
        # counts, years and numbers in a list: never negative; at most what the type stores
        largest = INTEGER_RANGE.get(type(column.type).__name__, INTEGER_RANGE["Integer"])
        return check_numbers(values, label=label, integer=True, pii=pii, minimum=0, maximum=largest)
    if python_type is float:
        return check_numbers(values, label=label, integer=False, pii=pii)
    if python_type is dt.date:
        return check_dates(values, label=label, pii=pii)
    length = getattr(column.type, "length", None)
    return check_texts(values, label=label, max_length=length, pii=pii)


# --------------------------------------------------------------------------------------
# Geometries
# --------------------------------------------------------------------------------------

_FAMILY = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
           "LinearRing": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}
_WANTED_FAMILY = {"POINT": "point", "MULTIPOINT": "point", "LINESTRING": "line", "MULTILINESTRING": "line",
                  "POLYGON": "polygon", "MULTIPOLYGON": "polygon", "GEOMETRY": None}
_CHINESE_KIND = {"point": "点", "line": "线", "polygon": "面"}


@dataclass(frozen=True)
class CheckedGeometries:
    values: gpd.GeoSeries
    reasons: pd.Series  # refusals
    repairs: pd.Series  # what was repaired, where it was


def parse_wkt(values: pd.Series, *, label: str) -> tuple[pd.Series, pd.Series]:
    """Geometries from WKT text cells (geometry objects pass through)."""
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    reasons = _reasons(values.index)
    for i, value in enumerate(values):
        if isinstance(value, shapely.Geometry):
            out.iat[i] = value
            continue
        if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
            continue
        geom = shapely.from_wkt(str(value).strip(), on_invalid="ignore")
        if geom is None:
            reasons.iat[i] = _message(label, value, "not WKT geometry text (e.g. POINT (105.2 37.5))", False)
        else:
            out.iat[i] = geom
    return out, reasons


def _polygonal(geom):
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    return shapely.multipolygons(flat) if flat else None


def _lineal(geom):
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("LineString", "MultiLineString")]
    flat = [q for p in parts for q in (p.geoms if p.geom_type == "MultiLineString" else [p])]
    return shapely.multilinestrings(flat) if flat else None


def check_geometries(values, *, column: sa.Column, label: str, required: bool, strict: bool,
                     allowed: str | None = None) -> CheckedGeometries:
    """Check geometries for a geometry column: type (multi accepted), empty, invalid.

    Invalid geometries are repaired with ``make_valid`` (their polygonal or lineal part kept)
    and listed in ``repairs``; with ``strict`` they are refused instead. An empty geometry is
    refused where the column requires one and treated as missing elsewhere.
    """
    series = gpd.GeoSeries(values) if not isinstance(values, gpd.GeoSeries) else values
    index = series.index
    geoms = np.asarray(series.values, dtype=object)
    reasons = _reasons(index)
    repairs = _reasons(index)
    wanted = _WANTED_FAMILY.get(column.type.geometry_type.upper())
    wanted = wanted or allowed
    wanted_multi = column.type.geometry_type.upper().startswith("MULTI")
    out = geoms.copy()
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(np.where(missing, None, geoms))
    for i in np.flatnonzero(empty):
        out[i] = None
        if required:
            reasons.iat[i] = f"{label}: the geometry is empty"
    # the rows with nothing to say (a valid geometry of a family the column takes) found at
    # once; the others one by one below
    present = np.flatnonzero(~missing & ~empty)
    kinds = np.array(GEOMETRY_TYPE_NAMES, dtype=object)[shapely.get_type_id(geoms[present])]
    fitting = [k for k, f in _FAMILY.items() if (wanted is None or f == wanted)
               and not (k == "MultiPoint" and column.type.geometry_type.upper() == "POINT")]
    fine = np.isin(kinds, fitting) & shapely.is_valid(geoms[present])
    for i in present[~fine]:
        geom = geoms[i]
        kind = geom.geom_type
        family = _FAMILY.get(kind)
        if family is None:
            reasons.iat[i] = (f"{label}: a {kind} cannot be stored; split it into points, lines or polygons"
                              if kind == "GeometryCollection" else f"{label}: unsupported geometry {kind}")
            continue
        if wanted is not None and family != wanted:
            reasons.iat[i] = (f"{label}: a {kind} ({_CHINESE_KIND[family]}) where the layer needs "
                              f"{_CHINESE_KIND[wanted]} geometries ({wanted}s)")
            continue
        if kind == "MultiPoint" and not wanted_multi and column.type.geometry_type.upper() == "POINT":
            if len(geom.geoms) != 1:
                reasons.iat[i] = f"{label}: a MultiPoint of {len(geom.geoms)} points where one Point is expected"
                continue
            geom = geom.geoms[0]
            out[i] = geom
        if not geom.is_valid:
            why = shapely.is_valid_reason(geom)
            if strict:
                reasons.iat[i] = f"{label}: invalid geometry ({why}); fix it in the source, or import without --strict to repair it"
                continue
            fixed = shapely.make_valid(geom)
            fixed = _polygonal(fixed) if family == "polygon" else (_lineal(fixed) if family == "line" else fixed)
            if fixed is None or fixed.is_empty:
                reasons.iat[i] = f"{label}: invalid geometry ({why}) that cannot be repaired"
                continue
            out[i] = fixed
            repairs.iat[i] = f"{label}: invalid geometry ({why}) repaired with make_valid"
    return CheckedGeometries(gpd.GeoSeries(out, index=index, crs=series.crs), reasons, repairs)


def combine(reasons: list[pd.Series], index: pd.Index) -> pd.Series:
    """One reason text per row: the non-empty reasons joined with ``; `` (None where none)."""
    out: list = [None] * len(index)
    for series in reasons:
        if series is None:
            continue
        values = series.tolist()
        for i in np.flatnonzero(series.notna().to_numpy()):
            out[i] = values[i] if out[i] is None else f"{out[i]}; {values[i]}"
    return pd.Series(out, index=index, dtype=object)


def map_unique(keys: pd.DataFrame, function: Callable[..., tuple[object, str | None]]) -> tuple[pd.Series, pd.Series]:
    """Apply ``function(*row)`` once per distinct row of ``keys``; results aligned to ``keys``."""
    if keys.empty:
        return pd.Series(dtype=object), pd.Series(dtype=object)
    normalised = keys.astype(object).where(keys.notna(), None)
    rows = list(zip(*(normalised[c].tolist() for c in normalised.columns)))
    results = {row: function(*row) for row in dict.fromkeys(rows)}  # distinct rows, in order
    pairs = [results[row] for row in rows]
    values = [value for value, _ in pairs]
    reasons = [reason for _, reason in pairs]
    return pd.Series(values, index=keys.index, dtype=object), pd.Series(reasons, index=keys.index, dtype=object)
