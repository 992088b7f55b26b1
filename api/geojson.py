"""Fast JSON and GeoJSON responses (orjson), and page links."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import orjson
import pandas as pd
import shapely
from fastapi import Request
from fastapi.responses import Response

from geo.geojson import DEFAULT_PRECISION, features, geometry_dicts, json_value  # noqa: F401

GEOJSON = "application/geo+json"


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS, default=json_value)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class GeoJSON(JSON):
    media_type = GEOJSON


def page_links(request: Request, *, limit: int, offset: int, matched: int | None, returned: int,
               media_type: str, after: int | None = None) -> list[dict]:
    """``self``, ``next`` and ``prev`` links of a page (absolute URLs, other parameters kept).

    ``after``: the page's last id, for keyset paging: the ``next`` link sends it as ``after``
    (with the next offset, which then only numbers the page); ``prev`` pages by offset."""
    links = [{"href": str(request.url), "rel": "self", "type": media_type}]
    more = offset + returned < matched if matched is not None else returned == limit
    if more:
        extra = {} if after is None else {"after": after}
        links.append({"href": str(request.url.include_query_params(offset=offset + limit, limit=limit, **extra)),
                      "rel": "next", "type": media_type, "title": "next page"})
    if offset > 0:
        back = request.url.remove_query_params("after")
        links.append({"href": str(back.include_query_params(offset=max(0, offset - limit), limit=limit)),
                      "rel": "prev", "type": media_type, "title": "previous page"})
    return links


def frame_features(frame: gpd.GeoDataFrame, properties: list[str], *, precision: int | None = None) -> list[dict]:
    """GeoJSON features of a layer frame with the given properties, ~6 decimals (or
    ``precision`` decimals for a frame in another CRS, e.g. 3 for metres).

    The same features as :func:`geo.geojson.features`, built in bulk for speed: the property
    table is converted once (NaN, NA and NaT become None), geometries go into the response as
    GeoJSON text (no parse and re-encode).
    """
    geometry = frame.geometry if frame._geometry_column_name in frame else None
    if (precision is None and geometry is not None and geometry.crs is not None
            and geometry.crs.to_epsg() not in (4326, 4490)):
        raise ValueError(f"GeoJSON needs EPSG:4326 coordinates; the frame is in {geometry.crs}")
    texts: list = [None] * len(frame)
    if geometry is not None:
        texts = geometry_texts(geometry.array.to_numpy(), precision=precision)
    table = pd.DataFrame(frame[properties])
    rows = table.astype(object).where(table.notna(), None).to_numpy().tolist()
    ids = frame["id"].tolist() if "id" in frame.columns else None
    out = []
    for position in range(len(frame)):
        feature: dict[str, Any] = {"type": "Feature"}
        if ids is not None:
            feature["id"] = ids[position]
        feature["geometry"] = texts[position]
        feature["properties"] = dict(zip(properties, rows[position]))
        out.append(feature)
    return out


def geometry_texts(geometries, *, precision: int | None = None) -> list:
    """GeoJSON geometries of a shapely array as ``orjson.Fragment`` text (None where missing
    or empty), rounded to ``precision`` decimals (default ~0.1 m in degrees)."""
    digits = DEFAULT_PRECISION if precision is None else precision
    array = shapely.set_precision(geometries, 10.0 ** -digits, mode="pointwise")
    empty = shapely.is_empty(array) | shapely.is_missing(array)
    encoded = shapely.to_geojson(array)
    return [None if e else orjson.Fragment(t) for t, e in zip(encoded.tolist(), empty.tolist())]


def row_features(ids: list, geometries, columns: list[str], rows: list[tuple], properties: list[str], *,
                 precision: int | None = None) -> list[dict]:
    """GeoJSON features of plain rows (:func:`geo.storage.read_rows`): ``ids``, a shapely
    array of ``geometries``, and ``rows`` of ``columns`` of which ``properties`` are kept.
    The same features as :func:`frame_features`, without pandas."""
    texts = geometry_texts(geometries, precision=precision) if len(ids) else []
    positions = [columns.index(name) for name in properties]
    if positions == list(range(len(columns))):  # every column, in order: the rows as they are
        values = rows
    else:
        values = [tuple(row[i] for i in positions) for row in rows]
    return [{"type": "Feature", "id": feature_id, "geometry": text, "properties": dict(zip(properties, row))}
            for feature_id, text, row in zip(ids, texts, values)]


def frame_records(frame: gpd.GeoDataFrame, *, geometry_name: str | None) -> list[dict]:
    """Plain JSON records of a layer frame; geometries as GeoJSON (primary under ``geometry``)."""
    geometry_columns = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    encoded = {c: geometry_dicts(frame[c]) for c in geometry_columns}
    plain = [c for c in frame.columns if c not in encoded]
    rows = []
    for position, values in enumerate(frame[plain].itertuples(index=False, name=None)):
        row = {name: json_value(value) for name, value in zip(plain, values)}
        for column, geoms in encoded.items():
            if column == frame.geometry.name:
                if geometry_name:
                    row[geometry_name] = geoms[position]
            else:
                row[column] = geoms[position]
        rows.append(row)
    return rows


def record_json(row: dict) -> dict:
    """One record from :func:`geo.storage.read_record` with geometries as GeoJSON."""
    out = {}
    for name, value in row.items():
        out[name] = geometry_dicts([value])[0] if hasattr(value, "geom_type") else json_value(value)
    return out
