"""The project library's projects on the road and water maps: each road (or well) project with
a geometry drawn in the colour of its pipeline stage (村级申报 ... 已移交资产), its popup giving
the stage, the day of its latest step, funds and 绩效目标.

The frame is the ``projects`` layer; its ``stage`` comes from :func:`geo.library.pipeline.with_stages`
(the map service adds it; a frame without it takes the stage of each project's status).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.enums import ProjectKind, ProjectStage
from geo.library.pipeline import with_stages
from maps import base as mb

#: Colour of each stage: purples before the works, orange during, greens once completed.
STAGE_COLORS = {
    ProjectStage.PROPOSED.value: "#bcbddc",
    ProjectStage.REVIEWED.value: "#9e9ac8",
    ProjectStage.APPROVED.value: "#6a51a3",
    ProjectStage.IN_PROGRESS.value: "#fd8d3c",
    ProjectStage.COMPLETED.value: "#41ab5d",
    ProjectStage.HANDED_OVER.value: "#006d2c",
}


def _chosen(projects: gpd.GeoDataFrame | None, kinds: tuple[str, ...]) -> gpd.GeoDataFrame | None:
    if projects is None or projects.empty or "kind" not in projects:
        return None
    frame = projects if "stage" in projects else with_stages(projects, pd.DataFrame(
        columns=["project_id", "stage", "event_date"]))
    geoms = frame.geometry
    keep = frame["kind"].astype(str).isin(kinds) & geoms.notna() & ~geoms.is_empty
    chosen = frame[keep.to_numpy()]
    return chosen if len(chosen) else None


def library_overlay(projects: gpd.GeoDataFrame | None, *, kinds: tuple[str, ...], key: str,
                    name: str) -> mb.Overlay | None:
    """The projects of ``kinds`` with a geometry, coloured by stage (None when there are none)."""
    chosen = _chosen(projects, kinds)
    if chosen is None:
        return None
    stages = chosen["stage"].astype(str)
    dates = chosen["stage_date"] if "stage_date" in chosen else pd.Series(None, index=chosen.index)
    properties = pd.DataFrame({
        "label": [f"{n}（{ProjectStage(s).label}）" for n, s in zip(chosen["name"], stages)],
        "code": chosen.get("code", pd.Series(None, index=chosen.index)).to_numpy(),
        "kind": chosen["kind"].map(ProjectKind.labels()).to_numpy(),
        "stage": [ProjectStage(s).label for s in stages],
        "date": [None if d is None or pd.isna(d) else str(d)[:10] for d in dates],
        "funds": [mb.fmt_number(v, "万元") for v in chosen.get("funds_wan_yuan", pd.Series(None, index=chosen.index))],
        "targets": chosen.get("performance_targets", pd.Series(None, index=chosen.index)).to_numpy(),
        "village": chosen.get("village_name", pd.Series(None, index=chosen.index)).to_numpy(),
    })
    points = chosen.geometry.geom_type.isin(["Point", "MultiPoint"]).all()
    return mb.overlay(
        chosen, key=key, name=name, kind="circle" if points else "path", properties=properties,
        style={"weight": 5, "opacity": 0.9, "radius": 7, "fillOpacity": 0.9, "color": "#ffffff"} if points
        else {"weight": 5, "opacity": 0.85},
        feature_styles=[({"fillColor": STAGE_COLORS[s]} if points else {"color": STAGE_COLORS[s]}) for s in stages],
        popup_title="label",
        popup_rows=[("项目编号", "code"), ("类型", "kind"), ("行政村", "village"), ("项目库阶段", "stage"),
                    ("最近一步", "date"), ("资金", "funds"), ("绩效目标", "targets")],
        tooltip="label",
    )


def library_legend(*, shape: str = "line") -> mb.LegendSection:
    """The stage colours, as a legend section."""
    return mb.LegendSection("项目库（按阶段）", tuple(
        mb.LegendItem(ProjectStage(s).label, c, shape) for s, c in STAGE_COLORS.items()))
