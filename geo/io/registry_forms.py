"""The statistical forms of seed 000 that assistance units fill in, read into layer frames.

- 附件1 帮扶贫困村安排表 (townships as section rows, merged village cells): parsed by
  :func:`geo.registry_tables.parse_pairing_table`; turned into townships, villages, units,
  pairings and work teams by :func:`pairing_table_frames`.
- 附件2 定点帮扶投入情况统计表: a fill-in-the-blanks form, one unit and village per sheet ->
  one ``unit_inputs`` row (:func:`parse_unit_input_form`).
- 附件3/4 社会定点帮扶单位投入资金情况统计表 (自筹 / 协调): one row per unit and village with
  infrastructure, breeding and planting funds -> ``projects`` rows (:func:`parse_funds_table`).
- 附件5 帮扶责任人联系帮扶贫困户情况统计表: cadres by rank and visits per unit and village ->
  the matching ``unit_inputs`` fields (:func:`parse_cadre_table`).

Each parser takes rows of cells (merged cells: the top-left value followed by blanks) and
returns a :class:`FormFrame`: canonical field names (reference fields such as
``unit_name``/``village_name`` for the ids), the source row of each record, and the rows it
refused with the reason. Validation against the registry happens in the importer.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from geo.errors import ValidationError
from geo.registry_tables import PairingTable, infer_unit_kind, infer_unit_level, parse_pairing_table

Layout = Literal["pairing_table", "unit_input_form", "funds_table", "cadre_table"]

#: The layer each layout writes (附件1 also writes townships, villages, units and work teams).
LAYOUT_LAYER: dict[str, str] = {
    "pairing_table": "pairings",
    "unit_input_form": "unit_inputs",
    "funds_table": "projects",
    "cadre_table": "unit_inputs",
}
LAYOUT_LABEL: dict[str, str] = {
    "pairing_table": "附件1 帮扶贫困村安排表",
    "unit_input_form": "附件2 定点帮扶投入情况统计表",
    "funds_table": "附件3/4 投入资金情况统计表",
    "cadre_table": "附件5 帮扶责任人联系帮扶贫困户情况统计表",
}


@dataclass
class FormFrame:
    """Records read from a form, ready for the importer's validation."""

    layer: str
    frame: pd.DataFrame
    rows: list[int | None]
    sheets: list[str | None]
    refused: list[tuple[int | None, str | None, str]] = field(default_factory=list)  # (row, sheet, reason)
    notes: list[str] = field(default_factory=list)


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return unicodedata.normalize("NFKC", str(cell)).strip()


def _compact(cell: Any) -> str:
    return re.sub(r"\s+", "", _text(cell))


def detect_layout(rows: Sequence[Sequence[Any]]) -> Layout | None:
    """Which seed-000 layout the first rows of a sheet are, or None for a plain table."""
    cells = [_compact(c) for row in rows[:40] for c in row if not _blank(c)]
    joined = "|".join(cells)
    if "帮扶部门(单位)" in cells and "帮扶村" in cells and any(c.startswith("驻村工作队") for c in cells):
        return "pairing_table"
    if "联系帮扶责任人" in joined and "联系帮扶贫困户数" in joined:
        return "cadre_table"
    if "帮扶村名称" in cells and "款物折合" in joined:
        return "funds_table"
    if "包保干部" in joined and "帮扶村(盖章)" in joined:
        return "unit_input_form"
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def year_from(rows: Sequence[Sequence[Any]], *fallbacks: str) -> int | None:
    """The year a form is for: ``2019年`` in its title rows, else in a fallback (the file name)."""
    for row in rows[:6]:
        for cell in row:
            match = re.search(r"(20\d{2})\s*年", _text(cell))
            if match:
                return int(match.group(1))
    for text in fallbacks:
        match = re.search(r"(20\d{2})", text or "")
        if match:
            return int(match.group(1))
    return None


def _require_year(year: int | None, source: str) -> int:
    if year is None:
        raise ValidationError(f"{source}: the table's title gives no year (such as 2019年); pass the year (--year 2019)")
    return year


