"""``POST /api/analyses/{name}/jobs?by=county``: a by-county run in the background, its status,
and its result, on the demo application (real app in process, real Dask worker processes).

The demo's townships carry no codes of their own but are filed under 沙坡头区 (640502), so the
demo is one partition, 640502;
the partitioning itself is tested in ``tests/geo/services/test_partitioned.py``.
"""

from __future__ import annotations

import time

import pytest

from geo import storage

pytestmark = pytest.mark.long  # a LocalCluster starts worker processes


#: How often the job's status is asked [s]: an in-process request costs a millisecond or two,
#: and every poll saved on a finished job was up to this long a wait.
POLL_S = 0.05


def _wait(server, href: str, headers: dict) -> dict:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = server.get(href, headers=headers).json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(POLL_S)
    raise AssertionError(f"job still {status['state']} after 600 s")


def test_a_job_runs_in_the_background_and_gives_its_result(demo_server, demo_engine, headers):
    started = demo_server.post("/api/analyses/water/jobs", params={"by": "county"}, headers=headers["leader"])
    assert started.status_code == 202
    body = started.json()
    assert started.headers["location"] == body["href"] and body["state"] in ("queued", "running", "done")
    early = demo_server.get(body["result_href"], headers=headers["leader"])
    assert early.status_code in (200, 409)  # 409 while it runs, never a partial answer
    status = _wait(demo_server, body["href"], headers["leader"])
    assert status["state"] == "done" and status["counties_done"] == status["counties"] == 1, status
    result = demo_server.get(body["result_href"], headers=headers["leader"]).json()
    villages = result["tables"]["villages"]
    stored = storage.read_layer(demo_engine, "villages", columns=["name"])
    assert sorted(r["village_id"] for r in villages) == sorted(stored["id"])
    assert {r["county_code"] for r in villages} == {"640502"}
    csv = demo_server.get(body["result_href"], params={"format": "csv"}, headers=headers["leader"])
    assert csv.status_code == 200 and csv.content.decode("utf-8-sig").startswith("区县代码,")


def test_unknown_jobs_and_scoped_accounts_are_refused(demo_server, headers):
    missing = demo_server.get("/api/analyses/roads/jobs/0123abcd", headers=headers["leader"])
    assert missing.status_code == 404 and "no job '0123abcd'" in missing.json()["detail"]
    scoped = demo_server.post("/api/analyses/roads/jobs", headers=headers["scoped"])
    assert scoped.status_code == 403 and "reads every township" in scoped.json()["detail"]
    unknown = demo_server.post("/api/analyses/nothing/jobs", headers=headers["leader"])
    assert unknown.status_code == 422
