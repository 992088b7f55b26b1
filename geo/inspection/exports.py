"""Exports of a recorded sample: the printable forms (XLSX, CSV), GeoJSON and GPX.

Household heads' names and ID numbers are personal data: every function here masks them
(``马**``, ``640502********123X``) unless called with ``show_names=True``, which only a caller
that has checked the user's role may pass. They are never logged or put in error messages.

The XLSX and CSV tables carry the registry's facts first and then, left blank for the
inspector, the questions of seed 003's 附件1 农户调查表 and 附件2 村级调查表.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, MultiLineString

from geo import tabular
from geo.enums import HouseholdStatus, RouteMethod, VillageCategory
from geo.errors import ValidationError
from geo.geojson import feature_collection
from geo.inspection.findings import household_type

Table = Literal["households", "villages", "strata", "frame"]
TABLES = ("households", "villages", "strata", "frame")

#: 附件1 农户调查表: what the inspector fills in for each household (left blank).
HOUSEHOLD_FORM = [
    "家庭实际人口(人)", "户籍人口(人)", "明白卡人口(人)", "扶贫手册人口(人)", "帮扶措施与致贫原因是否一致",
    "不愁吃", "不愁穿", "截至检查时家庭人均纯收入(元)", "有无因贫辍学学生", "是否全部参加医保(新农合)",
    "大病住院花费/报销(元)", "有无安全住房", "住房结构", "人均住房面积(平方米)", "住房裂缝漏雨",
    "是否易地扶贫搬迁户", "通村屯道路是否硬化", "所在村屯是否20户以上", "有无生活用电", "有无安全饮水",
    "是否通广播电视信号", "脱贫后是否得到帮扶(已脱贫户、退出户)", "是否有干部联系帮扶", "帮扶干部姓名",
    "今年帮扶干部上门次数", "是否讲清脱贫标准", "是否介绍扶贫政策", "是否得到物资资金帮助",
    "对帮扶工作是否满意", "是否认可脱贫攻坚政策及成效", "村里有无生活困难未列入贫困户家庭",
    "是否疑似漏评户", "村干部是否上门了解困难", "意见建议", "是否达到脱贫标准", "疑似错退或返贫",
    "非贫困户是否属于漏评", "检查人", "检查日期",
]

#: 附件2 村级调查表: what the inspector fills in for each village (left blank).
VILLAGE_FORM = [
    "村类型(核实)", "全村农业人口(人)", "贫困人口(人)", "已脱贫(人)", "今年计划脱贫(人)",
    "有无特色产业及名称", "特色产业覆盖比例(%)", "稳固住房且人均13平方米农户比例(%)",
    "医疗保险参保比例(%)", "未正常上学适龄儿童(人)及原因", "安全饮水农户比例(%)", "行政村是否通硬化路",
    "道路路基宽(米)", "道路路面宽(米)", "20户以上自然村是否通砂石路以上且路面宽3.5米以上",
    "有电用农户比例(%)", "公共服务设施", "城乡居民养老保险参保率(%)", "有电视看农户比例(%)",
    "有无村集体经济及来源", "是否软弱涣散村党组织", "贫困发生率(%)", "回头看未达标户数/已达标户数",
    "脱贫后是否继续享受扶贫政策", "有无返贫现象", "有无县以上领导联系", "有无帮扶单位", "有无驻村工作队",
    "第一书记是否到岗", "有无符合条件未纳入贫困户群众", "是否建立问题整改台账",
    "信息与帮扶手册、系统是否一致", "检查人", "检查日期",
]

_METHOD = {m.value: m.label for m in RouteMethod}

#: The forms' sections as printed in seed 003: (number, name, slice of the form's questions).
HOUSEHOLD_SECTIONS = ((1, "被调查户基本情况", 0, 5), (2, "贫困户“八有一超”达标情况", 5, 22), (3, "帮扶联系", 22, 30),
                      (4, "其他事项", 30, 34), (5, "综合判断", 34, 37), (6, "检查人签字", 37, 39))
VILLAGE_SECTIONS = ((1, "村基本情况", 0, 5), (2, "贫困村“十一有一低于”达标情况", 5, 22),
                    (3, "脱贫摘帽对象巩固提升情况", 22, 25), (4, "精准帮扶情况", 25, 29), (5, "其他事项", 29, 32),
                    (6, "检查人签字", 32, 34))
#: Answer lists offered as drop-downs (data validation) for closed questions.
CHOICES = {
    "村类型(核实)": "已退出贫困村,今年计划退出贫困村,未退出贫困村,非贫困村",
    "疑似错退或返贫": "错退,返贫",
    "住房裂缝漏雨": "有,无",
}


def answer_choices(question: str) -> str | None:
    """The drop-down list of a form question (``是,否``, ``有,无``, ``满意,不满意`` ...), or
    None for numbers and free text."""
    if question in CHOICES:
        return CHOICES[question]
    if question in ("检查人", "检查日期", "帮扶干部姓名", "意见建议", "住房结构") or "/" in question \
            or "次数" in question or re.search(r"\((人|元|%|米|平方米)\)|及(名称|来源|原因)$", question):
        return None  # a figure, a name or free text
    if "满意" in question:
        return "满意,不满意"
    if "有无" in question:
        return "有,无"
    if question.startswith(("是否", "不愁")) or "是否" in question:
        return "是,否"
    return None


def household_forms(rows: pd.DataFrame) -> list[dict]:
    """One 附件1 form per household of :func:`household_table` (names as masked there)."""
    forms = []
    for values in rows.to_dict("records"):
        get = values.get
        hamlet = f" {get('自然村')}" if isinstance(get("自然村"), str) and get("自然村") else ""
        forms.append({"title": "附件1　农户调查表",
                      "place": f"调查地点：{get('乡镇')} {get('行政村')}{hamlet}　第{get('检查组')}组 "
                               f"第{get('村走访顺序')}村 第{get('户走访顺序')}户",
                      "facts": f"户编号 {get('户编号')}　户主 {get('户主姓名') or '—'}　农户类型 {get('农户类型')}　"
                               f"抽样层 {get('抽样层')}",
                      "sections": [(no, name, HOUSEHOLD_FORM[a:b]) for no, name, a, b in HOUSEHOLD_SECTIONS],
                      "skip_note": "非贫困户不调查第2、3项及第5项第1问。" if get("农户类型") == "非贫困户" else ""})
    return forms


def village_forms(rows: pd.DataFrame) -> list[dict]:
    """One 附件2 form per village of :func:`village_table`."""
    forms = []
    for values in rows.to_dict("records"):
        get = values.get
        forms.append({"title": "附件2　村级调查表",
                      "place": f"调查村名：{get('乡镇')} {get('行政村')}　第{get('检查组')}组 第{get('走访顺序')}站",
                      "facts": f"村类别（登记）{get('村类别(登记)')}　抽样户数 {get('抽样户数')}",
                      "sections": [(no, name, VILLAGE_FORM[a:b]) for no, name, a, b in VILLAGE_SECTIONS],
                      "skip_note": "非贫困村不调查第2、3、4项。" if get("村类别(登记)") == "非贫困村" else ""})
    return forms


def mask_name(name: object) -> str:
    """``马某军`` -> ``马**``: the surname stays, every other character becomes ``*``."""
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return ""
    text = str(name)
    return text[:1] + "*" * (len(text) - 1)


def mask_id_number(number: object) -> str:
    """``640502194512300123X`` style -> ``640502********123X``: region code and last four stay."""
    if number is None or (isinstance(number, float) and pd.isna(number)):
        return ""
    text = str(number)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def _household_type(status: str, year: object, plan_year: int) -> str:
    """The household form's 农户类型 (附件1): exit years told apart where the form does."""
    year = None if year is None or pd.isna(year) else int(year)
    if status == HouseholdStatus.EXITED.value and year in (2014, 2015):
        return "2014、2015年退出户"
    if status == HouseholdStatus.EXITED.value and year:
        return f"{year}年脱贫户"
    return household_type(status, year, plan_year)


