"""``import_file(..., exclusive=True)``: the bulk mode writes what a normal import writes, gives
the table back with the same indexes and constraints, leaves everything as it was when it
fails, and refuses, writing nothing, a table another transaction holds."""

from __future__ import annotations

import threading

import pytest

from geo import storage
from geo.db import make_engine
from geo.errors import DatabaseBusy
from geo.io import import_file
from geo.layers import get_layer
from tests.geo.io.conftest import snapshot
from tests.geo.io.test_bulk_import import HEADER, rows, write_csv
from tests.geo.io.test_forms import write_pairing_workbook
from tests.geo.storage.conftest import upkeep


def stored(conn) -> list[tuple]:
    """Every household but its id (ids come from the sequence), in code order."""
    frame = storage.read_layer(conn, "households", with_names=False, include_pii=True)
    frame = frame.drop(columns=["id", "created_at", "updated_at"]).sort_values("code")
    return [tuple(str(v) for v in row) for row in frame.drop(columns=["geometry"]).itertuples(index=False)] + \
        [g.wkt for g in frame.geometry]


def test_an_exclusive_import_writes_what_a_normal_one_writes(conn, registry, tmp_path):
    body = rows(2_500)
    path = write_csv(tmp_path / "households.csv", body)
    for r in body[:300]:
        r[3] = "返贫"
    again = write_csv(tmp_path / "again.csv", body)
    before = upkeep(conn, "households")

    savepoint = conn.begin_nested()
    normal = [import_file(conn, p, layer="households", chunk_rows=1_000) for p in (path, again)]
    normal_rows = stored(conn)
    savepoint.rollback()
    assert storage.count_layer(conn, "households") == 0

    exclusive = [import_file(conn, p, layer="households", chunk_rows=1_000, exclusive=True) for p in (path, again)]
    assert [(r.inserted, r.updated, r.unchanged) for r in exclusive] == \
        [(r.inserted, r.updated, r.unchanged) for r in normal] == [(2_500, 0, 0), (0, 300, 2_200)]
    assert all(r.committed and r.exclusive for r in exclusive) and not any(r.exclusive for r in normal)
    assert stored(conn) == normal_rows
    assert upkeep(conn, "households") == before
    near = storage.read_layer(conn, "households", bbox=(105.0, 37.4495, 105.02, 37.4505), with_names=False)
    assert len(near) == 1_000  # the first 1,000 rows (latitude 37.450), found through the rebuilt index


def test_a_failing_exclusive_import_leaves_everything_as_it_was(conn, registry, tmp_path):
    body = rows(3_000)
    body[-1][3] = "富裕户"  # the last row, in the third chunk: not a household status
    path = write_csv(tmp_path / "households.csv", body)
    before, tables = snapshot(conn), upkeep(conn, "households")
    report = import_file(conn, path, layer="households", strict=True, chunk_rows=1_000, exclusive=True)
    assert not report.committed and report.refused[0].row == 3_001
    assert snapshot(conn) == before
    assert upkeep(conn, "households") == tables


def test_the_report_and_the_audit_say_an_import_was_exclusive(conn, registry, tmp_path):
    from geo.audit import SYSTEM
    from geo.storage.audit import read_entries

    path = write_csv(tmp_path / "households.csv", rows(20))
    dry = import_file(conn, path, layer="households", exclusive=True, dry_run=True)
    assert not dry.exclusive and dry.as_dict()["exclusive"] is False  # a dry run takes nothing
    report = import_file(conn, path, layer="households", exclusive=True, actor=SYSTEM)
    assert report.committed and report.as_dict()["exclusive"] is True
    entries, _ = read_entries(conn, action="import", limit=1)
    assert entries[0]["after"]["exclusive"] is True and entries[0]["after"]["inserted"] == 20


def test_a_dry_run_sets_nothing_aside(conn, registry, tmp_path):
    path = write_csv(tmp_path / "households.csv", rows(1_500))
    tables = upkeep(conn, "households")
    report = import_file(conn, path, layer="households", chunk_rows=500, dry_run=True, exclusive=True)
    assert report.inserted == 1_500 and not report.committed
    assert upkeep(conn, "households") == tables and storage.count_layer(conn, "households") == 0


def test_a_table_in_use_refuses_an_exclusive_import(databases, backend, tmp_path, monkeypatch):
    monkeypatch.setattr("geo.storage.bulk.LOCK_TIMEOUT_S", 1)  # the wait before the refusal [s]
    engine = make_engine(databases.demo_url())
    try:
        villages = storage.read_layer(engine, "villages", columns=["name", "township_id"])[:2]
        body = [[f"LOCK-{i}", t, v, "已脱贫", 3, 5000, f"{g.x:.6f}", f"{g.y:.6f}"]
                for i, (t, v, g) in enumerate(zip(villages["township_name"], villages["name"], villages.geometry))]
        path = write_csv(tmp_path / "households.csv", body)
        assert HEADER[:3] == ["户编号", "乡镇", "行政村"]
        with engine.connect() as other:
            count = other.exec_driver_sql("SELECT count(*) FROM households").scalar()  # an open transaction read it
            tables = upkeep(other, "households")
            if backend == "postgis":
                with pytest.raises(DatabaseBusy, match="正被其他读写占用.*households.*without --exclusive"):
                    import_file(engine, path, layer="households", exclusive=True)
                dry = import_file(engine, path, layer="households", exclusive=True, dry_run=True)  # takes no lock
                assert dry.inserted == 2
            else:  # SpatiaLite: one writer at a time, readers never wait; the flag changes nothing
                assert import_file(engine, path, layer="households", exclusive=True).inserted == 2
            other.rollback()
            written = 0 if backend == "postgis" else 2
            assert other.exec_driver_sql("SELECT count(*) FROM households").scalar() == count + written
            assert upkeep(other, "households") == tables
        assert not [t for t in threading.enumerate() if t.name.startswith("atlas-import-write")]
    finally:
        engine.dispose()


def test_an_exclusive_form_import_restores_every_table_it_wrote(conn, tmp_path):
    path = tmp_path / "附件1.xlsx"
    write_pairing_workbook(path)
    tables = ["townships", "villages", "units", "pairings", "work_teams"]
    names = [get_layer(t).table.name for t in tables]
    before = {name: upkeep(conn, name) for name in names}
    report = import_file(conn, path, layer="pairings", exclusive=True)
    assert report.committed and report.refused_count == 0
    counts = storage.layer_counts(conn)
    assert [counts[t] for t in tables] == [7, 45, 84, 69, 28]  # as without the flag (test_forms.py)
    assert {name: upkeep(conn, name) for name in names} == before
