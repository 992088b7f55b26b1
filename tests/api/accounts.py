"""Test accounts on a database, and credentials for them (importable by other test folders:
``from tests.api.accounts import ensure_users, login``)."""

from __future__ import annotations

import functools

import httpx
from sqlalchemy.engine import Engine

from api.security import hash_password
from geo.storage import accounts
from geo.audit import SYSTEM
from geo.errors import NotFound

PASSWORD = "test-password-123"
#: Timeout of a request to a real server [s] (a loaded machine is slow).
CLIENT_TIMEOUT_S = 300

#: name -> (role, townships)
USERS = {
    "t_admin": ("admin", ()),
    "t_planner": ("planner", ()),
    "t_leader": ("leader", ()),
    "t_inspector": ("inspector", ()),
    "t_viewer": ("viewer", ()),
    "t_scoped": ("planner", ("兴仁镇",)),
}


@functools.cache
def _password_hash() -> str:
    """One argon2 hash of :data:`PASSWORD` per test process: every test account shares it, as
    accounts with one password may (each login still verifies it; tests/conftest.py says at
    what cost)."""
    return hash_password(PASSWORD)


def ensure_users(engine: Engine) -> dict[str, int]:
    """Create the test users if missing; return name -> user id."""
    ids = {}
    for name, (role, townships) in USERS.items():
        try:
            ids[name] = accounts.get_user(engine, name=name)["id"]
        except NotFound:
            ids[name] = accounts.create_user(
                engine, name=name, role=role, password_hash=_password_hash(),
                townships=townships, actor=SYSTEM, source="test")["id"]
    return ids


def login(target, name: str, password: str = PASSWORD) -> dict[str, str]:
    """``Authorization`` headers for a user, from the real token endpoint of ``target``: an
    in-process :class:`tests.conftest.Site` or the base URL of a real server."""
    if isinstance(target, str):
        response = httpx.post(f"{target}/api/auth/token", data={"username": name, "password": password},
                              timeout=CLIENT_TIMEOUT_S)
    else:
        response = target.post("/api/auth/token", data={"username": name, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
