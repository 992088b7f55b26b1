"""``/api/pv``: ``atlas pv yield|review|site|size`` over real HTTP on both backends, compared
with :mod:`geo.services.pv` and :mod:`geo.pv.output` for the same parameters."""

from __future__ import annotations

import io

import httpx
import openpyxl
import orjson
import pandas as pd
import pytest

from geo import storage
from geo.pv.output import ESTIMATE_BANNER, VILLAGE_HEADERS, review_json, site_json, size_json, yield_json
from geo.services.pv import run_review, run_siting, run_sizing
from geo.pv.yield_model import estimate_yield


def _get(server, path: str, headers: dict | None = None, **params) -> httpx.Response:
    return server.get(f"/api/pv{path}", params=params, headers=headers)


def _plain(data: dict) -> dict:
    return orjson.loads(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))


def test_yield_is_the_labelled_clear_sky_estimate(demo_server, headers):
    body = _get(demo_server, "/yield", headers["viewer"], lat=37.5, lon=105.2, kwp=300, households=60,
                tilt=25).json()
    expected = yield_json(estimate_yield(latitude=37.5, longitude=105.2, capacity_kwp=300,
                                         beneficiary_households=60, tilt_deg=25))
    assert body == _plain(expected)
    assert body["is_estimate"] is True and body["estimate"] == ESTIMATE_BANNER
    assert 1_200 < body["kwh_per_kwp"] < 2_000 and body["annual_kwh"] == pytest.approx(300 * body["kwh_per_kwp"], 1e-3)
    assert body["income_yuan_per_household_per_year"] == pytest.approx(body["income_yuan_per_year"] / 60, 1e-3)


def test_size_at_a_position_and_for_a_village(demo_server, demo_engine, headers):
    body = _get(demo_server, "/size", headers["viewer"], lat=37.5, lon=105.2, households=40,
                target_income=3000).json()
    size, modelled, _ = run_sizing(households=40, latitude=37.5, longitude=105.2,
                                   target_income_yuan_per_household=3000)
    assert body == _plain(size_json(size, modelled, village=None, latitude=37.5, longitude=105.2))
    # a village station: 70 % of its income reaches households (公益岗位 and 奖励补助)
    assert body["category"] == "village" and body["household_share"] == pytest.approx(0.7)
    assert body["required_kwp"] == pytest.approx(
        40 * 3000 / (body["kwh_per_kwp"] * body["price_yuan_per_kwh"] * 0.7), rel=1e-3)

    village = storage.read_layer(demo_engine, "villages", township="兴仁镇", columns=["name"]).iloc[0]
    sized = _get(demo_server, "/size", headers["scoped"], village=village["name"]).json()
    assert sized["village"] == f"兴仁镇{village['name']}" and sized["households"] >= 1
    assert sized["latitude"] == pytest.approx(village.geometry.y)
    elsewhere = storage.read_layer(demo_engine, "villages", township="常乐镇", columns=["name"]).iloc[0]["name"]
    assert _get(demo_server, "/size", headers["scoped"], village=elsewhere).status_code == 404
    assert _get(demo_server, "/size", headers["viewer"], village=elsewhere).status_code == 403  # reads households


def test_review_matches_and_downloads_open(demo_server, demo_engine, headers):
    body = _get(demo_server, "/review", headers["leader"], township="兴仁镇").json()
    expected = run_review(demo_engine, township="兴仁镇")
    assert body == _plain(review_json(expected))
    assert len(body["projects"]) == storage.count_layer(demo_engine, "pv_projects", township="兴仁镇") > 0
    assert body["is_estimate"] is True

    csv = _get(demo_server, "/review", headers["leader"], format="csv", table="villages", township="兴仁镇")
    assert csv.headers["content-disposition"].startswith('attachment; filename="pv_review_t')
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    villages = expected.villages
    assert list(frame.columns) == list(VILLAGE_HEADERS.values()) and len(frame) == len(villages)
    assert frame["已建装机(kW)"].sum() == pytest.approx(villages["installed_kw"].sum())

    xlsx = _get(demo_server, "/review", headers["leader"], format="xlsx", township="兴仁镇")
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).sheetnames == ["项目", "行政村", "乡镇", "说明"]

    projects = _get(demo_server, "/review", headers["leader"], format="geojson", township="兴仁镇").json()
    assert len(projects["features"]) == len(expected.projects)


def test_a_scoped_review_holds_only_their_township(demo_server, demo_engine, headers):
    body = _get(demo_server, "/review", headers["scoped"]).json()
    assert {t["township_name"] for t in body["townships"]} == {"兴仁镇"}
    assert len(body["projects"]) == storage.count_layer(demo_engine, "pv_projects", township="兴仁镇")
    assert _get(demo_server, "/review", headers["scoped"], township="常乐镇").status_code == 403
    assert _get(demo_server, "/review", headers["viewer"]).status_code == 403


