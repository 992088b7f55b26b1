"""The ``atlas`` command line.

Each module in this package that defines ``register(app)`` adds its commands; modules are
registered in name order, so a new command group is one new file.
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


def _register_all() -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        register = getattr(loaded, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    """Console-script entry point: domain errors become one line on stderr and exit code 1."""
    try:
        app()
    except AtlasError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":  # python -m api.cli
    main()
