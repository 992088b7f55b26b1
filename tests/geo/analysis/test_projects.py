"""Registry projects close the gaps they were built for (both backends)."""

from __future__ import annotations

import geopandas as gpd
import pytest

from geo import storage
from geo.analysis import analyze
from tests.geo.analysis.conftest import line, point


def _project(registry, code, kind, status, geometry, *, village=None, year=2019):
    frame = gpd.GeoDataFrame({"code": [code], "name": [f"项目{code}"], "kind": [kind], "status": [status],
                              "year": [year], "village_id": [registry.ids[("village", village)] if village else None]},
                             geometry=gpd.GeoSeries([geometry], crs=4326), crs=4326)
    return storage.write_layer(registry.conn, "projects", frame, source="test").ids[0]


def test_a_completed_road_project_closes_the_gap_and_a_planned_one_only_when_asked(registry):
    registry.township("甲镇", seat=(0, 0))
    registry.road((0, 0), (0, 5_000))
    registry.village("远村", "甲镇", (3_000, 2_000))
    registry.village("新村", "甲镇", (-3_000, 2_000))
    _project(registry, "P-1", "road", "completed", line((0, 2_000), (3_000, 2_000)), village="远村", year=2018)
    _project(registry, "P-2", "road", "planned", line((0, 2_000), (-3_000, 2_000)), village="新村")
    _project(registry, "P-3", "road", "completed", point(-3_000, 2_000), village="新村")  # a point: not a road
    result = analyze(registry.load("roads"), "roads")
    villages = result.tables["villages"].set_index("village_name")
    assert villages.loc["远村", "joined_to_seat"] == True
    assert villages.loc["新村", "joined_to_seat"] == False
    assert len(result.tables["links"]) == 1
    assert any("1条已完成的道路项目" in note for note in result.notes)
    planned = analyze(registry.load("roads"), "roads", include_planned=True)
    assert planned.tables["villages"]["joined_to_seat"].all()
    assert planned.tables["links"].empty


def test_a_completed_well_project_is_a_supply_point(registry):
    registry.township("乙镇")
    registry.village("干村", "乙镇", (0, 0), population=300, households=100)
    registry.settlement("远组", "干村", (0, 3_000), households=40, population=120)
    before = analyze(registry.load("water"), "water").tables["settlements"].iloc[0]
    assert before["beyond_supply_distance"]
    _project(registry, "W-1", "well", "completed", point(0, 3_100), village="干村")
    after = analyze(registry.load("water"), "water")
    settlement = after.tables["settlements"].iloc[0]
    assert not settlement["beyond_supply_distance"]
    assert settlement["distance_to_water_m"] == pytest.approx(100, abs=1)
    assert any("1处已完成的机井项目" in note for note in after.notes)
