"""A deterministic synthetic province: N counties of about M villages each, with roads,
water, households and PV, streamed county by county into SpatiaLite or PostGIS.

    .venv/bin/python benchmarks/synthetic_province.py --counties 20 --villages 450 --seed 1 \\
        --db sqlite:///province.sqlite

The same as ``atlas demo synth`` (the generator is :mod:`geo.demo.synthetic`); this script
adds the time each county took. Each county is :func:`geo.demo.synthetic.synthetic_county`
with M villages (per 45 villages: 300 settlements, ~2,300 road pieces, 10,000 households),
seeded with ``seed + county number``, laid side by side (five counties a row) and given a
six-digit code ``99PPCC`` (province 99 is no real GB/T 2260 province: the codes cannot be
mistaken for real ones), its townships ``99PPCCTTT``. Every name starts with 合成 and the
county code, and every row's ``source`` is ``benchmark:synthetic``: the way the registry
marks rows that are not real.

Streaming: one county is generated, written and dropped before the next, so memory stays
that of one county; the whole province is one transaction (nothing is left of a failed
run). Each county's foreign keys point at the ids its parents were given.

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.demo.synthetic import LAYERS, LINKS, county_code, province_counties, write_synthetic_province  # noqa: E402

__all__ = ["LAYERS", "LINKS", "county_code", "province_counties", "write_province"]


def write_province(url: str, counties: int, villages: int, *, seed: int, log=print) -> dict[str, int]:
    """Generate and write the province into the (new, migrated here) database at ``url``;
    return the rows written per layer."""
    from geo import migrate
    from geo.db import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    last = [time.perf_counter()]

    def progress(code: str, rows: dict[str, int]) -> None:
        now = time.perf_counter()
        log(f"county {code}: {rows['villages']:,} villages, {rows['households']:,} households, "
            f"{rows['roads']:,} road pieces generated and written in {now - last[0]:.1f} s", flush=True)
        last[0] = now

    try:
        return write_synthetic_province(engine, counties=counties, villages=villages, seed=seed, progress=progress)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=20)
    parser.add_argument("--villages", type=int, default=450, help="villages a county (450: ten times the demo)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", required=True, help="URL of a new database (sqlite:///FILE or postgresql+psycopg://...)")
    a = parser.parse_args()
    started = time.perf_counter()
    rows = write_province(a.db, a.counties, a.villages, seed=a.seed)
    print(f"synthetic province ({a.counties} counties): " + ", ".join(f"{k} {v:,}" for k, v in rows.items())
          + f"; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
