"""Coordinates in: every CRS county files use, web-map datums, and refusals that name the cause.

Every file is written by the test itself (pyogrio, csv) and imported with ``import_file``
into the rolled-back ``conn`` of both backends.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import Point

from geo import chinacrs, storage
from geo.errors import ValidationError
from geo.io import import_file
from geo.io.coords import explain_outside, gk_zone, parse_crs, prefixed_zone
from pyproj import CRS

GEOD = Geod(ellps="WGS84")

# Published pair (coordtransform's test, also used by tests/geo/test_chinacrs.py):
# WGS 84 (116.404, 39.915) is GCJ-02 (116.41024449916938, 39.91640428150164).
GCJ02_OF_WGS84 = ((116.404, 39.915), (116.41024449916938, 39.91640428150164))
# ... and GCJ-02 (116.404, 39.915) is BD-09 (116.41036949371029, 39.92133699351021).
BD09_OF_GCJ02 = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))


def metres(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


WATER_HEADER = ["设施编号", "设施名称", "设施类型", "运行状态"]


def test_gbk_shapefile_in_cgcs2000_gk_cm105_lands_at_the_right_wgs84_positions(conn, registry, tmp_path):
    # village committees surveyed in CGCS2000 / 3-degree Gauss-Kruger CM 105E (EPSG:4544)
    eastings = [505_123.45, 512_345.67, 498_765.43]
    northings = [4_150_321.10, 4_160_987.65, 4_142_001.00]
    frame = gpd.GeoDataFrame(
        {"村名": ["上石硼村", "罗泉村", "熊水村"], "乡镇": ["西镇", "西镇", "东镇"],
         "类别": ["重点贫困村", "贫困村", "重点贫困村"], "户数": [801, 828, 640]},
        geometry=[Point(x, y) for x, y in zip(eastings, northings)], crs=4544)
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(frame, folder / "村委会.shp", encoding="GBK")
    (folder / "村委会.cpg").unlink()  # as ArcGIS 9 and many survey tools write them: no .cpg
    raw = (folder / "村委会.dbf").read_bytes()
    assert "上石硼村".encode("gbk") in raw and "上石硼村".encode("utf-8") not in raw

    report = import_file(conn, folder, layer="villages")

    assert report.committed and report.inserted == 3 and report.refused_count == 0
    assert "GBK" in report.encoding
    assert "EPSG:4544" in report.crs
    stored = storage.read_layer(conn, "villages", where={"name": ["上石硼村", "罗泉村", "熊水村"]})
    assert sorted(stored["name"]) == sorted(["上石硼村", "罗泉村", "熊水村"])
    to_wgs = Transformer.from_crs(4544, 4326, always_xy=True)
    for name, x, y in zip(["上石硼村", "罗泉村", "熊水村"], eastings, northings):
        row = stored[stored["name"] == name].iloc[0]
        expected = to_wgs.transform(x, y)
        assert metres((row.geometry.x, row.geometry.y), expected) < 0.5
    assert set(stored["township_name"]) == {"西镇", "东镇"}
    assert sorted(stored["category"]) == ["key_poor", "key_poor", "poor"]


def test_the_declared_encoding_is_checked_against_the_bytes(conn, registry, tmp_path):
    frame = gpd.GeoDataFrame({"村名": ["上石硼村"], "乡镇": ["西镇"], "类别": ["贫困村"]},
                             geometry=[Point(505_000, 4_150_000)], crs=4544)
    pyogrio.write_dataframe(frame, tmp_path / "v.shp", encoding="GBK")
    with pytest.raises(ValidationError, match="not UTF-8.*--encoding gbk"):
        import_file(conn, tmp_path / "v.shp", layer="villages", encoding="utf-8")
    report = import_file(conn, tmp_path / "v.shp", layer="villages", encoding="gbk", dry_run=True)
    assert report.inserted == 1 and not report.committed


def test_gcj02_points_from_a_web_map_are_converted_to_wgs84(conn, tmp_path):
    (wgs, gcj) = GCJ02_OF_WGS84
    path = write_csv(tmp_path / "amap.csv", [WATER_HEADER + ["经度", "纬度"],
                                             ["W-1", "供水点", "集中供水点", "正常运行", gcj[0], gcj[1]]])
    report = import_file(conn, path, layer="water_facilities", crs="gcj02")
    assert report.inserted == 1 and "GCJ-02" in report.crs
    point = storage.read_layer(conn, "water_facilities", where={"code": "W-1"}).geometry.iloc[0]
    assert metres((point.x, point.y), wgs) < 0.01  # the iterative inverse: sub-centimetre


def test_bd09_points_are_converted_through_gcj02(conn, tmp_path):
    gcj, bd = BD09_OF_GCJ02
    path = write_csv(tmp_path / "baidu.csv", [WATER_HEADER + ["lng", "lat"],
                                              ["W-2", "机井", "机井", "正常运行", bd[0], bd[1]]])
    import_file(conn, path, layer="water_facilities", crs="bd09")
    point = storage.read_layer(conn, "water_facilities", where={"code": "W-2"}).geometry.iloc[0]
    back = chinacrs.wgs84_to_gcj02(point.x, point.y)
    assert metres((float(back[0]), float(back[1])), gcj) < 0.2  # BD-09's published inverse: ~0.1 m


def test_swapped_latitude_and_longitude_are_refused_with_the_cause(conn, tmp_path):
    path = write_csv(tmp_path / "swapped.csv", [WATER_HEADER + ["经度", "纬度"],
                                                ["W-1", "a", "机井", "正常运行", "37.5", "105.2"],
                                                ["W-2", "b", "机井", "正常运行", "37.6", "105.3"]])
    before = storage.count_layer(conn, "water_facilities")
    with pytest.raises(ValidationError, match="latitude and longitude look swapped") as caught:
        import_file(conn, path, layer="water_facilities")
    assert "swapped.csv" in str(caught.value) and "row 2" in str(caught.value)
    assert storage.count_layer(conn, "water_facilities") == before


def test_projected_metres_without_a_crs_are_refused_with_the_zone_to_use(conn, registry, tmp_path):
    # a Shapefile whose .prj was lost: eastings carry the zone prefix 35 (3-degree zone, CM 105E)
    frame = gpd.GeoDataFrame({"村名": ["一村"], "乡镇": ["西镇"], "类别": ["贫困村"]},
                             geometry=[Point(35_505_000, 4_150_000)], crs=4523)
    pyogrio.write_dataframe(frame, tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    with pytest.raises(ValidationError, match="projected metres read as degrees.*zone prefix 35.*EPSG:4523"):
        import_file(conn, tmp_path / "noprj.shp", layer="villages")
    # with the CRS named, the same file imports
    report = import_file(conn, tmp_path / "noprj.shp", layer="villages", crs="EPSG:4523", dry_run=True)
    assert report.inserted == 0 and report.updated == 1  # 一村 exists: it is matched, not duplicated


def test_metres_in_longitude_latitude_columns_are_explained(conn, tmp_path):
    path = write_csv(tmp_path / "metres.csv", [WATER_HEADER + ["经度", "纬度"],
                                               ["W-1", "a", "机井", "正常运行", "505000", "4150000"]])
    with pytest.raises(ValidationError, match="projected metres read as degrees.*--crs"):
        import_file(conn, path, layer="water_facilities")


def test_points_outside_china_are_refused_with_the_cause(conn, tmp_path):
    path = write_csv(tmp_path / "paris.csv", [WATER_HEADER + ["经度", "纬度"],
                                              ["W-1", "a", "机井", "正常运行", "2.35", "48.85"]])
    with pytest.raises(ValidationError, match="outside China"):
        import_file(conn, path, layer="water_facilities")
    # one stray point among good ones is refused on its own row
    path = write_csv(tmp_path / "mixed.csv", [WATER_HEADER + ["经度", "纬度"],
                                              ["W-1", "a", "机井", "正常运行", "105.2", "37.5"],
                                              ["W-2", "b", "机井", "正常运行", "2.35", "48.85"]])
    report = import_file(conn, path, layer="water_facilities")
    assert report.inserted == 1 and report.refused_count == 1, report.to_json()
    assert report.refused[0].row == 3 and "outside China" in report.refused[0].reason


def test_a_missing_zone_prefix_is_detected(conn, registry, tmp_path):
    # the .prj says zone 35 with prefix (EPSG:4523), the eastings were written without it
    frame = gpd.GeoDataFrame({"村名": ["一村"], "乡镇": ["西镇"], "类别": ["贫困村"]},
                             geometry=[Point(505_000, 4_150_000)], crs=4523)
    pyogrio.write_dataframe(frame, tmp_path / "noprefix.shp")
    with pytest.raises(ValidationError, match="missing zone prefix.*EPSG:4544"):
        import_file(conn, tmp_path / "noprefix.shp", layer="villages")


def test_surveying_xy_columns_with_the_crs_option(conn, tmp_path):
    # Chinese surveying tables: X is the northing, Y the easting (with zone prefix here)
    x_north, y_east = 4_150_000.0, 35_505_000.0
    path = write_csv(tmp_path / "survey.csv", [WATER_HEADER + ["X坐标", "Y坐标"],
                                               ["W-9", "a", "机井", "正常运行", x_north, y_east]])
    report = import_file(conn, path, layer="water_facilities", crs="EPSG:4523")
    assert report.inserted == 1
    assert any("northings" in w.reason for w in report.warnings)
    point = storage.read_layer(conn, "water_facilities", where={"code": "W-9"}).geometry.iloc[0]
    expected = Transformer.from_crs(4523, 4326, always_xy=True).transform(y_east, x_north)
    assert metres((point.x, point.y), expected) < 0.5


def test_degrees_minutes_seconds_are_read(conn, tmp_path):
    path = write_csv(tmp_path / "dms.csv", [WATER_HEADER + ["经度", "纬度"],
                                            ["W-3", "a", "机井", "正常运行", "105°12′36″", "37°30′00″N"]])
    import_file(conn, path, layer="water_facilities")
    point = storage.read_layer(conn, "water_facilities", where={"code": "W-3"}).geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((105.21, 37.5), abs=1e-9)


def test_beijing_1954_is_refused_with_what_to_do():
    with pytest.raises(ValidationError, match="Beijing 1954.*7-parameter"):
        parse_crs("EPSG:4214")
    assert parse_crs("gcj02") == "gcj02" and parse_crs("BD-09") == "bd09"
    assert parse_crs("4544").to_epsg() == 4544


def test_gauss_kruger_zones_come_from_the_epsg_definitions():
    # EPSG:4544 is CGCS2000 / 3-degree GK CM 105E without prefix; 4523 the same zone with prefix 35
    assert gk_zone(central_meridian=105, width=3, prefixed=False).epsg == 4544
    assert gk_zone(zone=35, width=3, prefixed=True).epsg == 4523
    assert gk_zone(zone=18, width=6, prefixed=True).epsg == 4496  # 6-degree zone 18, CM 105E
    assert gk_zone(central_meridian=105, width=6, prefixed=False).epsg == 4507
    assert prefixed_zone(35_505_000).epsg == 4523 and prefixed_zone(18_500_000).epsg == 4496
    assert prefixed_zone(505_000) is None
    assert "swapped" in explain_outside(37.5, 105.2, CRS(4326))


@pytest.mark.parametrize(("x", "y", "crs", "expected"), [
    (37.5, 105.2, None, "latitude and longitude look swapped"),
    (35_505_000, 4_150_000, None, "zone prefix 35.*--crs EPSG:4523"),
    (505_000, 4_150_000, None, "without a zone prefix.*EPSG:4544"),
    (35_505_000, 4_150_000, 4544, "carries the zone prefix 35 but EPSG:4544.*has none.*EPSG:4523"),
    (505_000, 4_150_000, 4523, "missing zone prefix.*EPSG:4544"),
    (4_150_000, 35_505_000, 4523, "X and Y look swapped"),
    (105.2, 37.5, 32648, "look like degrees.*EPSG:4326"),
    (2.35, 48.85, 4326, "outside China"),
])
def test_every_out_of_china_case_has_its_explanation(x, y, crs, expected):
    import re

    text = explain_outside(x, y, CRS.from_epsg(crs) if crs else None)
    assert re.search(expected, text), text
