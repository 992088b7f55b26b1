"""帮扶覆盖图: is every poor village covered by a unit and a work team, for leaders.

Townships are shaded three ways (each a layer in the layer control): the share of poor
villages with both a pairing unit and a resident work team, task funds per registered
household, and cadre load (cadres carrying more households than the limit). Village markers
carry the village's coverage figures. The figures come from
:func:`geo.analysis.coverage.analyze_coverage`, run here on the frames given.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import pandas as pd

from geo.analysis.coverage import (DEFAULT_MAX_HOUSEHOLDS_PER_CADRE, DEFAULT_POOR_CATEGORIES, FIRST_SECRETARY,
                                   analyze_coverage)
from geo.analysis.result import AnalysisResult
from geo.enums import VillageCategory
from maps import base as mb

COVERED_CLASSES = mb.Classes(
    breaks=(49.999, 79.999, 99.999),
    colors=("#d7301f", "#fc8d59", "#fdcc8a", "#1a9850"),
    labels=("低于50%", "50%–80%", "80%–100%（不含）", "100%"),
)
#: Colours of the funds choropleth, whose breaks come from the data (:func:`maps.base.classes_from_data`).
FUNDS_COLORS = ("#eff3ff", "#bdd7e7", "#6baed6", "#2171b5")
CADRE_CLASSES = mb.Classes(
    breaks=(0, 2, 5),
    colors=("#f7f7f7", "#fdd49e", "#fc8d59", "#b30000"),
    labels=("无超限责任人", "1–2人超限", "3–5人超限", "5人以上超限"),
)
VILLAGE_STATUS = {
    "covered": ("帮扶单位和工作队齐全", "#1a9850"),
    "partial": ("缺帮扶单位或工作队", "#fc8d59"),
    "none": ("既无帮扶单位也无工作队", "#d7301f"),
    "not_poor": ("非贫困村", "#969696"),
}


def coverage_map(
    *,
    villages: gpd.GeoDataFrame,
    pairings: pd.DataFrame,
    work_teams: pd.DataFrame,
    units: gpd.GeoDataFrame,
    cadres: pd.DataFrame,
    households: pd.DataFrame,
    townships: gpd.GeoDataFrame | None = None,
    year: int | None = None,
    max_households_per_cadre: int = DEFAULT_MAX_HOUSEHOLDS_PER_CADRE,
    poor_categories: Sequence[str] = DEFAULT_POOR_CATEGORIES,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """The coverage map (帮扶覆盖图).

    Parameters
    ----------
    villages, pairings, work_teams, units, cadres, households, townships
        Registry layers, as :func:`geo.analysis.coverage.analyze_coverage` takes them
        (``households`` without personal fields).
    year, max_households_per_cadre, poor_categories
        The analysis' rules (defaults: latest year, 5 households [households], poor and
        exited villages).
    township
        Name of the township the frames were filtered to (title only).
    base, tianditu_key
        See :func:`maps.base.new_map`.

    Raises
    ------
    ValidationError
        A frame without a column the analysis needs, or a bad rule.
    """
    result = analyze_coverage(villages, pairings, work_teams, units, cadres, households, townships,
                              year=year, max_households_per_cadre=max_households_per_cadre,
                              poor_categories=poor_categories)
    return coverage_map_from(result, demo_note=mb.demo_flag(villages, townships, units, pairings, households),
                             township=township, base=base, tianditu_key=tianditu_key)


def coverage_map_from(result: AnalysisResult, *, demo_note: str | None = None, township: str | None = None,
                      base: str | None = None, tianditu_key: str | None = None) -> folium.Map:
    """The coverage map from a coverage :class:`~geo.analysis.result.AnalysisResult`."""
    m = mb.new_map(base=base, tianditu_key=tianditu_key)
    towns = result.tables["townships"]
    towns = towns[towns.geometry.notna() & ~towns.geometry.is_empty] if isinstance(towns, gpd.GeoDataFrame) \
        else towns.iloc[0:0]
    villages = result.tables["villages"]
    limit = next((t.value for t in result.thresholds if t.name == "max_households_per_cadre"),
                 DEFAULT_MAX_HOUSEHOLDS_PER_CADRE)
    year = next((t.value for t in result.thresholds if t.name == "year"), None)
    legend = mb.Legend("图例", demo_note=demo_note)

    if len(towns):
        props = _township_properties(towns)
        funds_classes = mb.classes_from_data(towns["funds_per_registered_household_yuan"], colors=FUNDS_COLORS,
                                             unit="元/户")
        for key, name, column, classes, show in (
            ("coverage_share", "乡镇：贫困村帮扶全覆盖率", "covered_pct", COVERED_CLASSES, True),
            ("coverage_funds", "乡镇：户均帮扶任务资金", "funds_per_registered_household_yuan", funds_classes, False),
            ("coverage_cadres", f"乡镇：联系超{limit}户的帮扶责任人", "cadres_over_limit", CADRE_CLASSES, False),
        ):
            m.add_child(mb.overlay(
                towns, key=key, name=name, kind="path", properties=props,
                style={"color": "#555555", "weight": 1.2, "fillOpacity": 0.6},
                feature_styles=[{"fillColor": c} for c in classes.colors_of(towns[column])],
                popup_title="township_name",
                popup_rows=[("贫困村", "poor_villages"), ("有帮扶单位", "paired"), ("有驻村工作队", "teams"),
                            ("全覆盖率", "covered_pct"), ("帮扶任务资金", "funds"), ("建档立卡户", "registered"),
                            ("户均帮扶任务", "funds_per_household"), ("无帮扶责任人户数", "without_cadre"),
                            (f"联系超{limit}户的责任人", "cadres_over_limit")],
                tooltip="township_name", show=show,
                names=mb.Names("township_name", placement="center", always=True) if key == "coverage_share" else None,
            ))
        legend.sections.append(COVERED_CLASSES.legend("乡镇贫困村帮扶全覆盖率（单位和工作队齐全）"))
        legend.sections.append(funds_classes.legend("户均帮扶任务资金（按建档立卡户）"))
        legend.sections.append(CADRE_CLASSES.legend(f"帮扶责任人负担（联系超过{limit}户的人数）"))

    status = _village_status(villages)
    m.add_child(mb.overlay(
        villages, key="villages", name="行政村（帮扶覆盖）", kind="circle",
        properties=_village_properties(villages),
        style={"radius": 7, "weight": 1.5, "color": "#ffffff", "fillOpacity": 0.9},
        feature_styles=[{"fillColor": VILLAGE_STATUS[s][1]} for s in status],
        popup_title="name",
        popup_rows=[("乡镇", "township_name"), ("类别", "category"), ("帮扶单位", "units"),
                    ("帮扶任务资金", "funds"), ("驻村工作队队长单位", "leader"), ("第一书记", "secretary"),
                    ("建档立卡户", "registered"), ("户均帮扶任务", "funds_per_household"),
                    ("无帮扶责任人户数", "without_cadre")],
        tooltip="name", search="name", names=mb.Names("name"),
    ))
    legend.sections.insert(0, mb.LegendSection("行政村帮扶覆盖", tuple(
        mb.LegendItem(label, color, "circle") for label, color in VILLAGE_STATUS.values())))

    district = result.tables.get("district")
    parts = [f"{year}年" if year else None, township, f"{len(villages)} 个行政村"]
    if district is not None and len(district):
        row = district.iloc[0]
        parts.append(f"贫困村 {int(row['poor_villages'])} 个，全覆盖 {int(row['poor_villages_covered'])} 个")
    return mb.finish_map(m, title="帮扶覆盖图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         search=["villages"], bounds_from=[villages, towns])


# ------------------------------------------------------------------ steps


def _pct(value) -> str | None:
    return mb.fmt_number(None if pd.isna(value) else round(float(value), 1), "%")


def _yuan(value) -> str | None:
    return mb.fmt_number(None if pd.isna(value) else round(float(value)), "元/户", decimals=0)


def _township_properties(towns: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "township_name": towns["township_name"],
        "poor_villages": [mb.fmt_number(v, "个") for v in towns["poor_villages"]],
        "paired": [f"{int(a)} 个（{_pct(p) or '—'}）" for a, p in zip(towns["poor_villages_paired"], towns["paired_pct"])],
        "teams": [f"{int(a)} 个（{_pct(p) or '—'}）"
                  for a, p in zip(towns["poor_villages_with_work_team"], towns["work_team_pct"])],
        "covered_pct": [_pct(v) for v in towns["covered_pct"]],
        "funds": [mb.fmt_number(v, "万元", decimals=2) for v in towns["task_funds_wan_yuan"]],
        "registered": [mb.fmt_number(v, "户") for v in towns["registered_poor_households"]],
        "funds_per_household": [_yuan(v) for v in towns["funds_per_registered_household_yuan"]],
        "without_cadre": [mb.fmt_number(v, "户") for v in towns["households_without_cadre"]],
        "cadres_over_limit": [mb.fmt_number(v, "人") for v in towns["cadres_over_limit"]],
    }, index=towns.index)


def _village_status(villages: pd.DataFrame) -> list[str]:
    out = []
    for poor, unit, team in zip(villages["is_poor_village"], villages["has_pairing_unit"], villages["has_work_team"]):
        if not bool(poor):
            out.append("not_poor")
        elif bool(unit) and bool(team):
            out.append("covered")
        elif bool(unit) or bool(team):
            out.append("partial")
        else:
            out.append("none")
    return out


def _village_properties(villages: pd.DataFrame) -> pd.DataFrame:
    warn = []
    for poor, unit, team in zip(villages["is_poor_village"], villages["has_pairing_unit"], villages["has_work_team"]):
        items = []
        if bool(poor) and not bool(unit):
            items.append("贫困村无帮扶单位")
        if bool(poor) and not bool(team):
            items.append("贫困村无驻村工作队")
        warn.append(items or None)
    units = [[u for u in str(v).split("；") if u] if isinstance(v, str) else [] for v in villages["pairing_units"]]
    return pd.DataFrame({
        "name": villages["village_name"],
        "township_name": villages["township_name"],
        "category": mb.labels(villages["category"], VillageCategory),
        "units": units,
        "funds": [mb.fmt_number(v, "万元", decimals=2) for v in villages["task_funds_wan_yuan"]],
        "leader": villages["work_team_leader_unit"],
        "secretary": [FIRST_SECRETARY.get(s, s) for s in villages["first_secretary_status"]],
        "registered": [mb.fmt_number(v, "户") for v in villages["registered_poor_households"]],
        "funds_per_household": [_yuan(v) for v in villages["funds_per_registered_household_yuan"]],
        "without_cadre": [mb.fmt_number(v, "户") for v in villages["households_without_cadre"]],
        "_warn": warn,
    }, index=villages.index)
