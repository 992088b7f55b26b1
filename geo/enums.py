"""Enumerations of the registry, each member carrying the Chinese label users read.

The value (English, lower case) is what the database and the API store; the label is what
maps, exports and forms show. ``parse`` accepts either, so imports take the Chinese labels.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabeledEnum(StrEnum):
    """A string enum whose members also carry a Chinese ``label``."""

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def parse(cls, text: object) -> Self:
        """Return the member whose value or Chinese label equals ``text`` (spaces trimmed).

        Raises
        ------
        ValueError
            Naming the bad value and every accepted value and label.
        """
        if isinstance(text, cls):
            return text
        key = str(text).strip()
        for member in cls:
            if key in (member.value, member.label) or key.lower() == member.value:
                return member
        allowed = ", ".join(f"{m.value} ({m.label})" for m in cls)
        raise ValueError(f"{key!r} is not a valid {cls.__name__}; use one of: {allowed}")

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Map each value to its Chinese label."""
        return {m.value: m.label for m in cls}


class VillageCategory(LabeledEnum):
    KEY_POOR = "key_poor", "重点贫困村"
    POOR = "poor", "贫困村"
    EXITED = "exited", "脱贫销号村"
    NON_POOR = "non_poor", "非贫困村"


#: The registered poor villages (建档立卡贫困村): 重点贫困村, 贫困村 and 脱贫销号村, which keep
#: their pairing units and work teams after exit (脱贫不脱帮扶). The one definition every map,
#: landing card and analysis counts as "poor village"; seed 000 pairs all 45 demo villages.
POOR_VILLAGE_CATEGORIES: tuple[str, ...] = (VillageCategory.KEY_POOR.value, VillageCategory.POOR.value,
                                            VillageCategory.EXITED.value)
#: How that definition reads in a legend or a table note.
POOR_VILLAGE_LABEL = "贫困村（重点贫困村、贫困村、脱贫销号村）"



class HouseholdStatus(LabeledEnum):
    REGISTERED = "registered", "建档立卡未脱贫"
    EXITED = "exited", "已脱贫"
    PLANNED_EXIT = "planned_exit", "计划脱贫"
    RETURNED = "returned", "返贫"
    NON_POOR = "non_poor", "非贫困户"


class UnitKind(LabeledEnum):
    PARTY_GOVERNMENT = "party_government", "党政机关"
    PUBLIC_INSTITUTION = "public_institution", "事业单位"
    STATE_ENTERPRISE = "state_enterprise", "国有企业"
    FINANCIAL = "financial", "金融机构"
    PRIVATE_ENTERPRISE = "private_enterprise", "民营企业"
    SOCIAL_ORGANISATION = "social_organisation", "社会组织"
    OTHER = "other", "其他"


class AreaLevel(LabeledEnum):
    """Levels above the township (GB/T 2260 six-digit codes)."""

    PROVINCE = "province", "省级"
    PREFECTURE = "prefecture", "地级"
    COUNTY = "county", "县级"


class UnitLevel(LabeledEnum):
    CENTRAL = "central", "中央驻地单位"
    REGION = "region", "自治区级"
    CITY = "city", "市级"
    DISTRICT = "district", "区县级"
    TOWNSHIP = "township", "乡镇级"
    OTHER = "other", "其他"


class CadreRank(LabeledEnum):
    DIVISION = "division", "处级"
    SECTION = "section", "科级"
    GENERAL = "general", "一般干部"


class RoadClass(LabeledEnum):
    COUNTY = "county", "县道"
    TOWNSHIP = "township", "乡道"
    VILLAGE = "village", "村道"
    TRACK = "track", "机耕道"


class RoadSurface(LabeledEnum):
    HARDENED = "hardened", "硬化路"
    GRAVEL = "gravel", "砂石路"
    EARTH = "earth", "土路"


