"""Seed 000's forms as county offices keep them in Excel: 附件1 (pairings, merged cells),
附件2 (unit inputs, fill-in form), 附件3/4 (project funds), 附件5 (cadres)."""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest

from geo import storage
from geo.errors import ValidationError
from geo.io import import_file
from geo.io.registry_forms import detect_layout, parse_unit_input_form, project_kind, quantity_of
from tests.conftest import ROOT
from tests.geo.io.conftest import snapshot

PAIRING_HEADER = ["帮扶单位序号", "帮扶部门（单位）", "帮扶\n任务\n（万元）", "驻村工作队\n队长单位", "帮扶村", "备注", "村序号"]


def write_pairing_workbook(path) -> None:
    """Seed 000's 附件1 from the transcribed CSV, laid out as the original: title rows,
    township section rows merged across the table, village cells merged down its unit rows."""
    with (ROOT / "data" / "shapotou_pairings_2019.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "附件1"
    sheet.append(["附件1"])
    sheet.append(["沙坡头区2019年部门（单位）定点帮扶贫困村安排表"])
    sheet.merge_cells("A2:G2")
    sheet.append(PAIRING_HEADER)
    group_start = None

    def close_group(end: int) -> None:
        if group_start is not None and end > group_start:
            for column in "DEFG":
                sheet.merge_cells(f"{column}{group_start}:{column}{end}")

    for cells in rows:
        cells = [c for c in cells] + [""] * (7 - len(cells))
        if cells[0] and not any(cells[1:]):  # a township
            close_group(sheet.max_row)
            group_start = None
            sheet.append([cells[0]])
            sheet.merge_cells(f"A{sheet.max_row}:G{sheet.max_row}")
            continue
        if cells[4]:
            close_group(sheet.max_row)
            group_start = sheet.max_row + 1
        values = [int(cells[0]), cells[1], float(cells[2]), cells[3] or None, cells[4] or None, cells[5] or None,
                  int(cells[6]) if cells[6] else None]
        sheet.append(values)
    close_group(sheet.max_row)
    workbook.save(path)


def test_the_pairing_table_with_merged_cells_imports_as_the_demo(conn, demo_engine, tmp_path):
    path = tmp_path / "附件1 沙坡头区定点帮扶安排表.xlsx"
    write_pairing_workbook(path)
    check = openpyxl.load_workbook(path)
    assert len(check.active.merged_cells.ranges) > 20  # the layout really has merged cells
    assert storage.layer_counts(conn)["villages"] == 0  # an empty database

    report = import_file(conn, path, layer="pairings")

    assert report.committed and report.refused_count == 0
    assert report.layout.startswith("附件1")
    counts = storage.layer_counts(conn)
    assert (counts["townships"], counts["villages"], counts["pairings"], counts["work_teams"]) == (7, 45, 69, 28)
    assert counts["units"] == 84  # 66 pairing units + 18 that only lead work teams

    def villages(bind):
        frame = storage.read_layer(bind, "villages")
        return sorted(zip(frame["township_name"], frame["name"], frame["category"]))

    def pairings(bind):
        frame = storage.read_layer(bind, "pairings")
        return sorted(zip(frame["township_name"], frame["village_name"], frame["unit_name"], frame["year"],
                          frame["task_funds_wan_yuan"], frame["seq"]))

    def teams(bind):
        frame = storage.read_layer(bind, "work_teams")
        return sorted(zip(frame["township_name"], frame["village_name"], frame["leader_unit_name"], frame["year"]))

    assert villages(conn) == villages(demo_engine)
    assert pairings(conn) == pairings(demo_engine)
    assert teams(conn) == teams(demo_engine)
    assert sorted(storage.read_layer(conn, "units")["name"]) == sorted(storage.read_layer(demo_engine, "units")["name"])
    assert sum(p[4] for p in pairings(conn)) == pytest.approx(89.0)  # seed 000: 89 万元 in all

    again = import_file(conn, path, layer="pairings")  # loading twice changes nothing
    assert again.inserted == 0 and again.updated == 0 and again.unchanged == 7 + 45 + 84 + 69 + 28


def test_the_pairing_table_keeps_units_already_classified(conn, tmp_path):
    storage.write_layer(conn, "units", pd.DataFrame({"name": ["沙坡头区审计局"], "kind": ["other"], "level": ["other"]}))
    path = tmp_path / "附件1.xlsx"
    write_pairing_workbook(path)
    import_file(conn, path, layer="pairings")
    unit = storage.read_layer(conn, "units", where={"name": "沙坡头区审计局"}).iloc[0]
    assert (unit["kind"], unit["level"]) == ("other", "other")
    assert storage.read_layer(conn, "units", where={"name": "中卫中学"}).iloc[0]["kind"] == "public_institution"


def test_a_form_must_go_into_its_layer(conn, tmp_path):
    path = tmp_path / "附件1.xlsx"
    write_pairing_workbook(path)
    with pytest.raises(ValidationError, match="附件1.*--layer pairings"):
        import_file(conn, path, layer="villages")


def unit_input_sheet(sheet, *, unit: str, village: str, division: int = 2, section: int = 4, general: int = 6,
                     total: int | None = None) -> None:
    total = division + section + general if total is None else total
    rows = [
        ["附件2"],
        ["沙坡头区2019年各部门（单位）定点帮扶投入情况统计表"],
        [f"填报单位（盖章）：{unit}                          帮扶村（盖章）：{village}"],
        ["包保干部\n到位情况", f"共选派 {total} 名包保干部开展帮扶工作，其中：有处级干部 {division} 名、科级干部（ {section} ）名"
                           f"及一般干部 {general} 名。"],
        ["包保干部进村    入户情况", "人均入户次数 8 次"],
        ["有无帮扶实施\n方案、总结", "帮扶方案：有 √ ；无    ；上半年帮扶工作总结：有 √ ；无    ；全年帮扶工作总结：有    ；无 √ ；"],
        ["有无选派驻村工作队队长（员）", "有 √ 、选派驻村工作队队长 1 名、队员 2 名；\n无"],
        ["脱贫攻坚“送温暖”情况", "慰问贫困户 20 户、老党员 5 户；发放慰问金 6000 元；\n发放粮油：米 1000 斤；面 1000 斤；油 200 斤，折合物价 3000 元。"],
        ["本单位项目建设及产业扶持情况", "投入项目帮扶资金 5.5 万元。其中：1、农田建设项目 1 个；道路建设 2.5 千米；打机井 1 眼；修水渠 1.2 公里；"
                                "修建蓄水池 2 个；2、建设养殖园区 1 处，扶持养殖户 10 户，牛 5 头，羊 100 只，鸡 200 只，种植经济作物 50 亩。3、其他 购置农机 。"],
        ["协调行业项目  资金情况", "争取协调行业部门项目 2 个、资金 50 万元。\n其中：1、争取协调 水利 项目、资金 30 万元；"],
        ["添置村级      办公室设施", "解决办公设施（桌、椅、凳） 2 套、电脑 1 台、打印机 1 台。"],
        ["开展政策宣传\n情况", "开展政策宣传 3 次，参加群众 150 人（次）。"],
        ["劳务输出情况", "组织劳务输出 2 批，共 40 人（次）。"],
        ["本单位脱贫攻坚投入资金合计", "投入资金共计 6 万元，其中实物折价 0.5 万元。"],
        ["其他帮扶情况", "帮助销售农产品"],
        ["填报说明：1.项目建设及产业扶持，指本单位为项目建设及产业扶持提供的资金；"],
    ]
    for row in rows:
        sheet.append(row)


def test_unit_input_forms_one_per_sheet(conn, registry, tmp_path):
    workbook = openpyxl.Workbook()
    unit_input_sheet(workbook.active, unit="沙坡头区审计局", village="一村")
    workbook.active.title = "一村"
    unit_input_sheet(workbook.create_sheet("东镇新水村"), unit="自治区统计局", village="新水村", total=13)
    path = tmp_path / "附件2 投入情况统计表.xlsx"
    workbook.save(path)

    report = import_file(conn, path, layer="unit_inputs")

    assert report.inserted == 1 and report.refused_count == 1
    refused = report.refused[0]
    assert refused.sheet == "东镇新水村" and "共选派 13" in refused.reason and "= 12" in refused.reason
    stored = storage.read_layer(conn, "unit_inputs").iloc[0]
    assert stored["unit_name"] == "沙坡头区审计局" and stored["village_name"] == "一村" and stored["year"] == 2019
    expected = {"cadres_division": 2, "cadres_section": 4, "cadres_general": 6, "visits_per_cadre": 8.0,
                "has_plan": True, "has_half_year_summary": True, "has_year_summary": False,
                "team_leaders": 1, "team_members": 2, "warmth_households": 20, "warmth_party_members": 5,
                "warmth_money_yuan": 6000.0, "rice_jin": 1000.0, "flour_jin": 1000.0, "oil_jin": 200.0,
                "goods_value_yuan": 3000.0, "project_funds_wan_yuan": 5.5, "farmland_projects": 1,
                "road_km": 2.5, "wells": 1, "canal_km": 1.2, "reservoirs": 2, "breeding_parks": 1,
                "breeding_households": 10, "cattle": 5, "sheep": 100, "chickens": 200, "crops_mu": 50.0,
                "coordinated_projects": 2, "coordinated_funds_wan_yuan": 50.0, "office_furniture_sets": 2,
                "computers": 1, "printers": 1, "publicity_sessions": 3, "publicity_attendance": 150,
                "labour_export_batches": 2, "labour_export_persons": 40, "total_input_wan_yuan": 6.0,
                "in_kind_wan_yuan": 0.5}
    assert {k: stored[k] for k in expected} == expected
    assert "购置农机" in stored["other"] and "帮助销售农产品" in stored["other"]


def test_an_unfilled_form_leaves_its_fields_empty():
    rows = [["沙坡头区2019年各部门（单位）定点帮扶投入情况统计表"],
            ["填报单位（盖章）：市统计局      帮扶村（盖章）：兴海村"],
            ["包保干部", "共选派     名包保干部开展帮扶工作，其中：有处级干部     名、科级干部（  ）名及一般干部     名。"],
            ["有无帮扶实施方案、总结", "帮扶方案：有    ；无    ；"]]
    assert detect_layout(rows) == "unit_input_form"
    record, problem = parse_unit_input_form(rows, sheet="Sheet1", source="f.xlsx", year=None)
    assert problem is None
    assert record == {"unit_name": "市统计局", "village_name": "兴海村", "year": 2019}


FUNDS_HEADER = [
    ["序号", "帮扶部门\n（单位）", "帮扶村名称", "款物折合\n总计\n（万元）", "项目帮扶", None, None, "产业帮扶", None, None, None, None, "备注"],
    [None, None, None, None, "小计\n（万元）", "基础设施", None, "小计\n（万元）", "养殖", None, "种植", None, None],
    [None, None, None, None, None, "资金\n（万元）", "用途及规模", None, "资金\n（万元）", "规模\n（户、头/只）",
     "资金\n（万元）", "规模\n（户、亩）", None],
]


def write_funds_workbook(path, *, title: str) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["附件3"])
    sheet.append([title])
    sheet.append(["填报单位（盖章）：                          填报时间："])
    for row in FUNDS_HEADER:
        sheet.append(row)
    for cells in ("A4:A6", "B4:B6", "C4:C6", "D4:D6", "E4:G4", "E5:E6", "F5:G5", "H4:L4", "H5:H6", "I5:J5",
                  "K5:L5", "M4:M6"):
        sheet.merge_cells(cells)
    sheet.append([1, "沙坡头区审计局", "一村", 3.5, 2, 2, "道路硬化2.5公里", 1.5, 1, "15户、300只", 0.5, "20亩", None])
    sheet.append([2, "自治区统计局", "一村", 4, 4, 4, "打机井2眼", None, None, None, None, None, None])
    sheet.append([3, "自治区统计局", "一村", 9, 2, 2, "修水渠1公里", 1, 1, "10户", None, None, None])  # 9 != 3
    sheet.append(["合计", None, None, 16.5, 8, 8, None, 2.5, 2, None, 0.5, None, None])
    sheet.append(["填表说明：1、此表只填报本部门（单位）为联系定点帮扶贫困村的资金投入情况"])
    sheet.append([title.replace("一", "二")])
    sheet.append(["序号", "帮扶部门\n（单位）", "帮扶村名称", "款物折合\n总计\n（万元）", "送温暖活动"])
    workbook.save(path)


