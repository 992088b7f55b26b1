"""Personal-data reads: the read and its audit entry in one transaction, on both backends."""

from __future__ import annotations

import pytest

from geo import audit, storage
from geo.audit import Actor
from geo.errors import NotFound
from geo.services.personal import household_personal

READER = Actor("t_reader", user_id=None)


def _entries(conn) -> int:
    return audit.read_entries(conn, layer="households", action="read_pii", limit=1)[1]


def test_a_read_is_audited_with_it(tx):
    household = storage.read_layer(tx, "households", columns=["code"], limit=1, with_names=False).iloc[0]
    before = _entries(tx)
    row = household_personal(tx, int(household["id"]), township=None, actor=READER)
    assert row["code"] == household["code"] and set(row) == {"id", "code", "head_name", "id_number", "version"}
    assert _entries(tx) == before + 1
    entry = audit.read_entries(tx, layer="households", action="read_pii", limit=1)[0][0]
    assert entry["row_id"] == int(household["id"]) and entry["user_name"] == "t_reader"


def test_a_failed_read_leaves_no_entry(tx):
    before = _entries(tx)
    with pytest.raises(NotFound):
        household_personal(tx, 2**31 - 1, township=None, actor=READER)
    assert _entries(tx) == before


def test_no_actor_no_entry(tx):
    household = storage.read_layer(tx, "households", columns=["code"], limit=1, with_names=False).iloc[0]
    before = _entries(tx)
    household_personal(tx, int(household["id"]), township=None, actor=None)
    assert _entries(tx) == before
