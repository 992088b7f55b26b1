"""The pure packages stay pure: importing an analysis, a PV computation, the inspection draw
and tours, or a map builder loads no database code, no web framework and (outside ``maps``)
no Folium. Each package is imported module by module in a fresh interpreter, which reports
the first module after which a forbidden one was loaded."""

from __future__ import annotations

import ast
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
    "geo.inspection": (),
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


#: Re-exports of storage code that once lived outside ``geo/storage/``; their callers import
#: ``geo.storage.accounts`` and ``geo.storage.inspection`` directly, and they stay gone.
REMOVED_SHIMS = ("geo.accounts", "geo.inspection.store")


def _imported_modules(tree: ast.AST) -> set[str]:
    """Every module an ``import`` / ``from ... import`` names, with ``from a import b`` giving
    both ``a`` and ``a.b`` (``b`` may be a submodule)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def test_the_removed_storage_shims_stay_removed():
    for name in REMOVED_SHIMS:
        path = ROOT.joinpath(*name.split("."))
        assert not path.with_suffix(".py").exists() and not path.is_dir(), \
            f"{name} is back: import geo.storage.accounts / geo.storage.inspection instead"
    offenders = []
    for folder in ("api", "geo", "maps", "tests", "benchmarks", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            imported = _imported_modules(ast.parse(path.read_text(encoding="utf-8"), str(path)))
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in REMOVED_SHIMS if name in imported]
    assert offenders == []


def test_the_shim_check_sees_an_import():
    tree = ast.parse("from geo import accounts\nfrom geo.inspection import store as s\n")
    assert set(REMOVED_SHIMS) <= _imported_modules(tree)
