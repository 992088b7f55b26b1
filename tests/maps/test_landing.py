"""Key figures and the landing page."""

from __future__ import annotations

from maps.catalog import MAPS
from maps.landing import NOT_AVAILABLE, KeyFigures, key_figures, landing_html
from tests.maps.conftest import XSS


def test_key_figures(villages, townships, units, pairings, work_teams, pv, roads):
    f = key_figures(villages=villages, townships=townships, units=units, pairings=pairings,
                    work_teams=work_teams, pv_projects=pv, roads=roads)
    assert f.villages == 4
    assert f.villages_by_category == {"重点贫困村": 1, "贫困村": 1, "脱贫销号村": 1, "非贫困村": 1}
    assert (f.units, f.units_paired, f.pairings, f.pairing_year) == (3, 2, 3, 2019)
    assert f.task_funds_wan_yuan == 4.0
    # Poor villages are 重点贫困村, 贫困村 and 脱贫销号村 (one, two and three): two lack a team.
    assert (f.poor_villages, f.poor_villages_without_unit, f.poor_villages_without_work_team) == (3, 1, 2)
    assert (f.pv_projects, f.pv_capacity_kw, f.pv_grid_connected_kw) == (2, 20003.0, 3.0)
    # 0.1 and 0.05 degrees of latitude: about 11.1 and 5.55 km.
    assert abs(f.road_km_by_surface["硬化路"] - 11.1) < 0.1
    assert abs(f.road_km_by_surface["土路"] - 5.55) < 0.1
    assert f.road_km_by_surface["砂石路"] == 0.0
    assert f.coverage is None and f.demo_note is None


def test_landing_page_links_every_map_and_says_which_analysis_cards_are_unavailable():
    page = landing_html(KeyFigures(villages=45, villages_by_category={"重点贫困村": 23}), MAPS.values())
    for name in MAPS:
        assert f'href="/maps/{name}"' in page
    for label in ("帮扶覆盖率", "道路缺口", "饮水缺口"):
        assert f'data-figure="{label}"' in page
    assert page.count(f'<div class="detail">{NOT_AVAILABLE}</div>') == 3


def test_landing_page_escapes_and_shows_analysis_figures():
    figures = KeyFigures(coverage={"覆盖率": XSS}, demo_note="演示数据")
    page = landing_html(figures, MAPS.values(), district=XSS)
    assert XSS not in page and "&lt;img src=x" in page
    assert page.count(f'<div class="detail">{NOT_AVAILABLE}</div>') == 2
    assert "演示数据" in page


def test_headlines_per_map_and_coverage_card():
    import pandas as pd

    from maps.landing import coverage_figures, map_headlines

    district = pd.DataFrame({"poor_villages": [40], "poor_villages_covered": [37], "covered_pct": [92.5],
                             "cadres_over_limit": [3]})
    figures = KeyFigures(villages=45, townships=7, pairings=69, task_funds_wan_yuan=89.0, pv_projects=65,
                         pv_capacity_kw=1234.5, road_km_by_surface={"硬化路": 10.0, "土路": 2.5},
                         coverage=coverage_figures(district))
    assert figures.coverage == {"贫困村": "40 个", "单位和工作队齐全": "37 个（92.5%）", "超5户责任人": "3 人"}
    lines = map_headlines(figures, plans=2)
    assert lines["pairing"] == "69 对结对关系，任务资金 89 万元"
    assert lines["roads"] == "道路 12.5 公里" and lines["pv"] == "65 个项目，1,234.5 千瓦"
    assert lines["coverage"].startswith("贫困村 40 个，单位和工作队齐全 37 个")
    assert "inspection" not in map_headlines(figures)  # a viewer is not told about plans
    page = landing_html(figures, MAPS.values(), headlines={**lines, "water": XSS})
    assert '<p class="headline" data-map="pv">65 个项目，1,234.5 千瓦</p>' in page
    assert XSS not in page and page.count(f'<div class="detail">{NOT_AVAILABLE}</div>') == 2


def test_landing_page_links_the_work_pages_it_is_given_escaped_and_none_without():
    figures = KeyFigures(villages=45, villages_by_category={"重点贫困村": 23})
    page = landing_html(figures, MAPS.values(), pages=[("/inspections", "督查"), ("/registry", XSS)])
    assert 'id="work-pages"' in page and "工作页面" in page and 'href="/inspections">督查</a>' in page
    assert XSS not in page and "&lt;img src=x" in page
    assert 'id="work-pages"' not in landing_html(figures, MAPS.values())


def test_charts_escape_names_and_load_nothing():
    import re

    from maps.landing import ChartData, charts_html

    data = ChartData(funds_by_township=[(XSS, 2.0, None)], inputs_by_unit=[(XSS, 80.0), ("审计局", None)],
                     units_with_task=2, units_met=0, exits_by_year=[(XSS, 3.0)], coverage_by_township=[(XSS, 50.0)])
    page = landing_html(KeyFigures(charts=data), MAPS.values())
    assert XSS not in page and page.count("&lt;img src=x") >= 4
    assert len(re.findall(r'<svg class="chart"', page)) == 4 and "<script" not in page
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)
    assert "无数据" in page and "0/2 个单位投入达到帮扶任务" in page
    empty = charts_html(ChartData())
    assert "<svg" not in empty and empty.count(NOT_AVAILABLE) == 4
