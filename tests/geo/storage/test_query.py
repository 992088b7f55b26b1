"""Reading layers: frames in WGS 84 with labels, filters, paging, personal fields, on both backends."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from geo import storage
from geo.errors import NotFound, ValidationError
from geo.geojson import feature_collection


def test_read_returns_a_geoframe_in_wgs84_with_labels(conn, towns):
    villages = storage.read_layer(conn, "villages")
    assert isinstance(villages, gpd.GeoDataFrame)
    assert villages.crs.to_epsg() == 4326
    assert list(villages["name"]) == ["一村", "二村", "三村"]
    assert list(villages["township_name"]) == ["西镇", "西镇", "东镇"]
    assert list(villages["category"]) == ["key_poor", "poor", "exited"]
    assert villages.columns[0] == "id"


def test_township_filter_accepts_name_or_id_and_names_the_choices(conn, towns):
    assert list(storage.read_layer(conn, "villages", township="东镇")["name"]) == ["三村"]
    assert list(storage.read_layer(conn, "villages", township=towns["west"])["name"]) == ["一村", "二村"]
    with pytest.raises(NotFound, match="东镇"):
        storage.read_layer(conn, "villages", township="北镇")


def test_township_filter_on_lines_is_spatial(conn, towns):
    roads = gpd.GeoDataFrame({"surface": ["hardened", "gravel"]},
                             geometry=[LineString([(105.01, 37.5), (105.1, 37.5)]),
                                       LineString([(105.25, 37.5), (105.35, 37.5)])], crs=4326)
    storage.write_layer(conn, "roads", roads)
    assert list(storage.read_layer(conn, "roads", township="东镇")["surface"]) == ["gravel"]


def test_bbox_filter_and_count(conn, towns):
    inside = storage.read_layer(conn, "villages", bbox=(105.0, 37.4, 105.1, 37.6))
    assert list(inside["name"]) == ["一村"]
    assert storage.count_layer(conn, "villages", bbox=(105.0, 37.4, 105.2, 37.6)) == 2
    with pytest.raises(ValidationError, match="bbox"):
        storage.read_layer(conn, "villages", bbox=(105.2, 37.4, 105.0, 37.6))


def test_where_filter_accepts_chinese_labels_and_refuses_unknown_fields(conn, towns):
    assert list(storage.read_layer(conn, "villages", where={"category": "重点贫困村"})["name"]) == ["一村"]
    assert storage.count_layer(conn, "villages", where={"category": ["poor", "exited"]}) == 2
    with pytest.raises(ValidationError, match="filterable fields"):
        storage.read_layer(conn, "villages", where={"colour": "red"})


def test_paging_in_id_order(conn, towns):
    page = storage.read_layer(conn, "villages", limit=2, offset=1)
    assert list(page["name"]) == ["二村", "三村"]


def test_personal_fields_are_hidden_unless_asked(conn, towns):
    households = gpd.GeoDataFrame({"code": ["H1"], "village_id": [towns["villages"][0]], "status": ["registered"],
                                   "head_name": ["马某华"], "id_number": ["640502198001011235"]},
                                  geometry=[Point(105.05, 37.5)], crs=4326)
    storage.write_layer(conn, "households", households)
    plain = storage.read_layer(conn, "households")
    assert "head_name" not in plain and "id_number" not in plain
    assert "马某华" not in json.dumps(feature_collection(plain), ensure_ascii=False)
    with pytest.raises(ValidationError):
        storage.read_layer(conn, "households", columns=["code", "head_name"])
    with pytest.raises(ValidationError):
        storage.read_layer(conn, "households", where={"head_name": "马某华"})
    full = storage.read_layer(conn, "households", include_pii=True)
    assert full.loc[0, "head_name"] == "马某华"


def test_unknown_layer_names_the_layers(conn):
    with pytest.raises(NotFound, match="villages"):
        storage.read_layer(conn, "parcels")


def test_reading_before_the_schema_exists_says_what_to_run(empty_url):
    from geo.db import make_engine
    from geo.errors import SchemaMissing

    with pytest.raises(SchemaMissing, match="atlas db upgrade"):
        storage.read_layer(make_engine(empty_url), "villages")
