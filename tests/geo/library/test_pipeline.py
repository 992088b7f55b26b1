"""The pipeline's rules: every step only from the stage before it, dated in order, with what
it needs; old statuses mapped onto the stages; a hand-over needs class, owner and maintainer."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geo.enums import ProjectStage as S
from geo.errors import ValidationError
from geo.library.pipeline import (
    OUTSIDE_NOTE,
    STEPS,
    check_asset,
    check_step,
    check_targets,
    current_stage,
    parse_step,
    with_stages,
)

DAY = dt.date(2026, 3, 1)
ROAD = {"id": 7, "code": "XM-1", "name": "通村路", "kind": "road", "village_id": 3,
        "performance_targets": "新建硬化路2公里"}
ORDER = [("review", S.PROPOSED), ("approve", S.REVIEWED), ("start", S.APPROVED), ("complete", S.IN_PROGRESS),
         ("handover", S.COMPLETED)]


@pytest.mark.parametrize(("step", "stage"), ORDER)
def test_each_step_follows_the_stage_before_it(step, stage):
    check_step(STEPS[step], ROAD, stage=stage, on=DAY, last_date=DAY)
    assert STEPS[step].source == stage


@pytest.mark.parametrize("step", [s for s, _ in ORDER])
@pytest.mark.parametrize("stage", list(S))
def test_every_other_stage_is_refused_naming_the_next_step(step, stage):
    if STEPS[step].source == stage:
        return
    with pytest.raises(ValidationError) as refused:
        check_step(STEPS[step], ROAD, stage=stage, on=DAY, last_date=None)
    text = str(refused.value)
    assert "XM-1" in text and stage.label in text
    if stage != S.HANDED_OVER:
        assert "No step may be skipped" in text
    else:
        assert "ended" in text


def test_a_proposal_is_new_and_needs_its_village():
    check_step(STEPS["propose"], ROAD, stage=None, on=DAY, last_date=None)
    with pytest.raises(ValidationError, match="already in the library"):
        check_step(STEPS["propose"], ROAD, stage=S.PROPOSED, on=DAY, last_date=None)
    with pytest.raises(ValidationError, match="village_id"):
        check_step(STEPS["propose"], {**ROAD, "village_id": None}, stage=None, on=DAY, last_date=None)


def test_a_step_dated_before_the_previous_one_is_refused():
    with pytest.raises(ValidationError, match="2026-02-28 is before the previous step \\(2026-03-01\\)"):
        check_step(STEPS["review"], ROAD, stage=S.PROPOSED, on=dt.date(2026, 2, 28), last_date=DAY)


def test_approval_needs_targets_and_an_industry_project_its_farmer_benefits():
    with pytest.raises(ValidationError, match="绩效目标"):
        check_step(STEPS["approve"], {**ROAD, "performance_targets": " "}, stage=S.REVIEWED, on=DAY, last_date=None)
    cattle = {**ROAD, "kind": "breeding"}
    with pytest.raises(ValidationError, match="联农带农"):
        check_step(STEPS["approve"], cattle, stage=S.REVIEWED, on=DAY, last_date=None)
    with pytest.raises(ValidationError, match="联农带农"):
        check_step(STEPS["approve"], {**cattle, "benefit_mechanism": "务工", "benefit_households": 0},
                   stage=S.REVIEWED, on=DAY, last_date=None)
    check_step(STEPS["approve"], {**cattle, "benefit_mechanism": "务工、分红", "benefit_households": 40},
               stage=S.REVIEWED, on=DAY, last_date=None)


def test_old_statuses_map_onto_the_pipeline_and_a_status_changed_outside_it_wins():
    assert current_stage("planned", None) == (S.APPROVED, None)
    assert current_stage("building", None) == (S.IN_PROGRESS, None)
    assert current_stage("completed", None) == (S.COMPLETED, None)
    assert current_stage("planned", "reviewed") == (S.REVIEWED, None)
    assert current_stage("completed", "handed_over") == (S.HANDED_OVER, None)
    assert current_stage("building", "reviewed") == (S.IN_PROGRESS, OUTSIDE_NOTE)


def test_with_stages_takes_the_latest_event():
    projects = pd.DataFrame({"id": [1, 2, 3], "status": ["planned", "building", "completed"]})
    events = pd.DataFrame({"project_id": [1, 1, 2], "stage": ["proposed", "reviewed", "approved"],
                           "event_date": [DAY, dt.date(2026, 3, 2), DAY]})
    out = with_stages(projects, events)
    assert list(out["stage"]) == ["reviewed", "in_progress", "completed"]
    assert list(out["next_step"]) == ["approve", "complete", "handover"]
    assert out["stage_date"].iloc[0] == dt.date(2026, 3, 2)
    assert out["stage_note"].iloc[1] == OUTSIDE_NOTE and out["stage_date"].iloc[1] is None
    assert list(out["stage_label"]) == ["乡镇审核", "实施中", "已竣工"]


def test_a_handover_needs_class_owner_and_maintainer_named_together():
    with pytest.raises(ValidationError) as refused:
        check_asset({**ROAD, "funds_wan_yuan": 80.0}, {"asset_class": "公益性"})
    assert "owner" in str(refused.value) and "maintainer" in str(refused.value) and "class" not in str(refused.value)
    with pytest.raises(ValidationError, match="a known class"):
        check_asset(ROAD, {"asset_class": "集体", "owner": "村集体", "maintainer": "村委会"})
    asset = check_asset({**ROAD, "funds_wan_yuan": 80.0}, {"asset_class": "到户", "owner": " 受益农户 ",
                                                           "maintainer": "农户"})
    assert asset == {"asset_class": "household", "owner": "受益农户", "maintainer": "农户", "value_wan_yuan": 80.0,
                     "name": "通村路", "note": None}


def test_targets_are_checked_and_steps_parsed_by_name_or_label():
    assert check_targets({"benefit_households": 40.0, "benefit_mechanism": " 分红 ", "benefit_jobs": None}) == \
        {"benefit_households": 40, "benefit_mechanism": "分红"}
    with pytest.raises(ValidationError, match="benefit_jobs must be a whole number"):
        check_targets({"benefit_jobs": -1})
    assert parse_step("县级审批入库").name == "approve"
    with pytest.raises(ValidationError, match="unknown step 'skip'"):
        parse_step("skip")
