"""``atlas forms export annex1``: seed 000's 附件1 written from the registry, and imported back."""

from __future__ import annotations

import openpyxl

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
    assert result.returncode == 1 and "form 'annex9' is not known; forms: annex1" in result.stderr
    result = run_cli("forms", "export", "annex1", "-o", str(tmp_path / "x.xlsx"), "--year", "2020", "--db", demo_url)
    assert result.returncode == 1 and "years with pairings: 2019" in result.stderr
    result = run_cli("forms", "export", "annex1", "-o", str(tmp_path / "x.csv"), "--db", demo_url)
    assert result.returncode == 1 and "must end in .xlsx" in result.stderr
