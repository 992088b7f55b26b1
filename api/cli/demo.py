"""``atlas demo load``: the Shapotou District demo dataset."""

from __future__ import annotations

import typer

from api.cli._common import DbOption, echo_json, engine_for
from geo import migrate
from geo.demo import load_demo

demo_app = typer.Typer(help="The Shapotou District demo dataset.", no_args_is_help=True)


@demo_app.command("load")
def load(
    db: DbOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Create or upgrade the schema, then load the demo data (loading twice changes nothing)."""
    engine = engine_for(db)
    migrate.upgrade(engine)
    results = load_demo(engine)
    if as_json:
        echo_json({name: r.as_dict() for name, r in results.items()})
        return
    for name, r in results.items():
        typer.echo(f"{name:<17} inserted {r.inserted:>5}  updated {r.updated:>5}  unchanged {r.unchanged:>5}")
    typer.echo("Demo data: names, categories, pairings and funds are from seed 000; positions and "
               "all other rows are generated (source demo:approximate / demo:synthetic).")


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")
