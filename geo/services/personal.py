"""Reads of personal data (household heads' names and ID numbers), each written to the audit
log in the same transaction as the read: an entry is never missing for a read that
happened, nor left behind by a read that failed.

Callers check the role first (who may see names is the API's and the CLI's policy); these
functions only read and record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from geo import audit, storage
from geo.audit import Actor
from geo.storage import Bind, connect


@dataclass
class PersonalRead:
    """The transaction of a personal-data read: read through ``conn``; ``after`` is what the
    audit entry records about the read (filled in once known, e.g. a row count)."""

    conn: Connection
    after: dict[str, Any] | None = None


@contextmanager
def personal_read(bind: Bind, *, actor: Actor | None, layer: str, row_id: int | None = None,
                  action: str = "read_pii", after: Mapping[str, Any] | None = None) -> Iterator[PersonalRead]:
    """A transaction to read personal data in; on success its audit entry is written in the
    same transaction (none without ``actor``: the command line, which has no account).

    A write transaction (``connect(write=True)``): the audit entry is written after the
    read, and on SpatiaLite a deferred transaction could not take the write lock then.
    """
    with connect(bind, write=True) as conn:
        read = PersonalRead(conn, dict(after) if after is not None else None)
        yield read
        if actor is not None:
            audit.record(conn, actor=actor, action=action, layer=layer, row_id=row_id, after=read.after)


def household_personal(bind: Bind, row_id: int, *, township: Sequence[int] | None, actor: Actor | None
                       ) -> dict[str, Any]:
    """A household's code, head's name and ID number (and the row's version, for a change),
    audited as ``actor``.

    Raises
    ------
    NotFound
        No such household (in ``township``).
    """
    with personal_read(bind, actor=actor, layer="households", row_id=row_id) as read:
        row = storage.read_record(read.conn, "households", row_id, township=township, include_pii=True)
    return {"id": row["id"], "code": row["code"], "head_name": row["head_name"], "id_number": row["id_number"],
            "version": row["version"]}


def household_pii(bind: Bind, household_ids: list[int]) -> pd.DataFrame:
    """Head names and ID numbers of households by id (read inside :func:`personal_read`).
    Callers must have checked the role."""
    ids = [int(i) for i in household_ids if i is not None and not pd.isna(i)]
    if not ids:
        return pd.DataFrame(columns=["id", "head_name", "id_number"])
    frame = storage.read_layer(bind, "households", ids=ids, columns=["head_name", "id_number"],
                               include_pii=True, with_names=False)
    return pd.DataFrame(frame[["id", "head_name", "id_number"]])
