"""Risk leads (风险线索) read from a department's monthly list, a cadre's visit sheet or a
household's own report: XLSX or CSV with Chinese headers, one lead a row.

A row names its household by 户编号 (household code) or, failing that, by 身份证号 (ID
number, matched only for roles allowed to see ID numbers); names (姓名) are read by nobody and
never stored. What else a row carries (预警类型, 预警日期, 自付费用, 预警部门, 备注) is
kept with the lead. Pure: the matching against the registry is :mod:`geo.services.monitoring`'s.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from geo.enums import LeadChannel, RiskType
from geo.errors import ValidationError

#: Field -> the headers that name it (compared without spaces, brackets or units, NFKC).
HEADERS: dict[str, tuple[str, ...]] = {
    "household_code": ("户编号", "农户编号", "户码", "household_code"),
    "id_number": ("身份证号", "身份证号码", "证件号码", "户主身份证号", "id_number"),
    "head_name": ("姓名", "户主姓名", "户主", "head_name"),
    "risk_type": ("预警类型", "风险类型", "风险类别", "致贫返贫风险", "risk_type"),
    "received_on": ("预警日期", "接收日期", "日期", "发现日期", "received_on"),
    "out_of_pocket_yuan": ("自付费用", "医疗自付费用", "合规自付费用", "个人自付", "out_of_pocket_yuan"),
    "department": ("预警部门", "部门", "来源部门", "department"),
    "note": ("备注", "说明", "预警事项", "情况说明", "note"),
}
#: Fields never stored with a lead (personal data).
PERSONAL = ("id_number", "head_name")
#: Department lists' own words for a risk type.
RISK_WORDS = {"医疗": RiskType.ILLNESS, "大病": RiskType.ILLNESS, "低保": RiskType.OTHER, "特困": RiskType.OTHER,
              "残疾": RiskType.DISABILITY, "灾": RiskType.DISASTER, "学": RiskType.SCHOOLING,
              "务工": RiskType.EMPLOYMENT, "就业": RiskType.EMPLOYMENT, "产业": RiskType.BUSINESS,
              "意外": RiskType.ACCIDENT}


@dataclass
class LeadRows:
    """The rows of a lead file: ``frame`` (one row per lead, ``row_number`` the spreadsheet's)
    and ``problems`` (row number -> what is wrong, for rows refused whatever the registry says)."""

    name: str
    frame: pd.DataFrame
    problems: dict[int, str] = field(default_factory=dict)


def _key(text: Any) -> str:
    value = unicodedata.normalize("NFKC", str(text if text is not None else ""))
    value = re.sub(r"\s+", "", value)
    return re.sub(r"\([^()]*\)$", "", value).lower()


_LOOKUP = {_key(h): f for f, names in HEADERS.items() for h in names}


def read_lead_table(path: str | Path, *, name: str | None = None) -> LeadRows:
    """Read and check the rows of a lead file (first sheet of an XLSX, or a CSV in UTF-8 or GB18030).

    Raises
    ------
    ValidationError
        The file cannot be read, or has neither a 户编号 nor a 身份证号 column; names the file
        and the headers it needs.
    """
    path = Path(path)
    shown = name or path.name
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
        elif suffix in (".csv", ".txt"):
            try:
                raw = pd.read_csv(path, dtype=object, encoding="utf-8-sig", keep_default_na=False)
            except UnicodeDecodeError:
                raw = pd.read_csv(path, dtype=object, encoding="gb18030", keep_default_na=False)
        else:
            raise ValidationError(f"{shown}: a lead list is an .xlsx or .csv file, not {suffix or 'a file without suffix'}")
    except FileNotFoundError:
        raise ValidationError(f"lead file {shown} does not exist") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException, pd.errors.ParserError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"{shown} cannot be read as {suffix[1:].upper()} ({type(exc).__name__}); "
                              "save the list as .xlsx or UTF-8 .csv") from None
    columns = {}
    for header in raw.columns:
        found = _LOOKUP.get(_key(header))
        if found is not None and found not in columns.values():
            columns[header] = found
    if "household_code" not in columns.values() and "id_number" not in columns.values():
        raise ValidationError(f"{shown}: no column 户编号 or 身份证号; a lead list names each household by its "
                              f"code (户编号) or ID number (身份证号). Headers found: "
                              f"{', '.join(map(str, raw.columns))[:300]}")
    frame = raw[list(columns)].rename(columns=columns)
    for name_ in HEADERS:
        if name_ not in frame:
            frame[name_] = None
    frame = frame.astype(object).map(_blank).astype(object)
    frame = frame.where(frame.notna(), None)
    frame.insert(0, "row_number", range(2, len(frame) + 2))
    frame = frame[frame[["household_code", "id_number"]].notna().any(axis=1)
                  | frame.drop(columns=["row_number"]).notna().any(axis=1)].reset_index(drop=True)
    rows = LeadRows(shown, frame)
    parsed = {"received_on": [], "out_of_pocket_yuan": [], "risk_type": []}
    for row in frame.to_dict("records"):
        row = {k: _blank(v) for k, v in row.items()}
        number, problems = row["row_number"], []
        if row["household_code"] is None and row["id_number"] is None:
            problems.append("neither 户编号 nor 身份证号 given")
        day, problem = _day(row["received_on"])
        problems += [problem] if problem else []
        cost, problem = _amount(row["out_of_pocket_yuan"])
        problems += [problem] if problem else []
        risk, problem = _risk(row["risk_type"])
        problems += [problem] if problem else []
        parsed["received_on"].append(day)
        parsed["out_of_pocket_yuan"].append(cost)
        parsed["risk_type"].append(risk)
        if problems:
            rows.problems[number] = "; ".join(problems)
    for key, values in parsed.items():
        frame[key] = pd.Series(values, index=frame.index, dtype=object)
    for key, upper in (("household_code", False), ("id_number", True)):
        texts = [None if _blank(v) is None else _code_text(v) for v in frame[key]]
        frame[key] = pd.Series([t.upper() if t and upper else t for t in texts], index=frame.index, dtype=object)
    return rows


def _blank(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _code_text(value: Any) -> str:
    """A code as text: a spreadsheet's number 1234.0 is the code 1234."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _day(value: Any) -> tuple[dt.date | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    text = str(value).strip().replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    try:
        parts = [int(p) for p in text.split("-")]
        return dt.date(*parts), None
    except (ValueError, TypeError):
        return None, f"预警日期 {str(value)[:40]!r} is not a date (YYYY-MM-DD)"


def _amount(value: Any) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    try:
        number = float(str(value).replace(",", "").replace("，", "").strip())
    except ValueError:
        return None, f"自付费用 {str(value)[:40]!r} is not a number of yuan"
    if not math.isfinite(number) or number < 0:
        return None, f"自付费用 {str(value)[:40]!r} must be 0 or more"
    return number, None


def _risk(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    try:
        return RiskType.parse(value).value, None
    except ValueError:
        for word, risk in RISK_WORDS.items():
            if word in str(value):
                return risk.value, None
    allowed = "、".join(r.label for r in RiskType)
    return None, f"预警类型 {str(value)[:40]!r} is not a risk type ({allowed})"


def parse_channel(text: str) -> LeadChannel:
    """The channel from its value or Chinese label.

    Raises
    ------
    ValidationError
        Naming the channels.
    """
    try:
        return LeadChannel.parse(text)
    except ValueError as exc:
        raise ValidationError(f"channel: {exc}") from None


def stored_fields(row: dict[str, Any]) -> dict[str, Any]:
    """What of a row is kept with its lead: everything but names and ID numbers, JSON-safe."""
    out = {}
    for key, value in row.items():
        if key in PERSONAL or key == "row_number" or value is None:
            continue
        out[key] = value.isoformat() if isinstance(value, dt.date) else value
    return out
