"""A writable demo database per backend, shared by the tests of ``geo.services`` and
``geo.inspection`` that draw and record plans."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


@pytest.fixture(scope="module")
def module_tx(inspect_engine) -> Iterator[sa.Connection]:
    """A connection to the writable demo database in a transaction of one test module, rolled
    back when the module ends. A module whose tests all start from the same rows (a drawn
    plan: 0.3 s of CPU per draw) writes them into it once, in a module fixture, and takes its
    ``tx`` from :func:`tx_on_module`."""
    with rolled_back(inspect_engine) as connection:
        yield connection


def tx_on_module(setup: str) -> Callable:
    """A module's ``tx`` fixture: :func:`module_tx`, with the module fixture named ``setup``
    written first, inside a savepoint rolled back after each test (the test's own writes are
    undone, the module's rows stay). Use: ``tx = tx_on_module("plan")``."""

    @pytest.fixture
    def tx(module_tx, request) -> Iterator[sa.Connection]:
        request.getfixturevalue(setup)
        savepoint = module_tx.begin_nested()
        try:
            yield module_tx
        finally:
            if savepoint.is_active:
                savepoint.rollback()

    return tx


def at_revision_with_a_village(url: str, revision: str) -> sa.Engine:
    """An engine on ``url`` (an empty database) migrated to ``revision``, holding township 1
    (兴仁镇) and its village 1 (郝集村): rows written before a later migration runs."""
    from geo import migrate

    engine = make_engine(url)
    migrate.upgrade(engine, revision)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO townships (id, name, source) VALUES (1, '兴仁镇', 'test')"))
        conn.execute(sa.text("INSERT INTO villages (id, name, township_id, category, source) "
                             "VALUES (1, '郝集村', 1, 'poor', 'test')"))
    return engine
