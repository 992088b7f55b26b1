"""Levels above the township: two counties in one registry, area filters at every level by code
and by name, and the code prefix rules (both backends, rolled back)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from geo import storage
from geo.errors import NotFound, ValidationError

# two counties of one prefecture, side by side (touching along x = 105.2)
WEST = Polygon([(105.0, 37.4), (105.2, 37.4), (105.2, 37.6), (105.0, 37.6)])
EAST = Polygon([(105.2, 37.4), (105.4, 37.4), (105.4, 37.6), (105.2, 37.6)])


def _areas(conn, *, east=EAST):
    frame = gpd.GeoDataFrame(
        {"code": ["640000", "640500", "640502", "640521"],
         "name": ["宁夏回族自治区", "中卫市", "沙坡头区", "中宁县"]},
        geometry=[None, None, WEST, east], crs=4326)
    return storage.write_layer(conn, "areas", frame)


@pytest.fixture
def two_counties(conn):
    ids = dict(zip(["nx", "zw", "spt", "zn"], _areas(conn).ids))
    towns = gpd.GeoDataFrame(
        {"name": ["城关镇", "城关镇"], "code": ["640502100", "640521100"]},
        geometry=[WEST.buffer(-0.01), EAST.buffer(-0.01)], crs=4326)
    town_ids = storage.write_layer(conn, "townships", towns).ids
    villages = gpd.GeoDataFrame(
        {"name": ["红柳村", "红柳村"], "township_id": town_ids, "category": ["poor", "exited"],
         "code": ["640502100201", "640521100201"]},
        geometry=[Point(105.1, 37.5), Point(105.3, 37.5)], crs=4326)
    village_ids = storage.write_layer(conn, "villages", villages).ids
    return {**ids, "towns": town_ids, "villages": village_ids}


def test_areas_find_their_parents_and_townships_their_county_from_the_codes(conn, two_counties):
    areas = storage.read_layer(conn, "areas").set_index("code")
    assert areas.loc["640502", "level"] == "county" and areas.loc["640500", "level"] == "prefecture"
    assert areas.loc["640502", "parent_name"] == "中卫市" and areas.loc["640500", "parent_name"] == "宁夏回族自治区"
    towns = storage.read_layer(conn, "townships").set_index("code")
    assert towns.loc["640502100", "county_name"] == "沙坡头区"
    assert towns.loc["640521100", "county_name"] == "中宁县"
    villages = storage.read_layer(conn, "villages").set_index("code")
    assert villages.loc["640521100201", "county_name"] == "中宁县"


@pytest.mark.parametrize("area, expected", [
    ("640000", {"640502100201", "640521100201"}),      # province by code
    ("宁夏回族自治区", {"640502100201", "640521100201"}),  # ... by name
    ("640500", {"640502100201", "640521100201"}),      # prefecture by code
    ("中卫市", {"640502100201", "640521100201"}),
    ("640521", {"640521100201"}),                      # county by code
    ("中宁县", {"640521100201"}),
    ("640502100", {"640502100201"}),                   # township by code
])
def test_area_filter_at_every_level_by_code_and_by_name(conn, two_counties, area, expected):
    villages = storage.read_layer(conn, "villages", area=area)
    assert set(villages["code"]) == expected
    assert storage.count_layer(conn, "villages", area=area) == len(expected)
    # township= takes an area as well (the old parameter keeps working, and widens)
    assert set(storage.read_layer(conn, "villages", township=area)["code"]) == expected


def test_repeated_names_across_counties_do_not_clash(conn, two_counties):
    # same township name 城关镇 and same village name 红柳村 in both counties
    towns = storage.read_layer(conn, "townships", area="中宁县")
    assert list(towns["name"]) == ["城关镇"] and list(towns["code"]) == ["640521100"]
    # writing the same rows again changes nothing (natural keys are scoped by county / township)
    again = gpd.GeoDataFrame({"name": ["城关镇"], "county_id": [two_counties["zn"]]},
                             geometry=[EAST.buffer(-0.01)], crs=4326)
    result = storage.write_layer(conn, "townships", again)
    assert (result.inserted, result.unchanged) == (0, 1) and result.ids == [two_counties["towns"][1]]
    # a township name alone is ambiguous: the filter says so instead of picking one
    with pytest.raises(NotFound):
        storage.read_layer(conn, "villages", township="城关镇")


def test_the_areas_layer_filtered_by_a_county_keeps_it_and_the_levels_above(conn, two_counties):
    codes = set(storage.read_layer(conn, "areas", area="640521")["code"])
    assert codes == {"640521", "640500", "640000"}


def test_unknown_area_lists_what_exists(conn, two_counties):
    with pytest.raises(NotFound, match="中宁县 640521"):
        storage.read_layer(conn, "villages", area="640599")


# ---------------------------------------------------------------- bad input, nothing written


def _count(conn, layer):
    return storage.count_layer(conn, layer)


@pytest.mark.parametrize("code, message", [
    ("64050", "not a six-digit"),
    ("640502100", "not a six-digit"),
])
def test_area_code_of_the_wrong_length(conn, code, message):
    with pytest.raises(ValidationError, match=message):
        storage.write_layer(conn, "areas", pd.DataFrame({"code": [code], "name": ["某县"]}))
    assert _count(conn, "areas") == 0


def test_area_code_of_the_wrong_level(conn):
    with pytest.raises(ValidationError, match="is a 地级 .* level says 'county'"):
        storage.write_layer(conn, "areas", pd.DataFrame({"code": ["640500"], "name": ["中卫市"], "level": ["county"]}))


def test_overlapping_county_boundaries_are_refused(conn):
    overlapping = Polygon([(105.1, 37.4), (105.4, 37.4), (105.4, 37.6), (105.1, 37.6)])
    with pytest.raises(ValidationError, match=r"areas row 3 \(沙坡头区 640502\): its boundary overlaps areas row 4 \(中宁县"):
        _areas(conn, east=overlapping)
    assert _count(conn, "areas") == 0
    _areas(conn)  # touching along a border is fine
    with pytest.raises(ValidationError, match="overlaps the stored county 沙坡头区"):
        storage.write_layer(conn, "areas", gpd.GeoDataFrame(
            {"code": ["640522"], "name": ["海原县"]}, geometry=[WEST.buffer(0.05)], crs=4326))


def test_township_code_must_start_with_its_county(conn, two_counties):
    with pytest.raises(ValidationError, match="starts with 640502, but its county is 中宁县"):
        storage.write_layer(conn, "townships", pd.DataFrame(
            {"name": ["新堡镇"], "code": ["640502105"], "county_id": [two_counties["zn"]]}))
    with pytest.raises(ValidationError, match="not a 9-digit township code"):
        storage.write_layer(conn, "townships", pd.DataFrame({"name": ["新堡镇"], "code": ["6405021"]}))
    with pytest.raises(ValidationError, match="is a prefecture, not a county"):
        storage.write_layer(conn, "townships", pd.DataFrame({"name": ["新堡镇"], "county_id": [two_counties["zw"]]}))
    assert _count(conn, "townships") == 2


def test_a_township_in_two_counties_is_refused(conn, two_counties):
    frame = pd.DataFrame({"name": ["新堡镇", "新堡镇"], "code": ["640521105", "640521105"],
                          "county_id": [two_counties["zn"], two_counties["spt"]]})
    with pytest.raises(ValidationError, match="repeats code|two counties"):
        storage.write_layer(conn, "townships", frame)
    # moving a township whose villages' codes name its county is refused
    with pytest.raises(ValidationError, match="starts with 640521, but its county is 沙坡头区"):
        storage.write_layer(conn, "townships", pd.DataFrame(
            {"id": [two_counties["towns"][1]], "county_id": [two_counties["spt"]]}))
    assert _count(conn, "townships") == 2


def test_village_code_prefix_must_match_its_county_and_township(conn, two_counties):
    spt_town, zn_town = two_counties["towns"]
    with pytest.raises(ValidationError, match="county prefix 640521, but its township 城关镇 is in 沙坡头区"):
        storage.write_layer(conn, "villages", pd.DataFrame(
            {"name": ["沙坡村"], "code": ["640521100202"], "township_id": [spt_town], "category": ["poor"]}))
    with pytest.raises(ValidationError, match="township 城关镇 has the code 640502100"):
        storage.write_layer(conn, "villages", pd.DataFrame(
            {"name": ["沙坡村"], "code": ["640502101202"], "township_id": [spt_town], "category": ["poor"]}))
    with pytest.raises(ValidationError, match="not a 12-digit village code"):
        storage.write_layer(conn, "villages", pd.DataFrame(
            {"name": ["沙坡村"], "code": ["64050210020"], "township_id": [spt_town], "category": ["poor"]}))
    assert _count(conn, "villages") == 2
