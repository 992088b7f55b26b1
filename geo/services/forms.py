"""Seed 000's forms written from the registry (``atlas forms export``): read the layers, pick
the year, the unit and the village, lay them out with :mod:`geo.io.forms_export`, save."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from geo import storage
from geo.errors import NotFound, ValidationError
from geo.io import forms_export
from geo.services.dossier import find_village
from geo.storage import Bind

#: The forms ``atlas forms export`` writes.
FORMS = {
    "annex1": "附件1 帮扶贫困村安排表",
    "annex2": "附件2 定点帮扶投入情况统计表",
    "annex3": "附件3 投入资金情况统计表（自筹项目）",
    "annex4": "附件4 投入资金情况统计表（协调项目）",
    "annex5": "附件5 帮扶责任人联系帮扶贫困户情况统计表",
}
#: Household statuses of 建档立卡户 (every status but non_poor), counted on 附件5.
REGISTERED_POOR = ("registered", "exited", "planned_exit", "returned")
#: Said under a form whose figures come from synthetic rows.
DEMO_NOTE = "演示数据：表中数字来自合成记录（来源 demo:synthetic），不是单位填报的数字。"


@dataclass(frozen=True)
class FormExport:
    """What was written: the form, its year, how many pairing rows (附件1) or unit-village
    rows (附件2-5, sheets for 附件2), villages and how many of the rows had 附件2 figures."""

    form: str
    year: int
    pairings: int
    villages: int
    path: Path
    filled: int = 0


def export_form(bind: Bind, form: str, output: Path, *, year: int | None = None,
                township: str | int | None = None, unit: str | None = None,
                village: str | None = None) -> FormExport:
    """Write ``form`` (``annex1`` ... ``annex5``) for ``year`` (default: the latest year with
    pairings) to ``output`` (.xlsx), limited to ``township`` when given; 附件2-5 also to one
    ``unit`` (name or id) and one ``village`` (name, ``township/name``, code or id).

    Raises
    ------
    ValidationError
        An unknown form, a file that is not .xlsx, a year with no pairings (naming those
        with some), or ``unit``/``village`` for 附件1 (the district's table).
    NotFound
        An unknown township, unit or village.
    """
    if form not in FORMS:
        raise ValidationError(f"form {form!r} is not known; forms: {', '.join(FORMS)}")
    if Path(output).suffix.lower() != ".xlsx":
        raise ValidationError(f"output {str(output)!r} must end in .xlsx")
    if form == "annex1" and (unit or village):
        raise ValidationError("附件1 is the district's whole table; --unit and --village apply to annex2-annex5")
    pairings = storage.read_layer(bind, "pairings", township=township)
    inputs = storage.read_layer(bind, "unit_inputs", township=township)
    years = sorted({int(y) for y in pairings["year"].dropna()}, reverse=True)
    if form != "annex1":
        years = sorted(set(years) | {int(y) for y in inputs["year"].dropna()}, reverse=True)
    if not years:
        raise ValidationError("no pairings to export; import 附件1 first (atlas import FILE --layer pairings)")
    chosen = years[0] if year is None else int(year)
    if chosen not in years:
        raise ValidationError(f"year {chosen} has no pairings; years with pairings: {', '.join(map(str, years))}")
    pairings = pairings[pairings["year"] == chosen]
    teams = storage.read_layer(bind, "work_teams", township=township)
    teams = teams[teams["year"] == chosen]
    if form == "annex1":
        villages = storage.read_layer(bind, "villages", township=township, columns=["category"], with_names=False)
        workbook = forms_export.annex1_workbook(pairings, teams, villages, year=chosen)
        return _save(workbook, form, chosen, output, rows=len(pairings), villages=pairings["village_id"].nunique())

    inputs = inputs[inputs["year"] == chosen]
    pairs = _pairs(pairings, inputs)
    if unit is not None:
        pairs = pairs[pairs["unit_id"] == _unit_id(bind, unit)]
    if village is not None:
        pairs = pairs[pairs["village_id"] == int(find_village(bind, village, township=township)["id"])]
    if pairs.empty:
        raise NotFound(f"no unit paired with a village in {chosen}" + (f" for unit {unit!r}" if unit else "")
                       + (f" in village {village!r}" if village else "") + "; see atlas forms export annex1")
    demo = DEMO_NOTE if inputs["source"].astype(str).str.startswith("demo:").any() else None
    filled = len(pairs.merge(inputs[["unit_id", "village_id"]], on=["unit_id", "village_id"]))
    if form == "annex2":
        workbook = forms_export.annex2_workbook(pairs, inputs, year=chosen, demo_note=demo)
    elif form in ("annex3", "annex4"):
        mode = "self_raised" if form == "annex3" else "coordinated"
        projects = storage.read_layer(bind, "projects", township=township)
        projects = projects[(projects["year"] == chosen) & (projects["funding_mode"] == mode)]
        if form == "annex4":
            filled = len(pairs.merge(projects[["unit_id", "village_id"]].drop_duplicates(), on=["unit_id", "village_id"]))
        workbook = forms_export.funds_workbook(pairs, projects, inputs, mode=mode, year=chosen, demo_note=demo)
    else:
        workbook = forms_export.annex5_workbook(pairs, inputs, _households_by_pair(bind, township), year=chosen,
                                                demo_note=demo)
    return _save(workbook, form, chosen, output, rows=len(pairs), villages=pairs["village_id"].nunique(),
                 filled=filled)


def _pairs(pairings: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """The unit-village pairs of the year in 附件1's order, then pairs known only from 附件2 rows."""
    columns = ["unit_id", "unit_name", "village_id", "village_name"]
    ordered = pairings.sort_values(["seq", "id"], na_position="last")[columns]
    both = pd.concat([ordered, inputs[columns]], ignore_index=True)
    both = both.drop_duplicates(subset=["unit_id", "village_id"]).reset_index(drop=True)
    both[["unit_id", "village_id"]] = both[["unit_id", "village_id"]].astype(int)
    return both


def _unit_id(bind: Bind, unit: str) -> int:
    text = str(unit).strip()
    if not text or len(text) > 200 or not text.isprintable():
        raise ValidationError("unit must be a unit name or id (printable text)")
    where = {"id": int(text)} if text.isdigit() else {"name": text}
    rows = storage.read_layer(bind, "units", where=where, columns=["name"], with_names=False)
    if rows.empty:
        raise NotFound(f"unit {text!r} not found; give its name as on 附件1 or its id (atlas export units lists them)")
    return int(rows["id"].iloc[0])


def _households_by_pair(bind: Bind, township) -> pd.Series:
    """Registered poor households per (unit, village) whose responsible cadre belongs to the
    unit [households]; counts only, no personal field is read."""
    households = storage.read_layer(bind, "households", township=township,
                                    columns=["village_id", "cadre_id", "status"], with_names=False)
    cadres = storage.read_layer(bind, "cadres", columns=["unit_id"], with_names=False)
    chosen = households[households["status"].isin(REGISTERED_POOR) & households["cadre_id"].notna()]
    chosen = chosen.assign(unit_id=chosen["cadre_id"].map(dict(zip(cadres["id"], cadres["unit_id"]))))
    return chosen.dropna(subset=["unit_id"]).astype({"unit_id": int, "village_id": int}) \
        .groupby(["unit_id", "village_id"]).size()


def _save(workbook: Workbook, form: str, year: int, output: Path, *, rows: int, villages: int,
          filled: int = 0) -> FormExport:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(output)
    return FormExport(form=form, year=year, pairings=rows, villages=villages, path=output, filled=filled)
