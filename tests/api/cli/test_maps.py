"""``atlas map NAME -o FILE``: self-contained HTML and PNG via Debian's Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess

from tests.conftest import run_cli


def test_html_is_self_contained(demo_url, tmp_path):
    out = tmp_path / "pairing.html"
    result = run_cli("map", "pairing", "-o", str(out), "--db", demo_url, check=True)
    assert "帮扶结对图 (pairing) written to" in result.stdout
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<(?:script|link)\b[^>]*(?:src|href)=", page)
    assert "Leaflet 1.9.3" in page and "atlas.Overlay = L.FeatureGroup.extend" in page  # inlined
    assert 0.3e6 < out.stat().st_size < 5e6


def test_png_is_rendered_by_chromium(demo_url, tmp_path):
    out = tmp_path / "maps" / "overview.png"
    run_cli("map", "overview", "-o", str(out), "--db", demo_url, "--township", "兴仁镇", "--offline",
            "--width", "1200", "--height", "800", check=True)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 800)
    assert len(data) > 30_000  # a drawn map, not an empty page


def test_bad_output_and_unknown_map(demo_url, tmp_path):
    result = run_cli("map", "pairing", "-o", str(tmp_path / "x.docx"), "--db", demo_url)
    assert result.returncode == 1 and "must end in .html, .pdf or .png" in result.stderr
    result = run_cli("map", "pairing", "-o", str(tmp_path / "x.pdf"), "--paper", "B5", "--db", demo_url)
    assert result.returncode == 1 and "paper 'B5' is not known; use one of: A4, A3" in result.stderr
    result = run_cli("map", "pairing", "-o", str(tmp_path / "x.pdf"), "--year", "2020", "--db", demo_url)
    assert result.returncode == 1 and "year 2020 has no pairings" in result.stderr
    result = run_cli("map", "nowhere", "-o", str(tmp_path / "x.html"), "--db", demo_url)
    assert result.returncode == 1 and "maps are: pairing, overview" in result.stderr


def test_maps_lists_titles():
    result = run_cli("maps", check=True)
    assert "pairing    帮扶结对图" in result.stdout


def test_inspection_map_of_a_plan_with_and_without_names(databases, tmp_path):
    from geo.db import make_engine
    from geo.inspection.plans import preset_plan
    from geo.services import inspections as service
    from geo.services import personal

    url = databases.demo_url()
    engine = make_engine(url)
    report = service.draw_plan(engine, preset_plan("seed003", year=2019, name="命令行方案"), seed="cli",
                               teams=2, use_roads=False)
    households = service.load_record(engine, report.plan_id).households
    name = str(personal.household_pii(engine, households["household_id"].dropna().astype(int).tolist())
               ["head_name"].dropna().iloc[0])
    engine.dispose()
    plain, named = tmp_path / "plain.html", tmp_path / "named.html"
    run_cli("map", "inspection", "--plan", "命令行方案", "-o", str(plain), "--db", url, check=True)
    run_cli("map", "inspection", "--plan", str(report.plan_id), "--show-names", "-o", str(named), "--db", url,
            check=True)
    assert name not in plain.read_text(encoding="utf-8")
    assert name in named.read_text(encoding="utf-8")


def pdf_text(path) -> str:
    assert shutil.which("pdftotext"), "pdftotext is missing: apt-get install -y poppler-utils"
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_info(path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def page_mm(info: dict[str, str]) -> tuple[int, int]:
    w, _, h = info["Page size"].split()[:3]
    return round(float(w) * 25.4 / 72), round(float(h) * 25.4 / 72)


def test_pairing_pdf_on_a3_landscape_carries_names_legend_and_table(demo_url, demo_engine, tmp_path):
    from geo import storage

    out = tmp_path / "pairing.pdf"
    run_cli("map", "pairing", "-o", str(out), "--paper", "A3", "--landscape", "--offline", "--db", demo_url,
            check=True)
    info = pdf_info(out)
    assert page_mm(info) == (420, 297) and info["Page size"].endswith("(A3)") and int(info["Pages"]) >= 2
    text = pdf_text(out)
    for words in ("帮扶结对图", "年度：2019年（结对数据最近年度）", "制图日期", "纸张：A3 横向", "图例",
                  "重点贫困村", "乡镇界", "数据来源", "演示数据", "北", "km",
                  # the pairing table after the map
                  "帮扶结对一览（2019年）", "帮扶单位（任务资金）", "驻村工作队队长单位"):
        assert words in text, words
    # Names on the map and in the table: every township, every village, every pairing unit.
    for layer in ("townships", "villages"):
        for name in storage.read_layer(demo_engine, layer)["name"]:
            assert name in text, name
    units = storage.read_layer(demo_engine, "units")
    paired = set(storage.read_layer(demo_engine, "pairings")["unit_id"])
    missing = [n for i, n in zip(units["id"], units["name"]) if i in paired and n not in text.replace(" ", "")]
    assert missing == []


def test_a4_portrait_pdf_of_a_township(demo_url, tmp_path):
    out = tmp_path / "overview.pdf"
    run_cli("map", "overview", "-o", str(out), "--township", "兴仁镇", "--offline", "--db", demo_url, check=True)
    info = pdf_info(out)
    assert page_mm(info) == (210, 297) and info["Pages"] == "1"
    text = pdf_text(out)
    assert "村级帮扶总览图" in text and "乡镇：兴仁镇" in text and "纸张：A4 纵向" in text
    assert "兴仁镇" in text.split("图例")[1]  # the township's name drawn on the map, not only in the title


def test_pdf_of_one_unit_names_it_and_its_township(demo_url, demo_engine, tmp_path):
    from geo import storage

    town = storage.read_layer(demo_engine, "townships").iloc[0]
    pairings = storage.read_layer(demo_engine, "pairings")
    unit = pairings.loc[pairings["township_name"] == town["name"], "unit_name"].iloc[0]
    out = tmp_path / "unit.pdf"
    run_cli("map", "pairing", "-o", str(out), "--township", str(town["id"]), "--unit", unit, "--year", "2019",
            "--offline", "--db", demo_url, check=True)
    text = pdf_text(out)
    assert f"乡镇：{town['name']}" in text and f"帮扶单位：{unit}" in text and "年度：2019年" in text
