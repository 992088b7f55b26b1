"""CQL2 filters parsed by pygeofilter: the parsed filter, and CQL2 JSON in the shape pygeofilter reads.

The translation into SQL is :mod:`geo.storage.cql_sql`; this module imports no pygeofilter, so
that importing the storage layer (every server and command) does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from geo.errors import ValidationError


@dataclass(frozen=True)
class CqlFilter:
    """A parsed CQL2 filter and what its names and geometries mean.

    Attributes
    ----------
    node
        pygeofilter's syntax tree.
    queryables
        The column names the filter may name (besides ``geometry``).
    to_storage
        Turns a geometry literal from the filter's CRS into EPSG:4326 longitude/latitude.
    """

    node: Any
    queryables: Collection[str]
    to_storage: Callable[[BaseGeometry], BaseGeometry] = field(default=lambda geom: geom)


def bbox_polygon(numbers) -> BaseGeometry:
    """A CQL2 bbox (4 numbers, or 6 with heights) as a polygon.

    Raises
    ------
    ValidationError
        When the lower corner is not first.
    """
    values_ = [float(n) for n in numbers]
    minx, miny, maxx, maxy = values_ if len(values_) == 4 else [values_[i] for i in (0, 1, 3, 4)]
    if not (minx <= maxx and miny <= maxy):
        raise ValidationError(f"BBOX{tuple(values_)} needs its lower corner first (min <= max)")
    return shapely.box(minx, miny, maxx, maxy)


def cql2_json_for_pygeofilter(document: Any) -> Any:
    """A CQL2 JSON document (version 1.0) in the shape pygeofilter 0.4's JSON parser reads:
    each ``{"bbox": [...]}`` literal as a GeoJSON polygon (the parser puts its numbers in the
    wrong places) and ``between``'s three arguments as ``[property, [low, high]]``."""
    if isinstance(document, dict):
        if set(document) == {"bbox"} and isinstance(document["bbox"], list) and len(document["bbox"]) in (4, 6):
            return shapely.geometry.mapping(bbox_polygon(document["bbox"]))
        out = {key: cql2_json_for_pygeofilter(value) for key, value in document.items()}
        args = out.get("args")
        if out.get("op") == "between" and isinstance(args, list) and len(args) == 3:
            out["args"] = [args[0], [args[1], args[2]]]
        return out
    if isinstance(document, list):
        return [cql2_json_for_pygeofilter(item) for item in document]
    return document
