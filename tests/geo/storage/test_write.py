"""Writing layers: upserts, refusals naming row and field, deletes and links, on both backends."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import storage
from geo.errors import Conflict, NotFound, ValidationError


def test_upsert_by_natural_key_updates_only_what_changed(conn, towns):
    again = gpd.GeoDataFrame({"name": ["一村", "二村"], "township_id": [towns["west"]] * 2,
                              "category": ["key_poor", "exited"]},
                             geometry=[Point(105.05, 37.5), Point(105.15, 37.45)], crs=4326)
    result = storage.write_layer(conn, "villages", again)
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    assert result.ids == towns["villages"][:2]
    stored = storage.read_layer(conn, "villages", ids=result.ids)
    assert list(stored["category"]) == ["key_poor", "exited"]
    assert list(stored["version"]) == [1, 2]
    assert list(stored["population"]) == [900, 1200]  # columns not in the frame are kept


@pytest.mark.parametrize(
    ("frame_kwargs", "message"),
    [
        ({"data": {"name": ["四村"], "township_id": [1], "category": ["rich"]}, "geometry": [Point(105, 37.5)]},
         "not a valid VillageCategory"),
        ({"data": {"name": ["四村"], "township_id": [1], "category": ["poor"]},
          "geometry": [LineString([(105, 37.5), (105.1, 37.5)])]}, "LineString cannot be stored"),
        ({"data": {"name": ["四村"], "category": ["poor"]}, "geometry": [Point(105, 37.5)]},
         "required field"),
        ({"data": {"name": ["四村"], "township_id": [1], "category": ["poor"], "colour": ["red"]},
          "geometry": [Point(105, 37.5)]}, "'colour'"),
        ({"data": {"name": ["四村"], "township_id": [1], "category": ["poor"], "population": ["many"]},
          "geometry": [Point(105, 37.5)]}, "population"),
    ],
)
def test_bad_rows_are_refused_naming_row_and_field(conn, towns, frame_kwargs, message):
    frame = gpd.GeoDataFrame(frame_kwargs["data"], geometry=frame_kwargs["geometry"], crs=4326)
    before = storage.count_layer(conn, "villages")
    with pytest.raises(ValidationError, match=message) as caught:
        storage.write_layer(conn, "villages", frame)
    assert "row 1" in str(caught.value) or "colour" in str(caught.value)
    assert storage.count_layer(conn, "villages") == before


def test_duplicate_natural_key_inside_a_frame_is_refused(conn, towns):
    frame = gpd.GeoDataFrame({"code": ["H1", "H1"], "village_id": [towns["villages"][0]] * 2,
                              "status": ["registered", "exited"]}, geometry=[None, None], crs=4326)
    with pytest.raises(ValidationError, match="row 2 repeats code = H1 of row 1"):
        storage.write_layer(conn, "households", frame)
    assert storage.count_layer(conn, "households") == 0


def test_projected_frames_are_refused(conn, towns):
    frame = gpd.GeoDataFrame({"surface": ["earth"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=32648)
    with pytest.raises(ValidationError, match="EPSG:32648.*to_crs"):
        storage.write_layer(conn, "roads", frame)


def test_cgcs2000_is_stored_as_is(conn, towns):
    frame = gpd.GeoDataFrame({"surface": ["earth"]}, geometry=[LineString([(105, 37), (105.1, 37.1)])], crs=4490)
    ids = storage.write_layer(conn, "roads", frame).ids
    assert storage.read_layer(conn, "roads", ids=ids).geometry.iloc[0].equals(LineString([(105, 37), (105.1, 37.1)]))


def test_a_failed_write_leaves_the_earlier_rows_of_the_frame_unwritten(conn, towns):
    # the second row references a village that does not exist: nothing of the frame lands
    frame = gpd.GeoDataFrame({"name": ["一组", "二组"], "village_id": [towns["villages"][0], 99999]},
                             geometry=[Point(105.05, 37.5), Point(105.06, 37.5)], crs=4326)
    savepoint = conn.begin_nested()
    with pytest.raises(Conflict, match="refused the settlements rows"):
        storage.write_layer(conn, "settlements", frame)
    savepoint.rollback()
    assert storage.count_layer(conn, "settlements") == 0


def test_update_by_id_and_unknown_id(conn, towns):
    result = storage.write_layer(conn, "villages", pd.DataFrame({"id": [towns["villages"][2]], "population": [850]}))
    assert result.updated == 1
    assert storage.read_layer(conn, "villages", ids=[towns["villages"][2]]).loc[0, "population"] == 850
    with pytest.raises(NotFound, match="no villages row with id 424242"):
        storage.write_layer(conn, "villages", pd.DataFrame({"id": [424242], "population": [1]}))


def test_delete_refuses_rows_still_referenced(conn, towns):
    savepoint = conn.begin_nested()
    with pytest.raises(Conflict, match="other rows still refer"):
        storage.delete_rows(conn, "townships", [towns["west"]])
    savepoint.rollback()
    assert storage.delete_rows(conn, "villages", [towns["villages"][2]]) == 1


def test_delete_takes_more_ids_than_one_statement_can_bind(conn, towns):
    """70,000 ids: more than SQLite (32,766) or PostgreSQL (65,535) bind in one statement."""
    wanted = [towns["villages"][0], towns["villages"][1]]
    ids = list(range(10_000_000, 10_070_000))
    ids[40_000:40_000] = wanted[:1]
    ids.append(wanted[1])
    assert storage.delete_rows(conn, "villages", ids) == 2
    assert storage.read_layer(conn, "villages", ids=wanted).empty


def test_links_are_replaced_per_owner(conn, towns):
    facility = storage.write_layer(conn, "water_facilities", gpd.GeoDataFrame(
        {"kind": ["supply_point"], "status": ["working"]}, geometry=[Point(105.05, 37.5)], crs=4326)).ids[0]
    v = towns["villages"]
    assert storage.write_links(conn, "water_facility_villages",
                               pd.DataFrame({"facility_id": [facility] * 2, "village_id": v[:2]})) == 2
    assert storage.write_links(conn, "water_facility_villages",
                               pd.DataFrame({"facility_id": [facility], "village_id": [v[1]]})) == 0
    links = storage.read_links(conn, "water_facility_villages")
    assert links.to_dict("records") == [{"facility_id": facility, "village_id": v[1]}]
