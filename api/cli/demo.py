"""``atlas demo load``: the Shapotou District demo dataset; ``atlas demo synth``: a synthetic
province of any size for scale tests."""

from __future__ import annotations

import typer

from api.cli._common import DbOption, echo_json, engine_for
from geo import migrate
from geo.demo import load_demo

demo_app = typer.Typer(help="The Shapotou District demo dataset, and synthetic provinces for scale tests.",
                       no_args_is_help=True)


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


@demo_app.command("synth")
def synth(
    counties: int = typer.Option(20, "--counties", min=1, help="Counties of the province (codes 99PPCC)."),
    villages: int = typer.Option(450, "--villages", min=1,
                                 help="Villages a county (45 is the demo county's size, 450 ten times it)."),
    seed: int = typer.Option(1, "--seed", help="Seed: the same arguments give the same province."),
    db: DbOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print the rows written as JSON."),
) -> None:
    """Write a synthetic province (合成数据, source benchmark:synthetic) into an empty database, in one transaction."""
    from geo.demo.synthetic import write_synthetic_province

    engine = engine_for(db)
    migrate.upgrade(engine)

    def progress(code: str, rows: dict[str, int]) -> None:
        if not as_json:
            typer.echo(f"县 {code}: 村 {rows['villages']:,}, 户 {rows['households']:,}, 道路 {rows['roads']:,}", err=True)

    rows = write_synthetic_province(engine, counties=counties, villages=villages, seed=seed, progress=progress)
    if as_json:
        echo_json(rows)
        return
    for name, n in rows.items():
        typer.echo(f"{name:<24} {n:>10,}")
    typer.echo("合成数据: every row is invented (names start with 合成, source benchmark:synthetic); "
               "county codes 99PPCC belong to no real province.")


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")
