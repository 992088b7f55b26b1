"""Areas above the township over the API: a second county in the demo's registry (a repeated
village name), ``area=`` at every level on layers, OGC items, analyses, exports and maps, a
user scoped to a county, and the county choropleth (both backends, the real app in process)."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from api.security import hash_password
from geo import storage
from geo.storage import accounts
from geo.audit import SYSTEM
from tests.api.accounts import PASSWORD, login
from tests.conftest import Site

ZHONGNING = box(105.75, 37.3, 105.95, 37.5)  # east of 沙坡头区's outline, touching nothing


@pytest.fixture(scope="module")
def two_counties(databases):
    site = Site(databases.demo_url())
    engine = site.engine
    storage.write_layer(engine, "areas", gpd.GeoDataFrame(
        {"code": ["640521"], "name": ["中宁县"]}, geometry=[ZHONGNING], crs=4326))
    town = storage.write_layer(engine, "townships", gpd.GeoDataFrame(
        {"code": ["640521100"], "name": ["宁安镇"]}, geometry=[ZHONGNING.buffer(-0.01)], crs=4326)).ids[0]
    storage.write_layer(engine, "villages", gpd.GeoDataFrame(
        {"name": ["郝集村"], "code": ["640521100201"], "township_id": [town], "category": ["poor"],
         "registered_poor_households": [50], "source": ["demo:synthetic"]},
        geometry=[Point(105.85, 37.4)], crs=4326))
    for name, role, scope in (("t_area_admin", "admin", ()), ("t_zhongning", "planner", ("640521",)),
                              ("t_zhongwei", "leader", ("中卫市",))):
        accounts.create_user(engine, name=name, role=role, password_hash=hash_password(PASSWORD),
                             townships=scope, actor=SYSTEM, source="test")
    site.admin = login(site, "t_area_admin")
    site.zhongning = login(site, "t_zhongning")
    site.zhongwei = login(site, "t_zhongwei")
    yield site
    site.close()


def _villages(site, headers, **params):
    response = site.get("/api/layers/villages", params={"limit": 1000, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["features"]


@pytest.mark.parametrize("key, expected", [
    ("640000", 46), ("宁夏回族自治区", 46), ("640500", 46), ("中卫市", 46),
    ("640502", 45), ("沙坡头区", 45), ("640521", 1), ("中宁县", 1), ("640521100", 1), ("宁安镇", 1),
])
def test_layers_filter_by_area_at_every_level(two_counties, key, expected):
    assert len(_villages(two_counties, two_counties.admin, area=key)) == expected
    assert len(_villages(two_counties, two_counties.admin, township=key)) == expected  # the old name


def test_repeated_village_name_in_two_counties(two_counties):
    found = [f["properties"] for f in _villages(two_counties, two_counties.admin) if f["properties"]["name"] == "郝集村"]
    assert sorted(p["county_name"] for p in found) == ["中宁县", "沙坡头区"]


def test_unknown_area_is_a_404_naming_the_areas(two_counties):
    response = two_counties.get("/api/layers/villages", params={"area": "640599"}, headers=two_counties.admin)
    assert response.status_code == 404
    assert "中宁县 640521" in response.json()["detail"]


def test_user_scoped_to_a_county_sees_only_that_county(two_counties):
    site = two_counties
    mine = _villages(site, site.zhongning)
    assert [f["properties"]["code"] for f in mine] == ["640521100201"]
    assert len(_villages(site, site.zhongwei)) == 46  # scoped to the prefecture: both counties
    response = site.get("/api/layers/villages", params={"area": "640502"}, headers=site.zhongning)
    assert response.status_code == 403
    items = site.get("/ogc/collections/villages/items", params={"limit": 100}, headers=site.zhongning).json()
    assert [f["properties"]["name"] for f in items["features"]] == ["郝集村"]
    user = accounts.get_user(site.engine, name="t_zhongning")
    assert user["area_codes"] == ["640521"]
    # a township added to the county later is inside the scope too
    storage.write_layer(site.engine, "townships", gpd.GeoDataFrame(
        {"code": ["640521101"], "name": ["石空镇"]}, geometry=[None], crs=4326))
    towns = site.get("/api/layers/townships", headers=site.zhongning).json()["features"]
    assert sorted(f["properties"]["name"] for f in towns) == ["宁安镇", "石空镇"]


def test_ogc_items_and_exports_take_area(two_counties):
    site = two_counties
    items = site.get("/ogc/collections/villages/items", params={"area": "中宁县", "limit": 100},
                     headers=site.admin).json()
    assert [f["properties"]["code"] for f in items["features"]] == ["640521100201"]
    export = site.get("/api/exports/villages", params={"format": "csv", "area": "640521"}, headers=site.admin)
    assert export.status_code == 200, export.text
    text = export.content.decode("utf-8-sig")
    assert "区县代码" in text and "640521" in text and "郝集村" in text and "沙坡头区" not in text


def test_analysis_takes_area(two_counties):
    response = two_counties.get("/api/analyses/coverage", params={"area": "640521"}, headers=two_counties.admin)
    assert response.status_code == 200, response.text


def test_county_choropleth_is_served(two_counties):
    site = two_counties
    for path, params in (("/maps/counties", {"area": "640500"}), ("/maps/overview", {"level": "county"})):
        page = site.get(path, params=params, headers=site.admin)
        assert page.status_code == 200, page.text
        html = page.text
        assert "区县对比图" in html and "中宁县" in html and "沙坡头区" in html
        assert "自然断点法" in html or "2 个区县" in html
        assert "演示数据" in html  # the villages are demo rows
    # a user scoped to one county sees one county
    page = site.get("/maps/counties", headers=site.zhongning).text
    assert "1 个区县" in page and not re.search(r"沙坡头区", page)


def test_landing_page_shows_a_prefecture_or_a_county(two_counties):
    site = two_counties
    page = site.get("/", headers=site.admin).text
    assert "中卫市 村级帮扶地图" in page  # two counties under one prefecture
    assert 'href="/maps/counties"' in page
    county = site.get("/", params={"area": "中宁县"}, headers=site.admin).text
    assert "中宁县 村级帮扶地图" in county
    assert re.search(r'data-figure="行政村">.*?<div class="value">1</div>', county)
    assert 'href="/maps/counties?area=640521"' in county
