"""SQL of the audit log: entries written on the caller's connection (so a change and its
entry commit or roll back together) and read back with filters.

What an entry holds (who, what, the values before and after, personal fields redacted) is
decided by :mod:`geo.audit`, which has no SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from geo import models
from geo.db import Bind, connect, require_schema
from geo.storage.types import aware_row, now_utc

if TYPE_CHECKING:  # pragma: no cover
    from geo.audit import Actor

_TABLE = models.AuditEntry.__table__


def record(
    bind: Bind,
    *,
    actor: Actor,
    action: str,
    layer: str,
    row_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Write one entry. Given a connection, inside the caller's transaction (so the entry
    commits or rolls back with the change); given an engine, in a transaction of its own.

    ``before`` and ``after`` must already be JSON-safe and redacted (see
    :func:`geo.audit.snapshot`).
    """
    with connect(bind, write=True) as conn:
        conn.execute(
            _TABLE.insert().values(
                at=now_utc(),
                user_id=actor.user_id,
                user_name=actor.name[:64],
                action=action,
                layer=layer,
                row_id=row_id,
                before=dict(before) if before is not None else None,
                after=dict(after) if after is not None else None,
            )
        )


def _filters(layer, row_id, user, action, since) -> list:
    clauses = []
    if layer is not None:
        clauses.append(_TABLE.c.layer == layer)
    if row_id is not None:
        clauses.append(_TABLE.c.row_id == int(row_id))
    if user is not None:
        clauses.append(_TABLE.c.user_name == user)
    if action is not None:
        clauses.append(_TABLE.c.action == action)
    if since is not None:
        clauses.append(_TABLE.c.at >= since)
    return clauses


def read_entries(
    bind: Bind,
    *,
    layer: str | None = None,
    row_id: int | None = None,
    user: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Entries matching the filters, newest first, and how many match in all."""
    clauses = _filters(layer, row_id, user, action, since)
    with connect(bind) as conn:
        require_schema(conn)
        total = conn.execute(sa.select(sa.func.count()).select_from(_TABLE).where(*clauses)).scalar_one()
        rows = conn.execute(
            sa.select(_TABLE).where(*clauses).order_by(_TABLE.c.id.desc()).limit(int(limit)).offset(int(offset))
        ).mappings().all()
    return [aware_row(dict(row), ("at",)) for row in rows], int(total)
