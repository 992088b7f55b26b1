"""Single records and the one optimistic-version write, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import Point

from geo import models, storage
from geo.audit import Actor
from geo.errors import NotFound, StaleVersion, ValidationError

ACTOR = Actor("测试员", None)
SETTLEMENTS = models.Settlement.__table__


@pytest.fixture
def settlement(conn, towns) -> dict:
    return storage.insert_record(conn, "settlements", {
        "village_id": towns["villages"][0], "name": "一组", "population": 10,
        "geometry": Point(105.05, 37.5)}, actor=ACTOR)


def test_versioned_update_writes_and_increments_the_version(conn, settlement):
    storage.versioned_update(conn, SETTLEMENTS, settlement["id"], 1, {"population": 11})
    row = storage.read_record(conn, "settlements", settlement["id"])
    assert (row["population"], row["version"]) == (11, 2)


def test_versioned_update_refuses_a_stale_version_naming_the_current_one(conn, settlement):
    storage.versioned_update(conn, SETTLEMENTS, settlement["id"], 1, {"population": 11})
    with pytest.raises(StaleVersion, match="version 2, not 1") as caught:
        storage.versioned_update(conn, SETTLEMENTS, settlement["id"], 1, {"population": 12})
    assert caught.value.current_version == 2
    assert storage.read_record(conn, "settlements", settlement["id"])["population"] == 11


def test_versioned_update_of_a_missing_row_is_not_found(conn, settlement):
    with pytest.raises(NotFound):
        storage.versioned_update(conn, SETTLEMENTS, settlement["id"] + 1000, 1, {"population": 1})


def test_versioned_update_without_a_version_still_increments_it(conn, settlement):
    storage.versioned_update(conn, SETTLEMENTS, settlement["id"], None, {"population": 12})
    assert storage.read_record(conn, "settlements", settlement["id"])["version"] == 2


def test_update_record_changes_geometry_and_audits_only_what_changed(conn, settlement):
    after = storage.update_record(conn, "settlements", settlement["id"],
                                  {"geometry": Point(105.06, 37.51), "population": 10},
                                  version=1, actor=ACTOR)
    assert after["version"] == 2 and after["geometry"].equals(Point(105.06, 37.51))
    entries, _ = storage.audit.read_entries(conn, layer="settlements", row_id=settlement["id"])
    assert [e["action"] for e in entries] == ["update", "create"]
    assert set(entries[0]["after"]) == {"geom"}


def test_update_record_can_clear_a_geometry(conn, settlement):
    after = storage.update_record(conn, "settlements", settlement["id"], {"geometry": None},
                                  version=1, actor=ACTOR)
    assert after["geometry"] is None and after["version"] == 2


def test_a_no_op_change_keeps_the_version_but_a_stale_no_op_is_refused(conn, settlement):
    same = storage.update_record(conn, "settlements", settlement["id"], {"population": 10},
                                 version=1, actor=ACTOR)
    assert same["version"] == 1
    storage.update_record(conn, "settlements", settlement["id"], {"population": 11}, version=1, actor=ACTOR)
    with pytest.raises(StaleVersion) as caught:  # the value now stored, at an old version
        storage.update_record(conn, "settlements", settlement["id"], {"population": 11},
                              version=1, actor=ACTOR)
    assert caught.value.current_version == 2


def test_delete_record_needs_the_current_version(conn, settlement):
    storage.update_record(conn, "settlements", settlement["id"], {"population": 11}, version=1, actor=ACTOR)
    with pytest.raises(StaleVersion):
        storage.delete_record(conn, "settlements", settlement["id"], version=1, actor=ACTOR)
    storage.delete_record(conn, "settlements", settlement["id"], version=2, actor=ACTOR)
    with pytest.raises(NotFound):
        storage.read_record(conn, "settlements", settlement["id"])


def test_lock_row_returns_the_version_or_none(conn, settlement):
    assert storage.lock_row(conn, SETTLEMENTS, settlement["id"]) == 1
    assert storage.lock_row(conn, SETTLEMENTS, settlement["id"] + 1000) is None


def test_audit_entries_and_account_timestamps_are_utc_with_a_zone(conn, settlement):
    entries, total = storage.audit.read_entries(conn, layer="settlements", row_id=settlement["id"])
    assert total == 1 and entries[0]["at"].utcoffset() == dt.timedelta(0)
    user = storage.accounts.create_user(conn, name="utc.check", role="viewer", password_hash=None,
                                        actor=ACTOR)
    assert user["created_at"].utcoffset() == dt.timedelta(0)


def test_user_updates_are_versioned(conn):
    user = storage.accounts.create_user(conn, name="version.check", role="viewer", password_hash=None,
                                        actor=ACTOR)
    changed = storage.accounts.update_user(conn, user["id"], {"display_name": "王"}, actor=ACTOR,
                                           version=user["version"])
    assert changed["version"] == user["version"] + 1
    with pytest.raises(StaleVersion):
        storage.accounts.update_user(conn, user["id"], {"display_name": "李"}, actor=ACTOR,
                                     version=user["version"])
    with pytest.raises(StaleVersion):
        storage.accounts.delete_user(conn, user["id"], actor=ACTOR, version=user["version"])


def test_as_utc_gives_naive_values_their_zone_and_leaves_others():
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert storage.as_utc(naive) == naive.replace(tzinfo=dt.timezone.utc)
    shanghai = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert storage.as_utc(shanghai) is shanghai
    assert storage.as_utc(None) is None and storage.as_utc("2026") == "2026"


def test_counts_that_contain_one_another_stay_in_order_on_insert_and_update(conn, towns):
    """Registered-poor households <= households <= population, as on import: refused with the
    fields named, nothing written; an update is checked against the stored values it keeps."""
    village = {"name": "四村", "township_id": towns["west"], "category": "poor",
               "population": 100, "households": 30, "registered_poor_households": 31}
    with pytest.raises(ValidationError, match="registered_poor_households 31 is more than households 30"):
        storage.insert_record(conn, "villages", village, actor=ACTOR)
    assert storage.count_layer(conn, "villages", where={"name": "四村"}) == 0
    stored = storage.insert_record(conn, "villages", {**village, "registered_poor_households": 12}, actor=ACTOR)
    with pytest.raises(ValidationError, match="households 101 is more than population 100"):
        storage.update_record(conn, "villages", stored["id"], {"households": 101}, version=1, actor=ACTOR)
    with pytest.raises(ValidationError, match="registered_poor_households 12 is more than households 11"):
        storage.update_record(conn, "villages", stored["id"], {"households": 11}, version=1, actor=ACTOR)
    row = storage.read_record(conn, "villages", stored["id"])
    assert (row["households"], row["version"]) == (30, 1)
    assert storage.update_record(conn, "villages", stored["id"], {"households": 12}, version=1,
                                 actor=ACTOR)["version"] == 2
