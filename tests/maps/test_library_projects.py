"""The project library's road and well projects on the road and water maps, coloured by their
pipeline stage, with the stage and its day in the popup (hand-built frames, no database)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, MultiPoint

from geo.library.pipeline import with_stages
from maps.base import overlays_of, render_map
from maps.library import STAGE_COLORS
from maps.roads import roads_map
from maps.water import water_map
from tests.maps.conftest import CRS, ESCAPED, XSS
from tests.maps.test_analysis_maps import settlements  # noqa: F401 (the fixture the analysis maps use)


def _projects() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "code": ["XM-1", "XM-2", "XM-3"], "name": ["一村连接路", XSS, "二村机井"],
         "kind": ["road", "road", "well"], "status": ["planned", "building", "planned"], "village_id": [1, 2, 2],
         "village_name": ["一村", "二村", "二村"], "funds_wan_yuan": [120.0, None, 30.0],
         "performance_targets": ["新建硬化路2公里", None, "新打机井1眼"], "source": ["test"] * 3},
        geometry=[LineString([(105.1, 37.1), (105.12, 37.15)]), LineString([(105.2, 37.2), (105.21, 37.25)]),
                  MultiPoint([(105.21, 37.21)])], crs=CRS)
    events = pd.DataFrame({"project_id": [1, 1, 3], "stage": ["proposed", "reviewed", "proposed"],
                           "event_date": [dt.date(2026, 3, 1), dt.date(2026, 3, 9), dt.date(2026, 4, 1)]})
    return gpd.GeoDataFrame(with_stages(frame, events), geometry="geometry", crs=CRS)


def test_road_projects_are_drawn_in_the_colour_of_their_stage(villages, settlements, roads, townships):
    m = roads_map(villages=villages, settlements=settlements, roads=roads, townships=townships,
                  projects=_projects())
    layer = overlays_of(m)["library_projects"]
    shown = {f["p"]["code"]: f for f in layer.features}
    assert set(shown) == {"XM-1", "XM-2"}  # the well is on the water map
    assert (shown["XM-1"]["p"]["stage"], shown["XM-1"]["p"]["date"]) == ("乡镇审核", "2026-03-09")
    assert shown["XM-2"]["p"]["stage"] == "实施中"  # no history: the stage of its status
    assert [f["s"]["color"] for f in layer.features] == [STAGE_COLORS["reviewed"], STAGE_COLORS["in_progress"]]
    page = render_map(m)
    assert "项目库（按阶段）" in page and XSS not in page and ESCAPED in page


def test_well_projects_are_on_the_water_map(villages, settlements, water, townships):
    m = water_map(villages=villages, settlements=settlements, water_facilities=water, townships=townships,
                  projects=_projects())
    layer = overlays_of(m)["library_projects"]
    assert [f["p"]["code"] for f in layer.features] == ["XM-3"]
    assert layer.features[0]["p"]["stage"] == "村级申报"
    assert layer.features[0]["s"]["fillColor"] == STAGE_COLORS["proposed"]


def test_maps_without_library_projects_have_no_such_layer(villages, settlements, roads, townships):
    m = roads_map(villages=villages, settlements=settlements, roads=roads, townships=townships)
    assert "library_projects" not in overlays_of(m)
