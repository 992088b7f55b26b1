"""The stations' yearly ledgers recorded in ``pv_ledger`` on both backends: checked whole
before anything is written, read back with the under-delivery flags, audited."""

from __future__ import annotations

import pandas as pd
import pytest

from geo import storage
from geo.audit import Actor
from geo.errors import NotFound, ValidationError
from geo.pv.ledger import LEDGER_HEADERS
from geo.pv.output import review_table
from geo.services.pv import read_project_ledger, record_ledger, run_review
from tests.conftest import rolled_back

ACTOR = Actor("test:ledger")
#: A village station of the demo registry.
CODE = "DEMO-PV051"


def _write(path, rows):
    pd.DataFrame([dict(zip(LEDGER_HEADERS, row)) for row in rows]).to_excel(path, index=False)
    return path


def _count(conn) -> int:
    return len(storage.pv_ledger.read_years(conn))


def test_a_recorded_ledger_reads_back_with_its_flags_and_a_year_recorded_again_is_replaced(demo_engine, tmp_path):
    book = _write(tmp_path / "台账.xlsx", [
        # 10 kWh from a village station: far below its model, flagged
        [CODE, 2024, 10.0, 1_000.0, 100.0, 600.0, 2, 200.0, 100.0],
        [CODE, 2025, 400_000.0, 260_000.0, 30_000.0, 150_000.0, 20, 50_000.0, 30_000.0],
    ])
    with rolled_back(demo_engine) as conn:
        checked, _, written = record_ledger(conn, book, actor=ACTOR)
        assert [w["action"] for w in written] == ["create", "create"]
        assert checked["flags"].tolist() == [["generation_below_model"], []]
        stored, _ = read_project_ledger(conn, CODE)
        assert stored["year"].tolist() == [2024, 2025]
        assert stored["posts"].tolist() == [2, 20]
        assert stored["public_posts_yuan"].tolist() == [600.0, 150_000.0]
        assert stored["flags"].tolist() == [["generation_below_model"], []]
        assert stored["flag_labels"].iloc[0] == "发电量明显低于模型估算"
        assert stored["version"].tolist() == [1, 1]
        assert stored["source"].iloc[0] == "ledger 台账.xlsx"

        # 2024 corrected: the year is replaced (version 2), the audit keeps the values before
        _write(book, [[CODE, 2024, 420_000.0, 273_000.0, 30_000.0, 161_100.0, 25, 54_600.0, 27_300.0]])
        _, _, written = record_ledger(conn, book, actor=ACTOR)
        assert [w["action"] for w in written] == ["update"]
        stored, _ = read_project_ledger(conn, CODE)
        assert stored.set_index("year").loc[2024, "version"] == 2
        assert stored.set_index("year").loc[2024, "generation_kwh"] == 420_000.0
        assert stored["flags"].tolist() == [[], []]
        entries, total = storage.audit.read_entries(conn, layer="pv_ledger")
        assert total == 3
        update = next(e for e in entries if e["action"] == "update")
        assert update["before"]["generation_kwh"] == 10.0 and update["after"]["generation_kwh"] == 420_000.0
        assert update["user_name"] == "test:ledger"
        assert run_review(conn).projects.set_index("code").loc[CODE, "ledger_year"] == 2025


def test_the_review_shows_each_project_s_latest_ledger_year_and_its_flag(demo_engine, tmp_path):
    book = _write(tmp_path / "台账.xlsx", [
        [CODE, 2024, 400_000.0, 260_000.0, 30_000.0, 150_000.0, 20, 50_000.0, 30_000.0],
        # 2025: less than half the plan reached households and posts
        [CODE, 2025, 400_000.0, 260_000.0, 10_000.0, 50_000.0, 8, 170_000.0, 30_000.0],
    ])
    with rolled_back(demo_engine) as conn:
        record_ledger(conn, book, actor=ACTOR)
        projects = run_review(conn).projects.set_index("code")
        row = projects.loc[CODE]
        assert row["ledger_year"] == 2025 and row["ledger_posts"] == 8
        assert row["ledger_households_ratio"] < 0.5
        assert row["ledger_flag_labels"] == "到户收益（含公益岗位）低于分配方案"
        assert pd.isna(projects.loc["DEMO-PV052", "ledger_year"])
        table = review_table(run_review(conn), "projects").set_index("编号")
        assert table.loc[CODE, "台账年度"] == 2025 and table.loc[CODE, "台账问题"] == row["ledger_flag_labels"]


def test_a_bad_file_or_an_unknown_project_writes_nothing(demo_engine, tmp_path):
    good = [CODE, 2025, 400_000.0, 260_000.0, 30_000.0, 150_000.0, 20, 50_000.0, 30_000.0]
    with rolled_back(demo_engine) as conn:
        before = _count(conn)
        parts_off = _write(tmp_path / "bad.xlsx", [good, [CODE, 2024, 1.0, 100.0, 10.0, 0.0, 0, 0.0, 0.0]])
        with pytest.raises(ValidationError, match=r"bad.xlsx: 1 problem\(s\), nothing was read: row 3"):
            record_ledger(conn, parts_off, actor=ACTOR)
        unknown = _write(tmp_path / "unknown.xlsx", [good, ["NOPE-1", *good[1:]]])
        with pytest.raises(ValidationError, match=r"does not hold: row 3 \(NOPE-1\)"):
            record_ledger(conn, unknown, actor=ACTOR)
        assert _count(conn) == before
        assert storage.audit.read_entries(conn, layer="pv_ledger")[1] == 0


def test_showing_an_unknown_project_is_refused_and_an_unrecorded_one_is_empty(demo_engine):
    with rolled_back(demo_engine) as conn:
        with pytest.raises(NotFound, match="no PV project with the code 'NOPE'"):
            read_project_ledger(conn, "NOPE")
        stored, _ = read_project_ledger(conn, "DEMO-PV052")
        assert stored.empty
