"""Schemas of the registry resources, one family per layer: Create, Update, Public and a page.

They are derived from the table columns (``geo.models``), so a new column appears in the API
without a second definition to keep in step: types, lengths, enum values (English or Chinese
label), required fields, the geometry kind and the column docs all come from the model.
Personal fields (household head's name and ID number) are accepted on Create and Update but
never part of Public.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model

from api.schemas.common import INT32_MAX, GeometryOut, Link, Timestamp, geometry_input, text
from geo.enums import LabeledEnum
from geo.layers import LAYERS, LayerSpec
from geo.storage import MANAGED

_YEARS = {"year", "status_year"}
_GEOMETRY_TYPES = {
    "POINT": ("Point", "MultiPoint"),
    "MULTIPOINT": ("Point", "MultiPoint"),
    "LINESTRING": ("LineString",),
    "MULTILINESTRING": ("LineString", "MultiLineString"),
    "POLYGON": ("Polygon",),
    "MULTIPOLYGON": ("Polygon", "MultiPolygon"),
}

#: A realistic example body per layer (Shapotou values), shown in /docs and tried by schemathesis.
EXAMPLES: dict[str, dict[str, Any]] = {
    "areas": {"code": "640521", "name": "中宁县", "level": "county", "parent_id": 2},
    "townships": {"name": "示例镇", "code": "640502199",
                  "geometry": {"type": "Polygon", "coordinates": [[[105.0, 37.4], [105.1, 37.4],
                                                                   [105.1, 37.5], [105.0, 37.4]]]}},
    "villages": {"name": "示例村", "township_id": 1, "category": "贫困村", "population": 1200,
                 "households": 320, "geometry": {"type": "Point", "coordinates": [105.19, 37.51]}},
    "settlements": {"name": "一组", "village_id": 1, "households": 45, "population": 160,
                    "geometry": {"type": "Point", "coordinates": [105.2, 37.52]}},
    "households": {"code": "6405020001990001", "village_id": 1, "status": "registered", "members": 4,
                   "income_per_person_yuan": 3800, "head_name": "马某某",
                   "geometry": {"type": "Point", "coordinates": [105.2, 37.52]}},
    "units": {"name": "示例帮扶单位", "kind": "public_institution", "level": "district"},
    "pairings": {"unit_id": 1, "village_id": 1, "year": 2019, "task_funds_wan_yuan": 1.5},
    "work_teams": {"village_id": 1, "year": 2020, "leader_unit_id": 1, "member_count": 3},
    "cadres": {"unit_id": 1, "name": "王某某01", "rank": "科级"},
    "roads": {"code": "R-EX-001", "name": "示例村道", "road_class": "village", "surface": "gravel",
              "width_m": 4.0, "geometry": {"type": "LineString",
                                           "coordinates": [[105.19, 37.51], [105.21, 37.52]]}},
    "water_facilities": {"code": "W-EX-001", "name": "示例机井", "kind": "well", "status": "working",
                         "capacity_m3_per_day": 80, "village_id": 1,
                         "geometry": {"type": "Point", "coordinates": [105.2, 37.5]}},
    "pv_projects": {"code": "PV-EX-001", "name": "示例村级光伏电站", "kind": "village_station",
                    "capacity_kw": 300, "status": "planned", "village_id": 1,
                    "geometry": {"type": "Point", "coordinates": [105.21, 37.5]}},
    "projects": {"code": "P-EX-001", "name": "示例打机井项目", "kind": "well", "village_id": 1,
                 "funds_wan_yuan": 12.0, "quantity": 2, "quantity_unit": "眼", "year": 2019,
                 "status": "planned"},
    "unit_inputs": {"unit_id": 1, "village_id": 1, "year": 2019, "cadres_section": 2,
                    "warmth_households": 10, "total_input_wan_yuan": 3.2},
}


def _enum_type(enum_cls: type[LabeledEnum]) -> Any:
    def parse(value: Any) -> str:
        try:
            return enum_cls.parse(value).value
        except ValueError as exc:
            raise ValueError(str(exc)) from None

    choices = [m.value for m in enum_cls] + [m.label for m in enum_cls]
    description = "; ".join(f"{m.value} ({m.label})" for m in enum_cls)
    return Annotated[str, BeforeValidator(parse),
                     WithJsonSchema({"type": "string", "enum": choices, "description": description})]


def _input_type(spec: LayerSpec, column: sa.Column) -> tuple[Any, dict[str, Any]]:
    """Pydantic type and Field arguments accepted for a column on input."""
    kind = column.type
    extra: dict[str, Any] = {}
    if column.name in spec.geometry_columns:
        wanted = kind.geometry_type.upper()
        return geometry_input(_GEOMETRY_TYPES.get(wanted, tuple(_GEOMETRY_TYPES["POINT"]
                                                                 + _GEOMETRY_TYPES["MULTILINESTRING"]
                                                                 + _GEOMETRY_TYPES["MULTIPOLYGON"]))), extra
    enum_cls = getattr(kind, "enum_class", None)
    if enum_cls is not None:
        return _enum_type(enum_cls), extra
    if isinstance(kind, sa.Boolean):
        return bool, extra
    if isinstance(kind, sa.Integer):
        if column.name in _YEARS:
            extra.update(ge=1949, le=2100)
        elif column.foreign_keys:
            extra.update(ge=1, le=INT32_MAX)
        else:
            extra.update(ge=0, le=INT32_MAX)
        return int, extra
    if isinstance(kind, sa.Float):
        extra.update(ge=0, allow_inf_nan=False)
        if column.name.endswith("_pct"):
            extra.update(le=100)
        else:
            extra.update(le=1e12)
        return float, extra
    if isinstance(kind, sa.Date):
        return dt.date, extra
    if isinstance(kind, sa.String) and kind.length:
        if column.name == "id_number":
            extra.update(pattern=r"^(\d{17}[\dXx]|\d{15})$")
        return text(kind.length), extra
    return text(10_000), extra


def _input_name(spec: LayerSpec, column: str) -> str:
    return "geometry" if column == spec.geometry else column


def _describe(spec: LayerSpec, column: sa.Column) -> str | None:
    parts = [column.doc] if column.doc else []
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column.table.name
        parts.append(f"id of a row of {target}")
    if column.name == spec.geometry:
        parts.append("the layer's geometry")
    return "; ".join(parts) or None


def _writable(spec: LayerSpec) -> list[sa.Column]:
    return [c for c in spec.table.columns if c.name not in MANAGED]


def _required(column: sa.Column) -> bool:
    return not column.nullable and column.default is None and column.server_default is None


def _create_model(spec: LayerSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for column in _writable(spec):
        annotation, extra = _input_type(spec, column)
        description = _describe(spec, column)
        if column.name == "source":
            fields["source"] = (text(200) | None, Field(None, description="where the row came from "
                                                        "(default: user)"))
        elif _required(column):
            fields[_input_name(spec, column.name)] = (annotation, Field(..., description=description, **extra))
        else:
            fields[_input_name(spec, column.name)] = (annotation | None, Field(None, description=description, **extra))
    name = _class_name(spec)
    return create_model(
        f"{name}Create",
        __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLES[spec.name]]}),
        __doc__=f"A new {spec.label} ({spec.name}) row.",
        **fields,
    )


def _update_model(spec: LayerSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for column in _writable(spec):
        annotation, extra = _input_type(spec, column)
        description = _describe(spec, column)
        if column.name == "source":
            annotation = text(200)
        # A field that may not be null is optional to send, but null is refused.
        typ = annotation if not column.nullable else annotation | None
        fields[_input_name(spec, column.name)] = (typ, Field(None, description=description, **extra))
    fields["version"] = (
        int | None,
        Field(None, ge=1, le=INT32_MAX, description="the version you read; or send it as If-Match"),
    )
    example = {k: v for k, v in list(EXAMPLES[spec.name].items())[1:3]}
    return create_model(
        f"{_class_name(spec)}Update",
        __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [example]}),
        __doc__=f"Changes to a {spec.label} ({spec.name}) row: only the fields sent change.",
        **fields,
    )


def _output_type(spec: LayerSpec, column: sa.Column) -> Any:
    kind = column.type
    if column.name in spec.geometry_columns:
        return GeometryOut
    if getattr(kind, "enum_class", None) is not None:
        return str | None
    for sa_type, py in ((sa.Boolean, bool), (sa.Integer, int), (sa.Float, float), (sa.Date, dt.date),
                        (sa.DateTime, Timestamp)):
        if isinstance(kind, sa_type):
            return py | None
    return str | None


def _public_model(spec: LayerSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {"id": (int, ...)}
    for column in spec.table.columns:
        if column.name in spec.pii_columns or column.name == "id":
            continue
        annotation = _output_type(spec, column)
        if column.name in ("created_at", "updated_at"):
            annotation = Timestamp
        elif column.name == "version":
            annotation = int
        elif column.name == "source":
            annotation = str
        fields[_input_name(spec, column.name)] = (annotation, Field(None, description=_describe(spec, column)))
    for join in spec.names:
        fields[join.label] = (str | None, Field(None, description="label joined from the referenced row"))
    if spec.geometry is None:
        fields.pop("geometry", None)
    return create_model(
        f"{_class_name(spec)}Public",
        __config__=ConfigDict(extra="ignore"),
        __doc__=f"A {spec.label} ({spec.name}) row as the API shows it (no personal fields).",
        **fields,
    )


def _class_name(spec: LayerSpec) -> str:
    return "".join(part.capitalize() for part in spec.name.split("_"))


@dataclass(frozen=True)
class ResourceSchemas:
    """The schema family of one registry resource."""

    layer: str
    create: type[BaseModel]
    update: type[BaseModel]
    public: type[BaseModel]
    page: type[BaseModel]


def _page_model(spec: LayerSpec, public: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{_class_name(spec)}Page",
        items=(list[public], ...),
        numberMatched=(int, Field(..., description="rows matching the filters")),
        numberReturned=(int, Field(..., description="rows in this page")),
        links=(list[Link], Field(default_factory=list, description="self, next and prev pages")),
    )


def schemas_for(spec: LayerSpec) -> ResourceSchemas:
    public = _public_model(spec)
    return ResourceSchemas(spec.name, _create_model(spec), _update_model(spec), public,
                           _page_model(spec, public))


SCHEMAS: dict[str, ResourceSchemas] = {name: schemas_for(spec) for name, spec in LAYERS.items()}
