"""Distance kernels shared by the analyses: metric CRS choice and nearest-feature search.

Every function here is *partition-safe*: it builds its own spatial index (a shapely
``STRtree``) over the targets it is given and keeps no state between calls, so it can run
once per partition of the points (e.g. ``dask_geopandas.map_partitions``) with the targets,
or the targets within reach of the partition's bounds, handed to every partition.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import metric_crs_for
from geo.errors import ValidationError


def has_geometry(frame: gpd.GeoDataFrame | gpd.GeoSeries | None) -> bool:
    """Whether ``frame`` holds at least one non-empty geometry."""
    if frame is None or len(frame) == 0:
        return False
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    return bool((geoms.notna() & ~geoms.is_empty).any())


def choose_metric_crs(*frames: gpd.GeoDataFrame | None) -> CRS | None:
    """The UTM zone of the frames' data (:func:`geo.crs.metric_crs_for`), or None when no
    frame holds a geometry (the analysis then reports distances as unknown).

    Raises
    ------
    ValidationError
        A frame with geometry is not in EPSG:4326 / EPSG:4490 (layers are never silently
        reprojected inside an analysis).
    """
    with_geometry = [f for f in frames if has_geometry(f)]
    return metric_crs_for(*with_geometry) if with_geometry else None


def crs_name(crs: CRS | None) -> str | None:
    """``EPSG:32648`` style name of a CRS (None stays None)."""
    if crs is None:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


def to_metric(frame: gpd.GeoDataFrame, crs: CRS | None) -> gpd.GeoDataFrame:
    """``frame`` in ``crs`` (a copy; the input is not changed). With no CRS, the frame's
    geometries are emptied, so every distance comes out unknown rather than in degrees."""
    if crs is None:
        out = frame.copy()
        out[out.geometry.name] = gpd.GeoSeries([None] * len(out), index=out.index)
        return out
    if frame.crs is None:
        if has_geometry(frame):
            raise ValidationError("a layer has geometries but no CRS; set it to EPSG:4326")
        return frame.set_crs(crs, allow_override=True)
    return frame.to_crs(crs)


def nearest(
    points: gpd.GeoSeries,
    targets: gpd.GeoSeries,
    *,
    max_distance_m: float | None = None,
) -> pd.DataFrame:
    """The nearest target of every point, and how far it is.

    Partition-safe: one ``STRtree`` over ``targets`` per call, no global state.

    Parameters
    ----------
    points
        Geometries (any type) in a metric CRS.
    targets
        Geometries (any type) in the same CRS.
    max_distance_m
        Look no farther than this [m]; points with no target within it get no match.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``target`` (the *label* of the nearest target in
        ``targets.index``, missing when none), ``target_position`` (its position, -1 when
        none) and ``distance_m`` [m] (NaN when none: no point geometry, no targets, or none
        within ``max_distance_m``).

    Raises
    ------
    ValidationError
        When the two series are in different CRSs.
    """
    if points.crs is not None and targets.crs is not None and points.crs != targets.crs:
        raise ValidationError(
            f"points are in {crs_name(points.crs)} and targets in {crs_name(targets.crs)}; "
            "project both to the same metric CRS first"
        )
    n = len(points)
    position = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.nan)
    point_geoms = points.to_numpy()
    target_geoms = targets.to_numpy()
    valid_points = np.flatnonzero(~(shapely.is_missing(point_geoms) | shapely.is_empty(point_geoms)))
    valid_targets = np.flatnonzero(~(shapely.is_missing(target_geoms) | shapely.is_empty(target_geoms)))
    if len(valid_points) and len(valid_targets):
        tree = shapely.STRtree(target_geoms[valid_targets])
        kwargs = {} if max_distance_m is None else {"max_distance": float(max_distance_m)}
        (inp, hit), dist = tree.query_nearest(
            point_geoms[valid_points], return_distance=True, all_matches=False, **kwargs
        )
        rows = valid_points[inp]
        position[rows] = valid_targets[hit]
        distance[rows] = dist
    labels = pd.Series(targets.index.to_numpy()[np.maximum(position, 0)] if len(targets) else [None] * n,
                       index=points.index, dtype=object)
    labels[position < 0] = None
    return pd.DataFrame(
        {"target": labels, "target_position": position, "distance_m": distance}, index=points.index
    )
