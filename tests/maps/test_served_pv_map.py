"""The PV map's siting candidates and the kept results behind the maps, over HTTP (the app in
this process on its own copy of the demo, both backends) and through ``atlas map``.

A kept result must never outlive a write: the app's own (the registry API) and another
process's (this test writing to the app's database through an engine of its own, as
``atlas import`` would)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import geopandas as gpd
import httpx
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.services.maps import MAP_CANDIDATES, map_siting
from geo import storage
from geo.db import make_engine
from tests.api.accounts import ensure_users, login
from tests.conftest import Site, run_cli

TITLE = re.compile(r'"title":"选址候选 第(\d+)名"')


@pytest.fixture(scope="module")
def served(databases):
    url = databases.demo_url()  # its own copy: these tests write
    engine = make_engine(url)  # not the app's: its writes are another process's
    ensure_users(engine)
    site = Site(url)
    try:
        yield SimpleNamespace(site=site, url=url, engine=engine,
                              planner=login(site, "t_planner"), leader=login(site, "t_leader"))
    finally:
        site.close()
        engine.dispose()


def get(served, path, **params) -> httpx.Response:
    return served.site.get(path, params=params, headers=served.leader)


def ranks(page: str) -> list[int]:
    return [int(r) for r in TITLE.findall(page)]


def candidate_villages(page: str) -> list[str]:
    return re.findall(r'"villages":"([^"]*)"', page)


def test_the_pv_map_draws_the_best_candidates_and_the_option_hides_them(served):
    page = get(served, "/maps/pv").text
    assert ranks(page) == list(range(1, MAP_CANDIDATES + 1))
    assert '"key":"pv_candidates"' in page and "选址候选（按评分）" in page
    assert "晴空估算（非实测气象）" in page and "年发电量（估算）" in page
    assert ranks(get(served, "/maps/pv", candidates=3).text) == [1, 2, 3]
    hidden = get(served, "/maps/pv", candidates=0).text
    assert ranks(hidden) == [] and '"key":"pv_candidates"' not in hidden
    assert '"key":"pv_projects"' in hidden
    one_town = get(served, "/maps/pv", township="兴仁镇", candidates=2).text
    assert ranks(one_town) == [1, 2] and '"area_name":"兴仁镇"' in one_town


def test_a_user_limited_to_a_township_sees_candidates_and_beneficiaries_there_only(served):
    scoped = login(served.site, "t_scoped")  # a planner limited to 兴仁镇
    page = served.site.get("/maps/pv", params={"candidates": 5}, headers=scoped).text
    assert ranks(page) == [1, 2, 3, 4, 5]
    assert set(re.findall(r'"area_name":"([^"]*)"', page)) == {"兴仁镇"}
    own = set(storage.read_layer(served.engine, "villages", township="兴仁镇")["name"])
    named = {v.split(" ")[0] for text in candidate_villages(page) for v in text.split("、")}  # "村名 N户"
    assert named and named <= own


@pytest.mark.parametrize(("params", "words"), [
    ({"candidates": 101}, "less than or equal to 100"),
    ({"candidates": -1}, "greater than or equal to 0"),
    ({"cell_size": 50}, "greater than or equal to 100"),
    ({"cell_size": 100}, "cells of 100 m (at most 250,000)"),
])
def test_siting_options_out_of_bounds_are_refused(served, params, words):
    response = get(served, "/maps/pv", **params)
    assert response.status_code == 422
    assert words in response.text


def test_a_registry_change_shows_at_once(served):
    """PATCH through the app, then a write by another process: each seen on the next view."""
    first = candidate_villages(get(served, "/maps/pv").text)
    name = first[0].split("、")[0].split(" ")[0]  # "村名 N户"
    village = storage.read_layer(served.engine, "villages", where={"name": name}).iloc[0]
    renamed = served.site.patch(f"/api/registry/villages/{int(village['id'])}", json={"name": f"{name}改"},
                                headers={**served.planner, "If-Match": f'"{int(village["version"])}"'})
    assert renamed.status_code == 200, renamed.text
    after = candidate_villages(get(served, "/maps/pv").text)
    credited = [v.split(" ")[0] for v in after[0].split("、")]
    assert f"{name}改" in credited and name not in credited

    # another process: this test writes to the app's database through its own engine
    storage.write_layer(served.engine, "villages", pd.DataFrame({"id": [int(village["id"])],
                                                                 "name": [f"{name}再改"]}))
    again = candidate_villages(get(served, "/maps/pv").text)
    assert f"{name}再改" in [v.split(" ")[0] for v in again[0].split("、")]


def test_the_landing_page_follows_every_write(served):
    def key_poor(page: str) -> int:
        return int(re.search(r"重点贫困村 (\d+)，", page).group(1))

    page = get(served, "/").text
    before = key_poor(page)
    assert get(served, "/").text.count("重点贫困村") == page.count("重点贫困村")  # the same page again
    villages = storage.read_layer(served.engine, "villages", where={"category": "key_poor"})
    target = villages.iloc[0]
    changed = served.site.patch(f"/api/registry/villages/{int(target['id'])}", json={"category": "poor"},
                                headers={**served.planner, "If-Match": f'"{int(target["version"])}"'})
    assert changed.status_code == 200, changed.text
    assert key_poor(get(served, "/").text) == before - 1
    # a new key-poor village written by another process
    storage.write_layer(served.engine, "villages", gpd.GeoDataFrame(
        {"name": ["缓存测试村"], "township_id": [int(target["township_id"])], "category": ["key_poor"]},
        geometry=[Point(105.2, 37.4)], crs=4326), source="test")
    page = get(served, "/").text
    assert key_poor(page) == before
    assert re.search(r'data-figure="行政村">.*?<div class="value">(\d+)</div>', page).group(1) == "46"


def test_a_siting_run_is_kept_until_the_registry_changes(served):
    first, note = map_siting(served.engine, None, candidates=4)
    assert note is None and len(first.candidates) == 4
    assert map_siting(served.engine, None, candidates=4)[0] is first  # kept
    assert map_siting(served.engine, None, candidates=3)[0] is not first  # other options, other run
    storage.write_layer(served.engine, "pv_projects", gpd.GeoDataFrame(
        {"name": ["新电站"], "kind": ["centralized_station"], "capacity_kw": [1000.0], "status": ["planned"]},
        geometry=[first.candidates.geometry.iloc[0].representative_point()], crs=4326), source="test")
    changed = map_siting(served.engine, None, candidates=4)[0]
    assert changed is not first
    # the new project's footprint is excluded, so the best candidate moved
    assert not changed.candidates.geometry.iloc[0].equals(first.candidates.geometry.iloc[0])


def test_defaults_that_cannot_run_leave_candidates_out_and_say_why(served):
    result, note = map_siting(served.engine, None, cell_size_m=None, candidates=None, allowed=False)
    assert result is None and note is None
    from geo.services import maps as routes

    cap = routes.MAX_MAP_CELLS
    try:
        routes.MAX_MAP_CELLS = 10  # the demo district at the default 500 m needs some 22,000 cells
        result, note = map_siting(served.engine, None)
        assert result is None and "cells of 500 m (at most 10)" in note
        with pytest.raises(Exception, match="at most 10"):
            map_siting(served.engine, None, cell_size_m=500.0)  # asked for explicitly: refused
    finally:
        routes.MAX_MAP_CELLS = cap


def test_atlas_map_pv_takes_the_siting_options(served, tmp_path):
    out = tmp_path / "pv.html"
    run_cli("map", "pv", "-o", str(out), "--db", served.url, "--candidates", "0", check=True)
    page = out.read_text(encoding="utf-8")
    assert ranks(page) == [] and '"key":"pv_projects"' in page
    refused = run_cli("map", "pv", "-o", str(tmp_path / "x.html"), "--db", served.url, "--cell-size", "50")
    assert refused.returncode != 0
    assert "cell_size 50.0 is not allowed; give 100 to 10000 metres" in refused.stdout + refused.stderr
    assert not (tmp_path / "x.html").exists()
