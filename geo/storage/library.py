"""SQL of the project library: the pipeline's events (``project_events``) and the assets
completed projects leave (``assets``).

The rules (which step follows which, what a hand-over needs) are :mod:`geo.library.pipeline`
(no SQL); the use cases (lock, check, write, audit in one transaction) are
:mod:`geo.services.library`. Projects themselves are a registry layer, read and written
through :mod:`geo.storage.query` and :mod:`geo.storage.records`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo import models
from geo.db import Bind, connect, require_schema
from geo.storage.query import resolve_townships
from geo.storage.state import _note_write
from geo.storage.types import result_frame

EVENTS = models.ProjectEvent.__table__
ASSETS = models.Asset.__table__
PROJECTS = models.Project.__table__
VILLAGES = models.Village.__table__
TOWNSHIPS = models.Township.__table__
PV = models.PVProject.__table__

EVENT_COLUMNS = ("id", "project_id", "step", "stage", "event_date", "actor", "office", "note", "recorded_at")


def read_events(bind: Bind, project_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """The pipeline events (of all projects, or of these), in the order recorded."""
    select = sa.select(*[EVENTS.c[c] for c in EVENT_COLUMNS]).order_by(EVENTS.c.project_id, EVENTS.c.id)
    if project_ids is not None:
        select = select.where(EVENTS.c.project_id.in_([int(i) for i in project_ids]))
    with connect(bind) as conn:
        require_schema(conn)
        result = conn.execute(select)
        frame = result_frame(result)
    frame["stage"] = frame["stage"].map(lambda s: getattr(s, "value", s))
    return frame


def insert_event(bind: Bind, values: Mapping[str, Any]) -> int:
    """Record one step (``project_id, step, stage, event_date, actor, user_id, office, note``)."""
    with connect(bind, write=True) as conn:
        _note_write(conn)
        return int(conn.execute(EVENTS.insert().values(**values).returning(EVENTS.c.id)).scalar_one())


def codes_like(bind: Bind, prefix: str) -> list[str]:
    """Project codes starting with ``prefix`` (a literal, not a pattern)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    with connect(bind) as conn:
        rows = conn.execute(sa.select(PROJECTS.c.code).where(PROJECTS.c.code.like(f"{escaped}%", escape="\\")))
        return [str(r[0]) for r in rows]


def existing_codes(bind: Bind, codes: Sequence[str]) -> set[str]:
    """Which of these project codes the registry holds (anywhere, whatever the caller's scope)."""
    wanted = sorted({str(c) for c in codes})
    if not wanted:
        return set()
    with connect(bind) as conn:
        return {str(r[0]) for r in conn.execute(sa.select(PROJECTS.c.code).where(PROJECTS.c.code.in_(wanted)))}


def insert_asset(bind: Bind, values: Mapping[str, Any]) -> int:
    """Insert one asset row; returns its id."""
    with connect(bind, write=True) as conn:
        _note_write(conn)
        return int(conn.execute(ASSETS.insert().values(**values).returning(ASSETS.c.id)).scalar_one())


def asset_of_station(bind: Bind, pv_project_id: int) -> str | None:
    """The code of the asset a PV station is registered as, or None."""
    with connect(bind) as conn:
        return conn.execute(sa.select(ASSETS.c.code).where(ASSETS.c.pv_project_id == int(pv_project_id))).scalar()


def read_assets(bind: Bind, *, township: int | str | Sequence[int | str] | None = None,
                ids: Sequence[int] | None = None, project_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """The assets, with their project (``project_code``, ``project_name``, ``project_kind``),
    village and township names and PV station (``pv_code``, ``pv_name``, ``capacity_kw``), by
    code. ``township``: only assets of villages of these townships."""
    select = (sa.select(*ASSETS.c, PROJECTS.c.code.label("project_code"), PROJECTS.c.name.label("project_name"),
                        PROJECTS.c.kind.label("project_kind"), VILLAGES.c.name.label("village_name"),
                        TOWNSHIPS.c.name.label("township_name"), PV.c.code.label("pv_code"),
                        PV.c.name.label("pv_name"), PV.c.capacity_kw)
              .join(PROJECTS, PROJECTS.c.id == ASSETS.c.project_id)
              .outerjoin(VILLAGES, VILLAGES.c.id == ASSETS.c.village_id)
              .outerjoin(TOWNSHIPS, TOWNSHIPS.c.id == VILLAGES.c.township_id)
              .outerjoin(PV, PV.c.id == ASSETS.c.pv_project_id)
              .order_by(ASSETS.c.code))
    if ids is not None:
        select = select.where(ASSETS.c.id.in_([int(i) for i in ids]))
    if project_ids is not None:
        select = select.where(ASSETS.c.project_id.in_([int(i) for i in project_ids]))
    with connect(bind) as conn:
        require_schema(conn)
        if township is not None:
            select = select.where(VILLAGES.c.township_id.in_(resolve_townships(conn, township)))
        result = conn.execute(select)
        frame = result_frame(result)
    for column in ("asset_class", "project_kind"):
        frame[column] = frame[column].map(lambda s: getattr(s, "value", s))
    return frame
