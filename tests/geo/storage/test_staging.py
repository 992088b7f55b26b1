"""The staged bulk upsert gives what write_layer gives: ids, counts, values, versions, on both backends."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from geo import storage
from geo.errors import Conflict


def households(village_id: int, codes, *, status="exited", members=None, income=None, geoms=None) -> gpd.GeoDataFrame:
    n = len(codes)
    return gpd.GeoDataFrame({
        "code": list(codes),
        "village_id": pd.array([village_id] * n, dtype="Int64"),
        "status": [status] * n if isinstance(status, str) else list(status),
        "members": pd.array(members if members is not None else [3] * n, dtype="Int64"),
        "income_per_person_yuan": income if income is not None else [5000.5] * n,
    }, geometry=geoms if geoms is not None else [Point(105.01 + i / 1000, 37.45) for i in range(n)],
        crs=4326).rename_geometry("geom")


def stored(conn, codes) -> pd.DataFrame:
    frame = storage.read_layer(conn, "households", where={"code": list(codes)}, with_names=False, include_pii=True)
    return frame.set_index("code").sort_index()


def comparable(frame: pd.DataFrame) -> list[tuple]:
    kept = frame.drop(columns=["id", "created_at", "updated_at"])
    return [tuple("NA" if pd.isna(v) else (v.wkt if hasattr(v, "wkt") else str(v)) for v in row)
            for row in kept.itertuples()]


def both_ways(conn, frame: pd.DataFrame, *, source: str = "test"):
    """The frame written by write_layer and, after rolling that back, by the staged upsert."""
    outcomes = []
    for how in ("write_layer", "staged"):
        savepoint = conn.begin_nested()
        if how == "write_layer":
            result = storage.write_layer(conn, "households", frame, source=source)
        else:
            result = storage.stage_rows(conn, "households", frame, source=source).write()
        outcomes.append((result, stored(conn, frame["code"])))
        savepoint.rollback()
    return outcomes


def test_new_changed_and_unchanged_rows_as_write_layer_writes_them(conn, towns):
    village = towns["villages"][0]
    first = storage.write_layer(conn, "households", households(village, ["H1", "H2", "H3"]), source="first")
    frame = households(village, ["H1", "H2", "H3", "H4", "H5"], status=["exited", "returned", "exited", "registered",
                                                                             "non_poor"],
                       income=[5000.5 + 1e-12, 5000.5, 5000.5, 10.0, np.nan])  # H1 within 1e-9: unchanged
    (old, old_rows), (new, new_rows) = both_ways(conn, frame)

    assert (new.inserted, new.updated, new.unchanged) == (old.inserted, old.updated, old.unchanged) == (2, 1, 2)
    assert new.ids[:3] == old.ids[:3] == first.ids
    assert new.ids[3] < new.ids[4] and new.ids[3] > max(first.ids)  # new rows in the frame's order
    assert comparable(new_rows) == comparable(old_rows)
    assert list(new_rows["version"]) == [1, 2, 1, 1, 1]
    assert list(new_rows["source"]) == ["first", "test", "first", "test", "test"]  # unchanged rows keep theirs


def test_rows_not_kept_are_not_written(conn, towns):
    frame = households(towns["villages"][0], ["K1", "K2", "K3"])
    staged = storage.stage_rows(conn, "households", frame, source="test")
    result = staged.write(np.array([True, False, True]))
    assert result.inserted == 2 and result.ids[1] == 0
    assert list(stored(conn, ["K1", "K2", "K3"]).index) == ["K1", "K3"]


def test_a_row_without_a_geometry_keeps_the_stored_one_and_a_polygon_becomes_multi(conn, towns):
    village = towns["villages"][0]
    storage.write_layer(conn, "households", households(village, ["G1"]), source="first")
    part = households(village, ["G1"]).drop(columns=["geom"])
    part["members"] = pd.array([5], dtype="Int64")
    (old, old_rows), (new, new_rows) = both_ways(conn, pd.DataFrame(part))
    assert new.updated == old.updated == 1
    assert comparable(new_rows) == comparable(old_rows)
    assert new_rows.geometry.iloc[0].equals(Point(105.01, 37.45))

    line = LineString([(105.0, 37.4), (105.1, 37.5)])
    frame = gpd.GeoDataFrame({"code": ["R-1"], "surface": ["gravel"]}, geometry=[line], crs=4326)
    written = storage.stage_rows(conn, "roads", frame, source="test").write()
    assert isinstance(storage.read_layer(conn, "roads", ids=written.ids).geometry.iloc[0], MultiLineString)


def test_dates_booleans_and_enum_labels_convert_as_write_layer_converts_them(conn, towns):
    square = Polygon([(105.0, 37.4), (105.1, 37.4), (105.1, 37.5), (105.0, 37.5)])
    frame = gpd.GeoDataFrame({"code": ["PV-1", "PV-2"], "name": ["光伏一", "光伏二"], "kind": ["村级光伏电站", "agri_pv"],
                              "status": ["grid_connected", "planned"], "capacity_kw": [300.0, 12.5],
                              "grid_date": [dt.date(2019, 6, 30), None]}, geometry=[square, Point(105.2, 37.5)],
                             crs=4326)
    outcomes = []
    for how in ("write_layer", "staged"):
        savepoint = conn.begin_nested()
        result = (storage.write_layer(conn, "pv_projects", frame, source="t") if how == "write_layer" else
                  storage.stage_rows(conn, "pv_projects", frame, source="t").write())
        rows = storage.read_layer(conn, "pv_projects", ids=result.ids, with_names=False).set_index("code").sort_index()
        outcomes.append(comparable(rows))
        savepoint.rollback()
    assert outcomes[0] == outcomes[1]
    assert "village_station" in str(outcomes[1][0]) and "2019-06-30" in str(outcomes[1][0])


def test_a_unique_rule_broken_in_the_database_is_a_conflict(conn, towns):
    village = towns["villages"][0]
    storage.write_layer(conn, "households", households(village, ["U1"]), source="first")
    # two rows with the same new code: the staged upsert meets the unique rule of the table
    with pytest.raises(Conflict, match="households"):
        savepoint = conn.begin_nested()
        try:
            storage.stage_rows(conn, "households", households(village, ["U2", "U2"]), source="x").write()
        finally:
            savepoint.rollback()


def test_the_spatial_index_and_its_triggers_are_kept(conn, towns, backend):
    frame = households(towns["villages"][0], [f"S{i}" for i in range(50)])
    if backend == "spatialite":
        before = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                      "AND tbl_name = 'households' ORDER BY name").all()
    result = storage.stage_rows(conn, "households", frame, source="test").write()
    inside = storage.read_layer(conn, "households", bbox=(105.005, 37.44, 105.0305, 37.46), with_names=False)
    assert sorted(inside["id"]) == sorted(result.ids[:21])  # 105.010 .. 105.030
    if backend == "spatialite":
        after = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                     "AND tbl_name = 'households' ORDER BY name").all()
        assert after == before
        indexed = conn.exec_driver_sql("SELECT count(*) FROM idx_households_geom WHERE pkid IN "
                                       f"({', '.join(map(str, result.ids))})").scalar()
        assert indexed == 50
        # and the triggers still work for the next plain insert
        storage.write_layer(conn, "households", households(towns["villages"][0], ["T1"]), source="test")
        assert conn.exec_driver_sql("SELECT count(*) FROM idx_households_geom").scalar() == 51
    else:
        assert conn.execute(sa.text("SELECT count(*) FROM households WHERE geom && "
                                    "ST_MakeEnvelope(105.005, 37.44, 105.0305, 37.46, 4326)")).scalar() == 21


def test_spatialite_s_geometry_constraint_is_still_checked_for_the_whole_chunk(conn, towns, backend):
    """The staged insert drops SpatiaLite's per-row type trigger and checks the chunk once
    against geometry_columns: a chunk the column's declared type does not allow is refused."""
    from geo.errors import ValidationError

    frame = households(towns["villages"][0], ["G1", "G2"])
    savepoint = conn.begin_nested()
    try:
        if backend == "postgis":  # the column's own type refuses another geometry type
            with pytest.raises(sa.exc.DataError, match="Geometry type"):
                conn.exec_driver_sql("UPDATE households SET geom = 'SRID=4326;LINESTRING(105 37, 105.1 37.1)'")
            return
        # the column now declared as LINESTRING (2): the points break the constraint
        conn.exec_driver_sql("UPDATE geometry_columns SET geometry_type = 2 "
                             "WHERE f_table_name = 'households' AND f_geometry_column = 'geom'")
        with pytest.raises(ValidationError, match="violates Geometry constraint"):
            storage.stage_rows(conn, "households", frame, source="test").write()
    finally:
        savepoint.rollback()
    assert storage.stage_rows(conn, "households", frame, source="test").write().inserted == 2


