"""The registry's state token: equal while nothing changes, different after any write, on
both backends; writes made behind this process's back (raw SQL, as another process would)
are seen through the database's own fingerprint."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import models, storage
from geo.audit import SYSTEM

VILLAGES = models.Village.__table__
LINKS = models.pv_project_households


@pytest.fixture
def registry(conn):
    town = storage.write_layer(conn, "townships", gpd.GeoDataFrame(
        {"name": ["甲镇"]}, geometry=[box(105.0, 37.0, 105.4, 37.4)], crs=4326)).ids[0]
    villages = storage.write_layer(conn, "villages", gpd.GeoDataFrame(
        {"name": ["一村", "二村"], "township_id": [town, town], "category": ["poor", "poor"]},
        geometry=[Point(105.1, 37.1), Point(105.2, 37.2)], crs=4326)).ids
    households = storage.write_layer(conn, "households", pd.DataFrame(
        {"code": ["H1", "H2"], "village_id": [villages[0], villages[1]], "status": ["registered"] * 2})).ids
    projects = storage.write_layer(conn, "pv_projects", gpd.GeoDataFrame(
        {"name": ["站一", "站二"], "kind": ["village_station"] * 2, "capacity_kw": [100.0, 200.0],
         "status": ["grid_connected"] * 2}, geometry=[Point(105.1, 37.1), Point(105.2, 37.2)], crs=4326)).ids
    storage.write_links(conn, "pv_project_households", pd.DataFrame(
        {"project_id": projects, "household_id": households}))
    return {"town": town, "villages": villages, "households": households, "projects": projects}


def test_the_token_is_stable_while_nothing_changes(conn, registry):
    first = storage.state_token(conn)
    assert len(first) == 16 and int(first, 16) >= 0
    assert storage.state_token(conn) == first
    storage.read_layer(conn, "villages")  # reads change nothing
    assert storage.state_token(conn) == first


def test_every_kind_of_registry_write_changes_it(conn, registry):
    seen = [storage.state_token(conn)]

    def changed() -> bool:
        token = storage.state_token(conn)
        new = token not in seen
        seen.append(token)
        return new

    storage.write_layer(conn, "villages", pd.DataFrame({"id": [registry["villages"][0]], "population": [500]}))
    assert changed()
    storage.write_layer(conn, "settlements", gpd.GeoDataFrame(
        {"name": ["小组"], "village_id": [registry["villages"][0]]}, geometry=[Point(105.1, 37.1)], crs=4326))
    assert changed()
    row = storage.update_record(conn, "villages", registry["villages"][1], {"name": "新二村"}, version=1,
                                actor=SYSTEM)
    assert changed()
    storage.write_links(conn, "pv_project_households", pd.DataFrame(
        {"project_id": [registry["projects"][0]], "household_id": [registry["households"][1]]}))
    assert changed()
    added = storage.insert_record(conn, "units", {"name": "某局"}, actor=SYSTEM)
    assert changed()
    storage.delete_record(conn, "units", added["id"], version=1, actor=SYSTEM)
    assert changed()
    storage.delete_rows(conn, "settlements", storage.read_layer(conn, "settlements")["id"].tolist())
    assert changed()
    assert row["version"] == 2


@pytest.mark.parametrize("change", ["insert", "update", "delete", "move_link", "swap_links"])
def test_a_write_behind_the_storage_layer_is_seen_by_the_fingerprint(conn, registry, change):
    """What another process (atlas import while the server runs) looks like to this one:
    rows changed without this process's write counter moving."""
    before, writes = storage.state_token(conn), storage._writes
    v1 = registry["villages"][0]
    (p1, p2), (h1, h2) = registry["projects"], registry["households"]
    if change == "insert":
        conn.execute(VILLAGES.insert().values(name="三村", township_id=registry["town"], category="poor",
                                              source="other"))
    elif change == "update":  # as storage does: the version goes up
        conn.execute(VILLAGES.update().where(VILLAGES.c.id == v1).values(population=7,
                                                                          version=VILLAGES.c.version + 1))
    elif change == "delete":
        conn.execute(LINKS.delete().where(LINKS.c.household_id == h1))
    elif change == "move_link":  # the same number of links, one owner changed
        conn.execute(LINKS.update().where(LINKS.c.household_id == h1).values(project_id=p2))
    else:  # p1-h1, p2-h2 become p1-h2, p2-h1: counts and sums of both keys unchanged
        conn.execute(LINKS.delete())
        conn.execute(LINKS.insert(), [{"project_id": p1, "household_id": h2}, {"project_id": p2, "household_id": h1}])
    assert storage._writes == writes  # this process's counter did not move: the database told
    assert storage.state_token(conn) != before


def test_accounts_and_plans_are_not_registry_state(conn, registry):
    from geo.storage import accounts

    before = storage.state_token(conn)
    accounts.create_user(conn, name="someone", role="viewer", password_hash="x" * 60, actor=SYSTEM)
    assert storage.state_token(conn) == before


def test_an_empty_registry_has_a_token_and_a_missing_schema_is_explained(engine, empty_url):
    from geo.db import make_engine
    from geo.errors import SchemaMissing

    assert len(storage.state_token(engine)) == 16  # migrated, no rows: every aggregate is empty

    bare = make_engine(empty_url)
    try:
        with pytest.raises(SchemaMissing, match="atlas db upgrade"):
            storage.state_token(bare)
    finally:
        bare.dispose()
