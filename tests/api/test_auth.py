"""Credentials over real HTTP: no token, wrong token, expired token, revoked key, too-low role
-> 401/403 and never data; API keys; the session cookie; login rate limiting; the client address
of ``atlas serve``. (The login rules in process: test_auth_login.py.)"""

from __future__ import annotations

import datetime as dt
import time

import httpx
import jwt
import pytest

from api import security
from geo.storage import accounts
from geo.settings import Settings
from tests.api.accounts import PASSWORD, login
from tests.conftest import CLIENT_TIMEOUT_S, Site

DATA_URLS = ["/api/layers/villages", "/api/layers", "/ogc/collections", "/ogc/collections/villages/items",
             "/api/registry/villages", "/api/registry/villages/1", "/api/users", "/api/audit"]


def _refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert "features" not in body and "items" not in body and "collections" not in body


@pytest.mark.parametrize("path", DATA_URLS)
def test_no_token_is_401(demo_server, path):
    response = demo_server.get(path)
    _refused(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", DATA_URLS)
def test_wrong_token_is_401(demo_server, path):
    forged = jwt.encode({"sub": "1", "iat": time.time(), "exp": time.time() + 600, "typ": "access"},
                        "not-the-server-secret-key-at-all", algorithm="HS256")
    for value in (f"Bearer {forged}", "Bearer garbage", "Bearer atlas_0123456789ab_wrongsecret"):
        _refused(demo_server.get(path, headers={"Authorization": value}), 401)
    _refused(demo_server.get(path, headers={"X-API-Key": "atlas_nope"}), 401)


def test_expired_token_is_401(demo_server, user_ids):
    settings = Settings()  # the server runs with the same (development) settings
    old = security.issue_token(settings, user_id=user_ids["t_admin"], name="t_admin",
                               now=time.time() - settings.access_token_minutes * 60 - 5)
    response = demo_server.get("/api/layers/villages",
                               headers={"Authorization": f"Bearer {old.access_token}"})
    _refused(response, 401)
    assert "expired" in response.json()["detail"]
    fresh = security.issue_token(settings, user_id=user_ids["t_admin"], name="t_admin")
    assert demo_server.get("/api/layers/villages",
                           headers={"Authorization": f"Bearer {fresh.access_token}"}).status_code == 200


@pytest.mark.parametrize(("role", "path"), [
    ("viewer", "/api/layers/households"), ("viewer", "/ogc/collections/households/items"),
    ("viewer", "/api/registry/cadres"), ("viewer", "/api/layers/unit_inputs"),
    ("leader", "/api/users"), ("leader", "/api/audit"), ("planner", "/api/users"),
    ("inspector", "/api/audit"), ("leader", "/api/registry/households/1/personal"),
    ("inspector", "/api/registry/households/1/personal"), ("viewer", "/api/registry/households/1/personal"),
])
def test_too_low_role_is_403(demo_server, headers, role, path):
    _refused(demo_server.get(path, headers=headers[role]), 403)


@pytest.mark.parametrize("role", ["viewer", "leader", "inspector"])
def test_readers_cannot_write(demo_server, headers, role):
    _refused(demo_server.post("/api/registry/units", json={"name": "新单位"}, headers=headers[role]), 403)
    _refused(demo_server.patch("/api/registry/villages/1", json={"population": 1, "version": 1},
                               headers=headers[role]), 403)
    _refused(demo_server.delete("/api/registry/villages/1", params={"version": 1}, headers=headers[role]), 403)


def test_viewer_sees_only_public_collections(demo_server, headers):
    ids = {c["id"] for c in demo_server.get("/ogc/collections", headers=headers["viewer"]).json()["collections"]}
    assert "villages" in ids and "households" not in ids and "cadres" not in ids
    ids = {c["id"] for c in demo_server.get("/ogc/collections", headers=headers["leader"]).json()["collections"]}
    assert {"households", "cadres", "unit_inputs"} <= ids


def test_wrong_password_is_401_and_login_works(demo_server, user_ids):
    response = demo_server.post("/api/auth/token", data={"username": "t_leader", "password": "wrong-one!"})
    _refused(response, 401)
    me = demo_server.get("/api/auth/me", headers=login(demo_server, "t_leader")).json()
    assert me["name"] == "t_leader" and me["role"] == "leader" and me["role_label"] == "领导"
    assert "read:all" in me["permissions"] and "pii:all" not in me["permissions"]


def test_api_key_works_until_revoked(scratch):
    admin = scratch.headers["admin"]
    created = scratch.post(f"/api/users/{scratch.user_ids['t_leader']}/keys", json={"label": "script"},
                           headers=admin)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("atlas_")
    listed = scratch.get(f"/api/users/{scratch.user_ids['t_leader']}/keys", headers=admin).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)
    for header in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        assert scratch.get("/api/layers/villages", headers=header).status_code == 200
    assert scratch.post("/api/registry/units", json={"name": "x"}, headers={"X-API-Key": key}).status_code == 403
    revoked = scratch.delete(f"/api/users/{scratch.user_ids['t_leader']}/keys/{created.json()['id']}",
                             headers=admin)
    assert revoked.status_code == 204
    _refused(scratch.get("/api/layers/villages", headers={"X-API-Key": key}), 401)
    tampered = key[:-3] + ("aaa" if not key.endswith("aaa") else "bbb")
    _refused(scratch.get("/api/layers/villages", headers={"X-API-Key": tampered}), 401)


