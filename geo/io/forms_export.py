"""Seed 000's forms (附件1-5) written back from the registry, laid out as the seed lays them
out, so that they print as the district's own forms and import again (:mod:`geo.io.registry_forms`).

- 附件1 帮扶贫困村安排表 (:func:`annex1_workbook`): the 附件1 mark, a title row naming the
  district and the year, the seed's column headers, then per township a section row and one row
  per pairing unit, the village, its category (备注), its work-team leader unit and its number
  merged down over its units' rows; a 合计 row with the task funds.
- 附件2 定点帮扶投入情况统计表 (:func:`annex2_workbook`): the fill-in-the-blanks form, one sheet per
  unit and village, filled from ``unit_inputs`` where known and left blank otherwise.
- 附件3 / 附件4 投入资金情况统计表 (自筹 / 协调) (:func:`funds_workbook`): 项目一 (project and
  industry funds, from the registry's projects of that funding mode) and 项目二 (送温暖, from
  ``unit_inputs`` for 自筹), a sheet each, one row per unit and village, 合计 rows.
- 附件5 帮扶责任人联系帮扶贫困户情况统计表 (:func:`annex5_workbook`): cadres by rank, registered
  poor households in contact, visits per cadre, one row per unit and village.

Every form shares the layout helpers: the mark and title (:func:`_title`), header blocks
declared as grids whose merged cells are computed (:func:`_header`), thin borders
(:func:`_borders`) and print setup: A4, margins, one page wide, header rows repeated on every
page (:func:`_finish`). Pure: frames in, workbook out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geo.enums import ProjectKind, VillageCategory
from geo.registry_tables import PAIRING_TABLE_HEADERS
from geo.tabular import print_a4, safe_cell, xlsx_text

#: Column order of seed 000's 附件1.
ANNEX1_COLUMNS = ("seq", "unit", "funds", "leader", "village", "category", "village_seq")
_WIDTHS = {"seq": 8, "unit": 34, "funds": 10, "leader": 28, "village": 14, "category": 12, "village_seq": 8}
TOTAL_LABEL = "合计"
#: Marks of a merged header grid: the cell is covered by the one to its left / above.
LEFT, UP = "<", "^"

_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT_TOP = Alignment(horizontal="left", vertical="center", wrap_text=True)


# ------------------------------------------------------------------ layout helpers


def _text(value: Any) -> Any:
    """A cell value as the workbook stores it: text safe for spreadsheets, NaN as blank."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return xlsx_text(safe_cell(value)) if isinstance(value, str) else value


def _title(ws: Worksheet, mark: str, title: str, ncol: int, *, subtitle: str | None = None) -> None:
    """The 附件N mark, the title merged over the table's width, and the 填报单位 line under it."""
    ws.append([mark])
    ws.append([_text(title)])
    row = ws.max_row
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
    ws.cell(row, 1).font = Font(size=16, bold=True)
    ws.cell(row, 1).alignment = CENTER
    ws.row_dimensions[row].height = 30
    if subtitle is not None:
        ws.append([_text(subtitle)])
        row = ws.max_row
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
        ws.cell(row, 1).alignment = Alignment(horizontal="left", vertical="center")


def _header(ws: Worksheet, grid: Sequence[Sequence[str]]) -> tuple[int, int]:
    """Write a header block declared as a grid of texts, where :data:`LEFT` and :data:`UP`
    mark cells covered by the text to their left or above; merge each text over the cells it
    covers. Returns the block's first and last sheet rows."""
    first = ws.max_row + 1
    for row in grid:
        ws.append([None if text in (LEFT, UP) else text for text in row])
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            if text in (LEFT, UP):
                continue
            width = 1
            while c + width < len(row) and row[c + width] == LEFT:
                width += 1
            height = 1
            while r + height < len(grid) and grid[r + height][c] == UP:
                height += 1
            if width > 1 or height > 1:
                ws.merge_cells(start_row=first + r, start_column=c + 1, end_row=first + r + height - 1,
                               end_column=c + width)
    for row in ws.iter_rows(min_row=first, max_row=ws.max_row, max_col=len(grid[0])):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = CENTER
            cell.border = BORDER
    return first, ws.max_row


