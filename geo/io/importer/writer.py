"""The writer that checks frames of canonical fields against a layer and upserts the rows
that pass, through a staging table (:mod:`geo.storage.staging`) where the layer allows.

A chunk of a large file can be written in the background (``write(..., later=True)``): the
database writes chunk N while the importer reads and checks chunk N+1 (on two cores the
two overlap: the database drivers release the GIL while a statement runs). The connection
is used by one thread at a time: every use of it by the writer waits for the write before
(:meth:`Writer.finish`), and so must the caller before it commits or rolls back.

An exclusive writer (``atlas import --exclusive``) takes each layer's table before its first
write and sets its indexes and foreign keys aside (:func:`geo.storage.bulk.set_aside_upkeep`),
on the import's connection while no write runs in the background; :meth:`Writer.restore`
rebuilds them after the last write, before the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import shapely
from sqlalchemy.engine import Connection

from geo import storage
from geo.io.importer.checks import RowChecks
from geo.io.importer.keys import KeyRegistry
from geo.io.importer.report import ImportReport, LayerCounts
from geo.io.references import Resolver
from geo.storage.areas import code_level
from geo.io.validate import combine
from geo.layers import get_layer


class Writer(RowChecks):
    """Checks frames of canonical fields against a layer and upserts the rows that pass."""

    def __init__(self, conn: Connection, report: ImportReport, *, strict: bool, source: str,
                 fixed: dict | None = None, exclusive: bool = False):
        self.conn = conn
        self.exclusive = exclusive
        self._set_aside: dict[str, storage.SetAside | None] = {}  # layer -> what its exclusive write dropped
        self.fixed = dict(fixed or {})  # --set: field -> value for every row of the import's layer
        self.report = report
        self.strict = strict
        self.source = source
        self.resolver = Resolver(conn, before_read=self.finish)  # a background write first
        self.keys: dict[tuple[str, tuple[str, ...]], KeyRegistry] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._pending: tuple[Future, Callable[[list], None]] | None = None

    def write(self, layer: str, frame: pd.DataFrame, rows: Sequence[int | None],
              sheets: Sequence[str | None] | None = None, *, later: bool = False) -> pd.Series | None:
        """Check and upsert; return the written row ids aligned with ``frame`` (NA where refused).

        With ``later``, rows written through a staging table are written by a background
        thread and None is returned; the counts reach the report, and an error of the write
        is raised, by the next :meth:`write` or by :meth:`finish`.
        """
        spec = get_layer(layer)
        frame = self._with_fixed(spec.name, frame.reset_index(drop=True))
        if spec.name == "areas" and "code" in frame.columns and "level" not in frame.columns:
            # 级别 may be left out: a GB/T 2260 code says its level (a bad code is refused later)
            frame = frame.assign(level=[code_level(str(c).strip()) if isinstance(c, str) and len(c.strip()) == 6
                                        else None for c in frame["code"]])
        frame, code_reasons = self._check_codes(spec.name, frame)
        sheets = list(sheets) if sheets is not None else [None] * len(frame)
        out = pd.DataFrame(index=frame.index)
        reasons: list[pd.Series] = [code_reasons]
        reasons += self._check_attributes(spec, frame, out)
        reasons.append(self._check_reference_texts(spec, frame))
        reasons.append(self._check_count_order(spec, out))
        geometry_reasons, repairs = self._check_geometries(spec, frame, out)
        reasons += geometry_reasons
        reasons += self._resolve_parents(spec, frame, out)  # the resolver's reads wait for a write
        refused = combine(reasons, frame.index)
        prepared = self._prepare(spec, out, refused)
        self.finish()  # everything above needs no database (or waited); what follows uses the connection
        if self.exclusive and spec.name not in self._set_aside:
            self._set_aside[spec.name] = storage.set_aside_upkeep(self.conn, spec.name)
        # Where the table's upkeep is set aside (an exclusive write on PostGIS), rows whose
        # checks do not depend on being new are staged and matched in the background too: the
        # database keeps up, and the checks are the slower side. Elsewhere the database is, and
        # its staging statements, run beside the checks, wait for the GIL (100,000 households on
        # PostGIS: exclusive 2.27 -> 2.03 s, normal 2.59 -> 2.94 s; SpatiaLite 0.64x -> 0.61x of
        # ogr2ogr; benchmarks/bench_import.py).
        deferred = later and self._set_aside.get(spec.name) is not None and prepared is not None \
            and not self._required_needs_new(spec, frame, out, refused)
        staged = None if deferred else self._stage(prepared)
        targets = None if staged is None else self._targets(staged, len(frame))
        refused = self._check_required(spec, frame, out, refused, targets=targets)
        rows_array = np.array([r if r is not None else -1 for r in rows], dtype=np.int64)
        refused = self._repeated_keys(spec, out, rows_array, refused)
        ok = refused.isna().to_numpy()
        repaired = combine(repairs, frame.index)
        for i in np.flatnonzero(~ok):
            self.report.refuse(rows[i], refused.iat[i], layer=layer, sheet=sheets[i])
        for i in np.flatnonzero(ok & repaired.notna().to_numpy()):
            self.report.repair(rows[i], repaired.iat[i], layer=layer, sheet=sheets[i])
        if deferred:
            return self._upsert(spec, out, ok, prepared=prepared, later=True)
        return self._upsert(spec, out, ok, staged, later=later)

    def finish(self) -> None:
        """Wait for the write running in the background, if any; its counts into the report.

        Raises
        ------
        Conflict
            The database refused the rows (as :meth:`write` raises it).
        """
        if self._pending is None:
            return
        future, apply = self._pending
        try:
            results = future.result()
        finally:
            if future.done():  # not when interrupted while waiting: close() must wait still
                self._pending = None
        apply(results)

    def restore(self) -> None:
        """After the last write (:meth:`finish`), before the commit: rebuild the indexes and
        foreign keys an exclusive writer set aside (nothing otherwise). A rollback instead
        restores them by itself.

        Raises
        ------
        sqlalchemy.exc.IntegrityError
            A written row breaks a foreign key (the import must roll back).
        """
        self.finish()
        for aside in self._set_aside.values():
            if aside is not None:
                aside.restore(self.conn)
        self._set_aside = {name: None for name in self._set_aside}

    def close(self) -> None:
        """Wait for a background write and stop its thread, its outcome ignored: for the
        way out of an import that failed (the transaction is rolled back next). After
        :meth:`finish`, nothing is left to wait for."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending[0].exception()  # waits; the error that ends the import is the caller's
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _prepare(self, spec, out: pd.DataFrame, refused: pd.Series) -> list[tuple[pd.Index, storage.PreparedRows]] | None:
        """The rows that passed so far, converted and encoded for staging tables (one per
        part, see :meth:`_parts`), without the database; None where the layer is written
        row by row (areas, townships and villages, whose hierarchy rules need the rows)."""
        ok = refused.isna().to_numpy()
        if not ok.any():
            return None
        parts = [self._storable(spec, part) for part in self._parts(spec, out.loc[ok])]
        if not all(storage.can_stage(spec.name, part) for part in parts):
            return None
        dialect = self.conn.dialect
        return [(part.index, storage.prepare_rows(dialect, spec.name, part, source=self.source)) for part in parts]

    def _stage(self, prepared) -> list[tuple[pd.Index, storage.StagedRows]] | None:
        """The prepared rows in staging tables, matched to the stored rows in one join."""
        if prepared is None:
            return None
        staged = []
        try:
            for index, rows in prepared:
                staged.append((index, storage.load_rows(self.conn, rows)))
        except BaseException:
            for _, rows in staged:
                rows.close()
            raise
        return staged

    @staticmethod
    def _targets(staged, size: int) -> np.ndarray:
        """Per row of the frame: the stored row it updates, 0 where it is new (or refused)."""
        targets = np.zeros(size, dtype=np.int64)
        for index, rows in staged:
            targets[index.to_numpy()] = rows.targets
        return targets

    def _upsert(self, spec, out: pd.DataFrame, ok: np.ndarray, staged=None, *, prepared=None,
                later: bool = False) -> pd.Series | None:
        """Write the rows that passed: through their staging tables (``staged``; or
        ``prepared``, staged by the background write itself), else row by row."""
        ids = pd.Series(pd.array([None] * len(out), dtype="Int64"), index=out.index)
        counts = self.report.layers.setdefault(spec.name, LayerCounts())
        if staged is not None:
            staged = _unless_updated_twice(staged, ok)
        if staged is None and prepared is None:
            self._write_in_turn(spec, out, ok, ids, counts)
            return ids

        def apply(results: list | None) -> None:
            if results is None:  # staged in the background, and two rows update one stored row
                self._write_in_turn(spec, out, ok, ids, counts)
                return
            for index, result in results:
                keep = ok[index.to_numpy()]
                counts.inserted += result.inserted
                counts.updated += result.updated
                counts.unchanged += result.unchanged
                ids.loc[index[keep]] = np.asarray(result.ids, dtype=np.int64)[keep]
            if ok.any():
                self.resolver.invalidate(spec.name)

        if staged is not None:
            job = partial(_write_parts, staged, ok)
        else:
            job = partial(self._stage_and_write, prepared, ok)
        if later:
            self.resolver.invalidate(spec.name)  # read again only after the write (before_read)
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atlas-import-write")
            self._pending = (self._executor.submit(job), apply)
            return None
        apply(job())
        return ids

    def _stage_and_write(self, prepared, ok: np.ndarray) -> list | None:
        """Stage, match and write (the background write of rows whose checks needed no match);
        None, nothing written, where two rows update one stored row (written in turn then)."""
        staged = _unless_updated_twice(self._stage(prepared), ok)
        return None if staged is None else _write_parts(staged, ok)

    def _write_in_turn(self, spec, out: pd.DataFrame, ok: np.ndarray, ids: pd.Series, counts: LayerCounts) -> None:
        """Row by row through :func:`geo.storage.write_layer` (layers not staged, and rows of
        which two update one stored row)."""
        if not ok.any():
            return
        for part in [p for level in self._levels(spec, out.loc[ok]) for p in self._parts(spec, level)]:
            result = storage.write_layer(self.conn, spec.name, self._storable(spec, part), source=self.source)
            counts.inserted += result.inserted
            counts.updated += result.updated
            counts.unchanged += result.unchanged
            ids.loc[part.index] = result.ids
        self.resolver.invalidate(spec.name)

    @staticmethod
    def _levels(spec, frame: pd.DataFrame) -> list[pd.DataFrame]:
        """Areas are written provinces first, then prefectures, then counties, so a county finds
        a parent given in the same file; other layers in one piece."""
        if spec.name != "areas" or "code" not in frame.columns:
            return [frame]
        rank = frame["code"].map(lambda c: ("province", "prefecture", "county").index(code_level(str(c)))
                                 if isinstance(c, str) else 2)
        return [frame[rank == r] for r in range(3) if (rank == r).any()]

    @staticmethod
    def _parts(spec, frame: pd.DataFrame) -> list[pd.DataFrame]:
        """Rows without a primary geometry are written without the geometry column, so an
        update never erases a stored position (a table row with empty coordinates)."""
        if spec.geometry not in frame.columns:
            return [frame]
        missing = shapely.is_missing(np.asarray(frame[spec.geometry].values, dtype=object))
        parts = []
        if (~missing).any():
            parts.append(frame.loc[~missing])
        if missing.any():
            parts.append(frame.loc[missing].drop(columns=[spec.geometry]))
        return parts


def _write_parts(staged, ok: np.ndarray) -> list:
    """Write each staged part's kept rows (a part's staging table is dropped by its write);
    ``(index, result)`` per part."""
    return [(index, rows.write(ok[index.to_numpy()])) for index, rows in staged]


def _unless_updated_twice(staged, ok: np.ndarray):
    """``staged``, or None (its staging tables dropped) where two kept rows update one stored
    row: those are written in turn."""
    matched = Writer._targets(staged, len(ok))[ok]
    matched = matched[matched != 0]
    if len(np.unique(matched)) == len(matched):
        return staged
    for _, rows in staged:
        rows.close()
    return None
