"""Run the Alembic migrations programmatically (``atlas db upgrade``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy.engine import Engine

from geo.db import schema_changed

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def include_object(obj, name, obj_type, reflected, compare_to) -> bool:
    """Alembic filter: compare only what the models define.

    Reflected tables the models do not define (SpatiaLite's and PostGIS's own bookkeeping,
    e.g. KNN, SpatialIndex, spatial_ref_sys) are never ours to drop.
    """
    if obj_type == "table" and reflected and compare_to is None:
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


@contextmanager
def _migrating(engine: Engine) -> Iterator[sa.Connection]:
    """One transaction for a run of migrations.

    On SQLite the foreign keys are switched off around it (a no-op inside a transaction, so
    before ``BEGIN``) and checked before the commit, as SQLite's documented procedure for
    rebuilding a table that other tables reference asks: migration 0007 rebuilds
    ``townships``, whose rows ``villages`` point at.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.dbapi_connection  # outside SQLAlchemy's transaction (autobegin)
        if sqlite:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing at missing rows: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to ``revision`` inside one transaction; return the new revision."""
    cfg = alembic_config(engine)
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    schema_changed(engine, present=True)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str:
    cfg = alembic_config(engine)
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    schema_changed(engine, present=False)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_current(engine: Engine) -> bool:
    """True when the database schema is at the latest revision."""
    return current_revision(engine) == head_revision(engine)


def autogenerate(engine: Engine, message: str) -> None:
    """Write a new revision from the models (developers only)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


def table_names(engine: Engine) -> list[str]:
    return sorted(sa.inspect(engine).get_table_names())
