"""SQL of the accounts of the API: users, their township scopes, API keys and login attempts.

This module stores what the API's security layer computes (password and key hashes); it
never sees a password or a key in clear. Every change to a user or key writes an audit entry
in the same transaction; hashes are never written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from geo import models
from geo.storage import stamps
from geo.db import Bind, connect, require_schema
from geo.enums import Role
from geo.errors import Conflict, NotFound, ValidationError
from geo.storage.audit import record
from geo.storage.query import area_townships, classify_area
from geo.storage.records import lock_row, stale, versioned_update
from geo.storage.types import aware_row, now_utc

if TYPE_CHECKING:  # pragma: no cover
    from geo.audit import Actor

USERS = models.User.__table__
SCOPES = models.user_townships
AREA_SCOPES = models.user_areas
AREAS = models.Area.__table__
KEYS = models.ApiKey.__table__
ATTEMPTS = models.LoginAttempt.__table__
TOWNSHIPS = models.Township.__table__

#: User fields a caller may set (``townships`` is the scope list; ``password_hash`` is secret).
USER_FIELDS = ("display_name", "role", "password_hash", "is_active", "tokens_valid_after", "townships")


_now = now_utc

# ---------------------------------------------------------------------- change stamp


def accounts_generation(bind: Bind) -> tuple[int, ...]:
    """A value that changes whenever a user, a township scope or an API key of this database is
    changed through this module, or the registry is written (an account scoped to a county
    reaches the townships the county holds now), by this process or another atlas process on
    this host (:mod:`geo.storage.stamps`): caches of who a credential belongs to compare it
    before answering. Reading it costs no SQL."""
    return (*stamps.read(bind, "accounts"), *stamps.read(bind, "registry"))


def _changes_accounts(func):
    """Decorate a write of users, scopes or keys: the accounts stamp changes once it is done."""

    @functools.wraps(func)
    def write(bind, *args, **kwargs):
        try:
            return func(bind, *args, **kwargs)
        finally:
            # after the commit of an engine's own transaction; a caller's connection bumps
            # again when it goes back to the pool (after the caller's commit)
            if isinstance(bind, Connection):
                stamps.bump_after_release(bind, "accounts")
            else:
                stamps.bump(bind, "accounts")

    return write


def _role(value: Any) -> Role:
    try:
        return Role.parse(value)
    except ValueError as exc:
        raise ValidationError(f"role: {exc}") from None


def _user_row(conn: Connection, row: Mapping[str, Any]) -> dict[str, Any]:
    user = dict(row)
    user["role"] = _role(user["role"]).value
    aware_row(user, ("created_at", "updated_at", "tokens_valid_after"))
    scoped = conn.execute(
        sa.select(TOWNSHIPS.c.id, TOWNSHIPS.c.name)
        .select_from(SCOPES.join(TOWNSHIPS, SCOPES.c.township_id == TOWNSHIPS.c.id))
        .where(SCOPES.c.user_id == user["id"])
        .order_by(TOWNSHIPS.c.name)
    ).all()
    areas = conn.execute(
        sa.select(AREAS.c.id, AREAS.c.code, AREAS.c.name)
        .select_from(AREA_SCOPES.join(AREAS, AREA_SCOPES.c.area_id == AREAS.c.id))
        .where(AREA_SCOPES.c.user_id == user["id"])
        .order_by(AREAS.c.code)
    ).all()
    # an area scope covers the townships inside it now, also those added after the grant
    inside = area_townships(conn, [r.id for r in areas]) if areas else []
    user["township_ids"] = sorted({r.id for r in scoped} | set(inside))
    user["township_names"] = [f"{r.name}（{r.code}）" for r in areas] + [r.name for r in scoped]
    user["area_codes"] = [r.code for r in areas]
    if areas and not user["township_ids"]:
        user["township_ids"] = [0]  # an area without townships yet: sees nothing, never everything
    return user


def get_user(bind: Bind, *, user_id: int | None = None, name: str | None = None) -> dict[str, Any]:
    """One user by id or login name, with ``township_ids`` / ``township_names`` (empty = all).

    Raises
    ------
    NotFound
        No such user.
    """
    clause = USERS.c.id == int(user_id) if user_id is not None else USERS.c.name == name
    with connect(bind) as conn:
        require_schema(conn)
        row = conn.execute(sa.select(USERS).where(clause)).mappings().first()
        if row is None:
            raise NotFound(f"there is no user {name if name is not None else user_id!r}")
        return _user_row(conn, row)


def list_users(bind: Bind) -> list[dict[str, Any]]:
    """Every user, by name."""
    with connect(bind) as conn:
        require_schema(conn)
        rows = conn.execute(sa.select(USERS).order_by(USERS.c.name)).mappings().all()
        return [_user_row(conn, row) for row in rows]


def count_users(bind: Bind) -> int:
    with connect(bind) as conn:
        require_schema(conn)
        return int(conn.execute(sa.select(sa.func.count()).select_from(USERS)).scalar_one())


def _audit_view(user: Mapping[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in user.items() if k in USER_FIELDS or k in ("name", "township_names")}
    view.pop("townships", None)
    if "password_hash" in view:
        view["password_hash"] = None if view["password_hash"] is None else "[redacted]"
    for k, v in list(view.items()):
        if isinstance(v, dt.datetime):
            view[k] = v.isoformat()
    return view


def _set_scope(conn: Connection, user_id: int, townships: Sequence[int | str]) -> None:
    """The user's scope: townships (id, code, name) and areas above them (a county's,
    prefecture's or province's code or name), each kept at its own level."""
    found = [classify_area(conn, key) for key in townships or ()]
    conn.execute(SCOPES.delete().where(SCOPES.c.user_id == user_id))
    conn.execute(AREA_SCOPES.delete().where(AREA_SCOPES.c.user_id == user_id))
    town_ids = sorted({i for kind, i in found if kind == "township"})
    area_ids = sorted({i for kind, i in found if kind == "area"})
    if town_ids:
        conn.execute(SCOPES.insert(), [{"user_id": user_id, "township_id": t} for t in town_ids])
    if area_ids:
        conn.execute(AREA_SCOPES.insert(), [{"user_id": user_id, "area_id": a} for a in area_ids])


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(c.isspace() or not c.isprintable() for c in name):
        raise ValidationError(
            f"user name {name!r} must be 1-64 printable characters without spaces, e.g. wang.fang"
        )
    return name


@_changes_accounts
def create_user(
    bind: Bind,
    *,
    name: str,
    role: Role | str,
    password_hash: str | None,
    actor: Actor,
    display_name: str | None = None,
    townships: Sequence[int | str] = (),
    source: str = "user",
) -> dict[str, Any]:
    """Add a user (``townships`` empty = every township).

    Raises
    ------
    Conflict
        The name is taken.
    ValidationError, NotFound
        A bad name or role, or an unknown township.
    """
    name = _check_name(name)
    values = {"name": name, "role": _role(role).value, "password_hash": password_hash,
              "display_name": display_name, "is_active": True, "source": source}
    with connect(bind, write=True) as conn:
        require_schema(conn)
        if conn.execute(sa.select(USERS.c.id).where(USERS.c.name == name)).first():
            raise Conflict(f"user {name!r} exists already; choose another name or change that user")
        try:
            user_id = conn.execute(USERS.insert().values(values).returning(USERS.c.id)).scalar_one()
        except IntegrityError as exc:
            raise Conflict(f"cannot add user {name!r}: {str(exc.orig).splitlines()[0]}") from None
        _set_scope(conn, user_id, townships)
        user = get_user(conn, user_id=user_id)
        record(conn, actor=actor, action="create", layer="users", row_id=user_id, after=_audit_view(user))
        return user


@_changes_accounts
def update_user(
    bind: Bind,
    user_id: int,
    changes: Mapping[str, Any],
    *,
    actor: Actor,
    version: int | None,
) -> dict[str, Any]:
    """Change a user's fields (:data:`USER_FIELDS`) if it is still at ``version``.

    ``version=None`` skips the check: only for the command line and for the system itself
    (password changes by the user, logouts).

    Raises
    ------
    NotFound, StaleVersion, ValidationError
    """
    unknown = sorted(set(changes) - set(USER_FIELDS))
    if unknown:
        raise ValidationError(f"user fields {unknown} cannot be changed; fields: {', '.join(USER_FIELDS)}")
    with connect(bind, write=True) as conn:
        require_schema(conn)
        lock_row(conn, USERS, int(user_id))
        before = get_user(conn, user_id=user_id)
        what = f"user {before['name']}"
        if version is not None and int(version) != before["version"]:
            raise stale(what, before["version"], int(version))
        values = {k: v for k, v in changes.items() if k != "townships"}
        if "role" in values:
            values["role"] = _role(values["role"]).value
        if values or "townships" in changes:
            versioned_update(conn, USERS, int(user_id), version, {**values, "updated_at": _now()}, what=what)
        if "townships" in changes:
            _set_scope(conn, user_id, changes["townships"] or ())
        after = get_user(conn, user_id=user_id)
        old, new = _audit_view(before), _audit_view(after)
        changed = [k for k in new if old.get(k) != new.get(k)]
        if "password_hash" in changes:
            changed.append("password_hash")
            old["password_hash"], new["password_hash"] = "[redacted]", "[changed]"
        if changed:
            record(conn, actor=actor, action="update", layer="users", row_id=user_id,
                   before={k: old.get(k) for k in changed}, after={k: new.get(k) for k in changed})
        return after


@_changes_accounts
def delete_user(bind: Bind, user_id: int, *, actor: Actor, version: int | None) -> None:
    """Remove a user and its API keys (audit entries keep the name).

    Raises
    ------
    NotFound, StaleVersion
    """
    with connect(bind, write=True) as conn:
        require_schema(conn)
        lock_row(conn, USERS, int(user_id))
        before = get_user(conn, user_id=user_id)
        if version is not None and int(version) != before["version"]:
            raise stale(f"user {before['name']}", before["version"], int(version))
        conn.execute(KEYS.delete().where(KEYS.c.user_id == user_id))
        conn.execute(SCOPES.delete().where(SCOPES.c.user_id == user_id))
        conn.execute(USERS.delete().where(USERS.c.id == user_id))
        record(conn, actor=actor, action="delete", layer="users", row_id=user_id, before=_audit_view(before))


# ---------------------------------------------------------------------- API keys


def _key_row(row: Mapping[str, Any]) -> dict[str, Any]:
    key = {k: v for k, v in dict(row).items() if k != "key_hash"}
    return aware_row(key, ("created_at", "last_used_at", "expires_at", "revoked_at"))


@_changes_accounts
def add_api_key(
    bind: Bind,
    user_id: int,
    *,
    label: str,
    prefix: str,
    key_hash: str,
    actor: Actor,
    expires_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Store a new key's public prefix and the hash of its secret."""
    with connect(bind, write=True) as conn:
        require_schema(conn)
        user = get_user(conn, user_id=user_id)
        key_id = conn.execute(
            KEYS.insert().values(user_id=user_id, label=label, prefix=prefix, key_hash=key_hash,
                                 created_at=_now(), expires_at=expires_at).returning(KEYS.c.id)
        ).scalar_one()
        record(conn, actor=actor, action="create", layer="api_keys", row_id=key_id,
               after={"user": user["name"], "label": label, "prefix": prefix,
                      "expires_at": expires_at.isoformat() if expires_at else None})
        return _key_row(conn.execute(sa.select(KEYS).where(KEYS.c.id == key_id)).mappings().one())


