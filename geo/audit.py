"""The audit log: who changed what, when, with the values before and after.

This module decides what an entry holds and has no SQL: :class:`Actor` (who) and
:func:`snapshot` (the values, JSON-safe, personal fields redacted). Entries are written by the
storage functions that make the change (:func:`geo.storage.audit.record`), on the caller's
connection, so a change and its audit row commit or roll back together. Personal fields
(household head's name and ID number) and secrets are never stored: the entry says that such a
field changed, not its value.

``geo.audit.record`` and ``geo.audit.read_entries`` still answer, from
:mod:`geo.storage.audit` (looked up on first use: this module imports no storage code).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from geo.geojson import geometry_dicts, json_value

#: What an entry shows instead of a personal or secret value.
REDACTED = "[redacted]"


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


_STORAGE_NAMES = frozenset({"record", "read_entries"})


def __getattr__(name: str):
    # the SQL moved to geo.storage.audit; callers of geo.audit.record keep working
    if name in _STORAGE_NAMES:
        import importlib

        return getattr(importlib.import_module("geo.storage.audit"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
