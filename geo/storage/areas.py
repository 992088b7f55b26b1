"""The administrative hierarchy's rules, checked on every write of areas, townships and villages.

GB/T 2260 gives a province ``PP0000``, a prefecture ``PPCC00`` and a county ``PPCCDD``; a
township's 9-digit code is its county's six digits and three more, a village's 12-digit code
its township's nine and three more. The registry keeps that true, so a township's county can
always be read from its code (what ``--by county`` partitions on): a row that contradicts it
is refused, naming the row, the field, the codes and the fix; nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo import models
from geo.errors import ValidationError
from geo.layers import LayerSpec

AREAS = models.Area.__table__
TOWNSHIPS = models.Township.__table__
VILLAGES = models.Village.__table__

#: Share of the smaller county's area two counties may overlap by (digitising slivers along a
#: shared border); more is refused as overlapping boundaries.
OVERLAP_TOLERANCE = 0.01

_LEVEL_LABEL = {"province": "省级", "prefecture": "地级", "county": "县级"}


def code_level(code: str) -> str:
    """The level a six-digit GB/T 2260 code names: ``PP0000`` province, ``PPCC00``
    prefecture, else county."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def _digits(value: Any, length: int) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == length


def frame_levels(frame: pd.DataFrame) -> pd.Series | None:
    """The level each row's code names, when a frame of areas mixes levels (so the rows are
    written level by level, each finding its parent by its code); else None."""
    if "code" not in frame.columns or len(frame) < 2:
        return None
    codes = frame["code"].astype("string").str.strip()
    if not codes.map(lambda c: _digits(c, 6) if isinstance(c, str) else False).all():
        return None  # the row-by-row check names the bad code
    levels = codes.map(code_level)
    return levels if levels.nunique() > 1 else None


def prepare(conn: Connection, spec: LayerSpec, columns: list[str], records: list[dict[str, Any]]) -> None:
    """Fill what the codes imply before rows are matched: an area's level and parent from its
    code, a township's county from its code's first six digits (or the registry's only
    county when the row names none). Refuses codes of the wrong length or level."""
    if spec.name == "areas":
        _prepare_areas(conn, columns, records)
    elif spec.name == "townships":
        _prepare_townships(conn, columns, records)
    elif spec.name == "villages":
        for position, record in enumerate(records):
            code = record.get("code")
            if code is not None and not _digits(code, 12):
                raise ValidationError(
                    f"villages row {position + 1}: code {code!r} is not a 12-digit village code "
                    "(its township's nine digits and three more); correct it or leave it empty")


def check(conn: Connection, spec: LayerSpec, records: list[dict[str, Any]], targets: Sequence[int | None]) -> None:
    """Refuse rows that contradict the hierarchy, once they are matched to stored rows."""
    if spec.name == "areas":
        _check_overlaps(conn, records, targets)
    elif spec.name == "townships":
        _check_townships(conn, records, targets)
    elif spec.name == "villages":
        _check_villages(conn, records, targets)


# ---------------------------------------------------------------------------------- areas


