"""The maps the atlas offers: name, Chinese title, the registry layers each builder takes.

Adding a map is one builder module plus one :class:`MapSpec` here; the API route
(``/maps/<name>``), the landing page's link and ``atlas map NAME`` follow from this entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import folium

from geo.errors import NotFound
from maps.overview import overview_map
from maps.pairing import pairing_map


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
        Request options the builder accepts besides ``township``, ``base`` and
        ``tianditu_key`` (``unit`` ...).
    build
        The builder: frames and options in, ``folium.Map`` out.
    """

    name: str
    title: str
    audience: str
    description: str
    layers: Mapping[str, tuple[str, ...] | None]
    build: Callable[..., folium.Map]
    options: tuple[str, ...] = field(default=())


MAPS: dict[str, MapSpec] = {
    spec.name: spec
    for spec in (
        MapSpec(
            "pairing", "帮扶结对图", "领导",
            "行政村按类别着色，连线至帮扶单位；弹窗列出帮扶单位、任务资金和驻村工作队队长单位；"
            "缺帮扶单位或工作队的贫困村突出显示。",
            {"villages": None, "pairings": None, "work_teams": None, "units": None, "townships": None},
            pairing_map, options=("unit",),
        ),
        MapSpec(
            "overview", "村级帮扶总览图", "全部",
            "乡镇、行政村、自然村、农户、道路、水利设施、光伏项目和帮扶单位，逐层开关。",
            {"townships": None, "villages": None, "settlements": None, "roads": None,
             "water_facilities": None, "pv_projects": None, "units": None,
             "households": ("code", "village_id", "settlement_id", "status", "members", "source")},
            overview_map,
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


def build(spec: MapSpec, frames: Mapping[str, Any], *, options: Mapping[str, Any]) -> folium.Map:
    """Call the builder with the frames and the options it accepts (others are refused).

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
    kwargs = {k: options.get(k) for k in ("township", "base", "tianditu_key")}
    return spec.build(**frames, **kwargs, **extra)
