"""The ``atlas`` command line on both backends: in this process through its entry point, and as a
real subprocess for the start-up path (``python -m api.cli``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_cli


@pytest.mark.long
def test_upgrade_load_and_count(empty_url):
    first = run_cli("db", "upgrade", "--db", empty_url, check=True)
    assert "upgraded from empty" in first.stdout
    again = run_cli("db", "upgrade", "--db", empty_url, check=True)
    assert "already at revision" in again.stdout
    run_cli("demo", "load", "--db", empty_url, check=True)
    counts = json.loads(run_cli("layers", "--json", "--db", empty_url, check=True).stdout)
    assert counts["townships"] == 7 and counts["villages"] == 45 and counts["pairings"] == 69
    loaded_again = json.loads(run_cli("demo", "load", "--json", "--db", empty_url, check=True).stdout)
    assert all(r["inserted"] == 0 and r["updated"] == 0 for r in loaded_again.values())
    assert json.loads(run_cli("layers", "--json", "--db", empty_url, check=True).stdout) == counts


def _one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(("url", "fragments"), [
    ("not a url", ("malformed database URL", "sqlite:///")),
    ("mysql://root@127.0.0.1/test", ("unsupported database 'mysql'",)),
    ("postgresql+psycopg://atlas@127.0.0.1:1/nowhere", ("cannot connect", "PostgreSQL is running")),
])
def test_bad_database_urls_give_one_line_saying_what_to_do(url, fragments):
    _one_line_error(run_cli("layers", "--db", url, subprocess_=url == "not a url"), *fragments)


def test_missing_spatialite_names_the_package(tmp_path):
    result = run_cli("layers", "--db", f"sqlite:///{tmp_path}/a.sqlite",
                     env={"ATLAS_SPATIALITE_LIBRARY": "mod_spatialite_not_here"})
    _one_line_error(result, "cannot load SpatiaLite", "apt-get install -y libsqlite3-mod-spatialite")


def test_an_empty_database_says_to_upgrade(tmp_path):
    _one_line_error(run_cli("layers", "--db", f"sqlite:///{tmp_path}/b.sqlite"), "atlas db upgrade")


def test_the_setting_is_used_when_no_db_option_is_given(tmp_path):
    url = f"sqlite:///{tmp_path}/c.sqlite"
    run_cli("db", "upgrade", env={"ATLAS_DATABASE_URL": url}, check=True)
    counts = json.loads(run_cli("layers", "--json", env={"ATLAS_DATABASE_URL": url}, check=True).stdout)
    assert set(counts.values()) == {0}


def test_every_command_is_found_by_its_module_table():
    """``atlas CMD`` imports only the module ``COMMAND_MODULES`` names: the table must list
    every top-level command, each with the module that registers it."""
    import typer.main

    from api import cli

    group = typer.main.get_group(cli.register_all())
    assert set(group.commands) == set(cli.COMMAND_MODULES)
    for command, module in cli.COMMAND_MODULES.items():
        callback = group.commands[command].callback
        registered_by = callback.__module__ if callback else None
        if registered_by is None or registered_by.startswith("typer"):  # a sub-app: its commands
            sub = group.commands[command]
            registered_by = next(iter(sub.commands.values())).callback.__module__
        assert registered_by == f"api.cli.{module}", command


def test_the_command_tree_is_built_once_per_set_of_command_modules(monkeypatch):
    """A process that runs several commands builds typer's click tree again only when a
    command module has been registered since."""
    from api import cli

    monkeypatch.setattr(cli, "_click_tree", None)
    first = cli._click_command(cli._app_for(["layers"]))
    assert cli._click_command(cli._app_for(["layers", "--json"])) is first
    assert "layers" in first.commands
    monkeypatch.setattr(cli, "_registered", cli._registered | {"a module registered since"})
    again = cli._click_command(cli._app_for(["layers"]))
    assert again is not first and set(again.commands) == set(first.commands)
    assert cli._click_command(cli._app_for([])) is not again  # the listing app of `atlas --help`


def test_the_command_list_says_what_each_command_says_of_itself():
    """``atlas --help`` lists the commands from ``SUMMARIES`` without importing them."""
    import typer.main

    from api import cli

    group = typer.main.get_group(cli.register_all())
    for name, command in group.commands.items():
        assert cli.SUMMARIES[name] == " ".join((command.help or "").split("\n\n")[0].split()), name
    assert set(cli.SUMMARIES) == set(group.commands)


def test_the_command_list_imports_no_heavy_library():
    """Start-up: ``atlas --help`` loads neither the database layer nor the data libraries."""
    script = ("import sys; from api.cli import main\n"
              "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in ('sqlalchemy', 'pandas', 'geopandas', 'numpy', 'geo.db', 'argon2')"
              " if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_help_lists_every_command():
    listed = run_cli("--help", check=True, subprocess_=True).stdout
    assert all(command in listed for command in ("analyze", "import", "sample", "serve", "map"))
