"""GeoJSON encoding of layer frames (RFC 7946), shared by the API, exports and maps."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: About 0.1 m at these latitudes: enough for any registry feature, and much smaller files.
DEFAULT_PRECISION = 6


def json_value(value: Any) -> Any:
    """A JSON-safe Python value: NaN and NA become null, numpy scalars and dates plain values."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, shapely.Geometry):
        return None  # secondary geometries are not properties
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def geometry_dicts(geoms: Iterable[Any], precision: int | None = DEFAULT_PRECISION) -> list[dict | None]:
    """GeoJSON geometry dicts, coordinates rounded to ``precision`` decimals (pointwise)."""
    array = np.array([g if isinstance(g, shapely.Geometry) else None for g in geoms], dtype=object)
    if precision is not None:
        array = shapely.set_precision(array, 10.0 ** -precision, mode="pointwise")
    texts = shapely.to_geojson(array)
    return [None if t is None or g is None or g.is_empty else json.loads(t) for t, g in zip(texts, array)]


def features(
    frame: gpd.GeoDataFrame,
    *,
    id_column: str | None = "id",
    properties: Iterable[str] | None = None,
    precision: int | None = DEFAULT_PRECISION,
) -> list[dict]:
    """GeoJSON Feature dicts for every row of ``frame`` (geometry must be EPSG:4326).

    The feature ``id`` is taken from ``id_column`` when the frame has it; ``properties``
    limits and orders the property names (other geometry columns are never properties).
    """
    if frame.crs is not None and frame.crs.to_epsg() not in (4326, 4490):
        raise ValueError(f"GeoJSON needs EPSG:4326 coordinates; the frame is in {frame.crs}")
    geometry_name = frame.geometry.name if frame._geometry_column_name in frame else None
    geometry_like = {c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)}
    names = [c for c in (properties if properties is not None else frame.columns) if c not in geometry_like]
    geometries = geometry_dicts(frame.geometry if geometry_name else [None] * len(frame), precision)
    ids = frame[id_column].tolist() if id_column and id_column in frame.columns else None
    rows = frame[names].itertuples(index=False, name=None)
    out = []
    for position, (values, geometry) in enumerate(zip(rows, geometries)):
        feature: dict[str, Any] = {"type": "Feature"}
        if ids is not None:
            feature["id"] = json_value(ids[position])
        feature["geometry"] = geometry
        feature["properties"] = {n: json_value(v) for n, v in zip(names, values)}
        out.append(feature)
    return out


def feature_collection(frame: gpd.GeoDataFrame, **kwargs: Any) -> dict:
    """A FeatureCollection dict for ``frame``; see :func:`features`."""
    return {"type": "FeatureCollection", "features": features(frame, **kwargs)}
