"""``atlas pv ...`` end to end: a real subprocess, real files, the demo on both backends."""

from __future__ import annotations

import json

import geopandas as gpd
import openpyxl
import pytest
from shapely.geometry import box

from tests.conftest import run_cli


def test_yield_estimate_is_labelled_in_text_and_json():
    text = run_cli("pv", "yield", "--lat", "37.5", "--lon", "105.2", "--kwp", "100", "--households", "20", check=True)
    assert "估算值 ESTIMATE" in text.stdout and "kwh_per_kwp" in text.stdout
    assert "户均 per household" in text.stdout
    data = json.loads(run_cli("pv", "yield", "--lat", "37.5", "--lon", "105.2", "--kwp", "100", "--json",
                              check=True).stdout)
    assert data["is_estimate"] is True and "ESTIMATE" in data["estimate"]
    assert 1_350 < data["kwh_per_kwp"] < 1_650
    assert data["annual_kwh"] == pytest.approx(100 * data["kwh_per_kwp"], rel=1e-3)
    assert data["income_yuan_per_year"] == pytest.approx(data["annual_kwh"] * 0.65, rel=1e-3)
    assert len(data["monthly_kwh"]) == 12


def test_yield_from_a_tmy_file_is_not_an_estimate(tmy3_path):
    data = json.loads(run_cli("pv", "yield", "--lat", "36.1", "--lon", "-79.95", "--kwp", "10", "--weather",
                              str(tmy3_path), "--price", "0.8", "--json", check=True).stdout)
    assert data["is_estimate"] is False and "estimate" not in data
    assert data["weather_format"] == "tmy3"
    assert data["price_yuan_per_kwh"] == 0.8


@pytest.mark.parametrize("args, message", [
    (("--lat", "95", "--lon", "105", "--kwp", "10"), "latitude 95.0 is out of range"),
    (("--lat", "37.5", "--lon", "105", "--kwp", "-3"), "capacity -3.0 is not allowed"),
])
def test_bad_yield_inputs_give_one_clear_line(args, message):
    result = run_cli("pv", "yield", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_weather_file_of_the_wrong_format_gives_one_clear_line(tmp_path):
    wrong = tmp_path / "weather.txt"
    wrong.write_text("temperature 20\n")
    result = run_cli("pv", "yield", "--lat", "37.5", "--lon", "105", "--kwp", "10", "--weather", str(wrong))
    assert result.returncode == 1
    assert "weather.txt is not in a format" in result.stderr and "EPW" in result.stderr
    assert "Traceback" not in result.stderr


def test_review_of_the_demo(demo_url, tmp_path):
    text = run_cli("pv", "review", "--db", demo_url, check=True).stdout
    assert "已并网但无收益" in text and "受益户含非建档立卡户" in text and "已停运" in text
    assert "估算值 ESTIMATE" in text
    data = json.loads(run_cli("pv", "review", "--db", demo_url, "--format", "json", check=True).stdout)
    assert data["is_estimate"] is True
    flags = {p["code"]: p["flags"] for p in data["projects"]}
    assert "grid_connected_no_income" in flags["DEMO-PV001"]
    assert "non_poor_beneficiaries" in flags["DEMO-PV019"]
    assert len(data["townships"]) == 7
    book = tmp_path / "review.xlsx"
    run_cli("pv", "review", "--db", demo_url, "--township", "香山乡", "--format", "xlsx", "-o", str(book), check=True)
    sheets = openpyxl.load_workbook(book).sheetnames
    assert sheets == ["项目", "行政村", "乡镇", "说明"]
    header = [c.value for c in openpyxl.load_workbook(book)["项目"][1]]
    assert "问题" in header and "上报年收益(元)" in header


def test_site_in_a_demo_township_writes_candidates(demo_url, tmp_path):
    out = tmp_path / "candidates.geojson"
    result = run_cli("pv", "site", "--db", demo_url, "--township", "香山乡", "--cell-size", "500", "--top", "3",
                     "--exclude", "settlements:300", "--max-kwp", "6000", "-o", str(out), "--json", check=True)
    data = json.loads(result.stdout)
    assert data["is_estimate"] is True and data["metric_crs"] == "EPSG:32648"
    assert len(data["candidates"]) == 3 and [c["rank"] for c in data["candidates"]] == [1, 2, 3]
    assert data["excluded_cells"]["exclusion:settlements"] > 0
    assert all(c["capacity_kwp"] <= 6000 for c in data["candidates"])
    frame = gpd.read_file(out)
    assert len(frame) == 3 and frame.crs.to_epsg() == 4326
    assert set(frame["area_name"]) == {"香山乡"}


def test_site_refuses_an_unknown_exclusion_layer(demo_url):
    result = run_cli("pv", "site", "--db", demo_url, "--township", "香山乡", "--exclude", "farmland:100")
    assert result.returncode == 1
    assert "'farmland' is neither a file nor a registry layer" in result.stderr


def _raster_without_crs(path):
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", height=4, width=4, count=1, dtype="uint8",
                       transform=from_origin(105.0, 37.6, 0.1, 0.1)) as dst:
        dst.write(np.full((4, 4), 40, dtype="uint8"), 1)
    return path


