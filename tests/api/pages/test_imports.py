"""数据导入 in this process, on both backends: upload, layer guessed from the headers, dry run
row by row, commit, history; refused rows, another account's file, roles and forged forms."""

from __future__ import annotations

import re

import pytest

from geo import storage
from tests.api.pages.test_pages import browser_session, form_token

HEADER = "设施编号,设施名称,设施类型,运行状态,经度,纬度\n"


def _wells(*codes: str, bad: str | None = None) -> bytes:
    rows = [f"{code},机井{code},机井,正常运行,105.{i + 1},37.5" for i, code in enumerate(codes)]
    if bad:
        rows.append(f"{bad},水塔{bad},水塔,正常运行,105.2,37.5")
    return (HEADER + "\n".join(rows) + "\n").encode()


def _upload(client, page: str, name: str, content: bytes, **form):
    data = {"csrf_token": form_token(page), "layer": "auto", "strict": "true", **form}
    return client.post("/imports", data=data, files={"file": (name, content, "text/csv")})


def _action(page: str, form_id: str) -> str:
    return re.search(rf'action="([^"]+)"[^>]*id="{form_id}"', page).group(1)


def _hidden(page: str, form_id: str) -> dict[str, str]:
    form = re.search(rf'id="{form_id}"[^>]*>(.*?)</form>', page, re.DOTALL).group(1)
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


def test_a_planner_checks_a_file_row_by_row_then_imports_it(scratch):
    planner = browser_session(scratch, "t_planner")
    page = planner.get("/imports")
    assert page.status_code == 200 and "数据导入" in page.text and 'href="/imports"' in page.text
    before = storage.count_layer(scratch.engine, "water_facilities")

    checked = _upload(planner, page.text, "水井.csv", _wells("PG-1", "PG-2"))
    assert checked.status_code == 200, checked.text
    assert "按表头识别为「" in checked.text and 'name="layer" value="water_facilities"' in checked.text
    assert re.search(r'id="inserted">2<', checked.text) and "试运行，未写入" in checked.text
    assert storage.count_layer(scratch.engine, "water_facilities") == before

    done = planner.post(_action(checked.text, "commit"), data=_hidden(checked.text, "commit"))
    assert done.status_code == 200 and "已导入" in done.text and "水井.csv" in done.text
    assert storage.count_layer(scratch.engine, "water_facilities") == before + 2
    history = re.search(r'id="history".*?</table>', done.text, re.DOTALL).group(0)
    assert "水井.csv" in history and "t_planner" in history
    again = planner.post(_action(checked.text, "commit"), data=_hidden(checked.text, "commit"))
    assert again.status_code == 404 and "upload it again" in again.text  # imported once, never twice


def test_refused_rows_are_listed_and_strict_blocks_the_commit(scratch):
    planner = browser_session(scratch, "t_planner")
    page = planner.get("/imports").text
    before = storage.count_layer(scratch.engine, "water_facilities")
    checked = _upload(planner, page, "wells-bad.csv", _wells("PB-1", bad="PB-2"))
    assert checked.status_code == 200
    row = re.search(r'<tr class="table-danger" data-kind="refused"><td>(\d+)</td>.*?</tr>', checked.text, re.DOTALL)
    assert row.group(1) == "3" and "水塔" in row.group(0)
    assert 'id="blocked"' in checked.text and 'id="commit"' not in checked.text

    lenient = {**_hidden(checked.text, "recheck"), "layer": "water_facilities"}
    lenient.pop("strict")
    rechecked = planner.post(_action(checked.text, "recheck"), data=lenient)
    assert 'id="commit"' in rechecked.text and "不会写入" in rechecked.text
    done = planner.post(_action(rechecked.text, "commit"), data=_hidden(rechecked.text, "commit"))
    assert done.status_code == 200 and "已导入" in done.text
    assert storage.count_layer(scratch.engine, "water_facilities") == before + 1


def test_an_unknown_layout_asks_for_the_layer_and_a_bad_file_is_a_chinese_page(scratch):
    planner = browser_session(scratch, "t_planner")
    page = planner.get("/imports").text
    unknown = _upload(planner, page, "notes.csv", "甲,乙\n1,2\n".encode())
    assert unknown.status_code == 422 and 'id="choose"' in unknown.text and "请选择图层" in unknown.text
    wrong = _upload(planner, page, "plan.docx", b"binary")
    assert wrong.status_code == 422 and "参数不正确" in wrong.text and "unknown file type" in wrong.text
    empty = _upload(planner, page, "empty.csv", b"", layer="water_facilities")
    assert empty.status_code == 422 and "empty" in empty.text


@pytest.mark.parametrize("who", ["t_leader", "t_scoped"])
def test_only_planners_and_administrators_without_a_township_limit_import(scratch, who):
    client = browser_session(scratch, who)
    response = client.get("/imports")
    assert response.status_code == 403 and "无权访问" in response.text


def test_a_kept_file_belongs_to_the_account_that_uploaded_it(scratch):
    planner = browser_session(scratch, "t_planner")
    checked = _upload(planner, planner.get("/imports").text, "wells-own.csv", _wells("PO-1"))
    admin = browser_session(scratch, "t_admin")
    form = {**_hidden(checked.text, "commit"), "csrf_token": form_token(admin.get("/imports").text)}
    response = admin.post(_action(checked.text, "commit"), data=form)
    assert response.status_code == 404 and "upload it again" in response.text
    forged = planner.post(_action(checked.text, "commit"), data={**_hidden(checked.text, "commit"),
                                                                 "csrf_token": "0" * 64})
    assert forged.status_code == 403