def test_funds_tables_become_projects(conn, registry, tmp_path):
    path = tmp_path / "附件3.xlsx"
    write_funds_workbook(path, title="2019年社会定点帮扶单位投入资金情况统计表（自筹项目一）")
    report = import_file(conn, path, layer="projects")
    assert report.inserted == 4
    assert [r.row for r in report.refused] == [9] and "款物折合总计 9" in report.refused[0].reason
    assert any("送温暖" in w.reason for w in report.warnings)
    projects = storage.read_layer(conn, "projects").set_index("kind")
    road = projects.loc["road"]
    assert (road["unit_name"], road["village_name"], road["funds_wan_yuan"], road["quantity"], road["quantity_unit"],
            road["year"], road["funding_mode"], road["status"]) == (
        "沙坡头区审计局", "一村", 2.0, 2.5, "km", 2019, "self_raised", "completed")
    assert (projects.loc["breeding", "quantity"], projects.loc["breeding", "quantity_unit"]) == (15.0, "户")
    assert (projects.loc["planting", "quantity"], projects.loc["planting", "quantity_unit"]) == (20.0, "亩")
    assert (projects.loc["well", "unit_name"], projects.loc["well", "quantity"]) == ("自治区统计局", 2.0)
    again = import_file(conn, path, layer="projects")
    assert again.inserted == 0 and again.unchanged == 4  # stable codes: importing twice changes nothing

    coordinated = tmp_path / "附件4.xlsx"
    write_funds_workbook(coordinated, title="2019年社会定点帮扶单位投入资金情况统计表（协调项目一）")
    import_file(conn, coordinated, layer="projects")
    modes = storage.read_layer(conn, "projects")["funding_mode"].value_counts().to_dict()
    assert modes == {"self_raised": 4, "coordinated": 4}


