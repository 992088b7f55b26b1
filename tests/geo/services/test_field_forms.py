"""The field kit's forms out: both XLSForms of a recorded plan convert with pyxform (the ODK
project's converter) without errors or warnings, in both preload layouts; the package holds
the forms, the preload CSVs and the team's GPX; names stay masked unless asked for."""

from __future__ import annotations

import csv
import io
import zipfile

import gpxpy
import pytest
from openpyxl import load_workbook

from geo import storage
from geo.errors import ValidationError
from geo.inspection import xlsform
from geo.inspection.plans import load_plan, with_overrides
from geo.services import inspections as service
from tests.geo.conftest import tx_on_module


@pytest.fixture(scope="module")
def plan(module_tx):
    """Drawn once for the module; each test's writes are rolled back (``tx``)."""
    spec = with_overrides(load_plan("seed003", year=2019), townships=("宣和镇",))
    return service.draw_plan(module_tx, spec, seed="field kit", teams=2).plan_id


tx = tx_on_module("plan")


def _names(tx, plan):
    record = service.load_record(tx, plan)
    return [n for n in storage.read_layer(tx, "households", ids=list(record.households["household_id"]),
                                          columns=["head_name"], include_pii=True)["head_name"] if n]


@pytest.mark.parametrize("form", xlsform.FORMS)
def test_every_form_converts_with_pyxform_without_errors_or_warnings(tx, plan, tmp_path, form):
    path = tmp_path / f"{form}.xlsx"
    result = service.export_plan(tx, plan, path, fmt="xlsform", form=form)
    xml, warnings = xlsform.convert_xlsform(path)
    assert warnings == []
    record = service.load_record(tx, plan)
    assert result["form_id"] == f"atlas_plan{plan}_{form}"
    assert result["version"] == f"{xlsform.LAYOUT}-{record.draw['result_hash'][:16]}"
    assert f'id="atlas_plan{plan}_{form}"' in xml and f'version="{result["version"]}"' in xml
    # every sampled village is preloaded, and for the household form every sampled household
    for key in record.villages["village_key"]:
        assert f"<name>{key}</name>" in xml
    if form == "household":
        for code in record.households["household_code"]:
            assert f"<name>{code}</name>" in xml
        for question in ("income_yuan", "safe_water", "meets_standard", "wrong_or_returned", "recognised"):
            assert f"/{question}" in xml
    assert xml.count('mediatype="image/*"') == 3 and 'type="geopoint"' in xml
    assert f"calculate=\"'{plan}'\"" in xml  # the plan id every submission carries
    for name in _names(tx, plan):
        assert name not in xml


def test_xform_is_pyxforms_xml(tx, plan, tmp_path):
    path = tmp_path / "village.xml"
    service.export_plan(tx, plan, path, fmt="xform", form="village")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "atlas_plan" in text and "incidence_pct" in text


def test_unknown_form_and_team_are_refused(tx, plan, tmp_path):
    with pytest.raises(ValidationError, match="unknown form 'farm'"):
        service.export_plan(tx, plan, tmp_path / "x.xlsx", fmt="xlsform", form="farm")
    with pytest.raises(ValidationError, match="--team 9: the plan has teams 1, 2"):
        service.export_plan(tx, plan, tmp_path / "x.zip", fmt="package", team=9)


@pytest.mark.parametrize("show_names", [False, True])
def test_team_package_has_the_forms_the_preload_and_the_gpx(tx, plan, tmp_path, show_names):
    path = tmp_path / "kit.zip"
    result = service.export_plan(tx, plan, path, fmt="package", team=2, show_names=show_names)
    record = service.load_record(tx, plan)
    ours = record.households[record.households["team"] == 2]
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == [f"plan{plan}-team2/{n}" for n in result["files"]]
        assert result["files"][:4] == [f"atlas_plan{plan}_household.xlsx", f"atlas_plan{plan}_village.xlsx",
                                       "villages.csv", "households.csv"]
        for form in xlsform.FORMS:
            extracted = tmp_path / f"{form}.xlsx"
            extracted.write_bytes(archive.read(f"plan{plan}-team2/atlas_plan{plan}_{form}.xlsx"))
            sheet = load_workbook(extracted)["survey"]
            assert f"select_one_from_file {xlsform.VILLAGE_LIST}.csv" in [c.value for c in sheet["A"]]
            xml, warnings = xlsform.convert_xlsform(extracted)
            assert warnings == [] and 'src="jr://file-csv/villages.csv"' in xml
        rows = list(csv.DictReader(io.StringIO(archive.read(f"plan{plan}-team2/households.csv").decode("utf-8"))))
        assert [r["name"] for r in rows] == list(ours["household_code"])
        assert {r["team"] for r in rows} == {"2"}
        gpx = gpxpy.parse(archive.read(f"plan{plan}-team2/plan{plan}-team2.gpx").decode("utf-8"))
        assert {w.name.split("-")[0] for w in gpx.waypoints} == {"2"}
        everything = b"".join(archive.read(n) for n in names).decode("utf-8", errors="ignore")
        for f in result["files"]:
            if f.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(archive.read(f"plan{plan}-team2/{f}"))) as inner:
                    everything += b"".join(inner.read(n) for n in inner.namelist()).decode("utf-8", errors="ignore")
    names_here = [n for n in _names(tx, plan)
                  if n in set(storage.read_layer(tx, "households", ids=list(ours["household_id"]),
                                                 columns=["head_name"], include_pii=True)["head_name"])]
    assert names_here
    for name in names_here:
        assert (name in everything) is show_names
