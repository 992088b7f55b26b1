"""Row checks, refusals, repairs and all-or-nothing writes, on both backends."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from geo import storage
from geo.errors import ValidationError
from geo.io import import_file
from tests.geo.io.conftest import snapshot

BOWTIE = Polygon([(105.00, 37.40), (105.10, 37.50), (105.10, 37.40), (105.00, 37.50)])  # self-intersecting
SQUARE = Polygon([(105.2, 37.4), (105.3, 37.4), (105.3, 37.5), (105.2, 37.5)])


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def pv_frame(geoms, codes=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame({"项目编号": codes or [f"PV-{i + 1}" for i in range(n)],
                             "项目名称": [f"光伏{i + 1}" for i in range(n)], "光伏类型": ["村级光伏电站"] * n,
                             "装机容量": [300.0] * n, "建设状态": ["已并网"] * n}, geometry=geoms, crs=4326)


def test_a_self_intersecting_polygon_is_repaired_and_reported(conn, tmp_path):
    pyogrio.write_dataframe(pv_frame([BOWTIE, SQUARE]), tmp_path / "pv.gpkg", layer="pv")
    assert not BOWTIE.is_valid

    report = import_file(conn, tmp_path / "pv.gpkg", layer="pv_projects")

    assert report.inserted == 2 and report.repaired_count == 1
    assert report.repaired[0].row == 1 and "Self-intersection" in report.repaired[0].reason
    stored = storage.read_layer(conn, "pv_projects", where={"code": "PV-1"}).geometry.iloc[0]
    assert stored.is_valid and stored.geom_type == "MultiPolygon"
    assert len(stored.geoms) == 2  # the two triangles of the bow tie
    assert stored.area == pytest.approx(2 * 0.5 * 0.1 * 0.05, rel=1e-6)


def test_strict_refuses_the_repair_and_writes_nothing(conn, tmp_path):
    pyogrio.write_dataframe(pv_frame([BOWTIE, SQUARE]), tmp_path / "pv.gpkg", layer="pv")
    before = snapshot(conn)
    report = import_file(conn, tmp_path / "pv.gpkg", layer="pv_projects", strict=True)
    assert not report.committed and report.refused_count == 1
    assert "invalid geometry" in report.refused[0].reason and "--strict" in report.refused[0].reason
    assert snapshot(conn) == before


def test_one_bad_row_among_good_ones_leaves_the_database_unchanged(conn, registry, tmp_path):
    rows = [["村名", "乡镇", "贫困村类别", "户数", "经度", "纬度"]]
    rows += [[f"新{i}村", "西镇", "贫困村", 300 + i, 105.01 + i / 1000, 37.45] for i in range(40)]
    rows[23][2] = "富裕村"  # line 24 of the file (the header is line 1): not a village category
    path = write_csv(tmp_path / "villages.csv", rows)
    before = snapshot(conn)

    report = import_file(conn, path, layer="villages", strict=True)

    assert not report.committed
    assert report.refused_count == 1 and report.refused[0].row == 24
    assert "富裕村" in report.refused[0].reason and "贫困村" in report.refused[0].reason
    assert snapshot(conn) == before
    # without --strict the 39 good rows go in and the bad one is listed
    report = import_file(conn, path, layer="villages")
    assert report.committed and report.inserted == 39 and report.refused_count == 1


def test_an_error_in_a_later_chunk_rolls_back_the_earlier_chunks(conn, registry, tmp_path):
    # chunk 1 inserts rows; chunk 2 updates 一村 (by its code) to the name of another village of
    # 西镇, which the database refuses (unique township + name): everything is undone
    rows = [["村代码", "村名", "乡镇", "贫困村类别"]]
    rows += [[f"64050210009{i}", f"新{i}村", "西镇", "贫困村"] for i in range(5)]
    rows += [["640502100001", "新水村", "西镇", "贫困村"]]
    path = write_csv(tmp_path / "villages.csv", rows)
    before = snapshot(conn)
    with pytest.raises(Exception, match="refused|UNIQUE|unique"):
        import_file(conn, path, layer="villages", chunk_rows=2)
    assert snapshot(conn) == before


def test_a_duplicate_code_inside_the_file_is_refused(conn, registry, tmp_path):
    rows = [["户编号", "乡镇", "行政村", "农户类型"],
            ["H-001", "西镇", "一村", "已脱贫"],
            ["H-002", "西镇", "一村", "返贫"],
            ["H-003", "西镇", "一村", "计划脱贫"],
            ["H-001", "西镇", "一村", "非贫困户"]]
    path = write_csv(tmp_path / "households.csv", rows)
    before = snapshot(conn)
    report = import_file(conn, path, layer="households", strict=True)
    assert not report.committed and snapshot(conn) == before
    assert [r.row for r in report.refused] == [5]
    assert "户编号 'H-001' of row 2" in report.refused[0].reason
    # the repeat is caught across chunks too (one row per chunk here)
    report = import_file(conn, path, layer="households", chunk_rows=1)
    assert report.inserted == 3 and [r.row for r in report.refused] == [5]
    assert storage.read_layer(conn, "households", where={"code": "H-001"})["status"].iloc[0] == "exited"


def test_parents_by_code_or_by_name_within_the_parent_and_ambiguous_names(conn, registry, tmp_path):
    rows = [["户编号", "乡镇", "行政村", "村代码", "农户类型"],
            ["H-1", "", "新水村", "", "已脱贫"],          # 新水村 is in 西镇 and 东镇: ambiguous
            ["H-2", "东镇", "新水村", "", "已脱贫"],      # by name within the township
            ["H-3", "", "", "640502100002", "已脱贫"],    # by code
            ["H-4", "", "一村", "", "已脱贫"],            # unique name
            ["H-5", "北镇", "一村", "", "已脱贫"],        # no such township
            ["H-6", "", "", "", "已脱贫"]]                # no village at all
    path = write_csv(tmp_path / "households.csv", rows)
    report = import_file(conn, path, layer="households")
    assert report.inserted == 3
    reasons = {r.row: r.reason for r in report.refused}
    assert set(reasons) == {2, 6, 7}
    assert "ambiguous" in reasons[2] and "西镇新水村" in reasons[2] and "东镇新水村" in reasons[2]
    assert "乡镇 '北镇'" in reasons[6] and "西镇" in reasons[6]
    assert "empty" in reasons[7] or "needs" in reasons[7]
    stored = storage.read_layer(conn, "households").set_index("code")
    village_ids = registry["villages"]
    assert stored.loc["H-2", "village_id"] == village_ids[2]
    assert stored.loc["H-3", "village_id"] == village_ids[1]
    assert stored.loc["H-4", "village_id"] == village_ids[0]


def test_types_enums_and_required_fields_are_checked_per_row(conn, registry, tmp_path):
    rows = [["户编号", "行政村", "乡镇", "农户类型", "家庭人口", "人均纯收入（元）", "安全饮水"],
            ["H-1", "一村", "西镇", "已脱贫", "4", "6,200", "是"],
            ["H-2", "一村", "西镇", "registered", "3.5", "5000", "否"],
            ["H-3", "一村", "西镇", "小康", "3", "5000", "是"],
            ["H-4", "一村", "西镇", "已脱贫", "3", "很多", "也许"],
            ["H-5", "一村", "西镇", "", "3", "", ""]]
    report = import_file(conn, write_csv(tmp_path / "h.csv", rows), layer="households")
    assert report.inserted == 1
    reasons = {r.row: r.reason for r in report.refused}
    assert "not a whole number" in reasons[3]
    assert "'小康' is not one of" in reasons[4] and "已脱贫" in reasons[4]
    assert "'很多': not a number" in reasons[5] and "'也许'" in reasons[5]
    assert "农户类型" in reasons[6]  # a new household needs its status
    stored = storage.read_layer(conn, "households", where={"code": "H-1"}).iloc[0]
    assert stored["income_per_person_yuan"] == 6200.0 and bool(stored["has_safe_water"]) is True


def test_personal_data_never_appears_in_messages(conn, registry, tmp_path):
    secret = "6405021980010112345678"  # too long for an ID number
    rows = [["户编号", "行政村", "乡镇", "农户类型", "身份证号", "户主姓名"],
            ["H-1", "一村", "西镇", "已脱贫", secret, "马某华"]]
    report = import_file(conn, write_csv(tmp_path / "h.csv", rows), layer="households")
    assert report.refused_count == 1 and "身份证号" in report.refused[0].reason
    text = report.to_json()
    assert secret not in text and "马某华" not in text


def test_geometry_types_are_checked(conn, tmp_path):
    frame = gpd.GeoDataFrame({"道路编号": ["R1", "R2", "R3"], "路面类型": ["硬化路", "砂石路", "土路"]},
                             geometry=[LineString([(105.1, 37.5), (105.2, 37.5)]), Point(105.1, 37.5),
                                       LineString()], crs=4326)
    pyogrio.write_dataframe(frame, tmp_path / "roads.gpkg", layer="roads", geometry_type="Unknown")
    report = import_file(conn, tmp_path / "roads.gpkg", layer="roads")
    assert report.inserted == 1
    reasons = {r.row: r.reason for r in report.refused}
    assert "a Point" in reasons[2] and "lines" in reasons[2]
    assert "empty" in reasons[3]
    stored = storage.read_layer(conn, "roads", where={"code": "R1"}).geometry.iloc[0]
    assert stored.geom_type == "MultiLineString"  # a LineString is accepted as a one-part multi


def test_a_multipoint_of_one_point_is_a_point(conn, registry, tmp_path):
    frame = gpd.GeoDataFrame({"村名": ["一村", "新村"], "乡镇": ["西镇", "西镇"], "贫困村类别": ["贫困村", "贫困村"]},
                             geometry=[MultiPoint([(105.05, 37.51)]), MultiPoint([(105.0, 37.5), (105.1, 37.5)])],
                             crs=4326)
    frame.to_file(tmp_path / "v.geojson", driver="GeoJSON")
    report = import_file(conn, tmp_path / "v.geojson", layer="villages")
    assert report.updated == 1 and report.refused_count == 1
    assert "MultiPoint of 2 points" in report.refused[0].reason


def test_dry_run_reports_what_would_happen_and_writes_nothing(conn, registry, tmp_path):
    rows = [["村名", "乡镇", "贫困村类别", "户数"], ["一村", "西镇", "贫困村", "999"], ["二村", "西镇", "贫困村", "10"]]
    before = snapshot(conn)
    report = import_file(conn, write_csv(tmp_path / "v.csv", rows), layer="villages", dry_run=True)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0) and not report.committed
    assert snapshot(conn) == before
    json.loads(report.to_json())  # serialisable as the API will return it


def test_a_village_list_without_township_column_updates_unique_names(conn, registry, tmp_path):
    rows = [["村名", "户数"], ["一村", "512"], ["新水村", "30"], ["无名村", "1"]]
    report = import_file(conn, write_csv(tmp_path / "v.csv", rows), layer="villages")
    assert report.updated == 1
    reasons = {r.row: r.reason for r in report.refused}
    assert "乡镇" in reasons[4]  # a new village needs its township
    assert "新水村" in reasons[3] and "乡镇" in reasons[3]


def test_large_files_stream_in_chunks(conn, registry, tmp_path):
    rows = [["户编号", "乡镇", "行政村", "农户类型", "经度", "纬度"]]
    rows += [[f"H{i:05d}", "西镇", "一村", "已脱贫", 105.05 + (i % 100) / 10_000, 37.5] for i in range(2_500)]
    path = write_csv(tmp_path / "many.csv", rows)
    calls = []
    report = import_file(conn, path, layer="households", chunk_rows=500, progress=lambda done, total: calls.append(done))
    assert report.inserted == 2_500
    assert calls == [500, 1000, 1500, 2000, 2500]
    assert storage.count_layer(conn, "households") == 2_500


def test_merged_township_cells_and_section_rows_in_a_plain_sheet(conn, registry, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "村级信息"
    sheet.append(["2020年村级基本情况"])
    sheet.append(["乡镇", "村名", "贫困村类别", "户数"])
    sheet.append(["西镇", "甲村", "贫困村", 100])
    sheet.append([None, "乙村", "贫困村", 200])
    sheet.append(["东镇", "丙村", "脱贫销号村", 300])
    sheet.merge_cells("A3:A4")  # 西镇 spans 甲村 and 乙村
    sheet.append(["合计", None, None, 600])
    workbook.save(tmp_path / "villages.xlsx")
    report = import_file(conn, tmp_path / "villages.xlsx", layer="villages")
    assert report.inserted == 3 and report.refused_count == 0
    stored = storage.read_layer(conn, "villages", where={"name": ["甲村", "乙村", "丙村"]}).set_index("name")
    assert list(stored.loc[["甲村", "乙村", "丙村"], "township_name"]) == ["西镇", "西镇", "东镇"]

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["村名", "贫困村类别", "户数"])
    sheet.append(["西镇"])  # a section row names the township of the rows below
    sheet.append(["丁村", "贫困村", 50])
    sheet.append(["东镇"])
    sheet.append(["戊村", "贫困村", 60])
    workbook.save(tmp_path / "sections.xlsx")
    report = import_file(conn, tmp_path / "sections.xlsx", layer="villages")
    assert report.inserted == 2
    stored = storage.read_layer(conn, "villages", where={"name": ["丁村", "戊村"]}).set_index("name")
    assert stored.loc["丁村", "township_name"] == "西镇" and stored.loc["戊村", "township_name"] == "东镇"


def test_unknown_headers_can_be_mapped(conn, registry, tmp_path):
    rows = [["村庄", "所在乡", "类型", "东经", "北纬"], ["庚村", "东镇", "贫困村", "105.3", "37.45"]]
    path = write_csv(tmp_path / "v.csv", rows)
    report = import_file(conn, path, layer="villages", dry_run=True)
    assert report.ignored_columns == ["村庄", "所在乡", "类型"]
    assert "a new row needs 村名, and the file has no such column" in report.refused[0].reason
    report = import_file(conn, path, layer="villages", mapping=["村庄=name", "所在乡=乡镇", "类型=category"])
    assert report.inserted == 1 and report.columns["村庄"] == "name"
    with pytest.raises(ValidationError, match="no field 'colour'"):
        import_file(conn, path, layer="villages", mapping=["村庄=colour"])


def test_gpkg_and_kml_layers(conn, registry, tmp_path):
    villages = gpd.GeoDataFrame({"name": ["辛村"], "township_name": ["东镇"], "category": ["poor"]},
                                geometry=[Point(105.31, 37.46)], crs=4326)
    roads = gpd.GeoDataFrame({"code": ["R9"], "surface": ["gravel"]},
                             geometry=[LineString([(105.3, 37.45), (105.32, 37.47)])], crs=4326)
    path = tmp_path / "survey.gpkg"
    pyogrio.write_dataframe(villages, path, layer="村委会")
    pyogrio.write_dataframe(roads, path, layer="道路")
    with pytest.raises(ValidationError, match="2 layers.*村委会.*道路.*--source-layer"):
        import_file(conn, path, layer="villages")
    assert import_file(conn, path, layer="villages", source_layer="村委会").inserted == 1
    assert import_file(conn, path, layer="roads", source_layer="道路").inserted == 1

    points = gpd.GeoDataFrame({"Name": ["手机定位水井"], "Description": ["机井"]},
                              geometry=[Point(105.12, 37.44)], crs=4326)
    pyogrio.write_dataframe(points, tmp_path / "gps.kml", driver="KML")
    report = import_file(conn, tmp_path / "gps.kml", layer="water_facilities",
                         mapping=["Name=name", "Description=kind"])
    assert report.refused_count == 1 and "运行状态" in report.refused[0].reason  # status is required


def test_an_empty_required_cell_is_refused_for_existing_rows_too(conn, registry, tmp_path):
    rows = [["户编号", "行政村", "乡镇", "农户类型"], ["H-1", "一村", "西镇", "已脱贫"]]
    import_file(conn, write_csv(tmp_path / "a.csv", rows), layer="households")
    rows = [["户编号", "农户类型", "家庭人口"], ["H-1", "", "5"], ["H-2", "返贫", "3"]]
    report = import_file(conn, write_csv(tmp_path / "b.csv", rows), layer="households")
    reasons = {r.row: r.reason for r in report.refused}
    assert "农户类型 is empty; it is required" in reasons[2]  # an update may not blank it
    assert "a new row needs 行政村" in reasons[3]  # the file has no village column
    assert storage.read_layer(conn, "households", where={"code": "H-1"})["status"].iloc[0] == "exited"


def test_the_year_option_fills_a_table_without_a_year_column(conn, registry, tmp_path):
    rows = [["帮扶单位", "行政村", "乡镇", "帮扶任务（万元）"], ["沙坡头区审计局", "一村", "西镇", "1.5"]]
    path = write_csv(tmp_path / "pairings.csv", rows)
    report = import_file(conn, path, layer="pairings", dry_run=True)
    assert "a new row needs 年度" in report.refused[0].reason
    report = import_file(conn, path, layer="pairings", year=2020)
    assert report.inserted == 1
    stored = storage.read_layer(conn, "pairings").iloc[0]
    assert (stored["year"], stored["unit_name"], stored["task_funds_wan_yuan"]) == (2020, "沙坡头区审计局", 1.5)
