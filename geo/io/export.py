"""Export a layer, or any analysis result, to GeoPackage, GeoJSON, zipped Shapefile, CSV or XLSX.

What an export holds: the layer's own fields, parents named by name and code (``乡镇``,
``行政村``, ``村代码``, ``帮扶单位`` ...) instead of database ids, and ``来源`` (source, so
demo and synthetic rows still say so). Ids, timestamps and versions stay in the database.
Personal fields (household head, ID number) are left out unless asked for. Geometry is
WGS 84 (EPSG:4326). Every export imports back with :func:`geo.io.import_file`.

Per format:

- **CSV** (UTF-8 with BOM, so Excel shows Chinese) and **XLSX**: Chinese headers
  (:func:`geo.io.fields.label`) and Chinese enum labels; points as 经度/纬度 columns, other
  geometries as a WKT column.
- **GeoJSON** (RFC 7946, 7 decimals, about 1 cm) and **GeoPackage**: English field names
  and values; secondary geometries (a township's seat, a village's boundary) as WKT text.
- **Shapefile**: a zip with ``.shp .shx .dbf .prj .cpg`` (UTF-8), field names shortened to
  DBF's 10 bytes by :data:`geo.io.fields.DBF_NAMES` (rule for other names:
  :func:`dbf_field_names`), the mapping written beside them as ``fields.csv``; a layer with
  points, lines and polygons becomes one Shapefile per kind; a layer without geometry a
  lone ``.dbf``. DBF text holds at most 254 bytes: longer values are cut and reported.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import storage
from geo.errors import ValidationError
from geo.geojson import feature_collection
from geo.io.fields import DBF_NAMES, REFERENCES, label, layer_fields
from geo.layers import LAYERS, NameJoin, get_layer
from geo.scratch import scratch_folder
from geo.tabular import csv_writer

Format = Literal["gpkg", "geojson", "shp", "csv", "xlsx"]
FORMATS: tuple[str, ...] = ("gpkg", "geojson", "shp", "csv", "xlsx")
_SUFFIX_FORMAT = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".zip": "shp", ".shp": "shp",
                  ".csv": "csv", ".xlsx": "xlsx"}
_FORMAT_SUFFIX = {"gpkg": ".gpkg", "geojson": ".geojson", "shp": ".zip", "csv": ".csv", "xlsx": ".xlsx"}
#: GeoJSON coordinate decimals in exports: 1e-7 degrees is about 1 cm.
EXPORT_PRECISION = 7
DBF_TEXT_BYTES = 254
#: Excel's sheet size less the header row.
XLSX_MAX_ROWS = 1_048_575


@dataclass
class ExportResult:
    """What an export wrote."""

    path: str
    format: str
    rows: int
    columns: list[str]
    layer: str | None = None
    field_names: dict[str, str] = field(default_factory=dict)  # shapefile: field -> DBF name
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": self.path, "format": self.format, "layer": self.layer, "rows": self.rows,
                "columns": self.columns, "field_names": self.field_names, "warnings": self.warnings}


def suffix_for(format: str) -> str:
    """The file suffix of an export format (``shp`` -> ``.zip``)."""
    return _FORMAT_SUFFIX[format_for("", format)]


def format_for(path: str | os.PathLike, format: str | None = None) -> str:
    """The export format: ``format`` if given, else from the file's suffix.

    Raises
    ------
    ValidationError
        Unknown format or suffix.
    """
    if format is not None:
        key = format.lower().lstrip(".")
        key = {"shapefile": "shp", "json": "geojson", "zip": "shp"}.get(key, key)
        if key not in FORMATS:
            raise ValidationError(f"unknown export format {format!r}; use one of: {', '.join(FORMATS)}")
        return key
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_FORMAT:
        raise ValidationError(
            f"cannot tell the format of {Path(path).name!r}; end the name with .gpkg, .geojson, .zip (Shapefile), "
            ".csv or .xlsx, or give --format"
        )
    return _SUFFIX_FORMAT[suffix]


# --------------------------------------------------------------------------------------
# A layer as exported
# --------------------------------------------------------------------------------------


def export_frame(bind: storage.Bind, layer: str, *, township: int | str | Sequence[int | str] | None = None,
                 include_pii: bool = False) -> gpd.GeoDataFrame:
    """A layer as it is exported: own fields, parents by name and code, ``source``; no ids.

    Parameters
    ----------
    bind
        Engine or connection.
    layer
        Layer name.
    township
        Only rows of this township (id, code or name), or of any of a sequence of them.
    include_pii
        Keep the household head's name and ID number (only for users allowed to see them).
    """
    spec = get_layer(layer)
    joins = _reference_joins(layer)
    frame = storage.read_layer(bind, layer, township=township, include_pii=include_pii,
                               names=[join for join in joins.values() if join is not None])
    out = pd.DataFrame(index=frame.index)
    for name in layer_fields(layer):
        if name in joins:
            out[name] = frame[name] if joins[name] is not None else None
        elif name in frame.columns and name != spec.geometry:
            out[name] = frame[name]
    out["source"] = frame["source"]
    for name in [c for c in out.columns if out[c].isna().all() and c in _OPTIONAL_REFERENCE_FIELDS]:
        out = out.drop(columns=[name])
    return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=storage.CRS)


#: Reference fields left out of an export when no row has a value (codes that were never given).
_OPTIONAL_REFERENCE_FIELDS = {"township_code", "village_code", "cadre_code", "cadre_unit_name", "county_code",
                               "county_name", "parent_code", "parent_name"}


#: How a reference field names its parent: the foreign keys to follow from the reference's own
#: column and the parent's column to take; None: the field stays empty in an export (a
#: village's township goes by name only: its code would say again what the village says).
_REFERENCE_FIELD_JOINS: dict[str, dict[str, tuple[tuple[str, ...], str] | None]] = {
    "areas": {"county_code": ((), "code"), "county_name": ((), "name"), "parent_code": ((), "code"),
              "parent_name": ((), "name")},
    "townships": {"township_code": ((), "code"), "township_name": ((), "name"),
                  "county_code": (("county_id",), "code"), "county_name": (("county_id",), "name")},
    "villages": {"village_code": ((), "code"), "village_name": ((), "name"),
                 "township_name": (("township_id",), "name"), "township_code": None},
    "settlements": {"settlement_name": ((), "name")},
    "cadres": {"cadre_code": ((), "code"), "cadre_name": ((), "name"), "cadre_unit_name": (("unit_id",), "name")},
    "units": {"unit_name": ((), "name"), "leader_unit_name": ((), "name")},
}


def _reference_joins(layer: str) -> dict[str, NameJoin | None]:
    """The layer's reference fields (parents by name and code) as joins of the layer's read."""
    out: dict[str, NameJoin | None] = {}
    for ref in REFERENCES.get(layer, ()):
        for name in ref.fields:
            how = _REFERENCE_FIELD_JOINS[ref.parent][name]
            out.setdefault(name, None if how is None else NameJoin(name, (ref.column, *how[0]), how[1]))
    return out


def export_layer(bind: storage.Bind, layer: str, path: str | os.PathLike, *, format: str | None = None,
                 township: int | str | Sequence[int | str] | None = None, include_pii: bool = False) -> ExportResult:
    """Export a layer to a file (format from ``format`` or the file's suffix).

    Raises
    ------
    ValidationError
        Unknown format; a layer with no rows is still written (headers only).
    NotFound
        Unknown layer or township.
    """
    fmt = format_for(path, format)
    frame = export_frame(bind, layer, township=township, include_pii=include_pii)
    return write_frame(frame, path, fmt, layer=layer)


# --------------------------------------------------------------------------------------
# Writing any frame
# --------------------------------------------------------------------------------------


def _enum_labels(layer: str | None) -> dict[str, dict[str, str]]:
    if layer is None or layer not in LAYERS:
        return {}
    out = {}
    for column in get_layer(layer).table.columns:
        enum_cls = getattr(column.type, "enum_class", None)
        if enum_cls is not None and hasattr(enum_cls, "labels"):
            out[column.name] = enum_cls.labels()
    return out


def _plain(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat() if isinstance(value, dt.datetime) and (value.hour or value.minute or value.second) \
            else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _attributes(frame: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Attribute columns with plain values: enums as values, dates as ISO text, secondary
    geometries as WKT, missing values as None."""
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame else None
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        if name == geometry_name:
            continue
        series = frame[name]
        if isinstance(series.dtype, gpd.array.GeometryDtype):
            out[name] = [None if g is None or g.is_empty else g.wkt for g in series]
            continue
        if series.dtype == bool or str(series.dtype) == "boolean":
            out[name] = series.astype("boolean")
            continue
        if pd.api.types.is_numeric_dtype(series.dtype):
            out[name] = series
            continue
        values = [_plain(v) for v in series]
        values = [None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))) else v for v in values]
        if values and all(isinstance(v, bool) or v is None for v in values) and any(v is not None for v in values):
            out[name] = pd.array(values, dtype="boolean")
        else:
            out[name] = pd.Series(values, index=frame.index, dtype=object)
    return out


