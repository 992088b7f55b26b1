"""Parents named in a file, resolved to ids: a village's township, a household's village,
settlement and cadre, a pairing's unit and village.

A parent is matched by code first, else by name within its own parent (a village by name
within its township); a name that several parents share is an error listing the
candidates, so the clerk can add the 乡镇 column or use codes. Lookups read each parent
layer once per import (through :mod:`geo.storage`) and are refreshed after the importer
writes that layer.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo import storage
from geo.io.fields import REFERENCES, Reference, label
from geo.io.validate import map_unique

_MAX_LISTED = 8


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    return text or None


def _listed(names: list[str]) -> str:
    shown = "、".join(names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


class _Index:
    """One parent layer, with dictionaries for the lookups."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.by: dict[str, dict[Any, list[int]]] = {}

    def lookup(self, column: str | tuple[str, ...], key: Any) -> list[int]:
        """Positions (in ``frame``) of the rows whose ``column`` equals ``key``."""
        if column not in self.by:
            index: dict[Any, list[int]] = {}
            columns = [column] if isinstance(column, str) else list(column)
            values = zip(*(self.frame[c].tolist() for c in columns)) if columns else iter(())
            for position, value in enumerate(values):
                value = value[0] if isinstance(column, str) else value
                index.setdefault(value, []).append(position)
            self.by[column] = index
        return self.by[column].get(key, [])

    def value(self, position: int, column: str) -> Any:
        return self.frame[column].iat[position]


