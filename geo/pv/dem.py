"""Slope and elevation from a DEM GeoTIFF, on an analysis grid in a metric CRS (rasterio).

A DEM in any CRS (geographic SRTM tiles, another UTM zone, CGCS2000 Gauss-Kruger) is
reprojected with ``rasterio.warp.reproject`` into the analysis CRS first; it is never
refused for its CRS. Slope is taken on the reprojected DEM at (about) its own resolution and
then averaged onto the analysis cells.

:func:`check_dem` looks at a DEM that came over the network before any pixel is read: a
GeoTIFF (no other GDAL format, so no VRT pointing at other files), with a band, a CRS that
transforms to longitude/latitude, and its size in pixels for the caller to cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import ProjError
from rasterio.errors import RasterioError
from rasterio.warp import (
    Resampling,
    calculate_default_transform,
    reproject,
    transform_bounds,
)

from geo.errors import ValidationError

_GIVE = "give a GeoTIFF of elevations in metres"


@dataclass(frozen=True)
class TerrainGrid:
    """Slope and elevation averaged onto the cells of an analysis grid.

    Attributes
    ----------
    slope_pct
        Mean slope of each cell [% = 100 * rise / run]; NaN where the DEM has no data.
    elevation_m
        Mean elevation of each cell [m]; NaN where the DEM has no data.
    dem_crs
        The DEM's own CRS (as read), for reports.
    reprojected
        True when the DEM was in another CRS than the grid's.
    resolution_m
        Resolution the slope was computed at [m].
    """

    slope_pct: np.ndarray
    elevation_m: np.ndarray
    dem_crs: str
    reprojected: bool
    resolution_m: float


@dataclass(frozen=True)
class DemInfo:
    """What :func:`check_dem` found in a DEM, before reading any pixel.

    Attributes
    ----------
    width, height
        Size [pixels].
    crs
        The DEM's CRS, as a short text (``EPSG:4326``) or WKT.
    bounds_lonlat
        ``(west, south, east, north)`` [degrees].
    """

    width: int
    height: int
    crs: str
    bounds_lonlat: tuple[float, float, float, float]

    @property
    def pixels(self) -> int:
        return self.width * self.height


def check_dem(dem: str | Path, *, name: str | None = None) -> DemInfo:
    """Check that ``dem`` is a GeoTIFF the siting can use, reading its header only.

    Parameters
    ----------
    dem
        Path of the file.
    name
        What messages call the file (default: its path), e.g. the name an upload came with.

    Returns
    -------
    DemInfo

    Raises
    ------
    ValidationError
        A file GDAL's GeoTIFF driver does not read (whatever its name), no band, a band of
        complex numbers, no CRS, or a CRS that does not transform to longitude/latitude; the
        message names the file and what to give.
    """
    path = Path(dem)
    name = name or str(path)
    try:
        with rasterio.open(path, driver="GTiff") as src:
            _check_source(src, name)
            if np.issubdtype(np.dtype(src.dtypes[0]), np.complexfloating):
                raise ValidationError(f"DEM {name} holds complex numbers; {_GIVE}")
            try:
                CRS.from_user_input(src.crs.to_wkt())  # as terrain_on_grid reads it
                bounds = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
            except (RasterioError, ValueError, ProjError) as exc:
                raise ValidationError(f"DEM {name}: its CRS ({src.crs}) does not transform to longitude/latitude "
                                      f"({_first_line(exc, path, name)}); {_GIVE} in a geographic or projected CRS"
                                      ) from None
            return DemInfo(src.width, src.height, src.crs.to_string(), tuple(float(v) for v in bounds))
    except RasterioError as exc:
        raise ValidationError(f"DEM {name} is not a GeoTIFF GDAL reads ({_first_line(exc, path, name)}); {_GIVE}"
                              ) from None


def _first_line(exc: Exception, path: Path, name: str) -> str:
    text = str(exc).strip().replace(str(path), name)
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _check_source(src, name: str | Path) -> None:
    if src.crs is None:
        raise ValidationError(
            f"DEM {name} has no CRS; set one (e.g. gdal_edit.py -a_srs EPSG:4326 {Path(name).name}) and try again"
        )
    if src.count < 1:
        raise ValidationError(f"DEM {name} has no band")


def terrain_on_grid(
    dem: str | Path,
    *,
    crs: CRS,
    transform: Affine,
    shape: tuple[int, int],
) -> TerrainGrid:
    """Mean slope [%] and elevation [m] of each cell of a north-up grid in a metric CRS.

    Parameters
    ----------
    dem
        Path of a single-band elevation raster rasterio reads (GeoTIFF), elevations in metres.
    crs
        The grid's metric CRS (from :func:`geo.crs.metric_crs_for`).
    transform
        The grid's affine transform (square cells, north up) [m].
    shape
        ``(rows, cols)`` of the grid.

    Returns
    -------
    TerrainGrid

    Raises
    ------
    ValidationError
        Missing or unreadable file, a raster without a CRS, or a DEM that does not overlap
        the area at all.
    """
    path = Path(dem)
    if not path.is_file():
        raise ValidationError(f"DEM file {path} does not exist; give a GeoTIFF of elevations in metres")
    cell = abs(transform.a)
    rows, cols = shape
    left, top = transform.c, transform.f
    bounds = (left, top - rows * cell, left + cols * cell, top)
    try:
        with rasterio.open(path) as src:
            _check_source(src, path)
            src_crs = CRS.from_user_input(src.crs.to_wkt())
            _check_overlap(path, src, crs, bounds)
            resolution = _working_resolution(src, crs, cell)
            fine_cols = max(2, int(np.ceil((bounds[2] - bounds[0]) / resolution)) + 2)
            fine_rows = max(2, int(np.ceil((bounds[3] - bounds[1]) / resolution)) + 2)
            fine_transform = Affine(resolution, 0, bounds[0] - resolution, 0, -resolution, bounds[3] + resolution)
            elevation = np.full((fine_rows, fine_cols), np.nan, dtype="float64")
            reproject(
                source=rasterio.band(src, 1),
                destination=elevation,
                src_nodata=src.nodata,
                dst_transform=fine_transform,
                dst_crs=crs.to_wkt(),
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
    except RasterioError as exc:
        raise ValidationError(f"DEM {path} cannot be read as a raster ({exc}); {_GIVE}") from None
    dz_dy, dz_dx = np.gradient(elevation, resolution)
    slope = 100.0 * np.hypot(dz_dx, dz_dy)
    slope_cells = _average(slope, fine_transform, crs, transform, shape)
    elevation_cells = _average(elevation, fine_transform, crs, transform, shape)
    return TerrainGrid(
        slope_pct=slope_cells,
        elevation_m=elevation_cells,
        dem_crs=src_crs.to_string(),
        reprojected=not src_crs.equals(crs),
        resolution_m=float(resolution),
    )


def _check_overlap(path: Path, src, crs: CRS, bounds: tuple[float, float, float, float]) -> None:
    area = transform_bounds(crs.to_wkt(), src.crs, *bounds, densify_pts=21)
    b = src.bounds
    if area[0] > b.right or area[2] < b.left or area[1] > b.top or area[3] < b.bottom:
        raise ValidationError(
            f"DEM {path} (bounds {tuple(round(v, 4) for v in b)} in {src.crs}) does not cover the siting area; "
            "give a DEM of the district"
        )


def _working_resolution(src, crs: CRS, cell_m: float) -> float:
    """The DEM's resolution in the grid CRS [m], kept between a fifth of a cell and one cell."""
    _, width, height = calculate_default_transform(src.crs, crs.to_wkt(), src.width, src.height, *src.bounds)
    native = min((src.bounds.right - src.bounds.left), (src.bounds.top - src.bounds.bottom))
    if width and height:
        left, bottom, right, top = transform_bounds(src.crs, crs.to_wkt(), *src.bounds)
        native = min((right - left) / width, (top - bottom) / height)
    return float(min(max(native, cell_m / 5.0), cell_m))


