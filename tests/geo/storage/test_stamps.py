"""Change stamps: the registry's and the accounts' change at every write through the storage
layer (at once, and again when the writing connection goes back to its pool, after its
commit), through the file every atlas process on this host reads; reads change nothing."""

from __future__ import annotations

import os

import geopandas as gpd
from shapely.geometry import box

from geo import storage
from geo.audit import SYSTEM
from geo.storage import stamps


def _file_time(bind, topic: str) -> int:
    return os.stat(stamps._path(stamps.database_of(bind), topic)).st_mtime_ns


def test_a_registry_write_changes_the_stamp_reads_do_not(engine):
    storage.read_layer(engine, "villages")
    before = storage.registry_stamp(engine)
    storage.read_layer(engine, "villages")
    assert storage.registry_stamp(engine) == before
    written = storage.write_layer(engine, "townships", gpd.GeoDataFrame(
        {"name": ["戳镇"]}, geometry=[box(105.0, 37.0, 105.1, 37.1)], crs=4326))
    after = storage.registry_stamp(engine)
    assert after != before
    assert after[1] > before[1]  # the file other processes read moved too
    storage.delete_rows(engine, "townships", written.ids)
    assert storage.registry_stamp(engine) != after


def test_a_write_inside_a_caller_transaction_stamps_again_after_it(engine):
    with engine.connect() as conn:
        with conn.begin():
            storage.write_layer(conn, "townships", gpd.GeoDataFrame(
                {"name": ["戳二镇"]}, geometry=[box(105.0, 37.0, 105.1, 37.1)], crs=4326))
            during = storage.registry_stamp(engine)
            file_during = _file_time(engine, "registry")
        # rolled back? no: committed here; the stamp moves once the connection is returned
    assert storage.registry_stamp(engine) != during
    assert _file_time(engine, "registry") > file_during
    found = storage.read_layer(engine, "townships", where={"name": "戳二镇"})
    storage.delete_rows(engine, "townships", found["id"].tolist())


def test_an_account_change_changes_the_accounts_stamp(engine):
    from geo.services import accounts

    before = accounts.accounts_generation(engine)
    user = accounts.create_user(engine, name="stamp_user", role="viewer", password_hash=None, actor=SYSTEM)
    created = accounts.accounts_generation(engine)
    assert created != before
    accounts.delete_user(engine, user["id"], actor=SYSTEM, version=None)
    assert accounts.accounts_generation(engine) != created
