"""Seed 003's survey forms as XLSForm for ODK Collect and KoboCollect: 附件1 农户调查表
(``household``) and 附件2 村级调查表 (``village``).

One table of questions per form (:data:`HOUSEHOLD_QUESTIONS`, :data:`VILLAGE_QUESTIONS`) is
the single source for the XLSForm written here, for reading the submissions back
(:mod:`geo.inspection.answers`) and for the results computed from them. Every question of the
seed is there with its type: yes/no and 有/无 selects, integers and decimals with constraints,
select lists for the exit-standard items, free text, notes. The sampled villages and
households are preloaded (``select_one`` from the choices sheet, or ``select_one_from_file``
with a CSV for the assignment package), and the registry's facts of the chosen household or
village show as read-only notes. Names of household heads are in the preload only as the
caller passed them (masked unless the caller may see them).

Every submission carries the plan id and the form version as hidden calculated fields, so an
export from any server (ODK Central, KoboToolbox) names the plan and version it was filled
for, whatever the server adds to its columns.

Pure: frames in, a workbook out (openpyxl); no database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from geo.enums import HouseholdStatus, VillageCategory
from geo.errors import ValidationError

Form = Literal["household", "village"]
FORMS: tuple[Form, ...] = ("household", "village")
Preload = Literal["choices", "csv"]
#: The layout of the questions below; part of every form version, so a changed layout is a new version.
LAYOUT = "L1"
#: The largest photo side the phone keeps [px] (XLSForm ``max-pixels``): a 1600 px JPEG is ~0.5 MB.
MAX_PIXELS = 1600
PHOTOS = ("photo_1", "photo_2", "photo_3")
TITLES = {"household": "附件1 农户调查表", "village": "附件2 村级调查表"}
#: The preload lists (choices sheet list name = CSV file name without ``.csv`` = instance id).
VILLAGE_LIST = "villages"
HOUSEHOLD_LIST = "households"


@dataclass(frozen=True)
class Question:
    """One row of an XLSForm ``survey`` sheet.

    ``kind`` is the XLSForm type (``integer``, ``decimal``, ``text``, ``note``, ``select_one
    yes_no`` ...); ``begin_group`` / ``end_group`` rows open and close a section of the seed.
    """

    kind: str
    name: str
    label: str = ""
    relevant: str = ""
    constraint: str = ""
    constraint_message: str = ""
    required: bool = False
    hint: str = ""
    calculation: str = ""
    choice_filter: str = ""
    parameters: str = ""
    default: str = ""
    minimum: float | None = None
    maximum: float | None = None

    @property
    def list_name(self) -> str | None:
        parts = self.kind.split()
        return parts[1] if parts[0] in ("select_one", "select_multiple") and len(parts) > 1 else None

    @property
    def answered(self) -> bool:
        """A question whose answer is stored (not a group, note or calculation shown only)."""
        return self.kind not in ("begin_group", "end_group", "note")


def _n(name: str, label: str, *, low: float, high: float, unit: str, decimal: bool = False, **kw) -> Question:
    """A number with its range as constraint (and message in Chinese)."""
    return Question("decimal" if decimal else "integer", name, label, constraint=f". >= {low:g} and . <= {high:g}",
                    constraint_message=f"请填写{low:g}至{high:g}之间的数（{unit}）", minimum=low, maximum=high, **kw)


#: Closed answer lists (XLSForm ``choices``): list -> [(name, label)].
CHOICE_LISTS: dict[str, list[tuple[str, str]]] = {
    "yes_no": [("yes", "是"), ("no", "否")],
    "have_none": [("have", "有"), ("none", "无")],
    "satisfied": [("satisfied", "满意"), ("unsatisfied", "不满意")],
    "enjoy": [("enjoy", "享受"), ("not_enjoy", "不享受")],
    "hh_type": [("exited_2014_2015", "2014、2015年退出户"), ("exited", "其他年度已脱贫户（如2016年脱贫户）"),
                ("planned_exit", "今年计划脱贫户"), ("registered", "未脱贫户"), ("non_poor", "非贫困户")],
    "relocation_state": [("built_moved", "已建成并搬迁"), ("built_not_moved", "已建成未搬迁"), ("not_built", "未建成")],
    "wrong_or_returned": [("wrong_exit", "错退"), ("returned", "返贫")],
    "village_type": [("exited", "已退出贫困村"), ("planned_exit", "今年计划退出贫困村"),
                     ("not_exited", "未退出贫困村"), ("non_poor", "非贫困村")],
    "public_services": [("office", "有办公场所"), ("board", "有宣传栏"), ("clinic", "有卫生室"),
                        ("court", "有篮球场"), ("culture", "有文化室（农家书屋）"), ("stage", "有戏台")],
}

EXITED_TYPES = ("exited_2014_2015", "exited")
_POOR = "${hh_type} != 'non_poor'"
_EXITED = "${hh_type} = 'exited_2014_2015' or ${hh_type} = 'exited'"


def _yn(name: str, label: str, **kw) -> Question:
    return Question("select_one yes_no", name, label, **kw)


def _hn(name: str, label: str, **kw) -> Question:
    return Question("select_one have_none", name, label, **kw)


def _fact(name: str, list_name: str, column: str, key: str) -> Question:
    return Question("calculate", name, calculation=f"instance('{list_name}')/root/item[name=${{{key}}}]/{column}")


def _field_record(target: str) -> list[Question]:
    """Position, up to three photos, who and when: the end of both forms."""
    return [
        Question("begin_group", "record", "检查记录"),
        Question("geopoint", "location", f"{target}位置（GPS定位）", required=True,
                 hint="在现场定位；精度宜在20米以内"),
        *(Question("image", p, f"现场照片{i}" + ("" if i == 1 else "（可选）"), parameters=f"max-pixels={MAX_PIXELS}")
          for i, p in enumerate(PHOTOS, start=1)),
        Question("text", "inspector", "检查人", required=True),
        Question("date", "inspected_on", "检查日期", required=True, default="today()"),
        Question("end_group", "record"),
    ]


def _hidden(form: Form) -> list[Question]:
    """The plan and version every submission carries (filled in by :func:`build_xlsform`)."""
    return [Question("calculate", "plan_id", calculation="'{plan_id}'"),
            Question("calculate", "form_version", calculation="'{version}'"),
            Question("calculate", "form", calculation=f"'{form}'")]


#: 附件1 农户调查表, section by section as in seed 003.
HOUSEHOLD_QUESTIONS: list[Question] = [
    Question("begin_group", "basic", "一、被调查户基本情况"),
    Question(f"select_one {VILLAGE_LIST}", "village", "调查村（抽中村，按走访顺序）", required=True),
    Question(f"select_one {HOUSEHOLD_LIST}", "household", "调查户（抽中户：走访顺序、户编号、户主）", required=True,
             choice_filter="village=${village}"),
    _fact("h_head", HOUSEHOLD_LIST, "head", "household"),
    _fact("h_type", HOUSEHOLD_LIST, "hh_type_label", "household"),
    _fact("h_members", HOUSEHOLD_LIST, "members", "household"),
    _fact("h_year", HOUSEHOLD_LIST, "status_year", "household"),
    _fact("h_cadre", HOUSEHOLD_LIST, "cadre", "household"),
    _fact("h_stratum", HOUSEHOLD_LIST, "stratum", "household"),
    Question("note", "facts", "登记信息（只读）：户主 ${h_head}；农户类型 ${h_type}（${h_year}）；登记家庭人口 "
             "${h_members}人；帮扶责任人 ${h_cadre}；抽样层 ${h_stratum}"),
    Question("select_one hh_type", "hh_type", "1.2 农户类型（现场核实）", required=True),
    _n("members_actual", "1.3 家庭实际人口（共同生活人口）", low=1, high=30, unit="人", required=True),
    _n("members_hukou", "1.3 户籍人口", low=0, high=30, unit="人"),
    _n("members_card", "1.3 明白卡人口", low=0, high=30, unit="人", relevant=_POOR),
    _n("members_handbook", "1.3 扶贫手册人口", low=0, high=30, unit="人", relevant=_POOR),
    _yn("measures_match", "1.4 帮扶措施与致贫原因是否一致？", relevant=_POOR),
    Question("end_group", "basic"),

    Question("begin_group", "eight", "二、贫困户“八有一超”达标情况", relevant=_POOR),
    _yn("food", "2.1 您家是否已能做到不愁吃？", required=True),
    _yn("clothing", "2.2 您家是否已能做到不愁穿？", required=True),
    _n("income_yuan", "2.3 截至检查时家庭人均纯收入（元）", low=0, high=1_000_000, unit="元", decimal=True,
       required=True),
    _hn("dropout", "2.4 您家有无义务教育阶段因贫未读或辍学学生？", required=True),
    _n("dropout_count", "因贫未读或辍学学生人数", low=1, high=10, unit="人", relevant="${dropout} = 'have'"),
    _yn("medical_all", "2.5 您家是否全部参加城乡居民医疗保险（新农合）？", required=True),
    _n("medical_uninsured", "未参保人数", low=1, high=30, unit="人", relevant="${medical_all} = 'no'"),
    _yn("serious_illness", "是否有家庭成员患大病？"),
    _n("hospital_cost_yuan", "住院花费（元）", low=0, high=10_000_000, unit="元", decimal=True,
       relevant="${serious_illness} = 'yes'"),
    _n("reimbursed_yuan", "报销（元）", low=0, high=10_000_000, unit="元", decimal=True,
       relevant="${serious_illness} = 'yes'"),
    _n("illness_aid_yuan", "大病救助（元）", low=0, high=10_000_000, unit="元", decimal=True,
       relevant="${serious_illness} = 'yes'"),
    _hn("safe_housing", "2.6 您家有无安全住房？", required=True),
    Question("text", "housing_structure", "住房结构（砖混、砖木、土木等）"),
    _n("housing_m2_per_person", "人均住房面积（平方米）", low=0, high=500, unit="平方米", decimal=True),
    _hn("housing_cracks", "住房是否有裂缝漏雨？"),
    _yn("relocated", "是否属于易地扶贫搬迁户？"),
    Question("select_one relocation_state", "relocation_state", "搬迁情况", relevant="${relocated} = 'yes'"),
    _yn("relocation_this_year", "是否今年易地搬迁？", relevant="${relocated} = 'yes'"),
    _yn("relocation_over_25m2", "建成住房面积是否超过人均25平方米？", relevant="${relocated} = 'yes'"),
    _yn("relocation_self_funds_over_10k", "搬迁户自筹资金是否超过1万元？", relevant="${relocated} = 'yes'"),
    _yn("relocation_debt", "搬迁户是否因建房负债？", relevant="${relocated} = 'yes'"),
    _yn("road_hardened", "2.7 通村屯道路是否硬化？", required=True),
    _yn("hamlet_over_20", "该村屯是否为20户以上？"),
    _hn("power", "2.8 您家有无生活用电？", required=True),
    _hn("safe_water", "2.9 您家有无安全饮水？", required=True),
    _yn("tv", "2.10 您家是否通广播电视信号？", required=True),
    _yn("helped_after_exit", "2.11 脱贫后是否得到帮扶？（仅针对已脱贫户、退出户）", relevant=_EXITED),
    Question("end_group", "eight"),

    Question("begin_group", "contact", "三、帮扶联系"),
    _yn("cadre_assigned", "3.1 县、乡（镇）是否安排有干部联系帮扶你户？", relevant=_POOR),
    Question("text", "cadre_named", "请说出帮扶干部的姓名", relevant="${cadre_assigned} = 'yes'"),
    _n("cadre_visits", "3.2 今年以来帮扶干部上门了解情况次数", low=0, high=365, unit="次", relevant=_POOR),
    _yn("told_standard", "是否向你讲清脱贫的标准？", relevant=_POOR),
    _yn("told_policies", "3.3 帮扶干部是否向你介绍过扶贫政策（低保、雨露计划、小额扶贫信贷、产业奖补、易地扶贫搬迁、危房改造等）？",
        relevant=_POOR),
    _yn("asked_help", "3.4 你是否提出过什么事情让联系帮扶干部帮助解决？", relevant=_POOR),
    _yn("help_solved", "帮扶干部是否帮你解决？", relevant="${asked_help} = 'yes'"),
    Question("text", "help_what", "具体是哪些事", relevant="${asked_help} = 'yes'"),
    _yn("got_material", "3.5 是否得到帮扶干部或单位物资、资金帮助？", relevant=_POOR),
    Question("text", "material_what", "具体是哪些", relevant="${got_material} = 'yes'"),
    Question("select_one satisfied", "satisfied", "3.6 你对帮扶干部、帮扶工作、帮扶政策是否满意？", relevant=_POOR),
    _yn("knows_first_secretary", "3.7 是否知道贫困村都有第一书记？（此项针对贫困村）", relevant=_POOR),
    Question("text", "first_secretary_named", "第一书记的名字", relevant="${knows_first_secretary} = 'yes'"),
    _yn("village_changed", "第一书记到村后，村里基础设施建设、经济发展等是否有变化？",
        relevant="${knows_first_secretary} = 'yes'"),
    Question("text", "projects_brought", "引进了什么项目", relevant="${village_changed} = 'yes'"),
    Question("select_one satisfied", "first_secretary_satisfied", "你对第一书记是否满意？",
             relevant="${knows_first_secretary} = 'yes'"),
    _yn("recognised", "3.8 您对脱贫攻坚政策、帮扶措施及成效、脱贫退出等是否认可？", required=True),
    Question("end_group", "contact"),

    Question("begin_group", "other", "四、其他事项"),
    _yn("poor_not_listed", "4.1 据您了解，您村是否存在生活困难但没有列入贫困户的家庭？"),
    Question("text", "not_listed_heads", "如是，请列出这样家庭的户主姓名", relevant="${poor_not_listed} = 'yes'"),
    _yn("suspected_missed", "经现场核查，是否疑似漏评户？", relevant="${poor_not_listed} = 'yes'"),
    _yn("village_cadre_visited", "4.2 村委干部是否上门了解过你家的困难？"),
    Question("select_one satisfied", "committee_satisfied", "你对村委会在扶贫工作是否满意？"),
    Question("text", "opinions", "4.3 你对现在的扶贫工作还有什么意见（想法）？"),
    Question("end_group", "other"),

    Question("begin_group", "judge", "五、综合判断"),
    _yn("meets_standard", "5.1 判断已脱贫户是否达到脱贫标准？", relevant=_EXITED, required=True),
    Question("select_one wrong_or_returned", "wrong_or_returned", "若否，属于疑似错退或返贫户",
             relevant="${meets_standard} = 'no'", required=True),
    _yn("non_poor_missed", "5.2 判断非贫困户是否属于漏评？（此项针对非贫困户）", relevant="${hh_type} = 'non_poor'",
        required=True),
    Question("end_group", "judge"),
    *_field_record("农户"),
]

_NOT_NON_POOR_VILLAGE = "${v_type} != 'non_poor'"

#: 附件2 村级调查表, section by section as in seed 003.
VILLAGE_QUESTIONS: list[Question] = [
    Question("begin_group", "basic", "一、村基本情况"),
    Question(f"select_one {VILLAGE_LIST}", "village", "调查村（抽中村，按走访顺序）", required=True),
    _fact("v_category", VILLAGE_LIST, "category_label", "village"),
    _fact("v_township", VILLAGE_LIST, "township", "village"),
    _fact("v_sampled", VILLAGE_LIST, "households_sampled", "village"),
    _fact("v_population", VILLAGE_LIST, "population", "village"),
    _fact("v_poor", VILLAGE_LIST, "poor_households", "village"),
    Question("note", "facts", "登记信息（只读）：${v_township}；村类别 ${v_category}；登记人口 ${v_population}人；"
             "建档立卡贫困户 ${v_poor}户；本村抽查 ${v_sampled}户"),
    Question("select_one village_type", "v_type", "1.1 村类型（现场核实）", required=True),
    _n("population", "1.2 全村现有农业人口（人）", low=0, high=100_000, unit="人", required=True),
    _n("poor_population", "其中贫困人口（人）", low=0, high=100_000, unit="人"),
    _n("exited_population", "已经脱贫（人）", low=0, high=100_000, unit="人"),
    _n("planned_population", "今年计划脱贫（人）", low=0, high=100_000, unit="人"),
    Question("end_group", "basic"),

    Question("begin_group", "eleven", "二、贫困村“十一有一低于”达标情况", relevant=_NOT_NON_POOR_VILLAGE),
    _hn("industry", "2.1 有无特色产业？", required=True),
    Question("text", "industry_name", "特色产业名称", relevant="${industry} = 'have'"),
    _n("industry_coverage_pct", "特色产业覆盖的比例（%）", low=0, high=100, unit="%", decimal=True,
       relevant="${industry} = 'have'"),
    _n("stable_housing_pct", "2.2 行政村内有稳固住房且人均达13平方米的农户比例（%）", low=0, high=100, unit="%",
       decimal=True, required=True),
    _n("medical_pct", "2.3 全村农村居民参加医疗保险比例（%）", low=0, high=100, unit="%", decimal=True, required=True),
    _yn("medical_policy", "医疗政策是否得到落实？"),
    _n("out_of_school", "2.4 未能正常上学的义务教育阶段适龄儿童少年（人）", low=0, high=10_000, unit="人", required=True),
    Question("text", "out_of_school_reason", "未能正常上学的原因", relevant="${out_of_school} > 0"),
    _yn("dropout_poverty", "是否有因经济困难原因辍学生？"),
    _yn("education_policy", "教育扶贫政策是否得到落实？", required=True),
    _n("safe_water_pct", "2.5 全村有安全饮水农户比例（%）", low=0, high=100, unit="%", decimal=True, required=True),
    _yn("road_hardened", "2.6 行政村是否通硬化路？", required=True),
    _n("roadbed_width_m", "道路路基宽（米）", low=0, high=50, unit="米", decimal=True),
    _n("road_width_m", "路面宽（米）", low=0, high=50, unit="米", decimal=True),
    _yn("hamlet_roads", "20户以上（含）的自然村（屯）是否通砂石路以上（含）且路面宽3.5米以上（含）？", required=True),
    _n("power_pct", "2.7 行政村有电用农户比例（%）", low=0, high=100, unit="%", decimal=True, required=True),
    Question("select_multiple public_services", "public_services", "2.8 有公共服务设施（可多选）"),
    Question("text", "public_services_other", "其它公共服务设施"),
    _n("pension_pct", "城乡居民养老保险参保率（%）", low=0, high=100, unit="%", decimal=True),
    _n("pension_paid_pct", "60周岁以上（含）参保老年人享受养老保险待遇比例（%）", low=0, high=100, unit="%", decimal=True),
    _yn("dibao_all", "符合当地农村低保条件的贫困户是否全部纳入农村低保？"),
    _n("tv_pct", "2.9 行政村有电视看农户比例（%）", low=0, high=100, unit="%", decimal=True, required=True),
    _hn("collective_economy", "2.10 有无村集体经济？", required=True),
    Question("text", "collective_source", "主要来源", relevant="${collective_economy} = 'have'"),
    _yn("weak_party", "2.11 该村是否是软弱涣散村党组织？", required=True),
    _yn("weak_party_fixed", "是否已整顿到位？", relevant="${weak_party} = 'yes'"),
    _n("incidence_pct", "2.12 截至检查时贫困发生率（%）", low=0, high=100, unit="%", decimal=True, required=True),
    Question("end_group", "eleven"),

    Question("begin_group", "consolidation", "三、脱贫摘帽对象巩固提升情况", relevant=_NOT_NON_POOR_VILLAGE),
    _n("lookback_unmet", "3.1 “回头看”发现已脱贫户个别指标未达到脱贫标准户数", low=0, high=10_000, unit="户"),
    _n("lookback_fixed", "截至检查时通过“回头帮”实现达标户数", low=0, high=10_000, unit="户"),
    Question("select_one enjoy", "policies_after_exit", "3.2 贫困户脱贫后是否继续享受扶贫政策？"),
    Question("text", "policies_after_exit_detail", "若未享受，具体情况", relevant="${policies_after_exit} = 'not_enjoy'"),
    _hn("returned_poverty", "3.3 贫困户脱贫后有无返贫现象？"),
    Question("text", "returned_detail", "若有，具体情况", relevant="${returned_poverty} = 'have'"),
    Question("end_group", "consolidation"),

    Question("begin_group", "assistance", "四、精准帮扶情况", relevant=_NOT_NON_POOR_VILLAGE),
    _yn("county_leader", "贫困村是否有1名县以上领导干部联系？", required=True),
    _yn("pairing_unit", "是否有1个帮扶单位？", required=True),
    _yn("work_team", "是否有1个驻村工作队？", required=True),
    _yn("first_secretary", "是否有1名“第一书记”到岗到位？", required=True),
    _yn("rules_made", "县、乡两级是否制定相应的管理制度和考核办法？"),
    _yn("training", "是否举办相应培训？"),
    _n("trainings", "举办了几次", low=0, high=1000, unit="次", relevant="${training} = 'yes'"),
    Question("end_group", "assistance"),

    Question("begin_group", "other", "五、其他事项"),
    _hn("eligible_not_listed", "5.1 本村有无符合条件但未纳入贫困户的群众？", required=True),
    Question("text", "eligible_not_listed_detail", "若有，经核查情况", relevant="${eligible_not_listed} = 'have'"),
    Question("text", "rectification", "5.2 今年国家和自治区组织开展的脱贫攻坚专项督查发现问题的整改落实情况"),
    _yn("ledger", "是否建立问题整改台账？"),
    _yn("responsible_named", "是否落实整改责任人？"),
    _yn("measures_set", "是否对照问题制定整改措施？"),
    _yn("lessons_applied", "是否举一反三开展整改工作？"),
    _yn("info_consistent", "5.3 贫困户的实际信息数据与帮扶手册、全国扶贫开发信息系统上的信息是否一致？", required=True),
    Question("text", "info_differences", "如果不一致，主要表现在", relevant="${info_consistent} = 'no'"),
    Question("note", "files_note", "5.4 查阅建档立卡、动态调整、专项资金、小额信贷、教育、医疗、住房、培训、养老保险等档案；"
             "5.5 实地查看项目进展情况（问题请记入检查意见）"),
    Question("text", "file_review", "档案查阅和项目查看意见"),
    Question("end_group", "other"),
    *_field_record("村委会"),
]

QUESTIONS: dict[Form, list[Question]] = {"household": HOUSEHOLD_QUESTIONS, "village": VILLAGE_QUESTIONS}


def questions(form: Form) -> list[Question]:
    """The survey rows of ``form`` with the hidden plan and version fields.

    Raises
    ------
    ValidationError
        An unknown form.
    """
    if form not in QUESTIONS:
        raise ValidationError(f"unknown form {form!r}; use one of {', '.join(FORMS)}")
    return [*QUESTIONS[form], *_hidden(form)]


def answered_fields(form: Form) -> dict[str, Question]:
    """Name -> question of every stored answer of ``form`` (no groups, no notes)."""
    return {q.name: q for q in questions(form) if q.answered}


def form_id(plan_id: int, form: Form) -> str:
    """The XLSForm ``form_id`` of a plan's form: ``atlas_plan7_household``."""
    return f"atlas_plan{int(plan_id)}_{form}"


