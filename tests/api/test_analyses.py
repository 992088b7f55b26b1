"""``/api/analyses``: the ``atlas analyze`` commands over real HTTP on both backends, compared
figure by figure with :func:`geo.services.analyses.run_analysis` for the same options."""

from __future__ import annotations

import io

import httpx
import openpyxl
import orjson
import pandas as pd
import pytest

from geo import storage
from geo.analysis.catalog import ANALYSES, TABLES, TITLES
from geo.services.analyses import run_analysis
from geo.analysis.options import analysis_options
from geo.analysis.output import readable, to_json


def _get(server, path: str, headers: dict | None = None, **params) -> httpx.Response:
    return server.get(f"/api/analyses{path}", params=params, headers=headers)


def _plain(data: dict) -> dict:
    """The result as it travels: JSON types only (what the server sends, decoded)."""
    return orjson.loads(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))


def test_the_list_names_every_analysis_with_its_parameters_and_who_may_run_it(demo_server, headers):
    listed = _get(demo_server, "", headers["leader"]).json()
    assert [a["name"] for a in listed] == list(ANALYSES)
    assert {a["name"]: a["title"] for a in listed} == TITLES
    assert all(a["allowed"] for a in listed)
    roads = next(a for a in listed if a["name"] == "roads")
    defaults = {p["name"]: p["default"] for p in roads["parameters"]}
    assert defaults["access_tolerance_m"] == 200.0 and defaults["rai_distance_m"] == 2000.0
    assert defaults["all_season_surfaces"] == "hardened,gravel" and "township" in defaults
    assert roads["href"].endswith("/api/analyses/roads")
    # A viewer may list them, but reads no households, so may run none.
    assert not any(a["allowed"] for a in _get(demo_server, "", headers["viewer"]).json())


def test_roads_json_matches_the_analysis_with_the_same_options(demo_server, demo_engine, headers):
    response = _get(demo_server, "/roads", headers["leader"], township="东园镇", snap_tolerance_m=25,
                    rai_distance_m=1500, all_season_surfaces="硬化路", band="false")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    expected = run_analysis(demo_engine, "roads", township="东园镇",
                            **analysis_options("roads", snap_tolerance_m=25, rai_distance_m=1500,
                                               all_season_surfaces="硬化路", band=False))
    assert body == _plain(to_json(expected))
    rules = {t["name"]: t["value"] for t in body["thresholds"]}
    assert rules["snap_tolerance_m"] == 25 and rules["rai_distance_m"] == 1500
    assert rules["all_season_surfaces"] == ["hardened"]
    villages = storage.read_layer(demo_engine, "villages", township="东园镇", columns=["name"])
    assert sorted(v["village_name"] for v in body["tables"]["villages"]) == sorted(villages["name"])
    assert body["crs"] == "EPSG:32648" and "band" not in body["tables"]


def test_priority_geojson_and_exit_share_threshold_match(demo_server, demo_engine, headers):
    links = _get(demo_server, "/priority", headers["planner"], kind="road", budget=300, format="geojson",
                 table="links")
    assert links.status_code == 200 and links.headers["content-type"] == "application/geo+json"
    collection = links.json()
    expected = run_analysis(demo_engine, "priority", **analysis_options("priority", kind="road", budget_wan_yuan=300))
    frame = expected.tables["links"]
    assert len(collection["features"]) == int(frame.geometry.notna().sum()) > 0
    assert all(f["geometry"]["type"] == "LineString" for f in collection["features"])
    assert sum(f["properties"]["funded"] for f in collection["features"]) == int(frame["funded"].sum())

    scorecard = _get(demo_server, "/exit", headers["leader"], share_threshold_pct=80, township="兴仁镇").json()
    rules = {t["name"]: t["value"] for t in scorecard["thresholds"]}
    assert rules["safe_water_threshold_pct"] == 80 and rules["tv_share_threshold_pct"] == 80
    expected = run_analysis(demo_engine, "exit", township="兴仁镇",
                            **analysis_options("exit", share_threshold_pct=80))
    assert scorecard == _plain(to_json(expected))


