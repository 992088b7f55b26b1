"""``atlas pv yield|review|site|size``: photovoltaic yield, project review, siting and sizing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Literal

import geopandas as gpd
import pandas as pd
import typer

from api.cli._common import DbOption, cli_actor, echo_json, engine_for
from geo.errors import ValidationError
from geo.geojson import feature_collection
from geo.pv import params
from geo.pv.ledger import UNDER_DELIVERY_RATIO
from geo.pv.output import (
    REVIEW_TABLES,
    estimate_line,
    ledger_json,
    projects_geojson,
    review_json,
    review_table,
    review_xlsx,
    site_json,
    size_json,
    yield_json,
)
from geo.pv.review import FLAGS, PVReview
from geo.pv.siting import (
    BENEFICIARY_DISTANCE_M,
    BLOCK_SIZE_M,
    MAX_GRID_DISTANCE_M,
    MIN_AREA_HA,
    SitingResult,
)
from geo.pv.yield_model import YieldResult, estimate_yield
from geo.services.pv import (
    parse_buffer,
    parse_climate,
    read_project_ledger,
    record_ledger,
    run_ledger_check,
    run_review,
    run_siting,
    run_sizing,
)
from geo.tabular import write_csv

CATEGORY_LABELS = {name: kind.label for name, kind in params.CATEGORIES.items()}

pv_app = typer.Typer(help="光伏扶贫 Photovoltaic projects: yield, review, siting and sizing.", no_args_is_help=True)

WeatherOption = Annotated[Path | None, typer.Option(
    "--weather", help="Weather file pvlib reads: TMY3 CSV, TMY2, EPW, PVGIS TMY CSV/JSON. "
    "Without it: the clear-sky ESTIMATE (labelled as such).", show_default=False)]
PriceOption = Annotated[float, typer.Option(
    "--price", help="Electricity price [yuan/kWh]; default: resource zone I benchmark for village "
    "poverty-alleviation stations (发改价格〔2016〕2729号, kept in 2018 and 2019).")]
FactorOption = Annotated[float, typer.Option(
    "--clearsky-factor", help="All-sky/clear-sky factor of the estimate (regional guess for central Ningxia).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CategoryOption = Annotated[str, typer.Option(
    "--category", help="Station category: village (村级电站, at most 500 kW, 0.65 元/kWh) or centralized (集中式, "
    "MW-scale, the coal benchmark price); household (户用) for size.")]
TempOption = Annotated[str | None, typer.Option(
    "--temp", help="Monthly mean air temperature [°C] for the estimate: 12 numbers, January first, comma-separated "
    "(default: Zhongwei station normals).", show_default=False)]
WindOption = Annotated[str | None, typer.Option(
    "--wind", help="Monthly mean wind speed [m/s] for the estimate: 12 numbers, January first.",
    show_default=False)]
CategoryPriceOption = Annotated[float | None, typer.Option(
    "--price", help="Electricity price [yuan/kWh]; default the category's tariff.", show_default=False)]

# ------------------------------------------------------------------------------ yield


@pv_app.command("yield")
def yield_(
    lat: Annotated[float, typer.Option("--lat", help="Latitude [degrees north].")],
    lon: Annotated[float, typer.Option("--lon", help="Longitude [degrees east].")],
    kwp: Annotated[float, typer.Option("--kwp", help="DC capacity [kWp].")],
    alt: Annotated[float | None, typer.Option("--alt", help="Altitude [m]; default: weather file, else "
                                              "pvlib's altitude map.", show_default=False)] = None,
    tilt: Annotated[float | None, typer.Option("--tilt", help="Tilt [degrees]; default: Jacobson & Jadhav "
                                               "(2018) optimum for the latitude.", show_default=False)] = None,
    azimuth: Annotated[float | None, typer.Option("--azimuth", help="Azimuth [degrees from north]; default "
                                                  "180 (south).", show_default=False)] = None,
    weather: WeatherOption = None,
    price: PriceOption = params.PRICE_YUAN_PER_KWH,
    households: Annotated[int | None, typer.Option("--households", help="Beneficiary households (income "
                                                   "per household).", show_default=False)] = None,
    clearsky_factor: FactorOption = params.CLEARSKY_FACTOR,
    losses: Annotated[float | None, typer.Option("--losses", help="System losses [%]; default PVWatts 14.08.",
                                                 show_default=False)] = None,
    inverter_efficiency: Annotated[float, typer.Option("--inverter-efficiency")] = params.INVERTER_EFFICIENCY,
    dc_ac_ratio: Annotated[float, typer.Option("--dc-ac-ratio")] = params.DC_AC_RATIO,
    as_json: JsonOption = False,
) -> None:
    """年发电量与收益 Annual yield and income of one PV system (pvlib PVWatts)."""
    result = estimate_yield(
        latitude=lat, longitude=lon, altitude_m=alt, capacity_kwp=kwp, tilt_deg=tilt, azimuth_deg=azimuth,
        weather=weather, price_yuan_per_kwh=price, beneficiary_households=households,
        clearsky_factor=clearsky_factor, losses_pct=losses, inverter_efficiency=inverter_efficiency,
        dc_ac_ratio=dc_ac_ratio,
    )
    if as_json:
        echo_json(yield_json(result))
        return
    _print_yield(result)


def _print_yield(r: YieldResult) -> None:
    echo = typer.echo
    echo("光伏发电量 PV yield")
    echo(estimate_line(r.is_estimate, r.weather_label))
    echo(f"站点 site: {r.latitude:.4f}°N {r.longitude:.4f}°E, 海拔 altitude {r.altitude_m:.0f} m")
    echo(f"装机 capacity: {r.capacity_kwp:,.1f} kWp; 倾角 tilt {r.tilt_deg:.1f}°, 方位 azimuth {r.azimuth_deg:.0f}°; "
         f"系统损失 losses {r.losses_pct:.2f}%, 逆变器效率 inverter {r.inverter_efficiency:.2f}, "
         f"容配比 DC/AC {r.dc_ac_ratio:.2f}")
    echo(f"年发电量 annual_kwh: {r.annual_kwh:,.0f} kWh   单位发电量 kwh_per_kwp: {r.kwh_per_kwp:,.0f}   "
         f"容量系数 capacity_factor: {r.capacity_factor:.1%}")
    echo(f"水平面辐照 GHI {r.annual_ghi_kwh_m2:,.0f} kWh/m², 组件面辐照 POA {r.annual_poa_kwh_m2:,.0f} kWh/m²")
    echo("月发电量 monthly kWh: " + "  ".join(f"{m}月 {v:,.0f}" for m, v in r.monthly_kwh.items()))
    echo(f"电价 price {r.price_yuan_per_kwh:g} 元/kWh → 年收益 income_yuan_per_year: {r.income_yuan_per_year:,.0f} 元")
    if r.income_yuan_per_household_per_year is not None:
        echo(f"受益户 {r.beneficiary_households} 户 → 户均 per household: {r.income_yuan_per_household_per_year:,.0f} 元/年")
    for note in r.notes:
        echo(f"注 note: {note}")


# ------------------------------------------------------------------------------ review

@pv_app.command("review")
def review(
    db: DbOption = None,
    township: Annotated[str | None, typer.Option("--township", "--area", help="Township name, code or id, or an area above it (six-digit code or name).",
                                                 show_default=False)] = None,
    fmt: Annotated[Literal["table", "json", "csv", "xlsx", "geojson"], typer.Option(
        "--format", help="table (screen), json, csv (three files), xlsx (three sheets), geojson (projects).")] = "table",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output file (csv: a prefix).",
                                                show_default=False)] = None,
    weather: WeatherOption = None,
    price: PriceOption = params.PRICE_YUAN_PER_KWH,
    low_income_ratio: Annotated[float, typer.Option("--low-income-ratio", help="Flag reported income below "
                                                    "this share of the modelled income.")] = 0.5,
    clearsky_factor: FactorOption = params.CLEARSKY_FACTOR,
    all_projects: Annotated[bool, typer.Option("--all", help="Table: list every project, not only flagged ones.")] = False,
) -> None:
    """光伏项目核查 Review PV projects: modelled vs reported income, flags, coverage by village and township."""
    result = run_review(engine_for(db), township=township, weather=weather, price_yuan_per_kwh=price,
                        low_income_ratio=low_income_ratio, clearsky_factor=clearsky_factor)
    if fmt == "table":
        _print_review(result, all_projects=all_projects)
    elif fmt == "json":
        text = json.dumps(review_json(result), ensure_ascii=False, indent=2)
        _write_or_echo(text, output)
    elif fmt == "geojson":
        text = json.dumps(projects_geojson(result), ensure_ascii=False)
        _write_or_echo(text, output)
    elif fmt == "csv":
        if output is None:
            raise ValidationError("--format csv writes three files; give -o PREFIX (e.g. -o review)")
        for name in REVIEW_TABLES:
            path = output.with_name(f"{output.name}_{name}.csv")
            write_csv(review_table(result, name), path, lineterminator="\n")
            typer.echo(f"wrote {path}")
    elif fmt == "xlsx":
        if output is None:
            raise ValidationError("--format xlsx needs -o FILE.xlsx")
        output.write_bytes(review_xlsx(result))
        typer.echo(f"wrote {output}")


def _write_or_echo(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


def _fmt(value, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    return format(value, spec)


def _print_review(result: PVReview, *, all_projects: bool) -> None:
    echo = typer.echo
    echo("光伏扶贫项目核查 PV project review")
    echo(estimate_line(result.is_estimate, result.weather_label))
    echo(f"模型收益按电价 {result.price_yuan_per_kwh:g} 元/kWh 计 (modelled income at the price)")
    projects = result.projects if all_projects else result.flagged
    counts = {code: int(result.projects["flags"].map(lambda f, c=code: c in f).sum()) for code in FLAGS}
    echo(f"项目 {len(result.projects)} 个，有问题 {len(result.flagged)} 个: "
         + "，".join(f"{FLAGS[c]} {n}" for c, n in counts.items() if n))
    echo("")
    echo(("全部项目 all projects" if all_projects else "问题项目 flagged projects") + ":")
    for row in projects.itertuples(index=False):
        echo(f"  {row.code or '-'} {row.name} [{row.kind_label}/{row.status_label}] {row.capacity_kw:,.0f} kW "
             f"{row.township_name or ''}{row.village_name or ''}: 模型 {_fmt(row.modelled_income_yuan_per_year)} 元, "
             f"上报 {_fmt(row.reported_income_yuan_per_year)} 元 → {row.flag_labels or '无'}")
    ledgers = result.projects[result.projects["ledger_year"].notna()]
    if len(ledgers):
        echo("")
        echo("电站收益台账 station ledgers (最近年度 latest year): 发电量/模型 | 到户+公益岗位/方案 | 公益岗位 | 问题")
        for row in ledgers.itertuples(index=False):
            echo(f"  {row.code} {row.name} {row.ledger_year}年: {_fmt(row.ledger_generation_ratio, '.0%')} | "
                 f"{_fmt(row.ledger_households_ratio, '.0%')} | {row.ledger_posts} | {row.ledger_flag_labels or '无'}")
    echo("")
    echo("乡镇 townships: 建档立卡户 | 已建kW | 已覆盖/未覆盖贫困户 | 非贫困受益户 | 户均上报收益 | 户均模型收益 (元/年)")
    for row in result.townships.itertuples(index=False):
        echo(f"  {row.township_name}: {row.registered_poor_households} | {row.installed_kw:,.0f} | "
             f"{row.poor_households_covered}/{row.poor_households_not_covered} | {row.non_poor_beneficiaries} | "
             f"{_fmt(row.income_yuan_per_poor_household)} | {_fmt(row.modelled_income_yuan_per_poor_household)}")
    echo("")
    echo("行政村 villages (有光伏或有问题 with PV or flags):")
    villages = result.villages[(result.villages["projects"] > 0) | (result.villages["poor_households_covered"] > 0)
                               | (result.villages["non_poor_beneficiaries"] > 0)]
    for row in villages.itertuples(index=False):
        echo(f"  {row.township_name}{row.village_name}: 建档立卡 {row.registered_poor_households} 户, "
             f"已建 {row.installed_kw:,.0f} kW, 覆盖 {row.poor_households_covered} / 未覆盖 "
             f"{row.poor_households_not_covered}, 非贫困受益 {row.non_poor_beneficiaries}, "
             f"户均收益 {_fmt(row.income_yuan_per_poor_household)} 元/年 (模型 "
             f"{_fmt(row.modelled_income_yuan_per_poor_household)})")


# ------------------------------------------------------------------------------ site


@pv_app.command("site")
def site(
    db: DbOption = None,
    township: Annotated[str | None, typer.Option("--township", help="Site in this township (name, code, id); "
                                                 "default the whole district.", show_default=False)] = None,
    area: Annotated[Path | None, typer.Option("--area", help="Vector file of polygons to site in instead of "
                                              "the townships.", show_default=False)] = None,
    cell_size: Annotated[float, typer.Option("--cell-size", help="Grid cell side [m].")] = 100.0,
    dem: Annotated[Path | None, typer.Option("--dem", help="DEM GeoTIFF [m], any CRS (reprojected).",
                                             show_default=False)] = None,
    max_slope: Annotated[float, typer.Option("--max-slope", help="Steepest mean slope kept [%] (NREL reV: 5).")]
    = params.MAX_SLOPE_PCT,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="LAYER:BUFFER_M: a registry layer or vector file whose features, buffered, exclude "
        "the cells they touch (repeatable), e.g. water_facilities:50 or farmland.geojson:100.",
        show_default=False)] = None,
    keep_existing: Annotated[bool, typer.Option("--keep-existing", help="Do not exclude existing PV project "
                                                "footprints.")] = False,
    no_exclude: Annotated[list[str] | None, typer.Option(
        "--no-exclude", help="Switch a default exclusion off (repeatable): settlements, villages, township_seats, "
        "roads, water, existing_pv.", show_default=False)] = None,
    buffer: Annotated[list[str] | None, typer.Option(
        "--buffer", help="NAME=METRES: a default exclusion's buffer (repeatable), e.g. settlements=500.",
        show_default=False)] = None,
    land_cover: Annotated[Path | None, typer.Option(
        "--land-cover", help="Land cover to exclude: a GeoTIFF of class codes (with its CRS) or a vector file of "
        "cropland/forest polygons.", show_default=False)] = None,
    land_cover_classes: Annotated[str | None, typer.Option(
        "--land-cover-classes", help="Raster classes excluded, comma-separated (default ESA WorldCover 10,40,50,"
        "80,90,95).", show_default=False)] = None,
    category: CategoryOption = params.DEFAULT_CATEGORY,
    target_income: Annotated[float, typer.Option("--target-income", help="Per credited household [yuan/yr].")]
    = params.TARGET_INCOME_YUAN_PER_HOUSEHOLD,
    temp: TempOption = None,
    wind: WindOption = None,
    grid: Annotated[str | None, typer.Option("--grid", help="Power lines/substations: a vector file or layer.",
                                             show_default=False)] = None,
    max_grid_distance: Annotated[float, typer.Option("--max-grid-distance", help="[m]")] = MAX_GRID_DISTANCE_M,
    min_area: Annotated[float, typer.Option("--min-area", help="Smallest candidate [ha].")] = MIN_AREA_HA,
    block_size: Annotated[float, typer.Option("--block-size", help="Merge contiguous cells within blocks of "
                                              "this side [m].")] = BLOCK_SIZE_M,
    power_density: Annotated[float | None, typer.Option(
        "--power-density", help="[kWp/ha]; default the category's (LBNL 2022 fixed tilt: 870).",
        show_default=False)] = None,
    max_kwp: Annotated[float | None, typer.Option("--max-kwp", help="Cap one candidate's capacity [kWp]; default "
                                                  "the category's (village 500).", show_default=False)] = None,
    beneficiary_distance: Annotated[float, typer.Option("--beneficiary-distance", help="[m]")] = BENEFICIARY_DISTANCE_M,
    top: Annotated[int, typer.Option("--top", help="Best N candidates.")] = 10,
    weather: WeatherOption = None,
    price: CategoryPriceOption = None,
    clearsky_factor: FactorOption = params.CLEARSKY_FACTOR,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write candidates: .geojson, .gpkg or "
                                                ".csv.", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """新建电站选址 Site new PV stations of a category: settlements, roads, water, township seats and existing PV
    excluded by default; candidates chosen together so each poor household is credited once."""
    buffers = dict(parse_buffer(text) for text in buffer or ())
    classes = {} if land_cover_classes is None else {"land_cover_classes": _codes(land_cover_classes)}
    result = run_siting(
        engine_for(db), township=township, area=area, exclude=exclude or (), keep_existing=keep_existing, grid=grid,
        no_exclude=no_exclude or (), buffers=buffers, land_cover=land_cover, category=category,
        target_income_yuan_per_household=target_income, climate=parse_climate(temp, wind),
        cell_size_m=cell_size, dem=dem, max_slope_pct=max_slope, max_grid_distance_m=max_grid_distance,
        block_size_m=block_size, min_area_ha=min_area, power_density_kwp_per_ha=power_density,
        max_station_kwp=max_kwp, beneficiary_distance_m=beneficiary_distance,
        weather=weather, clearsky_factor=clearsky_factor, price_yuan_per_kwh=price, top=top, **classes,
    )
    if output is not None:
        _write_candidates(result, output)
    if as_json:
        echo_json(site_json(result))
        return
    _print_site(result)
    if output is not None:
        typer.echo(f"wrote {output}")


def _codes(text: str) -> list[int]:
    try:
        return [int(p) for p in text.replace("，", ",").split(",") if p.strip()]
    except ValueError:
        raise ValidationError(f"--land-cover-classes {text!r}: give whole class codes separated by commas, "
                              "e.g. 10,40") from None


def _write_candidates(result: SitingResult, output: Path) -> None:
    suffix = output.suffix.lower()
    frame = result.candidates
    if suffix == ".csv":
        write_csv(pd.DataFrame(frame.drop(columns="geometry")), output, lineterminator="\n")
    elif suffix in (".geojson", ".json"):
        output.write_text(json.dumps(feature_collection(frame, id_column="candidate_id"), ensure_ascii=False),
                          encoding="utf-8")
    elif suffix == ".gpkg":
        gpd.GeoDataFrame(frame).to_file(output, driver="GPKG", layer="pv_candidates")
    else:
        raise ValidationError(f"cannot write {output}: give a .geojson, .gpkg or .csv file name")


def _print_site(result: SitingResult) -> None:
    echo = typer.echo
    echo("光伏电站选址 PV station siting")
    echo(estimate_line(result.is_estimate, result.weather_label) if len(result.candidates) else "")
    echo(f"类别 category: {CATEGORY_LABELS.get(result.category, result.category)}, 电价 {result.price_yuan_per_kwh:g} "
         f"元/kWh, 目标 {result.target_income_yuan_per_household:,.0f} 元/户·年")
    echo(f"网格 cells: {result.cells_evaluated:,} evaluated ({result.cell_size_m:g} m, {result.metric_crs}), "
         f"{result.cells_kept:,} kept")
    echo("排除面积 excluded area (ha, each cell counted once at its first reason): "
         + ", ".join(f"{k} {v:,.0f}" for k, v in result.excluded_area_ha.items()))
    for note in result.notes:
        echo(f"注 note: {note}")
    if result.candidates.empty:
        echo("没有符合条件的候选区 no candidate area passes the criteria")
        return
    echo("排名 | 区域 | 用地 ha | 装机 kWp | kWh/kWp | 年收益 元 | 到户 元/户 | 公益岗位 | 坡度 % | 距电网 m | "
         "新增受益户(可达未覆盖) | 尚未覆盖 | 受益村 | 得分")
    for row in result.candidates.itertuples(index=False):
        echo(f"{row.rank:>3} | {row.area_name or '-'} | {row.area_ha:,.2f} | {row.capacity_kwp:,.0f} | "
             f"{row.kwh_per_kwp:,.0f} | {row.income_yuan_per_year:,.0f} | "
             f"{_fmt(row.income_yuan_per_beneficiary_household)} | {row.public_posts} | "
             f"{_fmt(row.mean_slope_pct, '.1f')} | {_fmt(row.grid_distance_m)} | {row.beneficiary_households} "
             f"({row.uncovered_households}) | {row.households_unreached_after} | {row.villages or '-'} | "
             f"{row.score:.1f}  @ {row.lat:.4f}, {row.lon:.4f}")
    if result.households_to_reach is not None:
        echo(f"建档立卡未覆盖户 {result.households_to_reach:,} 户, 以上候选覆盖后尚余 {result.households_unreached:,} 户 "
             "(each household credited to one candidate)")


# ------------------------------------------------------------------------------ size


@pv_app.command("size")
def size(
    households: Annotated[int | None, typer.Option("--households", help="Beneficiary households; default: the "
                                                   "village's registered-poor households.",
                                                   show_default=False)] = None,
    village: Annotated[str | None, typer.Option("--village", help="Village name (with --db): position and "
                                                "registered-poor households from the registry.",
                                                show_default=False)] = None,
    lat: Annotated[float | None, typer.Option("--lat", show_default=False)] = None,
    lon: Annotated[float | None, typer.Option("--lon", show_default=False)] = None,
    alt: Annotated[float | None, typer.Option("--alt", show_default=False)] = None,
    target_income: Annotated[float, typer.Option("--target-income", help="Per household [yuan/yr].")]
    = params.TARGET_INCOME_YUAN_PER_HOUSEHOLD,
    max_kwp: Annotated[float | None, typer.Option("--max-kwp", help="Upper bound of one station [kWp]; default "
                                                  "the category's (village 500).", show_default=False)] = None,
    household_share: Annotated[float | None, typer.Option(
        "--household-share", help="Share of income reaching households; default the category's distribution "
        "(village: 公益岗位 60 % + 奖励补助 10 %).", show_default=False)] = None,
    category: CategoryOption = params.DEFAULT_CATEGORY,
    weather: WeatherOption = None,
    price: CategoryPriceOption = None,
    clearsky_factor: FactorOption = params.CLEARSKY_FACTOR,
    temp: TempOption = None,
    wind: WindOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """村级电站规模 Size a village station so each beneficiary household gets the target income."""
    result, modelled, name = run_sizing(
        engine_for(db) if village is not None else None, households=households, latitude=lat, longitude=lon,
        village=village, altitude_m=alt, weather=weather, price_yuan_per_kwh=price, clearsky_factor=clearsky_factor,
        climate=parse_climate(temp, wind), category=category,
        target_income_yuan_per_household=target_income, max_station_kwp=max_kwp, household_share=household_share)
    if as_json:
        echo_json(size_json(result, modelled, village=name, latitude=modelled.latitude, longitude=modelled.longitude))
        return
    echo = typer.echo
    echo(f"{CATEGORY_LABELS.get(result.category, result.category)}规模 station sizing" + (f": {name}" if name else ""))
    echo(estimate_line(modelled.is_estimate, modelled.weather_label))
    echo(f"受益户 {result.households} 户 × 目标 {result.target_income_yuan_per_household:,.0f} 元/年; "
         f"单位发电量 {result.kwh_per_kwp:,.0f} kWh/kWp × 电价 {result.price_yuan_per_kwh:g} 元/kWh"
         f" × 分配比例 {result.household_share:g}")
    echo(f"所需装机 required_kwp: {result.required_kwp:,.1f} kWp (户均 {result.kwp_per_household:.2f} kWp)")
    if result.capped:
        echo(f"超过单站上限 {result.max_station_kwp:,.0f} kWp: 需 {result.stations_needed} 座电站; 单座上限电站 "
             f"户均 {result.income_yuan_per_household:,.0f} 元/年")
    else:
        echo(f"建议装机 capacity_kwp: {result.capacity_kwp:,.1f} kWp → 年发电 {result.annual_kwh:,.0f} kWh, "
             f"年收益 {result.income_yuan_per_year:,.0f} 元, 户均 {result.income_yuan_per_household:,.0f} 元/年")
    echo(f"用地 land: {result.land_m2:,.0f} m²; 公益岗位 {result.public_posts} 个, 村集体公益事业 "
         f"{result.collective_yuan_per_year:,.0f} 元/年, 运维与并网费等 {result.operator_yuan_per_year:,.0f} 元/年")


# ------------------------------------------------------------------------------ ledger


@pv_app.command("ledger")
def ledger(
    ledger_file: Annotated[Path | None, typer.Argument(
        help="Station ledger XLSX: 项目编号, 年度, 发电量(kWh), 收益(元), 到户(元), 公益岗位工资(元), 公益岗位数, "
             "公益事业(元), 运维及并网费(元).", show_default=False)] = None,
    record: Annotated[bool, typer.Option("--record", help="After the whole file passed the check, store its years "
                                         "(a project's year recorded before is replaced, its version goes up). "
                                         "Without it nothing is stored.")] = False,
    show: Annotated[str | None, typer.Option("--show", metavar="PROJECT_CODE", help="Show a project's recorded "
                                             "ledger, checked, instead of reading a file.", show_default=False)] = None,
    db: DbOption = None,
    weather: WeatherOption = None,
    ratio: Annotated[float, typer.Option("--ratio", help="Flag a year below this share of the model or the "
                                         "plan.")] = UNDER_DELIVERY_RATIO,
    as_json: JsonOption = False,
) -> None:
    """电站收益台账 Check a station ledger (generation against the model, household income against the plan),
    record it (--record) or show a project's recorded years (--show)."""
    if (ledger_file is None) == (show is None):
        raise ValidationError("give either a ledger XLSX file or --show PROJECT_CODE")
    if show is not None and record:
        raise ValidationError("--record takes a ledger file, not --show")
    engine = engine_for(db)
    written: list[dict] = []
    if show is not None:
        checked, review = read_project_ledger(engine, show, weather=weather, under_delivery_ratio=ratio)
        title = f"光伏电站收益台账 PV station ledger of {show} (recorded)"
    elif record:
        checked, review, written = record_ledger(engine, ledger_file, actor=cli_actor(), weather=weather,
                                                 under_delivery_ratio=ratio)
        title = "光伏电站收益台账 PV station ledger recorded"
    else:
        checked, review = run_ledger_check(engine, ledger_file, weather=weather, under_delivery_ratio=ratio)
        title = "光伏电站收益台账核查 PV station ledger check (nothing is stored; --record stores it)"
    if as_json:
        echo_json(ledger_json(checked, review, written if record else None))
        return
    echo = typer.echo
    echo(title)
    echo(estimate_line(review.is_estimate, review.weather_label))
    if checked.empty:
        echo(f"项目 {show} 尚无台账记录 no ledger recorded yet: atlas pv ledger FILE.xlsx --record")
        return
    echo("行 | 项目 | 年度 | 发电量/模型 | 到户+公益岗位/方案 | 公益岗位 | 问题")
    for row in checked.itertuples(index=False):
        echo(f"{row.row:>3} | {row.project_code} {row.name} | {row.year} | {_fmt(row.generation_ratio, '.0%')} | "
             f"{_fmt(row.households_ratio, '.0%')} | {row.posts} | {row.flag_labels or '无'}")
    echo(f"{len(checked)} 行, {int((checked['flags'].map(len) > 0).sum())} 行有问题")
    if written:
        replaced = sum(w["action"] == "update" for w in written)
        echo(f"已记录 recorded {len(written) - replaced} 新年度, {replaced} 年度已替换 replaced (version +1)")


def register(app: typer.Typer) -> None:
    app.add_typer(pv_app, name="pv")