def form_version(result_hash: str) -> str:
    """The form ``version``: the layout, then the first 16 hex digits of the draw's result hash,
    so a form belongs to exactly one recorded sample."""
    return f"{LAYOUT}-{result_hash[:16]}"


# ---------------------------------------------------------------------- preload lists

VILLAGE_COLUMNS = ["name", "label", "township", "category", "category_label", "team", "visit_order",
                   "households_sampled", "population", "poor_households"]
HOUSEHOLD_COLUMNS = ["name", "label", "village", "team", "head", "hh_type_label", "status", "status_year",
                     "members", "cadre", "stratum"]


def _text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def preload_villages(villages: pd.DataFrame, registry: pd.DataFrame | None = None, *,
                     team: int | None = None) -> pd.DataFrame:
    """The ``villages`` list: one row per sampled village in visiting order.

    Parameters
    ----------
    villages
        The recorded sample's villages (``village_key``, ``village_name``, ``township_name``,
        ``category``, ``team``, ``visit_order``, ``households_sampled``, ``village_id``).
    registry
        Registry villages by ``id`` with ``population`` and ``registered_poor_households``.
    team
        Only this team's villages.
    """
    reg = registry.set_index("id") if registry is not None and len(registry) else None
    rows = []
    for v in villages.sort_values(["team", "visit_order"]).itertuples(index=False):
        if team is not None and int(v.team) != team:
            continue

        def fact(column):
            if reg is None or v.village_id is None or pd.isna(v.village_id) or int(v.village_id) not in reg.index:
                return ""
            return _text(reg.at[int(v.village_id), column]) if column in reg.columns else ""

        rows.append({"name": v.village_key, "label": f"{int(v.team)}-{int(v.visit_order):02d} {v.township_name}"
                                                     f"{v.village_name}",
                     "township": v.township_name, "category": v.category,
                     "category_label": VillageCategory(v.category).label, "team": int(v.team),
                     "visit_order": int(v.visit_order), "households_sampled": int(v.households_sampled),
                     "population": fact("population"), "poor_households": fact("registered_poor_households")})
    return pd.DataFrame(rows, columns=VILLAGE_COLUMNS)


