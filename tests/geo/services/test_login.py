"""The login rules of geo.services.login on real SpatiaLite and PostGIS: the per-name lock-out,
the per-address slow-down (the waits it asks for, never measured on a clock), and that only
an unknown name, never a database failure, counts as a wrong login."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from api.security import hash_password, verify_password
from geo import migrate
from geo.storage import accounts
from geo.audit import SYSTEM
from geo.db import make_engine
from geo.errors import AuthenticationFailed, NotFound, TooManyAttempts
from geo.services import login
from geo.services.login import LoginPolicy, slowdown_s

PASSWORD = "login-rules-password-1"
POLICY = LoginPolicy(max_failures=5, window=dt.timedelta(minutes=15), slowdown_after=20, max_delay_s=4.0)
_addresses = itertools.count(1)


def _address() -> str:
    """A client address no other test of the session uses (the attempts table is shared)."""
    return f"198.51.100.{next(_addresses)}"


class Waits:
    """Stands in for the sleep: keeps the waits asked for (the rule is the wait, not the clock)."""

    def __init__(self):
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def run(coroutine):
    """Run ``coroutine`` to its end on an event loop of its own, in a thread of its own: a
    browser test earlier in the same worker may leave this thread's loop running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def attempt(engine, name: str, password: str, client: str, waits: Waits | None = None, policy=POLICY):
    return run(login.log_in(engine, name=name, password=password, client=client, policy=policy,
                                    verify=verify_password, sleep=waits or Waits()))


@pytest.fixture(scope="module")
def accounts_engine(engine):
    for name, active in (("l_alice", True), ("l_bob", True), ("l_gone", False)):
        try:
            accounts.get_user(engine, name=name)
        except NotFound:
            user = accounts.create_user(engine, name=name, role="viewer", password_hash=hash_password(PASSWORD),
                                        actor=SYSTEM, source="test")
            if not active:
                accounts.update_user(engine, user["id"], {"is_active": False}, actor=SYSTEM, version=None)
    return engine


@pytest.mark.parametrize(("failures", "wait_s"), [
    (0, 0.0), (19, 0.0), (20, 0.25), (21, 0.5), (22, 1.0), (23, 2.0), (24, 4.0), (25, 4.0), (10_000, 4.0),
])
def test_the_wait_doubles_after_the_free_failures_up_to_the_bound(failures, wait_s):
    assert slowdown_s(failures, policy=POLICY) == wait_s


def test_no_wait_when_the_bound_is_zero():
    assert slowdown_s(500, policy=LoginPolicy(max_delay_s=0)) == 0.0


def test_a_right_password_returns_the_user_and_a_wrong_one_never_says_which(accounts_engine):
    client = _address()
    user = attempt(accounts_engine, "l_alice", PASSWORD, client)
    assert user["name"] == "l_alice"
    messages = set()
    for name, password in (("l_alice", "wrong-password"), ("l_nobody", PASSWORD), ("l_gone", PASSWORD)):
        with pytest.raises(AuthenticationFailed) as caught:
            attempt(accounts_engine, name, password, client)
        messages.add(str(caught.value))
    assert len(messages) == 1


def test_a_name_is_locked_out_after_its_failures_even_with_the_right_password(accounts_engine):
    client = _address()
    for i in range(POLICY.max_failures):
        with pytest.raises(AuthenticationFailed):
            attempt(accounts_engine, "l_bob", f"guess-{i}", client)
    for password in ("guess-again", PASSWORD):
        with pytest.raises(TooManyAttempts) as caught:
            attempt(accounts_engine, "l_bob", password, _address())  # from anywhere
        assert caught.value.retry_after_s == 15 * 60
    assert attempt(accounts_engine, "l_alice", PASSWORD, client)["name"] == "l_alice"  # others are not


