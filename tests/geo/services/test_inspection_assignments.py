"""Inspectors assigned to a plan: the record the API's name rule and the findings rely on."""

from __future__ import annotations

import pytest

from api.security import hash_password
from geo.storage import accounts
from geo.audit import SYSTEM
from geo.db import make_engine
from geo.errors import NotFound
from geo.storage import inspection as store
from geo.services import inspections as service
from geo.inspection.plans import load_plan, with_overrides
from tests.conftest import run_cli


def seed003(**overrides):
    return with_overrides(load_plan("seed003", year=2019), **overrides)


def _user(conn, name: str, role: str = "inspector") -> int:
    return accounts.create_user(conn, name=name, role=role, password_hash=hash_password("pw-123456789"),
                                townships=(), actor=SYSTEM, source="test")["id"]


def test_assign_list_and_remove(tx):
    plan = service.draw_plan(tx, seed003(townships=("东园镇",)), seed="assign-1", teams=1).plan_id
    alice, bob = _user(tx, "insp_alice"), _user(tx, "insp_bob")
    assert store.plan_assignees(tx, plan) == []
    assert store.assign_inspector(tx, plan, alice) is True
    assert store.assign_inspector(tx, plan, bob, team=1) is True
    assert store.assign_inspector(tx, plan, bob, team=None) is False  # only the team changed
    assert store.plan_assignees(tx, plan) == sorted([alice, bob])
    rows = store.read_assignments(tx, user_id=bob)
    assert list(rows["plan_id"]) == [plan] and rows["team"].isna().all()
    assert store.unassign_inspector(tx, plan, alice) is True
    assert store.unassign_inspector(tx, plan, alice) is False
    assert store.plan_assignees(tx, plan) == [bob]


def test_unknown_plan_or_user(tx):
    plan = service.draw_plan(tx, seed003(townships=("东园镇",)), seed="assign-2", teams=1).plan_id
    with pytest.raises(NotFound, match="no user"):
        store.assign_inspector(tx, plan, 999_999)
    with pytest.raises(NotFound, match="no inspection plan"):
        store.assign_inspector(tx, 999_999, _user(tx, "insp_carol"))


def test_cli_assigns_only_inspectors(databases):
    """The CLI commits, so this test has its own demo copy (the shared one stays clean)."""
    inspect_url = databases.demo_url()
    inspect_engine = make_engine(inspect_url)
    plan = service.draw_plan(inspect_engine, seed003(townships=("宣和镇",), name="assign-cli"),
                             seed="assign-3", teams=2).plan_id
    _user(inspect_engine, "insp_dave")
    _user(inspect_engine, "lead_erin", role="leader")
    done = run_cli("sample", "assign", str(plan), "--user", "insp_dave", "--team", "2", "--db", inspect_url,
                   check=True)
    assert "assigned to" in done.stdout
    refused = run_cli("sample", "assign", str(plan), "--user", "lead_erin", "--db", inspect_url)
    assert refused.returncode == 1 and "only inspectors" in refused.stderr
    no_team = run_cli("sample", "assign", str(plan), "--user", "insp_dave", "--team", "5", "--db", inspect_url)
    assert no_team.returncode == 1 and "teams 1-2" in no_team.stderr
    gone = run_cli("sample", "assign", str(plan), "--user", "insp_dave", "--remove", "--db", inspect_url, check=True)
    assert "removed from" in gone.stdout
    assert store.plan_assignees(inspect_engine, plan) == []
    inspect_engine.dispose()
