"""表4 rows and finding proposals from answers, on hand-made answers (no database)."""

from __future__ import annotations

import pandas as pd

from geo.enums import FindingCategory, FindingKind
from geo.inspection import results


def test_household_rows_count_poor_households_and_people_as_the_seed_asks():
    answers = [
        {"household": "A", "hh_type": "planned_exit", "food": "no", "dropout": "have", "dropout_count": 3,
         "medical_all": "no", "recognised": "no", "members_actual": 4},
        {"household": "B", "hh_type": "registered", "dropout": "have", "medical_all": "no", "medical_uninsured": 2,
         "members_actual": 5},
        {"household": "C", "hh_type": "non_poor", "food": "no", "recognised": "no", "non_poor_missed": "yes"},
    ]
    rows = results.household_rows(answers, {"A": 4, "B": 6, "C": 2})
    assert (rows["1.未实现两不愁户数"].value, rows["1.未实现两不愁户数"].sub) == (1, 1)  # C is not poor
    assert (rows["2.因贫未读或辍学适龄学生人数"].value, rows["2.因贫未读或辍学适龄学生人数"].sub) == (4, 3)  # B without a number: 1
    assert rows["3.未参加城乡医保（新农合）人数"].value == 3  # A: 1, B: 2
    assert rows["贫困户信息比对核查不一致户数"].value == 1  # B: 5 against 6
    assert rows["漏评情况：疑似漏评户数"].value == 1
    recognised = rows["帮扶认可情况：对脱贫攻坚政策、帮扶措施及成效、脱贫退出等不认可户数"]
    assert (recognised.value, recognised.sub) == (2, 1)


def test_village_rows_count_only_exited_and_planned_villages():
    answers = [{"v_type": "exited", "incidence_pct": 3.5, "public_services": ["office", "clinic", "culture"],
                "safe_water_pct": 89.9},
               {"v_type": "not_exited", "incidence_pct": 20, "industry": "none"}]
    rows = results.village_rows(answers)
    assert rows["12.贫困发生率高于3%的村数"].value == 1 and rows["5.安全饮水达不到标准的村数"].value == 1
    assert rows["1.无特色产业村数"].value == 0 and rows["8.公共服务设施达不到标准的村数"].value == 0
    assert "另1个村不在填报范围" in rows["1.无特色产业村数"].note


def test_fill_table4_replaces_the_rows_and_their_sub_rows_only():
    table = pd.DataFrame({"类别": ["x"] * 4, "项目": ["7.无安全饮水户数", "  其中：今年计划脱贫户", "8.无广播电视信号户数",
                                                 "  其中：今年计划脱贫户"],
                          "单位": ["户"] * 4, "数量": [5, 2, None, None], "备注": ["登记"] * 4})
    filled = results.fill_table4(table, {"7.无安全饮水户数": results.Row(1, 0, "答卷")})
    assert list(filled["数量"][:2]) == [1, 0] and filled["数量"][2:].isna().all() and filled["备注"].iloc[0] == "答卷"
    assert list(table["数量"][:2]) == [5, 2] and table["备注"].iloc[0] == "登记"  # the input is not changed


def test_proposals_take_the_category_of_the_household_type():
    exited = {"household": "H1", "hh_type": "exited", "income_yuan": 3999, "safe_water": "none"}
    planned = {"household": "H2", "hh_type": "planned_exit", "income_yuan": 1000, "safe_water": "none",
               "safe_housing": "none", "measures_match": "no"}
    by_rule = {p.rule: p for p in results.household_proposals("uuid:1", exited, village_name="甲镇/乙村")}
    assert by_rule["income_below_line"].kind == FindingKind.WRONG_EXIT
    assert by_rule["no_safe_water"].category == FindingCategory.EXIT
    by_rule = {p.rule: p for p in results.household_proposals("uuid:2", planned, village_name="甲镇/乙村")}
    assert "income_below_line" not in by_rule  # not exited: under the line is why it is poor
    assert by_rule["no_safe_water"].kind == FindingKind.PROJECTS
    assert by_rule["no_safe_housing"].kind == FindingKind.POLICIES
    assert by_rule["measures_mismatch"].kind == FindingKind.MEASURES
    assert by_rule["no_safe_water"].key == "uuid:2#no_safe_water"
    village = results.village_proposals("uuid:3", {"v_type": "exited", "incidence_pct": 5, "first_secretary": "no"},
                                        village_name="甲镇/乙村")
    assert {p.rule for p in village} == {"incidence_above_line", "resident_team"}
