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
