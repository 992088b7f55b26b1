"""Who is looking at a page, and forms that only this site can send.

A page is read with the browser's session cookie (set by ``/login``); without one, or with an
expired one, the browser goes to the login page and comes back afterwards. The API accepts the
cookie for reads only; a page form may change something because it carries a token that
only a page of this site can hold: an HMAC of the visitor's own session cookie under the
server's secret (the synchronizer-token pattern). A foreign page can neither read the cookie
nor compute the token, and a request the browser marks as cross-site (``Sec-Fetch-Site``) is
refused before the token is looked at.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request

from api.deps import SESSION_COOKIE, EngineDep, Principal, SettingsDep, _from_token
from geo.settings import Settings

FORM_FIELD = "csrf_token"


def page_token(settings: Settings, session: str) -> str:
    """The form token of the session cookie ``session``."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"page-form:" + session.encode(), hashlib.sha256).hexdigest()


def _to_login(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(303, "log in first", headers={"Location": f"/login?next={quote(target)}"})


def page_user(request: Request, engine: EngineDep, settings: SettingsDep) -> Principal:
    """The signed-in visitor of a page (GET); a browser without a valid session goes to /login."""
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        raise _to_login(request)
    try:
        return _from_token(engine, settings, session, "session")
    except HTTPException as exc:
        if exc.status_code == 401:
            raise _to_login(request) from None
        raise


def form_user(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Principal:
    """The visitor who sent a page's form: same-site, with the token of their own session.

    Raises
    ------
    HTTPException
        403 for a cross-site request or a missing or wrong token (the page was left open after
        logging in again, or the form came from elsewhere): reload the page and send it again.
    """
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403, "a form sent from another site is refused; open this site's page and "
                                 "send the form there")
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        raise _to_login(request)
    if not csrf_token or not hmac.compare_digest(csrf_token, page_token(settings, session)):
        raise HTTPException(403, "the form has expired or did not come from this site; reload the page "
                                 "and send the form again")
    return page_user(request, engine, settings)


def token_for(request: Request, settings: Settings) -> str:
    """The token a page puts in its forms."""
    return page_token(settings, request.cookies.get(SESSION_COOKIE, ""))


PageUser = Annotated[Principal, Depends(page_user)]
FormUser = Annotated[Principal, Depends(form_user)]
