"""``atlas sample`` and ``atlas finding`` end to end, as subprocesses over a real database."""

from __future__ import annotations

import json
import sqlite3

import gpxpy
import pandas as pd
import pytest

from geo import storage
from geo.db import make_engine
from geo.storage import inspection as store
from geo.services import findings as recorded
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def cli_db(databases):
    """Its own demo database: these commands commit."""
    url = databases.demo_url()
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def test_start_points_are_parsed_as_lon_lat():
    from api.cli.sample import parse_start
    from geo.errors import ValidationError

    assert parse_start("105.19,37.51").coords[0] == (105.19, 37.51)
    assert parse_start(None) is None
    with pytest.raises(ValidationError, match="give LON,LAT"):
        parse_start("37.5")
    with pytest.raises(ValidationError, match="LON,LAT order"):
        parse_start("37.5,105.2")


def atlas(*args, check=True):
    return run_cli(*args, check=check)


def test_draw_verify_export_show_list_and_a_changed_frame(cli_db, tmp_path):
    url, engine = cli_db
    out = atlas("sample", "draw", "--db", url, "--preset", "seed003", "--seed", "2019-11-05 第37号",
                "--year", "2019", "--townships", "宣和镇,永康镇", "--teams", "2", "--json")
    report = json.loads(out.stdout)
    plan = str(report["plan_id"])
    assert report["villages"] == 12 and len(report["teams"]) == 2 and len(report["frame_hash"]) == 64
    verified = atlas("sample", "verify", plan, "--db", url)
    assert "VERIFIED" in verified.stdout and "record intact" in verified.stdout

    gpx_path = tmp_path / "plan.gpx"
    atlas("sample", "export", plan, "--db", url, "--format", "gpx", "-o", str(gpx_path))
    assert len(gpxpy.parse(gpx_path.read_text(encoding="utf-8")).waypoints) > 12
    xlsx = tmp_path / "plan.xlsx"
    text = atlas("sample", "export", plan, "--db", url, "--format", "xlsx", "-o", str(xlsx)).stdout
    assert xlsx.stat().st_size > 0 and "wrote" in text
    package = tmp_path / "第2组.mbtiles"
    text = atlas("sample", "export", plan, "--db", url, "--format", "mbtiles", "--team", "2", "--raster",
                 "-o", str(package)).stdout
    assert "wrote" in text and "png tiles" in text and "17: " in text
    db = sqlite3.connect(package)
    assert dict(db.execute("SELECT name, value FROM metadata"))["format"] == "png"
    db.close()
    bad = atlas("sample", "export", plan, "--db", url, "--format", "mbtiles", "--team", "5", "-o", str(package),
                check=False)
    assert bad.returncode == 1 and bad.stderr.strip() == "error: --team 5: the plan has teams 1, 2"
    shown = atlas("sample", "show", plan, "--db", url).stdout
    assert "2.抽查村总数 12个" in shown and "第1组" in shown and "随机种子: 2019-11-05 第37号" in shown
    listed = json.loads(atlas("sample", "list", "--db", url, "--json").stdout)
    assert [p["id"] for p in listed] == [report["plan_id"]]

    # a household's status is edited after the draw: verify fails and names it
    household = json.loads(atlas("sample", "show", plan, "--db", url, "--json").stdout)["households"][0]
    row = storage.read_layer(engine, "households", where={"code": household["household_code"]}, columns=["status"])
    new_status = "non_poor" if row["status"].iloc[0] != "non_poor" else "registered"
    storage.write_layer(engine, "households", pd.DataFrame({"id": [int(row["id"].iloc[0])], "status": [new_status],
                                                             "status_year": [None]}))
    failed = atlas("sample", "verify", plan, "--db", url, check=False)
    assert failed.returncode == 1
    assert f"household re-stratified: {household['household_code']} {household['stratum']} ->" in failed.stdout
    assert "NOT VERIFIED" in failed.stdout


