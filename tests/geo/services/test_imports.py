"""The import page's service: the layer guessed from real files' headers (tables, forms, vector
files), and a staged file kept for its uploader only."""

from __future__ import annotations

import json

import openpyxl
import pytest

from geo.errors import NotFound
from geo.services import imports
from tests.conftest import ROOT


@pytest.mark.parametrize("name, text, layer", [
    ("wells.csv", "设施编号,设施名称,设施类型,运行状态,经度,纬度\nW1,井,机井,正常运行,105.1,37.5\n", "water_facilities"),
    ("roads.csv", "道路名称,路面类型,路面宽度\nR,硬化路,4\n", "roads"),
    ("villages.csv", "村名,所属乡镇,村类别,经度,纬度\n兴海村,宣和镇,贫困村,105.1,37.5\n", "villages"),
    ("notes.csv", "甲,乙\n1,2\n", None),
])
def test_a_table_is_guessed_from_its_headers(tmp_path, name, text, layer):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert imports.guess_layer(path).layer == layer


def test_a_seed_000_form_and_a_workbook_and_a_vector_file_are_recognised(tmp_path):
    form = imports.guess_layer(ROOT / "data" / "shapotou_pairings_2019.csv")
    assert form.layer == "pairings" and form.form.startswith("附件1")
    book = openpyxl.Workbook()
    book.active.append(["填报单位：宣和镇"])  # a title row above the header, as county files have
    book.active.append(["设施编号", "设施名称", "设施类型", "运行状态", "经度", "纬度"])
    book.save(tmp_path / "水利.xlsx")
    assert imports.guess_layer(tmp_path / "水利.xlsx").layer == "water_facilities"
    feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[105.1, 37.5], [105.2, 37.5]]},
               "properties": {"道路名称": "X101", "路面类型": "硬化路", "路面宽度": 6}}
    (tmp_path / "r.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}),
                                        encoding="utf-8")
    assert imports.guess_layer(tmp_path / "r.geojson").layer == "roads"
    (tmp_path / "broken.geojson").write_text("{not json", encoding="utf-8")
    assert imports.guess_layer(tmp_path / "broken.geojson").layer is None


def test_a_staged_file_is_for_its_uploader_until_discarded():
    item = imports.stage(7, "水井.csv")
    try:
        item.path.write_text("x", encoding="utf-8")
        assert imports.staged(item.token, 7).path == item.path
        with pytest.raises(NotFound):
            imports.staged(item.token, 8)
        with pytest.raises(NotFound):
            imports.staged("../../etc", 7)
    finally:
        imports.discard(item)
    with pytest.raises(NotFound):
        imports.staged(item.token, 7)
