"""区县对比图: a prefecture or province with its counties as the units, for the offices above
the county.

Each county is shaded (a choropleth whose classes come from the data, as the coverage map's
funds: :func:`maps.base.classes_from_data`, mapclassify's natural breaks) by its poor
villages, its registered poor households and its share of poor villages; each measure is a
layer in the layer control. The figures are summed here from the village rows given.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo.enums import POOR_VILLAGE_CATEGORIES
from maps import base as mb

COLORS = ("#fee5d9", "#fcae91", "#fb6a4a", "#cb181d")
#: (key, layer name, column, unit, decimals, shown first)
MEASURES = (
    ("county_poor_villages", "区县：贫困村数", "poor_villages", "个", 0, True),
    ("county_registered", "区县：建档立卡贫困户", "registered_poor_households", "户", 0, False),
    ("county_poor_share", "区县：贫困村占比", "poor_village_pct", "%", 1, False),
)


def county_figures(areas: gpd.GeoDataFrame, townships: pd.DataFrame, villages: pd.DataFrame) -> gpd.GeoDataFrame:
    """One row per county of ``areas`` with its villages, poor villages, registered poor
    households and share of poor villages [%] (counties without villages: zeros)."""
    counties = areas[areas["level"].astype(str) == "county"].copy()
    county_of_town = pd.Series(townships["county_id"].values, index=townships["id"].values)
    frame = pd.DataFrame({
        "county_id": villages["township_id"].map(county_of_town),
        "poor": villages["category"].astype(str).isin(POOR_VILLAGE_CATEGORIES),
        "registered": pd.to_numeric(villages.get("registered_poor_households"), errors="coerce"),
    })
    stats = frame.groupby("county_id").agg(villages=("poor", "size"), poor_villages=("poor", "sum"),
                                           registered_poor_households=("registered", "sum"))
    counties = counties.join(stats, on="id")
    for column in ("villages", "poor_villages", "registered_poor_households"):
        counties[column] = counties[column].fillna(0).astype(int)
    counties["poor_village_pct"] = (100.0 * counties["poor_villages"] / counties["villages"].where(
        counties["villages"] > 0)).round(1)
    return counties


def counties_map(
    *,
    areas: gpd.GeoDataFrame,
    townships: pd.DataFrame,
    villages: pd.DataFrame,
    township: str | None = None,
    base: str | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """The county comparison map (区县对比图).

    Parameters
    ----------
    areas
        The registry's areas (provinces, prefectures, counties); counties with a boundary
        are drawn.
    townships, villages
        The townships (``id``, ``county_id``) and villages (``township_id``, ``category``,
        ``registered_poor_households``) the figures are summed from.
    township
        Name of the area the frames were filtered to (title only).
    base, tianditu_key
        See :func:`maps.base.new_map`.
    """
    m = mb.new_map(base=base, tianditu_key=tianditu_key)
    counties = county_figures(areas, townships, villages)
    drawn = counties[counties.geometry.notna() & ~counties.geometry.is_empty]
    legend = mb.Legend("图例", demo_note=mb.demo_flag(villages, townships, areas))
    props = pd.DataFrame({
        "name": drawn["name"], "code": drawn["code"],
        "villages": [mb.fmt_number(v, "个") for v in drawn["villages"]],
        "poor_villages": [mb.fmt_number(v, "个") for v in drawn["poor_villages"]],
        "registered": [mb.fmt_number(v, "户") for v in drawn["registered_poor_households"]],
        "share": [None if pd.isna(v) else mb.fmt_number(float(v), "%") for v in drawn["poor_village_pct"]],
    }, index=drawn.index)
    for key, name, column, unit, decimals, show in MEASURES:
        classes = mb.classes_from_data(counties[column], colors=COLORS, unit=unit, decimals=decimals)
        m.add_child(mb.overlay(
            drawn, key=key, name=name, kind="path", properties=props,
            style={"color": "#444444", "weight": 1.5, "fillOpacity": 0.65},
            feature_styles=[{"fillColor": c} for c in classes.colors_of(drawn[column])],
            popup_title="name",
            popup_rows=[("区划代码", "code"), ("行政村", "villages"), ("贫困村", "poor_villages"),
                        ("建档立卡贫困户", "registered"), ("贫困村占比", "share")],
            tooltip="name", show=show,
            names=mb.Names("name", placement="center", always=True) if show else None,
        ))
        legend.sections.append(classes.legend(name.replace("区县：", "各区县")))
    missing = len(counties) - len(drawn)
    parts = [township, f"{len(counties)} 个区县", f"{int(counties['villages'].sum())} 个行政村",
             f"{missing} 个区县无边界，未绘出" if missing else None]
    return mb.finish_map(m, title="区县对比图", subtitle=" · ".join(p for p in parts if p), legend=legend,
                         bounds_from=[drawn])
