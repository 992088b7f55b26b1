"""Imports: one file imported (``atlas import``, ``POST /api/imports``), and from the 数据导入
page a file kept between its dry run and its commit, the layer guessed from its headers, and
the history of committed imports. Accounts limited to some townships import nothing
(:func:`refuse_limited`): the importer cannot check that every row of a file lies inside them.

The page uploads a file once: it is kept in a private staging folder under the scratch root
(:mod:`geo.scratch`) with the account that uploaded it, checked with a dry run, and imported
from there when the visitor confirms. Only that account may use or discard it; staged files
older than :data:`STAGED_FOR_S` are removed when another file is staged, and those a stopped
server left behind when the next one starts (:func:`geo.scratch.remove_stale`).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo import audit, storage
from geo.errors import Forbidden, NotFound, ValidationError
from geo.io import import_file, sources
from geo.io.fields import header_table, match_header, normalise_header
from geo.io.importer.report import ImportReport
from geo.io.registry_forms import LAYOUT_LABEL, LAYOUT_LAYER, detect_layout
from geo.layers import LAYERS
from geo.scratch import scratch_root

#: A staged file is kept this long after its upload [s].
STAGED_FOR_S = 3600
#: Rows of a table searched for its header row (as the importer does).
HEADER_ROWS = 40
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_PREFIX = "staged-"


@dataclass
class Staged:
    """A file uploaded for import, waiting for its commit."""

    token: str
    path: Path
    name: str
    owner: int


def refuse_limited(township_ids: Sequence[int] | None) -> None:
    """Refuse an import by an account limited to some townships (``township_ids`` not None).

    Raises
    ------
    Forbidden
        The account is limited to some townships.
    """
    if township_ids is not None:
        raise Forbidden("imports are refused for accounts limited to some townships: the importer cannot check "
                        "that every row of a file lies inside them; ask a planner or administrator without a "
                        "township limit to import the file")


def import_path(bind: storage.Bind, path: Path, *, layer: str, **options: Any) -> ImportReport:
    """One file imported by :func:`geo.io.import_file` (every option as there), for ``atlas
    import`` and ``POST /api/imports`` (which calls :func:`refuse_limited` before it saves the
    upload)."""
    return import_file(bind, path, layer=layer, **options)


def stage(owner: int, name: str) -> Staged:
    """A new staging folder for the upload ``name`` of account ``owner`` (the caller writes the
    file to ``path``); staged files older than :data:`STAGED_FOR_S` are removed first."""
    root = scratch_root()
    for old in root.glob(f"{_PREFIX}*"):
        try:
            if time.time() - old.stat().st_mtime > STAGED_FOR_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue
    token = secrets.token_hex(16)
    folder = root / f"{_PREFIX}{token}"
    folder.mkdir(mode=0o700)
    (folder / "owner.json").write_text(json.dumps({"owner": owner, "name": name}), encoding="utf-8")
    (folder / "file").mkdir()
    return Staged(token, folder / "file" / name, name, owner)


def staged(token: str, owner: int) -> Staged:
    """The file staged under ``token`` by account ``owner``.

    Raises
    ------
    NotFound
        No such file for this account (never uploaded, already imported or discarded,
        expired, or uploaded by someone else).
    """
    folder = scratch_root() / f"{_PREFIX}{token}"
    try:
        meta = json.loads((folder / "owner.json").read_text(encoding="utf-8")) if _TOKEN.match(token) else None
    except (OSError, ValueError):
        meta = None
    if not meta or meta.get("owner") != owner or not (folder / "file" / meta["name"]).exists():
        raise NotFound("the uploaded file is no longer kept (imported, discarded, older than an hour, or "
                       "uploaded by another account); upload it again")
    return Staged(token, folder / "file" / meta["name"], meta["name"], owner)


def discard(item: Staged) -> None:
    """Remove a staged file."""
    shutil.rmtree(item.path.parent.parent, ignore_errors=True)


@dataclass
class LayerGuess:
    """Which layer a file's headers fit best, and how well each layer fits."""

    layer: str | None
    form: str | None = None  # the seed-000 form recognised (附件1 ...)
    scores: dict[str, float] = field(default_factory=dict)


