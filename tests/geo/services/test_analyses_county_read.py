"""A township's (a county task's) read takes only the links of the facilities and projects it
read, so it does not grow with the registry; the answers are those of every link."""

from __future__ import annotations

from geo import storage
from geo.analysis.catalog import analyze
from geo.services.analyses import load_inputs

TOWNSHIP = "东园镇"


def test_a_townships_links_are_those_of_its_facilities(demo_engine):
    frames = load_inputs(demo_engine, "water", township=TOWNSHIP)
    every = storage.read_links(demo_engine, "water_facility_villages")
    own = every[every["facility_id"].isin(frames["water_facilities"]["id"])].reset_index(drop=True)
    assert 0 < len(own) < len(every)  # the filter keeps some and leaves some out
    assert frames["water_facility_villages"].reset_index(drop=True).equals(own)


def test_the_answers_are_those_of_every_link(demo_engine):
    frames = load_inputs(demo_engine, "water", township=TOWNSHIP)
    with_every = {**frames, "water_facility_villages": storage.read_links(demo_engine, "water_facility_villages")}
    ours, theirs = analyze(frames, "water"), analyze(with_every, "water")
    assert ours.tables.keys() == theirs.tables.keys()
    for name in ours.tables:
        assert ours.tables[name].equals(theirs.tables[name]), name


def test_links_by_owner_in_chunks_and_none(demo_engine):
    every = storage.read_links(demo_engine, "water_facility_villages")
    owners = sorted(set(every["facility_id"]))[::2]
    many = [*range(10_000_000, 10_012_000), *owners]  # more ids than one chunk of 5,000
    got = storage.read_links(demo_engine, "water_facility_villages", owners=many)
    assert got.equals(every[every["facility_id"].isin(owners)].reset_index(drop=True))
    none = storage.read_links(demo_engine, "water_facility_villages", owners=[])
    assert none.empty and list(none.columns) == ["facility_id", "village_id"]
