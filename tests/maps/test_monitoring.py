"""The 防返贫监测图 builder on hand-built frames: counts per village always, household points
only when given, the water flag and overdue ring styled, personal fields refused."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
from shapely.geometry import Point

from maps import base as mb
from maps.monitoring import BEYOND_STYLE, OVERDUE_STYLE, monitoring_map


def villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [1, 2], "name": ["甲村", "乙村"], "category": ["poor", "exited"],
                             "monitored": [1, 0], "open_cases": [2, 0], "overdue": [1, 0], "beyond_water": [1, 0],
                             "source": ["test", "test"]},
                            geometry=[Point(105.1, 37.5), Point(105.2, 37.5)], crs=4326)


def cases(**extra) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["JC2026-0001", "JC2026-0002"], "household_code": ["H1", "H2"],
                             "status": ["approved", "lead"], "category": ["marginal", None],
                             "village_name": ["甲村", "甲村"], "due_on": [dt.date(2026, 12, 1), None],
                             "overdue": [True, False], "distance_to_water_m": [2500.0, 300.0],
                             "beyond_water": [True, False], "source": ["demo:synthetic"] * 2, **extra},
                            geometry=[Point(105.11, 37.5), Point(105.12, 37.5)], crs=4326)


def test_counts_only_without_points():
    m = monitoring_map(villages=villages())
    layers = mb.overlays_of(m)
    assert set(layers) == {"villages"}
    first = layers["villages"].features[0]
    assert first["p"]["open_cases"] == "2 件" and first["p"]["beyond"] == "1 户"
    assert first["s"]["dashArray"] == OVERDUE_STYLE["dashArray"]
    assert "dashArray" not in layers["villages"].features[1]["s"]


def test_points_carry_the_water_flag():
    m = monitoring_map(villages=villages(), cases=cases(), synthetic=True)
    points = mb.overlays_of(m)["cases"].features
    assert [f["p"]["code"] for f in points] == ["JC2026-0001", "JC2026-0002"]
    assert points[0]["s"]["color"] == BEYOND_STYLE["color"] and points[0]["p"]["_warn"] == ["逾期", "超出取水距离"]
    assert "color" not in points[1]["s"] and "_warn" not in points[1]["p"]


def test_personal_fields_are_refused():
    with pytest.raises(ValueError, match="must not carry personal fields"):
        monitoring_map(villages=villages(), cases=cases(head_name=["张三", "李四"]))