def test_points_are_packed_byte_for_byte_as_shapely_writes_them():
    from geo import models
    from geo.storage.staging import _point_wkb

    geoms = np.array([Point(105.123456789, 37.5), None, Point(-0.0, 1e-300), Point(1, 2, 3)], dtype=object)
    missing = np.array([g is None for g in geoms])
    ewkb = shapely.to_wkb(shapely.set_srid(geoms, models.SRID), hex=True, include_srid=True, output_dimension=2)
    assert list(_point_wkb(geoms, missing, True)) == list(ewkb)
    assert list(_point_wkb(geoms, missing, False)) == list(shapely.to_wkb(geoms, output_dimension=2))
    # anything but non-empty points: left to shapely
    assert _point_wkb(np.array([Point(), Point(1, 2)], dtype=object), np.array([False, False]), True) is None
    assert _point_wkb(np.array([LineString([(0, 0), (1, 1)])], dtype=object), np.array([False]), False) is None


def test_rows_match_each_natural_key_in_turn(conn, towns):
    """Cadres match by 编号, else by unit and name: the same stored rows on both backends
    (PostGIS looks the keys up before loading anything, SpatiaLite joins a staging table)."""
    unit = storage.write_layer(conn, "units", pd.DataFrame({"name": ["测试帮扶单位"]})).ids[0]
    first = storage.write_layer(conn, "cadres", pd.DataFrame(
        {"code": ["C1", None], "unit_id": [unit, unit], "name": ["甲", "乙"]}), source="first").ids
    frame = pd.DataFrame({"code": ["C1", None, "C3", None], "unit_id": [unit] * 4, "name": ["甲", "乙", "丙", "丁"]})
    staged = storage.stage_rows(conn, "cadres", frame, source="test")
    assert staged.targets.tolist() == [first[0], first[1], 0, 0]
    result = staged.write()
    assert (result.inserted, result.updated, result.unchanged) == (2, 0, 2)
    assert result.ids[:2] == first and first[1] < result.ids[2] < result.ids[3]


