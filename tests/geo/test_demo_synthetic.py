"""The synthetic county and province generator (geo/demo/synthetic.py), without a database."""

from __future__ import annotations

import pytest

from geo.demo.synthetic import SOURCE, county_code, province_counties, synthetic_county
from geo.errors import ValidationError


def test_the_same_seed_gives_the_same_county_and_another_seed_another():
    one, again, other = (synthetic_county(villages=45, seed=s) for s in (7, 7, 8))
    for name in one:
        assert one[name].equals(again[name]), name
    assert not one["villages"].geometry.equals(other["villages"].geometry)


@pytest.mark.parametrize("villages", [1, 7, 45, 100])
def test_a_county_has_the_villages_asked_for_and_keys_inside_it(villages):
    frames = synthetic_county(villages=villages, seed=1, county_code="990203")
    assert len(frames["villages"]) == villages
    assert set(frames["villages"]["township_id"]) <= set(frames["townships"]["id"])
    assert set(frames["households"]["village_id"]) <= set(frames["villages"]["id"])
    assert set(frames["households"]["settlement_id"]) <= set(frames["settlements"]["id"])
    assert set(frames["households"]["cadre_id"].dropna()) <= set(frames["cadres"]["id"])
    assert all(code.startswith("990203") and len(code) == 9 for code in frames["townships"]["code"])


def test_every_row_says_it_is_invented():
    frames = synthetic_county(villages=45, seed=1, county_code="990101")
    for name, frame in frames.items():
        if "source" in frame:
            assert set(frame["source"]) == {SOURCE}, name
    for name in ("townships", "villages", "units", "cadres", "pv_projects"):
        assert frame_names_start(frames[name], "合成990101"), name


def frame_names_start(frame, prefix: str) -> bool:
    return bool(frame["name"].str.startswith(prefix).all())


def test_a_multiple_of_45_villages_is_the_scale_of_the_demo():
    by_scale, by_villages = synthetic_county(2, seed=3), synthetic_county(villages=90, seed=3)
    for name in by_scale:
        assert by_scale[name].equals(by_villages[name]), name
    assert len(by_scale["households"]) == 20_000


def test_province_codes_are_99_prefecture_county():
    assert [county_code(k) for k in (0, 1, 98, 99, 100)] == ["990101", "990102", "990199", "990201", "990202"]
    codes = [code for code, _ in province_counties(3, 5, seed=1)]
    assert codes == ["990101", "990102", "990103"]


@pytest.mark.parametrize(("counties", "villages", "field"), [(0, 45, "--counties"), (9_802, 45, "--counties"),
                                                             (2, 0, "--villages")])
def test_sizes_out_of_range_are_refused_naming_the_option(counties, villages, field):
    with pytest.raises(ValidationError, match=field):
        next(province_counties(counties, villages, seed=1))