def _borders(ws: Worksheet, first_row: int, last_row: int, ncol: int, *, left_columns: Iterable[int] = ()) -> None:
    """Thin borders over a block, its text centred (``left_columns``, 1-based: left aligned)."""
    left = set(left_columns)
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, max_col=ncol):
        for cell in row:
            cell.border = BORDER
            cell.alignment = LEFT_TOP if cell.column in left else CENTER


def _finish(ws: Worksheet, widths: Sequence[float], *, title_rows: str, landscape: bool,
            freeze: str | None = None) -> None:
    """Column widths and print setup: A4, fitted to the width, ``title_rows`` repeated on every
    page, 0.6 inch top and bottom margins."""
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    print_a4(ws, title_rows=title_rows, landscape=landscape)
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if freeze:
        ws.freeze_panes = freeze


def _notes(ws: Worksheet, ncol: int, *lines: str) -> None:
    """Lines under a table (填表说明, 填报人), each merged over the width."""
    for line in lines:
        ws.append([line])
        row = ws.max_row
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
        ws.cell(row, 1).alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
        ws.row_dimensions[row].height = 30 if len(line) > 60 else 18


def _sheet_name(text: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, no ``[]:*?/\\``), unique in the workbook."""
    name = "".join(ch for ch in xlsx_text(text) if ch not in "[]:*?/\\'")[:31] or "表"
    base, n = name, 2
    while name in used:
        suffix = f"({n})"
        name = base[:31 - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name


def _number(value: Any) -> str:
    """A figure as the form writes it in a blank (``550``, ``0.6``); a missing one as spaces."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "    "
    value = float(value)
    return f" {int(value)} " if value.is_integer() else f" {value:g} "


def _round(value: Any, places: int = 4) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), places)


# ------------------------------------------------------------------ 附件1


