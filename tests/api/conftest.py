"""Fixtures of the API tests: test accounts and their tokens on the demo application, and a
scratch application (its own copy of the demo) for tests that write. Both run the real app in
this process (:class:`tests.conftest.Site`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.accounts import USERS, ensure_users, login
from tests.conftest import Site


@pytest.fixture(scope="session")
def user_ids(demo_engine) -> dict[str, int]:
    return ensure_users(demo_engine)


@pytest.fixture(scope="session")
def headers(demo_server, user_ids) -> dict[str, dict[str, str]]:
    """Authorization headers on the demo application by role name (admin, planner, leader, ...)."""
    return {name.removeprefix("t_"): login(demo_server, name) for name in USERS}


class Scratch(Site):
    """The application over its own demo database, for tests that change data, with the test
    accounts (``user_ids``) and their ``headers`` by role."""

    def __init__(self, url: str, env: dict[str, str] | None = None):
        super().__init__(url, env)
        self.user_ids = ensure_users(self.engine)
        self.headers = {name.removeprefix("t_"): login(self, name) for name in USERS}


@pytest.fixture(scope="session")
def scratch(databases) -> Iterator[Scratch]:
    instance = Scratch(databases.demo_url())
    yield instance
    instance.close()
