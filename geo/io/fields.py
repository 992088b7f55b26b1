"""Field names as users write them: Chinese labels for every layer field, the header aliases
county files use, and the reference fields that name a row's parents.

One table serves both directions: exports write :func:`field_labels` as headers, imports
accept those labels, the English field names and the aliases below (``村名``, ``经度`` ...).
Reference fields (``township_name``, ``village_code``, ``unit_name`` ...) stand for the id
columns (``township_id`` ...), which are database-internal and never exported.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from geo.errors import ValidationError
from geo.layers import LAYERS, get_layer

#: Chinese label of each field, for every layer unless :data:`LAYER_LABELS` overrides it.
LABELS: dict[str, str] = {
    "code": "编号",
    "name": "名称",
    "source": "来源",
    "population": "人口",
    "households": "户数",
    "registered_poor_households": "建档立卡户数",
    "poor_population": "建档立卡人口",
    "category": "类别",
    "has_feature_industry": "有特色产业",
    "stable_housing_share_pct": "住房安全比例（%）",
    "medical_insurance_share_pct": "参加医保比例（%）",
    "out_of_school_children": "失学儿童数",
    "safe_water_share_pct": "安全饮水比例（%）",
    "hardened_road": "通硬化路",
    "road_surface_width_m": "通村路面宽度（米）",
    "power_share_pct": "通电比例（%）",
    "tv_share_pct": "通广播电视比例（%）",
    "has_public_services": "有综合服务设施",
    "has_collective_economy": "有集体经济",
    "collective_income_wan_yuan": "集体经济收入（万元）",
    "weak_party_organisation": "软弱涣散党组织",
    "boundary": "村界（WKT）",
    "seat": "驻地（WKT）",
    "status": "状态",
    "status_year": "脱贫（计划）年度",
    "poverty_causes": "致贫原因",
    "members": "家庭人口",
    "income_per_person_yuan": "人均纯收入（元）",
    "assured_food_clothing": "不愁吃穿",
    "assured_education": "义务教育有保障",
    "assured_medical": "基本医疗有保障",
    "assured_housing": "住房安全有保障",
    "housing_m2_per_person": "人均住房面积（平方米）",
    "has_safe_water": "安全饮水",
    "has_power": "通生活用电",
    "has_tv": "通广播电视",
    "head_name": "户主姓名",
    "id_number": "身份证号",
    "kind": "类型",
    "level": "级别",
    "rank": "职级",
    "year": "年度",
    "task_funds_wan_yuan": "帮扶任务（万元）",
    "seq": "帮扶单位序号",
    "first_secretary": "第一书记",
    "member_count": "队员人数",
    "road_class": "道路等级",
    "surface": "路面类型",
    "width_m": "路面宽度（米）",
    "is_drinking": "饮用水",
    "capacity_m3_per_day": "供水能力（立方米/日）",
    "capacity_kw": "装机容量（千瓦）",
    "grid_date": "并网日期",
    "investment_wan_yuan": "投资（万元）",
    "beneficiary_households": "受益户数",
    "annual_income_yuan": "年收益（元）",
    "funds_wan_yuan": "资金（万元）",
    "performance_targets": "绩效目标",
    "benefit_households": "联农带农户数",
    "benefit_jobs": "带动就业（人）",
    "benefit_income_yuan": "带动增收（元/年）",
    "benefit_mechanism": "联农带农机制",
    "quantity": "数量",
    "quantity_unit": "数量单位",
    "funding_mode": "资金方式",
    "cadres_division": "处级干部（人）",
    "cadres_section": "科级干部（人）",
    "cadres_general": "一般干部（人）",
    "visits_per_cadre": "人均入户次数",
    "has_plan": "有帮扶方案",
    "has_half_year_summary": "有上半年总结",
    "has_year_summary": "有全年总结",
    "team_leaders": "驻村工作队队长（名）",
    "team_members": "驻村工作队队员（名）",
    "warmth_households": "慰问贫困户（户）",
    "warmth_party_members": "慰问老党员（户）",
    "warmth_money_yuan": "慰问金（元）",
    "rice_jin": "米（斤）",
    "flour_jin": "面（斤）",
    "oil_jin": "油（斤）",
    "goods_value_yuan": "粮油折合（元）",
    "project_funds_wan_yuan": "项目帮扶资金（万元）",
    "farmland_projects": "农田建设项目（个）",
    "road_km": "道路建设（千米）",
    "wells": "打机井（眼）",
    "canal_km": "修水渠（公里）",
    "reservoirs": "蓄水池（个）",
    "breeding_parks": "养殖园区（处）",
    "breeding_households": "扶持养殖户（户）",
    "cattle": "牛（头）",
    "sheep": "羊（只）",
    "chickens": "鸡（只）",
    "crops_mu": "经济作物（亩）",
    "coordinated_projects": "协调项目（个）",
    "coordinated_funds_wan_yuan": "协调资金（万元）",
    "office_furniture_sets": "办公桌椅（套）",
    "computers": "电脑（台）",
    "printers": "打印机（台）",
    "publicity_sessions": "政策宣传（次）",
    "publicity_attendance": "参加群众（人次）",
    "labour_export_batches": "劳务输出（批）",
    "labour_export_persons": "劳务输出（人次）",
    "total_input_wan_yuan": "投入资金合计（万元）",
    "in_kind_wan_yuan": "实物折价（万元）",
    "other": "其他帮扶情况",
    # reference fields (stand for the *_id columns)
    "county_name": "区县",
    "county_code": "区县代码",
    "parent_name": "上级区划",
    "parent_code": "上级区划代码",
    "township_name": "乡镇",
    "township_code": "乡镇代码",
    "village_name": "行政村",
    "village_code": "村代码",
    "unit_name": "帮扶单位",
    "leader_unit_name": "驻村工作队队长单位",
    "settlement_name": "自然村",
    "cadre_code": "帮扶责任人编号",
    "cadre_name": "帮扶责任人",
    "cadre_unit_name": "帮扶责任人单位",
    # coordinates of tables
    "lon": "经度",
    "lat": "纬度",
    "x": "X坐标",
    "y": "Y坐标",
    "wkt": "几何（WKT）",
}

#: Labels that depend on the layer (a village's ``name`` is its 村名, a road's its 道路名称).
LAYER_LABELS: dict[str, dict[str, str]] = {
    "areas": {"code": "区划代码", "name": "区划名称", "level": "级别", "geom": "范围（WKT）"},
    "townships": {"code": "乡镇代码", "name": "乡镇名称", "geom": "乡镇范围（WKT）"},
    "villages": {"code": "行政区划代码", "name": "村名", "category": "贫困村类别"},
    "settlements": {"name": "自然村名称"},
    "households": {"code": "户编号", "status": "农户类型", "geom": "位置"},
    "units": {"name": "单位名称", "kind": "单位类型", "level": "单位级别"},
    "cadres": {"code": "责任人编号", "name": "姓名"},
    "roads": {"code": "道路编号", "name": "道路名称"},
    "water_facilities": {"code": "设施编号", "name": "设施名称", "kind": "设施类型", "status": "运行状态"},
    "pv_projects": {"code": "项目编号", "name": "项目名称", "kind": "光伏类型", "status": "建设状态"},
    "projects": {"code": "项目编号", "name": "项目名称", "kind": "项目类型", "status": "项目状态"},
}

#: Further header spellings found in county files, per field (all layers).
ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("经度", "lon", "lng", "long", "longitude", "经度坐标", "东经", "x经度"),
    "lat": ("纬度", "lat", "latitude", "纬度坐标", "北纬", "y纬度"),
    "x": ("x", "X坐标", "x坐标", "东坐标", "横坐标", "easting", "东向坐标"),
    "y": ("y", "Y坐标", "y坐标", "北坐标", "纵坐标", "northing", "北向坐标"),
    "wkt": ("wkt", "几何", "geometry", "geom", "几何wkt", "坐标串"),
    "population": ("人口", "总人口", "人口数", "户籍人口"),
    "households": ("户数", "总户数"),
    "registered_poor_households": ("建档立卡户数", "贫困户数", "建档立卡贫困户数", "贫困户"),
    "poor_population": ("建档立卡人口", "贫困人口", "建档立卡贫困人口"),
    "source": ("来源", "数据来源"),
    "year": ("年度", "年份", "年"),
    "county_name": ("区县", "区县名称", "所属区县", "县区", "县（区）", "县(区)", "县", "区县名"),
    "county_code": ("区县代码", "区县编码", "县代码", "县区代码", "区县区划代码"),
    "parent_name": ("上级区划", "上级", "所属市", "所属省", "上级名称"),
    "parent_code": ("上级区划代码", "上级代码", "上级编码"),
    "township_name": ("乡镇", "乡镇名称", "所属乡镇", "乡（镇）", "乡(镇)", "镇", "乡镇（街道）", "乡镇名"),
    "township_code": ("乡镇代码", "乡镇编码"),
    "village_name": ("行政村", "村名", "村名称", "所属村", "所在村", "帮扶村", "帮扶村名称", "联系帮扶村",
                     "村", "行政村名称"),
    "village_code": ("村代码", "村编码", "行政村代码", "行政区划代码"),
    "unit_name": ("帮扶单位", "帮扶部门（单位）", "帮扶部门", "单位", "单位名称", "帮扶单位名称"),
    "leader_unit_name": ("驻村工作队队长单位", "队长单位", "工作队队长单位"),
    "settlement_name": ("自然村", "村民小组", "组", "组别", "自然村名称", "所在组"),
    "cadre_code": ("帮扶责任人编号", "责任人编号"),
    "cadre_name": ("帮扶责任人", "责任人", "帮扶人", "帮扶干部"),
    "cadre_unit_name": ("帮扶责任人单位", "责任人单位"),
    "task_funds_wan_yuan": ("帮扶任务", "帮扶任务（万元）", "任务资金"),
    "funds_wan_yuan": ("资金", "资金（万元）", "投入资金", "项目资金"),
    "capacity_kw": ("装机容量", "装机容量（千瓦）", "装机容量（kw）", "容量（kw）"),
    "width_m": ("路面宽度", "路宽", "宽度", "路面宽度（米）", "路面宽度（m）"),
}

#: Per-layer header spellings (the same word means different fields in different layers).
LAYER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "areas": {"code": ("区划代码", "行政区划代码", "区县代码", "代码", "编码", "区划编码"),
              "name": ("区划名称", "名称", "区县", "区县名称", "行政区划名称"),
              "level": ("级别", "层级", "区划级别")},
    "townships": {"name": ("乡镇", "乡镇名称", "名称", "乡镇名"), "code": ("乡镇代码", "代码", "编码", "统计代码")},
    "villages": {"name": ("村名", "行政村", "村名称", "名称", "行政村名称", "村"),
                 "code": ("行政区划代码", "村代码", "代码", "编码", "统计代码", "村编码"),
                 "category": ("类别", "贫困村类别", "村类别", "备注", "村类型")},
    "settlements": {"name": ("自然村", "村民小组", "组名", "名称", "自然村名称", "组")},
    "households": {"code": ("户编号", "户码", "编号", "农户编号"),
                   "head_name": ("户主", "户主姓名", "姓名"),
                   "id_number": ("身份证号", "身份证号码", "证件号码", "户主身份证号"),
                   "status": ("农户类型", "状态", "户类型", "贫困户属性", "脱贫状态"),
                   "status_year": ("脱贫年度", "脱贫（计划）年度", "计划脱贫年度", "年度"),
                   "members": ("家庭人口", "人口", "人数", "家庭人数"),
                   "income_per_person_yuan": ("人均纯收入", "人均收入", "人均纯收入（元）")},
    "units": {"name": ("单位名称", "帮扶单位", "名称", "帮扶部门（单位）", "单位")},
    "cadres": {"name": ("姓名", "帮扶责任人", "责任人", "名称"),
               "code": ("责任人编号", "编号", "干部编号"), "rank": ("职级", "级别")},
    "roads": {"code": ("道路编号", "编号", "路线编号", "代码"), "name": ("道路名称", "名称", "路名", "路线名称"),
              "road_class": ("道路等级", "等级", "技术等级", "行政等级"),
              "surface": ("路面类型", "路面", "路面材料")},
    "water_facilities": {"code": ("设施编号", "编号"), "name": ("设施名称", "名称"),
                         "kind": ("设施类型", "类型"), "status": ("运行状态", "状态")},
    "pv_projects": {"code": ("项目编号", "编号"), "name": ("项目名称", "名称", "电站名称"),
                    "kind": ("光伏类型", "类型"), "status": ("建设状态", "状态")},
    "projects": {"code": ("项目编号", "编号"), "name": ("项目名称", "名称"), "kind": ("项目类型", "类型"),
                 "status": ("项目状态", "状态"), "funds_wan_yuan": ("资金", "资金（万元）", "项目资金")},
}

#: Shapefile (DBF) field names: at most 10 bytes. Fields whose names fit keep them; these
#: are shortened as listed, and imports read them back. Other columns (analysis results)
#: follow :func:`geo.io.export.dbf_field_names`.
DBF_NAMES: dict[str, str] = {
    "registered_poor_households": "reg_poor_h",
    "poor_population": "poor_pop",
    "has_feature_industry": "feat_indus",
    "stable_housing_share_pct": "house_pct",
    "medical_insurance_share_pct": "medins_pct",
    "out_of_school_children": "out_school",
    "safe_water_share_pct": "water_pct",
    "hardened_road": "hard_road",
    "road_surface_width_m": "road_wid_m",
    "power_share_pct": "power_pct",
    "tv_share_pct": "tv_pct",
    "has_public_services": "pub_serv",
    "has_collective_economy": "coll_econ",
    "collective_income_wan_yuan": "coll_wan_y",
    "weak_party_organisation": "weak_party",
    "township_name": "township",
    "township_code": "town_code",
    "village_name": "village",
    "village_code": "vill_code",
    "unit_name": "unit",
    "leader_unit_name": "lead_unit",
    "settlement_name": "settlemnt",
    "cadre_unit_name": "cadre_unit",
    "poverty_causes": "pov_causes",
    "income_per_person_yuan": "income_pp",
    "assured_food_clothing": "as_food",
    "assured_education": "as_edu",
    "assured_medical": "as_medical",
    "assured_housing": "as_housing",
    "housing_m2_per_person": "house_m2pp",
    "has_safe_water": "safe_water",
    "status_year": "status_yr",
    "task_funds_wan_yuan": "task_wan_y",
    "first_secretary": "first_sec",
    "member_count": "mem_count",
    "capacity_m3_per_day": "cap_m3_day",
    "is_drinking": "drinking",
    "capacity_kw": "cap_kw",
    "investment_wan_yuan": "invest_w_y",
    "beneficiary_households": "benef_hh",
    "annual_income_yuan": "income_y",
    "funds_wan_yuan": "funds_w_y",
    "quantity_unit": "qty_unit",
    "funding_mode": "fund_mode",
    "cadres_division": "cad_div",
    "cadres_section": "cad_sect",
    "cadres_general": "cad_gen",
    "visits_per_cadre": "visits_pc",
    "has_half_year_summary": "half_sum",
    "has_year_summary": "year_sum",
    "team_leaders": "team_lead",
    "team_members": "team_memb",
    "warmth_households": "warm_hh",
    "warmth_party_members": "warm_party",
    "warmth_money_yuan": "warm_yuan",
    "goods_value_yuan": "goods_yuan",
    "project_funds_wan_yuan": "proj_w_y",
    "farmland_projects": "farm_proj",
    "breeding_parks": "breed_park",
    "breeding_households": "breed_hh",
    "coordinated_projects": "coord_proj",
    "coordinated_funds_wan_yuan": "coord_w_y",
    "office_furniture_sets": "furniture",
    "publicity_sessions": "pub_sess",
    "publicity_attendance": "pub_attend",
    "labour_export_batches": "lab_batch",
    "labour_export_persons": "lab_person",
    "total_input_wan_yuan": "total_w_y",
    "in_kind_wan_yuan": "inkind_w_y",
}


#: Pseudo-fields of tables that carry the geometry.
COORDINATE_FIELDS = ("lon", "lat", "x", "y", "wkt")


@dataclass(frozen=True)
class Reference:
    """A parent a layer names: which id column it fills and which fields may name it."""

    column: str
    parent: str
    fields: tuple[str, ...]


#: Parents of each layer, with the reference fields that can name them.
REFERENCES: dict[str, tuple[Reference, ...]] = {
    "areas": (Reference("parent_id", "areas", ("parent_code", "parent_name")),),
    "townships": (Reference("county_id", "areas", ("county_code", "county_name")),),
    "villages": (Reference("township_id", "townships", ("township_code", "township_name", "county_code",
                                                        "county_name")),),
    "settlements": (Reference("village_id", "villages", ("village_code", "village_name", "township_name",
                                                         "township_code")),),
    "households": (
        Reference("village_id", "villages", ("village_code", "village_name", "township_name", "township_code")),
        Reference("settlement_id", "settlements", ("settlement_name",)),
        Reference("cadre_id", "cadres", ("cadre_code", "cadre_name", "cadre_unit_name")),
    ),
    "cadres": (Reference("unit_id", "units", ("unit_name",)),),
    "pairings": (
        Reference("unit_id", "units", ("unit_name",)),
        Reference("village_id", "villages", ("village_code", "village_name", "township_name", "township_code")),
    ),
    "work_teams": (
        Reference("village_id", "villages", ("village_code", "village_name", "township_name", "township_code")),
        Reference("leader_unit_id", "units", ("leader_unit_name",)),
    ),
    "water_facilities": (Reference("village_id", "villages", ("village_code", "village_name", "township_name",
                                                              "township_code")),),
    "pv_projects": (Reference("village_id", "villages", ("village_code", "village_name", "township_name",
                                                         "township_code")),),
    "projects": (
        Reference("village_id", "villages", ("village_code", "village_name", "township_name", "township_code")),
        Reference("unit_id", "units", ("unit_name",)),
    ),
    "unit_inputs": (
        Reference("unit_id", "units", ("unit_name",)),
        Reference("village_id", "villages", ("village_code", "village_name", "township_name", "township_code")),
    ),
}

#: Columns the storage layer maintains; an input column of this name is ignored.
MANAGED_FIELDS = ("id", "created_at", "updated_at", "version")


def reference_fields(layer: str) -> list[str]:
    """The reference fields a layer accepts, in export order."""
    return list(dict.fromkeys(f for ref in REFERENCES.get(layer, ()) for f in ref.fields))


def id_columns(layer: str) -> list[str]:
    """The foreign-key id columns a layer fills from references."""
    return [ref.column for ref in REFERENCES.get(layer, ())]


def layer_fields(layer: str) -> list[str]:
    """The writable fields of a layer in table order, id columns replaced by reference fields."""
    spec = get_layer(layer)
    ids = set(id_columns(layer))
    out: list[str] = []
    for column in spec.table.columns:
        if column.name in MANAGED_FIELDS:
            continue
        if column.name in ids:
            for ref in REFERENCES[layer]:
                if ref.column == column.name:
                    out.extend(f for f in ref.fields if f not in out)
            continue
        out.append(column.name)
    return out


def label(layer: str, field: str) -> str:
    """The Chinese label of ``field`` in ``layer`` (the field name itself when none is known)."""
    return LAYER_LABELS.get(layer, {}).get(field) or LABELS.get(field) or field


def field_labels(layer: str, fields: Iterable[str] | None = None) -> dict[str, str]:
    """``{field: Chinese label}`` for ``fields`` (default: every field of the layer)."""
    names = layer_fields(layer) if fields is None else list(fields)
    if layer in LAYERS:
        spec = get_layer(layer)
        if spec.geometry in names:
            names = [n for n in names if n != spec.geometry]
    return {name: label(layer, name) for name in names}


def normalise_header(text: object) -> str:
    """A header as compared: NFKC (full-width brackets become ASCII), no spaces, lower case."""
    value = unicodedata.normalize("NFKC", str(text if text is not None else ""))
    return re.sub(r"\s+", "", value).lower()


def _strip_unit(text: str) -> str:
    """``人口(人)`` -> ``人口``: a trailing bracketed unit does not change the field."""
    return re.sub(r"\([^()]*\)$", "", text)


def header_table(layer: str) -> dict[str, str]:
    """Normalised header -> field, for every spelling ``layer`` accepts.

    English field names come first, then the layer's own labels and aliases (so ``名称`` is a
    road's name, not a reference), then the shared labels and aliases.
    """
    fields = set(layer_fields(layer)) | set(COORDINATE_FIELDS)
    spec = get_layer(layer)
    if spec.geometry:
        fields.discard(spec.geometry)
    table: dict[str, str] = {}

    def add(text: str, field: str) -> None:
        key = normalise_header(text)
        table.setdefault(key, field)
        table.setdefault(_strip_unit(key), field)

    for field in sorted(fields):
        add(field, field)
    for field in sorted(fields):
        if field in DBF_NAMES:
            add(DBF_NAMES[field], field)
    for field, text in LAYER_LABELS.get(layer, {}).items():
        if field in fields:
            add(text, field)
    for field, texts in LAYER_ALIASES.get(layer, {}).items():
        for text in texts:
            add(text, field)
    for field in sorted(fields):
        add(LABELS.get(field, field), field)
    for field, texts in ALIASES.items():
        if field in fields:
            for text in texts:
                add(text, field)
    return table


def match_header(layer: str, header: object, table: Mapping[str, str] | None = None) -> str | None:
    """The field a column header names in ``layer``, or None."""
    table = table if table is not None else header_table(layer)
    key = normalise_header(header)
    return table.get(key) or table.get(_strip_unit(key))


def parse_mapping(items: Iterable[str] | Mapping[str, str] | None, layer: str) -> dict[str, str]:
    """Parse ``--map`` options (``column=field``) into ``{column: field}``.

    The field may be given by its English name or its Chinese label.

    Raises
    ------
    ValidationError
        An item without ``=`` or naming a field the layer does not have.
    """
    if not items:
        return {}
    pairs = items.items() if isinstance(items, Mapping) else (_split_mapping(i) for i in items)
    table = header_table(layer)
    allowed = set(layer_fields(layer)) | set(COORDINATE_FIELDS)
    out: dict[str, str] = {}
    for column, target in pairs:
        out[str(column)] = _field_named(target, allowed, table, f"--map {column}={target}", layer,
                                        allowed - set(id_columns(layer)))
    return out


def _field_named(name: str, allowed: set, table: dict, option: str, layer: str, shown: set) -> str:
    """The field ``name`` stands for (English name or Chinese label), or a ValidationError."""
    field = name if name in allowed else table.get(normalise_header(name))
    if field is None or field not in allowed:
        raise ValidationError(f"{option}: the {layer} layer has no field {name!r}; fields: {', '.join(sorted(shown))}")
    return field


def parse_fixed(items: Iterable[str] | Mapping[str, Any] | None, layer: str) -> dict[str, Any]:
    """Parse ``--set`` options (``field=value``) into ``{field: value}``: a value every row of
    the file gets (a KML of wells without attributes: ``--set kind=well --set status=working``).

    The field may be given by its English name or its Chinese label; the value is checked
    like the file's own cells (codes or Chinese labels of an enumeration). Geometry, ids and
    managed fields cannot be set.

    Raises
    ------
    ValidationError
        Naming the item: no ``=`` in it, or a field this layer lacks (the fields are listed).
    """
    if not items:
        return {}
    pairs = items.items() if isinstance(items, Mapping) else (_split_item(i, "--set", "field=value",
                                                                           "--set 设施类型=水井") for i in items)
    table = header_table(layer)
    allowed = (set(layer_fields(layer)) - set(id_columns(layer)) - set(MANAGED_FIELDS)
               - set(get_layer(layer).geometry_columns))
    out: dict[str, Any] = {}
    for target, value in pairs:
        out[_field_named(target, allowed, table, f"--set {target}={value}", layer, allowed)] = value
    return out


def _split_item(item: str, option: str, form: str, example: str) -> tuple[str, str]:
    if "=" not in item:
        raise ValidationError(f"{option} {item!r}: write it as {form}, e.g. {example}")
    left, right = item.split("=", 1)
    if not left.strip() or not right.strip():
        raise ValidationError(f"{option} {item!r}: write it as {form}, e.g. {example}")
    return left.strip(), right.strip()


def _split_mapping(item: str) -> tuple[str, str]:
    return _split_item(item, "--map", "column=field", "--map 村庄名称=name")
