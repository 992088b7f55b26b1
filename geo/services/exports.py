"""Files written for a download: a registry layer (``atlas export`` over HTTP), written into a
temporary folder that the caller removes with :func:`remove_download` once it is sent.
Personal fields are included only when asked for by a caller allowed to see them, and such
an export is audited in the transaction that read them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from geo.audit import Actor
from geo.errors import Forbidden
from geo.io.export import ExportResult, export_layer, suffix_for
from geo.layers import get_layer
from geo.scratch import holding, scratch_root
from geo.services.personal import personal_read
from geo.storage import Bind

T = TypeVar("T")


def write_download(name: str, write: Callable[[Path], T]) -> tuple[Path, T]:
    """``write(path)`` for a file called ``name`` in a new temporary folder; the folder is
    removed again when writing fails.

    Returns
    -------
    tuple
        The file's path (remove it with :func:`remove_download`) and what ``write`` returned.
    """
    folder = Path(tempfile.mkdtemp(prefix="export-", dir=scratch_root()))  # left by a kill: removed at start-up
    try:
        with holding(folder):  # an app starting meanwhile must not remove it as stale
            path = folder / name
            return path, write(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def remove_download(path: Path) -> None:
    """Remove a file of :func:`write_download` and its temporary folder."""
    shutil.rmtree(Path(path).parent, ignore_errors=True)


def export_download(bind: Bind, layer: str, *, format: str, township: int | Sequence[int] | None,
                    include_pii: bool, may_see_names: bool, actor: Actor | None) -> tuple[Path, ExportResult]:
    """Write ``layer`` (of ``township``) as ``format`` into a temporary folder.

    Parameters
    ----------
    include_pii
        Include household heads' names and ID numbers (ignored for a layer without
        personal fields); the read is audited as ``actor`` in its transaction.
    may_see_names
        Whether the caller's role may see them.

    Raises
    ------
    Forbidden
        ``include_pii`` from a caller who may not see names.
    NotFound, ValidationError
        Unknown layer, township or format.
    """
    if include_pii:
        if not get_layer(layer).pii_columns:
            include_pii = False  # the layer has no personal fields: nothing to include
        elif not may_see_names:
            raise Forbidden("your role may not see household heads' names or ID numbers; leave include_pii out")
    name = f"{layer}{suffix_for(format)}"
    if not include_pii:
        return write_download(name, lambda path: export_layer(bind, layer, path, format=format, township=township))

    def write(path: Path) -> ExportResult:
        with personal_read(bind, actor=actor, layer=layer, action="export_pii") as read:
            result = export_layer(read.conn, layer, path, format=format, township=township, include_pii=True)
            read.after = {"rows": result.rows, "format": format, "township": township}
        return result

    return write_download(name, write)
