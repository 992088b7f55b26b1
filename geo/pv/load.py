"""Read the frames the PV analyses need: from the registry (through :mod:`geo.storage`) or
from files. The analyses themselves (:mod:`geo.pv.review`, :mod:`geo.pv.siting`) never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import storage
from geo.enums import PVStatus
from geo.errors import NotFound, ValidationError
from geo.layers import LAYERS

#: Project statuses whose linked households count as already covered when siting.
#: Largest exclusion buffer [m]: a county is well inside it.
MAX_BUFFER_M = 100_000.0

COVERING = (PVStatus.GRID_CONNECTED.value, PVStatus.BUILDING.value, PVStatus.PLANNED.value)


@dataclass(frozen=True)
class ReviewFrames:
    """The registry frames a review reads (EPSG:4326; links and households as plain frames)."""

    projects: gpd.GeoDataFrame
    households: pd.DataFrame
    project_households: pd.DataFrame
    project_villages: pd.DataFrame
    villages: pd.DataFrame


def load_review_frames(bind: storage.Bind, *, township: int | str | Sequence[int | str] | None = None) -> ReviewFrames:
    """Read the frames :func:`geo.pv.review.review_projects` needs (no personal data).

    Projects and villages are those of ``township`` when given; households and links are
    read whole so that a project's beneficiaries in another township keep their status.
    """
    with storage.connect(bind) as conn:
        projects = storage.read_layer(conn, "pv_projects", township=township)
        villages = storage.read_layer(conn, "villages", township=township,
                                      columns=["name", "township_id", "category", "registered_poor_households"])
        households = storage.read_layer(conn, "households", columns=["village_id", "status"], with_names=False)
        return ReviewFrames(
            projects=projects,
            households=pd.DataFrame(households.drop(columns="geometry")),
            project_households=storage.read_links(conn, "pv_project_households"),
            project_villages=storage.read_links(conn, "pv_project_villages"),
            villages=pd.DataFrame(villages.drop(columns="geometry")),
        )


@dataclass(frozen=True)
class SitingFrames:
    """The registry frames siting reads.

    Attributes
    ----------
    area
        Township polygons (``name``), EPSG:4326: the district, or one township.
    villages
        Village points (``id, name, township_name, registered_poor_households``).
    households
        ``id, village_id, status`` of every household.
    covered_household_ids
        Households linked to a grid-connected, building or planned PV project.
    pv_projects
        Existing PV projects (their footprints are an exclusion by default).
    """

    area: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    households: pd.DataFrame
    covered_household_ids: list[int]
    pv_projects: gpd.GeoDataFrame


def load_siting_frames(bind: storage.Bind, *, township: int | str | Sequence[int | str] | None = None,
                       whole_district: bool = True) -> SitingFrames:
    """Read the area (all townships, or ``township``), villages, households and coverage.

    Villages and households are read for the whole district unless ``whole_district`` is
    False: a village across a township border can still benefit from a station near it.
    False keeps them to ``township`` (a caller who may see only those townships).

    Raises
    ------
    NotFound
        Unknown township.
    ValidationError
        No township has an area to site in.
    """
    with storage.connect(bind) as conn:
        area = storage.read_layer(conn, "townships", township=township, columns=["code", "name"])
        area = area[area.geometry.notna() & ~area.geometry.is_empty]
        if area.empty:
            raise ValidationError("no township has an area polygon to site in; import township areas first "
                                  "(or give --area FILE)")
        scope = None if whole_district else township
        villages = storage.read_layer(conn, "villages", township=scope,
                                      columns=["name", "township_id", "registered_poor_households"])
        households = storage.read_layer(conn, "households", township=scope, columns=["village_id", "status"],
                                        with_names=False)
        projects = storage.read_layer(conn, "pv_projects", columns=["code", "name", "status", "capacity_kw"])
        links = storage.read_links(conn, "pv_project_households")
    covering = projects.loc[projects["status"].astype(str).isin(COVERING), "id"]
    covered = sorted(links.loc[links["project_id"].isin(set(covering)), "household_id"].astype(int).unique())
    return SitingFrames(
        area=area,
        villages=villages,
        households=pd.DataFrame(households.drop(columns="geometry")),
        covered_household_ids=[int(i) for i in covered],
        pv_projects=projects,
    )


def read_geometries(source: str | Path, *, bind: storage.Bind | None = None,
                    allow_files: bool = True) -> gpd.GeoDataFrame:
    """A registry layer (by name) or a vector file (any format pyogrio reads), in EPSG:4326.

    ``allow_files=False`` accepts layer names only (for callers over the network, who must
    never make the server read a file of its own).

    A file in another CRS is reprojected to EPSG:4326 here, at the boundary, so that the
    analyses receive EPSG:4326 only.

    Raises
    ------
    ValidationError
        A file without a CRS or that cannot be read; a name that is neither a file nor a layer.
    NotFound
        A layer name when no database was given.
    """
    text = str(source)
    path = Path(text)
    if allow_files and path.exists():
        try:
            frame = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises its own error types per driver
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValidationError(f"cannot read {path} as a vector file ({reason[:200]}); "
                                  "give a GeoJSON, GeoPackage or Shapefile") from None
        if frame.crs is None:
            raise ValidationError(f"{path} has no CRS; save it with one (e.g. EPSG:4326) and try again")
        if frame.crs.to_epsg() not in (4326, 4490):
            frame = frame.to_crs(4326)
        return frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if text in LAYERS:
        if bind is None:
            raise NotFound(f"{text!r} is a registry layer; give --db to read it")
        frame = storage.read_layer(bind, text)
        if LAYERS[text].geometry is None:
            raise ValidationError(f"layer {text!r} has no geometry; name a layer with geometry or a file")
        return frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if not allow_files:
        raise ValidationError(f"{text!r} is not a registry layer; give one of: {', '.join(LAYERS)}")
    raise ValidationError(
        f"{text!r} is neither a file nor a registry layer; give a vector file path or one of: {', '.join(LAYERS)}"
    )


def parse_layer_buffer(text: str) -> tuple[str, float]:
    """Split ``LAYER:BUFFER`` (buffer in metres, optional) into the source and the buffer.

    Raises
    ------
    ValidationError
        When the buffer is not a number of metres, 0 or more.
    """
    source, sep, tail = text.rpartition(":")
    if not sep or not source or Path(text).exists():
        return text, 0.0
    try:
        buffer_m = float(tail)
    except ValueError:
        raise ValidationError(f"{text!r}: the buffer {tail!r} is not a number; write LAYER:METRES, e.g. "
                              "water_facilities:50 or farmland.geojson:100") from None
    if not 0 <= buffer_m <= MAX_BUFFER_M:
        raise ValidationError(f"{text!r}: the buffer must be 0 to {MAX_BUFFER_M:,.0f} metres")
    return source, buffer_m
