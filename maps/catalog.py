"""The maps the atlas offers: name, Chinese title, the registry layers each builder takes.

Adding a map is one builder module plus one :class:`MapSpec` here; the API route
(``/maps/<name>``), the landing page's link and ``atlas map NAME`` follow from this entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from geo.errors import NotFound

if TYPE_CHECKING:
    import folium

#: Where a map's frames come from (:mod:`geo.services.maps` reads them; ``maps`` never does):
#: ``layers``: the registry layers in :attr:`MapSpec.layers`; ``analysis``: the inputs of the
#: analysis :attr:`MapSpec.analysis` (``geo.services.analyses.load_inputs``); ``pv_review``:
#: ``geo.services.pv.load_review_frames`` plus village points and townships, and the siting
#: candidates (``geo.services.pv.run_siting`` on a coarse grid, options ``candidates`` and
#: ``cell_size``); ``inspection_plan``: the sample of the plan named by the ``plan`` option
#: (``geo.storage.inspection``); ``monitoring``: the monitoring cases per village, with the
#: households' points for roles allowed to see names (``geo.services.monitoring.map_frames``).
Source = Literal["layers", "analysis", "pv_review", "inspection_plan", "monitoring"]


@dataclass(frozen=True)
class MapSpec:
    """One map.

    Attributes
    ----------
    name
        URL and CLI name (``pairing``).
    title
        Chinese title shown on the landing page.
    audience
        Who it is for (领导, 规划人员, 督查组).
    description
        One Chinese sentence for the landing page.
    layers
        Registry layers the builder takes, as keyword arguments of the same name; each read
        with the request's township filter. A mapping value lists the columns to read
        (``None``: all non-personal columns).
    options
        Request options the map accepts besides ``township``, ``base`` and ``tianditu_key``
        (``unit`` ...).
    source_options
        Those of ``options`` the loader reads rather than the builder (``plan``,
        ``candidates``).
    builder
        The builder, as ``module:function`` in this package (frames and options in,
        ``folium.Map`` out): :attr:`build` imports it when a map is drawn, so the catalog,
        which the API reads at start, imports no builder and no Folium.
    source
        Where the frames come from (see :data:`Source`).
    analysis
        For ``source="analysis"``: the analysis whose inputs are read.
    requires
        Layers the viewer must be allowed to read, else the map is refused; any other layer
        the viewer may not read is left out (the builder gets None).
    """

    name: str
    title: str
    audience: str
    description: str
    layers: Mapping[str, tuple[str, ...] | None]
    builder: str
    options: tuple[str, ...] = field(default=())
    source: Source = "layers"
    analysis: str | None = None
    requires: tuple[str, ...] = field(default=())
    source_options: tuple[str, ...] = field(default=())

    @property
    def build(self) -> Callable[..., folium.Map]:
        """The builder function (its module imported on first use)."""
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(f"maps.{module}"), function)


MAPS: dict[str, MapSpec] = {
    spec.name: spec
    for spec in (
        MapSpec(
            "pairing", "帮扶结对图", "领导",
            "行政村按类别着色，连线至帮扶单位；弹窗列出帮扶单位、任务资金和驻村工作队队长单位；"
            "缺帮扶单位或工作队的贫困村突出显示。",
            {"villages": None, "pairings": None, "work_teams": None, "units": None, "townships": None,
             "unit_inputs": None},
            "pairing:pairing_map", options=("unit", "year"),
        ),
        MapSpec(
            "overview", "村级帮扶总览图", "全部",
            "乡镇、行政村、自然村、农户、道路、水利设施、光伏项目和帮扶单位，逐层开关。",
            {"townships": None, "villages": None, "settlements": None, "roads": None,
             "water_facilities": None, "pv_projects": None, "units": None,
             "households": ("code", "village_id", "settlement_id", "status", "members", "source")},
            "overview:overview_map",
        ),
        MapSpec(
            "counties", "区县对比图", "领导",
            "以区县为单元（市、州、盟或省内）分级着色：贫困村数、建档立卡贫困户、贫困村占比；"
            "用 area= 选定市或省（如 640500 中卫市）。",
            {"areas": None, "townships": ("id", "county_id", "name", "source"),
             "villages": ("id", "township_id", "category", "registered_poor_households", "source")},
            "counties:counties_map", requires=("areas", "townships", "villages"),
        ),
        MapSpec(
            "coverage", "帮扶覆盖图", "领导",
            "乡镇按贫困村帮扶全覆盖率、户均帮扶任务资金和帮扶责任人负担分级着色；行政村标注帮扶单位、"
            "工作队、第一书记和无责任人户数。",
            {"townships": None, "villages": None, "pairings": None, "work_teams": None, "units": None,
             "cadres": None, "households": None},
            "coverage:coverage_map", source="analysis", analysis="coverage", options=("year",),
            requires=("villages", "pairings", "work_teams", "units", "cadres", "households"),
        ),
        MapSpec(
            "roads", "道路通达图", "规划人员",
            "道路按路面和宽度显示；行政村、自然村按距硬化路远近着色；待建连接线以虚线标注长度和造价；"
            "全天候道路2公里范围。",
            {"townships": None, "villages": None, "settlements": None, "roads": None, "households": None,
             "projects": None},
            "roads:roads_map", source="analysis", analysis="roads",
            requires=("townships", "villages", "settlements", "roads"),
        ),
        MapSpec(
            "water", "饮水安全图", "规划人员",
            "水利设施按类型和状态显示；超出取水距离的自然村突出显示；安全饮水比例低于达标线的行政村加圈提示。",
            {"townships": None, "villages": None, "settlements": None, "water_facilities": None,
             "water_facility_villages": None, "households": None, "projects": None},
            "water:water_map", source="analysis", analysis="water",
            requires=("villages", "settlements", "water_facilities"),
        ),
        MapSpec(
            "pv", "光伏项目图", "规划人员",
            "光伏项目按装机大小、按状态着色；弹窗对比模型估算收益与上报收益，标出核查发现的问题；"
            "新建电站选址候选按评分着色，标出装机、估算发电量和受益村户。",
            {"projects": None, "households": None, "project_households": None, "project_villages": None,
             "villages": None, "village_points": None, "townships": None},
            "pv:pv_map", source="pv_review", requires=("pv_projects", "villages", "households"),
            options=("candidates", "cell_size"), source_options=("candidates", "cell_size"),
        ),
        MapSpec(
            "inspection", "督查路线图", "督查组",
            "抽中行政村和农户按访问顺序编号、各检查组一种颜色、路线连线；户主姓名仅对本方案授权人员显示。",
            {"sampled_villages": None, "sampled_households": None, "plan": None, "townships": None,
             "villages": None, "teams": None},
            "inspection:inspection_map", source="inspection_plan", options=("plan", "team", "day"),
            requires=("villages", "households"),
            source_options=("plan",),
        ),
        MapSpec(
            "monitoring", "防返贫监测图", "规划人员",
            "各村监测对象、在办案件和逾期环节，叠加道路和饮水设施；超出1公里取水距离的监测户突出显示；"
            "农户位置仅对可查看农户信息的角色显示，其余角色只见按村汇总。",
            {"villages": None, "cases": None, "roads": None, "facilities": None},
            "monitoring:monitoring_map", source="monitoring", requires=("households",),
        ),
    )
}


def get_map(name: str) -> MapSpec:
    """The map called ``name``.

    Raises
    ------
    NotFound
        Naming the maps that exist.
    """
    try:
        return MAPS[name]
    except KeyError:
        raise NotFound(f"no map {name!r}; maps are: {', '.join(MAPS)}") from None


def check_options(spec: MapSpec, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options given (not None) besides township and base, all of which the map must take.

    Raises
    ------
    geo.errors.ValidationError
        An option the map does not take.
    """
    from geo.errors import ValidationError

    extra = {k: v for k, v in options.items() if v is not None and k not in ("township", "base", "tianditu_key")}
    unknown = [k for k in extra if k not in spec.options]
    if unknown:
        takes = ", ".join(spec.options) or "only township and base"
        raise ValidationError(f"map {spec.name!r} does not take {', '.join(unknown)}; it takes {takes}")
    return extra


def build(spec: MapSpec, frames: Mapping[str, Any], *, options: Mapping[str, Any]) -> folium.Map:
    """Call the builder with the frames and the options it accepts (others are refused).

    Raises
    ------
    geo.errors.ValidationError
        An option the map does not take.
    """
    extra = check_options(spec, options)
    extra = {k: v for k, v in extra.items() if k not in spec.source_options}  # the loader used them
    kwargs = {k: options.get(k) for k in ("township", "base", "tianditu_key")}
    return spec.build(**frames, **kwargs, **extra)
