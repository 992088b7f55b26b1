"""CRS placement: a chunk's geometries into WGS 84, and the China check."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.errors import AtlasError, ValidationError
from geo.io import coords
from geo.io.importer.report import ImportReport


class Placement:
    """Puts a chunk's geometries into WGS 84 and refuses what lands outside China."""

    def __init__(self, *, file_crs: CRS | None, option: CRS | str | None, source: str, report: ImportReport,
                 table_kind: str | None = None):
        self.web = option if isinstance(option, str) else None
        self.source = source
        self.report = report
        if isinstance(option, CRS):
            if file_crs is not None and not _same_crs(file_crs, option):
                report.warn(f"the file says {coords.describe(file_crs)}; --crs {coords.describe(option)} was used instead")
            self.crs, self.crs_from = option, "option"
        elif file_crs is not None:
            coords.check_crs(file_crs)
            self.crs, self.crs_from = file_crs, "file"
        elif self.web is not None:
            self.crs, self.crs_from = CRS.from_epsg(4326), "option"
        else:
            self.crs, self.crs_from = None, ("missing" if table_kind in (None, "xy") else "assumed")
        self.checked_first = False
        report.crs = (coords.describe(self.web) + " -> WGS 84") if self.web else (
            coords.describe(self.crs) if self.crs is not None else None)

    def place(self, geoms: gpd.GeoSeries, rows: Sequence[int | None]) -> tuple[gpd.GeoSeries, pd.Series]:
        index = geoms.index
        reasons = pd.Series([None] * len(geoms), index=index, dtype=object)
        values = np.asarray(geoms.values, dtype=object)
        present = ~(shapely.is_missing(values) | shapely.is_empty(np.where(shapely.is_missing(values), None, values)))
        if not present.any():
            return gpd.GeoSeries(values, index=index, crs=4326), reasons
        xs, ys = coords.first_coordinates(values)
        if self.crs is None and not self.checked_first:
            self._decide_missing_crs(xs[present], ys[present], rows, np.flatnonzero(present))
        try:
            placed = coords.to_wgs84(gpd.GeoSeries(values, index=index, crs=self.crs), web=self.web)
        except AtlasError:
            raise
        except Exception as exc:
            raise ValidationError(f"{self.source}: the coordinates cannot be transformed from "
                                  f"{coords.describe(self.crs)} ({exc})") from None
        outside = coords.outside_china(placed.values) & present
        if outside.any():
            crs_for_text = self.crs
            explain = [coords.explain_outside(xs[i], ys[i], crs_for_text, crs_from=self.crs_from)
                       for i in np.flatnonzero(outside)]
            if not self.checked_first and outside.sum() == present.sum():
                first = np.flatnonzero(outside)[0]
                raise ValidationError(
                    f"{self.source}: every position in the first {int(present.sum())} rows is outside China; "
                    f"row {rows[first]}: {explain[0]}"
                    if present.sum() > 1 else f"{self.source}: row {rows[first]}: {explain[0]}"
                )
            for i, text in zip(np.flatnonzero(outside), explain):
                reasons.iat[i] = "outside China: " + text
            placed = placed.where(~outside, None)
        self.checked_first = True
        return placed, reasons

    def _decide_missing_crs(self, xs, ys, rows, positions) -> None:
        """A file without a CRS: degrees inside China are taken as WGS 84 (said in the report);
        anything else is refused with the likely cause."""
        inside = coords.in_china(xs, ys)
        if inside.any():
            self.crs = CRS.from_epsg(4326)
            self.crs_from = "assumed"
            self.report.crs = coords.describe(self.crs) + " (assumed: the file names no CRS)"
            if self.report.format not in ("csv", "xlsx"):
                self.report.warn("the file names no CRS (.prj missing?); its coordinates are longitude/latitude "
                                 "inside China and were taken as WGS 84 / CGCS2000")
            return
        first = int(np.flatnonzero(~inside)[0])
        raise ValidationError(f"{self.source}: the file names no CRS; row {rows[positions[first]]}: "
                              + coords.explain_outside(xs[first], ys[first], None, crs_from="missing"))


def _same_crs(a: CRS, b: CRS) -> bool:
    try:
        return a == b or (a.to_epsg(min_confidence=70) is not None and a.to_epsg(min_confidence=70) == b.to_epsg(min_confidence=70))
    except Exception:
        return False
