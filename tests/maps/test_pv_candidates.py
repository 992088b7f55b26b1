"""The PV map's siting candidates on a small hand-built siting result: the layer, colours by
score, popups (capacity, estimated yield and income, beneficiary villages and household
counts), the legend, and escaping of a hostile village name."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo.pv.siting import CANDIDATE_COLUMNS, SitingResult
from maps.base import overlays_of, render_map
from maps.pv import CANDIDATE_FIELDS, CANDIDATE_LAYER, SCORE_CLASSES, pv_map
from tests.maps.conftest import CRS, ESCAPED, XSS


def siting(rows: list[dict], *, found: int | None = None) -> SitingResult:
    frame = pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS))
    geometry = [box(r["lon"] - 0.005, r["lat"] - 0.005, r["lon"] + 0.005, r["lat"] + 0.005) for r in rows]
    candidates = gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)
    return SitingResult(candidates=candidates, cells_evaluated=400, cells_kept=300, excluded_cells={},
                        metric_crs="EPSG:32648", cell_size_m=500.0, is_estimate=True,
                        weather_label="估算值 (estimate)", candidates_found=len(rows) if found is None else found)


def candidate(rank: int, score: float, *, lon: float, lat: float, villages: str, households: int,
              capacity_kwp: float = 87_000.0, kwh_per_kwp: float = 1_500.0) -> dict:
    annual = capacity_kwp * kwh_per_kwp
    return {"rank": rank, "candidate_id": rank, "area_name": "甲镇", "area_ha": 100.0, "cells": 4,
            "developable_kwp": capacity_kwp, "capacity_kwp": capacity_kwp, "kwh_per_kwp": kwh_per_kwp,
            "annual_kwh": annual, "income_yuan_per_year": annual * 0.65, "mean_slope_pct": float("nan"),
            "mean_elevation_m": float("nan"), "grid_distance_m": float("nan"),
            "village_count": len(villages.split("、")) if villages else 0, "villages": villages,
            "nearest_village": villages.split("、")[0] if villages else None,
            "nearest_village_distance_m": 1_234.0 if villages else float("nan"),
            "beneficiary_households": households, "uncovered_households": households // 2,
            "income_yuan_per_beneficiary_household": annual * 0.65 / households if households else float("nan"),
            "score": score, "score_beneficiaries": 1.0, "score_capacity": 1.0, "score_yield": 1.0,
            "score_grid": float("nan"), "score_slope": float("nan"), "yield_is_estimate": True,
            "yield_basis": "估算值 (estimate)", "lon": lon, "lat": lat}


@pytest.fixture
def three() -> SitingResult:
    return siting([
        candidate(1, 92.5, lon=105.12, lat=37.11, villages=f"一村、{XSS}", households=60),
        candidate(2, 55.0, lon=105.25, lat=37.25, villages="二村", households=20, capacity_kwp=43_500.0),
        candidate(3, 12.0, lon=105.33, lat=37.33, villages="", households=0, capacity_kwp=8_700.0),
    ], found=57)


def test_candidates_are_drawn_coloured_by_score_with_their_figures(pv_frames, three):
    m = pv_map(**pv_frames, siting=three)
    layers = overlays_of(m)
    assert list(layers) == ["townships", "villages", "pv_projects", "pv_candidates"]
    layer = layers["pv_candidates"]
    assert layer.layer_name == CANDIDATE_LAYER and layer.show and layer.kind == "marker" and layer.label == "rank"
    features = {f["p"]["rank"]: f for f in layer.features}
    assert sorted(features) == [1, 2, 3]
    # each candidate: its area and a numbered marker at its point, coloured by score
    first = features[1]
    assert first["g"]["type"] == "GeometryCollection"
    assert [g["type"] for g in first["g"]["geometries"]] == ["Polygon", "Point"]
    assert first["g"]["geometries"][1]["coordinates"] == [105.12, 37.11]
    assert [features[r]["s"]["fillColor"] for r in (1, 2, 3)] == ["#253494", "#7fcdbb", "#c7e9b4"]
    p = first["p"]
    assert p["title"] == "选址候选 第1名" and p["score"] == "92.5 / 100"
    assert p["tooltip"] == "选址候选 第1名 · 评分 92.5"
    assert p["capacity"] == "87,000 千瓦（峰值）"
    assert p["annual_kwh"] == "130,500,000 千瓦时"
    assert p["income"] == f"{87_000 * 1_500 * 0.65 / 10_000:,.1f} 万元/年"
    assert p["village_count"] == "2 个" and p["villages"] == f"一村、{XSS}"
    assert p["households"] == "60 户" and p["uncovered"] == "30 户"
    assert p["nearest"] == "一村（1.2 公里）"
    assert p["basis"] == "晴空估算（非实测气象）"
    # a candidate no village benefits from says so with zeros, and leaves names out
    none = features[3]["p"]
    assert none["village_count"] == "0 个" and none["households"] == "0 户"
    assert "villages" not in none and "per_household" not in none and "nearest" not in none
    rows = dict(layer.popup_rows)
    assert rows["年发电量（估算）"] == "annual_kwh" and rows["年收益（估算）"] == "income"
    assert rows["新增受益建档立卡户"] == "households" and rows["到户收益（公益岗位+奖补）"] == "per_household"


def test_legend_and_title_say_how_many_and_that_yields_are_estimates(pv_frames, three):
    m = pv_map(**pv_frames, siting=three)
    labels = m.atlas_legend.labels()
    assert set(SCORE_CLASSES.labels) <= set(labels)
    note = next(label for label in labels if "网格粗筛" in label)
    assert note.startswith("500 米网格粗筛 57 处，取评分最高 3 处") and "估算" in note
    sections = [s.title for s in m.atlas_legend.sections]
    assert f"{CANDIDATE_LAYER}，编号为排名" in sections
    page = render_map(m)
    assert "选址候选 3 处" in page


def test_hostile_beneficiary_village_name_is_escaped(pv_frames, three):
    page = render_map(pv_map(**pv_frames, siting=three))
    assert XSS not in page
    assert f"一村、{ESCAPED}" in page


def test_no_siting_draws_no_candidates_and_a_failed_one_says_why(pv_frames):
    assert "pv_candidates" not in overlays_of(pv_map(**pv_frames))
    m = pv_map(**pv_frames, siting=None, siting_note="no township has an area polygon to site in")
    assert "pv_candidates" not in overlays_of(m)
    assert "未绘制选址候选：no township has an area polygon to site in" in m.atlas_legend.labels()


def test_a_run_without_candidates_draws_an_empty_legend_note(pv_frames):
    m = pv_map(**pv_frames, siting=siting([]))
    assert "pv_candidates" not in overlays_of(m)
    assert any(label.startswith("500 米网格粗筛 0 处") for label in m.atlas_legend.labels())


def test_the_map_shows_columns_siting_produces():
    assert set(CANDIDATE_FIELDS) <= set(CANDIDATE_COLUMNS)


def test_candidates_in_another_crs_are_refused(pv_frames, three):
    moved = SitingResult(**{**three.__dict__, "candidates": three.candidates.to_crs(32648)})
    with pytest.raises(ValueError, match="EPSG:4326"):
        pv_map(**pv_frames, siting=moved)
