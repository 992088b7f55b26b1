"""A writable demo database per backend, shared by the tests of ``geo.services`` and
``geo.inspection`` that draw and record plans."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from geo.db import make_engine
from tests.conftest import rolled_back


@pytest.fixture(scope="session")
def inspect_engine(databases):
    """A fresh database with the demo loaded, for draws that write plan and sample rows."""
    engine = make_engine(databases.demo_url())
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def inspect_url(inspect_engine) -> str:
    return inspect_engine.url.render_as_string(hide_password=False)


@pytest.fixture
def tx(inspect_engine) -> Iterator[sa.Connection]:
    """A connection to the writable demo database, rolled back after the test."""
    with rolled_back(inspect_engine) as connection:
        yield connection
