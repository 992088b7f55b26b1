"""Writing analysis results: terminal tables, CSV and XLSX with Chinese headers, JSON and
GeoJSON. All the analyses' file writing lives here, in one place.

- ``table``: rich tables, Chinese headers, coded values shown by their Chinese labels, the
  columns of each table's view;
- ``csv``: one table (default the primary), every column, Chinese headers, UTF-8 with BOM
  so Excel opens it; point geometry as 经度/纬度 columns;
- ``xlsx``: every table on its own sheet plus a 说明 sheet (CRS, thresholds and their
  sources, notes);
- ``json``: metadata and every table as records (English column names and codes, geometry
  as GeoJSON);
- ``geojson``: a FeatureCollection of one table, or of every table with geometry (each
  feature's ``layer`` property names its table), with the metadata as a foreign member.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.result import AnalysisResult
from geo.tabular import write_csv, xlsx_safe_frame, xlsx_text
from geo.errors import ValidationError
from geo.geojson import features, geometry_dicts, json_value
from geo.quantities import column_values, decimal_places, terminal_text
from geo.quantities import number as shown_places

Format = Literal["table", "csv", "json", "geojson", "xlsx"]
FORMATS: tuple[str, ...] = ("table", "csv", "json", "geojson", "xlsx")

_YES_NO = {True: "是", False: "否"}
LONGITUDE, LATITUDE = "经度", "纬度"


def _has_geometry(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame \
        and bool(frame.geometry.notna().any())


def _cell(value: Any, labels: dict[str, str] | None) -> Any:
    """Booleans as 是/否, codes by their Chinese labels, lists joined; numbers pass through
    (rounded afterwards by :func:`geo.quantities.column_values`)."""
    if isinstance(value, (bool, np.bool_)):
        return _YES_NO[bool(value)]
    if labels is not None and isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    return value


def _threshold_value(value: Any) -> Any:
    """A rule's value as tables show it: lists joined, 是/否, numbers without a needless .0."""
    if isinstance(value, tuple):
        return "、".join(map(str, value))
    if isinstance(value, (bool, np.bool_)):
        return _YES_NO[bool(value)]
    return shown_places(value, None)


#: The Chinese header of a database id column ends so (村ID, 单位ID); numbers the analysis
#: gives its own rows (连接线编号) are not ids.
DATABASE_ID_SUFFIX = "ID"


def is_database_id(result: AnalysisResult, column: str) -> bool:
    """Whether ``column`` holds registry ids (its header 村ID, 单位ID ...), which people never read:
    every such column sits beside the name (or code) of what it points at."""
    return result.labels.get(column, "").endswith(DATABASE_ID_SUFFIX)