def _headers(path: Path, fmt: str) -> list[list[Any]]:
    """Candidate header rows of a file: the first rows of each table, or a vector file's fields."""
    if fmt in ("csv", "xlsx"):
        codec = sources.text_encoding(path, None)[0] if fmt == "csv" else None
        out: list[list[Any]] = []
        with sources.opened_sheets(path, kind=fmt, codec=codec) as sheets:
            for sheet in sheets:
                for number, cells in sheet.rows():
                    out.append(cells)
                    if number >= HEADER_ROWS:
                        break
        return out
    import pyogrio

    return [list(pyogrio.read_info(path)["fields"])]


def guess_layer(path: Path) -> LayerGuess:
    """The layer whose column names the file's headers match best.

    A seed-000 form (附件1-5) gives its own layer. Otherwise each header counts for every layer
    it names a field of, weighted by how few layers share it (``名称`` counts little, ``设施类型``
    much). Files whose headers cannot be read (a zip, a broken file) guess nothing: the
    import itself says what is wrong.
    """
    fmt = sources.SUFFIXES.get(path.suffix.lower())
    if fmt in (None, "zip", "dbf", "shp"):
        return LayerGuess(None)
    try:
        rows = _headers(path, fmt)
    except Exception:  # noqa: BLE001 - a guess only; the import reports the file's problem
        return LayerGuess(None)
    layout = detect_layout(rows) if fmt in ("csv", "xlsx") else None
    if layout is not None:
        return LayerGuess(LAYOUT_LAYER[layout], LAYOUT_LABEL[layout])
    tables = {name: header_table(name) for name in LAYERS}
    best: dict[str, float] = {}
    for cells in rows:
        texts = {normalise_header(c) for c in cells if c is not None and str(c).strip()}
        matches = {t: [n for n in LAYERS if match_header(n, t, tables[n])] for t in texts}
        for name in LAYERS:
            score = sum(1 / len(hits) for hits in matches.values() if name in hits)
            best[name] = max(best.get(name, 0.0), round(score, 3))
    ranked = sorted(best.items(), key=lambda item: -item[1])
    layer = ranked[0][0] if ranked and ranked[0][1] > 0 and (len(ranked) < 2 or ranked[0][1] > ranked[1][1]) else None
    return LayerGuess(layer, None, {k: v for k, v in ranked if v > 0})


def import_staged(bind: storage.Bind, item: Staged, *, layer: str, sheet: str | None = None,
                  source_layer: str | None = None, crs: str | None = None, encoding: str | None = None,
                  mapping: Sequence[str] = (), year: int | None = None, dry_run: bool = True,
                  strict: bool = True, actor=None) -> ImportReport:
    """A dry run or the import of a staged file (:func:`geo.io.import_file`); a committed import
    removes the staged file and is audited with ``actor``."""
    report = import_file(bind, item.path, layer=layer, sheet=sheet, source_layer=source_layer, crs=crs,
                         encoding=encoding, mapping=list(mapping) or None, year=year, dry_run=dry_run, strict=strict,
                         display_name=item.name, source=f"import:{item.name}"[:200], actor=actor)
    if report.committed:
        discard(item)
    return report


def history(bind: storage.Bind, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest committed imports, newest first: when, who, file, layer and counts."""
    entries, _ = audit.read_entries(bind, action="import", limit=limit)
    out = []
    for entry in entries:
        after = entry.get("after") or {}
        if isinstance(after, str):
            try:
                after = json.loads(after)
            except ValueError:
                after = {}
        out.append({"at": entry.get("at"), "user": entry.get("user_name"), "layer": entry.get("layer"),
                    **{k: after.get(k) for k in ("file", "format", "read", "inserted", "updated", "unchanged",
                                                 "refused", "repaired")}})
    return out


def check_layer_name(layer: str) -> str:
    """``layer`` when it is a layer files can be imported into."""
    if layer not in LAYERS:
        raise ValidationError(f"unknown layer {layer!r}; choose one of: {', '.join(LAYERS)}")
    return layer
