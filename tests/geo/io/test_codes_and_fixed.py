"""Statistical codes as county files carry them (a township's 9 digits padded to 12 with 000)
and ``--set`` values given to every row of a file without attributes (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo import storage
from geo.errors import ValidationError
from geo.io.importer import import_file
from tests.geo.io.test_files import write_csv


def test_a_12_digit_township_code_ending_in_000_is_stored_as_9(conn, registry, tmp_path):
    path = write_csv(tmp_path / "towns.csv", [["乡镇代码", "乡镇名称"],
                                              ["640502102000", "南镇"],     # 统计用区划代码: 9 digits + 000
                                              ["640502103", "北镇"],        # 9 digits
                                              ["640502104123", "错镇"],     # 12 digits, not ...000
                                              ["6405021", "短镇"]])         # 7 digits
    report = import_file(conn, path, layer="townships")
    assert report.inserted == 2
    reasons = {r.row: r.reason for r in report.refused}
    assert set(reasons) == {4, 5}
    assert "'640502104123' has 12 digits but does not end in 000" in reasons[4]
    assert "longer than" not in reasons[4]  # one reason, not two
    assert "'6405021' has 7 digits" in reasons[5]
    codes = dict(zip(*storage.read_layer(conn, "townships")[["name", "code"]].T.values))
    assert codes["南镇"] == "640502102" and codes["北镇"] == "640502103"


def test_villages_find_their_township_by_a_12_digit_code_and_need_12_digit_codes(conn, registry, tmp_path):
    path = write_csv(tmp_path / "villages.csv", [["村代码", "村名", "乡镇代码", "贫困村类别"],
                                                 ["640502100009", "九村", "640502100000", "贫困村"],
                                                 ["64050210009", "短村", "640502100", "贫困村"]])
    report = import_file(conn, path, layer="villages")
    assert report.inserted == 1
    assert "'64050210009' has 11 digits; a village's statistical code has 12 digits" in report.refused[0].reason
    stored = storage.read_layer(conn, "villages", where={"code": "640502100009"})
    assert stored["township_id"].iloc[0] == registry["towns"][0]


def _bare_points(path: Path) -> Path:
    features = [{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [105.1 + k / 100,
                                                                                                     37.5]}}
                for k in range(3)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_set_gives_every_row_of_a_file_without_attributes_a_value(conn, registry, tmp_path):
    path = _bare_points(tmp_path / "wells.geojson")
    before = storage.count_layer(conn, "water_facilities")
    report = import_file(conn, path, layer="water_facilities", fixed=["设施类型=机井", "status=working",
                                                                      "is_drinking=是"])
    assert report.inserted == 3 and report.refused_count == 0
    stored = storage.read_layer(conn, "water_facilities")
    assert len(stored) == before + 3
    assert set(stored["kind"].astype(str)) == {"well"} and set(stored["status"].astype(str)) == {"working"}
    assert stored["is_drinking"].all()


def test_set_values_are_checked_like_cells_and_fields_must_exist(conn, registry, tmp_path):
    path = _bare_points(tmp_path / "wells.geojson")
    report = import_file(conn, path, layer="water_facilities", fixed={"kind": "水井"})
    assert report.inserted == 0 and report.refused_count == 3
    assert "设施类型 '水井' is not one of" in report.refused[0].reason
    with pytest.raises(ValidationError, match="--set colour=red: the water_facilities layer has no field 'colour'"):
        import_file(conn, path, layer="water_facilities", fixed=["colour=red"])
    with pytest.raises(ValidationError, match="write it as field=value"):
        import_file(conn, path, layer="water_facilities", fixed=["kind"])