def household_table(
    villages: pd.DataFrame,
    households: pd.DataFrame,
    registry: pd.DataFrame,
    *,
    plan_year: int,
    show_names: bool = False,
) -> pd.DataFrame:
    """The household list in visiting order with Chinese headers and the blank form columns.

    Parameters
    ----------
    villages, households
        The recorded sample (:func:`geo.storage.inspection.read_sampled_villages` / ``..._households``).
    registry
        The households' registry rows by ``id``: ``head_name``, ``id_number`` (personal),
        ``members``, ``poverty_causes``, ``income_per_person_yuan``, ``settlement_name``,
        ``cadre_name``. Households deleted since the draw may be missing.
    show_names
        Show names and ID numbers in full; otherwise masked.
    """
    reg = registry.set_index("id") if len(registry) else registry
    mask_n = (lambda v: "" if v is None or pd.isna(v) else str(v)) if show_names else mask_name
    mask_i = (lambda v: "" if v is None or pd.isna(v) else str(v)) if show_names else mask_id_number

    def lookup(hid, column):
        if hid is None or pd.isna(hid) or column not in reg.columns or int(hid) not in reg.index:
            return None
        return reg.at[int(hid), column]

    rows = []
    for n, h in enumerate(households.itertuples(index=False), start=1):
        geometry = h.geometry
        rows.append({
            "序号": n, "检查组": int(h.team), "村走访顺序": int(h.village_order), "户走访顺序": int(h.visit_order),
            "乡镇": h.township_name, "行政村": h.village_name, "自然村": lookup(h.household_id, "settlement_name"),
            "户编号": h.household_code,
            "户主姓名": mask_n(lookup(h.household_id, "head_name")),
            "身份证号": mask_i(lookup(h.household_id, "id_number")),
            "农户类型": _household_type(h.status, h.status_year, plan_year),
            "抽样层": h.stratum_label, "补抽说明": f"补足“{h.filled_for}”缺额" if h.filled_for else "",
            "登记状态": HouseholdStatus(h.status).label,
            "脱贫/计划年份": None if h.status_year is None or pd.isna(h.status_year) else int(h.status_year),
            "登记家庭人口(人)": lookup(h.household_id, "members"),
            "登记致贫原因": lookup(h.household_id, "poverty_causes"),
            "登记人均纯收入(元)": lookup(h.household_id, "income_per_person_yuan"),
            "帮扶责任人(登记)": lookup(h.household_id, "cadre_name"),
            "经度": round(geometry.x, 6) if geometry is not None and not geometry.is_empty else None,
            "纬度": round(geometry.y, 6) if geometry is not None and not geometry.is_empty else None,
            **{column: "" for column in HOUSEHOLD_FORM},
        })
    return pd.DataFrame(rows)


