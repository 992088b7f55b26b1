"""Siting of new PV stations: a grid of cells over the area, exclusions, slope, grid distance,
contiguous areas, capacity, yield, beneficiaries and a score.

:func:`site_stations` is a pure function over GeoDataFrames (plus an optional DEM file). All
distances and areas are measured in the metric CRS :func:`geo.crs.metric_crs_for` chooses
(EPSG:32648 for Shapotou); inputs must be in EPSG:4326 (or CGCS2000) and are not changed.

Steps, in the order a cell can fail them (each failure is counted in ``excluded_cells``):

1. cells (squares of ``cell_size_m``) whose centre lies inside the area are *evaluated*;
2. a cell touching an exclusion layer's geometry buffered by its distance is dropped;
3. with a DEM: a cell without DEM data, then a cell whose mean slope is at or above
   ``max_slope_pct`` is dropped;
4. with a grid layer (power lines, substations): a cell whose centre is farther than
   ``max_grid_distance_m`` from it is dropped;
5. kept cells sharing an edge are merged, within blocks of ``block_size_m`` so that an open
   desert does not become one candidate of thousands of km²; areas under ``min_area_ha``
   are dropped;
6. each remaining area is a candidate: capacity = area x power density (capped at
   ``max_station_kwp`` when given), yield from :mod:`geo.pv.yield_model`, beneficiaries =
   registered-poor households of villages within ``beneficiary_distance_m``, and a score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio import features

from geo.crs import metric_crs_for
from geo.errors import ValidationError
from geo.pv import params
from geo.pv.dem import classes_on_grid, terrain_on_grid
from geo.pv.review import NOT_POOR
from geo.pv.weather import Weather
from geo.pv.yield_model import specific_yields

# scipy.ndimage is imported where the grids are labelled: importing it costs every process that
# imports the PV package (the API server, most commands) whether or not it sites stations.

#: Weights of the score components (renormalised over the components present).
SCORE_WEIGHTS: dict[str, float] = {
    "beneficiaries": 0.4,
    "capacity": 0.2,
    "yield": 0.15,
    "grid": 0.15,
    "slope": 0.1,
}
#: Registered-poor households of villages this close to a candidate benefit from it [m].
BENEFICIARY_DISTANCE_M = 5_000.0
#: Farthest a cell may be from the grid layer [m].
MAX_GRID_DISTANCE_M = 5_000.0
#: Smallest candidate area [ha] (1 ha holds about 870 kWp at the default density).
MIN_AREA_HA = 1.0
#: Side of the blocks contiguous cells are merged within [m].
BLOCK_SIZE_M = 1_000.0
#: Most cells one run may evaluate (about 30,000 km² at 100 m cells).
MAX_CELLS = 3_000_000


@dataclass(frozen=True)
class Exclusion:
    """A layer whose geometries, buffered, exclude the cells they touch.

    Attributes
    ----------
    name
        Shown in the exclusion counts (``farmland``, ``water_facilities`` ...).
    geometries
        Any geometry type, EPSG:4326.
    buffer_m
        Buffer around each geometry [m], 0 or more.
    """

    name: str
    geometries: gpd.GeoDataFrame | gpd.GeoSeries
    buffer_m: float = 0.0


@dataclass(frozen=True)
class SitingResult:
    """Result of :func:`site_stations`.

    Attributes
    ----------
    candidates
        GeoDataFrame in EPSG:4326, best first, one row per candidate area (see
        :func:`site_stations` for the columns).
    cells_evaluated
        Cells whose centre lies in the area.
    cells_kept
        Cells passing every exclusion (before the minimum area).
    excluded_cells
        Reason -> cells dropped for it (each cell counted once, at the first reason):
        ``exclusion:<name>``, ``no_dem_data``, ``slope``, ``grid_distance``, ``small_area``.
    metric_crs
        The CRS distances and areas were measured in (e.g. ``EPSG:32648``).
    cell_size_m
        Cell side [m].
    is_estimate
        True when yields came from the clear-sky estimate.
    weather_label
        Which weather gave the yields.
    notes
        E.g. that the DEM was reprojected, or how many candidates the top N cut.
    candidates_found
        Candidates before the top N cut (``len(candidates)`` without one).
    excluded_area_ha
        ``excluded_cells`` as area [ha].
    category, distribution, price_yuan_per_kwh, target_income_yuan_per_household
        The station category sited, its income split, tariff [yuan/kWh] and the target
        income of a credited household [yuan/yr].
    households_to_reach
        Registered-poor households of the villages given, not yet covered by a PV project.
    households_unreached
        Of them, those no candidate listed is credited with.
    sites
        The kept land around each listed candidate (``candidate_id, site_area_ha``, the
        contiguous kept cells it stands in), EPSG:4326: where else the station could go.
    """

    candidates: gpd.GeoDataFrame
    cells_evaluated: int
    cells_kept: int
    excluded_cells: dict[str, int]
    metric_crs: str
    cell_size_m: float
    is_estimate: bool
    weather_label: str
    notes: tuple[str, ...] = field(default=())
    candidates_found: int = 0
    excluded_area_ha: dict[str, float] = field(default_factory=dict)
    category: str = params.DEFAULT_CATEGORY
    distribution: params.IncomeDistribution | None = None
    price_yuan_per_kwh: float = params.PRICE_YUAN_PER_KWH
    target_income_yuan_per_household: float = params.TARGET_INCOME_YUAN_PER_HOUSEHOLD
    households_to_reach: int | None = None
    households_unreached: int | None = None
    sites: gpd.GeoDataFrame | None = None


CANDIDATE_COLUMNS = (
    "rank", "candidate_id", "category", "area_name", "area_ha", "site_area_ha", "cells", "developable_kwp",
    "max_kwp", "capacity_kwp", "kwh_per_kwp", "annual_kwh", "income_yuan_per_year", "mean_slope_pct",
    "mean_elevation_m", "grid_distance_m", "village_count", "villages", "nearest_village",
    "nearest_village_distance_m", "uncovered_households", "beneficiary_households", "households_unreached_after",
    "income_to_households_yuan_per_year", "income_yuan_per_beneficiary_household", "public_posts",
    "collective_yuan_per_year", "operator_yuan_per_year", "score", "score_beneficiaries", "score_capacity",
    "score_yield", "score_grid", "score_slope", "yield_is_estimate", "yield_basis", "lon", "lat",
)


def site_stations(
    area: gpd.GeoDataFrame,
    *,
    cell_size_m: float = 100.0,
    exclusions: Sequence[Exclusion] = (),
    dem: str | Path | None = None,
    max_slope_pct: float = params.MAX_SLOPE_PCT,
    grid: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    max_grid_distance_m: float = MAX_GRID_DISTANCE_M,
    block_size_m: float = BLOCK_SIZE_M,
    min_area_ha: float = MIN_AREA_HA,
    category: str | params.StationCategory = params.DEFAULT_CATEGORY,
    power_density_kwp_per_ha: float | None = None,
    max_station_kwp: float | None = None,
    distribution: params.IncomeDistribution | None = None,
    target_income_yuan_per_household: float = params.TARGET_INCOME_YUAN_PER_HOUSEHOLD,
    land_cover: str | Path | None = None,
    land_cover_classes: Sequence[int] = params.LAND_COVER_EXCLUDED_CLASSES,
    villages: gpd.GeoDataFrame | None = None,
    households: pd.DataFrame | None = None,
    covered_household_ids: Sequence[int] | None = None,
    beneficiary_distance_m: float = BENEFICIARY_DISTANCE_M,
    weather: Weather | str | Path | None = None,
    clearsky_factor: float = params.CLEARSKY_FACTOR,
    climate: params.MonthlyClimate | None = None,
    price_yuan_per_kwh: float | None = None,
    weights: Mapping[str, float] | None = None,
    top: int | None = None,
    area_name_column: str | None = "name",
    yield_resolution_deg: float = 0.25,
    yield_altitude_step_m: float = 200.0,
    max_cells: int = MAX_CELLS,
) -> SitingResult:
    """Candidate areas for new PV stations, scored and ranked.

    Parameters
    ----------
    area
        Polygons to site in (the district, townships or user polygons), EPSG:4326.
    cell_size_m
        Side of a grid cell [m], 10 or more.
    exclusions
        :class:`Exclusion` layers (farmland, protected areas, built-up land, water bodies,
        existing stations ...).
    dem
        DEM GeoTIFF [m] in any CRS (reprojected); None skips the slope test.
    max_slope_pct
        Cells with a mean slope at or above this are dropped [%] (default 5, NREL reV).
    grid
        Power lines or substations (any geometry), EPSG:4326; None skips the distance test.
    max_grid_distance_m
        Farthest a kept cell's centre may be from the grid [m].
    block_size_m
        Contiguous cells are merged within square blocks of this side [m].
    min_area_ha
        Smallest candidate [ha].
    category
        Station category (``village`` or ``centralized``, :data:`geo.pv.params.CATEGORIES`):
        each candidate is sized within its capacity range, on its land use per kWp, at its
        tariff, and its income split by its distribution.
    power_density_kwp_per_ha
        DC capacity per hectare of land [kWp/ha]; default the category's (870, LBNL fixed tilt).
    max_station_kwp
        Cap on one candidate's capacity [kWp]; default the category's (500 for a village station).
    distribution
        How a station's income is split; default the category's.
    target_income_yuan_per_household
        Yearly income a credited household should get [yuan/yr]: a station is credited at most
        the households its household share pays this much, and sized to them.
    land_cover
        Land-cover raster (GeoTIFF with a CRS, any CRS): cells whose class (majority) is in
        ``land_cover_classes`` are excluded.
    land_cover_classes
        Class codes excluded (default ESA WorldCover trees, cropland, built-up, water, wetland).
    villages
        Village points (``id``, ``name``, geometry), EPSG:4326, for beneficiaries.
    households
        ``id, village_id, status`` (registered-poor = every status but ``non_poor``); without
        it the villages' ``registered_poor_households`` column is used.
    covered_household_ids
        Households already benefiting from a PV project (``uncovered_households`` leaves
        them out; the score uses uncovered households when this is given).
    beneficiary_distance_m
        Villages within this distance of a candidate can benefit [m]. Candidates are chosen
        together, greedily: each in turn is the best by score counting only households not yet
        credited to a candidate before it, and is credited them (nearest villages first, at
        most what it pays the target income); each household is credited once.
    weather
        Weather file for the yields; None: the clear-sky **estimate**.
    clearsky_factor, price_yuan_per_kwh
        See :func:`geo.pv.yield_model.estimate_yield`; the price defaults to the category's tariff.
    climate
        Monthly temperature and wind of the clear-sky estimate (default Shapotou's).
    weights
        Score weights by component (``beneficiaries, capacity, yield, grid, slope``);
        default :data:`SCORE_WEIGHTS`.
    top
        Keep only the best ``top`` candidates.
    area_name_column
        Column of ``area`` naming each polygon (``area_name`` of a candidate).
    max_cells
        Refuse a grid of more cells than this (rows × columns of the area's bounds), so that
        one run stays within memory and time; at most :data:`MAX_CELLS`.
    yield_resolution_deg, yield_altitude_step_m
        Candidates share a pvlib run on this lattice [degrees] and altitude step [m] (see
        :func:`~geo.pv.yield_model.specific_yields`). Near Shapotou the clear-sky estimate
        changes by about 0.4 % over 0.25° and 1.6 % over 250 m of altitude, so the defaults
        keep the error under 1 % at a fraction of the runs.

    Returns
    -------
    SitingResult
        ``candidates`` columns: ``rank`` (1 = best), ``candidate_id``, ``area_name``,
        ``area_ha`` [ha], ``cells``, ``developable_kwp`` (area x density) [kWp],
        ``capacity_kwp`` (capped) [kWp], ``kwh_per_kwp`` [kWh/kWp/yr], ``annual_kwh``
        [kWh/yr], ``income_yuan_per_year`` [yuan/yr], ``mean_slope_pct`` [%] (NaN without
        DEM), ``mean_elevation_m`` [m], ``grid_distance_m`` (nearest cell centre to the
        grid) [m] (NaN without grid), ``village_count``, ``villages`` (names within the
        beneficiary distance, nearest first, joined by "、"), ``nearest_village``,
        ``nearest_village_distance_m`` [m], ``beneficiary_households`` (registered-poor
        households of those villages), ``uncovered_households`` (of them, not yet covered by
        a PV project), ``income_yuan_per_beneficiary_household`` [yuan/yr], ``score``
        (0-100) and its components ``score_beneficiaries, score_capacity, score_yield,
        score_grid, score_slope`` (0-1 each, NaN when the input is absent; each relative to
        the best candidate, grid and slope relative to their thresholds), ``yield_is_estimate``,
        ``yield_basis`` (what the weather was; estimates say so), ``lon, lat`` (a point
        inside the candidate) and the candidate's polygon as ``geometry``.

    Raises
    ------
    ValidationError
        Inputs in another CRS than EPSG:4326, a bad parameter, an empty area, too many cells,
        or an unreadable DEM.
    """
    kind = category if isinstance(category, params.StationCategory) else params.station_category(category)
    if kind.name not in params.SITING_CATEGORIES:
        raise ValidationError(f"station category {kind.name!r} ({kind.label}) is not sited on the ground; give "
                              f"{' or '.join(params.SITING_CATEGORIES)}")
    power_density_kwp_per_ha = kind.power_density_kwp_per_ha if power_density_kwp_per_ha is None \
        else power_density_kwp_per_ha
    max_station_kwp = kind.max_kwp if max_station_kwp is None else max_station_kwp
    price_yuan_per_kwh = kind.price_yuan_per_kwh if price_yuan_per_kwh is None else price_yuan_per_kwh
    distribution = distribution or kind.distribution
    params.check_positive("price", price_yuan_per_kwh, unit="yuan/kWh")
    params.check_positive("target income", target_income_yuan_per_household, unit="yuan/yr per household")
    _check_parameters(cell_size_m=cell_size_m, max_slope_pct=max_slope_pct, max_grid_distance_m=max_grid_distance_m,
                      block_size_m=block_size_m, min_area_ha=min_area_ha,
                      power_density_kwp_per_ha=power_density_kwp_per_ha, max_station_kwp=max_station_kwp,
                      beneficiary_distance_m=beneficiary_distance_m, top=top)
    weights = _weights(weights)
    crs = metric_crs_for(area)  # the area's UTM zone, whatever the extent of the other layers
    for name, frame in [(f"exclusion {e.name!r}", e.geometries) for e in exclusions] \
            + [("grid", grid), ("villages", villages)]:
        _check_crs(name, frame)
    area_m = area.to_crs(crs)
    area_geoms = area_m.geometry[area_m.geometry.notna() & ~area_m.geometry.is_empty]
    area_geoms = area_geoms[area_geoms.geom_type.isin(["Polygon", "MultiPolygon"])]
    if area_geoms.empty:
        raise ValidationError("the siting area has no polygon; give township areas or polygons to site in")

    transform, shape = _grid(area_geoms.total_bounds, cell_size_m, min(int(max_cells), MAX_CELLS))
    inside = features.rasterize(((g, 1) for g in area_geoms), out_shape=shape, transform=transform,
                                fill=0, all_touched=False, dtype="uint8").astype(bool)
    evaluated = int(inside.sum())
    keep = inside.copy()
    excluded: dict[str, int] = {}
    notes: list[str] = []

    for exclusion in exclusions:
        touched = _touched(exclusion, crs, transform, shape)
        excluded[f"exclusion:{exclusion.name}"] = int((keep & touched).sum())
        keep &= ~touched

    if land_cover is not None:
        covered = classes_on_grid(land_cover, crs=crs, transform=transform, shape=shape,
                                  classes=land_cover_classes)
        excluded["land_cover"] = int((keep & covered).sum())
        keep &= ~covered

    slope = elevation = None
    if dem is not None:
        terrain = terrain_on_grid(dem, crs=crs, transform=transform, shape=shape)
        slope, elevation = terrain.slope_pct, terrain.elevation_m
        if terrain.reprojected:
            notes.append(f"DEM reprojected from {terrain.dem_crs} to {crs.to_string()} "
                         f"(slope at {terrain.resolution_m:.0f} m)")
        missing = ~np.isfinite(slope)
        excluded["no_dem_data"] = int((keep & missing).sum())
        keep &= ~missing
        steep = np.zeros(shape, dtype=bool)
        steep[~missing] = slope[~missing] >= max_slope_pct
        excluded["slope"] = int((keep & steep).sum())
        keep &= ~steep

    grid_distance = None
    if grid is not None:
        grid_distance = _grid_distance(grid, crs, transform, keep, max_grid_distance_m)
        far = keep & ~np.isfinite(grid_distance)
        excluded["grid_distance"] = int(far.sum())
        keep &= ~far
    cells_kept = int(keep.sum())

    block_cells = max(1, round(block_size_m / cell_size_m))
    labels, count = _contiguous(keep, block_cells)
    cell_ha = cell_size_m * cell_size_m / 10_000.0
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    small = np.flatnonzero(sizes * cell_ha < min_area_ha)
    small = small[small > 0]
    excluded["small_area"] = int(sizes[small].sum())
    labels[np.isin(labels, small)] = 0
    ids = np.unique(labels[labels > 0])

    candidates = _candidates(labels, ids, transform, crs, cell_ha=cell_ha, slope=slope, elevation=elevation,
                             grid_distance=grid_distance, fit_cells=_fitting_squares(labels, ids, block_cells))
    result_estimate = weather is None or (isinstance(weather, Weather) and weather.is_estimate)
    label = ""
    unreached = None
    sites = gpd.GeoDataFrame({"candidate_id": [], "site_area_ha": []}, geometry=[], crs=4326)
    if len(candidates):
        candidates["site_area_ha"] = candidates["area_ha"]
        candidates["developable_kwp"] = candidates["site_area_ha"] * power_density_kwp_per_ha
        fit_kwp = (candidates["fit_side_m"] ** 2) / 10_000.0 * power_density_kwp_per_ha
        candidates["max_kwp"] = np.minimum(np.minimum(candidates["developable_kwp"], fit_kwp), max_station_kwp)
        too_small = candidates["max_kwp"] < min(kind.min_kwp, max_station_kwp) - 1e-9
        excluded["below_category_minimum"] = int(candidates.loc[too_small, "cells"].sum())
        if too_small.any():
            notes.append(f"{int(too_small.sum())} area(s) too small for a {kind.label} of at least "
                         f"{kind.min_kwp:,.0f} kWp")
        candidates = candidates[~too_small].reset_index(drop=True)
    found = len(candidates)
    if len(candidates):
        _name_areas(candidates, area_m, area_name_column)
        points = gpd.GeoSeries(shapely.points(candidates["x"].to_numpy(), candidates["y"].to_numpy()),
                               crs=crs).to_crs(4326)
        candidates["lon"], candidates["lat"] = points.x.to_numpy(), points.y.to_numpy()
        yields = specific_yields(candidates["lat"].to_numpy(), candidates["lon"].to_numpy(),
                                 altitudes_m=candidates["mean_elevation_m"].to_numpy() if elevation is not None else None,
                                 weather=weather, clearsky_factor=clearsky_factor, climate=climate,
                                 resolution_deg=yield_resolution_deg, altitude_step_m=yield_altitude_step_m)
        result_estimate, label = yields.is_estimate, yields.weather_label
        notes.append(f"yields from {yields.runs} pvlib run(s) on a {yield_resolution_deg:g}° / "
                     f"{yield_altitude_step_m:g} m lattice")
        candidates["kwh_per_kwp"] = yields.kwh_per_kwp
        reach = _reach(candidates, villages, households, covered_household_ids, crs, beneficiary_distance_m)
        candidates, unreached = _choose(
            candidates, reach, weights, kind=kind, distribution=distribution, price_yuan_per_kwh=price_yuan_per_kwh,
            target_yuan=target_income_yuan_per_household, max_station_kwp=max_station_kwp,
            max_grid_distance_m=max_grid_distance_m, max_slope_pct=max_slope_pct, top=top)
        sites = gpd.GeoDataFrame({"candidate_id": candidates["candidate_id"].to_numpy(),
                                  "site_area_ha": candidates["site_area_ha"].to_numpy()},
                                 geometry=candidates.geometry.to_numpy(), crs=crs).to_crs(4326)
        _footprints(candidates, kind, power_density_kwp_per_ha)
        if top is not None and found > top:
            notes.append(f"{found} candidates found; the best {top} are shown")
    candidates["yield_is_estimate"] = result_estimate
    candidates["yield_basis"] = label
    out = gpd.GeoDataFrame(candidates.reindex(columns=list(CANDIDATE_COLUMNS)),
                           geometry=candidates.geometry.to_numpy() if len(candidates) else [], crs=crs)
    out = out.to_crs(4326).reset_index(drop=True)
    cell_area = {reason: cells * cell_ha for reason, cells in excluded.items()}
    return SitingResult(candidates=out, cells_evaluated=evaluated, cells_kept=cells_kept, excluded_cells=excluded,
                        metric_crs=crs.to_string(), cell_size_m=float(cell_size_m), is_estimate=result_estimate,
                        weather_label=label, notes=tuple(notes), candidates_found=found,
                        excluded_area_ha=cell_area, category=kind.name, distribution=distribution,
                        price_yuan_per_kwh=float(price_yuan_per_kwh),
                        target_income_yuan_per_household=float(target_income_yuan_per_household),
                        households_unreached=unreached.after if unreached is not None else None,
                        households_to_reach=unreached.before if unreached is not None else None,
                        sites=sites)


# ------------------------------------------------------------------------------ steps


def _check_parameters(*, cell_size_m, max_slope_pct, max_grid_distance_m, block_size_m, min_area_ha,
                      power_density_kwp_per_ha, max_station_kwp, beneficiary_distance_m, top) -> None:
    params.check_range("cell size", cell_size_m, 10, 10_000, unit="m")
    params.check_positive("maximum slope", max_slope_pct, unit="%")
    params.check_positive("maximum grid distance", max_grid_distance_m, unit="m")
    params.check_positive("block size", block_size_m, unit="m")
    params.check_positive("minimum area", min_area_ha, unit="ha", allow_zero=True)
    params.check_positive("power density", power_density_kwp_per_ha, unit="kWp/ha")
    if max_station_kwp is not None:
        params.check_positive("maximum station capacity", max_station_kwp, unit="kWp")
    params.check_positive("beneficiary distance", beneficiary_distance_m, unit="m", allow_zero=True)
    if top is not None and (int(top) != top or top < 1):
        raise ValidationError(f"top {top!r} is not allowed; give a whole number of candidates, 1 or more")


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    if weights is None:
        return dict(SCORE_WEIGHTS)
    unknown = [k for k in weights if k not in SCORE_WEIGHTS]
    if unknown:
        raise ValidationError(f"unknown score component(s) {', '.join(unknown)}; use {', '.join(SCORE_WEIGHTS)}")
    merged = {**dict.fromkeys(SCORE_WEIGHTS, 0.0), **{k: float(v) for k, v in weights.items()}}
    if any(v < 0 for v in merged.values()) or sum(merged.values()) <= 0:
        raise ValidationError("score weights must be 0 or more, and not all 0")
    return merged


def _grid(bounds: np.ndarray, cell_size_m: float, max_cells: int = MAX_CELLS) -> tuple[Affine, tuple[int, int]]:
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    minx = np.floor(minx / cell_size_m) * cell_size_m
    maxy = np.ceil(maxy / cell_size_m) * cell_size_m
    cols = max(1, int(np.ceil((maxx - minx) / cell_size_m)))
    rows = max(1, int(np.ceil((maxy - miny) / cell_size_m)))
    if rows * cols > max_cells:
        raise ValidationError(
            f"the area needs {rows * cols:,} cells of {cell_size_m:g} m (at most {max_cells:,}); "
            "give a larger cell size or a smaller area (--township)"
        )
    return Affine(cell_size_m, 0.0, minx, 0.0, -cell_size_m, maxy), (rows, cols)


def _check_crs(name: str, frame: gpd.GeoDataFrame | gpd.GeoSeries | None) -> None:
    if frame is None:
        return
    if frame.crs is None:
        raise ValidationError(f"the {name} layer has no CRS; set it to EPSG:4326 before siting")
    if frame.crs.to_epsg() not in (4326, 4490):
        raise ValidationError(f"the {name} layer is in {frame.crs.to_string()}; the analyses expect EPSG:4326 "
                              "(reproject with to_crs(4326))")


def _near(frame: gpd.GeoDataFrame | gpd.GeoSeries, crs, transform: Affine, shape: tuple[int, int],
          margin_m: float) -> gpd.GeoSeries:
    """The frame's non-empty geometries near the grid (a national layer is cut down to the
    area first), in the metric CRS."""
    rows, cols = shape
    grid_box = shapely.box(transform.c - margin_m, transform.f + rows * transform.e - margin_m,
                           transform.c + cols * transform.a + margin_m, transform.f + margin_m)
    bounds = gpd.GeoSeries([grid_box], crs=crs).to_crs(frame.crs).total_bounds
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    geoms = geoms.cx[bounds[0]:bounds[2], bounds[1]:bounds[3]]
    return geoms.to_crs(crs)


def _touched(exclusion: Exclusion, crs, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    buffer_m = params.check_positive(f"buffer of exclusion {exclusion.name!r}", exclusion.buffer_m, unit="m",
                                     allow_zero=True)
    geoms = _near(exclusion.geometries, crs, transform, shape, buffer_m + abs(transform.a))
    if geoms.empty:
        return np.zeros(shape, dtype=bool)
    if buffer_m > 0:
        geoms = geoms.buffer(buffer_m)
    # all_touched: a cell any part of which the (buffered) geometry touches is excluded
    return features.rasterize(((g, 1) for g in geoms), out_shape=shape, transform=transform, fill=0,
                              all_touched=True, dtype="uint8").astype(bool)


def _cell_centres(transform: Affine, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = transform.c + (cols + 0.5) * transform.a
    y = transform.f + (rows + 0.5) * transform.e
    return x, y


def _grid_distance(grid, crs, transform: Affine, keep: np.ndarray, max_distance_m: float) -> np.ndarray:
    """Distance [m] from each kept cell's centre to the nearest grid feature (inf beyond the limit)."""
    geoms = _near(grid, crs, transform, keep.shape, max_distance_m + abs(transform.a)).to_numpy()
    distance = np.full(keep.shape, np.inf)
    if len(geoms) == 0:
        return distance
    rows, cols = np.nonzero(keep)
    x, y = _cell_centres(transform, rows, cols)
    tree = shapely.STRtree(geoms)
    (point_index, _), found = tree.query_nearest(shapely.points(x, y), max_distance=max_distance_m,
                                                 return_distance=True, all_matches=False)
    nearest = np.full(len(rows), np.inf)
    np.minimum.at(nearest, point_index, found)
    distance[rows, cols] = nearest
    return distance


def _contiguous(keep: np.ndarray, block: int) -> tuple[np.ndarray, int]:
    """Label edge-sharing kept cells, never across a block border (a one-cell gap is put
    between blocks before labelling)."""
    from scipy import ndimage

    rows, cols = keep.shape
    r = np.arange(rows) + np.arange(rows) // block
    c = np.arange(cols) + np.arange(cols) // block
    spaced = np.zeros((r[-1] + 1, c[-1] + 1), dtype=bool)
    spaced[np.ix_(r, c)] = keep
    labelled, count = ndimage.label(spaced)
    return labelled[np.ix_(r, c)].astype(np.int32), int(count)


def _fitting_squares(labels: np.ndarray, ids: np.ndarray, block: int) -> tuple[np.ndarray, ...]:
    """For each candidate label: the largest all-kept square of cells inside it (side in cells,
    odd) and its centre cell (row, col).

    A kept cell at chessboard distance d from the nearest cell outside its area (or the grid's
    edge, or a block border) is the centre of a kept square of 2d - 1 cells a side.
    """
    from scipy import ndimage

    if len(ids) == 0:
        return np.empty(0), np.empty(0, dtype=int), np.empty(0, dtype=int)
    rows, cols = labels.shape
    r = np.arange(rows) + np.arange(rows) // block
    c = np.arange(cols) + np.arange(cols) // block
    spaced = np.zeros((r[-1] + 3, c[-1] + 3), dtype=bool)  # a border of one empty cell
    spaced[np.ix_(r + 1, c + 1)] = labels > 0
    distance = ndimage.distance_transform_cdt(spaced, metric="chessboard")[np.ix_(r + 1, c + 1)]
    best = np.asarray(ndimage.maximum(distance, labels, ids), dtype=float)
    where = ndimage.maximum_position(distance, labels, ids)
    return (2 * best - 1, np.array([w[0] for w in where], dtype=int), np.array([w[1] for w in where], dtype=int))


def _candidates(labels: np.ndarray, ids: np.ndarray, transform: Affine, crs, *, cell_ha: float,
                slope, elevation, grid_distance, fit_cells) -> gpd.GeoDataFrame:
    from scipy import ndimage

    if len(ids) == 0:
        return gpd.GeoDataFrame({"candidate_id": []}, geometry=[], crs=crs)
    polygons: dict[int, list] = {}
    for polygon, value in zip(*_polygons(labels, transform)):
        polygons.setdefault(int(value), []).append(polygon)
    geometry = [polygons[i][0] if len(polygons[i]) == 1 else shapely.union_all(polygons[i]) for i in ids]
    cells = ndimage.sum_labels(np.ones_like(labels), labels, ids).astype(int)
    frame = gpd.GeoDataFrame({"label": ids, "cells": cells}, geometry=geometry, crs=crs)
    frame["area_ha"] = frame["cells"] * cell_ha

    def mean_of(values):
        if values is None:
            return np.full(len(ids), np.nan)
        return np.asarray(ndimage.mean(np.nan_to_num(values), labels, ids), dtype=float)

    frame["mean_slope_pct"] = mean_of(slope)
    frame["mean_elevation_m"] = mean_of(elevation)
    if grid_distance is None:
        frame["grid_distance_m"] = np.nan
    else:
        frame["grid_distance_m"] = np.asarray(ndimage.minimum(grid_distance, labels, ids), dtype=float)
    # the station goes at the centre of the largest square of kept cells in the area
    side, rows, cols = fit_cells
    frame["fit_side_m"] = side * abs(transform.a)
    frame["x"], frame["y"] = _cell_centres(transform, rows, cols)
    # biggest first gives stable ids before scoring
    frame = frame.sort_values(["cells", "label"], ascending=[False, True]).reset_index(drop=True)
    frame["candidate_id"] = np.arange(1, len(frame) + 1)
    return frame


def _polygons(labels: np.ndarray, transform: Affine) -> tuple[np.ndarray, list[int]]:
    """The polygons of the labelled cells (``rasterio.features.shapes``) and their labels.

    Built in one vectorised call from the rings' coordinates: thousands of candidates made
    one by one with ``shapely.geometry.shape`` took most of a coarse siting's time.
    """
    rings, ring_polygon, values = [], [], []
    for geom, value in features.shapes(labels, mask=labels > 0, transform=transform, connectivity=4):
        for ring in geom["coordinates"]:  # the shell, then any holes
            rings.append(np.asarray(ring, dtype=float))
            ring_polygon.append(len(values))
        values.append(int(value))
    if not values:
        return np.empty(0, dtype=object), []
    ring_index = np.repeat(np.arange(len(rings)), [len(r) for r in rings])
    linear = shapely.linearrings(np.concatenate(rings), indices=ring_index)
    return shapely.polygons(linear, indices=np.asarray(ring_polygon)), values


def _name_areas(candidates: gpd.GeoDataFrame, area_m: gpd.GeoDataFrame, column: str | None) -> None:
    if not column or column not in area_m:
        candidates["area_name"] = None
        return
    points = gpd.GeoDataFrame(geometry=shapely.points(candidates["x"].to_numpy(), candidates["y"].to_numpy()),
                              crs=area_m.crs, index=candidates.index)
    joined = gpd.sjoin(points, area_m[[column, "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    candidates["area_name"] = joined[column].reindex(candidates.index).to_numpy()


def _poor_counts(villages: gpd.GeoDataFrame, households: pd.DataFrame | None,
                 covered: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Registered-poor households and those not yet covered, per village row."""
    if households is not None:
        poor = households[households["status"].astype(str) != NOT_POOR]
        total = villages["id"].map(poor.groupby("village_id")["id"].nunique()).fillna(0).to_numpy(dtype=float)
        if covered is not None:
            open_ = poor[~poor["id"].isin(set(covered))]
            uncovered = villages["id"].map(open_.groupby("village_id")["id"].nunique()).fillna(0).to_numpy(float)
        else:
            uncovered = total.copy()
        return total, uncovered
    if "registered_poor_households" in villages:
        total = pd.to_numeric(villages["registered_poor_households"], errors="coerce").fillna(0).to_numpy(float)
        return total, total.copy()
    raise ValidationError("villages need a registered_poor_households column, or give the households frame")


def _joined_names(candidate: np.ndarray, names: np.ndarray, n: int) -> np.ndarray:
    """Names joined by "、" per candidate (rows grouped by candidate, in order); "" for none."""
    out = np.full(n, "", dtype=object)
    if len(candidate) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, candidate[1:] != candidate[:-1]])
    ends = np.r_[starts[1:], len(candidate)]
    for start, end in zip(starts, ends):
        out[candidate[start]] = "、".join(names[start:end])
    return out


def _relative(values: pd.Series) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    if not np.isfinite(top) or top <= 0:
        return np.zeros(len(values))
    return (values / top).to_numpy(dtype=float)


@dataclass(frozen=True)
class _Reach:
    """Which villages each candidate reaches (``pairs``: candidate, village, distance, sorted by
    candidate then distance), their uncovered registered-poor households and names."""

    pairs: pd.DataFrame
    uncovered: np.ndarray
    names: np.ndarray


@dataclass(frozen=True)
class _Unreached:
    before: int
    after: int


def _reach(candidates, villages, households, covered, crs, distance_m: float) -> _Reach:
    candidates["nearest_village"] = None
    candidates["nearest_village_distance_m"] = np.nan
    empty = pd.DataFrame({"candidate": np.empty(0, int), "village": np.empty(0, int), "distance": np.empty(0)})
    if villages is None or villages.empty:
        return _Reach(empty, np.empty(0), np.empty(0, dtype=object))
    points = villages.to_crs(crs)
    present = (points.geometry.notna() & ~points.geometry.is_empty).to_numpy()
    points = points[present]
    _, uncovered = _poor_counts(villages[present], households, covered)
    names = points["name"].astype(str).to_numpy() if "name" in points else points.index.astype(str).to_numpy()
    if points.empty:
        return _Reach(empty, uncovered, names)
    geoms = points.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    polys = shapely.points(candidates["x"].to_numpy(), candidates["y"].to_numpy())
    pairs = tree.query(polys, predicate="dwithin", distance=distance_m)
    near = pd.DataFrame({"candidate": pairs[0], "village": pairs[1],
                         "distance": shapely.distance(polys[pairs[0]], geoms[pairs[1]])})
    near = near.sort_values(["candidate", "distance", "village"], kind="stable").reset_index(drop=True)
    position = np.arange(len(candidates))
    nearest_index, nearest_distance = tree.query_nearest(polys, return_distance=True, all_matches=False)
    candidates["nearest_village"] = pd.Series(names[nearest_index[1]], index=nearest_index[0]).reindex(
        position).to_numpy()
    candidates["nearest_village_distance_m"] = pd.Series(nearest_distance, index=nearest_index[0]).reindex(
        position).to_numpy()
    return _Reach(near, uncovered, names)


def _choose(candidates: gpd.GeoDataFrame, reach: _Reach, weights, *, kind: params.StationCategory,
            distribution: params.IncomeDistribution, price_yuan_per_kwh: float, target_yuan: float,
            max_station_kwp: float, max_grid_distance_m: float, max_slope_pct: float,
            top: int | None) -> tuple[gpd.GeoDataFrame, _Unreached]:
    """Rank candidates greedily, each household credited once, and size each to its households.

    At each step every remaining candidate's *new* households are the uncovered poor households
    of the villages it reaches that no earlier candidate was credited, at most what its largest
    station pays the target income; the best by score (its beneficiary component relative to
    the most new households of the step) is taken, credited its new households nearest
    villages first, and sized to them (within the category's range). Candidates that would add
    no household follow, by their other components.
    """
    n = len(candidates)
    kwh = candidates["kwh_per_kwp"].to_numpy(dtype=float)
    max_kwp = candidates["max_kwp"].to_numpy(dtype=float)
    income_per_kwp = kwh * price_yuan_per_kwh * distribution.to_households
    with np.errstate(divide="ignore", invalid="ignore"):
        kwp_per_household = np.where(income_per_kwp > 0, target_yuan / income_per_kwp, np.inf)
        supportable = np.floor(max_kwp / kwp_per_household + 1e-9)
    static = {
        "capacity": _relative(pd.Series(max_kwp)),
        "yield": _relative(pd.Series(kwh)),
        "grid": 1.0 - candidates["grid_distance_m"].to_numpy() / max(max_grid_distance_m, 1e-9),
        "slope": 1.0 - candidates["mean_slope_pct"].to_numpy() / max_slope_pct,
    }
    static = {k: np.clip(np.asarray(v, dtype=float), 0.0, 1.0) for k, v in static.items()}
    present = {k: not np.all(np.isnan(v)) and weights[k] > 0 for k, v in static.items()}
    weight_sum = sum(weights[k] for k, ok in present.items() if ok) + weights["beneficiaries"]
    static_total = sum(weights[k] * np.nan_to_num(static[k]) for k, ok in present.items() if ok)

    pool = reach.uncovered.astype(float).copy()
    pair_candidate = reach.pairs["candidate"].to_numpy()
    pair_village = reach.pairs["village"].to_numpy()
    starts = np.searchsorted(pair_candidate, np.arange(n + 1))
    reachable_at_start = np.bincount(pair_candidate, weights=pool[pair_village], minlength=n) if len(pool) else \
        np.zeros(n)
    before = int(pool.sum())
    limit = n if top is None else min(int(top), n)
    remaining = np.ones(n, dtype=bool)
    order, new_of, benefit_of, score_of, after_of, credited_of = [], [], [], [], [], []
    while len(order) < limit:
        reachable = np.bincount(pair_candidate, weights=pool[pair_village], minlength=n) if len(pool) else np.zeros(n)
        new = np.where(remaining, np.minimum(reachable, supportable), 0.0)
        if new.max(initial=0.0) <= 0:
            break
        benefit = new / new.max()
        score = np.where(remaining, 100.0 * (static_total + weights["beneficiaries"] * benefit) / weight_sum, -np.inf)
        best = int(np.argmax(score))
        left, credited = new[best], []
        for k in range(starts[best], starts[best + 1]):
            village = pair_village[k]
            take = min(pool[village], left)
            if take > 0:
                pool[village] -= take
                left -= take
                credited.append(f"{reach.names[village]} {int(take)}户")
            if left <= 0:
                break
        remaining[best] = False
        order.append(best)
        new_of.append(new[best])
        benefit_of.append(benefit[best])
        score_of.append(score[best])
        after_of.append(pool.sum())
        credited_of.append("、".join(credited))
    rest = np.flatnonzero(remaining)
    if len(order) < limit and len(rest):
        rest_score = 100.0 * static_total[rest] / weight_sum if weight_sum else np.zeros(len(rest))
        rest = rest[np.lexsort((-max_kwp[rest], -rest_score))][: limit - len(order)]
        for i in rest:
            order.append(int(i))
            new_of.append(0.0)
            benefit_of.append(0.0)
            score_of.append(100.0 * static_total[i] / weight_sum if weight_sum else 0.0)
            after_of.append(pool.sum())
            credited_of.append("")

    out = candidates.iloc[order].copy()
    index = np.asarray(order, dtype=int)
    new_households = np.asarray(new_of, dtype=float)
    lower = min(kind.min_kwp, max_station_kwp)
    capacity = np.where(new_households > 0,
                        np.clip(new_households * kwp_per_household[index], lower, max_kwp[index]), max_kwp[index])
    out["category"] = kind.name
    out["capacity_kwp"] = capacity
    out["annual_kwh"] = capacity * kwh[index]
    out["income_yuan_per_year"] = out["annual_kwh"] * price_yuan_per_kwh
    income = out["income_yuan_per_year"].to_numpy()
    out["income_to_households_yuan_per_year"] = income * distribution.to_households
    out["public_posts"] = np.floor(income * distribution.public_posts / distribution.wage_yuan_per_post).astype(int)
    out["collective_yuan_per_year"] = income * distribution.collective
    out["operator_yuan_per_year"] = income * distribution.operator
    out["uncovered_households"] = reachable_at_start[index].astype(int)
    out["beneficiary_households"] = new_households.astype(int)
    out["households_unreached_after"] = np.asarray(after_of, dtype=float).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["income_yuan_per_beneficiary_household"] = np.where(
            new_households > 0, out["income_to_households_yuan_per_year"] / new_households, np.nan)
    out["villages"] = credited_of
    out["village_count"] = [len(v.split("、")) if v else 0 for v in credited_of]
    out["score"] = score_of
    out["score_beneficiaries"] = benefit_of
    for name, values in static.items():
        out[f"score_{name}"] = values[index]
    out["rank"] = np.arange(1, len(out) + 1)
    return out, _Unreached(before, int(pool.sum()))


def _footprints(candidates: gpd.GeoDataFrame, kind: params.StationCategory, density_kwp_per_ha: float) -> None:
    """Each candidate's station as a square of its capacity's land [m] at the candidate's
    centre (inside its largest kept square); ``area_ha`` is that land [ha]."""
    side = np.sqrt(candidates["capacity_kwp"].to_numpy(dtype=float) * 10_000.0 / density_kwp_per_ha)
    x, y = candidates["x"].to_numpy(), candidates["y"].to_numpy()
    candidates["area_ha"] = side ** 2 / 10_000.0
    candidates.geometry = shapely.box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)
