"""A deterministic synthetic county ``scale`` times the Shapotou demo, for benchmarks.

The generator lives in the package (:mod:`geo.demo.synthetic`, also behind ``atlas demo
synth``); this module keeps the benchmarks' import path. At the default scale of 10: 70
townships, 450 villages, about 3,000 settlements, 23,000 road pieces, 100,000 households,
2,000 water facilities, 690 pairings and 650 PV projects. Everything is invented
(``source = 'benchmark:synthetic'``, names starting with 合成).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.demo.synthetic import ORIGIN, SEED, SOURCE, UTM, synthetic_county  # noqa: E402

__all__ = ["ORIGIN", "SEED", "SOURCE", "UTM", "synthetic_county"]

if __name__ == "__main__":  # print the sizes
    for name, frame in synthetic_county().items():
        print(f"{name:<24}{len(frame):>8}")
