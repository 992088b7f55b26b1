"""SQL of the stations' yearly ledgers (``pv_ledger``): record checked years, read them back.

What a ledger holds and how it is checked is :mod:`geo.pv.ledger` (no SQL); the use cases
(check the whole file first, audit every change) are :mod:`geo.services.pv`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from geo import models
from geo.db import Bind, connect, require_schema
from geo.storage.records import versioned_update
from geo.storage.types import result_frame

LEDGER = models.PVLedgerYear.__table__
PROJECTS = models.PVProject.__table__

#: The recorded values of a ledger year (besides project and year).
VALUE_COLUMNS = ("generation_kwh", "income_yuan", "households_yuan", "public_posts_yuan", "posts",
                 "public_works_yuan", "operator_yuan", "note")


def project_ids(bind: Bind, codes: Iterable[str]) -> dict[str, int]:
    """The ids of the projects with these codes (codes the registry does not hold are left out)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    with connect(bind) as conn:
        require_schema(conn)
        rows = conn.execute(sa.select(PROJECTS.c.code, PROJECTS.c.id).where(PROJECTS.c.code.in_(wanted))).all()
    return {str(code): int(i) for code, i in rows}


def upsert_years(bind: Bind, rows: Sequence[Mapping[str, Any]], *, source: str) -> list[dict[str, Any]]:
    """Insert each ``project_id, year`` row, or replace the row already recorded for that
    project and year (its version goes up). All rows in one transaction.

    Returns
    -------
    list of dict
        Per row: ``id``, ``action`` (``create`` or ``update``), ``before`` (the values replaced,
        None for a new row) and ``version`` after the write.
    """
    out: list[dict[str, Any]] = []
    with connect(bind, write=True) as conn:
        require_schema(conn)
        for row in rows:
            values = {c: row.get(c) for c in VALUE_COLUMNS}
            current = conn.execute(
                sa.select(LEDGER).where(LEDGER.c.project_id == int(row["project_id"]),
                                        LEDGER.c.year == int(row["year"]))).mappings().first()
            if current is None:
                new_id = conn.execute(LEDGER.insert().values(
                    project_id=int(row["project_id"]), year=int(row["year"]), source=source, **values,
                ).returning(LEDGER.c.id)).scalar_one()
                out.append({"id": int(new_id), "action": "create", "before": None, "version": 1})
            else:
                versioned_update(conn, LEDGER, int(current["id"]), None, {**values, "source": source},
                                 what=f"ledger year {row['year']} of project {row['project_id']}")
                out.append({"id": int(current["id"]), "action": "update",
                            "before": {c: current[c] for c in VALUE_COLUMNS}, "version": int(current["version"]) + 1})
    return out


def read_years(bind: Bind, project_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """The recorded ledger years (all projects, or these), with the project's ``project_code``,
    oldest year first per project."""
    select = (sa.select(PROJECTS.c.code.label("project_code"), LEDGER.c.id, LEDGER.c.project_id, LEDGER.c.year,
                        *[LEDGER.c[c] for c in VALUE_COLUMNS], LEDGER.c.source, LEDGER.c.updated_at,
                        LEDGER.c.version)
              .join(PROJECTS, PROJECTS.c.id == LEDGER.c.project_id)
              .order_by(PROJECTS.c.code, LEDGER.c.year))
    if project_ids is not None:
        select = select.where(LEDGER.c.project_id.in_([int(i) for i in project_ids]))
    with connect(bind) as conn:
        require_schema(conn)
        result = conn.execute(select)
        return result_frame(result)