@pytest.mark.parametrize("backend", ["postgis"], indirect=True)
def test_postgis_copies_rows_that_are_all_new_straight_into_the_table(conn, towns):
    """No temporary table where no row matches: one COPY into households with ids drawn for it;
    a frame with a stored row goes through the temporary table. (SpatiaLite always stages.)"""
    village = towns["villages"][0]
    staged = storage.stage_rows(conn, "households", households(village, ["D1", "D2", "D3"]), source="test")
    assert staged.table is None
    assert conn.exec_driver_sql("SELECT to_regclass('pg_temp.atlas_stage_households_1')").scalar() is None
    result = staged.write(np.array([True, False, True]))
    assert result.inserted == 2 and result.ids[1] == 0 and result.ids[0] < result.ids[2]
    rows = stored(conn, ["D1", "D2", "D3"])
    assert list(rows.index) == ["D1", "D3"] and list(rows["id"]) == [result.ids[0], result.ids[2]]
    assert list(rows["version"]) == [1, 1] and rows["updated_at"].notna().all()

    mixed = storage.stage_rows(conn, "households", households(village, ["D1", "D4"], members=[5, 2]), source="test")
    assert mixed.table is not None and mixed.targets.tolist() == [result.ids[0], 0]
    again = mixed.write()
    assert (again.inserted, again.updated) == (1, 1)
    assert conn.exec_driver_sql("SELECT to_regclass('pg_temp.atlas_stage_households_1')").scalar() is None


@pytest.mark.parametrize("backend", ["postgis"], indirect=True)
def test_a_table_held_alone_takes_its_new_ids_as_one_block(conn, towns):
    """Under the exclusive import's lock the ids are drawn in one block; the sequence goes on after it."""
    village = towns["villages"][0]
    conn.exec_driver_sql("LOCK TABLE households IN ACCESS EXCLUSIVE MODE")
    result = storage.stage_rows(conn, "households", households(village, ["B1", "B2", "B3", "B4"]), source="t").write(
        np.array([True, True, False, True]))
    ids = [i for i in result.ids if i]
    assert ids == list(range(ids[0], ids[0] + 3)) and result.ids[2] == 0
    assert list(stored(conn, ["B1", "B2", "B4"])["id"]) == ids
    after = storage.write_layer(conn, "households", households(village, ["B5"]), source="t").ids[0]
    assert after > ids[-1]


@pytest.mark.parametrize("backend", ["postgis"], indirect=True)
def test_new_ids_that_are_not_one_run_come_back_each(conn, towns):
    """Without the exclusive lock each row draws its id; where they are not one run (here the
    sequence steps by 3, as when other writers draw between them), each row still gets the
    id it was written with."""
    conn.exec_driver_sql("ALTER SEQUENCE households_id_seq INCREMENT BY 3")  # rolled back with the test
    result = storage.stage_rows(conn, "households", households(towns["villages"][0], ["S1", "S2", "S3"]),
                                source="t").write()
    assert result.ids[1] - result.ids[0] == 3 and result.ids[2] - result.ids[1] == 3
    assert list(stored(conn, ["S1", "S2", "S3"])["id"]) == result.ids
