"""Finding the header row of a table and mapping its columns to a layer's fields."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.errors import ValidationError
from geo.io.fields import COORDINATE_FIELDS, MANAGED_FIELDS, header_table, label, layer_fields, match_header, normalise_header

TOTAL_WORDS = ("合计", "总计", "小计", "合 计", "总 计")
NOTE_WORDS = ("填表说明", "填报说明", "说明", "备注：", "注：", "注:", "填报人", "制表", "审核")
TOWNSHIP_SECTION = re.compile(r"^.{1,12}(镇|乡|街道|苏木|办事处|民族乡)$")


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str) and not value.strip())


def find_header(rows: list[tuple[int, list[Any]]], layer: str, mapping: dict[str, str]) -> int | None:
    """Index (in ``rows``) of the header row: the row naming the most fields (at least 2, or
    1 for a one-column file)."""
    table = header_table(layer)
    best, best_score = None, 0
    for index, (_, cells) in enumerate(rows):
        names = [c for c in cells if not is_blank(c)]
        score = sum(1 for c in names if str(c).strip() in mapping or match_header(layer, c, table))
        needed = 1 if len(names) == 1 else 2
        if score >= needed and score > best_score:
            best, best_score = index, score
    return best


@dataclass
class Columns:
    """How the file's columns map to fields."""

    headers: list[str]
    fields: dict[int, str]  # column position -> field
    ignored: list[str]


def map_columns(headers: Sequence[Any], layer: str, mapping: dict[str, str], *, source: str) -> Columns:
    table = header_table(layer)
    texts = []
    for position, header in enumerate(headers):
        text = "" if is_blank(header) else str(header).strip()
        texts.append(text or f"列{position + 1}")
    by_normal = {normalise_header(t): t for t in texts}
    mapping = {(m if m in texts else by_normal.get(normalise_header(m), m)): f for m, f in mapping.items()}
    unknown = [m for m in mapping if m not in texts]
    if unknown:
        raise ValidationError(f"{source}: --map names column(s) {', '.join(map(repr, unknown))} the file does not "
                              f"have; columns: {', '.join(texts)}")
    fields: dict[int, str] = {}
    ignored: list[str] = []
    used: dict[str, int] = {}
    allowed = set(layer_fields(layer)) | set(COORDINATE_FIELDS)
    for position, text in enumerate(texts):
        field_name = mapping.get(text) or match_header(layer, text, table)
        if field_name is None or field_name not in allowed or (field_name in MANAGED_FIELDS):
            if not text.startswith("列") and normalise_header(text) not in {"id", "fid", "ogc_fid", "序号", "编号序号"}:
                ignored.append(text)
            continue
        if field_name in used:
            raise ValidationError(
                f"{source}: columns {texts[used[field_name]]!r} and {text!r} both give "
                f"{label(layer, field_name)} ({field_name}); rename one or choose with --map"
            )
        used[field_name] = position
        fields[position] = field_name
    return Columns(texts, fields, ignored)
