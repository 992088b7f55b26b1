"""An analysis run county by county as tasks on Dask distributed (``atlas analyze NAME --by
county``).

Each county (:func:`geo.analysis.partitions.county_partitions`: the first six digits of its
townships' codes) is one task: the worker opens the database itself, reads the county's
townships with the margin the roads and water need (:func:`geo.services.analyses.run_analysis`
with the county's township ids: roads within ``ROAD_MARGIN_M`` of its area), runs the pure
analysis and sends the result back; :func:`geo.analysis.partitions.combine_results` joins the
counties and redoes the global steps (the ranking, cadre loads).

Where the tasks run: a ``LocalCluster`` of worker *processes* (one thread each: the analyses
are GEOS and NumPy work that holds the GIL in places) started for the run and closed after,
or any running scheduler given by address (``tcp://host:8786``): a scheduler on another
machine, a ``dask-jobqueue`` cluster on a batch system, a Kubernetes cluster; the workers
need this package importable and the database URL reachable (a PostGIS server, or a
SpatiaLite file on a shared path).

Failures: a worker that dies mid-task (out of memory, killed) has its task run again on
another worker by the scheduler (up to ``distributed.scheduler.allowed-failures`` times,
3 by default); past that, or when a task raises, the whole run raises. A run returns every
county or nothing.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from geo import storage
from geo.analysis.partitions import combine_results, county_partitions
from geo.analysis.result import AnalysisResult
from geo.errors import AtlasError, PartitionFailed, ValidationError

#: Seconds to wait for a scheduler given by address before saying it is not there.
CONNECT_TIMEOUT_S = 10
#: Each task's name starts with this, then the analysis and the county (shown by dashboards).
TASK_PREFIX = "atlas-county"

Progress = Callable[[int, int, str], None]


def county_task(url: str, analysis: str, township_ids: list[int], options: dict[str, Any]) -> AnalysisResult:
    """One county's analysis, run on a worker: its own engine, its townships only.

    Module-level and importable, so a worker (another process or machine) can unpickle it.
    """
    from geo.db import make_engine
    from geo.services.analyses import run_analysis

    engine = make_engine(url)
    try:
        return run_analysis(engine, analysis, township=township_ids, cadre_households="area", **options)
    finally:
        engine.dispose()


def counties(bind: storage.Bind) -> dict[str, list[int]]:
    """County code -> township ids of the registry (see :func:`county_partitions`)."""
    towns = storage.read_layer(bind, "townships", columns=["code", "county_id"], with_names=False)
    areas = storage.read_layer(bind, "areas", columns=["code"], with_names=False)
    towns["county_code"] = towns["county_id"].map(dict(zip(areas["id"], areas["code"])))
    return county_partitions(towns)


def run_by_county(
    url: str,
    analysis: str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> AnalysisResult:
    """Run ``analysis`` on every county of the registry at ``url`` as Dask tasks and combine.

    Parameters
    ----------
    url
        Database URL the workers open (with its password: the tasks carry it to the workers).
    analysis
        ``coverage``, ``roads``, ``water``, ``exit`` or ``priority``.
    workers
        Worker processes of the local cluster (default: 2, or fewer counties).
    scheduler
        Address of a running scheduler (``tcp://host:8786``) instead of a local cluster.
    progress
        Called as ``progress(done, total, county_code)`` after each county finishes.
    **options
        Options of the analysis (as for :func:`geo.services.analyses.run_analysis`).

    Raises
    ------
    ValidationError
        Both ``workers`` and ``scheduler``, fewer than one worker, a scheduler address that
        answers nothing, or an analysis option that cannot be split by county (a budget).
    PartitionFailed
        A county's task did not finish (its worker died too often); nothing is returned.
    NotFound
        Unknown analysis.
    """
    from geo.analysis.catalog import ANALYSES
    from geo.db import make_engine
    from geo.errors import NotFound

    if analysis not in ANALYSES:
        raise NotFound(f"unknown analysis {analysis!r}; analyses: {', '.join(ANALYSES)}")
    if workers is not None and scheduler is not None:
        raise ValidationError("give --workers (a local cluster) or --scheduler (a running one), not both")
    if workers is not None and workers < 1:
        raise ValidationError(f"--workers must be at least 1, not {workers}")
    if analysis == "priority" and options.get("budget_wan_yuan") is not None:
        raise ValidationError("a budget cannot be spent county by county: run the ranking with --budget "
                              "without --by county, or rank by county without a budget")
    engine = make_engine(url)
    try:
        parts = counties(engine)
    finally:
        engine.dispose()
    if not parts:
        raise ValidationError("the registry has no townships: nothing to partition by county")
    with _client(scheduler, workers or min(2, len(parts))) as client:
        results = _run(client, url, analysis, parts, options, progress)
    return combine_results([(code, results[code]) for code in parts], options=options)


#: Modules a local cluster's worker processes have imported before they start: Dask, and what a
#: county's task runs (the storage layer, the analyses, pandas and GeoPandas, and scipy's graphs
#: and k-d tree, which the road network imports only when it routes).
WORKER_PRELOAD = ("distributed", "geo.services.partitioned", "geo.services.analyses",
                  "scipy.sparse.csgraph", "scipy.spatial")


def local_cluster(workers: int):
    """A Dask ``LocalCluster`` of ``workers`` worker processes (one thread each) on this machine.

    The processes are forked from a server process (multiprocessing's ``forkserver``) that has
    imported :data:`WORKER_PRELOAD` once, rather than spawned as new interpreters that each
    import them (Dask's default): 3-5 s of CPU per worker otherwise, at every cluster's start.
    The server process stays for this process's lifetime, so a later cluster (the next job of
    a running ``atlas serve``) starts at once. Workers the nanny restarts later are spawned as
    usual."""
    import dask
    from distributed import LocalCluster
    from distributed.utils import get_mp_context

    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        # Dask sets its own preload list the first time it asks for the context; this one, set
        # after it, is the one the server process starts with (the first start only).
        get_mp_context().set_forkserver_preload(list(WORKER_PRELOAD))
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                            silence_logs=logging.CRITICAL)


class _client:
    """A Dask client on a running scheduler, or on a local cluster closed with the client."""

    def __init__(self, scheduler: str | None, workers: int):
        self.scheduler, self.workers = scheduler, workers
        self.cluster = self.client = None

    def __enter__(self):
        from distributed import Client

        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise ValidationError(
                    f"no Dask scheduler answers at {self.scheduler!r} within {CONNECT_TIMEOUT_S} s ({_reason(exc)}); "
                    "give the address a running scheduler prints (tcp://HOST:8786), or leave out --scheduler "
                    "to start a local cluster") from None
            return self.client
        self.cluster = local_cluster(self.workers)
        self.client = Client(self.cluster)
        return self.client

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _run(client, url: str, analysis: str, parts: dict[str, list[int]], options: dict, progress: Progress | None
         ) -> dict[str, AnalysisResult]:
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    futures = {client.submit(county_task, url, analysis, ids, options, key=f"{TASK_PREFIX}-{analysis}-{code}",
                             pure=False): code for code, ids in parts.items()}
    results: dict[str, AnalysisResult] = {}
    try:
        for future in as_completed(futures):
            code = futures[future]
            try:
                results[code] = future.result()
            except AtlasError:
                raise  # the analysis' own message (bad option, unknown township ...)
            except KilledWorker as exc:
                raise PartitionFailed(
                    f"county {code}: its task's worker died each time it ran ({_reason(exc)}); no result is "
                    "returned. Give the workers more memory, or fewer workers on this machine") from None
            except (FutureCancelledError, OSError) as exc:
                raise PartitionFailed(f"county {code}: the task was lost ({_reason(exc)}); no result is returned"
                                      ) from None
            if progress is not None:
                progress(len(results), len(parts), code)
    finally:
        for future in futures:
            future.cancel()
    missing = [code for code in parts if code not in results]
    if missing:  # never reached: as_completed yields every future or raises
        raise PartitionFailed(f"counties without a result: {', '.join(missing)}; no result is returned")
    return results


# ------------------------------------------------------------------------------ background jobs

#: Jobs kept (finished ones are dropped oldest first beyond this).
JOBS_KEPT = 16


@dataclass
class Job:
    """A ``--by county`` run in the background of the server: its state and, once done, its
    result (kept in this process's memory; a restart forgets it)."""

    id: str
    analysis: str
    state: str = "queued"  # queued, running, done, failed
    done: int = 0
    total: int | None = None
    error: str | None = None
    result: AnalysisResult | None = field(default=None, repr=False)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: datetime | None = None

    def status(self) -> dict[str, Any]:
        """JSON-ready state (without the result)."""
        return {"id": self.id, "analysis": self.analysis, "state": self.state, "counties_done": self.done,
                "counties": self.total, "error": self.error, "created": self.created.isoformat(),
                "finished": self.finished.isoformat() if self.finished else None}


_JOBS: dict[str, Job] = {}
_JOBS_LOCK = threading.Lock()
#: One job computes at a time (each starts its own cluster of worker processes); the others
#: wait as ``queued``.
_RUNNING = threading.Semaphore(1)


def start_job(url: str, analysis: str, *, workers: int | None = None, scheduler: str | None = None,
              **options: Any) -> Job:
    """Start :func:`run_by_county` in a background thread and return its job at once (it
    waits as ``queued`` while another job computes).

    The job fails (state ``failed``, ``error`` the message) on any :class:`AtlasError`; it
    never holds part of a result.

    Raises
    ------
    PartitionFailed
        :data:`JOBS_KEPT` jobs are already queued or running.
    """
    job = Job(id=uuid.uuid4().hex, analysis=analysis)

    def work() -> None:
        with _RUNNING:
            job.state = "running"
            _work()

    def _work() -> None:
        def progress(done: int, total: int, _county: str) -> None:
            job.done, job.total = done, total

        try:
            job.result = run_by_county(url, analysis, workers=workers, scheduler=scheduler, progress=progress,
                                       **options)
            job.state = "done"
        except AtlasError as exc:
            job.error, job.state = str(exc), "failed"
        except Exception:  # noqa: BLE001 - the job says it failed; the log keeps the rest
            logging.getLogger("atlas.jobs").exception("by-county job %s failed", job.id)
            job.error, job.state = "internal error; see the server log", "failed"
        finally:
            job.finished = datetime.now(UTC)

    with _JOBS_LOCK:
        waiting = sum(j.finished is None for j in _JOBS.values())
        if waiting >= JOBS_KEPT:
            raise PartitionFailed(f"{waiting} by-county jobs are queued or running; start another when one "
                                  "has finished")
        finished = [j for j in _JOBS.values() if j.finished is not None]
        for old in sorted(finished, key=lambda j: j.created)[:max(0, len(_JOBS) + 1 - JOBS_KEPT)]:
            _JOBS.pop(old.id, None)
        _JOBS[job.id] = job
    threading.Thread(target=work, name=f"atlas-job-{job.id[:8]}", daemon=True).start()
    return job


def get_job(job_id: str, analysis: str | None = None) -> Job:
    """The job with this id (of this analysis).

    Raises
    ------
    NotFound
        No such job (never started, or forgotten: a restart, or more than :data:`JOBS_KEPT`).
    """
    from geo.errors import NotFound

    job = _JOBS.get(job_id)
    if job is None or (analysis is not None and job.analysis != analysis):
        raise NotFound(f"no job {job_id!r}{' of the ' + analysis + ' analysis' if analysis else ''}; jobs are "
                       f"kept in the server's memory until it restarts (the last {JOBS_KEPT})")
    return job
