"""The README's recipes with real clients against a real ``atlas serve``: Debian's GDAL 3.6
(``ogrinfo``, ``ogr2ogr``) with HTTP Basic (``GDAL_HTTP_USERPWD``, user and password or an API
key as the password) and with ``GDAL_HTTP_HEADERS``, Debian's QGIS 3.22 (python3-qgis) with a
Basic authentication configuration, and OWSLib with Basic auth. Every collection reads with
its one geometry type and exact counts, Chinese text intact."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from owslib.ogcapi.features import Features
from owslib.util import Authentication

from geo import storage
from geo.services import ogc
from tests.api.accounts import CLIENT_TIMEOUT_S, PASSWORD, ensure_users, login
from tests.conftest import ROOT, Server

QGIS_PROBE = ROOT / "tests" / "api" / "clients" / "qgis_probe.py"


class ClientServer(Server):
    """``atlas serve`` over its own copy of the demo, with the test accounts and an API key."""

    def __init__(self, url: str):
        super().__init__(url)
        from geo.db import make_engine

        self.engine = make_engine(url)
        ensure_users(self.engine)
        token = login(self.base, "t_leader")
        self.key = httpx.post(f"{self.base}/api/auth/keys", json={"label": "gdal"}, headers=token,
                              timeout=CLIENT_TIMEOUT_S).json()["key"]

    def stop(self):
        self.engine.dispose()
        return super().stop()


@pytest.fixture(scope="module")
def served(databases) -> Iterator[ClientServer]:
    server = ClientServer(databases.demo_url())
    yield server
    server.stop()


def gdal(tool: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run one of Debian's GDAL programs (not the GDAL inside pyogrio) with ``env`` added."""
    return subprocess.run([f"/usr/bin/{tool}", *args], check=False, capture_output=True, text=True,
                          env={**os.environ, "GDAL_HTTP_TIMEOUT": str(CLIENT_TIMEOUT_S), **env},
                          timeout=CLIENT_TIMEOUT_S * 2)


def layer_types(output: str) -> dict[str, str]:
    """``ogrinfo`` listing lines ``3: roads (title: 道路) (Multi Line String)`` by layer name."""
    out = {}
    for line in output.splitlines():
        head, _, rest = line.partition(": ")
        if head.strip().isdigit():
            name = rest.split(" ")[0]
            out[name] = rest.rsplit("(", 1)[1].rstrip(")") if rest.count("(") > 1 else ""
    return out


def test_gdal_36_lists_every_collection_with_basic_auth(served):
    version = gdal("ogrinfo", "--version", env={}).stdout
    assert version.startswith("GDAL 3.")
    result = gdal("ogrinfo", "-ro", f"OAPIF:{served.base}/ogc",
                  env={"GDAL_HTTP_USERPWD": f"t_leader:{PASSWORD}"})
    assert result.returncode == 0, result.stderr
    types = layer_types(result.stdout)
    assert set(types) == {c.id for c in ogc.LISTED}
    assert types["villages"] == "Point" and types["roads"] == "Multi Line String"
    assert types["water_facilities_points"] == "Point"
    assert types["water_facilities_lines"] == "Line String"
    assert types["water_facilities_polygons"] == "Polygon"
    assert "water_facilities" not in types and "pv_projects" not in types
    assert "(title: 行政村)" in result.stdout


def test_gdal_36_wrong_password_fails(served):
    result = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{served.base}/ogc", "villages",
                  env={"GDAL_HTTP_USERPWD": "t_leader:not-the-password"})
    assert result.returncode != 0 and "401" in result.stderr


@pytest.mark.parametrize("how", ["api_key_as_password", "api_key_header"])
def test_gdal_36_reads_every_feature_with_a_small_page_size(served, how, tmp_path):
    env = ({"GDAL_HTTP_USERPWD": f"key:{served.key}"} if how == "api_key_as_password"
           else {"GDAL_HTTP_HEADERS": f"X-API-Key: {served.key}"})
    target = tmp_path / "villages.geojson"
    result = gdal("ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{served.base}/ogc", "villages",
                  "-oo", "PAGE_SIZE=7", env=env)
    assert result.returncode == 0, result.stderr
    features = json.loads(target.read_text(encoding="utf-8"))["features"]
    stored = storage.read_layer(served.engine, "villages")
    assert len(features) == len(stored) == 45
    assert sorted(f["properties"]["name"] for f in features) == sorted(stored["name"])


def test_gdal_36_counts_each_geometry_collection(served):
    env = {"GDAL_HTTP_USERPWD": f"t_leader:{PASSWORD}"}
    water = storage.read_layer(served.engine, "water_facilities")
    for suffix, kinds in (("points", {"Point", "MultiPoint"}), ("lines", {"LineString", "MultiLineString"}),
                          ("polygons", {"Polygon", "MultiPolygon"})):
        result = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{served.base}/ogc", f"water_facilities_{suffix}", env=env)
        assert result.returncode == 0, result.stderr
        expected = int(water.geometry.geom_type.isin(kinds).sum())
        assert f"Feature Count: {expected}" in result.stdout, (suffix, result.stdout)


def test_owslib_reads_with_basic_auth(served):
    client = Features(f"{served.base}/ogc", auth=Authentication(username="t_leader", password=PASSWORD),
                      timeout=CLIENT_TIMEOUT_S)
    ids = [c["id"] for c in client.collections()["collections"]]
    assert "households" in ids and "water_facilities_lines" in ids
    items = client.collection_items("villages", limit=100)
    assert items["numberMatched"] == 45 and len(items["features"]) == 45
    names = {f["properties"]["name"] for f in items["features"]}
    assert names == set(storage.read_layer(served.engine, "villages")["name"])
    refused = Features(f"{served.base}/ogc", auth=Authentication(username="t_leader", password="nope-nope"),
                       timeout=CLIENT_TIMEOUT_S)
    with pytest.raises(Exception, match="401"):
        refused.collections()


def test_qgis_322_loads_collections_with_a_basic_auth_config(served, tmp_path):
    """Debian's own Python runs QGIS's OAPIF provider (python3-qgis is no PyPI package)."""
    result = subprocess.run(
        ["/usr/bin/python3", str(QGIS_PROBE), served.base, "t_leader", PASSWORD, "villages", "water_facilities_lines",
         "households"],
        check=False, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S * 2, cwd=tmp_path,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "QGIS_AUTH_DB_DIR_PATH": str(tmp_path),
             "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["qgis"].startswith("3.") and seen["stored"]
    layers = seen["layers"]
    villages = storage.read_layer(served.engine, "villages")
    assert layers["villages"] == {"valid": True, "geometry": "Point", "count": 45, "names": sorted(villages["name"])}
    water = storage.read_layer(served.engine, "water_facilities")
    lines = water[water.geometry.geom_type.isin(["LineString", "MultiLineString"])]
    assert layers["water_facilities_lines"]["geometry"] in ("LineString", "MultiLineString")
    assert layers["water_facilities_lines"]["count"] == len(lines)
    assert layers["households"]["count"] == storage.count_layer(served.engine, "households")
