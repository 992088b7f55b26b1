"""The village dossier's data (一村一档), on both backends with the demo data."""

from __future__ import annotations

import pytest

from geo import storage
from geo.errors import NotFound, ValidationError
from geo.services.dossier import find_village, list_villages, village_dossier


def test_village_found_by_name_township_name_and_id(demo_engine):
    by_name = find_village(demo_engine, "上石硼村")
    assert by_name["township_name"] == "常乐镇"
    assert find_village(demo_engine, "常乐镇/上石硼村")["id"] == by_name["id"]
    assert find_village(demo_engine, str(by_name["id"]))["name"] == "上石硼村"


def test_unknown_or_out_of_scope_village_is_not_found(demo_engine):
    with pytest.raises(NotFound, match="village '不存在村' not found; give its name, township/name"):
        find_village(demo_engine, "不存在村")
    with pytest.raises(NotFound):
        find_village(demo_engine, "兴仁镇/上石硼村")
    other = storage.resolve_township(demo_engine, "兴仁镇")
    with pytest.raises(NotFound):
        village_dossier(demo_engine, "上石硼村", township=[other])
    with pytest.raises(ValidationError, match="village must be"):
        find_village(demo_engine, "")


def test_dossier_gathers_pairings_inputs_team_analyses_pv_and_projects(demo_engine):
    d = village_dossier(demo_engine, "常乐镇/上石硼村")
    assert d.year == 2019 and d.demo
    assert [(p["unit_name"], p["task_funds_wan_yuan"]) for p in d.pairings] == [("中国电信中卫分公司", 1.5)]
    assert {r["unit_id"] for r in d.inputs} == {p["unit_id"] for p in d.pairings}  # 附件2 of the same units
    assert d.work_team["leader_unit_name"] == "市编办"
    assert d.cadres and all(c["name"] is None for c in d.cadres)  # no names unless asked
    assert d.road["road_status"] and d.water is not None
    assert len(d.scorecard) >= 13 and d.exit_overall in ("pass", "fail", "unknown")
    assert d.pv and d.projects and len(d.layers["settlements"]) > 0
    with pytest.raises(ValidationError, match="year 2030 has no pairings or work team for 上石硼村; years with data: 2019"):
        village_dossier(demo_engine, "上石硼村", year=2030)


def test_every_village_listed(demo_engine):
    assert len(list_villages(demo_engine)) == len(storage.read_layer(demo_engine, "villages", columns=["name"]))


def test_household_heads_only_with_show_names(demo_engine):
    assert village_dossier(demo_engine, "上石硼村").households is None
    named = village_dossier(demo_engine, "上石硼村", show_names=True)
    assert named.households and all(h["head_name"] for h in named.households)
    assert all(h["status"] != "non_poor" for h in named.households)
    assert all(set(h) == {"code", "head_name", "status", "members", "settlement", "cadre"} for h in named.households)
