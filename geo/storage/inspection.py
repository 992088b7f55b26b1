"""SQL of the inspection tables (plans, draws, sampled villages and households, findings).

The one place that writes SQL against these tables: bound values, fixed identifiers, the same
statements on SpatiaLite and PostGIS. The registry's own layers are read through
:mod:`geo.storage.query`. Every function takes an engine (own transaction) or a connection (the
caller's transaction), like the storage API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.exc import IntegrityError

from geo import models
from geo.db import Bind, connect, require_schema
from geo.errors import Conflict, NotFound
from geo.storage.records import versioned_update
from geo.storage.types import _decode, _integrity_reason, result_frame

PLANS = models.InspectionPlan.__table__
DRAWS = models.InspectionDraw.__table__
VILLAGES = models.SampledVillage.__table__
HOUSEHOLDS = models.SampledHousehold.__table__
FINDINGS = models.Finding.__table__
ASSIGNMENTS = models.InspectionAssignment.__table__
FRAMES = models.InspectionFrame.__table__
ANSWERS = models.InspectionAnswer.__table__
#: Geometry columns per table; the first is the frames' active geometry.
_GEOMETRY = {PLANS.name: ("start",), VILLAGES.name: ("geom", "leg"), HOUSEHOLDS.name: ("geom",),
             ANSWERS.name: ("geom",)}


def _wkb(geom: BaseGeometry | None) -> bytes | None:
    if geom is None or geom.is_empty:
        return None
    return shapely.to_wkb(geom, output_dimension=2)


def _insert(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows (a geometry column takes shapely geometries); return the new ids in order."""
    if not rows:
        return []
    names = sorted({k for row in rows for k in row})
    geometry = _GEOMETRY.get(table.name, ())
    values = {}
    for name in names:
        if name in geometry:
            values[name] = sa.func.ST_GeomFromWKB(sa.bindparam(f"p_{name}", type_=sa.LargeBinary), models.SRID)
        else:
            values[name] = sa.bindparam(f"p_{name}", type_=table.c[name].type)
    params = [{f"p_{n}": (_wkb(row.get(n)) if n in geometry else row.get(n)) for n in names} for row in rows]
    statement = table.insert().values(values).returning(table.c.id, sort_by_parameter_order=True)
    try:
        return [int(i) for i in conn.execute(statement, params).scalars().all()]
    except IntegrityError as exc:
        raise Conflict(f"the database refused the {table.name} rows: {_integrity_reason(exc)}") from None


def _select(table: sa.Table, *where, order_by=()) -> sa.Select:
    geometry = _GEOMETRY.get(table.name, ())
    columns = []
    for col in table.c:
        if col.name in geometry:
            columns.append(sa.func.ST_AsBinary(col).label(col.name))
        elif getattr(col.type, "enum_class", None) is not None:
            columns.append(sa.type_coerce(col, sa.String).label(col.name))
        else:
            columns.append(col)
    return sa.select(*columns).where(*where).order_by(*(order_by or (table.c.id,)))


def _frame(conn: sa.Connection, table: sa.Table, select: sa.Select) -> pd.DataFrame | gpd.GeoDataFrame:
    result = conn.execute(select)
    frame = result_frame(result)
    geometry = _GEOMETRY.get(table.name, ())
    if not geometry:
        return frame
    for name in geometry[1:]:
        frame[name] = gpd.GeoSeries(_decode(frame[name]), index=frame.index, crs=4326)
    geoms = _decode(frame.pop(geometry[0]))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=4326), crs=4326)


# ---------------------------------------------------------------------- plans and draws


def insert_plan(bind: Bind, values: Mapping[str, Any]) -> int:
    """Insert a plan row; a name already used is a :class:`Conflict`."""
    with connect(bind, write=True) as conn:
        require_schema(conn)
        taken = conn.execute(sa.select(PLANS.c.id).where(PLANS.c.name == values["name"])).scalar()
        if taken is not None:
            raise Conflict(
                f"a plan named {values['name']!r} was already drawn (id {taken}); a draw is never "
                "replaced: verify it with atlas sample verify, or draw a new plan under a new --name")
        return _insert(conn, PLANS, [values])[0]


def insert_draw(bind: Bind, values: Mapping[str, Any]) -> int:
    """Insert a draw record. Its ``prev_hash`` is unique: a second record following the same
    one (two draws recorded at once) is a :class:`Conflict`."""
    with connect(bind, write=True) as conn:
        return _insert(conn, DRAWS, [values])[0]


