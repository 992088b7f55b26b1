"""``atlas demo synth``: a synthetic province written into an empty database (both backends)."""

from __future__ import annotations

import json

import pytest

from geo import storage
from geo.db import make_engine
from geo.demo.synthetic import SOURCE
from geo.services.partitioned import counties
from tests.conftest import run_cli

pytestmark = pytest.mark.long


@pytest.fixture(scope="module")
def province(databases):
    """One province per backend for the module (20,000 households take seconds to write): the
    tests only read it, and the one that runs the command again checks that the refused run
    changed nothing."""
    url = databases.url()
    result = run_cli("demo", "synth", "--counties", "2", "--villages", "45", "--seed", "3", "--db", url,
                     "--json", check=True)
    engine = make_engine(url)
    yield url, engine, json.loads(result.stdout)
    engine.dispose()


def test_two_counties_of_45_villages_hold_what_was_asked(province):
    _, engine, rows = province
    assert rows["townships"] == 14 and rows["villages"] == 90 and rows["households"] == 20_000
    for layer in ("townships", "villages", "settlements", "households", "roads", "water_facilities", "pv_projects"):
        assert len(storage.read_layer(engine, layer, columns=["id"], with_names=False)) == rows[layer], layer
    towns = storage.read_layer(engine, "townships", columns=["code", "name", "source"], with_names=False)
    assert sorted(towns["code"]) == [f"9901{c}{t:03d}" for c in ("01", "02") for t in range(1, 8)]
    assert set(towns["source"]) == {SOURCE}
    assert towns["name"].str.startswith("合成").all()
    parts = counties(engine)
    assert sorted(parts) == ["990101", "990102"] and all(len(ids) == 7 for ids in parts.values())


def test_each_households_village_is_in_its_own_county(province):
    """The second county's keys point at the second county's rows (the ids given, not 1..n)."""
    _, engine, _ = province
    towns = storage.read_layer(engine, "townships", columns=["code"], with_names=False)
    villages = storage.read_layer(engine, "villages", columns=["township_id", "name"], with_names=False)
    county_of_village = villages["township_id"].map(dict(zip(towns["id"], towns["code"].str[:6])))
    assert (villages["name"].str[2:8] == county_of_village).all()
    households = storage.read_layer(engine, "households", columns=["code", "village_id"], with_names=False)
    county = households["village_id"].map(dict(zip(villages["id"], county_of_village)))
    assert (households["code"].str[2:8] == county).all()
    assert county.value_counts().to_dict() == {"990101": 10_000, "990102": 10_000}


def test_a_second_run_is_refused_and_changes_nothing(province):
    url, engine, rows = province
    result = run_cli("demo", "synth", "--counties", "1", "--villages", "45", "--db", url)
    assert result.returncode == 1
    assert "already holds 14 townships" in result.stderr and "Traceback" not in result.stderr
    assert len(storage.read_layer(engine, "villages", columns=["id"], with_names=False)) == rows["villages"]


def test_a_bad_size_is_one_line(empty_url):
    result = run_cli("demo", "synth", "--counties", "0", "--db", empty_url)
    assert result.returncode != 0 and "--counties" in result.stderr and "Traceback" not in result.stderr
