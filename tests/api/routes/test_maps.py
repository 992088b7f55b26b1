"""The maps router over real HTTP (``atlas serve`` on the demo data, both backends)."""

from __future__ import annotations

import re
import uuid

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
    return server.get(path, params=params, headers=LEADER if auth else {})


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
    # Every card shows a figure: coverage, road and water gaps come from their analyses.
    values = dict(re.findall(r'data-figure="([^"]+)"><div class="label">[^<]*</div><div class="value">([^<]*)</div>',
                             page))
    assert len(values) == 9 and all(v not in ("", "—") for v in values.values()), values
    assert "单位和工作队齐全" in page and "未达标自然村" in page and "超出取水距离自然村" in page
    # One definition of poor village (重点贫困村, 贫困村, 脱贫销号村): 45 everywhere, never 40.
    assert "贫困村 45 个" in page and "贫困村 40" not in page
    assert '<p class="headline" data-map="pv">65 个项目' in page


@pytest.mark.parametrize("name", [n for n, s in MAPS.items() if s.source != "inspection_plan"])
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
    assert demo_server.get(f"{path}").status_code == 404


def test_asset_route_serves_fonts_and_images(demo_server):
    font = get(demo_server, "/maps/assets/fontawesome/webfonts/fa-solid-900.woff2")
    assert font.status_code == 200 and font.content[:4] == b"wOF2"
    png = get(demo_server, "/maps/assets/leaflet/images/layers.png")
    assert png.headers["content-type"] == "image/png"