def insert_frame(bind: Bind, values: Mapping[str, Any]) -> int:
    """Insert a recorded frame; a name already used is a :class:`Conflict`."""
    with connect(bind, write=True) as conn:
        require_schema(conn)
        taken = conn.execute(sa.select(FRAMES.c.id).where(FRAMES.c.name == values["name"])).scalar()
        if taken is not None:
            raise Conflict(f"a frame named {values['name']!r} is already recorded (id {taken}); draw from it with "
                           f"--frame {taken}, or record a new frame under a new --name")
        return _insert(conn, FRAMES, [values])[0]


def read_frame(bind: Bind, frame_id: int) -> dict[str, Any]:
    """A recorded frame by id.

    Raises
    ------
    NotFound
        Listing the frames that exist.
    """
    with connect(bind) as conn:
        require_schema(conn)
        row = conn.execute(_select(FRAMES, FRAMES.c.id == int(frame_id))).mappings().first()
        if row is not None:
            return dict(row)
        frames = conn.execute(sa.select(FRAMES.c.id, FRAMES.c.name).order_by(FRAMES.c.id)).all()
    listing = "; ".join(f"{i} {n}" for i, n in frames) or "none yet (atlas sample frame --preset ...)"
    raise NotFound(f"no recorded frame {frame_id}; frames: {listing}")


def last_record_hash(bind: Bind) -> str | None:
    """``record_hash`` of the draw of the highest plan id (the end of the chain); None if there
    is no draw yet."""
    with connect(bind) as conn:
        require_schema(conn)
        return conn.execute(sa.select(DRAWS.c.record_hash).order_by(DRAWS.c.plan_id.desc()).limit(1)).scalar()


def read_chain(bind: Bind) -> list[dict[str, Any]]:
    """Every draw record in plan id order with what its record hash covers: plan id and name,
    seed, algorithm, spec, hashes, stored frame and result texts, prev_hash and record_hash."""
    select = (sa.select(DRAWS.c.plan_id, PLANS.c.name, DRAWS.c.seed, DRAWS.c.algorithm, PLANS.c.spec_json,
                        DRAWS.c.frame_hash, DRAWS.c.result_hash, DRAWS.c.frame_json, DRAWS.c.result_json,
                        DRAWS.c.prev_hash, DRAWS.c.record_hash)
              .select_from(DRAWS.join(PLANS, PLANS.c.id == DRAWS.c.plan_id))
              .order_by(DRAWS.c.plan_id))
    with connect(bind) as conn:
        require_schema(conn)
        return [dict(row) for row in conn.execute(select).mappings()]


