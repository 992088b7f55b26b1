"""The ``atlas`` command line.

Each module in this package that defines ``register(app)`` adds its commands; a new command
group is one new file plus its entry in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
import typer.core
import typer.main

from geo.errors import AtlasError

_APP_OPTIONS = dict(
    name="atlas",
    help="Village assistance atlas: registry, analyses and maps for rural assistance work.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app = typer.Typer(**_APP_OPTIONS)


@app.callback()
def _root() -> None:
    """Village assistance atlas: registry, analyses and maps for rural assistance work."""
    # A callback keeps the app a command group even when only one command is registered.


#: Top-level command -> the module that registers it. ``atlas CMD`` imports only that module,
#: so a command does not pay for the imports of the others (pvlib, folium, the analyses:
#: seconds per start). A test checks this table against what the modules register.
COMMAND_MODULES = {
    "analyze": "analyze", "assets": "projects", "db": "db", "dossier": "dossier", "layers": "db", "demo": "demo",
    "finding": "finding", "import": "io", "export": "io", "fields": "io", "forms": "forms", "map": "maps",
    "maps": "maps", "monitor": "monitor", "projects": "projects", "pv": "pv",
    "sample": "sample", "serve": "serve", "user": "user",
}

#: Top-level command -> what ``atlas --help`` says of it, so that the list of commands
#: imports no command module (each imports the analyses, GeoPandas or SQLAlchemy: seconds).
#: A test checks it against the commands' own help.
SUMMARIES = {
    "analyze": "Gap analyses: pairing coverage, road and water access, exit-standard scorecards, project priority.",
    "assets": "资产台账: the assets completed projects left, PV stations with their ledger.",
    "db": "Create or upgrade the database schema.",
    "demo": "The Shapotou District demo dataset, and synthetic provinces for scale tests.",
    "dossier": "Write a village's dossier (一村一档) as PDF, or every village's into a zip (--all).",
    "export": "Export a layer with Chinese headers (CSV, XLSX) or field names (GeoPackage, GeoJSON, Shapefile).",
    "fields": "The fields of a layer: Chinese header, Shapefile (DBF) name and the headers imports accept.",
    "forms": "Seed 000's forms (附件1-5) written from the registry, laid out as the seed lays them out.",
    "finding": "Inspection findings (督查发现问题) and their rectification.",
    "import": "Import a file into a layer in one transaction: every row checked, upsert by natural key; "
              "refused rows are listed with the reason and skipped (with --strict nothing is written).",
    "layers": "Row counts of every layer.",
    "map": "Write map NAME to FILE.html (self-contained), FILE.pdf or FILE.png (print sheet, headless Chromium).",
    "maps": "List the maps with their Chinese titles.",
    "monitor": "防止返贫动态监测: risk leads, monitoring cases and their steps, reports.",
    "projects": "项目库: projects from the village's proposal through township review and county approval to "
                "completion and hand-over as an asset.",
    "pv": "光伏扶贫 Photovoltaic projects: yield, review, siting and sizing.",
    "sample": "Inspection samples: reproducible stratified draws, routes and forms.",
    "serve": "Start the API server and print its address. The first start on a database without users "
             "creates the administrator 'admin' and prints its one-time password.",
    "user": "Accounts of the API: roles, townships, passwords and API keys.",
}

_registered: set[str] = set()


def _register(name: str) -> None:
    if name in _registered:
        return
    _registered.add(name)
    register = getattr(importlib.import_module(f"{__name__}.{name}"), "register", None)
    if register is not None:
        register(app)


def register_all() -> typer.Typer:
    """Every command (for help, completion and tests); returns the app."""
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            _register(module.name)
    return app


def command_list() -> typer.Typer:
    """An app that only lists the commands (``atlas``, ``atlas --help``) from :data:`SUMMARIES`."""
    listing = typer.Typer(**_APP_OPTIONS)
    listing.callback()(_root)
    for name, summary in SUMMARIES.items():
        listing.command(name, help=summary)(_not_loaded)
    return listing


def _not_loaded() -> None:  # pragma: no cover - the listing app runs no command
    raise AtlasError("internal: command listed but not loaded")


def _app_for(args: list[str]) -> typer.Typer:
    first = next((arg for arg in args if not arg.startswith("-")), None)
    if first in COMMAND_MODULES:
        _register(COMMAND_MODULES[first])
        return app
    if first is None:  # atlas, atlas --help: the list of commands only
        return command_list()
    return register_all()  # an unknown command: click says so


#: The click command tree typer last built from :data:`app`, with the number of command modules
#: registered then: building it reads every command's signature and costs more than many
#: commands' own work, so a process that runs several commands (the tests run them in process)
#: builds it again only when a module has been registered since.
_click_tree: tuple[int, typer.core.TyperGroup] | None = None


def _click_command(typer_app: typer.Typer) -> typer.core.TyperGroup:
    global _click_tree
    if typer_app is not app:  # the listing app: small, made per call
        return typer.main.get_command(typer_app)
    if _click_tree is None or _click_tree[0] != len(_registered):
        _click_tree = (len(_registered), typer.main.get_command(app))
    return _click_tree[1]


def main(args: list[str] | None = None) -> None:
    """Console-script entry point (``args``: the command line, default ``sys.argv[1:]``); exits
    with the command's code. Domain errors become one line on stderr and exit code 1."""
    args = sys.argv[1:] if args is None else list(args)
    command = _click_command(_app_for(args))
    try:
        command(args, prog_name="atlas")
    except AtlasError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":  # python -m api.cli
    main()
