"""FastAPI dependencies every router uses: the engine, the settings, who is calling, what they
may do, and which townships they may see.

Later routers (analyses, PV, sampling, imports, maps) plug in the same way::

    @router.get("/api/analyses/road-gaps")
    def road_gaps(user: Reader, engine: EngineDep, township: TownshipParam = None):
        scope = user.township_filter(township)     # 403 outside the user's townships
        result = analyses.run(engine, "roads", township=scope)  # a service, never storage
        ...

    @router.post("/api/inspections/{plan_id}/findings")
    def add_finding(user: Annotated[Principal, Depends(require(Permission.INSPECT))], ...): ...

and a route that shows household names asks :func:`api.policy.can_see_names` (via
:meth:`Principal.can_see_names`) with the plan's assignees.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import APIKeyHeader, HTTPBasic, OAuth2PasswordBearer
from sqlalchemy.engine import Engine

from api import security
from api.policy import (
    Permission,
    can_see_names,
    may_read_layer,
    may_record_findings,
    permissions_of,
)
from geo.audit import Actor
from geo.enums import Role
from geo.errors import AuthenticationFailed, NotFound
from geo.layers import get_layer
from geo.services import accounts, login, registry
from geo.settings import Settings

SESSION_COOKIE = "atlas_session"
#: Only these methods accept the session cookie: a cookie can never authorise a write, so a
#: forged cross-site request cannot change anything.
COOKIE_METHODS = frozenset({"GET", "HEAD"})


# The dependencies below that do no I/O are coroutines: FastAPI runs a plain function through
# the thread pool, a trip that cost more than the function itself on every request.


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def client_address(request: Request) -> str:
    """The caller's address ("" when unknown).

    It is the connecting address, except behind a reverse proxy listed in
    ``ATLAS_TRUSTED_PROXIES``: then :func:`api.app.create_app`'s proxy-headers middleware has
    replaced it with the rightmost ``X-Forwarded-For`` address that is not a trusted proxy.
    ``X-Forwarded-For`` from anyone else (localhost included) is ignored, so a client cannot
    pick its own address to escape the per-address login slow-down.
    """
    return request.client.host if request.client else ""


ClientAddress = Annotated[str, Depends(client_address)]

# Declared for the OpenAPI document (Swagger UI's "Authorize" button); parsing is ours.
_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False,
                               description="Token from POST /api/auth/token")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False,
                        description="API key for scripts: atlas_<prefix>_<secret>")
_basic = HTTPBasic(auto_error=False, realm="atlas",
                   description="User name and password, or any user name and an API key as the "
                               "password; only for reading /ogc and /api/layers (GET), for clients "
                               "without header authentication (QGIS 3.22, GDAL_HTTP_USERPWD)")


@dataclass(frozen=True)
class Principal:
    """The caller: a user (by token, API key or session cookie) or an anonymous reader.

    ``township_ids`` is None for a user who may see every township.
    """

    user_id: int | None
    name: str
    role: Role
    township_ids: tuple[int, ...] | None
    via: str  # "token", "api_key", "session", "basic" or "anonymous"

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.role)

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.user_id)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def can_read_layer(self, layer: str) -> bool:
        return may_read_layer(self.permissions, layer)

    def can_see_names(self, *, plan_assignees: Collection[int] = ()) -> bool:
        """See :func:`api.policy.can_see_names`."""
        return can_see_names(self.permissions, user_id=self.user_id, plan_assignees=plan_assignees)

    def can_record_findings(self, *, plan_assignees: Collection[int] = ()) -> bool:
        """See :func:`api.policy.may_record_findings`."""
        return may_record_findings(self.permissions, user_id=self.user_id, plan_assignees=plan_assignees)

    def township_filter(self, requested: Sequence[int] | int | None = None) -> list[int] | int | None:
        """The township filter for a read: the requested township(s) (ids), checked against
        this user's scope, or the whole scope when none is requested.

        Raises
        ------
        HTTPException
            403 when a requested township is outside the user's scope.
        """
        if requested is None:
            return None if self.township_ids is None else list(self.township_ids)
        wanted = [requested] if isinstance(requested, int) else list(requested)
        if self.township_ids is not None:
            outside = [t for t in wanted if t not in self.township_ids]
            if outside:
                raise HTTPException(403, "that township is outside the townships your account may "
                                         "see; ask an administrator to widen your scope")
        return requested

    @property
    def write_scope(self) -> list[int] | None:
        """Townships a write must stay inside (None = anywhere)."""
        return None if self.township_ids is None else list(self.township_ids)


ANONYMOUS = Principal(user_id=None, name="anonymous", role=Role.VIEWER, township_ids=None, via="anonymous")


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Bearer realm="atlas"'})


def _principal_for(engine: Engine, user_id: int, via: str, *, issued_s: float | None = None) -> Principal:
    try:
        user = accounts.get_user(engine, user_id=user_id)
    except NotFound:
        raise _unauthorized("the account of these credentials no longer exists") from None
    if not user["is_active"]:
        raise _unauthorized("this account is deactivated; ask an administrator")
    valid_after = user["tokens_valid_after"]
    if issued_s is not None and valid_after is not None and issued_s < valid_after.timestamp():
        raise _unauthorized("this token was revoked (logout or password change); log in again")
    return Principal(
        user_id=user["id"], name=user["name"], role=Role.parse(user["role"]),
        township_ids=tuple(user["township_ids"]) or None, via=via,
    )


#: Who each token and API key belongs to, kept briefly (no account query per request) and
#: forgotten at every account change (:class:`geo.services.accounts.CredentialCache`).
PRINCIPALS: accounts.CredentialCache[Principal] = accounts.CredentialCache()


def _from_token(engine: Engine, settings: Settings, token: str, via: str) -> Principal:
    try:
        user_id, issued_s = security.read_token(settings, token)  # signature and expiry: every time
    except security.InvalidCredentials:
        raise _unauthorized("the token is invalid or expired; log in again (POST /api/auth/token)") from None
    return PRINCIPALS.get(engine, f"{via}:{token}",
                          lambda: (_principal_for(engine, user_id, via, issued_s=issued_s), None))


def _from_api_key(engine: Engine, key: str) -> Principal:
    return PRINCIPALS.get(engine, f"api_key:{key}", lambda: _load_api_key(engine, key))


def _load_api_key(engine: Engine, key: str) -> tuple[Principal, dt.datetime | None]:
    try:
        prefix, secret = security.split_api_key(key)
    except security.InvalidCredentials:
        raise _unauthorized("the API key is malformed; it looks like atlas_<prefix>_<secret>") from None
    stored = accounts.find_api_key(engine, prefix)
    now = dt.datetime.now(dt.UTC)
    if (
        stored is None
        or not security.key_matches(stored["key_hash"], secret)
        or stored["revoked_at"] is not None
        or (stored["expires_at"] is not None and stored["expires_at"] <= now)
    ):
        raise _unauthorized("the API key is unknown, revoked or expired")
    last = stored["last_used_at"]
    if last is None or now - last > dt.timedelta(minutes=5):  # not a write on every request
        accounts.touch_api_key(engine, stored["id"])
    return _principal_for(engine, stored["user_id"], "api_key"), stored["expires_at"]


def get_principal(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    bearer: Annotated[str | None, Depends(_bearer)] = None,
    api_key: Annotated[str | None, Depends(_api_key)] = None,
) -> Principal:
    """Who is calling. Credentials are tried in order: ``Authorization: Bearer`` (a token or an
    API key), ``X-API-Key``, then the session cookie (GET and HEAD only).

    Raises
    ------
    HTTPException
        401 for missing (unless anonymous reads are allowed), malformed, unknown, expired or
        revoked credentials. The message never says which part was wrong for passwords.
    """
    found = _credential(request, bearer, api_key)
    if found is not None:
        via, secret = found
        if via == "api_key":
            return _from_api_key(engine, secret)
        return _from_token(engine, settings, secret, via)
    if settings.allow_anonymous_read:
        return ANONYMOUS
    raise _unauthorized("log in first: send Authorization: Bearer <token> (POST /api/auth/token) "
                        "or X-API-Key: <key>")


CurrentUser = Annotated[Principal, Depends(get_principal)]


def _cached_principal(request: Request, engine: Engine, settings: Settings, bearer: str | None,
                      api_key: str | None) -> Principal | None:
    """What :func:`get_principal` answers when it needs no SQL (the caller's credential is in
    :data:`PRINCIPALS`, or anonymous reading is allowed without credentials), else None: then
    the caller runs :func:`get_principal` (which loads or refuses) in a thread. The cache obeys
    the same account stamp, so a revocation is obeyed here as immediately as there."""
    found = _credential(request, bearer, api_key)
    if found is None:
        return ANONYMOUS if settings.allow_anonymous_read else None
    via, secret = found
    if via == "api_key":
        return PRINCIPALS.peek(engine, f"api_key:{secret}")
    return _cached_token(settings, engine, secret, via)


def _credential(request: Request, bearer: str | None, api_key: str | None) -> tuple[str, str] | None:
    """The credential a request is judged by, in :func:`get_principal`'s order, as ``(kind,
    secret)`` with kind "api_key", "token" or "session"; None when it sends none."""
    if bearer:
        return ("api_key" if security.looks_like_api_key(bearer) else "token"), bearer
    if api_key:
        return "api_key", api_key
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and request.method in COOKIE_METHODS:
        return "session", cookie
    return None


def _cached_token(settings: Settings, engine: Engine, token: str, via: str) -> Principal | None:
    try:
        security.read_token(settings, token)  # signature and expiry: every time, as _from_token
    except security.InvalidCredentials:
        return None
    return PRINCIPALS.peek(engine, f"{via}:{token}")


#: The challenge of the layer-reading routes: Bearer first, Basic for clients that only have it.
BASIC_CHALLENGE = 'Bearer realm="atlas", Basic realm="atlas", charset="UTF-8"'


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """``(user, password)`` of an ``Authorization: Basic`` header, None without one.

    Raises
    ------
    HTTPException
        401 for a Basic header that is not base64 of ``user:password`` in UTF-8.
    """
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    name, colon, password = decoded.partition(":")
    if not colon:
        raise HTTPException(401, "the Basic credentials are malformed: send base64 of user:password",
                            headers={"WWW-Authenticate": BASIC_CHALLENGE})
    return name, password


async def get_reader(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    client: ClientAddress,
    bearer: Annotated[str | None, Depends(_bearer)] = None,
    api_key: Annotated[str | None, Depends(_api_key)] = None,
    _declared: Annotated[object, Depends(_basic)] = None,
) -> Principal:
    """Who is reading a layer (``/ogc``, ``/api/layers``): :func:`get_principal`, plus HTTP
    Basic on GET and HEAD for clients without header authentication. The password goes
    through the login rules (:func:`geo.services.login.check_basic`: lock-out per name,
    slow-down per address); an API key may stand in the password with any user name.

    Raises
    ------
    HTTPException
        401 (challenging Bearer and Basic) as :func:`get_principal`; 429 for a locked-out name.
    """
    try:
        basic = _basic_credentials(request) if request.method in COOKIE_METHODS else None
        if basic is None:
            cached = _cached_principal(request, engine, settings, bearer, api_key)
            if cached is not None:
                return cached
            return await anyio.to_thread.run_sync(
                lambda: get_principal(request, engine, settings, bearer, api_key))
        name, password = basic
        if security.looks_like_api_key(password):
            cached = PRINCIPALS.peek(engine, f"api_key:{password}")
            if cached is not None:
                return cached
            return await anyio.to_thread.run_sync(_from_api_key, engine, password)
        try:
            user = await login.check_basic(engine, name=name, password=password, client=client,
                                           policy=login.LoginPolicy.from_settings(settings),
                                           verify=security.verify_password)
        except AuthenticationFailed as exc:
            raise HTTPException(401, str(exc)) from None
        return await anyio.to_thread.run_sync(lambda: _principal_for(engine, user["id"], "basic"))
    except HTTPException as exc:
        if exc.status_code == 401:
            exc.headers = {**(exc.headers or {}), "WWW-Authenticate": BASIC_CHALLENGE}
        raise


LayerReader = Annotated[Principal, Depends(get_reader)]


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that passes the caller on if they hold ``permission``, else 403."""

    def dependency(user: CurrentUser) -> Principal:
        if not user.can(permission):
            if user.via == "anonymous":
                raise _unauthorized("log in first: this needs an account")
            raise HTTPException(403, f"your role ({user.role.value}, {user.role.label}) may not do "
                                     f"this; it needs the permission {permission.value}")
        return user

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency


