"""The pipeline of GIS files: Shapefile, GeoJSON, GeoPackage, KML (features in chunks)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from geo.errors import ValidationError
from geo.io import sources
from geo.io.fields import layer_fields
from geo.io.importer.context import Context, write_chunk
from geo.io.importer.geometry import TableGeometry
from geo.io.importer.headers import map_columns
from geo.io.importer.placement import Placement
from geo.io.importer.report import ImportReport
from geo.layers import get_layer


def _vector_parts(path: Path, fmt: str, source_layer: str | None, layer: str, encoding: str | None,
                  report: ImportReport) -> list[sources.VectorPart]:
    if fmt == "dbf":
        codec, how = sources.shapefile_encoding(path.with_suffix(".shp"), encoding)
        part = sources.VectorPart(path, None, "shp", codec=codec, encoding_note=how)
        part.load_info()
        report.encoding = f"{sources.encoding_label(codec)} ({how})"
        return [part]
    if fmt == "shp":
        shapefiles = sources.shapefiles_in(path) if path.is_dir() else [path]
        if not shapefiles:
            raise ValidationError(f"{report.file}: the folder holds no .shp file")
        if source_layer is not None:
            chosen = [p for p in shapefiles if p.stem == source_layer or p.name == source_layer]
            if not chosen:
                raise ValidationError(f"{report.file} has no Shapefile {source_layer!r}; it has: "
                                      + ", ".join(p.stem for p in shapefiles))
            shapefiles = chosen
        parts = []
        for shp in shapefiles:
            for sidecar in (".shx", ".dbf"):
                if not any(shp.with_suffix(s).exists() for s in (sidecar, sidecar.upper())):
                    raise ValidationError(f"{shp.name} has no {shp.stem}{sidecar} beside it; a Shapefile needs its "
                                          ".shp, .shx and .dbf files together")
            codec, how = sources.shapefile_encoding(shp, encoding)
            part = sources.VectorPart(shp, None, "shp", codec=codec, encoding_note=how)
            part.load_info()
            parts.append(part)
        if len(parts) > 1:
            fields = {tuple(p.fields) for p in parts}
            if len(fields) > 1:
                raise ValidationError(
                    f"{report.file} holds {len(parts)} Shapefiles with different fields ("
                    + ", ".join(p.path.stem for p in parts) + "); choose one with --source-layer")
            report.warn(f"{len(parts)} Shapefiles with the same fields were read as one layer: "
                        + ", ".join(p.path.stem for p in parts))
        report.encoding = f"{sources.encoding_label(parts[0].codec)} ({parts[0].encoding_note})"
        return parts
    if fmt in ("geojson", "kml"):
        codec, detected = sources.text_encoding(path, encoding if fmt == "geojson" else None) if path.suffix.lower() != ".kmz" else ("utf-8", False)
        if codec != "utf-8":
            raise ValidationError(f"{report.file} is not UTF-8 text; GeoJSON and KML must be UTF-8 (save it as UTF-8)")
    layers = sources.list_layers(path)
    chosen = sources.pick_layer(path, layers, source_layer, layer)
    report.source_layer = chosen if len(layers) > 1 or source_layer else report.source_layer
    part = sources.VectorPart(path, chosen, fmt)
    part.load_info()
    return [part]


def import_vectors(ctx: Context, path: Path, fmt: str, *, source_layer: str | None, encoding: str | None) -> None:
    report = ctx.report
    report.row_numbers = "feature"
    parts = _vector_parts(path, fmt, source_layer, ctx.layer, encoding, report)
    total = sum(p.count or 0 for p in parts) or None
    if all(p.count == 0 for p in parts):
        raise ValidationError(f"{ctx.name}: the file holds no features")
    columns = map_columns(parts[0].fields, ctx.layer, ctx.mapping, source=ctx.name)
    report.columns = {columns.headers[i]: f for i, f in columns.fields.items()}
    report.ignored_columns = columns.ignored
    mapped = set(columns.fields.values())
    spec = get_layer(ctx.layer)
    if spec.geometry is None and mapped.isdisjoint(layer_fields(ctx.layer)):
        raise ValidationError(f"{ctx.name}: no column names a field of {ctx.layer}; columns: "
                              f"{', '.join(columns.headers)} (map them with --map column=field)")
    placement = Placement(file_crs=parts[0].crs, option=ctx.option, source=ctx.name, report=report)
    table_geometry = TableGeometry(mapped, crs=placement.crs if isinstance(ctx.option, CRS) else None,
                                    web=placement.web, layer=ctx.layer, source=ctx.name, report=report)
    done = 0
    offset = 0
    for part in parts:
        for numbers, frame in part.chunks(ctx.chunk_rows):
            rows = [int(n) + offset for n in numbers]
            raw = pd.DataFrame({f: frame[columns.headers[i]] for i, f in columns.fields.items()}, index=frame.index)
            geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame else None
            if (geoms is None or geoms.isna().all()) and table_geometry.kind is not None:
                geoms, why = table_geometry.build(raw)
                geoms = geoms.set_crs(placement.crs, allow_override=True) if placement.crs is not None else geoms
            else:
                why = pd.Series([None] * len(frame), index=frame.index, dtype=object)
            write_chunk(ctx, raw, geoms, why, rows, placement)
            done += len(frame)
            report.read += len(frame)
            if ctx.progress:
                ctx.progress(done, total)
        offset += part.count or 0
