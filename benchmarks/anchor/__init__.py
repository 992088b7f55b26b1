"""The code measured against: the roads analysis and road network as they were before issue 19,
read from git at :data:`BASELINE` (not copied into the tree) and imported as modules of their
own. Used by the benchmarks only, never by the package."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

#: The commit of main before the near-linear roads analysis (issue 19).
BASELINE = "47bd50d"
ROOT = Path(__file__).resolve().parents[2]


def _source(path: str, rev: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], capture_output=True, text=True,
                          check=True).stdout


def _module(name: str, text: str, folder: Path) -> ModuleType:
    file = folder / f"{name}.py"
    file.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def old_roads(rev: str = BASELINE) -> ModuleType:
    """``geo.analysis.roads`` as of ``rev``, over ``geo.network`` as of ``rev``."""
    folder = Path(tempfile.mkdtemp(prefix="atlas-anchor-"))
    _module("anchor_network", _source("geo/network.py", rev), folder)
    roads = _source("geo/analysis/roads.py", rev).replace(
        "from geo.network import RoadNetwork, build_network", "from anchor_network import RoadNetwork, build_network")
    return _module("anchor_roads", roads, folder)