def _prepare_areas(conn: Connection, columns: list[str], records: list[dict[str, Any]]) -> None:
    stored = {r.code: r for r in conn.execute(sa.select(AREAS.c.id, AREAS.c.code, AREAS.c.level, AREAS.c.name))}
    for position, record in enumerate(records):
        label = f"areas row {position + 1}"
        code = record.get("code")
        if code is None:
            continue  # the required-field check names it
        if not _digits(code, 6):
            raise ValidationError(
                f"{label}: code {code!r} is not a six-digit GB/T 2260 code (province 640000, prefecture "
                "640500, county 640502); a 9-digit code is a township's: import it as a township")
        implied = code_level(code)
        level = record.get("level")
        level = getattr(level, "value", level)
        if level is None:
            record["level"] = implied
        elif str(level) != implied:
            raise ValidationError(
                f"{label}: code {code} is a {_LEVEL_LABEL[implied]} ({implied}) code but the level says "
                f"{level!r}; a province ends in 0000, a prefecture in 00, a county otherwise")
        if record.get("parent_id") is None:
            parents = [code[:4] + "00", code[:2] + "0000"] if implied == "county" else [code[:2] + "0000"]
            for parent in parents:
                if parent == code:
                    continue
                if parent in stored:
                    record["parent_id"] = stored[parent].id
                    break
    for name in ("level", "parent_id"):
        if name not in columns and any(name in r for r in records):
            columns.append(name)
            for record in records:
                record.setdefault(name, None)
    parent_ids = {r["parent_id"] for r in records if r.get("parent_id") is not None}
    parents = {r.id: r for r in conn.execute(
        sa.select(AREAS.c.id, AREAS.c.code, AREAS.c.level).where(AREAS.c.id.in_(parent_ids)))} if parent_ids else {}
    for position, record in enumerate(records):
        parent = parents.get(record.get("parent_id"))
        code = record.get("code")
        if parent is None or code is None:
            continue
        prefix = 2 if parent.level == "province" else 4
        order = ("province", "prefecture", "county")
        if order.index(str(parent.level)) >= order.index(code_level(code)) or parent.code[:prefix] != code[:prefix]:
            raise ValidationError(
                f"areas row {position + 1}: code {code} cannot lie under {parent.code} ({parent.level}); a "
                f"county's code starts with its prefecture's four digits or its province's two")


def _check_overlaps(conn: Connection, records: list[dict[str, Any]], targets: Sequence[int | None]) -> None:
    """Refuse a county boundary that overlaps another county's (in the file or stored)."""
    counties: list[tuple[str, str, Any, int | None]] = []
    for position, (record, target) in enumerate(zip(records, targets)):
        if record.get("geom") is not None and code_level(str(record.get("code") or "000001")) == "county":
            counties.append((f"areas row {position + 1} ({record.get('name')} {record.get('code')})",
                             record.get("code"), shapely.from_wkb(record["geom"]), target))
    if not counties:
        return
    mine = {target for *_, target in counties if target is not None} | {code for _, code, _, _ in counties}
    stored = conn.execute(
        sa.select(AREAS.c.id, AREAS.c.code, AREAS.c.name, sa.func.ST_AsBinary(AREAS.c.geom))
        .where(AREAS.c.level == "county", AREAS.c.geom.is_not(None))).all()
    others = [(f"the stored county {r.name} {r.code}", shapely.from_wkb(bytes(r[3])))
              for r in stored if r.id not in mine and r.code not in mine]
    for i, (label, _, geom, _) in enumerate(counties):
        for other_label, other in [(c[0], c[2]) for c in counties[i + 1:]] + others:
            if not geom.intersects(other):
                continue
            shared = geom.intersection(other).area
            smaller = min(geom.area, other.area) or 1.0
            if shared / smaller > OVERLAP_TOLERANCE:
                raise ValidationError(
                    f"{label}: its boundary overlaps {other_label} by {shared / smaller:.0%} of the smaller "
                    "county's area; county boundaries may only touch. Correct the boundary (or import the "
                    "county without one)")


# ------------------------------------------------------------------------------ townships


def _prepare_townships(conn: Connection, columns: list[str], records: list[dict[str, Any]]) -> None:
    counties = {r.code: r.id for r in conn.execute(
        sa.select(AREAS.c.id, AREAS.c.code).where(AREAS.c.level == "county"))}
    only = next(iter(counties.values())) if len(counties) == 1 else None
    for position, record in enumerate(records):
        code = record.get("code")
        if code is not None and not _digits(code, 9):
            raise ValidationError(
                f"townships row {position + 1}: code {code!r} is not a 9-digit township code (its county's six "
                "GB/T 2260 digits and three more, e.g. 640502100); correct it or leave it empty")
        if record.get("county_id") is None and record.get("id") is None:
            if code is not None and code[:6] in counties:
                record["county_id"] = counties[code[:6]]
            elif code is None and only is not None:
                record["county_id"] = only
    if "county_id" not in columns and any(r.get("county_id") is not None for r in records):
        columns.append("county_id")
        for record in records:
            record.setdefault("county_id", None)


