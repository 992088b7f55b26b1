"""Exports of a recorded draw: GPX opens with gpxpy in visiting order, XLSX and CSV carry the
forms' headers, GeoJSON has villages, households and routes, and names stay masked unless asked."""

from __future__ import annotations

import csv
import json

import gpxpy
import pytest
from openpyxl import load_workbook

from geo import storage
from geo.errors import ValidationError
from geo.services import inspections as service
from geo.inspection.exports import HOUSEHOLD_FORM, VILLAGE_FORM, mask_id_number, mask_name
from geo.inspection.plans import load_plan, with_overrides
from tests.geo.conftest import tx_on_module


@pytest.fixture(scope="module")
def plan(module_tx):
    """Drawn once for the module; each test's writes are rolled back (``tx``)."""
    spec = with_overrides(load_plan("seed003", year=2019), townships=("宣和镇",))
    return service.draw_plan(module_tx, spec, seed="exports", teams=2).plan_id


tx = tx_on_module("plan")


def test_masks_keep_the_surname_and_the_region_code():
    assert mask_name("马某军") == "马**"
    assert mask_id_number("64050219451230012X") == "640502********012X"
    assert mask_name(None) == "" and mask_id_number(None) == ""


def test_gpx_parses_and_lists_the_waypoints_in_visiting_order(tx, plan, tmp_path):
    path = tmp_path / "route.gpx"
    result = service.export_plan(tx, plan, path, fmt="gpx")
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    record = service.load_record(tx, plan)
    expected = []
    for v in record.villages.itertuples():
        expected.append(f"{v.team}-{v.visit_order:02d} {v.village_name}")
        ours = record.households[(record.households["team"] == v.team)
                                 & (record.households["village_order"] == v.visit_order)]
        expected += [f"{v.team}-{v.visit_order:02d}-{h.visit_order:02d} {h.household_code}" for h in ours.itertuples()]
    assert [w.name for w in gpx.waypoints] == expected
    assert result["waypoints"] == len(expected)
    first = record.villages.iloc[0]
    assert gpx.waypoints[0].latitude == pytest.approx(first.geometry.y, abs=1e-6)
    assert gpx.waypoints[0].longitude == pytest.approx(first.geometry.x, abs=1e-6)
    assert [r.name for r in gpx.routes] == ["第1组路线", "第2组路线"]
    assert gpx.routes[0].points[0].name == "起点"
    assert len(gpx.tracks) == 2 and len(gpx.tracks[0].segments[0].points) > len(gpx.routes[0].points)
    # names masked without --show-names
    names = storage.read_layer(tx, "households", ids=list(record.households["household_id"]),
                               columns=["head_name"], include_pii=True)["head_name"]
    text = path.read_text(encoding="utf-8")
    assert not any(n in text for n in names)
    one = service.export_plan(tx, plan, tmp_path / "team2.gpx", fmt="gpx", team=2)
    assert one["waypoints"] == sum(1 for n in expected if n.startswith("2-"))
    with pytest.raises(ValidationError, match="--team 5: the plan has teams 1, 2"):
        service.export_plan(tx, plan, tmp_path / "x.gpx", fmt="gpx", team=5)


def test_xlsx_has_the_forms_headers_and_masked_names(tx, plan, tmp_path):
    path = tmp_path / "sample.xlsx"
    service.export_plan(tx, plan, path, fmt="xlsx")
    book = load_workbook(path)
    assert book.sheetnames[:3] == ["抽样说明", "村级调查表", "农户调查表"]
    headers = [c.value for c in book["农户调查表"][1]]
    for column in ["序号", "检查组", "乡镇", "行政村", "户编号", "户主姓名", "身份证号", "农户类型", "抽样层", *HOUSEHOLD_FORM]:
        assert column in headers, column
    village_headers = [c.value for c in book["村级调查表"][1]]
    assert all(c in village_headers for c in ["行政村", "村类别(登记)", "抽样户数", *VILLAGE_FORM])
    rows = list(book["农户调查表"].iter_rows(min_row=2, values_only=True))
    record = service.load_record(tx, plan)
    assert len(rows) == len(record.households)
    name_col, id_col = headers.index("户主姓名"), headers.index("身份证号")
    blank_col = headers.index("不愁吃")
    for row in rows:
        assert row[name_col][1:] == "*" * (len(row[name_col]) - 1)
        assert row[id_col][6:14] == "********"
        assert row[blank_col] in (None, "")
    notes = dict(book["抽样说明"].iter_rows(values_only=True))
    assert notes["随机种子"] == "exports" and len(notes["抽样框哈希(SHA-256)"]) == 64
    assert "已脱敏" in notes["个人信息"]


def test_names_appear_only_when_asked(tx, plan, tmp_path):
    record = service.load_record(tx, plan)
    pii = storage.read_layer(tx, "households", ids=list(record.households["household_id"]),
                             columns=["head_name", "id_number"], include_pii=True)
    masked, shown = tmp_path / "masked.csv", tmp_path / "shown.csv"
    service.export_plan(tx, plan, masked, fmt="csv")
    service.export_plan(tx, plan, shown, fmt="csv", show_names=True)
    masked_text, shown_text = masked.read_text(encoding="utf-8-sig"), shown.read_text(encoding="utf-8-sig")
    assert not any(n in masked_text for n in pii["head_name"])
    assert not any(n in masked_text for n in pii["id_number"])
    assert all(n in shown_text for n in pii["head_name"]) and all(n in shown_text for n in pii["id_number"])
    with shown.open(encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle))
    assert header[:4] == ["序号", "检查组", "村走访顺序", "户走访顺序"] and "检查人" in header


def test_csv_tables_and_geojson(tx, plan, tmp_path):
    villages = service.export_plan(tx, plan, tmp_path / "v.csv", fmt="csv", table="villages")
    frame = service.export_plan(tx, plan, tmp_path / "f.csv", fmt="csv", table="frame")
    record = service.load_record(tx, plan)
    assert villages["rows"] == len(record.villages) == 8
    assert frame["rows"] == len(record.frame.households) + len(record.frame.villages)  # villages with weights first
    collection = json.loads(service.export_plan(tx, plan, tmp_path / "s.geojson", fmt="geojson")["path"] and
                            (tmp_path / "s.geojson").read_text(encoding="utf-8"))
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds.count("village") == 8 and kinds.count("household") == len(record.households)
    assert kinds.count("route") == 2
    route = next(f for f in collection["features"] if f["properties"]["kind"] == "route")
    assert route["geometry"]["type"] == "MultiLineString"
    heads = [f["properties"]["head_name"] for f in collection["features"] if f["properties"]["kind"] == "household"]
    assert all(h.endswith("*") for h in heads)
    with pytest.raises(ValidationError, match="unknown export format 'pdf'"):
        service.export_plan(tx, plan, tmp_path / "x.pdf", fmt="pdf")
