"""The request path of ``/ogc`` reads: how many SQL statements a request costs once the server
is warm (schema checked at start-up, the caller's account cached by credential), and that the
cache never outlives a revocation made through the server's own accounts service."""

from __future__ import annotations

import contextlib
import uuid

import pytest
import sqlalchemy as sa

from api import security
from geo import storage
from geo.errors import ValidationError
from geo.storage import accounts
from geo.audit import SYSTEM


@contextlib.contextmanager
def counted(engine):
    """The SQL statements ``engine`` runs inside the block, at the driver (so every one counts),
    but for SQLite's BEGIN and COMMIT (SQLite runs in process: no round trip; psycopg's own
    BEGIN never reaches this hook, and a PostGIS read runs outside a transaction); and those
    the OGC reads send over the event loop's connections (:mod:`geo.db_async`), which bypass
    SQLAlchemy."""
    from geo.storage import query

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "BEGIN IMMEDIATE"):
            statements.append(statement)

    original = query._fetch_async

    async def record_async(bind, statement):
        statements.append(statement[0])
        return await original(bind, statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    query._fetch_async = record_async
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
        query._fetch_async = original


@pytest.fixture()
def api_key(scratch):
    new = security.new_api_key()
    user_id = scratch.user_ids["t_leader"]
    stored = accounts.add_api_key(scratch.engine, user_id, label=f"path {uuid.uuid4().hex[:6]}",
                                  prefix=new.prefix, key_hash=new.key_hash, actor=SYSTEM)
    return new.key, stored


def _warm(site, url, headers):
    assert site.get(url, headers=headers).status_code == 200  # fills the caches


@pytest.mark.parametrize("path, most", [
    ("/ogc/collections/households/items/1", 1),
    ("/ogc/collections/households/items?limit=10", 2),
    ("/ogc/collections/households/items?bbox=104,36,106,38&limit=10", 2),
])
def test_statements_per_warm_request(scratch, api_key, path, most):
    key, _ = api_key
    auth = {"X-API-Key": key}
    _warm(scratch, path, auth)
    with counted(scratch.engine) as statements:
        response = scratch.get(path, headers=auth)
    assert response.status_code == 200, response.text
    assert len(statements) <= most, statements


def test_statements_per_warm_request_with_a_token(scratch):
    auth = scratch.headers["leader"]
    path = "/ogc/collections/villages/items?limit=5"
    _warm(scratch, path, auth)
    with counted(scratch.engine) as statements:
        assert scratch.get(path, headers=auth).status_code == 200
    assert len(statements) <= 2, statements


def test_revoked_key_stops_at_once_though_cached(scratch, api_key):
    key, stored = api_key
    path = "/ogc/collections/villages/items?limit=1"
    _warm(scratch, path, {"X-API-Key": key})
    accounts.revoke_api_key(scratch.engine, stored["id"], user_id=None, actor=SYSTEM)
    assert scratch.get(path, headers={"X-API-Key": key}).status_code == 401


def test_deactivated_user_stops_at_once_though_cached(scratch):
    name = f"t_cache_{uuid.uuid4().hex[:6]}"
    user = accounts.create_user(scratch.engine, name=name, role="leader", password_hash=None, actor=SYSTEM)
    new = security.new_api_key()
    accounts.add_api_key(scratch.engine, user["id"], label="cache", prefix=new.prefix, key_hash=new.key_hash,
                         actor=SYSTEM)
    path = "/ogc/collections/villages/items?limit=1"
    _warm(scratch, path, {"X-API-Key": new.key})
    accounts.update_user(scratch.engine, user["id"], {"is_active": False}, actor=SYSTEM, version=None)
    assert scratch.get(path, headers={"X-API-Key": new.key}).status_code == 401


def test_township_change_applies_at_once_though_cached(scratch):
    name = f"t_scope_{uuid.uuid4().hex[:6]}"
    user = accounts.create_user(scratch.engine, name=name, role="leader", password_hash=None, actor=SYSTEM)
    new = security.new_api_key()
    accounts.add_api_key(scratch.engine, user["id"], label="cache", prefix=new.prefix, key_hash=new.key_hash,
                         actor=SYSTEM)
    path = "/ogc/collections/villages/items?limit=1000"
    everything = scratch.get(path, headers={"X-API-Key": new.key}).json()["numberReturned"]
    accounts.update_user(scratch.engine, user["id"], {"townships": ["兴仁镇"]}, actor=SYSTEM, version=None)
    scoped = scratch.get(path, headers={"X-API-Key": new.key}).json()["numberReturned"]
    assert 0 < scoped < everything


#: The shapes of hot read (an item, a page, a bbox page, in township ids; keyset or offset):
#: also the reads sent over the event loop (tests/geo/test_db_async.py).
HOT_READ_OPTIONS = [
    {"ids": [7], "limit": 1},
    {"ids": [999_999], "limit": 1},
    {"limit": 25, "offset": 300},
    {"bbox": (105.0, 37.3, 105.3, 37.6), "limit": 40},
    {"township": [1, 2], "limit": 30, "offset": 5},
    {"township": 2, "bbox": (104.0, 36.0, 106.0, 38.0), "limit": 20, "geometry_dimension": 0},
    {"limit": 25, "after_id": 300},
    {"township": [1, 2], "bbox": (104.0, 36.0, 106.0, 38.0), "limit": 20, "after_id": 50},
]


@pytest.mark.parametrize("options", HOT_READ_OPTIONS)
def test_hot_reads_answer_what_the_general_select_answers(demo_engine, options):
    """The item, page and bbox reads of ``/ogc`` run SQL compiled once (``_hot_read`` on
    PostGIS); they must return the very columns and rows of the general SELECT."""
    from geo.layers import get_layer
    from geo.storage import query

    filters = {"where": {}, "sortby": [], "intersects": None, "cql": None, **options}
    names, rows = storage.read_rows(demo_engine, "households", **filters)
    with demo_engine.connect() as conn:
        result = conn.execute(query._layer_statement(conn, get_layer("households"), options))
        expected = list(result.keys()), [tuple(row) for row in result.fetchall()]
        took_hot_path = query._hot_read(conn, get_layer("households"), filters) is not None
    assert took_hot_path == (demo_engine.dialect.name == "postgresql")
    assert (names, rows) == expected
    assert options.get("ids") == [999_999] or rows  # the cases read something
    assert "head_name" not in names and "id_number" not in names


def test_a_bbox_with_min_above_max_is_refused_on_the_hot_read(demo_engine):
    with pytest.raises(ValidationError, match="min <= max"):
        storage.read_rows(demo_engine, "households", bbox=(105.3, 37.3, 105.0, 37.6), limit=10)
