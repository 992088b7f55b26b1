"""Password logins: who may try, how fast, and what is remembered.

The rules, in one place for the token and the browser-session logins:

- **Per login name: lock-out.** After ``login_max_failures`` failed attempts for one name
  within ``login_window_minutes``, that name is refused (:class:`~geo.errors.TooManyAttempts`,
  429 with ``Retry-After``) until the window has passed, even with the right password.
- **Per client address: slow-down, never lock-out.** After ``login_slowdown_after`` failed
  attempts from one address within the window (any names), every login from that address
  waits before it is checked: 0.25 s, doubling with each further failure, at most
  ``login_max_delay_seconds``. Guessing across many names becomes slow, while colleagues
  behind the same NAT address can still log in.
- Every attempt is recorded (name, address, success); a failure says only "wrong user name
  or password, or the account is deactivated" (:class:`~geo.errors.AuthenticationFailed`).

- **HTTP Basic** (clients without header authentication: QGIS 3.22, GDAL's
  ``GDAL_HTTP_USERPWD``) follows the same rules on every request (:func:`check_basic`): the
  lock-out is checked each time, the slow-down applies, and a wrong password counts as a
  failure. A right password is remembered for a few minutes, bound to the account's current
  password hash, so a paging client does not pay an argon2 check per page, while a password
  change, a deactivation or a lock-out takes effect at the next request.

The wait is an asynchronous sleep and the database and password work run in worker
threads, so a slowed-down login holds neither the event loop nor a thread. The password
check itself is the caller's (``verify``): the hash scheme belongs to the API's security
module, which ``geo`` does not import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
from sqlalchemy.engine import Engine

from geo.storage import accounts
from geo.errors import AuthenticationFailed, NotFound, TooManyAttempts
from geo.settings import Settings

#: The first wait of a slowed-down address [s]; it doubles with each further failure.
FIRST_DELAY_S = 0.25
#: Login names are stored and compared on their first 64 characters (the column's width).
NAME_CHARS = 64

Verify = Callable[[str | None, str], bool]
Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True)
class LoginPolicy:
    """The numbers of the login rules (see the module's docstring).

    Attributes
    ----------
    max_failures
        Failed attempts per login name within ``window`` before the name is locked out.
    window
        How far back failures count, and how long a lock-out lasts.
    slowdown_after
        Failed attempts from one client address within ``window`` before its logins wait.
    max_delay_s
        The longest wait [s] (0: never wait).
    """

    max_failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    slowdown_after: int = 20
    max_delay_s: float = 4.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(max_failures=settings.login_max_failures,
                   window=dt.timedelta(minutes=settings.login_window_minutes),
                   slowdown_after=settings.login_slowdown_after,
                   max_delay_s=settings.login_max_delay_seconds)


def slowdown_s(failures_from_client: int, *, policy: LoginPolicy) -> float:
    """The wait [s] before a login from an address with this many recent failures is checked.

    0 below ``policy.slowdown_after``; then 0.25 s, 0.5 s, 1 s, ... up to ``policy.max_delay_s``.
    """
    beyond = failures_from_client - policy.slowdown_after
    if beyond < 0 or policy.max_delay_s <= 0:
        return 0.0
    return min(policy.max_delay_s, FIRST_DELAY_S * 2.0 ** min(beyond, 16))


@dataclass(frozen=True)
class Gate:
    """What the recent failures allow for one attempt: the wait [s] before checking it."""

    delay_s: float


def gate(engine: Engine, *, name: str, client: str, policy: LoginPolicy,
         now: dt.datetime | None = None) -> Gate:
    """Check the lock-out of ``name`` and compute the wait of ``client``.

    Raises
    ------
    TooManyAttempts
        The name has had ``policy.max_failures`` failures within the window.
    """
    since = (now or dt.datetime.now(dt.timezone.utc)) - policy.window
    by_name, by_client = accounts.recent_failures(engine, name=name[:NAME_CHARS], client=client, since=since)
    if by_name >= policy.max_failures:
        minutes = max(1, round(policy.window.total_seconds() / 60))
        raise TooManyAttempts(f"too many failed logins for this user name; wait {minutes} minutes and try "
                              "again, or ask an administrator to set a new password",
                              retry_after_s=int(policy.window.total_seconds()))
    return Gate(delay_s=slowdown_s(by_client, policy=policy))


def check_password(engine: Engine, *, name: str, password: str, client: str, verify: Verify) -> dict[str, Any]:
    """Check one attempt and record it; the user (a dict of :func:`geo.storage.accounts.get_user`).

    Only an unknown name counts as a wrong login; any other failure to read the account (the
    database is down) propagates, so an outage is never reported as a wrong password.

    Raises
    ------
    AuthenticationFailed
        Unknown name, wrong password or deactivated account (the message never says which).
    """
    name = name[:NAME_CHARS]
    try:
        user = accounts.get_user(engine, name=name)
    except NotFound:
        user = None
    ok = verify(user["password_hash"] if user else None, password)  # same time with or without a user
    ok = ok and bool(user and user["is_active"])
    accounts.record_login(engine, name=name, client=client, success=ok)
    if not ok:
        raise AuthenticationFailed("wrong user name or password, or the account is deactivated")
    return user


async def log_in(engine: Engine, *, name: str, password: str, client: str, policy: LoginPolicy,
                 verify: Verify, sleep: Sleep = anyio.sleep) -> dict[str, Any]:
    """Apply the login rules to one attempt and return the user on success.

    Parameters
    ----------
    name, password
        What was typed.
    client
        The client's address (for the per-address slow-down; "" when unknown).
    policy
        The numbers of the rules (:meth:`LoginPolicy.from_settings`).
    verify
        ``verify(password_hash_or_None, password) -> bool``, taking as long without a hash.
    sleep
        Awaited with the wait [s] of a slowed-down address.

    Raises
    ------
    TooManyAttempts
        The name is locked out.
    AuthenticationFailed
        Wrong name or password, or a deactivated account.
    """
    allowed = await anyio.to_thread.run_sync(partial(gate, engine, name=name, client=client, policy=policy))
    if allowed.delay_s > 0:
        await sleep(allowed.delay_s)
    return await anyio.to_thread.run_sync(
        partial(check_password, engine, name=name, password=password, client=client, verify=verify))


#: How long a right HTTP Basic password is remembered [s] (bound to the password's hash).
BASIC_REMEMBER_S = 300.0
_BASIC_MAX_ENTRIES = 4096


class _VerifiedPasswords:
    """Recently verified ``(name, password)`` pairs, keyed by an HMAC under a key that lives
    only in this process (never the password itself), each with the hash it matched."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, name: str, password: str) -> bytes:
        return hmac.new(self._key, name.encode() + b"\0" + password.encode(), hashlib.sha256).digest()

    def matches(self, name: str, password: str, password_hash: str | None) -> bool:
        if not password_hash:
            return False
        digest = self._digest(name, password)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or entry[1] < time.monotonic():
                self._entries.pop(digest, None)
                return False
            return hmac.compare_digest(entry[0], password_hash)

    def remember(self, name: str, password: str, password_hash: str) -> None:
        digest = self._digest(name, password)
        with self._lock:
            self._entries[digest] = (password_hash, time.monotonic() + BASIC_REMEMBER_S)
            self._entries.move_to_end(digest)
            while len(self._entries) > _BASIC_MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


VERIFIED = _VerifiedPasswords()


def _basic_known(engine: Engine, *, name: str, password: str) -> dict[str, Any] | None:
    """The user when this name and password were verified recently against the account's
    current hash and the account is still active; None when the password must be checked."""
    try:
        user = accounts.get_user(engine, name=name)
    except NotFound:
        return None
    if user["is_active"] and VERIFIED.matches(name, password, user["password_hash"]):
        return user
    return None


async def check_basic(engine: Engine, *, name: str, password: str, client: str, policy: LoginPolicy,
                      verify: Verify, sleep: Sleep = anyio.sleep) -> dict[str, Any]:
    """The login rules of :func:`log_in` for one request carrying HTTP Basic credentials.

    Raises
    ------
    TooManyAttempts
        The name is locked out (even with the right password).
    AuthenticationFailed
        Wrong name or password, or a deactivated account.
    """
    name = name[:NAME_CHARS]
    allowed = await anyio.to_thread.run_sync(partial(gate, engine, name=name, client=client, policy=policy))
    known = await anyio.to_thread.run_sync(partial(_basic_known, engine, name=name, password=password))
    if known is not None:
        return known
    if allowed.delay_s > 0:
        await sleep(allowed.delay_s)
    user = await anyio.to_thread.run_sync(
        partial(check_password, engine, name=name, password=password, client=client, verify=verify))
    VERIFIED.remember(name, password, user["password_hash"])
    return user
