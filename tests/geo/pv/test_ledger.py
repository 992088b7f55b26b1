"""The station ledger: read from XLSX all or nothing, and checked against the model and the
distribution plan by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.errors import ValidationError
from geo.pv.ledger import (
    LEDGER_HEADERS,
    check_ledger,
    read_ledger_xlsx,
    validate_ledger,
)

#: Two registered projects: a 300 kW village station and a 20 MW centralized station.
PROJECTS = pd.DataFrame({"code": ["V1", "C1"], "name": ["甲村村级电站", "集中电站"], "capacity_kw": [300.0, 20_000.0],
                         "kwh_per_kwp": [1_500.0, 1_500.0], "distribution_category": ["village", "centralized"]})


def _row(code, year, generation, income, households, posts_yuan, posts, works, operator):
    return dict(zip(LEDGER_HEADERS, [code, year, generation, income, households, posts_yuan, posts, works, operator]))


def _write(path, rows):
    pd.DataFrame(rows).to_excel(path, index=False)
    return path


def test_the_under_delivery_flag_by_hand(tmp_path):
    book = _write(tmp_path / "台账.xlsx", [
        # the model: 300 kW x 1,500 kWh/kWp = 450,000 kWh; 450,000 kWh earned 292,500 yuan of which the
        # plan sends 70 % (204,750) to households and 公益岗位: delivered in full
        _row("V1", 2024, 450_000, 292_500, 29_250, 175_500, 29, 58_500, 29_250),
        # 2025: 300,000 kWh is 67 % of the model (under 80 %); 150,000 of 195,000 yuan x 0.7 = 136,500
        # reach households and posts: 110 %, as planned
        _row("V1", 2025, 300_000, 195_000, 50_000, 100_000, 16, 25_000, 20_000),
        # the centralized station: its plan sends 16 % to households and posts: 1,000,000 x 0.16 =
        # 160,000; 100,000 arrived (62.5 %): flagged; generation 30 million kWh = the model
        _row("C1", 2025, 30_000_000, 1_000_000, 20_000, 80_000, 13, 100_000, 800_000),
    ])
    checked = check_ledger(read_ledger_xlsx(book), PROJECTS).set_index(["project_code", "year"])
    assert checked.loc[("V1", 2024), "flags"] == []
    assert checked.loc[("V1", 2024), "generation_ratio"] == pytest.approx(1.0)
    assert checked.loc[("V1", 2024), "households_ratio"] == pytest.approx(1.0)
    assert checked.loc[("V1", 2025), "generation_ratio"] == pytest.approx(300_000 / 450_000)
    assert checked.loc[("V1", 2025), "flags"] == ["generation_below_model"]
    assert checked.loc[("C1", 2025), "planned_households_yuan"] == pytest.approx(160_000)
    assert checked.loc[("C1", 2025), "households_ratio"] == pytest.approx(100_000 / 160_000)
    assert checked.loc[("C1", 2025), "flags"] == ["households_below_plan"]
    assert checked.loc[("C1", 2025), "flag_labels"] == "到户收益（含公益岗位）低于分配方案"
    assert checked["row"].tolist() == [2, 3, 4]  # spreadsheet rows under the header


def test_a_ledger_whose_parts_do_not_add_up_is_refused_whole(tmp_path):
    book = _write(tmp_path / "bad.xlsx", [
        _row("V1", 2024, 450_000, 292_500, 29_250, 175_500, 29, 58_500, 29_250),
        _row("V1", 2025, 300_000, 195_000, 50_000, 100_000, 16, 25_000, 0),
        _row("", 2025, -5, 10, 10, 0, 0, 0, 0),
    ])
    with pytest.raises(ValidationError) as error:
        read_ledger_xlsx(book)
    text = str(error.value)
    assert "bad.xlsx" in text and "nothing was read" in text
    assert "row 3: 到户 + 公益岗位工资 + 公益事业 + 运维及并网费 = 175,000.00 元, not the 收益 of 195,000.00 元" in text
    assert "row 4: 项目编号 is empty" in text and "row 4: 发电量(kWh) -5 is not a number 0 or more" in text


def test_rows_for_unknown_projects_and_twice_the_same_year_are_refused():
    frame = pd.DataFrame([_row("X9", 2025, 1, 1, 1, 0, 0, 0, 0)]).rename(columns=LEDGER_HEADERS)
    with pytest.raises(ValidationError, match=r"does not hold: row 1 \(X9\)"):
        check_ledger(validate_ledger(frame), PROJECTS)
    twice = pd.DataFrame([_row("V1", 2025, 1, 1, 1, 0, 0, 0, 0)] * 2).rename(columns=LEDGER_HEADERS)
    with pytest.raises(ValidationError, match="has year 2025 more than once"):
        validate_ledger(twice)


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path):
    text = tmp_path / "ledger.xlsx"
    text.write_text("not a workbook")
    with pytest.raises(ValidationError, match="is not an XLSX workbook"):
        read_ledger_xlsx(text)
    other = _write(tmp_path / "other.xlsx", [{"项目编号": "V1", "年度": 2025}])
    with pytest.raises(ValidationError, match="no column 发电量"):
        read_ledger_xlsx(other)
