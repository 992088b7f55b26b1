"""The rules of a monitoring case (防止返贫动态监测), pure: which step may follow which, by
when, and what each step needs. :mod:`geo.services.monitoring` applies them to stored cases.

The path (every step dated, with who did it; none may be skipped)::

    lead 线索待核实 -> checked 已入户核实 -> posted 村级评议公示 -> township_reviewed 乡镇审核
      -> approved 县级审定（纳入监测） -> assisting 落实帮扶 -> removal_posted 风险消除公示
      -> removed 风险已消除
    lead -> dismissed 核实不纳入 (the home check finds no risk)

Deadlines are counted in working days (Monday to Friday; public holidays can be given) from
the previous step, or from the end of the posting for the step after a posting. The numbers
are this project's defaults, chosen so that identification takes about 20 working days as the
national guidance asks (see docs/monitoring.md for their sources); a province sets its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from geo.enums import CaseStatus, HouseholdStatus, MonitorCategory, RiskType
from geo.errors import ValidationError

S = CaseStatus

#: The steps each status may move to (forward only, none skipped).
NEXT: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    S.LEAD: (S.CHECKED, S.DISMISSED),
    S.CHECKED: (S.POSTED,),
    S.POSTED: (S.TOWNSHIP_REVIEWED,),
    S.TOWNSHIP_REVIEWED: (S.APPROVED,),
    S.APPROVED: (S.ASSISTING,),
    S.ASSISTING: (S.REMOVAL_POSTED,),
    S.REMOVAL_POSTED: (S.REMOVED,),
    S.REMOVED: (),
    S.DISMISSED: (),
}
#: The order of the main path (for tables and the demo).
PATH: tuple[CaseStatus, ...] = (S.LEAD, S.CHECKED, S.POSTED, S.TOWNSHIP_REVIEWED, S.APPROVED, S.ASSISTING,
                                S.REMOVAL_POSTED, S.REMOVED)
#: Cases no longer open.
CLOSED = frozenset({S.REMOVED, S.DISMISSED})
#: Steps that start a posting (公示) with a last day.
POSTINGS = frozenset({S.POSTED, S.REMOVAL_POSTED})
#: Statuses in which the household is a monitored household (监测对象).
MONITORED = frozenset({S.APPROVED, S.ASSISTING, S.REMOVAL_POSTED})

#: What each step is called in the command line and the API (the verb) and in Chinese.
STEP_NAMES = {S.CHECKED: "check", S.DISMISSED: "dismiss", S.POSTED: "post", S.TOWNSHIP_REVIEWED: "review",
              S.APPROVED: "approve", S.ASSISTING: "assist", S.REMOVAL_POSTED: "post-removal",
              S.REMOVED: "remove"}
STEP_LABELS = {S.CHECKED: "入户核实", S.DISMISSED: "核实不纳入", S.POSTED: "村级评议公示",
               S.TOWNSHIP_REVIEWED: "乡镇审核", S.APPROVED: "县级审定", S.ASSISTING: "落实帮扶措施",
               S.REMOVAL_POSTED: "风险消除公示", S.REMOVED: "标注风险消除"}


@dataclass(frozen=True)
class Rules:
    """Deadlines and minimum postings.

    Attributes
    ----------
    due_working_days
        Step -> working days it may take after the previous step (after the end of the
        posting for the step following one). Defaults: home check 3, village appraisal and
        posting 3, township review 4 after the posting's 5 working days, county approval 5: 20
        working days from lead to approval (认定程序原则上在20个工作日内完成); the first measure 10 after approval; the
        risk-removal mark 5 after its posting. A step missing here has no deadline (the
        removal posting waits until the risk is gone).
    min_posting_days
        Shortest posting (公示) [working days, first and last day included] (公示5个工作日).
    holidays
        Public holidays that are not working days (``YYYY-MM-DD``).
    """

    due_working_days: Mapping[CaseStatus, int] = field(default_factory=lambda: {
        S.CHECKED: 3, S.DISMISSED: 3, S.POSTED: 3, S.TOWNSHIP_REVIEWED: 4, S.APPROVED: 5, S.ASSISTING: 10,
        S.REMOVED: 5})
    min_posting_days: int = 5
    holidays: tuple[dt.date, ...] = ()


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class Thresholds:
    """The yearly figures a province sets; None: not set, the checks that need them do not run.

    Attributes
    ----------
    income_line_yuan
        监测范围: 12-month net income per person below which a household is monitored
        [yuan/person/yr].
    out_of_pocket_yuan
        Compliant out-of-pocket costs (medical and the like) above which a department flags
        a household [yuan].
    source
        Where the figures come from (the province's notice), shown beside them.
    """

    income_line_yuan: float | None = None
    out_of_pocket_yuan: float | None = None
    source: str | None = None

    @property
    def missing(self) -> list[str]:
        """The settings still to be set, by their environment names."""
        out = []
        if self.income_line_yuan is None:
            out.append("ATLAS_MONITOR_INCOME_LINE_YUAN")
        if self.out_of_pocket_yuan is None:
            out.append("ATLAS_MONITOR_OUT_OF_POCKET_YUAN")
        return out


def working_days_after(start: dt.date, days: int, *, holidays: Sequence[dt.date] = ()) -> dt.date:
    """The date ``days`` working days after ``start`` (Monday-Friday, ``holidays`` excluded);
    a step done on that day is on time."""
    # a start on a weekend counts from the working day before it: Sunday + 1 is Monday
    return np.busday_offset(np.datetime64(start, "D"), int(days), roll="backward",
                            holidays=[np.datetime64(h, "D") for h in holidays]).astype(dt.date)


def working_days_between(start: dt.date, end: dt.date, *, holidays: Sequence[dt.date] = ()) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` <= ``start``)."""
    if end <= start:
        return 0
    return int(np.busday_count(np.datetime64(start + dt.timedelta(days=1), "D"),
                               np.datetime64(end + dt.timedelta(days=1), "D"),
                               holidays=[np.datetime64(h, "D") for h in holidays]))


def clock_start(status: CaseStatus, step_on: dt.date, posted_until: dt.date | None) -> dt.date:
    """From when the next step's deadline counts: the end of a posting, else the last step."""
    return posted_until if status in POSTINGS and posted_until is not None else step_on


def next_due(status: CaseStatus, step_on: dt.date, posted_until: dt.date | None, *,
             rules: Rules = DEFAULT_RULES) -> tuple[CaseStatus | None, dt.date | None]:
    """The main next step of a case in ``status`` and the day it is due (None: no deadline)."""
    following = [s for s in NEXT[status] if s != S.DISMISSED]
    if not following:
        return None, None
    step = following[0]
    days = rules.due_working_days.get(step)
    if days is None:
        return step, None
    return step, working_days_after(clock_start(status, step_on, posted_until), days, holidays=rules.holidays)


def check_step(code: str, status: CaseStatus, to: CaseStatus, *, on: dt.date, step_on: dt.date,
               posted_until: dt.date | None, measures: int = 0, until: dt.date | None = None,
               today: dt.date | None = None, rules: Rules = DEFAULT_RULES) -> None:
    """Refuse a step that may not be taken now, naming the case and what to do.

    Parameters
    ----------
    code
        The case (for messages).
    status, to
        Where the case is and the step asked for.
    on
        The day the step was done.
    step_on, posted_until
        The day of the case's current step and, after a posting, its last day.
    measures
        Measures recorded for the case.
    until
        For a posting step: its last day.
    today
        A step cannot be dated in the future.

    Raises
    ------
    ValidationError
        A step out of order or skipped, dated before the previous step or before a posting
        ended, a posting shorter than the minimum, assistance or removal without a measure.
    """
    if status in CLOSED:
        raise ValidationError(f"case {code} is {status.value} ({status.label}) and takes no further step")
    if status != S.LEAD and to in (S.ASSISTING, S.REMOVAL_POSTED, S.REMOVED) and measures < 1:
        raise ValidationError(f"case {code}: no assistance measure is recorded; record one first "
                              "(atlas monitor case measure CODE --kind ...) before "
                              f"{STEP_LABELS[to]}")
    if to not in NEXT[status]:
        allowed = ", ".join(f"{STEP_NAMES[s]} ({STEP_LABELS[s]})" for s in NEXT[status])
        missing = _missing_steps(status, to)
        hint = f"; first {', '.join(STEP_LABELS[s] for s in missing)}" if missing else ""
        raise ValidationError(f"case {code} is {status.value} ({status.label}): {STEP_NAMES.get(to, to.value)} "
                              f"({STEP_LABELS.get(to, to.label)}) cannot follow now; the next step is {allowed}{hint}")
    if today is not None and on > today:
        raise ValidationError(f"case {code}: the step's date {on} is in the future (today is {today})")
    start = clock_start(status, step_on, posted_until)
    if status in POSTINGS and posted_until is not None and on <= posted_until:
        raise ValidationError(f"case {code}: the posting (公示) runs until {posted_until}; "
                              f"{STEP_LABELS[to]} can be dated {posted_until + dt.timedelta(days=1)} at the earliest")
    if on < start:
        raise ValidationError(f"case {code}: {STEP_LABELS[to]} on {on} is before the previous step ({start})")
    if to in POSTINGS:
        if until is None:
            raise ValidationError(f"case {code}: a posting (公示) needs its last day (--until YYYY-MM-DD, "
                                  f"at least {rules.min_posting_days} days from {on})")
        days = working_days_between(on - dt.timedelta(days=1), until, holidays=rules.holidays)
        if days < rules.min_posting_days:
            raise ValidationError(f"case {code}: the posting from {on} to {until} lasts {days} working day(s); "
                                  f"it must last at least {rules.min_posting_days} working days (公示期), e.g. "
                                  f"--until {working_days_after(on, rules.min_posting_days - 1, holidays=rules.holidays)}")


def _missing_steps(status: CaseStatus, to: CaseStatus) -> list[CaseStatus]:
    """The steps between ``status`` and a later ``to`` on the main path (what was skipped)."""
    if status in PATH and to in PATH and PATH.index(to) > PATH.index(status) + 1:
        return list(PATH[PATH.index(status) + 1:PATH.index(to)])
    return []


def parse_risk_types(values: Iterable[str] | str | None) -> list[RiskType]:
    """Risk types from values or Chinese labels (a text may list them separated by , 、 ;).

    Raises
    ------
    ValidationError
        Naming the bad value and the accepted ones.
    """
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.replace("、", ",").replace(";", ",").replace("；", ",").split(",")]
    out = []
    for value in values:
        if str(value).strip():
            try:
                member = RiskType.parse(value)
            except ValueError as exc:
                raise ValidationError(f"risk type: {exc}") from None
            if member not in out:
                out.append(member)
    return out


