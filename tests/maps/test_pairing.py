"""The pairing map on small frames: layers, features, flags, legend, filters, escaping."""

from __future__ import annotations

import numpy as np
import pytest

from geo.chinacrs import wgs84_to_gcj02
from geo.errors import NotFound, ValidationError
from maps.base import DEMO_NOTE, overlays_of, render_map
from maps.pairing import GAP_LABEL, GAP_STYLE, pairing_map
from tests.maps.conftest import XSS, mark_demo


@pytest.fixture
def frames(villages, pairings, work_teams, units, townships):
    return dict(villages=villages, pairings=pairings, work_teams=work_teams, units=units,
                townships=townships)


def props_by_name(layer):
    return {f["p"]["name"]: f for f in layer.features}


def test_layers_and_feature_counts(frames):
    layers = overlays_of(pairing_map(**frames))
    assert list(layers) == ["townships", "pairing_links", "units", "villages"]
    assert len(layers["villages"].features) == 4
    assert len(layers["townships"].features) == 1
    # Unit 10 pairs villages 1 and 3, unit 11 village 1, unit 12 leads village 1's team.
    assert len(layers["units"].features) == 3
    assert len(layers["pairing_links"].features) == 4


def test_village_popup_lists_units_funds_and_leader(frames):
    villages = props_by_name(overlays_of(pairing_map(**frames))["villages"])
    one = villages["一村"]["p"]
    assert one["category"] == "重点贫困村"
    assert one["units"] == ["区财政局（1.5 万元）", "自治区某厅（2 万元）"]
    assert one["funds"] == "3.5 万元"
    assert one["leader"] == "市某局"
    assert "_warn" not in one


def test_poor_village_without_unit_or_team_stands_out(frames):
    villages = props_by_name(overlays_of(pairing_map(**frames))["villages"])
    two = villages["二村"]
    assert two["p"]["_warn"] == ["贫困村无帮扶单位", "贫困村无驻村工作队"]
    assert two["s"] == GAP_STYLE
    # An exited village (脱贫销号村) is a poor village too (脱贫不脱帮扶): without a team it is a gap.
    assert villages[XSS]["p"]["_warn"] == ["贫困村无驻村工作队"] and villages[XSS]["s"] == GAP_STYLE


def test_far_unit_is_placed_beside_its_villages(frames, villages):
    units = {f["p"]["name"]: f for f in overlays_of(pairing_map(**frames))["units"].features}
    near, far = units["区财政局"], units["自治区某厅"]
    assert near["g"]["coordinates"] == [105.15, 37.35]
    assert "s" not in near
    assert far["s"] == {"iconClass": "atlas-far"}
    x, y = far["g"]["coordinates"]
    # Beside village 1 (105.1, 37.1), not in Yinchuan (106.23, 38.48).
    assert abs(x - 105.1) < 0.05 and abs(y - 37.1) < 0.05
    assert "区外" in far["p"]["where"]


def test_links_are_styled_by_relation(frames):
    links = {f["p"]["label"]: f for f in overlays_of(pairing_map(**frames))["pairing_links"].features}
    assert "s" not in links["区财政局 — 一村"]
    assert links["自治区某厅 — 一村"]["s"] == {"dashArray": "6 5"}
    assert links["市某局 — 一村（工作队队长单位）"]["s"]["color"] == "#8e44ad"


def test_legend_entries(frames):
    legend = pairing_map(**frames).atlas_legend
    labels = legend.labels()
    for expected in ("重点贫困村", "贫困村", "脱贫销号村", "非贫困村", GAP_LABEL, "乡镇界"):
        assert expected in labels
    assert legend.demo_note is None


def test_demo_flag_when_any_row_is_demo(frames):
    frames["units"] = mark_demo(frames["units"])
    m = pairing_map(**frames)
    assert m.atlas_legend.demo_note == DEMO_NOTE
    assert "demo:approximate" in render_map(m)


def test_filter_by_unit(frames):
    layers = overlays_of(pairing_map(**frames, unit="区财政局"))
    assert sorted(f["p"]["name"] for f in layers["villages"].features) == sorted(["一村", XSS])
    assert [f["p"]["name"] for f in layers["units"].features] == ["区财政局"]
    # Popups still list every unit of the village.
    one = props_by_name(layers["villages"])["一村"]["p"]
    assert len(one["units"]) == 2
    by_id = overlays_of(pairing_map(**frames, unit="12"))
    assert [f["p"]["name"] for f in by_id["villages"].features] == ["一村"]


def test_unknown_unit_is_not_found(frames):
    with pytest.raises(NotFound, match="no assistance unit '财政'.*区财政局"):
        pairing_map(**frames, unit="财政")


def test_missing_column_is_named(frames):
    frames["villages"] = frames["villages"].drop(columns=["category"])
    with pytest.raises(ValidationError, match="villages frame lacks column"):
        pairing_map(**frames)


