"""SQL of the phone forms' submissions (``inspection_answers``) and their photos
(``inspection_answer_photos``): bound values, the same statements on SpatiaLite and PostGIS.
Every function takes an engine (own transaction) or a connection (the caller's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo import models
from geo.db import Bind, connect, require_schema
from geo.storage.inspection import HOUSEHOLDS, VILLAGES, _frame, _insert, _select, _wkb

ANSWERS = models.InspectionAnswer.__table__
PHOTOS = models.InspectionAnswerPhoto.__table__


def find_answer(bind: Bind, plan_id: int, instance_id: str) -> dict[str, Any] | None:
    """The stored submission of a plan with this instance id, or None."""
    with connect(bind) as conn:
        frame = _frame(conn, ANSWERS, _select(ANSWERS, ANSWERS.c.plan_id == int(plan_id),
                                              ANSWERS.c.instance_id == str(instance_id)))
    return None if frame.empty else frame.iloc[0].to_dict()


def insert_answer(bind: Bind, values: Mapping[str, Any]) -> int:
    with connect(bind, write=True) as conn:
        require_schema(conn)
        return _insert(conn, ANSWERS, [values])[0]


def update_answer(bind: Bind, answer_id: int, values: Mapping[str, Any]) -> None:
    """Replace a submission's answers (re-imported with other answers); bumps its version."""
    values = dict(values)
    if "geom" in values:
        geom = values.pop("geom")
        values["geom"] = sa.func.ST_GeomFromWKB(sa.literal(_wkb(geom), sa.LargeBinary), models.SRID) \
            if geom is not None else None
    with connect(bind, write=True) as conn:
        conn.execute(ANSWERS.update().where(ANSWERS.c.id == int(answer_id))
                     .values(**values, version=ANSWERS.c.version + 1, updated_at=sa.func.now()))


def mark_current(bind: Bind, plan_id: int, sample_village_id: int, sample_household_id: int | None, form: str) -> None:
    """Of a household's (or village's) submissions, only the latest submitted is current
    (ties: the last stored)."""
    where = [ANSWERS.c.plan_id == int(plan_id), ANSWERS.c.form == form,
             ANSWERS.c.sample_village_id == int(sample_village_id)]
    where.append(ANSWERS.c.sample_household_id == int(sample_household_id) if sample_household_id is not None
                 else ANSWERS.c.sample_household_id.is_(None))
    with connect(bind, write=True) as conn:
        rows = conn.execute(sa.select(ANSWERS.c.id, ANSWERS.c.submitted_at).where(*where)).all()
        if not rows:
            return
        latest = max(rows, key=lambda r: (r.submitted_at is not None, str(r.submitted_at or ""), r.id)).id
        conn.execute(ANSWERS.update().where(*where).values(current=sa.case((ANSWERS.c.id == latest, True),
                                                                           else_=False)))


def replace_photos(bind: Bind, answer_id: int, photos: Sequence[Mapping[str, Any]]) -> None:
    """The photos of a submission, replacing those stored before."""
    with connect(bind, write=True) as conn:
        conn.execute(PHOTOS.delete().where(PHOTOS.c.answer_id == int(answer_id)))
        if photos:
            conn.execute(PHOTOS.insert(), [{**p, "answer_id": int(answer_id)} for p in photos])


def read_answers(bind: Bind, plan_id: int, *, current_only: bool = False) -> pd.DataFrame:
    """A plan's submissions with the household code, village key and name they are about and
    how many photos each has (never the photos themselves)."""
    where = [ANSWERS.c.plan_id == int(plan_id)]
    if current_only:
        where.append(ANSWERS.c.current.is_(True))
    photos = (sa.select(sa.func.count()).select_from(PHOTOS).where(PHOTOS.c.answer_id == ANSWERS.c.id)
              .scalar_subquery())
    select = (_select(ANSWERS, *where)
              .add_columns(HOUSEHOLDS.c.household_code, VILLAGES.c.village_key, VILLAGES.c.village_name,
                           VILLAGES.c.township_name, VILLAGES.c.team, photos.label("photos"))
              .join_from(ANSWERS, VILLAGES, ANSWERS.c.sample_village_id == VILLAGES.c.id)
              .outerjoin(HOUSEHOLDS, ANSWERS.c.sample_household_id == HOUSEHOLDS.c.id))
    with connect(bind) as conn:
        require_schema(conn)
        return _frame(conn, ANSWERS, select)


def read_photo(bind: Bind, answer_id: int, field: str) -> dict[str, Any] | None:
    """A stored photo (its bytes and media type), or None."""
    with connect(bind) as conn:
        row = conn.execute(sa.select(PHOTOS).where(PHOTOS.c.answer_id == int(answer_id),
                                                   PHOTOS.c.field == str(field))).mappings().first()
    return dict(row) if row else None
