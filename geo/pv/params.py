"""Defaults of the photovoltaic analyses, each with the source it comes from.

Every default here is a keyword argument of the functions that use it; nothing is fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from geo.errors import ValidationError

# ------------------------------------------------------------------------------ checks


def check_latitude(latitude: float) -> float:
    if not _finite(latitude) or not -90 <= latitude <= 90:
        raise ValidationError(
            f"latitude {latitude!r} is out of range; give degrees north between -90 and 90 "
            "(e.g. 37.5 for Shapotou)"
        )
    return float(latitude)


def check_longitude(longitude: float) -> float:
    if not _finite(longitude) or not -180 <= longitude <= 180:
        raise ValidationError(
            f"longitude {longitude!r} is out of range; give degrees east between -180 and 180 "
            "(e.g. 105.2 for Shapotou)"
        )
    return float(longitude)


def check_positive(name: str, value: float, *, unit: str, allow_zero: bool = False) -> float:
    """``value`` as a float; a clear error when it is not a finite number above zero."""
    ok = _finite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = "zero or more" if allow_zero else "above zero"
        raise ValidationError(f"{name} {value!r} is not allowed; give a number {bound} [{unit}]")
    return float(value)


def check_range(name: str, value: float, low: float, high: float, *, unit: str) -> float:
    if not _finite(value) or not low <= value <= high:
        raise ValidationError(f"{name} {value!r} is out of range; give {low} to {high} [{unit}]")
    return float(value)


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


#: Nominal inverter efficiency [-]: PVWatts v5 (Dobos 2014), ``pvlib.inverter.pvwatts``.
INVERTER_EFFICIENCY = 0.96

#: DC/AC ratio [-] (array kWp over inverter kW AC): the PVWatts v5 default.
DC_AC_RATIO = 1.2

#: Power temperature coefficient [1/°C] of a PVWatts v5 "standard" module (-0.47 %/°C).
GAMMA_PDC_PER_C = -0.0047

#: Ground albedo [-]: pvlib's default for a fixed array.
ALBEDO = 0.25

#: Price of PV electricity [yuan/kWh]: the benchmark on-grid tariff of resource zone I (all of
#: Ningxia) for PV stations from 2017 (NDRC 发改价格〔2016〕2729号: zone I 0.65, II 0.75,
#: III 0.85; 2016 had been 0.80/0.88/0.98 under 发改价格〔2015〕3044号), which village-level
#: poverty-alleviation stations kept when ordinary tariffs were cut in 2018 (发改价格规〔2017〕
#: 2196号) and 2019 (发改价格〔2019〕761号: village stations stay at 0.65/0.75/0.85).
PRICE_YUAN_PER_KWH = 0.65

#: Scale from clear-sky to typical all-sky global horizontal irradiance [-] for the estimate
#: used when no weather file is given. 0.72 brings pvlib's Ineichen clear-sky GHI at Shapotou
#: (about 2,320 kWh/m² a year at 37.5°N, 105.2°E, 1,250 m) to about 1,670 kWh/m², inside the
#: "很丰富" class (1,400-1,750 kWh/m²) of GB/T 31155-2014 that central Ningxia belongs to.
#: A regional guess, not a measurement: results built on it are labelled estimates.
CLEARSKY_FACTOR = 0.72

#: Air temperature [°C] and wind speed [m/s] pvlib's ModelChain assumes when weather data has
#: none: used only to fill a weather file's missing columns, never for the clear-sky estimate
#: (which takes :data:`SHAPOTOU_CLIMATE` or the user's monthly figures).
CLEARSKY_TEMP_AIR_C = 20.0
CLEARSKY_WIND_SPEED_M_S = 0.0


@dataclass(frozen=True)
class MonthlyClimate:
    """Monthly mean air temperature [°C] and wind speed [m/s], January first.

    The clear-sky estimate holds each month's mean all month (no daily cycle): PV modules run
    hottest at midday, so the estimate's cell temperature is a little low, by far less than
    the 20 °C / 0 m/s assumption it replaces was off by in a Ningxia winter.
    """

    temp_air_c: tuple[float, ...]
    wind_speed_m_s: tuple[float, ...]
    source: str

    def __post_init__(self) -> None:
        for name, values, low, high in (("monthly temperature", self.temp_air_c, -60, 60),
                                        ("monthly wind speed", self.wind_speed_m_s, 0, 40)):
            if len(values) != 12 or not all(_finite(v) and low <= float(v) <= high for v in values):
                raise ValidationError(f"{name} must be 12 numbers, January first, each from {low} to {high}; "
                                      f"got {list(values)!r}")


#: Monthly climate normals for the Shapotou / Zhongwei plain (about 1,230 m), rounded, January
#: first: the 1981-2010 normals of the Zhongwei national station (中卫, 53704) published by the
#: China Meteorological Administration (中国地面气候标准值), annual mean about 9 °C, spring the
#: windiest season (Dang et al. 2019, 中卫市风速与大风变化特征: "春季最大，冬夏季次之，秋季最小").
#: Approximate (a shipped table, not a weather file): give the local station's own normals
#: with ``--climate`` to replace it; results stay labelled ESTIMATE either way.
SHAPOTOU_CLIMATE = MonthlyClimate(
    temp_air_c=(-6.4, -2.3, 4.3, 11.4, 17.0, 21.2, 23.0, 21.5, 16.3, 9.6, 2.5, -4.3),
    wind_speed_m_s=(2.1, 2.5, 3.0, 3.2, 3.0, 2.7, 2.5, 2.3, 2.1, 2.0, 2.2, 2.1),
    source="中卫站 1981-2010 气候标准值（月平均气温、风速，约数） Zhongwei station 53704 normals, approximate",
)


#: Power density of fixed-tilt ground-mounted PV [kWp DC per hectare]: 0.87 MWdc/ha
#: (0.35 MWdc/acre), the 2019 median of US utility-scale fixed-tilt plants (Bolinger and
#: Bolinger 2022, "Land Requirements for Utility-Scale PV: An Empirical Update on Power and
#: Energy Density", IEEE Journal of Photovoltaics 12(2), LBNL).
POWER_DENSITY_KWP_PER_HA = 870.0

#: Steepest terrain kept for ground-mounted PV [% slope]: NREL reV's default exclusion.
MAX_SLOPE_PCT = 5.0

#: Upper bound of one village station [kWp]: the 0.5 MW ceiling of the "村级光伏扶贫电站
#: （0.5兆瓦及以下）" tariff category (发改价格规〔2017〕2196号).
MAX_STATION_KWP = 500.0

#: Yearly PV income a beneficiary household should get [yuan/yr]: the figure the issue names
#: (about 3,000 yuan a household a year was the programme's common target).
TARGET_INCOME_YUAN_PER_HOUSEHOLD = 3_000.0

#: Model yields on this lattice [degrees] when many sites share one weather source: sites in
#: one 0.1° cell (about 10 km) get the same kWh/kWp (the clear-sky estimate varies by far less
#: than its own uncertainty over that distance).
YIELD_RESOLUTION_DEG = 0.1

TILT_RULE = (
    "Jacobson and Jadhav (2018), Solar Energy 169:55-66: 3rd-order fit of PVWatts optimal fixed "
    "tilt to latitude"
)


def default_tilt_deg(latitude: float) -> float:
    """Fixed tilt [degrees] for a site at ``latitude``, chosen for the most annual energy.

    The third-order polynomial Jacobson and Jadhav (2018) fitted to the PVWatts optimum tilt
    of every country (their northern and southern hemisphere fits; the southern one is
    written here for the absolute latitude). About 30.4° at Shapotou (37.5°N). Capped to
    0-90°.

    Parameters
    ----------
    latitude
        Site latitude [degrees north, -90..90].

    Returns
    -------
    float
        Tilt from horizontal [degrees].

    Raises
    ------
    ValidationError
        When the latitude is outside -90..90.
    """
    check_latitude(latitude)
    phi = abs(latitude)
    if latitude >= 0:
        tilt = 1.3793 + phi * (1.2011 + phi * (-0.014404 + phi * 0.000080509))
    else:
        tilt = 0.41657 + phi * (1.4216 + phi * (-0.024051 + phi * 0.00021828))
    return float(min(max(tilt, 0.0), 90.0))


def default_azimuth_deg(latitude: float) -> float:
    """Facing the equator [degrees clockwise from north]: 180 (south) north of it, else 0."""
    return 180.0 if latitude >= 0 else 0.0


# ------------------------------------------------------------------------------ station categories


@dataclass(frozen=True)
class IncomeDistribution:
    """How a station's yearly income is split [-, shares of the income, summing to 1].

    Attributes
    ----------
    operator
        O&M, the grid-connection fee, insurance and, for a centralized station, the investor's
        share (its debt service and return): never household income.
    public_posts
        Wages of 公益岗位 (public-welfare posts) filled by registered-poor households.
    collective
        Village collective: small public works (小型公益事业) under the plan the township approves.
    households
        Paid to beneficiary households directly (奖励补助, or a rooftop system's own income).
    wage_yuan_per_post
        Yearly wage of one public-welfare post [yuan/yr].
    source
        Where the split comes from.
    """

    operator: float
    public_posts: float
    collective: float
    households: float
    wage_yuan_per_post: float
    source: str

    def __post_init__(self) -> None:
        shares = {"operator": self.operator, "public_posts": self.public_posts, "collective": self.collective,
                  "households": self.households}
        bad = {k: v for k, v in shares.items() if not (_finite(v) and 0 <= float(v) <= 1)}
        if bad:
            raise ValidationError(f"income shares {bad!r} are out of range; give fractions from 0 to 1")
        if not math.isclose(sum(shares.values()), 1.0, abs_tol=1e-6):
            raise ValidationError(f"income shares add up to {sum(shares.values()):.4g}, not 1: operator "
                                  f"{self.operator:g} + public posts {self.public_posts:g} + collective "
                                  f"{self.collective:g} + households {self.households:g}")
        check_positive("wage of a public-welfare post", self.wage_yuan_per_post, unit="yuan/yr")

    @property
    def to_households(self) -> float:
        """Share reaching beneficiary households: direct payments plus post wages [-]."""
        return self.households + self.public_posts

    def split(self, income_yuan_per_year: float, *, households: int | None = None) -> dict[str, float | None]:
        """The yearly income split [yuan/yr] by share, the posts it pays and, for ``households``
        beneficiary households, each one's income [yuan/yr] (direct payment plus post wages
        spread over them: a household that holds no post gets less)."""
        out: dict[str, float | None] = {
            "income_yuan_per_year": float(income_yuan_per_year),
            "operator_yuan_per_year": income_yuan_per_year * self.operator,
            "public_posts_yuan_per_year": income_yuan_per_year * self.public_posts,
            "collective_yuan_per_year": income_yuan_per_year * self.collective,
            "households_direct_yuan_per_year": income_yuan_per_year * self.households,
            "to_households_yuan_per_year": income_yuan_per_year * self.to_households,
            "public_posts": math.floor(income_yuan_per_year * self.public_posts / self.wage_yuan_per_post),
        }
        out["income_yuan_per_household"] = (income_yuan_per_year * self.to_households / households
                                            if households else None)
        return out


#: Rules behind every programme split: 《光伏扶贫电站管理办法》(国能发新能〔2018〕29号): village
#: stations' income is the village collective's and goes mainly to public-welfare posts
#: (公益岗位扶贫), small public works (小型公益事业扶贫) and rewards and grants (奖励补助扶贫), not
#: handed out as cash; since 2021 the stations are assets of the village collective and their
#: income is used under a plan the township approves. The rules fix no percentages: the splits
#: below are stated assumptions of this atlas, each a keyword the user can change.
DISTRIBUTION_RULES = ("国能发新能〔2018〕29号《光伏扶贫电站管理办法》: 收益主要用于公益岗位扶贫、小型公益事业扶贫、"
                      "奖励补助扶贫; 2021年起为村集体资产, 收益分配方案经乡镇审核")
#: 公益岗位 wage [yuan/yr]: 500 元 a month, a common figure for village posts (保洁、护林、
#: 巡河); a stated assumption.
WAGE_YUAN_PER_POST = 6_000.0

StationCategoryName = Literal["household", "village", "centralized"]


@dataclass(frozen=True)
class StationCategory:
    """A PV poverty-alleviation station category, with its limits, tariff and income rules.

    Attributes
    ----------
    name, label
        ``household``, ``village`` or ``centralized``; the Chinese name.
    min_kwp, max_kwp
        Capacity range of one station [kWp].
    land_m2_per_kwp
        Ground taken per kWp [m²/kWp] (0 for a rooftop system).
    price_yuan_per_kwh
        Tariff [yuan/kWh].
    distribution
        How its income is split.
    source
        Where the limits and the tariff come from.
    """

    name: StationCategoryName
    label: str
    min_kwp: float
    max_kwp: float
    land_m2_per_kwp: float
    price_yuan_per_kwh: float
    distribution: IncomeDistribution
    source: str

    @property
    def power_density_kwp_per_ha(self) -> float:
        """kWp per hectare of ground [kWp/ha] (inf for a rooftop system)."""
        return math.inf if self.land_m2_per_kwp == 0 else 10_000.0 / self.land_m2_per_kwp


#: Ningxia's coal-fired benchmark price [yuan/kWh] (燃煤发电基准价, 0.2595), which new centralized
#: PV stations receive since 2021 without subsidy (发改价格〔2021〕833号: 新建集中式光伏电站
#: 上网电价按当地燃煤发电基准价执行).
COAL_BENCHMARK_YUAN_PER_KWH = 0.2595
#: Subsidy of distributed PV [yuan/kWh] kept for poverty-alleviation rooftop systems
#: (发改价格〔2013〕1638号 0.42; 发改价格规〔2017〕2196号 kept it for 光伏扶贫项目).
DISTRIBUTED_SUBSIDY_YUAN_PER_KWH = 0.42

CATEGORIES: dict[str, StationCategory] = {
    "household": StationCategory(
        name="household", label="户用光伏", min_kwp=1.0, max_kwp=5.0, land_m2_per_kwp=0.0,
        price_yuan_per_kwh=COAL_BENCHMARK_YUAN_PER_KWH + DISTRIBUTED_SUBSIDY_YUAN_PER_KWH,
        distribution=IncomeDistribution(operator=0.05, public_posts=0.0, collective=0.0, households=0.95,
                                        wage_yuan_per_post=WAGE_YUAN_PER_POST,
                                        source="seed 002: 屋顶分布式光伏收益直接归贫困户所有; 5 % O&M (assumed)"),
        source="seed 002 (利用贫困户屋顶建设分布式光伏); 3-5 kW a household, the 2016 programme's rooftop size "
               "(发改能源〔2016〕621号); tariff: coal benchmark + 0.42 subsidy",
    ),
    "village": StationCategory(
        name="village", label="村级光伏电站", min_kwp=100.0, max_kwp=MAX_STATION_KWP,
        land_m2_per_kwp=10_000.0 / POWER_DENSITY_KWP_PER_HA, price_yuan_per_kwh=PRICE_YUAN_PER_KWH,
        distribution=IncomeDistribution(operator=0.10, public_posts=0.60, collective=0.20, households=0.10,
                                        wage_yuan_per_post=WAGE_YUAN_PER_POST,
                                        source=DISTRIBUTION_RULES + "; split assumed: O&M and grid fee 10 %, "
                                        "公益岗位 60 %, public works 20 %, 奖励补助 10 %"),
        source="发改价格规〔2017〕2196号: 村级光伏扶贫电站 0.5 MW and below keep the zone I tariff 0.65 元/kWh; "
               "land: LBNL 2022 fixed-tilt density 870 kWp/ha; 100 kWp smallest (assumed)",
    ),
    "centralized": StationCategory(
        name="centralized", label="集中式光伏电站", min_kwp=1_000.0, max_kwp=100_000.0,
        land_m2_per_kwp=10_000.0 / POWER_DENSITY_KWP_PER_HA, price_yuan_per_kwh=COAL_BENCHMARK_YUAN_PER_KWH,
        distribution=IncomeDistribution(operator=0.80, public_posts=0.12, collective=0.04, households=0.04,
                                        wage_yuan_per_post=WAGE_YUAN_PER_POST,
                                        source="seed 002: 集中式电站的土地租金、投资入股等收益统筹用于贫困村或贫困户; "
                                        "the programme's equity share assumed 20 % of income (公益岗位 12 %, "
                                        "public works 4 %, 奖励补助 4 %); 80 % investor, O&M and grid fee"),
        source="seed 002 (荒山荒坡等未利用土地建设集中式光伏电站); MW-scale, 1-100 MWp; tariff: the coal benchmark "
               "(发改价格〔2021〕833号); land: LBNL 2022 870 kWp/ha",
    ),
}
SITING_CATEGORIES = ("village", "centralized")
DEFAULT_CATEGORY = "village"


def station_category(name: str) -> StationCategory:
    """The :class:`StationCategory` called ``name``.

    Raises
    ------
    ValidationError
        Unknown name, listing the known ones.
    """
    try:
        return CATEGORIES[str(name)]
    except KeyError:
        known = ", ".join(f"{k} ({c.label})" for k, c in CATEGORIES.items())
        raise ValidationError(f"station category {name!r} is unknown; give one of {known}") from None


# ------------------------------------------------------------------------------ exclusions


@dataclass(frozen=True)
class ExclusionRule:
    """A default exclusion of siting: a registry layer (rows filtered by ``where``), its buffer.

    Attributes
    ----------
    name, label
        Key (``--no-exclude NAME``, ``--buffer NAME=M``) and Chinese label.
    layer
        Registry layer; ``geometry`` names a secondary geometry column (a township's seat).
    buffer_m
        Default buffer [m].
    source
        Why this buffer.
    where
        ``column -> allowed values`` filter of the layer's rows.
    """

    name: str
    label: str
    layer: str
    buffer_m: float
    source: str
    geometry: str | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()


EXCLUSION_RULES: dict[str, ExclusionRule] = {rule.name: rule for rule in (
    ExclusionRule("settlements", "自然村（居民点）", "settlements", 300.0,
                  "a natural village's houses, yards and threshing floors lie within a few hundred metres of "
                  "its point (stated assumption)"),
    ExclusionRule("villages", "村委会（行政村驻地）", "villages", 300.0,
                  "the village committee and the houses around it (stated assumption)"),
    ExclusionRule("township_seats", "乡镇驻地", "townships", 1_000.0,
                  "a township seat's built-up area (stated assumption)", geometry="seat"),
    ExclusionRule("roads", "道路", "roads", 10.0,
                  "《公路安全保护条例》(2011) 第十一条 建筑控制区: 县道 10 m from the road edge (乡道 5 m)"),
    ExclusionRule("water", "水体与渠道", "water_facilities", 50.0,
                  "canal and reservoir management strips (stated assumption; 引黄灌区 canals keep 5-50 m)",
                  where=(("kind", ("canal", "reservoir")),)),
    ExclusionRule("existing_pv", "已有光伏项目", "pv_projects", 0.0, "the footprint of a registered project"),
)}

#: ESA WorldCover 2021 classes a land-cover raster excludes by default: tree cover (10),
#: cropland (40), built-up (50), permanent water (80), herbaceous wetland (90), mangroves (95)
#: (Zanaga et al. 2022, ESA WorldCover 10 m 2021 v200, product user manual).
LAND_COVER_EXCLUDED_CLASSES = (10, 40, 50, 80, 90, 95)
