"""``POST /api/pv/yield|review|site``: weather and DEM uploads over real HTTP on both backends
(a real ``atlas serve``: the uploads stream over a socket, and some are cut off by the server).

A server of its own over the demo database, with small limits (2 MiB weather files, 3 MiB
DEMs of at most 4 million pixels) and its own temporary folder, which must be empty after every
test: uploads are copied there and removed, also when they are refused. Weather files are
pvlib's Greensboro TMY3 sample and files written from it (``tests/geo/pv/conftest.py``);
DEMs are written here with rasterio.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import httpx
import numpy as np
import orjson
import pytest
import rasterio
from rasterio.transform import from_origin

from geo import storage
from geo.pv.output import review_json, site_json, yield_json
from geo.services.pv import run_review, run_siting
from geo.pv.weather import read_weather
from geo.pv.yield_model import estimate_yield
from tests.api.accounts import CLIENT_TIMEOUT_S, login
from tests.conftest import Server
from tests.geo.pv.conftest import GREENSBORO, PVLIB_DATA, epw_path, greensboro, pvgis_json_path  # noqa: F401

MiB = 1024 * 1024
WEATHER_MAX_MB = 2
DEM_MAX_MB = 3
DEM_MAX_PIXELS = 4_000_000
TMY2 = PVLIB_DATA / "12839.tm2"  # Miami, shipped with pvlib
SITE = {"township": "香山乡", "cell_size": 1000, "top": 20}


class Uploads:
    def __init__(self, demo_url: str, tmp: Path):
        self.tmp = tmp
        limits = {"ATLAS_WEATHER_MAX_MB": WEATHER_MAX_MB, "ATLAS_DEM_MAX_MB": DEM_MAX_MB,
                  "ATLAS_DEM_MAX_PIXELS": DEM_MAX_PIXELS}
        self.server = Server(demo_url, env={"TMPDIR": str(tmp), **{k: str(v) for k, v in limits.items()}})
        self.base = self.server.base
        self.headers = {role: login(self.base, f"t_{role}") for role in ("planner", "leader", "viewer", "scoped")}
        # One client for the module (a new one loads the CA bundle); it keeps no cookies, so
        # each request is signed in only by the headers it is given.
        self.client = httpx.Client(base_url=f"{self.base}/api/pv", timeout=CLIENT_TIMEOUT_S,
                                   cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])))

    def post(self, path: str, role: str | None, files: dict, **params) -> httpx.Response:
        return self.client.post(path, params=params, files=files, headers=self.headers[role] if role else None)

    def get(self, path: str, role: str, **params) -> httpx.Response:
        return self.client.get(path, params=params, headers=self.headers[role])


@pytest.fixture(scope="module")
def uploads(demo_url, user_ids, tmp_path_factory) -> Iterator[Uploads]:
    instance = Uploads(demo_url, tmp_path_factory.mktemp("server-tmp"))
    yield instance
    instance.client.close()
    instance.server.stop()


@pytest.fixture(autouse=True)
def no_upload_left_behind(request):
    yield
    if "uploads" in request.fixturenames:
        server = request.getfixturevalue("uploads")
        # the server's scratch parent stays (empty); nothing of any upload does
        left = [p for p in server.tmp.iterdir() if not (p.name.startswith("atlas-scratch-") and p.is_dir())]
        assert left + [q for p in server.tmp.glob("atlas-scratch-*") for q in p.iterdir()] == []


def _plain(data: dict) -> dict:
    return orjson.loads(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))


def _problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "atlas-scratch" not in detail and "/tmp" not in detail  # the caller's file name, not the server's copy
    return detail


# ------------------------------------------------------------------------------ weather


@pytest.mark.parametrize(("fixture", "fmt"), [
    ("tmy3", "tmy3"), ("epw_path", "epw"), ("pvgis_json_path", "pvgis_json"), ("tmy2", "tmy2")])
def test_a_weather_file_gives_its_own_yield_not_the_estimate(uploads, request, fixture, fmt):
    path = {"tmy3": GREENSBORO, "tmy2": TMY2}.get(fixture) or request.getfixturevalue(fixture)
    weather = read_weather(path, name=path.name)
    lat, lon = round(weather.latitude, 2), round(weather.longitude, 2)  # a site beside the station
    query = {"lat": lat, "lon": lon, "kwp": 300, "households": 60, "tilt": 25}
    estimate = uploads.get("/yield", "viewer", **query).json()
    response = uploads.post("/yield", "viewer", {"weather": (path.name, path.read_bytes())}, **query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == _plain(yield_json(estimate_yield(latitude=lat, longitude=lon, capacity_kwp=300,
                                                    beneficiary_households=60, tilt_deg=25, weather=weather)))
    assert body["is_estimate"] is False and "estimate" not in body
    assert body["weather_format"] == fmt and body["weather_source"] == path.name
    assert path.name in body["weather_label"]
    assert estimate["is_estimate"] is True and body["kwh_per_kwp"] != estimate["kwh_per_kwp"]
    assert 900 < body["kwh_per_kwp"] < 2_000


def test_a_weather_file_from_far_away_is_refused(uploads):
    """Greensboro's year at Shapotou would put its sunshine on the site's nights."""
    response = uploads.post("/yield", "viewer", {"weather": (GREENSBORO.name, GREENSBORO.read_bytes())},
                            lat=37.5, lon=105.2, kwp=300)
    detail = _problem(response, 422)
    assert detail.startswith(f"{GREENSBORO.name}: the weather station") and "more than 300 km" in detail
    assert "PVGIS" in detail


@pytest.fixture(scope="module")
def shapotou_tmy3(tmp_path_factory) -> Path:
    """Greensboro's typical year moved to Shapotou (37.5°N 105.2°E, UTC+7: near solar time, as
    Greensboro's UTC-5 is at 80°W), so that its hours of sun are Shapotou's daytime."""
    lines = GREENSBORO.read_bytes().splitlines(keepends=True)
    path = tmp_path_factory.mktemp("weather") / "shapotou_tmy3.csv"
    path.write_bytes(b'999999,"SHAPOTOU (TEST: GREENSBORO DATA)",NX,7.0,37.500,105.200,1300\n' + b"".join(lines[1:]))
    return path


def test_a_review_with_a_weather_file(uploads, demo_engine, shapotou_tmy3):
    files = {"weather": (shapotou_tmy3.name, shapotou_tmy3.read_bytes())}
    body = uploads.post("/review", "leader", files, township="兴仁镇").json()
    expected = run_review(demo_engine, township="兴仁镇", weather=read_weather(shapotou_tmy3, name=shapotou_tmy3.name))
    assert body == _plain(review_json(expected))
    assert body["is_estimate"] is False and body["estimate"] is None and shapotou_tmy3.name in body["weather"]
    estimate = uploads.get("/review", "leader", township="兴仁镇").json()
    modelled = [p["kwh_per_kwp"] for p in body["projects"] if p["kwh_per_kwp"] is not None]
    assert modelled and all(1_000 < kwh < 2_000 for kwh in modelled)
    assert modelled != [p["kwh_per_kwp"] for p in estimate["projects"] if p["kwh_per_kwp"] is not None]

    xlsx = uploads.post("/review", "leader", files, township="兴仁镇", format="xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-disposition"].startswith("attachment;")


def _tmy3_lines() -> list[bytes]:
    return GREENSBORO.read_bytes().splitlines(keepends=True)


BAD_WEATHER = [
    ("weather.txt", lambda: GREENSBORO.read_bytes(), "weather.txt: the file type '.txt' is not a weather format"),
    ("notes.csv", lambda: b"station,name\n1,2\n", "weather file notes.csv is not in a format the yield model reads"),
    ("short.csv", lambda: b"".join(_tmy3_lines()[:2002]), "weather file short.csv holds 2000 time steps"),
    ("no_ghi.csv", lambda: b"".join([_tmy3_lines()[0], _tmy3_lines()[1].replace(b"GHI (W/m^2)", b"XHI")]
                                   + _tmy3_lines()[2:]), "weather file no_ghi.csv has no ghi column"),
    ("gbk.csv", lambda: GREENSBORO.read_bytes().replace(b'"GREENSBORO PIEDMONT TRIAD INT"', "格林斯伯勒".encode("gbk")),
     "weather file gbk.csv is not UTF-8 text"),
    ("utf16.csv", lambda: b"".join(_tmy3_lines()[:1000]).decode("ascii").encode("utf-16"),
     "weather file utf16.csv is UTF-16 text; save it as UTF-8"),
    ("bad.epw", lambda: b"LOCATION,x\nhello\n", "weather file bad.epw could not be read as epw"),
    ("empty.json", lambda: b"", "empty.json: the uploaded file is empty"),
]


@pytest.mark.parametrize(("name", "content", "words"), BAD_WEATHER, ids=[b[0] for b in BAD_WEATHER])
def test_a_bad_weather_file_is_a_problem_naming_it(uploads, name, content, words):
    detail = _problem(uploads.post("/yield", "viewer", {"weather": (name, content())}, lat=37.5, lon=105.2, kwp=1),
                      422)
    assert words in detail
    if name == "weather.txt":
        assert all(ending in detail for ending in (".csv", ".epw", ".tm2", ".json"))


def test_an_oversized_weather_file_is_refused_before_it_is_read(uploads):
    big = b"9" * (WEATHER_MAX_MB * MiB + 100 * 1024)
    declared = uploads.post("/yield", "viewer", {"weather": ("big.csv", big)}, lat=37.5, lon=105.2, kwp=1)
    detail = _problem(declared, 413)
    assert detail.startswith("2.1 MiB is larger than the weather file limit of 2 MiB (ATLAS_WEATHER_MAX_MB)")
    assert declared.json()["limit_bytes"] == WEATHER_MAX_MB * MiB

    just_over = uploads.post("/yield", "viewer", {"weather": ("big.csv", big[:WEATHER_MAX_MB * MiB + 1])},
                             lat=37.5, lon=105.2, kwp=1)  # within the room for the envelope: counted on copying
    assert _problem(just_over, 413).startswith("big.csv: 2.0 MiB is larger than the weather file limit of 2 MiB")

    # no Content-Length: counted while it arrives, answered long before its end
    status, body, sent = _chunked_upload(uploads, "/api/pv/yield?lat=37.5&lon=105.2&kwp=1", "weather", "big.csv",
                                         total=200 * MiB)
    assert status == 413 and "ATLAS_WEATHER_MAX_MB" in body["detail"]
    assert sent < 50 * MiB  # the rest of the 200 MiB was never sent

    # within the request's room (a DEM may come with it), over the weather file's own limit
    site = uploads.post("/site", "planner", {"weather": ("big.csv", big)}, **SITE)
    assert _problem(site, 413).startswith("big.csv: 2.1 MiB is larger than the weather file limit of 2 MiB")


def _chunked_upload(uploads: Uploads, target: str, field: str, filename: str, *, total: int
                    ) -> tuple[int, dict, int]:
    """POST a multipart upload of ``total`` bytes with chunked transfer encoding (no declared
    length) over a raw socket, sending until the server answers; the status, the JSON body and
    the bytes sent."""
    boundary = "atlas-test-boundary"
    headers = {**uploads.headers["viewer"], "Host": f"127.0.0.1:{uploads.server.port}",
               "Content-Type": f"multipart/form-data; boundary={boundary}", "Transfer-Encoding": "chunked"}
    with socket.create_connection(("127.0.0.1", uploads.server.port), timeout=CLIENT_TIMEOUT_S) as sock:
        sock.sendall(f"POST {target} HTTP/1.1\r\n".encode()
                     + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n")

        def chunk(data: bytes) -> None:
            sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        chunk(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n\r\n'.encode())
        sent, block = 0, b"9" * (256 * 1024)
        while sent < total and not select.select([sock], [], [], 0)[0]:
            try:
                chunk(block)
            except OSError:  # the server closed the connection after answering
                break
            sent += len(block)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), orjson.loads(content), sent


def _length(answer: bytes) -> int:
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    return next(int(line.split(":")[1]) for line in head.splitlines() if line.startswith("content-length:"))


# ------------------------------------------------------------------------------ DEM

def _township_bounds(engine, name: str) -> tuple[float, float, float, float]:
    return tuple(storage.read_layer(engine, "townships", where={"name": name}).total_bounds)


def _write_dem(path: Path, bounds, *, crs: str | None = "EPSG:4326", res: float = 0.002) -> tuple[Path, float]:
    """Flat (1,500 m) west of the middle longitude of ``bounds``, a 20 % slope rising east of it."""
    west, south, east, north = bounds[0] - 0.02, bounds[1] - 0.02, bounds[2] + 0.02, bounds[3] + 0.02
    middle = (bounds[0] + bounds[2]) / 2
    cols, rows = int((east - west) / res) + 1, int((north - south) / res) + 1
    lon = west + (np.arange(cols) + 0.5) * res
    metres_east = (lon - middle) * 111_320 * np.cos(np.radians((south + north) / 2))
    elevation = 1_500.0 + 0.20 * np.clip(metres_east, 0, None)
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1, dtype="float32", crs=crs,
                       transform=from_origin(west, north, res, res)) as dst:
        dst.write(np.tile(elevation, (rows, 1)).astype("float32"), 1)
    return path, middle


def test_a_dem_drops_the_steep_cells(uploads, demo_engine, shapotou_tmy3, tmp_path):
    path, middle = _write_dem(tmp_path / "香山乡_dem.tif", _township_bounds(demo_engine, SITE["township"]))
    flat = uploads.get("/site", "planner", **SITE).json()
    response = uploads.post("/site", "planner", {"dem": (path.name, path.read_bytes())}, **SITE)
    assert response.status_code == 200, response.text
    body = response.json()
    expected = run_siting(demo_engine, township=SITE["township"], allow_files=False, dem=path, cell_size_m=1000,
                          top=20)
    assert body == _plain(site_json(expected))

    assert body["cells_evaluated"] == flat["cells_evaluated"]
    steep = body["excluded_cells"]["slope"]
    assert 0.3 * body["cells_evaluated"] < steep < 0.7 * body["cells_evaluated"]  # the eastern half
    assert body["excluded_cells"]["no_dem_data"] == 0 and "slope" not in flat["excluded_cells"]
    assert body["cells_kept"] == flat["cells_kept"] - steep
    cell_deg = 0.02  # a 1 km cell, and a candidate's centre may sit in a block of cells
    assert body["candidates"] and all(c["lon"] < middle + cell_deg for c in body["candidates"])
    assert any(c["lon"] > middle + cell_deg for c in flat["candidates"])
    assert all(c["mean_slope_pct"] < 5 for c in body["candidates"])
    assert body["is_estimate"] is True  # a DEM alone: the clear-sky estimate, labelled

    both = uploads.post("/site", "planner", {"dem": (path.name, path.read_bytes()),
                                             "weather": (shapotou_tmy3.name, shapotou_tmy3.read_bytes())}, **SITE)
    assert both.status_code == 200, both.text
    assert both.json()["is_estimate"] is False and shapotou_tmy3.name in both.json()["weather"]
    assert both.json()["cells_kept"] == body["cells_kept"]
    assert all(1_000 < c["kwh_per_kwp"] < 2_000 for c in both.json()["candidates"])


def test_bad_dems_are_problems_naming_them(uploads, demo_engine, tmp_path):
    bounds = _township_bounds(demo_engine, SITE["township"])
    nocrs, _ = _write_dem(tmp_path / "nocrs.tif", bounds, crs=None)
    far, _ = _write_dem(tmp_path / "far.tif", (-80.0, 36.0, -79.9, 36.1))  # Greensboro
    text = tmp_path / "dem.tif"
    text.write_text("elevation: high")
    png = tmp_path / "dem.png"
    with rasterio.open(png, "w", driver="PNG", height=8, width=8, count=1, dtype="uint8") as dst:
        dst.write(np.zeros((8, 8), dtype="uint8"), 1)
    cases = [(nocrs, "DEM nocrs.tif has no CRS; set one"),
             (far, "DEM far.tif (bounds"), (far, "does not cover the siting area"),
             (text, "DEM dem.tif is not a GeoTIFF GDAL reads"), (png, "DEM dem.png is not a GeoTIFF GDAL reads")]
    for path, words in cases:
        detail = _problem(uploads.post("/site", "planner", {"dem": (path.name, path.read_bytes())}, **SITE), 422)
        assert words in detail, detail

    huge = tmp_path / "huge.tif"
    with rasterio.open(huge, "w", driver="GTiff", height=2_000, width=2_001, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_origin(105, 38, 0.001, 0.001), compress="deflate") as dst:
        dst.write(np.zeros((2_000, 2_001), dtype="uint8"), 1)
    assert huge.stat().st_size < MiB
    detail = _problem(uploads.post("/site", "planner", {"dem": (huge.name, huge.read_bytes())}, **SITE), 413)
    assert "DEM huge.tif has 2,001 × 2,000 = 4,002,000 pixels" in detail and "ATLAS_DEM_MAX_PIXELS" in detail

    big = uploads.post("/site", "planner", {"dem": ("dem.tif", b"\0" * (DEM_MAX_MB + 1) * MiB)}, **SITE)
    # within the room for a weather file too: counted on copying, named
    assert _problem(big, 413).startswith("dem.tif: 4.0 MiB is larger than the DEM limit of 3 MiB (ATLAS_DEM_MAX_MB)")
    within_each = {"dem": ("dem.tif", b"\0" * 4 * MiB), "weather": ("w.csv", b"9" * (3 * MiB // 2))}
    both = uploads.post("/site", "planner", within_each, **SITE)  # together over the room of the request
    assert _problem(both, 413).startswith("5.5 MiB is larger than the upload limits allow (weather file 2 MiB "
                                          "(ATLAS_WEATHER_MAX_MB) + DEM 3 MiB (ATLAS_DEM_MAX_MB))")

    nothing = uploads.post("/site", "planner", {}, **SITE)
    assert "send a dem GeoTIFF, a weather file or both" in _problem(nothing, 422)


# ------------------------------------------------------------------------------ who may

def test_uploads_need_the_permissions_of_the_get_routes(uploads, demo_engine, tmp_path, shapotou_tmy3):
    weather = {"weather": (GREENSBORO.name, GREENSBORO.read_bytes())}
    bad = {"weather": ("notes.csv", b"x,y\n")}
    dem, _ = _write_dem(tmp_path / "dem.tif", _township_bounds(demo_engine, SITE["township"]))
    for files in (weather, bad):  # refused before the file is looked at
        assert "households layer" in _problem(uploads.post("/review", "viewer", files), 403)
        assert "households layer" in _problem(uploads.post("/site", "viewer", files, **SITE), 403)
    assert _problem(uploads.post("/site", "viewer", {"dem": (dem.name, dem.read_bytes())}, **SITE), 403)
    assert uploads.post("/yield", "viewer", weather, lat=36.1, lon=-79.95, kwp=1).status_code == 200
    for path in ("/yield", "/review", "/site"):
        assert _problem(uploads.post(path, None, weather, lat=37.5, lon=105.2, kwp=1), 401)
    local = {"weather": (shapotou_tmy3.name, shapotou_tmy3.read_bytes())}  # a station beside the district
    scoped = uploads.post("/review", "scoped", local)
    assert {t["township_name"] for t in scoped.json()["townships"]} == {"兴仁镇"}
    assert _problem(uploads.post("/review", "scoped", local, township="常乐镇"), 403)


def test_the_upload_operations_are_in_the_openapi_document(uploads):
    document = httpx.get(f"{uploads.base}/openapi.json", timeout=CLIENT_TIMEOUT_S).json()
    schemas = document["components"]["schemas"]
    for path, files in (("/api/pv/yield", {"weather"}), ("/api/pv/review", {"weather"}),
                        ("/api/pv/site", {"weather", "dem"})):
        get, post = document["paths"][path]["get"], document["paths"][path]["post"]
        assert "requestBody" not in get
        assert [p["name"] for p in post["parameters"]] == [p["name"] for p in get["parameters"]]
        body = post["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert set(schemas[body]["properties"]) == files
        assert {"413", "422"} <= set(post["responses"])
