"""What every analysis returns: named tables plus the CRS, thresholds and caveats behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Threshold:
    """One configurable rule of an analysis, with where its default comes from.

    Attributes
    ----------
    name
        Keyword of the analysis function (``access_tolerance_m``).
    label
        Chinese label users read (``道路可达容差（米）``).
    value
        The value used in this run.
    source
        Where the default comes from (a seed document, a standard, an assumption).
    """

    name: str
    label: str
    value: Any
    source: str

    def as_dict(self) -> dict[str, Any]:
        from geo.geojson import json_value

        return {"name": self.name, "label": self.label, "value": json_value(self.value), "source": self.source}


@dataclass(frozen=True)
class AnalysisResult:
    """The answer of one analysis.

    Attributes
    ----------
    name
        Analysis name (``coverage``, ``roads``, ``water``, ``exit``, ``priority``).
    title
        Chinese title (``道路通达分析``).
    tables
        Table name -> frame, primary table first. Frames with geometry are GeoDataFrames in
        EPSG:4326 (ready for maps and GeoJSON); every distance, length and area in them was
        measured in ``crs``.
    crs
        The metric CRS the distances were measured in (``EPSG:32648``), or None when the
        analysis measures nothing (coverage) or found no geometry.
    thresholds
        The rules used, with their sources.
    notes
        Caveats a reader must see (Chinese): assumptions, unknown data, degenerate input.
    labels
        Column name -> Chinese header, for tables, CSV and XLSX.
    titles
        Table name -> Chinese title.
    views
        Table name -> the columns a terminal table shows (all columns go to files).
    values
        Column name -> {stored value: Chinese label} for coded columns (categories,
        statuses, pass/fail), used by tables, CSV and XLSX; JSON keeps the codes.
    """

    name: str
    title: str
    tables: dict[str, pd.DataFrame]
    crs: str | None = None
    thresholds: tuple[Threshold, ...] = ()
    notes: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    views: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def primary(self) -> str:
        """Name of the main table (the first)."""
        return next(iter(self.tables))

    def table(self, name: str | None = None) -> pd.DataFrame:
        """One table by name (default: the primary table).

        Raises
        ------
        KeyError
            Naming the tables that exist.
        """
        key = name or self.primary
        if key not in self.tables:
            raise KeyError(f"the {self.name} analysis has no table {key!r}; tables: {', '.join(self.tables)}")
        return self.tables[key]

    def metadata(self) -> dict[str, Any]:
        """JSON-ready description: name, title, CRS, thresholds and notes."""
        return {
            "analysis": self.name,
            "title": self.title,
            "crs": self.crs,
            "thresholds": [t.as_dict() for t in self.thresholds],
            "notes": list(self.notes),
            "tables": {name: self.titles.get(name, name) for name in self.tables},
        }


def check_rules(result: AnalysisResult, rules: dict[str, Any]) -> None:
    """Raise unless ``result`` was computed with ``rules`` (threshold name -> value).

    Raises
    ------
    ValidationError
        Naming the rule whose value differs, so a reused result never mixes rules.
    """
    from geo.errors import ValidationError

    used = {t.name: t.value for t in result.thresholds}
    for name, value in rules.items():
        if name in used and used[name] != value:
            raise ValidationError(f"the {result.name} result given was computed with {name}={used[name]!r}, "
                                  f"not {value!r}; rerun it with the same rules")