def _geometries(frame) -> np.ndarray:
    if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame:
        if frame.crs is not None and frame.crs.to_epsg() not in (4326, 4490):
            frame = frame.to_crs(4326)
        return np.asarray(frame.geometry.values, dtype=object)
    return np.full(len(frame), None, dtype=object)


def write_frame(frame: pd.DataFrame | gpd.GeoDataFrame, path: str | os.PathLike, format: str | None = None, *,
                layer: str | None = None, labels: Mapping[str, str] | None = None,
                headers: Literal["zh", "en"] | None = None, name: str | None = None) -> ExportResult:
    """Write a frame (a layer export or an analysis result) to a file.

    Parameters
    ----------
    frame
        DataFrame or GeoDataFrame (reprojected to EPSG:4326 if in another CRS).
    path
        Output file; for Shapefiles a ``.zip``.
    format
        ``gpkg``, ``geojson``, ``shp``, ``csv`` or ``xlsx``; default from the suffix.
    layer
        The layer the frame holds, for its Chinese labels and enum labels (``None`` for an
        analysis result).
    labels
        ``{column: Chinese header}`` overriding or adding to the layer's labels.
    headers
        ``zh`` (Chinese headers and enum labels) or ``en`` (field names and values);
        default ``zh`` for CSV and XLSX, ``en`` for the GIS formats.
    name
        Layer / sheet name inside the file (default: the layer, or the file's stem).

    Raises
    ------
    ValidationError
        Unknown format.
    """
    fmt = format_for(path, format)
    path = Path(path)
    headers = headers or ("zh" if fmt in ("csv", "xlsx") else "en")
    attributes = _attributes(frame)
    geoms = _geometries(frame)
    names = {c: (dict(labels or {}).get(c) or (label(layer, c) if layer else c)) for c in attributes.columns}
    name = name or layer or path.stem
    result = ExportResult(path=str(path), format=fmt, rows=len(frame), columns=list(attributes.columns), layer=layer)
    if headers == "zh":
        for column, mapping in _enum_labels(layer).items():
            if column in attributes:
                attributes[column] = attributes[column].map(lambda v, m=mapping: m.get(v, v) if v is not None else None)
    writer = {"csv": _write_table, "xlsx": _write_table, "geojson": _write_geojson, "gpkg": _write_gpkg,
              "shp": _write_shapefile}[fmt]
    writer(attributes, geoms, path, fmt=fmt, names=names if headers == "zh" else {c: c for c in attributes.columns},
           layer=layer, title=name, result=result, zh=headers == "zh")
    return result


