"""Fixtures of the PV tests: pvlib's sample TMY3 file and weather files written from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from pvlib import iotools

PVLIB_DATA = Path(pvlib.__file__).parent / "data"
#: Greensboro, North Carolina (TMY3, shipped with pvlib).
GREENSBORO = PVLIB_DATA / "723170TYA.CSV"
GREENSBORO_SITE = {"latitude": 36.1, "longitude": -79.95}


@pytest.fixture(scope="session")
def tmy3_path() -> Path:
    assert GREENSBORO.is_file(), "pvlib no longer ships 723170TYA.CSV"
    return GREENSBORO


@pytest.fixture(scope="session")
def greensboro() -> tuple[pd.DataFrame, dict]:
    return iotools.read_tmy3(GREENSBORO, coerce_year=2019, map_variables=True)


@pytest.fixture(scope="session")
def epw_path(greensboro, tmp_path_factory) -> Path:
    """The Greensboro TMY3 year written as an EPW file (the layout pvlib's read_epw parses)."""
    data, meta = greensboro
    path = tmp_path_factory.mktemp("weather") / "greensboro.epw"
    header = [
        f"LOCATION,Greensboro,NC,USA,TMY3,723170,{meta['latitude']},{meta['longitude']},{meta['TZ']},{meta['altitude']}",
        "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,written by the atlas tests from pvlib's TMY3 sample",
        "COMMENTS 2,", "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    lines = []
    # TMY3 labels hours by their end (01:00 .. 24:00); EPW numbers them 1..24 the same way
    for stamp, row in data.iterrows():
        end = stamp
        hour = end.hour if end.hour != 0 else 24
        day = end if end.hour != 0 else end - pd.Timedelta(hours=1)
        fields = [2019, day.month, day.day, hour, 60, "?"] + [0] * 29
        fields[6] = row["temp_air"]
        fields[13] = row["ghi"]
        fields[14] = row["dni"]
        fields[15] = row["dhi"]
        fields[21] = row["wind_speed"]
        lines.append(",".join(str(v) for v in fields))
    path.write_text("\n".join(header + lines) + "\n")
    return path


def _pvgis_rows(data: pd.DataFrame) -> pd.DataFrame:
    """TMY3 rows relabelled at mid-hour in UTC, as PVGIS-style columns."""
    index = (data.index - pd.Timedelta(minutes=30)).tz_convert("UTC")
    return pd.DataFrame({
        "time(UTC)": index.strftime("%Y%m%d:%H%M"),
        "T2m": data["temp_air"].to_numpy(), "RH": data["relative_humidity"].to_numpy(),
        "G(h)": data["ghi"].to_numpy(), "Gb(n)": data["dni"].to_numpy(), "Gd(h)": data["dhi"].to_numpy(),
        "IR(h)": np.zeros(len(data)), "WS10m": data["wind_speed"].to_numpy(),
        "WD10m": data["wind_direction"].to_numpy(), "SP": data["pressure"].to_numpy() * 100,
    })


@pytest.fixture(scope="session")
def pvgis_json_path(greensboro, tmp_path_factory) -> Path:
    data, meta = greensboro
    rows = _pvgis_rows(data)
    document = {
        "inputs": {"location": {"latitude": meta["latitude"], "longitude": meta["longitude"],
                                "elevation": meta["altitude"]}},
        "outputs": {"months_selected": [{"month": m, "year": 1990} for m in range(1, 13)],
                    "tmy_hourly": rows.to_dict(orient="records")},
        "meta": {"inputs": {}},
    }
    path = tmp_path_factory.mktemp("weather") / "greensboro_pvgis.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="session")
def pvgis_csv_path(greensboro, tmp_path_factory) -> Path:
    data, meta = greensboro
    rows = _pvgis_rows(data)
    lines = [f"Latitude (decimal degrees): {meta['latitude']}", f"Longitude (decimal degrees): {meta['longitude']}",
             f"Elevation (m): {meta['altitude']}", "month,year"]
    lines += [f"{m},1990" for m in range(1, 13)]
    lines.append(",".join(rows.columns))
    lines += [",".join(str(v) for v in r) for r in rows.itertuples(index=False)]
    lines += ["", "T2m: 2-m air temperature (degree Celsius)"]
    path = tmp_path_factory.mktemp("weather") / "greensboro_pvgis.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    return path
