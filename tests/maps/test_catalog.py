"""The catalog: every map's frames match what its loader reads and its builder takes."""

from __future__ import annotations

import inspect

import pytest

from geo.analysis.catalog import NEEDS
from geo.errors import ValidationError
from maps.catalog import MAPS, build


@pytest.mark.parametrize("name", list(MAPS))
def test_frames_match_the_loader_and_the_builder(name):
    spec = MAPS[name]
    if spec.source == "analysis":
        assert set(spec.layers) == set(NEEDS[spec.analysis])
    accepted = set(inspect.signature(spec.build).parameters)
    assert set(spec.layers) <= accepted
    assert {"township", "base", "tianditu_key"} <= accepted
    assert set(spec.options) - set(spec.source_options) <= accepted
    assert set(spec.source_options) <= set(spec.options)
    if spec.source == "pv_review":  # the loader adds the siting run
        assert {"siting", "siting_note"} <= accepted


def test_options_a_map_does_not_take_are_refused():
    with pytest.raises(ValidationError, match="does not take unit"):
        build(MAPS["roads"], {}, options={"unit": "某单位"})
    with pytest.raises(ValidationError, match="does not take candidates; it takes unit"):
        build(MAPS["pairing"], {}, options={"candidates": 3})