def insert_sampled_villages(bind: Bind, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    with connect(bind, write=True) as conn:
        return _insert(conn, VILLAGES, rows)


def insert_sampled_households(bind: Bind, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    with connect(bind, write=True) as conn:
        return _insert(conn, HOUSEHOLDS, rows)


def find_plan(bind: Bind, plan: int | str) -> dict[str, Any]:
    """The plan row given by id or name, with its start point as a shapely geometry.

    Raises
    ------
    NotFound
        Listing the plans that exist.
    """
    key = str(plan).strip()
    with connect(bind) as conn:
        require_schema(conn)
        clause = PLANS.c.name == key
        if key.isascii() and key.isdigit() and len(key) < 19:  # "²" is a digit to str.isdigit
            clause = sa.or_(clause, PLANS.c.id == int(key))
        rows = _frame(conn, PLANS, _select(PLANS, clause))
        if len(rows) == 1:
            row = rows.iloc[0].to_dict()
            row["start"] = row.pop("geometry")
            return row
        names = conn.execute(sa.select(PLANS.c.id, PLANS.c.name).order_by(PLANS.c.id)).all()
    listing = "; ".join(f"{i} {n}" for i, n in names) or "none yet (atlas sample draw ...)"
    raise NotFound(f"no inspection plan {key!r}; plans: {listing}")


def find_seed(bind: Bind, seed: str, frame_hash: str) -> dict[str, Any] | None:
    """The plan (``id``, ``name``) already drawn with ``seed`` from the frame ``frame_hash``,
    or None."""
    select = (sa.select(PLANS.c.id, PLANS.c.name)
              .select_from(DRAWS.join(PLANS, PLANS.c.id == DRAWS.c.plan_id))
              .where(DRAWS.c.seed == seed, DRAWS.c.frame_hash == frame_hash)
              .order_by(PLANS.c.id).limit(1))
    with connect(bind) as conn:
        row = conn.execute(select).mappings().first()
    return dict(row) if row is not None else None


def read_draw(bind: Bind, plan_id: int) -> dict[str, Any]:
    with connect(bind) as conn:
        row = conn.execute(_select(DRAWS, DRAWS.c.plan_id == int(plan_id))).mappings().first()
    if row is None:
        raise NotFound(f"plan {plan_id} has no recorded draw")
    return dict(row)


def read_plans(bind: Bind) -> pd.DataFrame:
    """Every plan with its draw's hashes, route and sample sizes, newest first."""
    village_count = (sa.select(sa.func.count()).select_from(VILLAGES)
                     .where(VILLAGES.c.plan_id == PLANS.c.id).scalar_subquery())
    household_count = (sa.select(sa.func.count()).select_from(HOUSEHOLDS)
                       .where(HOUSEHOLDS.c.plan_id == PLANS.c.id).scalar_subquery())
    select = (
        sa.select(PLANS.c.id, PLANS.c.name, PLANS.c.year, PLANS.c.preset, PLANS.c.seed, PLANS.c.teams,
                  DRAWS.c.drawn_at, DRAWS.c.algorithm, DRAWS.c.frame_hash, DRAWS.c.result_hash,
                  sa.type_coerce(DRAWS.c.route_method, sa.String).label("route_method"), DRAWS.c.route_km,
                  village_count.label("villages"), household_count.label("households"))
        .select_from(PLANS.outerjoin(DRAWS, DRAWS.c.plan_id == PLANS.c.id))
        .order_by(PLANS.c.id.desc())
    )
    with connect(bind) as conn:
        require_schema(conn)
        result = conn.execute(select)
        return result_frame(result)


def read_sampled_villages(bind: Bind, plan_id: int) -> gpd.GeoDataFrame:
    """Sampled villages of a plan in visiting order (team, then order)."""
    with connect(bind) as conn:
        return _frame(conn, VILLAGES, _select(VILLAGES, VILLAGES.c.plan_id == int(plan_id),
                                              order_by=(VILLAGES.c.team, VILLAGES.c.visit_order)))


def read_sampled_households(bind: Bind, plan_id: int) -> gpd.GeoDataFrame:
    """Sampled households of a plan with their village's team and order, in visiting order."""
    with connect(bind) as conn:
        select = _select(HOUSEHOLDS, HOUSEHOLDS.c.plan_id == int(plan_id))
        select = (select.add_columns(VILLAGES.c.team, VILLAGES.c.visit_order.label("village_order"),
                                     VILLAGES.c.village_key, VILLAGES.c.village_name, VILLAGES.c.township_name)
                  .join_from(HOUSEHOLDS, VILLAGES, HOUSEHOLDS.c.sample_village_id == VILLAGES.c.id)
                  .order_by(None)
                  .order_by(VILLAGES.c.team, VILLAGES.c.visit_order, HOUSEHOLDS.c.visit_order))
        return _frame(conn, HOUSEHOLDS, select)


# ---------------------------------------------------------------------- findings


def insert_finding(bind: Bind, values: Mapping[str, Any]) -> int:
    with connect(bind, write=True) as conn:
        require_schema(conn)
        return _insert(conn, FINDINGS, [values])[0]


def count_findings(bind: Bind, plan_id: int) -> int:
    with connect(bind) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(FINDINGS)
                                .where(FINDINGS.c.plan_id == int(plan_id))).scalar_one())


def read_findings(
    bind: Bind,
    *,
    plan_id: int | None = None,
    ids: Sequence[int] | None = None,
    code: str | None = None,
) -> pd.DataFrame:
    """Findings with the village, township and household code they are about, by id."""
    where = []
    if plan_id is not None:
        where.append(FINDINGS.c.plan_id == int(plan_id))
    if ids is not None:
        where.append(FINDINGS.c.id.in_([int(i) for i in ids]))
    if code is not None:
        where.append(FINDINGS.c.code == code)
    select = (
        _select(FINDINGS, *where)
        .add_columns(VILLAGES.c.village_name, VILLAGES.c.township_name,
                     sa.type_coerce(VILLAGES.c.category, sa.String).label("village_category"),
                     HOUSEHOLDS.c.household_code, HOUSEHOLDS.c.stratum_label)
        .join_from(FINDINGS, VILLAGES, FINDINGS.c.sample_village_id == VILLAGES.c.id)
        .outerjoin(HOUSEHOLDS, FINDINGS.c.sample_household_id == HOUSEHOLDS.c.id)
    )
    with connect(bind) as conn:
        require_schema(conn)
        return _frame(conn, FINDINGS, select)


