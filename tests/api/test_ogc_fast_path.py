"""The OGC item, page and bbox page read on the event loop (PostGIS:
:func:`geo.services.ogc.read_items_async`) answer exactly what the general path (the same
read in the thread pool, :func:`geo.services.ogc.read_items`) answers: same status, same
``Content-Crs``, same JSON but for the time stamp, on every collection, with and without a
township scope, with ``crs=``, for a missing id and for a feature outside the caller's
townships. On SpatiaLite the general path answers every read."""

from __future__ import annotations

import urllib.parse

import pytest

from geo.services import ogc as ogc_service

CRS_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
GEOMETRY_COLLECTIONS = [c.id for c in ogc_service.COLLECTIONS.values() if c.layer.geometry is not None]


@pytest.fixture()
def both_paths(demo_server, monkeypatch):
    """``ask(path, headers)``: the fast answer, the general answer, and whether the fast path
    served it."""
    original = ogc_service.read_items_async
    served: list[bool] = []

    async def spying(*args, **kwargs):
        page = await original(*args, **kwargs)
        served.append(page is not None)
        return page

    async def general(*args, **kwargs):
        return None  # the route then reads in the thread pool, as for any other read

    def ask(path: str, headers: dict[str, str]):
        served.clear()
        monkeypatch.setattr(ogc_service, "read_items_async", spying)
        fast = demo_server.get(path, headers=headers)
        monkeypatch.setattr(ogc_service, "read_items_async", general)
        slow = demo_server.get(path, headers=headers)
        monkeypatch.setattr(ogc_service, "read_items_async", original)
        return fast, slow, any(served)

    return ask


def _same(fast, slow) -> dict | None:
    assert fast.status_code == slow.status_code, (fast.text[:300], slow.text[:300])
    assert fast.headers.get("content-crs") == slow.headers.get("content-crs")
    assert fast.headers["content-type"] == slow.headers["content-type"]
    body, expected = fast.json(), slow.json()
    if fast.status_code != 200:
        assert body == expected
        return body
    body.pop("timeStamp", None), expected.pop("timeStamp", None)
    assert body == expected
    return body


def _on_postgis(demo_server) -> bool:
    return demo_server.engine.dialect.name == "postgresql"


@pytest.mark.parametrize("collection", list(ogc_service.COLLECTIONS))
@pytest.mark.parametrize("who", ["leader", "scoped"])
def test_pages_and_items_answer_what_the_general_path_answers(demo_server, headers, both_paths, collection, who):
    auth = headers[who]
    base = f"/ogc/collections/{collection}/items"
    fast, slow, took_fast = both_paths(f"{base}?limit=7&offset=2", auth)
    page = _same(fast, slow)
    if fast.status_code == 403:  # a layer this role may not read: refused the same way
        return
    assert took_fast == _on_postgis(demo_server)
    paths = [f"{base}?limit=3", f"{base}?limit=5&township=兴仁镇", f"{base}?limit=1000"]
    if page["features"]:
        first = page["features"][0]["id"]
        last = page["features"][-1]["id"]
        paths += [f"{base}/{first}", f"{base}?limit=4&offset=9&after={last}"]
    if collection in GEOMETRY_COLLECTIONS:
        crs = urllib.parse.quote(CRS_4326, safe="")
        paths.append(f"{base}?limit=4&crs={crs}")
        if page["features"]:
            paths.append(f"{base}/{page['features'][0]['id']}?crs={crs}")
        extent = demo_server.get(f"/ogc/collections/{collection}", headers=auth).json().get("extent")
        if extent is not None:
            minx, miny, maxx, maxy = extent["spatial"]["bbox"][0]
            mid_x, mid_y = (minx + maxx) / 2, (miny + maxy) / 2
            paths += [f"{base}?bbox={minx},{miny},{mid_x},{mid_y}&limit=5",
                      f"{base}?bbox={minx},{miny},{maxx},{maxy}&limit=1000",
                      f"{base}?bbox={minx},{miny},{maxx},{maxy}&limit=2&offset=1"]
    for path in paths:
        fast, slow, took_fast = both_paths(path, auth)
        _same(fast, slow)
        assert took_fast == _on_postgis(demo_server), path


