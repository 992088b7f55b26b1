"""SQL of the monitoring tables (防止返贫动态监测): cases, leads, measures and the cases' events.

Cases are scoped by their household's village's township. Every function takes an engine
(own transaction) or a connection (the caller's transaction); values are bound, identifiers
fixed, the same statements on SpatiaLite and PostGIS. Names and ID numbers are never read
here except by :func:`households_by_id_number`, which returns household ids only and is
called inside an audited personal-data read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from geo import models
from geo.db import Bind, connect, require_schema
from geo.storage.records import lock_row, versioned_update
from geo.storage.state import _note_write
from geo.storage.types import _decode, result_frame

CASES = models.MonitorCase.__table__
LEADS = models.MonitorLead.__table__
MEASURES = models.MonitorMeasure.__table__
EVENTS = models.MonitorEvent.__table__
_H = models.Household.__table__
_V = models.Village.__table__
_T = models.Township.__table__
_C = models.Cadre.__table__
_U = models.AssistanceUnit.__table__

_ENUMS = ("status", "category")


def _case_select(*where) -> sa.Select:
    columns = [sa.type_coerce(c, sa.String).label(c.name) if c.name in _ENUMS else c for c in CASES.c]
    return (sa.select(*columns, _H.c.code.label("household_code"), sa.type_coerce(_H.c.status, sa.String)
                      .label("household_status"), _H.c.members, _H.c.village_id,
                      _V.c.name.label("village_name"), _V.c.township_id, _T.c.name.label("township_name"),
                      _C.c.name.label("cadre_name"), _U.c.name.label("unit_name"),
                      sa.func.ST_AsBinary(_H.c.geom).label("geometry"))
            .select_from(CASES.join(_H, _H.c.id == CASES.c.household_id).join(_V, _V.c.id == _H.c.village_id)
                         .join(_T, _T.c.id == _V.c.township_id).outerjoin(_C, _C.c.id == CASES.c.cadre_id)
                         .outerjoin(_U, _U.c.id == CASES.c.unit_id))
            .where(*where).order_by(CASES.c.id))


def read_cases(bind: Bind, *, township_ids: Sequence[int] | None = None, ids: Sequence[int] | None = None,
               codes: Sequence[str] | None = None, household_ids: Sequence[int] | None = None,
               statuses: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Cases with their household's code, status and point, village, township, cadre and unit
    (no personal data); filtered by the caller's townships (None: all) and the other filters."""
    where = []
    if township_ids is not None:
        where.append(_V.c.township_id.in_([int(t) for t in township_ids]))
    if ids is not None:
        where.append(CASES.c.id.in_([int(i) for i in ids]))
    if codes is not None:
        where.append(CASES.c.code.in_([str(c) for c in codes]))
    if household_ids is not None:
        where.append(CASES.c.household_id.in_([int(i) for i in household_ids]))
    if statuses is not None:
        where.append(CASES.c.status.in_(list(statuses)))
    with connect(bind) as conn:
        require_schema(conn)
        result = conn.execute(_case_select(*where))
        frame = result_frame(result)
    geoms = _decode(frame.pop("geometry"))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=4326), crs=4326)


def lock_case(conn: sa.Connection, case_id: int) -> int | None:
    """Hold a case until the transaction ends; its version (None: no such case)."""
    return lock_row(conn, CASES, case_id)


def _written(conn: sa.Connection) -> None:
    """A monitoring write changes what the maps and the landing page show: note it once per
    transaction, as the registry's writers do (:func:`geo.storage.state._note_write`, whose
    stamp callback waits in ``conn.info`` until the connection goes back to its pool)."""
    if "stamp:registry" not in conn.info.get("after_release", {}):
        _note_write(conn)