# --------------------------------------------------------------------------------------
# 附件1: the pairing table
# --------------------------------------------------------------------------------------


@dataclass
class PairingFrames:
    """The five layers one 附件1 table fills, in the order they are written."""

    table: PairingTable
    year: int
    townships: pd.DataFrame
    villages: pd.DataFrame
    units: pd.DataFrame
    pairings: pd.DataFrame
    work_teams: pd.DataFrame
    rows: dict[str, list[int | None]]


def pairing_table_frames(rows: Sequence[Sequence[Any]], *, source: str, year: int | None) -> PairingFrames:
    """Parse a 附件1 table into townships, villages, units, pairings and work teams.

    Units get the kind and level their names imply (:func:`infer_unit_kind`); the importer
    keeps those of units already in the registry.

    Raises
    ------
    ValidationError
        The parser's refusals (row named), or no year.
    """
    table = parse_pairing_table(rows, source=source)
    year = _require_year(year if year is not None else year_from(rows, source), source)
    units = table.units + [u for u in table.leader_units if u not in table.units]
    frames = PairingFrames(
        table=table,
        year=year,
        townships=pd.DataFrame({"name": table.townships}),
        villages=pd.DataFrame([{"name": v.name, "township_name": v.township, "category": v.category.value}
                               for v in table.villages]),
        units=pd.DataFrame([{"name": u, "kind": infer_unit_kind(u).value, "level": infer_unit_level(u).value}
                            for u in units]),
        pairings=pd.DataFrame([{"unit_name": p.unit, "township_name": p.township, "village_name": p.village,
                                "year": year, "task_funds_wan_yuan": p.task_funds_wan_yuan, "seq": p.seq}
                               for p in table.pairings]),
        work_teams=pd.DataFrame([{"township_name": v.township, "village_name": v.name, "year": year,
                                  "leader_unit_name": v.leader_unit} for v in table.villages if v.leader_unit],
                                columns=["township_name", "village_name", "year", "leader_unit_name"]),
        rows={},
    )
    first_row = {}
    for p in table.pairings:
        first_row.setdefault(p.unit, p.row)
    for v in table.villages:
        if v.leader_unit:
            first_row.setdefault(v.leader_unit, v.row)
    frames.rows = {
        "townships": [None] * len(table.townships),
        "villages": [v.row for v in table.villages],
        "units": [first_row.get(u) for u in units],
        "pairings": [p.row for p in table.pairings],
        "work_teams": [v.row for v in table.villages if v.leader_unit],
    }
    return frames


# --------------------------------------------------------------------------------------
# 附件2: the unit-input form (fill in the blanks)
# --------------------------------------------------------------------------------------

