"""The PV results as JSON, GeoJSON, CSV and XLSX: one shaping for ``atlas pv`` and the API.

Every answer says what weather its figures rest on; a clear-sky estimate carries
:data:`ESTIMATE_BANNER`. Household-level data never appears here: the review and siting
results count households, they never name them.
"""

from __future__ import annotations

import io

import pandas as pd

from geo.errors import ValidationError
from geo.geojson import feature_collection, json_value
from geo.pv.ledger import LEDGER_FLAGS
from geo.pv.review import FLAGS, PVReview
from geo.pv.siting import SitingResult
from geo.pv.sizing import StationSize
from geo.pv.yield_model import YieldResult
from geo.tabular import write_csv, xlsx_safe_frame

ESTIMATE_BANNER = "【估算值 ESTIMATE】晴空模型×区域系数，非实测气象；用气象文件 (--weather) 得到可靠结果"

PROJECT_HEADERS = {
    "code": "编号", "name": "项目名称", "kind_label": "类型", "status_label": "状态", "capacity_kw": "装机(kW)",
    "township_name": "乡镇", "village_name": "所在村", "reported_beneficiary_households": "上报受益户",
    "linked_households": "名单受益户", "linked_non_poor_households": "其中非贫困户",
    "kwh_per_kwp": "模型单位发电量(kWh/kWp)", "modelled_income_yuan_per_year": "模型年收益(元)",
    "reported_income_yuan_per_year": "上报年收益(元)", "income_ratio": "上报/模型",
    "share_to_households": "到户比例(公益岗位+奖补)", "modelled_income_to_households_yuan_per_year": "模型到户收益(元)",
    "flag_labels": "问题",
    "ledger_year": "台账年度", "ledger_generation_ratio": "台账发电量/模型",
    "ledger_households_ratio": "台账到户(含公益岗位)/方案", "ledger_posts": "公益岗位数", "ledger_flag_labels": "台账问题",
}
VILLAGE_HEADERS = {
    "township_name": "乡镇", "village_name": "行政村", "registered_poor_households": "建档立卡户",
    "installed_kw": "已建装机(kW)", "operating_kw": "运行装机(kW)", "planned_kw": "规划在建(kW)",
    "projects": "项目数", "flagged_projects": "问题项目", "poor_households_covered": "已覆盖贫困户",
    "poor_households_not_covered": "未覆盖贫困户", "non_poor_beneficiaries": "非贫困受益户",
    "reported_income_to_poor_yuan_per_year": "贫困户上报收益(元/年)",
    "income_yuan_per_poor_household": "户均上报收益(元/年)",
    "modelled_income_yuan_per_poor_household": "户均模型收益(元/年)",
    "village_income_yuan_per_year": "村集体收益(元/年)",
}
TOWNSHIP_HEADERS = {"township_name": "乡镇", "villages": "行政村数",
                    **{k: v for k, v in VILLAGE_HEADERS.items() if k not in ("township_name", "village_name")}}
#: Review table -> (Chinese sheet name, headers).
REVIEW_TABLES = {"projects": ("项目", PROJECT_HEADERS), "villages": ("行政村", VILLAGE_HEADERS),
                 "townships": ("乡镇", TOWNSHIP_HEADERS)}


def weather_fields(is_estimate: bool, label: str) -> dict:
    """The JSON fields saying what weather the figures rest on (estimates say so)."""
    return {"is_estimate": is_estimate, "estimate": ESTIMATE_BANNER if is_estimate else None, "weather": label}


