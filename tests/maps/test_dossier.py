"""The dossier page (一村一档): names from data escaped, the map drawn, names only when asked."""

from __future__ import annotations

import dataclasses
import datetime as dt

from geo.services.dossier import village_dossier
from maps.dossier import dossier_html
from tests.maps.conftest import XSS


def test_page_escapes_names_and_draws_the_map(demo_engine):
    d = village_dossier(demo_engine, "上石硼村")
    evil = dataclasses.replace(d, village={**d.village, "name": XSS},
                               pairings=[{**p, "unit_name": XSS} for p in d.pairings])
    page = dossier_html(evil, made_on=dt.date(2026, 12, 6))
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt; 一村一档" in page
    assert "制图日期：2026年12月06日" in page and "<svg viewBox=" in page and ">北</text>" in page
    assert "演示数据" in page and "不显示干部和农户姓名" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # prints offline


def test_cadre_names_only_when_asked(demo_engine):
    named = village_dossier(demo_engine, "上石硼村", show_names=True)
    assert named.cadres and all(c["name"] for c in named.cadres)
    assert "<th>姓名</th>" in dossier_html(named)
    assert "<th>姓名</th>" not in dossier_html(village_dossier(demo_engine, "上石硼村"))
