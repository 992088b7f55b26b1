"""Choosing a metric CRS for distances, lengths and areas (never measure in degrees), and the
CRSs served over OGC API - Features Part 2."""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo.errors import ValidationError


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS 84 / UTM zone CRS containing a point (EPSG:326xx north, 327xx south)."""
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):
        raise ValidationError(f"({lon}, {lat}) is not a longitude/latitude inside the UTM range")
    zone = min(int((lon + 180) // 6) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs_for(*frames: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """The UTM zone of the data's centroid (e.g. EPSG:32648 for Ningxia).

    Every frame must be in EPSG:4326 (or CGCS2000, EPSG:4490); frames in different CRSs raise
    rather than being silently reprojected.

    Raises
    ------
    ValidationError
        When a frame has no CRS, a projected CRS, or the frames hold no geometry at all.
    """
    bounds = []
    for frame in frames:
        crs = frame.crs
        if crs is None:
            raise ValidationError("a frame has no CRS; set it to EPSG:4326 before measuring")
        if crs.to_epsg() not in (4326, 4490):
            raise ValidationError(
                f"a frame is in {crs.to_string()}; the analyses expect EPSG:4326 (reproject with to_crs(4326))"
            )
        geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
        geoms = geoms[geoms.notna() & ~geoms.is_empty]
        if len(geoms):
            bounds.append(geoms.total_bounds)
    if not bounds:
        raise ValidationError("no geometries to choose a metric CRS from")
    minx = min(b[0] for b in bounds)
    miny = min(b[1] for b in bounds)
    maxx = max(b[2] for b in bounds)
    maxy = max(b[3] for b in bounds)
    return utm_crs((minx + maxx) / 2, (miny + maxy) / 2)


def to_metric(frame: gpd.GeoDataFrame, crs: CRS | None = None) -> gpd.GeoDataFrame:
    """``frame`` reprojected to ``crs`` (default: :func:`metric_crs_for` the frame)."""
    return frame.to_crs(crs or metric_crs_for(frame))


# --------------------------------------------------------------------------------------
# The CRSs served over OGC API - Features Part 2 (CRS84, WGS 84, CGCS2000 and its
# Gauss-Krüger zones). GCJ-02 and BD-09 are no CRSs of any register and are never offered.
# --------------------------------------------------------------------------------------

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
#: Geographic CRSs offered besides CRS84: WGS 84 and CGCS2000 (latitude first, as registered).
GEOGRAPHIC_CODES = (4326, 4490)
#: CGCS2000 / Gauss-Krüger: 6-degree zones 13-23 (4491-4501) and CM 75E-135E (4502-4512),
#: 3-degree zones 25-45 (4513-4533) and CM 75E-135E (4534-4554).
GAUSS_KRUGER_CODES = range(4491, 4555)


def crs_uri(code: int | None) -> str:
    """The OGC URI of an EPSG code (None: CRS84)."""
    return CRS84_URI if code is None else f"{_EPSG_URI}{int(code)}"


def parse_crs(value: str, *, name: str = "crs") -> int | None:
    """The EPSG code a CRS parameter names, None for CRS84.

    Accepts the OGC URI (``http://www.opengis.net/def/crs/EPSG/0/4544``), a safe CURIE
    (``[EPSG:4544]``), ``EPSG:4544`` and ``urn:ogc:def:crs:EPSG::4544``.

    Raises
    ------
    ValidationError
        Naming the parameter and the accepted forms.
    """
    text = value.strip().strip("[]")
    if text in (CRS84_URI, "OGC:CRS84", "CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84",
                "http://www.opengis.net/def/crs/OGC/0/CRS84"):
        return None
    for prefix in (_EPSG_URI, "https://www.opengis.net/def/crs/EPSG/0/", "EPSG:", "urn:ogc:def:crs:EPSG::"):
        if text.startswith(prefix) and text[len(prefix):].isdigit() and len(text) - len(prefix) <= 6:
            return int(text[len(prefix):])
    raise ValidationError(
        f"{name} {value[:100]!r} is not a CRS this server knows; give a URI such as {CRS84_URI} "
        f"or {_EPSG_URI}4490 (see the collection's crs list)")


@functools.cache
def _gauss_kruger_areas() -> tuple[tuple[int, tuple[float, float, float, float]], ...]:
    from pyproj.database import query_crs_info

    areas = []
    for info in query_crs_info(auth_name="EPSG"):
        if info.code.isdigit() and int(info.code) in GAUSS_KRUGER_CODES and info.area_of_use:
            a = info.area_of_use
            areas.append((int(info.code), (a.west, a.south, a.east, a.north)))
    return tuple(sorted(areas))


def gauss_kruger_codes(bounds: tuple[float, float, float, float] | None) -> list[int]:
    """The CGCS2000 Gauss-Krüger CRSs whose area of use (EPSG's) meets ``bounds``
    (minx, miny, maxx, maxy [degrees]); none for no bounds."""
    if bounds is None:
        return []
    minx, miny, maxx, maxy = bounds
    return [code for code, (west, south, east, north) in _gauss_kruger_areas()
            if west <= maxx and minx <= east and south <= maxy and miny <= north]


@functools.cache
def _transformer(code: int, inverse: bool) -> Transformer:
    # From CRS84 (longitude, latitude) to the code's registered axis order, or back.
    source, target = "OGC:CRS84", f"EPSG:{int(code)}"
    if inverse:
        source, target = target, source
    return Transformer.from_crs(source, target)


def _apply(geoms, transformer: Transformer):
    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, transform)


def from_crs84(geoms, code: int | None):
    """Shapely geometry (or array) from CRS84 into EPSG ``code``, in its registered axis order
    (latitude first for EPSG:4326 and 4490, northing first for the Gauss-Krüger zones)."""
    return geoms if code is None else _apply(geoms, _transformer(int(code), False))


def to_crs84(geoms, code: int | None):
    """Shapely geometry (or array) in EPSG ``code`` (registered axis order) into CRS84."""
    return geoms if code is None else _apply(geoms, _transformer(int(code), True))


def is_geographic(code: int | None) -> bool:
    return code is None or int(code) in GEOGRAPHIC_CODES