def update_finding(bind: Bind, finding_id: int, version: int, values: Mapping[str, Any]) -> None:
    """Update a finding if it is still at ``version`` (optimistic concurrency).

    Raises
    ------
    StaleVersion
        Someone changed it since it was read (a :class:`~geo.errors.Conflict`).
    NotFound
        There is no such finding.
    """
    with connect(bind, write=True) as conn:
        versioned_update(conn, FINDINGS, int(finding_id), int(version),
                         {**values, "updated_at": sa.func.now()}, what=f"finding {finding_id}")


# ---------------------------------------------------------------------- inspectors of a plan


def assign_inspector(bind: Bind, plan_id: int, user_id: int, *, team: int | None = None) -> bool:
    """Assign a user to a plan (optionally to one team); True if new, False if it only updated
    the team.

    Raises
    ------
    NotFound
        No such plan or user.
    """
    with connect(bind, write=True) as conn:
        require_schema(conn)
        if conn.execute(sa.select(PLANS.c.id).where(PLANS.c.id == int(plan_id))).scalar() is None:
            raise NotFound(f"no inspection plan with id {plan_id}")
        users = models.User.__table__
        if conn.execute(sa.select(users.c.id).where(users.c.id == int(user_id))).scalar() is None:
            raise NotFound(f"no user with id {user_id}")
        where = (ASSIGNMENTS.c.plan_id == int(plan_id), ASSIGNMENTS.c.user_id == int(user_id))
        if conn.execute(sa.select(ASSIGNMENTS.c.plan_id).where(*where)).first() is not None:
            conn.execute(ASSIGNMENTS.update().where(*where).values(team=team))
            return False
        conn.execute(ASSIGNMENTS.insert().values(plan_id=int(plan_id), user_id=int(user_id), team=team))
        return True


def unassign_inspector(bind: Bind, plan_id: int, user_id: int) -> bool:
    """Remove a user from a plan; True if they were assigned."""
    with connect(bind, write=True) as conn:
        require_schema(conn)
        result = conn.execute(ASSIGNMENTS.delete().where(
            ASSIGNMENTS.c.plan_id == int(plan_id), ASSIGNMENTS.c.user_id == int(user_id)))
        return result.rowcount > 0


def plan_assignees(bind: Bind, plan_id: int) -> list[int]:
    """Ids of the users assigned to a plan (the inspectors who may see its households' names)."""
    with connect(bind) as conn:
        require_schema(conn)
        return [int(v) for v in conn.execute(
            sa.select(ASSIGNMENTS.c.user_id).where(ASSIGNMENTS.c.plan_id == int(plan_id))
            .order_by(ASSIGNMENTS.c.user_id)).scalars()]


def read_assignments(bind: Bind, *, plan_id: int | None = None, user_id: int | None = None) -> pd.DataFrame:
    """Assignments with the plan's and the user's names, filtered by plan and/or user."""
    users = models.User.__table__
    select = (sa.select(ASSIGNMENTS.c.plan_id, PLANS.c.name.label("plan_name"), ASSIGNMENTS.c.user_id,
                        users.c.name.label("user_name"), ASSIGNMENTS.c.team, ASSIGNMENTS.c.assigned_at)
              .select_from(ASSIGNMENTS.join(PLANS, PLANS.c.id == ASSIGNMENTS.c.plan_id)
                           .join(users, users.c.id == ASSIGNMENTS.c.user_id))
              .order_by(ASSIGNMENTS.c.plan_id, ASSIGNMENTS.c.user_id))
    if plan_id is not None:
        select = select.where(ASSIGNMENTS.c.plan_id == int(plan_id))
    if user_id is not None:
        select = select.where(ASSIGNMENTS.c.user_id == int(user_id))
    with connect(bind) as conn:
        require_schema(conn)
        result = conn.execute(select)
        return result_frame(result)