def annex1_workbook(pairings: pd.DataFrame, work_teams: pd.DataFrame, villages: pd.DataFrame, *, year: int,
                    district: str = "沙坡头区") -> Workbook:
    """附件1 for ``year`` from the registry's frames (with their name columns).

    Parameters
    ----------
    pairings
        ``pairings`` rows of ``year``: ``unit_name``, ``village_id``, ``village_name``,
        ``township_name``, ``task_funds_wan_yuan`` [万元], ``seq``.
    work_teams
        ``work_teams`` rows of ``year``: ``village_id``, ``leader_unit_name``.
    villages
        ``villages``: ``id``, ``category``.
    year
        The year in the title [year].
    district
        The district named in the title.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = f"附件1 {year}"
    ncol = len(ANNEX1_COLUMNS)
    _title(ws, "附件1", f"{district}{year}年部门（单位）定点帮扶贫困村安排表", ncol)
    _header(ws, [[PAIRING_TABLE_HEADERS[c] for c in ANNEX1_COLUMNS]])

    leaders = {int(r.village_id): r.leader_unit_name for r in work_teams.itertuples()
               if isinstance(getattr(r, "leader_unit_name", None), str)}
    categories = dict(zip(villages["id"].astype(int), villages["category"]))
    rows = pairings.sort_values(["seq", "id"] if "id" in pairings else ["seq"], na_position="last")
    col = {c: i + 1 for i, c in enumerate(ANNEX1_COLUMNS)}
    unit_seq = village_seq = 0
    total = 0.0
    sections = []
    for township in pd.unique(rows["township_name"]):
        ws.append([_text(township)])
        r = ws.max_row
        sections.append(r)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
        in_town = rows[rows["township_name"] == township]
        for village_id in pd.unique(in_town["village_id"]):
            group = in_town[in_town["village_id"] == village_id]
            village_seq += 1
            first = ws.max_row + 1
            for i, p in enumerate(group.itertuples()):
                unit_seq += 1
                funds = None if pd.isna(p.task_funds_wan_yuan) else float(p.task_funds_wan_yuan)
                total += funds or 0.0
                values = {"seq": unit_seq, "unit": p.unit_name, "funds": funds}
                if i == 0:
                    category = categories.get(int(village_id))
                    values |= {"leader": leaders.get(int(village_id)), "village": p.village_name,
                               "category": VillageCategory.labels().get(category, category),
                               "village_seq": village_seq}
                ws.append([_text(values.get(c)) for c in ANNEX1_COLUMNS])
            last = ws.max_row
            if last > first:  # the village's cells merged down over its units' rows, as in the seed
                for key in ("leader", "village", "category", "village_seq"):
                    ws.merge_cells(start_row=first, start_column=col[key], end_row=last, end_column=col[key])
    ws.append([TOTAL_LABEL, None, round(total, 4)])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.cell(ws.max_row, 3).font = Font(bold=True)
    _borders(ws, 4, ws.max_row, ncol, left_columns=(col["unit"], col["leader"]))
    for r in sections:
        ws.cell(r, 1).font = Font(bold=True)
        ws.cell(r, 1).alignment = Alignment(horizontal="left", vertical="center")
    _finish(ws, [_WIDTHS[c] for c in ANNEX1_COLUMNS], title_rows="3:3", landscape=False, freeze="A4")
    return wb


# ------------------------------------------------------------------ 附件2


def _tick(value: Any) -> tuple[str, str]:
    """The 有 / 无 blanks of a yes-no question: ``√`` in the one that holds, both blank if unknown."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "    ", "    "
    return (" √ ", "    ") if bool(value) else ("    ", " √ ")


def annex2_lines(row: Any) -> list[tuple[str, str]]:
    """The (label, text) lines of one 附件2 form, its blanks filled from a ``unit_inputs`` row
    (a mapping; missing figures stay blank, as on the seed's empty form)."""
    g = (lambda key: row.get(key)) if row is not None else (lambda key: None)
    n = lambda key: _number(g(key))  # noqa: E731
    ranks = [g(k) for k in ("cadres_division", "cadres_section", "cadres_general")]
    known = [r for r in ranks if r is not None and not pd.isna(r)]
    total = sum(known) if len(known) == 3 else None
    plan, half, year_summary = (_tick(g(k)) for k in ("has_plan", "has_half_year_summary", "has_year_summary"))
    team = g("team_leaders"), g("team_members")
    has_team = None if all(v is None or pd.isna(v) for v in team) else bool(sum(v or 0 for v in team if not pd.isna(v)))
    team_yes, team_no = _tick(has_team)
    other = g("other")
    other = other if isinstance(other, str) and other.strip() else ""
    return [
        ("包保干部\n到位情况", f"共选派{_number(total)}名包保干部开展帮扶工作，其中：有处级干部{n('cadres_division')}名、"
                         f"科级干部（{n('cadres_section')}）名及一般干部{n('cadres_general')}名。"),
        ("包保干部进村入户情况", f"人均入户次数{n('visits_per_cadre')}次"),
        ("有无帮扶实施\n方案、总结", f"帮扶方案：有{plan[0]}；无{plan[1]}；上半年帮扶工作总结：有{half[0]}；无{half[1]}；"
                             f"全年帮扶工作总结：有{year_summary[0]}；无{year_summary[1]}；"),
        ("有无选派驻村工作队队长（员）", f"有{team_yes}、选派驻村工作队队长{n('team_leaders')}名、队员{n('team_members')}名；"
                                 f"\n无{team_no}"),
        ("脱贫攻坚“送温暖”情况", f"慰问贫困户{n('warmth_households')}户、老党员{n('warmth_party_members')}户；"
                           f"发放慰问金{n('warmth_money_yuan')}元；\n发放粮油：米{n('rice_jin')}斤；面{n('flour_jin')}斤；"
                           f"油{n('oil_jin')}斤，折合物价{n('goods_value_yuan')}元。"),
        ("本单位项目建设及产业扶持情况", f"投入项目帮扶资金{n('project_funds_wan_yuan')}万元。其中：1、农田建设项目"
                                f"{n('farmland_projects')}个；道路建设{n('road_km')}千米；打机井{n('wells')}眼；"
                                f"修水渠{n('canal_km')}公里；修建蓄水池{n('reservoirs')}个；2、建设养殖园区"
                                f"{n('breeding_parks')}处，扶持养殖户{n('breeding_households')}户，牛{n('cattle')}头，"
                                f"羊{n('sheep')}只，鸡{n('chickens')}只，种植经济作物{n('crops_mu')}亩。3、其他    。"),
        ("协调行业项目  资金情况", f"争取协调行业部门项目{n('coordinated_projects')}个、资金"
                            f"{n('coordinated_funds_wan_yuan')}万元。\n其中：1、争取协调     项目、资金     万元；"
                            "2、争取协调      项目、资金      万元；3、争取协调      项目、资金      万元；"),
        ("添置村级      办公室设施", f"解决办公设施（桌、椅、凳）{n('office_furniture_sets')}套、电脑{n('computers')}台、"
                             f"打印机{n('printers')}台。"),
        ("开展政策宣传\n情况", f"开展政策宣传{n('publicity_sessions')}次，参加群众{n('publicity_attendance')}人（次）。"),
        ("劳务输出情况", f"组织劳务输出{n('labour_export_batches')}批，共{n('labour_export_persons')}人（次）。"),
        ("本单位脱贫攻坚投入资金合计", f"投入资金共计{n('total_input_wan_yuan')}万元，其中实物折价{n('in_kind_wan_yuan')}万元。"),
        ("其他帮扶情况", other),
    ]


