"""Row checks of one frame against a layer: field types and enums, geometries, parents,
required fields, natural keys repeated in the file. Each gives a reason per row (None = fine)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo import storage
from geo.io import coords
from geo.io.fields import MANAGED_FIELDS, id_columns, label
from geo.io.importer.keys import KeyRegistry
from geo.io.validate import (
    check_column,
    check_geometries,
    combine,
    control_character,
    holds_control_characters,
    parse_wkt,
)
from geo.layers import COUNT_ORDER

#: Statistical codes (统计用区划代码): a township's has 9 digits, published padded to 12 with
#: ``000``; a village's has 12. Fields holding one, by layer (``*`` = every layer).
TOWNSHIP_CODE_FIELDS = {"townships": ("code",), "*": ("township_code",)}
VILLAGE_CODE_FIELDS = {"villages": ("code",), "*": ("village_code",)}
_DIGITS = re.compile(r"\d+")


def _code_text(value) -> str | None:
    """A code cell as text (an Excel number 640502100000.0 as its digits); None when blank."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


class RowChecks:
    """The checks :class:`~geo.io.importer.writer.Writer` runs on each frame; they need its
    ``conn``, ``strict``, ``resolver``, ``keys`` and ``fixed``."""

    def _with_fixed(self, layer: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Every row given the ``--set`` values of the import's own layer (not of the parent
        layers a form also writes)."""
        fixed = getattr(self, "fixed", None) or {}
        if not fixed or layer != self.report.layer:
            return frame
        return frame.assign(**{field: [value] * len(frame) for field, value in fixed.items()})

    @staticmethod
    def _check_codes(layer: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """Township codes of 9 digits, or 12 ending in ``000`` (stored as the 9); village codes
        of 12 digits. Codes that are not all digits are left to the field checks."""
        why: list[str | None] = [None] * len(frame)
        out = frame
        for rules, lengths in ((TOWNSHIP_CODE_FIELDS, (9, 12)), (VILLAGE_CODE_FIELDS, (12,))):
            for name in (*rules.get(layer, ()), *rules["*"]):
                if name not in frame.columns:
                    continue
                values = []
                for i, value in enumerate(frame[name].tolist()):
                    text = _code_text(value)
                    if text is None or not _DIGITS.fullmatch(text):
                        values.append(value)
                        continue
                    problem = None
                    if lengths == (9, 12) and len(text) == 12:
                        if text.endswith("000"):
                            text = text[:9]
                        else:
                            problem = (f"{label(layer, name)} {text!r} has 12 digits but does not end in 000; a "
                                       "township's statistical code has 9 digits (or 12 ending in 000, as "
                                       "统计用区划代码 lists print it)")
                    elif len(text) not in lengths:
                        problem = (f"{label(layer, name)} {text!r} has {len(text)} digits; a township's statistical "
                                   "code has 9 digits (or 12 ending in 000)" if lengths == (9, 12) else
                                   f"{label(layer, name)} {text!r} has {len(text)} digits; a village's statistical "
                                   "code has 12 digits")
                    values.append(text if problem is None else None)  # refused: one reason, not two
                    if problem is not None and why[i] is None:
                        why[i] = problem
                if out is frame:
                    out = frame.copy()
                out[name] = pd.Series(values, index=frame.index, dtype=object)
        return out, pd.Series(why, index=frame.index, dtype=object)

    def _check_attributes(self, spec, frame: pd.DataFrame, out: pd.DataFrame) -> list[pd.Series]:
        """Convert the attribute fields into ``out``; reasons where a cell cannot be stored."""
        reasons = []
        skip = set(spec.geometry_columns) | set(id_columns(spec.name)) | set(MANAGED_FIELDS)
        for column in spec.table.columns:
            if column.name in frame.columns and column.name not in skip:
                checked = check_column(column, frame[column.name], label=label(spec.name, column.name))
                out[column.name] = checked.values
                reasons.append(checked.reasons)
        return reasons

    def _check_reference_texts(self, spec, frame: pd.DataFrame) -> pd.Series:
        """Control characters in the fields that are not stored as such (乡镇, 行政村, 帮扶单位
        names that name a parent); stored text fields are checked by ``check_column``."""
        why: list[str | None] = [None] * len(frame)
        stored = set(spec.table.c.keys()) | set(spec.geometry_columns) | {"geometry"}
        for name in frame.columns:
            if name in stored:
                continue
            values = frame[name].tolist()
            if not holds_control_characters(values):
                continue  # (the usual case)
            for i, value in enumerate(values):
                if isinstance(value, str) and why[i] is None:
                    problem = control_character(value)
                    if problem is not None:
                        why[i] = f"{label(spec.name, name)}: {problem}"
        return pd.Series(why, index=frame.index, dtype=object)

    @staticmethod
    def _check_count_order(spec, out: pd.DataFrame) -> pd.Series:
        """Counts that contain one another: registered-poor households <= households <=
        population, where a row gives both of a pair."""
        why: list[str | None] = [None] * len(out)
        for small, large in COUNT_ORDER:
            if small not in out.columns or large not in out.columns:
                continue
            a = pd.to_numeric(out[small], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            b = pd.to_numeric(out[large], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                over = np.isfinite(a) & np.isfinite(b) & (a > b)
            for i in np.flatnonzero(over):
                text = (f"{label(spec.name, small)} {int(a[i])} is more than {label(spec.name, large)} {int(b[i])}; "
                        f"{label(spec.name, small)} cannot exceed {label(spec.name, large)}")
                why[i] = text if why[i] is None else f"{why[i]}; {text}"
        return pd.Series(why, index=out.index, dtype=object)

    def _check_geometries(self, spec, frame: pd.DataFrame, out: pd.DataFrame) -> tuple[list[pd.Series], list[pd.Series]]:
        """Geometry type, emptiness and validity into ``out``. The primary geometry arrives in
        WGS 84, already placed and checked against China's extent; secondary geometries (a
        township's seat, a village's boundary) arrive as WKT in WGS 84 and are checked here."""
        reasons, repairs = [], []
        for name in spec.geometry_columns:
            source_name = "geometry" if name == spec.geometry else name
            if source_name not in frame.columns:
                continue
            values = frame[source_name]
            text = label(spec.name, name)
            if isinstance(values.dtype, gpd.array.GeometryDtype):
                values = gpd.GeoSeries(values, crs=4326)
            else:
                values, wkt_reasons = parse_wkt(values, label=text)
                values = gpd.GeoSeries(values, crs=4326)
                reasons += [wkt_reasons, self._outside(values, text)]
            column = spec.table.c[name]
            kind = spec.geometry_kind if name == spec.geometry and spec.geometry_kind != "any" else None
            checked = check_geometries(values, column=column, label=text, required=not column.nullable,
                                       strict=self.strict, allowed=kind)
            out[name] = checked.values
            reasons.append(checked.reasons)
            repairs.append(checked.repairs)
        return reasons, repairs

    @staticmethod
    def _outside(values: gpd.GeoSeries, text: str) -> pd.Series:
        why = [None] * len(values)
        outside = coords.outside_china(values.values)
        if outside.any():
            xs, ys = coords.first_coordinates(values.values)
            for i in np.flatnonzero(outside):
                why[i] = f"{text}: " + coords.explain_outside(xs[i], ys[i], CRS.from_epsg(4326))
        return pd.Series(why, index=values.index, dtype=object)

    def _resolve_parents(self, spec, frame: pd.DataFrame, out: pd.DataFrame) -> list[pd.Series]:
        """Reference fields (乡镇, 行政村, 帮扶单位 ...) to id columns in ``out``."""
        reasons = []
        if spec.name == "villages":
            frame, why = self._township_from_existing_village(frame)
            reasons.append(why)
            if "township_id" in frame.columns:
                out["township_id"] = frame["township_id"]
        resolved, ref_reasons, filled = self.resolver.resolve(spec.name, frame)
        for name in filled:
            out[name] = resolved[name]
        return reasons + ref_reasons

    def _check_required(self, spec, frame: pd.DataFrame, out: pd.DataFrame, refused: pd.Series, *,
                        targets: np.ndarray | None = None) -> pd.Series:
        """A required field left empty is refused; one the file lacks, only for new rows (an
        update keeps the stored value). ``targets``: the stored row each row updates (0 for
        a new row), when the rows are already staged and matched; else the stored rows are
        looked up, where an answer depends on it (:meth:`_required_needs_new`)."""
        ok = refused.isna().to_numpy()
        if not ok.any():
            return refused
        new = np.zeros(len(frame), dtype=bool)
        if targets is not None:
            new[ok] = targets[ok] == 0
        elif self._required_needs_new(spec, frame, out, refused):
            matched = storage.existing_ids(self.conn, spec.name, self._storable(spec, out.loc[ok]))
            new[ok] = [t is None for t in matched]
        extra = []
        for name, present, given in self._required_columns(spec, frame, out):
            if present is not None:
                missing = ok & ~present & (new | given)
            else:
                missing = ok & new
            if missing.any():
                text = self._required_text(spec.name, name, given=present is not None)
                extra.append(pd.Series(np.where(missing, text, None), index=frame.index, dtype=object))
        return combine([refused, *extra], frame.index) if extra else refused

    def _required_needs_new(self, spec, frame: pd.DataFrame, out: pd.DataFrame, refused: pd.Series) -> bool:
        """Whether :meth:`_check_required` refuses a row or not depending on whether it is new:
        the file lacks a required field, or leaves empty one it names through a parent it does
        not give. When not, the rows can be staged and matched in the background."""
        ok = refused.isna().to_numpy()
        return any(present is None or (not given and (ok & ~present).any())
                   for _, present, given in self._required_columns(spec, frame, out))

    def _required_columns(self, spec, frame: pd.DataFrame, out: pd.DataFrame):
        """``(name, present, given)`` per required column of the layer: ``present``, where a
        row has a value (None when the file has no such field); ``given``, whether the file
        names it (through a parent's fields for a reference)."""
        for column in spec.table.columns:
            name = column.name
            if column.nullable or name in storage.MANAGED or name == "source" or column.default is not None \
                    or column.server_default is not None:
                continue
            if name not in out.columns:
                yield name, None, False
                continue
            values = np.asarray(out[name].values, dtype=object) if name in spec.geometry_columns else None
            present = (~shapely.is_missing(values)) if values is not None else out[name].notna().to_numpy()
            given = self._field_given(spec.name, name, frame) if refs_for(spec.name, name) else True
            yield name, present, given

    @staticmethod
    def _field_given(layer: str, name: str, frame: pd.DataFrame) -> bool:
        return any(f in frame.columns for ref in refs_for(layer, name) for f in ref)

    @staticmethod
    def _required_text(layer: str, name: str, given: bool) -> str:
        refs = refs_for(layer, name)
        fields = sorted(refs[0], key=lambda f: not f.endswith("_name"))[:2] if refs else [name]
        what = " or ".join(label(layer, f) for f in fields)
        if given:
            return f"{what} is empty; it is required"
        return f"a new row needs {what}, and the file has no such column"

    @staticmethod
    def _storable(spec, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame write_layer takes: a GeoDataFrame in EPSG:4326 when it holds geometries."""
        geometry_names = [n for n in spec.geometry_columns if n in frame.columns]
        if not geometry_names:
            return pd.DataFrame(frame)
        primary = spec.geometry if spec.geometry in frame.columns else geometry_names[0]
        data = frame.copy()
        for name in geometry_names:
            data[name] = gpd.GeoSeries(data[name].values, index=data.index, crs=4326)
        return gpd.GeoDataFrame(data, geometry=primary, crs=4326)

    def _township_from_existing_village(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series | None]:
        """A village list without a 乡镇 column still updates villages whose name is unique;
        a name several townships share is refused, listing them."""
        if any(f in frame.columns for f in ("township_name", "township_code")) or "name" not in frame.columns:
            return frame, None
        villages = self.resolver.villages()
        if villages.empty:
            return frame, None
        frame = frame.copy()
        names = frame["name"].astype("string").str.strip()
        towns = villages.groupby("name")["township_name"].agg(list)
        ids = villages.groupby("name")["township_id"].agg(list)
        unique = ids[ids.map(len) == 1].map(lambda v: v[0])
        frame["township_id"] = pd.array(names.map(unique), dtype="Int64")
        shared = names.map(towns[towns.map(len) > 1])
        why = pd.Series([None if not isinstance(t, list) else
                         f"行政村 {n!r} is in several townships ({'、'.join(map(str, t))}); add a 乡镇 column"
                         for n, t in zip(names, shared)], index=frame.index, dtype=object)
        return frame, why

    def _repeated_keys(self, spec, out: pd.DataFrame, rows: np.ndarray, refused: pd.Series) -> pd.Series:
        """Refuse a row whose natural key an earlier row of the file already has."""
        ok = refused.isna().to_numpy()
        extra = []
        for key in spec.natural_keys:
            if not ok.any() or not all(c in out.columns for c in key):
                continue
            values = out[list(key)]
            valid = ok & values.notna().all(axis=1).to_numpy()
            if not valid.any():
                continue
            hashes = pd.util.hash_pandas_object(values.astype(str), index=False).to_numpy()
            registry = self.keys.setdefault((spec.name, key), KeyRegistry())
            first = registry.check_and_add(hashes, rows, valid)
            why = [None] * len(out)
            shown = "+".join(label(spec.name, k) for k in key if not k.endswith("_id")) or "+".join(key)
            for i in np.flatnonzero(first):
                value = ", ".join(str(values.iat[i, j]) for j, k in enumerate(key) if not k.endswith("_id"))
                where = f"row {first[i]}" if first[i] > 0 else "an earlier entry"
                why[i] = f"repeats {shown} {value!r} of {where}; each must be unique in the file"
            extra.append(pd.Series(why, index=out.index, dtype=object))
        return combine([refused, *extra], out.index) if extra else refused


def refs_for(layer: str, column: str) -> list[tuple[str, ...]]:
    from geo.io.fields import REFERENCES

    return [ref.fields for ref in REFERENCES.get(layer, ()) if ref.column == column]
