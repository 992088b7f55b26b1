"""Offline map packages of an inspection plan (督查组离线地图包): MBTiles of a team's area, or the
whole plan's, for ODK Collect, QField and QGIS, as vector tiles (MVT) or PNG rasters.

Reads the plan (:mod:`geo.storage.inspection`) and the registry's layers (:mod:`geo.storage`)
around it, builds the layers (:mod:`geo.inspection.field_map`) and cuts them
(:mod:`geo.io.mbtiles`, :mod:`geo.io.tile_render`). The tiles hold no personal data: household
stops carry a number and the household code, never a name or an ID number, so the package is
the same for every role that may export the plan, and nothing is audited.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import storage
from geo.audit import Actor
from geo.enums import FacilityStatus, RoadClass, RoadSurface, VillageCategory, WaterKind
from geo.errors import NotFound, ValidationError
from geo.inspection import field_map
from geo.storage import inspection as store
from geo.io import mbtiles
from geo.io.mbtiles import TileLayer
from geo.services.exports import write_download
from geo.storage import Bind

#: Attribution of every package; the demo notice follows when rows are synthetic.
ATTRIBUTION = "村级帮扶地图集 登记簿图层（乡镇、行政村、自然村、道路、水利设施）与督查抽样方案"
DEMO_NOTICE = "演示数据：含近似位置或合成记录（来源 demo:approximate / demo:synthetic），仅供演示，不作为实测数据"


@dataclass
class Package:
    """An MBTiles file and what it holds."""

    data: bytes
    name: str
    tile_format: str
    tiles_per_zoom: dict[int, int]
    layers: list[str]
    bounds: tuple[float, float, float, float]
    demo: bool
    teams: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"format": "mbtiles", "tile_format": self.tile_format, "name": self.name, "teams": self.teams,
                "tiles": sum(self.tiles_per_zoom.values()),
                "tiles_per_zoom": {str(z): n for z, n in sorted(self.tiles_per_zoom.items())},
                "bytes": len(self.data), "layers": self.layers, "bounds": [round(v, 6) for v in self.bounds],
                "demo_data": self.demo}


def team_mbtiles(bind: Bind, plan_id: int, *, team: int | None, raster: bool = False,
                 actor: Actor | None = None) -> bytes:
    """The MBTiles file of one team's area (``team=None``: the whole plan), as bytes.

    Parameters
    ----------
    plan_id
        The plan's id (or name).
    team
        The team (检查组): its villages to visit and a margin around them.
    raster
        PNG tiles (256 px, Chinese labels drawn in) instead of vector tiles.
    actor
        Who asks. The package holds no personal data, so nothing is audited; taken so that a
        caller writing a team's kit passes the same arguments to every part of it.

    Raises
    ------
    NotFound
        No such plan.
    ValidationError
        A team the plan does not have, or a plan whose stops have no position.
    """
    return build_package(bind, plan_id, team=team, raster=raster).data


def export_mbtiles(bind: Bind, plan: int | str, path, *, team: int | None = None, raster: bool = False) -> dict[str, Any]:
    """Write :func:`team_mbtiles` to ``path``; returns ``path`` and the package's summary
    (tiles per zoom, bytes, layers, bounds).

    Raises
    ------
    ValidationError
        The folder of ``path`` does not exist, or as :func:`team_mbtiles`.
    """
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise ValidationError(f"-o {path}: the folder {folder} does not exist")
    package = build_package(bind, plan, team=team, raster=raster)
    Path(path).write_bytes(package.data)
    return {"path": str(path), **package.summary()}


def mbtiles_download(bind: Bind, plan_id: int, *, team: int | None = None, raster: bool = False
                     ) -> tuple[Path, dict[str, Any]]:
    """:func:`export_mbtiles` into a temporary folder (remove it with
    :func:`geo.services.exports.remove_download`), named ``plan-ID[-team-N][-raster].mbtiles``.

    Raises
    ------
    NotFound, ValidationError
        As :func:`team_mbtiles`.
    """
    name = f"plan-{plan_id}" + (f"-team-{team}" if team is not None else "") + ("-raster" if raster else "")
    return write_download(f"{name}.mbtiles", lambda path: export_mbtiles(bind, plan_id, path, team=team, raster=raster))


def build_package(bind: Bind, plan: int | str, *, team: int | None, raster: bool) -> Package:
    """The package of ``team`` (or the whole plan) with its figures.

    Raises
    ------
    NotFound
        No such plan.
    ValidationError
        A team the plan does not have, or no stop with a position.
    """
    row = store.find_plan(bind, plan)
    villages = store.read_sampled_villages(bind, row["id"])
    households = store.read_sampled_households(bind, row["id"])
    try:
        routes = json.loads(store.read_draw(bind, row["id"])["routes_json"] or "[]")
    except NotFound:
        routes = []
    teams = field_map.check_team(villages, team)
    stops = field_map.stops_frame(villages, households, teams)
    route = field_map.route_frame(villages, routes, teams)
    areas = field_map.visit_areas(stops, route, zooms=range(mbtiles.MIN_ZOOM, mbtiles.MAX_ZOOM + 1))
    area = areas[mbtiles.MIN_ZOOM]
    registry = _registry_layers(bind, area)
    layers = [*registry, TileLayer("route", route, field_map.ROUTE_PROPERTIES, "督查路线（按检查组）"),
              TileLayer("stops", stops, field_map.STOP_PROPERTIES,
                        "走访顺序：行政村（组-站）与抽样农户（组-站-户），不含户主姓名")]
    demo = any(_is_demo(layer.frame) for layer in registry)
    who = f"第{team}组" if team is not None else "全部检查组"
    name = f"{row['name']} {who}离线地图"
    attribution = ATTRIBUTION + ("；" + DEMO_NOTICE if demo else "")
    close = "，".join(f"{z}级周边{m:g}米" for z, m in field_map.CLOSE_MARGINS_M.items())
    description = (f"{row['name']}：{who}走访的行政村与抽样农户周边{field_map.MARGIN_M / 1000:g}公里及路线沿线"
                   f"{field_map.CORRIDOR_M:g}米（{close}）；乡镇界与名称、村名、自然村名、道路（按路面）、水利设施、"
                   "走访顺序（组-站-户）与路线")
    tiles = [t for z, zoom_area in areas.items() for t in mbtiles.tiles_over(zoom_area, zooms=[z])]
    if raster:
        from geo.io.tile_render import render_tiles

        cut = list(render_tiles({layer.name: layer.frame for layer in layers}, tiles))
        extra = {}
        tile_format = "png"
    else:
        cut = list(mbtiles.vector_tiles(layers, tiles))
        extra = {"json": mbtiles.vector_layers_json(layers)}
        tile_format = "pbf"
    metadata = mbtiles.package_metadata(name=name, description=description, attribution=attribution, area=area,
                                        tile_format=tile_format, extra=extra)
    data = mbtiles.mbtiles_bytes(metadata, cut, compress=not raster)
    per_zoom = Counter(z for (z, _, _), _ in cut)
    return Package(data=data, name=name, tile_format=tile_format, tiles_per_zoom=dict(per_zoom),
                   layers=[layer.name for layer in layers], bounds=area.bounds, demo=demo, teams=teams)


def _is_demo(frame: pd.DataFrame) -> bool:
    return "source" in frame and frame["source"].astype(str).str.startswith("demo:").any()


def _labels(values: pd.Series, enum_cls) -> pd.Series:
    return values.astype("string").map(enum_cls.labels()).astype(object)


def _registry_layers(bind: Bind, area) -> list[TileLayer]:
    """The registry's layers inside the area's bounding box, with Chinese labels and no
    personal field (households are not read at all)."""
    bbox = area.bounds
    towns = storage.read_layer(bind, "townships", bbox=bbox, columns=["code", "name", "source"], with_names=False)
    names = gpd.GeoDataFrame({"id": towns["id"], "name": towns["name"], "source": towns["source"]},
                             geometry=towns.geometry.representative_point().to_numpy(), crs=4326)
    villages = storage.read_layer(bind, "villages", bbox=bbox, columns=["code", "name", "category", "source"])
    villages["category_label"] = _labels(villages["category"], VillageCategory)
    settlements = storage.read_layer(bind, "settlements", bbox=bbox, columns=["name", "households", "source"])
    roads = storage.read_layer(bind, "roads", bbox=bbox,
                               columns=["name", "road_class", "surface", "width_m", "source"])
    roads["surface_label"] = _labels(roads["surface"], RoadSurface)
    roads["road_class_label"] = _labels(roads["road_class"], RoadClass)
    roads["surface"] = roads["surface"].astype("string").astype(object)
    water = storage.read_layer(bind, "water_facilities", bbox=bbox,
                               columns=["name", "kind", "status", "is_drinking", "source"])
    water["kind_label"] = _labels(water["kind"], WaterKind)
    water["status_label"] = _labels(water["status"], FacilityStatus)
    water["kind"] = water["kind"].astype("string").astype(object)
    return [
        TileLayer("townships", towns, ("name", "code", "source"), "乡镇界"),
        TileLayer("township_names", names, ("name", "source"), "乡镇名称（标注点）"),
        TileLayer("roads", roads, ("name", "surface", "surface_label", "road_class_label", "width_m", "source"),
                  "道路：名称、路面（硬化路/砂石路/土路）、等级"),
        TileLayer("water", water, ("name", "kind", "kind_label", "status_label", "is_drinking", "source"),
                  "水利设施：供水点、机井、水渠、蓄水池、供水管道", min_zoom=12),
        TileLayer("villages", villages, ("name", "township_name", "category_label", "source"), "行政村（村委会）"),
        TileLayer("settlements", settlements, ("name", "village_name", "households", "source"), "自然村",
                  min_zoom=12),
    ]
