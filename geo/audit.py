"""The audit log: who changed what, when, with the values before and after.

Entries are written by the storage functions that make the change, on the caller's
connection, so a change and its audit row commit or roll back together. Personal fields
(household head's name and ID number) and secrets are never stored: the entry says that such a
field changed, not its value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from geo import models
from geo.db import require_schema
from geo.geojson import geometry_dicts, json_value

#: What an entry shows instead of a personal or secret value.
REDACTED = "[redacted]"

_TABLE = models.AuditEntry.__table__


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user of the API or the command line, or the system itself."""

    name: str
    user_id: int | None = None


SYSTEM = Actor("system")


def snapshot(values: Mapping[str, Any], *, redact: Iterable[str] = ()) -> dict[str, Any]:
    """JSON-safe copy of a row's values: geometries as GeoJSON, ``redact`` fields hidden."""
    hidden = set(redact)
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in hidden:
            out[name] = None if value is None else REDACTED
        elif hasattr(value, "geom_type"):
            out[name] = geometry_dicts([value])[0]
        else:
            out[name] = json_value(value)
    return out


def record(
    bind,
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

    ``before`` and ``after`` must already be JSON-safe and redacted (see :func:`snapshot`).
    """
    from geo.storage import connect

    with connect(bind) as conn:
        conn.execute(
            _TABLE.insert().values(
                at=dt.datetime.now(dt.timezone.utc),
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
    bind,
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
    from geo.storage import connect

    clauses = _filters(layer, row_id, user, action, since)
    with connect(bind) as conn:
        require_schema(conn)
        total = conn.execute(sa.select(sa.func.count()).select_from(_TABLE).where(*clauses)).scalar_one()
        rows = conn.execute(
            sa.select(_TABLE).where(*clauses).order_by(_TABLE.c.id.desc()).limit(int(limit)).offset(int(offset))
        ).mappings().all()
    return [_entry(row) for row in rows], int(total)


def _entry(row: Mapping[str, Any]) -> dict[str, Any]:
    entry = dict(row)
    at = entry["at"]
    if isinstance(at, dt.datetime) and at.tzinfo is None:
        entry["at"] = at.replace(tzinfo=dt.timezone.utc)  # SpatiaLite keeps UTC without a zone
    return entry
