"""The browser login form: its token against login CSRF, and where it goes afterwards.

- **Login CSRF.** ``POST /api/auth/session`` sets a session cookie, so a foreign page must
  not be able to log a visitor's browser into an account of its choosing. The login page
  (and ``GET /api/auth/session/form`` for other clients) sets a signed token in an HttpOnly,
  ``SameSite=Strict`` cookie and puts the same token in the form; the login accepts a form
  whose ``csrf_token`` field (or ``X-CSRF-Token`` header) equals the cookie and carries the
  server's signature, and refuses any request a browser marks as cross-site
  (``Sec-Fetch-Site``). A foreign page can neither read the token nor send the cookie.
- **Redirects.** :func:`safe_next` is the one check of a ``next`` target: a path on this
  site, after URL decoding, or ``/``.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated
from urllib.parse import unquote, urlsplit

from fastapi import Form, Header, HTTPException, Request, Response

from api import security
from api.deps import SettingsDep
from geo.settings import Settings

FORM_COOKIE = "atlas_login_form"
FORM_FIELD = "csrf_token"
FORM_HEADER = "X-CSRF-Token"
#: The cookie goes only to the login endpoints.
FORM_COOKIE_PATH = "/api/auth"
#: Longest ``next`` target kept [characters].
MAX_NEXT = 2000
_DECODE_ROUNDS = 4


def issue_form_token(request: Request, response: Response, settings: Settings) -> str:
    """A new login-form token, also set as the form cookie on ``response``."""
    token = security.new_form_token(settings)
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", path=FORM_COOKIE_PATH,
                        secure=request.url.scheme == "https")
    return token


def check_form_token(
    request: Request,
    settings: SettingsDep,
    csrf_token: Annotated[str | None, Form(max_length=200, description="the token of the login "
                                          "form (GET /api/auth/session/form)")] = None,
    x_csrf_token: Annotated[str | None, Header(max_length=200, description="or the token here")] = None,
) -> None:
    """A dependency of the cookie login: refuse a cross-site or token-less form (403)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403, "a login from another site is refused; open the login page (/login) "
                                 "of this site and log in there")
    if not security.form_token_valid(settings, request.cookies.get(FORM_COOKIE), csrf_token or x_csrf_token):
        raise HTTPException(403, "the login form has expired or did not come from this site; reload the "
                                 "login page (/login) and try again (scripts: GET /api/auth/session/form "
                                 f"first and send its token as {FORM_FIELD} with the cookie it sets)")


def _is_local_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    if any(c == "\\" or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default``.

    The target and each of its URL-decoded forms (``%5C`` is ``\\``, ``%09`` a tab, ``%2F`` a
    slash, decoded up to four times) must start with one ``/``, hold no backslash and no
    control, format or line-separator character, and have neither a scheme nor a host: so
    ``//host``, ``/\\host``, ``/%5Chost``, ``/%09/host``, ``https://host`` and ``javascript:``
    are refused (a browser drops tabs and newlines and reads ``\\`` as ``/``).
    """
    if not target or len(target) > MAX_NEXT:
        return default
    text = target
    for _ in range(_DECODE_ROUNDS):
        if not _is_local_path(text):
            return default
        decoded = unquote(text)
        if decoded == text:
            return target
        text = decoded
    return default
