"""The import report: what an import did (or would do), row by row."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: Longest list of refused/repaired rows kept in a report (counts are always complete).
MAX_LISTED = 1000
Progress = Callable[[int, int | None], None]


@dataclass
class RowIssue:
    """One refused or repaired row (or a warning): where it is and why."""

    row: int | None
    reason: str
    layer: str | None = None
    sheet: str | None = None


@dataclass
class LayerCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do). ``as_dict()`` is JSON-ready.

    Rows are numbered as the user sees them: spreadsheet rows (header = row 1) for CSV and
    XLSX, feature numbers (from 1) for vector files; forms filled in per sheet name the sheet.
    """

    file: str
    layer: str
    format: str
    dry_run: bool = False
    strict: bool = False
    #: ``--exclusive`` was asked for and written with (never on a dry run; on SpatiaLite it changes nothing)
    exclusive: bool = False
    committed: bool = False
    layout: str | None = None
    sheet: str | None = None
    source_layer: str | None = None
    crs: str | None = None
    encoding: str | None = None
    row_numbers: str = "row"
    read: int = 0
    layers: dict[str, LayerCounts] = field(default_factory=dict)
    repaired: list[RowIssue] = field(default_factory=list)
    refused: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    repaired_count: int = 0
    refused_count: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def inserted(self) -> int:
        return sum(c.inserted for c in self.layers.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.layers.values())

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in self.layers.values())

    def refuse(self, row: int | None, reason: str, *, layer: str | None = None, sheet: str | None = None) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_LISTED:
            self.refused.append(RowIssue(row, reason, layer, sheet))

    def repair(self, row: int | None, reason: str, *, layer: str | None = None, sheet: str | None = None) -> None:
        self.repaired_count += 1
        if len(self.repaired) < MAX_LISTED:
            self.repaired.append(RowIssue(row, reason, layer, sheet))

    def warn(self, reason: str, *, row: int | None = None, layer: str | None = None) -> None:
        if len(self.warnings) < MAX_LISTED and not any(w.reason == reason and w.row == row for w in self.warnings):
            self.warnings.append(RowIssue(row, reason, layer))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["layers"] = {name: asdict(c) for name, c in self.layers.items()}
        data.update(inserted=self.inserted, updated=self.updated, unchanged=self.unchanged)
        order = ["file", "layer", "format", "layout", "sheet", "source_layer", "crs", "encoding", "dry_run",
                 "strict", "exclusive", "committed", "row_numbers", "read", "inserted", "updated", "unchanged",
                 "repaired_count", "refused_count", "layers", "repaired", "refused", "warnings", "columns",
                 "ignored_columns"]
        return {k: data[k] for k in order}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)
