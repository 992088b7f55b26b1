"""The registry's layers: what each is called, which table holds it, how it is filtered.

A *layer* is one entity of DESIGN.md's data model as the storage API, the importer, the API
and the maps see it. Link tables (many-to-many) are listed separately in :data:`LINKS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Table

from geo import models
from geo.errors import NotFound

TownshipVia = Literal["self", "township", "village", "village_or_spatial", "spatial", "unit", "cadre", "area"]


@dataclass(frozen=True)
class NameJoin:
    """A readable label column added to a read: follow ``path`` (FK columns), take ``column``."""

    label: str
    path: tuple[str, ...]
    column: str = "name"


@dataclass(frozen=True)
class LayerSpec:
    """How one layer is stored and filtered.

    Attributes
    ----------
    name
        The layer's name in the CLI and the API (``villages``).
    model
        The ORM class.
    label
        Chinese name shown to users.
    geometry
        Primary geometry column, or ``None`` for tables without one.
    geometry_kind
        ``point``, ``line``, ``polygon`` or ``any``: what an import may put in it.
    township_via
        How a township filter applies: the row is the township (``self``); it has a
        ``township_id`` (``township``); through its ``village_id`` (``village``); the village,
        else its geometry (``village_or_spatial``); by geometry (``spatial``); units paired
        with or leading a village of the township (``unit``); cadres of such units (``cadre``);
        the county of the township and the areas above it (``area``).
    names
        Readable label columns joined in on read (``township_name`` ...).
    category_column
        Column the API's ``category`` filter applies to.
    """

    name: str
    model: type[models.Base]
    label: str
    geometry: str | None
    geometry_kind: Literal["point", "line", "polygon", "any"] | None
    township_via: TownshipVia
    names: tuple[NameJoin, ...] = ()
    category_column: str | None = None
    secondary_geometries: tuple[str, ...] = field(default=())

    @property
    def table(self) -> Table:
        return self.model.__table__

    @property
    def natural_keys(self) -> tuple[tuple[str, ...], ...]:
        return self.model.__natural_keys__

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.columns if c.info.get("pii"))

    @property
    def geometry_columns(self) -> tuple[str, ...]:
        return ((self.geometry,) if self.geometry else ()) + self.secondary_geometries


_VILLAGE = NameJoin("village_name", ("village_id",))
_TOWNSHIP_OF_VILLAGE = NameJoin("township_name", ("village_id", "township_id"))

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec("areas", models.Area, "行政区（区县、市、省）", "geom", "polygon", "area",
                  names=(NameJoin("parent_name", ("parent_id",)),), category_column="level"),
        LayerSpec("townships", models.Township, "乡镇", "geom", "polygon", "self",
                  names=(NameJoin("county_name", ("county_id",)),),
                  secondary_geometries=("seat",)),
        LayerSpec("villages", models.Village, "行政村", "geom", "point", "township",
                  names=(NameJoin("township_name", ("township_id",)),
                         NameJoin("county_name", ("township_id", "county_id"))),
                  category_column="category", secondary_geometries=("boundary",)),
        LayerSpec("settlements", models.Settlement, "自然村", "geom", "point", "village",
                  names=(_VILLAGE, _TOWNSHIP_OF_VILLAGE)),
        LayerSpec("households", models.Household, "农户", "geom", "point", "village",
                  names=(_VILLAGE, _TOWNSHIP_OF_VILLAGE,
                         NameJoin("settlement_name", ("settlement_id",)),
                         NameJoin("cadre_name", ("cadre_id",))),
                  category_column="status"),
        LayerSpec("units", models.AssistanceUnit, "帮扶单位", "geom", "point", "unit",
                  category_column="kind"),
        LayerSpec("pairings", models.Pairing, "定点帮扶", None, None, "village",
                  names=(NameJoin("unit_name", ("unit_id",)), _VILLAGE, _TOWNSHIP_OF_VILLAGE)),
        LayerSpec("work_teams", models.WorkTeam, "驻村工作队", None, None, "village",
                  names=(_VILLAGE, _TOWNSHIP_OF_VILLAGE,
                         NameJoin("leader_unit_name", ("leader_unit_id",)))),
        LayerSpec("cadres", models.Cadre, "帮扶责任人", None, None, "cadre",
                  names=(NameJoin("unit_name", ("unit_id",)),), category_column="rank"),
        LayerSpec("roads", models.Road, "道路", "geom", "line", "spatial",
                  category_column="surface"),
        LayerSpec("water_facilities", models.WaterFacility, "水利设施", "geom", "any",
                  "village_or_spatial", names=(_VILLAGE,), category_column="kind"),
        LayerSpec("pv_projects", models.PVProject, "光伏项目", "geom", "any",
                  "village_or_spatial", names=(_VILLAGE,), category_column="kind"),
        LayerSpec("projects", models.Project, "帮扶项目", "geom", "any", "village_or_spatial",
                  names=(_VILLAGE, NameJoin("unit_name", ("unit_id",))),
                  category_column="kind"),
        LayerSpec("unit_inputs", models.UnitInput, "帮扶投入", None, None, "village",
                  names=(NameJoin("unit_name", ("unit_id",)), _VILLAGE)),
    )
}

#: Many-to-many link tables: name -> table.
LINKS: dict[str, Table] = {
    "water_facility_villages": models.water_facility_villages,
    "pv_project_villages": models.pv_project_villages,
    "pv_project_households": models.pv_project_households,
}


#: ``(smaller, larger)`` counts of one row, the first a part of the second: registered-poor
#: households <= households <= population (checked on import and on every registry write).
#: Geometry type names by their number, :func:`shapely.get_type_id` (a tuple: index it with
#: ``np.array(GEOMETRY_TYPE_NAMES, dtype=object)[ids]`` for many geometries at once).
GEOMETRY_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
                       "MultiPolygon", "GeometryCollection")

COUNT_ORDER = (("registered_poor_households", "households"), ("households", "population"))


def count_order_problems(values: dict) -> list[tuple[str, str]]:
    """The ``(smaller, larger)`` pairs of :data:`COUNT_ORDER` that ``values`` gives both of,
    with the smaller count above the larger."""
    return [(small, large) for small, large in COUNT_ORDER
            if values.get(small) is not None and values.get(large) is not None
            and values[small] > values[large]]


def get_layer(name: str) -> LayerSpec:
    """Return the layer called ``name``.

    Raises
    ------
    NotFound
        Naming the layers that exist.
    """
    try:
        return LAYERS[name]
    except KeyError:
        raise NotFound(f"unknown layer {name!r}; layers are: {', '.join(LAYERS)}") from None
