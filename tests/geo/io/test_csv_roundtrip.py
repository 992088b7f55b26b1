"""CSV in and out: quotes, commas, line breaks and formula-like text survive an import and an
export (RFC 4180 both ways), formula-like text is guarded in the export, and the export reads
back as the same rows, on SpatiaLite and PostGIS."""

from __future__ import annotations

import csv

from geo import storage
from geo.io import export_layer, import_file

#: name -> what a spreadsheet must show after the export (a leading ' makes it text)
NAMES = {
    "C-1": ('阳光"扶贫"组', '阳光"扶贫"组'),
    "C-2": ("一号,二号", "一号,二号"),
    "C-3": ("上井\n下井", "上井\n下井"),
    "C-4": ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    "C-5": ("+86 井", "'+86 井"),
    "C-6": ("-2 号井", "'-2 号井"),
    "C-7": ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    "C-8": ('"引号"开头, 还有逗号', '"引号"开头, 还有逗号'),
}
HEADER = ["设施编号", "设施名称", "设施类型", "运行状态", "供水能力", "经度", "纬度"]


def _write(path, rows):
    # written by hand, as RFC 4180 says: every field quoted, quotes doubled, CRLF
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for row in rows:
            handle.write(",".join('"' + str(v).replace('"', '""') + '"' for v in row) + "\r\n")


def test_quotes_commas_newlines_and_formulas_round_trip(conn, tmp_path):
    source = tmp_path / "wells.csv"
    rows = [[code, name, "机井", "正常运行", 12.5 + i, 105.2 + i * 0.001, 37.5]
            for i, (code, (name, _)) in enumerate(NAMES.items())]
    _write(source, [HEADER, *rows])

    report = import_file(conn, source, layer="water_facilities", strict=True)
    assert report.committed and report.inserted == len(NAMES), report.refused
    stored = storage.read_layer(conn, "water_facilities").set_index("code")
    for code, (name, _) in NAMES.items():
        assert stored.loc[code, "name"] == name  # stored as written: no quote doubled, no apostrophe

    out = tmp_path / "out.csv"
    export_layer(conn, "water_facilities", out)
    with open(out, encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.DictReader(handle))
    by_code = {row["设施编号"]: row for row in exported}
    for code, (_, shown) in NAMES.items():
        assert by_code[code]["设施名称"] == shown
    numbers = [by_code[code]["供水能力（立方米/日）"] for code in NAMES]
    assert numbers == [f"{12.5 + i}" for i in range(len(NAMES))]  # numbers are never guarded

    again = import_file(conn, out, layer="water_facilities", strict=True)
    assert again.committed and again.unchanged == len(NAMES) and again.inserted == again.updated == 0