def test_gcj02_copy_is_shifted(frames, villages):
    layer = overlays_of(pairing_map(**frames))["villages"]
    lon, lat = wgs84_to_gcj02(105.1, 37.1)
    assert layer.features[0]["g"]["coordinates"] == [105.1, 37.1]
    assert np.allclose(layer.gcj[0]["coordinates"], [lon, lat], atol=1e-6)
    assert abs(float(lon) - 105.1) > 1e-3  # the offset is hundreds of metres here


def test_data_is_escaped_in_the_page(frames):
    page = render_map(pairing_map(**frames))
    assert XSS not in page
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page


def test_panel_lists_each_townships_villages_with_units_and_gaps_first(frames):
    from maps.base import Panel

    m = pairing_map(**frames)
    panel = next(c for c in m._children.values() if isinstance(c, Panel)).spec
    assert panel["title"] == "帮扶结对一览（2019年）"
    # Poor villages lacking a unit or a team head the panel (二村 lacks both, the exited XSS village a team).
    assert {g["name"] for g in panel["gaps"]} == {"二村", XSS}
    (town,) = panel["townships"]
    assert town["name"] == "甲镇" and town["gaps"] == 2
    assert [v["name"] for v in town["villages"]][2:] == ["一村", "四村"]  # gaps first, then by name
    one = next(v for v in town["villages"] if v["name"] == "一村")
    assert [(u["id"], u["funds"]) for u in one["units"]] == [(10, "1.5 万元"), (11, "2 万元")]
    assert one["leader"] == {"id": 12, "name": "市某局"}
    units = {u["id"]: u for u in panel["units"]}
    assert units[10]["villages"] == [1, 3] and units[10]["funds"] == "2 万元"
    assert units[12]["leads"] == [1] and units[12]["villages"] == []
    assert units[11]["far"] is True and units[10]["far"] is False  # the region's office is 150 km away
    # The page gets the names as JSON text, never as markup.
    assert XSS not in render_map(m) and "\\u003cimg" in render_map(m)


def test_names_are_drawn_with_ranks(frames):
    layers = overlays_of(pairing_map(**frames))
    villages = props_by_name(layers["villages"])
    assert villages["二村"]["p"]["_rank"] > layers["townships"].features[0]["p"]["_rank"] > villages["一村"]["p"]["_rank"] \
        or villages["一村"]["p"]["_rank"] == villages["二村"]["p"]["_rank"]
    assert layers["villages"].name_labels.always_from_rank == villages["二村"]["p"]["_rank"]
    assert layers["townships"].name_labels.always and layers["townships"].name_labels.placement == "center"
    assert not layers["units"].show and not layers["pairing_links"].show  # drawn for a chosen unit only


def test_inputs_against_tasks_in_popups_and_panel(frames, units):
    """区财政局 pairs with 一村 (1.5 万元) and the XSS village (0.5 万元); its 附件2 rows put 1.2 and
    1.0 万元 into them: 2.2 of 2.0 万元 = 110 %. A unit name that is markup stays text."""
    import pandas as pd

    from maps.base import Panel

    units = units.copy()
    units.loc[units["id"] == 11, "name"] = XSS
    inputs = pd.DataFrame({"unit_id": [10, 10], "village_id": [1, 3], "year": [2019, 2019],
                           "total_input_wan_yuan": [1.2, 1.0], "cadres_division": [1, 0], "cadres_section": [2, 1],
                           "cadres_general": [3, 4], "visits_per_cadre": [6.0, 11.0]})
    m = pairing_map(**{**frames, "units": units, "unit_inputs": inputs})
    layers = overlays_of(m)
    village = props_by_name(layers["villages"])["一村"]["p"]
    assert village["units"][0] == "区财政局（任务 1.5 万元；投入 1.2 万元，为任务的 80%）"
    assert village["units"][1] == f"{XSS}（2 万元）"  # no 附件2 row: the task alone
    assert village["input"] == "1.2 万元，为任务的 34.3%"  # of 3.5 万元 of task funds
    unit = props_by_name(layers["units"])["区财政局"]["p"]
    assert unit["input"] == "2.2 万元，为任务的 110%"
    assert unit["cadres"] == "11 人（处级 1、科级 3、一般 7）" and unit["visits"] == "8.3 次"  # (6*6 + 5*11) / 11 cadres
    panel = next(c for c in m._children.values() if isinstance(c, Panel)).spec
    chips = {u["name"]: u for t in panel["townships"] for v in t["villages"] for u in v["units"]}
    assert chips["区财政局"]["input"] == "1.2 万元，为任务的 80%" and chips[XSS]["input"] is None
    listed = {u["name"]: u for u in panel["units"]}
    assert listed["区财政局"]["input"] == "2.2 万元，为任务的 110%"
    html = render_map(m)
    assert XSS not in html  # names travel as JSON text and go into text nodes
    # without the 附件2 layer (a viewer) there is no input anywhere
    plain = props_by_name(overlays_of(pairing_map(**frames))["villages"])["一村"]["p"]
    assert "input" not in plain and plain["units"][0] == "区财政局（1.5 万元）"
