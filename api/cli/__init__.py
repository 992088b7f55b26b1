"""The ``atlas`` command line.

Each module in this package that defines ``register(app)`` adds its commands; a new command
group is one new file plus its entry in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from geo.errors import AtlasError

app = typer.Typer(
    name="atlas",
    help="Village assistance atlas: registry, analyses and maps for rural assistance work.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Village assistance atlas: registry, analyses and maps for rural assistance work."""
    # A callback keeps the app a command group even when only one command is registered.


#: Top-level command -> the module that registers it. ``atlas CMD`` imports only that module,
#: so a command does not pay for the imports of the others (pvlib, folium, the analyses:
#: seconds per start). A test checks this table against what the modules register.
COMMAND_MODULES = {
    "analyze": "analyze", "db": "db", "layers": "db", "demo": "demo", "finding": "finding",
    "import": "io", "export": "io", "fields": "io", "map": "maps", "maps": "maps", "pv": "pv",
    "sample": "sample", "serve": "serve", "user": "user",
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


def _register_for(args: list[str]) -> None:
    first = next((arg for arg in args if not arg.startswith("-")), None)
    if first in COMMAND_MODULES:
        _register(COMMAND_MODULES[first])
    else:  # help, or an unknown command: click lists them all
        register_all()


def main(args: list[str] | None = None) -> None:
    """Console-script entry point (``args``: the command line, default ``sys.argv[1:]``); exits
    with the command's code. Domain errors become one line on stderr and exit code 1."""
    args = sys.argv[1:] if args is None else list(args)
    _register_for(args)
    try:
        app(args, prog_name="atlas")
    except AtlasError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":  # python -m api.cli
    main()
