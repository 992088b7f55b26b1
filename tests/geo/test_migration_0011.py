"""Migration 0011 on a registry with households, both backends: the settlement and cadre indexes
hold only the households that name one, the lookups and the SET NULL of a deleted settlement
or cadre still work, and the downgrade brings back the full indexes."""

from __future__ import annotations

import sqlalchemy as sa

from geo import migrate
from tests.geo.conftest import at_revision_with_a_village


def _index_sql(conn: sa.Connection, name: str) -> str:
    if conn.dialect.name == "sqlite":
        return conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"),
                            {"n": name}).scalar()
    return conn.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name}).scalar()


def test_the_settlement_and_cadre_indexes_leave_out_households_that_name_none(empty_url):
    engine = at_revision_with_a_village(empty_url, "0010")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO settlements (id, name, village_id, source) VALUES (1, '上庄', 1, 'test')"))
        conn.execute(sa.text("INSERT INTO assistance_units (id, name, kind, source) VALUES (1, '县财政局', 'party_government', 'test')"))
        conn.execute(sa.text("INSERT INTO cadres (id, name, unit_id, source) VALUES (1, '王芳', 1, 'test')"))
        for hid, settlement, cadre in ((1, 1, 1), (2, None, None), (3, None, 1)):
            conn.execute(sa.text("INSERT INTO households (id, code, village_id, settlement_id, cadre_id, status, source) "
                                 "VALUES (:id, :code, 1, :s, :c, 'exited', 'test')"),
                         {"id": hid, "code": f"H{hid}", "s": settlement, "c": cadre})
    migrate.upgrade(engine)
    with engine.begin() as conn:
        for column in ("settlement_id", "cadre_id"):
            sql = _index_sql(conn, f"ix_households_{column}")
            assert "WHERE" in sql and f"{column} IS NOT NULL" in sql, sql
        assert "WHERE" not in _index_sql(conn, "ix_households_village_id")
        by_cadre = conn.execute(sa.text("SELECT id FROM households WHERE cadre_id = 1 ORDER BY id")).scalars().all()
        assert by_cadre == [1, 3]
        conn.execute(sa.text("DELETE FROM settlements WHERE id = 1"))
        conn.execute(sa.text("DELETE FROM cadres WHERE id = 1"))
        left = conn.execute(sa.text("SELECT settlement_id, cadre_id FROM households ORDER BY id")).all()
        assert [tuple(row) for row in left] == [(None, None)] * 3
    migrate.downgrade(engine, "0010")
    with engine.begin() as conn:
        for column in ("settlement_id", "cadre_id"):
            assert "WHERE" not in _index_sql(conn, f"ix_households_{column}")
    engine.dispose()
