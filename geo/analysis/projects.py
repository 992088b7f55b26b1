"""Registry projects (帮扶项目) that change the ground the gap analyses measure: a road project
built last year joins the road network, a well dug joins the supply points, so a gap it closed
is closed in the result.

Only projects with a geometry of the right kind count (a road project needs its line; a
point on a road project says where, not what was built). Completed projects count by default;
``include_planned`` adds those planned or being built, to see the gaps they will close.

Pure: frames in, frames out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.enums import FacilityStatus, ProjectStatus, RoadSurface

#: Statuses counted as built, and those added by ``include_planned``.
BUILT = (ProjectStatus.COMPLETED.value,)
PLANNED = (ProjectStatus.PLANNED.value, ProjectStatus.BUILDING.value)
#: Project kinds that give a drinking-water supply point when built (a 机井 dug for drinking).
SUPPLY_KINDS = ("well",)


def _chosen(projects: gpd.GeoDataFrame | None, kinds: tuple[str, ...], families: tuple[str, ...],
            include_planned: bool) -> gpd.GeoDataFrame | None:
    if projects is None or projects.empty or "kind" not in projects:
        return None
    statuses = BUILT + (PLANNED if include_planned else ())
    geoms = projects.geometry
    mask = (projects["kind"].astype(str).isin(kinds) & projects["status"].astype(str).isin(statuses)
            & geoms.notna() & ~geoms.is_empty & geoms.geom_type.isin(families))
    chosen = projects[mask.to_numpy()]
    return chosen if len(chosen) else None


def _label(chosen: pd.DataFrame) -> list[str]:
    years = chosen["year"] if "year" in chosen else pd.Series([None] * len(chosen), index=chosen.index)
    return [f"project:{code or pid}" + ("" if pd.isna(year) else f" ({int(year)})")
            for pid, code, year in zip(chosen["id"], chosen.get("code", chosen["id"]), years)]


def project_roads(projects: gpd.GeoDataFrame | None, *, include_planned: bool = False) -> gpd.GeoDataFrame | None:
    """Road projects with a line, as hardened road rows (``id`` negative: the project's id,
    never mistaken for a road's; width unknown, so they do not count for the settlement
    width rule). None when there are none."""
    chosen = _chosen(projects, ("road",), ("LineString", "MultiLineString"), include_planned)
    if chosen is None:
        return None
    return gpd.GeoDataFrame({
        "id": -chosen["id"].to_numpy(dtype=np.int64), "code": chosen.get("code"), "name": chosen["name"].to_numpy(),
        "surface": RoadSurface.HARDENED.value, "width_m": np.nan, "source": _label(chosen),
    }, geometry=chosen.geometry.to_numpy(), crs=chosen.crs)


def project_supplies(projects: gpd.GeoDataFrame | None, *, include_planned: bool = False
                     ) -> gpd.GeoDataFrame | None:
    """Well projects with a position, as working drinking-water facilities of their village
    (``id`` negative, as for roads). None when there are none."""
    chosen = _chosen(projects, SUPPLY_KINDS, ("Point", "MultiPoint"), include_planned)
    if chosen is None:
        return None
    return gpd.GeoDataFrame({
        "id": -chosen["id"].to_numpy(dtype=np.int64), "code": chosen.get("code"), "name": chosen["name"].to_numpy(),
        "kind": "well", "status": FacilityStatus.WORKING.value, "is_drinking": True,
        "village_id": chosen["village_id"].to_numpy() if "village_id" in chosen else None, "source": _label(chosen),
    }, geometry=chosen.geometry.to_numpy(), crs=chosen.crs)


def with_projects(layer: gpd.GeoDataFrame, added: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """``layer`` with the project rows appended (the layer itself when there are none)."""
    if added is None:
        return layer
    both = pd.concat([layer, added.to_crs(layer.crs) if layer.crs is not None else added], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=layer.geometry.name if layer.geometry.name in both else "geometry",
                            crs=layer.crs or added.crs)
