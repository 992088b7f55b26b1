"""The asset ledger (资产台账) as tables with Chinese headers: every asset with its project,
class, owner, maintainer, value and hand-over date, a PV station's asset with its station's
latest ledger year (generation, income and its distribution); and every PV station of the
PV ledger, with the asset it is registered as (or 未登记为资产).

Pure: frames in, frames out; :mod:`geo.services.library` reads them and writes the XLSX.
"""

from __future__ import annotations

import pandas as pd

from geo.enums import AssetClass, ProjectKind, PVKind, PVStatus

#: Figures of a station's ledger year shown beside its asset: column -> header.
LEDGER_FIGURES = {
    "ledger_year": "台账年度",
    "generation_kwh": "发电量(kWh)",
    "income_yuan": "收益(元)",
    "households_yuan": "到户(元)",
    "public_posts_yuan": "公益岗位工资(元)",
    "posts": "公益岗位数",
    "public_works_yuan": "公益事业(元)",
    "operator_yuan": "运维及并网费(元)",
}
#: The 资产台账 sheet: column -> header, in order.
ASSET_HEADERS = {
    "code": "资产编号",
    "name": "资产名称",
    "asset_class_label": "资产类别",
    "project_code": "项目编号",
    "project_name": "项目名称",
    "project_kind_label": "项目类型",
    "township_name": "乡镇",
    "village_name": "行政村",
    "owner": "所有权人",
    "maintainer": "管护主体",
    "value_wan_yuan": "资产价值(万元)",
    "handover_date": "移交日期",
    "pv_code": "光伏电站编号",
    "pv_name": "光伏电站名称",
    "capacity_kw": "装机容量(kW)",
    **LEDGER_FIGURES,
    "source": "来源",
    "note": "备注",
}
#: The 光伏电站资产 sheet: column -> header.
PV_HEADERS = {
    "pv_code": "光伏电站编号",
    "pv_name": "光伏电站名称",
    "pv_kind_label": "电站类型",
    "pv_status_label": "建设状态",
    "village_name": "行政村",
    "capacity_kw": "装机容量(kW)",
    "grid_date": "并网日期",
    "asset_code": "资产编号",
    "asset_class_label": "资产类别",
    "owner": "所有权人",
    "maintainer": "管护主体",
    **LEDGER_FIGURES,
    "source": "来源",
}
NOT_AN_ASSET = "未登记为资产"


def latest_ledger(years: pd.DataFrame) -> pd.DataFrame:
    """Each station's latest recorded ledger year (``project_id`` and :data:`LEDGER_FIGURES`),
    from the stored years (``project_id``, ``year`` and the figures)."""
    if years is None or years.empty:
        return pd.DataFrame(columns=["project_id", *LEDGER_FIGURES])
    latest = years.sort_values(["project_id", "year"]).groupby("project_id").tail(1)
    return latest.rename(columns={"year": "ledger_year"})[["project_id", *LEDGER_FIGURES]]


def _with_ledger(frame: pd.DataFrame, station_column: str, years: pd.DataFrame) -> pd.DataFrame:
    latest = latest_ledger(years).rename(columns={"project_id": station_column})
    out = frame.merge(latest, on=station_column, how="left") if len(frame) else frame.assign(
        **{c: pd.Series(dtype=object) for c in LEDGER_FIGURES})
    for column in ("ledger_year", "posts"):
        out[column] = pd.array(pd.to_numeric(out[column], errors="coerce"), dtype="Int64") if len(out) else out[column]
    return out


def asset_table(assets: pd.DataFrame, years: pd.DataFrame) -> pd.DataFrame:
    """The 资产台账 sheet: :data:`ASSET_HEADERS` over ``assets`` (the stored assets with their
    project, village and PV station joined, see :func:`geo.storage.library.read_assets`) and
    the stations' ledger ``years``."""
    out = _with_ledger(assets, "pv_project_id", years)
    out["asset_class_label"] = out["asset_class"].map(AssetClass.labels())
    out["project_kind_label"] = out["project_kind"].map(ProjectKind.labels())
    return pd.DataFrame({header: out[column] if column in out else None for column, header in ASSET_HEADERS.items()})


def pv_station_table(stations: pd.DataFrame, assets: pd.DataFrame, years: pd.DataFrame) -> pd.DataFrame:
    """The 光伏电站资产 sheet: every PV station (``id``, ``code``, ``name``, ``kind``,
    ``status``, ``village_name``, ``capacity_kw``, ``grid_date``, ``source``), the asset it is
    registered as (:data:`NOT_AN_ASSET` when none) and its latest ledger year."""
    mine = assets[assets["pv_project_id"].notna()] if len(assets) else assets
    linked = pd.DataFrame({"station_id": pd.array(mine.get("pv_project_id", []), dtype="Int64"),
                           "asset_code": list(mine.get("code", [])),
                           "asset_class_label": [AssetClass(c).label for c in mine.get("asset_class", [])],
                           "owner": list(mine.get("owner", [])), "maintainer": list(mine.get("maintainer", []))})
    out = pd.DataFrame({"station_id": pd.array(stations["id"], dtype="Int64"), "pv_code": stations["code"].to_numpy(),
                        "pv_name": stations["name"].to_numpy(),
                        "pv_kind_label": stations["kind"].map(PVKind.labels()).to_numpy(),
                        "pv_status_label": stations["status"].map(PVStatus.labels()).to_numpy(),
                        "village_name": stations.get("village_name", pd.Series(None, index=stations.index)).to_numpy(),
                        "capacity_kw": stations["capacity_kw"].to_numpy(), "grid_date": stations["grid_date"].to_numpy(),
                        "source": stations["source"].to_numpy()})
    out = out.merge(linked, on="station_id", how="left")
    out["asset_code"] = out["asset_code"].astype(object).where(out["asset_code"].notna(), NOT_AN_ASSET)
    out = _with_ledger(out, "station_id", years)
    return pd.DataFrame({header: out[column] for column, header in PV_HEADERS.items()})
