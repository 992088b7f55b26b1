"""``atlas user ...``: accounts of the API (roles, townships, passwords, API keys)."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer

from api import security
from api.cli._common import DbOption, echo_json, engine_for, upgrade_schema
from api.cli._common import cli_actor as _actor
from geo import migrate
from geo.enums import Role
from geo.errors import ValidationError
from geo.services import accounts

user_app = typer.Typer(help="Accounts of the API: roles, townships, passwords and API keys.",
                       no_args_is_help=True)

ROLE_HELP = "; ".join(f"{r.value} ({r.label})" for r in Role)
RoleOption = Annotated[str, typer.Option("--role", "-r", help=f"One of: {ROLE_HELP}.")]
TownshipOption = Annotated[
    list[str] | None,
    typer.Option("--township", "--area", "-t", help="Limit the user to this township (name, code or id) or area (a county's, "
                                          "prefecture's or province's six-digit code or name); "
                                          "repeat for several. Default: every township."),
]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from "
                                             "standard input (for scripts) instead of prompting.")]
Generate = Annotated[bool, typer.Option("--generate-password", help="Make a random password and print it once.")]


def _password(*, from_stdin: bool, generate: bool) -> str:
    if generate:
        password = secrets.token_urlsafe(12)
        typer.echo(f"password (shown once): {password}")
        return password
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise ValidationError("no terminal to ask for a password: pass --password-stdin (and pipe it) "
                              "or --generate-password")
    try:
        return security.check_password_strength(password)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _show(user: dict) -> str:
    scope = ", ".join(user["township_names"]) or "all townships"
    state = "" if user["is_active"] else "  (deactivated)"
    role = Role.parse(user["role"])
    return f"{user['name']:<20} {role.value:<10} {role.label:<6} {scope}{state}"


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Login name, e.g. wang.fang")],
    role: RoleOption,
    township: TownshipOption = None,
    display_name: Annotated[str | None, typer.Option(help="Full name shown in the audit log.")] = None,
    password_stdin: PasswordStdin = False,
    generate_password: Generate = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="An account for API keys only.")] = False,
    db: DbOption = None,
) -> None:
    """Add a user (asks for the password twice). On a database without the atlas tables (before
    the first start), creates them first."""
    engine = engine_for(db)
    if not migrate.is_current(engine):
        # Before the password is asked or printed: an account is only made where it can be kept.
        typer.echo(upgrade_schema(engine), err=True)
    password_hash = None
    if not no_password:
        password_hash = security.hash_password(_password(from_stdin=password_stdin, generate=generate_password))
    user = accounts.create_user(engine, name=name, role=role, password_hash=password_hash,
                                display_name=display_name, townships=township or (), actor=_actor(),
                                source="cli")
    typer.echo(f"added {_show(user)}")


@user_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Every user with role and townships."""
    users = accounts.list_users(engine_for(db))
    if as_json:
        echo_json([{k: v for k, v in u.items() if k != "password_hash"} for u in users])
        return
    for user in users:
        typer.echo(_show(user))


@user_app.command("set")
def set_(
    name: str,
    role: Annotated[str | None, typer.Option("--role", "-r", help=f"One of: {ROLE_HELP}.")] = None,
    township: TownshipOption = None,
    all_townships: Annotated[bool, typer.Option("--all-townships", help="Lift the township limit.")] = False,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Allow or block logins.")] = None,
    display_name: Annotated[str | None, typer.Option()] = None,
    db: DbOption = None,
) -> None:
    """Change a user's role, townships, display name or active flag."""
    engine = engine_for(db)
    user = accounts.get_user(engine, name=name)
    changes: dict = {}
    if role is not None:
        changes["role"] = role
    if township:
        changes["townships"] = township
    if all_townships:
        changes["townships"] = []
    if active is not None:
        changes["is_active"] = active
    if display_name is not None:
        changes["display_name"] = display_name
    user = accounts.update_user(engine, user["id"], changes, actor=_actor(), version=None)
    typer.echo(f"changed {_show(user)}")


@user_app.command("password")
def password(
    name: str,
    password_stdin: PasswordStdin = False,
    generate_password: Generate = False,
    db: DbOption = None,
) -> None:
    """Set a user's password; the user's tokens stop working."""
    engine = engine_for(db)
    user = accounts.get_user(engine, name=name)
    new_hash = security.hash_password(_password(from_stdin=password_stdin, generate=generate_password))
    accounts.set_password(engine, user["id"], new_hash, actor=_actor())
    typer.echo(f"password of {name} changed")


@user_app.command("remove")
def remove(name: str, db: DbOption = None) -> None:
    """Remove a user and its API keys (the audit log keeps the name)."""
    engine = engine_for(db)
    user = accounts.get_user(engine, name=name)
    accounts.delete_user(engine, user["id"], actor=_actor(), version=None)
    typer.echo(f"removed {name}")


@user_app.command("key")
def key(
    name: str,
    label: Annotated[str, typer.Option(help="What the key is for, e.g. 'nightly export'.")],
    expires_days: Annotated[int | None, typer.Option(min=1, help="Days until it expires (default never).")] = None,
    db: DbOption = None,
) -> None:
    """Make an API key for a user's scripts; it is printed once and only its hash is kept."""
    engine = engine_for(db)
    user = accounts.get_user(engine, name=name)
    new = security.new_api_key()
    accounts.add_api_key(engine, user["id"], label=label, prefix=new.prefix, key_hash=new.key_hash,
                              actor=_actor(), expires_in_days=expires_days)
    typer.echo(new.key)
    typer.echo("Send it as the header X-API-Key. It is not shown again.", err=True)


@user_app.command("keys")
def keys(name: str, db: DbOption = None) -> None:
    """A user's API keys (ids, labels, prefixes; never the keys)."""
    engine = engine_for(db)
    user = accounts.get_user(engine, name=name)
    for k in accounts.list_api_keys(engine, user["id"]):
        state = "revoked" if k["revoked_at"] else "active"
        typer.echo(f"{k['id']:>5}  atlas_{k['prefix']}_…  {state:<8} {k['label']}")


@user_app.command("revoke")
def revoke(name: str, key_id: int, db: DbOption = None) -> None:
    """Revoke one of a user's API keys by its id (see: atlas user keys NAME)."""
    engine = engine_for(db)
    user = accounts.get_user(engine, name=name)
    accounts.revoke_api_key(engine, key_id, user_id=user["id"], actor=_actor())
    typer.echo(f"revoked key {key_id} of {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
