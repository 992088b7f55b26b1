"""``atlas dossier VILLAGE -o FILE.pdf`` and ``--all``: the PDF's text read back with pdftotext."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

from geo import storage
from tests.conftest import run_cli


def pdf_text(path: Path) -> str:
    """The PDF's text with all white space removed (table cells wrap names across lines)."""
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", out)


def household_heads(engine, village_id: int) -> list[str]:
    heads = storage.read_layer(engine, "households", where={"village_id": village_id}, include_pii=True,
                               columns=["head_name"])
    return [n for n in heads["head_name"].dropna() if n]


def test_dossier_pdf_carries_the_sections_and_no_household_names(demo_url, demo_engine, tmp_path):
    out = tmp_path / "上石硼村.pdf"
    result = run_cli("dossier", "常乐镇/上石硼村", "-o", str(out), "--db", demo_url, check=True)
    assert "一村一档 常乐镇/上石硼村 written to" in result.stdout
    assert out.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts", info)  # A4
    text = pdf_text(out)
    for words in ("上石硼村一村一档", "乡镇：常乐镇", "中国电信中卫分公司", "1.5", "投入合计", "1.36",
                  "驻村工作队", "市编办", "帮扶责任人结对户数", "道路与饮水状况", "贫困村退出标准评分表",
                  "光伏扶贫项目与收益", "帮扶项目", "演示数据", "仅供演示"):
        assert words in text, words
    village_id = storage.read_layer(demo_engine, "villages", where={"name": "上石硼村"}, columns=["name"])["id"][0]
    heads = household_heads(demo_engine, int(village_id))
    assert heads and not [n for n in heads if n in text]


def test_unknown_village_exits_1_with_a_clear_message(demo_url, tmp_path):
    out = tmp_path / "x.pdf"
    result = run_cli("dossier", "不存在村", "-o", str(out), "--db", demo_url)
    assert result.returncode == 1 and not out.exists()
    assert "village '不存在村' not found; give its name, township/name, 12-digit code or id" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("dossier", "上石硼村", "-o", str(tmp_path / "x.docx"), "--db", demo_url)
    assert result.returncode == 1 and "must end in .pdf or .html" in result.stderr


def test_all_writes_one_pdf_per_village_into_a_zip(demo_url, demo_engine, tmp_path):
    villages = storage.read_layer(demo_engine, "villages", columns=["name", "township_id"])
    smallest = villages.groupby("township_name").size().idxmin()
    names = sorted(villages.loc[villages["township_name"] == smallest, "name"])
    out = tmp_path / "all.zip"
    result = run_cli("dossier", "--all", "--township", smallest, "-o", str(out), "--db", demo_url, check=True)
    assert f"{len(names)} villages written" in result.stdout
    with zipfile.ZipFile(out) as archive:
        members = sorted(archive.namelist())
        assert members == sorted(f"{smallest}_{n}_一村一档.pdf" for n in names)
        assert all(archive.read(m)[:5] == b"%PDF-" for m in members)
