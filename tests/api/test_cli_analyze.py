"""``atlas analyze``: every analysis as a real subprocess over the demo, on both backends."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize("name", ["coverage", "roads", "water", "exit", "priority", "inputs"])
def test_every_analysis_prints_a_table(demo_url, name):
    result = run_cli("analyze", name, "--db", demo_url, "--township", "东园镇", check=True)
    assert "金沙村" in result.stdout
    assert "（" in result.stdout and "行）" in result.stdout  # titled tables with row counts


def test_json_and_options(demo_url):
    data = json.loads(run_cli("analyze", "roads", "--db", demo_url, "-f", "json", "--snap-tolerance-m", "25",
                              "--no-band", check=True).stdout)
    assert data["crs"] == "EPSG:32648" and len(data["tables"]["villages"]) == 45
    assert {t["name"]: t["value"] for t in data["thresholds"]}["snap_tolerance_m"] == 25
    assert "band" not in data["tables"]


def test_csv_to_stdout_and_xlsx_to_a_file(demo_url, tmp_path):
    text = run_cli("analyze", "coverage", "--db", demo_url, "-f", "csv", check=True).stdout
    frame = pd.read_csv(io.StringIO(text))
    assert len(frame) == 45 and "帮扶任务（万元）" in frame.columns
    assert frame["帮扶任务（万元）"].sum() == pytest.approx(89.0)
    target = tmp_path / "exit.xlsx"
    done = run_cli("analyze", "exit", "--db", demo_url, "-f", "xlsx", "-o", str(target), check=True)
    assert "已写入" in done.stderr
    assert "督查任务完成情况汇总表（表4）" in openpyxl.load_workbook(target).sheetnames


def test_priority_with_a_budget_as_geojson(demo_url, tmp_path):
    target = tmp_path / "links.geojson"
    run_cli("analyze", "priority", "--db", demo_url, "--kind", "road", "--budget", "300", "-f", "geojson",
            "--table", "links", "-o", str(target), check=True)
    collection = json.loads(target.read_text(encoding="utf-8"))
    assert collection["features"] and all(f["geometry"]["type"] == "LineString" for f in collection["features"])
    assert any(f["properties"]["funded"] for f in collection["features"])


@pytest.mark.parametrize(("args", "fragment"), [
    (("roads", "--township", "火星镇"), "no township '火星镇'"),
    (("roads", "-f", "pdf"), "unknown format 'pdf'"),
    (("water", "-f", "xlsx"), "give -o FILE.xlsx"),
    (("priority", "--kind", "bridge"), "--kind must be one of"),
    (("priority", "--kind", "water", "--budget", "10"), "--cost-wan-yuan-per-supply-point"),
    (("roads", "--all-season-surfaces", "hardened,tarmac"), "'tarmac' is not a valid RoadSurface"),
])
def test_bad_input_is_one_line(demo_url, args, fragment):
    result = run_cli("analyze", *args, "--db", demo_url)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
