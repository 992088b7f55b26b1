"""OGC API - Features over real HTTP: the documents and links, and real clients (GDAL's OAPIF
driver through pyogrio, OWSLib) reading the villages collection."""

from __future__ import annotations

import pyogrio
import pytest
import shapely
from owslib.ogcapi.features import Features

from api.routes.ogc import CONFORMANCE
from geo import storage
from tests.api.accounts import CLIENT_TIMEOUT_S


def test_landing_page_links(demo_server, headers):
    body = demo_server.get("/ogc", headers=headers["leader"]).json()
    rels = {link["rel"]: link for link in body["links"]}
    assert set(rels) >= {"self", "service-desc", "service-doc", "conformance", "data"}
    for rel in ("service-desc", "conformance", "data"):
        response = demo_server.get(rels[rel]["href"], headers=headers["leader"])
        assert response.status_code == 200, rel
        assert response.headers["content-type"].split(";")[0] == rels[rel]["type"].split(";")[0]
    assert demo_server.get(rels["service-doc"]["href"]).status_code == 200


def test_conformance_and_openapi_30(demo_server, headers):
    body = demo_server.get("/ogc/conformance", headers=headers["leader"]).json()
    assert body["conformsTo"] == CONFORMANCE
    document = demo_server.get("/ogc/api", headers=headers["leader"]).json()
    assert document["openapi"].startswith("3.0")
    assert "/ogc/collections/{collection_id}/items" in document["paths"]
    assert '"type": "null"' not in str(document).replace("'", '"')


def test_collections_have_extents_and_links(demo_server, demo_engine, headers):
    body = demo_server.get("/ogc/collections", headers=headers["leader"]).json()
    villages = next(c for c in body["collections"] if c["id"] == "villages")
    assert villages["title"] == "行政村" and villages["itemType"] == "feature"
    minx, miny, maxx, maxy = villages["extent"]["spatial"]["bbox"][0]
    frame = storage.read_layer(demo_engine, "villages")
    assert (minx, miny, maxx, maxy) == pytest.approx(tuple(frame.total_bounds), abs=1e-6)
    rels = {link["rel"] for link in villages["links"]}
    assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels


def test_items_paging_filters_and_single_feature(demo_server, demo_engine, headers):
    auth = headers["leader"]
    first = demo_server.get("/ogc/collections/villages/items", params={"limit": 20}, headers=auth)
    assert first.headers["content-type"] == "application/geo+json"
    body = first.json()
    assert body["numberMatched"] == 45 and body["numberReturned"] == 20 and "timeStamp" in body
    following = next(link["href"] for link in body["links"] if link["rel"] == "next")
    second = demo_server.get(following, headers=auth).json()
    assert second["numberReturned"] == 20
    assert not {f["id"] for f in body["features"]} & {f["id"] for f in second["features"]}

    expected = storage.count_layer(demo_engine, "villages", where={"category": "poor"})
    filtered = demo_server.get("/ogc/collections/villages/items", params={"category": "poor", "limit": 100},
                               headers=auth).json()
    assert filtered["numberMatched"] == expected == len(filtered["features"])
    assert {f["properties"]["category"] for f in filtered["features"]} == {"poor"}
    unknown = demo_server.get("/ogc/collections/villages/items", params={"colour": "red"}, headers=auth)
    assert unknown.status_code in (400, 422) and "colour" in unknown.json()["detail"]
    pii = demo_server.get("/ogc/collections/households/items", params={"head_name": "x"}, headers=auth)
    assert pii.status_code in (400, 422)

    feature = demo_server.get(f"/ogc/collections/villages/items/{body['features'][0]['id']}", headers=auth).json()
    assert feature["type"] == "Feature" and feature["id"] == body["features"][0]["id"]
    assert {link["rel"] for link in feature["links"]} == {"self", "collection"}
    assert demo_server.get("/ogc/collections/villages/items/999999", headers=auth).status_code == 404
    queryables = demo_server.get("/ogc/collections/households/queryables", headers=auth)
    assert queryables.headers["content-type"] == "application/schema+json"
    props = queryables.json()["properties"]
    assert "status" in props and "head_name" not in props and "id_number" not in props


def test_gdal_oapif_driver_reads_villages(live_server, demo_engine, headers):
    token = headers["leader"]["Authorization"].removeprefix("Bearer ")
    assert "OAPIF" in pyogrio.list_drivers()
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token,
                                     "GDAL_HTTP_TIMEOUT": str(CLIENT_TIMEOUT_S)})
    try:
        layers = dict(pyogrio.list_layers(f"OAPIF:{live_server.base}/ogc"))
        frame = pyogrio.read_dataframe(f"OAPIF:{live_server.base}/ogc", layer="villages")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None, "GDAL_HTTP_TIMEOUT": None})
    assert layers["villages"] == "Point" and layers["roads"] == "MultiLineString"
    stored = storage.read_layer(demo_engine, "villages")
    assert len(frame) == len(stored) == 45
    assert frame.crs.to_epsg() in (4326, None) and frame.crs.equals("OGC:CRS84")
    got = dict(zip(frame["name"], frame.geometry))
    for name, geom in zip(stored["name"], stored.geometry):
        assert shapely.equals_exact(got[name], geom, tolerance=1e-6), name


def test_owslib_reads_villages(live_server, demo_engine, headers):
    client = Features(f"{live_server.base}/ogc", headers=headers["leader"], timeout=CLIENT_TIMEOUT_S)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in client.conformance()["conformsTo"]
    assert "villages" in [c["id"] for c in client.collections()["collections"]]
    items = client.collection_items("villages", limit=100)
    assert items["numberMatched"] == 45 and len(items["features"]) == 45
    stored = storage.read_layer(demo_engine, "villages").set_index("id")
    for feature in items["features"]:
        geom = shapely.geometry.shape(feature["geometry"])
        assert shapely.equals_exact(geom, stored.geometry.loc[feature["id"]], tolerance=1e-6)


def test_uploads_are_binary_strings_in_the_30_document():
    """3.1 marks an uploaded file with ``contentMediaType``; 3.0 with ``format: binary``."""
    from api.app import create_app
    from api.openapi30 import openapi_30

    schemas = openapi_30(create_app().openapi())["components"]["schemas"]
    uploads = {name: field for name, schema in schemas.items() if name.startswith("Body_")
               for field in schema.get("properties", {}).values() if field.get("format") == "binary"}
    assert uploads and any("import" in name for name in uploads) and any("pv" in name for name in uploads)
    assert all("contentMediaType" not in field for field in uploads.values())