def _table_geometry_columns(geoms: np.ndarray, layer: str | None) -> dict[str, list]:
    present = ~shapely.is_missing(geoms)
    if not present.any():
        if layer is not None and LAYERS.get(layer) is not None and LAYERS[layer].geometry is not None:
            kind = LAYERS[layer].geometry_kind
            return {"lon": [None] * len(geoms), "lat": [None] * len(geoms)} if kind == "point" else {"wkt": [None] * len(geoms)}
        return {}
    kinds = set(shapely.get_type_id(geoms[present]).tolist())
    if kinds == {0}:  # points only
        xs = np.where(present, shapely.get_x(np.where(present, geoms, None)), np.nan)
        ys = np.where(present, shapely.get_y(np.where(present, geoms, None)), np.nan)
        return {"lon": [None if np.isnan(v) else round(float(v), 7) for v in xs],
                "lat": [None if np.isnan(v) else round(float(v), 7) for v in ys]}
    return {"wkt": [None if g is None else shapely.to_wkt(g, rounding_precision=7) for g in geoms]}


def _write_table(attributes: pd.DataFrame, geoms: np.ndarray, path: Path, *, fmt: str, names: dict[str, str],
                 layer: str | None, title: str, result: ExportResult, zh: bool) -> None:
    table = attributes.copy()
    for column, values in _table_geometry_columns(geoms, layer).items():
        table[column] = values
        names[column] = label(layer or "", column) if zh else column
    header = [names.get(c, c) for c in table.columns]
    if len(set(header)) != len(header):
        raise ValidationError(f"two columns would get the same header in {path.name}: "
                              f"{[h for h in header if header.count(h) > 1][0]!r}; pass labels= to tell them apart")
    result.columns = header
    if fmt == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv_writer(handle)
            writer.writerow(header)
            for row in table.itertuples(index=False, name=None):
                writer.writerow(["" if _missing(v) else _csv_cell(v) for v in row])
        return
    if len(table) > XLSX_MAX_ROWS:
        raise ValidationError(f"{len(table):,} rows do not fit in an XLSX sheet (at most {XLSX_MAX_ROWS:,}); "
                              "export CSV or GeoPackage instead")
    # GDAL's XLSX writer: several times faster than openpyxl's (pure Python) on large layers
    data = pd.DataFrame({h: [None if _missing(v) else _cell_value(v) for v in table[c]]
                         for h, c in zip(header, table.columns)})
    for column in data.columns:
        values = [v for v in data[column] if v is not None]
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            data[column] = pd.to_numeric(data[column])
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(data, path, driver="XLSX", layer=_sheet_title(title, layer))