def preload_households(households: pd.DataFrame, rows: pd.DataFrame, *, team: int | None = None) -> pd.DataFrame:
    """The ``households`` list: one row per sampled household in visiting order.

    Parameters
    ----------
    households
        The recorded sample's households (``household_code``, ``village_key``, ``team``,
        ``village_order``, ``visit_order``, ``status``, ``status_year``, ``stratum_label``).
    rows
        :func:`geo.inspection.exports.household_table` of the same households: its 户主姓名
        (already masked unless the caller may see names), 农户类型, 登记家庭人口 and 帮扶责任人.
    team
        Only this team's households.
    """
    by_code = rows.set_index("户编号") if len(rows) else None
    out = []
    for h in households.itertuples(index=False):
        if team is not None and int(h.team) != team:
            continue
        row = by_code.loc[h.household_code] if by_code is not None and h.household_code in by_code.index else {}
        head = _text(row.get("户主姓名")) if len(row) else ""
        out.append({"name": h.household_code,
                    "label": f"{int(h.village_order):02d}-{int(h.visit_order):02d} {h.household_code} {head}".strip(),
                    "village": h.village_key, "team": int(h.team), "head": head,
                    "hh_type_label": _text(row.get("农户类型")) if len(row) else "",
                    "status": HouseholdStatus(h.status).label, "status_year": _text(h.status_year),
                    "members": _text(row.get("登记家庭人口(人)")) if len(row) else "",
                    "cadre": _text(row.get("帮扶责任人(登记)")) if len(row) else "",
                    "stratum": h.stratum_label})
    return pd.DataFrame(out, columns=HOUSEHOLD_COLUMNS)


