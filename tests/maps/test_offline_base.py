"""The blank (offline) base map's own layers: township outlines and names, village and
settlement names and roads from the registry, on every served map, within the caller's
townships, escaped like every other value."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from shapely.geometry import Point, shape

from maps.base import BaseLayer, add_offline_base, new_map, offline_base_payload, render_map
from tests.api.accounts import ensure_users, login
from tests.conftest import Site
from tests.maps.conftest import XSS

BASE_CALL = re.compile(r"atlas\.base\([^,]+, (\{.*?\})\);\n")


def _blank_spec(page: str) -> dict:
    specs = [json.loads(s) for s in BASE_CALL.findall(page)]
    return next(s for s in specs if s["key"] == "blank")


def test_the_payload_has_outlines_roads_points_and_names_where_they_belong(townships, villages, roads):
    villages = villages.copy()
    villages.loc[villages.index[0], "name"] = XSS
    payload = offline_base_payload({"townships": townships, "villages": villages, "roads": roads})
    assert len(payload["townships"]) == len(townships) and len(payload["villages"]) == len(villages)
    assert [r["s"] for r in payload["roads"]] == ["hardened", "earth"]
    labels = {(item["k"], item["t"]): item["p"] for item in payload["labels"]}
    for name, area in zip(townships["name"], townships.geometry):
        lat, lon = labels[("township", name)]
        assert area.contains(Point(lon, lat))  # inside its own area
    assert labels[("road", "县道")] == pytest.approx([37.15, 105.1])  # the middle of 105.1 E, 37.1-37.2 N
    assert ("village", XSS) in labels
    assert payload["settlements"] == []  # not given: nothing drawn, nothing invented

    m = new_map(base="osm")
    add_offline_base(m, {"townships": townships, "villages": villages, "roads": roads})
    bases = {c.base.key: c for c in m._children.values() if isinstance(c, BaseLayer)}
    assert bases["blank"].vector["labels"] and bases["osm"].vector is None
    page = render_map(m, assets="served")
    assert XSS not in page  # the name reaches the page only as escaped JSON (atlas.js sets it as text)
    assert _blank_spec(page)["vector"]["labels"] == bases["blank"].vector["labels"]


@pytest.fixture(scope="module")
def site(demo_url, demo_engine):
    ensure_users(demo_engine)
    served = Site(demo_url)
    try:
        yield SimpleNamespace(site=served, leader=login(served, "t_leader"), scoped=login(served, "t_scoped"))
    finally:
        served.close()


def test_a_served_map_carries_the_offline_base_and_a_scoped_user_only_their_township(site, demo_engine):
    from geo import storage

    page = site.site.get("/maps/overview", headers=site.leader)
    assert page.status_code == 200
    vector = _blank_spec(page.text)["vector"]
    kinds = {item["k"] for item in vector["labels"]}
    assert kinds == {"township", "village", "settlement", "road"}
    names = {item["t"] for item in vector["labels"]}
    registry = storage.read_layer(demo_engine, "villages", columns=["name"])
    assert set(registry["name"]) <= names and "宣和镇" in names
    roads = storage.read_layer(demo_engine, "roads", columns=["name", "surface"])
    assert len(vector["roads"]) == len(roads) and set(roads["name"].dropna()) <= names
    assert len(vector["townships"]) == 7
    # the offline base is the fallback of the online one, and its label says what it shows
    label = "离线底图（乡镇、村名、道路）"
    assert '"fallback":"blank"' in page.text and (label in page.text or json.dumps(label) in page.text)

    scoped = _blank_spec(site.site.get("/maps/overview", headers=site.scoped).text)["vector"]
    theirs = storage.read_layer(demo_engine, "villages", township="兴仁镇", columns=["name"])
    shown = {item["t"] for item in scoped["labels"] if item["k"] == "village"}
    assert shown == set(theirs["name"]) and len(scoped["townships"]) == 1
    for item in scoped["townships"]:
        area = shape(item["g"])
        assert all(area.buffer(0.01).contains(Point(p["p"][1], p["p"][0])) for p in scoped["labels"]
                   if p["k"] == "village")