def _sheet_title(title: str, layer: str | None) -> str:
    text = LAYERS[layer].label if layer in LAYERS else title
    for ch in "[]:*?/\\":
        text = text.replace(ch, "_")
    return text[:31] or "Sheet1"


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _cell_text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def _csv_cell(value):
    """A cell for :func:`geo.tabular.csv_writer`: numbers stay numbers (so ``-3`` is not taken
    for a formula), everything else is text as :func:`_cell_text` writes it."""
    if isinstance(value, np.generic) and not isinstance(value, np.bool_):
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else value
    return _cell_text(value)


def _cell_value(value):
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, np.generic):
        return value.item()
    return value


def _write_geojson(attributes: pd.DataFrame, geoms: np.ndarray, path: Path, *, fmt: str, names: dict[str, str],
                   layer: str | None, title: str, result: ExportResult, zh: bool) -> None:
    frame = gpd.GeoDataFrame(attributes.rename(columns=names), geometry=list(geoms), crs=4326)
    for column in frame.columns:
        if str(frame[column].dtype) == "boolean":
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    collection = feature_collection(frame, id_column=None, precision=EXPORT_PRECISION)
    collection = {"type": "FeatureCollection", "name": title, **{k: v for k, v in collection.items() if k != "type"}}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(collection, handle, ensure_ascii=False)
        handle.write("\n")


def _write_gpkg(attributes: pd.DataFrame, geoms: np.ndarray, path: Path, *, fmt: str, names: dict[str, str],
                layer: str | None, title: str, result: ExportResult, zh: bool) -> None:
    if path.exists():
        path.unlink()
    data = attributes.rename(columns=names)
    if shapely.is_missing(geoms).all() and (layer is None or LAYERS.get(layer) is None or LAYERS[layer].geometry is None):
        pyogrio.write_dataframe(data, path, layer=title, driver="GPKG")
        return
    frame = gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)
    pyogrio.write_dataframe(frame, path, layer=title, driver="GPKG")


