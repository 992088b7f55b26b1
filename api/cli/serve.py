"""``atlas serve``: the HTTP API and maps (uvicorn)."""

from __future__ import annotations

import secrets

import typer
from pydantic import ValidationError as SettingsError

from api.cli._common import DbOption, engine_for
from geo import migrate
from geo.audit import SYSTEM
from geo.enums import Role
from geo.errors import AtlasError, SchemaMissing
from geo.services import accounts
from geo.settings import Settings, get_settings

BOOTSTRAP_ADMIN = "admin"


def load_settings() -> Settings:
    """The settings, or one line saying what is wrong with the environment (for example the
    default secret key outside development)."""
    try:
        return get_settings()
    except SettingsError as exc:
        first = exc.errors()[0]
        message = str(first.get("msg", exc)).removeprefix("Value error, ")
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise AtlasError(f"cannot start: {where + ': ' if where else ''}{message}") from None


def bootstrap_admin(engine) -> str | None:
    """On the very first start (no users at all), create the administrator ``admin`` with a
    random password and return that password (shown once on the terminal); else None."""
    if accounts.count_users(engine) > 0:
        return None
    from api.security import hash_password

    password = secrets.token_urlsafe(12)
    accounts.create_user(engine, name=BOOTSTRAP_ADMIN, role=Role.ADMIN, password_hash=hash_password(password),
                         display_name="初始管理员 first administrator", actor=SYSTEM, source="bootstrap")
    return password


#: Seconds a server worker may take to start before uvicorn replaces it.
WORKER_START_S = 120


def serve(
    db: DbOption = None,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (uvicorn's; each builds the app "
                                "from the settings and the --db given here). PostGIS scales out this way; "
                                "SpatiaLite takes several readers but one writer at a time."),
) -> None:
    """Start the API server and print its address. The first start on a database without
    users creates the administrator 'admin' and prints its one-time password."""
    import os

    import uvicorn

    from api.app import create_app

    settings = load_settings()
    engine = engine_for(db)
    if not migrate.is_current(engine):
        raise SchemaMissing("the database schema is missing or out of date; run: atlas db upgrade "
                            f"--db {engine.url.render_as_string(hide_password=True)}")
    password = bootstrap_admin(engine)
    # The OpenAPI document is built on its first request, not here (see api.app): most servers
    # are never asked for it, and building it would add ~2 s of CPU to every start.
    application = create_app(engine=engine, settings=settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if password is not None:
        typer.echo(
            f"First start: created the administrator '{BOOTSTRAP_ADMIN}' with the one-time password "
            f"{password}\n  Log in at http://{shown}:{port}/login, then change it (POST "
            "/api/auth/password or: atlas user password admin) and add accounts (atlas user add NAME "
            "--role planner|leader|inspector|viewer). This password is not shown again."
        )
    typer.echo(f"Village assistance atlas running at http://{shown}:{port}/  "
               f"(database {engine.url.render_as_string(hide_password=True)}; Ctrl+C stops)")
    # proxy_headers=False: uvicorn would trust X-Forwarded-For from 127.0.0.1; the app trusts
    # only ATLAS_TRUSTED_PROXIES (see api.app.create_app).
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=False)
        return
    # Each worker is a new process that imports the app factory and reads the settings from
    # the environment: hand it the database chosen here. Caches stay correct across workers
    # (the registry's state token fingerprints the database; the accounts cache obeys a stamp
    # file every account change touches, see geo.storage.accounts.accounts_generation).
    os.environ["ATLAS_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    # A worker has WORKER_START_S to start (import, build the app) before uvicorn kills and
    # replaces it: uvicorn's 5 s made workers on a busy machine restart one another forever.
    uvicorn.run("api.app:create_app", factory=True, workers=workers, host=host, port=port,
                log_level="warning", proxy_headers=False, timeout_worker_healthcheck=WORKER_START_S)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
