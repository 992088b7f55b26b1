"""``--by county``: every county a Dask task on real worker processes, on both backends.

The registry is the demo with its townships given codes of two counties (640502 沙坡头区
for the first half, 640521 中宁县 for the rest), so the demo splits into two partitions.
A LocalCluster of two worker processes is started for the module and used through its
address, as any running scheduler would be; one test starts its own (``workers=2``).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import dask
import numpy as np
import pandas as pd
import pytest
from distributed import Client

from geo import storage
from geo.analysis.partitions import COUNTY_COLUMN
from geo.db import make_engine
from geo.errors import PartitionFailed, ValidationError
from geo.services.analyses import run_analysis
from geo.services.partitioned import TASK_PREFIX, counties, local_cluster, run_by_county
from tests.conftest import run_cli

pytestmark = pytest.mark.long  # worker processes start in seconds; the demo runs twice per backend


@pytest.fixture(scope="module")
def two_counties(databases) -> str:
    url = databases.demo_url()
    engine = make_engine(url)
    towns = storage.read_layer(engine, "townships", columns=["code"], with_names=False).sort_values("id")
    half = len(towns) // 2
    codes = [f"640502{k + 100:03d}" if k < half else f"640521{k + 100:03d}" for k in range(len(towns))]
    with storage.connect(engine, write=True) as conn:
        storage.write_layer(conn, "areas", pd.DataFrame({"code": ["640521"], "name": ["中宁县"]}))
        counties = storage.read_layer(conn, "areas", with_names=False).set_index("code")["id"]
        storage.write_layer(conn, "townships", pd.DataFrame({
            "id": towns["id"].to_numpy(), "code": codes, "county_id": [int(counties[c[:6]]) for c in codes]}))
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as running:  # the command's own kind of cluster
        yield running


def _one_by_one(url: str, analysis: str, **options) -> list[tuple[str, object]]:
    engine = make_engine(url)
    try:
        return [(code, run_analysis(engine, analysis, township=ids, cadre_households="area", **options))
                for code, ids in counties(engine).items()]
    finally:
        engine.dispose()


def test_the_registry_splits_into_two_counties_by_code_prefix(two_counties):
    engine = make_engine(two_counties)
    parts = counties(engine)
    engine.dispose()
    assert list(parts) == ["640502", "640521"]
    assert all(len(ids) >= 1 for ids in parts.values())


def test_by_county_equals_the_counties_run_one_by_one(two_counties):
    seen = []
    combined = run_by_county(two_counties, "roads", workers=2, progress=lambda d, n, c: seen.append((d, n, c)))
    assert [(d, n) for d, n, _ in seen] == [(1, 2), (2, 2)] and {c for *_, c in seen} == {"640502", "640521"}
    parts = _one_by_one(two_counties, "roads")
    for table in ("villages", "settlements", "links", "district"):
        expected = pd.concat([r.tables[table].assign(**{COUNTY_COLUMN: code}) for code, r in parts],
                             ignore_index=True)
        got = combined.tables[table]
        assert list(got[COUNTY_COLUMN].unique()) == ["640502", "640521"]
        pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry", errors="ignore")),
                                      pd.DataFrame(expected[got.columns].drop(columns="geometry", errors="ignore")),
                                      check_dtype=False)
    assert len(combined.tables["district"]) == 2  # one summary row per county


def test_the_ranking_is_sorted_over_all_counties(two_counties, cluster):
    combined = run_by_county(two_counties, "priority", scheduler=cluster.scheduler_address, kind="road")
    ranking = combined.tables["ranking"]
    parts = pd.concat([r.tables["ranking"] for _, r in _one_by_one(two_counties, "priority", kind="road")])
    assert sorted(ranking["village_id"]) == sorted(parts["village_id"])
    # the score is each village's share of the unmet need of both counties, not of its own
    poor = parts["unmet_registered_poor_households"].astype(float)
    people = parts["unmet_population"].astype(float)
    score = 50 * poor / poor.sum() + 50 * people / people.sum()
    expected = pd.Series(score.to_numpy(), index=parts["village_id"].to_numpy())
    np.testing.assert_allclose(ranking["score"].to_numpy(), expected[ranking["village_id"]].to_numpy(), atol=1e-9)
    assert (np.diff(ranking["score"].to_numpy()) <= 1e-12).all()  # one order, best first, across counties
    ranked = ranking["rank"].dropna().astype(int).tolist()
    assert ranked == list(range(1, len(ranked) + 1))
    assert set(ranking.loc[ranking["rank"].notna(), COUNTY_COLUMN]) == {"640502", "640521"}


def test_a_local_clusters_workers_start_with_the_analyses_imported():
    """Forked from a server process that imported them once, not spawned to import them each
    (``eval`` of a text runs in the worker: nothing of this module is sent to it)."""
    with local_cluster(2) as local, Client(local.scheduler_address) as client:
        loaded = client.run(eval, "[m in __import__('sys').modules for m in ('geo.services.analyses', 'geopandas')]")
        parents = client.run(eval, "__import__('os').getppid()")
    assert list(loaded.values()) == [[True, True], [True, True]]
    assert os.getpid() not in parents.values()  # the nanny is this process; the workers' parent is not


def test_an_unknown_scheduler_is_named_and_nothing_runs(two_counties, monkeypatch):
    # Nothing listens on port 9, so the answer is the same after 1 s as after the 10 s a real
    # scheduler on a busy network is given (Dask retries the refused connection until then).
    monkeypatch.setattr("geo.services.partitioned.CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ValidationError, match=r"no Dask scheduler answers at 'tcp://127.0.0.1:9'"):
        run_by_county(two_counties, "roads", scheduler="tcp://127.0.0.1:9")
    done = run_cli("analyze", "water", "--db", two_counties, "--by", "county", "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: no Dask scheduler answers at")
    assert "Traceback" not in done.stderr


def _kill_a_worker_running_our_task(client: Client, killed: list) -> None:
    """Wait until a county task is running on a worker, then SIGKILL that worker's process."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if any(str(k).startswith(TASK_PREFIX) for k in keys):
                pid = client.run(os.getpid, workers=[address])[address]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
        time.sleep(0.01)


