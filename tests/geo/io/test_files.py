"""Files that cannot be imported get one clear message; uploads are extracted safely."""

from __future__ import annotations

import csv
import stat
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from geo import storage
from geo.errors import ValidationError
from geo.io import ExtractLimits, check_file_size, import_file, safe_extract_zip
from tests.geo.io.conftest import snapshot


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_an_empty_file(conn, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ValidationError, match=r"empty\.csv: the file is empty"):
        import_file(conn, tmp_path / "empty.csv", layer="villages")
    write_csv(tmp_path / "header.csv", [["村名", "乡镇", "贫困村类别"]])
    with pytest.raises(ValidationError, match="header but no rows"):
        import_file(conn, tmp_path / "header.csv", layer="villages")
    (tmp_path / "none.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(ValidationError, match="holds no features"):
        import_file(conn, tmp_path / "none.geojson", layer="roads")


def test_a_zip_without_a_shapefile(conn, tmp_path):
    archive = tmp_path / "道路.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("道路.dbf", b"\x03" + b"\x00" * 31)
        handle.writestr("道路.prj", "GEOGCS[]")
        handle.writestr("说明.txt", "道路数据")
    with pytest.raises(ValidationError, match=r"道路\.zip holds no \.shp file \(it has: 说明\.txt, 道路\.dbf, 道路\.prj\); a zipped Shapefile needs"):
        import_file(conn, archive, layer="roads")
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as handle:
        handle.writestr("readme.txt", "nothing here")
    with pytest.raises(ValidationError, match="holds no .shp file or other data file"):
        import_file(conn, tmp_path / "notes.zip", layer="roads")


def test_a_zipped_shapefile_with_gbk_member_names_imports(conn, registry, tmp_path):
    frame = gpd.GeoDataFrame({"村名": ["七村"], "乡镇": ["西镇"], "类别": ["贫困村"]},
                             geometry=[Point(105.11, 37.41)], crs=4326)
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(frame, folder / "村.shp")
    archive = tmp_path / "村.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for part in sorted(folder.iterdir()):
            info = zipfile.ZipInfo("村".encode("gbk").decode("cp437") + part.suffix)  # a Chinese Windows zip tool
            handle.writestr(info, part.read_bytes())
    report = import_file(conn, archive, layer="villages")
    assert report.inserted == 1 and report.format == "zip/shp"


def test_a_csv_without_coordinate_columns(conn, tmp_path):
    path = write_csv(tmp_path / "wells.csv", [["设施编号", "设施名称", "设施类型", "运行状态"], ["W-1", "井", "机井", "正常运行"]])
    with pytest.raises(ValidationError, match=r"wells\.csv has no coordinate columns \(经度 and 纬度.*water_facilities"):
        import_file(conn, path, layer="water_facilities")
    half = write_csv(tmp_path / "half.csv", [["设施编号", "设施类型", "运行状态", "经度"], ["W-1", "机井", "正常运行", "105.1"]])
    with pytest.raises(ValidationError, match="has a 经度 column but no 纬度 column"):
        import_file(conn, half, layer="water_facilities")


def test_a_gbk_file_read_as_utf8(conn, registry, tmp_path):
    path = write_csv(tmp_path / "村.csv", [["村名", "乡镇", "贫困村类别"], ["八村", "西镇", "贫困村"]], encoding="gbk")
    with pytest.raises(ValidationError, match=r"村\.csv is not UTF-8 text: line 1 has the byte 0x.. .*--encoding gbk"):
        import_file(conn, path, layer="villages", encoding="utf-8")
    report = import_file(conn, path, layer="villages")  # detected when not named
    assert report.inserted == 1 and report.encoding.startswith("GBK")
    assert storage.count_layer(conn, "villages", where={"name": "八村"}) == 1


def test_unknown_and_old_formats(conn, tmp_path):
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ValidationError, match=r"\.xls files are not read; save it as \.xlsx"):
        import_file(conn, tmp_path / "a.xls", layer="villages")
    (tmp_path / "a.dwg").write_bytes(b"AC1015")
    with pytest.raises(ValidationError, match="unknown file type '.dwg'"):
        import_file(conn, tmp_path / "a.dwg", layer="villages")
    (tmp_path / "fake.xlsx").write_text("not a workbook")
    with pytest.raises(ValidationError, match="not a readable XLSX workbook"):
        import_file(conn, tmp_path / "fake.xlsx", layer="villages")
    with pytest.raises(ValidationError, match="no such file"):
        import_file(conn, tmp_path / "missing.csv", layer="villages")


