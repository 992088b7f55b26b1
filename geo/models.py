"""The registry's data model: SQLAlchemy 2.0 ORM classes with GeoAlchemy2 geometry columns.

This module is the single source of schema metadata; only Alembic migrations
(``geo/migrations``) create or change tables. Every spatial column is SRID 4326 with a
spatial index. Columns holding personal data are marked ``info={"pii": True}``; the storage
layer drops them unless a caller explicitly asks for them.

Natural keys (``__natural_keys__``) are what imports upsert on: statistical codes where the
source gives them, otherwise a name within its parent.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    JSON,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo import enums

SRID = 4326

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def geometry(geometry_type: str) -> Geometry:
    """A 2D geometry column in EPSG:4326 with a spatial index."""
    return Geometry(geometry_type=geometry_type, srid=SRID, spatial_index=True)


def enum_column(enum_cls: type[Enum], *, name: str) -> SAEnum:
    """Store an enum as its English value in a VARCHAR guarded by a CHECK constraint."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


PII = {"pii": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    #: Alternative natural keys an import may upsert on, tried in order.
    __natural_keys__: tuple[tuple[str, ...], ...] = ()


class RowMixin:
    """Columns every table carries: id, provenance, timestamps and a version for concurrency."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(
        String(200), nullable=False, default="user", doc="where the row came from"
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
    version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=1, server_default="1",
        doc="incremented on every update; a stale version is refused (optimistic concurrency)",
    )


class Area(RowMixin, Base):
    """An administrative area above the township: province 省, prefecture 市/州/盟 or county
    区县, by its GB/T 2260 six-digit code (``640000`` 宁夏回族自治区, ``640500`` 中卫市,
    ``640502`` 沙坡头区). A county's parent is its prefecture (or, for a county the province
    governs directly, its province); a prefecture's parent is its province."""

    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)
    __natural_keys__ = (("code",),)

    code: Mapped[str] = mapped_column(String(6), nullable=False, unique=True, doc="GB/T 2260 code")
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[enums.AreaLevel] = mapped_column(
        enum_column(enums.AreaLevel, name="area_level"), nullable=False
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("areas.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    geom = mapped_column(geometry("MULTIPOLYGON"), nullable=True, doc="boundary")


class Township(RowMixin, Base):
    """乡镇. Its 9-digit code starts with its county's 6-digit code (checked on every write)."""

    __tablename__ = "townships"
    __table_args__ = (UniqueConstraint("county_id", "name"),)
    __natural_keys__ = (("code",), ("county_id", "name"))

    code: Mapped[str | None] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    county_id: Mapped[int | None] = mapped_column(
        ForeignKey("areas.id", ondelete="RESTRICT"), nullable=True, index=True,
        doc="the county (区县) the township belongs to",
    )
    geom = mapped_column(geometry("MULTIPOLYGON"), nullable=True, doc="township area")
    seat = mapped_column(geometry("POINT"), nullable=True, doc="township government seat")


class Village(RowMixin, Base):
    """行政村, with the exit-standard indicators of seed 003's village form (null = unknown)."""

    __tablename__ = "villages"
    __table_args__ = (UniqueConstraint("township_id", "name"),)
    __natural_keys__ = (("code",), ("township_id", "name"))

    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    township_id: Mapped[int] = mapped_column(
        ForeignKey("townships.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    category: Mapped[enums.VillageCategory] = mapped_column(
        enum_column(enums.VillageCategory, name="village_category"), nullable=False
    )
    population: Mapped[int | None] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    registered_poor_households: Mapped[int | None] = mapped_column(Integer)
    poor_population: Mapped[int | None] = mapped_column(Integer)
    # Exit-standard indicators ("十一有一低于", seed 003 附件2 village form).
    has_feature_industry: Mapped[bool | None] = mapped_column(Boolean)
    stable_housing_share_pct: Mapped[float | None] = mapped_column(Float)
    medical_insurance_share_pct: Mapped[float | None] = mapped_column(Float)
    out_of_school_children: Mapped[int | None] = mapped_column(Integer)
    safe_water_share_pct: Mapped[float | None] = mapped_column(Float)
    hardened_road: Mapped[bool | None] = mapped_column(Boolean)
    road_surface_width_m: Mapped[float | None] = mapped_column(Float)
    power_share_pct: Mapped[float | None] = mapped_column(Float)
    tv_share_pct: Mapped[float | None] = mapped_column(Float)
    has_public_services: Mapped[bool | None] = mapped_column(Boolean)
    has_collective_economy: Mapped[bool | None] = mapped_column(Boolean)
    collective_income_wan_yuan: Mapped[float | None] = mapped_column(Float)
    weak_party_organisation: Mapped[bool | None] = mapped_column(Boolean)
    geom = mapped_column(geometry("POINT"), nullable=True, doc="village committee location")
    boundary = mapped_column(geometry("MULTIPOLYGON"), nullable=True)


class Settlement(RowMixin, Base):
    """自然村 / 村民小组."""

    __tablename__ = "settlements"
    __table_args__ = (UniqueConstraint("village_id", "name"),)
    __natural_keys__ = (("village_id", "name"),)

    village_id: Mapped[int] = mapped_column(
        ForeignKey("villages.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    households: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(geometry("POINT"), nullable=True)


class AssistanceUnit(RowMixin, Base):
    """帮扶单位: a department, bank, company or school paired with villages."""

    __tablename__ = "assistance_units"
    __natural_keys__ = (("name",),)

    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[enums.UnitKind | None] = mapped_column(enum_column(enums.UnitKind, name="unit_kind"))
    level: Mapped[enums.UnitLevel | None] = mapped_column(
        enum_column(enums.UnitLevel, name="unit_level")
    )
    geom = mapped_column(geometry("POINT"), nullable=True, doc="office location")


class Cadre(RowMixin, Base):
    """帮扶责任人: a unit's cadre responsible for households."""

    __tablename__ = "cadres"
    __table_args__ = (UniqueConstraint("unit_id", "name"),)
    __natural_keys__ = (("code",), ("unit_id", "name"))

    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("assistance_units.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    rank: Mapped[enums.CadreRank | None] = mapped_column(enum_column(enums.CadreRank, name="cadre_rank"))


class Household(RowMixin, Base):
    """农户. ``head_name`` and ``id_number`` are personal data (PII)."""

    __tablename__ = "households"
    __natural_keys__ = (("code",),)
    # Most households name no 自然村 and no 帮扶责任人 (the registers' CSVs rarely have those
    # columns): their indexes hold only the rows that name one. The lookups they serve (by
    # settlement or cadre, and a deleted settlement's or cadre's SET NULL) never ask for NULL,
    # and an import of 100,000 households no longer writes 200,000 NULL entries (a tenth of
    # PostgreSQL's work in it). Migration 0011.
    __table_args__ = tuple(
        Index(f"ix_households_{column}", column, postgresql_where=text(f"{column} IS NOT NULL"),
              sqlite_where=text(f"{column} IS NOT NULL"))
        for column in ("settlement_id", "cadre_id")
    )

    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True, doc="户编号")
    village_id: Mapped[int] = mapped_column(
        ForeignKey("villages.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id", ondelete="SET NULL"))
    status: Mapped[enums.HouseholdStatus] = mapped_column(
        enum_column(enums.HouseholdStatus, name="household_status"), nullable=False
    )
    status_year: Mapped[int | None] = mapped_column(
        Integer, doc="exit year for exited, planned exit year for planned_exit"
    )
    poverty_causes: Mapped[str | None] = mapped_column(Text, doc="致贫原因, separated by 、")
    members: Mapped[int | None] = mapped_column(Integer)
    income_per_person_yuan: Mapped[float | None] = mapped_column(Float)
    # "两不愁三保障" flags and the household form's living conditions (null = unknown).
    assured_food_clothing: Mapped[bool | None] = mapped_column(Boolean)
    assured_education: Mapped[bool | None] = mapped_column(Boolean)
    assured_medical: Mapped[bool | None] = mapped_column(Boolean)
    assured_housing: Mapped[bool | None] = mapped_column(Boolean)
    housing_m2_per_person: Mapped[float | None] = mapped_column(Float)
    has_safe_water: Mapped[bool | None] = mapped_column(Boolean)
    has_power: Mapped[bool | None] = mapped_column(Boolean)
    has_tv: Mapped[bool | None] = mapped_column(Boolean)
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadres.id", ondelete="SET NULL"), doc="responsible cadre")
    head_name: Mapped[str | None] = mapped_column(String(100), info=PII, doc="户主姓名 (PII)")
    id_number: Mapped[str | None] = mapped_column(String(18), info=PII, doc="身份证号 (PII)")
    geom = mapped_column(geometry("POINT"), nullable=True)


class Pairing(RowMixin, Base):
    """定点帮扶: a unit paired with a village for a year, with its task funds.

    The unit leading the village's resident work team is recorded on :class:`WorkTeam`
    (one per village and year, as in seed 000's table), not duplicated here.
    """

    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("unit_id", "village_id", "year"),)
    __natural_keys__ = (("unit_id", "village_id", "year"),)

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("assistance_units.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    village_id: Mapped[int] = mapped_column(
        ForeignKey("villages.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    task_funds_wan_yuan: Mapped[float | None] = mapped_column(Float, doc="帮扶任务 [万元]")
    seq: Mapped[int | None] = mapped_column(Integer, doc="帮扶单位序号 in the source table")


class WorkTeam(RowMixin, Base):
    """驻村工作队."""

    __tablename__ = "work_teams"
    __table_args__ = (UniqueConstraint("village_id", "year"),)
    __natural_keys__ = (("village_id", "year"),)

    village_id: Mapped[int] = mapped_column(
        ForeignKey("villages.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    leader_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("assistance_units.id", ondelete="RESTRICT"), index=True, doc="队长单位"
    )
    first_secretary: Mapped[str | None] = mapped_column(String(100), doc="第一书记")
    member_count: Mapped[int | None] = mapped_column(Integer)


class Road(RowMixin, Base):
    """道路."""

    __tablename__ = "roads"
    __natural_keys__ = (("code",),)

    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    road_class: Mapped[enums.RoadClass | None] = mapped_column(
        enum_column(enums.RoadClass, name="road_class")
    )
    surface: Mapped[enums.RoadSurface] = mapped_column(
        enum_column(enums.RoadSurface, name="road_surface"), nullable=False
    )
    width_m: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(geometry("MULTILINESTRING"), nullable=False)


water_facility_villages = Table(
    "water_facility_villages",
    Base.metadata,
    Column("facility_id", ForeignKey("water_facilities.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True),
)


class WaterFacility(RowMixin, Base):
    """水利设施: supply points, wells, canals, reservoirs, pipelines."""

    __tablename__ = "water_facilities"
    __natural_keys__ = (("code",),)

    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[enums.WaterKind] = mapped_column(
        enum_column(enums.WaterKind, name="water_kind"), nullable=False
    )
    status: Mapped[enums.FacilityStatus] = mapped_column(
        enum_column(enums.FacilityStatus, name="facility_status"), nullable=False
    )
    is_drinking: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default="1",
        doc="supplies drinking water (irrigation canals do not)",
    )
    capacity_m3_per_day: Mapped[float | None] = mapped_column(Float)
    village_id: Mapped[int | None] = mapped_column(
        ForeignKey("villages.id", ondelete="SET NULL"), index=True, doc="village where it stands"
    )
    geom = mapped_column(geometry("GEOMETRY"), nullable=False)


pv_project_villages = Table(
    "pv_project_villages",
    Base.metadata,
    Column("project_id", ForeignKey("pv_projects.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True),
)

pv_project_households = Table(
    "pv_project_households",
    Base.metadata,
    Column("project_id", ForeignKey("pv_projects.id", ondelete="CASCADE"), primary_key=True),
    Column("household_id", ForeignKey("households.id", ondelete="CASCADE"), primary_key=True),
)


class PVProject(RowMixin, Base):
    """光伏扶贫项目."""

    __tablename__ = "pv_projects"
    __natural_keys__ = (("code",),)

    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[enums.PVKind] = mapped_column(enum_column(enums.PVKind, name="pv_kind"), nullable=False)
    capacity_kw: Mapped[float] = mapped_column(Float, nullable=False)
    status: Mapped[enums.PVStatus] = mapped_column(
        enum_column(enums.PVStatus, name="pv_status"), nullable=False
    )
    grid_date: Mapped[dt.date | None] = mapped_column(Date)
    investment_wan_yuan: Mapped[float | None] = mapped_column(Float)
    village_id: Mapped[int | None] = mapped_column(
        ForeignKey("villages.id", ondelete="SET NULL"), index=True, doc="host village"
    )
    beneficiary_households: Mapped[int | None] = mapped_column(Integer)
    annual_income_yuan: Mapped[float | None] = mapped_column(Float, doc="reported income [yuan/yr]")
    geom = mapped_column(geometry("GEOMETRY"), nullable=False)


class PVLedgerYear(RowMixin, Base):
    """电站收益台账: one PV project's recorded year (generation, income and its distribution),
    written by ``atlas pv ledger FILE --record`` after the whole file was checked. Recording
    the same project and year again replaces the row (its version goes up; the audit log keeps
    the values before)."""

    __tablename__ = "pv_ledger"
    __natural_keys__ = (("project_id", "year"),)
    __table_args__ = (UniqueConstraint("project_id", "year"),)

    project_id: Mapped[int] = mapped_column(
        ForeignKey("pv_projects.id", ondelete="CASCADE"), nullable=False, index=True
    )
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    generation_kwh: Mapped[float] = mapped_column(Float, nullable=False, doc="发电量 [kWh]")
    income_yuan: Mapped[float] = mapped_column(Float, nullable=False, doc="收益 [yuan]")
    households_yuan: Mapped[float] = mapped_column(Float, nullable=False, doc="到户 [yuan]")
    public_posts_yuan: Mapped[float] = mapped_column(Float, nullable=False, doc="公益岗位工资 [yuan]")
    posts: Mapped[int] = mapped_column(Integer, nullable=False, doc="公益岗位数")
    public_works_yuan: Mapped[float] = mapped_column(Float, nullable=False, doc="公益事业 [yuan]")
    operator_yuan: Mapped[float] = mapped_column(Float, nullable=False, doc="运维及并网费 [yuan]")
    note: Mapped[str | None] = mapped_column(Text)


class Project(RowMixin, Base):
    """帮扶项目 (附件3/4): infrastructure and industry projects a unit funds or coordinates."""

    __tablename__ = "projects"
    __natural_keys__ = (("code",),)

    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[enums.ProjectKind] = mapped_column(
        enum_column(enums.ProjectKind, name="project_kind"), nullable=False
    )
    village_id: Mapped[int | None] = mapped_column(
        ForeignKey("villages.id", ondelete="SET NULL"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("assistance_units.id", ondelete="SET NULL"), index=True, doc="funding unit"
    )
    funds_wan_yuan: Mapped[float | None] = mapped_column(Float)
    quantity: Mapped[float | None] = mapped_column(Float)
    quantity_unit: Mapped[str | None] = mapped_column(String(20), doc="km, 眼, 个, 亩, 户, 头, 只")
    year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[enums.ProjectStatus] = mapped_column(
        enum_column(enums.ProjectStatus, name="project_status"), nullable=False
    )
    funding_mode: Mapped[enums.FundingMode | None] = mapped_column(
        enum_column(enums.FundingMode, name="funding_mode")
    )
    geom = mapped_column(geometry("GEOMETRY"), nullable=True)
    # 项目库 (migration 0010): the performance targets the county approves, and how farmers
    # benefit (联农带农). The pipeline stage itself lives in ``project_events``.
    performance_targets: Mapped[str | None] = mapped_column(Text, doc="绩效目标")
    benefit_households: Mapped[int | None] = mapped_column(Integer, doc="联农带农：带动农户 [户]")
    benefit_jobs: Mapped[int | None] = mapped_column(Integer, doc="联农带农：带动就业 [人]")
    benefit_income_yuan: Mapped[float | None] = mapped_column(Float, doc="联农带农：带动增收 [元/年]")
    benefit_mechanism: Mapped[str | None] = mapped_column(Text, doc="联农带农机制 (务工、分红、订单 ...)")


class ProjectEvent(Base):
    """项目库流程记录: one step of a project's pipeline (proposed by the village, reviewed by
    the township, approved by the county, started, completed, handed over), dated, with who
    did it. The latest event gives the project's stage (:mod:`geo.library.pipeline`).
    Written only by :mod:`geo.services.library`; never changed afterwards."""

    __tablename__ = "project_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True
    )
    step: Mapped[str] = mapped_column(String(20), nullable=False, doc="propose, review, ... or migrate")
    stage: Mapped[enums.ProjectStage] = mapped_column(
        enum_column(enums.ProjectStage, name="project_stage"), nullable=False, doc="the stage after the step"
    )
    event_date: Mapped[dt.date] = mapped_column(Date, nullable=False, doc="the day the step was taken")
    actor: Mapped[str] = mapped_column(String(64), nullable=False, doc="account that recorded it")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    office: Mapped[str | None] = mapped_column(String(200), doc="on whose behalf: 村委会, 乡镇人民政府, 县 ...")
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Asset(RowMixin, Base):
    """资产 (扶贫项目资产): what a completed project leaves, handed over to an owner who keeps
    it and a maintainer who looks after it (确权、管护). A PV station's asset names the
    station of the PV ledger (``pv_projects``), whose yearly figures the asset ledger shows."""

    __tablename__ = "assets"
    __natural_keys__ = (("code",),)

    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True, doc="资产编号")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    asset_class: Mapped[enums.AssetClass] = mapped_column(
        enum_column(enums.AssetClass, name="asset_class"), nullable=False
    )
    owner: Mapped[str] = mapped_column(String(200), nullable=False, doc="所有权人 (村集体 ...)")
    maintainer: Mapped[str] = mapped_column(String(200), nullable=False, doc="管护主体")
    value_wan_yuan: Mapped[float | None] = mapped_column(Float, doc="资产价值 [万元]")
    handover_date: Mapped[dt.date] = mapped_column(Date, nullable=False, doc="移交日期")
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), nullable=False, unique=True
    )
    pv_project_id: Mapped[int | None] = mapped_column(
        ForeignKey("pv_projects.id", ondelete="RESTRICT"), unique=True, doc="the PV station (ledger)"
    )
    village_id: Mapped[int | None] = mapped_column(
        ForeignKey("villages.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)


class UnitInput(RowMixin, Base):
    """投入: one unit's yearly figures for one village, as on seed 000's 附件2 form."""

    __tablename__ = "unit_inputs"
    __table_args__ = (UniqueConstraint("unit_id", "village_id", "year"),)
    __natural_keys__ = (("unit_id", "village_id", "year"),)

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("assistance_units.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    village_id: Mapped[int] = mapped_column(
        ForeignKey("villages.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    cadres_division: Mapped[int | None] = mapped_column(Integer, doc="处级干部 [人]")
    cadres_section: Mapped[int | None] = mapped_column(Integer, doc="科级干部 [人]")
    cadres_general: Mapped[int | None] = mapped_column(Integer, doc="一般干部 [人]")
    visits_per_cadre: Mapped[float | None] = mapped_column(Float, doc="人均入户次数")
    has_plan: Mapped[bool | None] = mapped_column(Boolean, doc="帮扶方案")
    has_half_year_summary: Mapped[bool | None] = mapped_column(Boolean)
    has_year_summary: Mapped[bool | None] = mapped_column(Boolean)
    team_leaders: Mapped[int | None] = mapped_column(Integer, doc="驻村工作队队长 [名]")
    team_members: Mapped[int | None] = mapped_column(Integer, doc="驻村工作队队员 [名]")
    warmth_households: Mapped[int | None] = mapped_column(Integer, doc="慰问贫困户 [户]")
    warmth_party_members: Mapped[int | None] = mapped_column(Integer, doc="慰问老党员 [户]")
    warmth_money_yuan: Mapped[float | None] = mapped_column(Float, doc="慰问金 [元]")
    rice_jin: Mapped[float | None] = mapped_column(Float)
    flour_jin: Mapped[float | None] = mapped_column(Float)
    oil_jin: Mapped[float | None] = mapped_column(Float)
    goods_value_yuan: Mapped[float | None] = mapped_column(Float, doc="粮油折合物价 [元]")
    project_funds_wan_yuan: Mapped[float | None] = mapped_column(Float, doc="项目帮扶资金 [万元]")
    farmland_projects: Mapped[int | None] = mapped_column(Integer)
    road_km: Mapped[float | None] = mapped_column(Float)
    wells: Mapped[int | None] = mapped_column(Integer, doc="打机井 [眼]")
    canal_km: Mapped[float | None] = mapped_column(Float)
    reservoirs: Mapped[int | None] = mapped_column(Integer, doc="蓄水池 [个]")
    breeding_parks: Mapped[int | None] = mapped_column(Integer)
    breeding_households: Mapped[int | None] = mapped_column(Integer)
    cattle: Mapped[int | None] = mapped_column(Integer)
    sheep: Mapped[int | None] = mapped_column(Integer)
    chickens: Mapped[int | None] = mapped_column(Integer)
    crops_mu: Mapped[float | None] = mapped_column(Float, doc="种植经济作物 [亩]")
    coordinated_projects: Mapped[int | None] = mapped_column(Integer)
    coordinated_funds_wan_yuan: Mapped[float | None] = mapped_column(Float)
    office_furniture_sets: Mapped[int | None] = mapped_column(Integer)
    computers: Mapped[int | None] = mapped_column(Integer)
    printers: Mapped[int | None] = mapped_column(Integer)
    publicity_sessions: Mapped[int | None] = mapped_column(Integer)
    publicity_attendance: Mapped[int | None] = mapped_column(Integer)
    labour_export_batches: Mapped[int | None] = mapped_column(Integer)
    labour_export_persons: Mapped[int | None] = mapped_column(Integer)
    total_input_wan_yuan: Mapped[float | None] = mapped_column(Float, doc="投入资金共计 [万元]")
    in_kind_wan_yuan: Mapped[float | None] = mapped_column(Float, doc="实物折价 [万元]")
    other: Mapped[str | None] = mapped_column(Text, doc="其他帮扶情况")


# --------------------------------------------------------------------------------------
# Inspection sampling (督查抽样): plans, their recorded draws, the sample in route order,
# and findings with their rectification. Written and read by geo/storage/inspection.py.
# Sampled rows keep a snapshot (codes, names of places, status at the draw, geometry) so the
# record survives later edits of the registry; they never copy personal data.
# --------------------------------------------------------------------------------------


class InspectionPlan(RowMixin, Base):
    """督查抽样方案: scope, village selection and household strata, and the seed announced."""

    __tablename__ = "inspection_plans"
    __natural_keys__ = (("name",),)

    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, doc="the plan's year ('this year')")
    seed: Mapped[str] = mapped_column(Text, nullable=False, doc="seed string announced for the draw")
    preset: Mapped[str | None] = mapped_column(String(40), doc="seed003, county-spot or a file name")
    spec_json: Mapped[str] = mapped_column(
        Text, nullable=False, doc="the whole plan (scope, selection, strata) as canonical JSON"
    )
    planned_on: Mapped[dt.date | None] = mapped_column(Date, doc="检查日期")
    teams: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    return_to_start: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0"
    )
    start = mapped_column(geometry("POINT"), nullable=True, doc="where the teams set out")
    notes: Mapped[str | None] = mapped_column(Text)


class InspectionFrame(RowMixin, Base):
    """抽样框: a plan's sampling frame recorded before the seed is announced
    (``atlas sample frame``); a draw from it must find the registry giving the same frame."""

    __tablename__ = "inspection_frames"
    __natural_keys__ = (("name",),)

    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False, doc="the plan's year ('this year')")
    preset: Mapped[str | None] = mapped_column(String(40), doc="seed003, county-spot or a file name")
    spec_json: Mapped[str] = mapped_column(Text, nullable=False, doc="the plan as canonical JSON")
    algorithm: Mapped[str] = mapped_column(String(40), nullable=False)
    frame_hash: Mapped[str] = mapped_column(String(64), nullable=False, doc="SHA-256, hex")
    frame_json: Mapped[str] = mapped_column(Text, nullable=False, doc="the sampling frame")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class InspectionDraw(RowMixin, Base):
    """The recorded draw of a plan: seed, frame hash, algorithm version and result."""

    __tablename__ = "inspection_draws"
    __natural_keys__ = (("plan_id",),)

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_plans.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    algorithm: Mapped[str] = mapped_column(String(40), nullable=False)
    seed: Mapped[str] = mapped_column(Text, nullable=False)
    frame_hash: Mapped[str] = mapped_column(String(64), nullable=False, doc="SHA-256, hex")
    result_hash: Mapped[str] = mapped_column(String(64), nullable=False, doc="SHA-256, hex")
    frame_json: Mapped[str] = mapped_column(Text, nullable=False, doc="the sampling frame")
    result_json: Mapped[str] = mapped_column(Text, nullable=False, doc="the drawn sample")
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    route_method: Mapped[enums.RouteMethod | None] = mapped_column(
        enum_column(enums.RouteMethod, name="route_method")
    )
    route_km: Mapped[float | None] = mapped_column(Float, doc="driving distance of all teams [km]")
    routes_json: Mapped[str] = mapped_column(
        Text, nullable=False, default="[]", server_default="[]", doc="per team: km, hours, method"
    )
    prev_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True,
        doc="record_hash of the draw recorded before this one (64 zeros for the first): the chain; "
        "unique, so two draws can never both follow the same record",
    )
    record_hash: Mapped[str | None] = mapped_column(
        String(64), doc="SHA-256 over this record's plan, hashes, stored texts and prev_hash (hex)"
    )
    frame_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_frames.id", ondelete="RESTRICT"),
        doc="the frame recorded beforehand (atlas sample frame) this draw was made from",
    )


class SampledVillage(RowMixin, Base):
    """抽中村: a sampled village in its team's visiting order."""

    __tablename__ = "inspection_villages"
    __table_args__ = (UniqueConstraint("plan_id", "village_key"),)
    __natural_keys__ = (("plan_id", "village_key"),)

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_plans.id", ondelete="CASCADE"), nullable=False, index=True
    )
    village_id: Mapped[int | None] = mapped_column(
        ForeignKey("villages.id", ondelete="SET NULL"), index=True
    )
    village_key: Mapped[str] = mapped_column(String(120), nullable=False, doc="code, else township/name")
    village_name: Mapped[str] = mapped_column(String(100), nullable=False)
    township_name: Mapped[str] = mapped_column(String(100), nullable=False)
    category: Mapped[enums.VillageCategory] = mapped_column(
        enum_column(enums.VillageCategory, name="village_category"), nullable=False
    )
    team: Mapped[int] = mapped_column(Integer, nullable=False, doc="检查组, from 1")
    visit_order: Mapped[int] = mapped_column(Integer, nullable=False, doc="order within the team, from 1")
    leg_km: Mapped[float | None] = mapped_column(Float, doc="from the previous stop [km]")
    leg_method: Mapped[enums.RouteMethod | None] = mapped_column(
        enum_column(enums.RouteMethod, name="route_method")
    )
    households_sampled: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    walk_km: Mapped[float | None] = mapped_column(Float, doc="walk through its sampled households [km]")
    geom = mapped_column(geometry("POINT"), nullable=True)
    leg = mapped_column(geometry("LINESTRING"), nullable=True, doc="the way from the previous stop")


class SampledHousehold(RowMixin, Base):
    """抽中户: a sampled household, its stratum and its place in the village visit."""

    __tablename__ = "inspection_households"
    __table_args__ = (UniqueConstraint("plan_id", "household_code"),)
    __natural_keys__ = (("plan_id", "household_code"),)

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_plans.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sample_village_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_villages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    household_code: Mapped[str] = mapped_column(String(40), nullable=False)
    stratum: Mapped[str] = mapped_column(String(40), nullable=False, doc="stratum key")
    stratum_label: Mapped[str] = mapped_column(String(100), nullable=False)
    filled_for: Mapped[str | None] = mapped_column(
        String(40), doc="stratum whose shortfall this household fills"
    )
    status: Mapped[enums.HouseholdStatus] = mapped_column(
        enum_column(enums.HouseholdStatus, name="household_status"), nullable=False,
        doc="status at the draw",
    )
    status_year: Mapped[int | None] = mapped_column(Integer)
    visit_order: Mapped[int] = mapped_column(Integer, nullable=False, doc="order within the village")
    geom = mapped_column(geometry("POINT"), nullable=True)


class Finding(RowMixin, Base):
    """督查发现问题 and its rectification (整改): seed 003 表3."""

    __tablename__ = "inspection_findings"
    __natural_keys__ = (("code",),)

    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_plans.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    sample_village_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_villages.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    sample_household_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_households.id", ondelete="RESTRICT"), index=True
    )
    category: Mapped[enums.FindingCategory] = mapped_column(
        enum_column(enums.FindingCategory, name="finding_category"), nullable=False
    )
    kind: Mapped[enums.FindingKind] = mapped_column(
        enum_column(enums.FindingKind, name="finding_kind"), nullable=False
    )
    description: Mapped[str] = mapped_column(Text, nullable=False)
    responsible_unit: Mapped[str] = mapped_column(String(200), nullable=False, doc="整改责任单位")
    found_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    deadline: Mapped[dt.date] = mapped_column(Date, nullable=False, doc="整改期限")
    status: Mapped[enums.FindingStatus] = mapped_column(
        enum_column(enums.FindingStatus, name="finding_status"), nullable=False,
        default=enums.FindingStatus.OPEN, server_default="open",
    )
    evidence_note: Mapped[str | None] = mapped_column(Text, doc="整改佐证 (required to close)")
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    history_json: Mapped[str] = mapped_column(
        Text, nullable=False, default="[]", server_default="[]",
        doc="every status change with its date and note, as JSON",
    )


# --------------------------------------------------------------------------------------
# 防止返贫动态监测: monitoring cases per household, the leads that opened them, the
# assistance measures and every dated step. Written and read by geo/storage/monitoring.py
# through geo/services/monitoring.py; the rules are geo/monitoring/workflow.py. No personal
# data is stored here: names and ID numbers stay on the household (a lead's source row is
# kept without them).
# --------------------------------------------------------------------------------------


class MonitorCase(RowMixin, Base):
    """监测对象 case: one household's path from a risk lead to 风险消除."""

    __tablename__ = "monitor_cases"
    __natural_keys__ = (("code",),)

    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True, doc="监测编号 JC<year>-<n>")
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    status: Mapped[enums.CaseStatus] = mapped_column(
        enum_column(enums.CaseStatus, name="case_status"), nullable=False,
        default=enums.CaseStatus.LEAD, server_default="lead",
    )
    category: Mapped[enums.MonitorCategory | None] = mapped_column(
        enum_column(enums.MonitorCategory, name="monitor_category"), doc="set at the home check"
    )
    risk_types: Mapped[str | None] = mapped_column(String(200), doc="风险类型 values, comma separated")
    income_per_person_yuan: Mapped[float | None] = mapped_column(
        Float, doc="家庭年人均纯收入, last 12 months [yuan/person/yr]")
    out_of_pocket_yuan: Mapped[float | None] = mapped_column(
        Float, doc="合规自付费用 (medical, schooling ...), last 12 months [yuan]")
    assured_education: Mapped[bool | None] = mapped_column(Boolean, doc="义务教育有保障")
    assured_medical: Mapped[bool | None] = mapped_column(Boolean, doc="基本医疗有保障")
    assured_housing: Mapped[bool | None] = mapped_column(Boolean, doc="住房安全有保障")
    safe_water: Mapped[bool | None] = mapped_column(Boolean, doc="饮水安全有保障")
    opened_on: Mapped[dt.date] = mapped_column(Date, nullable=False, doc="first lead received")
    step_on: Mapped[dt.date] = mapped_column(Date, nullable=False, doc="date of the current status's step")
    posted_until: Mapped[dt.date | None] = mapped_column(Date, doc="last day of the current posting (公示)")
    identified_on: Mapped[dt.date | None] = mapped_column(Date, doc="识别纳入 (county approval)")
    removed_on: Mapped[dt.date | None] = mapped_column(Date, doc="风险消除")
    cadre_id: Mapped[int | None] = mapped_column(
        ForeignKey("cadres.id", ondelete="SET NULL"), index=True, doc="帮扶责任人")
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("assistance_units.id", ondelete="SET NULL"), index=True, doc="帮扶单位")
    note: Mapped[str | None] = mapped_column(Text)


class MonitorLead(RowMixin, Base):
    """风险线索: one row of a department list, a visit or a self-report, attached to a case."""

    __tablename__ = "monitor_leads"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_cases.id", ondelete="CASCADE"), nullable=False, index=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="RESTRICT"), nullable=False, index=True)
    channel: Mapped[enums.LeadChannel] = mapped_column(
        enum_column(enums.LeadChannel, name="lead_channel"), nullable=False)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    department: Mapped[str | None] = mapped_column(String(100), doc="预警部门 (department lists)")
    risk_type: Mapped[enums.RiskType | None] = mapped_column(enum_column(enums.RiskType, name="risk_type"))
    out_of_pocket_yuan: Mapped[float | None] = mapped_column(Float, doc="自付费用 the list reports [yuan]")
    file_name: Mapped[str | None] = mapped_column(String(200))
    row_number: Mapped[int | None] = mapped_column(Integer, doc="spreadsheet row of the source file")
    fields_json: Mapped[str] = mapped_column(
        Text, nullable=False, default="{}", server_default="{}",
        doc="the source row without names and ID numbers, as JSON")


class MonitorMeasure(RowMixin, Base):
    """帮扶措施 of a case: kind, date, amount and who delivered it."""

    __tablename__ = "monitor_measures"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_cases.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[enums.MeasureKind] = mapped_column(
        enum_column(enums.MeasureKind, name="measure_kind"), nullable=False)
    done_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    amount_yuan: Mapped[float | None] = mapped_column(Float, doc="资金 [yuan]")
    by_whom: Mapped[str] = mapped_column(String(200), nullable=False, doc="落实单位或责任人")
    note: Mapped[str | None] = mapped_column(Text)


class MonitorEvent(Base):
    """One dated step or change of a case, in order (the case's history)."""

    __tablename__ = "monitor_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_cases.id", ondelete="CASCADE"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(32), nullable=False, doc="step, lead, measure or update")
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    done_on: Mapped[dt.date] = mapped_column(Date, nullable=False, doc="the day the step was done")
    posted_until: Mapped[dt.date | None] = mapped_column(Date)
    by_whom: Mapped[str] = mapped_column(String(200), nullable=False, doc="who did the step")
    actor: Mapped[str] = mapped_column(String(64), nullable=False, doc="the account that recorded it")
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now())