def test_a_browser_without_a_session_is_sent_to_log_in(demo_server):
    response = demo_server.get("/maps/pairing?township=%E4%B8%9C%E5%9B%AD%E9%95%87",
                               headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/maps/pairing%3Ftownship%3D%25E4%25B8%259C%25E5%259B%25AD%25E9%2595%2587"
    landing = demo_server.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert landing.status_code == 303 and landing.headers["location"] == "/login?next=/"


def test_a_script_without_credentials_gets_401_and_no_data(demo_server, demo_engine):
    response = get(demo_server, "/maps/overview", auth=False)
    assert response.status_code == 401
    village = storage.read_layer(demo_engine, "villages", columns=["name"])["name"].iloc[0]
    assert village not in response.text


def test_a_viewer_sees_no_household_layer(demo_server, headers):
    leader = demo_server.get("/maps/overview", headers=headers["leader"]).text
    viewer = demo_server.get("/maps/overview", headers=headers["viewer"]).text
    assert "农户" in leader
    assert '"农户' not in viewer and "农户（" not in viewer
    assert len(viewer) < len(leader)


def test_a_user_limited_to_a_township_sees_only_it(demo_server, headers):
    page = demo_server.get("/maps/pairing", headers=headers["scoped"]).text
    assert "郝集村" in page  # 兴仁镇
    assert "上石硼村" not in page  # 常乐镇
    other = demo_server.get("/maps/pairing", params={"township": "常乐镇"},
                            headers=headers["scoped"])
    assert other.status_code == 403
    landing = demo_server.get("/", headers=headers["scoped"]).text
    figure = re.search(r'data-figure="行政村">.*?<div class="value">(\d+)</div>', landing).group(1)
    assert int(figure) == 11  # 兴仁镇's villages in seed 000 (村序号 16-26)


# ------------------------------------------------------------------ analysis maps and scope


@pytest.mark.parametrize(("name", "title", "layer"), [
    ("coverage", "帮扶覆盖图", "coverage_share"), ("roads", "道路通达图", "road_links"),
    ("water", "饮水安全图", "water_facilities"), ("pv", "光伏项目图", "pv_projects"),
])
def test_analysis_maps_are_served_within_the_callers_townships(demo_server, headers, name, title, layer):
    full = get(demo_server, f"/maps/{name}")
    assert full.status_code == 200 and f"<title>{title} · " in full.text
    assert f'"key":"{layer}"' in full.text
    assert "郝集村" in full.text and "上石硼村" in full.text
    scoped = demo_server.get(f"/maps/{name}", headers=headers["scoped"])
    assert scoped.status_code == 200
    assert "郝集村" in scoped.text  # 兴仁镇
    assert "上石硼村" not in scoped.text  # 常乐镇
    other = demo_server.get(f"/maps/{name}", params={"township": "常乐镇"},
                            headers=headers["scoped"])
    assert other.status_code == 403


@pytest.mark.parametrize(("name", "status"), [("coverage", 403), ("pv", 403), ("inspection", 403),
                                               ("roads", 200), ("water", 200)])
def test_a_viewer_gets_only_the_maps_of_public_data(demo_server, headers, name, status):
    response = demo_server.get(f"/maps/{name}", headers=headers["viewer"])
    assert response.status_code == status
    if status == 403:
        assert "your role may not read" in response.json()["detail"]
    else:  # without the households layer: no household overlay
        assert '"key":"water_households"' not in response.text


def test_inspection_map_without_a_plan_lets_a_browser_choose_one_in_chinese(demo_server):
    response = demo_server.get("/maps/inspection", headers={**LEADER, "Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "督查路线图需要指定一个督查方案" in response.text and "needs plan" not in response.text


def test_year_selects_the_pairings_shown_and_the_page_says_which(demo_server):
    page = get(demo_server, "/maps/pairing").text
    assert "2019年（结对数据最近年度）" in page and '"name":"year"' in page
    assert "2019年" in get(demo_server, "/maps/coverage", year="2019").text
    response = get(demo_server, "/maps/pairing", year="2020")
    assert response.status_code == 422 and "years with data: 2019" in response.json()["detail"]
    assert get(demo_server, "/maps/overview", year="2019").status_code == 422  # no pairings drawn


def test_print_sheet_is_served_with_its_table(demo_server):
    page = get(demo_server, "/maps/pairing", print="A3", landscape="true").text
    assert "@page { size: 420.0mm 297.0mm" in page and 'class="atlas-print"' in page
    assert "驻村工作队队长单位" in page and "数据来源" in page and "atlas.print(" in page
    assert "atlas.selectors(" not in page


def test_inspection_map_needs_a_plan(demo_server):
    response = get(demo_server, "/maps/inspection")
    assert response.status_code == 422
    assert "needs plan=ID" in response.json()["detail"]
    assert get(demo_server, "/maps/inspection", plan="no such plan").status_code == 404
    assert get(demo_server, "/maps/inspection", plan="²").status_code == 404  # a digit to str.isdigit only
    assert get(demo_server, "/maps/inspection", plan="a\x00b").status_code == 422
    assert get(demo_server, "/maps/roads", plan="1").status_code == 422


@pytest.fixture(scope="module")
def drawn_plan(scratch):
    """A plan drawn on the scratch copy of the demo, assigned to the test inspector. Its name is
    new each time: the scratch copy lives as long as the worker, and a worker that leaves this
    module for another (work stealing) and comes back draws again (a name is never drawn twice)."""
    from geo.storage import inspection as store
    from geo.inspection.plans import preset_plan
    from geo.services import inspections as service
    from geo.services import personal

    name = f"地图测试方案{uuid.uuid4().hex[:6]}"
    report = service.draw_plan(scratch.engine, preset_plan("seed003", year=2019, name=name), seed="maps-test", teams=3,
                               use_roads=False)
    store.assign_inspector(scratch.engine, report.plan_id, scratch.user_ids["t_inspector"])
    households = store.read_sampled_households(scratch.engine, report.plan_id)
    names = personal.household_pii(scratch.engine, households["household_id"].dropna().astype(int).tolist())
    return report, names


def test_inspection_map_shows_names_only_to_the_plans_inspector(scratch, drawn_plan):
    report, names = drawn_plan
    name = str(names["head_name"].dropna().iloc[0])
    pages = {}
    for role in ("leader", "inspector", "planner"):
        response = scratch.get("/maps/inspection", params={"plan": str(report.plan_id)},
                               headers=scratch.headers[role])
        assert response.status_code == 200, response.text
        pages[role] = response.text
    assert "<title>督查路线图 · " in pages["leader"] and "地图测试方案" in pages["leader"]
    assert name not in pages["leader"] and "不显示户主姓名" in pages["leader"]
    assert name in pages["inspector"] and "显示户主姓名（本方案授权人员）" in pages["inspector"]
    assert name in pages["planner"]
    assert str(names["id_number"].dropna().iloc[0]) not in pages["planner"]  # never ID numbers
    assert '"key":"inspection_route"' in pages["leader"] and "第3组路线" in pages["leader"]
    log = scratch.get("/api/audit", params={"action": "read_pii"},
                      headers=scratch.headers["admin"]).json()
    assert {e["user_name"] for e in log["items"] if e["layer"] == "inspection_households"} >= {"t_inspector"}


def test_inspection_map_keeps_a_scoped_user_to_their_townships(scratch, drawn_plan):
    report, _ = drawn_plan
    scoped = scratch.get("/maps/inspection", params={"plan": report.name},
                         headers=scratch.headers["scoped"])
    assert scoped.status_code == 200
    assert "郝集村" in scoped.text and "上石硼村" not in scoped.text


def test_landing_page_draws_its_four_charts_from_local_svg(demo_server, demo_engine):
    """Task funds and inputs by township, inputs against tasks by unit, exits by year and coverage
    by township: inline SVG, no script, no external URL; the figures are the registry's."""
    page = get(demo_server, "/").text
    charts = set(re.findall(r'<svg class="chart" data-chart="([a-z-]+)"', page))
    assert charts == {"funds-by-township", "inputs-by-unit", "exits-by-year", "coverage-by-township"}
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page) and "<script" not in page
    pairings = storage.read_layer(demo_engine, "pairings")
    inputs = storage.read_layer(demo_engine, "unit_inputs")
    for township in ("兴仁镇", "香山乡"):
        task = pairings.loc[pairings["township_name"] == township, "task_funds_wan_yuan"].sum()
        given = inputs.loc[inputs["village_id"].isin(pairings.loc[pairings["township_name"] == township,
                                                                   "village_id"]), "total_input_wan_yuan"].sum()
        assert f"<title>{township} 帮扶任务 {task:g} 万元</title>" in page
        assert f"<title>{township} 投入资金 {round(given, 2):g} 万元</title>" in page
    households = storage.read_layer(demo_engine, "households", columns=["status", "status_year"])
    exited_2016 = int(((households["status"] == "exited") & (households["status_year"] == 2016)).sum())
    assert f"<title>2016年 {exited_2016} 户</title>" in page


def test_a_viewer_sees_no_input_charts(demo_server, headers):
    page = demo_server.get("/", headers=headers["viewer"]).text
    assert 'data-chart="inputs-by-unit"' not in page and 'id="chart-inputs-by-unit"' in page
    assert 'data-chart="exits-by-year"' not in page  # households are not a viewer's to read


def test_a_served_map_is_kept_until_the_registry_changes_and_per_role(scratch):
    """The page of a map viewed again comes from the kept copy, but a write shows at once, and a
    viewer (no 附件2 inputs) never gets the leader's page."""
    from geo.services import maps as service

    leader, viewer = scratch.headers["leader"], scratch.headers["viewer"]
    first = scratch.get("/maps/pairing", headers=leader)
    assert first.status_code == 200 and "为任务的" in first.text
    hits = service._PAGES.hits
    assert scratch.get("/maps/pairing", headers=leader).text == first.text and service._PAGES.hits == hits + 1
    assert "为任务的" not in scratch.get("/maps/pairing", headers=viewer).text
    village = storage.read_layer(scratch.engine, "villages", where={"name": "高庄村"}, columns=["name"])
    storage.write_layer(scratch.engine, "villages", village[["id"]].assign(name="高庄新村"))
    after = scratch.get("/maps/pairing", headers=leader).text
    assert "高庄新村" in after and "高庄新村" not in first.text