def preload_csv(frame: pd.DataFrame) -> bytes:
    """A preload list as the CSV ``select_one_from_file`` reads: UTF-8 without a byte-order
    mark (ODK Collect reads the first header literally), ``name`` and ``label`` first."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------- the workbook


@dataclass(frozen=True)
class FormMeta:
    """What a generated form is tied to."""

    plan_id: int
    plan_name: str
    result_hash: str
    form: Form
    show_names: bool = False
    team: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def form_id(self) -> str:
        return form_id(self.plan_id, self.form)

    @property
    def version(self) -> str:
        return form_version(self.result_hash)

    @property
    def title(self) -> str:
        team = f" 第{self.team}组" if self.team is not None else ""
        return f"{TITLES[self.form]} · {self.plan_name}{team}"


SURVEY_COLUMNS = ["type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message",
                  "calculation", "choice_filter", "parameters", "default", "appearance"]


def build_xlsform(meta: FormMeta, villages: pd.DataFrame, households: pd.DataFrame | None, *,
                  preload: Preload = "choices"):
    """The XLSForm of ``meta.form`` as an openpyxl workbook (sheets survey, choices, settings).

    Parameters
    ----------
    villages, households
        :func:`preload_villages` and :func:`preload_households` (households unused for the
        village form).
    preload
        ``choices``: the sampled villages and households are lists of the choices sheet (one
        self-contained file); ``csv``: ``select_one_from_file villages.csv`` /
        ``households.csv``, to be attached beside the form (the assignment package).

    Raises
    ------
    ValidationError
        No sampled village to preload.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    if villages.empty:
        raise ValidationError(f"plan {meta.plan_id} has no sampled village{' for team ' + str(meta.team) if meta.team else ''}"
                              "; nothing to put in the form")
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(SURVEY_COLUMNS)
    for q in questions(meta.form):
        kind = q.kind
        if preload == "csv" and q.list_name in (VILLAGE_LIST, HOUSEHOLD_LIST):
            kind = f"select_one_from_file {q.list_name}.csv"
        calculation = q.calculation.replace("{plan_id}", str(meta.plan_id)).replace("{version}", meta.version)
        survey.append([kind, q.name, q.label, q.hint, "yes" if q.required else "", q.relevant, q.constraint,
                       q.constraint_message, calculation, q.choice_filter, q.parameters, q.default,
                       "minimal" if q.list_name == HOUSEHOLD_LIST else ""])
    used = {q.list_name for q in questions(meta.form) if q.list_name}
    choices = book.create_sheet("choices")
    extra = [c for c in (VILLAGE_COLUMNS + HOUSEHOLD_COLUMNS) if c not in ("name", "label")]
    extra = list(dict.fromkeys(extra))
    choices.append(["list_name", "name", "label", *extra] if preload == "choices" else ["list_name", "name", "label"])
    for list_name, items in CHOICE_LISTS.items():
        if list_name in used:
            for name, label in items:
                choices.append([list_name, name, label])
    if preload == "choices":
        lists = [(VILLAGE_LIST, villages)]
        if meta.form == "household":
            lists.append((HOUSEHOLD_LIST, households))
        for list_name, frame in lists:
            for record in frame.to_dict("records"):
                choices.append([list_name, record["name"], record["label"],
                                *(_text(record.get(c)) if c in frame.columns else "" for c in extra)])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language", "instance_name"])
    settings.append([meta.title, meta.form_id, meta.version, "Chinese (zh)",
                     "concat(${household}, ' ', ${inspected_on})" if meta.form == "household"
                     else "concat(${village}, ' ', ${inspected_on})"])
    about = book.create_sheet("说明")
    for line in (f"{meta.title}", f"form_id {meta.form_id}，version {meta.version}（方案 {meta.plan_id}，抽样结果哈希 "
                 f"{meta.result_hash}）", "户主姓名已完整显示（仅限有权限人员）" if meta.show_names else "户主姓名已脱敏",
                 "演示数据（demo:synthetic / demo:approximate）为合成数据，不是实地调查结果",
                 "预置名单：" + ("本表 choices 工作表" if preload == "choices" else "随表附带的 villages.csv、households.csv"),
                 *meta.notes):
        about.append([line])
    for sheet in (survey, choices, settings):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    return book


def write_xlsform(book, path: Path) -> None:
    book.save(path)


def convert_xlsform(path: Path, *, file_type: str | None = None) -> tuple[str, list[str]]:
    """The XForm XML of an XLSForm and pyxform's warnings.

    Raises
    ------
    ValidationError
        pyxform refuses the form (its message).
    """
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    try:
        result = convert(xlsform=str(path), warnings=warnings, file_type=file_type)
    except PyXFormError as exc:
        raise ValidationError(f"{Path(path).name}: pyxform refused the form: {exc}") from None
    return result.xform, warnings
