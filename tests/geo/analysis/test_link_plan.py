"""The network link plan on hand-built layers whose answers are worked out in metres (both backends)."""

from __future__ import annotations

import pytest

from geo.analysis import analyze


def _row(table, column, value):
    rows = table[table[column] == value]
    assert len(rows) == 1, f"{column}={value!r}: {len(rows)} rows"
    return rows.iloc[0]


def _serves(links, village):
    return links[[village in str(names).split("、") for names in links["village_names"]]]


def test_a_village_near_a_neighbouring_seat_network_joins_it(registry):
    # 甲镇's seat network runs north from (0, 0); 乙镇's from (20 km, 0). 边村 belongs to 甲镇
    # but stands 2.7 km from 乙镇's road and 14 km from its own.
    registry.township("甲镇", seat=(0, 0), bounds=(-10_000, -10_000, 15_000, 10_000))
    registry.township("乙镇", seat=(20_000, 0), bounds=(15_000, -10_000, 30_000, 10_000))
    registry.road((0, 0), (0, 8_000))
    registry.road((20_000, 0), (20_000, 8_000))
    registry.village("边村", "甲镇", (17_300, 5_000), population=900, households=300)
    result = analyze(registry.load("roads"), "roads")
    link = _row(result.tables["links"], "village_names", "边村")
    assert link["length_km"] == pytest.approx(2.7, abs=0.001)
    assert link["joins"] == "乙镇驻地连通的硬化路网"
    assert pd_isna(link["via_link_id"]) and list(link["path_link_ids"]) == [link["link_id"]]
    # today's one-by-one choice: 17.3 km to its own seat's road
    plans = result.tables["link_plans"].set_index("plan")
    assert plans.loc["one_by_one", "length_km"] == pytest.approx(17.3, abs=0.001)
    assert plans.loc["network", "length_km"] == pytest.approx(2.7, abs=0.001)
    assert plans.loc["network", "chosen"] and not plans.loc["one_by_one", "chosen"]
    assert any("统筹少建14.60公里" in note for note in result.notes)
    # the old choice stays available
    old = analyze(registry.load("roads"), "roads", link_plan="one_by_one")
    assert old.tables["links"]["length_km"].sum() == pytest.approx(17.3, abs=0.001)


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_two_villages_beside_each_other_share_one_link(registry):
    registry.township("甲镇", seat=(0, 0))
    registry.road((0, 0), (0, 10_000))
    registry.village("东村", "甲镇", (3_000, 5_000), population=600, households=200)
    registry.village("东二村", "甲镇", (3_000, 5_150), population=300, households=100)  # 150 m from 东村
    result = analyze(registry.load("roads"), "roads")
    links = result.tables["links"]
    assert len(links) == 1
    link = links.iloc[0]
    assert set(link["village_names"].split("、")) == {"东村", "东二村"}
    assert link["length_km"] == pytest.approx(3.0, abs=0.001)
    assert link["households_served"] == 300 and link["villages_served"] == 2
    villages = result.tables["villages"].set_index("village_name")
    assert villages.loc["东村", "new_link_id"] == villages.loc["东二村", "new_link_id"] == link["link_id"]
    # one by one, each village had its own 3 km link
    plans = result.tables["link_plans"].set_index("plan")
    assert plans.loc["one_by_one", "new_links"] == 2
    assert plans.loc["one_by_one", "length_km"] == pytest.approx(6.0, abs=0.001)


def test_a_village_joins_a_planned_link_when_it_is_nearer_than_the_road(registry):
    # 远村 is 6 km from the road; 外村 is 1 km beyond it to the east (7 km from the road):
    # joining 远村's link end costs 1 km, the road 7 km.
    registry.township("甲镇", seat=(0, 0))
    registry.road((0, 0), (0, 10_000))
    registry.village("远村", "甲镇", (6_000, 5_000))
    registry.village("外村", "甲镇", (7_000, 5_000))
    result = analyze(registry.load("roads"), "roads")
    links = result.tables["links"]
    first = _row(links, "village_names", "远村")
    second = _row(links, "village_names", "外村")
    assert first["length_km"] == pytest.approx(6.0, abs=0.001)
    assert second["length_km"] == pytest.approx(1.0, abs=0.001)
    assert second["via_link_id"] == first["link_id"] and second["joins"] == f"规划连接线{first['link_id']}号"
    assert list(second["path_link_ids"]) == [second["link_id"], first["link_id"]]
    # the ranking pays 外村's whole path to the seat
    ranking = analyze(registry.load("priority", kind="road"), "priority", kind="road").tables["ranking"]
    assert _row(ranking, "village_name", "外村")["quantity"] == pytest.approx(7.0, abs=0.001)


def test_a_link_may_join_the_middle_of_a_planned_link(registry):
    # the seat network is a 10 m stub at the seat; 北村's link runs 4 km along y = 0 to it.
    # 中村 stands 4.2 km north of that link's middle: 4.64 km from the stub, 4.65 km from 北村.
    registry.township("甲镇", seat=(0, 0))
    registry.road((0, 0), (0, 10))
    registry.village("北村", "甲镇", (4_000, 5))
    registry.village("中村", "甲镇", (2_000, 4_205))
    result = analyze(registry.load("roads"), "roads")
    links = result.tables["links"]
    middle = _row(links, "village_names", "中村")
    assert middle["length_km"] == pytest.approx(4.2, abs=0.001)
    assert middle["via_link_id"] == _row(links, "village_names", "北村")["link_id"]


def test_no_village_link_is_longer_than_its_distance_to_the_seat_network(registry):
    registry.township("甲镇", seat=(0, 0))
    registry.road((0, 0), (0, 10_000))
    registry.road((0, 0), (10_000, 0))
    for k, (x, y) in enumerate([(3_000, 3_000), (5_000, 2_500), (2_000, 6_000), (7_000, 7_000), (4_000, 4_500)]):
        registry.village(f"村{k}", "甲镇", (x, y))
    result = analyze(registry.load("roads"), "roads")
    villages = result.tables["villages"]
    links = result.tables["links"].set_index("link_id")
    for row in villages.itertuples():
        own = links.loc[row.new_link_id]
        if row.village_name in own["village_names"].split("、"):
            assert own["length_m"] <= row.distance_to_hardened_road_m + 0.5
    plans = result.tables["link_plans"].set_index("plan")
    assert plans.loc["network", "length_km"] <= plans.loc["one_by_one", "length_km"] + 1e-9