def village_table(villages: pd.DataFrame) -> pd.DataFrame:
    """The village list in visiting order with Chinese headers and the blank form columns."""
    rows = []
    for n, v in enumerate(villages.itertuples(index=False), start=1):
        geometry = v.geometry
        rows.append({
            "序号": n, "检查组": int(v.team), "走访顺序": int(v.visit_order), "乡镇": v.township_name,
            "行政村": v.village_name, "村类别(登记)": VillageCategory(v.category).label,
            "抽样户数": int(v.households_sampled),
            "距上一站(公里)": None if pd.isna(v.leg_km) else round(float(v.leg_km), 2),
            "路程计算": _METHOD.get(v.leg_method, ""),
            "村内走访(公里,直线)": None if pd.isna(v.walk_km) else round(float(v.walk_km), 2),
            "经度": round(geometry.x, 6) if geometry is not None and not geometry.is_empty else None,
            "纬度": round(geometry.y, 6) if geometry is not None and not geometry.is_empty else None,
            **{column: "" for column in VILLAGE_FORM},
        })
    return pd.DataFrame(rows)


def strata_table(tallies: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Quotas, what was drawn and the shortfalls, per unit and stratum (Chinese headers)."""
    return pd.DataFrame({
        "抽样单元": tallies["unit"].replace({"*": "全部抽查范围"}),
        "抽样层": tallies["stratum"].map(labels).fillna(tallies["stratum"]),
        "应抽(户)": tallies["wanted"], "最少(户)": tallies["minimum"], "可抽(户)": tallies["available"],
        "已抽(户)": tallies["drawn"], "补抽(户)": tallies["filled"], "缺额(户)": tallies["shortfall"],
        "是否达标": tallies["met"].map({True: "是", False: "否"}),
    })


def frame_table(frame, seed: str | None) -> pd.DataFrame:
    """The sampling frame as an auditor needs it to redo the draw: one row per village (its
    key, PPS weight and ordering keys), then one per household (code, village, stratum and
    ordering key), each sorted by key.

    ``排序键`` is ``H(part, key)`` as 64 hex digits; ``PPS键`` is ``-ln(u) / weight`` (villages,
    when the plan selects by pps); ``权重(户数)`` is the village weight (in the frame hash only
    under pps). Without a ``seed`` (a frame recorded before the seed is announced) the ordering
    and PPS keys are left empty. See ``docs/sampling-algorithm.md``.
    """
    from geo.inspection.draw import hash_int, hash_uniform

    v = frame.villages.sort_values("village_key")
    h = frame.households.sort_values("household_code")
    pps = [repr(-math.log(hash_uniform(seed, "village", k)) / int(w))
           if seed is not None and frame.uses_weights and int(w) > 0 else ""
           for k, w in zip(v["village_key"], v["weight"])]
    villages = pd.DataFrame({
        "类型": "村", "户编号": "", "村": v["village_key"].to_numpy(), "抽样层": "",
        "权重(户数)": [int(w) for w in v["weight"]],
        "排序键(SHA-256)": [format(hash_int(seed, "village", k), "064x") if seed is not None else ""
                          for k in v["village_key"]],
        "PPS键": pps,
    })
    households = pd.DataFrame({
        "类型": "户", "户编号": h["household_code"].to_numpy(), "村": h["village_key"].to_numpy(),
        "抽样层": h["stratum"].to_numpy(), "权重(户数)": "",
        "排序键(SHA-256)": [format(hash_int(seed, "household", c), "064x") if seed is not None else ""
                          for c in h["household_code"]],
        "PPS键": "",
    })
    return pd.concat([villages, households], ignore_index=True)


def team_table(teams: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "检查组": t["team"], "走访村数": t["villages"], "天数": len(t.get("days") or []) or None,
        "行车里程(公里)": t["length_km"], "行车时间(小时)": t["hours"],
        "工作时间合计(小时)": t.get("work_hours"), "最长一天(小时)": t.get("longest_day_hours"),
        "路程计算": _METHOD.get(t["method"], t["method"]),
        "村内走访(公里,直线)": t["walk_km"], "村内行车(公里)": t.get("drive_in_villages_km"),
        "返回起点(公里)": t["return_leg"]["km"] if t.get("return_leg") else None,
    } for t in teams])


SCHEDULE_COLUMNS = ["检查组", "第几天", "站序", "乡镇", "行政村", "抽查户数", "到达", "离开", "上一站至此(公里)",
                    "村内行车(公里)", "村内步行(公里)", "当天开始", "当天结束", "当天工作(小时)"]


def schedule_table(teams: list[dict], team: int | None = None, day: int | None = None) -> pd.DataFrame:
    """One row per stop: team, day, stop, village, arrival and leaving times (日程)."""
    rows = []
    for t in teams:
        if team is not None and t["team"] != team:
            continue
        for d in t.get("days") or []:
            if day is not None and d["day"] != day:
                continue
            for s in d["stops"]:
                rows.append([t["team"], d["day"], s["stop"], s["township"], s["village"], s["households"],
                             s["arrive"], s["leave"], s["leg_km"], s["drive_in_village_km"], s["walk_km"],
                             d["start"], d["end"], d["hours"]])
    return pd.DataFrame(rows, columns=SCHEDULE_COLUMNS)


# ---------------------------------------------------------------------- files


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese headers correctly."""
    tabular.write_csv(frame, path, lineterminator="\n")


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path, *, blank_columns: dict[str, list[str]],
               notes: list[tuple[str, str]], forms: dict[str, list[dict]] | None = None,
               footer: str = "") -> None:
    """A workbook: a 抽样说明 sheet with ``notes``, then one sheet per table; the inspector's
    blank columns are shaded, headers bold and frozen; then ``forms`` (sheet title -> forms
    of :func:`household_forms` / :func:`village_forms`), laid out for print
    (:func:`write_forms`), with ``footer`` on every printed page."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    info = book.active
    info.title = "抽样说明"
    for key, value in notes:
        info.append([key, value])
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 90
    for cell in info["A"]:
        cell.font = Font(bold=True)
    bold = Font(bold=True)
    blank_fill = PatternFill("solid", fgColor="FFF2CC")
    for title, frame in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False, name=None):
            sheet.append([None if (v is not None and not isinstance(v, str) and pd.isna(v)) else tabular.xlsx_text(v)
                          for v in row])
        blanks = set(blank_columns.get(title, []))
        for i, name in enumerate(frame.columns, start=1):
            cell = sheet.cell(row=1, column=i)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if name in blanks:
                cell.fill = blank_fill
            sheet.column_dimensions[get_column_letter(i)].width = max(8, min(28, len(str(name)) * 2 + 2))
        sheet.freeze_panes = "A2"
    for title, items in (forms or {}).items():
        write_forms(book.create_sheet(title), items, footer=footer)
    book.save(path)


def write_forms(sheet, forms: list[dict], *, footer: str = "") -> None:
    """Forms one after another on ``sheet``, each starting on a new A4 page: title, place and
    registry facts, then 序号 / 项目 / 调查内容 / 填写 rows; answer cells shaded, closed
    questions with a drop-down of their answers (data validation); the column header repeats
    on every printed page."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.pagebreak import Break

    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    shade = PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="center")
    sheet.append(["序号", "项目", "调查内容", "填写（阴影格）"])
    for cell in sheet[1]:
        cell.font, cell.border, cell.alignment = Font(bold=True), box, Alignment(horizontal="center")
    for column, width in zip("ABCD", (6, 22, 44, 24)):
        sheet.column_dimensions[column].width = width
    validations: dict[str, list[str]] = {}  # drop-down answers -> their cells
    for n, form in enumerate(forms):
        row = sheet.max_row + 1
        if n:
            sheet.row_breaks.append(Break(id=row - 1))
        for text, font in ((form["title"], Font(bold=True, size=14)), (form["place"], Font(size=10)),
                           (form["facts"], Font(size=10))):
            sheet.cell(row=row, column=1, value=tabular.xlsx_text(text)).font = font
            _merge(sheet, row, 1, row, 4)
            row += 1
        for number, section, questions in form["sections"]:
            first = row
            merged = len(questions) > 1  # 序号 and 项目 then span the section's rows, outlined below
            for question in questions:
                sheet.cell(row=row, column=3, value=question).alignment = wrap
                answer = sheet.cell(row=row, column=4)
                answer.fill = shade
                choices = answer_choices(question)
                if choices:
                    validations.setdefault(choices, []).append(answer.coordinate)
                for column in range(3 if merged else 1, 5):
                    sheet.cell(row=row, column=column).border = box
                row += 1
            sheet.cell(row=first, column=1, value=number).alignment = Alignment(horizontal="center", vertical="top")
            sheet.cell(row=first, column=2, value=section).alignment = Alignment(wrap_text=True, vertical="top")
            if merged:
                for column in (1, 2):
                    _merge(sheet, first, column, row - 1, column, outline=box)
        if form.get("skip_note"):
            sheet.cell(row=row, column=1, value=form["skip_note"]).font = Font(italic=True, size=9)
            _merge(sheet, row, 1, row, 4)
    # One validation per answer list, given all its cells at once: DataValidation.add checks each
    # new cell against every earlier one (seconds for the few thousand cells of 100 forms).
    for choices, cells in validations.items():
        sheet.add_data_validation(DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True,
                                                 showErrorMessage=True, errorTitle="请选择",
                                                 error=f"请从下拉列表选择：{choices}", sqref=" ".join(cells)))
    tabular.print_a4(sheet, title_rows="1:1")
    sheet.oddFooter.center.text = (footer + "　" if footer else "") + "第 &P 页，共 &N 页"


