"""The storage layer: every SQL statement of the application (migrations aside).

Analyses and maps only ever see GeoDataFrames; this package is the one place that writes SQL
(bound values, whitelisted identifiers), unchanged on SpatiaLite and PostGIS. Every function
takes a ``bind``: an :class:`~sqlalchemy.engine.Engine` (the call runs in its own
transaction) or a :class:`~sqlalchemy.engine.Connection` (the call joins the caller's
transaction, so several writes can be all-or-nothing together).

Modules, one concern each (their public names are re-exported here):

- :mod:`~geo.storage.types`: constants of stored rows, cell and geometry conversion, UTC.
- :mod:`~geo.storage.query`: reading layers, counts, extents and their filters.
- :mod:`~geo.storage.write`: upserting frames, deleting rows, link tables.
- :mod:`~geo.storage.staging`: bulk upserts through a staging table (imports).
- :mod:`~geo.storage.bulk`: an exclusive import's table lock and its indexes and foreign keys set aside.
- :mod:`~geo.storage.records`: one row at a time, with :func:`versioned_update`.
- :mod:`~geo.storage.state`: the registry's state token for cache keys.
- :mod:`~geo.storage.audit`: the audit log's entries.
- :mod:`~geo.storage.accounts`: users, scopes, API keys, login attempts.
- :mod:`~geo.storage.inspection`: inspection plans, draws, samples, findings, assignments.
- :mod:`~geo.storage.pv_ledger`: the PV stations' yearly ledgers.
- :mod:`~geo.storage.monitoring`: monitoring cases, their leads, measures and events.
- :mod:`~geo.storage.answers`: submissions of the phone forms and their photos.
- :mod:`~geo.storage.library`: the project pipeline's events and the assets.
"""

from __future__ import annotations

from geo.db import Bind, backend_name, connect, read_only, require_schema, transaction
from geo.layers import LAYERS, LINKS, get_layer
from geo.storage import accounts, answers, audit, inspection, library, monitoring, pv_ledger, stamps
from geo.storage.query import (
    Query,
    area_title,
    area_townships,
    count_layer,
    distance_m,
    matched_rows,
    matched_rows_async,
    layer_counts,
    layer_extent,
    read_layer,
    read_rows,
    read_rows_async,
    resolve_area,
    resolve_township,
    resolve_townships,
    villages_in_townships,
)
from geo.storage.records import (
    delete_record,
    insert_record,
    lock_row,
    read_record,
    update_record,
    versioned_update,
)
from geo.storage.state import registry_stamp, state_key, state_token
from geo.storage.types import ACCEPTED_CRS, CRS, MANAGED, BBox, as_utc, now_utc
from geo.storage.bulk import SetAside, set_aside_upkeep
from geo.storage.staging import PreparedRows, StagedRows, can_stage, load_rows, prepare_rows, stage_rows
from geo.storage.write import (
    DELETE_CHUNK,
    WriteResult,
    delete_rows,
    existing_ids,
    read_links,
    write_layer,
    write_links,
)

__all__ = [
    "SetAside",
    "set_aside_upkeep",
    "PreparedRows",
    "StagedRows",
    "can_stage",
    "load_rows",
    "prepare_rows",
    "stage_rows",
    "ACCEPTED_CRS",
    "CRS",
    "DELETE_CHUNK",
    "LAYERS",
    "LINKS",
    "MANAGED",
    "BBox",
    "Bind",
    "Query",
    "WriteResult",
    "accounts",
    "stamps",
    "area_title",
    "area_townships",
    "as_utc",
    "audit",
    "backend_name",
    "connect",
    "read_only",
    "count_layer",
    "delete_record",
    "delete_rows",
    "distance_m",
    "matched_rows",
    "matched_rows_async",
    "existing_ids",
    "get_layer",
    "insert_record",
    "inspection",
    "layer_counts",
    "layer_extent",
    "lock_row",
    "monitoring",
    "now_utc",
    "pv_ledger",
    "read_layer",
    "read_rows",
    "read_rows_async",
    "read_links",
    "read_record",
    "require_schema",
    "resolve_area",
    "resolve_township",
    "resolve_townships",
    "registry_stamp",
    "state_key",
    "state_token",
    "transaction",
    "update_record",
    "versioned_update",
    "villages_in_townships",
    "write_layer",
    "write_links",
]


def __getattr__(name: str):
    # the process's write counter lives in geo.storage.state (read live, not copied at import)
    if name == "_writes":
        from geo.storage import state

        return state._writes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
