"""The pure packages stay pure: importing an analysis, a PV computation, the inspection draw
and tours, or a map builder loads no database code, no web framework and (outside ``maps``)
no Folium. Each package is imported module by module in a fresh interpreter, which reports
the first module after which a forbidden one was loaded."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DATABASE_AND_WEB = ("sqlalchemy", "geoalchemy2", "geo.storage", "geo.db", "fastapi")

#: Package -> modules left out (they are where the package meets the registry on purpose).
PURE = {
    "geo.analysis": (),
    "geo.pv": (),
    "geo.library": (),
    "geo.inspection": ("geo.inspection.store",),
    "geo.monitoring": (),
    "maps": ("maps.pages",),
}

CHECK = """
import importlib, json, sys
forbidden, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in modules:
    importlib.import_module(name)
    loaded = [f for f in forbidden if f in sys.modules]
    if loaded:
        print(json.dumps({"module": name, "loaded": loaded}))
        break
else:
    print(json.dumps(None))
"""


def _modules(package: str) -> list[str]:
    path = ROOT.joinpath(*package.split("."))
    names = [package] + [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
    return [n for n in names if n not in PURE[package]]


@pytest.mark.parametrize("package", list(PURE))
def test_pure_package_imports_no_database_web_or_folium(package):
    forbidden = list(DATABASE_AND_WEB) + ([] if package == "maps" else ["folium"])
    modules = _modules(package)
    assert len(modules) > 1
    done = subprocess.run([sys.executable, "-c", CHECK, json.dumps(forbidden), json.dumps(modules)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) is None, done.stdout


def test_the_check_sees_a_database_import():
    done = subprocess.run([sys.executable, "-c", CHECK, json.dumps(["sqlalchemy"]), json.dumps(["geo.storage"])],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"module": "geo.storage", "loaded": ["sqlalchemy"]}