def test_csv_and_xlsx_downloads_carry_the_cli_headers(demo_server, demo_engine, headers):
    csv = _get(demo_server, "/coverage", headers["leader"], format="csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    disposition = csv.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="coverage_villages.csv"') and "filename*=UTF-8''" in disposition
    assert csv.content.startswith("\ufeff".encode())  # BOM: Excel shows the Chinese headers
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    expected = readable(run_analysis(demo_engine, "coverage"))
    assert list(frame.columns) == list(expected.columns) and len(frame) == len(expected) == 45
    assert frame["帮扶任务（万元）"].sum() == pytest.approx(89.0)

    xlsx = _get(demo_server, "/water", headers["leader"], format="xlsx", township="香山乡")
    assert xlsx.headers["content-disposition"].startswith('attachment; filename="water_t')
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    result = run_analysis(demo_engine, "water", township="香山乡")
    assert book.sheetnames[0] == "说明" and len(book.sheetnames) == 1 + len(result.tables)
    sheet = book[book.sheetnames[1]]
    assert sheet.max_row - 1 == len(result.tables[result.primary])


def test_a_scoped_user_sees_only_their_townships(demo_server, demo_engine, headers):
    body = _get(demo_server, "/coverage", headers["scoped"]).json()
    assert {v["township_name"] for v in body["tables"]["villages"]} == {"兴仁镇"}
    assert body == _plain(to_json(run_analysis(demo_engine, "coverage", township="兴仁镇")))
    outside = _get(demo_server, "/roads", headers["scoped"], township="常乐镇")
    assert outside.status_code == 403 and outside.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("path", "params", "fragment"), [
    ("/roads", {"access_tolerance_m": -1}, "query field access_tolerance_m"),
    ("/roads", {"all_season_surfaces": "hardened,tarmac"}, "all_season_surfaces: 'tarmac'"),
    ("/priority", {"kind": "bridge"}, "query field kind"),
    ("/water", {"safe_water_threshold_pct": 101}, "query field safe_water_threshold_pct"),
    ("/exit", {"year": "soon"}, "query field year"),
    ("/coverage", {"format": "pdf"}, "query field format"),
    ("/coverage", {"format": "csv", "table": "all"}, "CSV holds one table"),
    ("/water", {"table": "nope"}, "no table 'nope'"),
    ("/priority", {"table": "villages"}, "tables: ranking, budget, links"),
])
def test_bad_parameters_are_problems_naming_the_parameter(demo_server, headers, path, params, fragment):
    response = _get(demo_server, path, headers["leader"], **params)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert fragment in response.json()["detail"]


@pytest.mark.parametrize("analysis", ANALYSES)
def test_every_table_a_result_holds_is_declared(demo_engine, analysis):
    """Unknown tables are refused before the analysis runs, from :data:`TABLES`: it must list
    every table a result can hold (the roads band and the priority budget included)."""
    options = {"roads": {"band": True}, "priority": {"budget_wan_yuan": 500}}.get(analysis, {})
    result = run_analysis(demo_engine, analysis, **analysis_options(analysis, **options))
    assert set(result.tables) <= set(TABLES[analysis]) and result.primary in TABLES[analysis]


def test_an_unknown_township_is_404_naming_the_townships(demo_server, headers):
    response = _get(demo_server, "/roads", headers["leader"], township="火星镇")
    assert response.status_code == 404 and "兴仁镇" in response.json()["detail"]


def test_anonymous_and_viewer_callers_get_no_analysis(demo_server, headers):
    assert _get(demo_server, "/roads").status_code == 401
    refused = _get(demo_server, "/coverage", headers["viewer"])
    assert refused.status_code == 403
    assert refused.json()["detail"] == "your role (viewer) may not read the cadres layer, which the coverage analysis reads"
    assert _get(demo_server, "").status_code == 401