def test_a_worker_killed_mid_run_has_its_task_run_again(two_counties, cluster):
    expected = run_by_county(two_counties, "water", scheduler=cluster.scheduler_address)
    killed: list[int] = []
    with Client(cluster.scheduler_address) as watcher:
        killer = threading.Thread(target=_kill_a_worker_running_our_task, args=(watcher, killed))
        killer.start()
        got = run_by_county(two_counties, "water", scheduler=cluster.scheduler_address)
        killer.join()
    assert killed, "no county task was seen running"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # that process is gone; the run still has every county
    for table in expected.tables:
        pd.testing.assert_frame_equal(pd.DataFrame(got.tables[table]), pd.DataFrame(expected.tables[table]))


def test_a_task_whose_worker_keeps_dying_fails_the_run_instead_of_returning_part(two_counties):
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with local_cluster(2) as local:
            killed: list[int] = []
            with Client(local.scheduler_address) as watcher:
                killer = threading.Thread(target=_kill_a_worker_running_our_task, args=(watcher, killed))
                killer.start()
                with pytest.raises(PartitionFailed, match=r"county 6405\d\d: its task's worker died"):
                    run_by_county(two_counties, "water", scheduler=local.scheduler_address)
                killer.join()
    assert killed


def test_the_command_runs_by_county_with_a_progress_bar(two_counties):
    done = run_cli("analyze", "roads", "--db", two_counties, "--by", "county", "--workers", "2",
                   "-f", "csv", "--table", "district")
    assert done.returncode == 0, done.stderr
    rows = done.stdout.strip().splitlines()
    assert rows[0].lstrip("\ufeff").startswith("区县代码,") and [r.split(",")[0] for r in rows[1:]] == ["640502", "640521"]
    assert "2/2" in done.stderr  # the bar counted both counties
    refused = run_cli("analyze", "roads", "--db", two_counties, "--workers", "2")
    assert refused.returncode == 1 and "--workers and --scheduler go with --by county" in refused.stderr
