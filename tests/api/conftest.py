"""Fixtures of the API tests: test accounts and their tokens on the demo server, and a
scratch server (its own copy of the demo) for tests that write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from geo.db import make_engine
from tests.api.accounts import USERS, ensure_users, login
from tests.conftest import Server


@pytest.fixture(scope="session")
def user_ids(demo_engine) -> dict[str, int]:
    return ensure_users(demo_engine)


@pytest.fixture(scope="session")
def headers(demo_server, user_ids) -> dict[str, dict[str, str]]:
    """Authorization headers on the demo server by role name (admin, planner, leader, ...)."""
    return {name.removeprefix("t_"): login(demo_server.base, name) for name in USERS}


class Scratch:
    """A server over its own demo database, for tests that change data."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.user_ids = ensure_users(self.engine)
        self.server = Server(url)
        self.base = self.server.base
        self.headers = {name.removeprefix("t_"): login(self.base, name) for name in USERS}


@pytest.fixture(scope="session")
def scratch(databases) -> Iterator[Scratch]:
    instance = Scratch(databases.demo_url())
    yield instance
    instance.server.stop()
    instance.engine.dispose()
