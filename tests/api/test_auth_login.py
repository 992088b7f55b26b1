"""The login over HTTP, app in process on both backends: where the login page sends the browser
afterwards (open redirects), the login form's CSRF token, which client address counts
(X-Forwarded-For only from trusted proxies), the per-name lock-out and per-address slow-down,
the removal of upload folders left behind at start-up, and ids beyond int64 in every path."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import tempfile
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.login_form import FORM_COOKIE, safe_next
from geo import scratch
from geo.storage import accounts
from geo.db import make_engine
from geo.settings import Settings
from tests.api.accounts import PASSWORD, ensure_users

SECRET = "a-test-secret-key-of-at-least-32-characters"
#: Failures allowed per address before the slow-down, and its bound [s]: small, so that the
#: tests that pass it stay quick (the waits themselves are tested in tests/geo/services).
FAST = {"login_slowdown_after": 3, "login_max_delay_seconds": 0.01}


@pytest.fixture(scope="module")
def login_engine(databases) -> Iterator[sa.Engine]:
    """A copy of the demo of its own with the test accounts (the tests record login attempts)."""
    engine = make_engine(databases.demo_url())
    ensure_users(engine)
    yield engine
    engine.dispose()


def make_client(engine, *, peer: str = "127.0.0.1", **settings) -> TestClient:
    app = create_app(engine=engine, settings=Settings(**{"secret_key": SECRET, **FAST, **settings}))
    return TestClient(app, client=(peer, 50000), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(login_engine) -> Iterator[TestClient]:
    with make_client(login_engine) as client:
        yield client


def form_token(client: TestClient, next_: str | None = None) -> tuple[str, str]:
    """The login page's form token and the ``next`` target it will go to."""
    page = client.get("/login", params={} if next_ is None else {"next": next_})
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    target = html.unescape(re.search(r'data-next="([^"]*)"', page.text).group(1))
    return token, target


def failures_from(engine, client_address: str) -> int:
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    return accounts.recent_failures(engine, name="-", client=client_address, since=since)[1]


# ---------------------------------------------------------------------- redirects