def estimate_line(is_estimate: bool, label: str) -> str:
    """One line (two for an estimate) saying what weather the figures rest on."""
    return f"{ESTIMATE_BANNER}\n  ({label})" if is_estimate else f"气象 weather: {label}"


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts, without geometry."""
    frame = pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
    return [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


# ------------------------------------------------------------------------------ yield and size


def yield_json(result: YieldResult) -> dict:
    """A yield estimate as JSON, with the banner when it rests on the clear-sky estimate."""
    data = result.as_dict()
    if result.is_estimate:
        data["estimate"] = ESTIMATE_BANNER
    return data


def size_json(result: StationSize, modelled: YieldResult, *, village: str | None, latitude: float,
              longitude: float) -> dict:
    """A station size as JSON, with the site and the weather of its yield."""
    return {**result.as_dict(), "village": village, "latitude": latitude, "longitude": longitude,
            **weather_fields(modelled.is_estimate, modelled.weather_label)}


# ------------------------------------------------------------------------------ review


def review_json(result: PVReview) -> dict:
    """The review: weather, price, flag labels, and the project, village and township tables."""
    return {
        **weather_fields(result.is_estimate, result.weather_label),
        "price_yuan_per_kwh": result.price_yuan_per_kwh,
        "flags": FLAGS,
        "projects": records(result.projects),
        "villages": records(result.villages),
        "townships": records(result.townships),
    }


def ledger_json(checked: pd.DataFrame, review: PVReview, recorded: list[dict] | None = None) -> dict:
    """Checked ledger years (:func:`geo.pv.ledger.check_ledger`) as JSON: weather, flag labels,
    the rows and, after recording, per row the write (``id``, ``action``, ``version``)."""
    return {**weather_fields(review.is_estimate, review.weather_label), "flags": LEDGER_FLAGS,
            "rows": records(checked.assign(flags=checked["flags"].map(list))),
            **({} if recorded is None else {"recorded": [{k: w[k] for k in ("id", "action", "version")}
                                                         for w in recorded]})}


def projects_geojson(result: PVReview) -> dict:
    """The reviewed projects as a FeatureCollection (flags joined by commas)."""
    frame = result.projects.copy()
    frame["flags"] = frame["flags"].map(lambda f: ",".join(f))
    return feature_collection(frame)


def review_table(result: PVReview, table: str) -> pd.DataFrame:
    """One review table with Chinese headers (``projects``, ``villages`` or ``townships``).

    Raises
    ------
    ValidationError
        Unknown table, naming those that exist.
    """
    if table not in REVIEW_TABLES:
        raise ValidationError(f"the PV review has no table {table!r}; tables: {', '.join(REVIEW_TABLES)}")
    frame = getattr(result, table)
    headers = REVIEW_TABLES[table][1]
    return pd.DataFrame(frame[list(headers)]).rename(columns=headers)


def review_csv(result: PVReview, table: str) -> bytes:
    """One review table as CSV, UTF-8 with BOM (Excel shows the Chinese headers)."""
    return write_csv(review_table(result, table), lineterminator="\n").encode("utf-8-sig")


def review_xlsx(result: PVReview) -> bytes:
    """The three review tables on their sheets, plus a 说明 sheet (weather, price)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, (sheet, _) in REVIEW_TABLES.items():
            xlsx_safe_frame(review_table(result, name)).to_excel(writer, sheet_name=sheet, index=False)
        pd.DataFrame({"说明": [estimate_line(result.is_estimate, result.weather_label),
                               f"电价 {result.price_yuan_per_kwh:g} 元/kWh"]}).to_excel(
            writer, sheet_name="说明", index=False)
    return buffer.getvalue()


# ------------------------------------------------------------------------------ site


def site_json(result: SitingResult) -> dict:
    """The siting run (grid, exclusions, notes) and its candidates."""
    return {
        **weather_fields(result.is_estimate, result.weather_label),
        "metric_crs": result.metric_crs,
        "cell_size_m": result.cell_size_m,
        "cells_evaluated": result.cells_evaluated,
        "cells_kept": result.cells_kept,
        "excluded_cells": result.excluded_cells,
        "excluded_area_ha": {k: round(v, 2) for k, v in result.excluded_area_ha.items()},
        "category": result.category,
        "price_yuan_per_kwh": result.price_yuan_per_kwh,
        "target_income_yuan_per_household": result.target_income_yuan_per_household,
        "distribution": distribution_json(result.distribution),
        "households_to_reach": result.households_to_reach,
        "households_unreached": result.households_unreached,
        "notes": list(result.notes),
        "candidates": records(result.candidates),
    }


def distribution_json(distribution) -> dict | None:
    """An income distribution's shares, post wage and source (None stays None)."""
    if distribution is None:
        return None
    return {"operator": distribution.operator, "public_posts": distribution.public_posts,
            "collective": distribution.collective, "households": distribution.households,
            "to_households": distribution.to_households, "wage_yuan_per_post": distribution.wage_yuan_per_post,
            "source": distribution.source}


def candidates_geojson(result: SitingResult) -> dict:
    """The candidate areas as a FeatureCollection (ids are the candidate ids), with the run's
    figures as a foreign member ``metadata``."""
    data = feature_collection(result.candidates, id_column="candidate_id")
    meta = site_json(result)
    meta.pop("candidates")
    return {**data, "metadata": meta}
