"""GCJ-02 (Amap/Gaode, Tencent) and BD-09 (Baidu) coordinates, to and from WGS 84.

Chinese web maps publish coordinates in GCJ-02, an obfuscated datum derived from WGS 84 by a
published non-linear offset (typically 100-700 m), and Baidu adds a further rotation and
shift (BD-09). Neither can be detected from a file, so importers ask the user which it is.

Algorithms
----------
- WGS 84 -> GCJ-02: the closed-form offset used by every public implementation (Krasovsky
  1940 ellipsoid constants ``a = 6378245.0`` and ``ee = 0.00669342162296594323``). It is the
  published formula itself, so converting with it is exact with respect to GCJ-02.
- GCJ-02 -> WGS 84: no closed form exists; we invert the forward formula by fixed-point
  iteration until the forward image of the estimate matches the input to 1e-10 degrees
  (about 0.01 mm). The common one-step inverse is off by up to about 1-2 m; the iteration
  removes that error, leaving the accuracy of the published forward formula itself.
- GCJ-02 <-> BD-09: Baidu's published rotation and offset (closed form both ways, accurate to
  about 1e-6 degrees, 0.1 m, on the way back because of its small approximations).

Outside mainland China's rough extent the offset is not applied (GCJ-02 equals WGS 84 there).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import shapely

A = 6378245.0
EE = 0.00669342162296594323
X_PI = np.pi * 3000.0 / 180.0

ChinaCRS = Literal["gcj02", "bd09"]


def out_of_china(lon, lat) -> np.ndarray:
    """True where a point lies outside the rough box in which GCJ-02 applies its offset."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return ~((lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271))


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 longitude/latitude [degrees] -> GCJ-02 [degrees]."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, *, tolerance_deg: float = 1e-10, max_iterations: int = 30
                   ) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 [degrees] -> WGS 84 [degrees], by iterating the forward formula to ``tolerance_deg``."""
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if np.all(np.abs(e_lon) < tolerance_deg) and np.all(np.abs(e_lat) < tolerance_deg):
            break
    return w_lon, w_lat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 [degrees] -> BD-09 [degrees]."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 [degrees] -> GCJ-02 [degrees]."""
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def to_wgs84(lon, lat, source: ChinaCRS) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 or BD-09 coordinates to WGS 84."""
    if source == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    elif source != "gcj02":
        raise ValueError(f"unknown Chinese web-map CRS {source!r}; use 'gcj02' or 'bd09'")
    return gcj02_to_wgs84(lon, lat)


def from_wgs84(lon, lat, target: ChinaCRS) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS 84 coordinates to GCJ-02 or BD-09."""
    lon, lat = wgs84_to_gcj02(lon, lat)
    if target == "bd09":
        return gcj02_to_bd09(lon, lat)
    if target != "gcj02":
        raise ValueError(f"unknown Chinese web-map CRS {target!r}; use 'gcj02' or 'bd09'")
    return lon, lat


def _apply(geoms, function) -> np.ndarray:
    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = function(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, transform)


def geometries_to_wgs84(geoms, source: ChinaCRS):
    """Shapely geometry or array of geometries from GCJ-02/BD-09 to WGS 84."""
    return _apply(geoms, lambda x, y: to_wgs84(x, y, source))


def geometries_from_wgs84(geoms, target: ChinaCRS):
    """Shapely geometry or array of geometries from WGS 84 to GCJ-02/BD-09 (e.g. to draw
    overlays on Amap tiles)."""
    return _apply(geoms, lambda x, y: from_wgs84(x, y, target))
