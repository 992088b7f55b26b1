"""The one rule for showing quantities in tables, and every writer following it."""

from __future__ import annotations

import io
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from geo.analysis.output import render, write
from geo.analysis.result import AnalysisResult
from geo.quantities import decimal_places, shown


@pytest.mark.parametrize(("column", "places"), [
    ("rank", 0), ("village_id", 0), ("unmet_registered_poor_households", 0), ("population_served", 0),
    ("villages_funded", 0), ("new_links", 0), ("members", 0), ("year", 0),
    ("length_km", 2), ("cost_wan_yuan", 2), ("funds_per_registered_household_yuan", 0), ("rai_pct", 1),
    ("distance_to_water_m", 0), ("length_m", 0), ("nearest_road_width_m", 1), ("area_km2", 2),
    ("poor_households_per_wan_yuan", 3), ("score", 2), ("quantity", 2), ("village_name", None), ("reason", None),
])
def test_places_follow_the_name(column, places):
    assert decimal_places(column) == places


def test_shown_values():
    assert shown("unmet_registered_poor_households", 6.451612903225806) == 6
    assert shown("rank", 1.0) == 1 and isinstance(shown("rank", 1.0), int)
    assert shown("length_km", 15.193646577306755) == 15.19
    assert shown("cost_wan_yuan", 987.5869) == 987.59
    assert shown("rai_pct", 94.5678) == 94.6
    assert shown("length_km", np.nan) is None and shown("rank", pd.NA) is None
    assert shown("reason", "说明") == "说明" and shown("needs_road", True) is True


@pytest.fixture
def result():
    table = pd.DataFrame({
        "rank": pd.array([1, 2, pd.NA], dtype="Int64"),
        "village_name": ["甲村", "乙村", "丙村"],
        "unmet_registered_poor_households": [6.451612903225806, 120.0, 0.0],
        "length_km": [15.193646577306755, np.nan, 0.5],
        "cost_wan_yuan": [987.5869, np.nan, 32.5],
        "rai_pct": [94.5678, np.nan, 100.0],
    })
    return AnalysisResult(name="priority", title="测试排序", tables={"ranking": table},
                          labels={"rank": "排序", "village_name": "行政村",
                                  "unmet_registered_poor_households": "未覆盖建档立卡户",
                                  "length_km": "长度（公里）", "cost_wan_yuan": "估算投资（万元）", "rai_pct": "比例（%）"})


def test_terminal_table(result):
    text = render(result, "table")
    assert "nan" not in text and "1.0 " not in text and "6.45" not in text
    assert "15.19" in text and "987.59" in text and "94.6" in text and "—" in text
    first = next(line for line in text.splitlines() if "甲村" in line)
    assert [cell.strip() for cell in first.strip("│ ").split("│")] == ["1", "甲村", "6", "15.19", "987.59", "94.6"]


def test_csv(result):
    text = render(result, "csv")
    assert "nan" not in text
    lines = text.splitlines()
    assert lines[0] == "排序,行政村,未覆盖建档立卡户,长度（公里）,估算投资（万元）,比例（%）"
    assert lines[1] == "1,甲村,6,15.19,987.59,94.6"
    assert lines[2] == "2,乙村,120,,,"
    assert lines[3] == ",丙村,0,0.5,32.5,100"


def test_xlsx(result, tmp_path):
    book = openpyxl.load_workbook(write(result, "xlsx", tmp_path / "t.xlsx"))
    rows = [[c.value for c in row] for row in book["测试排序"].iter_rows()] if "测试排序" in book.sheetnames \
        else [[c.value for c in row] for row in book[book.sheetnames[1]].iter_rows()]
    assert rows[1] == [1, "甲村", 6, 15.19, 987.59, 94.6]
    assert rows[2] == [2, "乙村", 120, None, None, None]
    assert rows[3] == [None, "丙村", 0, 0.5, 32.5, 100]
    assert isinstance(rows[1][0], int) and isinstance(rows[1][2], int)


def test_json(result):
    data = json.loads(render(result, "json"))
    first, second, third = data["tables"]["ranking"]
    assert first == {"rank": 1, "village_name": "甲村", "unmet_registered_poor_households": 6, "length_km": 15.19,
                     "cost_wan_yuan": 987.59, "rai_pct": 94.6}
    assert second["length_km"] is None and third["rank"] is None
    assert "6.45" not in io.StringIO(render(result, "json")).read()
