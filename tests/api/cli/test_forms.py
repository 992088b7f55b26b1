"""``atlas forms export annex1``: seed 000's 附件1 written from the registry, and imported back."""

from __future__ import annotations

import openpyxl
import pytest

from geo import storage
from geo.db import make_engine
from tests.conftest import run_cli


def pairing_rows(url: str) -> set[tuple]:
    engine = make_engine(url)
    try:
        pairings = storage.read_layer(engine, "pairings")
        teams = storage.read_layer(engine, "work_teams")
        villages = storage.read_layer(engine, "villages")
    finally:
        engine.dispose()
    leader = dict(zip(teams["village_name"], teams["leader_unit_name"]))
    category = dict(zip(villages["name"], villages["category"]))
    return {(p.township_name, p.village_name, category[p.village_name], p.unit_name, p.year,
             round(float(p.task_funds_wan_yuan), 4), p.seq, leader.get(p.village_name)) for p in pairings.itertuples()}


def test_annex1_is_laid_out_as_the_seed_and_round_trips_through_import(demo_url, empty_url, tmp_path):
    out = tmp_path / "annex1.xlsx"
    result = run_cli("forms", "export", "annex1", "-o", str(out), "--db", demo_url, check=True)
    assert "附件1 帮扶贫困村安排表 2019年: 69 pairing rows, 45 villages" in result.stdout
    ws = openpyxl.load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "附件1" and rows[1][0] == "沙坡头区2019年部门（单位）定点帮扶贫困村安排表"
    assert rows[2] == ("帮扶单位序号", "帮扶部门（单位）", "帮扶任务（万元）", "驻村工作队队长单位", "帮扶村", "备注", "村序号")
    # Seed 000's first section, cell for cell: 常乐镇, then 中国电信中卫分公司 1.5 for 上石硼村.
    assert rows[3][0] == "常乐镇"
    assert rows[4] == (1, "中国电信中卫分公司", 1.5, "市编办", "上石硼村", "重点贫困村", 1)
    assert rows[-1][0] == "合计" and rows[-1][2] == 89  # seed 000's total task funds [万元]
    # 黄套村 has two units: its village, category, leader and number cells are merged over both rows.
    merged = {str(r) for r in ws.merged_cells.ranges}
    huangtao = next(i for i, r in enumerate(rows, start=1) if r[4] == "黄套村")
    assert f"E{huangtao}:E{huangtao + 1}" in merged and f"D{huangtao}:D{huangtao + 1}" in merged
    assert ws.print_title_rows == "$3:$3" and ws.page_setup.orientation == "portrait"

    # Imported into an empty registry it gives back the same 69 rows (and 28 work teams).
    run_cli("db", "upgrade", "--db", empty_url, check=True)
    run_cli("import", str(out), "--layer", "pairings", "--db", empty_url, check=True)
    assert pairing_rows(empty_url) == pairing_rows(demo_url)
    assert len(pairing_rows(empty_url)) == 69
    # Imported over the registry it came from, it changes nothing.
    again = run_cli("import", str(out), "--layer", "pairings", "--db", demo_url, check=True)
    assert "inserted 0  updated 0" in again.stdout


def test_bad_form_year_and_file(demo_url, tmp_path):
    result = run_cli("forms", "export", "annex9", "-o", str(tmp_path / "x.xlsx"), "--db", demo_url)
    assert result.returncode == 1 and "form 'annex9' is not known; forms: annex1, annex2" in result.stderr
    result = run_cli("forms", "export", "annex1", "-o", str(tmp_path / "x.xlsx"), "--year", "2020", "--db", demo_url)
    assert result.returncode == 1 and "years with pairings: 2019" in result.stderr
    result = run_cli("forms", "export", "annex1", "-o", str(tmp_path / "x.csv"), "--db", demo_url)
    assert result.returncode == 1 and "must end in .xlsx" in result.stderr


INPUT_FIGURES = ("cadres_division", "cadres_section", "cadres_general", "visits_per_cadre", "team_leaders",
                 "team_members", "warmth_households", "warmth_money_yuan", "rice_jin", "oil_jin", "goods_value_yuan",
                 "project_funds_wan_yuan", "road_km", "coordinated_funds_wan_yuan", "publicity_attendance",
                 "labour_export_persons", "total_input_wan_yuan", "in_kind_wan_yuan", "has_plan",
                 "has_half_year_summary")


