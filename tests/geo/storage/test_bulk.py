"""An exclusive bulk load's upkeep set aside and restored: the same index and constraint
definitions after, and a rollback restoring them when a foreign key no longer holds."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from geo import storage
from tests.geo.storage.conftest import upkeep

POSTGIS_ONLY = pytest.mark.parametrize("backend", ["postgis"], indirect=True)


def test_the_upkeep_comes_back_as_it_was(conn, towns, backend):
    before = upkeep(conn, "households")
    aside = storage.set_aside_upkeep(conn, "households")
    if backend == "spatialite":  # nothing to set aside: the staging write does the triggers' work
        assert aside is None and upkeep(conn, "households") == before
        return
    during = upkeep(conn, "households")
    assert [name for name, _ in during["indexes"]] == ["pk_households", "uq_households_code"]
    assert sorted(kind for _, kind, _, _ in during["constraints"]) == ["c", "p", "u"]  # check, key, unique kept
    assert {name for name, _ in aside.indexes} == {"idx_households_geom", "ix_households_cadre_id",
                                                   "ix_households_settlement_id", "ix_households_village_id"}
    assert len(aside.constraints) == 3
    storage.stage_rows(conn, "households", _households(towns["villages"][0], 20), source="test").write()
    aside.restore(conn)
    assert upkeep(conn, "households") == before
    inside = storage.read_layer(conn, "households", bbox=(105.0, 37.44, 105.2, 37.46), with_names=False)
    assert len(inside) == 20  # the rebuilt GiST index finds the new rows


@POSTGIS_ONLY
def test_a_foreign_key_that_no_longer_holds_fails_and_the_rollback_restores_everything(conn, towns):
    before = upkeep(conn, "households")
    count = storage.count_layer(conn, "households")
    savepoint = conn.begin_nested()
    aside = storage.set_aside_upkeep(conn, "households")
    conn.exec_driver_sql("INSERT INTO households (code, village_id, status, source) VALUES ('LOST', 987654, 'exited', 'test')")
    with pytest.raises(IntegrityError, match="fk_households_village_id_villages"):
        aside.restore(conn)
    savepoint.rollback()
    assert upkeep(conn, "households") == before
    assert storage.count_layer(conn, "households") == count


def _households(village_id: int, n: int):
    import geopandas as gpd
    from shapely.geometry import Point

    return gpd.GeoDataFrame({"code": [f"X{i}" for i in range(n)], "village_id": [village_id] * n,
                             "status": ["exited"] * n},
                            geometry=[Point(105.01 + i / 1000, 37.45) for i in range(n)], crs=4326).rename_geometry("geom")
