"""``/api/exports/{layer}``: the files ``atlas export`` writes, downloaded over real HTTP on
both backends and opened with geopandas and openpyxl."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
import httpx
import openpyxl
import pandas as pd

from geo import storage
from geo.io.export import export_frame
from geo.io.fields import label


def _get(server, layer: str, headers: dict | None = None, **params) -> httpx.Response:
    return server.get(f"/api/exports/{layer}", params=params, headers=headers)


def test_a_geopackage_holds_what_the_export_function_writes(demo_server, demo_engine, headers, tmp_path):
    response = _get(demo_server, "villages", headers["viewer"])  # gpkg by default; villages are public
    assert response.status_code == 200 and response.headers["content-type"] == "application/geopackage+sqlite3"
    assert response.headers["content-disposition"].startswith('attachment; filename="villages.gpkg"')
    (tmp_path / "villages.gpkg").write_bytes(response.content)
    frame = gpd.read_file(tmp_path / "villages.gpkg")
    expected = export_frame(demo_engine, "villages")
    assert len(frame) == len(expected) == 45 and frame.crs.to_epsg() == 4326
    assert sorted(frame["name"]) == sorted(expected["name"])
    assert frame["population"].sum() == expected["population"].sum()


def test_csv_geojson_and_xlsx_open(demo_server, demo_engine, headers):
    csv = _get(demo_server, "roads", headers["leader"], format="csv", township="东园镇")
    assert csv.content.startswith("\ufeff".encode())
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert len(frame) == storage.count_layer(demo_engine, "roads", township="东园镇") > 0
    assert label("roads", "surface") in frame.columns

    collection = _get(demo_server, "pv_projects", headers["leader"], format="geojson").json()
    assert len(collection["features"]) == storage.count_layer(demo_engine, "pv_projects")

    xlsx = _get(demo_server, "units", headers["leader"], format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row - 1 == storage.count_layer(demo_engine, "units")


def test_household_exports_leave_personal_fields_out_unless_the_role_may_see_them(demo_server, demo_engine, headers):
    private = storage.read_layer(demo_engine, "households", include_pii=True, columns=["head_name", "id_number"],
                                 township="宣和镇")
    secrets = {v for v in set(private["head_name"]) | set(private["id_number"]) if v}
    plain = _get(demo_server, "households", headers["leader"], format="csv", township="宣和镇")
    frame = pd.read_csv(io.BytesIO(plain.content), encoding="utf-8-sig", dtype=str)
    assert len(frame) == len(private) > 0
    assert label("households", "head_name") not in frame.columns and label("households", "id_number") not in frame
    assert not any(secret in plain.content.decode("utf-8-sig") for secret in secrets)

    refused = _get(demo_server, "households", headers["leader"], format="csv", include_pii="true")
    assert refused.status_code == 403 and "include_pii" in refused.json()["detail"]

    named = _get(demo_server, "households", headers["planner"], format="csv", township="宣和镇", include_pii="true")
    frame = pd.read_csv(io.BytesIO(named.content), encoding="utf-8-sig", dtype=str)
    assert set(frame[label("households", "head_name")]) == set(private["head_name"])
    log = demo_server.get("/api/audit", params={"action": "export_pii"}, headers=headers["admin"]).json()
    assert any(entry["user_name"] == "t_planner" and entry["layer"] == "households" for entry in log["items"])


def test_a_scoped_user_exports_only_their_townships(demo_server, demo_engine, headers, tmp_path):
    response = _get(demo_server, "villages", headers["scoped"], format="shp")
    assert response.headers["content-type"] == "application/zip"
    assert {n.rsplit(".", 1)[1] for n in zipfile.ZipFile(io.BytesIO(response.content)).namelist()} >= \
        {"shp", "shx", "dbf", "prj", "cpg"}
    (tmp_path / "villages.zip").write_bytes(response.content)
    frame = gpd.read_file(f"zip://{tmp_path / 'villages.zip'}")
    inside = storage.read_layer(demo_engine, "villages", township="兴仁镇", columns=["name"])
    assert sorted(frame["name"]) == sorted(inside["name"]) and frame.crs.to_epsg() == 4326
    assert _get(demo_server, "villages", headers["scoped"], township="常乐镇").status_code == 403
    mine = _get(demo_server, "villages", headers["scoped"], format="geojson").json()
    assert {f["properties"]["township_name"] for f in mine["features"]} == {"兴仁镇"}
    assert len(mine["features"]) == storage.count_layer(demo_engine, "villages", township="兴仁镇")


def test_roles_without_the_layer_and_anonymous_callers_are_refused(demo_server, headers):
    assert _get(demo_server, "villages").status_code == 401
    assert _get(demo_server, "households", headers["viewer"]).status_code == 403
    assert _get(demo_server, "nowhere", headers["leader"]).status_code == 404
    bad = _get(demo_server, "villages", headers["leader"], format="pdf")
    assert bad.status_code == 422 and "query field format" in bad.json()["detail"]