ANNEX2_NOTE = ("填报说明：1.项目建设及产业扶持，指本单位为项目建设及产业扶持提供的资金；2.本单位脱贫攻坚投入资金，只填报本部门（单位）"
               "投入资金。投入资金含项目建设及扶持项目资金、发放慰问金、购买物品资金等，不含协调资金；3、请于5月20日前、11月20日前"
               "分别将此统计表以附件（加盖填报单位及帮扶村公章）形式报至沙坡头区扶贫办，逾期迟报者将在考核中予以扣分。")


def annex2_workbook(pairs: pd.DataFrame, inputs: pd.DataFrame, *, year: int, district: str = "沙坡头区",
                    demo_note: str | None = None) -> Workbook:
    """附件2: one form per unit and village (a sheet each, named ``单位-村``).

    Parameters
    ----------
    pairs
        The unit-village pairs to write: ``unit_id``, ``unit_name``, ``village_id``,
        ``village_name`` (the year's pairings and work-team leader units, and any pair with
        inputs).
    inputs
        ``unit_inputs`` rows of ``year`` (``unit_id``, ``village_id`` and the 附件2 figures);
        a pair without a row gets a blank form.
    year
        The year of the title [year].
    demo_note
        Said under each form when the figures are synthetic.
    """
    wb = Workbook()
    wb.remove(wb.active)
    given = {(int(r["unit_id"]), int(r["village_id"])): r for r in inputs.to_dict("records")}
    used: set[str] = set()
    for pair in pairs.itertuples():
        ws = wb.create_sheet(_sheet_name(f"{pair.unit_name}-{pair.village_name}", used))
        _title(ws, "附件2", f"{district}{year}年各部门（单位）定点帮扶投入情况统计表", 2,
               subtitle=f"填报单位（盖章）：{pair.unit_name}        帮扶村（盖章）：{pair.village_name}")
        first = ws.max_row + 1
        for label, text in annex2_lines(given.get((int(pair.unit_id), int(pair.village_id)))):
            ws.append([label, _text(text)])
            ws.row_dimensions[ws.max_row].height = 15 * (1 + len(text) // 48 + text.count("\n"))
        _borders(ws, first, ws.max_row, 2, left_columns=(2,))
        for r in range(first, ws.max_row + 1):
            ws.cell(r, 1).font = Font(bold=True)
        _notes(ws, 2, ANNEX2_NOTE, *([demo_note] if demo_note else []))
        _finish(ws, [22, 78], title_rows="1:3", landscape=False)
    if not wb.sheetnames:
        ws = wb.create_sheet("附件2")
        _title(ws, "附件2", f"{district}{year}年各部门（单位）定点帮扶投入情况统计表", 2,
               subtitle="没有符合条件的帮扶单位和帮扶村")
    return wb


# ------------------------------------------------------------------ 附件3 / 附件4

FUNDS_HEADER = [
    ["序号", "帮扶部门\n（单位）", "帮扶村名称", "款物折合\n总计\n（万元）", "项目帮扶", LEFT, LEFT, "产业帮扶", LEFT, LEFT,
     LEFT, LEFT, "备注"],
    [UP, UP, UP, UP, "小计\n（万元）", "基础设施", LEFT, "小计\n（万元）", "养殖", LEFT, "种植", LEFT, UP],
    [UP, UP, UP, UP, UP, "资金\n（万元）", "用途及规模", UP, "资金\n（万元）", "规模\n（户、头/只）", "资金\n（万元）",
     "规模\n（户、亩）", UP],
]
WARMTH_HEADER = [
    ["序号", "帮扶部门\n（单位）", "帮扶村名称", "款物折合\n总计\n（万元）", "送温暖活动", LEFT, LEFT, LEFT, LEFT, LEFT, LEFT,
     LEFT, "其他物品折价", LEFT, LEFT],
    [UP, UP, UP, UP, "小计\n（万元）", "慰问金", "米", LEFT, "面", LEFT, "油", LEFT, "小计\n（万元）", "资金\n（万元）",
     "物品名称及数量"],
    [UP, UP, UP, UP, UP, "资金\n（万元）", "资金\n（万元）", "数量\n（袋/斤）", "资金\n（万元）", "数量\n（袋/斤）", "资金\n（万元）",
     "数量\n（桶）", UP, UP, UP],
]
#: Project kinds of 项目帮扶/基础设施 (the rest are 养殖 and 种植).
INFRASTRUCTURE_KINDS = ("road", "well", "canal", "reservoir", "farmland", "other")
FUNDS_NOTES = {
    "self_raised": "填表说明：1、此表只填报本部门（单位）为联系定点帮扶贫困村的资金投入情况，不含协调其他部门资金；2、若无投入情况，填无盖章报送。",
    "coordinated": "填表说明：1、此表仅填写本部门（单位）协调其他部门（单位）或企业为联系定点帮扶贫困村的投入情况；2、若无投入情况，填无盖章报送。",
}
FUNDS_FORMS = {"self_raised": ("附件3", "自筹项目"), "coordinated": ("附件4", "协调项目")}
SIGNATURE = "填报人：                                                     联系方式："


def _scale(group: pd.DataFrame) -> str | None:
    """用途及规模 / 规模 of some projects: ``道路建设 2公里；打机井 1眼``."""
    parts = []
    for p in group.itertuples():
        quantity = "" if pd.isna(p.quantity) else f"{float(p.quantity):g}{'' if pd.isna(p.quantity_unit) else p.quantity_unit}"
        label = ProjectKind.labels().get(p.kind, p.kind)
        parts.append(f"{label}{quantity}" if p.kind in ("breeding", "planting") or not isinstance(p.name, str)
                     else f"{p.name}（{label}{quantity}）")
    return "；".join(parts) or None


def _funds(group: pd.DataFrame) -> float | None:
    return _round(group["funds_wan_yuan"].sum(min_count=1)) if len(group) else None


def _add(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known), 4) if known else None