def find_api_key(bind: Bind, prefix: str) -> dict[str, Any] | None:
    """The key with this prefix, with its ``key_hash`` (for the caller to compare), or None."""
    with connect(bind) as conn:
        row = conn.execute(sa.select(KEYS).where(KEYS.c.prefix == prefix)).mappings().first()
    if row is None:
        return None
    key = _key_row(row)
    key["key_hash"] = row["key_hash"]
    return key


def touch_api_key(bind: Bind, key_id: int) -> None:
    """Note that a key was used just now."""
    with connect(bind, write=True) as conn:
        conn.execute(KEYS.update().where(KEYS.c.id == key_id).values(last_used_at=_now()))


def list_api_keys(bind: Bind, user_id: int) -> list[dict[str, Any]]:
    """A user's keys (never their hashes), newest first."""
    with connect(bind) as conn:
        require_schema(conn)
        rows = conn.execute(
            sa.select(KEYS).where(KEYS.c.user_id == user_id).order_by(KEYS.c.id.desc())
        ).mappings().all()
    return [_key_row(r) for r in rows]


@_changes_accounts
def revoke_api_key(bind: Bind, key_id: int, *, user_id: int | None, actor: Actor) -> dict[str, Any]:
    """Revoke a key (of ``user_id`` only, unless None).

    Raises
    ------
    NotFound
        No such key (of that user).
    """
    with connect(bind, write=True) as conn:
        require_schema(conn)
        select = sa.select(KEYS).where(KEYS.c.id == key_id)
        if user_id is not None:
            select = select.where(KEYS.c.user_id == user_id)
        row = conn.execute(select).mappings().first()
        if row is None:
            raise NotFound(f"there is no API key {key_id}" + (" of yours" if user_id is not None else ""))
        if row["revoked_at"] is None:
            conn.execute(KEYS.update().where(KEYS.c.id == key_id).values(revoked_at=_now()))
            record(conn, actor=actor, action="revoke", layer="api_keys", row_id=key_id,
                   before={"label": row["label"], "prefix": row["prefix"]})
        return _key_row(conn.execute(sa.select(KEYS).where(KEYS.c.id == key_id)).mappings().one())


# ---------------------------------------------------------------------- login attempts


def record_login(bind: Bind, *, name: str, client: str | None, success: bool) -> None:
    """Remember one password login attempt; attempts older than a day are forgotten."""
    now = _now()
    with connect(bind, write=True) as conn:
        conn.execute(ATTEMPTS.delete().where(ATTEMPTS.c.at < now - dt.timedelta(days=1)))
        conn.execute(ATTEMPTS.insert().values(at=now, name=name[:64], client=(client or "")[:64],
                                              success=success))


def recent_failures(bind: Bind, *, name: str, client: str | None, since: dt.datetime) -> tuple[int, int]:
    """Failed attempts since ``since`` for this login name, and from this client address."""
    failed = sa.and_(ATTEMPTS.c.success.is_(False), ATTEMPTS.c.at >= since)
    with connect(bind) as conn:
        by_name = conn.execute(
            sa.select(sa.func.count()).where(failed, ATTEMPTS.c.name == name[:64])).scalar_one()
        by_client = conn.execute(
            sa.select(sa.func.count()).where(failed, ATTEMPTS.c.client == (client or "")[:64])).scalar_one()
    return int(by_name), int(by_client)
