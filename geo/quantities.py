"""How a quantity is shown in a table: the one rule every table writer follows (terminal
tables, CSV, XLSX and the numbers of JSON), so a table pastes into a report without editing.

The rule is read from the column's name (units live in names, STYLE rule 4):

- counts are integers: ranks, ids, households, people, villages, settlements, facilities,
  links, members, years (an estimated 6.45 households is shown as 6);
- lengths to 0.01 km (``_km``), money to 0.01 万元 (``_wan_yuan``), whole yuan (``_yuan``),
  percentages to 0.1 (``_pct``), distances to the metre (``distance_*_m``, ``length_m``),
  other metres (widths) to 0.1 m, areas to 0.01 km², capacities to 0.1 kW, scores to 0.01,
  rates per 万元 to 0.001;
- missing values (None, NaN, NA) are :data:`MISSING`: written as a blank cell in CSV and
  XLSX, ``null`` in JSON, and :data:`TERMINAL_MISSING` ("—") in terminal tables.

Pure: the standard library, NumPy and pandas only.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

#: What a missing value is in a table (CSV and XLSX write an empty cell for it).
MISSING = None
#: How a terminal table shows a missing value.
TERMINAL_MISSING = "—"

#: Decimal places by name suffix, first match wins (0: an integer).
_SUFFIX_PLACES = (
    ("_per_wan_yuan", 3), ("_wan_yuan", 2), ("_yuan", 0), ("_pct", 1), ("_km2", 2), ("_km", 2), ("_kw", 1),
    ("_m2", 1), ("score", 2), ("_component", 2),
)
#: Name parts that make a column a count (an integer).
_COUNT_WORDS = frozenset({
    "rank", "id", "ids", "households", "household", "population", "people", "villages", "settlements",
    "facilities", "links", "members", "count", "cadres", "units", "year", "teams", "records", "no", "served",
    "points", "led", "carried",
})
_WORD = re.compile(r"[a-z0-9]+")


def decimal_places(column: str) -> int | None:
    """Decimal places a column is shown with (0: integer; None: as it comes, e.g. text).

    Parameters
    ----------
    column
        The English column name (``length_km``, ``unmet_registered_poor_households``).
    """
    for suffix, places in _SUFFIX_PLACES:
        if column.endswith(suffix):
            return places
    if column.endswith("_m"):
        return 0 if column.startswith(("distance", "length")) or "_distance" in column else 1
    if _COUNT_WORDS.intersection(_WORD.findall(column)):
        return 0
    if column == "quantity":
        return 2
    return None


def is_missing(value: Any) -> bool:
    """None, NaN, NA and NaT are missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def number(value: Any, places: int | None) -> Any:
    """A number rounded to ``places`` (an ``int`` when 0 or integral), or the value unchanged
    when it is not a number. Booleans are left alone; missing values become :data:`MISSING`."""
    if is_missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return value
    if places is None:
        if isinstance(value, np.integer):
            return int(value)
        return int(value) if float(value).is_integer() else float(value)
    rounded = round(float(value), places)
    return int(rounded) if places == 0 or rounded.is_integer() else rounded


def shown(column: str, value: Any) -> Any:
    """``value`` of ``column`` as a table shows it (see the module docstring)."""
    return number(value, decimal_places(column))


def column_values(column: str, values) -> pd.Series:
    """The values of one column as a table shows them, in an ``object`` series, so integers
    stay integers beside missing values (pandas would make them floats: ``1.0``, ``nan``)."""
    places = decimal_places(column)
    return pd.Series([number(v, places) for v in values], dtype=object)


def terminal_text(value: Any) -> str:
    """A shown value as terminal text: missing values as "—", numbers with thousands separators
    kept off (a pasted figure stays a number)."""
    return TERMINAL_MISSING if is_missing(value) else str(value)
