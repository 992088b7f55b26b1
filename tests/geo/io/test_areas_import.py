"""Importing areas and two counties' townships and villages from CSV with Chinese headers."""

from __future__ import annotations

import pytest

from geo import storage
from geo.errors import ValidationError
from geo.io import import_file


def _csv(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_areas_townships_and_villages_of_two_counties_from_chinese_csv(conn, tmp_path):
    areas = import_file(conn, _csv(tmp_path / "areas.csv", "区划代码,区划名称,几何（WKT）\n"
                                   "640521,中宁县,\"POLYGON ((105.5 37.4, 105.7 37.4, 105.7 37.6, 105.5 37.6, 105.5 37.4))\"\n"
                                   "640000,宁夏回族自治区,\n640500,中卫市,\n"
                                   "640502,沙坡头区,\"POLYGON ((105.0 37.4, 105.5 37.4, 105.5 37.6, 105.0 37.6, 105.0 37.4))\"\n"),
                        layer="areas", strict=True)
    assert areas.committed, areas.refused[:3]
    stored = storage.read_layer(conn, "areas").set_index("code")
    assert stored.loc["640521", "parent_name"] == "中卫市" and stored.loc["640500", "level"] == "prefecture"

    towns = import_file(conn, _csv(tmp_path / "towns.csv", "乡镇名称,区县\n城关镇,沙坡头区\n城关镇,中宁县\n"),
                        layer="townships", strict=True)
    assert towns.committed, towns.refused[:3]
    villages = import_file(conn, _csv(tmp_path / "villages.csv",
                                      "村名,乡镇,区县,贫困村类别\n红柳村,城关镇,沙坡头区,贫困村\n红柳村,城关镇,中宁县,重点贫困村\n"),
                           layer="villages", strict=True)
    assert villages.committed, villages.refused[:3]
    found = storage.read_layer(conn, "villages", area="中宁县")
    assert list(found["category"]) == ["key_poor"] and list(found["county_name"]) == ["中宁县"]

    # without the 区县 column the repeated township name is refused, naming the fix
    again = import_file(conn, _csv(tmp_path / "again.csv", "村名,乡镇,贫困村类别\n白杨村,城关镇,贫困村\n"),
                        layer="villages", strict=True)
    assert not again.committed
    assert "区县" in again.refused[0].reason


def test_a_county_file_with_overlapping_boundaries_writes_nothing(conn, tmp_path):
    path = _csv(tmp_path / "areas.csv", "区划代码,区划名称,几何（WKT）\n"
                "640502,沙坡头区,\"POLYGON ((105.0 37.4, 105.5 37.4, 105.5 37.6, 105.0 37.6, 105.0 37.4))\"\n"
                "640521,中宁县,\"POLYGON ((105.3 37.4, 105.7 37.4, 105.7 37.6, 105.3 37.6, 105.3 37.4))\"\n")
    with pytest.raises(ValidationError, match=r"areas.csv: areas row 1 \(沙坡头区 640502\): its boundary overlaps "
                                              r"areas row 2 \(中宁县 640521\)"):
        import_file(conn, path, layer="areas", strict=True)
    assert storage.count_layer(conn, "areas") == 0
