"""The registry's records one layer at a time: pages of a layer, one record, and the audited,
version-checked changes. Shared by ``/api/registry``, ``/api/layers`` and the OGC routes, so
the paging count rule and the scoping live once.

Township scoping is the caller's policy (the API passes the user's townships); these
functions apply it and never widen it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from geo import storage
from geo.audit import Actor
from geo.layers import LAYERS, get_layer
from geo.storage import (  # plain reads, the routes' and commands' too
    BBox,
    Bind,
    area_title,
    layer_counts,
    resolve_township,
    resolve_townships,
)

__all__ = ["Page", "area_title", "counts", "create", "delete", "layer_counts", "matched_rows", "page", "read",
           "resolve_township", "resolve_townships", "search_page", "update"]
Township = Sequence[int] | None
#: Columns a search looks in, when the layer has them (besides the joined label columns).
SEARCHED = ("code", "name", "short_name", "kind", "category", "status")


@dataclass(frozen=True)
class Page:
    """One page of a layer and how many rows match its filters in all."""

    frame: gpd.GeoDataFrame
    matched: int


def matched_rows(bind: Bind, layer: str, *, returned: int, limit: int, offset: int, **filters) -> int:
    """Rows matching the filters: known from a short page without asking the database (a page
    shorter than ``limit`` is the last one), else counted."""
    if returned < limit and (returned > 0 or offset == 0):
        return offset + returned
    return storage.count_layer(bind, layer, **filters)


def page(bind: Bind, layer: str, *, township: Township, limit: int, offset: int,
         where: Mapping[str, Any] | None = None, bbox: BBox | None = None) -> Page:
    """Rows ``offset`` to ``offset + limit`` of ``layer`` in id order, in ``township``,
    never with personal fields."""
    frame = storage.read_layer(bind, layer, township=township, bbox=bbox, where=where,
                               limit=limit, offset=offset)
    matched = matched_rows(bind, layer, returned=len(frame), limit=limit, offset=offset,
                           township=township, bbox=bbox, where=where)
    return Page(frame, matched)


def search_page(bind: Bind, layer: str, *, township: Township, limit: int, offset: int,
                search: str | None = None) -> Page:
    """A :func:`page` (the 登记簿 page's); with ``search``, only rows whose code, name or a
    joined label (village, township ...) contains it."""
    text = (search or "").strip()
    if not text:
        return page(bind, layer, township=township, limit=limit, offset=offset)
    spec = get_layer(layer)
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


def counts(bind: Bind, layers: Sequence[str], *, township: Township) -> dict[str, int]:
    """Rows of each of ``layers`` in ``township``."""
    return {name: storage.count_layer(bind, name, township=township) for name in layers if name in LAYERS}


def read(bind: Bind, layer: str, row_id: int, *, township: Township) -> dict[str, Any]:
    """One record without personal fields (``NotFound`` outside ``township``)."""
    return storage.read_record(bind, layer, row_id, township=township)


def create(bind: Bind, layer: str, values: Mapping[str, Any], *, actor: Actor, township: Township,
           source: str = "user") -> dict[str, Any]:
    """A new record, audited; its natural key must be free (``Conflict``)."""
    return storage.insert_record(bind, layer, values, actor=actor, township=township, source=source)


def update(bind: Bind, layer: str, row_id: int, changes: Mapping[str, Any], *, version: int,
           actor: Actor, township: Township) -> dict[str, Any]:
    """The record changed if ``version`` is still current (``StaleVersion`` if not), audited."""
    return storage.update_record(bind, layer, row_id, changes, version=version, actor=actor,
                                 township=township)


def delete(bind: Bind, layer: str, row_id: int, *, version: int, actor: Actor, township: Township) -> None:
    """The record deleted if ``version`` is still current and no other row refers to it."""
    storage.delete_record(bind, layer, row_id, version=version, actor=actor, township=township)