class WaterKind(LabeledEnum):
    SUPPLY_POINT = "supply_point", "集中供水点"
    WELL = "well", "机井"
    CANAL = "canal", "水渠"
    RESERVOIR = "reservoir", "蓄水池"
    PIPELINE = "pipeline", "供水管道"


class FacilityStatus(LabeledEnum):
    WORKING = "working", "正常运行"
    DAMAGED = "damaged", "损坏待修"
    STOPPED = "stopped", "停用"
    BUILDING = "building", "在建"
    PLANNED = "planned", "规划"


class PVKind(LabeledEnum):
    HOUSEHOLD_ROOFTOP = "household_rooftop", "户用屋顶光伏"
    VILLAGE_STATION = "village_station", "村级光伏电站"
    CENTRALIZED_STATION = "centralized_station", "集中式光伏电站"
    AGRI_PV = "agri_pv", "农光互补"


class PVStatus(LabeledEnum):
    PLANNED = "planned", "规划"
    BUILDING = "building", "在建"
    GRID_CONNECTED = "grid_connected", "已并网"
    STOPPED = "stopped", "停运"


class ProjectKind(LabeledEnum):
    ROAD = "road", "道路建设"
    WELL = "well", "打机井"
    CANAL = "canal", "修水渠"
    RESERVOIR = "reservoir", "蓄水池"
    FARMLAND = "farmland", "农田建设"
    BREEDING = "breeding", "养殖"
    PLANTING = "planting", "种植"
    OTHER = "other", "其他"


class ProjectStatus(LabeledEnum):
    PLANNED = "planned", "计划"
    BUILDING = "building", "在建"
    COMPLETED = "completed", "已完成"


class ProjectStage(LabeledEnum):
    """项目库: where a project stands, from the village's proposal to the asset it leaves
    (:mod:`geo.library.pipeline` holds the order and the rules of each step)."""

    PROPOSED = "proposed", "村级申报"
    REVIEWED = "reviewed", "乡镇审核"
    APPROVED = "approved", "县级审批入库"
    IN_PROGRESS = "in_progress", "实施中"
    COMPLETED = "completed", "已竣工"
    HANDED_OVER = "handed_over", "已移交资产"


class AssetClass(LabeledEnum):
    """资产类别 of what a completed project leaves (扶贫项目资产: 经营性 / 公益性 / 到户)."""

    OPERATING = "operating", "经营性"
    PUBLIC_WELFARE = "public_welfare", "公益性"
    HOUSEHOLD = "household", "到户"


class FundingMode(LabeledEnum):
    SELF_RAISED = "self_raised", "自筹项目"
    COORDINATED = "coordinated", "协调项目"


# ---------------------------------------------------------------------- inspection (seed 003)


class VillageSelection(LabeledEnum):
    """How an inspection plan picks villages from its scope."""

    ALL = "all", "全部抽查"
    RANDOM = "random", "简单随机抽取"
    PPS = "pps", "按户数概率比例抽取"


class RouteMethod(LabeledEnum):
    """What the distances of a visiting route were measured on."""

    ROAD_NETWORK = "road_network", "沿路网"
    MIXED = "mixed", "路网与直线混合"
    STRAIGHT_LINE = "straight_line", "直线距离"


class FindingCategory(LabeledEnum):
    """督查发现问题类别 (seed 003, 表3)."""

    IDENTIFICATION = "identification", "精准识别"
    ASSISTANCE = "assistance", "精准帮扶"
    EXIT = "exit", "精准脱贫"
    OTHER = "other", "其他"


class FindingKind(LabeledEnum):
    """The rows of seed 003's 表3 under each category (see :data:`FINDING_KINDS`)."""

    MISSED = "missed", "漏评"
    WRONGLY_REGISTERED = "wrongly_registered", "错评"
    MEASURES = "measures", "措施制定"
    PROJECTS = "projects", "项目实施"
    FUNDS = "funds", "资金使用"
    POLICIES = "policies", "政策保障"
    RESIDENT_TEAM = "resident_team", "驻村帮扶"
    WRONG_EXIT = "wrong_exit", "错退"
    RETURNED = "returned", "返贫"
    RECORDS = "records", "资料档案"
    MOTIVATION = "motivation", "内生动力"
    OTHER = "other", "其他"


