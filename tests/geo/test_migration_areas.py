"""Migration 0007 (levels above the township) on a registry holding the demo, both backends."""

from __future__ import annotations

import sqlalchemy as sa

from geo import migrate
from geo.db import make_engine


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("townships", "villages", "households", "user_townships")}


def test_0007_puts_the_demo_townships_under_shapotou_and_back(databases):
    engine = make_engine(databases.demo_url())
    try:
        before = _counts(engine)
        assert before["townships"] == 7 and before["villages"] == 45
        assert migrate.downgrade(engine, "0006") == "0006"
        columns = {c["name"] for c in sa.inspect(engine).get_columns("townships")}
        assert "county_id" not in columns and "areas" not in sa.inspect(engine).get_table_names()
        assert _counts(engine) == before

        assert migrate.upgrade(engine) == migrate.head_revision(engine)
        assert _counts(engine) == before
        with engine.connect() as conn:
            areas = conn.execute(sa.text(
                "SELECT a.code, a.name, a.level, p.code AS parent, a.geom IS NOT NULL AS has_geom "
                "FROM areas a LEFT JOIN areas p ON p.id = a.parent_id ORDER BY a.code")).all()
            assert [tuple(r) for r in areas] == [
                ("640000", "宁夏回族自治区", "province", None, False),
                ("640500", "中卫市", "prefecture", "640000", False),
                ("640502", "沙坡头区", "county", "640500", True),
            ]
            placed = conn.execute(sa.text(
                "SELECT count(*) FROM townships t JOIN areas a ON a.id = t.county_id WHERE a.code = '640502'"
            )).scalar_one()
            assert placed == 7
            # every village still points at a township that exists (the SQLite rebuild kept ids)
            orphans = conn.execute(sa.text(
                "SELECT count(*) FROM villages v LEFT JOIN townships t ON t.id = v.township_id "
                "WHERE t.id IS NULL")).scalar_one()
            assert orphans == 0
            if databases.backend == "spatialite":
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
                fk_targets = {row[2] for row in conn.exec_driver_sql("PRAGMA foreign_key_list(villages)")}
                assert fk_targets == {"townships"}
        # the rebuilt township areas still answer spatial filters through their index
        from geo.storage import read_layer

        roads = read_layer(engine, "roads", township="兴仁镇", columns=["id"])
        assert len(roads) > 0
    finally:
        engine.dispose()
