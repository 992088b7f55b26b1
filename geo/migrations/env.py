"""Alembic environment: the models module is the single source of metadata."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from geo.db import make_engine
from geo.migrate import include_object
from geo.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - the atlas always migrates online
    raise SystemExit("offline (--sql) migrations are not supported; run atlas db upgrade")
run_migrations_online()