HOSTILE_NEXT = [
    "/\\evil.example", "/%5Cevil.example", "/%5cevil.example", "/%09/evil.example", "/%0A/evil.example",
    "/\t/evil.example", "/\n/evil.example", "//evil.example", "///evil.example", "/%2F/evil.example",
    "/%252F%252Fevil.example", "https://evil.example", "http:evil.example", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example", " /maps",
    "\u2028/maps", "/\u202e/evil", "/maps\x00", "",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_targets_off_site_go_home(client, target):
    assert safe_next(target) == "/"
    if "\x00" not in target:  # a NUL in the query string is refused before any page (422)
        assert form_token(client, target)[1] == "/"


@pytest.mark.parametrize("target", ["/", "/maps/pairing?township=%E5%85%B4%E4%BB%81%E9%95%87",
                                    "/maps/pairing?township=兴仁镇", "/api/layers/villages?f=json&x=a%2Fb",
                                    "/maps/overview#map"])
def test_next_targets_on_this_site_are_kept(client, target):
    assert safe_next(target) == target
    assert form_token(client, target)[1] == target


def test_the_page_escapes_the_target(client):
    _, target = form_token(client, '/maps?x="><script>alert(1)</script>')
    assert target == '/maps?x="><script>alert(1)</script>'
    page = client.get("/login", params={"next": '/maps?x="><script>'}).text
    assert '"><script>' not in page


# ---------------------------------------------------------------------- login CSRF


def test_the_cookie_login_needs_the_form_token(login_engine):
    with make_client(login_engine) as browser:
        form = {"username": "t_planner", "password": PASSWORD}
        refused = browser.post("/api/auth/session", data=form)
        assert refused.status_code == 403 and "login page" in refused.json()["detail"]
        assert "atlas_session" not in refused.headers.get("set-cookie", "")
        token, _ = form_token(browser)
        assert browser.post("/api/auth/session", data={**form, "csrf_token": token + "x"}).status_code == 403
        ok = browser.post("/api/auth/session", data={**form, "csrf_token": token})
        assert ok.status_code == 200 and ok.json()["name"] == "t_planner"
        assert "atlas_session=" in ok.headers["set-cookie"] and "httponly" in ok.headers["set-cookie"].lower()
        assert browser.get("/api/layers/villages").status_code == 200  # the session cookie reads
        assert browser.post("/api/registry/units", json={"name": "经由cookie"}).status_code == 401  # never writes


def test_a_cross_site_form_is_refused_even_with_a_token(login_engine):
    with make_client(login_engine) as browser:
        token, _ = form_token(browser)
        form = {"username": "t_planner", "password": PASSWORD, "csrf_token": token}
        for site in ("cross-site", "same-site"):
            assert browser.post("/api/auth/session", data=form, headers={"Sec-Fetch-Site": site}).status_code == 403
        assert browser.post("/api/auth/session", data=form, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_a_token_without_its_cookie_or_from_another_server_is_refused(login_engine):
    with make_client(login_engine) as attacker:
        token, _ = form_token(attacker)  # the attacker's own token, but the victim has no cookie
    with make_client(login_engine) as victim:
        form = {"username": "t_planner", "password": PASSWORD, "csrf_token": token}
        assert victim.post("/api/auth/session", data=form).status_code == 403
    with make_client(login_engine, secret_key="another-secret-key-of-at-least-32-chars") as other:
        forged, _ = form_token(other)
    with make_client(login_engine) as victim:
        victim.cookies.set(FORM_COOKIE, forged, path="/api/auth")
        assert victim.post("/api/auth/session", data={**form, "csrf_token": forged}).status_code == 403


def test_scripts_get_a_form_token_and_may_send_it_as_a_header(login_engine):
    with make_client(login_engine) as script:
        token = script.get("/api/auth/session/form").json()["csrf_token"]
        response = script.post("/api/auth/session", data={"username": "t_viewer", "password": PASSWORD},
                               headers={"X-CSRF-Token": token})
        assert response.status_code == 200 and response.json()["authenticated_by"] == "session"


def test_the_token_login_and_logout_need_no_form_token(login_engine):
    with make_client(login_engine) as script:
        token = script.post("/api/auth/token", data={"username": "t_viewer", "password": PASSWORD})
        assert token.status_code == 200
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert script.get("/api/auth/me", headers=bearer).status_code == 200
    with make_client(login_engine) as browser:
        browser.get("/logout", follow_redirects=False)
        response = browser.get("/logout", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"


# ---------------------------------------------------------------------- client address


def test_forwarded_for_is_ignored_without_trusted_proxies(login_engine):
    """The default: a client on the server itself cannot pick its address to escape the slow-down."""
    with make_client(login_engine, peer="127.0.0.1") as local:
        before = failures_from(login_engine, "127.0.0.1")
        response = local.post("/api/auth/token", data={"username": "t_nobody", "password": "x"},
                              headers={"X-Forwarded-For": "203.0.113.50"})
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    assert failures_from(login_engine, "203.0.113.50") == 0
    assert failures_from(login_engine, "127.0.0.1") == before + 1


@pytest.mark.parametrize(("peer", "forwarded", "counted"), [
    ("10.0.0.2", "203.0.113.61", "203.0.113.61"),  # one trusted proxy
    ("10.0.0.2", "198.18.0.9, 203.0.113.62, 10.0.0.7", "203.0.113.62"),  # rightmost untrusted; left part forged
    ("192.0.2.10", "203.0.113.63", "192.0.2.10"),  # not a trusted proxy: its header is ignored
])
def test_forwarded_for_is_believed_from_trusted_proxies_only(login_engine, peer, forwarded, counted):
    with make_client(login_engine, peer=peer, trusted_proxies="10.0.0.0/8") as behind:
        before = failures_from(login_engine, counted)
        behind.post("/api/auth/token", data={"username": "t_nobody", "password": "x"},
                    headers={"X-Forwarded-For": forwarded})
    assert failures_from(login_engine, counted) == before + 1


def test_bad_trusted_proxies_are_refused_at_start():
    with pytest.raises(ValueError, match="ATLAS_TRUSTED_PROXIES.*not an IP address"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.example")


# ---------------------------------------------------------------------- lock-out and slow-down


def test_a_name_is_locked_out_after_five_failures(login_engine):
    with make_client(login_engine, peer="192.0.2.21") as client:
        assert client.post("/api/users", json={}).status_code == 401
        codes = [client.post("/api/auth/token", data={"username": "t_scoped", "password": f"guess{i}"}).status_code
                 for i in range(7)]
        assert codes == [401] * 5 + [429] * 2
        locked = client.post("/api/auth/token", data={"username": "t_scoped", "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) == 15 * 60
        assert locked.headers["content-type"].startswith("application/problem+json")
        assert client.post("/api/auth/token", data={"username": "t_leader", "password": PASSWORD}).status_code == 200


def test_many_invented_names_from_one_address_lock_nobody_out(login_engine):
    """Before: 20 failures from one address locked every account behind it for 15 minutes."""
    with make_client(login_engine, peer="192.0.2.22") as office:
        codes = {office.post("/api/auth/token", data={"username": f"nobody{i}", "password": "x"}).status_code
                 for i in range(25)}
        assert codes == {401}
        assert failures_from(login_engine, "192.0.2.22") == 25
        for path in ("/api/auth/token", "/api/auth/session"):
            token, _ = form_token(office)
            response = office.post(path, data={"username": "t_inspector", "password": PASSWORD, "csrf_token": token})
            assert response.status_code == 200, response.text


def test_a_database_failure_is_a_server_error_not_a_wrong_password(databases):
    engine = make_engine(databases.demo_url())
    try:
        ensure_users(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE users RENAME TO users_away"))
        with make_client(engine) as client:
            response = client.post("/api/auth/token", data={"username": "t_admin", "password": PASSWORD})
        assert response.status_code >= 500 and PASSWORD not in response.text
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- start-up


def test_upload_folders_left_behind_are_removed_at_start_up(login_engine, tmp_path, monkeypatch):
    # A temporary folder of its own (as TMPDIR would give): any app starting meanwhile (another
    # test worker) rightly removes an old unlocked folder in the shared one.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    root = scratch.scratch_root()
    assert root.parent == tmp_path
    old = time.time() - 3600
    left = root / f"upload-left-behind-{os.getpid()}"
    left.mkdir()
    (left / "survey.csv").write_text("户主,身份证号\n", encoding="utf-8")
    os.utime(left, (old, old))
    with scratch.scratch_folder("upload") as in_use:  # held by a live process: kept
        os.utime(in_use, (old, old))
        app = create_app(engine=login_engine, settings=Settings(secret_key=SECRET))
        assert left.exists()  # building the app removes nothing; starting it does
        with TestClient(app):
            assert not left.exists()
            assert in_use.exists()
    assert not in_use.exists()


def test_uploads_go_under_the_scratch_parent():
    from api import uploads

    with uploads.upload_folder() as folder:
        assert folder.parent == scratch.scratch_root() and folder.name.startswith("upload-")
        assert oct(folder.parent.stat().st_mode & 0o777) == "0o700"
    assert not folder.exists()


# ---------------------------------------------------------------------- ids beyond int64

HUGE_IDS = ["9223372036854775808", "99999999999999999999999999", "-9223372036854775809"]


@pytest.fixture(scope="module")
def admin(client) -> dict[str, str]:
    token = client.post("/api/auth/token", data={"username": "t_admin", "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}", "If-Match": '"1"'}


def _paths_with_ids(app) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document with a path parameter, and the map pages."""
    calls = [("GET", "/maps/{name}")]
    for path, operations in app.openapi()["paths"].items():
        if "{" in path:
            calls.extend((method.upper(), path) for method in operations)
    return calls


#: A value for each path parameter that names something that exists, so that the one
#: parameter set beyond int64 is the one the route has to deal with.
EXISTING = {"layer": "villages", "collection_id": "villages", "name": "overview", "user_name": "t_admin",
            "key_id": "1", "user_id": "1", "feature_id": "1", "row_id": "1"}
DRAW = {"preset": "seed003", "seed": "int64 测试", "year": 2019, "townships": "宣和镇", "teams": 2}


def test_every_path_parameter_beyond_int64_is_a_4xx(client, admin):
    """Each path parameter in turn beyond int64 (the others naming rows that exist): a 404 or 422, never a 500 (finding ids on GET, PATCH and close were 500s)."""
    drawn = client.post("/api/inspections", json=DRAW, headers={"Authorization": admin["Authorization"]})
    assert drawn.status_code == 201, drawn.text
    existing = {**EXISTING, "plan_id": str(drawn.json()["plan_id"])}
    calls = _paths_with_ids(client.app)
    assert len(calls) > 40
    failures = []
    for method, template in calls:
        for param in re.findall(r"\{([^}:]+)\}", template):
            for huge in HUGE_IDS:
                values = {**existing, param: huge}
                path = re.sub(r"\{([^}:]+)\}", lambda m: values.get(m.group(1), "1"), template)
                response = client.request(method, path, headers=admin, json={} if method != "GET" else None)
                if not 400 <= response.status_code < 500:
                    failures.append((method, path, response.status_code))
    assert failures == []


@pytest.mark.parametrize("path", ["/api/layers/villages", "/api/registry/villages", "/ogc/collections/villages/items"])
def test_a_township_id_beyond_int64_is_a_4xx(client, admin, path):
    for huge in HUGE_IDS:
        response = client.get(path, params={"township": huge}, headers=admin)
        assert 400 <= response.status_code < 500, (path, huge, response.text)
