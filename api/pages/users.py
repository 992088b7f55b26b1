"""用户: accounts, roles and township limits (administrators), as ``/api/users`` does."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from api import security
from api.deps import EngineDep, Principal, SettingsDep
from api.pages.render import render
from api.pages.session import FormUser, PageUser, token_for
from api.params import RowId
from api.policy import Permission
from geo.enums import Role
from geo.services import accounts

router = APIRouter()

Text = Annotated[str, Form(max_length=200)]
OptionalText = Annotated[str, Form(max_length=2000)]


def _admin(user: Principal) -> Principal:
    if not user.can(Permission.MANAGE_USERS):
        raise HTTPException(403, f"your role ({user.role.value}) may not manage accounts; ask an administrator")
    return user


def _townships(text: str) -> list[str]:
    return [t.strip() for t in text.replace("，", ",").split(",") if t.strip()]


def _page(request: Request, engine, settings, admin: Principal, **notice) -> HTMLResponse:
    return render(request, "users.html", admin, users=accounts.list_users(engine), roles=list(Role),
                  csrf_token=token_for(request, settings), me=admin.user_id, **notice)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: PageUser, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    return _page(request, engine, settings, _admin(user))


def _new_password() -> tuple[str, str]:
    """A random initial password and its hash."""
    password = secrets.token_urlsafe(12)
    return password, security.hash_password(password)


@router.post("/users", response_class=HTMLResponse)
def add_user(request: Request, user: FormUser, engine: EngineDep, settings: SettingsDep, name: Text, role: Text,
             display_name: OptionalText = "", townships: OptionalText = "") -> HTMLResponse:
    """Add an account with a random password, shown once on the answer page."""
    admin = _admin(user)
    password, password_hash = _new_password()
    added = accounts.create_user(engine, name=name.strip(), role=role, password_hash=password_hash,
                                 display_name=display_name.strip() or None, townships=_townships(townships),
                                 actor=admin.actor)
    return _page(request, engine, settings, admin, added=added, password=password)


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(request: Request, user_id: RowId, user: FormUser, engine: EngineDep,
                   settings: SettingsDep) -> HTMLResponse:
    """A new random password for an account (shown once); its tokens and sessions stop working."""
    admin = _admin(user)
    password, password_hash = _new_password()
    reset = accounts.set_password(engine, user_id, password_hash, actor=admin.actor)
    return _page(request, engine, settings, admin, reset=reset, password=password)


@router.post("/users/{user_id}", response_class=HTMLResponse)
def change_user(request: Request, user_id: RowId, user: FormUser, engine: EngineDep, settings: SettingsDep,
                role: Text, version: Annotated[int, Form(ge=1, le=2**31 - 1)],
                is_active: Annotated[bool, Form()] = False, townships: OptionalText = "") -> HTMLResponse:
    """Change an account's role, township limit and active flag (with the version shown)."""
    admin = _admin(user)
    changed = accounts.update_user(engine, user_id, {"role": role, "is_active": is_active,
                                                          "townships": _townships(townships) or None},
                                        actor=admin.actor, version=version, acting_user_id=admin.user_id)
    return _page(request, engine, settings, admin, changed=changed)


def _keys_page(request: Request, engine, settings, admin: Principal, user_id: int, **notice) -> HTMLResponse:
    return render(request, "user_keys.html", admin, account_row=accounts.get_user(engine, user_id=user_id),
                  keys=accounts.list_api_keys(engine, user_id), csrf_token=token_for(request, settings), **notice)


@router.get("/users/{user_id}/keys", response_class=HTMLResponse)
def keys_page(request: Request, user_id: RowId, user: PageUser, engine: EngineDep,
              settings: SettingsDep) -> HTMLResponse:
    """An account's API keys (for scripts and QGIS): label, prefix, dates; never the keys."""
    return _keys_page(request, engine, settings, _admin(user), user_id)


@router.post("/users/{user_id}/keys", response_class=HTMLResponse)
def add_key(request: Request, user_id: RowId, user: FormUser, engine: EngineDep, settings: SettingsDep,
            label: Annotated[str, Form(min_length=1, max_length=100)],
            expires_in_days: Annotated[str, Form(max_length=5)] = "") -> HTMLResponse:
    """A new API key for the account, shown once on the answer page (stored hashed)."""
    admin = _admin(user)
    days = expires_in_days.strip()
    if days and not (days.isdigit() and 1 <= int(days) <= 3650):
        raise HTTPException(422, f"expires_in_days {days!r}: give a number of days from 1 to 3650, or leave it "
                                 "empty for a key that does not expire")
    new = security.new_api_key()
    added = accounts.add_api_key(engine, user_id, label=label.strip(), prefix=new.prefix, key_hash=new.key_hash,
                                 actor=admin.actor, expires_in_days=int(days) if days else None)
    return _keys_page(request, engine, settings, admin, user_id, added=added, key=new.key)


@router.post("/users/{user_id}/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(request: Request, user_id: RowId, key_id: RowId, user: FormUser, engine: EngineDep,
               settings: SettingsDep) -> HTMLResponse:
    """Revoke one of the account's keys: scripts using it are refused from now on."""
    admin = _admin(user)
    accounts.revoke_api_key(engine, key_id, user_id=user_id, actor=admin.actor)
    return _keys_page(request, engine, settings, admin, user_id, revoked=key_id)
