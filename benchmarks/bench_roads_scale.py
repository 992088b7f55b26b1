"""The roads analysis on synthetic counties 10, 30 and 100 times the demo: today's code against
the code before issue 19 (read from git by ``benchmarks/anchor``), on the same data.

    .venv/bin/python benchmarks/bench_roads_scale.py [--scales 10 30 100] [--runs 1] [--old]

Each (scale, code) runs in a fresh process: the county is generated (``synthetic_county``),
then the analysis is timed (CPU seconds of the process, steadier than wall-clock on a shared
machine; wall-clock beside it) and the process's peak resident memory is read at the end
(``ru_maxrss``: the frames, loaded from a pickle made once per scale, included). The growth exponent between two scales is
``log(t2 / t1) / log(s2 / s1)``. The machine's load (``os.getloadavg``) is printed with each
figure. Without ``--old`` only today's code runs (the old code takes minutes at 100x).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(scale: int, code: str, runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    if code == "old":
        from benchmarks.anchor import old_roads

        analyze_roads = old_roads().analyze_roads
    else:
        from geo.analysis.roads import analyze_roads
    cached = Path(tempfile.gettempdir()) / f"atlas-synthetic-county-x{scale}.pickle"
    if not cached.exists():  # generated once, in a process of its own (its peak is not the analysis's)
        subprocess.run([sys.executable, "-c", "import pickle, sys; sys.path.insert(0, sys.argv[1]); "
                        "from benchmarks.synthetic_county import synthetic_county; "
                        "pickle.dump(synthetic_county(int(sys.argv[2])), open(sys.argv[3], 'wb'))",
                        str(ROOT), str(scale), str(cached)], check=True)
    with cached.open("rb") as stream:
        f = pickle.load(stream)
    args = (f["villages"], f["settlements"], f["roads"], f["townships"])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    cpu, wall = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = analyze_roads(*args)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    print(json.dumps({"scale": scale, "code": code, "cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall),
                      "rss_before_gib": before, "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                      "villages": len(f["villages"]), "roads": len(f["roads"]),
                      "links": len(result.tables["links"]), "joined": int(result.tables["villages"]["joined_to_seat"].fillna(False).sum()),
                      "load": os.getloadavg()[0]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--old", action="store_true", help="also run the code before issue 19")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.child:
        _child(int(a.child[0]), a.child[1], a.runs)
        return
    rows = {}
    for scale in a.scales:
        for code in (("new", "old") if a.old else ("new",)):
            out = subprocess.run([sys.executable, __file__, "--child", str(scale), code, "--runs", str(a.runs)],
                                 capture_output=True, text=True, check=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            rows[scale, code] = row
            print(f"x{scale:<4} {code}: CPU {row['cpu_s']:7.2f} s  wall {row['wall_s']:7.2f} s  "
                  f"peak RSS {row['peak_gib']:.2f} GiB (frames alone {row['rss_before_gib']:.2f})  "
                  f"{row['villages']:,} villages, {row['roads']:,} road pieces, {row['links']} links  "
                  f"load {row['load']:.2f}", flush=True)
        if a.old:
            new, old = rows[scale, "new"], rows[scale, "old"]
            same = (new["links"], new["joined"]) == (old["links"], old["joined"])
            print(f"x{scale:<4} old / new CPU: {old['cpu_s'] / new['cpu_s']:.1f}x  (same links and joined counts: {same})")
    for code in ("new", "old"):
        scales = [s for s in a.scales if (s, code) in rows]
        for s1, s2 in zip(scales, scales[1:]):
            t1, t2 = rows[s1, code]["cpu_s"], rows[s2, code]["cpu_s"]
            print(f"{code} exponent x{s1} -> x{s2}: {math.log(t2 / t1) / math.log(s2 / s1):.2f}")
        if len(scales) > 2:
            s1, s2 = scales[0], scales[-1]
            t1, t2 = rows[s1, code]["cpu_s"], rows[s2, code]["cpu_s"]
            print(f"{code} exponent x{s1} -> x{s2}: {math.log(t2 / t1) / math.log(s2 / s1):.2f}")


if __name__ == "__main__":
    main()
