"""``atlas import``, ``atlas export`` and ``atlas fields`` as real subprocesses on both backends."""

from __future__ import annotations

import csv
import json

import openpyxl

from tests.conftest import run_cli

GCJ02 = (116.41024449916938, 39.91640428150164)  # WGS 84 (116.404, 39.915), published pair


def _csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def test_import_dry_run_strict_and_json(empty_url, tmp_path):
    run_cli("db", "upgrade", "--db", empty_url, check=True)
    header = ["设施编号", "设施名称", "设施类型", "运行状态", "经度", "纬度"]
    good = _csv(tmp_path / "wells.csv", [header, ["W-1", "机井", "机井", "正常运行", *GCJ02],
                                          ["W-2", "供水点", "集中供水点", "在建", *GCJ02]])
    dry = run_cli("import", good, "--layer", "water_facilities", "--crs", "gcj02", "--dry-run", "--db", empty_url)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was written" in dry.stdout and "would be inserted 2" in dry.stdout
    assert dry.stderr == ""  # no progress bar when stderr is not a terminal
    counts = json.loads(run_cli("layers", "--json", "--db", empty_url, check=True).stdout)
    assert counts["water_facilities"] == 0

    done = run_cli("import", good, "--layer", "water_facilities", "--crs", "gcj02", "--json", "--db", empty_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["committed"] and report["inserted"] == 2 and report["crs"].startswith("GCJ-02")

    bad = _csv(tmp_path / "bad.csv", [header, ["W-3", "井", "机井", "正常运行", 105.1, 37.5],
                                       ["W-4", "井", "水塔", "正常运行", 105.2, 37.5]])
    strict = run_cli("import", bad, "--layer", "water_facilities", "--strict", "--db", empty_url)
    assert strict.returncode == 1
    assert "nothing was written" in strict.stdout and "row 3: 设施类型 '水塔' is not one of" in strict.stdout
    assert json.loads(run_cli("layers", "--json", "--db", empty_url, check=True).stdout)["water_facilities"] == 2
    partial = run_cli("import", bad, "--layer", "water_facilities", "--db", empty_url)
    assert partial.returncode == 2 and "inserted 1" in partial.stdout and "refused 1" in partial.stdout
    every = _csv(tmp_path / "every.csv", [header, ["W-5", "井", "水塔", "正常运行", 105.1, 37.5],
                                           ["W-6", "井", "机井", "正常运行", -105.2, 37.5]])
    refused = run_cli("import", every, "--layer", "water_facilities", "--db", empty_url)
    assert refused.returncode == 1, refused.stdout  # every row refused: nothing written, as with --strict
    assert "inserted 0" in refused.stdout and "refused 2" in refused.stdout


def test_import_exclusive(empty_url, tmp_path):
    from geo.db import make_engine
    from tests.geo.storage.conftest import upkeep

    run_cli("db", "upgrade", "--db", empty_url, check=True)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            before = upkeep(conn, "water_facilities")
        wells = _csv(tmp_path / "wells.csv", [["设施编号", "设施名称", "设施类型", "运行状态", "经度", "纬度"],
                                              ["W-1", "机井", "机井", "正常运行", 105.1, 37.5],
                                              ["W-2", "供水点", "集中供水点", "在建", 105.2, 37.5]])
        done = run_cli("import", wells, "--layer", "water_facilities", "--exclusive", "--json", "--db", empty_url)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["committed"] and report["inserted"] == 2 and report["exclusive"]
        again = run_cli("import", wells, "--layer", "water_facilities", "--exclusive", "--db", empty_url)
        assert again.returncode == 0 and "独占批量导入" in again.stdout and "unchanged 2" in again.stdout
        with engine.connect() as conn:
            assert upkeep(conn, "water_facilities") == before
            assert conn.exec_driver_sql("SELECT count(*) FROM water_facilities").scalar() == 2
        assert "--exclusive" in run_cli("import", "--help", check=True).stdout
    finally:
        engine.dispose()


def test_import_errors_are_one_line(empty_url, tmp_path):
    run_cli("db", "upgrade", "--db", empty_url, check=True)
    missing = run_cli("import", str(tmp_path / "nope.csv"), "--layer", "villages", "--db", empty_url)
    assert missing.returncode == 1 and missing.stderr.strip().splitlines() == ["error: nope.csv: no such file or folder"]
    wrong = run_cli("import", _csv(tmp_path / "a.csv", [["村名"], ["一村"]]), "--layer", "village", "--db", empty_url)
    assert wrong.returncode == 1 and "unknown layer 'village'" in wrong.stderr and "Traceback" not in wrong.stderr
    swapped = run_cli("import", _csv(tmp_path / "s.csv", [["设施编号", "设施类型", "运行状态", "经度", "纬度"],
                                                          ["W-1", "机井", "正常运行", 37.5, 105.2]]),
                      "--layer", "water_facilities", "--db", empty_url)
    assert swapped.returncode == 1 and len(swapped.stderr.strip().splitlines()) == 1
    assert "latitude and longitude look swapped" in swapped.stderr


def test_export_and_fields(demo_url, tmp_path):
    out = tmp_path / "兴仁镇行政村.xlsx"
    result = run_cli("export", "villages", "-o", str(out), "--township", "兴仁镇", "--db", demo_url)
    assert result.returncode == 0, result.stderr
    assert "wrote 11 row(s) of villages (行政村)" in result.stdout
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("行政区划代码", "村名", "乡镇") and len(rows) == 12
    as_json = json.loads(run_cli("export", "roads", "-o", str(tmp_path / "roads.zip"), "--json", "--db", demo_url,
                                 check=True).stdout)
    assert as_json["format"] == "shp" and as_json["field_names"]["road_class"] == "road_class"
    bad = run_cli("export", "roads", "-o", str(tmp_path / "roads.dwg"), "--db", demo_url)
    assert bad.returncode == 1 and "cannot tell the format" in bad.stderr
    fields = run_cli("fields", "villages", check=True).stdout
    assert "registered_poor_households" in fields and "reg_poor_h" in fields and "建档立卡户数" in fields


def test_a_progress_bar_on_a_terminal_only(empty_url, tmp_path):
    import os
    import pty
    import subprocess
    import sys

    from tests.conftest import ROOT

    run_cli("db", "upgrade", "--db", empty_url, check=True)
    rows = [["设施编号", "设施类型", "运行状态", "经度", "纬度"]]
    rows += [[f"W-{i}", "机井", "正常运行", 105.1 + i / 100_000, 37.5] for i in range(3000)]
    path = _csv(tmp_path / "wells.csv", rows)
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "import", path, "--layer", "water_facilities",
                                "--db", empty_url], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
                               env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
    os.close(slave)
    output = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        output += data
    assert process.wait(timeout=300) == 0
    os.close(master)
    text = output.decode("utf-8", errors="replace")
    assert "导入" in text and "rows" in text  # the bar drawn on the terminal
    assert "committed" in text and "inserted 3000" in text
