"""Small hand-built frames for the inspection tests (the writable demo database, ``tx``, is
in ``tests/geo/conftest.py``)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point



def small_registry(counts: dict[str, dict[tuple[str, int | None], int]], *, categories=None):
    """Villages and households frames for the pure draw functions.

    ``counts``: village name -> {(status, status_year): number of households}. Villages sit
    1 km apart along a line in township 甲镇 (first half) and 乙镇 (second half).
    """
    names = list(counts)
    villages = gpd.GeoDataFrame({
        "id": range(1, len(names) + 1), "code": [None] * len(names), "name": names,
        "township_name": ["甲镇" if i < (len(names) + 1) // 2 else "乙镇" for i in range(len(names))],
        "category": (categories or ["poor"] * len(names)),
        "households": [sum(c.values()) for c in counts.values()],
    }, geometry=[Point(105.0 + 0.01 * i, 37.5) for i in range(len(names))], crs=4326)
    rows = []
    for vid, name in enumerate(names, start=1):
        n = 0
        for (status, year), number in counts[name].items():
            for _ in range(number):
                n += 1
                rows.append({"id": len(rows) + 1, "code": f"H-{vid:02d}-{n:03d}", "village_id": vid,
                             "status": status, "status_year": year})
    return villages, pd.DataFrame(rows)
