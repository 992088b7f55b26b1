"""Every model round-trips a row with its geometry on SpatiaLite and on PostGIS."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo import storage
from geo.enums import LabeledEnum
from geo.layers import LAYERS

SQUARE = Polygon([(105.0, 37.4), (105.2, 37.4), (105.2, 37.6), (105.0, 37.6)])


def _parents(conn) -> dict[str, int]:
    ids = {}
    areas = storage.write_layer(conn, "areas", gpd.GeoDataFrame(
        {"code": ["640000", "640500", "640502"], "name": ["宁夏回族自治区", "中卫市", "沙坡头区"]},
        geometry=[None, None, None], crs=4326)).ids
    ids["prefecture"], ids["county"] = areas[1], areas[2]
    ids["township"] = storage.write_layer(conn, "townships", gpd.GeoDataFrame(
        {"name": ["测试镇"], "code": ["640502100"], "seat": gpd.GeoSeries([Point(105.1, 37.5)], crs=4326)},
        geometry=[SQUARE], crs=4326)).ids[0]
    ids["village"] = storage.write_layer(conn, "villages", gpd.GeoDataFrame(
        {"name": ["测试村"], "township_id": [ids["township"]], "category": ["key_poor"],
         "boundary": gpd.GeoSeries([box(105.05, 37.45, 105.1, 37.5)], crs=4326)},
        geometry=[Point(105.07, 37.47)], crs=4326)).ids[0]
    ids["settlement"] = storage.write_layer(conn, "settlements", gpd.GeoDataFrame(
        {"name": ["一组"], "village_id": [ids["village"]], "households": [25]},
        geometry=[Point(105.08, 37.48)], crs=4326)).ids[0]
    ids["unit"] = storage.write_layer(conn, "units", gpd.GeoDataFrame(
        {"name": ["测试局"], "kind": ["党政机关"], "level": ["district"]},
        geometry=[Point(105.19, 37.51)], crs=4326)).ids[0]
    ids["cadre"] = storage.write_layer(conn, "cadres", gpd.GeoDataFrame(
        {"name": ["王某军"], "unit_id": [ids["unit"]], "rank": ["科级"]}, geometry=[None], crs=4326)).ids[0]
    ids["household"] = storage.write_layer(conn, "households", gpd.GeoDataFrame(
        {"code": ["H-1"], "village_id": [ids["village"]], "status": ["registered"]},
        geometry=[Point(105.081, 37.481)], crs=4326)).ids[0]
    return ids


def _row(layer: str, ids: dict[str, int]) -> tuple[dict, object]:
    """A full row for each layer: every column gets a value (geometry separately)."""
    rows = {
        "areas": ({"code": "640521", "name": "中宁县", "level": "县级", "parent_id": ids["prefecture"]},
                  MultiPolygon([box(105.5, 37.4, 105.7, 37.6)])),
        "townships": ({"name": "另一镇", "code": "640502101", "county_id": ids["county"],
                       "seat": Point(105.3, 37.5)}, MultiPolygon([box(105.2, 37.4, 105.4, 37.6)])),
        "villages": ({"name": "另一村", "code": "640502100201", "township_id": ids["township"],
                      "category": "脱贫销号村", "population": 3800, "households": 1286,
                      "registered_poor_households": 126, "poor_population": 40,
                      "has_feature_industry": True, "stable_housing_share_pct": 98.5,
                      "medical_insurance_share_pct": 99.0, "out_of_school_children": 0,
                      "safe_water_share_pct": 97.0, "hardened_road": True, "road_surface_width_m": 4.5,
                      "power_share_pct": 100.0, "tv_share_pct": 99.0, "has_public_services": True,
                      "has_collective_economy": False, "collective_income_wan_yuan": 0.0,
                      "weak_party_organisation": False,
                      "boundary": MultiPolygon([box(105.1, 37.5, 105.15, 37.55)])}, Point(105.12, 37.52)),
        "settlements": ({"name": "二组", "village_id": ids["village"], "households": 15,
                         "population": 50}, Point(105.06, 37.46)),
        "households": ({"code": "H-2", "village_id": ids["village"], "settlement_id": ids["settlement"],
                        "status": "已脱贫", "status_year": 2016, "poverty_causes": "因病、缺技术",
                        "members": 4, "income_per_person_yuan": 6500.0, "assured_food_clothing": True,
                        "assured_education": True, "assured_medical": True, "assured_housing": False,
                        "housing_m2_per_person": 12.5, "has_safe_water": True, "has_power": True,
                        "has_tv": False, "cadre_id": ids["cadre"], "head_name": "马某华",
                        "id_number": "64050219800101123X"}, Point(105.082, 37.482)),
        "units": ({"name": "另一公司", "kind": "state_enterprise", "level": "市级"}, Point(105.2, 37.5)),
        "pairings": ({"unit_id": ids["unit"], "village_id": ids["village"], "year": 2019,
                      "task_funds_wan_yuan": 1.5, "seq": 7}, None),
        "work_teams": ({"village_id": ids["village"], "year": 2019, "leader_unit_id": ids["unit"],
                        "first_secretary": "李某明", "member_count": 3}, None),
        "cadres": ({"name": "张某平", "code": "C-9", "unit_id": ids["unit"], "rank": "处级"}, None),
        "roads": ({"code": "X101", "name": "县道", "road_class": "county", "surface": "硬化路",
                   "width_m": 7.5}, LineString([(105.0, 37.5), (105.1, 37.52), (105.2, 37.5)])),
        "water_facilities": ({"code": "W1", "name": "供水点", "kind": "supply_point", "status": "正常运行",
                              "is_drinking": True, "capacity_m3_per_day": 120.0,
                              "village_id": ids["village"]}, Point(105.071, 37.471)),
        "pv_projects": ({"code": "PV1", "name": "村级电站", "kind": "village_station", "capacity_kw": 200.0,
                         "status": "已并网", "grid_date": dt.date(2018, 6, 30), "investment_wan_yuan": 150.0,
                         "village_id": ids["village"], "beneficiary_households": 40,
                         "annual_income_yuan": 210000.0}, box(105.072, 37.472, 105.073, 37.473)),
        "projects": ({"code": "P1", "name": "道路硬化", "kind": "road", "village_id": ids["village"],
                      "unit_id": ids["unit"], "funds_wan_yuan": 1.2, "quantity": 2.5, "quantity_unit": "km",
                      "year": 2019, "status": "completed", "funding_mode": "自筹项目"},
                     LineString([(105.07, 37.47), (105.08, 37.48)])),
        "unit_inputs": ({"unit_id": ids["unit"], "village_id": ids["village"], "year": 2019,
                         "cadres_division": 1, "cadres_section": 2, "cadres_general": 4,
                         "visits_per_cadre": 8.5, "warmth_households": 20, "warmth_money_yuan": 6000.0,
                         "project_funds_wan_yuan": 1.0, "road_km": 1.5, "wells": 2,
                         "total_input_wan_yuan": 1.8, "other": "捐赠图书"}, None),
    }
    return rows[layer]


def _expected(value):
    if isinstance(value, LabeledEnum):
        return value.value
    return value


@pytest.mark.parametrize("layer", list(LAYERS))
def test_every_layer_round_trips_a_full_row(conn, layer):
    ids = _parents(conn)
    values, geometry = _row(layer, ids)
    spec = LAYERS[layer]
    frame = gpd.GeoDataFrame({k: [v] for k, v in values.items()}, geometry=[geometry], crs=4326)
    for name in spec.secondary_geometries:
        if name in frame:
            frame[name] = gpd.GeoSeries(frame[name], crs=4326)
    written = storage.write_layer(conn, layer, frame, source="test")
    assert written.inserted == 1

    back = storage.read_layer(conn, layer, ids=written.ids, include_pii=True)
    assert len(back) == 1
    row = back.iloc[0]
    for name, value in values.items():
        stored = row[name]
        if hasattr(value, "geom_type"):
            assert stored.equals_exact(value, 1e-9), name
        elif isinstance(value, str) and name in {c.name for c in spec.table.columns
                                                 if getattr(c.type, "enum_class", None)}:
            enum_cls = spec.table.c[name].type.enum_class
            assert stored == enum_cls.parse(value).value, name
        elif isinstance(value, dt.date):
            assert stored == value, name
        else:
            assert stored == value, name
    if geometry is None:
        assert row.geometry is None
    else:
        column_type = spec.table.c[spec.geometry].type.geometry_type
        assert row.geometry.equals(geometry)
        if column_type.startswith("MULTI"):
            assert row.geometry.geom_type.upper() == column_type  # singles are promoted
        else:
            assert row.geometry.equals_exact(geometry, 1e-9)
    assert row["source"] == "test"
    assert row["version"] == 1


def test_geometry_columns_have_spatial_indexes(engine, backend):
    import sqlalchemy as sa

    with engine.connect() as c:
        if backend == "postgis":
            indexed = set(c.execute(sa.text(
                "SELECT tablename || '.' || indexdef FROM pg_indexes WHERE indexdef LIKE '%USING gist%'"
            )).scalars())
            names = {i.split(".", 1)[0] + "." + i.split("(")[-1].rstrip(")") for i in indexed}
        else:
            names = {f"{t}.{g}" for t, g in c.execute(sa.text(
                "SELECT f_table_name, f_geometry_column FROM geometry_columns WHERE spatial_index_enabled = 1"
            ))}
            srids = set(c.execute(sa.text("SELECT DISTINCT srid FROM geometry_columns")).scalars())
            assert srids == {4326}
    for spec in LAYERS.values():
        for column in spec.geometry_columns:
            assert f"{spec.table.name}.{column}" in names
