"""A staged bulk insert's foreign keys checked once for the chunk (PostGIS): only where the
role may turn the per-row triggers off and nothing else depends on them, refusing a row that
refers to nothing, and locking what the rows refer to as the triggers would."""

from __future__ import annotations

import uuid

import geopandas as gpd
import numpy as np
import pytest
import sqlalchemy as sa
from shapely.geometry import Point

from geo import storage
from geo.errors import Conflict, DatabaseBusy
from geo.storage import foreign_keys

pytestmark = pytest.mark.parametrize("backend", ["postgis"], indirect=True)


def households(village_id: int, codes: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": codes, "village_id": [village_id] * len(codes), "status": ["exited"] * len(codes)},
                            geometry=[Point(105.01 + i / 1000, 37.45) for i in range(len(codes))],
                            crs=4326).rename_geometry("geom")


def test_a_superuser_checks_the_households_three_keys_in_bulk(conn):
    keys = foreign_keys.checked_in_bulk(conn, "households")
    assert [(k.columns, k.referred, k.referred_columns) for k in keys] == [
        (("cadre_id",), "cadres", ("id",)), (("settlement_id",), "settlements", ("id",)),
        (("village_id",), "villages", ("id",))]


def test_a_role_that_may_not_turn_triggers_off_keeps_them(conn):
    role = f"atlas_plain_{uuid.uuid4().hex[:8]}"
    conn.exec_driver_sql(f'CREATE ROLE "{role}"')  # rolled back with the test's transaction
    conn.exec_driver_sql(f'SET LOCAL ROLE "{role}"')
    assert foreign_keys.checked_in_bulk(conn, "households") is None


def test_a_table_with_an_insert_trigger_of_its_own_keeps_the_triggers(conn):
    conn.exec_driver_sql("CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'")
    conn.exec_driver_sql("CREATE TRIGGER stamp BEFORE INSERT ON households FOR EACH ROW EXECUTE FUNCTION pg_temp.noop()")
    assert foreign_keys.checked_in_bulk(conn, "households") is None


def test_an_all_new_chunk_refers_to_a_missing_village_and_is_refused(conn, towns):
    count = storage.count_layer(conn, "households")
    savepoint = conn.begin_nested()
    staged = storage.stage_rows(conn, "households", households(987654, ["M1", "M2"]), source="test")
    assert staged.table is None  # the direct COPY, where the keys are checked in bulk
    with pytest.raises(Conflict, match=r'fk_households_village_id_villages": Key \(village_id\)=\(987654\) is not '
                                       r'present in table "villages"'):
        staged.write()
    savepoint.rollback()
    assert storage.count_layer(conn, "households") == count


def test_after_the_write_the_triggers_are_on_again(conn, towns):
    result = storage.stage_rows(conn, "households", households(towns["villages"][0], ["T1"]), source="test").write()
    assert result.inserted == 1
    assert conn.exec_driver_sql("SHOW session_replication_role").scalar() == "origin"
    with pytest.raises(sa.exc.IntegrityError, match="fk_households_village_id_villages"):
        with conn.begin_nested():
            conn.exec_driver_sql("INSERT INTO households (code, village_id, status, source) "
                                 "VALUES ('T2', 987654, 'exited', 'test')")


def test_the_villages_referred_to_stay_locked_until_the_commit(engine):
    """As the per-row triggers do: another transaction cannot delete a village the new rows
    refer to while the import is open (it waits; here it gives up after its lock timeout),
    and can once the import is rolled back."""
    name = f"锁村{uuid.uuid4().hex[:6]}"
    with engine.begin() as setup:
        town = storage.write_layer(setup, "townships", gpd.GeoDataFrame(
            {"name": [name]}, geometry=[Point(105.5, 37.5).buffer(0.01)], crs=4326)).ids[0]
        village = storage.write_layer(setup, "villages", gpd.GeoDataFrame(
            {"name": [name], "township_id": [town], "category": ["poor"]}, geometry=[Point(105.5, 37.5)], crs=4326)).ids[0]
    try:
        with engine.connect() as importer, engine.connect() as other:
            with importer.begin():
                result = storage.stage_rows(importer, "households", households(village, [f"{name}-1"]),
                                            source="test").write(np.array([True]))
                assert result.inserted == 1
                with pytest.raises(DatabaseBusy):
                    with other.begin():
                        other.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
                        other.exec_driver_sql(f"DELETE FROM villages WHERE id = {int(village)}")
                importer.rollback()
            with other.begin():
                assert other.exec_driver_sql(f"DELETE FROM villages WHERE id = {int(village)}").rowcount == 1
    finally:
        with engine.begin() as cleanup:
            cleanup.exec_driver_sql(f"DELETE FROM villages WHERE id = {int(village)}")
            cleanup.exec_driver_sql(f"DELETE FROM townships WHERE id = {int(town)}")


def test_the_first_row_referring_to_nothing_is_named_and_empty_keys_cost_no_statement(conn, towns):
    """The keys are checked from the values written, in the rows' order: the first missing
    village is the one named. Settlement and cadre, NULL in every row, are not looked up."""
    frame = households(towns["villages"][0], ["F1", "F2", "F3", "F4"])
    frame["village_id"] = [towns["villages"][0], 987_001, 987_000, 987_001]
    statements: list[str] = []

    def record(conn_, cursor, statement, *args):
        statements.append(statement)

    savepoint = conn.begin_nested()
    staged = storage.stage_rows(conn, "households", frame, source="test")
    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        with pytest.raises(Conflict, match=r"Key \(village_id\)=\(987001\) is not present"):
            staged.write()
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)
    savepoint.rollback()
    locks = [s for s in statements if "FOR KEY SHARE" in s]
    assert len(locks) == 1 and "villages" in locks[0]


def test_a_cadre_that_is_not_there_is_refused_too(conn, towns):
    frame = households(towns["villages"][0], ["C1", "C2"])
    frame["cadre_id"] = [None, 987_002]
    savepoint = conn.begin_nested()
    staged = storage.stage_rows(conn, "households", frame, source="test")
    with pytest.raises(Conflict, match=r'fk_households_cadre_id_cadres": Key \(cadre_id\)=\(987002\) is not present '
                                       r'in table "cadres"'):
        staged.write()
    savepoint.rollback()