_N = r"\s*([0-9]+(?:\.[0-9]+)?)?\s*"
#: Field -> pattern (on the NFKC text of the form); the first group is the number.
_FORM_NUMBERS: dict[str, str] = {
    "cadres_division": rf"处级干部{_N}名",
    "cadres_section": rf"科级干部\s*\(?{_N}\)?\s*名",
    "cadres_general": rf"一般干部{_N}名",
    "visits_per_cadre": rf"人均入户次数{_N}次",
    "team_leaders": rf"驻村工作队队长{_N}名",
    "team_members": rf"队员{_N}名",
    "warmth_households": rf"慰问贫困户{_N}户",
    "warmth_party_members": rf"老党员{_N}户",
    "warmth_money_yuan": rf"慰问金{_N}元",
    "rice_jin": rf"米{_N}斤",
    "flour_jin": rf"面{_N}斤",
    "oil_jin": rf"油{_N}斤",
    "goods_value_yuan": rf"折合物价{_N}元",
    "project_funds_wan_yuan": rf"投入项目帮扶资金{_N}万元",
    "farmland_projects": rf"农田建设项目{_N}个",
    "road_km": rf"道路建设{_N}(?:千米|公里)",
    "wells": rf"打机井{_N}眼",
    "canal_km": rf"修水渠{_N}(?:公里|千米)",
    "reservoirs": rf"蓄水池{_N}个",
    "breeding_parks": rf"养殖园区{_N}处",
    "breeding_households": rf"扶持养殖户{_N}户",
    "cattle": rf"牛{_N}头",
    "sheep": rf"羊{_N}只",
    "chickens": rf"鸡{_N}只",
    "crops_mu": rf"经济作物{_N}亩",
    "coordinated_projects": rf"争取协调行业部门项目{_N}个",
    "coordinated_funds_wan_yuan": rf"争取协调行业部门项目{_N}个\s*[、,]?\s*资金{_N}万元",
    "office_furniture_sets": rf"凳\)?{_N}套",
    "computers": rf"电脑{_N}台",
    "printers": rf"打印机{_N}台",
    "publicity_sessions": rf"开展政策宣传{_N}次",
    "publicity_attendance": rf"参加群众{_N}人",
    "labour_export_batches": rf"组织劳务输出{_N}批",
    "labour_export_persons": rf"组织劳务输出{_N}批\s*[,、]?\s*共{_N}人",
    "total_input_wan_yuan": rf"投入资金共计{_N}万元",
    "in_kind_wan_yuan": rf"实物折价{_N}万元",
}
_TOTAL_CADRES = rf"共选派{_N}名"
_MARKS = "√✓✔☑●■vVyY是Xx×✗1"
_CHOICES = {
    "has_plan": r"帮扶方案",
    "has_half_year_summary": r"上半年帮扶工作总结",
    "has_year_summary": r"全年帮扶工作总结",
}


def _form_text(rows: Sequence[Sequence[Any]]) -> str:
    lines = []
    for row in rows:
        cells = [_text(c) for c in row if not _blank(c)]
        if cells:
            lines.append("  ".join(cells))
    return "\n".join(lines)


def _number(pattern: str, text: str, group: int = 1) -> float | None:
    match = re.search(pattern, text)
    if not match:
        return None
    value = match.group(group) if group <= (match.lastindex or 0) else None
    return float(value) if value else None


def _choice(label: str, text: str) -> bool | None | str:
    """``有 √ ；无 ；`` -> True; ``有 ；无 √`` -> False; neither -> None; both -> an error text."""
    match = re.search(label + r"\s*:?\s*有\s*([^;;无]*?)\s*[;;]?\s*无\s*([^;;]*?)\s*(?:[;;]|$)", text, flags=re.M)
    if not match:
        return None
    yes = any(ch in _MARKS for ch in match.group(1))
    no = any(ch in _MARKS for ch in match.group(2))
    if yes and no:
        return f"{label}: both 有 and 无 are ticked"
    return True if yes else (False if no else None)


def parse_unit_input_form(rows: Sequence[Sequence[Any]], *, sheet: str, source: str,
                          year: int | None) -> tuple[dict[str, Any] | None, str | None]:
    """Read one filled-in 附件2 form (one sheet) into a ``unit_inputs`` record.

    Returns
    -------
    (record, problem)
        The record (``unit_name``, ``village_name``, ``year`` and the figures found), or
        None and the reason the form is refused (no unit or village, a total that does not
        add up, contradictory ticks).
    """
    text = _form_text(rows)
    label = f"{source} sheet {sheet}"
    year = _require_year(year if year is not None else year_from(rows, source), label)
    head = re.search(r"填报单位\s*\(盖章\)\s*:\s*(.*?)\s*帮扶村\s*\(盖章\)\s*:\s*([^\s]*)", text)
    if not head or not head.group(1).strip() or not head.group(2).strip():
        return None, "the form names no 填报单位 or 帮扶村 (fill in 填报单位（盖章）：… 帮扶村（盖章）：…)"
    record: dict[str, Any] = {"unit_name": head.group(1).strip(), "village_name": head.group(2).strip(), "year": year}
    for name, pattern in _FORM_NUMBERS.items():
        group = 2 if name in ("coordinated_funds_wan_yuan", "labour_export_persons") else 1
        value = _number(pattern, text, group)
        if value is not None:
            record[name] = value
    for name, choice_label in _CHOICES.items():
        value = _choice(choice_label, text)
        if isinstance(value, str):
            return None, value
        if value is not None:
            record[name] = value
    other = re.search(r"3\s*[、.]\s*其他\s*(.*?)\s*。", text)
    tail = re.search(r"其他帮扶情况\s+(.+?)\s*(?:填报说明|$)", text, flags=re.S)
    texts = [t.group(1).strip() for t in (other, tail) if t and t.group(1).strip()]
    texts = [t for t in texts if not t.startswith("填报说明")]
    if texts:
        record["other"] = "；".join(texts)[:2000]
    total = _number(_TOTAL_CADRES, text)
    ranks = [record.get(k) for k in ("cadres_division", "cadres_section", "cadres_general")]
    if total is not None and all(r is not None for r in ranks) and abs(sum(ranks) - total) > 1e-9:
        return None, (f"共选派 {total:g} 名包保干部, but 处级 {ranks[0]:g} + 科级 {ranks[1]:g} + 一般 "
                      f"{ranks[2]:g} = {sum(ranks):g}; correct the form")
    return record, None


