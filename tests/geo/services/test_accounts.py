"""Account rules: token revocation written once, an administrator's own account protected."""

from __future__ import annotations

import pytest

from geo.storage import accounts
from geo.audit import SYSTEM
from geo.errors import Conflict
from geo.services import accounts as rules


@pytest.mark.parametrize("changes", [{"password_hash": "x"}, {"is_active": False}, {"role": "viewer"}])
def test_password_activity_and_role_changes_revoke_tokens(changes):
    assert "tokens_valid_after" in rules.revoking(changes)


@pytest.mark.parametrize("changes", [{"display_name": "甲"}, {"townships": []}])
def test_other_changes_keep_tokens(changes):
    assert rules.revoking(changes) == changes


@pytest.fixture
def user(conn):
    return accounts.create_user(conn, name="t_rules", role="admin", password_hash=None, actor=SYSTEM)


def test_update_revokes_and_none_leaves_a_field_unchanged(conn, user):
    changed = rules.update_user(conn, user["id"], {"role": "planner", "display_name": None}, actor=SYSTEM,
                                version=user["version"])
    assert changed["role"] == "planner" and changed["tokens_valid_after"] is not None
    kept = rules.update_user(conn, user["id"], {"display_name": "规划员", "role": None}, actor=SYSTEM, version=None)
    assert kept["role"] == "planner" and kept["tokens_valid_after"] == changed["tokens_valid_after"]


def test_set_password_and_revoke_tokens_move_the_cut_off(conn, user):
    first = rules.set_password(conn, user["id"], "hash", actor=SYSTEM)["tokens_valid_after"]
    assert first is not None
    assert rules.revoke_tokens(conn, user["id"], actor=SYSTEM)["tokens_valid_after"] >= first


@pytest.mark.parametrize("changes", [{"is_active": False}, {"role": "viewer"}])
def test_an_admin_cannot_deactivate_or_demote_themselves(conn, user, changes):
    with pytest.raises(Conflict, match="your own account"):
        rules.update_user(conn, user["id"], changes, actor=SYSTEM, version=None, acting_user_id=user["id"])


def test_an_admin_cannot_remove_themselves(conn, user):
    with pytest.raises(Conflict, match="remove your own account"):
        rules.delete_user(conn, user["id"], actor=SYSTEM, version=None, acting_user_id=user["id"])
    rules.delete_user(conn, user["id"], actor=SYSTEM, version=None)


def test_key_expiry_in_days(conn, user):
    key = rules.add_api_key(conn, user["id"], label="nightly", prefix="abcdef012345", key_hash="h", actor=SYSTEM,
                            expires_in_days=2)
    assert key["expires_at"] is not None
    assert rules.add_api_key(conn, user["id"], label="forever", prefix="abcdef012346", key_hash="h2",
                             actor=SYSTEM)["expires_at"] is None