def _check_townships(conn: Connection, records: list[dict[str, Any]], targets: Sequence[int | None]) -> None:
    ids = [t for t in targets if t is not None]
    stored = {r.id: r for r in conn.execute(
        sa.select(TOWNSHIPS.c.id, TOWNSHIPS.c.code, TOWNSHIPS.c.county_id).where(TOWNSHIPS.c.id.in_(ids)))} if ids else {}
    areas = {r.id: r for r in conn.execute(sa.select(AREAS.c.id, AREAS.c.code, AREAS.c.name, AREAS.c.level))}
    counties_of_code: dict[str, tuple[int, Any]] = {}
    for position, (record, target) in enumerate(zip(records, targets)):
        label = f"townships row {position + 1} ({record.get('name') or ''})"
        old = stored.get(target)
        code = record["code"] if "code" in record else (old.code if old else None)
        county_id = record["county_id"] if "county_id" in record else (old.county_id if old else None)
        if county_id is None:
            continue
        county = areas.get(county_id)
        if county is None:
            continue  # the foreign key refuses it
        if county.level != "county":
            raise ValidationError(
                f"{label}: {county.name} ({county.code}) is a {county.level}, not a county; a township "
                "belongs to a county (区县)")
        if code is not None:
            if code in counties_of_code and counties_of_code[code][0] != county_id:
                first, first_position = counties_of_code[code]
                raise ValidationError(
                    f"{label}: township {code} is put in two counties ({areas[first].name} in row "
                    f"{first_position + 1}, {county.name} here); a township belongs to one county")
            counties_of_code.setdefault(code, (county_id, position))
            if code[:6] != county.code:
                raise ValidationError(
                    f"{label}: township code {code} starts with {code[:6]}, but its county is {county.name} "
                    f"({county.code}); a township's code starts with its county's six digits: correct the "
                    "code or the county")
        if old is not None and old.county_id is not None and old.county_id != county_id:
            moved = conn.execute(sa.select(sa.func.count()).select_from(VILLAGES).where(
                VILLAGES.c.township_id == target, VILLAGES.c.code.is_not(None),
                sa.func.substr(VILLAGES.c.code, 1, 6) != county.code)).scalar_one()
            if moved:
                raise ValidationError(
                    f"{label}: moving it to {county.name} ({county.code}) contradicts the codes of {moved} of its "
                    "villages, which start with another county's six digits")


# ------------------------------------------------------------------------------- villages


def _check_villages(conn: Connection, records: list[dict[str, Any]], targets: Sequence[int | None]) -> None:
    ids = [t for t in targets if t is not None]
    stored = {r.id: r for r in conn.execute(
        sa.select(VILLAGES.c.id, VILLAGES.c.code, VILLAGES.c.township_id).where(VILLAGES.c.id.in_(ids)))} if ids else {}
    towns = {r.id: r for r in conn.execute(
        sa.select(TOWNSHIPS.c.id, TOWNSHIPS.c.code, TOWNSHIPS.c.name, AREAS.c.code.label("county_code"),
                  AREAS.c.name.label("county_name"))
        .select_from(TOWNSHIPS.outerjoin(AREAS, AREAS.c.id == TOWNSHIPS.c.county_id)))}
    for position, (record, target) in enumerate(zip(records, targets)):
        old = stored.get(target)
        code = record["code"] if "code" in record else (old.code if old else None)
        township_id = record["township_id"] if "township_id" in record else (old.township_id if old else None)
        town = towns.get(township_id)
        if code is None or town is None:
            continue
        label = f"villages row {position + 1} ({record.get('name') or ''})"
        if town.county_code is not None and code[:6] != town.county_code:
            raise ValidationError(
                f"{label}: village code {code} starts with the county prefix {code[:6]}, but its township "
                f"{town.name} is in {town.county_name} ({town.county_code}); a village's code starts with its "
                "county's six digits and its township's nine: correct the code or the township")
        if town.code is not None and code[:9] != town.code:
            raise ValidationError(
                f"{label}: village code {code} starts with {code[:9]}, but its township {town.name} has the code "
                f"{town.code}; a village's code starts with its township's nine digits")