def dbf_field_names(columns: list[str]) -> dict[str, str]:
    """Column -> DBF field name of at most 10 bytes (UTF-8), unique within the file.

    Known fields use :data:`geo.io.fields.DBF_NAMES`; a name that already fits is kept;
    any other is cut to 10 bytes (whole characters) and, if that repeats a name already
    taken, its end replaced by ``_1``, ``_2`` ...
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        candidate = DBF_NAMES.get(column) or column
        if len(candidate.encode("utf-8")) > 10:
            candidate = _cut(candidate, 10)
        base, number = candidate, 1
        while candidate.lower() in taken:
            suffix = f"_{number}"
            candidate = _cut(base, 10 - len(suffix)) + suffix
            number += 1
        taken.add(candidate.lower())
        out[column] = candidate
    return out


def _cut(text: str, limit: int) -> str:
    out = ""
    for ch in text:
        if len((out + ch).encode("utf-8")) > limit:
            break
        out += ch
    return out


_FAMILIES = {0: "point", 4: "point", 1: "line", 5: "line", 3: "polygon", 6: "polygon", 2: "line"}


def _write_shapefile(attributes: pd.DataFrame, geoms: np.ndarray, path: Path, *, fmt: str, names: dict[str, str],
                     layer: str | None, title: str, result: ExportResult, zh: bool) -> None:
    if path.suffix.lower() == ".shp":
        path = path.with_suffix(".zip")
        result.path = str(path)
    short = dbf_field_names(list(attributes.columns))
    result.field_names = short
    data = attributes.rename(columns=short)
    for column in data.columns:
        if data[column].dtype == object:
            long = data[column].map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > DBF_TEXT_BYTES)
            if long.any():
                result.warnings.append(f"{int(long.sum())} value(s) of {column} are longer than DBF's {DBF_TEXT_BYTES} "
                                       "bytes and were cut; use GeoPackage to keep them whole")
                data[column] = data[column].map(lambda v: _cut(v, DBF_TEXT_BYTES) if isinstance(v, str) else v)
    stem = _safe_stem(title)
    present = ~shapely.is_missing(geoms)
    families = sorted({_FAMILIES.get(int(t), "other") for t in shapely.get_type_id(geoms[present])}) if present.any() else []
    spatial = bool(families) or (layer in LAYERS and LAYERS[layer].geometry is not None)
    with scratch_folder("export") as folder_path:
        if not spatial:
            pyogrio.write_dataframe(data, folder_path / f"{stem}.dbf", driver="ESRI Shapefile", encoding="UTF-8")
        elif len(families) <= 1:
            frame = gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)
            pyogrio.write_dataframe(frame, folder_path / f"{stem}.shp", driver="ESRI Shapefile", encoding="UTF-8")
        else:
            kinds = np.array([_FAMILIES.get(int(t), "other") if p else None
                              for t, p in zip(shapely.get_type_id(geoms), present)], dtype=object)
            nulls = ~present
            if nulls.any():
                result.warnings.append(f"{int(nulls.sum())} row(s) without geometry are left out of the "
                                       "Shapefiles of a mixed layer")
            for family in families:
                keep = kinds == family
                frame = gpd.GeoDataFrame(data.loc[keep].reset_index(drop=True), geometry=list(geoms[keep]), crs=4326)
                pyogrio.write_dataframe(frame, folder_path / f"{stem}_{family}.shp", driver="ESRI Shapefile",
                                        encoding="UTF-8")
            result.warnings.append(f"points, lines and polygons were written as {len(families)} Shapefiles "
                                   f"({', '.join(f'{stem}_{f}' for f in families)}); import the zip to read them together")
        with open(folder_path / "fields.csv", "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv_writer(handle)
            writer.writerow(["dbf_field", "field", "label"])
            for column, dbf in short.items():
                writer.writerow([dbf, column, label(layer or "", column) if layer else column])
        if path.exists():
            path.unlink()
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(folder_path.iterdir()):
                archive.write(file, arcname=file.name)


def _safe_stem(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)
    return cleaned or "layer"