def test_own_keys_password_change_and_logout_revoke_tokens(scratch):
    from tests.api.accounts import ensure_users  # noqa: F401  (accounts exist already)

    name = "t_changes_password"  # its own account: the change revokes every token it holds
    assert scratch.post("/api/users", headers=scratch.headers["admin"],
                        json={"name": name, "role": "viewer", "password": PASSWORD}).status_code == 201
    token = login(scratch, name)
    key = scratch.post("/api/auth/keys", json={"label": "mine"}, headers=token).json()
    assert scratch.get("/api/auth/keys", headers={"X-API-Key": key["key"]}).json()[0]["label"] == "mine"
    changed = scratch.post("/api/auth/password", headers=token,
                           json={"current_password": PASSWORD, "new_password": "another-password-456"})
    assert changed.status_code == 204
    _refused(scratch.get("/api/layers/villages", headers=token), 401)
    new = login(scratch, name, "another-password-456")
    assert scratch.post("/api/auth/logout", headers=new).status_code == 204
    _refused(scratch.get("/api/layers/villages", headers=new), 401)
    assert scratch.get("/api/layers/villages", headers={"X-API-Key": key["key"]}).status_code == 200
    again = login(scratch, name, "another-password-456")
    assert scratch.post("/api/auth/password", headers=again,
                        json={"current_password": "another-password-456", "new_password": PASSWORD}).status_code == 204


def test_deactivated_user_is_refused_at_once(scratch):
    admin = scratch.headers["admin"]
    # Its own account: deactivating revokes every token it holds, and other tests on this
    # server use the shared accounts' tokens.
    created = scratch.post("/api/users", headers=admin,
                           json={"name": "t_deactivated", "role": "inspector", "password": PASSWORD})
    assert created.status_code == 201
    uid = created.json()["id"]
    token = login(scratch, "t_deactivated")
    user = scratch.get(f"/api/users/{uid}", headers=admin)
    off = scratch.patch(f"/api/users/{uid}", json={"is_active": False},
                        headers={**admin, "If-Match": user.headers["etag"]})
    assert off.status_code == 200 and off.json()["is_active"] is False
    _refused(scratch.get("/api/layers/villages", headers=token), 401)
    _refused(scratch.post("/api/auth/token", data={"username": "t_deactivated", "password": PASSWORD}), 401)
    on = scratch.patch(f"/api/users/{uid}", json={"is_active": True, "version": off.json()["version"]},
                       headers=admin)
    assert on.status_code == 200
    assert scratch.get("/api/layers/villages", headers=login(scratch, "t_deactivated")).status_code == 200


