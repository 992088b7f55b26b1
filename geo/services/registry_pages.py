"""The registry's records for the 登记簿 page: a page of a layer (optionally searched), one
record, and the audited, version-checked change.

The names follow ``geo.services.registry`` on the main line (``page``, ``read``, ``update``),
which this branch does not have yet; :func:`search_page` is the page's own addition. When the
two meet, these functions become calls of that module (or move into it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from geo import storage
from geo.audit import Actor
from geo.layers import get_layer

Township = Sequence[int] | None
#: Columns a search looks in, when the layer has them (besides the joined label columns).
SEARCHED = ("code", "name", "short_name", "kind", "category", "status")


@dataclass(frozen=True)
class Page:
    """One page of a layer and how many rows match in all."""

    frame: gpd.GeoDataFrame
    matched: int


def search_page(bind: storage.Bind, layer: str, *, township: Township, limit: int, offset: int,
                search: str | None = None) -> Page:
    """Rows ``offset`` to ``offset + limit`` of ``layer`` in id order, in ``township``, never
    with personal fields; with ``search``, only rows whose code, name or a joined label
    (village, township ...) contains it."""
    spec = get_layer(layer)
    text = (search or "").strip()
    if not text:
        frame = storage.read_layer(bind, layer, township=township, limit=limit, offset=offset)
        return Page(frame, storage.count_layer(bind, layer, township=township))
    columns = ["id", *(c for c in SEARCHED if c in spec.table.c)]
    found = storage.read_layer(bind, layer, township=township, columns=columns)
    labels = [join.label for join in spec.names if join.label in found.columns]
    hit = None
    for column in [c for c in columns if c != "id"] + labels:
        match = found[column].astype("string").str.contains(text, case=False, regex=False, na=False)
        hit = match if hit is None else hit | match
    ids = sorted(int(i) for i in found.loc[hit, "id"]) if hit is not None else []
    chosen = ids[offset:offset + limit]
    frame = storage.read_layer(bind, layer, ids=chosen, township=township) if chosen else found.iloc[0:0]
    return Page(frame, len(ids))


def read(bind: storage.Bind, layer: str, row_id: int, *, township: Township) -> dict[str, Any]:
    """One record without personal fields (``NotFound`` outside ``township``)."""
    return storage.read_record(bind, layer, row_id, township=township)


def update(bind: storage.Bind, layer: str, row_id: int, changes: Mapping[str, Any], *, version: int,
           actor: Actor, township: Township) -> dict[str, Any]:
    """The record changed if ``version`` is still current (``StaleVersion`` if not), audited."""
    return storage.update_record(bind, layer, row_id, changes, version=version, actor=actor, township=township)
