"""What every pipeline shares: the import's context and writing one chunk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo.io.fields import COORDINATE_FIELDS
from geo.io.importer.placement import Placement
from geo.io.importer.report import ImportReport, Progress
from geo.io.importer.writer import Writer
from geo.io.validate import combine
from geo.layers import get_layer


@dataclass
class Context:
    """One import's state, passed down each pipeline."""

    writer: Writer
    report: ImportReport
    layer: str
    name: str
    option: CRS | str | None
    mapping: dict[str, str]
    progress: Progress | None
    chunk_rows: int
    year: int | None


def write_chunk(ctx: Context, raw: pd.DataFrame, geoms: gpd.GeoSeries | None, why: pd.Series,
                rows: Sequence[int], placement: Placement) -> None:
    """Coordinates of one chunk to WGS 84, then check and write it."""
    frame = raw.drop(columns=[c for c in COORDINATE_FIELDS if c in raw.columns]).reset_index(drop=True)
    why = why.reset_index(drop=True)
    spec = get_layer(ctx.layer)
    if ctx.year is not None and "year" in spec.table.c and "year" not in frame.columns:
        frame["year"] = ctx.year  # --year fills the year of a table that has no 年度 column
    if geoms is not None and spec.geometry is not None:
        geoms = geoms.reset_index(drop=True)
        placed, outside = placement.place(geoms, rows)
        frame["geometry"] = placed
        why = combine([why, outside], frame.index)
    elif geoms is not None and geoms.notna().any() and spec.geometry is None:
        ctx.report.warn(f"the {ctx.layer} layer has no geometry; the file's geometries were ignored")
    bad = why.notna().to_numpy()
    for i in np.flatnonzero(bad):
        ctx.report.refuse(rows[i], why.iat[i], layer=ctx.layer)
    keep = ~bad
    if keep.any():
        # written in the background while the pipeline reads the next chunk (see Writer)
        ctx.writer.write(ctx.layer, frame.loc[keep], [rows[i] for i in np.flatnonzero(keep)], later=True)
