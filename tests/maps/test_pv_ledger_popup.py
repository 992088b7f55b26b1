"""The PV map's project popup shows the latest recorded ledger year, checked."""

from __future__ import annotations

import pandas as pd

from maps.base import overlays_of
from maps.pv import pv_map


def test_a_project_s_latest_ledger_year_and_its_flag_are_in_its_popup(pv_frames):
    # P1: 3 kW at 1,500 kWh/kWp is 4,500 kWh modelled; 2025 recorded 1,000 kWh (22 %): flagged
    ledger = pd.DataFrame({
        "id": [1, 2], "project_code": ["P1", "P1"], "year": [2024, 2025], "generation_kwh": [4_500.0, 1_000.0],
        "income_yuan": [2_925.0, 650.0], "households_yuan": [2_925.0, 650.0], "public_posts_yuan": [0.0, 0.0],
        "posts": [0, 1], "public_works_yuan": [0.0, 0.0], "operator_yuan": [0.0, 0.0]})
    layer = overlays_of(pv_map(**pv_frames, pv_ledger=ledger))["pv_projects"]
    first, second = (f["p"] for f in layer.features)
    assert first["ledger_year"] == "2025年" and first["ledger_generation"] == "22%"
    assert first["ledger_posts"] == "1 个" and first["ledger_flags"] == "发电量明显低于模型估算"
    assert second.get("ledger_year") is None  # P2 has no ledger: no rows in its popup
    rows = [label for label, _ in layer.popup_rows]
    assert rows[-5:] == ["台账年度", "台账发电量/模型", "台账到户(含公益岗位)/方案", "公益岗位数", "台账问题"]
    without = overlays_of(pv_map(**pv_frames))["pv_projects"]
    assert without.features[0]["p"].get("ledger_year") is None
