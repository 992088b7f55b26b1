"""登记簿: browse, search and change the registry's records, with the version check.

Every layer the visitor may read, in their townships: a page of rows (searched by code, name or
village / township name), one record with every field, and for planners and administrators a
form that changes it. The form carries the version it showed: a change someone made meanwhile
is refused (reload and change again), as ``PATCH /api/registry`` does. Household heads' names
and ID numbers never appear in the lists or the form; roles that may see them open them one
household at a time, and each such view is audited (:mod:`geo.services.personal`).
Roles that may both see and change them change a head's name and ID number on that same
audited view. A point's position is changed as longitude and latitude (CGCS2000 / WGS 84
degrees), a line's or an area's as GeoJSON; whole files still go through 数据导入.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any
from urllib.parse import urlencode

import pydantic
import shapely.geometry
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, Principal, SettingsDep, check_layer
from api.pages.render import render
from api.pages.session import FormUser, PageUser, token_for
from api.params import RowId
from api.policy import Permission
from api.schemas.registry import SCHEMAS
from geo.io.fields import label
from geo.layers import LAYERS, get_layer
from geo.services import personal, registry

router = APIRouter()

PAGE_ROWS = 50
#: Columns a list shows at most (the record page shows all).
LIST_COLUMNS = 9
#: Fields the record form never offers as text: geometry (its own fields below), personal fields
#: (on the audited personal view), bookkeeping.
NOT_EDITED = {"geometry", "boundary", "version", "source", "head_name", "id_number"}
HIDDEN = {"geometry", "boundary"}
PERSONAL = ("head_name", "id_number")


def _layer(user: Principal, layer: str) -> str:
    if layer not in LAYERS:
        raise HTTPException(404, f"no registry layer {layer!r}; layers: {', '.join(LAYERS)}")
    check_layer(user, layer)
    return layer


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _columns(layer: str, frame_columns) -> list[str]:
    shown = [c for c in frame_columns if c not in HIDDEN and c not in ("created_at", "updated_at", "source")]
    names = [j.label for j in get_layer(layer).names]
    first = [c for c in ("id", "code", "name", *names) if c in shown]
    return (first + [c for c in shown if c not in first])[:LIST_COLUMNS]


def _head(layer: str, column: str) -> str:
    return {"id": "编号", "version": "版本", "village_name": "村", "township_name": "乡镇", "unit_name": "单位",
            "settlement_name": "自然村", "cadre_name": "帮扶责任人", "leader_unit_name": "牵头单位",
            "created_at": "创建时间", "updated_at": "修改时间", "source": "来源"}.get(column) or label(layer, column)


@router.get("/registry", response_class=HTMLResponse)
def registry_index(request: Request, user: PageUser) -> HTMLResponse:
    """The layers the visitor may read."""
    layers = [(name, spec.label) for name, spec in LAYERS.items() if user.can_read_layer(name)]
    return render(request, "registry.html", user, layers=layers, layer=None)


@router.get("/registry/{layer}", response_class=HTMLResponse)
def registry_list(request: Request, layer: str, user: PageUser, engine: EngineDep,
                  q: Annotated[str, Query(max_length=100)] = "",
                  offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> HTMLResponse:
    """A page of a layer's rows in the visitor's townships, optionally searched."""
    layer = _layer(user, layer)
    found = registry.search_page(engine, layer, township=user.township_filter(), limit=PAGE_ROWS, offset=offset,
                                 search=q)
    columns = _columns(layer, found.frame.columns)
    rows = [(int(r["id"]), [_text(r[c]) for c in columns]) for r in found.frame.to_dict("records")]
    more = offset + PAGE_ROWS < found.matched

    def link(at: int) -> str:
        return f"/registry/{layer}?{urlencode({'q': q, 'offset': at} if q else {'offset': at})}"

    return render(request, "registry.html", user, layers=[], layer=layer, layer_label=LAYERS[layer].label,
                  heads=[_head(layer, c) for c in columns], rows=rows, matched=found.matched, q=q,
                  first=offset + 1 if rows else 0, last=offset + len(rows),
                  previous=link(max(0, offset - PAGE_ROWS)) if offset else None, next=link(offset + PAGE_ROWS) if more
                  else None)


def _record_page(request, engine, settings, user: Principal, layer: str, row_id: int, **notice) -> HTMLResponse:
    record = registry.read(engine, layer, row_id, township=user.township_filter())
    editable = user.can(Permission.WRITE)
    fields = SCHEMAS[layer].update.model_fields
    items = [{"name": c, "label": _head(layer, c), "value": _text(v),
              "raw": "" if v is None else ("true" if v is True else "false" if v is False else str(v)),
              "edit": editable and c in fields and c not in NOT_EDITED,
              "boolean": fields[c].annotation in (bool, bool | None) if c in fields else False}
             for c, v in record.items() if c not in HIDDEN]
    return render(request, "registry.html", user, layers=[], layer=layer, layer_label=LAYERS[layer].label,
                  record=record, items=items, editable=editable, csrf_token=token_for(request, settings),
                  place=_place(layer, record.get("geometry")) if "geometry" in fields else None,
                  may_see_names=layer == "households" and user.can_see_names(), **notice)


def _place(layer: str, geometry: Any) -> dict[str, str]:
    """The record's position as the form shows it: a point as longitude and latitude, any other
    geometry as GeoJSON text."""
    if get_layer(layer).geometry_kind == "point":
        empty = geometry is None or geometry.is_empty
        return {"kind": "point", "lon": "" if empty else f"{geometry.x:.6f}", "lat": "" if empty else f"{geometry.y:.6f}"}
    text = "" if geometry is None or geometry.is_empty else json.dumps(
        shapely.geometry.mapping(geometry), ensure_ascii=False)
    return {"kind": get_layer(layer).geometry_kind or "any", "geojson": text}


def _place_change(form, layer: str) -> dict[str, Any]:
    """``{"geometry": GeoJSON}`` when the form's position differs from the one it showed."""
    if "lon" in form and "was_lon" in form:
        shown = (str(form["was_lon"]), str(form["was_lat"]))
        new = (str(form["lon"]).strip(), str(form["lat"]).strip())
        if new == shown:
            return {}
        try:
            lon, lat = float(new[0]), float(new[1])
        except ValueError:
            raise HTTPException(422, f"经度、纬度 (lon, lat) = {new[0]!r}, {new[1]!r}: 请填十进制度数，"
                                     "例如 105.19 和 37.51") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise HTTPException(422, f"经度、纬度 (lon, lat) = {lon}, {lat}: 经度在 -180 到 180 之间，"
                                     "纬度在 -90 到 90 之间（先经度后纬度）")
        return {"geometry": {"type": "Point", "coordinates": [lon, lat]}}
    if "geojson" in form and "was_geojson" in form:
        new = str(form["geojson"]).strip()
        if new == str(form["was_geojson"]).strip():
            return {}
        try:
            return {"geometry": json.loads(new)}
        except json.JSONDecodeError as exc:
            raise HTTPException(422, f"位置 (geometry): 不是有效的 GeoJSON（第 {exc.lineno} 行第 {exc.colno} 列："
                                     f"{exc.msg}）；请粘贴一个几何对象，如 "
                                     '{"type": "LineString", "coordinates": [[105.1, 37.5], [105.2, 37.5]]}') from None
    return {}


