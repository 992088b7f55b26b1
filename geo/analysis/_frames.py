"""Input checks and small frame helpers shared by the analysis modules (private)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.enums import LabeledEnum
from geo.errors import ValidationError

#: 建档立卡户: every household status except non_poor.
REGISTERED_POOR_STATUSES = ("registered", "exited", "planned_exit", "returned")
#: Households not yet out of poverty (their members are the poor population).
NOT_YET_OUT_STATUSES = ("registered", "planned_exit", "returned")
#: The label of a district-wide summary row.
DISTRICT = "全区"


def require(frame: pd.DataFrame | None, layer: str, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` if it has ``columns``.

    Raises
    ------
    ValidationError
        Naming the layer, the missing columns and what to do.
    """
    if frame is None:
        raise ValidationError(f"the {layer} layer is needed for this analysis; pass a frame (it may be empty)")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"the {layer} frame lacks column(s) {', '.join(missing)}; read it with "
            f"geo.storage.read_layer(bind, {layer!r}) or add them"
        )
    return frame


def empty_geoframe(columns: Sequence[str] = ()) -> gpd.GeoDataFrame:
    """An empty GeoDataFrame in EPSG:4326 with ``columns``."""
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def geoframe(frame: pd.DataFrame, geometry, *, crs=4326) -> gpd.GeoDataFrame:
    """A GeoDataFrame of ``frame``'s columns with ``geometry`` (a GeoSeries or list) in ``crs``,
    reprojected to EPSG:4326 for output."""
    series = geometry if isinstance(geometry, gpd.GeoSeries) else gpd.GeoSeries(geometry, crs=crs)
    series = gpd.GeoSeries(series.to_numpy(), index=frame.index, crs=series.crs or crs or 4326)
    plain = pd.DataFrame(frame.drop(columns=[c for c in frame.columns
                                             if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]))
    out = gpd.GeoDataFrame(plain, geometry=series, crs=series.crs)
    return out.to_crs(4326) if out.crs.to_epsg() != 4326 else out


def names_of(frame: pd.DataFrame | None, id_column: str = "id", name_column: str = "name") -> dict:
    """Map id -> name for a layer frame (empty when the frame is missing)."""
    if frame is None or frame.empty or name_column not in frame:
        return {}
    return dict(zip(frame[id_column], frame[name_column]))


def village_frame(villages: gpd.GeoDataFrame, townships: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """Villages with ``village_id``, ``village_name`` and ``township_name`` (from the townships
    frame, else a ``township_name`` already present), in input order."""
    require(villages, "villages", ["id", "name", "township_id"])
    out = villages.copy()
    town_names = names_of(townships)
    if town_names:
        out["township_name"] = out["township_id"].map(town_names)
    elif "township_name" not in out:
        out["township_name"] = None
    out["village_id"] = out["id"]
    out["village_name"] = out["name"]
    return out


def yes(value) -> bool:
    """True only for a known true value (NA, None and NaN are not yes)."""
    return value is not None and value is not pd.NA and value == value and bool(value)


def as_number(series: pd.Series) -> pd.Series:
    """Float series with missing values as NaN (None, pd.NA and text blanks)."""
    return pd.to_numeric(series, errors="coerce").astype(float)


def label_of(enum_cls: type[LabeledEnum], value) -> str | None:
    """Chinese label of an enum value (the value itself when unknown; None stays None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    try:
        return enum_cls.parse(value).label
    except ValueError:
        return str(value)


def join_names(values: Iterable, sep: str = "、") -> str:
    """Names joined by ``sep`` in first-seen order, blanks dropped (unit names, which may
    themselves contain 、, are joined with ；)."""
    seen = dict.fromkeys(str(v) for v in values if v is not None and v == v and str(v) != "")
    return sep.join(seen)


def ratio_pct(numerator, denominator):
    """100 × numerator / denominator, NaN where the denominator is 0 or missing."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, 100.0 * num / den, np.nan)
    return out if out.ndim else float(out)


def household_counts(households: pd.DataFrame | None, by: str, statuses: Sequence[str]) -> pd.Series:
    """Number of households in ``statuses`` per value of ``by`` (``village_id`` ...)."""
    if households is None or households.empty:
        return pd.Series(dtype=float)
    chosen = households[households["status"].isin(list(statuses))]
    return chosen.groupby(by).size()


def settlement_frame(settlements: gpd.GeoDataFrame, villages: pd.DataFrame, households: pd.DataFrame | None
                     ) -> gpd.GeoDataFrame:
    """Settlements (already in the working CRS) with ``settlement_id``, ``settlement_name``,
    their village's ``village_name``, ``township_id`` and ``township_name`` (from ``villages``,
    a :func:`village_frame`), and ``registered_poor_households`` counted from the household
    records (NaN when no household records are given)."""
    out = settlements.copy()
    lookup = villages.set_index("village_id")
    out["settlement_id"] = out["id"]
    out["settlement_name"] = out["name"]
    for column in ("village_name", "township_id", "township_name"):
        out[column] = out["village_id"].map(lookup[column])
    if households is not None and not households.empty and "settlement_id" in households:
        counts = household_counts(households.dropna(subset=["settlement_id"]), "settlement_id",
                                  REGISTERED_POOR_STATUSES)
        out["registered_poor_households"] = out["settlement_id"].map(counts).fillna(0).astype(float)
    else:
        out["registered_poor_households"] = np.nan
    return out


def township_tables(per_township: pd.DataFrame, district: pd.DataFrame, townships: pd.DataFrame | None,
                    columns: Sequence[str], ratios: Sequence[str] = ()) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The township table (in the townships frame's order, with each township's area for a
    choropleth) and the one-row district table, from summaries indexed by township name.

    ``ratios`` are the columns left NaN (not 0) when the district has no villages at all.
    """
    names = list(townships["name"]) if townships is not None and len(townships) else []
    present = [n for n in per_township.index if n is not None and n == n]
    names = [n for n in names if n in per_township.index] + sorted(set(present) - set(names))
    frame = per_township.reindex(names).rename_axis("township_name").reset_index()
    area = (townships.drop_duplicates("name").set_index("name").geometry
            if townships is not None and len(townships) else pd.Series(dtype=object))
    by_township = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([area.get(n) for n in names], crs=4326), crs=4326)
    if district.empty:
        district = pd.DataFrame([dict.fromkeys(columns, 0)], index=[DISTRICT])
        for column in ratios:
            district[column] = np.nan
    return by_township, district.rename_axis("township_name").reset_index()
