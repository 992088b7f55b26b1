"""The print sheet: paper sizes, what the sheet carries, escaping."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from geo.errors import ValidationError
from maps.pairing import pairing_map
from maps.printing import layout, layout_px, print_page
from tests.maps.conftest import XSS, mark_demo


def test_paper_sizes():
    assert layout("A3", landscape=True).page_mm == (420.0, 297.0)
    assert layout("a4").page_mm == (210.0, 297.0) and layout("A4").label == "A4 纵向"
    sheet = layout("A4", landscape=True)
    width, height = sheet.map_mm
    assert width < 297 - 16 and height < 210 - 16  # the map frame leaves room for legend, title, footer
    assert layout_px(1200, 800).page_px == (1200, 800)
    with pytest.raises(ValidationError, match="paper 'B5' is not known; use one of: A4, A3"):
        layout("B5")


def test_sheet_carries_title_year_date_sources_demo_notice_and_table(villages, pairings, work_teams, units,
                                                                     townships):
    m = pairing_map(villages=villages, pairings=pairings, work_teams=work_teams, units=mark_demo(units),
                    townships=townships)
    page = print_page(m, sheet=layout("A3", landscape=True), title="帮扶结对图", year_note="2019年（结对数据最近年度）",
                      township=XSS, made_on=dt.date(2026, 12, 6), assets="served")
    assert "@page { size: 420.0mm 297.0mm; margin: 8.0mm; }" in page
    assert '<body class="atlas-print">' in page and "atlas.print(" in page
    for words in ("年度：2019年（结对数据最近年度）", "制图日期：2026年12月06日", "纸张：A3 横向", "数据来源",
                  "演示数据", "驻村工作队队长单位", "帮扶结对一览（2019年）"):
        assert words in page, words
    # Every name from data is escaped in the server-built parts (header, table).
    assert XSS not in page and "乡镇：&lt;img src=x onerror=alert(1)&gt;" in page
    assert not re.search(r"<(?:script|link)\b[^>]*(?:src|href)=\"https?:", page)  # nothing from the internet
