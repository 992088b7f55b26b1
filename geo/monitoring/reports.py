"""The monitoring reports as tables, workbooks and printable pages: the month's alerts
received and processed (月度预警处置), the posting lists (公示名单) and the quarter's
risk-removal list (季度风险消除名单); the workload and overdue tables per township and cadre.

Posting lists are de-identified by default: the head's name is masked (张*, 欧阳**) and an
ID number is never a column. Pure: frames in, frames, XLSX files and HTML out (the PDF is
printed from the HTML by ``maps/chromium.py``, in the API and CLI layers).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from geo.analysis.coverage import DEFAULT_MAX_HOUSEHOLDS_PER_CADRE
from geo.enums import CaseStatus, LeadChannel, MeasureKind, MonitorCategory, RiskType
from geo.monitoring.workflow import CLOSED, MONITORED
from geo.tabular import print_a4, safe_frame, xlsx_safe_frame

SYNTHETIC_NOTE = "含演示用合成数据（demo:synthetic），非真实农户"


def mask_name(name: object) -> str:
    """A name with all but its first character masked (张三 -> 张*, 欧阳娜娜 -> 欧***)."""
    text = "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name).strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else ""


def _risks(text: object) -> str:
    labels = RiskType.labels()
    return "、".join(labels.get(v, v) for v in str(text or "").split(",") if v)


def monthly_table(leads: pd.DataFrame, cases: pd.DataFrame, *, year: int, month: int) -> pd.DataFrame:
    """月度预警处置: per channel, leads received in the month, and of their cases how many are
    still to check, checked but not yet decided, included (纳入监测), dismissed, and overdue."""
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    received = leads[(pd.to_datetime(leads["received_on"]).dt.date >= first)
                     & (pd.to_datetime(leads["received_on"]).dt.date <= last)] if len(leads) else leads
    status = cases.set_index("id")["status"] if len(cases) else pd.Series(dtype=str)
    overdue = cases.set_index("id")["overdue"] if len(cases) and "overdue" in cases else pd.Series(dtype=bool)
    rows = []
    for channel in LeadChannel:
        mine = received[received["channel"] == channel.value] if len(received) else received
        st = mine["case_id"].map(status) if len(mine) else pd.Series(dtype=str)
        included = {s.value for s in MONITORED} | {CaseStatus.REMOVED.value}
        rows.append({"预警渠道": channel.label, "接收线索": len(mine),
                     "待核实": int((st == CaseStatus.LEAD.value).sum()),
                     "核实审核中": int(st.isin([CaseStatus.CHECKED.value, CaseStatus.POSTED.value,
                                             CaseStatus.TOWNSHIP_REVIEWED.value]).sum()),
                     "纳入监测": int(st.isin(included).sum()),
                     "核实不纳入": int((st == CaseStatus.DISMISSED.value).sum()),
                     "已处置": int((st != CaseStatus.LEAD.value).sum()) if len(st) else 0,
                     "逾期": int(mine["case_id"].map(overdue).fillna(False).astype(bool).sum()) if len(mine) else 0})
    table = pd.DataFrame(rows)
    total = table.drop(columns=["预警渠道"]).sum()
    return pd.concat([table, pd.DataFrame([{"预警渠道": "合计", **total.to_dict()}])], ignore_index=True)


def posting_table(cases: pd.DataFrame, names: Mapping[int, str], *, removal: bool = False) -> pd.DataFrame:
    """公示名单 (identification, or 风险消除 with ``removal``): one row per case, the head's name
    as given in ``names`` (masked by the caller unless revealed); never an ID number."""
    frame = cases.sort_values(["township_name", "village_name", "household_code"]) if len(cases) else cases
    out = pd.DataFrame({
        "序号": range(1, len(frame) + 1),
        "乡镇": frame.get("township_name", []), "行政村": frame.get("village_name", []),
        "户编号": frame.get("household_code", []),
        "户主": [names.get(int(h), "") for h in frame.get("household_id", [])],
        "家庭人口": frame.get("members", []),
        "监测类别": frame.get("category", pd.Series(dtype=str)).map(MonitorCategory.labels()),
        "风险类型": frame.get("risk_types", pd.Series(dtype=str)).map(_risks),
        "公示开始": frame.get("step_on", []), "公示截止": frame.get("posted_until", []),
    })
    if removal:
        out.insert(7, "纳入监测日期", list(frame.get("identified_on", [])))
    return out


def removal_table(cases: pd.DataFrame, measures: pd.DataFrame, names: Mapping[int, str]) -> pd.DataFrame:
    """季度风险消除名单: cases marked 风险消除 in the period, with their measures and funds."""
    frame = cases.sort_values(["township_name", "village_name", "household_code"]) if len(cases) else cases
    kinds = MeasureKind.labels()
    by_case = {cid: grp for cid, grp in measures.groupby("case_id")} if len(measures) else {}
    return pd.DataFrame({
        "序号": range(1, len(frame) + 1),
        "乡镇": frame.get("township_name", []), "行政村": frame.get("village_name", []),
        "户编号": frame.get("household_code", []),
        "户主": [names.get(int(h), "") for h in frame.get("household_id", [])],
        "监测类别": frame.get("category", pd.Series(dtype=str)).map(MonitorCategory.labels()),
        "风险类型": frame.get("risk_types", pd.Series(dtype=str)).map(_risks),
        "纳入监测日期": frame.get("identified_on", []), "风险消除日期": frame.get("removed_on", []),
        "帮扶措施": ["、".join(dict.fromkeys(kinds.get(k, k) for k in by_case[c]["kind"])) if c in by_case else ""
                 for c in frame.get("id", [])],
        "帮扶资金（元）": [float(pd.to_numeric(by_case[c]["amount_yuan"]).fillna(0).sum()) if c in by_case else 0.0
                     for c in frame.get("id", [])],
        "帮扶责任人": frame.get("cadre_name", []), "帮扶单位": frame.get("unit_name", []),
    })


def township_table(cases: pd.DataFrame, leads: pd.DataFrame, townships: pd.DataFrame) -> pd.DataFrame:
    """Per township: leads, open cases, monitored households, overdue steps, removed."""
    rows = []
    for town in townships.sort_values("name").itertuples():
        mine = cases[cases["township_id"] == town.id] if len(cases) else cases
        rows.append({"乡镇": town.name,
                     "预警线索": int((leads["township_id"] == town.id).sum()) if len(leads) else 0,
                     "在办案件": int((~mine["status"].isin([s.value for s in CLOSED])).sum()) if len(mine) else 0,
                     "监测对象": int(mine["status"].isin([s.value for s in MONITORED]).sum()) if len(mine) else 0,
                     "逾期环节": int(mine["overdue"].astype(bool).sum()) if len(mine) else 0,
                     "风险已消除": int((mine["status"] == CaseStatus.REMOVED.value).sum()) if len(mine) else 0})
    return pd.DataFrame(rows, columns=["乡镇", "预警线索", "在办案件", "监测对象", "逾期环节", "风险已消除"])


def cadre_table(households: pd.DataFrame, cases: pd.DataFrame, cadres: pd.DataFrame, *,
                max_load: int = DEFAULT_MAX_HOUSEHOLDS_PER_CADRE) -> pd.DataFrame:
    """Per cadre with an open case or a load above ``max_load`` (seed 001: at most 5 households
    a cadre; the coverage analysis's default): households carried plus open monitoring cases,
    overdue steps, heaviest first."""
    carried = households["cadre_id"].value_counts() if len(households) else pd.Series(dtype=int)
    open_ = cases[~cases["status"].isin([s.value for s in CLOSED])] if len(cases) else cases
    case_counts = open_["cadre_id"].value_counts() if len(open_) else pd.Series(dtype=int)
    late = open_[open_["overdue"].astype(bool)]["cadre_id"].value_counts() if len(open_) else pd.Series(dtype=int)
    frame = pd.DataFrame({
        "帮扶责任人": cadres["name"], "帮扶单位": cadres.get("unit_name", pd.Series([None] * len(cadres))),
        "结对户数": cadres["id"].map(carried).fillna(0).astype(int),
        "在办监测案件": cadres["id"].map(case_counts).fillna(0).astype(int),
        "逾期环节": cadres["id"].map(late).fillna(0).astype(int)})
    frame["合计负担"] = frame["结对户数"] + frame["在办监测案件"]
    frame[f"超过{max_load}户"] = ["是" if n > max_load else "" for n in frame["合计负担"]]
    return frame[(frame["在办监测案件"] > 0) | (frame["合计负担"] > max_load)].sort_values(["合计负担", "帮扶责任人"], ascending=[False, True]) \
        .reset_index(drop=True)


def by_month(leads: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Per month (YYYY-MM): leads received, cases included (县级审定) and risks removed."""
    months: dict[str, dict[str, int]] = {}

    def bump(day, key):
        month = str(day)[:7]
        months.setdefault(month, {"预警线索": 0, "纳入监测": 0, "风险消除": 0})[key] += 1

    for day in leads.get("received_on", []):
        bump(day, "预警线索")
    for day, to in zip(events.get("done_on", []), events.get("to_status", [])):
        if to == CaseStatus.APPROVED.value:
            bump(day, "纳入监测")
        elif to == CaseStatus.REMOVED.value:
            bump(day, "风险消除")
    return pd.DataFrame([{"月份": m, **v} for m, v in sorted(months.items())],
                        columns=["月份", "预警线索", "纳入监测", "风险消除"])


def write_xlsx(path: str | Path, *, title: str, note: str, sheets: Mapping[str, pd.DataFrame]) -> None:
    """One workbook: per sheet a title row, a note row (thresholds, de-identification, synthetic
    data), then the table; printed on A4 with the header repeated."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name[:31])
        safe = xlsx_safe_frame(safe_frame(frame))
        sheet.append([title])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([note])
        sheet.append(list(map(str, safe.columns)))
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for values in safe.itertuples(index=False):
            sheet.append([None if v is None or (isinstance(v, float) and pd.isna(v))
                          else (v.isoformat() if isinstance(v, (dt.date, pd.Timestamp)) else v) for v in values])
        for column in sheet.columns:
            width = max((len(str(c.value)) for c in list(column)[2:] if c.value is not None), default=4)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width * 2, 6), 40)
        print_a4(sheet, title_rows="1:3", landscape=len(safe.columns) > 8)
    book.save(path)


def report_html(*, title: str, note: str, sheets: Mapping[str, pd.DataFrame]) -> str:
    """A printable A4 page of the tables (every value escaped)."""
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p class='note'>{html.escape(note)}</p>"]
    for name, frame in sheets.items():
        parts.append(f"<h2>{html.escape(name)}</h2><table><thead><tr>"
                     + "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns) + "</tr></thead><tbody>")
        for values in frame.itertuples(index=False):
            parts.append("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in values) + "</tr>")
        if frame.empty:
            parts.append(f"<tr><td colspan='{max(len(frame.columns), 1)}'>（无）</td></tr>")
        parts.append("</tbody></table>")
        if "月份" in frame.columns and len(frame):
            parts.append(month_chart_svg(frame))
    return ("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>" + html.escape(title)
            + "</title><style>@page{size:A4 landscape;margin:12mm}body{font-family:'WenQuanYi Micro Hei',"
              "'Noto Sans CJK SC',sans-serif;font-size:10pt}h1{font-size:15pt;text-align:center}"
              "h2{font-size:12pt}.note{color:#444}table{border-collapse:collapse;width:100%}"
              "th,td{border:1px solid #555;padding:2px 4px}th{background:#eee}</style></head><body>"
            + "".join(parts) + "</body></html>")


#: Colours of the monthly chart's series (ColorBrewer Set1).
CHART_COLORS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3")


def month_chart_svg(frame: pd.DataFrame, *, width_px: int = 900, height_px: int = 220) -> str:
    """A grouped bar chart (inline SVG) of a by-month table: one group per 月份, one bar per
    other column, with a legend; every label escaped."""
    series = [c for c in frame.columns if c != "月份"]
    values = frame[series].apply(pd.to_numeric, errors="coerce").fillna(0)
    top = max(float(values.to_numpy().max()), 1.0)
    left, bottom, plot_h = 30, 30, height_px - 60
    group_w = (width_px - left - 10) / max(len(frame), 1)
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width_px}' height='{height_px}' class='chart'>",
           f"<line x1='{left}' y1='{height_px - bottom}' x2='{width_px - 10}' y2='{height_px - bottom}' stroke='#555'/>",
           f"<text x='2' y='{height_px - bottom - plot_h + 4}' font-size='10'>{_cell(top)}</text>"]
    for i, (month, row) in enumerate(zip(frame["月份"], values.itertuples(index=False))):
        x0 = left + i * group_w + group_w * 0.1
        for j, value in enumerate(row):
            h = plot_h * float(value) / top
            out.append(f"<rect x='{x0 + j * bar_w:.1f}' y='{height_px - bottom - h:.1f}' width='{bar_w:.1f}' "
                       f"height='{h:.1f}' fill='{CHART_COLORS[j % len(CHART_COLORS)]}'><title>"
                       f"{html.escape(str(month))} {html.escape(str(series[j]))} {_cell(value)}</title></rect>")
        out.append(f"<text x='{x0:.1f}' y='{height_px - bottom + 14}' font-size='10'>{html.escape(str(month))}</text>")
    for j, name in enumerate(series):
        out.append(f"<rect x='{left + j * 110}' y='4' width='10' height='10' fill='{CHART_COLORS[j % len(CHART_COLORS)]}'/>"
                   f"<text x='{left + j * 110 + 14}' y='13' font-size='11'>{html.escape(str(name))}</text>")
    out.append("</svg>")
    return "".join(out)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return str(value)[:10]
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)
