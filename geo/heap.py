"""The process's long-lived objects kept out of Python's full garbage collections.

A process that has loaded the atlas's libraries (pandas, geopandas, shapely, SQLAlchemy,
FastAPI, pyproj) holds about 230,000 objects the cyclic garbage collector tracks: functions,
classes, module dictionaries. Each full (generation 2) collection visits all of them, 0.1-0.25 s
on the 2-core development machine, and an import of 100,000 rows allocates enough to start
several: about a quarter of the import's time went there. In a server, the same pause lands on
whichever request happened to trigger it.

:func:`settle` moves the objects alive at that moment to the collector's permanent generation
(:func:`gc.freeze`, which Python provides for this), once per process: later full collections
visit only what was made afterwards. Reference counting still frees frozen objects as before;
only a frozen object that later becomes part of an unreachable cycle stays in memory, which is
why this runs at start-up (the server, before its first request) or at the start of the first
bulk job of a command, not again and again.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_settled = False


def settle() -> bool:
    """Freeze the objects alive now, the first time it is called in this process; True then,
    False on later calls (they do nothing)."""
    global _settled
    with _lock:
        if _settled:
            return False
        _settled = True
        gc.freeze()
        return True