@router.get("/registry/{layer}/{row_id}", response_class=HTMLResponse)
def registry_record(request: Request, layer: str, row_id: RowId, user: PageUser, engine: EngineDep,
                    settings: SettingsDep) -> HTMLResponse:
    """One record with every field; the change form for those who edit the registry."""
    return _record_page(request, engine, settings, user, _layer(user, layer), row_id)


@router.post("/registry/{layer}/{row_id}", response_class=HTMLResponse)
async def change_record(request: Request, layer: str, row_id: RowId, user: FormUser, engine: EngineDep,
                        settings: SettingsDep, version: Annotated[int, Form(ge=1, le=2**31 - 1)]) -> HTMLResponse:
    """Change the fields whose text differs from what the form showed, if the record is still at
    the version shown (the API's ``PATCH`` with ``If-Match``)."""
    layer = _layer(user, layer)
    if not user.can(Permission.WRITE):
        raise HTTPException(403, f"your role ({user.role.value}) may not change the registry; planners and "
                                 "administrators do")
    form = await request.form()
    fields = SCHEMAS[layer].update.model_fields
    changes: dict[str, Any] = {}
    for name in fields:
        if name in NOT_EDITED or name not in form or f"was_{name}" not in form:
            continue
        new, old = str(form[name]).strip(), str(form[f"was_{name}"])
        if new != old:
            changes[name] = new if new != "" else None
    if "geometry" in fields:
        changes.update(_place_change(form, layer))
    try:
        checked = SCHEMAS[layer].update.model_validate(changes).model_dump(include=set(changes))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = first["loc"][0] if first["loc"] else ""
        raise HTTPException(422, f"{_head(layer, str(where))} ({where}) = {changes.get(where)!r}: {first['msg']}"
                            ) from None
    saved = registry.update(engine, layer, row_id, checked, version=version, actor=user.actor,
                            township=user.write_scope) if checked else None
    return _record_page(request, engine, settings, user, layer, row_id, saved=saved, changed=sorted(checked))


