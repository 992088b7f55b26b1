"""``/api/auth``: log in (OAuth2 password flow, or a browser session), the caller's own account
and API keys. The login rules live in :mod:`geo.services.login`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api import security
from api.deps import SESSION_COOKIE, ClientAddress, CurrentUser, EngineDep, SettingsDep
from api.login_form import check_form_token, issue_form_token
from api.params import RowId
from api.schemas.common import problem_responses
from api.schemas.users import (
    KeyCreate,
    KeyCreated,
    KeyPublic,
    LoginFormOut,
    Me,
    PasswordChange,
    TokenOut,
    UserPublic,
)
from geo.services import accounts, login
from geo.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])

LoginForm = Annotated[OAuth2PasswordRequestForm, Depends()]


async def _login(engine, settings: Settings, form: OAuth2PasswordRequestForm, client: str) -> dict:
    """The login rules of :mod:`geo.services.login` (429 lock-out per name, slow-down per address)."""
    return await login.log_in(engine, name=form.username, password=form.password, client=client,
                              policy=login.LoginPolicy.from_settings(settings),
                              verify=security.verify_password)


@router.post("/token", response_model=TokenOut, responses=problem_responses(401, 422, 429),
             summary="Log in: a bearer token for a user name and password (OAuth2 password flow)")
async def token(form: LoginForm, engine: EngineDep, settings: SettingsDep, client: ClientAddress) -> TokenOut:
    """Send ``username`` and ``password`` as a form; use the token as ``Authorization: Bearer``.
    Repeated failures for one name lock it out for the settings' window (429); many failures
    from one address slow down its logins (a few seconds at most)."""
    user = await _login(engine, settings, form, client)
    issued = security.issue_token(settings, user_id=user["id"], name=user["name"])
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get("/session/form", response_model=LoginFormOut, summary="A login-form token for POST /api/auth/session")
def session_form(request: Request, response: Response, settings: SettingsDep) -> LoginFormOut:
    """Sets the login-form cookie and returns the same token: send it back as the form field
    ``csrf_token`` (or the header ``X-CSRF-Token``), with the cookie, to ``POST /api/auth/session``.
    The login page at ``/login`` does this for browsers."""
    return LoginFormOut(csrf_token=issue_form_token(request, response, settings))


@router.post("/session", response_model=Me, responses=problem_responses(401, 403, 422, 429),
             dependencies=[Depends(check_form_token)],
             summary="Log in a browser: sets an HttpOnly session cookie (good for GET only)")
async def session(request: Request, response: Response, form: LoginForm, engine: EngineDep,
                  settings: SettingsDep, client: ClientAddress) -> Me:
    """For maps and GeoJSON links opened in a browser. The cookie authorises reads only;
    changes always need a bearer token or an API key (so no cross-site request can write).
    The form must carry the login-form token (``GET /api/auth/session/form`` or the login
    page), so that another site cannot log a browser into an account of its choosing (403)."""
    user = await _login(engine, settings, form, client)
    issued = security.issue_token(settings, user_id=user["id"], name=user["name"])
    response.set_cookie(SESSION_COOKIE, issued.access_token, max_age=issued.expires_in, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")
    return _me(user, "session")


def _me(user: dict, via: str) -> Me:
    from api.policy import permissions_of

    base = UserPublic.of(user).model_dump()
    return Me(**base, permissions=sorted(p.value for p in permissions_of(user["role"])), authenticated_by=via)


@router.post("/logout", status_code=204, response_class=Response, responses=problem_responses(401),
             summary="Log out everywhere: every token of yours issued until now stops working")
def logout(user: CurrentUser, engine: EngineDep) -> Response:
    if user.user_id is None:
        raise HTTPException(401, "not logged in")
    accounts.revoke_tokens(engine, user.user_id, actor=user.actor)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me, responses=problem_responses(401), summary="Who you are")
def me(user: CurrentUser, engine: EngineDep) -> Me:
    """Your account, role, permissions and townships (anonymous readers get 401)."""
    if user.user_id is None:
        raise HTTPException(401, "not logged in", headers={"WWW-Authenticate": 'Bearer realm="atlas"'})
    return _me(accounts.get_user(engine, user_id=user.user_id), user.via)


@router.post("/password", status_code=204, response_class=Response,
             responses=problem_responses(401, 403, 422), summary="Change your password")
def change_password(body: PasswordChange, user: CurrentUser, engine: EngineDep) -> Response:
    """Needs the current password; every token issued before (other sessions too) stops working."""
    if user.user_id is None:
        raise HTTPException(401, "not logged in")
    stored = accounts.get_user(engine, user_id=user.user_id)
    if not security.verify_password(stored["password_hash"], body.current_password):
        raise HTTPException(403, "the current password is wrong")
    accounts.set_password(engine, user.user_id, security.hash_password(body.new_password), actor=user.actor)
    return Response(status_code=204)


def _own(user) -> int:
    if user.user_id is None:
        raise HTTPException(401, "not logged in")
    return user.user_id


@router.get("/keys", response_model=list[KeyPublic], responses=problem_responses(401),
            summary="Your API keys (never the keys themselves)")
def list_keys(user: CurrentUser, engine: EngineDep) -> list[dict]:
    return accounts.list_api_keys(engine, _own(user))


@router.post("/keys", response_model=KeyCreated, status_code=201, responses=problem_responses(401, 422),
             summary="Make an API key for your scripts (shown once)")
def add_key(body: KeyCreate, user: CurrentUser, engine: EngineDep) -> KeyCreated:
    """Send it as ``X-API-Key: <key>`` (or ``Authorization: Bearer <key>``). It has your role
    and townships. Only a hash is stored: the key cannot be shown again."""
    new = security.new_api_key()
    stored = accounts.add_api_key(engine, _own(user), label=body.label, prefix=new.prefix, key_hash=new.key_hash,
                                       actor=user.actor, expires_in_days=body.expires_in_days)
    return KeyCreated(**stored, key=new.key)


@router.delete("/keys/{key_id}", status_code=204, response_class=Response,
               responses=problem_responses(401, 404), summary="Revoke one of your API keys")
def revoke_key(key_id: RowId, user: CurrentUser, engine: EngineDep) -> Response:
    accounts.revoke_api_key(engine, key_id, user_id=_own(user), actor=user.actor)
    return Response(status_code=204)