def unit_input_forms(sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]], *, source: str,
                     year: int | None) -> FormFrame:
    """Every 附件2 form of a workbook (one per sheet) as ``unit_inputs`` records."""
    records, sheet_names, refused = [], [], []
    for name, rows in sheets:
        record, problem = parse_unit_input_form(rows, sheet=name, source=source, year=year)
        if problem:
            refused.append((None, name, problem))
            continue
        records.append(record)
        sheet_names.append(name)
    return FormFrame("unit_inputs", pd.DataFrame.from_records(records), [None] * len(records), sheet_names, refused)


# --------------------------------------------------------------------------------------
# Header blocks of the 附件3/4/5 tables
# --------------------------------------------------------------------------------------


def _header_paths(rows: Sequence[Sequence[Any]], start: int, depth: int,
                  merged: Sequence[tuple[int, int, int, int]], offset: int) -> list[str]:
    """For each column, its header path (``项目帮扶/基础设施/资金(万元)``) over ``depth`` rows.

    ``merged`` ranges (1-based, sheet coordinates; ``offset`` = sheet row of ``rows[0]`` - 1)
    spread a merged header over the columns and rows it covers; without them (CSV) a blank
    header cell takes the value to its left within the same parent.
    """
    width = max(len(r) for r in rows[start:start + depth])
    grid = [[_compact(r[c]) if c < len(r) else "" for c in range(width)] for r in rows[start:start + depth]]
    if merged:
        for min_row, min_col, max_row, max_col in merged:
            top = min_row - offset - 1
            if top < start or top >= start + depth:
                continue
            value = grid[top - start][min_col - 1] if min_col - 1 < width else ""
            for r in range(top, min(max_row - offset, start + depth)):
                for c in range(min_col - 1, min(max_col, width)):
                    grid[r - start][c] = value
    else:
        for level in range(depth):
            for c in range(1, width):
                parent_same = level == 0 or grid[level - 1][c] == grid[level - 1][c - 1]
                if not grid[level][c] and parent_same and grid[level][c - 1] and any(
                        grid[d][c] for d in range(level + 1, depth)):
                    grid[level][c] = grid[level][c - 1]
    paths = []
    for c in range(width):
        parts = []
        for level in range(depth):
            value = grid[level][c]
            if value and (not parts or parts[-1] != value):
                parts.append(value)
        paths.append("/".join(parts))
    return paths


def _find_row(rows: Sequence[Sequence[Any]], *needles: str, start: int = 0) -> int | None:
    for index in range(start, len(rows)):
        cells = [_compact(c) for c in rows[index]]
        if all(any(n in c for c in cells) for n in needles):
            return index
    return None


def _column(paths: list[str], *needles: str, exclude: Sequence[str] = ()) -> int | None:
    for index, path in enumerate(paths):
        if all(n in path for n in needles) and not any(e in path for e in exclude):
            return index
    return None


