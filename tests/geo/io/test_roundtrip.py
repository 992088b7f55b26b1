"""Export then import: every layer of the demo, in every format on SpatiaLite, and in a
GeoPackage (typed columns, 3 geometry kinds) and a CSV (text only) on PostGIS.

What a format adds (its writer and reader) is the same code on both backends; what a backend
adds (reading the layers, the import's writes, its types) is met by each format alike. Every
format on both backends took a tenth of the whole suite's time for no more checks."""

from __future__ import annotations

import csv
import json
import zipfile

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from geo import storage
from geo.io import dbf_field_names, export_frame, export_layer, import_file, write_frame
from geo.io.fields import DBF_NAMES, LABELS, field_labels, layer_fields
from geo.layers import LAYERS

#: Parents before children, as a clerk would load a new county.
ORDER = ["areas", "townships", "villages", "settlements", "units", "cadres", "households", "pairings", "work_teams",
         "roads", "water_facilities", "pv_projects", "projects", "unit_inputs"]
SUFFIX = {"gpkg": ".gpkg", "geojson": ".geojson", "shp": ".zip", "csv": ".csv", "xlsx": ".xlsx"}


def _normal(value):
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return value


def assert_same_rows(expected: gpd.GeoDataFrame, actual: gpd.GeoDataFrame, layer: str) -> None:
    assert list(actual.columns) == list(expected.columns), layer
    assert len(actual) == len(expected), layer

    def ordered(frame):
        keys = frame.drop(columns=["geometry"])
        columns = [np.array([str(_normal(v)) for v in keys[c]]) for c in reversed(keys.columns)]
        return frame.iloc[np.lexsort(columns)].reset_index(drop=True)

    expected, actual = ordered(expected), ordered(actual)
    for column in expected.columns:
        if isinstance(expected[column].dtype, gpd.array.GeometryDtype):
            for a, b in zip(expected[column], actual[column]):
                assert (a is None) == (b is None), (layer, column)
                if a is not None:
                    # Shapefiles store exterior rings clockwise: compare normalised rings
                    assert shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-6), (
                        layer, column, a.wkt[:80], b.wkt[:80])
            continue
        for position, (a, b) in enumerate(zip(expected[column], actual[column])):
            a, b = _normal(a), _normal(b)
            if isinstance(a, float) or isinstance(b, float):
                assert a is not None and b is not None and a == pytest.approx(b, rel=1e-9, abs=1e-9), (
                    layer, column, position, a, b)
            else:
                assert a == b, (layer, column, position, a, b)


#: For tests of a format's own code (headers, DBF fields), the same on both backends.
SPATIALITE_ONLY = pytest.mark.parametrize("backend", ["spatialite"], indirect=True)
FORMATS = {"spatialite": ["gpkg", "geojson", "shp", "csv", "xlsx"], "postgis": ["gpkg", "csv"]}


@pytest.mark.parametrize(("backend", "fmt"), [(b, f) for b, formats in FORMATS.items() for f in formats],
                         indirect=["backend"])
@pytest.mark.long
def test_export_then_import_round_trips_every_layer(demo_engine, conn, tmp_path, fmt):
    assert storage.layer_counts(conn)["villages"] == 0
    for layer in ORDER:
        path = tmp_path / f"{layer}{SUFFIX[fmt]}"
        export_layer(demo_engine, layer, path, include_pii=True)
        report = import_file(conn, path, layer=layer, strict=True)
        expected_rows = storage.count_layer(demo_engine, layer)
        assert report.committed and report.refused_count == 0, (layer, report.refused[:3])
        assert report.inserted == expected_rows, layer
    for layer in ORDER:
        assert_same_rows(export_frame(demo_engine, layer, include_pii=True), export_frame(conn, layer, include_pii=True),
                         layer)
    # the synthetic rows still say so after the trip
    assert set(storage.read_layer(conn, "households")["source"]) == {"demo:synthetic"}


def test_importing_an_export_into_its_own_database_changes_nothing(demo_engine, tmp_path):
    with demo_engine.connect() as connection:
        transaction = connection.begin()
        try:
            for layer in ORDER:
                path = tmp_path / f"{layer}.gpkg"
                export_layer(connection, layer, path, include_pii=True)
                report = import_file(connection, path, layer=layer)
                assert report.inserted == 0 and report.updated == 0, (layer, report.as_dict())
                assert report.unchanged == storage.count_layer(connection, layer)
        finally:
            transaction.rollback()