def _merge(sheet, first_row: int, first_column: int, last_row: int, last_column: int, *, outline=None) -> None:
    """``sheet.merge_cells`` without its check of the new range against every range merged
    before (quadratic: seconds for the 2,000 merges of 100 forms); the forms' ranges never
    overlap.

    ``outline`` (a Border) is drawn around the range as ``merge_cells`` draws the top-left
    cell's border on the edge cells, but set once a cell: openpyxl adds it side by side, each
    addition a new border style looked up by its hash (most of the time of 100 forms)."""
    from openpyxl.styles import Border
    from openpyxl.worksheet.cell_range import CellRange
    from openpyxl.worksheet.merge import MergedCellRange

    merged = MergedCellRange(sheet, CellRange(min_col=first_column, min_row=first_row, max_col=last_column,
                                              max_row=last_row).coord)
    sheet.merged_cells.ranges.add(merged)
    sheet._clean_merge_range(merged)  # as merge_cells: the covered cells become merged cells
    if outline is None:
        return
    edges: dict[tuple[int, int], list[str]] = {}
    for name in ("top", "left", "right", "bottom"):
        for coord in getattr(merged, name):
            edges.setdefault(coord, []).append(name)
    borders: dict[tuple[str, ...], Border] = {}
    for (row, column), names in edges.items():
        cell = sheet.cell(row=row, column=column)
        if (row, column) == (first_row, first_column):
            cell.border = outline
            continue
        key = tuple(names)
        if key not in borders:
            combined = cell.border
            for name in names:
                combined = combined + Border(**{name: getattr(outline, name)})
            borders[key] = combined
        cell.border = borders[key]


