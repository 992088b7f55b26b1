"""Lead lists read from XLSX and CSV with the departments' Chinese headers."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from geo.errors import ValidationError
from geo.monitoring.leads import read_lead_table, stored_fields


def test_a_department_list_is_read_by_its_chinese_headers(tmp_path):
    path = tmp_path / "医保局11月.xlsx"
    pd.DataFrame({"序号": [1, 2, 3], "户主姓名": ["张三", "李四", "王五"], "身份证号码": [None, "640502199001011234", None],
                  "户编号 ": ["H-1", None, 1234], "预警类型": ["医疗支出骤增", "因病", None],
                  "预警日期": [dt.datetime(2026, 11, 3), "2026/11/04", "2026年11月5日"],
                  "医疗自付费用（元）": ["12,500", 800, None], "预警部门": ["医保局"] * 3}).to_excel(path, index=False)
    rows = read_lead_table(path)
    frame = rows.frame
    assert rows.problems == {}
    assert list(frame["row_number"]) == [2, 3, 4]
    assert list(frame["household_code"]) == ["H-1", None, "1234"]
    assert frame["id_number"].iloc[1] == "640502199001011234"
    assert list(frame["risk_type"]) == ["illness", "illness", None]
    assert list(frame["received_on"]) == [dt.date(2026, 11, 3), dt.date(2026, 11, 4), dt.date(2026, 11, 5)]
    assert frame["out_of_pocket_yuan"].iloc[0] == 12500.0
    kept = json.dumps(stored_fields(frame.iloc[1].to_dict()), ensure_ascii=False)
    assert "640502199001011234" not in kept and "李四" not in kept and "医保局" in kept


def test_a_csv_in_gb18030_is_read_and_bad_cells_are_named_by_row(tmp_path):
    path = tmp_path / "民政.csv"
    path.write_bytes("户编号,风险类型,接收日期,自付费用\nH-1,因灾,2026-11-31,-5\nH-2,因懒,,\n".encode("gb18030"))
    rows = read_lead_table(path)
    assert set(rows.problems) == {2, 3}
    assert "预警日期 '2026-11-31' is not a date" in rows.problems[2]
    assert "自付费用 '-5' must be 0 or more" in rows.problems[2]
    assert "预警类型 '因懒' is not a risk type" in rows.problems[3]


def test_a_list_without_household_code_or_id_number_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("姓名,预警类型\n张三,因病\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="x.csv: no column 户编号 or 身份证号"):
        read_lead_table(path)
    with pytest.raises(ValidationError, match="an .xlsx or .csv"):
        read_lead_table(tmp_path / "x.pdf")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ValidationError, match="broken.xlsx cannot be read as XLSX"):
        read_lead_table(broken)