Reader = Annotated[Principal, Depends(require(Permission.READ_PUBLIC))]
FullReader = Annotated[Principal, Depends(require(Permission.READ_ALL))]
Editor = Annotated[Principal, Depends(require(Permission.WRITE))]
Admin = Annotated[Principal, Depends(require(Permission.MANAGE_USERS))]
Inspector = Annotated[Principal, Depends(require(Permission.INSPECT))]


def check_layer(user: Principal, layer: str) -> None:
    """404 for an unknown layer (naming those that exist), 401/403 for one the caller may not read."""
    get_layer(layer)
    if not user.can_read_layer(layer):
        if user.via == "anonymous":
            raise _unauthorized(f"log in first: the {layer} layer is not public")
        raise HTTPException(403, f"your role ({user.role.value}) may not read the {layer} layer")


_TownshipQuery = Annotated[
    str | None,
    Query(description="township name (e.g. 兴仁镇), 9-digit code or id; an area above it is "
                      "taken too (as `area`)", max_length=100, examples=["兴仁镇"]),
]
_AreaQuery = Annotated[
    str | None,
    Query(description="an area at any level by GB/T 2260 code or name: a province (640000, "
                      "宁夏回族自治区), prefecture (640500, 中卫市), county (640502, 沙坡头区) or "
                      "township (640502100, 兴仁镇); keeps the rows of the townships inside",
          max_length=100, examples=["640502"]),
]