def test_kinds_and_quantities_from_the_description():
    assert project_kind("村道硬化3公里") == "road" and project_kind("打机井2眼") == "well"
    assert project_kind("新建蓄水池") == "reservoir" and project_kind("购置办公用品") == "other"
    assert quantity_of("道路硬化2.5千米") == (2.5, "km")
    assert quantity_of("15户、300只", prefer=("户",)) == (15.0, "户")


def test_the_cadre_table_fills_unit_inputs(conn, registry, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["附件5"])
    sheet.append(["2019年部门（单位）帮扶责任人联系帮扶贫困户情况统计表"])
    sheet.append(["填报单位（盖章）：                   填报时间："])
    sheet.append(["序号", "帮扶部门（单位）", "联系帮扶村", "联系帮扶责任人\n数量（人）", None, None, None,
                  "联系帮扶贫困户数", "干部人均入户次数", "个人为帮扶户投入情况", None, None])
    sheet.append([None, None, None, "合计", "处级", "科级", "一般", None, None, "款物折合\n合计（元）",
                  "物品名称及\n数量", "现金\n（元）"])
    for cells in ("A4:A5", "B4:B5", "C4:C5", "D4:G4", "H4:H5", "I4:I5", "J4:L4"):
        sheet.merge_cells(cells)
    sheet.append([1, "沙坡头区审计局", "一村", 12, 2, 4, 6, 30, 9.5, 2000, "米面油", 500])
    sheet.append([2, "自治区统计局", "一村", 10, 2, 4, 6, 30, 9.5, None, None, None])  # 10 != 12
    sheet.append(["填报人：", None, None, "联系方式："])
    path = tmp_path / "附件5.xlsx"
    workbook.save(path)
    before = snapshot(conn)
    strict = import_file(conn, path, layer="unit_inputs", strict=True)
    assert not strict.committed and snapshot(conn) == before
    report = import_file(conn, path, layer="unit_inputs")
    assert report.inserted == 1 and [r.row for r in report.refused] == [7]
    assert any("联系帮扶贫困户数" in w.reason for w in report.warnings)
    stored = storage.read_layer(conn, "unit_inputs").iloc[0]
    assert (stored["cadres_division"], stored["cadres_section"], stored["cadres_general"], stored["visits_per_cadre"]) == (
        2, 4, 6, 9.5)