def test_bad_site_inputs_give_one_clear_line_and_write_nothing(demo_url, tmp_path):
    out = tmp_path / "candidates.geojson"
    nocrs = _raster_without_crs(tmp_path / "cover.tif")
    polygons = tmp_path / "cover.shp"  # a shapefile without its .prj: its CRS is unknown
    gpd.GeoDataFrame({"kind": ["耕地"]}, geometry=[box(105.0, 37.2, 105.1, 37.3)]).to_file(polygons)
    assert not polygons.with_suffix(".prj").exists()
    cases = [(("--category", "farm"), "station category 'farm' is unknown"),
             (("--buffer", "settlements=-100"), "a buffer cannot be negative"),
             (("--no-exclude", "rivers"), "exclusion 'rivers' is unknown"),
             (("--land-cover", str(nocrs)), "no CRS (unknown coordinate system)"),
             (("--land-cover", str(polygons)), "land-cover layer: " + str(polygons) + " has no CRS")]
    for args, message in cases:
        result = run_cli("pv", "site", "--db", demo_url, "--township", "香山乡", "--cell-size", "500",
                         "-o", str(out), *args)
        assert result.returncode == 1, args
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert not out.exists()


def test_centralized_siting_and_switching_an_exclusion_off(demo_url):
    data = json.loads(run_cli("pv", "site", "--db", demo_url, "--township", "香山乡", "--cell-size", "500",
                              "--top", "2", "--category", "centralized", "--no-exclude", "roads",
                              "--buffer", "settlements=500", "--json", check=True).stdout)
    assert data["category"] == "centralized"
    assert "exclusion:roads" not in data["excluded_area_ha"] and data["excluded_area_ha"]["exclusion:settlements"] > 0
    assert all(c["capacity_kwp"] >= 1_000 for c in data["candidates"])
    assert all(c["area_ha"] == pytest.approx(c["capacity_kwp"] * 10_000 / 870 / 10_000) for c in data["candidates"])


def test_size_a_demo_village(demo_url):
    data = json.loads(run_cli("pv", "size", "--db", demo_url, "--village", "罗泉村", "--json", check=True).stdout)
    assert data["village"] == "常乐镇罗泉村"
    assert data["households"] == 117  # its registered-poor households in the demo
    # a village station: 0.65 yuan/kWh, 70 % of the income reaches households
    assert data["category"] == "village" and data["household_share"] == pytest.approx(0.7)
    assert data["required_kwp"] == pytest.approx(117 * 3000 / (data["kwh_per_kwp"] * 0.65 * 0.7), rel=1e-3)
    assert data["land_m2"] == pytest.approx(data["capacity_kwp"] * 10_000 / 870, rel=1e-3)
    assert data["is_estimate"] is True and data["estimate"]


def test_ledger_check_of_demo_stations(demo_url, tmp_path):
    import pandas as pd

    from geo.pv.ledger import LEDGER_HEADERS

    book = tmp_path / "台账.xlsx"
    values = ["DEMO-PV051", 2025, 10.0, 1_000.0, 100.0, 600.0, 0, 200.0, 100.0]
    pd.DataFrame([dict(zip(LEDGER_HEADERS, values))]).to_excel(book, index=False)
    data = json.loads(run_cli("pv", "ledger", str(book), "--db", demo_url, "--json", check=True).stdout)
    assert data["is_estimate"] is True
    assert data["rows"][0]["flags"] == ["generation_below_model"]  # 10 kWh from a village station
    unknown = tmp_path / "unknown.xlsx"
    pd.DataFrame([dict(zip(LEDGER_HEADERS, ["NOPE", *values[1:]]))]).to_excel(unknown, index=False)
    result = run_cli("pv", "ledger", str(unknown), "--db", demo_url)
    assert result.returncode == 1 and "row 2 (NOPE)" in result.stderr and "Traceback" not in result.stderr


def test_ledger_record_then_show(databases, tmp_path):
    import pandas as pd

    from geo.pv.ledger import LEDGER_HEADERS

    url = databases.demo_url()  # a copy of its own: this test writes
    book = tmp_path / "台账.xlsx"
    values = ["DEMO-PV051", 2025, 10.0, 1_000.0, 100.0, 600.0, 2, 200.0, 100.0]
    pd.DataFrame([dict(zip(LEDGER_HEADERS, values))]).to_excel(book, index=False)
    checked = run_cli("pv", "ledger", str(book), "--db", url, check=True).stdout
    assert "nothing is stored" in checked
    shown = run_cli("pv", "ledger", "--show", "DEMO-PV051", "--db", url, check=True).stdout
    assert "尚无台账记录" in shown
    recorded = run_cli("pv", "ledger", str(book), "--record", "--db", url, check=True).stdout
    assert "已记录 recorded 1 新年度" in recorded
    data = json.loads(run_cli("pv", "ledger", "--show", "DEMO-PV051", "--db", url, "--json", check=True).stdout)
    assert [(r["year"], r["posts"], r["flags"], r["version"]) for r in data["rows"]] == [
        (2025, 2, ["generation_below_model"], 1)]
    both = run_cli("pv", "ledger", str(book), "--show", "DEMO-PV051", "--db", url)
    assert both.returncode != 0 and "either a ledger XLSX file or --show" in both.stderr
