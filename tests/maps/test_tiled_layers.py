"""Large layers drawn from the server's vector tiles instead of embedded GeoJSON: the service
leaves a layer above the threshold unread, the builders make a tiled overlay of it, the
served page asks the tiles with the page's cookie, and a file written by ``atlas map``
still embeds every feature (no server behind it).

The threshold is lowered through the setting (``ATLAS_MAP_TILE_THRESHOLD``) rather than
writing 20,000 rows; both backends."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import geopandas as gpd
import mapbox_vector_tile
import pytest
from shapely.geometry import LineString, Point

from geo import storage
from geo.services.maps import map_frames
from geo.tiles import TiledLayer
from maps import base as mb
from maps.catalog import MAPS
from maps.overview import households_overlay, overview_map, roads_overlay
from maps.pages import load_map
from tests.api.accounts import ensure_users, login
from tests.conftest import Site, run_cli

#: Lower than the demo's households, roads and settlements, higher than its villages (45).
THRESHOLD = 50
PAYLOAD = re.compile(r"atlas\.tileOverlay\([^,]+, (\{.*?\})\);\n", re.S)


def tile_payloads(html: str) -> dict[str, dict]:
    found = {}
    for match in PAYLOAD.finditer(html):
        spec = json.loads(match.group(1))
        found[spec["key"]] = spec
    return found


@pytest.fixture(scope="module")
def served(demo_url, demo_engine):
    ensure_users(demo_engine)
    site = Site(demo_url, env={"ATLAS_MAP_TILE_THRESHOLD": str(THRESHOLD)})
    try:
        yield SimpleNamespace(site=site, leader=login(site, "t_leader"), viewer=login(site, "t_viewer"),
                              planner=login(site, "t_planner"))
    finally:
        site.close()


# ---------------------------------------------------------------------- service


def test_a_layer_above_the_threshold_is_not_read_but_counted(demo_engine):
    frames = map_frames(demo_engine, MAPS["overview"], tile_above=THRESHOLD)
    households = frames["households"]
    assert isinstance(households, TiledLayer)
    assert households.rows == storage.count_layer(demo_engine, "households") > THRESHOLD
    assert households.synthetic  # the demo's households are synthetic: the legend says so
    assert isinstance(frames["roads"], TiledLayer)
    # Villages are never tiled (names drawn on the map, the search box), whatever their number.
    assert isinstance(frames["villages"], gpd.GeoDataFrame)
    below = map_frames(demo_engine, MAPS["overview"], tile_above=10**9)
    assert isinstance(below["households"], gpd.GeoDataFrame)
    assert len(below["households"]) == households.rows


def test_the_tiles_follow_the_maps_township(demo_engine):
    frames = map_frames(demo_engine, MAPS["overview"], township="兴仁镇", tile_above=1)
    assert frames["households"].township == "兴仁镇"
    assert frames["households"].rows == storage.count_layer(demo_engine, "households", township="兴仁镇")
    assert frames["households"].url().endswith("/{z}/{y}/{x}?township=%E5%85%B4%E4%BB%81%E9%95%87")


# ---------------------------------------------------------------------- builders


def test_builders_draw_tiles_for_a_large_frame_under_the_policy():
    roads = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "name": ["甲路", "乙路", "丙路"], "surface": ["hardened", "gravel", "earth"],
         "width_m": [6.0, 4.0, None], "source": ["demo:synthetic", "test", "test"]},
        geometry=[LineString([(105.0, 37.0), (105.1, 37.1)])] * 3, crs="EPSG:4326")
    assert isinstance(roads_overlay(roads), mb.Overlay)  # no policy: embedded (a file)
    with mb.tile_policy(mb.TilePolicy(3)):
        assert isinstance(roads_overlay(roads), mb.Overlay)  # not above the threshold
    with mb.tile_policy(mb.TilePolicy(2, township="甲镇")):
        tiled = roads_overlay(roads)
    assert isinstance(tiled, mb.TileOverlay)
    spec = json.loads(tiled.payload())
    assert spec["tiles"]["url"].startswith("/ogc/collections/roads/tiles/WebMercatorQuad/{z}/{y}/{x}?township=")
    assert spec["tiles"]["fields"]["surface"]["labels"]["gravel"] == "砂石路"
    assert spec["styleBy"]["values"]["砂石路"]["dashArray"] == "8 4"  # the same styles as embedded roads
    assert spec["tiles"]["scale"] == [{"field": "width_m", "option": "weight", "divide": 1.5, "low": 1.5,
                                       "high": 6.0, "default": 2.0}]
    assert "features" not in spec
    assert tiled.layer.synthetic


def test_the_overview_with_tiled_layers_says_so_in_its_legend(villages, townships):
    households = TiledLayer("households", 123_456, synthetic=True)
    m = overview_map(villages=villages, townships=townships, households=households,
                     roads=TiledLayer("roads", 54_321))
    tiled = mb.tile_overlays_of(m)
    assert set(tiled) == {"households", "roads"}
    assert "households" not in mb.overlays_of(m) and "villages" in mb.overlays_of(m)
    labels = m.atlas_legend.labels()
    assert "农户（矢量瓦片）：123,456 个要素，以矢量瓦片显示，放大至 12 级及以上可见" in labels
    assert any("高德底图上未作 GCJ-02 偏移" in label for label in labels)
    assert not any("聚合" in label for label in labels)  # tiled households are not clustered
    assert m.atlas_legend.demo_note == mb.DEMO_NOTE  # synthetic rows still said
    assert "农户 123,456 户" in m.atlas_subtitle


def test_households_tiles_never_name_personal_fields():
    overlay = households_overlay(TiledLayer("households", 10))
    spec = json.loads(overlay.payload())
    named = {f["from"] for f in spec["tiles"]["fields"].values()}
    assert not named & {"head_name", "id_number"}


# ---------------------------------------------------------------------- served and written maps


def test_the_served_overview_asks_tiles_instead_of_embedding(served, demo_engine):
    response = served.site.get("/maps/overview", headers=served.leader)
    assert response.status_code == 200, response.text
    html = response.text
    payloads = tile_payloads(html)
    assert set(payloads) == {"households", "roads", "settlements"}
    assert payloads["households"]["rows"] == storage.count_layer(demo_engine, "households")
    assert "/maps/assets/vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" in html
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', html)  # no CDN
    # Every tile URL of the page answers this viewer, and its features are the items'.
    url = payloads["households"]["tiles"]["url"].format(z=12, y=1581, x=3247)
    assert served.site.get(url, headers=served.leader).status_code in (200, 204)


def test_the_served_map_is_smaller_than_the_written_one(served, demo_engine, demo_url, tmp_path):
    served_html = served.site.get("/maps/overview", headers=served.leader).text
    out = tmp_path / "overview.html"
    run_cli("map", "overview", "--db", demo_url, "-o", str(out), env={"ATLAS_MAP_TILE_THRESHOLD": "1"}, check=True)
    written = out.read_text(encoding="utf-8")
    # A file has no server to ask: every household is embedded, whatever the setting.
    assert "atlas.tileOverlay(" not in written
    assert written.count('"status"') >= storage.count_layer(demo_engine, "households")
    assert served_html.count('"g":') < written.count('"g":')


def test_a_viewer_gets_neither_the_households_overlay_nor_their_tiles(served):
    html = served.site.get("/maps/overview", headers=served.viewer).text
    assert "households" not in tile_payloads(html)
    tile = served.site.get("/ogc/collections/households/tiles/WebMercatorQuad/12/1581/3247", headers=served.viewer)
    assert tile.status_code in (403, 404)


def test_tiles_carry_no_personal_field_even_for_a_planner(served, demo_engine):
    households = storage.read_layer(demo_engine, "households", columns=["code"])
    point = households.geometry.iloc[0]
    z, (row, col) = 12, _tile_of(point, 12)
    for headers in (served.leader, served.planner):
        tile = served.site.get(f"/ogc/collections/households/tiles/WebMercatorQuad/{z}/{row}/{col}", headers=headers)
        assert tile.status_code == 200
        layer = mapbox_vector_tile.decode(tile.content)["households"]
        assert layer["features"]
        for feature in layer["features"]:
            assert not {"head_name", "id_number"} & set(feature["properties"])


def _tile_of(point: Point, z: int) -> tuple[int, int]:
    import math

    n = 2 ** z
    col = int((point.x + 180.0) / 360.0 * n)
    lat = math.radians(point.y)
    row = int((1.0 - math.asinh(math.tan(lat)) / math.pi) / 2.0 * n)
    return row, col


def test_load_map_without_tiles_embeds(demo_engine):
    _, m = load_map(demo_engine, "overview")
    assert mb.tile_overlays_of(m) == {}
    _, tiled = load_map(demo_engine, "overview", tile_above=THRESHOLD)
    assert set(mb.tile_overlays_of(tiled)) == {"households", "roads", "settlements"}


def test_a_tile_with_properties_carries_those_alone(served, demo_engine):
    point = storage.read_layer(demo_engine, "households", columns=["code"]).geometry.iloc[0]
    row, col = _tile_of(point, 12)
    path = f"/ogc/collections/households/tiles/WebMercatorQuad/12/{row}/{col}"
    whole = mapbox_vector_tile.decode(served.site.get(path, headers=served.leader).content)["households"]
    slim = served.site.get(path + "?properties=code,status,source", headers=served.leader)
    assert slim.status_code == 200
    slim_layer = mapbox_vector_tile.decode(slim.content)["households"]
    assert sorted(f["id"] for f in slim_layer["features"]) == sorted(f["id"] for f in whole["features"])
    assert {k for f in slim_layer["features"] for k in f["properties"]} == {"code", "status", "source"}
    assert len(slim.content) < len(served.site.get(path, headers=served.leader).content)
    refused = served.site.get(path + "?properties=code,head_name", headers=served.planner)
    assert refused.status_code == 400
    assert "head_name" in refused.text and "members" in refused.text  # names the bad one and those offered


def test_the_map_asks_only_the_fields_it_shows(served):
    payloads = tile_payloads(served.site.get("/maps/overview", headers=served.leader).text)
    url = payloads["households"]["tiles"]["url"]
    assert url.endswith("?properties=code,status,members,source")
    assert payloads["roads"]["tiles"]["url"].endswith("?properties=name,road_class,surface,width_m,code,source")
    tile = served.site.get(url.format(z=12, y=1581, x=3247), headers=served.leader)
    assert tile.status_code in (200, 204)


@pytest.mark.parametrize("name", ["roads", "monitoring"])
def test_analysis_maps_draw_their_large_roads_from_tiles(demo_engine, name):
    """The road-access and monitoring maps read the roads for their analyses; above the
    threshold they draw them from tiles, the layers the analyses compute stay embedded."""
    roads = storage.count_layer(demo_engine, "roads")
    _, tiled = load_map(demo_engine, name, tile_above=roads - 1)
    assert set(mb.tile_overlays_of(tiled)) == {"roads"}
    assert "roads" not in mb.overlays_of(tiled)
    assert mb.overlays_of(tiled)  # the analysis's own layers
    _, embedded = load_map(demo_engine, name, tile_above=roads)
    assert mb.tile_overlays_of(embedded) == {} and "roads" in mb.overlays_of(embedded)
