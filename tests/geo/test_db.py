"""The database layer: transactions, savepoints, SQLite settings and lock waits."""

from __future__ import annotations

import threading

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import Polygon

from geo import db, models, storage
from geo.errors import DatabaseBusy

WEST = Polygon([(105.0, 37.4), (105.2, 37.4), (105.2, 37.6), (105.0, 37.6)])
TOWNS = models.Township.__table__


def test_a_savepoint_before_any_write_stays_inside_the_transaction(engine):
    # pysqlite would begin the transaction only at the first write, so releasing a savepoint
    # taken before it committed outside the caller's transaction (found by the import work).
    frame = gpd.GeoDataFrame({"name": ["保存点镇"]}, geometry=[WEST], crs=4326)
    with engine.connect() as connection:
        outer = connection.begin()
        inner = connection.begin_nested()
        storage.write_layer(connection, "townships", frame)
        inner.commit()
        outer.rollback()
    assert storage.count_layer(engine, "townships", where={"name": "保存点镇"}) == 0


def test_spatialite_files_use_write_ahead_logging(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/wal.sqlite")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_transaction_given_a_connection_is_a_savepoint_the_caller_may_roll_back(engine):
    frame = gpd.GeoDataFrame({"name": ["试运行镇", "保留镇"]}, geometry=[WEST, WEST], crs=4326)
    with engine.connect() as connection:
        outer = connection.begin()
        with db.transaction(connection) as (conn, savepoint):
            storage.write_layer(conn, "townships", frame.iloc[[0]])
            savepoint.rollback()  # a dry run
        with db.transaction(connection) as (conn, savepoint):
            storage.write_layer(conn, "townships", frame.iloc[[1]])
            savepoint.commit()
        names = set(storage.read_layer(connection, "townships")["name"])
        outer.rollback()
    assert "试运行镇" not in names and "保留镇" in names


def test_connect_commits_on_success_and_rolls_back_on_error(engine):
    frame = gpd.GeoDataFrame({"name": ["回滚镇"]}, geometry=[WEST], crs=4326)
    with pytest.raises(RuntimeError), db.connect(engine, write=True) as conn:
        storage.write_layer(conn, "townships", frame)
        raise RuntimeError("stop")
    assert storage.count_layer(engine, "townships", where={"name": "回滚镇"}) == 0


@pytest.fixture
def impatient(engine, backend, monkeypatch):
    """An engine on the same database that waits for a lock only briefly."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(db, "WRITE_LOCK_WAIT_S", 0.5)
    other = db.make_engine(engine.url, check=False)
    if backend == "postgis":
        @sa.event.listens_for(other, "connect")
        def short_lock_timeout(dbapi_conn, _record):
            dbapi_conn.autocommit = True
            dbapi_conn.execute("SET lock_timeout = '100ms'")
            dbapi_conn.autocommit = False
    yield other
    other.dispose()


def _a_township(engine) -> int:
    frame = gpd.GeoDataFrame({"name": [f"锁镇{threading.get_ident()}"]}, geometry=[WEST], crs=4326)
    return storage.write_layer(engine, "townships", frame).ids[0]


def test_a_lock_not_obtained_in_time_is_database_busy_and_changes_nothing(engine, impatient):
    row_id = _a_township(engine)
    try:
        with db.connect(engine, write=True) as holder:
            storage.lock_row(holder, TOWNS, row_id)
            with pytest.raises(DatabaseBusy, match="try again") as caught, \
                    db.connect(impatient, write=True) as conn:
                storage.versioned_update(conn, TOWNS, row_id, 1, {"name": "改名镇"})
        assert caught.value.retry_after_s == db.RETRY_AFTER_S
        assert storage.read_record(engine, "townships", row_id)["version"] == 1
    finally:
        storage.delete_rows(engine, "townships", [row_id])


def test_a_writer_waits_for_the_lock_and_then_writes(engine):
    row_id = _a_township(engine)
    try:
        holder = engine.connect()
        transaction = holder.begin()
        storage.lock_row(holder, TOWNS, row_id)
        if engine.dialect.name == "sqlite":
            holder.exec_driver_sql("UPDATE townships SET source = source WHERE id = ?", (row_id,))
        timer = threading.Timer(0.5, transaction.commit)
        timer.start()
        with db.connect(engine, write=True) as conn:  # waits for the holder, then writes
            storage.versioned_update(conn, TOWNS, row_id, 1, {"name": "等待镇"})
        timer.join()
        holder.close()
        row = storage.read_record(engine, "townships", row_id)
        assert (row["name"], row["version"]) == ("等待镇", 2)
    finally:
        storage.delete_rows(engine, "townships", [row_id])
