"""Account rules shared by ``/api/users``, ``/api/auth`` and ``atlas user``, each written once:

- a new password, a deactivation or a role change revokes the user's tokens (they must log in
  again): :func:`revoking`, applied by :func:`update_user` and :func:`set_password`;
- an administrator cannot deactivate, demote or remove their own account;
- an API key's expiry from a number of days;
- who a credential (token, API key) belongs to, kept briefly per credential
  (:class:`CredentialCache`) and forgotten at once when any account changes.

Passwords and keys are hashed by the caller (``api.security``); only hashes reach here. The
accounts are stored through :mod:`geo.storage.accounts`, whose plain reads and writes (no rule
beyond the row's own checks) are this module's too, so that routes, pages and commands call
one module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine

from geo.audit import Actor
from geo.cache import StampedCache
from geo.errors import Conflict
from geo.storage import Bind, accounts, now_utc
from geo.storage.accounts import (
    accounts_generation,
    count_users,
    create_user,
    find_api_key,
    get_user,
    list_users,
    revoke_api_key,
    touch_api_key,
)

__all__ = ["CredentialCache", "accounts_generation", "add_api_key", "count_users", "create_user", "delete_user", "find_api_key", "get_user",
           "list_api_keys", "list_users", "revoke_api_key", "revoke_tokens", "revoking", "set_password",
           "touch_api_key", "update_user"]

#: Changing any of these revokes every token issued to the user until now.
REVOKING_FIELDS = frozenset({"password_hash", "is_active", "role"})


def revoking(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` plus ``tokens_valid_after`` (now) when they change a password, an active
    flag or a role."""
    out = dict(changes)
    if REVOKING_FIELDS & set(out):
        out["tokens_valid_after"] = now_utc()
    return out


def update_user(bind: Bind, user_id: int, changes: Mapping[str, Any], *, actor: Actor, version: int | None,
                acting_user_id: int | None = None) -> dict[str, Any]:
    """Change a user's role, password hash, townships, display name or active flag.

    ``None`` for ``role``, ``is_active`` or ``display_name`` leaves it unchanged; ``None``
    townships lifts the township limit. Tokens are revoked as :func:`revoking` says.

    Parameters
    ----------
    acting_user_id
        The administrator making the change (None: the command line), who may not
        deactivate or demote their own account.

    Raises
    ------
    Conflict
        An administrator deactivating or demoting their own account.
    NotFound, StaleVersion, ValidationError
        From :func:`geo.storage.accounts.update_user`.
    """
    changes = dict(changes)
    if acting_user_id is not None and user_id == acting_user_id and (
            changes.get("is_active") is False or changes.get("role", "admin") != "admin"):
        raise Conflict("you cannot deactivate or demote your own account; ask another administrator")
    for flag in ("role", "is_active", "display_name"):
        if flag in changes and changes[flag] is None:
            changes.pop(flag)
    if "townships" in changes and changes["townships"] is None:
        changes["townships"] = []
    return accounts.update_user(bind, user_id, revoking(changes), actor=actor, version=version)


def set_password(bind: Bind, user_id: int, password_hash: str | None, *, actor: Actor) -> dict[str, Any]:
    """A user's new password (hash); every token issued before stops working."""
    return accounts.update_user(bind, user_id, revoking({"password_hash": password_hash}), actor=actor,
                                version=None)


def revoke_tokens(bind: Bind, user_id: int, *, actor: Actor) -> dict[str, Any]:
    """Log a user out everywhere: every token issued until now stops working."""
    return accounts.update_user(bind, user_id, {"tokens_valid_after": now_utc()}, actor=actor, version=None)


def delete_user(bind: Bind, user_id: int, *, actor: Actor, version: int | None,
                acting_user_id: int | None = None) -> None:
    """Remove a user and its API keys; not the acting administrator's own account.

    Raises
    ------
    Conflict
        ``user_id`` is ``acting_user_id``.
    NotFound, StaleVersion
        From :func:`geo.storage.accounts.delete_user`.
    """
    if acting_user_id is not None and user_id == acting_user_id:
        raise Conflict("you cannot remove your own account; ask another administrator")
    accounts.delete_user(bind, user_id, actor=actor, version=version)


def add_api_key(bind: Bind, user_id: int, *, label: str, prefix: str, key_hash: str, actor: Actor,
                expires_in_days: int | None = None) -> dict[str, Any]:
    """Store a new API key (its public prefix and the hash of its secret), expiring after
    ``expires_in_days`` days (None: never).

    Raises
    ------
    NotFound
        No such user.
    """
    expires = now_utc() + dt.timedelta(days=expires_in_days) if expires_in_days else None
    return accounts.add_api_key(bind, user_id, label=label, prefix=prefix, key_hash=key_hash, actor=actor,
                                expires_at=expires)


def list_api_keys(bind: Bind, user_id: int) -> list[dict[str, Any]]:
    """A user's API keys (prefix, label, dates; never a secret).

    Raises
    ------
    NotFound
        No such user.
    """
    get_user(bind, user_id=user_id)
    return accounts.list_api_keys(bind, user_id)


T = TypeVar("T")

#: How long the account behind a credential is kept [s]: the bound on how late a change made
#: outside this host's atlas processes (SQL by hand, another host on the same PostGIS) is seen.
CREDENTIAL_CACHE_S = 30.0
#: Credentials kept at most (the least recently used goes first).
CREDENTIAL_CACHE_SIZE = 4096


class CredentialCache(Generic[T]):
    """Who a credential (a token, an API key) belongs to, kept for :data:`CREDENTIAL_CACHE_S`
    so that a request costs no account queries.

    An answer is served only while :func:`accounts_generation` is what it was when the answer
    was read: every change of a user, a township scope or a key through
    :mod:`geo.storage.accounts` (revocation, logout, deactivation, a new role or scope), by
    this process or another atlas process on this host, is obeyed from the next request on.
    Failures are never kept (each wrong credential is checked again). Credentials are kept as
    their BLAKE2 digests, never in clear.
    """

    def __init__(self, *, ttl_s: float = CREDENTIAL_CACHE_S, size: int = CREDENTIAL_CACHE_SIZE):
        self._entries: StampedCache[tuple[T, dt.datetime | None]] = StampedCache(size, ttl_s=ttl_s)

    def get(self, bind: Bind, credential: str, load: Callable[[], tuple[T, dt.datetime | None]]) -> T:
        """The answer for ``credential``: kept, or ``load()``'s (an answer and the time it
        stops being valid, e.g. the key's expiry, or None), which is then kept.

        Raises
        ------
        Exception
            Whatever ``load`` raises (nothing is kept then).
        """
        key = self._key(bind, credential)

        def life_s(loaded: tuple[T, dt.datetime | None]) -> float | None:
            until = loaded[1]
            return None if until is None else (until - dt.datetime.now(dt.UTC)).total_seconds()

        return self._entries.get_or_compute(key, accounts_generation(bind), load, life_of=life_s)[0]

    def peek(self, bind: Bind, credential: str) -> T | None:
        """The kept answer for ``credential`` if :meth:`get` would serve it now (same account
        stamp, same time limits), else None; loads nothing (no SQL: safe on an event loop)."""
        found = self._entries.peek(self._key(bind, credential), accounts_generation(bind))
        return None if found is None else found[0]

    @staticmethod
    def _key(bind: Bind, credential: str) -> tuple:
        engine = bind if isinstance(bind, Engine) else bind.engine
        return (str(engine.url), hashlib.blake2b(credential.encode(), digest_size=16).digest())