def sample_geojson(villages: gpd.GeoDataFrame, households: gpd.GeoDataFrame, teams: list[dict],
                   household_rows: pd.DataFrame) -> dict:
    """One FeatureCollection: sampled villages, households (names as in ``household_rows``) and
    one route feature per team (its legs from the start, over roads where known)."""
    v = gpd.GeoDataFrame({
        "kind": "village", "team": villages["team"], "visit_order": villages["visit_order"],
        "township_name": villages["township_name"], "village_name": villages["village_name"],
        "category": villages["category"], "category_label": villages["category"].map(VillageCategory.labels()),
        "households_sampled": villages["households_sampled"], "leg_km": villages["leg_km"].round(3),
        "leg_method": villages["leg_method"],
    }, geometry=villages.geometry.to_numpy(), crs=4326)
    h = gpd.GeoDataFrame({
        "kind": "household", "team": households["team"].to_numpy(),
        "village_order": households["village_order"].to_numpy(), "visit_order": households["visit_order"].to_numpy(),
        "village_name": households["village_name"].to_numpy(), "household_code": households["household_code"].to_numpy(),
        "head_name": household_rows["户主姓名"].to_numpy() if len(household_rows) else [],
        "stratum": households["stratum"].to_numpy(), "stratum_label": households["stratum_label"].to_numpy(),
    }, geometry=households.geometry.to_numpy(), crs=4326)
    routes = []
    for t in teams:
        members = villages[villages["team"] == t["team"]].sort_values("visit_order")
        legs = [g for g in members["leg"] if g is not None and not g.is_empty]
        if t.get("return_leg"):
            from shapely import wkt

            legs.append(wkt.loads(t["return_leg"]["wkt"]))
        routes.append({"kind": "route", "team": t["team"], "length_km": t["length_km"], "hours": t["hours"],
                       "leg_method": t["method"], "geometry": MultiLineString(legs) if legs else None})
    r = gpd.GeoDataFrame(routes, geometry="geometry", crs=4326) if routes else None
    collection = {"type": "FeatureCollection", "features": []}
    for frame in (v, h, r):
        if frame is not None and len(frame):
            collection["features"] += feature_collection(frame, id_column=None)["features"]
    return collection


