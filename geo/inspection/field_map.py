"""The offline map of an inspection team (督查组离线地图): the area it works in, and the plan's
own layers (numbered stops, the route) beside the registry's layers, ready for
:mod:`geo.io.mbtiles`. Pure: frames of a recorded plan in, frames and shapes out.

Household stops carry their visiting number and household code (as in the GPX), never a name.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import shapely
from shapely import wkt
from shapely.geometry import MultiLineString
from shapely.geometry.base import BaseGeometry

from geo.crs import metric_crs_for
from geo.errors import ValidationError

#: Around every village and household a team visits [m]: the settlements, roads and water
#: points near it are on the map.
MARGIN_M = 2000.0
#: Along the team's driving route [m]: the roads beside it, to find the way between villages.
CORRIDOR_M = 300.0
#: The closest zooms cover less [m around every stop, no route corridor]: a zoom-17 tile is
#: about 240 m wide here, and the households of a village can lie kilometres apart.
CLOSE_MARGINS_M = {16: 1000.0, 17: 500.0}

STOP_PROPERTIES = ("kind", "team", "stop", "label", "name", "township_name", "households_sampled",
                   "household_code", "stratum_label")
ROUTE_PROPERTIES = ("team", "label", "length_km")


def check_team(villages: pd.DataFrame, team: int | None) -> list[int]:
    """The plan's teams a map covers: all, or ``team``.

    Raises
    ------
    ValidationError
        ``team`` is not one of the plan's teams.
    """
    teams = sorted(int(t) for t in set(villages["team"].dropna()))
    if team is None:
        return teams
    if team not in teams:
        raise ValidationError(f"--team {team}: the plan has teams {', '.join(map(str, teams)) or 'none'}")
    return [team]


def stops_frame(villages: gpd.GeoDataFrame, households: gpd.GeoDataFrame, teams: Sequence[int]) -> gpd.GeoDataFrame:
    """The numbered stops of ``teams``: each village (``1-03``: team 1, third village) and each
    sampled household (``1-03-02``), with no household name."""
    rows = []
    for v in villages[villages["team"].isin(teams)].sort_values(["team", "visit_order"]).itertuples(index=False):
        rows.append({"kind": "village", "team": int(v.team), "stop": int(v.visit_order),
                     "label": f"{int(v.team)}-{int(v.visit_order):02d}", "name": v.village_name,
                     "township_name": v.township_name, "households_sampled": int(v.households_sampled),
                     "household_code": None, "stratum_label": None, "geometry": v.geometry})
    ours = households[households["team"].isin(teams)].sort_values(["team", "village_order", "visit_order"])
    for h in ours.itertuples(index=False):
        rows.append({"kind": "household", "team": int(h.team), "stop": int(h.visit_order),
                     "label": f"{int(h.team)}-{int(h.village_order):02d}-{int(h.visit_order):02d}",
                     "name": h.village_name, "township_name": h.township_name, "households_sampled": None,
                     "household_code": h.household_code, "stratum_label": h.stratum_label, "geometry": h.geometry})
    frame = gpd.GeoDataFrame(rows, columns=[*STOP_PROPERTIES, "geometry"], geometry="geometry", crs=4326)
    frame.insert(0, "id", range(1, len(frame) + 1))
    return frame


def route_frame(villages: gpd.GeoDataFrame, team_routes: Sequence[dict], teams: Sequence[int]) -> gpd.GeoDataFrame:
    """One line per team: its legs from the start through its villages in order (over the
    roads where the plan used them), and the way back when the plan returns."""
    rows = []
    for route in team_routes:
        team = int(route["team"])
        if team not in teams:
            continue
        members = villages[villages["team"] == team].sort_values("visit_order")
        legs = [g for g in members["leg"] if g is not None and not g.is_empty]
        if route.get("return_leg"):
            legs.append(wkt.loads(route["return_leg"]["wkt"]))
        parts = [p for g in legs for p in getattr(g, "geoms", [g])]
        if parts:
            rows.append({"team": team, "label": f"第{team}组路线", "length_km": float(route.get("length_km") or 0.0),
                         "geometry": MultiLineString(parts)})
    frame = gpd.GeoDataFrame(rows, columns=[*ROUTE_PROPERTIES, "geometry"], geometry="geometry", crs=4326)
    frame.insert(0, "id", range(1, len(frame) + 1))
    return frame


def visit_areas(stops: gpd.GeoDataFrame, route: gpd.GeoDataFrame, *, zooms: Sequence[int]) -> dict[int, BaseGeometry]:
    """The area each zoom covers: :func:`visit_area` (the margin and the route corridor), less
    at the zooms of :data:`CLOSE_MARGINS_M`."""
    wide = visit_area(stops, route)
    close = {z: visit_area(stops, None, margin_m=m) for z, m in CLOSE_MARGINS_M.items() if z in zooms}
    return {z: close.get(z, wide) for z in zooms}


def visit_area(stops: gpd.GeoDataFrame, route: gpd.GeoDataFrame | None, *, margin_m: float = MARGIN_M,
               corridor_m: float = CORRIDOR_M) -> BaseGeometry:
    """Where a team works, in longitude/latitude: ``margin_m`` around every stop and
    ``corridor_m`` along its route (if given), measured in the UTM zone of the stops.

    Raises
    ------
    ValidationError
        No stop has a position.
    """
    points = stops.geometry[stops.geometry.notna() & ~stops.geometry.is_empty]
    if points.empty:
        raise ValidationError("none of the team's villages or households has a position; nothing to map")
    crs = metric_crs_for(points)
    parts = list(points.to_crs(crs).buffer(margin_m, quad_segs=8))
    if route is not None and len(route):
        parts += list(route.geometry.to_crs(crs).buffer(corridor_m, quad_segs=4))
    area = gpd.GeoSeries([shapely.union_all(parts)], crs=crs).to_crs(4326).iloc[0]
    return shapely.make_valid(area)
