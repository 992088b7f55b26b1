"""Base layers, escaping helpers, legend and page rendering."""

from __future__ import annotations

import re

import pytest

from geo.errors import ValidationError
from maps.base import BaseLayer, Legend, LegendItem, LegendSection, check_base, demo_flag, js_json, \
    new_map, render_map
from tests.maps.conftest import XSS


def bases_of(m):
    return {c.base.key: c for c in m._children.values() if isinstance(c, BaseLayer)}


def test_tianditu_needs_a_key():
    assert set(bases_of(new_map())) == {"osm", "amap", "blank"}
    with_key = bases_of(new_map(tianditu_key="k123"))
    assert set(with_key) == {"osm", "tianditu_vec", "tianditu_img", "amap", "blank"}
    assert "tk=k123" in with_key["tianditu_vec"].spec
    assert "cva_w" in with_key["tianditu_vec"].spec and "cia_w" in with_key["tianditu_img"].spec
    with pytest.raises(ValidationError, match="ATLAS_TIANDITU_KEY"):
        check_base("tianditu_img", tianditu_key=None)
    with pytest.raises(ValidationError, match="use one of: osm, amap, blank"):
        check_base("google", tianditu_key=None)


def test_chosen_base_is_the_only_one_shown_and_falls_back_to_blank():
    bases = bases_of(new_map(base="amap"))
    assert [k for k, b in bases.items() if b.show] == ["amap"]
    assert '"crs":"gcj02"' in bases["amap"].spec and '"fallback":"blank"' in bases["amap"].spec
    blank = bases_of(new_map(base="blank"))["blank"]
    assert '"tiles":[]' in blank.spec and '"fallback":null' in blank.spec


def test_js_json_cannot_close_the_script():
    text = js_json({"name": "</script><script>alert(1)</script>" + XSS})
    assert "<" not in text and ">" not in text
    assert "\\u003c/script\\u003e" in text


def test_legend_escapes_and_shows_the_demo_note():
    legend = Legend("图例", [LegendSection("类别", (LegendItem(XSS, "#ff0000"),))])
    assert XSS not in legend.html() and "&lt;img src=x" in legend.html()
    legend.demo_note = "演示数据"
    assert '<div class="atlas-demo">演示数据</div>' in legend.html()


def test_legend_colour_is_checked():
    legend = Legend("图例", [LegendSection("s", (LegendItem("x", "red;background:url(x)"),))])
    with pytest.raises(ValueError, match="legend colour"):
        legend.html()


def test_demo_flag(villages):
    assert demo_flag(villages) is None
    assert demo_flag(villages.assign(source=["test", "demo:synthetic", "test", "test"]))
    assert demo_flag(None, villages.iloc[0:0]) is None


def test_rendered_page_loads_nothing_from_the_internet(villages):
    from maps.overview import overview_map

    for mode in ("served", "embedded"):
        page = render_map(overview_map(villages=villages), assets=mode)
        tags = re.findall(r"<(?:script|link)\b[^>]*>", page)
        assert tags, "the page has no script tags at all"
        for tag in tags:
            assert "http" not in tag and "//" not in tag, tag
        if mode == "served":
            assert '<script src="/maps/assets/leaflet/leaflet.js">' in page
            assert '<script src="/maps/assets/atlas/atlas.js">' in page
        else:
            assert "src=" not in " ".join(tags)
            assert "Control.FullScreen" in page and "fullscreenchange" in page  # plugin inlined


def test_fmt_number_keeps_whole_numbers_whole():
    from maps.base import fmt_number

    assert fmt_number(100.0, "元", decimals=0) == "100 元"
    assert fmt_number(2000.0, "元/年", decimals=0) == "2,000 元/年"
    assert fmt_number(1.50, "万元", decimals=2) == "1.5 万元"
    assert fmt_number(float("nan"), "人") is None


def test_classes_from_data_follow_the_data_and_say_how():
    from maps.base import classes_from_data

    colors = ("#eff3ff", "#bdd7e7", "#6baed6", "#2171b5")
    # Three clear groups: natural breaks put them apart, at 3 and 12 (by hand).
    classes = classes_from_data([1, 2, 3, 10, 11, 12, 20, 21, 22], colors=colors[:3], unit="元/户")
    assert classes.breaks == (3.0, 12.0)
    assert classes.labels == ("1–3 元/户", "3（不含）–12 元/户", "12（不含）–22 元/户")
    assert [classes.color(v) for v in (2, 11, 21)] == list(colors[:3])
    assert "自然断点法（Fisher-Jenks）" in classes.legend("户均帮扶任务资金").title
    # Seven townships between 124 and 220 yuan a household get four colours, not one.
    funds = [124, 131, 150, 162, 180, 204, 220]
    classes = classes_from_data(funds, colors=colors, unit="元/户")
    assert len(set(classes.colors_of(funds))) == 4
    quantiles = classes_from_data(funds, colors=colors, unit="元/户", scheme="quantiles")
    assert "分位数法" in quantiles.legend("x").title
    # One value or none: one class, said plainly; a missing value keeps the missing colour.
    assert classes_from_data([150.0, None], colors=colors, unit="元/户").labels == ("150 元/户",)
    assert classes_from_data([], colors=colors, unit="元/户").color(None) == "#bdbdbd"
