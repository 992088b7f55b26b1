"""``atlas db ...`` and ``atlas layers``: schema and contents."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli._common import DbOption, echo_json, engine_for, upgrade_schema
from geo import migrate
from geo.layers import LAYERS

db_app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(db: DbOption = None, revision: str = "head") -> None:
    """Create the schema from empty, or bring it up to date (Alembic migrations)."""
    typer.echo(upgrade_schema(engine_for(db), revision))


@db_app.command("current")
def current(db: DbOption = None) -> None:
    """Print the schema revision of the database."""
    engine = engine_for(db)
    typer.echo(migrate.current_revision(engine) or "empty (run: atlas db upgrade)")


def layers(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object of row counts.")] = False,
) -> None:
    """Row counts of every layer."""
    from geo.services import registry

    counts = registry.layer_counts(engine_for(db))
    if as_json:
        echo_json(counts)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("图层 layer", "名称", "行数 rows", box=None)
    table.columns[2].justify = "right"
    for name, count in counts.items():
        table.add_row(name, LAYERS[name].label, f"{count:,}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("layers")(layers)
