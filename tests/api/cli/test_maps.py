"""``atlas map NAME -o FILE``: self-contained HTML and PNG via Debian's Chromium."""

from __future__ import annotations

import re
import struct

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
    result = run_cli("map", "pairing", "-o", str(tmp_path / "x.pdf"), "--db", demo_url)
    assert result.returncode == 1 and "must end in .html or .png" in result.stderr
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