def _data_block(ws: Worksheet, rows: list[list[Any]], ncol: int, sums: Sequence[int]) -> None:
    """Data rows, then the 合计 row summing columns ``sums`` (0-based), bordered."""
    first = ws.max_row + 1
    for row in rows:
        ws.append([_text(v) for v in row])
    totals: list[Any] = [TOTAL_LABEL] + [None] * (ncol - 1)
    for c in sums:
        totals[c] = _add(*[r[c] for r in rows if isinstance(r[c], (int, float))])
    ws.append(totals)
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=3)
    _borders(ws, first, ws.max_row, ncol, left_columns=(2, 7))
    ws.cell(ws.max_row, 1).font = Font(bold=True)


def _wan(value_yuan: Any) -> float | None:
    """[元] -> [万元]."""
    value = _round(value_yuan)
    return None if value is None else round(value / 10_000, 4)


def funds_workbook(pairs: pd.DataFrame, projects: pd.DataFrame, inputs: pd.DataFrame, *, mode: str, year: int,
                   demo_note: str | None = None) -> Workbook:
    """附件3 (``mode="self_raised"``, 自筹) or 附件4 (``"coordinated"``, 协调): 项目一 (project and
    industry funds) and 项目二 (送温暖), a sheet each, one row per unit and village.

    Parameters
    ----------
    pairs
        The unit-village pairs (``unit_id``, ``unit_name``, ``village_id``, ``village_name``).
    projects
        ``projects`` of ``year`` and this funding mode: ``unit_id``, ``village_id``, ``kind``,
        ``name``, ``funds_wan_yuan`` [万元], ``quantity``, ``quantity_unit``.
    inputs
        ``unit_inputs`` of ``year``: the 送温暖 figures (慰问金 [元], 米/面 [斤], 油 [斤],
        折合物价 [元]) of 自筹; ignored for 协调 (a unit's 附件2 figures are its own money).
    mode
        ``self_raised`` or ``coordinated``.
    """
    mark, kind = FUNDS_FORMS[mode]
    wb = Workbook()
    ws = wb.active
    ws.title = f"{mark} {kind}一"
    ncol = len(FUNDS_HEADER[0])
    _title(ws, mark, f"{year}年社会定点帮扶单位投入资金情况统计表（{kind}一）", ncol,
           subtitle="填报单位（盖章）：                                    填报时间：")
    _header(ws, FUNDS_HEADER)
    rows = []
    for seq, pair in enumerate(pairs.itertuples(), start=1):
        own = projects[(projects["unit_id"] == pair.unit_id) & (projects["village_id"] == pair.village_id)]
        infra = own[own["kind"].isin(INFRASTRUCTURE_KINDS)]
        breeding, planting = own[own["kind"] == "breeding"], own[own["kind"] == "planting"]
        infra_funds, breeding_funds, planting_funds = _funds(infra), _funds(breeding), _funds(planting)
        industry = _add(breeding_funds, planting_funds)
        rows.append([seq, pair.unit_name, pair.village_name, _add(infra_funds, industry), infra_funds, infra_funds,
                     _scale(infra), industry, breeding_funds, _scale(breeding), planting_funds, _scale(planting),
                     None if len(own) else "无"])
    _data_block(ws, rows, ncol, sums=(3, 4, 5, 7, 8, 10))
    _notes(ws, ncol, FUNDS_NOTES[mode], *([demo_note] if demo_note else []))
    _finish(ws, [6, 24, 12, 10, 10, 10, 30, 10, 10, 16, 10, 16, 8], title_rows="4:6", landscape=True, freeze="D7")

    ws = wb.create_sheet(f"{mark} {kind}二")
    ncol = len(WARMTH_HEADER[0])
    _title(ws, mark, f"{year}年社会定点帮扶单位投入资金情况统计表（{kind}二）", ncol,
           subtitle="填报单位（盖章）：                                    填报时间：")
    _header(ws, WARMTH_HEADER)
    given = {(int(r["unit_id"]), int(r["village_id"])): r for r in inputs.to_dict("records")} \
        if mode == "self_raised" else {}
    rows = []
    for seq, pair in enumerate(pairs.itertuples(), start=1):
        r = given.get((int(pair.unit_id), int(pair.village_id)), {})
        money, goods, oil = _wan(r.get("warmth_money_yuan")), _wan(r.get("goods_value_yuan")), _round(r.get("oil_jin"))
        subtotal = _add(money, goods)
        rows.append([seq, pair.unit_name, pair.village_name, subtotal, subtotal, money, None,
                     _round(r.get("rice_jin")), None, _round(r.get("flour_jin")), None,
                     None if oil is None else f"{oil:g}斤", None, None, None])
    _data_block(ws, rows, ncol, sums=(3, 4, 5, 7, 9))
    _notes(ws, ncol, FUNDS_NOTES[mode] + "米、面、油未分列资金时，其折合物价计入送温暖小计；油的数量以斤计。", SIGNATURE,
           *([demo_note] if demo_note else []))
    _finish(ws, [6, 24, 12, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 16], title_rows="4:6", landscape=True,
            freeze="D7")
    return wb


