"""Choosing a metric CRS for distances, lengths and areas (never measure in degrees)."""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

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
