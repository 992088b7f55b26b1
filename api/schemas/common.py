"""Types shared by the schemas: safe text, GeoJSON geometries, links, problems, timestamps."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Annotated, Any

import shapely
import shapely.geometry
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from geo.storage.types import as_utc

INT32_MAX = 2**31 - 1


def _clean_text(value: str) -> str:
    """Refuse NUL, other control characters and lone surrogates (databases reject them)."""
    for char in value:
        if char in "\t\n\r":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            raise ValueError("contains a control character or an invalid code point; remove it")
    return value


def text(max_length: int, *, min_length: int = 1) -> Any:
    """A string of at most ``max_length`` characters without control characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean_text)]


#: A timestamp; SpatiaLite returns UTC without a zone, which is made explicit.
Timestamp = Annotated[dt.datetime, AfterValidator(as_utc)]

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


def geojson_schema(types: tuple[str, ...] = GEOMETRY_TYPES) -> dict:
    return {
        "type": "object",
        "description": "GeoJSON geometry in WGS 84 longitude/latitude (EPSG:4326)",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"type": "string", "enum": list(types)},
            "coordinates": {"type": "array", "items": {}},
        },
    }


def _shape(value: Any, types: tuple[str, ...] = GEOMETRY_TYPES) -> shapely.Geometry:
    if isinstance(value, shapely.Geometry):
        return value
    if not isinstance(value, dict) or "type" not in value or "coordinates" not in value:
        raise ValueError("expected a GeoJSON geometry object with type and coordinates, "
                         'e.g. {"type": "Point", "coordinates": [105.19, 37.51]}')
    if value["type"] not in types:
        raise ValueError(f"a {str(value['type'])[:20]} cannot be stored here; send a {' or '.join(types)}")
    try:
        geom = shapely.geometry.shape(value)
        coords = shapely.get_coordinates(geom)
    except Exception:
        raise ValueError("the coordinates do not make a valid geometry of that type") from None
    if geom.is_empty:
        raise ValueError("the geometry is empty; send null to clear it")
    if not all(math.isfinite(c) for c in coords.ravel()):
        raise ValueError("coordinates must be finite numbers")
    if (abs(coords[:, 0]) > 180).any() or (abs(coords[:, 1]) > 90).any():
        raise ValueError("coordinates must be longitude (-180..180), latitude (-90..90) in WGS 84")
    return geom


def geometry_input(types: tuple[str, ...] = GEOMETRY_TYPES) -> Any:
    """A GeoJSON geometry in the request, parsed into a shapely geometry."""
    return Annotated[Any, BeforeValidator(lambda value: _shape(value, types)),
                     WithJsonSchema(geojson_schema(types))]


#: A GeoJSON geometry in a response.
GeometryOut = Annotated[dict | None, WithJsonSchema({**geojson_schema(), "nullable": True})]


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:atlas:problem:validation"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["body field population: Input should be greater than or equal to 0"])


def problem_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    from api.errors import PROBLEM_JSON, TITLES

    return {
        status: {"model": Problem, "description": TITLES.get(status, "Error"),
                 "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }
