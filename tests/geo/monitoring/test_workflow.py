"""The monitoring workflow's rules, pure: allowed and refused steps, working-day deadlines,
postings, measures and the figures a category allows."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.enums import CaseStatus as S
from geo.enums import MonitorCategory, RiskType
from geo.errors import ValidationError
from geo.monitoring import workflow as wf

MON = dt.date(2026, 11, 2)  # a Monday
LINE = wf.Thresholds(income_line_yuan=7000.0, out_of_pocket_yuan=10000.0, source="test")


def step(status, to, *, on=MON, step_on=MON, posted_until=None, measures=0, until=None, today=None):
    wf.check_step("JC-T", status, to, on=on, step_on=step_on, posted_until=posted_until, measures=measures,
                  until=until, today=today)


def test_working_days_skip_the_weekend_and_holidays():
    friday = dt.date(2026, 11, 6)
    assert wf.working_days_after(friday, 1) == dt.date(2026, 11, 9)
    assert wf.working_days_after(MON, 3) == dt.date(2026, 11, 5)
    assert wf.working_days_after(MON, 3, holidays=[dt.date(2026, 11, 3)]) == dt.date(2026, 11, 6)
    assert wf.working_days_between(friday, dt.date(2026, 11, 9)) == 1
    assert wf.working_days_between(friday, dt.date(2026, 11, 8)) == 0


def test_each_status_has_its_deadline_and_identification_takes_about_twenty_working_days():
    assert wf.next_due(S.LEAD, MON, None) == (S.CHECKED, dt.date(2026, 11, 5))
    # after a posting the clock starts at its last day: posting to Sunday 15th, review by Thursday 19th
    assert wf.next_due(S.POSTED, dt.date(2026, 11, 9), dt.date(2026, 11, 15)) == (S.TOWNSHIP_REVIEWED,
                                                                                 dt.date(2026, 11, 19))
    assert wf.next_due(S.ASSISTING, MON, None) == (S.REMOVAL_POSTED, None)
    assert wf.next_due(S.REMOVED, MON, None) == (None, None)
    rules = wf.DEFAULT_RULES.due_working_days
    total = sum(rules[s] for s in (S.CHECKED, S.POSTED, S.TOWNSHIP_REVIEWED, S.APPROVED)) + \
        wf.DEFAULT_RULES.min_posting_days
    assert total == 20  # 认定程序原则上在20个工作日内完成


def test_the_path_is_taken_in_order():
    step(S.LEAD, S.CHECKED)
    step(S.LEAD, S.DISMISSED)
    step(S.CHECKED, S.POSTED, until=MON + dt.timedelta(days=4))
    step(S.POSTED, S.TOWNSHIP_REVIEWED, on=dt.date(2026, 11, 7), step_on=MON, posted_until=dt.date(2026, 11, 6))
    step(S.TOWNSHIP_REVIEWED, S.APPROVED)
    step(S.APPROVED, S.ASSISTING, measures=1)
    step(S.ASSISTING, S.REMOVAL_POSTED, measures=1, until=MON + dt.timedelta(days=6))
    step(S.REMOVAL_POSTED, S.REMOVED, on=dt.date(2026, 11, 9), posted_until=dt.date(2026, 11, 8), measures=1)


@pytest.mark.parametrize("status, to, missing", [
    (S.LEAD, S.POSTED, "入户核实"),
    (S.LEAD, S.APPROVED, "入户核实, 村级评议公示, 乡镇审核"),
    (S.CHECKED, S.APPROVED, "村级评议公示, 乡镇审核"),
    (S.APPROVED, S.REMOVED, "落实帮扶措施, 风险消除公示"),
])
def test_a_step_cannot_be_skipped(status, to, missing):
    with pytest.raises(ValidationError, match=f"case JC-T is {status.value}.*first {missing}"):
        step(status, to, measures=1, until=MON + dt.timedelta(days=9))


def test_no_step_goes_back_or_follows_a_closed_case():
    with pytest.raises(ValidationError, match="cannot follow now"):
        step(S.POSTED, S.CHECKED)
    with pytest.raises(ValidationError, match="takes no further step"):
        step(S.REMOVED, S.CHECKED)
    with pytest.raises(ValidationError, match="takes no further step"):
        step(S.DISMISSED, S.CHECKED)


def test_a_posting_needs_its_minimum_days_and_the_next_step_waits_for_its_end():
    with pytest.raises(ValidationError, match="lasts 4 working day.*at least 5 working days.*--until 2026-11-06"):
        step(S.CHECKED, S.POSTED, until=MON + dt.timedelta(days=3))
    # five working days, counted without the weekend: Thursday to the next Wednesday
    step(S.CHECKED, S.POSTED, on=dt.date(2026, 11, 5), until=dt.date(2026, 11, 11))
    with pytest.raises(ValidationError, match="lasts 4 working day"):
        step(S.CHECKED, S.POSTED, on=dt.date(2026, 11, 5), until=dt.date(2026, 11, 10))
    with pytest.raises(ValidationError, match="needs its last day"):
        step(S.CHECKED, S.POSTED)
    with pytest.raises(ValidationError, match="runs until 2026-11-06.*2026-11-07 at the earliest"):
        step(S.POSTED, S.TOWNSHIP_REVIEWED, on=dt.date(2026, 11, 6), posted_until=dt.date(2026, 11, 6))


def test_a_step_is_not_dated_before_the_last_nor_in_the_future():
    with pytest.raises(ValidationError, match="before the previous step"):
        step(S.LEAD, S.CHECKED, on=MON - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="in the future"):
        step(S.LEAD, S.CHECKED, on=MON + dt.timedelta(days=2), today=MON)


def test_assistance_and_removal_need_a_measure():
    for status, to in ((S.APPROVED, S.ASSISTING), (S.ASSISTING, S.REMOVAL_POSTED)):
        with pytest.raises(ValidationError, match="no assistance measure is recorded"):
            step(status, to, measures=0, until=MON + dt.timedelta(days=6))


def figures(category, *, status, income, costs=None, risks=(RiskType.ILLNESS,), assured=None, thresholds=LINE):
    return wf.check_figures("JC-T", category, household_status=status, income_per_person_yuan=income,
                            out_of_pocket_yuan=costs, risk_types=list(risks), assured=assured or {},
                            thresholds=thresholds)


def test_income_figures_must_agree_with_the_category():
    assert figures(MonitorCategory.UNSTABLE_EXITED, status="exited", income=5000) == []
    # at or above the line: only with another risk (costs above the threshold, a guarantee not met)
    with pytest.raises(ValidationError, match="income 7,000 .* at or above the monitoring line 7,000"):
        figures(MonitorCategory.MARGINAL, status="non_poor", income=7000, costs=500)
    assert figures(MonitorCategory.MARGINAL, status="non_poor", income=9000, costs=12000) == []
    assert figures(MonitorCategory.MARGINAL, status="non_poor", income=9000,
                   assured={"assured_housing": False}) == []
    with pytest.raises(ValidationError, match="脱贫不稳定户 applies to households that exited"):
        figures(MonitorCategory.UNSTABLE_EXITED, status="non_poor", income=5000)
    with pytest.raises(ValidationError, match="边缘易致贫户 applies to households never registered"):
        figures(MonitorCategory.MARGINAL, status="exited", income=5000)
    with pytest.raises(ValidationError, match="突发严重困难户 needs a sudden cause"):
        figures(MonitorCategory.SUDDEN_HARDSHIP, status="registered", income=20000, risks=(RiskType.EMPLOYMENT,))
    with pytest.raises(ValidationError, match="income_per_person_yuan -1"):
        figures(MonitorCategory.UNSTABLE_EXITED, status="exited", income=-1)


def test_without_thresholds_the_income_check_says_it_did_not_run():
    notes = figures(MonitorCategory.UNSTABLE_EXITED, status="exited", income=50000, thresholds=wf.Thresholds())
    assert notes and "ATLAS_MONITOR_INCOME_LINE_YUAN" in notes[0]
    assert wf.Thresholds().missing == ["ATLAS_MONITOR_INCOME_LINE_YUAN", "ATLAS_MONITOR_OUT_OF_POCKET_YUAN"]


def test_risk_types_take_values_or_chinese_labels():
    assert wf.parse_risk_types("因病、disaster") == [RiskType.ILLNESS, RiskType.DISASTER]
    with pytest.raises(ValidationError, match="risk type: '因懒'"):
        wf.parse_risk_types(["因懒"])