@pytest.mark.parametrize("args, message", [
    (["--preset", "seed004", "--seed", "s"], "unknown preset 'seed004'"),
    (["--preset", "seed003", "--seed", "s", "--year", "2030"], "exited_last_year (2029年退出户): the quota of 2 is larger"),
    (["--preset", "seed003", "--seed", "s", "--categories", "non_poor"], "scope selects no villages"),
])
def test_bad_draws_fail_with_one_clear_line(cli_db, args, message):
    url, _ = cli_db
    result = atlas("sample", "draw", "--db", url, *args, check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_findings_from_the_command_line(cli_db):
    url, engine = cli_db
    report = json.loads(atlas("sample", "draw", "--db", url, "--preset", "seed003", "--seed", "f",
                              "--year", "2019", "--townships", "东园镇", "--name", "东园镇检查", "--json").stdout)
    plan = str(report["plan_id"])
    village = store.read_sampled_villages(engine, report["plan_id"])["village_name"].iloc[0]
    added = json.loads(atlas("finding", "add", "--db", url, "--plan", "东园镇检查", "--village", village,
                             "--category", "精准帮扶", "--kind", "资金使用", "-m", "产业扶持资金未拨付到户",
                             "--unit", "东园镇人民政府", "--deadline", "2019-11-10", "--found-on", "2019-11-01",
                             "--json").stdout)
    code = added["code"]
    refused = atlas("finding", "close", code, "--db", url, check=False)
    assert refused.returncode == 1 and "needs a note of the evidence" in refused.stderr
    overdue = atlas("finding", "list", "--db", url, "--overdue").stdout
    assert code in overdue and "逾期" in overdue and "精准帮扶/资金使用" in overdue
    atlas("finding", "update", code, "--db", url, "--status", "rectifying", "--note", "已督促")
    closed = json.loads(atlas("finding", "close", code, "--db", url, "--note", "资金已拨付，见凭证12号",
                              "--json").stdout)
    assert closed["status"] == "closed"
    assert recorded.list_findings(engine, overdue=True).empty
    summary = json.loads(atlas("finding", "summary", "--db", url, "--plan", plan, "--json").stdout)
    funds = next(r for r in summary if r["方面"] == "资金使用")
    assert (funds["问题数"], funds["已整改"]) == (1, 1)


def test_verify_names_a_swapped_household_and_verify_all_a_deleted_plan(cli_db):
    url, engine = cli_db
    plans = []
    for seed in ("chain-a", "chain-b", "chain-c"):
        out = atlas("sample", "draw", "--db", url, "--preset", "seed003", "--seed", seed, "--year", "2019",
                    "--townships", "常乐镇", "--name", f"链 {seed}", "--straight").stdout
        assert "households outside the frame (in no stratum), by status and year:" in out and "record  " in out
        plans.append(int(out.split()[1].rstrip(":")))
    shown = atlas("sample", "show", str(plans[0]), "--db", url).stdout
    assert "抽样框外农户(按状态和年份):" in shown and "记录链哈希(SHA-256):" in shown
    whole = atlas("sample", "verify", "--all", "--db", url, check=False)
    chain = json.loads(atlas("sample", "verify", "--all", "--db", url, "--json", check=False).stdout)
    verified = {p["plan_id"]: p["verified"] for p in chain["plans"]}
    assert all(verified[p] for p in plans) and chain["head_plan"] == plans[2]
    # other tests of this module may have edited the registry after their draws
    assert whole.returncode == (0 if chain["verified"] else 1)

    # one sampled household replaced by another of the same village
    rows = store.read_sampled_households(engine, plans[0])
    victim = rows.iloc[0]
    registry = storage.read_layer(engine, "households", columns=["code", "village_id"], with_names=False)
    village_id = store.read_sampled_villages(engine, plans[0]).set_index("id").at[victim["sample_village_id"], "village_id"]
    other = registry[(registry["village_id"] == village_id) & ~registry["code"].isin(rows["household_code"])].iloc[0]
    with engine.begin() as conn:
        conn.execute(store.HOUSEHOLDS.update().where(store.HOUSEHOLDS.c.id == int(victim["id"]))
                     .values(household_code=other["code"], household_id=int(other["id"])))
    failed = atlas("sample", "verify", str(plans[0]), "--db", url, check=False)
    assert failed.returncode == 1 and "NOT VERIFIED" in failed.stdout and "STORED RECORD ALTERED" in failed.stdout
    assert f"sampled household {other['code']} is not in the stored result" in failed.stdout

    # the middle plan deleted: the last one's link names it
    with engine.begin() as conn:
        for table in (store.HOUSEHOLDS, store.VILLAGES, store.DRAWS):
            conn.execute(table.delete().where(table.c.plan_id == plans[1]))
        conn.execute(store.PLANS.delete().where(store.PLANS.c.id == plans[1]))
    failed = atlas("sample", "verify", "--all", "--db", url, check=False)
    assert failed.returncode == 1 and failed.stdout.rstrip().endswith("NOT VERIFIED")
    assert f"plan {plans[2]} follows record" in failed.stdout and "a record was deleted, reordered or edited" in failed.stdout
    assert f"chain head: plan {plans[2]}" in failed.stdout


@pytest.mark.parametrize("args, message", [
    (["999999"], "no inspection plan '999999'"),
    ([], "give a plan id or name, or --all"),
    (["1", "--all"], "give a plan id or name, or --all"),
])
def test_bad_verifies_fail_with_one_clear_line(cli_db, args, message):
    url, _ = cli_db
    result = atlas("sample", "verify", "--db", url, *args, check=False)
    assert result.returncode == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_frame_first_then_draw_from_it_and_bad_frames(cli_db, tmp_path):
    url, engine = cli_db
    fixed = json.loads(atlas("sample", "frame", "--db", url, "--preset", "seed003", "--year", "2019",
                             "--townships", "永康镇", "--name", "永康镇抽样框", "--json").stdout)
    assert fixed["name"] == "永康镇抽样框" and len(fixed["frame_hash"]) == 64
    assert {r["stratum"] for r in fixed["strata"]} >= {"exited_earlier", "exited_last_year"}
    published = tmp_path / "frame.csv"
    text = atlas("sample", "frame", "--db", url, "--preset", "seed003", "--year", "2019", "--townships", "永康镇",
                 "--name", "永康镇抽样框（二）", "-o", str(published)).stdout
    assert f"frame hash {fixed['frame_hash']}" in text and "exited_last_year (2018年退出户): " in text
    rows = pd.read_csv(published, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert (rows["类型"] == "户").sum() == fixed["households"] and (rows["类型"] == "村").sum() == fixed["villages"]
    assert (rows.loc[rows["类型"] == "村", "权重(户数)"].astype(int) > 0).all()
    assert (rows["排序键(SHA-256)"] == "").all()  # no seed yet, so no ordering keys
    refused = atlas("sample", "frame", "--db", url, "--preset", "seed003", "--name", "x", "-o",
                    str(tmp_path / "missing" / "f.csv"), check=False)
    assert refused.returncode == 1 and "does not exist" in refused.stderr
    drawn = json.loads(atlas("sample", "draw", "--db", url, "--frame", str(fixed["frame_id"]), "--seed", "框后 1",
                             "--name", "永康镇先框后抽", "--straight", "--json").stdout)
    assert drawn["frame_hash"] == fixed["frame_hash"] and drawn["frame_id"] == fixed["frame_id"]
    plans = len(store.read_plans(engine))
    for args, message in (
        (["--frame", "999999", "--seed", "s"], "no recorded frame 999999; frames: "),
        (["--frame", str(fixed["frame_id"]), "--seed", "s", "--preset", "seed003"],
         "--frame takes the plan from the recorded frame; drop --preset"),
        (["--seed", "s"], "give --preset (a preset or plan file) or --frame ID"),
    ):
        result = atlas("sample", "draw", "--db", url, *args, check=False)
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert len(store.read_plans(engine)) == plans
