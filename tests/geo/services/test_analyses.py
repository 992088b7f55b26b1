"""``reuse=True``: an analysis run again on an unchanged registry takes the frames of the last
read (as copies), and sees a write at once, on both backends."""

from __future__ import annotations

import pytest

from geo import storage
from geo.services.analyses import _INPUTS, load_inputs, run_analysis
from geo.audit import SYSTEM
from geo.db import make_engine


@pytest.fixture
def writable(databases):
    engine = make_engine(databases.demo_url())
    yield engine
    engine.dispose()


def _work_team_pct(engine) -> float:
    return float(run_analysis(engine, "coverage", reuse=True).tables["district"]["work_team_pct"].iloc[0])


def test_reused_frames_are_copies_equal_to_a_fresh_read(writable):
    _INPUTS.clear()
    first = load_inputs(writable, "roads", township="东园镇", reuse=True)
    first["villages"].loc[:, "name"] = "改掉"  # the caller's copy, not the kept frames
    again = load_inputs(writable, "roads", township="东园镇", reuse=True)
    fresh = load_inputs(writable, "roads", township="东园镇")
    assert _INPUTS.hits == 1 and _INPUTS.misses == 1
    assert "改掉" not in set(again["villages"]["name"])
    for name, frame in fresh.items():
        assert again[name].equals(frame), name


def test_a_write_is_seen_by_the_next_run(writable):
    before = _work_team_pct(writable)
    assert _work_team_pct(writable) == before
    teams = storage.read_layer(writable, "work_teams")
    poor = storage.read_layer(writable, "villages", columns=["category", "version"])
    covered = poor[poor["category"].isin(["key_poor", "poor"]) & poor["id"].isin(teams["village_id"])]
    assert not covered.empty
    for _, team in teams[teams["village_id"] == covered["id"].iloc[0]].iterrows():
        storage.delete_record(writable, "work_teams", int(team["id"]), version=int(team["version"]), actor=SYSTEM)
    assert _work_team_pct(writable) < before
