"""Registry CRUD over real HTTP on both backends: round trips for every resource, stale
versions refused, the audit log, validation problems, township scope."""

from __future__ import annotations

import copy
import threading
import uuid

import pytest

from api.schemas.registry import EXAMPLES
from geo import storage
from geo.layers import LAYERS

#: The field each round trip changes, and its new value.
CHANGE = {
    "areas": ("name", "改名县"), "townships": ("name", "改名镇"), "villages": ("population", 4321), "settlements": ("households", 77),
    "households": ("members", 6), "units": ("level", "市级"), "pairings": ("task_funds_wan_yuan", 2.5),
    "work_teams": ("member_count", 5), "cadres": ("rank", "division"), "roads": ("width_m", 6.5),
    "water_facilities": ("capacity_m3_per_day", 120.0), "pv_projects": ("capacity_kw", 450.0),
    "projects": ("funds_wan_yuan", 20.0), "unit_inputs": ("cadres_general", 7),
}

OTHER = {"areas": "又改名县", "townships": "又改名镇", "units": "district", "cadres": "general"}


def new_body(layer: str) -> dict:
    """The documented example with unique natural keys (so it never collides with the demo)."""
    body = copy.deepcopy(EXAMPLES[layer])
    tag = uuid.uuid4().hex[:8]
    if "name" in body:
        body["name"] = f"{body['name']}{tag}"
    if "code" in body:
        if layer == "areas":  # a county code under the demo's 中卫市 (640500), never 640502
            body["code"] = f"6405{10 + int(tag, 16) % 90:02d}"
        else:
            body["code"] = str(uuid.uuid4().int)[:9] if layer == "townships" else f"{body['code']}-{tag}"
    if "year" in body:
        body["year"] = 2031 + int(tag, 16) % 60
    return body