def readable(result: AnalysisResult, table: str | None = None, *, view: bool = False,
             ids: bool = True) -> pd.DataFrame:
    """A table ready for people: Chinese headers, labelled codes, rounded numbers, 是/否, and
    point geometry as longitude/latitude columns (other geometry is left to GeoJSON).

    Parameters
    ----------
    view
        Only the columns of the table's terminal view.
    ids
        Keep the registry id columns (:func:`is_database_id`); files for people leave them out
        and name villages, units and cadres instead.
    """
    name = table or result.primary
    _check_table(result, name)
    frame = result.tables[name]
    columns = [c for c in frame.columns if not isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    if view and name in result.views:
        columns = [c for c in result.views[name] if c in frame.columns]
    if not ids:
        columns = [c for c in columns if not is_database_id(result, c)]
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        labels = result.values.get(column)
        values = column_values(column, [_cell(v, labels) for v in frame[column]])
        out[result.labels.get(column, column)] = values.to_numpy()
    if not view and _has_geometry(frame) and frame.geometry.geom_type.dropna().eq("Point").all():
        points = frame.geometry
        out[LONGITUDE] = [None if g is None or g.is_empty else round(g.x, 6) for g in points]
        out[LATITUDE] = [None if g is None or g.is_empty else round(g.y, 6) for g in points]
    return out.reset_index(drop=True)


def _tables(result: AnalysisResult, table: str | None) -> list[str]:
    if table is None or table == "all":
        return list(result.tables)
    _check_table(result, table)
    return [table]


def _check_table(result: AnalysisResult, table: str) -> None:
    if table not in result.tables:
        raise ValidationError(f"the {result.name} analysis has no table {table!r}; "
                              f"tables: {', '.join(result.tables)}")


def to_json(result: AnalysisResult, *, table: str | None = None) -> dict:
    """Metadata and tables as JSON-ready records (geometry as GeoJSON geometry objects)."""
    out = result.metadata()
    out["tables"] = {}
    for name in _tables(result, table):
        frame = result.tables[name]
        names = [c for c in frame.columns if not isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
        places = [decimal_places(c) for c in names]
        rows = [{c: json_value(_json_number(v, p)) for c, v, p in zip(names, values, places)}
                for values in frame[names].itertuples(index=False, name=None)]
        if _has_geometry(frame):
            for row, geometry in zip(rows, geometry_dicts(frame.geometry)):
                row["geometry"] = geometry
        out["tables"][name] = rows
    return out


def _json_number(value: Any, places: int | None) -> Any:
    """Numbers of JSON as the tables show them (counts as integers); lists and text as they are."""
    if isinstance(value, (list, tuple)) or places is None:
        return value
    return shown_places(value, places)


def to_geojson(result: AnalysisResult, *, table: str | None = None) -> dict:
    """A FeatureCollection of one table, or of every table with geometry (property ``layer``).

    Raises
    ------
    ValidationError
        When the chosen table has no geometry.
    """
    names = _tables(result, table)
    chosen = [n for n in names if _has_geometry(result.tables[n])]
    if table not in (None, "all") and not chosen:
        raise ValidationError(f"table {table!r} of the {result.name} analysis has no geometry; "
                              f"tables with geometry: {', '.join(n for n in result.tables if _has_geometry(result.tables[n])) or 'none'}")
    collected: list[dict] = []
    for name in chosen:
        frame = result.tables[name]
        frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].copy()
        for column in frame.columns:
            if column != frame.geometry.name and decimal_places(column) is not None \
                    and pd.api.types.is_numeric_dtype(frame[column].dtype):
                frame[column] = column_values(column, frame[column]).to_numpy()
        for feature in features(frame, id_column=None):
            feature["properties"] = {"layer": name, **feature["properties"]}
            collected.append(feature)
    return {"type": "FeatureCollection", "metadata": result.metadata(), "features": collected}


def render_table(result: AnalysisResult, *, table: str | None = None, width: int | None = None) -> str:
    """The result as rich text tables (title, CRS, thresholds, notes, then each table)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 160, force_terminal=False, color_system=None)
    console.print(f"[bold]{escape(result.title)}[/bold]  距离量算坐标系：{escape(result.crs or '—')}")
    for threshold in result.thresholds:
        value = threshold.value
        shown = terminal_text(_threshold_value(value))
        console.print(escape(f"  {threshold.label}：{shown}（{threshold.source}）"))
    for note in result.notes:
        console.print(escape(f"  注：{note}"))
    for name in _tables(result, table):
        frame = readable(result, name, view=True)
        grid = Table(title=escape(f"{result.titles.get(name, name)}（{len(frame)}行）"), show_lines=False)
        for column in frame.columns:
            grid.add_column(escape(str(column)), overflow="fold")
        for values in frame.itertuples(index=False, name=None):
            grid.add_row(*(escape(terminal_text(v)) for v in values))
        console.print(grid)
    return buffer.getvalue()


def to_csv(result: AnalysisResult, *, table: str | None = None) -> str:
    """One table as CSV with Chinese headers (text; write it with a UTF-8 BOM for Excel).

    Raises
    ------
    ValidationError
        When asked for every table at once (CSV holds one).
    """
    if table == "all":
        raise ValidationError("CSV holds one table; pick one with --table (table= over HTTP), or use xlsx or json "
                              "for all of them")
    return write_csv(readable(result, table), lineterminator="\n")


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "表"
    base, n = name, 2
    while name in used:
        name = f"{base[:28]}{n}"
        n += 1
    used.add(name)
    return name


def to_xlsx(result: AnalysisResult, *, table: str | None = None) -> bytes:
    """Every table (or one) on its own sheet, plus a 说明 sheet with CRS, thresholds and notes;
    villages, units and cadres by name, never by registry id."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        about = [("分析", result.title, None), ("距离量算坐标系", result.crs or "—", None)]
        about += [(t.label, _threshold_value(t.value),
                   t.source)
                  for t in result.thresholds]
        about += [("注", note, None) for note in result.notes]
        about.append(("说明", "点位以经纬度（WGS 84）给出；线和面的几何见 GeoJSON 输出", None))
        xlsx_safe_frame(pd.DataFrame(about, columns=["项目", "值", "依据"])).to_excel(
            writer, sheet_name=_sheet_name("说明", used), index=False)
        for name in _tables(result, table):
            xlsx_safe_frame(readable(result, name, ids=False)).to_excel(
                writer, sheet_name=_sheet_name(xlsx_text(result.titles.get(name, name)), used), index=False)
    return buffer.getvalue()


def render(result: AnalysisResult, fmt: str, *, table: str | None = None) -> str | bytes:
    """The result in ``fmt`` (text, or bytes for xlsx).

    Raises
    ------
    ValidationError
        Unknown format, unknown table, or a table the format cannot hold.
    """
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if fmt == "table":
        return render_table(result, table=table)
    if fmt == "csv":
        return to_csv(result, table=table)
    if fmt == "xlsx":
        return to_xlsx(result, table=table)
    data = to_json(result, table=table) if fmt == "json" else to_geojson(result, table=table)
    return json.dumps(data, ensure_ascii=False, indent=None if fmt == "geojson" else 2)


def write(result: AnalysisResult, fmt: str, path: str | Path, *, table: str | None = None) -> Path:
    """Write the result to ``path`` in ``fmt``; return the path. CSV gets a UTF-8 BOM."""
    data = render(result, fmt, table=table)
    target = Path(path)
    if isinstance(data, bytes):
        target.write_bytes(data)
    else:
        target.write_text(data, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    return target
