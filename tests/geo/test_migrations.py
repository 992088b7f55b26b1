"""Alembic creates the schema from empty on both backends, and it matches the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from geo import migrate
from geo.migrate import include_object
from geo.db import make_engine
from geo.layers import LAYERS, LINKS
from geo.models import Base


def test_upgrade_from_empty_then_down_and_up_again(empty_url):
    engine = make_engine(empty_url)
    assert migrate.current_revision(engine) is None
    head = migrate.upgrade(engine)
    assert head == migrate.head_revision(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {s.table.name for s in LAYERS.values()} | set(LINKS) <= tables
    assert migrate.downgrade(engine, "base") is None
    remaining = set(sa.inspect(engine).get_table_names())
    assert not ({s.table.name for s in LAYERS.values()} & remaining)
    assert migrate.upgrade(engine) == head
    assert migrate.upgrade(engine) == head  # a second upgrade is a no-op


def test_migrations_match_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"the models and the migrations disagree; write a migration: {diff}"


def test_draws_recorded_before_the_chain_are_chained_by_the_upgrade(empty_url):
    import datetime as dt

    from geo.storage import inspection as store
    from geo.inspection.draw import GENESIS, record_hash
    from geo.services.inspections import check_chain

    engine = make_engine(empty_url)
    migrate.upgrade(engine, "0004")
    with engine.begin() as conn:
        for i in (1, 2):
            conn.execute(sa.text(
                "INSERT INTO inspection_plans (id, name, year, seed, spec_json, teams, return_to_start, source) "
                "VALUES (:id, :name, 2019, :seed, :spec, 1, false, 'test')"),
                {"id": i, "name": f"旧方案 {i}", "seed": f"s{i}", "spec": '{"name":"旧"}'})
            conn.execute(sa.text(
                "INSERT INTO inspection_draws (plan_id, algorithm, seed, frame_hash, result_hash, frame_json, "
                "result_json, drawn_at, routes_json, source) VALUES (:id, 'atlas-sample/1', :seed, :fh, :rh, "
                "'{}', :rj, :at, '[]', 'test')"),
                {"id": i, "seed": f"s{i}", "fh": "f" * 64, "rh": "r" * 64, "rj": f'{{"n":{i}}}',
                 "at": dt.datetime(2019, 11, 5, tzinfo=dt.timezone.utc)})
    migrate.upgrade(engine)
    chain = store.read_chain(engine)
    assert [row["prev_hash"] for row in chain] == [GENESIS, chain[0]["record_hash"]]
    for row in chain:
        assert row["record_hash"] == record_hash(**{k: row[k] for k in (
            "plan_id", "name", "seed", "algorithm", "spec_json", "frame_hash", "result_hash", "frame_json",
            "result_json", "prev_hash")})
    assert check_chain(chain) == {1: [], 2: []}
    migrate.downgrade(engine, "0004")
    assert "prev_hash" not in {c["name"] for c in sa.inspect(engine).get_columns("inspection_draws")}
    engine.dispose()