def insert_case(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    _written(conn)
    return int(conn.execute(CASES.insert().values(**values).returning(CASES.c.id)).scalar_one())


def update_case(conn: sa.Connection, case_id: int, version: int | None, values: Mapping[str, Any], *,
                what: str) -> None:
    """The one versioned write of a case (:func:`geo.storage.records.versioned_update`)."""
    _written(conn)
    versioned_update(conn, CASES, case_id, version, {**values, "updated_at": sa.func.now()}, what=what)


def case_count(conn: sa.Connection, prefix: str) -> int:
    """How many case codes start with ``prefix`` (the next number of a year)."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(CASES)
                            .where(CASES.c.code.like(f"{prefix}%"))).scalar_one())


def insert_event(conn: sa.Connection, values: Mapping[str, Any]) -> None:
    _written(conn)
    conn.execute(EVENTS.insert().values(**values))


def insert_lead(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    _written(conn)
    return int(conn.execute(LEADS.insert().values(**values).returning(LEADS.c.id)).scalar_one())


def insert_measure(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    _written(conn)
    return int(conn.execute(MEASURES.insert().values(**values).returning(MEASURES.c.id)).scalar_one())


def _rows(bind: Bind, select: sa.Select) -> pd.DataFrame:
    with connect(bind) as conn:
        require_schema(conn)
        result = conn.execute(select)
        return result_frame(result)


def read_events(bind: Bind, case_ids: Sequence[int]) -> pd.DataFrame:
    """The events of these cases, oldest first."""
    return _rows(bind, sa.select(EVENTS).where(EVENTS.c.case_id.in_([int(i) for i in case_ids]))
                 .order_by(EVENTS.c.case_id, EVENTS.c.id))


def read_measures(bind: Bind, case_ids: Sequence[int]) -> pd.DataFrame:
    """The measures of these cases, in the order recorded."""
    kind = sa.type_coerce(MEASURES.c.kind, sa.String).label("kind")
    columns = [kind if c.name == "kind" else c for c in MEASURES.c]
    return _rows(bind, sa.select(*columns).where(MEASURES.c.case_id.in_([int(i) for i in case_ids]))
                 .order_by(MEASURES.c.case_id, MEASURES.c.id))


def read_leads(bind: Bind, *, township_ids: Sequence[int] | None = None, since: dt.date | None = None,
               until: dt.date | None = None) -> pd.DataFrame:
    """Leads with their case's code and status, household code, village and township."""
    enums = {"channel", "risk_type"}
    columns = [sa.type_coerce(c, sa.String).label(c.name) if c.name in enums else c for c in LEADS.c]
    select = (sa.select(*columns, CASES.c.code.label("case_code"),
                        sa.type_coerce(CASES.c.status, sa.String).label("case_status"),
                        _H.c.code.label("household_code"), _V.c.name.label("village_name"),
                        _V.c.township_id, _T.c.name.label("township_name"))
              .select_from(LEADS.join(CASES, CASES.c.id == LEADS.c.case_id).join(_H, _H.c.id == LEADS.c.household_id)
                           .join(_V, _V.c.id == _H.c.village_id).join(_T, _T.c.id == _V.c.township_id))
              .order_by(LEADS.c.received_on, LEADS.c.id))
    if township_ids is not None:
        select = select.where(_V.c.township_id.in_([int(t) for t in township_ids]))
    if since is not None:
        select = select.where(LEADS.c.received_on >= since)
    if until is not None:
        select = select.where(LEADS.c.received_on <= until)
    return _rows(bind, select)


def households_by_code(bind: Bind, codes: Sequence[str]) -> pd.DataFrame:
    """Households by code: id, code, status, village and township, cadre and the cadre's unit."""
    select = (sa.select(_H.c.id, _H.c.code, sa.type_coerce(_H.c.status, sa.String).label("status"),
                        _H.c.village_id, _V.c.township_id, _H.c.cadre_id, _C.c.unit_id)
              .select_from(_H.join(_V, _V.c.id == _H.c.village_id).outerjoin(_C, _C.c.id == _H.c.cadre_id))
              .where(_H.c.code.in_([str(c) for c in codes])))
    return _rows(bind, select)


def households_by_id_number(bind: Bind, id_numbers: Sequence[str]) -> dict[str, str]:
    """ID number -> household code for the ID numbers found (only inside an audited
    personal-data read, for a caller allowed to see ID numbers)."""
    if not id_numbers:
        return {}
    rows = _rows(bind, sa.select(_H.c.id_number, _H.c.code).where(_H.c.id_number.in_(list(id_numbers))))
    return {str(n).upper(): str(c) for n, c in zip(rows["id_number"], rows["code"])}
