"""``/api/villages/{id}/dossier.pdf``: any reader, scoped to the caller's townships."""

from __future__ import annotations

from geo import storage
from tests.api.cli.test_dossier import household_heads, pdf_text


def _village_id(engine, name: str) -> int:
    return int(storage.read_layer(engine, "villages", where={"name": name}, columns=["name"])["id"][0])


def test_dossier_pdf_for_a_leader_names_units_not_households(demo_server, demo_engine, headers, tmp_path):
    vid = _village_id(demo_engine, "上石硼村")
    response = demo_server.get(f"/api/villages/{vid}/dossier.pdf", headers=headers["leader"], timeout=300)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    out = tmp_path / "d.pdf"
    out.write_bytes(response.content)
    text = pdf_text(out)
    for words in ("上石硼村一村一档", "中国电信中卫分公司", "贫困村退出标准评分表", "演示数据"):
        assert words in text, words
    heads = household_heads(demo_engine, vid)
    assert heads and not [n for n in heads if n in text]


def test_unknown_or_out_of_scope_village_is_404(demo_server, demo_engine, headers):
    response = demo_server.get("/api/villages/999999/dossier.pdf", headers=headers["viewer"], timeout=300)
    assert response.status_code == 404 and "not found" in response.text
    # t_scoped sees 兴仁镇 only: 上石硼村 (常乐镇) is as good as absent.
    vid = _village_id(demo_engine, "上石硼村")
    response = demo_server.get(f"/api/villages/{vid}/dossier.pdf", headers=headers["scoped"], timeout=300)
    assert response.status_code == 404
    assert demo_server.get(f"/api/villages/{vid}/dossier.pdf").status_code == 401


def test_a_planner_sees_household_heads_and_the_read_is_audited(demo_server, demo_engine, headers, tmp_path):
    vid = _village_id(demo_engine, "上石硼村")
    response = demo_server.get(f"/api/villages/{vid}/dossier.pdf", headers=headers["planner"], timeout=300)
    assert response.status_code == 200, response.text
    out = tmp_path / "d.pdf"
    out.write_bytes(response.content)
    text = pdf_text(out)
    heads = household_heads(demo_engine, vid)
    assert "本村贫困户与帮扶责任人" in text and [n for n in heads if n in text]
    log = demo_server.get("/api/audit", params={"action": "read_pii", "layer": "households", "user_name": "t_planner"},
                          headers=headers["admin"]).json()
    entries = [e for e in log["items"] if (e.get("after") or {}).get("purpose") == "dossier"]
    assert entries and not [n for n in heads if n in str(log)]