# ------------------------------------------------------------------ 附件5

ANNEX5_HEADER = [
    ["序号", "帮扶部门（单位）", "联系帮扶村", "联系帮扶责任人\n数量（人）", LEFT, LEFT, LEFT, "联系帮扶贫困户数", "干部人均入户次数",
     "个人为帮扶户投入情况", LEFT, LEFT],
    [UP, UP, UP, "合计", "处级", "科级", "一般", UP, UP, "款物折合\n合计（元）", "物品名称及\n数量", "现金\n（元）"],
]


def annex5_workbook(pairs: pd.DataFrame, inputs: pd.DataFrame, households: pd.Series, *, year: int,
                    demo_note: str | None = None) -> Workbook:
    """附件5: cadres by rank (from ``unit_inputs``), registered poor households whose cadre belongs
    to the unit, visits per cadre, one row per unit and village; the cadres' personal spending
    has no field in the registry and stays blank.

    Parameters
    ----------
    households
        Registered poor households per ``(unit_id, village_id)`` [households].
    """
    wb = Workbook()
    ws = wb.active
    ws.title = f"附件5 {year}"
    ncol = len(ANNEX5_HEADER[0])
    _title(ws, "附件5", f"{year}年部门（单位）帮扶责任人联系帮扶贫困户情况统计表", ncol,
           subtitle="填报单位（盖章）：                                    填报时间：")
    _header(ws, ANNEX5_HEADER)
    given = {(int(r["unit_id"]), int(r["village_id"])): r for r in inputs.to_dict("records")}
    rows = []
    for seq, pair in enumerate(pairs.itertuples(), start=1):
        r = given.get((int(pair.unit_id), int(pair.village_id)), {})
        ranks = [_round(r.get(k)) for k in ("cadres_division", "cadres_section", "cadres_general")]
        total = sum(ranks) if all(v is not None for v in ranks) else None
        carried = households.get((int(pair.unit_id), int(pair.village_id)))
        rows.append([seq, pair.unit_name, pair.village_name, total, *ranks,
                     None if carried is None else int(carried), _round(r.get("visits_per_cadre"), 1), None, None, None])
    _data_block(ws, rows, ncol, sums=(3, 4, 5, 6, 7))
    _notes(ws, ncol, SIGNATURE, *([demo_note] if demo_note else []))
    _finish(ws, [6, 28, 12, 8, 8, 8, 8, 12, 12, 12, 14, 10], title_rows="4:5", landscape=True)
    return wb
