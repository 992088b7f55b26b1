"""The maps router over real HTTP (``atlas serve`` on the demo data, both backends)."""

from __future__ import annotations

import re

import httpx
import pytest

from geo import storage
from maps.catalog import MAPS

LEADER: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def _as_leader(headers):
    """Every request of this module carries a leader's token unless it says otherwise."""
    global LEADER
    LEADER = headers["leader"]


def get(server, path, *, auth=True, **params):
    return httpx.get(f"{server.base}{path}", params=params, timeout=60, headers=LEADER if auth else {})


def test_landing_page_shows_key_figures_and_links(demo_server, demo_engine):
    page = get(demo_server, "/").text
    assert "沙坡头区 村级帮扶地图" in page
    for name in MAPS:
        assert f'href="/maps/{name}"' in page
    figure = re.search(r'data-figure="行政村">.*?<div class="value">(\d+)</div>', page).group(1)
    assert int(figure) == storage.count_layer(demo_engine, "villages") == 45
    assert "重点贫困村 23，贫困村 17，脱贫销号村 5" in page
    assert "任务资金 89 万元" in page  # seed 000's total
    assert "演示数据" in page
    assert page.count("待分析模块接入后显示") == 3


@pytest.mark.parametrize("name", list(MAPS))
def test_every_map_is_served_with_local_assets(demo_server, name):
    response = get(demo_server, f"/maps/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    srcs = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"', response.text)
    assert srcs and all(s.startswith("/maps/assets/") for s in srcs), srcs
    for src in srcs:
        asset = get(demo_server, src)
        assert asset.status_code == 200, src
        assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")


def test_map_list(demo_server):
    body = get(demo_server, "/maps").json()
    assert [m["name"] for m in body] == list(MAPS)
    assert body[0]["url"] == "/maps/pairing" and "unit" in body[0]["options"]


def test_township_and_unit_filters(demo_server):
    page = get(demo_server, "/maps/pairing", township="东园镇").text
    assert "东园镇 · 1 个行政村" in page
    page = get(demo_server, "/maps/pairing", unit="中国电信中卫分公司").text
    assert "帮扶单位：中国电信中卫分公司" in page


@pytest.mark.parametrize(("path", "params", "status", "words"), [
    ("/maps/nowhere", {}, 404, "maps are: pairing, overview"),
    ("/maps/pairing", {"township": "无此镇"}, 404, "no township"),
    ("/maps/pairing", {"unit": "无此单位"}, 404, "no assistance unit"),
    ("/maps/overview", {"unit": "x"}, 422, "does not take unit"),
    ("/maps/pairing", {"base": "tianditu_vec"}, 422, "ATLAS_TIANDITU_KEY"),
    ("/maps/pairing", {"base": "google"}, 422, "use one of"),
])
def test_bad_requests_are_explained(demo_server, path, params, status, words):
    response = get(demo_server, path, **params)
    assert response.status_code == status
    assert words in response.json()["detail"]


@pytest.mark.parametrize("path", ["/maps/assets/leaflet/..%2F..%2F__init__.py",
                                  "/maps/assets/leaflet/leaflet.js.map",
                                  "/maps/assets/nothing/x.js", "/maps/assets/atlas/..%2Fbase.py"])
def test_asset_route_serves_assets_only(demo_server, path):
    assert httpx.get(f"{demo_server.base}{path}").status_code == 404


def test_asset_route_serves_fonts_and_images(demo_server):
    font = get(demo_server, "/maps/assets/fontawesome/webfonts/fa-solid-900.woff2")
    assert font.status_code == 200 and font.content[:4] == b"wOF2"
    png = get(demo_server, "/maps/assets/leaflet/images/layers.png")
    assert png.headers["content-type"] == "image/png"


def test_a_browser_without_a_session_is_sent_to_log_in(demo_server):
    response = httpx.get(f"{demo_server.base}/maps/pairing?township=%E4%B8%9C%E5%9B%AD%E9%95%87",
                         headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/maps/pairing%3Ftownship%3D%25E4%25B8%259C%25E5%259B%25AD%25E9%2595%2587"
    landing = httpx.get(f"{demo_server.base}/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert landing.status_code == 303 and landing.headers["location"] == "/login?next=/"


def test_a_script_without_credentials_gets_401_and_no_data(demo_server, demo_engine):
    response = get(demo_server, "/maps/overview", auth=False)
    assert response.status_code == 401
    village = storage.read_layer(demo_engine, "villages", columns=["name"])["name"].iloc[0]
    assert village not in response.text


def test_a_viewer_sees_no_household_layer(demo_server, headers):
    leader = httpx.get(f"{demo_server.base}/maps/overview", headers=headers["leader"], timeout=60).text
    viewer = httpx.get(f"{demo_server.base}/maps/overview", headers=headers["viewer"], timeout=60).text
    assert "农户" in leader
    assert '"农户' not in viewer and "农户（" not in viewer
    assert len(viewer) < len(leader)


def test_a_user_limited_to_a_township_sees_only_it(demo_server, headers):
    page = httpx.get(f"{demo_server.base}/maps/pairing", headers=headers["scoped"], timeout=60).text
    assert "郝集村" in page  # 兴仁镇
    assert "上石硼村" not in page  # 常乐镇
    other = httpx.get(f"{demo_server.base}/maps/pairing", params={"township": "常乐镇"},
                      headers=headers["scoped"], timeout=60)
    assert other.status_code == 403
    landing = httpx.get(f"{demo_server.base}/", headers=headers["scoped"], timeout=60).text
    figure = re.search(r'data-figure="行政村">.*?<div class="value">(\d+)</div>', landing).group(1)
    assert int(figure) == 11  # 兴仁镇's villages in seed 000 (村序号 16-26)