class InspectionAnswer(RowMixin, Base):
    """A submission of a phone form (附件1 or 附件2) for a sampled household or village: the
    answers as JSON, where it was filled in and how far from the registered position. Every
    submission is kept; ``current`` marks the latest one of its household or village (the one
    the results count), and a submission imported again with other answers keeps the earlier
    answers in ``history_json``."""

    __tablename__ = "inspection_answers"
    __table_args__ = (UniqueConstraint("plan_id", "instance_id"),)
    __natural_keys__ = (("plan_id", "instance_id"),)

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_plans.id", ondelete="CASCADE"), nullable=False, index=True
    )
    form: Mapped[str] = mapped_column(String(20), nullable=False, doc="household or village")
    instance_id: Mapped[str] = mapped_column(String(120), nullable=False, doc="meta/instanceID (uuid:...)")
    form_version: Mapped[str] = mapped_column(String(60), nullable=False)
    sample_village_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_villages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sample_household_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_households.id", ondelete="CASCADE"), index=True
    )
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answers_json: Mapped[str] = mapped_column(Text, nullable=False, doc="field name -> answer")
    distance_m: Mapped[float | None] = mapped_column(
        Float, doc="geodesic distance from the registered position [m]"
    )
    far: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0",
        doc="filled in more than 1 km from the registered position",
    )
    current: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default="1",
        doc="the latest submission of its household or village",
    )
    history_json: Mapped[str] = mapped_column(
        Text, nullable=False, default="[]", server_default="[]", doc="earlier answers of this submission"
    )
    geom = mapped_column(geometry("POINT"), nullable=True, doc="where it was filled in")