def check_figures(code: str, category: MonitorCategory, *, household_status: str | None,
                  income_per_person_yuan: float | None, out_of_pocket_yuan: float | None,
                  risk_types: Sequence[RiskType], assured: Mapping[str, bool | None],
                  thresholds: Thresholds) -> list[str]:
    """Check a home check's figures against the category; return notes of what could not be
    checked (a threshold not set).

    Rules: income and costs are numbers 0 or more; a 脱贫不稳定户 is an exited (or returned)
    household, an 边缘易致贫户 one that was never registered poor; for both, when the income
    line is set, an income at or above it must come with another risk (out-of-pocket costs
    above the threshold, or a 三保障 or drinking-water guarantee not met); a 突发严重困难户
    needs a sudden cause (illness, accident, disaster) or costs above the threshold.

    Raises
    ------
    ValidationError
        Figures that contradict the category, naming the case, figure and fix.
    """
    notes: list[str] = []
    for name, value in (("income_per_person_yuan", income_per_person_yuan), ("out_of_pocket_yuan", out_of_pocket_yuan)):
        if value is not None and (not np.isfinite(value) or value < 0):
            raise ValidationError(f"case {code}: {name} {value!r} must be a number 0 or more [yuan]")
    if income_per_person_yuan is None:
        raise ValidationError(f"case {code}: the home check needs the 12-month net income per person "
                              "(--income, yuan a person a year)")
    status = str(household_status) if household_status is not None else None
    if category == MonitorCategory.UNSTABLE_EXITED and status not in (HouseholdStatus.EXITED.value,
                                                                      HouseholdStatus.RETURNED.value):
        raise ValidationError(f"case {code}: 脱贫不稳定户 applies to households that exited poverty; this household "
                              f"is {HouseholdStatus.labels().get(status, status)}: choose 边缘易致贫户 or 突发严重困难户")
    if category == MonitorCategory.MARGINAL and status not in (HouseholdStatus.NON_POOR.value,):
        raise ValidationError(f"case {code}: 边缘易致贫户 applies to households never registered poor; this household "
                              f"is {HouseholdStatus.labels().get(status, status)}: choose 脱贫不稳定户")
    line, oop_line = thresholds.income_line_yuan, thresholds.out_of_pocket_yuan
    costs_high = oop_line is not None and out_of_pocket_yuan is not None and out_of_pocket_yuan > oop_line
    unmet = [k for k, v in assured.items() if v is False]
    if category in (MonitorCategory.UNSTABLE_EXITED, MonitorCategory.MARGINAL):
        if line is None:
            notes.append("income not checked against the monitoring line: set ATLAS_MONITOR_INCOME_LINE_YUAN "
                         "(the province's 监测范围 of this year)")
        elif income_per_person_yuan >= line and not costs_high and not unmet:
            raise ValidationError(
                f"case {code}: income {income_per_person_yuan:,.0f} yuan a person is at or above the monitoring line "
                f"{line:,.0f} and no other risk is recorded (out-of-pocket costs above the threshold, a 三保障 or "
                f"drinking-water guarantee not met): this is not a {category.label}; correct the figures or "
                "dismiss the lead (atlas monitor case dismiss)")
    if category == MonitorCategory.SUDDEN_HARDSHIP:
        sudden = {RiskType.ILLNESS, RiskType.ACCIDENT, RiskType.DISASTER, RiskType.DISABILITY}
        if not (set(risk_types) & sudden) and not costs_high:
            if oop_line is None:
                notes.append("out-of-pocket costs not checked: set ATLAS_MONITOR_OUT_OF_POCKET_YUAN")
            raise ValidationError(
                f"case {code}: a 突发严重困难户 needs a sudden cause (因病, 因残, 因灾, 因意外事故) or compliant "
                "out-of-pocket costs above the threshold; give --risk or --out-of-pocket")
    return notes
