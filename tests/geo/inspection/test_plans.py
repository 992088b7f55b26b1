"""Plans: presets, plan files (YAML and JSON) and their error messages."""

from __future__ import annotations

import json

import pytest

from geo.enums import HouseholdStatus, VillageCategory, VillageSelection
from geo.errors import NotFound, ValidationError
from geo.inspection.plans import load_plan, plan_from_dict, with_overrides

PLAN_YAML = """\
name: 2019年迎水桥镇检查
year: 2019
scope:
  townships: [迎水桥镇]
  categories: [key_poor, 贫困村]
  exclude_villages: [沙坡头村]
villages:
  select: pps
  count: 4
households:
  per: village
  strata:
    - key: exited_recent
      label: 近两年脱贫户
      statuses: [exited]
      years: [this-2, this-1]
      quota: 2
      fill_from: registered
    - key: registered
      label: 未脱贫户
      statuses: [registered, 返贫]
      quota: [1, 3]
"""


def test_seed003_preset_has_the_ten_households_of_seed_003():
    spec = load_plan("seed003", year=2017)
    assert [(s.key, s.quota) for s in spec.strata] == [
        ("exited_earlier", 2), ("exited_last_year", 2), ("planned_this_year", 3), ("registered", 2), ("non_poor", 1)]
    # relative to the plan year: in 2017 these are seed 003's 2014-15 and 2016 exits
    assert (spec.strata[0].year_from, spec.strata[0].year_to, spec.strata[0].label) == (None, 2015, "2015年及以前退出户")
    assert (spec.strata[1].year_from, spec.strata[1].year_to, spec.strata[1].label) == (2016, 2016, "2016年退出户")
    assert sum(s.quota for s in spec.strata) == 10
    planned = spec.stratum("planned_this_year")
    assert (planned.year_from, planned.year_to, planned.label) == (2017, 2017, "2017年计划脱贫户")
    assert spec.selection == VillageSelection.ALL and spec.quota_per == "village"


def test_county_spot_preset_is_8_to_10_poor_and_3_to_5_non_poor_per_county():
    spec = load_plan("county-spot", year=2017)
    assert [(s.key, s.minimum, s.quota) for s in spec.strata] == [("poor", 8, 10), ("non_poor", 3, 5)]
    assert spec.quota_per == "scope" and spec.selection == VillageSelection.PPS


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_plan_file_is_read_with_relative_years_ranges_and_fills(tmp_path, suffix):
    import yaml

    path = tmp_path / f"plan{suffix}"
    data = yaml.safe_load(PLAN_YAML)
    path.write_text(PLAN_YAML if suffix == ".yaml" else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    spec = load_plan(str(path))
    assert spec.name == "2019年迎水桥镇检查" and spec.year == 2019 and spec.preset == path.name
    assert spec.scope.categories == (VillageCategory.KEY_POOR, VillageCategory.POOR)
    recent = spec.stratum("exited_recent")
    assert (recent.year_from, recent.year_to, recent.fill_from) == (2017, 2018, "registered")
    registered = spec.stratum("registered")
    assert registered.statuses == (HouseholdStatus.REGISTERED, HouseholdStatus.RETURNED)
    assert (registered.minimum, registered.quota) == (1, 3)
    assert plan_from_dict(spec.to_dict()) == spec  # what is stored reads back unchanged
    assert load_plan(str(path), year=2020).stratum("exited_recent").year_to == 2019


@pytest.mark.parametrize("change, message", [
    (lambda d: d["households"]["strata"][0].update(quota=-1), r"strata\[0\]\.quota: -1"),
    (lambda d: d["households"]["strata"][0].update(statuses=["rich"]), r"strata\[0\]\.statuses: 'rich' is not a valid"),
    (lambda d: d["households"]["strata"][0].update(fill_from="nobody"), r"fill_from: 'nobody' is not another stratum"),
    (lambda d: d["villages"].update(count=0), r"villages\.count: 0"),
    (lambda d: d["scope"].update(colour="red"), r"field scope\.colour: unknown key"),
    (lambda d: d["households"].update(strata=[]), r"households\.strata: a plan needs a non-empty list"),
    (lambda d: d["households"]["strata"][1].update(key="exited_recent"), r"key 'exited_recent' is used twice"),
])
def test_bad_plan_fields_are_named(tmp_path, change, message):
    import yaml

    data = yaml.safe_load(PLAN_YAML)
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError, match=message) as info:
        load_plan(str(path))
    assert str(path) in str(info.value)


def test_an_unknown_preset_and_an_unparseable_file_say_what_to_do(tmp_path):
    with pytest.raises(NotFound, match="unknown preset 'seed004'.*seed003, county-spot or the path"):
        load_plan("seed004")
    broken = tmp_path / "broken.yaml"
    broken.write_text("households: [unclosed", encoding="utf-8")
    with pytest.raises(ValidationError, match="broken.yaml: not valid YAML"):
        load_plan(str(broken))


def test_command_line_overrides_apply_and_are_checked():
    spec = with_overrides(load_plan("seed003", year=2019), townships=("迎水桥镇",), categories=("重点贫困村",),
                          village_count=3)
    assert spec.selection == VillageSelection.RANDOM and spec.village_count == 3
    assert spec.scope.categories == (VillageCategory.KEY_POOR,)
    with pytest.raises(ValidationError, match="--categories: 'rich'"):
        with_overrides(spec, categories=("rich",))
    with pytest.raises(ValidationError, match="needs a count"):
        with_overrides(load_plan("seed003", year=2019), selection="pps")


@pytest.mark.parametrize("status, year, stratum", [
    ("exited", 2014, "exited_earlier"), ("exited", 2017, "exited_earlier"), ("exited", 2018, "exited_last_year"),
    ("exited", 2019, "planned_this_year"), ("planned_exit", 2019, "planned_this_year"),
    ("planned_exit", 2020, "registered"), ("returned", None, "registered"), ("registered", None, "registered"),
    ("non_poor", None, "non_poor"), ("exited", 2020, None), ("exited", None, None),
])
def test_seed003_strata_of_2019_cover_every_exit_cohort_up_to_the_plan_year(status, year, stratum):
    spec = load_plan("seed003", year=2019)
    assert next((s.key for s in spec.strata if s.matches(status, year)), None) == stratum
