"""The 附件1 pairing-table parser: sections, merged cells and clear refusals."""

from __future__ import annotations

import csv

import pytest

from geo.enums import UnitKind, UnitLevel, VillageCategory
from geo.errors import ValidationError
from geo.registry_tables import infer_unit_kind, infer_unit_level, parse_pairing_table
from tests.conftest import ROOT

HEADER = ["帮扶单位序号", "帮扶部门（单位）", "帮扶\n任务\n（万元）", "驻村工作队\n队长单位", "帮扶村", "备注", "村序号"]


def test_merged_village_cells_belong_to_the_village_above():
    rows = [["标题"], HEADER, ["甲镇"], ["1", "A局", "1.5", "B办", "一村", "重点贫困村", "1"],
            ["2", "C行", "2", "", "", "", ""], ["乙乡"], ["3", "D局", "1", "", "二村", "贫困村", "2"]]
    table = parse_pairing_table(rows)
    assert table.townships == ["甲镇", "乙乡"]
    assert [(v.name, v.township, v.category, v.leader_unit) for v in table.villages] == [
        ("一村", "甲镇", VillageCategory.KEY_POOR, "B办"), ("二村", "乙乡", VillageCategory.POOR, None)]
    assert [(p.unit, p.village, p.task_funds_wan_yuan) for p in table.pairings] == [
        ("A局", "一村", 1.5), ("C行", "一村", 2.0), ("D局", "二村", 1.0)]


@pytest.mark.parametrize(("rows", "message"), [
    ([HEADER, ["甲镇"], ["1", "A局", "1", "", "", "", ""]], "row 3: unit A局 has no 帮扶村"),
    ([HEADER, ["1", "A局", "1", "", "一村", "贫困村", "1"]], "row 2: unit A局 comes before any township"),
    ([HEADER, ["甲镇"], ["1", "A局", "1", "", "一村", "富裕村", "1"]], "备注 '富裕村' is not a village category"),
    ([HEADER, ["甲镇"], ["1", "A局", "一万", "", "一村", "贫困村", "1"]], "帮扶任务 '一万' is not an amount"),
    ([["名称", "经度"], ["a", "1"]], "no 附件1 header"),
    ([HEADER, ["甲镇"]], "no pairing rows"),
])
def test_bad_tables_are_refused_naming_the_row(rows, message):
    with pytest.raises(ValidationError, match=message):
        parse_pairing_table(rows, source="t.xlsx")


def test_the_committed_demo_table_matches_the_seed():
    with (ROOT / "data" / "shapotou_pairings_2019.csv").open(encoding="utf-8") as handle:
        table = parse_pairing_table(csv.reader(handle))
    assert (len(table.townships), len(table.villages), len(table.pairings), len(table.units)) == (7, 45, 69, 66)


@pytest.mark.parametrize(("name", "kind", "level"), [
    ("宁夏银行中卫支行", UnitKind.FINANCIAL, UnitLevel.REGION),
    ("国网中卫供电公司", UnitKind.STATE_ENTERPRISE, UnitLevel.CENTRAL),
    ("沙坡头区审计局", UnitKind.PARTY_GOVERNMENT, UnitLevel.DISTRICT),
    ("中卫中学", UnitKind.PUBLIC_INSTITUTION, UnitLevel.CITY),
    ("自治区外事办", UnitKind.PARTY_GOVERNMENT, UnitLevel.REGION),
])
def test_unit_kind_and_level_from_the_name(name, kind, level):
    assert infer_unit_kind(name) == kind
    assert infer_unit_level(name) == level