def _average(values: np.ndarray, src_transform: Affine, crs: CRS, dst_transform: Affine,
             shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, np.nan, dtype="float64")
    reproject(
        source=values,
        destination=out,
        src_transform=src_transform,
        src_crs=crs.to_wkt(),
        src_nodata=np.nan,
        dst_transform=dst_transform,
        dst_crs=crs.to_wkt(),
        dst_nodata=np.nan,
        resampling=Resampling.average,
    )
    return out


def classes_on_grid(
    raster: str | Path,
    *,
    crs: CRS,
    transform: Affine,
    shape: tuple[int, int],
    classes: tuple[int, ...] | list[int],
) -> np.ndarray:
    """Cells of a north-up metric grid whose land-cover class (the majority of the raster's
    pixels in the cell, ``Resampling.mode``) is one of ``classes``.

    Parameters
    ----------
    raster
        Single-band land-cover GeoTIFF of integer class codes (e.g. ESA WorldCover), in any
        CRS GDAL knows (reprojected to the grid).
    crs, transform, shape
        The grid (see :func:`terrain_on_grid`).
    classes
        Class codes to mark.

    Returns
    -------
    numpy.ndarray
        Boolean, ``shape``; False where the raster has no data.

    Raises
    ------
    ValidationError
        Missing or unreadable file, no CRS or one that does not transform to the grid's, no
        overlap with the area, or no class codes.
    """
    path = Path(raster)
    give = "give a GeoTIFF of land-cover class codes with its CRS (e.g. ESA WorldCover, EPSG:4326)"
    if not path.is_file():
        raise ValidationError(f"land-cover file {path} does not exist; {give}")
    codes = [int(c) for c in classes]
    if not codes:
        raise ValidationError("no land-cover classes to exclude; give class codes, e.g. 10,40 (trees, cropland)")
    cell = abs(transform.a)
    rows, cols = shape
    bounds = (transform.c, transform.f - rows * cell, transform.c + cols * cell, transform.f)
    out = np.zeros(shape, dtype="int64")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise ValidationError(f"land-cover raster {path} has no CRS (unknown coordinate system); set "
                                      f"one (e.g. gdal_edit.py -a_srs EPSG:4326 {path.name}) and try again")
            try:
                CRS.from_user_input(src.crs.to_wkt())
                area = transform_bounds(crs.to_wkt(), src.crs, *bounds, densify_pts=21)
            except (RasterioError, ValueError, ProjError) as exc:
                raise ValidationError(f"land-cover raster {path}: its CRS ({src.crs}) is not one that "
                                      f"transforms to the grid ({_first_line(exc, path, path.name)}); {give}"
                                      ) from None
            b = src.bounds
            if area[0] > b.right or area[2] < b.left or area[1] > b.top or area[3] < b.bottom:
                raise ValidationError(f"land-cover raster {path} does not cover the siting area; {give}")
            nodata = src.nodata if src.nodata is not None else -1
            out[:] = nodata
            reproject(source=rasterio.band(src, 1), destination=out, src_nodata=src.nodata, dst_transform=transform,
                      dst_crs=crs.to_wkt(), dst_nodata=nodata, resampling=Resampling.mode)
    except RasterioError as exc:
        raise ValidationError(f"land-cover file {path} cannot be read as a raster "
                              f"({_first_line(exc, path, path.name)}); {give}") from None
    return np.isin(out, codes)
