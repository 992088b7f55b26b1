"""Natural keys repeated anywhere in one file, remembered compactly across chunks."""

from __future__ import annotations

import numpy as np


class KeyRegistry:
    """Natural keys already seen in this import, 16 bytes a row (hash and row number), so a
    key repeated many chunks later is still caught without holding the rows."""

    def __init__(self):
        self._hashes: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []

    def check_and_add(self, hashes: np.ndarray, rows: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Row number of the earlier row with the same key (0 where the key is new; -1 for an
        earlier row without a number), and remember the new keys."""
        first = np.zeros(len(hashes), dtype=np.int64)
        candidates = np.flatnonzero(valid)
        for seen_hashes, seen_rows in zip(self._hashes, self._rows):
            pos = np.minimum(np.searchsorted(seen_hashes, hashes[candidates]), len(seen_hashes) - 1)
            hit = seen_hashes[pos] == hashes[candidates]
            first[candidates[hit]] = seen_rows[pos[hit]]
        fresh = candidates[first[candidates] == 0]
        if len(fresh):
            order = fresh[np.argsort(hashes[fresh], kind="stable")]
            same = np.zeros(len(order), dtype=bool)
            same[1:] = hashes[order[1:]] == hashes[order[:-1]]
            start = np.maximum.accumulate(np.where(~same, np.arange(len(order)), 0))
            repeated = order[same]
            first[repeated] = rows[order[start[same]]]
            kept = order[~same]
            self._hashes.append(hashes[kept])
            self._rows.append(rows[kept])
        return first
