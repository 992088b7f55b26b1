"""Geometry of table rows from 经度/纬度 (decimal or 度分秒), X/Y or WKT columns."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.errors import ValidationError
from geo.io import coords
from geo.io.fields import label
from geo.io.importer.report import ImportReport
from geo.io.validate import check_numbers, combine, parse_wkt

_DMS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[°度:]\s*(?:(\d+(?:\.\d+)?)\s*['′分:]?\s*)?(?:(\d+(?:\.\d+)?)\s*[\"″秒]?)?\s*([NSEW东西南北]?)\s*$")


def degrees(values: pd.Series, label_text: str) -> tuple[pd.Series, pd.Series]:
    """Decimal degrees from numbers or 度分秒 text (105°10′30″)."""
    checked = check_numbers(values, label=label_text, integer=False)
    numbers = checked.values.copy()
    reasons = checked.reasons.copy()
    for i in np.flatnonzero(reasons.notna().to_numpy()):
        match = _DMS.match(str(values.iat[i]))
        if match:
            d, m, s = (float(g) if g else 0.0 for g in match.groups()[:3])
            value = abs(d) + m / 60 + s / 3600
            if d < 0 or match.group(4) in ("S", "W", "南", "西"):
                value = -value
            numbers.iat[i] = value
            reasons.iat[i] = None
    return numbers, reasons


class TableGeometry:
    """Builds the geometry of table rows from 经度/纬度, X/Y or WKT columns."""

    def __init__(self, columns: set[str], *, crs: CRS | None, web: str | None, layer: str, source: str,
                 report: ImportReport):
        self.kind = ("lonlat" if {"lon", "lat"} <= columns else "xy" if {"x", "y"} <= columns
                     else "wkt" if "wkt" in columns else None)
        half = ({"lon", "lat"} & columns) if {"lon", "lat"} & columns and not {"lon", "lat"} <= columns else set()
        if half:
            have = next(iter(half))
            raise ValidationError(f"{source}: the file has a {label(layer, have)} column but no "
                                  f"{label(layer, 'lat' if have == 'lon' else 'lon')} column; both are needed")
        self.crs = crs
        self.web = web
        self.layer = layer
        self.source = source
        self.report = report
        self.swap: bool | None = None
        if self.kind == "xy" and crs is None and web is None:
            self.crs_from = "missing"
        else:
            self.crs_from = "option" if (crs is not None or web is not None) else "assumed"

    def parse(self, frame: pd.DataFrame) -> tuple[np.ndarray, list, np.ndarray, list] | None:
        """The two coordinate columns as numbers and the reasons of the cells that are none
        (``a, a_why, b, b_why``); None for WKT or no coordinates. Pure: the import's reader
        process runs it for :meth:`build`."""
        if self.kind not in ("lonlat", "xy"):
            return None
        a_name, b_name = ("lon", "lat") if self.kind == "lonlat" else ("x", "y")
        a, a_why = degrees(frame[a_name], label(self.layer, a_name))
        b, b_why = degrees(frame[b_name], label(self.layer, b_name))
        return (a.to_numpy(dtype=float, na_value=np.nan), a_why.tolist(),
                b.to_numpy(dtype=float, na_value=np.nan), b_why.tolist())

    def build(self, frame: pd.DataFrame, parsed: tuple | None = None) -> tuple[gpd.GeoSeries | None, pd.Series]:
        """Geometries (in the file's CRS) and per-row reasons; ``parsed``: what :meth:`parse`
        gave for the frame, where it ran before."""
        index = frame.index
        none = pd.Series([None] * len(frame), index=index, dtype=object)
        if self.kind is None:
            return None, none
        if self.kind == "wkt":
            geoms, reasons = parse_wkt(frame["wkt"], label=label(self.layer, "wkt"))
            return gpd.GeoSeries(geoms, index=index), reasons
        a, a_why, b, b_why = parsed if parsed is not None else self.parse(frame)
        a_why = pd.Series(a_why, index=index, dtype=object)
        b_why = pd.Series(b_why, index=index, dtype=object)
        if self.kind == "xy":
            a, b = self._orient(a, b)
        present = np.isfinite(a) & np.isfinite(b)
        points = np.full(len(frame), None, dtype=object)
        points[present] = shapely.points(a[present], b[present])
        half = np.isfinite(a) ^ np.isfinite(b)
        half_why = pd.Series(np.where(half, "only one of the two coordinates is given", None), index=index, dtype=object)
        return gpd.GeoSeries(points, index=index), combine([a_why, b_why, half_why], index)

    def _orient(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chinese surveying writes X for the northing and Y for the easting; decide once,
        from the first rows, which column is the easting."""
        if self.swap is None:
            finite = np.isfinite(x) & np.isfinite(y)
            if not finite.any():
                return x, y
            x0, y0 = x[finite][:50], y[finite][:50]
            if self.crs is not None:
                straight = self._inside(x0, y0)
                swapped = self._inside(y0, x0)
                self.swap = bool(swapped > straight)
            else:
                self.swap = bool(np.all([coords.prefixed_zone(v) is not None for v in y0])
                                 and not np.any([coords.prefixed_zone(v) is not None for v in x0]))
            if self.swap:
                self.report.warn("the X column holds northings and the Y column eastings (the surveying "
                                 "convention); they were read the other way round")
        return (y, x) if self.swap else (x, y)

    def _inside(self, x: np.ndarray, y: np.ndarray) -> int:
        try:
            lonlat = gpd.GeoSeries(shapely.points(x, y), crs=self.crs).to_crs(4326)
        except Exception:
            return 0
        return int((~coords.outside_china(lonlat.values)).sum())
