"""Answers in: submissions written as ODK Central and KoboToolbox lay out their exports are
imported into a drawn plan and fill 表4 exactly as worked out by hand below; every bad input
is refused by row naming the instance id and the field; ``strict`` writes nothing;
re-submissions keep their history; proposals become findings only when confirmed."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pandas as pd
import pytest
from openpyxl import Workbook
from PIL import Image
from shapely.geometry import Point

from geo import storage
from geo.errors import Conflict, Forbidden, NotFound
from geo.inspection import xlsform
from geo.inspection.plans import load_plan, with_overrides
from geo.services import answers as service
from geo.services import inspections
from geo.services.findings import list_findings
from tests.geo.conftest import tx_on_module

# The groups each field sits in on the forms (servers put the group path before the name).
GROUPS = {}
for form in xlsform.FORMS:
    group = ""
    for q in xlsform.questions(form):
        if q.kind == "begin_group":
            group = q.name
        elif q.kind == "end_group":
            group = ""
        elif q.answered:
            GROUPS[(form, q.name)] = group


@pytest.fixture(scope="module")
def plan(module_tx):
    """Drawn once for the module; each test's writes are rolled back (``tx``)."""
    spec = with_overrides(load_plan("seed003", year=2019), townships=("宣和镇",))
    return inspections.draw_plan(module_tx, spec, seed="answers", teams=2).plan_id


tx = tx_on_module("plan")


@pytest.fixture
def sample(tx, plan):
    record = inspections.load_record(tx, plan)
    households = record.households.reset_index(drop=True)
    members = storage.read_layer(tx, "households", ids=[int(i) for i in households["household_id"]],
                                 columns=["members"], with_names=False)
    members = dict(zip(members["id"], members["members"]))
    version = xlsform.form_version(record.draw["result_hash"])
    return record, households, members, version