def input_rows(url: str) -> dict[tuple, tuple]:
    engine = make_engine(url)
    try:
        inputs = storage.read_layer(engine, "unit_inputs")
    finally:
        engine.dispose()
    def plain(v):
        return None if v is None or v != v else (bool(v) if isinstance(v, bool) else round(float(v), 4))
    return {(r["unit_name"], r["village_name"], r["year"]): tuple(plain(r[f]) for f in INPUT_FIGURES)
            for r in inputs.to_dict("records")}


def test_annex2_is_a_form_per_unit_and_village_filled_from_unit_inputs_and_imports_back(demo_url, empty_url, tmp_path):
    out = tmp_path / "annex2.xlsx"
    result = run_cli("forms", "export", "annex2", "-o", str(out), "--db", demo_url, check=True)
    assert "69 unit-village rows (69 with figures from the registry), 45 villages" in result.stdout
    book = openpyxl.load_workbook(out)
    assert len(book.sheetnames) == 69 and "自治区统计局-高庄村" in book.sheetnames
    ws = book["自治区统计局-高庄村"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "附件2" and rows[1][0] == "沙坡头区2019年各部门（单位）定点帮扶投入情况统计表"
    assert rows[2][0] == "填报单位（盖章）：自治区统计局        帮扶村（盖章）：高庄村"
    engine = make_engine(demo_url)
    try:
        given = storage.read_layer(engine, "unit_inputs", where={"village_id": int(storage.read_layer(
            engine, "villages", where={"name": "高庄村"})["id"].iloc[0])})
    finally:
        engine.dispose()
    given = given[given["unit_name"] == "自治区统计局"].iloc[0]
    text = {label: value for label, value in rows[3:15]}
    cadres = int(given.cadres_division + given.cadres_section + given.cadres_general)
    assert text["包保干部\n到位情况"].startswith(f"共选派 {cadres} 名包保干部")
    assert f"处级干部 {int(given.cadres_division)} 名" in text["包保干部\n到位情况"]
    assert text["包保干部进村入户情况"] == f"人均入户次数 {given.visits_per_cadre:g} 次"
    assert f"投入资金共计 {given.total_input_wan_yuan:g} 万元" in text["本单位脱贫攻坚投入资金合计"]
    assert "打机井    眼" in text["本单位项目建设及产业扶持情况"]  # unknown figures stay blank
    # merged title and 填报单位 lines, borders, A4 portrait with the title rows repeated
    assert {"A2:B2", "A3:B3"} <= {str(r) for r in ws.merged_cells.ranges}
    assert ws["B4"].border.left.style == "thin" and ws["A15"].border.bottom.style == "thin"
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    assert ws.print_title_rows == "$1:$3" and ws.page_margins.top == 0.6
    assert any("演示数据" in str(r[0]) for r in rows[15:])

    # 附件1 then 附件2 into an empty registry: the same figures come back for all 69 pairs
    run_cli("db", "upgrade", "--db", empty_url, check=True)
    annex1 = tmp_path / "annex1.xlsx"
    run_cli("forms", "export", "annex1", "-o", str(annex1), "--db", demo_url, check=True)
    run_cli("import", str(annex1), "--layer", "pairings", "--db", empty_url, check=True)
    blank = tmp_path / "blank.xlsx"
    result = run_cli("forms", "export", "annex2", "-o", str(blank), "--db", empty_url, check=True)
    assert "(0 with figures from the registry)" in result.stdout  # no unit_inputs yet: blank forms
    blank_text = [r[1] for r in openpyxl.load_workbook(blank)["自治区统计局-高庄村"].iter_rows(min_row=4, max_row=5,
                                                                                            values_only=True)]
    assert blank_text == ["共选派    名包保干部开展帮扶工作，其中：有处级干部    名、科级干部（    ）名及一般干部    名。",
                          "人均入户次数    次"]
    run_cli("import", str(out), "--layer", "unit_inputs", "--db", empty_url, check=True)
    assert input_rows(empty_url) == input_rows(demo_url) and len(input_rows(empty_url)) == 69


def _merged(ws) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def test_annex3_to_5_headers_merged_totals_and_print_setup(demo_url, tmp_path):
    for form in ("annex3", "annex4", "annex5"):
        run_cli("forms", "export", form, "-o", str(tmp_path / f"{form}.xlsx"), "--db", demo_url, check=True)
    book = openpyxl.load_workbook(tmp_path / "annex3.xlsx")
    assert book.sheetnames == ["附件3 自筹项目一", "附件3 自筹项目二"]
    one, two = book.worksheets
    header = [[c.value for c in row] for row in one.iter_rows(min_row=4, max_row=6)]
    assert header[0][:5] == ["序号", "帮扶部门\n（单位）", "帮扶村名称", "款物折合\n总计\n（万元）", "项目帮扶"]
    assert header[2][5:7] == ["资金\n（万元）", "用途及规模"]
    assert {"A4:A6", "E4:G4", "F5:G5", "H4:L4", "I5:J5", "K5:L5", "M4:M6"} <= _merged(one)
    assert {"E4:L4", "M4:O4", "G5:H5"} <= _merged(two)
    rows = list(one.iter_rows(min_row=7, values_only=True))
    total = next(r for r in rows if r[0] == "合计")
    data = [r for r in rows if isinstance(r[0], int)]
    assert len(data) == 69 and total[3] == round(sum(r[3] or 0 for r in data), 4)
    for ws in (one, two):
        assert ws.print_title_rows == "$4:$6" and ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.fitToWidth == 1
        assert ws["B7"].border.right.style == "thin"
    engine = make_engine(demo_url)
    try:
        projects = storage.read_layer(engine, "projects")
        inputs = storage.read_layer(engine, "unit_inputs")
    finally:
        engine.dispose()
    own = projects[(projects["year"] == 2019) & (projects["funding_mode"] == "self_raised")]
    assert total[3] == pytest.approx(own["funds_wan_yuan"].sum(), abs=1e-3)
    warmth = next(r for r in two.iter_rows(min_row=7, values_only=True) if r[0] == "合计")
    assert warmth[5] == pytest.approx(inputs["warmth_money_yuan"].sum() / 10_000, abs=1e-3)
    coordinated = openpyxl.load_workbook(tmp_path / "annex4.xlsx").worksheets[0]
    assert coordinated["B2"].value is None and "协调项目一" in coordinated["A2"].value

    five = openpyxl.load_workbook(tmp_path / "annex5.xlsx").active
    assert [c.value for c in five[4]][:4] == ["序号", "帮扶部门（单位）", "联系帮扶村", "联系帮扶责任人\n数量（人）"]
    assert [c.value for c in five[5]][3:7] == ["合计", "处级", "科级", "一般"]
    assert {"D4:G4", "J4:L4", "H4:H5"} <= _merged(five) and five.print_title_rows == "$4:$5"
    row = next(r for r in five.iter_rows(min_row=6, values_only=True) if r[1] == "中国电信中卫分公司")
    given = inputs[inputs["unit_name"] == "中国电信中卫分公司"].iloc[0]
    assert row[4:7] == (given.cadres_division, given.cadres_section, given.cadres_general)
    assert row[3] == sum(row[4:7])


def test_one_unit_and_village_and_bad_choices(demo_url, tmp_path):
    out = tmp_path / "one.xlsx"
    result = run_cli("forms", "export", "annex2", "-o", str(out), "--unit", "自治区统计局", "--village", "兴仁镇/高庄村",
                     "--db", demo_url, check=True)
    assert "1 unit-village rows (1 with figures" in result.stdout
    assert openpyxl.load_workbook(out).sheetnames == ["自治区统计局-高庄村"]
    result = run_cli("forms", "export", "annex5", "-o", str(out), "--unit", "没有这个单位", "--db", demo_url)
    assert result.returncode == 1 and "unit '没有这个单位' not found" in result.stderr
    result = run_cli("forms", "export", "annex1", "-o", str(out), "--unit", "自治区统计局", "--db", demo_url)
    assert result.returncode == 1 and "apply to annex2-annex5" in result.stderr
    assert "Traceback" not in result.stderr
