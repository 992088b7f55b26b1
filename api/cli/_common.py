"""Options and helpers shared by the command modules."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from geo.audit import Actor

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="Database URL (overrides ATLAS_DATABASE_URL), e.g. sqlite:///var/atlas.sqlite "
        "or postgresql+psycopg://user@host/db",
        show_default=False,
    ),
]


def cli_actor() -> Actor:
    """Who runs the command, for the audit log: ``cli:<login name>``."""
    import getpass

    from geo.audit import Actor

    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container's unnamed uid)
        who = "unknown"
    return Actor(f"cli:{who}")


def engine_for(db: str | None) -> Engine:
    """The engine for ``--db`` or the configured database (errors are one line)."""
    from geo.db import make_engine  # the database layer loads only for a command that uses it

    return make_engine(db)


def upgrade_schema(engine: Engine, revision: str = "head") -> str:
    """Create the schema from empty or bring it up to date (Alembic); one line saying which."""
    from geo import migrate

    before = migrate.current_revision(engine)
    after = migrate.upgrade(engine, revision)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        return f"{url}: schema already at revision {after}"
    return f"{url}: schema upgraded from {before or 'empty'} to {after}"


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
