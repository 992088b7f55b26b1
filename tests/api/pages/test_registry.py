"""登记簿 in this process, on both backends: layers by role, search, one record, a change with the
version shown (a stale one refused), personal fields only for the roles allowed and audited."""

from __future__ import annotations

import json
import re

from tests.api.pages.test_pages import browser_session, form_token


def _form(page: str) -> dict[str, str]:
    form = re.search(r'id="record">(.*?)</form>', page, re.DOTALL).group(1)
    data = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    data.update(re.findall(r'<input name="(\w+)" value="([^"]*)"', form))
    for name, options in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', form, re.DOTALL):
        data[name] = re.search(r'<option value="([^"]*)" selected', options).group(1)
    return data


def test_a_planner_searches_opens_and_changes_a_village_with_the_version_check(scratch):
    planner = browser_session(scratch, "t_planner")
    index = planner.get("/registry")
    assert index.status_code == 200 and 'href="/registry/households"' in index.text
    found = planner.get("/registry/villages?q=兴海")
    assert found.status_code == 200 and "兴海村" in found.text and "贫困村类别" in found.text
    row_id = re.search(r'<tr data-id="(\d+)">', found.text).group(1)
    record = planner.get(f"/registry/villages/{row_id}")
    assert record.status_code == 200 and 'name="version"' in record.text
    form = _form(record.text)
    population = int(form["population"] or 0)
    changed = planner.post(f"/registry/villages/{row_id}", data={**form, "population": str(population + 1)})
    assert changed.status_code == 200 and 'id="saved"' in changed.text and "population" in changed.text
    api = scratch.get(f"/api/registry/villages/{row_id}", headers=scratch.headers["planner"]).json()
    assert api["population"] == population + 1 and api["version"] == int(form["version"]) + 1
    stale = planner.post(f"/registry/villages/{row_id}", data={**form, "population": str(population + 2)})
    assert stale.status_code in (409, 412) and "刷新页面" in stale.text
    bad = planner.post(f"/registry/villages/{row_id}", data={**_form(changed.text), "population": "很多"})
    assert bad.status_code == 422 and "参数不正确" in bad.text and "population" in bad.text
    back = planner.post(f"/registry/villages/{row_id}", data={**_form(changed.text), "population": str(population)})
    assert back.status_code == 200 and 'id="saved"' in back.text


def test_leaders_read_without_a_form_viewers_see_public_layers_and_scopes_hold(scratch):
    leader = browser_session(scratch, "t_leader")
    households = leader.get("/registry/households")
    assert households.status_code == 200 and "户主" not in households.text
    row_id = re.search(r'<tr data-id="(\d+)">', households.text).group(1)
    record = leader.get(f"/registry/households/{row_id}")
    assert record.status_code == 200 and 'name="csrf_token"' in record.text and "保存修改" not in record.text
    assert 'id="show-personal"' not in record.text
    assert leader.get(f"/registry/households/{row_id}/personal").status_code == 403
    forged = leader.post(f"/registry/households/{row_id}", data={"csrf_token": form_token(record.text),
                                                                 "version": "1", "members": "9", "was_members": "1"})
    assert forged.status_code == 403 and "无权访问" in forged.text
    viewer = browser_session(scratch, "t_viewer")
    assert 'href="/registry/households"' not in viewer.get("/registry").text
    assert viewer.get("/registry/households").status_code == 403
    scoped = browser_session(scratch, "t_scoped")  # 兴仁镇 only
    assert "兴海村" not in scoped.get("/registry/villages?q=兴海").text
    assert scoped.get("/registry/villages/999999").status_code == 404


def test_personal_fields_are_shown_to_planners_one_household_at_a_time_and_audited(scratch):
    planner = browser_session(scratch, "t_planner")
    listing = planner.get("/registry/households")
    row_id = re.search(r'<tr data-id="(\d+)">', listing.text).group(1)
    record = planner.get(f"/registry/households/{row_id}")
    assert 'id="show-personal"' in record.text and 'name="head_name"' not in record.text
    shown = planner.get(f"/registry/households/{row_id}/personal")
    assert shown.status_code == 200 and "已记入审计日志" in shown.text
    entries = scratch.get("/api/audit?action=read_pii&layer=households", headers=scratch.headers["admin"]).json()
    assert any(e["row_id"] == int(row_id) and e["user_name"] == "t_planner" for e in entries["items"])