def test_failed_logins_are_rate_limited_per_name(scratch):
    created = scratch.post("/api/users", headers=scratch.headers["admin"],
                           json={"name": "t_target", "role": "viewer", "password": "target-password-1"})
    assert created.status_code == 201
    codes = [scratch.post("/api/auth/token", data={"username": "t_target", "password": f"guess{i}"}).status_code
             for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    locked = scratch.post("/api/auth/token", data={"username": "t_target", "password": "target-password-1"})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    # Other accounts are not locked out by it.
    assert scratch.post("/api/auth/token", data={"username": "t_leader", "password": PASSWORD}).status_code == 200


def test_forwarded_for_from_localhost_is_not_believed(live_server, demo_engine):
    """``atlas serve`` trusts no proxy unless ATLAS_TRUSTED_PROXIES says so (uvicorn alone would
    believe X-Forwarded-For from 127.0.0.1, letting a local client pick its address)."""
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    before = accounts.recent_failures(demo_engine, name="-", client="127.0.0.1", since=since)[1]
    response = httpx.post(f"{live_server.base}/api/auth/token", data={"username": "t_nobody", "password": "x"},
                          headers={"X-Forwarded-For": "203.0.113.77"}, timeout=CLIENT_TIMEOUT_S)
    _refused(response, 401)
    assert accounts.recent_failures(demo_engine, name="-", client="203.0.113.77", since=since)[1] == 0
    assert accounts.recent_failures(demo_engine, name="-", client="127.0.0.1", since=since)[1] == before + 1


def test_session_cookie_reads_but_never_writes(scratch):
    with scratch.session() as browser:
        form = {"username": "t_planner", "password": PASSWORD}
        _refused(browser.post("/api/auth/session", data=form), 403)  # no login-form token: login CSRF
        token = browser.get("/api/auth/session/form").json()["csrf_token"]
        response = browser.post("/api/auth/session", data={**form, "csrf_token": token})
        assert response.status_code == 200 and "httponly" in response.headers["set-cookie"].lower()
        assert browser.get("/api/layers/villages").status_code == 200
        _refused(browser.post("/api/registry/units", json={"name": "经由cookie的单位"}), 401)


def test_anonymous_reads_only_when_settings_allow_and_only_public_layers(demo_url, demo_server):
    assert demo_server.get("/api/layers/villages").status_code == 401
    site = Site(demo_url, env={"ATLAS_ALLOW_ANONYMOUS_READ": "1"})
    try:
        assert site.get("/api/layers/villages").status_code == 200
        assert site.get("/ogc/collections/roads/items").status_code == 200
        for path in ("/api/layers/households", "/ogc/collections/households/items", "/api/users",
                     "/api/registry/cadres", "/api/registry/households/1/personal"):
            _refused(site.get(path), 401)
        _refused(site.post("/api/registry/units", json={"name": "匿名"}), 401)
    finally:
        site.close()


def test_the_application_hashes_passwords_at_rfc_9106_s_low_memory_profile():
    """The test processes hash at argon2id's lowest cost (tests/conftest.py); the application
    itself, in a process of its own, keeps the RFC 9106 low-memory profile (3 passes over
    64 MiB, 4 lanes), and checks a cheap hash by the parameters the hash carries."""
    import subprocess
    import sys

    code = ("from api.security import hash_password, verify_password; "
            "from argon2 import PasswordHasher; "
            "cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash('a'); "
            "print(hash_password('a')); print(verify_password(cheap, 'a'), verify_password(cheap, 'b'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300).stdout
    stored, checks = out.splitlines()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert checks == "True False"