def test_household_tables_never_carry_names_or_id_numbers(demo_server, demo_engine, headers):
    private = storage.read_layer(demo_engine, "households", include_pii=True, columns=["head_name", "id_number"],
                                 township="宣和镇")
    body = _get(demo_server, "/water", headers["admin"], township="宣和镇")
    assert body.status_code == 200
    households = body.json()["tables"]["households"]
    assert households and not {"head_name", "id_number"} & set(households[0])
    assert not any(value in body.text for value in set(private["head_name"]) | set(private["id_number"]) if value)


def test_the_planner_options_over_http(demo_server, demo_engine, headers):
    roads = _get(demo_server, "/roads", headers["leader"], link_plan="one_by_one", band="false",
                 include_planned="true").json()
    plans = {row["plan"]: row for row in roads["tables"]["link_plans"]}
    assert plans["one_by_one"]["chosen"] and not plans["network"]["chosen"]
    assert plans["network"]["length_km"] <= plans["one_by_one"]["length_km"]
    assert {t["name"]: t["value"] for t in roads["thresholds"]}["include_planned"] is True
    body = _get(demo_server, "/priority", headers["leader"], kind="road", budget=2000, rank="value",
                optimise="true").json()
    greedy, optimal = body["tables"]["budget"]
    assert greedy["method"] == "greedy" and optimal["method"] == "optimal"
    assert optimal["unmet_registered_poor_households_served"] >= greedy["unmet_registered_poor_households_served"]
    assert optimal["solver_status"] == "OPTIMAL" and optimal["spent_wan_yuan"] <= 2000
    assert isinstance(body["tables"]["ranking"][0]["rank"], int)
    refused = _get(demo_server, "/priority", headers["leader"], kind="road", optimise="true")
    assert refused.status_code == 422 and "optimise needs a budget" in refused.text
    water = _get(demo_server, "/water", headers["leader"], conflict_population=100).json()
    district = water["tables"]["district"][0]
    assert district["villages_evidence_conflict"] == sum(v["evidence_conflict"] for v in water["tables"]["villages"])


def test_inputs_against_tasks_for_one_unit_checked_by_hand_and_its_xlsx_names_no_ids(demo_server, demo_engine,
                                                                                      headers):
    """自治区统计局 pairs with two villages in seed 000 (泰和村, 高庄村, 2 万元 each): its row sums the
    registry's 附件2 rows of those two villages, and the XLSX names units and villages, never ids."""
    body = _get(demo_server, "/inputs", headers["leader"]).json()
    unit = next(u for u in body["tables"]["units"] if u["unit_name"] == "自治区统计局")
    given = storage.read_layer(demo_engine, "unit_inputs")
    given = given[given["unit_name"] == "自治区统计局"]
    assert sorted(given["village_name"]) == ["泰和村", "高庄村"]
    assert unit["villages"] == 2 and unit["task_funds_wan_yuan"] == 4.0
    assert unit["total_input_wan_yuan"] == pytest.approx(given["total_input_wan_yuan"].sum())
    assert unit["input_vs_task_pct"] == pytest.approx(given["total_input_wan_yuan"].sum() / 4 * 100, abs=0.05)
    cadres = given[["cadres_division", "cadres_section", "cadres_general"]].sum().sum()
    assert unit["cadres_total"] == cadres
    pairs = [p for p in body["tables"]["pairs"] if p["unit_name"] == "自治区统计局"]
    assert {p["village_name"] for p in pairs} == {"泰和村", "高庄村"}
    assert body["tables"]["district"][0]["task_funds_wan_yuan"] == 89  # seed 000's total

    xlsx = _get(demo_server, "/inputs", headers["leader"], format="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    headers_of = {s.title: [c.value for c in next(s.iter_rows())] for s in book if s.title != "说明"}
    assert headers_of["单位与村投入对照"][:3] == ["乡镇", "行政村", "帮扶单位"]
    assert not [h for row in headers_of.values() for h in row if str(h).endswith("ID")]
    values = {c.value for s in book for row in s.iter_rows() for c in row}
    assert "自治区统计局" in values and "高庄村" in values
