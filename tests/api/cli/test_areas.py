"""``--area`` on the command line: a county, prefecture or province by code or name (demo)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize("area", ["640502", "沙坡头区", "中卫市", "640000"])
def test_analyze_takes_an_area_at_any_level(demo_url, area):
    data = json.loads(run_cli("analyze", "coverage", "--db", demo_url, "-f", "json", "--area", area,
                              check=True).stdout)
    assert len(data["tables"]["villages"]) == 45


def test_an_unknown_area_is_one_line_naming_the_areas(demo_url):
    result = run_cli("analyze", "coverage", "--db", demo_url, "--area", "640599")
    assert result.returncode != 0
    assert "沙坡头区 640502" in result.stderr and "Traceback" not in result.stderr
