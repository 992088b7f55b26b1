"""The registry's state token: a short text that changes whenever its data change, for
keying caches of results computed from it.
"""

from __future__ import annotations

import functools
import hashlib
import threading

import sqlalchemy as sa

from geo.db import Bind, connect, require_schema
from geo.storage import stamps
from geo.layers import LAYERS, LINKS

# --------------------------------------------------------------------------------------
# State token
# --------------------------------------------------------------------------------------

#: Registry writes this process has started (see :func:`state_token`).
_writes = 0
_writes_lock = threading.Lock()


def _note_write(conn: sa.Connection) -> None:
    """Count a registry write this process starts on ``conn`` (:func:`state_token`), and
    change the registry's stamp (:func:`registry_stamp`) now and after its transaction ends."""
    global _writes
    with _writes_lock:
        _writes += 1
    stamps.bump_after_release(conn, "registry")


def registry_stamp(bind: Bind) -> tuple[int, int]:
    """A value that changes whenever an atlas process on this host writes the registry (at
    once, costing no SQL: :mod:`geo.storage.stamps`). Cheaper than :func:`state_token`, but
    blind to writes by other hosts or by hand: a cache keyed by it keeps answers for a
    bounded time only."""
    return stamps.read(bind, "registry")


def state_token(bind: Bind) -> str:
    """A short text that changes whenever the registry's data change, for keying caches.

    Two parts: the number of registry writes this process has started (every write goes
    through the storage package: imports, the registry API, the demo loader, link tables), and a
    fingerprint the database computes in one query: per layer the row count, the largest
    and the summed ids, the summed versions (every update increments one) and the latest
    ``updated_at``; per link table the row count and sums of its keys and of their product
    (modulo a prime), so that moving a link from one owner to another shows. The first part
    catches this process's writes at once, the second those of other processes (``atlas
    import`` while the server runs, other server workers, other hosts on PostGIS).

    Accounts, the audit log and inspection plans are not part of it: they are not registry
    data. The query reads every row of the registry's tables (an aggregate, no rows
    transferred): milliseconds for a county.

    Returns
    -------
    str
        16 hexadecimal characters.
    """
    with _writes_lock:
        local = _writes
    with connect(bind) as conn:
        require_schema(conn)
        rows = conn.execute(_fingerprint_statement()).all()
    text = repr((local, sorted(tuple(str(v) for v in row) for row in rows)))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def state_key(bind: Bind) -> tuple[str, str]:
    """The database and its :func:`state_token`: the start of the key of every result kept
    per registry state, so that neither another database's nor an older state's answer is
    ever served."""
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    return engine.url.render_as_string(hide_password=True), state_token(bind)


@functools.cache
def _fingerprint_statement() -> sa.CompoundSelect:
    """One aggregate row per layer and link table (built once: it is the same every call)."""
    text = sa.String()

    def total(expr):
        return sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), text)

    selects = []
    for name, spec in LAYERS.items():
        t = spec.table
        selects.append(sa.select(
            sa.literal(name, text), sa.cast(sa.func.count(), text), sa.cast(sa.func.max(t.c.id), text),
            total(t.c.id), total(t.c.version), sa.cast(sa.func.max(t.c.updated_at), text)))
    for name, t in LINKS.items():
        a, b = (c for c in t.primary_key.columns)
        product = (sa.cast(a, sa.BigInteger) * sa.cast(b, sa.BigInteger)) % 2_147_483_647
        selects.append(sa.select(
            sa.literal(name, text), sa.cast(sa.func.count(), text), total(a), total(b), total(product),
            sa.literal("", text)))
    return sa.union_all(*selects)


