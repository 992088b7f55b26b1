"""``atlas serve`` over real HTTP on the demo data, on both backends."""

from __future__ import annotations

import subprocess
import sys

from geo import storage
from tests.conftest import ROOT

#: Libraries only some requests use, which the server process must not import to start: each
#: costs every server, worker and command process 0.15-0.5 s of CPU (docs/install.md, "Start-up imports").
LAZY_LIBRARIES = ("pygeofilter", "lark", "pvlib", "scipy", "folium", "branca")


def test_importing_the_app_leaves_the_lazy_libraries_unloaded():
    """Start-up: CQL2 parsing (pygeofilter, lark), PV physics (pvlib), routing and siting
    (scipy) and drawing maps (folium, branca) are imported by the requests that use them, not
    by the server's start."""
    script = ("import sys, api.app, api.cli.serve\n"
              f"print(sorted(m for m in sys.modules if m.split('.')[0] in {LAZY_LIBRARIES!r}))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_openapi_document_is_built_off_the_event_loop(demo_engine):
    """The first /openapi.json builds the document (seconds of CPU): one route, a plain function
    that Starlette runs in a worker thread, so the build never holds up other requests; the
    document is built once and answered from then on."""
    import inspect

    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(engine=demo_engine)
    routes = [r for r in app.router.routes if getattr(r, "path", None) == "/openapi.json"]
    assert len(routes) == 1 and not inspect.iscoroutinefunction(routes[0].endpoint)
    assert app.openapi_schema is None  # nothing built by create_app
    with TestClient(app) as client:
        first = client.get("/openapi.json")
        built = app.openapi_schema
        assert first.status_code == 200 and first.json() == built and "/api/layers" in built["paths"]
    assert app.openapi() is built


def test_health_answers_without_credentials_and_without_data(demo_server, backend):
    body = demo_server.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"] == ("sqlite" if backend == "spatialite" else "postgresql")
    assert body["schema_revision"]
    assert "layers" not in body


def test_layer_list_counts_rows(demo_server, headers):
    layers = {l["name"]: l for l in demo_server.get("/api/layers", headers=headers["leader"]).json()}
    assert layers["villages"]["count"] == 45 and layers["villages"]["label"] == "行政村"
    assert layers["villages"]["href"].endswith("/api/layers/villages")


def test_layer_endpoint_serves_geojson(demo_server, headers):
    response = demo_server.get("/api/layers/villages", headers=headers["viewer"])
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 45 and body["numberMatched"] == 45 and body["numberReturned"] == 45
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 104.2 < lon < 105.7 and 36.6 < lat < 37.8
    assert len(str(lon).split(".")[1]) <= 6
    assert feature["properties"]["township_name"]


def test_layer_endpoint_filters_by_township(demo_server, headers):
    body = demo_server.get("/api/layers/villages", params={"township": "东园镇"},
                           headers=headers["leader"]).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["金沙村"]


def test_layer_endpoint_filters_by_category_and_bbox(demo_server, demo_engine, headers):
    frame = storage.read_layer(demo_engine, "villages")
    expected = sorted(frame.loc[frame["category"] == "key_poor", "id"])
    body = demo_server.get("/api/layers/villages", params={"category": "重点贫困村"},
                           headers=headers["leader"]).json()
    assert sorted(f["id"] for f in body["features"]) == expected
    point = frame.geometry.iloc[0]
    box = f"{point.x - 0.001},{point.y - 0.001},{point.x + 0.001},{point.y + 0.001}"
    body = demo_server.get("/api/layers/villages", params={"bbox": box},
                           headers=headers["leader"]).json()
    assert frame["id"].iloc[0] in [f["id"] for f in body["features"]]
    assert body["numberMatched"] < 45


def test_layer_paging_has_next_links_that_walk_every_row(demo_server, demo_engine, headers):
    total = storage.count_layer(demo_engine, "settlements")
    url, params, seen = f"{demo_server.base}/api/layers/settlements", {"limit": 50}, []
    while url:
        body = demo_server.get(url, params=params, headers=headers["leader"]).json()
        assert body["numberMatched"] == total
        assert body["numberReturned"] == len(body["features"]) <= 50
        seen += [f["id"] for f in body["features"]]
        url = next((l["href"] for l in body["links"] if l["rel"] == "next"), None)
        params = None
    assert len(seen) == len(set(seen)) == total


def test_property_selection(demo_server, headers):
    body = demo_server.get("/api/layers/villages", params={"properties": "name,category"},
                           headers=headers["leader"]).json()
    assert set(body["features"][0]["properties"]) == {"name", "category"}
    response = demo_server.get("/api/layers/villages", params={"properties": "name,nope"},
                               headers=headers["leader"])
    assert response.status_code == 422 and "nope" in response.json()["detail"]


def test_household_layer_carries_no_personal_fields(demo_server, demo_engine, headers):
    text = demo_server.get("/api/layers/households", params={"township": "兴仁镇", "limit": 10000},
                           headers=headers["admin"]).text
    assert '"head_name"' not in text and '"id_number"' not in text
    private = storage.read_layer(demo_engine, "households", township="兴仁镇", include_pii=True)
    assert len(private) > 100
    leaked = [v for v in list(private["head_name"]) + list(private["id_number"]) if v in text]
    assert leaked == []


def test_unknown_layer_and_township_are_problem_json(demo_server, headers):
    response = demo_server.get("/api/layers/parcels", headers=headers["leader"])
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "villages" in response.json()["detail"]
    response = demo_server.get("/api/layers/villages", params={"township": "北镇"},
                               headers=headers["leader"])
    assert response.status_code == 404 and "常乐镇" in response.json()["detail"]