def jpeg(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def household_answers(record, households, members, version):
    """Four households answered as worked out in the test's 表4 expectations."""
    h = [households.iloc[i] for i in range(4)]
    reg = [int(members[int(x.household_id)] or 3) for x in h]
    base = {"plan_id": str(record.plan["id"]), "form_version": version, "form": "household",
            "inspector": "督查员甲", "inspected_on": "2019-11-05"}
    rows = [
        # H1: exited, income under the line, no safe water, judged a wrong exit
        {"hh_type": "exited", "members_actual": reg[0], "members_hukou": reg[0], "members_card": reg[0],
         "members_handbook": reg[0], "measures_match": "yes", "food": "yes", "clothing": "yes", "income_yuan": 3500,
         "dropout": "none", "medical_all": "yes", "safe_housing": "have", "relocated": "no", "road_hardened": "yes",
         "power": "have", "safe_water": "none", "tv": "yes", "meets_standard": "no", "wrong_or_returned": "wrong_exit",
         "recognised": "yes"},
        # H2: planned exit, short of food, 2 pupils out of school, 3 uninsured, no safe housing, no TV,
        # road not hardened, not recognised, members differ from the registry and among themselves
        {"hh_type": "planned_exit", "members_actual": reg[1] + 1, "members_hukou": reg[1] + 2,
         "measures_match": "no", "food": "no", "clothing": "yes", "income_yuan": 5000, "dropout": "have",
         "dropout_count": 2, "medical_all": "no", "medical_uninsured": 3, "safe_housing": "none", "power": "have",
         "safe_water": "have", "tv": "no", "road_hardened": "no", "recognised": "no"},
        # H3: registered, relocated this year, house not built, in debt
        {"hh_type": "registered", "members_actual": reg[2], "measures_match": "yes", "food": "yes",
         "clothing": "yes", "income_yuan": 3000, "dropout": "none", "medical_all": "yes", "safe_housing": "have",
         "relocated": "yes", "relocation_this_year": "yes", "relocation_state": "not_built", "relocation_debt": "yes",
         "power": "have", "safe_water": "have", "tv": "yes", "road_hardened": "yes", "recognised": "yes"},
        # H4: non-poor, judged missed, not recognised
        {"hh_type": "non_poor", "members_actual": 2, "recognised": "no", "non_poor_missed": "yes"},
    ]
    return [{**base, **r, "village": x.village_key, "household": x.household_code} for r, x in zip(rows, h)], h


VILLAGE = {"v_type": "exited", "population": 900, "industry": "none", "stable_housing_pct": 95, "medical_pct": 80,
           "medical_policy": "yes", "out_of_school": 0, "education_policy": "yes", "safe_water_pct": 92,
           "road_hardened": "yes", "hamlet_roads": "no", "power_pct": 100, "public_services": "office clinic",
           "tv_pct": 99, "collective_economy": "have", "weak_party": "no", "incidence_pct": 4.5, "county_leader": "yes",
           "pairing_unit": "yes", "work_team": "yes", "first_secretary": "yes", "eligible_not_listed": "none",
           "ledger": "no", "responsible_named": "yes", "measures_set": "yes", "lessons_applied": "no",
           "rectification": "已整改两项", "info_consistent": "yes", "inspector": "督查员甲", "inspected_on": "2019-11-05"}


def central_csv(rows: list[dict], *, sep="-") -> str:
    """ODK Central's CSV export: SubmissionDate first, group paths joined by ``-``, the GPS
    point split into -Latitude/-Longitude/-Altitude/-Accuracy, then meta-instanceID, KEY and
    Central's own columns."""
    headers = ["SubmissionDate"]
    for row in rows:
        form = row["form"]
        for name in row:
            if name in ("instance", "submitted", "gps") or name.startswith("photo"):
                continue
            group = GROUPS.get((form, name), "")
            header = f"{group}{sep}{name}" if group else name
            if header not in headers:
                headers.append(header)
    headers += [f"record{sep}location{sep}{p}" for p in ("Latitude", "Longitude", "Altitude", "Accuracy")]
    headers += [f"record{sep}{p}" for p in xlsform.PHOTOS]
    headers += [f"meta{sep}instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
                "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        values = {"SubmissionDate": row.get("submitted", "2019-11-05T03:00:00.000Z"),
                  f"meta{sep}instanceID": row["instance"], "KEY": row["instance"], "SubmitterID": "5",
                  "SubmitterName": "team1", "Status": "", "ReviewState": "", "DeviceID": "collect:abc", "Edits": "0",
                  "FormVersion": row.get("form_version", "")}
        for name, value in row.items():
            group = GROUPS.get((row["form"], name), "")
            values[f"{group}{sep}{name}" if group else name] = value
        if row.get("gps"):
            lat, lon = row["gps"]
            values |= {f"record{sep}location{sep}Latitude": lat, f"record{sep}location{sep}Longitude": lon,
                       f"record{sep}location{sep}Altitude": 1200, f"record{sep}location{sep}Accuracy": 5}
        for p in xlsform.PHOTOS:
            values[f"record{sep}{p}"] = row.get(p, "")
        writer.writerow([values.get(h, "") for h in headers])
    return out.getvalue()


def kobo_xlsx(rows: list[dict], path, *, labels=False) -> None:
    """KoboToolbox's XLSX export: group paths joined by ``/``, the GPS point as one column plus
    _location_latitude/-longitude columns, meta/instanceID, then _id, _uuid, _submission_time,
    _validation_status, _notes, _status, _submitted_by, __version__, _tags, _index. With
    ``labels``, select answers as their Chinese labels (Kobo's "labels" export)."""
    lists = {(form, q.name): q.list_name for form in xlsform.FORMS for q in xlsform.questions(form)}
    headers = ["start", "end"]
    for row in rows:
        for name in row:
            if name in ("instance", "submitted", "gps") or name.startswith("photo"):
                continue
            group = GROUPS.get((row["form"], name), "")
            header = f"{group}/{name}" if group else name
            if header not in headers:
                headers.append(header)
    headers += ["record/location", "_record/location_latitude", "_record/location_longitude",
                "_record/location_altitude", "_record/location_precision", *(f"record/{p}" for p in xlsform.PHOTOS),
                "meta/instanceID", "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
                "_submitted_by", "__version__", "_tags", "_index"]
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for n, row in enumerate(rows, start=1):
        values = {"meta/instanceID": row["instance"], "_id": 1000 + n, "_uuid": row["instance"].removeprefix("uuid:"),
                  "_submission_time": row.get("submitted", "2019-11-05T03:00:00"), "_status": "submitted_via_web",
                  "__version__": "vGq9zZk5", "_index": n}
        for name, value in row.items():
            group = GROUPS.get((row["form"], name), "")
            labels_of = dict(xlsform.CHOICE_LISTS.get(lists.get((row["form"], name)), []))
            if labels and isinstance(value, str) and value in labels_of:
                value = labels_of[value]
            values[f"{group}/{name}" if group else name] = value
        if row.get("gps"):
            lat, lon = row["gps"]
            values |= {"record/location": f"{lat} {lon} 1200 5", "_record/location_latitude": lat,
                       "_record/location_longitude": lon}
        for p in xlsform.PHOTOS:
            values[f"record/{p}"] = row.get(p, "")
        sheet.append([values.get(h) for h in headers])
    book.save(path)


def _expected_table4(members):
    """表4 worked out by hand from the four household answers and the village answer above."""
    return {
        "4.家庭人口、户籍、明白卡等不一致的户数": (1, None),  # H2: actual ≠ 户籍
        "5.帮扶措施与致贫原因不一致的户数": (1, None),  # H2
        "1.未实现两不愁户数": (1, 1),  # H2 (planned)
        "2.因贫未读或辍学适龄学生人数": (2, 2),  # H2: 2 pupils
        "3.未参加城乡医保（新农合）人数": (3, 3),  # H2: 3 people
        "4.无安全住房户数": (1, 1),  # H2
        "5.督查易地搬迁户数": (1, 0),  # H3 (registered)
        "6.无生活用电户数": (0, 0),
        "7.无安全饮水户数": (1, 0),  # H1 (exited)
        "8.无广播电视信号户数": (1, 1),  # H2
        "9.无路通村屯户数": (1, 1),  # H2
        "1.无特色产业村数": (1, None), "2.有稳固住房达不到标准的村数": (0, None),
        "3.教育保障达不到标准的村数": (0, None), "4.医疗保障达不到标准的村数": (1, None),  # 80% < 90%
        "5.安全饮水达不到标准的村数": (0, None), "6.通村屯道路达不到标准的村数": (1, None),  # hamlet roads
        "7.有电用达不到标准的村数": (0, None), "8.公共服务设施达不到标准的村数": (1, None),  # no culture room
        "9.有电视看达不到标准的村数": (0, None), "10.无集体经济村数": (0, None),
        "11.软弱涣散基层党组织村数": (0, None), "12.贫困发生率高于3%的村数": (1, None),  # 4.5%
        "贫困户信息比对核查不一致户数": (1, None),  # H2: registry members + 1
        "漏评情况：疑似漏评户数": (1, None),  # H4
        "错退情况：疑似错退户数": (1, None),  # H1
        "帮扶认可情况：对脱贫攻坚政策、帮扶措施及成效、脱贫退出等不认可户数": (2, 1),  # H2, H4 (non-poor)
    }


def _check_table4(table, expected):
    items = [str(i).strip() for i in table["项目"]]
    seen = set()
    for i, item in enumerate(items):
        if item in expected and item not in seen:
            # the same wording may name a household and a village row (e.g. "4.无安全住房户数" vs
            # "4.医疗保障..."): each key is unique, so the first match is the row
            seen.add(item)
            value, sub = expected[item]
            assert table["数量"].iloc[i] == value, item
            if sub is not None:
                assert items[i + 1].startswith("其中"), item
                assert table["数量"].iloc[i + 1] == sub, item
    assert seen == set(expected)


def _rows(record, households, members, version):
    rows, h = household_answers(record, households, members, version)
    for n, (row, x) in enumerate(zip(rows, h), start=1):
        row["instance"] = f"uuid:0000000{n}-aaaa-4bbb-8ccc-00000000000{n}"
        row["gps"] = (x.geometry.y, x.geometry.x)
    village_key = h[0].village_key
    village = record.villages[record.villages["village_key"] == village_key].iloc[0]
    vrow = {**VILLAGE, "plan_id": str(record.plan["id"]), "form_version": version, "form": "village",
            "village": village_key, "instance": "uuid:0000000v-aaaa-4bbb-8ccc-000000000009",
            "gps": (village.geometry.y, village.geometry.x)}
    return rows, vrow, h


def test_an_odk_central_export_fills_table4_as_worked_out_by_hand(tx, plan, sample, tmp_path):
    record, households, members, version = sample
    rows, vrow, h = _rows(record, households, members, version)
    rows[0]["photo_1"] = "1572922800000.jpg"
    path = tmp_path / f"atlas_plan{plan}_household.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"atlas_plan{plan}_household.csv", central_csv(rows))
        archive.writestr("media/1572922800000.jpg", jpeg())
    report = service.import_answers(tx, plan, path)
    assert report.refused == [] and report.written and len(report.inserted) == 4 and report.photos == 1
    village_csv = tmp_path / "village.csv"
    village_csv.write_text(central_csv([vrow]), encoding="utf-8")
    assert service.import_answers(tx, plan, village_csv).inserted == [vrow["instance"]]
    result = service.answer_results(tx, plan)
    assert (result["households"], result["villages"]) == (4, 1)
    _check_table4(result["table4"], _expected_table4(members))
    listed = service.list_answers(tx, plan)
    assert set(listed["instance_id"]) == {r["instance"] for r in rows} | {vrow["instance"]}
    assert listed["distance_m"].max() < 1.0 and not listed["far"].any()
    # the printable workbook's 表4 is the same, filled from the answers
    workbook = tmp_path / "plan.xlsx"
    inspections.export_plan(tx, plan, workbook, fmt="xlsx")
    sheet = pd.read_excel(workbook, sheet_name="表4督查任务完成情况汇总表")
    _check_table4(sheet.astype({"数量": object}).where(sheet.notna(), None), _expected_table4(members))


def test_a_kobo_export_with_labels_fills_table4_the_same(tx, plan, sample, tmp_path):
    record, households, members, version = sample
    rows, vrow, _ = _rows(record, households, members, version)
    path = tmp_path / "kobo.xlsx"
    kobo_xlsx([*rows, vrow], path, labels=True)
    report = service.import_answers(tx, plan, path)
    assert report.refused == [] and len(report.inserted) == 5
    result = service.answer_results(tx, plan)
    _check_table4(result["table4"], _expected_table4(members))


def test_a_kobo_csv_with_semicolons_is_read(tx, plan, sample, tmp_path):
    record, households, members, version = sample
    rows, _, _ = _rows(record, households, members, version)
    xlsx = tmp_path / "kobo.xlsx"
    kobo_xlsx(rows[:2], xlsx)
    path = tmp_path / "kobo.csv"
    pd.read_excel(xlsx, dtype=object).to_csv(path, sep=";", index=False)
    report = service.import_answers(tx, plan, path)
    assert report.refused == [] and report.inserted == [rows[0]["instance"], rows[1]["instance"]]


def test_bad_rows_are_refused_naming_instance_and_field_and_strict_writes_nothing(tx, plan, sample, tmp_path):
    record, households, members, version = sample
    rows, _, h = _rows(record, households, members, version)
    good = rows[0]
    bad = [
        {**good, "instance": "uuid:other-plan", "plan_id": str(plan + 1000)},
        {**good, "instance": "uuid:old-version", "form_version": "L1-0000000000000000"},
        {**good, "instance": "uuid:not-sampled", "household": "NOT-SAMPLED"},
        {**good, "instance": "uuid:guangzhou", "gps": (23.13, 113.26)},
        {**good, "instance": "uuid:big-photo", "photo_1": "big.jpg"},
        {**good, "instance": "uuid:not-an-image", "photo_2": "fake.jpg"},
        {**good, "instance": "uuid:escaping", "photo_3": "evil.jpg"},
        {**good, "instance": "uuid:bad-number", "income_yuan": "-5"},
        {**good, "instance": "uuid:bad-choice", "safe_water": "maybe"},
    ]
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export.csv", central_csv([*bad, rows[1]]))
        archive.writestr("media/big.jpg", jpeg((2000, 2000)))
        archive.writestr("media/fake.jpg", b"this is not a photo")
        archive.writestr("../evil.jpg", jpeg())
    strict = service.import_answers(tx, plan, path, strict=True, max_photo_bytes=20_000)
    assert not strict.written and service.list_answers(tx, plan).empty
    report = service.import_answers(tx, plan, path, max_photo_bytes=20_000)
    assert report.written and report.inserted == [rows[1]["instance"]]
    by = {(p.instance_id, p.field): p.message for p in report.refused}
    assert "not plan" in by[("uuid:other-plan", "plan_id")]
    assert "not this plan's current version" in by[("uuid:old-version", "form_version")]
    assert "NOT-SAMPLED is not in the sample" in by[("uuid:not-sampled", "household")]
    assert "outside the registry's county" in by[("uuid:guangzhou", "location")]
    assert "over the limit" in by[("uuid:big-photo", "photo_1")]
    assert "not an image" in by[("uuid:not-an-image", "photo_2")]
    assert "leaves the export" in by[("uuid:escaping", "photo_3")]
    assert "-5 is outside 0 to 1,000,000" in by[("uuid:bad-number", "income_yuan")]
    assert "'maybe' is not one of" in by[("uuid:bad-choice", "safe_water")]
    assert any(p.field == "../evil.jpg" and p.instance_id is None for p in report.refused)
    assert all(p.text().startswith(("submission uuid:", "row")) for p in report.refused)
    names = storage.read_layer(tx, "households", ids=[int(i) for i in households["household_id"]],
                               columns=["head_name"], include_pii=True)["head_name"]
    text = json.dumps(report.as_dict(), ensure_ascii=False)
    assert not any(n and n in text for n in names)


def test_resubmission_keeps_history_and_the_latest_counts(tx, plan, sample, tmp_path):
    record, households, members, version = sample
    rows, _, h = _rows(record, households, members, version)
    first = rows[0]
    path = tmp_path / "a.csv"
    path.write_text(central_csv([first]), encoding="utf-8")
    service.import_answers(tx, plan, path)
    again = service.import_answers(tx, plan, path)
    assert again.unchanged == [first["instance"]]
    edited = {**first, "income_yuan": 4500, "submitted": "2019-11-06T03:00:00.000Z"}
    path.write_text(central_csv([edited]), encoding="utf-8")
    assert service.import_answers(tx, plan, path).updated == [first["instance"]]
    stored = storage.answers.find_answer(tx, plan, first["instance"])
    assert json.loads(stored["answers_json"])["income_yuan"] == 4500
    assert json.loads(stored["history_json"])[0]["answers"]["income_yuan"] == 3500
    # a second submission for the same household, later: it is the one counted
    later = {**first, "instance": "uuid:later", "safe_water": "have", "submitted": "2019-11-07T03:00:00.000Z"}
    path.write_text(central_csv([later]), encoding="utf-8")
    service.import_answers(tx, plan, path)
    listed = service.list_answers(tx, plan).set_index("instance_id")
    assert bool(listed.at["uuid:later", "current"]) and not bool(listed.at[first["instance"], "current"])
    table = service.answer_results(tx, plan)["table4"]
    water = table[table["项目"] == "7.无安全饮水户数"]["数量"].iloc[0]
    assert water == 0


def test_a_position_far_from_the_registry_is_flagged(tx, plan, sample, tmp_path):
    record, households, members, version = sample
    rows, _, h = _rows(record, households, members, version)
    registered = h[0].geometry
    townships = storage.read_layer(tx, "townships", columns=["name"], with_names=False).geometry.union_all()
    target = townships.representative_point()
    step = 0.02 / max(registered.distance(target), 1e-9)
    if step >= 1:  # the household is near the centre: go the other way within the county
        target = Point(2 * registered.x - target.x, 2 * registered.y - target.y)
        step = 0.02 / registered.distance(target)
    far = Point(registered.x + (target.x - registered.x) * step, registered.y + (target.y - registered.y) * step)
    assert townships.covers(far)
    path = tmp_path / "far.csv"
    path.write_text(central_csv([{**rows[0], "gps": (far.y, far.x)}]), encoding="utf-8")
    report = service.import_answers(tx, plan, path)
    assert len(report.far) == 1 and 1500 < report.far[0]["distance_m"] < 3000


def test_proposals_become_findings_only_when_confirmed(tx, plan, sample, tmp_path):
    record, households, members, version = sample
    rows, vrow, h = _rows(record, households, members, version)
    path = tmp_path / "all.csv"
    path.write_text(central_csv(rows[:1]), encoding="utf-8")
    service.import_answers(tx, plan, path)
    assert list_findings(tx, plan=plan).empty  # nothing recorded silently
    proposals = {p["rule"]: p for p in service.answer_proposals(tx, plan)}
    income = proposals["income_below_line"]
    assert (income["category"], income["kind"]) == ("exit", "wrong_exit")
    assert proposals["no_safe_water"]["kind"] == "wrong_exit"  # an exited household: not up to the standard
    assert h[0].household_code in income["description"] and "3500" in income["description"]
    finding = service.add_finding_from_answer(tx, plan, income["key"], responsible_unit="宣和镇人民政府",
                                              deadline="2019-12-31", found_on="2019-11-05")
    assert finding["kind"] == "wrong_exit" and finding["household_code"] == h[0].household_code
    assert income["key"] not in {p["key"] for p in service.answer_proposals(tx, plan)}
    with pytest.raises(Conflict, match="already recorded"):
        service.add_finding_from_answer(tx, plan, income["key"], responsible_unit="x", deadline="2019-12-31",
                                        found_on="2019-11-05")
    with pytest.raises(NotFound, match="no proposal"):
        service.add_finding_from_answer(tx, plan, "uuid:nothing#rule", responsible_unit="x", deadline="2019-12-31")


def test_photos_only_for_callers_who_may_see_the_household(tx, plan, sample, tmp_path):
    record, households, members, version = sample
    rows, _, _ = _rows(record, households, members, version)
    rows[0]["photo_1"] = "p.jpg"
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("p.csv", central_csv(rows[:1]))
        archive.writestr("media/p.jpg", jpeg())
    service.import_answers(tx, plan, path)
    answer_id = int(service.list_answers(tx, plan)["id"].iloc[0])
    with pytest.raises(Forbidden):
        service.answer_photo(tx, plan, answer_id, "photo_1", may_see=lambda assignees: False)
    photo = service.answer_photo(tx, plan, answer_id, "photo_1", may_see=lambda assignees: True)
    assert photo["media_type"] == "image/jpeg" and photo["content"] == jpeg()
    with pytest.raises(NotFound):
        service.answer_photo(tx, plan, answer_id, "photo_2", may_see=lambda assignees: True)