#: Which kinds belong to which category, in 表3's row order; the first is the default.
FINDING_KINDS: dict[FindingCategory, tuple[FindingKind, ...]] = {
    FindingCategory.IDENTIFICATION: (FindingKind.MISSED, FindingKind.WRONGLY_REGISTERED),
    FindingCategory.ASSISTANCE: (FindingKind.MEASURES, FindingKind.PROJECTS, FindingKind.FUNDS,
                                 FindingKind.POLICIES, FindingKind.RESIDENT_TEAM),
    FindingCategory.EXIT: (FindingKind.WRONG_EXIT, FindingKind.RETURNED),
    FindingCategory.OTHER: (FindingKind.RECORDS, FindingKind.MOTIVATION, FindingKind.OTHER),
}


class FindingStatus(LabeledEnum):
    """Rectification status: open -> rectifying -> closed (closing needs a note of evidence)."""

    OPEN = "open", "待整改"
    RECTIFYING = "rectifying", "整改中"
    CLOSED = "closed", "已整改销号"
class Role(LabeledEnum):
    """What an account of the atlas may do (the API's permission table maps each to rights)."""

    ADMIN = "admin", "管理员"
    PLANNER = "planner", "规划人员"
    LEADER = "leader", "领导"
    INSPECTOR = "inspector", "督查人员"
    VIEWER = "viewer", "访客"


# --------------------------------------------------------------------------------------
# 防止返贫动态监测 (since 2021): monitored households, their cases, leads and measures
# --------------------------------------------------------------------------------------


class MonitorCategory(LabeledEnum):
    UNSTABLE_EXITED = "unstable_exited", "脱贫不稳定户"
    MARGINAL = "marginal", "边缘易致贫户"
    SUDDEN_HARDSHIP = "sudden_hardship", "突发严重困难户"


class RiskType(LabeledEnum):
    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    SCHOOLING = "schooling", "因学"
    DISASTER = "disaster", "因灾"
    EMPLOYMENT = "employment", "务工就业不稳"
    BUSINESS = "business", "产业项目失败"
    ACCIDENT = "accident", "因意外事故"
    OTHER = "other", "其他"


class CaseStatus(LabeledEnum):
    LEAD = "lead", "线索待核实"
    CHECKED = "checked", "已入户核实"
    POSTED = "posted", "村级评议公示"
    TOWNSHIP_REVIEWED = "township_reviewed", "乡镇已审核"
    APPROVED = "approved", "县级已审定（纳入监测）"
    ASSISTING = "assisting", "落实帮扶"
    REMOVAL_POSTED = "removal_posted", "风险消除公示"
    REMOVED = "removed", "风险已消除"
    DISMISSED = "dismissed", "核实不纳入"


class LeadChannel(LabeledEnum):
    DEPARTMENT = "department", "部门筛查预警"
    VISIT = "visit", "干部走访排查"
    SELF_REPORT = "self_report", "农户自主申报"
    LINKED = "linked", "系统关联监测"


class MeasureKind(LabeledEnum):
    INDUSTRY = "industry", "产业帮扶"
    EMPLOYMENT = "employment", "就业帮扶"
    PUBLIC_POST = "public_post", "公益岗位"
    MINIMUM_INCOME = "minimum_income", "低保特困兜底"
    MEDICAL = "medical", "健康帮扶（医疗救助）"
    EDUCATION = "education", "教育帮扶"
    HOUSING = "housing", "住房安全保障"
    WATER = "water", "饮水安全保障"
    OTHER = "other", "其他"
