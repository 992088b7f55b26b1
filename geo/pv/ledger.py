"""A PV station's yearly ledger (台账) checked against the model and the distribution plan.

Since 2021 village PV stations are assets of the village collective: each year they record
their generation, income, and how the income was distributed (to households, 公益岗位 wages
with the number of posts, public works, O&M and the grid fee). :func:`read_ledger_xlsx`
reads such a ledger from the XLSX layout below (Chinese headers, one row per project and
year) and refuses it whole when a row is wrong; :func:`check_ledger` flags the years a station
under-delivers: generation far below what its capacity yields, or less reaching households
than its distribution plan promises.

Pure functions: the registry's projects and their modelled yields come from
:mod:`geo.services.pv`, which also stores checked ledgers (``pv_ledger``) and reads them back.
:func:`with_latest_year` puts each project's latest recorded year beside the PV review.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from geo.errors import ValidationError
from geo.pv import params

#: XLSX header -> column, in the order of the layout.
LEDGER_HEADERS = {
    "项目编号": "project_code",
    "年度": "year",
    "发电量(kWh)": "generation_kwh",
    "收益(元)": "income_yuan",
    "到户(元)": "households_yuan",
    "公益岗位工资(元)": "public_posts_yuan",
    "公益岗位数": "posts",
    "公益事业(元)": "public_works_yuan",
    "运维及并网费(元)": "operator_yuan",
}
#: The parts of the income that must add up to it.
PARTS = ("households_yuan", "public_posts_yuan", "public_works_yuan", "operator_yuan")
#: A ledger's parts may miss its income by this much (rounding to the yuan) [yuan].
ADD_UP_TOLERANCE_YUAN = 1.0
#: A year is under-delivering below this share of the model or of the plan [-].
UNDER_DELIVERY_RATIO = 0.8

LEDGER_FLAGS = {
    "generation_below_model": "发电量明显低于模型估算",
    "households_below_plan": "到户收益（含公益岗位）低于分配方案",
}


def read_ledger_xlsx(path: str | Path, *, name: str | None = None) -> pd.DataFrame:
    """The ledger rows of the first sheet of an XLSX file (headers :data:`LEDGER_HEADERS`);
    messages call the file ``name`` (default its file name: an upload's is given).

    Raises
    ------
    ValidationError
        A file that is not a readable XLSX, a missing header, or rows with a value that is not
        a number 0 or more, a year that is not a whole number, a missing project code, the same
        project and year twice, or parts that do not add up to the income; the message names
        every bad row (spreadsheet row numbers) and field. Nothing is returned then.
    """
    path = Path(path)
    shown = name or str(path)
    try:
        raw = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
    except FileNotFoundError:
        raise ValidationError(f"ledger file {shown} does not exist; give an XLSX with the headers "
                              f"{', '.join(LEDGER_HEADERS)}") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise ValidationError(f"{shown} is not an XLSX workbook openpyxl reads ({type(exc).__name__}); save the "
                              "ledger as .xlsx") from None
    missing = [h for h in LEDGER_HEADERS if h not in raw.columns]
    if missing:
        raise ValidationError(f"{name or path.name}: no column {', '.join(missing)}; the ledger needs the headers "
                              f"{', '.join(LEDGER_HEADERS)}")
    frame = raw[list(LEDGER_HEADERS)].rename(columns=LEDGER_HEADERS)
    frame = frame.dropna(how="all")
    return validate_ledger(frame, name=name or path.name, first_row=2)


def validate_ledger(frame: pd.DataFrame, *, name: str = "ledger", first_row: int = 1) -> pd.DataFrame:
    """The ledger with typed columns, or an error naming every bad row (all or nothing).

    ``first_row`` is the number the first row of ``frame`` has for the user (2 in a sheet
    under its header row).
    """
    problems: list[str] = []
    out = pd.DataFrame(index=frame.index)
    out["project_code"] = frame["project_code"].map(lambda v: "" if pd.isna(v) else str(v).strip())
    rows = pd.Series(np.arange(len(frame)) + first_row, index=frame.index)
    for index in out.index[out["project_code"] == ""]:
        problems.append(f"row {rows[index]}: 项目编号 is empty")
    numbers = {column: pd.to_numeric(frame[column], errors="coerce") for column in LEDGER_HEADERS.values()
               if column != "project_code"}
    header_of = {v: k for k, v in LEDGER_HEADERS.items()}
    for column, values in numbers.items():
        bad = values.isna() | (values < 0) | ~np.isfinite(values.fillna(0))
        for index in values.index[bad]:
            problems.append(f"row {rows[index]}: {header_of[column]} {frame.at[index, column]!r} is not a number "
                            "0 or more")
        out[column] = values
    year_bad = out["year"].notna() & (out["year"] != out["year"].round())
    for index in out.index[year_bad]:
        problems.append(f"row {rows[index]}: 年度 {frame.at[index, 'year']!r} is not a year")
    parts = out[list(PARTS)].sum(axis=1)
    gap = (parts - out["income_yuan"]).abs()
    for index in out.index[gap > ADD_UP_TOLERANCE_YUAN]:
        problems.append(f"row {rows[index]}: 到户 + 公益岗位工资 + 公益事业 + 运维及并网费 = {parts[index]:,.2f} 元, "
                        f"not the 收益 of {out.at[index, 'income_yuan']:,.2f} 元")
    twice = out.duplicated(subset=["project_code", "year"], keep=False) & (out["project_code"] != "")
    for index in out.index[twice]:
        problems.append(f"row {rows[index]}: project {out.at[index, 'project_code']} has year "
                        f"{out.at[index, 'year']:g} more than once")
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise ValidationError(f"{name}: {len(problems)} problem(s), nothing was read: {shown}")
    out["year"] = out["year"].astype(int)
    out["posts"] = out["posts"].astype(int)
    out.insert(0, "row", rows.to_numpy())
    return out.reset_index(drop=True)


def check_ledger(
    ledger: pd.DataFrame,
    projects: pd.DataFrame,
    *,
    under_delivery_ratio: float = UNDER_DELIVERY_RATIO,
    distributions: dict[str, params.IncomeDistribution] | None = None,
) -> pd.DataFrame:
    """Each ledger year against its project's modelled generation and distribution plan.

    Parameters
    ----------
    ledger
        From :func:`read_ledger_xlsx` (or :func:`validate_ledger`).
    projects
        ``code, name, capacity_kw, kwh_per_kwp, distribution_category`` of the registry's
        projects (the PV review's project table gives them).
    under_delivery_ratio
        A year is flagged below this share of the model or of the plan [-].
    distributions
        Income distribution by category; default each category's.

    Returns
    -------
    pandas.DataFrame
        The ledger rows with ``name``, ``modelled_kwh`` (capacity × kWh/kWp),
        ``generation_ratio``, ``planned_households_yuan`` (income × the share reaching
        households), ``households_ratio`` (households + 公益岗位 wages over the plan),
        ``flags`` (codes of :data:`LEDGER_FLAGS`) and ``flag_labels``.

    Raises
    ------
    ValidationError
        Rows for projects the registry does not hold (all named), or a ratio out of range.
    """
    ratio = params.check_range("under-delivery ratio", under_delivery_ratio, 0.0, 1.0, unit="-")
    known = projects.set_index(projects["code"].astype(str))
    unknown = ledger[~ledger["project_code"].isin(known.index)]
    if len(unknown):
        listed = ", ".join(f"row {r} ({c})" for r, c in zip(unknown["row"], unknown["project_code"]))
        raise ValidationError(f"the ledger names project(s) the registry does not hold: {listed}; register them "
                              "or correct the 项目编号")
    shares = {name: kind.distribution for name, kind in params.CATEGORIES.items()}
    shares.update(distributions or {})
    out = ledger.copy()
    rows = known.loc[out["project_code"]]
    out["name"] = rows["name"].to_numpy()
    out["modelled_kwh"] = (rows["capacity_kw"].astype(float) * rows["kwh_per_kwp"].astype(float)).to_numpy()
    share = rows["distribution_category"].map(lambda c: shares.get(c, shares["village"]).to_households)
    out["planned_households_yuan"] = out["income_yuan"].to_numpy() * share.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["generation_ratio"] = np.where(out["modelled_kwh"] > 0, out["generation_kwh"] / out["modelled_kwh"],
                                           np.nan)
        reached = out["households_yuan"] + out["public_posts_yuan"]
        out["households_ratio"] = np.where(out["planned_households_yuan"] > 0,
                                           reached / out["planned_households_yuan"], np.nan)
    flags = []
    for generation, households in zip(out["generation_ratio"], out["households_ratio"]):
        row = []
        if np.isfinite(generation) and generation < ratio:
            row.append("generation_below_model")
        if np.isfinite(households) and households < ratio:
            row.append("households_below_plan")
        flags.append(row)
    out["flags"] = flags
    out["flag_labels"] = ["；".join(LEDGER_FLAGS[c] for c in row) for row in flags]
    return out


#: The latest ledger year's columns :func:`with_latest_year` adds to the review's projects.
LATEST_COLUMNS = {"year": "ledger_year", "generation_ratio": "ledger_generation_ratio",
                  "households_ratio": "ledger_households_ratio", "posts": "ledger_posts",
                  "flag_labels": "ledger_flag_labels"}


def with_latest_year(projects: pd.DataFrame, recorded: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """``projects`` (the PV review's, by ``code``) with their latest recorded ledger year,
    checked by :func:`check_ledger` (``options``): ``ledger_year``, ``ledger_generation_ratio``,
    ``ledger_households_ratio``, ``ledger_posts`` and ``ledger_flag_labels`` (empty when the
    year is not flagged); missing (NaN / None) for a project with no recorded year.
    ``recorded`` holds stored ledger years (``project_code``, ``year`` and the value columns);
    years of projects not in ``projects`` are left out."""
    recorded = recorded[recorded["project_code"].isin(projects["code"].dropna())]
    latest = recorded.sort_values(["project_code", "year"]).groupby("project_code").tail(1)
    checked = check_ledger(latest.assign(row=range(1, len(latest) + 1)),
                           pd.DataFrame(projects.drop(columns="geometry", errors="ignore")), **options)
    figures = checked.set_index("project_code")[list(LATEST_COLUMNS)].rename(columns=LATEST_COLUMNS)
    out = projects.copy()
    codes = out["code"].astype(object).where(out["code"].notna(), None).to_numpy()
    for column in LATEST_COLUMNS.values():
        values = figures[column].reindex(codes)
        out[column] = values.to_numpy(dtype=object if column == "ledger_flag_labels" else float)
    for column in ("ledger_year", "ledger_posts"):
        out[column] = pd.array(out[column].to_numpy(), dtype="Int64")
    return out
