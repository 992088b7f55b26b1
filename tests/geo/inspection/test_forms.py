"""Seed 003's forms: 表4 with every block, 表5 from the findings, and 附件1/附件2 printed one
form per household and village (A4, repeated header, shaded answer cells, drop-downs)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from openpyxl import Workbook, load_workbook

from geo.inspection import exports
from geo.inspection.findings import (
    T4_BASIC,
    T4_COUNTY,
    T4_FUNDS,
    T4_HOUSEHOLDS,
    T4_JUDGEMENT,
    T4_ORGANISATION,
    T4_SAMPLED,
    T4_VILLAGES,
    table4_full,
    table5,
)

VILLAGES = pd.DataFrame({"village_id": [1, 2], "township_name": ["甲镇", "甲镇"], "village_name": ["一村", "二村"],
                         "category": ["poor", "exited"]})
HOUSEHOLDS = pd.DataFrame({"household_id": [11, 12, 13, 14], "household_code": ["H1", "H2", "H3", "H4"],
                           "status": ["planned_exit", "registered", "exited", "non_poor"],
                           "status_year": [2019, None, 2018, None]})
TALLIES = pd.DataFrame({"unit": ["*"], "stratum": ["poor"], "wanted": [3], "minimum": [3], "available": [3],
                        "drawn": [3], "filled": [0], "shortfall": [0], "met": [True]})
FINDINGS = pd.DataFrame({
    "code": ["P1-001", "P1-002", "P1-003"], "township_name": ["甲镇"] * 3, "village_name": ["一村", "一村", "二村"],
    "household_code": ["H4", "H4", None], "category": ["identification", "identification", "exit"],
    "kind": ["missed", "missed", "wrong_exit"], "description": ["疑似漏评", "同一户再记", "疑似错退"],
    "responsible_unit": ["甲镇人民政府"] * 3, "deadline": [dt.date(2019, 11, 10)] * 3,
    "status": ["open", "closed", "rectifying"], "evidence_note": [None, "已纳入", None],
    "closed_on": [None, dt.date(2019, 11, 8), None], "overdue": [False, False, True]})


def test_table4_has_every_block_of_seed_003_filled_where_known():
    flags = pd.DataFrame({"household_id": [11, 12, 13], "assured_food_clothing": [False, True, None],
                          "has_tv": [False, False, True]})
    cards = pd.DataFrame({"village_id": [1, 1, 2, 2], "item_code": ["poverty_incidence", "road_to_village",
                                                                     "poverty_incidence", "roads_to_settlements"],
                          "result": ["fail", "pass", "unknown", "fail"]})
    t = table4_full(VILLAGES, HOUSEHOLDS, TALLIES, plan_year=2019, labels={"poor": "贫困户"}, findings=FINDINGS,
                    household_flags=flags, village_results=cards, inspectors=4)
    assert list(dict.fromkeys(t["类别"])) == [T4_ORGANISATION, T4_BASIC, T4_HOUSEHOLDS, T4_VILLAGES, T4_COUNTY,
                                             "脱贫摘帽对象巩固提升情况", T4_FUNDS, T4_SAMPLED, T4_JUDGEMENT]
    value = dict(zip(t["项目"], t["数量"]))
    assert value["参与人数"] == 4 and value["2.抽查村总数"] == 2 and value["3.抽查户总数"] == 4
    rows = t[t["类别"] == T4_HOUSEHOLDS].reset_index(drop=True)
    assert rows.loc[0, "项目"] == "1.未实现两不愁户数" and rows.loc[0, "数量"] == 1 and "1户无记录" in rows.loc[0, "备注"]
    assert rows.loc[1, "项目"].strip() == "其中：今年计划脱贫户" and rows.loc[1, "数量"] == 1
    tv = rows.index[rows["项目"] == "8.无广播电视信号户数"][0]
    assert rows.loc[tv, "数量"] == 2 and rows.loc[tv + 1, "数量"] == 1
    assert pd.isna(value["5.督查易地搬迁户数"])  # no registry field: for the inspectors
    assert value["12.贫困发生率高于3%的村数"] == 1 and value["6.通村屯道路达不到标准的村数"] == 1
    assert pd.isna(value["1.无特色产业村数"])
    assert value["漏评情况：疑似漏评户数"] == 1  # two findings, one household
    assert value["错退情况：疑似错退户数"] == 1
    judgement = t[t["类别"] == T4_JUDGEMENT].iloc[0]
    assert "已登记问题3个，其中未整改销号2个" in judgement["备注"]


def test_table5_lists_every_finding_with_its_rectification_and_a_blank_check():
    t = table5(FINDINGS)
    assert list(t["问题编号"]) == ["P1-001", "P1-002", "P1-003"]
    assert list(t["整改状态"]) == ["待整改", "已整改销号", "整改中"]
    assert t.loc[0, "类别"] == "精准识别·漏评" and t.loc[2, "是否逾期"] == "是"
    assert (t["抽查核实情况"] == "").all()
    assert table5(FINDINGS.iloc[0:0]).empty


def test_forms_print_one_per_household_on_a4_with_dropdowns_and_shaded_answers(tmp_path):
    rows = pd.DataFrame({"乡镇": ["甲镇", "甲镇"], "行政村": ["一村", "一村"], "自然村": ["一组", None],
                         "检查组": [1, 1], "村走访顺序": [1, 1], "户走访顺序": [1, 2], "户编号": ["H1", "H2"],
                         "户主姓名": ["马**", "李*"], "农户类型": ["今年计划脱贫户", "非贫困户"],
                         "抽样层": ["计划脱贫户", "非贫困户"]})
    path = tmp_path / "forms.xlsx"
    exports.write_xlsx({}, path, blank_columns={}, notes=[("方案", "测试")],
                       forms={"附件1农户调查表": exports.household_forms(rows)}, footer="演示数据")
    sheet = load_workbook(path)["附件1农户调查表"]
    assert sheet.print_title_rows == "$1:$1"
    assert [c.value for c in sheet[1]] == ["序号", "项目", "调查内容", "填写（阴影格）"]
    assert int(sheet.page_setup.paperSize) == 9 and int(sheet.page_setup.fitToWidth) == 1  # 9: A4
    assert len(sheet.row_breaks.brk) == 1  # the second form starts on a new page
    assert "演示数据" in sheet.oddFooter.center.text
    titles = [r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "附件1　农户调查表"]
    assert len(titles) == 2
    assert "户编号 H2　户主 李*" in sheet.cell(titles[1] + 2, 1).value
    questions = {sheet.cell(r, 3).value: r for r in range(titles[0], titles[1])}
    assert len(questions) - 1 == len(exports.HOUSEHOLD_FORM)  # every question (and None for title rows)
    dropdowns = {dv.formula1: str(dv.sqref) for dv in sheet.data_validations.dataValidation}
    assert set(dropdowns) >= {'"是,否"', '"有,无"', '"满意,不满意"', '"错退,返贫"'}
    assert f"D{questions['不愁吃']}" in dropdowns['"是,否"'].split()
    assert f"D{questions['有无安全住房']}" in dropdowns['"有,无"'].split()
    income = f"D{questions['截至检查时家庭人均纯收入(元)']}"
    assert all(income not in v.split() for v in dropdowns.values())  # a number: no list
    assert sheet[income].fill.fgColor.rgb.endswith("FFF2CC")
    assert sheet.cell(titles[0] + 3, 2).value == "被调查户基本情况"
    note = [sheet.cell(r, 1).value for r in range(titles[1], sheet.max_row + 1)]
    assert "非贫困户不调查第2、3项及第5项第1问。" in note


def test_a_section_over_several_rows_is_merged_and_outlined_like_merge_cells_does():
    """序号 and 项目 span their section's rows: the top cell keeps the whole box, the merged cells
    below carry the outline's left and right sides and the last one its bottom, as openpyxl's
    ``merge_cells`` draws a box-bordered top-left cell (checked on the sheet itself: reading a
    saved file redraws merged borders from the top-left cell and would hide a missing one)."""
    rows = pd.DataFrame({"乡镇": ["甲镇"], "行政村": ["一村"], "自然村": ["一组"], "检查组": [1], "村走访顺序": [1],
                         "户走访顺序": [1], "户编号": ["H1"], "户主姓名": ["马**"], "农户类型": ["今年计划脱贫户"],
                         "抽样层": ["计划脱贫户"]})
    sheet = Workbook().active
    exports.write_forms(sheet, exports.household_forms(rows))
    spans = [r for r in sheet.merged_cells.ranges if r.min_col <= 2 and r.max_col <= 2 and r.max_row > r.min_row]
    assert {r.min_col for r in spans} == {1, 2} and len(spans) % 2 == 0
    for span in spans:
        column = span.min_col
        top = sheet.cell(span.min_row, column).border
        assert {top.left.style, top.right.style, top.top.style, top.bottom.style} == {"thin"}
        for row in range(span.min_row + 1, span.max_row + 1):
            border = sheet.cell(row, column).border
            assert border.left.style == border.right.style == "thin" and border.top.style is None
            assert border.bottom.style == ("thin" if row == span.max_row else None)
        assert sheet.cell(span.max_row, 3).border.bottom.style == "thin"  # the question beside it: its own box


def test_every_form_question_of_a_closed_kind_offers_its_answers():
    assert exports.answer_choices("是否全部参加医保(新农合)") == "是,否"
    assert exports.answer_choices("大病住院花费/报销(元)") is None  # figures and free text: no list
    assert exports.answer_choices("有无村集体经济及来源") is None
    assert exports.answer_choices("对帮扶工作是否满意") == "满意,不满意"
    assert exports.answer_choices("有无返贫现象") == "有,无"
    assert exports.answer_choices("村类型(核实)").startswith("已退出贫困村")
    closed = [q for q in exports.HOUSEHOLD_FORM + exports.VILLAGE_FORM if exports.answer_choices(q)]
    assert len(closed) >= 30
