"""``POST /api/imports`` over real HTTP on both backends: real GeoJSON, zipped Shapefile and
XLSX uploads land; bad uploads (zip slip, bomb, oversized, wrong CRS, missing column, a bad
row) are refused with a message and leave the database unchanged; roles and audit."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import openpyxl
import pytest
from shapely.geometry import Point

from geo import storage

URL = "/api/imports"


def _count(engine, layer="water_facilities") -> int:
    return storage.count_layer(engine, layer)


def _geojson(codes, lon=105.2, lat=37.5) -> bytes:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + i * 0.001, lat]},
                 "properties": {"设施编号": code, "设施名称": f"机井{code}", "设施类型": "机井", "运行状态": "正常运行"}}
                for i, code in enumerate(codes)]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def _post(scratch, role, name, content, **form):
    data = {"layer": "water_facilities", **{k: (str(v).lower() if isinstance(v, bool) else v) for k, v in form.items()}}
    return scratch.post(URL, headers=scratch.headers[role], data=data,
                        files={"file": (name, content)})


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_geojson_upload_is_imported_reported_and_audited(scratch):
    before = _count(scratch.engine)
    dry = _post(scratch, "planner", "wells.geojson", _geojson(["API-G1", "API-G2"]), dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] and not dry.json()["committed"] and dry.json()["inserted"] == 2
    assert _count(scratch.engine) == before

    done = _post(scratch, "planner", "wells.geojson", _geojson(["API-G1", "API-G2"]))
    report = done.json()
    assert done.status_code == 200 and report["committed"] and report["inserted"] == 2
    assert report["file"] == "wells.geojson" and report["row_numbers"] == "feature"
    assert _count(scratch.engine) == before + 2
    again = _post(scratch, "admin", "wells.geojson", _geojson(["API-G1", "API-G2"], lon=105.25))
    assert again.json()["updated"] == 2 and _count(scratch.engine) == before + 2

    log = scratch.get("/api/audit", params={"action": "import", "layer": "water_facilities"},
                      headers=scratch.headers["admin"]).json()
    mine = [e for e in log["items"] if e["after"]["file"] == "wells.geojson"]
    assert {e["user_name"] for e in mine} == {"t_planner", "t_admin"}
    assert sorted(e["after"]["inserted"] for e in mine) == [0, 2]


def test_shapefile_zip_and_xlsx_uploads(scratch, tmp_path):
    before = _count(scratch.engine)
    frame = gpd.GeoDataFrame({"code": ["API-S1"], "name": ["机井S1"], "kind": ["well"], "status": ["working"]},
                             geometry=[Point(105.21, 37.52)], crs=4326)
    frame.to_file(tmp_path / "wells.shp", engine="pyogrio")
    shp = _zip({p.name: p.read_bytes() for p in tmp_path.glob("wells.*")})
    zipped = _post(scratch, "planner", "wells.zip", shp)
    assert zipped.status_code == 200, zipped.text
    assert zipped.json()["format"] == "zip/shp" and zipped.json()["inserted"] == 1

    book = openpyxl.Workbook()
    book.active.append(["设施编号", "设施名称", "设施类型", "运行状态", "经度", "纬度"])
    book.active.append(["API-X1", "供水点", "集中供水点", "在建", 105.22, 37.53])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = _post(scratch, "admin", "供水.xlsx", buffer.getvalue())
    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.json()["inserted"] == 1 and xlsx.json()["file"] == "供水.xlsx"
    assert _count(scratch.engine) == before + 2


@pytest.mark.parametrize("name, content, form, status, words", [
    ("slip.zip", _zip({"../../evil.geojson": _geojson(["API-Z1"])}), {}, 422, "outside the extraction folder"),
    ("bomb.zip", _zip({"big.csv": b"0" * (40 * 1024 * 1024)}), {}, 413, "decompression bomb"),
    ("wells.geojson", _geojson(["API-C1"]), {"crs": "EPSG:4544"}, 422, "EPSG:4544"),
    ("wells.csv", "设施名称,设施类型\n井,机井\n".encode(), {}, 422, "经度"),
    ("wells.csv", "设施编号,设施名称,设施类型,运行状态,经度,纬度\nAPI-B1,井,机井,正常运行,105.1,37.5\n"
                  "API-B2,井,水塔,正常运行,105.2,37.5\n".encode(), {}, 422, "row 3"),
    ("wells.dwg", b"binary", {}, 422, "unknown file type"),
])
def test_bad_uploads_are_refused_and_change_nothing(scratch, name, content, form, status, words):
    before = _count(scratch.engine)
    response = _post(scratch, "planner", name, content, **form)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"], response.json()["detail"]
    assert _count(scratch.engine) == before


def test_a_refused_row_is_written_only_without_strict(scratch):
    before = _count(scratch.engine)
    content = ("设施编号,设施名称,设施类型,运行状态,经度,纬度\nAPI-P1,井,机井,正常运行,105.1,37.5\n"
               "API-P2,井,水塔,正常运行,105.2,37.5\n").encode()
    strict = _post(scratch, "planner", "wells.csv", content)
    assert strict.status_code == 422 and strict.json()["report"]["refused"][0]["row"] == 3
    assert "水塔" in strict.json()["report"]["refused"][0]["reason"] and _count(scratch.engine) == before
    partial = _post(scratch, "planner", "wells.csv", content, strict=False)
    assert partial.status_code == 200 and partial.json()["inserted"] == 1 and partial.json()["refused_count"] == 1
    assert _count(scratch.engine) == before + 1


def test_oversized_uploads_are_refused_before_parsing(scratch):
    from geo.settings import Settings

    limit = Settings().max_upload_mb
    body = b"x" * (limit * 1024 * 1024 + 200 * 1024)
    response = _post(scratch, "planner", "huge.csv", body)
    assert response.status_code == 413
    assert f"{limit} MiB" in response.json()["detail"] and "ATLAS_MAX_UPLOAD_MB" in response.json()["detail"]


def test_only_unscoped_editors_import(scratch):
    before = _count(scratch.engine)
    for role, status in (("leader", 403), ("inspector", 403), ("viewer", 403), ("scoped", 403)):
        response = _post(scratch, role, "wells.geojson", _geojson(["API-R1"]))
        assert response.status_code == status, (role, response.text)
    assert "townships" in _post(scratch, "scoped", "wells.geojson", _geojson(["API-R1"])).json()["detail"]
    anonymous = scratch.post(URL, data={"layer": "water_facilities"},
                             files={"file": ("w.geojson", _geojson(["API-R1"]))})
    assert anonymous.status_code == 401
    assert _count(scratch.engine) == before


def test_set_over_http_gives_every_row_a_value(scratch):
    bare = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [105.2 + k / 1000, 37.5]}}
        for k in range(2)]}
    before = _count(scratch.engine)
    response = scratch.post(URL, headers=scratch.headers["planner"],
                            data={"layer": "water_facilities", "set": ["设施类型=机井", "status=working"]},
                            files={"file": ("bare.geojson", json.dumps(bare).encode())})
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 2 and _count(scratch.engine) == before + 2
    bad = scratch.post(URL, headers=scratch.headers["planner"], data={"layer": "water_facilities", "set": ["颜色=红"]},
                       files={"file": ("bare.geojson", json.dumps(bare).encode())})
    assert bad.status_code == 422 and "has no field '颜色'" in bad.text
