"""Writing results: tables, CSV and XLSX with Chinese headers, JSON and GeoJSON."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from geo.analysis import analyze_roads
from geo.analysis.output import readable, render, to_geojson, to_json, write
from geo.errors import ValidationError
from tests.geo.analysis.conftest import area, line, point


@pytest.fixture(scope="module")
def result():
    townships = gpd.GeoDataFrame({"id": [1], "name": ["甲镇"]}, geometry=[area(-5_000, -5_000, 5_000, 5_000)],
                                 crs=4326)
    townships["seat"] = gpd.GeoSeries([point(0, 0)], crs=4326)
    villages = gpd.GeoDataFrame({"id": [1, 2], "name": ["通村", "远村"], "township_id": [1, 1],
                                 "category": ["key_poor", "poor"], "households": [100, 80],
                                 "population": [300, 240], "registered_poor_households": [20, 30]},
                                geometry=[point(500, 0), point(0, 3_000)], crs=4326)
    settlements = gpd.GeoDataFrame({"id": [1], "village_id": [1], "name": ["一组"], "households": [30],
                                    "population": [90]}, geometry=[point(500, 1_000)], crs=4326)
    roads = gpd.GeoDataFrame({"id": [1, 2], "surface": ["hardened", "earth"], "width_m": [6.0, 3.0]},
                             geometry=[line((0, 0), (2_000, 0)), line((500, 0), (500, 1_000))], crs=4326)
    return analyze_roads(villages, settlements, roads, townships, band=True)


def test_readable_tables_have_chinese_headers_labels_and_coordinates(result):
    frame = readable(result, "villages")
    assert {"行政村", "距硬化路（米）", "通路状况", "经度", "纬度"} <= set(frame.columns)
    rows = frame.set_index("行政村")
    assert rows.loc["通村", "村类别"] == "重点贫困村"
    assert rows.loc["通村", "通路状况"] == "硬化路连通乡镇驻地"
    assert rows.loc["通村", "经硬化路连通乡镇驻地"] == "是"
    assert rows.loc["远村", "距硬化路（米）"] == pytest.approx(3_000, abs=0.1)
    assert 104 < rows.loc["通村", "经度"] < 106 and 37 < rows.loc["通村", "纬度"] < 38


def test_csv_is_one_table(result):
    text = render(result, "csv")
    frame = pd.read_csv(io.StringIO(text))
    assert frame.columns[1] == "行政村" and len(frame) == 2
    links = pd.read_csv(io.StringIO(render(result, "csv", table="links")))
    assert "长度（公里）" in links.columns and "经度" not in links.columns
    with pytest.raises(ValidationError, match="CSV holds one table"):
        render(result, "csv", table="all")
    with pytest.raises(ValidationError, match="no table 'nope'"):
        render(result, "csv", table="nope")


def test_xlsx_has_every_table_and_an_explanation_sheet(result, tmp_path):
    path = write(result, "xlsx", tmp_path / "roads.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "说明"
    assert {"行政村通路", "自然村通路", "待建连接线", "乡镇汇总", "全区汇总"} <= set(book.sheetnames)
    about = [[c.value for c in row] for row in book["说明"].iter_rows()]
    assert ["距离量算坐标系", "EPSG:32648", None] in about
    assert any(row[0] == "自然村道路最小路面宽（米）" and row[1] == 3.5 and "seed 003" in row[2] for row in about)
    header = [c.value for c in next(book["行政村通路"].iter_rows())]
    assert header[:2] == ["行政村", "乡镇"]


def test_xlsx_names_villages_and_roads_never_registry_ids(result, tmp_path):
    """People read names: no sheet has a 村ID, 自然村ID, 最近道路ID ... column; the analysis' own
    link numbers (连接线编号) stay."""
    book = openpyxl.load_workbook(write(result, "xlsx", tmp_path / "roads.xlsx"))
    headers = {sheet.title: [c.value for c in next(sheet.iter_rows())] for sheet in book if sheet.title != "说明"}
    assert not [h for row in headers.values() for h in row if str(h).endswith("ID")], headers
    assert "行政村" in headers["自然村通路"] and "自然村" in headers["自然村通路"]
    assert "连接线编号" in headers["待建连接线"]
    # the CSV and JSON keep the ids for programs
    assert "村ID" in render(result, "csv") and "village_id" in render(result, "json")


def test_csv_file_opens_in_excel(result, tmp_path):
    path = write(result, "csv", tmp_path / "roads.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM


def test_json_keeps_codes_and_names_the_crs(result):
    data = json.loads(render(result, "json"))
    assert data["crs"] == "EPSG:32648" and data["analysis"] == "roads"
    village = next(v for v in data["tables"]["villages"] if v["village_name"] == "通村")
    assert village["road_status"] == "hardened_joined" and village["geometry"]["type"] == "Point"
    assert any(t["name"] == "cost_yuan_per_km" and t["value"] == 650_000 for t in data["thresholds"])
    assert to_json(result, table="links")["tables"].keys() == {"links"}


def test_geojson_carries_the_map_layers(result):
    collection = json.loads(render(result, "geojson"))
    assert collection["type"] == "FeatureCollection" and collection["metadata"]["crs"] == "EPSG:32648"
    layers = {f["properties"]["layer"] for f in collection["features"]}
    assert {"villages", "settlements", "links", "townships", "band"} <= layers
    link = next(f for f in collection["features"] if f["properties"]["layer"] == "links")
    assert link["geometry"]["type"] == "LineString" and link["properties"]["length_km"] > 0
    only = to_geojson(result, table="villages")
    assert len(only["features"]) == 2
    with pytest.raises(ValidationError, match="no geometry"):
        to_geojson(result, table="district")


def test_table_text_shows_title_thresholds_and_headers(result):
    text = render(result, "table")
    assert "道路通达分析" in text and "EPSG:32648" in text
    assert "通路判定距离（米）：200" in text and "行政村通路（2行）" in text
    with pytest.raises(ValidationError, match="unknown format"):
        render(result, "pdf")


def test_text_from_data_is_not_read_as_markup(result):
    from dataclasses import replace

    tricky = replace(result, notes=("含[bold]方括号[/bold]的说明",))
    assert "含[bold]方括号[/bold]的说明" in render(tricky, "table")


def test_control_characters_and_formulas_in_names_are_written_safely():
    townships = gpd.GeoDataFrame({"id": [1], "name": ["甲镇"]}, geometry=[area(-5_000, -5_000, 5_000, 5_000)],
                                 crs=4326)
    townships["seat"] = gpd.GeoSeries([point(0, 0)], crs=4326)
    villages = gpd.GeoDataFrame({"id": [1], "name": ["=HYPERLINK(\"x\")"], "township_id": [1],
                                 "category": ["poor"], "households": [10], "population": [30],
                                 "registered_poor_households": [2]}, geometry=[point(500, 0)], crs=4326)
    settlements = gpd.GeoDataFrame({"id": [1], "village_id": [1], "name": ["一\x1b组"], "households": [3],
                                    "population": [9]}, geometry=[point(500, 1_000)], crs=4326)
    roads = gpd.GeoDataFrame({"id": [1], "surface": ["hardened"], "width_m": [6.0]},
                             geometry=[line((0, 0), (2_000, 0))], crs=4326)
    result = analyze_roads(villages, settlements, roads, townships)
    book = openpyxl.load_workbook(io.BytesIO(render(result, "xlsx")))  # openpyxl refused ESC: was a 500
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row]
    assert "一<U+001B>组" in cells
    villages_csv = pd.read_csv(io.StringIO(render(result, "csv", table="villages")))
    assert villages_csv["行政村"].tolist() == ["'=HYPERLINK(\"x\")"]