@pytest.mark.parametrize("layer", list(LAYERS))
def test_round_trip_stale_versions_and_audit(scratch, layer):
    base, planner, admin = scratch.base, scratch.headers["planner"], scratch.headers["admin"]
    url = f"{base}/api/registry/{layer}"
    body = new_body(layer)
    created = scratch.post(url, json=body, headers=planner)
    assert created.status_code == 201, created.text
    row = created.json()
    assert created.headers["etag"] == '"1"' and row["version"] == 1
    assert "head_name" not in row and "id_number" not in row
    location = created.headers["location"]
    assert location.endswith(f"/api/registry/{layer}/{row['id']}")
    fetched = scratch.get(location, headers=planner)
    assert fetched.status_code == 200 and fetched.json() == row and fetched.headers["etag"] == '"1"'
    for key, value in body.items():
        if key not in ("geometry", "head_name", "category", "kind", "rank", "level", "status"):
            assert row[key] == value, key
    if "geometry" in body:
        assert row["geometry"]["type"].replace("Multi", "") == body["geometry"]["type"].replace("Multi", "")

    field, value = CHANGE[layer]
    changed = scratch.patch(location, json={field: value}, headers={**planner, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"' and changed.json()["version"] == 2

    other = value + 1 if isinstance(value, (int, float)) else OTHER[layer]
    stale = scratch.patch(location, json={field: other}, headers={**planner, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    stale_body = scratch.patch(location, json={field: value, "version": 1}, headers=planner)
    assert stale_body.status_code == 409 and "version 2" in stale_body.json()["detail"]
    missing = scratch.patch(location, json={field: value}, headers=planner)
    assert missing.status_code == 428
    assert scratch.get(location, headers=planner).json()[field] == changed.json()[field]

    entries = scratch.get(f"{base}/api/audit", params={"layer": layer, "row_id": row["id"]}, headers=admin).json()
    assert [e["action"] for e in entries["items"]] == ["update", "create"]
    update = entries["items"][0]
    assert update["user_name"] == "t_planner" and set(update["after"]) == {field}
    assert update["before"][field] != update["after"][field]

    assert scratch.delete(location, headers={**planner, "If-Match": '"1"'}).status_code == 412
    assert scratch.delete(location, headers={**planner, "If-Match": '"2"'}).status_code == 204
    assert scratch.get(location, headers=planner).status_code == 404
    last = scratch.get(f"{base}/api/audit", params={"layer": layer, "row_id": row["id"]}, headers=admin).json()
    assert last["items"][0]["action"] == "delete" and last["items"][0]["before"]


def test_racing_writers_cannot_both_win(scratch):
    planner = scratch.headers["planner"]
    location = scratch.post("/api/registry/units", json=new_body("units"), headers=planner).headers["location"]
    results = []

    def write(level):
        results.append(scratch.patch(location, json={"level": level}, headers={**planner, "If-Match": '"1"'}).status_code)

    threads = [threading.Thread(target=write, args=(lvl,)) for lvl in ("city", "central", "region", "township")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 412, 412, 412]
    assert scratch.get(location, headers=planner).json()["version"] == 2


def test_validation_problems_name_the_field_and_the_fix(scratch):
    url, planner = f"{scratch.base}/api/registry/villages", scratch.headers["planner"]
    response = scratch.post(url, json={"name": "坏村", "township_id": 1, "category": "poor", "population": -5,
                                     "colour": "red"}, headers=planner)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "greater than or equal to 0" in fields["body field population"]
    assert "unknown field" in fields["body field colour"]
    response = scratch.post(url, json={"name": "坏村", "township_id": 1, "category": "穷村"}, headers=planner)
    assert response.status_code == 422 and "重点贫困村" in response.json()["detail"]
    line = {"type": "LineString", "coordinates": [[105, 37], [105.1, 37.1]]}
    response = scratch.post(url, json={"name": "线村", "township_id": 1, "category": "poor", "geometry": line},
                          headers=planner)
    assert response.status_code == 422 and "geometry" in response.json()["detail"]
    response = scratch.post(url, json={"name": "远村", "township_id": 1, "category": "poor",
                                     "geometry": {"type": "Point", "coordinates": [500, 37]}}, headers=planner)
    assert response.status_code == 422 and "longitude" in response.json()["detail"]


def test_enum_labels_accepted_and_duplicates_refused(scratch):
    url, planner = f"{scratch.base}/api/registry/villages", scratch.headers["planner"]
    # with a position: the shared scratch registry's inspection draws may sample this exited village
    body = {"name": f"标签村{uuid.uuid4().hex[:6]}", "township_id": 1, "category": "脱贫销号村",
            "geometry": {"type": "Point", "coordinates": [105.2, 37.5]}}
    created = scratch.post(url, json=body, headers=planner)
    assert created.status_code == 201 and created.json()["category"] == "exited"
    again = scratch.post(url, json=body, headers=planner)
    assert again.status_code == 409 and "exists already" in again.json()["detail"]
    orphan = scratch.post(url, json={**body, "name": "孤村", "township_id": 99999}, headers=planner)
    assert orphan.status_code == 409


def test_delete_refused_while_referenced(scratch):
    planner = scratch.headers["planner"]
    village = scratch.get("/api/registry/villages/1", headers=planner)
    response = scratch.delete("/api/registry/villages/1",
                              headers={**planner, "If-Match": village.headers["etag"]})
    assert response.status_code == 409 and "refer" in response.json()["detail"]
    assert scratch.get("/api/registry/villages/1", headers=planner).status_code == 200


def test_list_filters_and_pages(scratch):
    planner = scratch.headers["planner"]
    expected = storage.count_layer(scratch.engine, "households", where={"village_id": 2})
    body = scratch.get("/api/registry/households", params={"village_id": 2, "limit": 10},
                       headers=planner).json()
    assert body["numberMatched"] == expected and body["numberReturned"] == 10
    assert {h["village_id"] for h in body["items"]} == {2}
    assert all("head_name" not in h and "id_number" not in h for h in body["items"])
    assert any(link["rel"] == "next" for link in body["links"])


def test_township_scope_filters_reads_and_refuses_writes_outside(scratch):
    scoped = scratch.headers["scoped"]
    inside = storage.read_layer(scratch.engine, "villages", township="兴仁镇")
    outside = storage.read_layer(scratch.engine, "villages", township="常乐镇")
    listed = scratch.get("/api/registry/villages", params={"limit": 1000}, headers=scoped).json()
    assert sorted(v["id"] for v in listed["items"]) == sorted(inside["id"])
    layer = scratch.get("/api/layers/villages", headers=scoped).json()
    assert {f["properties"]["township_name"] for f in layer["features"]} == {"兴仁镇"}
    ogc = scratch.get("/ogc/collections/households/items", params={"limit": 10000}, headers=scoped).json()
    assert ogc["numberMatched"] == storage.count_layer(scratch.engine, "households", township="兴仁镇")
    assert scratch.get("/api/layers/villages", params={"township": "常乐镇"}, headers=scoped).status_code == 403
    other_id = int(outside["id"].iloc[0])
    assert scratch.get(f"/api/registry/villages/{other_id}", headers=scoped).status_code == 404
    assert scratch.patch(f"/api/registry/villages/{other_id}", json={"population": 1, "version": 1},
                         headers=scoped).status_code == 404

    other_township = storage.resolve_township(scratch.engine, "常乐镇")
    before = storage.count_layer(scratch.engine, "villages")
    refused = scratch.post("/api/registry/villages",
                           json={"name": "越界村", "township_id": other_township, "category": "poor"}, headers=scoped)
    assert refused.status_code == 403 and "兴仁镇" in refused.json()["detail"]
    assert storage.count_layer(scratch.engine, "villages") == before

    own_id = int(inside["id"].iloc[0])
    own = scratch.get(f"/api/registry/villages/{own_id}", headers=scoped)
    moved = scratch.patch(f"/api/registry/villages/{own_id}", json={"township_id": other_township},
                          headers={**scoped, "If-Match": own.headers["etag"]})
    assert moved.status_code == 403
    after = scratch.get(f"/api/registry/villages/{own_id}", headers=scoped)
    assert after.json() == own.json()
    grown = own.json()["population"] + 1  # a population below the stored households is refused
    ok = scratch.patch(f"/api/registry/villages/{own_id}", json={"population": grown},
                       headers={**scoped, "If-Match": own.headers["etag"]})
    assert ok.status_code == 200 and ok.json()["population"] == grown


def test_two_applications_share_the_registry_routers_and_each_writes_its_own_database(scratch, databases):
    """The registry's routers are built once per process (api.routes.registry.routers) and
    included by every application: a row created through one application is in its database
    only, and each application answers for its own."""
    from api.routes import registry
    from tests.api.conftest import Scratch

    assert registry.routers() is registry.routers()
    other = Scratch(databases.demo_url())  # a second application, on its own copy of the demo
    try:
        body = new_body("units")
        created = other.post("/api/registry/units", json=body, headers=other.headers["planner"])
        assert created.status_code == 201, created.text
        location = created.headers["location"].removeprefix(other.base)
        assert other.get(location, headers=other.headers["planner"]).json()["name"] == body["name"]
        assert storage.count_layer(other.engine, "units", where={"name": body["name"]}) == 1
        assert storage.count_layer(scratch.engine, "units", where={"name": body["name"]}) == 0
        mine = scratch.get(location, headers=scratch.headers["planner"])
        assert mine.status_code == 404 or mine.json()["name"] != body["name"]
    finally:
        other.close()
