"""Seed 000's 附件1 (帮扶贫困村安排表) written back from the registry, laid out as the seed lays
it out, so that it prints as the district's own form and imports again unchanged.

The layout (:func:`annex1_workbook`): the 附件1 mark, a title row naming the district and the
year, the seed's column headers (:data:`geo.registry_tables.PAIRING_TABLE_HEADERS`), then per
township a section row and one row per pairing unit in the units' order, the village, its
category (备注), its work-team leader unit and its number merged down over its units' rows; a
合计 row with the task funds; print setup (A4 portrait, fitted to the width, header rows
repeated on every page) and thin borders. Pure: frames in, workbook out.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from geo.enums import VillageCategory
from geo.registry_tables import PAIRING_TABLE_HEADERS
from geo.tabular import print_a4

#: Column order of seed 000's 附件1.
ANNEX1_COLUMNS = ("seq", "unit", "funds", "leader", "village", "category", "village_seq")
_WIDTHS = {"seq": 8, "unit": 34, "funds": 10, "leader": 28, "village": 14, "category": 12, "village_seq": 8}
TOTAL_LABEL = "合计"


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
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ncol = len(ANNEX1_COLUMNS)

    ws.append(["附件1"])
    ws.append([f"{district}{year}年部门（单位）定点帮扶贫困村安排表"])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncol)
    ws["A2"].font = Font(size=16, bold=True)
    ws["A2"].alignment = center
    ws.row_dimensions[2].height = 30
    ws.append([PAIRING_TABLE_HEADERS[c] for c in ANNEX1_COLUMNS])
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = center
        cell.border = border

    leaders = {int(r.village_id): r.leader_unit_name for r in work_teams.itertuples()
               if isinstance(getattr(r, "leader_unit_name", None), str)}
    categories = dict(zip(villages["id"].astype(int), villages["category"]))
    rows = pairings.sort_values(["seq", "id"] if "id" in pairings else ["seq"], na_position="last")
    col = {c: i + 1 for i, c in enumerate(ANNEX1_COLUMNS)}
    unit_seq = village_seq = 0
    total = 0.0
    for township in pd.unique(rows["township_name"]):
        ws.append([township])
        r = ws.max_row
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
        ws.cell(r, 1).font = Font(bold=True)
        ws.cell(r, 1).alignment = Alignment(horizontal="left", vertical="center")
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
                ws.append([values.get(c) for c in ANNEX1_COLUMNS])
            last = ws.max_row
            if last > first:  # the village's cells merged down over its units' rows, as in the seed
                for key in ("leader", "village", "category", "village_seq"):
                    ws.merge_cells(start_row=first, start_column=col[key], end_row=last, end_column=col[key])
    ws.append([TOTAL_LABEL, None, round(total, 4)])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.cell(ws.max_row, 3).font = Font(bold=True)

    for row in ws.iter_rows(min_row=3, max_row=ws.max_row, max_col=ncol):
        for cell in row:
            cell.border = border
            if cell.row > 3:
                cell.alignment = Alignment(vertical="center", wrap_text=True,
                                           horizontal="left" if cell.column in (col["unit"], col["leader"])
                                           else "center")
    for key, width in _WIDTHS.items():
        ws.column_dimensions[get_column_letter(col[key])].width = width
    print_a4(ws, title_rows="3:3")
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.freeze_panes = "A4"
    return wb
