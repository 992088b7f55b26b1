"""A deterministic synthetic province: N counties of about M villages each, with roads,
water, households and PV, streamed county by county into SpatiaLite or PostGIS.

    .venv/bin/python benchmarks/synthetic_province.py --counties 20 --villages 450 --seed 1 \\
        --db sqlite:///province.sqlite

Each county is :func:`benchmarks.synthetic_county.synthetic_county` at ``scale = M / 45``
(45 villages, 300 settlements, ~2,300 road pieces, 10,000 households per unit of scale),
seeded with ``seed + county number``, laid side by side (five counties a row) and given a
six-digit code ``99PPCC`` (province 99 is no real GB/T 2260 province: the codes cannot be
mistaken for real ones), its townships ``99PPCCTTT``. Every name starts with 合成 and the
county code, and every row's ``source`` is ``benchmark:synthetic``: the way the registry
marks rows that are not real.

Streaming: one county is generated, written in one transaction and dropped before the next,
so memory stays that of one county. Rows get ids in insertion order; each county's foreign
keys are shifted by the ids already written.

Households and counties: a county's households are read through their villages
(``households.village_id`` is indexed; a county's villages are its townships' villages), and
written county after county, so a county's households are one contiguous id range. No
county column and no table partitioning are added: PostgreSQL's declarative partitions
would need the county in the households' primary key and in every foreign key that points
at a household (PV beneficiaries, inspection findings), a schema change for a read that the
village index already serves.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic_county import ORIGIN, synthetic_county  # noqa: E402

#: Layers in writing order (parents first) and the foreign keys of each: column -> layer.
LAYERS = {
    "townships": {},
    "villages": {"township_id": "townships"},
    "settlements": {"village_id": "villages"},
    "units": {},
    "cadres": {"unit_id": "units"},
    "households": {"village_id": "villages", "settlement_id": "settlements", "cadre_id": "cadres"},
    "pairings": {"unit_id": "units", "village_id": "villages"},
    "work_teams": {"village_id": "villages", "leader_unit_id": "units"},
    "roads": {},
    "water_facilities": {"village_id": "villages"},
    "pv_projects": {"village_id": "villages"},
}
LINKS = {"water_facility_villages": {"facility_id": "water_facilities", "village_id": "villages"},
         "pv_project_households": {"project_id": "pv_projects", "household_id": "households"}}
PER_ROW = 5  # counties a row
COUNTY_SIZE_M = 14_000.0 * 10  # room for a county of scale up to ~10 [m]


def county_code(number: int) -> str:
    """The six-digit code of county ``number`` (0-based): 99, prefecture, county."""
    return f"99{number // 99 + 1:02d}{number % 99 + 1:02d}"


def province_counties(counties: int, villages: int, *, seed: int):
    """Yield (county code, frames) for each county, generated one at a time."""
    scale = max(1, round(villages / 45))
    size = COUNTY_SIZE_M * max(1.0, (scale / 10) ** 0.5)
    for k in range(counties):
        origin = (ORIGIN[0] + (k % PER_ROW) * size, ORIGIN[1] + (k // PER_ROW) * size)
        code = county_code(k)
        yield code, synthetic_county(scale, seed=seed + k, origin=origin, county_code=code)


def write_province(url: str, counties: int, villages: int, *, seed: int, log=print) -> dict[str, int]:
    """Generate and write the province into the (new, migrated here) database at ``url``;
    return the rows written per layer."""
    from geo import migrate, storage
    from geo.db import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    offsets = {name: 0 for name in (*LAYERS, *LINKS)}
    try:
        for code, frames in province_counties(counties, villages, seed=seed):
            started = time.perf_counter()
            with storage.connect(engine, write=True) as conn:
                for layer, keys in LAYERS.items():
                    frame = _shift(frames[layer], keys, offsets).drop(columns="id")
                    written = storage.write_layer(conn, layer, frame)
                    expected = list(frames[layer]["id"] + offsets[layer])
                    if written.ids != expected:
                        raise RuntimeError(f"{layer} of county {code}: ids {written.ids[:3]}... differ from the "
                                           f"expected {expected[:3]}...; write into a new database")
                for link, keys in LINKS.items():
                    storage.write_links(conn, link, _shift(frames[link], keys, offsets))
            for layer in LAYERS:
                offsets[layer] += len(frames[layer])
            log(f"county {code}: {len(frames['villages']):,} villages, {len(frames['households']):,} households, "
                f"{len(frames['roads']):,} road pieces written in {time.perf_counter() - started:.1f} s")
            del frames
    finally:
        engine.dispose()
    return {layer: offsets[layer] for layer in LAYERS}


def _shift(frame: pd.DataFrame, keys: dict[str, str], offsets: dict[str, int]) -> pd.DataFrame:
    out = frame.copy()
    for column, parent in keys.items():
        if column in out:
            out[column] = out[column] + offsets[parent]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=20)
    parser.add_argument("--villages", type=int, default=450, help="villages a county (45 per unit of scale)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", required=True, help="URL of a new database (sqlite:///FILE or postgresql+psycopg://...)")
    a = parser.parse_args()
    started = time.perf_counter()
    rows = write_province(a.db, a.counties, a.villages, seed=a.seed)
    print(f"synthetic province ({a.counties} counties): " + ", ".join(f"{k} {v:,}" for k, v in rows.items())
          + f"; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