def test_a_missing_id_is_a_404_on_both_paths(demo_server, headers, both_paths):
    fast, slow, took_fast = both_paths("/ogc/collections/households/items/999999999", headers["leader"])
    assert fast.status_code == 404
    _same(fast, slow)
    assert took_fast == _on_postgis(demo_server)


def test_a_scoped_user_sees_no_feature_of_another_township(demo_server, headers, both_paths):
    elsewhere = demo_server.get("/ogc/collections/households/items?limit=1000&township=东园镇",
                                headers=headers["leader"]).json()["features"]
    inside = demo_server.get("/ogc/collections/households/items?limit=1000",
                             headers=headers["scoped"]).json()["features"]
    assert elsewhere and inside
    assert not {f["id"] for f in elsewhere} & {f["id"] for f in inside}
    fast, slow, took_fast = both_paths(f"/ogc/collections/households/items/{elsewhere[0]['id']}",
                                       headers["scoped"])
    assert fast.status_code == 404
    _same(fast, slow)
    assert took_fast == _on_postgis(demo_server)
    # and the scoped user's own features are there
    fast, slow, _ = both_paths(f"/ogc/collections/households/items/{inside[0]['id']}", headers["scoped"])
    assert _same(fast, slow)["id"] == inside[0]["id"]


def test_a_township_outside_the_scope_is_refused_on_both_paths(demo_server, headers, both_paths):
    fast, slow, _ = both_paths("/ogc/collections/households/items?township=东园镇", headers["scoped"])
    assert fast.status_code == 403
    _same(fast, slow)


def test_a_full_page_counts_what_the_general_path_counts(demo_server, headers, both_paths):
    """A full bbox page needs a count (numberMatched); a full unfiltered page the estimate."""
    extent = demo_server.get("/ogc/collections/households", headers=headers["leader"]).json()["extent"]
    minx, miny, maxx, maxy = extent["spatial"]["bbox"][0]
    for path in (f"/ogc/collections/households/items?bbox={minx},{miny},{maxx},{maxy}&limit=3",
                 "/ogc/collections/households/items?limit=3&offset=4"):
        fast, slow, took_fast = both_paths(path, headers["leader"])
        body = _same(fast, slow)
        assert body["numberReturned"] == 3 and body["numberMatched"] > 3
        assert any(link["rel"] == "next" for link in body["links"])
        assert took_fast == _on_postgis(demo_server)


def test_other_reads_take_the_general_path(demo_server, headers, both_paths):
    for path in ("/ogc/collections/households/items?limit=3&sortby=-members",
                 "/ogc/collections/households/items?limit=3&filter=members%20%3E%202",
                 "/ogc/collections/households/items?limit=3&members=3"):
        fast, slow, took_fast = both_paths(path, headers["leader"])
        _same(fast, slow)
        assert fast.status_code == 200 and not took_fast


@pytest.mark.parametrize("path, statements", [
    ("/ogc/collections/households/items/1", 1),
    ("/ogc/collections/households/items?limit=10", 2),  # a full page: the rows, then the count
    ("/ogc/collections/households/items?bbox=104,36,106,38&limit=10", 2),
    ("/ogc/collections/villages/items?limit=1000", 1),  # the last page counts itself
])
def test_statements_per_request_on_the_event_loop(demo_server, headers, monkeypatch, path, statements):
    """What ``test_ogc_request_path`` counts at SQLAlchemy's hook, for the reads that bypass
    it: the statements sent over the event loop's connections (none over the engine's)."""
    from geo.storage import query

    sent = []
    original = query._fetch_async

    async def counting(engine, statement):
        sent.append(statement[0])
        return await original(engine, statement)

    monkeypatch.setattr(query, "_fetch_async", counting)
    assert demo_server.get(path, headers=headers["leader"]).status_code == 200  # warm: the principal is kept
    sent.clear()
    response = demo_server.get(path, headers=headers["leader"])
    assert response.status_code == 200
    assert len(sent) == (statements if _on_postgis(demo_server) else 0), sent