@SPATIALITE_ONLY
def test_csv_and_xlsx_exports_have_chinese_headers_and_labels(demo_engine, tmp_path):
    export_layer(demo_engine, "villages", tmp_path / "v.csv", township="兴仁镇")
    with open(tmp_path / "v.csv", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:7] == ["行政区划代码", "村名", "乡镇", "区县代码", "区县", "贫困村类别", "人口"]
    assert rows[0][-2:] == ["经度", "纬度"]
    assert {r[2] for r in rows[1:]} == {"兴仁镇"} and len(rows) - 1 == 11
    assert {(r[3], r[4]) for r in rows[1:]} == {("640502", "沙坡头区")}  # the village's county
    assert {r[5] for r in rows[1:]} <= {"重点贫困村", "贫困村", "脱贫销号村"}
    export_layer(demo_engine, "roads", tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx").active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:5] == ["道路编号", "道路名称", "道路等级", "路面类型", "路面宽度（米）"] and "几何（WKT）" in header
    assert sheet.title == "道路"


def test_personal_data_is_exported_only_when_asked(demo_engine, tmp_path):
    export_layer(demo_engine, "households", tmp_path / "h.csv")
    text = (tmp_path / "h.csv").read_text(encoding="utf-8-sig")
    assert "户主姓名" not in text and "身份证号" not in text
    export_layer(demo_engine, "households", tmp_path / "h_pii.csv", include_pii=True)
    assert "户主姓名" in (tmp_path / "h_pii.csv").read_text(encoding="utf-8-sig").splitlines()[0]


@SPATIALITE_ONLY
def test_shapefile_zip_fields_fit_dbf_and_say_how(demo_engine, tmp_path):
    result = export_layer(demo_engine, "villages", tmp_path / "v.zip")
    with zipfile.ZipFile(tmp_path / "v.zip") as archive:
        names = sorted(archive.namelist())
        assert {"villages.shp", "villages.shx", "villages.dbf", "villages.prj", "villages.cpg", "fields.csv"} <= set(names)
        assert archive.read("villages.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        mapping = list(csv.reader(archive.read("fields.csv").decode("utf-8-sig").splitlines()))
    assert mapping[0] == ["dbf_field", "field", "label"]
    assert ["reg_poor_h", "registered_poor_households", "建档立卡户数"] in mapping
    assert all(len(dbf.encode()) <= 10 for dbf in result.field_names.values())
    mixed = export_layer(demo_engine, "water_facilities", tmp_path / "w.zip")
    with zipfile.ZipFile(tmp_path / "w.zip") as archive:
        assert {"water_facilities_point.shp", "water_facilities_line.shp"} <= set(archive.namelist())
    assert any("Shapefiles" in w for w in mixed.warnings)


def test_dbf_names_are_short_unique_and_documented():
    for layer in LAYERS:
        names = dbf_field_names(layer_fields(layer))
        assert all(len(n.encode("utf-8")) <= 10 for n in names.values()), layer
        assert len({n.lower() for n in names.values()}) == len(names), layer
    assert all(len(v) <= 10 for v in DBF_NAMES.values())
    # analysis results: long and Chinese names are cut to whole characters and kept unique
    assert dbf_field_names(["distance_to_road_m", "distance_to_road_km", "到最近硬化路距离"]) == {
        "distance_to_road_m": "distance_t", "distance_to_road_km": "distance_1", "到最近硬化路距离": "到最近"}


def test_labels_are_unique_within_every_layer():
    for layer in LAYERS:
        labels = list(field_labels(layer).values())
        assert len(labels) == len(set(labels)), (layer, [x for x in labels if labels.count(x) > 1])
    assert LABELS["lon"] == "经度" and LABELS["lat"] == "纬度"


def test_write_frame_serves_analysis_results(tmp_path):
    result = gpd.GeoDataFrame({"village": ["一村", "二村"], "distance_m": [1234.5, None], "covered": [True, False]},
                              geometry=[shapely.Point(105.1, 37.5), shapely.Point(105.2, 37.6)], crs=4326)
    labels = {"village": "行政村", "distance_m": "到硬化路距离（米）", "covered": "已覆盖"}
    write_frame(result, tmp_path / "gaps.xlsx", labels=labels)
    sheet = openpyxl.load_workbook(tmp_path / "gaps.xlsx").active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["行政村", "到硬化路距离（米）", "已覆盖", "经度", "纬度"]
    assert rows[1][:3] == ["一村", 1234.5, "是"] and rows[2][1] is None
    write_frame(result.to_crs(32648), tmp_path / "gaps.geojson")  # reprojected to WGS 84 on the way out
    data = json.loads((tmp_path / "gaps.geojson").read_text(encoding="utf-8"))
    assert data["features"][0]["geometry"]["coordinates"] == pytest.approx([105.1, 37.5], abs=1e-7)
    assert data["features"][0]["properties"] == {"village": "一村", "distance_m": 1234.5, "covered": True}
    write_frame(result, tmp_path / "gaps.zip")
    with zipfile.ZipFile(tmp_path / "gaps.zip") as archive:
        assert "gaps.shp" in archive.namelist()
    write_frame(pd.DataFrame({"村": ["一村"], "得分": [3]}), tmp_path / "score.gpkg")