class InspectionAnswerPhoto(RowMixin, Base):
    """A photo of a submission (checked to be an image within the size limit); shown only to
    callers who may see the household."""

    __tablename__ = "inspection_answer_photos"
    __table_args__ = (UniqueConstraint("answer_id", "field"),)

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_answers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    field: Mapped[str] = mapped_column(String(40), nullable=False, doc="photo_1, photo_2 or photo_3")
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    media_type: Mapped[str] = mapped_column(String(40), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


# --------------------------------------------------------------------------------------
# Accounts and the audit log (not registry layers: the API's users, keys and history)
# --------------------------------------------------------------------------------------

user_townships = Table(
    "user_townships",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("township_id", ForeignKey("townships.id", ondelete="CASCADE"), primary_key=True),
)


user_areas = Table(
    "user_areas",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
)


class User(RowMixin, Base):
    """An account. Limited to the townships in ``user_townships`` and those inside the areas
    (county, prefecture, province) in ``user_areas``; none listed = all."""

    __tablename__ = "users"
    __natural_keys__ = (("name",),)

    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True, doc="login name")
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[enums.Role] = mapped_column(enum_column(enums.Role, name="user_role"), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(
        String(255), doc="argon2 hash; null = API keys only"
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="1")
    tokens_valid_after: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), doc="tokens issued before this instant are refused (logout, password change)"
    )


class ApiKey(Base):
    """An API key for scripts. Only a SHA-256 hash of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False, unique=True, doc="public lookup part")
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, doc="sha256 hex of the secret")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who changed what, when, with the values before and after (personal fields redacted)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    user_name: Mapped[str] = mapped_column(String(64), nullable=False, doc="kept if the user goes")
    action: Mapped[str] = mapped_column(String(20), nullable=False, doc="create, update, delete ...")
    layer: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    row_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class LoginAttempt(Base):
    """One password login attempt, kept to rate-limit guessing."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    client: Mapped[str | None] = mapped_column(String(64), doc="client address")
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)


class InspectionAssignment(Base):
    """An inspector assigned to a plan (督查组成员): they may record its findings and see the
    names of its sampled households; ``team`` limits them to one team's villages (null = all)."""

    __tablename__ = "inspection_assignments"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_plans.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[int | None] = mapped_column(Integer, doc="检查组 the inspector belongs to; null = every team")
    assigned_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