def test_an_address_is_slowed_down_never_locked_out(accounts_engine):
    """25 failed logins with invented names from one address (a county office behind one NAT):
    the next logins from there wait, boundedly, and a colleague still gets in."""
    office = _address()
    waits = Waits()
    for i in range(25):
        with pytest.raises(AuthenticationFailed):
            attempt(accounts_engine, f"l_invented_{i}", "whatever", office, waits)
    assert waits.asked == [0.25, 0.5, 1.0, 2.0, 4.0]  # attempts 21-25; the first 20 are free
    colleague = Waits()
    assert attempt(accounts_engine, "l_alice", PASSWORD, office, colleague)["name"] == "l_alice"
    assert colleague.asked == [4.0]
    elsewhere = Waits()
    assert attempt(accounts_engine, "l_alice", PASSWORD, _address(), elsewhere)["name"] == "l_alice"
    assert elsewhere.asked == []


def test_the_real_sleep_is_used_by_default(accounts_engine):
    policy = LoginPolicy(slowdown_after=1, max_delay_s=0.01)
    client = _address()
    with pytest.raises(AuthenticationFailed):
        run(login.log_in(accounts_engine, name="l_nobody", password="x", client=client, policy=policy,
                                 verify=verify_password))
    user = run(login.log_in(accounts_engine, name="l_alice", password=PASSWORD, client=client,
                                    policy=policy, verify=verify_password))
    assert user["name"] == "l_alice"


def test_a_database_failure_is_not_a_wrong_password(databases):
    """``except Exception: user = None`` made an outage look like a 401; now it propagates and
    nothing is recorded as a failed login."""
    engine = make_engine(databases.url())
    try:
        migrate.upgrade(engine)
        accounts.create_user(engine, name="l_carol", role="viewer", password_hash=hash_password(PASSWORD),
                             actor=SYSTEM, source="test")
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE users RENAME TO users_away"))
        client = _address()
        with pytest.raises(DBAPIError):
            attempt(engine, "l_carol", PASSWORD, client)
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        assert accounts.recent_failures(engine, name="l_carol", client=client, since=since) == (0, 0)
    finally:
        engine.dispose()


def basic(engine, name: str, password: str, client: str, waits: Waits | None = None):
    return run(login.check_basic(engine, name=name, password=password, client=client, policy=POLICY,
                                 verify=verify_password, sleep=waits or Waits()))


def test_basic_remembers_a_right_password_only_while_the_hash_and_account_stand(engine):
    from geo.services import accounts as account_rules

    user = accounts.create_user(engine, name="l_basic", role="viewer", password_hash=hash_password(PASSWORD),
                                actor=SYSTEM, source="test")
    client = _address()
    checks = []

    def counting(stored_hash, password):
        checks.append(password)
        return verify_password(stored_hash, password)

    for _ in range(3):
        assert run(login.check_basic(engine, name="l_basic", password=PASSWORD, client=client, policy=POLICY,
                                     verify=counting, sleep=Waits()))["id"] == user["id"]
    assert len(checks) == 1  # one argon2 check, then remembered
    account_rules.set_password(engine, user["id"], hash_password("another-password-2"), actor=SYSTEM)
    with pytest.raises(AuthenticationFailed):
        basic(engine, "l_basic", PASSWORD, client)
    assert basic(engine, "l_basic", "another-password-2", client)["id"] == user["id"]
    accounts.update_user(engine, user["id"], {"is_active": False}, actor=SYSTEM, version=None)
    with pytest.raises(AuthenticationFailed):
        basic(engine, "l_basic", "another-password-2", client)


def test_basic_counts_failures_and_locks_the_name_out(engine):
    accounts.create_user(engine, name="l_basic_lock", role="viewer", password_hash=hash_password(PASSWORD),
                         actor=SYSTEM, source="test")
    client = _address()
    assert basic(engine, "l_basic_lock", PASSWORD, client)  # remembered from now on
    for _ in range(POLICY.max_failures):
        with pytest.raises(AuthenticationFailed):
            basic(engine, "l_basic_lock", "wrong-password-9", client)
    with pytest.raises(TooManyAttempts):
        basic(engine, "l_basic_lock", PASSWORD, client)
