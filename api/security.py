"""Passwords, signed tokens and API keys. No HTTP here: the dependencies in :mod:`api.deps`
read credentials from requests and call these.

- Passwords: argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).
- Tokens: JWT signed with HS256 and ``Settings.secret_key``; they carry the user id and an
  issue time, and the user is re-read on every request, so a role change, a deactivation or a
  logout (``tokens_valid_after``) takes effect at once.
- API keys: ``atlas_<prefix>_<secret>``; the prefix finds the key, only a SHA-256 hash of the
  secret is stored (the secret is 32 random bytes, so a slow hash adds nothing).
- Login-form tokens (against login CSRF): a random nonce signed with ``Settings.secret_key``,
  sent twice by the browser (cookie and form field); see :mod:`api.login_form`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geo.settings import Settings

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the login name does not exist, so both cases take as long (made
    at the first login, not at import: an argon2 hash costs a start-up tenth of a second)."""
    return _HASHER.hash("not a password of anyone")


ALGORITHM = "HS256"
KEY_MARK = "atlas"
MIN_PASSWORD_LENGTH = 8


class InvalidCredentials(Exception):
    """A token or key that is malformed, badly signed, expired or unknown (never says which
    to the client; the message is for the server's own use)."""


def check_password_strength(password: str) -> str:
    """Return the password, or raise ValueError saying what a usable one looks like."""
    if len(password) < MIN_PASSWORD_LENGTH or password.strip() != password or len(password) > 256:
        raise ValueError(
            f"a password needs {MIN_PASSWORD_LENGTH} to 256 characters without leading or trailing "
            "spaces; a phrase of four random words is good"
        )
    return password


def hash_password(password: str) -> str:
    """argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash is verified against a dummy (same time)."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_in: int  # [s]
    token_type: str = "bearer"


def issue_token(settings: Settings, *, user_id: int, name: str, now: float | None = None) -> Token:
    """A signed access token for the user, valid ``settings.access_token_minutes``."""
    issued = time.time() if now is None else now
    lifetime_s = settings.access_token_minutes * 60
    claims = {"sub": str(user_id), "name": name, "iat": issued, "exp": int(issued + lifetime_s),
              "typ": "access"}
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)
    return Token(access_token=token, expires_in=lifetime_s)


def read_token(settings: Settings, token: str) -> tuple[int, float]:
    """The user id and issue time [s since the epoch] of a valid token.

    Raises
    ------
    InvalidCredentials
        Bad signature, expired, or not one of ours.
    """
    try:
        claims = jwt.decode(
            token, settings.secret_key.get_secret_value(), algorithms=[ALGORITHM],
            options={"require": ["sub", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidCredentials("token expired") from None
    except jwt.PyJWTError as exc:
        raise InvalidCredentials(f"bad token: {exc}") from None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise InvalidCredentials("not an access token")
    return int(claims["sub"]), float(claims["iat"])


@dataclass(frozen=True)
class NewKey:
    """A freshly made API key: ``key`` is shown once; ``prefix`` and ``key_hash`` are stored."""

    key: str
    prefix: str
    key_hash: str


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> NewKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(key=f"{KEY_MARK}_{prefix}_{secret}", prefix=prefix, key_hash=key_hash(secret))


def split_api_key(key: str) -> tuple[str, str]:
    """``(prefix, secret)`` of a key string.

    Raises
    ------
    InvalidCredentials
        Not of the form ``atlas_<prefix>_<secret>``.
    """
    mark, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if mark != KEY_MARK or len(prefix) != 12 or not secret:
        raise InvalidCredentials("malformed API key")
    return prefix, secret


def key_matches(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, key_hash(secret))


def looks_like_api_key(value: str) -> bool:
    return value.startswith(KEY_MARK + "_")


def _form_signature(settings: Settings, nonce: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"login-form:" + nonce.encode(), hashlib.sha256).hexdigest()


def new_form_token(settings: Settings) -> str:
    """A login-form token: ``<nonce>.<HMAC of the nonce>`` (only this server can make one)."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_form_signature(settings, nonce)}"


def form_token_valid(settings: Settings, cookie: str | None, sent: str | None) -> bool:
    """True when the form's token equals the cookie's and carries this server's signature."""
    if not cookie or not sent or len(cookie) > 200 or not hmac.compare_digest(cookie, sent):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _form_signature(settings, nonce))