def test_site_on_a_coarse_grid_matches_the_siting(demo_server, demo_engine, headers):
    params = {"township": "香山乡", "cell_size": 1000, "top": 3, "exclude": "roads:100"}
    body = _get(demo_server, "/site", headers["planner"], **params).json()
    expected = run_siting(demo_engine, township="香山乡", exclude=["roads:100"], allow_files=False,
                          cell_size_m=1000, top=3)
    assert body == _plain(site_json(expected))
    assert 0 < len(body["candidates"]) <= 3 and body["excluded_cells"]["exclusion:roads"] > 0
    assert all(c["area_name"] == "香山乡" for c in body["candidates"])

    collection = _get(demo_server, "/site", headers["planner"], **params, format="geojson").json()
    assert [f["id"] for f in collection["features"]] == [c["candidate_id"] for c in body["candidates"]]
    assert collection["metadata"]["cells_evaluated"] == body["cells_evaluated"]


def test_a_scoped_siting_stays_in_their_township(demo_server, demo_engine, headers):
    body = _get(demo_server, "/site", headers["scoped"], cell_size=1000, top=5).json()
    own = set(storage.read_layer(demo_engine, "villages", township="兴仁镇", columns=["name"])["name"])
    assert body["candidates"] and all(c["area_name"] == "兴仁镇" for c in body["candidates"])
    named = {v.split(" ")[0] for c in body["candidates"] for v in (c["villages"] or "").split("、") if v}
    assert named and named <= own  # beneficiaries counted in their township only
    assert _get(demo_server, "/site", headers["scoped"], township="常乐镇").status_code == 403


def test_siting_by_category_with_the_default_exclusions(demo_server, headers):
    body = _get(demo_server, "/site", headers["planner"], cell_size=1000, top=3, category="centralized").json()
    assert body["category"] == "centralized" and body["price_yuan_per_kwh"] == pytest.approx(0.2595)
    assert {"exclusion:settlements", "exclusion:roads", "exclusion:water", "exclusion:township_seats",
            "exclusion:villages", "exclusion:existing_pv"} <= set(body["excluded_area_ha"])
    assert all(1_000 <= c["capacity_kwp"] <= 100_000 for c in body["candidates"])
    credited = [c["beneficiary_households"] for c in body["candidates"]]
    assert body["households_to_reach"] - sum(credited) == body["households_unreached"]
    off = _get(demo_server, "/site", headers["planner"], cell_size=1000, top=3, no_exclude="settlements").json()
    assert "exclusion:settlements" not in off["excluded_area_ha"]


@pytest.mark.parametrize(("path", "params", "fragment"), [
    ("/yield", {"lat": 95, "lon": 105, "kwp": 1}, "query field lat"),
    ("/yield", {"lat": 37, "lon": 105, "kwp": 0}, "query field kwp"),
    ("/yield", {"lat": 37, "lon": 105}, "query field kwp"),
    ("/size", {"lat": 37.5}, "give the site's latitude and longitude, or a village"),
    ("/size", {"lat": 37.5, "lon": 105.2}, "give the beneficiary households"),
    ("/review", {"format": "pdf"}, "query field format"),
    ("/site", {"cell_size": 50}, "query field cell_size"),
    ("/site", {"cell_size": 100}, "cells of 100 m (at most 250,000)"),
    ("/site", {"exclude": "farmland:100"}, "exclude: 'farmland' is not a registry layer"),
    ("/site", {"exclude": "/etc/passwd"}, "exclude: '/etc/passwd' is not a registry layer"),
    ("/site", {"exclude": "roads:lots"}, "the buffer 'lots' is not a number"),
    ("/site", {"grid": "power_lines"}, "grid: 'power_lines' is not a registry layer"),
    ("/site", {"category": "farm"}, "query field category"),
    ("/site", {"buffer": "settlements=-5"}, "a buffer cannot be negative"),
    ("/site", {"buffer": "rivers=50"}, "exclusion 'rivers' is unknown"),
    ("/site", {"no_exclude": "rivers"}, "query field no_exclude"),
    ("/site", {"temp": "1,2,3"}, "monthly temperature: give 12 numbers"),
    ("/size", {"lat": 37.5, "lon": 105.2, "households": 5, "category": "farm"}, "query field category"),
])
def test_bad_parameters_are_problems_naming_the_parameter(demo_server, headers, path, params, fragment):
    response = _get(demo_server, path, headers["planner"], **params)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert fragment in response.json()["detail"]


def test_anonymous_callers_are_refused(demo_server):
    assert _get(demo_server, "/yield", lat=37.5, lon=105.2, kwp=1).status_code == 401
    assert _get(demo_server, "/review").status_code == 401
