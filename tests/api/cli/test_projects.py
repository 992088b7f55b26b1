"""``atlas projects ...`` and ``atlas assets ...`` end to end on a copy of the demo, both
backends: a project from proposal to asset, a skipped step refused in one line with nothing
written, and the 资产台账 XLSX written with its Chinese headers."""

from __future__ import annotations

import json

import openpyxl

from geo.library.assets import ASSET_HEADERS
from tests.conftest import run_cli


def test_a_project_from_the_villages_proposal_to_the_asset_ledger(databases, tmp_path):
    db = ("--db", databases.demo_url())
    made = json.loads(run_cli("projects", "propose", "--name", "罗泉村蓄水池", "--kind", "蓄水池", "--village",
                              "常乐镇/罗泉村", "--funds", "30", "--targets", "新建蓄水池1座", "--on", "2026-03-01",
                              "--json", *db, check=True).stdout)
    code = made["code"]
    assert code.startswith("XM2026-") and made["stage"] == "proposed"
    skipped = run_cli("projects", "start", code, *db)
    assert skipped.returncode == 1
    assert skipped.stderr.strip().count("\n") == 0 and "the next step is review" in skipped.stderr
    assert "Traceback" not in skipped.stderr
    for step in ("review", "approve", "start", "complete"):
        run_cli("projects", step, code, "--on", "2026-05-01", *db, check=True)
    stale = run_cli("projects", "handover", code, "--class", "公益性", "--owner", "罗泉村村集体", "--maintainer",
                    "罗泉村村委会", "--version", "1", *db)
    assert stale.returncode == 1 and "is at version 5, not 1" in stale.stderr
    no_owner = run_cli("projects", "handover", code, "--class", "公益性", *db)
    assert no_owner.returncode == 1 and "owner" in no_owner.stderr and "Nothing was written" in no_owner.stderr
    shown = run_cli("projects", "handover", code, "--class", "公益性", "--owner", "罗泉村村集体", "--maintainer",
                    "罗泉村村委会", "--version", "5", *db, check=True).stdout
    assert "[已移交资产]" in shown and "资产 ZC-" in shown and "公益性" in shown
    history = run_cli("projects", "show", code, *db, check=True).stdout
    assert history.count("2026-05-01") == 4 and "乡镇人民政府" in history
    listed = json.loads(run_cli("assets", "list", "--json", *db, check=True).stdout)
    assert [a["project_code"] for a in listed] == [code]
    out = tmp_path / "资产台账.xlsx"
    run_cli("assets", "export", "-o", str(out), *db, check=True)
    rows = list(openpyxl.load_workbook(out)["资产台账"].iter_rows(values_only=True))
    assert list(rows[0]) == list(ASSET_HEADERS.values())
    assert rows[1][:3] == (f"ZC-{code}", "罗泉村蓄水池", "公益性") and rows[1][10] == 30
    wrong = run_cli("assets", "export", "-o", str(tmp_path / "a.csv"), *db)
    assert wrong.returncode == 1 and "XLSX" in wrong.stderr