class Resolver:
    """Lookups of the parent layers inside the import's transaction."""

    def __init__(self, conn, *, before_read=None):
        self.conn = conn
        self.before_read = before_read  # called before the connection is used (see Writer)
        self._cache: dict[str, _Index] = {}

    def invalidate(self, layer: str) -> None:
        self._cache.pop(layer, None)
        if layer == "areas":
            self._cache.pop("townships", None)
            self._cache.pop("villages", None)
        if layer == "townships":
            self._cache.pop("villages", None)
        if layer == "units":
            self._cache.pop("cadres", None)

    def _index(self, layer: str, columns: list[str]) -> _Index:
        if layer not in self._cache:
            if self.before_read is not None:
                self.before_read()
            frame = storage.read_layer(self.conn, layer, columns=columns, with_names=False)
            frame = pd.DataFrame(frame.drop(columns=[c for c in frame.columns if c not in ["id", *columns]]))
            frame["id"] = frame["id"].astype(int)
            if layer == "villages":
                towns = self.townships().set_index("id")["name"]
                frame["township_name"] = frame["township_id"].map(towns)
            if layer == "cadres":
                units = self.units().set_index("id")["name"]
                frame["unit_name"] = frame["unit_id"].map(units)
            self._cache[layer] = _Index(frame.reset_index(drop=True))
        return self._cache[layer]

    def townships(self) -> pd.DataFrame:
        return self._index("townships", ["code", "name", "county_id"]).frame

    def area(self, code: Any, name: Any) -> tuple[int | None, str | None]:
        """An area (county, prefecture, province) by its six-digit code, else its name."""
        code, name = _text(code), _text(name)
        index = self._index("areas", ["code", "name"])
        if code is not None:
            hit = index.lookup("code", code)
            if len(hit) == 1:
                return int(index.value(hit[0], "id")), None
            return None, (f"区划代码 {code!r}: no county, prefecture or province has this code; import the "
                          "areas (区县、市、省) first")
        if name is None:
            return None, None
        hit = index.lookup("name", name)
        if len(hit) == 1:
            return int(index.value(hit[0], "id")), None
        if len(hit) > 1:
            codes = [str(index.value(p, "code")) for p in hit]
            return None, f"区划 {name!r} is ambiguous ({'、'.join(codes)}); give 区县代码"
        known = list(index.frame["name"])
        return None, (f"区划 {name!r}: no such county, prefecture or province"
                      + (f"; areas: {_listed(known)}" if known else "; import the areas (区县、市、省) first"))

    def villages(self) -> pd.DataFrame:
        return self._index("villages", ["code", "name", "township_id"]).frame

    def units(self) -> pd.DataFrame:
        return self._index("units", ["name"]).frame

    def settlements(self) -> pd.DataFrame:
        return self._index("settlements", ["village_id", "name"]).frame

    def cadres(self) -> pd.DataFrame:
        return self._index("cadres", ["code", "name", "unit_id"]).frame

    # ------------------------------------------------------------------ one parent each

    def township(self, code: Any, name: Any, county_code: Any = None,
                 county_name: Any = None) -> tuple[int | None, str | None]:
        code, name = _text(code), _text(name)
        index = self._index("townships", ["code", "name", "county_id"])
        if code is not None:
            hit = index.lookup("code", code)
            if len(hit) == 1:
                return int(index.value(hit[0], "id")), None
            if name is None:
                return None, f"乡镇代码 {code!r}: no township has this code"
        if name is None:
            return None, None
        hit = index.lookup("name", name)
        if _text(county_code) is not None or _text(county_name) is not None:
            county_id, problem = self.area(county_code, county_name)
            if problem:
                return None, problem
            hit = [p for p in hit if index.value(p, "county_id") == county_id]
        if len(hit) == 1:
            return int(index.value(hit[0], "id")), None
        if len(hit) > 1:
            return None, f"乡镇 {name!r} is in several counties; add a 区县 or 区县代码 column, or use 乡镇代码"
        known = list(index.frame["name"])
        return None, (f"乡镇 {name!r}: no such township; townships: {_listed(known)}" if known
                      else f"乡镇 {name!r}: no townships are registered yet; import the townships first")

    def village(self, code: Any, name: Any, township_name: Any, township_code: Any) -> tuple[int | None, str | None]:
        code, name = _text(code), _text(name)
        index = self._index("villages", ["code", "name", "township_id"])
        if code is not None:
            hit = index.lookup("code", code)
            if len(hit) == 1:
                return int(index.value(hit[0], "id")), None
            if name is None:
                return None, f"村代码 {code!r}: no village has this code"
        if name is None:
            return None, None
        if _text(township_name) is not None or _text(township_code) is not None:
            town_id, problem = self.township(township_code, township_name)
            if problem:
                return None, problem
            hit = index.lookup(("township_id", "name"), (town_id, name))
            if len(hit) == 1:
                return int(index.value(hit[0], "id")), None
            here = [index.value(p, "name") for p in index.lookup("township_id", town_id)]
            where = _text(township_name) or _text(township_code)
            return None, (f"行政村 {name!r}: no such village in {where}"
                          + (f"; villages there: {_listed(here)}" if here else "; none are registered there"))
        hit = index.lookup("name", name)
        if len(hit) == 1:
            return int(index.value(hit[0], "id")), None
        if len(hit) > 1:
            options = []
            for p in hit:
                town, code_text = index.value(p, "township_name"), _text(index.value(p, "code"))
                options.append(f"{town}{name}" + (f" ({code_text})" if code_text else ""))
            return None, f"行政村 {name!r} is ambiguous: {_listed(options)}; add a 乡镇 column or use 村代码"
        return None, (f"行政村 {name!r}: no such village" + ("" if len(index.frame) else
                      "; no villages are registered yet: import them first (or the 附件1 table)"))

    def unit(self, name: Any) -> tuple[int | None, str | None]:
        name = _text(name)
        if name is None:
            return None, None
        index = self._index("units", ["name"])
        hit = index.lookup("name", name)
        if len(hit) == 1:
            return int(index.value(hit[0], "id")), None
        return None, f"帮扶单位 {name!r}: no such unit; import the units (or the 附件1 table) first"

    def settlement(self, village_id: Any, name: Any) -> tuple[int | None, str | None]:
        name = _text(name)
        if name is None or village_id is None or village_id is pd.NA:
            return None, None
        index = self._index("settlements", ["village_id", "name"])
        hit = index.lookup(("village_id", "name"), (int(village_id), name))
        if len(hit) == 1:
            return int(index.value(hit[0], "id")), None
        here = [index.value(p, "name") for p in index.lookup("village_id", int(village_id))]
        return None, (f"自然村 {name!r}: no such settlement in the household's village"
                      + (f"; settlements there: {_listed(here)}" if here else "; import the settlements first"))

    def cadre(self, code: Any, name: Any, unit_name: Any) -> tuple[int | None, str | None]:
        code, name, unit_name = _text(code), _text(name), _text(unit_name)
        index = self._index("cadres", ["code", "name", "unit_id"])
        if code is not None:
            hit = index.lookup("code", code)
            if len(hit) == 1:
                return int(index.value(hit[0], "id")), None
            if name is None:
                return None, f"帮扶责任人编号 {code!r}: no cadre has this code"
        if name is None:
            return None, None
        hit = index.lookup("name", name)
        if unit_name is not None:
            hit = [p for p in hit if index.value(p, "unit_name") == unit_name]
        if len(hit) == 1:
            return int(index.value(hit[0], "id")), None
        if len(hit) > 1:
            options = [f"{name} ({index.value(p, 'unit_name')})" for p in hit]
            return None, f"帮扶责任人 {name!r} is ambiguous: {_listed(options)}; add 帮扶责任人单位 or 帮扶责任人编号"
        return None, f"帮扶责任人 {name!r}: no such cadre" + (f" in {unit_name}" if unit_name else "")

    # ------------------------------------------------------------------ whole columns

    def resolve(self, layer: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.Series], list[str]]:
        """Replace the reference fields of ``frame`` by id columns.

        Returns the frame (reference fields dropped, id columns added where a reference was
        given), per-row refusal reasons, and the id columns filled.
        """
        frame = frame.copy()
        reasons: list[pd.Series] = []
        filled: list[str] = []
        for ref in REFERENCES.get(layer, ()):
            present = [f for f in ref.fields if f in frame.columns]
            if not present:
                continue
            ids, why = self._resolve_one(layer, ref, frame)
            column_required = not storage_nullable(layer, ref.column)
            if column_required:
                named = frame[present].notna().any(axis=1)
                empty = ~named & why.isna()
                why = why.where(~empty, f"{_ref_label(layer, ref)} is empty")
            frame[ref.column] = pd.array([None if v is None else int(v) for v in ids], dtype="Int64")
            reasons.append(why)
            filled.append(ref.column)
        frame = frame.drop(columns=[c for c in frame.columns if c in _all_reference_fields(layer)])
        return frame, reasons, filled

    def _resolve_one(self, layer: str, ref: Reference, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        def column(name: str) -> pd.Series:
            return frame[name] if name in frame.columns else pd.Series([None] * len(frame), index=frame.index)

        if ref.parent == "areas":
            code, name = ref.fields
            keys = pd.DataFrame({"c": column(code), "n": column(name)})
            if layer == "areas":  # a parent in the same file is written first (provinces, prefectures, counties)
                own = set(frame["code"].dropna().astype(str)) if "code" in frame.columns else set()
                own_names = set(frame["name"].dropna().astype(str)) if "name" in frame.columns else set()
                in_file = keys["c"].astype("string").isin(own).fillna(False) | (
                    keys["c"].isna() & keys["n"].astype("string").isin(own_names).fillna(False))
                keys = keys.astype(object)
                keys.loc[in_file.to_numpy(), :] = None
            return map_unique(keys, self.area)
        if ref.parent == "townships":
            keys = pd.DataFrame({"c": column("township_code"), "n": column("township_name"),
                                 "cc": column("county_code"), "cn": column("county_name")})
            return map_unique(keys, self.township)
        if ref.parent == "villages":
            keys = pd.DataFrame({"c": column("village_code"), "n": column("village_name"),
                                 "t": column("township_name"), "tc": column("township_code")})
            return map_unique(keys, self.village)
        if ref.parent == "units":
            return map_unique(pd.DataFrame({"n": column(ref.fields[0])}), self.unit)
        if ref.parent == "settlements":
            village = frame["village_id"] if "village_id" in frame.columns else pd.Series([None] * len(frame), index=frame.index)
            keys = pd.DataFrame({"v": village.astype(object), "n": column("settlement_name")})
            return map_unique(keys, self.settlement)
        if ref.parent == "cadres":
            keys = pd.DataFrame({"c": column("cadre_code"), "n": column("cadre_name"), "u": column("cadre_unit_name")})
            return map_unique(keys, self.cadre)
        raise AssertionError(ref.parent)  # pragma: no cover


def storage_nullable(layer: str, column: str) -> bool:
    from geo.layers import get_layer

    return bool(get_layer(layer).table.c[column].nullable)


def _ref_label(layer: str, ref: Reference) -> str:
    return " / ".join(label(layer, f) for f in ref.fields[:2])


def _all_reference_fields(layer: str) -> set[str]:
    return {f for ref in REFERENCES.get(layer, ()) for f in ref.fields}
