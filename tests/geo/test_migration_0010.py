"""Migration 0010 on a registry that already holds projects, both backends: each project is put
on the pipeline by its status (planned -> approved, building -> in_progress, completed ->
completed) with one dated ``migrate`` event, the pipeline goes on from there, and the
downgrade leaves the projects as they were."""

from __future__ import annotations

import sqlalchemy as sa

from geo import migrate
from geo.audit import Actor
from geo.services import library
from geo.services.library import AssetInput
from tests.geo.conftest import at_revision_with_a_village


def test_existing_projects_join_the_pipeline_at_the_stage_of_their_status(empty_url):
    engine = at_revision_with_a_village(empty_url, "0006")
    with engine.begin() as conn:
        for pid, status in ((1, "planned"), (2, "building"), (3, "completed")):
            conn.execute(sa.text("INSERT INTO projects (id, code, name, kind, village_id, status, funds_wan_yuan, "
                                 "source) VALUES (:id, :code, :name, 'road', 1, :status, 10, 'test')"),
                         {"id": pid, "code": f"OLD-{pid}", "name": f"旧项目{pid}", "status": status})
    migrate.upgrade(engine)
    listed = library.list_projects(engine).set_index("code")
    assert listed.loc[["OLD-1", "OLD-2", "OLD-3"], "stage"].tolist() == ["approved", "in_progress", "completed"]
    assert listed.loc[["OLD-1", "OLD-2", "OLD-3"], "status"].tolist() == ["planned", "building", "completed"]
    history = library.get_project(engine, "OLD-1")["history"]
    assert [(e["step"], e["stage"], e["actor"]) for e in history] == [("migrate", "approved", "migration 0010")]
    assert "原状态“计划”记为“县级审批入库”" in history[0]["note"]
    actor = Actor("t_planner")
    started = library.advance(engine, "OLD-1", "start", actor=actor)
    assert (started["stage"], started["status"]) == ("in_progress", "building")
    done = library.advance(engine, "OLD-3", "handover", actor=actor,
                           asset=AssetInput(asset_class="公益性", owner="郝集村村集体", maintainer="郝集村村委会"))
    assert done["asset"]["value_wan_yuan"] == 10.0
    migrate.downgrade(engine, "0006")
    tables = set(sa.inspect(engine).get_table_names())
    assert not {"project_events", "assets"} & tables
    assert "performance_targets" not in {c["name"] for c in sa.inspect(engine).get_columns("projects")}
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT code, status FROM projects ORDER BY id")).all()
    assert [tuple(r) for r in kept] == [("OLD-1", "building"), ("OLD-2", "building"), ("OLD-3", "completed")]
    engine.dispose()