def _cell(row: Sequence[Any], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return _text(row[index])


def _amount(text: str) -> float | None:
    text = text.replace(",", "").strip()
    if not text or text in ("无", "/", "-", "—"):
        return None
    return float(text)


_END_OF_TABLE = ("填表说明", "填报说明", "填报人", "说明:", "注:")


def _table_columns(rows: Sequence[Sequence[Any]], *, form: str, source: str, needles: tuple[str, ...], depth: int,
                   columns: dict[str, tuple[str, ...]], required: tuple[str, ...],
                   merged: Sequence[tuple[int, int, int, int]], first_row: int) -> tuple[int, dict[str, int | None]]:
    """Find a form's header block (the row with ``needles``) and its columns by header path."""
    header = _find_row(rows, *needles)
    if header is None:
        raise ValidationError(f"{source}: no {form} header row ({', '.join(needles)} ...)")
    paths = _header_paths(rows, header, depth, merged, first_row - 1)
    col = {name: _column(paths, *words) for name, words in columns.items()}
    missing = [k for k in required if col[k] is None]
    if missing:
        raise ValidationError(f"{source}: the {form} header lacks the column(s) {', '.join(missing)}; "
                              f"columns found: {' | '.join(p for p in paths if p)}")
    return header + depth, col


def _data_rows(rows: Sequence[Sequence[Any]], start: int, col: dict[str, int | None], *, first_row: int,
               out: FormFrame, village_header: str, stop: tuple[str, ...] = ()):
    """``(row number, cells, unit, village)`` of a form's data rows: blank and 合计 rows are
    skipped, the notes under the table (填表说明 ...) or a ``stop`` word end it, and rows
    without a unit or village are refused."""
    for index in range(start, len(rows)):
        row = rows[index]
        number = first_row + index
        cells = [_text(c) for c in row if not _blank(c)]
        if not cells:
            continue
        joined = "".join(cells)
        if any(cells[0].replace(" ", "").startswith(w) for w in _END_OF_TABLE) or any(w in joined for w in stop):
            return
        unit, village = _cell(row, col["unit"]), _cell(row, col["village"])
        if _compact(unit) in ("合计", "总计") or _compact(_cell(row, 0)) in ("合计", "总计"):
            continue
        if not unit or not village:
            out.refused.append((number, None, f"a data row needs both 帮扶部门（单位） and {village_header}"))
            continue
        yield number, row, unit, village


# --------------------------------------------------------------------------------------
# 附件3/4: project funds
# --------------------------------------------------------------------------------------

_KIND_WORDS = [
    ("road", ("道路", "硬化", "公路", "村道", "路")),
    ("well", ("机井", "井")),
    ("canal", ("水渠", "渠")),
    ("reservoir", ("蓄水池", "水窖", "水池", "塘坝")),
    ("farmland", ("农田", "土地", "高标准")),
]
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(公里|千米|km|眼|个|座|处|亩|户|头|只|米|m)", re.I)
_UNIT_NAMES = {"公里": "km", "千米": "km", "km": "km", "米": "m", "m": "m"}


def project_kind(description: str) -> str:
    """The project kind a 用途及规模 text names (道路硬化2公里 -> road)."""
    for kind, words in _KIND_WORDS:
        if any(w in description for w in words):
            return kind
    return "other"


def quantity_of(text: str, *, prefer: Sequence[str] = ()) -> tuple[float | None, str | None]:
    """The quantity and its unit in a scale text (``2.5公里`` -> (2.5, 'km'); ``15户、300只``
    with ``prefer=('户',)`` -> (15, '户'))."""
    found = [(float(m.group(1)), _UNIT_NAMES.get(m.group(2).lower(), m.group(2))) for m in _QUANTITY.finditer(text)]
    for unit in prefer:
        for value, name in found:
            if name == unit:
                return value, name
    if found:
        return found[0]
    try:
        return (float(text), None) if text.strip() else (None, None)
    except ValueError:
        return None, None


def project_code(mode: str, year: int, unit: str, village: str, kind: str, description: str) -> str:
    """A stable code for a project read from a 附件3/4 row (so importing twice updates it)."""
    digest = hashlib.sha1("|".join([mode, str(year), unit, village, kind, description]).encode()).hexdigest()[:12]
    return f"{'F3' if mode == 'self_raised' else 'F4'}-{year}-{digest}"


def parse_funds_table(rows: Sequence[Sequence[Any]], *, source: str, year: int | None,
                      merged: Sequence[tuple[int, int, int, int]] = (), first_row: int = 1) -> FormFrame:
    """Read a 附件3 (自筹) or 附件4 (协调) funds table into ``projects`` records.

    Each unit-village row gives up to three projects: infrastructure (kind from 用途及规模:
    road, well, canal, reservoir, farmland, else other; quantity from the same text),
    breeding (养殖) and planting (种植), each with its funds [万元]. Projects get a stable
    code from form, year, unit, village, kind and description, status 已完成 (the table
    reports money already put in) and the funding mode of the form. Subtotals are checked
    against their parts; a row whose figures do not add up is refused. The second table of
    the form (送温暖, 项目二) has no project in it and is reported as not imported.
    """
    year = _require_year(year if year is not None else year_from(rows, source), source)
    joined = " ".join(_compact(c) for row in rows[:6] for c in row if not _blank(c))
    mode = "coordinated" if ("协调项目" in joined or "附件4" in joined) else "self_raised"
    if _find_row(rows, "项目帮扶") is None and _find_row(rows, "送温暖") is not None:
        out = FormFrame("projects", pd.DataFrame(), [], [])  # 项目二 on a sheet of its own
        out.notes.append(f"{source}: the 送温暖 table (项目二) has no projects and is not imported; enter its "
                         "figures on the 附件2 form (unit_inputs)")
        return out
    start, col = _table_columns(
        rows, form="附件3/4", source=source, needles=("帮扶村名称", "款物折合"), depth=3, merged=merged,
        first_row=first_row, required=("unit", "village", "infra_funds", "breeding_funds", "planting_funds"),
        columns={"unit": ("帮扶部门",), "village": ("帮扶村名称",), "total": ("款物折合",),
                 "project_subtotal": ("项目帮扶", "小计"), "infra_funds": ("基础设施", "资金"),
                 "infra_use": ("基础设施", "用途"), "industry_subtotal": ("产业帮扶", "小计"),
                 "breeding_funds": ("养殖", "资金"), "breeding_scale": ("养殖", "规模"),
                 "planting_funds": ("种植", "资金"), "planting_scale": ("种植", "规模")})
    out = FormFrame("projects", pd.DataFrame(), [], [])
    second = _find_row(rows, "送温暖", start=start)
    if second is not None:
        out.notes.append(f"{source}: the 送温暖 table (项目二) from row {first_row + second} on has no projects and "
                         "is not imported; enter its figures on the 附件2 form (unit_inputs)")
    records = []
    for number, row, unit, village in _data_rows(rows, start, col, first_row=first_row, out=out,
                                                 village_header="帮扶村名称", stop=("送温暖",)):
        try:
            figures = {k: _amount(_cell(row, col[k])) for k in
                       ("total", "project_subtotal", "infra_funds", "industry_subtotal", "breeding_funds",
                        "planting_funds")}
        except ValueError:
            out.refused.append((number, None, "a funds cell is not a number in 万元"))
            continue
        problem = _check_sums(figures)
        if problem:
            out.refused.append((number, None, problem))
            continue
        items = []
        use = _cell(row, col["infra_use"])
        if figures["infra_funds"] or use:
            kind = project_kind(use)
            quantity, unit_name = quantity_of(use)
            items.append((kind, use or "基础设施", figures["infra_funds"], quantity, unit_name))
        scale = _cell(row, col["breeding_scale"])
        if figures["breeding_funds"] or scale:
            quantity, unit_name = quantity_of(scale, prefer=("户",))
            items.append(("breeding", f"养殖扶持{scale}", figures["breeding_funds"], quantity, unit_name))
        scale = _cell(row, col["planting_scale"])
        if figures["planting_funds"] or scale:
            quantity, unit_name = quantity_of(scale, prefer=("亩",))
            items.append(("planting", f"种植扶持{scale}", figures["planting_funds"], quantity, unit_name))
        for kind, description, funds, quantity, unit_name in items:
            records.append({
                "code": project_code(mode, year, unit, village, kind, description),
                "name": f"{village}{description}"[:200], "kind": kind, "unit_name": unit, "village_name": village,
                "funds_wan_yuan": funds, "quantity": quantity, "quantity_unit": unit_name, "year": year,
                "status": "completed", "funding_mode": mode,
            })
            out.rows.append(number)
            out.sheets.append(None)
    out.frame = pd.DataFrame.from_records(records)
    return out


def _check_sums(f: dict[str, float | None]) -> str | None:
    def total(*keys: str) -> float:
        return sum(f[k] or 0.0 for k in keys)

    checks = [
        ("project_subtotal", ("infra_funds",), "项目帮扶小计", "基础设施资金"),
        ("industry_subtotal", ("breeding_funds", "planting_funds"), "产业帮扶小计", "养殖资金 + 种植资金"),
        ("total", ("project_subtotal", "industry_subtotal"), "款物折合总计", "项目帮扶小计 + 产业帮扶小计"),
    ]
    for key, parts, name, parts_name in checks:
        if key == "total" and all(f[p] is None for p in parts):
            parts = ("infra_funds", "breeding_funds", "planting_funds")
            parts_name = "基础设施 + 养殖 + 种植资金"
        if f[key] is not None and abs(f[key] - total(*parts)) > 0.005:
            return f"{name} {f[key]:g} 万元 but {parts_name} = {total(*parts):g} 万元; correct the row"
    return None


# --------------------------------------------------------------------------------------
# 附件5: cadres in contact with poor households
# --------------------------------------------------------------------------------------


def parse_cadre_table(rows: Sequence[Sequence[Any]], *, source: str, year: int | None,
                      merged: Sequence[tuple[int, int, int, int]] = (), first_row: int = 1) -> FormFrame:
    """Read a 附件5 table into ``unit_inputs`` records: cadres by rank (处级, 科级, 一般) and
    visits per cadre for each unit and village. The household count and the cadres'
    personal spending have no field in the registry and are reported as not stored; a row
    whose 合计 differs from the ranks' sum is refused."""
    year = _require_year(year if year is not None else year_from(rows, source), source)
    start, col = _table_columns(
        rows, form="附件5", source=source, needles=("帮扶部门", "联系帮扶村"), depth=2, merged=merged,
        first_row=first_row, required=("unit", "village", "division", "section", "general"),
        columns={"unit": ("帮扶部门",), "village": ("联系帮扶村",), "total": ("联系帮扶责任人", "合计"),
                 "division": ("处级",), "section": ("科级",), "general": ("一般",),
                 "households": ("联系帮扶贫困户数",), "visits": ("人均入户次数",)})
    out = FormFrame("unit_inputs", pd.DataFrame(), [], [])
    out.notes.append(f"{source}: 联系帮扶贫困户数 and 个人为帮扶户投入情况 have no field in the registry and are not stored")
    records = []
    for number, row, unit, village in _data_rows(rows, start, col, first_row=first_row, out=out,
                                                 village_header="联系帮扶村"):
        try:
            ranks = [_amount(_cell(row, col[k])) for k in ("division", "section", "general")]
            total = _amount(_cell(row, col["total"]))
            visits = _amount(_cell(row, col["visits"]))
        except ValueError:
            out.refused.append((number, None, "a count cell is not a number"))
            continue
        if total is not None and abs(total - sum(r or 0 for r in ranks)) > 1e-9:
            out.refused.append((number, None, f"合计 {total:g} 人 but 处级 + 科级 + 一般 = {sum(r or 0 for r in ranks):g}; "
                                              "correct the row"))
            continue
        record = {"unit_name": unit, "village_name": village, "year": year}
        for name, value in zip(("cadres_division", "cadres_section", "cadres_general"), ranks):
            if value is not None:
                record[name] = value
        if visits is not None:
            record["visits_per_cadre"] = visits
        records.append(record)
        out.rows.append(number)
        out.sheets.append(None)
    out.frame = pd.DataFrame.from_records(records)
    return out
