"""geo.tabular: formula-like text guarded in CSV, numbers left alone, XLSX-illegal characters shown."""

from __future__ import annotations

import csv
import io

import pandas as pd

from geo.tabular import csv_writer, safe_cell, write_csv, xlsx_safe_frame


def test_text_starting_like_a_formula_gets_an_apostrophe():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(text) == "'" + text
    for value in ("a=1", "'=1", "", 5, -3, -2.5, None):
        assert safe_cell(value) == value


def test_write_csv_guards_text_columns_only():
    frame = pd.DataFrame({"名称": ["=A1", "-2 号", "井"], "数量": [-3, 4, -5], "面积": [-1.5, 2.0, None]})
    text = write_csv(frame)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["名称", "数量", "面积"]
    assert rows[1:] == [["'=A1", "-3", "-1.5"], ["'-2 号", "4", "2.0"], ["井", "-5", ""]]
    assert frame.loc[0, "名称"] == "=A1"  # the input is not changed


def test_csv_writer_quotes_as_rfc_4180():
    buffer = io.StringIO()
    csv_writer(buffer).writerow(['阳光"扶贫"组', "一,二", "上\n下", "=x", -1])
    assert buffer.getvalue() == '"阳光""扶贫""组","一,二","上\n下",\'=x,-1\r\n'


def test_xlsx_safe_frame_shows_control_characters():
    frame = pd.DataFrame({"名称\x1b": ["村\x00名", "好"], "n": [1, 2]})
    safe = xlsx_safe_frame(frame)
    assert list(safe.columns) == ["名称<U+001B>", "n"]
    assert safe["名称<U+001B>"].tolist() == ["村<U+0000>名", "好"] and safe["n"].tolist() == [1, 2]