def test_a_planner_moves_a_village_point_and_reshapes_a_road_and_bad_positions_are_refused(scratch):
    planner = browser_session(scratch, "t_planner")
    row_id = re.search(r'<tr data-id="(\d+)">', planner.get("/registry/villages?q=兴海").text).group(1)
    form = _form(planner.get(f"/registry/villages/{row_id}").text)
    lon, lat = float(form["lon"]), float(form["lat"])
    moved = planner.post(f"/registry/villages/{row_id}", data={**form, "lon": f"{lon + 0.01:.6f}", "lat": form["lat"]})
    assert moved.status_code == 200 and 'id="saved"' in moved.text and "geometry" in moved.text
    api = scratch.get(f"/api/registry/villages/{row_id}", headers=scratch.headers["planner"]).json()
    assert api["geometry"]["coordinates"] == [round(lon + 0.01, 6), lat]
    again = _form(moved.text)
    assert again["lon"] == f"{lon + 0.01:.6f}"
    unchanged = planner.post(f"/registry/villages/{row_id}", data=again)
    assert unchanged.status_code == 200 and 'id="unchanged"' in unchanged.text
    for bad_lon, bad_lat, says in (("东经105", again["lat"], "十进制度数"), (again["lat"], "105.2", "纬度在 -90 到 90")):
        refused = planner.post(f"/registry/villages/{row_id}", data={**again, "lon": bad_lon, "lat": bad_lat})
        assert refused.status_code == 422 and says in refused.text
    assert scratch.get(f"/api/registry/villages/{row_id}", headers=scratch.headers["planner"]).json()["version"] == \
        api["version"]

    road_id = re.search(r'<tr data-id="(\d+)">', planner.get("/registry/roads").text).group(1)
    page = planner.get(f"/registry/roads/{road_id}").text
    assert 'name="geojson"' in page
    form = _form(page)
    form["was_geojson"] = re.search(r'name="was_geojson" value="([^"]*)"', page).group(1).replace("&#34;", '"')
    line = {"type": "LineString", "coordinates": [[105.2, 37.5], [105.21, 37.51]]}
    reshaped = planner.post(f"/registry/roads/{road_id}", data={**form, "geojson": json.dumps(line)})
    assert reshaped.status_code == 200 and 'id="saved"' in reshaped.text
    stored = scratch.get(f"/api/registry/roads/{road_id}", headers=scratch.headers["planner"]).json()["geometry"]
    assert stored["coordinates"] == [[[105.2, 37.5], [105.21, 37.51]]] or stored["coordinates"] == line["coordinates"]
    broken = planner.post(f"/registry/roads/{road_id}", data={**_form(reshaped.text), "was_geojson": "",
                                                                "geojson": '{"type": "LineString",'})
    assert broken.status_code == 422 and "不是有效的 GeoJSON" in broken.text


def test_a_planner_changes_a_head_name_and_id_number_on_the_audited_view_others_may_not(scratch):
    planner = browser_session(scratch, "t_planner")
    row_id = re.search(r'<tr data-id="(\d+)">', planner.get("/registry/households").text).group(1)
    shown = planner.get(f"/registry/households/{row_id}/personal").text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', shown))
    form.update(re.findall(r'<input name="(\w+)" id="\w+" value="([^"]*)"', shown))
    assert {"head_name", "id_number", "version", "csrf_token"} <= set(form)
    bad = planner.post(f"/registry/households/{row_id}/personal", data={**form, "id_number": "64050219800101123"})
    assert bad.status_code == 422 and "18 位" in bad.text and "64050219800101123" not in bad.text
    saved = planner.post(f"/registry/households/{row_id}/personal",
                         data={**form, "head_name": "测试改名", "id_number": "64050219800101123X"})
    assert saved.status_code == 200 and 'id="saved"' in saved.text and "测试改名" in saved.text
    api = scratch.get(f"/api/registry/households/{row_id}/personal", headers=scratch.headers["planner"]).json()
    assert api["head_name"] == "测试改名" and api["id_number"] == "64050219800101123X"
    stale = planner.post(f"/registry/households/{row_id}/personal", data={**form, "head_name": "又改"})
    assert stale.status_code in (409, 412)
    entries = scratch.get(f"/api/audit?layer=households&row_id={row_id}", headers=scratch.headers["admin"]).text
    assert "测试改名" not in entries and "64050219800101123X" not in entries and "update" in entries
    leader = browser_session(scratch, "t_leader")
    forged = leader.post(f"/registry/households/{row_id}/personal",
                         data={"csrf_token": form_token(leader.get(f"/registry/households/{row_id}").text),
                               "version": "9", "head_name": "x", "was_head_name": ""})
    assert forged.status_code == 403
