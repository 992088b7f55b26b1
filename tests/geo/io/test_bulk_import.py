"""Imports of a few thousand rows through the staged bulk path: all-or-nothing, re-imports in
place (ids, versions), refusals as before, on both backends."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from geo import storage
from geo.errors import ValidationError
from geo.io import import_file, prefetch
from geo.io.importer import tables
from tests.geo.io.conftest import snapshot

HEADER = ["户编号", "乡镇", "行政村", "农户类型", "家庭人口", "人均纯收入（元）", "经度", "纬度"]


def rows(n: int, *, status: str = "已脱贫") -> list[list]:
    return [[f"B{i:05d}", "西镇", "一村", status, 1 + i % 7, 3000 + i, f"{105.01 + (i % 1000) / 100_000:.6f}",
             f"{37.45 + (i // 1000) / 1000:.6f}"] for i in range(n)]


def write_csv(path: Path, body: list[list]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *body])
    return path


def by_code(conn) -> dict:
    frame = storage.read_layer(conn, "households", columns=["code", "status", "members", "version"], with_names=False)
    return {c: (int(i), s, m, int(v)) for c, i, s, m, v in
            zip(frame["code"], frame["id"], frame["status"], frame["members"], frame["version"])}


@pytest.fixture(params=["this process", pytest.param("reader process", marks=pytest.mark.single_thread)])
def reader(request, monkeypatch):
    """A large CSV is parsed in a forked reader process (geo.io.prefetch), a small one in the
    importing process: the tests that take this run both ways, on files of either size (the
    reader's way in a process of one thread, marker ``single_thread``)."""
    if request.param == "reader process":
        assert prefetch.can_fork()
        monkeypatch.setattr(tables, "PREFETCH_MIN_BYTES", 0)
    return request.param


def test_a_bad_row_at_the_end_of_a_large_file_writes_nothing(conn, registry, tmp_path, reader):
    body = rows(3_000)
    body[-1][3] = "富裕户"  # the last row (line 3,001): not a household status
    path = write_csv(tmp_path / "households.csv", body)
    before = snapshot(conn)
    report = import_file(conn, path, layer="households", strict=True, chunk_rows=1_000)
    assert not report.committed and report.refused_count == 1
    assert report.refused[0].row == 3_001 and "富裕户" in report.refused[0].reason
    assert snapshot(conn) == before
    # without --strict the others go in, the bad one is listed
    report = import_file(conn, path, layer="households", chunk_rows=1_000)
    assert report.committed and report.inserted == 2_999 and [r.row for r in report.refused] == [3_001]


def test_a_re_import_updates_in_place(conn, registry, tmp_path):
    body = rows(2_500)
    path = write_csv(tmp_path / "households.csv", body)
    first = import_file(conn, path, layer="households", chunk_rows=1_000)
    assert first.inserted == 2_500
    stored = by_code(conn)
    ids = [stored[r[0]][0] for r in body]
    assert ids == sorted(ids)  # new rows get ids in the file's order

    for r in body[100:110]:
        r[3] = "返贫"
    body[2_000][4] = 8
    again = import_file(conn, write_csv(tmp_path / "again.csv", body), layer="households", chunk_rows=1_000)
    assert (again.inserted, again.updated, again.unchanged) == (0, 11, 2_489)
    now = by_code(conn)
    assert {c: v[0] for c, v in now.items()} == {c: v[0] for c, v in stored.items()}  # same ids
    changed = {r[0] for r in body[100:110]} | {body[2_000][0]}
    assert all(now[c][3] == (2 if c in changed else 1) for c in now)
    assert now["B00100"][1] == "returned" and now["B02000"][2] == 8

    third = import_file(conn, path, layer="households", chunk_rows=700, dry_run=True)
    assert (third.updated, third.unchanged) == (11, 2_489) and not third.committed
    assert by_code(conn) == now


def test_repeated_codes_and_missing_fields_are_refused_as_before(conn, registry, tmp_path, reader):
    body = rows(1_500)
    body[1_400][0] = body[10][0]  # line 1,402 repeats the code of line 12, two chunks later
    body[700][1:3] = ["", ""]  # a new household without its village (line 702)
    path = write_csv(tmp_path / "households.csv", body)
    before = snapshot(conn)
    report = import_file(conn, path, layer="households", strict=True, chunk_rows=500)
    assert not report.committed and snapshot(conn) == before
    reasons = {r.row: r.reason for r in report.refused}
    assert set(reasons) == {702, 1_402}
    assert "户编号 'B00010' of row 12" in reasons[1_402]
    assert "行政村" in reasons[702]


def test_a_file_without_positions_keeps_the_stored_ones(conn, registry, tmp_path):
    body = rows(1_200)
    write = import_file(conn, write_csv(tmp_path / "a.csv", body), layer="households")
    assert write.inserted == 1_200
    before = storage.read_layer(conn, "households", with_names=False).set_index("code").geometry
    for r in body:
        r[6:8] = ["", ""]
        r[4] = 2
    again = import_file(conn, write_csv(tmp_path / "b.csv", body), layer="households")
    assert again.updated == sum(1 for i in range(1_200) if 1 + i % 7 != 2)
    after = storage.read_layer(conn, "households", with_names=False).set_index("code").geometry
    assert after.sort_index().geom_equals(before.sort_index()).all()


@pytest.mark.parametrize("chunk_rows", [400, 5_000])
def test_counts_do_not_depend_on_the_chunk_size(conn, registry, tmp_path, chunk_rows):
    path = write_csv(tmp_path / "households.csv", rows(1_000))
    report = import_file(conn, path, layer="households", chunk_rows=chunk_rows)
    assert report.inserted == 1_000 and storage.count_layer(conn, "households") == 1_000


def test_a_write_refused_in_the_background_ends_the_import_and_writes_nothing(conn, registry, tmp_path, monkeypatch,
                                                                              reader):
    """Chunks are written by a background thread while the next is read: the database's
    refusal of a later chunk (simulated: every row of a real file passes the checks) still
    reaches the caller, nothing is written, and the thread (and the reader process) is gone."""
    import multiprocessing
    import threading

    from geo.errors import Conflict
    from geo.storage.staging import StagedRows

    path = write_csv(tmp_path / "households.csv", rows(3_000))
    before = snapshot(conn)
    real_write, calls = StagedRows.write, []

    def refusing_write(self, keep=None):
        calls.append(threading.current_thread().name)
        if len(calls) == 2:
            raise Conflict("the database refused the households rows: simulated")
        return real_write(self, keep)

    monkeypatch.setattr(StagedRows, "write", refusing_write)
    with pytest.raises(Conflict, match="simulated"):
        import_file(conn, path, layer="households", chunk_rows=1_000)
    assert all(name.startswith("atlas-import-write") for name in calls)
    assert snapshot(conn) == before
    assert not [t for t in threading.enumerate() if t.name.startswith("atlas-import-write")]
    assert not multiprocessing.active_children()
    monkeypatch.undo()
    report = import_file(conn, path, layer="households", chunk_rows=1_000)  # the connection still works
    assert report.committed and report.inserted == 3_000


@pytest.mark.parametrize("exclusive", [False, True])
def test_two_rows_updating_one_stored_row_are_written_in_turn(conn, registry, tmp_path, exclusive):
    """Where two rows of a chunk match one stored row (one by 责任人编号, one by 姓名 in its
    unit), they are written one after the other, in the file's order, as the row-by-row writer
    does; also when the chunk is staged and matched in the background (exclusive, on PostGIS)."""
    storage.write_layer(conn, "cadres", pd.DataFrame({"code": ["C1"], "name": ["张一"], "unit_id": [registry["units"][0]]}))
    path = tmp_path / "cadres.csv"
    path.write_text("责任人编号,姓名,帮扶单位\nC1,张二,沙坡头区审计局\n,张一,沙坡头区审计局\n", encoding="utf-8")
    report = import_file(conn, path, layer="cadres", exclusive=exclusive)
    assert report.committed and (report.inserted, report.updated, report.refused) == (0, 2, [])
    stored = storage.read_layer(conn, "cadres", include_pii=True, with_names=False)
    # the second row (no 编号) matched the same cadre by 姓名 and was written after the first: one cadre, updated twice
    assert [(c, n, int(v)) for c, n, v in zip(stored["code"], stored["name"], stored["version"])] == [(None, "张一", 3)]


@pytest.mark.single_thread
def test_the_reader_process_reads_while_the_import_checks_and_leaves_nothing_behind(conn, registry, tmp_path,
                                                                                  monkeypatch):
    """With a large file, a child process parses the CSV while the chunks before are checked
    and written; it is gone when the import ends."""
    import multiprocessing

    monkeypatch.setattr(tables, "PREFETCH_MIN_BYTES", 0)
    path = write_csv(tmp_path / "households.csv", rows(6_000))
    readers = []
    report = import_file(conn, path, layer="households", chunk_rows=1_000, progress=lambda done, total: readers.append(
        [p.name for p in multiprocessing.active_children()]))
    assert report.committed and report.inserted == 6_000
    assert readers[0] == ["atlas-import-reader"]  # after the first chunk, the reader is still at work
    assert not multiprocessing.active_children()


@pytest.mark.single_thread
@pytest.mark.parametrize("size", ["small", "large"])
def test_notes_totals_sections_and_odd_cells_read_the_same_in_either_process(conn, registry, tmp_path, monkeypatch,
                                                                             size):
    """The rows a reader process hands over are those read here: blank, total (合计) and note
    rows skipped, a section row naming the 乡镇 of the rows below it, short rows, cells with
    quotes, tabs and the unit separator, coordinates in 度分秒 or none, and the same refusals
    with the same row numbers."""
    assert prefetch.can_fork()  # else both imports would read here
    header = "户编号,行政村,农户类型,家庭人口,经度,纬度"
    lines = ["西镇,,,,,", "H1,一村,已脱贫,3,105.01,37.45", ",,,,,",
             'H2,一村,"已脱贫",2,105.02,37.45', "H3,一村,富裕户,2,105.03,37.45", "合计,,,7,,",
             '"H\x1f4",一村,已脱贫,1,105.04,37.45', 'H5,"一\t村",已脱贫,1', '"H6 ""甲""",一村,已脱贫,4,105.06,37.46',
             "H7,一村,已脱贫,1,105°1′30″E,37.45", "H8,一村,已脱贫,1,abc,37.45", "填表说明：本表由村委会填写,,,,,"]
    path = tmp_path / "households.csv"
    path.write_text("\n".join([header, *lines * (1 if size == "small" else 400)]) + "\n", encoding="utf-8")
    reports = []
    for threshold in (1 << 40, 0):  # this process, then the reader process
        monkeypatch.setattr(tables, "PREFETCH_MIN_BYTES", threshold)
        report = import_file(conn, path, layer="households", dry_run=True, chunk_rows=500)
        reports.append((report.read, report.inserted, report.warnings,
                        [(r.row, r.reason) for r in report.refused], report.refused_count))
    assert reports[0] == reports[1]
    read, inserted, warnings, refused, _ = reports[0]
    assert read == 8 * (1 if size == "small" else 400)  # H1-H8 of each copy
    assert any("section row" in w.reason for w in warnings)
    reasons = dict(refused)
    assert reasons[6].startswith("农户类型 '富裕户' is not one of")
    assert reasons[12].startswith("经度 'abc': not a number")
    assert 11 not in reasons  # 105°1′30″E is read


@pytest.mark.single_thread
def test_a_broken_csv_row_found_by_the_reader_process_writes_nothing(conn, registry, tmp_path, monkeypatch):
    """The CSV module's error in the reader process reaches the caller as the same message
    (file and line), after earlier chunks were written: nothing stays written."""
    assert prefetch.can_fork()
    monkeypatch.setattr(tables, "PREFETCH_MIN_BYTES", 0)
    body = "\n".join(",".join(map(str, r)) for r in [HEADER, *rows(2_500)])
    path = tmp_path / "households.csv"
    path.write_text(body + '\nB99999,西镇,一村,已脱贫,1,3000,105.01,"37.45"x\n', encoding="utf-8")
    before = snapshot(conn)
    with pytest.raises(ValidationError, match=r"households.csv line 2502: not a valid CSV row"):
        import_file(conn, path, layer="households", chunk_rows=1_000)
    assert snapshot(conn) == before
