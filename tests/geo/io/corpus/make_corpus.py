"""A corpus of bad import files, made by code (no hand-edited binaries).

``python -m tests.geo.io.corpus.make_corpus FOLDER`` writes every file into FOLDER and prints
one line per case. :func:`make_corpus` is what ``tests/api/test_import_corpus.py`` calls: each
:class:`Case` names its file, the target layer and options, the HTTP status ``POST
/api/imports`` must answer, and the words the message must hold (the file's name, the row,
the field). ``atlas import --strict`` must exit 1 for every case, and neither must change a
table or show a traceback or any of :data:`PERSONAL` (household heads' names and ID numbers
written into some of the files).

Families: text encodings, table structure, CSV quoting, file types, geometries and
coordinates, CRSs, repeated keys, numbers and counts, control characters, personal fields,
zip archives (slip, bombs, member layout, nesting), Shapefiles.
"""

from __future__ import annotations

import io
import json
import stat
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Values that must never appear in a message (they are in the files as a head's name/ID).
PERSONAL = ("黄某测", "640502198003260000", "杨某试", "640502199208100000")

WATER = ["设施编号", "设施名称", "设施类型", "运行状态", "经度", "纬度"]
GOOD = ["C-1", "机井", "机井", "正常运行", 105.2, 37.5]
VILLAGES = ["村名", "乡镇", "人口", "户数", "建档立卡户数", "经度", "纬度"]
VILLAGE = ["上石硼村", "常乐镇", 1000, 300, 50, 105.21, 37.25]
HOUSEHOLDS = ["户编号", "行政村", "乡镇", "户主姓名", "身份证号", "农户类型", "家庭人口", "经度", "纬度"]
HOUSEHOLD = ["C-H1", "上石硼村", "常乐镇", PERSONAL[0], PERSONAL[1], "已脱贫", 4, 105.21, 37.25]
MiB = 1024 * 1024


@dataclass
class Case:
    """One bad file and what the atlas must answer."""

    name: str
    layer: str
    status: int
    words: tuple[str, ...]
    options: dict[str, str] = field(default_factory=dict)
    family: str = ""

    @property
    def id(self) -> str:
        return self.name


def _csv(rows: list[list[object]], *, encoding: str = "utf-8") -> bytes:
    """Rows as RFC 4180 CSV (quotes doubled, fields with , " or line breaks quoted)."""
    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        if any(c in text for c in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        return text

    return "".join(",".join(cell(v) for v in row) + "\r\n" for row in rows).encode(encoding)


def _geojson(features: list[tuple[dict | None, dict]], **extra) -> bytes:
    return json.dumps({"type": "FeatureCollection", **extra, "features": [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in features]}, ensure_ascii=False).encode()


def _point(lon: float = 105.2, lat: float = 37.5) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def _well(code: str = "C-G1", **changes) -> dict:
    return {"设施编号": code, "设施名称": "机井", "设施类型": "机井", "运行状态": "正常运行", **changes}


def _zip(members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a repeated member name, on purpose
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _xlsx(rows: list[list[object]], *, title: str = "Sheet1") -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _shapefile(folder: Path, stem: str, *, prj: str | None = None, text: str = "机井", cpg: str | None = None,
               encoding: str = "UTF-8") -> dict[str, bytes]:
    """The files of a one-point Shapefile (made with pyogrio), as ``{name: bytes}``."""
    import geopandas as gpd
    from shapely.geometry import Point

    work = folder / f".{stem}"
    work.mkdir(parents=True, exist_ok=True)
    frame = gpd.GeoDataFrame({"code": ["C-S1"], "name": [text], "kind": ["机井"], "status": ["正常运行"]},
                             geometry=[Point(105.2, 37.5)], crs=None)
    frame.to_file(work / f"{stem}.shp", engine="pyogrio", encoding=encoding)
    files = {p.name: p.read_bytes() for p in sorted(work.iterdir())}
    files.pop(f"{stem}.prj", None)
    files.pop(f"{stem}.cpg", None)
    if prj is not None:
        files[f"{stem}.prj"] = prj.encode()
    if cpg is not None:
        files[f"{stem}.cpg"] = cpg.encode()
    for p in work.iterdir():
        p.unlink()
    work.rmdir()
    return files


def _beijing_1954_prj() -> str:
    from pyproj import CRS

    return CRS.from_epsg(2431).to_wkt("WKT1_ESRI")


def make_corpus(folder: str | Path | None) -> list[Case]:
    """Write every bad file into ``folder`` (None: write nothing); return the cases."""
    if folder is not None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def add(name: str, content: bytes | Callable[[], bytes], layer: str, status: int, *words: str, family: str,
            named: bool = True, **options: str) -> None:
        if folder is not None:  # the larger files are made only when written
            (folder / name).write_bytes(content() if callable(content) else content)
        cases.append(Case(name, layer, status, ((name,) if named else ()) + words, dict(options), family))

    # ------------------------------------------------------------------ text encodings
    gbk_rows = _csv([WATER, ["C-E1", "机井一号", "机井", "正常运行", 105.2, 37.5]], encoding="gb18030")
    add("gbk_named_utf8.csv", gbk_rows, "water_facilities", 422, "line 1", "--encoding gbk", family="encoding",
        encoding="utf-8")
    add("neither_utf8_nor_gbk.csv", _csv([WATER]) + b"C-E2,\xff\xfe\xff\xfe,\x80\x80,x,105.2,37.5\r\n",
        "water_facilities", 422, "neither UTF-8 nor GBK", family="encoding")
    add("unknown_encoding.csv", _csv([WATER, GOOD]), "water_facilities", 422, "klingon", family="encoding",
        encoding="klingon")
    add("utf16.csv", "\ufeff".encode("utf-16-le") + "设施编号,设施名称\r\n".encode("utf-16-le"),
        "water_facilities", 422, "neither UTF-8 nor GBK", family="encoding")
    add("gbk.geojson", _geojson([(_point(), _well())]).decode().encode("gb18030"), "water_facilities", 422,
        "UTF-8", family="encoding")

    # ------------------------------------------------------------------ table structure
    add("empty.csv", b"", "water_facilities", 422, "empty", family="structure")
    add("header_only.csv", _csv([WATER]), "water_facilities", 422, "no data rows", family="structure")
    add("blank_lines.csv", b"\r\n\r\n,,\r\n", "water_facilities", 422, "empty", family="structure")
    add("no_header.csv", _csv([[1, 2, 3], [4, 5, 6]]), "water_facilities", 422, "no header row", "经度",
        family="structure")
    add("longitude_without_latitude.csv", _csv([WATER[:5], GOOD[:5]]), "water_facilities", 422, "经度", "纬度",
        family="structure")
    add("no_coordinates.csv", _csv([WATER[:4], GOOD[:4]]), "water_facilities", 422, "no coordinate columns",
        family="structure")
    add("two_columns_one_field.csv", _csv([WATER + ["名称"], GOOD + ["井"]]), "water_facilities", 422,
        "both give", family="structure")
    add("map_unknown_column.csv", _csv([WATER, GOOD]), "water_facilities", 422, "--map", "井名",
        family="structure", map="井名=name")
    add("wrong_layer.csv", _csv([WATER, GOOD]), "water_facility", 404, "unknown layer", "water_facility",
        family="structure", named=False)
    add("no_such_sheet.xlsx", _xlsx([WATER, GOOD]), "water_facilities", 422, "no sheet", "水井",
        family="structure", sheet="水井")
    add("xlsx_header_only.xlsx", _xlsx([WATER]), "water_facilities", 422, "no data rows", family="structure")

    # ------------------------------------------------------------------ CSV quoting
    add("unterminated_quote.csv", _csv([WATER]) + 'C-Q1,"机井,机井,正常运行,105.2,37.5\r\n'.encode(), "water_facilities",
        422, "line", "not a valid CSV row", family="quoting")
    add("stray_quote.csv", _csv([WATER]) + 'C-Q2,"机井"x,机井,正常运行,105.2,37.5\r\n'.encode(), "water_facilities", 422,
        "line 2", "not a valid CSV row", family="quoting")
    add("quoted_comma_bad_enum.csv", _csv([WATER, ["C-Q3", "井,一号", "机井,水塔", "正常运行", 105.2, 37.5]]),
        "water_facilities", 422, "row 2", "设施类型", family="quoting")
    add("doubled_quotes_too_long.csv", _csv([WATER, ["C-Q4", 'A"' * 120, "机井", "正常运行", 105.2, 37.5]]),
        "water_facilities", 422, "row 2", "设施名称", "longer than", family="quoting")

    # ------------------------------------------------------------------ file types
    add("drawing.dwg", b"AC1027 binary", "water_facilities", 422, "unknown file type", family="type")
    add("old_excel.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "water_facilities", 422, ".xlsx",
        family="type")
    add("text_as.xlsx", b"this is not a workbook", "water_facilities", 422, "not a readable XLSX", family="type")
    add("text_as.gpkg", b"this is not a geopackage", "water_facilities", 422, "cannot be", family="type")
    add("broken.geojson", b'{"type": "FeatureCollection", "features": [', "water_facilities", 422, "cannot be",
        family="type")
    add("broken.kml", b"<?xml version='1.0'?><kml><Document><Placemark><name>x", "water_facilities", 422,
        "cannot be", family="type")
    add("no_features.geojson", _geojson([]), "water_facilities", 422, "no features", family="type")

    # ------------------------------------------------------------------ geometries and coordinates
    add("bad_wkt.csv", _csv([["设施编号", "设施名称", "设施类型", "运行状态", "WKT"],
                             ["C-W1", "井", "机井", "正常运行", "POINT (105.2 37.5"]]),
        "water_facilities", 422, "row 2", "WKT", family="geometry")
    add("point_as_road.geojson", _geojson([(_point(), {"道路编号": "C-R1", "道路名称": "路", "道路等级": "村道"})]),
        "roads", 422, "feature 1", family="geometry")
    add("bowtie_township.csv", _csv([["乡镇代码", "乡镇", "WKT"],
                                      ["640502999", "测试镇", "POLYGON ((105 37, 105.1 37.1, 105.1 37, 105 37.1, 105 37))"]]),
        "townships", 422, "row 2", family="geometry")
    add("outside_china.geojson", _geojson([(_point(10.0, 50.0), _well())]), "water_facilities", 422, "outside China",
        family="geometry")
    add("swapped_lonlat.csv", _csv([WATER, ["C-W2", "井", "机井", "正常运行", 37.5, 105.2]]), "water_facilities", 422,
        "swapped", family="geometry")
    add("one_coordinate.csv", _csv([WATER, GOOD, ["C-W3", "井", "机井", "正常运行", 105.3, None]]),
        "water_facilities", 422, "row 3", "only one of the two coordinates", family="geometry")
    add("longitude_not_a_number.csv", _csv([WATER, GOOD, ["C-W4", "井", "机井", "正常运行", "东经一百零五", 37.5]]),
        "water_facilities", 422, "row 3", "经度", "not a number", family="geometry")
    add("null_geometry.geojson", _geojson([(None, _well("C-W5"))]), "water_facilities", 422, "feature 1",
        family="geometry")
    add("xy_without_crs.csv", _csv([["设施编号", "设施名称", "设施类型", "运行状态", "X", "Y"],
                                     ["C-W6", "井", "机井", "正常运行", 518000.0, 4150000.0]]),
        "water_facilities", 422, "no CRS", family="geometry")

    # ------------------------------------------------------------------ CRSs
    degrees = _csv([WATER, GOOD])
    add("crs_beijing1954.csv", degrees, "water_facilities", 422, "Beijing 1954", family="crs", crs="EPSG:4214")
    add("crs_towgs84.csv", degrees, "water_facilities", 422, "custom", "EPSG", family="crs",
        crs="+proj=longlat +towgs84=999,999,999")
    add("crs_nadgrids.csv", degrees, "water_facilities", 422, "custom", "EPSG", family="crs",
        crs="+proj=longlat +nadgrids=/etc/passwd")
    add("crs_nonsense.csv", degrees, "water_facilities", 422, "not a coordinate reference system", family="crs",
        crs="EPSG:99999999")
    add("crs_wrong_zone.geojson", _geojson([(_point(), _well())]), "water_facilities", 422, "EPSG:4544",
        family="crs", crs="EPSG:4544")
    add("crs_custom_mercator.csv", degrees, "water_facilities", 422, "custom", family="crs",
        crs="+proj=merc +lon_0=105 +ellps=GRS80")

    # ------------------------------------------------------------------ repeated keys
    add("repeated_code.csv", _csv([WATER, GOOD, ["C-1", "井二", "机井", "正常运行", 105.21, 37.5]]),
        "water_facilities", 422, "row 3", "设施编号", "row 2", family="keys")
    many = [WATER] + [[f"C-K{i}", "井", "机井", "正常运行", 105.2 + i * 1e-4, 37.5] for i in range(300)]
    many.append(["C-K7", "井", "机井", "正常运行", 105.25, 37.5])
    add("repeated_code_far_apart.csv", _csv(many), "water_facilities", 422, "row 302", "row 9", family="keys")
    add("repeated_household.csv", _csv([HOUSEHOLDS, HOUSEHOLD, ["C-H1", *HOUSEHOLD[1:3], PERSONAL[2], PERSONAL[3],
                                                               "已脱贫", 3, 105.21, 37.25]]),
        "households", 422, "row 3", "户编号", family="keys")

    # ------------------------------------------------------------------ numbers and counts
    add("capacity_not_a_number.csv", _csv([WATER + ["供水能力"], GOOD + ["很多"]]), "water_facilities", 422,
        "row 2", "not a number", family="numbers")
    add("negative_population.csv", _csv([VILLAGES, ["上石硼村", "常乐镇", -5, 300, 50, 105.21, 37.25]]), "villages",
        422, "row 2", "人口", "negative", family="numbers")
    add("negative_households.csv", _csv([VILLAGES, ["上石硼村", "常乐镇", 1000, -1, 0, 105.21, 37.25]]), "villages",
        422, "row 2", "户数", "negative", family="numbers")
    add("huge_int.csv", _csv([VILLAGES, ["上石硼村", "常乐镇", 10**30, 300, 50, 105.21, 37.25]]), "villages", 422,
        "row 2", "人口", "larger than", family="numbers")
    add("beyond_int32.csv", _csv([VILLAGES, ["上石硼村", "常乐镇", 3_000_000_000, 300, 50, 105.21, 37.25]]),
        "villages", 422, "row 2", "人口", family="numbers")
    add("huge_int.geojson", b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":'
        b'{"type":"Point","coordinates":[105.21,37.25]},"properties":{"\xe6\x9d\x91\xe5\x90\x8d":"\xe4\xb8\x8a\xe7'
        b'\x9f\xb3\xe7\xa1\xbc\xe6\x9d\x91","\xe4\xb9\xa1\xe9\x95\x87":"\xe5\xb8\xb8\xe4\xb9\x90\xe9\x95\x87",'
        b'"population":123456789012345678901234567890}}]}', "villages", 422, "feature 1", family="numbers")
    add("huge_int.xlsx", _xlsx([VILLAGES, ["上石硼村", "常乐镇", 10**20, 300, 50, 105.21, 37.25]]), "villages", 422,
        "row 2", "人口", family="numbers")
    add("infinite.csv", _csv([WATER + ["供水能力"], GOOD + ["1e400"]]), "water_facilities", 422, "row 2",
        "too large", family="numbers")
    add("fraction_population.csv", _csv([VILLAGES, ["上石硼村", "常乐镇", 10.5, 3, 1, 105.21, 37.25]]), "villages",
        422, "row 2", "人口", "whole number", family="numbers")
    add("households_above_population.csv", _csv([VILLAGES, ["上石硼村", "常乐镇", 100, 300, 50, 105.21, 37.25]]),
        "villages", 422, "row 2", "户数", "人口", family="numbers")
    add("poor_above_households.csv", _csv([VILLAGES, ["上石硼村", "常乐镇", 1000, 30, 50, 105.21, 37.25]]),
        "villages", 422, "row 2", "建档立卡户数", "户数", family="numbers")
    add("bad_enum.csv", _csv([WATER, ["C-N1", "井", "水塔", "正常运行", 105.2, 37.5]]), "water_facilities", 422,
        "row 2", "设施类型", "水塔", family="numbers")
    add("bad_boolean.csv", _csv([WATER + ["饮用水"], GOOD + ["也许"]]), "water_facilities", 422, "row 2",
        "not yes/no", family="numbers")
    add("negative_members.csv", _csv([HOUSEHOLDS, [*HOUSEHOLD[:6], -4, *HOUSEHOLD[7:]]]), "households", 422,
        "row 2", "家庭人口", family="numbers")

    # ------------------------------------------------------------------ control characters
    for name, char in (("nul", "\x00"), ("escape", "\x1b"), ("bell", "\x07"), ("c1", "\x85"), ("del", "\x7f")):
        add(f"control_{name}.csv", _csv([WATER, ["C-X1", f"机{char}井", "机井", "正常运行", 105.2, 37.5]]),
            "water_facilities", 422, "row 2", "设施名称", f"U+{ord(char):04X}", family="control")
    add("control_in_township.csv", _csv([VILLAGES, ["上石硼村", "常乐\x00镇", 1000, 300, 50, 105.21, 37.25]]),
        "villages", 422, "row 2", "乡镇", "U+0000", family="control")
    add("control_in_head_name.csv", _csv([HOUSEHOLDS, [*HOUSEHOLD[:3], PERSONAL[0] + "\x00", *HOUSEHOLD[4:]]]),
        "households", 422, "row 2", "户主姓名", "U+0000", family="control")
    add("control.geojson", _geojson([(_point(), _well(设施名称="机\u001b井"))]), "water_facilities", 422,
        "feature 1", "U+001B", family="control")

    # ------------------------------------------------------------------ personal fields
    add("household_bad_status.csv", _csv([HOUSEHOLDS, [*HOUSEHOLD[:5], "富裕户", *HOUSEHOLD[6:]]]), "households",
        422, "row 2", "农户类型", family="personal")
    add("household_long_name.csv", _csv([HOUSEHOLDS, [*HOUSEHOLD[:3], PERSONAL[0] * 40, *HOUSEHOLD[4:]]]),
        "households", 422, "row 2", "户主姓名", "personal data", family="personal")
    add("household_long_id.csv", _csv([HOUSEHOLDS, [*HOUSEHOLD[:4], PERSONAL[1] * 5, *HOUSEHOLD[5:]]]),
        "households", 422, "row 2", "身份证号", family="personal")

    # ------------------------------------------------------------------ zip archives
    well = _geojson([(_point(), _well("C-Z1"))])
    add("slip.zip", _zip([("../../evil.geojson", well)]), "water_facilities", 422, "outside the extraction folder",
        family="zip")
    add("absolute.zip", _zip([("/etc/evil.geojson", well)]), "water_facilities", 422, "outside the extraction folder",
        family="zip")
    add("bomb_one_member.zip", lambda: _zip([("zeros.csv", b"0" * (20 * MiB))]), "water_facilities", 413,
        "decompression bomb", family="zip")
    add("bomb_many_members.zip", lambda: _zip([(f"part{i:03}.csv", b"0" * MiB) for i in range(40)]), "water_facilities",
        413, "decompression bomb", "40 members", family="zip")
    add("too_many_members.zip", lambda: _zip([(f"f{i}.txt", b"") for i in range(10_001)]), "water_facilities", 413,
        "10001 entries", "limit of 10000", family="zip")
    add("file_then_folder.zip", _zip([("a", b"x"), ("a/x.geojson", well)]), "water_facilities", 422, "'a'",
        family="zip")
    add("repeated_member.zip", _zip([("w.geojson", well), ("w.geojson", well)]), "water_facilities", 422,
        "appears twice", family="zip")
    add("nested.zip", _zip([("inner.zip", _zip([("w.geojson", well)]))]), "water_facilities", 422,
        "no .shp file or other data file", family="zip")
    link = zipfile.ZipInfo("link.geojson")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    add("symlink.zip", _zip([(link, b"/etc/passwd")]), "water_facilities", 422, "symbolic link", family="zip")
    add("not_a.zip", b"PK but not really a zip archive", "water_facilities", 422, "not a zip", family="zip")
    add("empty_archive.zip", _zip([]), "water_facilities", 422, "holds no", family="zip")
    add("two_data_files.zip", _zip([("a.geojson", well), ("b.geojson", well)]), "water_facilities", 422,
        "several data files", family="zip")

    # ------------------------------------------------------------------ Shapefiles
    def shapefile_zip(leave_out: str = "", **options) -> Callable[[], bytes]:
        return lambda: _zip([(n, d) for n, d in _shapefile(folder, "wells", **options).items()
                             if not (leave_out and n.endswith(leave_out))])

    add("shapefile_without_shp.zip", shapefile_zip(".shp"), "water_facilities", 422, "no .shp", family="shapefile")
    add("shapefile_without_dbf.zip", shapefile_zip(".dbf"), "water_facilities", 422, ".dbf", family="shapefile")
    add("shapefile_beijing1954.zip", lambda: shapefile_zip(prj=_beijing_1954_prj())(), "water_facilities", 422,
        "Beijing 1954", family="shapefile")
    add("shapefile_gbk_says_utf8.zip", shapefile_zip(text="机井一号", encoding="GB18030", cpg="UTF-8"),
        "water_facilities", 422, "not UTF-8", family="shapefile")
    return cases


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m tests.geo.io.corpus.make_corpus FOLDER")
    for case in make_corpus(argv[0]):
        print(f"{case.family:<10} {case.name:<36} {case.layer:<17} {case.status}  {case.options or ''}")


if __name__ == "__main__":
    main(sys.argv[1:])