def write_geojson(collection: dict, path: Path) -> None:
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")


GPX_NS = "http://www.topografix.com/GPX/1/1"


def write_gpx(villages: gpd.GeoDataFrame, households: gpd.GeoDataFrame, household_rows: pd.DataFrame,
              teams: list[dict], start, path: Path, *, plan_name: str, team: int | None = None) -> int:
    """GPX 1.1 for phones: waypoints in visiting order (each village, then its households), a
    route per team through its villages, and a track along the roads. Returns waypoint count.

    Raises
    ------
    ValidationError
        ``team`` is not one of the plan's teams.
    """
    wanted = sorted(set(villages["team"]))
    if team is not None and team not in wanted:
        raise ValidationError(f"--team {team}: the plan has teams {', '.join(map(str, wanted))}")
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "village-atlas"})
    meta = ET.SubElement(root, f"{{{GPX_NS}}}metadata")
    ET.SubElement(meta, f"{{{GPX_NS}}}name").text = plan_name
    ET.SubElement(meta, f"{{{GPX_NS}}}desc").text = "督查抽样走访顺序（演示数据为合成数据）"
    names = dict(zip(household_rows["户编号"], household_rows["户主姓名"])) if len(household_rows) else {}
    count = 0

    def waypoint(parent, tag, geometry, name, desc, kind):
        el = ET.SubElement(parent, f"{{{GPX_NS}}}{tag}", {"lat": f"{geometry.y:.7f}", "lon": f"{geometry.x:.7f}"})
        ET.SubElement(el, f"{{{GPX_NS}}}name").text = name
        ET.SubElement(el, f"{{{GPX_NS}}}desc").text = desc
        ET.SubElement(el, f"{{{GPX_NS}}}type").text = kind
        return el

    teams_to_write = [t for t in wanted if team is None or t == team]
    for t in teams_to_write:
        members = villages[villages["team"] == t].sort_values("visit_order")
        for v in members.itertuples(index=False):
            if v.geometry is not None and not v.geometry.is_empty:
                waypoint(root, "wpt", v.geometry, f"{t}-{v.visit_order:02d} {v.village_name}",
                         f"第{t}组第{v.visit_order}站 {v.township_name}{v.village_name} 抽样{v.households_sampled}户",
                         "村")
                count += 1
            ours = households[(households["team"] == t) & (households["village_order"] == v.visit_order)]
            for h in ours.sort_values("visit_order").itertuples(index=False):
                if h.geometry is None or h.geometry.is_empty:
                    continue
                label = names.get(h.household_code, "")
                waypoint(root, "wpt", h.geometry, f"{t}-{v.visit_order:02d}-{h.visit_order:02d} {h.household_code}",
                         f"{v.village_name} {label} {h.stratum_label}".strip(), "户")
                count += 1
    for t in teams_to_write:
        members = villages[villages["team"] == t].sort_values("visit_order")
        route = ET.SubElement(root, f"{{{GPX_NS}}}rte")
        ET.SubElement(route, f"{{{GPX_NS}}}name").text = f"第{t}组路线"
        if start is not None:
            waypoint(route, "rtept", start, "起点", "出发地", "起点")
        for v in members.itertuples(index=False):
            if v.geometry is not None and not v.geometry.is_empty:
                waypoint(route, "rtept", v.geometry, f"{t}-{v.visit_order:02d} {v.village_name}", v.township_name, "村")
    for t in teams_to_write:  # GPX 1.1 orders wpt, then rte, then trk
        members = villages[villages["team"] == t].sort_values("visit_order")
        track = ET.SubElement(root, f"{{{GPX_NS}}}trk")
        ET.SubElement(track, f"{{{GPX_NS}}}name").text = f"第{t}组行车轨迹"
        segment = ET.SubElement(track, f"{{{GPX_NS}}}trkseg")
        for leg in members["leg"]:
            if leg is None or leg.is_empty:
                continue
            for x, y in LineString(leg).coords:
                ET.SubElement(segment, f"{{{GPX_NS}}}trkpt", {"lat": f"{y:.7f}", "lon": f"{x:.7f}"})
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return count
