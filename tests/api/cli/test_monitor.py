"""``atlas monitor``: a department list with Chinese headers in, a case through its steps,
bad input as one line and exit 1 with nothing written, a report read back."""

from __future__ import annotations

import json

import openpyxl
import pytest

from geo import storage
from geo.db import make_engine
from tests.conftest import run_cli


def _free_code(url: str, status: str) -> str:
    engine = make_engine(url)
    try:
        households = storage.read_layer(engine, "households", columns=["code", "status"], with_names=False)
        taken = set(storage.monitoring.read_cases(engine)["household_id"])
    finally:
        engine.dispose()
    return households[(households["status"] == status) & ~households["id"].isin(taken)]["code"].sort_values().iloc[0]


@pytest.mark.long  # nine commands, each its own process
def test_a_department_list_goes_in_and_its_case_moves_step_by_step(databases, tmp_path):
    url = databases.demo_url()
    code = _free_code(url, "exited")
    bad = tmp_path / "医保局.csv"
    bad.write_text(f"户编号,户主姓名,预警类型,预警日期,医疗自付费用（元）\n{code},张三,因病,2026-11-02,18000\n"
                   "NO-SUCH,李四,因病,2026-11-02,9000\n", encoding="utf-8")
    refused = run_cli("monitor", "leads", "import", str(bad), "--channel", "department", "--db", url)
    assert refused.returncode == 1
    assert "row 3: 户编号 'NO-SUCH' is not in the registry" in refused.stderr and "nothing was written" in refused.stderr
    assert "Traceback" not in refused.stderr and "李四" not in refused.stderr
    good = tmp_path / "医保局11月.csv"
    good.write_text(f"户编号,户主姓名,预警类型,预警日期,医疗自付费用（元）\n{code},张三,因病,2026-11-02,18000\n",
                    encoding="utf-8")
    done = run_cli("monitor", "leads", "import", str(good), "--channel", "department", "--db", url, check=True)
    assert "1 lead(s) recorded; 1 case(s) opened" in done.stdout and "未设置" in done.stdout
    listed = run_cli("monitor", "case", "list", "--json", "--db", url, check=True).stdout
    case = next(c for c in json.loads(listed) if c["household_code"] == code)["code"]
    skipped = run_cli("monitor", "case", "approve", case, "--on", "2026-11-03", "--db", url)
    assert skipped.returncode == 1 and "first 入户核实, 村级评议公示, 乡镇审核" in skipped.stderr
    run_cli("monitor", "case", "check", case, "--category", "脱贫不稳定户", "--risk", "因病", "--income", "5200",
            "--out-of-pocket", "18000", "--on", "2026-11-04", "--by", "村监测信息员", "--db", url, check=True)
    run_cli("monitor", "case", "post", case, "--on", "2026-11-05", "--until", "2026-11-11", "--version", "2",
            "--db", url, check=True)
    early = run_cli("monitor", "case", "review", case, "--on", "2026-11-11", "--db", url)
    assert early.returncode == 1 and "can be dated 2026-11-12 at the earliest" in early.stderr
    shown = run_cli("monitor", "case", "show", case, "--db", url, check=True).stdout
    assert "by 村监测信息员" in shown and "2026-11-05 至 2026-11-11" in shown
    out = tmp_path / "公示.xlsx"
    run_cli("monitor", "report", "posting", "-o", str(out), "--db", url, check=True)
    cells = [c.value for row in openpyxl.load_workbook(out).active.iter_rows() for c in row if c.value]
    assert code in cells and "张三" not in cells
    assert run_cli("monitor", "report", "posting", "-o", str(tmp_path / "x.doc"), "--db", url).returncode == 1