@router.get("/registry/households/{row_id}/personal", response_class=HTMLResponse)
def household_personal(request: Request, row_id: RowId, user: PageUser, engine: EngineDep,
                       settings: SettingsDep) -> HTMLResponse:
    """A household head's name and ID number, for roles that may see them; audited."""
    if not user.can_see_names():
        raise HTTPException(403, "your role may not see household heads' names or ID numbers")
    return _personal_page(request, engine, settings, user, row_id)


def _personal_page(request, engine, settings, user: Principal, row_id: int, **notice) -> HTMLResponse:
    shown = personal.household_personal(engine, row_id, township=user.township_filter(), actor=user.actor)
    return render(request, "registry.html", user, layers=[], layer="households", layer_label=LAYERS["households"].label,
                  personal=shown, row_id=row_id, editable=user.can(Permission.WRITE),
                  csrf_token=token_for(request, settings), **notice)


@router.post("/registry/households/{row_id}/personal", response_class=HTMLResponse)
async def change_personal(request: Request, row_id: RowId, user: FormUser, engine: EngineDep, settings: SettingsDep,
                          version: Annotated[int, Form(ge=1, le=2**31 - 1)]) -> HTMLResponse:
    """Change a head's name or ID number, if the household is still at the version shown; the
    change is audited (the log keeps that the fields changed, never their values)."""
    if not (user.can_see_names() and user.can(Permission.WRITE)):
        raise HTTPException(403, "your role may not change household heads' names or ID numbers")
    form = await request.form()
    changes = {name: (str(form[name]).strip() or None) for name in PERSONAL
               if name in form and f"was_{name}" in form and str(form[name]).strip() != str(form[f"was_{name}"])}
    try:
        checked = SCHEMAS["households"].update.model_validate(changes).model_dump(include=set(changes))
    except pydantic.ValidationError as exc:
        where = str(exc.errors()[0]["loc"][0])
        raise HTTPException(422, f"{_head('households', where)} ({where}): "
                                 + ("身份证号应为 18 位（末位可为 X）或 15 位数字" if where == "id_number"
                                    else exc.errors()[0]["msg"])) from None
    saved = registry.update(engine, "households", row_id, checked, version=version, actor=user.actor,
                            township=user.write_scope) if checked else None
    return _personal_page(request, engine, settings, user, row_id, saved=saved,
                          changed=[_head("households", name) for name in sorted(checked)])