def test_a_shapefile_missing_its_dbf(conn, tmp_path):
    frame = gpd.GeoDataFrame({"code": ["R1"]}, geometry=[Point(105.1, 37.5)], crs=4326)
    pyogrio.write_dataframe(frame, tmp_path / "r.shp")
    (tmp_path / "r.dbf").unlink()
    with pytest.raises(ValidationError, match=r"r\.shp has no r\.dbf beside it"):
        import_file(conn, tmp_path / "r.shp", layer="water_facilities")


# ---------------------------------------------------------------------- safe extraction


def _zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        for name, data in members.items():
            handle.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            handle.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt", "C:\\evil.txt"])
def test_zip_members_outside_the_folder_are_refused(tmp_path, name):
    archive = _zip(tmp_path / "bad.zip", {"ok.txt": b"1", name: b"x"})
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ValidationError, match="outside the extraction folder"):
        safe_extract_zip(archive, target)
    assert not (tmp_path / "evil.txt").exists()


def test_zip_symlinks_and_bombs_are_refused(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(ValidationError, match="symbolic link"):
        safe_extract_zip(_zip(tmp_path / "link.zip", {}, symlink="link"), target)
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.csv": b"0" * (20 * 1024 * 1024)})
    with pytest.raises(ValidationError, match="decompression bomb"):
        safe_extract_zip(bomb, target)
    with pytest.raises(ValidationError, match="expands to"):
        safe_extract_zip(bomb, target, limits=ExtractLimits(max_total_bytes=1024 * 1024, max_ratio=1e9))
    written = safe_extract_zip(bomb, target, limits=ExtractLimits(max_ratio=1e9))
    assert [p.name for p in written] == ["zeros.csv"]
    with pytest.raises(ValidationError, match="not a zip"):
        safe_extract_zip(_plain(tmp_path / "x.zip"), target)


def _plain(path: Path) -> Path:
    path.write_bytes(b"not a zip")
    return path


def test_upload_sizes(tmp_path):
    (tmp_path / "big.csv").write_bytes(b"x" * 2048)
    assert check_file_size(tmp_path / "big.csv", max_bytes=4096) == 2048
    with pytest.raises(ValidationError, match="larger than the limit"):
        check_file_size(tmp_path / "big.csv", max_bytes=1024)
    (tmp_path / "zero.csv").write_bytes(b"")
    with pytest.raises(ValidationError, match="empty"):
        check_file_size(tmp_path / "zero.csv", max_bytes=1024)


def test_a_refused_zip_writes_nothing(conn, tmp_path):
    before = snapshot(conn)
    archive = _zip(tmp_path / "bad.zip", {"../x.shp": b"1"})
    with pytest.raises(ValidationError):
        import_file(conn, archive, layer="roads")
    assert snapshot(conn) == before


def test_a_workbook_of_many_sheets_is_opened_once(conn, tmp_path, monkeypatch):
    """Every read of every sheet (headers, layout, rows) uses one opening of the workbook: opening
    parses all its shared strings, and once per read made a form of 69 sheets quadratic."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表为测试数据"])
    for number in range(1, 9):
        sheet = book.create_sheet(f"表{number}")
        sheet.append(["单位名称", "单位类型"])
        sheet.append([f"测试单位{number}", "党政机关"])
    path = tmp_path / "units.xlsx"
    book.save(path)
    real = openpyxl.load_workbook
    opened: list[str] = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda file, **options: opened.append(str(file)) or real(file, **options))
    report = import_file(conn, path, layer="units", sheet="表3")
    assert report.inserted == 1 and report.sheet == "表3"
    assert opened == [str(path)]