def township_param(engine: EngineDep, township: _TownshipQuery = None, area: _AreaQuery = None,
                   ) -> int | list[int] | None:
    """Parse the ``township`` and ``area`` query parameters into a township id, or the ids of
    the townships inside an area (404 naming the townships and areas). Both given: the
    townships of ``township`` inside ``area``."""
    if township and not area:
        try:
            return registry.resolve_township(engine, township)  # one township: as before
        except NotFound:
            return registry.resolve_townships(engine, township)  # an area (or a clearer 404)
    if township and area:
        within = set(registry.resolve_townships(engine, area))
        return [t for t in registry.resolve_townships(engine, township) if t in within]
    if area:
        return registry.resolve_townships(engine, area)
    return None


async def township_dependency(engine: EngineDep, township: _TownshipQuery = None, area: _AreaQuery = None,
                              ) -> int | list[int] | None:
    """:func:`township_param` as a dependency: no thread-pool trip when neither is given."""
    if not township and not area:
        return None
    return await anyio.to_thread.run_sync(township_param, engine, township, area)


TownshipParam = Annotated[int | list[int] | None, Depends(township_dependency)]


def township_tag(township: int | Sequence[int] | None) -> str | None:
    """A short tag of a township filter for file names: ``t3`` for one township, ``t3-7``
    (first id, count) for the townships of an area."""
    if township is None:
        return None
    if isinstance(township, int):
        return f"t{township}"
    ids = list(township)
    return f"t{ids[0]}-{len(ids)}" if ids else "t0"
