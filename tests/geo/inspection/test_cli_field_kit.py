"""``atlas sample export --format xlsform|package``, ``atlas sample answers ...`` and ``atlas
finding add --from-answer`` end to end, as subprocesses over a real database."""

from __future__ import annotations

import json
import zipfile

from geo.inspection import xlsform
from geo.services import inspections as service
from tests.geo.inspection.test_cli import atlas, cli_db  # noqa: F401 (the fixture: a demo database of its own)
from tests.geo.services.test_answers import _rows, central_csv


def test_forms_out_answers_in_results_and_a_confirmed_finding(cli_db, tmp_path):
    url, engine = cli_db
    report = json.loads(atlas("sample", "draw", "--db", url, "--preset", "seed003", "--seed", "外业",
                              "--year", "2019", "--townships", "宣和镇", "--teams", "2", "--json").stdout)
    plan = str(report["plan_id"])
    form = tmp_path / "household.xlsx"
    out = json.loads(atlas("sample", "export", plan, "--db", url, "--format", "xlsform", "-o", str(form),
                           "--json").stdout)
    assert out["form_id"] == f"atlas_plan{plan}_household" and xlsform.convert_xlsform(form)[1] == []
    kit = tmp_path / "team1.zip"
    atlas("sample", "export", plan, "--db", url, "--format", "package", "--team", "1", "-o", str(kit))
    with zipfile.ZipFile(kit) as archive:
        assert f"plan{plan}-team1/households.csv" in archive.namelist()

    record = service.load_record(engine, int(plan))
    households = record.households.reset_index(drop=True)
    version = xlsform.form_version(record.draw["result_hash"])
    rows, vrow, h = _rows(record, households, {int(i): 3 for i in households["household_id"]}, version)
    export = tmp_path / "export.csv"
    export.write_text(central_csv([*rows, {**rows[1], "instance": "uuid:bad", "household": "NOPE"}]), encoding="utf-8")
    strict = atlas("sample", "answers", "import", plan, str(export), "--db", url, "--strict", check=False)
    assert strict.returncode == 1 and "NOT written" in strict.stdout
    assert "refused: submission uuid:bad (row 6), field household: household NOPE is not in the sample" in strict.stdout
    assert json.loads(atlas("sample", "answers", "list", plan, "--db", url, "--json").stdout) == []
    loose = atlas("sample", "answers", "import", plan, str(export), "--db", url, check=False)
    assert loose.returncode == 1 and "4 accepted (4 new" in loose.stdout and "; written;" in loose.stdout
    results = tmp_path / "results.xlsx"
    table = json.loads(atlas("sample", "answers", "results", plan, "--db", url, "-o", str(results), "--json").stdout)
    wrong = next(r for r in table["table4"] if r["项目"] == "错退情况：疑似错退户数")
    assert wrong["数量"] == 1 and results.stat().st_size > 0
    proposals = json.loads(atlas("sample", "answers", "proposals", plan, "--db", url, "--json").stdout)
    key = next(p["key"] for p in proposals if p["rule"] == "judged_wrong_exit")
    refused = atlas("finding", "add", "--db", url, "--plan", plan, "--from-answer", key, "--kind", "漏评",
                    "--unit", "宣和镇人民政府", "--deadline", "2030-12-31", check=False)
    assert refused.returncode == 1 and "drop --kind" in refused.stderr
    added = json.loads(atlas("finding", "add", "--db", url, "--plan", plan, "--from-answer", key,
                             "--unit", "宣和镇人民政府", "--deadline", "2030-12-31", "--json").stdout)
    assert added["kind"] == "wrong_exit" and added["household_code"] == h[0].household_code
