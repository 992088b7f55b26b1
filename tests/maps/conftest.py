"""Small hand-built registry frames for the map builders (no database)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, Point, box

CRS = "EPSG:4326"
XSS = "<img src=x onerror=alert(1)>"
#: XSS as it appears in a page's JSON (escaped by ``maps.base.js_json``).
ESCAPED = "\\u003cimg src=x onerror=alert(1)\\u003e"


@pytest.fixture
def townships() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [1], "code": ["640502100"], "name": ["甲镇"], "source": ["test"]},
        geometry=[box(105.0, 37.0, 105.4, 37.4).buffer(0)], crs=CRS)


@pytest.fixture
def villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": [1, 2, 3, 4],
            "name": ["一村", "二村", XSS, "四村"],
            "township_id": [1, 1, 1, 1],
            "township_name": ["甲镇"] * 4,
            "category": ["key_poor", "poor", "exited", "non_poor"],
            "households": [300, 200, 150, 100],
            "registered_poor_households": [40, 20, 0, 0],
            "population": [1000, 700, 500, 300],
            "source": ["test"] * 4,
        },
        geometry=[Point(105.1, 37.1), Point(105.2, 37.2), Point(105.3, 37.3), Point(105.35, 37.05)],
        crs=CRS)


@pytest.fixture
def units() -> gpd.GeoDataFrame:
    # Unit 10 has its office in the district; unit 11 sits in Yinchuan, far outside it;
    # unit 12 only leads a work team.
    return gpd.GeoDataFrame(
        {"id": [10, 11, 12], "name": ["区财政局", "自治区某厅", "市某局"],
         "kind": ["party_government"] * 3, "level": ["district", "region", "city"],
         "source": ["test"] * 3},
        geometry=[Point(105.15, 37.35), Point(106.23, 38.48), Point(105.25, 37.38)], crs=CRS)


@pytest.fixture
def pairings() -> pd.DataFrame:
    return gpd.GeoDataFrame(
        {"id": [1, 2, 3], "unit_id": [10, 11, 10], "village_id": [1, 1, 3], "year": [2019] * 3,
         "task_funds_wan_yuan": [1.5, 2.0, 0.5], "seq": [1, 2, 3], "source": ["test"] * 3},
        geometry=[None] * 3, crs=CRS)


@pytest.fixture
def work_teams() -> pd.DataFrame:
    return gpd.GeoDataFrame(
        {"id": [1], "village_id": [1], "year": [2019], "leader_unit_id": [12], "source": ["test"]},
        geometry=[None], crs=CRS)


@pytest.fixture
def roads() -> gpd.GeoDataFrame:
    # 0.1 degree of latitude is about 11.1 km.
    return gpd.GeoDataFrame(
        {"id": [1, 2], "code": ["R1", "R2"], "name": ["县道", "土路"], "road_class": ["county", "track"],
         "surface": ["hardened", "earth"], "width_m": [7.5, 3.0], "source": ["test"] * 2},
        geometry=[MultiLineString([[(105.1, 37.1), (105.1, 37.2)]]),
                  MultiLineString([[(105.2, 37.2), (105.2, 37.25)]])], crs=CRS)


@pytest.fixture
def water() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [1, 2], "code": ["W1", "W2"], "name": ["供水点", "管道"], "kind": ["supply_point", "pipeline"],
         "status": ["working", "damaged"], "is_drinking": [True, True], "capacity_m3_per_day": [100.0, None],
         "village_name": ["一村", "二村"], "source": ["test"] * 2},
        geometry=[Point(105.11, 37.11), LineString([(105.2, 37.2), (105.22, 37.22)])], crs=CRS)


@pytest.fixture
def pv() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [1, 2], "code": ["P1", "P2"], "name": ["户用光伏", "集中电站"],
         "kind": ["household_rooftop", "centralized_station"], "capacity_kw": [3.0, 20000.0],
         "status": ["grid_connected", "planned"], "village_name": ["一村", None], "source": ["test"] * 2},
        geometry=[Point(105.12, 37.12), Point(105.3, 37.1)], crs=CRS)


@pytest.fixture
def pv_frames(pv, villages, townships) -> dict:
    """The PV map builder's frames: two projects (one named XSS), one household, a fixed yield."""
    projects = pv.assign(village_id=[1, None], annual_income_yuan=[0.0, None], beneficiary_households=[1, None],
                         name=["户用光伏", XSS])
    households = pd.DataFrame({"id": [1], "village_id": [1], "status": ["registered"]})
    return dict(projects=projects, households=households,
                project_households=pd.DataFrame({"project_id": [1], "household_id": [1]}),
                project_villages=pd.DataFrame({"project_id": [], "village_id": []}),
                villages=pd.DataFrame(villages.drop(columns="geometry")), village_points=villages,
                townships=townships, kwh_per_kwp=1500.0)


def mark_demo(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["source"] = "demo:approximate"
    return out
