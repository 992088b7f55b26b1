"""``/api/users`` (administrators): accounts, roles, township scopes and their API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from api import security
from api.deps import Admin, EngineDep
from api.params import IF_MATCH_HELP, RowId, etag, expected_version
from api.schemas.common import problem_responses
from api.schemas.users import (
    KeyCreate,
    KeyCreated,
    KeyPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from geo.services import accounts

router = APIRouter(prefix="/api/users", tags=["users"], responses=problem_responses(401, 403))


@router.get("", response_model=list[UserPublic], summary="Every user")
def list_users(admin: Admin, engine: EngineDep) -> list[UserPublic]:
    return [UserPublic.of(u) for u in accounts.list_users(engine)]


@router.post("", response_model=UserPublic, status_code=201, responses=problem_responses(404, 409, 422),
             summary="Add a user")
def create_user(body: UserCreate, request: Request, response: Response, admin: Admin,
                engine: EngineDep) -> UserPublic:
    """Townships are names, codes or ids; an empty list lets the user see every township."""
    user = accounts.create_user(
        engine, name=body.name, role=body.role,
        password_hash=security.hash_password(body.password) if body.password else None,
        display_name=body.display_name, townships=body.townships, actor=admin.actor,
    )
    response.headers["ETag"] = etag(user["version"])
    response.headers["Location"] = str(request.url_for("get_user", user_id=user["id"]))
    return UserPublic.of(user)


@router.get("/{user_id}", response_model=UserPublic, responses=problem_responses(404), name="get_user",
            summary="One user")
def get_user(user_id: RowId, response: Response, admin: Admin, engine: EngineDep) -> UserPublic:
    user = accounts.get_user(engine, user_id=user_id)
    response.headers["ETag"] = etag(user["version"])
    return UserPublic.of(user)


@router.patch("/{user_id}", response_model=UserPublic, responses=problem_responses(404, 409, 412, 422, 428),
              summary="Change a user's role, password, townships or active flag")
def update_user(
    user_id: RowId,
    body: UserUpdate,
    response: Response,
    admin: Admin,
    engine: EngineDep,
    if_match: Annotated[str | None, Header(description=IF_MATCH_HELP, max_length=100)] = None,
) -> UserPublic:
    """Needs the version you read. A new password, a deactivation or a role change also
    revokes the user's tokens (they must log in again)."""
    changes = body.model_dump(exclude_unset=True)
    version = expected_version(if_match, changes.pop("version", None))
    if "password" in changes:
        password = changes.pop("password")
        changes["password_hash"] = security.hash_password(password) if password else None
    user = accounts.update_user(engine, user_id, changes, actor=admin.actor, version=version,
                                     acting_user_id=admin.user_id)
    response.headers["ETag"] = etag(user["version"])
    return UserPublic.of(user)


@router.delete("/{user_id}", status_code=204, response_class=Response,
               responses=problem_responses(404, 409, 412, 428), summary="Remove a user and its keys")
def delete_user(
    user_id: RowId,
    admin: Admin,
    engine: EngineDep,
    if_match: Annotated[str | None, Header(description=IF_MATCH_HELP, max_length=100)] = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    accounts.delete_user(engine, user_id, actor=admin.actor, version=expected_version(if_match, version),
                              acting_user_id=admin.user_id)
    return Response(status_code=204)


@router.get("/{user_id}/keys", response_model=list[KeyPublic], responses=problem_responses(404),
            summary="A user's API keys")
def list_user_keys(user_id: RowId, admin: Admin, engine: EngineDep) -> list[dict]:
    return accounts.list_api_keys(engine, user_id)


@router.post("/{user_id}/keys", response_model=KeyCreated, status_code=201,
             responses=problem_responses(404, 422), summary="Make an API key for a user (shown once)")
def add_user_key(user_id: RowId, body: KeyCreate, admin: Admin, engine: EngineDep) -> KeyCreated:
    new = security.new_api_key()
    stored = accounts.add_api_key(engine, user_id, label=body.label, prefix=new.prefix, key_hash=new.key_hash,
                                       actor=admin.actor, expires_in_days=body.expires_in_days)
    return KeyCreated(**stored, key=new.key)


@router.delete("/{user_id}/keys/{key_id}", status_code=204, response_class=Response,
               responses=problem_responses(404), summary="Revoke a user's API key")
def revoke_user_key(user_id: RowId, key_id: RowId, admin: Admin, engine: EngineDep) -> Response:
    accounts.revoke_api_key(engine, key_id, user_id=user_id, actor=admin.actor)
    return Response(status_code=204)
