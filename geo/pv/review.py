"""Review of PV poverty-alleviation projects: modelled against reported income, and the
projects that fail their households.

Seed 001 (七) names the problem: rooftop systems that brought registered-poor households no
real income, projects stalled for want of quotas. :func:`review_projects` is a pure function
over the registry's frames; :func:`geo.services.pv.load_review_frames` reads them from the database.

Registered-poor households (建档立卡户) are every household on the register: status
``registered``, ``planned_exit``, ``exited`` or ``returned``; only ``non_poor`` households are
not (exited households keep their PV income: 脱贫不脱政策).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import metric_crs_for
from geo.enums import HouseholdStatus, PVKind, PVStatus
from geo.errors import ValidationError
from geo.pv import params
from geo.pv.weather import Weather
from geo.pv.yield_model import specific_yields

#: Flags a project can carry: code -> Chinese label.
FLAGS: dict[str, str] = {
    "grid_connected_no_income": "已并网但无收益",
    "stopped": "已停运",
    "non_poor_beneficiaries": "受益户含非建档立卡户",
    "low_income": "收益明显低于模型估算",
    "no_beneficiaries": "未落实受益户",
    "beneficiary_count_mismatch": "受益户数与受益名单不符",
}
#: Station category whose income distribution applies to a project of each kind (agri-PV is
#: a centralized station built over farmland).
KIND_CATEGORY = {PVKind.HOUSEHOLD_ROOFTOP.value: "household", PVKind.VILLAGE_STATION.value: "village",
                 PVKind.CENTRALIZED_STATION.value: "centralized", PVKind.AGRI_PV.value: "centralized"}

#: Reported income below this share of the modelled income is flagged ``low_income``.
LOW_INCOME_RATIO = 0.5
#: Statuses of a built project (its capacity counts as installed).
BUILT = (PVStatus.GRID_CONNECTED.value, PVStatus.STOPPED.value)
NOT_POOR = HouseholdStatus.NON_POOR.value


@dataclass(frozen=True)
class PVReview:
    """Result of :func:`review_projects`.

    Attributes
    ----------
    projects
        One row per project (GeoDataFrame, EPSG:4326, the project's geometry):
        ``id, code, name, kind, kind_label, status, status_label, capacity_kw, village_id,
        village_name, township_name, grid_date, reported_beneficiary_households,
        linked_households, linked_poor_households, linked_non_poor_households,
        linked_villages, kwh_per_kwp, modelled_annual_kwh, modelled_income_yuan_per_year,
        reported_income_yuan_per_year, income_ratio, flags`` (list of codes of
        :data:`FLAGS`), ``flag_labels`` (Chinese, joined by "；"), ``yield_is_estimate``.
        ``modelled_*`` is what the capacity would produce and earn at the price;
        ``income_ratio`` = reported / modelled income, for grid-connected projects only;
        ``distribution_category``, ``share_to_households`` (of the income, by the category's
        distribution), ``modelled_income_to_households_yuan_per_year``,
        ``reported_income_to_households_yuan_per_year`` and ``share_to_village`` (net of the
        operator's share).
    villages
        One row per village: ``village_id, village_name, township_name, category,
        registered_poor_households, installed_kw`` (grid-connected and stopped projects the
        village hosts), ``operating_kw`` (grid-connected), ``planned_kw`` (planned and
        building), ``projects, flagged_projects, poor_households_covered`` (linked to a
        grid-connected project), ``poor_households_not_covered, non_poor_beneficiaries,
        reported_income_to_poor_yuan_per_year, modelled_income_to_poor_yuan_per_year,
        income_yuan_per_poor_household, modelled_income_yuan_per_poor_household`` (income
        reaching the village's registered-poor households through linked projects: the share
        of each project's income its distribution pays households, shared equally among its
        linked households, divided by all the
        village's registered-poor households) and ``village_income_yuan_per_year`` (income of
        projects linked to villages but not to households, net of the operator's share:
        collective income).
    townships
        The village columns summed per township (ratios recomputed from the sums).
    is_estimate
        True when the modelled yields came from the clear-sky estimate.
    weather_label
        Which weather gave the modelled yields.
    price_yuan_per_kwh
        The price of the modelled income [yuan/kWh].
    """

    projects: gpd.GeoDataFrame
    villages: pd.DataFrame
    townships: pd.DataFrame
    is_estimate: bool
    weather_label: str
    price_yuan_per_kwh: float

    @property
    def flagged(self) -> gpd.GeoDataFrame:
        """Projects carrying at least one flag."""
        return self.projects[self.projects["flags"].map(len) > 0]


# ------------------------------------------------------------------------------ review


def _check_columns(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise ValidationError(f"the {name} frame lacks column(s) {', '.join(missing)}; it needs {', '.join(columns)}")


def _representative_points(projects: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of a point inside each project (polygons measured in metres)."""
    geoms = projects.geometry
    present = geoms.notna() & ~geoms.is_empty
    lon = np.full(len(projects), np.nan)
    lat = np.full(len(projects), np.nan)
    if present.any():
        metric = geoms[present].to_crs(metric_crs_for(projects))
        points = metric.representative_point().to_crs(projects.crs)
        lon[present.to_numpy()] = points.x.to_numpy()
        lat[present.to_numpy()] = points.y.to_numpy()
    return lon, lat


def review_projects(
    projects: gpd.GeoDataFrame,
    households: pd.DataFrame,
    project_households: pd.DataFrame,
    project_villages: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    kwh_per_kwp: float | np.ndarray | None = None,
    weather: Weather | str | Path | None = None,
    price_yuan_per_kwh: float = params.PRICE_YUAN_PER_KWH,
    low_income_ratio: float = LOW_INCOME_RATIO,
    clearsky_factor: float = params.CLEARSKY_FACTOR,
    yield_resolution_deg: float = 0.25,
    distributions: dict[str, params.IncomeDistribution] | None = None,
) -> PVReview:
    """Modelled against reported income per project, flags, and coverage per village and township.

    Parameters
    ----------
    projects
        The ``pv_projects`` layer (``id, name, kind, capacity_kw, status, village_id,
        annual_income_yuan, beneficiary_households``, geometry in EPSG:4326).
    households
        ``id, village_id, status`` of households (the ``households`` layer).
    project_households, project_villages
        The link tables ``pv_project_households`` (``project_id, household_id``) and
        ``pv_project_villages`` (``project_id, village_id``).
    villages
        ``id, name, township_name, category, registered_poor_households`` (the ``villages``
        layer); the villages reported on.
    kwh_per_kwp
        Specific yield [kWh/kWp/yr], one value or one per project; default: modelled at each
        project with :func:`~geo.pv.yield_model.specific_yields`.
    weather
        Weather file for the modelled yields; default the clear-sky **estimate**.
    price_yuan_per_kwh
        Price of the modelled income [yuan/kWh].
    low_income_ratio
        Reported/modelled income below this flags ``low_income`` [-].
    clearsky_factor
        Regional factor of the clear-sky estimate [-].
    yield_resolution_deg
        Projects on one lattice cell of this size share a pvlib run [degrees] (the clear-sky
        estimate changes by about 0.4 % over 0.25° near Shapotou).
    distributions
        Income distribution by station category (``household``, ``village``,
        ``centralized``); default each category's (:data:`geo.pv.params.CATEGORIES`). A
        project's kind picks its category (:data:`KIND_CATEGORY`); only the share reaching
        households (direct payments and 公益岗位 wages) counts as household income.

    Returns
    -------
    PVReview

    Raises
    ------
    ValidationError
        A frame without a column the review needs, or a bad parameter.
    """
    _check_columns(projects, "pv_projects", ("id", "name", "kind", "capacity_kw", "status", "village_id",
                                             "annual_income_yuan", "beneficiary_households"))
    _check_columns(households, "households", ("id", "village_id", "status"))
    _check_columns(project_households, "pv_project_households", ("project_id", "household_id"))
    _check_columns(project_villages, "pv_project_villages", ("project_id", "village_id"))
    _check_columns(villages, "villages", ("id", "name", "township_name"))
    price = params.check_positive("price", price_yuan_per_kwh, unit="yuan/kWh", allow_zero=True)
    low_income_ratio = params.check_range("low income ratio", low_income_ratio, 0.0, 1.0, unit="-")

    yields, is_estimate, label = _project_yields(projects, kwh_per_kwp, weather, clearsky_factor,
                                                 yield_resolution_deg)
    project_frame = _project_rows(projects, households, project_households, project_villages, villages,
                                  yields=yields, price=price, low_income_ratio=low_income_ratio,
                                  is_estimate=is_estimate, distributions=_distributions(distributions))
    village_frame = _village_rows(project_frame, households, project_households, project_villages, villages)
    township_frame = _township_rows(village_frame)
    return PVReview(projects=project_frame, villages=village_frame, townships=township_frame,
                    is_estimate=is_estimate, weather_label=label, price_yuan_per_kwh=price)


def _distributions(given: dict[str, params.IncomeDistribution] | None) -> dict[str, params.IncomeDistribution]:
    out = {name: kind.distribution for name, kind in params.CATEGORIES.items()}
    for name, value in (given or {}).items():
        params.station_category(name)
        out[name] = value
    return out


def _project_yields(projects, kwh_per_kwp, weather, clearsky_factor, resolution_deg) -> tuple[np.ndarray, bool, str]:
    n = len(projects)
    if kwh_per_kwp is not None:
        values = np.broadcast_to(np.asarray(kwh_per_kwp, dtype=float), (n,)).copy()
        if np.any(~np.isfinite(values) | (values < 0)):
            raise ValidationError("kwh_per_kwp must be finite numbers, 0 or more [kWh/kWp/yr]")
        return values, False, "给定的单位千瓦发电量 (given kWh/kWp)"
    if n == 0:
        estimate = weather is None or (isinstance(weather, Weather) and weather.is_estimate)
        return np.zeros(0), estimate, ""
    lon, lat = _representative_points(projects)
    found = np.isfinite(lat)
    values = np.full(n, np.nan)
    result = specific_yields(lat[found], lon[found], weather=weather, clearsky_factor=clearsky_factor,
                             resolution_deg=resolution_deg) if found.any() else None
    if result is not None:
        values[found] = result.kwh_per_kwp
        if not found.all():  # projects without geometry get the mean of the others
            values[~found] = np.nanmean(result.kwh_per_kwp)
        return values, result.is_estimate, result.weather_label
    raise ValidationError("no PV project has a geometry to model its yield at; give kwh_per_kwp")


def _project_rows(projects, households, project_households, project_villages, villages, *, yields, price,
                  low_income_ratio, is_estimate, distributions) -> gpd.GeoDataFrame:
    status_of = households.set_index("id")["status"].astype(str)
    links = project_households[["project_id", "household_id"]].copy()
    links["status"] = links["household_id"].map(status_of)
    links["poor"] = links["status"].notna() & (links["status"] != NOT_POOR)
    links["non_poor"] = links["status"] == NOT_POOR
    per_project = links.groupby("project_id").agg(
        linked_households=("household_id", "nunique"),
        linked_poor_households=("poor", "sum"),
        linked_non_poor_households=("non_poor", "sum"),
    )
    linked_villages = project_villages.groupby("project_id")["village_id"].nunique()
    township_of = villages.set_index("id")["township_name"]
    village_name_of = villages.set_index("id")["name"]

    out = gpd.GeoDataFrame(
        {
            "id": projects["id"].to_numpy(),
            "code": projects["code"].to_numpy() if "code" in projects else None,
            "name": projects["name"].to_numpy(),
            "kind": projects["kind"].astype(str).to_numpy(),
            "status": projects["status"].astype(str).to_numpy(),
            "capacity_kw": projects["capacity_kw"].astype(float).to_numpy(),
            "village_id": projects["village_id"].to_numpy(),
        },
        geometry=projects.geometry.to_numpy(),
        crs=projects.crs,
    )
    out.insert(4, "kind_label", out["kind"].map(lambda v: _label(PVKind, v)))
    out.insert(6, "status_label", out["status"].map(lambda v: _label(PVStatus, v)))
    names = projects["village_name"].to_numpy() if "village_name" in projects else None
    out["village_name"] = names if names is not None else out["village_id"].map(village_name_of)
    out["village_name"] = out["village_name"].where(out["village_name"].notna(), out["village_id"].map(village_name_of))
    out["township_name"] = out["village_id"].map(township_of)
    out["grid_date"] = projects["grid_date"].to_numpy() if "grid_date" in projects else None
    out["reported_beneficiary_households"] = pd.array(projects["beneficiary_households"], dtype="Int64")
    ids = out["id"]
    out["linked_households"] = ids.map(per_project["linked_households"]).fillna(0).astype(int).to_numpy()
    out["linked_poor_households"] = ids.map(per_project["linked_poor_households"]).fillna(0).astype(int).to_numpy()
    out["linked_non_poor_households"] = ids.map(per_project["linked_non_poor_households"]).fillna(0).astype(int).to_numpy()
    out["linked_villages"] = ids.map(linked_villages).fillna(0).astype(int).to_numpy()
    out["kwh_per_kwp"] = yields
    out["modelled_annual_kwh"] = out["capacity_kw"] * out["kwh_per_kwp"]
    out["modelled_income_yuan_per_year"] = out["modelled_annual_kwh"] * price
    reported = pd.to_numeric(projects["annual_income_yuan"], errors="coerce").to_numpy()
    out["reported_income_yuan_per_year"] = reported
    grid = out["status"] == PVStatus.GRID_CONNECTED.value
    modelled = out["modelled_income_yuan_per_year"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(grid & (modelled > 0), np.nan_to_num(reported, nan=0.0) / modelled, np.nan)
    out["income_ratio"] = ratio
    # what reaches households (direct payments and 公益岗位 wages) and what the village keeps
    # (net of O&M, the grid fee and a centralized station's investor), by the project's category
    categories = out["kind"].map(KIND_CATEGORY).fillna("village")
    share = categories.map(lambda c: distributions[c].to_households).to_numpy(dtype=float)
    kept = categories.map(lambda c: 1.0 - distributions[c].operator).to_numpy(dtype=float)
    out["distribution_category"] = categories.to_numpy()
    out["share_to_households"] = share
    out["modelled_income_to_households_yuan_per_year"] = modelled * share
    out["reported_income_to_households_yuan_per_year"] = reported * share
    out["share_to_village"] = kept
    out["flags"] = [_flags(row, low_income_ratio) for row in out.itertuples(index=False)]
    out["flag_labels"] = out["flags"].map(lambda codes: "；".join(FLAGS[c] for c in codes))
    out["yield_is_estimate"] = is_estimate
    return out


def _flags(row, low_income_ratio: float) -> list[str]:
    flags = []
    income = row.reported_income_yuan_per_year
    no_income = income is None or not np.isfinite(income) or income <= 0
    if row.status == PVStatus.GRID_CONNECTED.value:
        if no_income:
            flags.append("grid_connected_no_income")
        elif np.isfinite(row.income_ratio) and row.income_ratio < low_income_ratio:
            flags.append("low_income")
        if row.linked_households == 0 and row.linked_villages == 0:
            flags.append("no_beneficiaries")
    if row.status == PVStatus.STOPPED.value:
        flags.append("stopped")
    if row.linked_non_poor_households > 0:
        flags.append("non_poor_beneficiaries")
    reported = row.reported_beneficiary_households
    if row.linked_households > 0 and reported is not pd.NA and reported is not None \
            and int(reported) != row.linked_households:
        flags.append("beneficiary_count_mismatch")
    return flags


def _label(enum_cls, value) -> str:
    try:
        return enum_cls.parse(value).label
    except ValueError:
        return str(value)


def _village_rows(project_frame, households, project_households, project_villages, villages) -> pd.DataFrame:
    frame = pd.DataFrame({
        "village_id": villages["id"].to_numpy(),
        "village_name": villages["name"].to_numpy(),
        "township_name": villages["township_name"].to_numpy(),
        "category": villages["category"].astype(str).to_numpy() if "category" in villages else None,
    })
    vid = frame["village_id"]
    poor = households[households["status"].astype(str) != NOT_POOR]
    counted = poor.groupby("village_id")["id"].nunique()
    fallback = villages.set_index("id")["registered_poor_households"] if "registered_poor_households" in villages \
        else pd.Series(dtype=float)
    has_rows = vid.isin(households["village_id"])
    frame["registered_poor_households"] = np.where(
        has_rows, vid.map(counted).fillna(0), vid.map(fallback).fillna(0)).astype(int)

    hosted = project_frame.groupby("village_id")
    def hosted_kw(statuses):
        subset = project_frame[project_frame["status"].isin(statuses)]
        return vid.map(subset.groupby("village_id")["capacity_kw"].sum()).fillna(0.0)
    frame["installed_kw"] = hosted_kw(BUILT)
    frame["operating_kw"] = hosted_kw((PVStatus.GRID_CONNECTED.value,))
    frame["planned_kw"] = hosted_kw((PVStatus.PLANNED.value, PVStatus.BUILDING.value))
    frame["projects"] = vid.map(hosted.size()).fillna(0).astype(int)
    flagged = project_frame[project_frame["flags"].map(len) > 0]
    frame["flagged_projects"] = vid.map(flagged.groupby("village_id").size()).fillna(0).astype(int)

    # the share of each project's income that reaches households (its distribution), shared
    # equally among its linked households: never the whole station's revenue
    projects = project_frame.set_index("id")
    links = project_households.merge(households[["id", "village_id", "status"]], left_on="household_id",
                                     right_on="id", how="left")
    links = links[links["project_id"].isin(projects.index)]
    share = links.groupby("project_id")["household_id"].transform("nunique")
    reported = links["project_id"].map(projects["reported_income_to_households_yuan_per_year"]).fillna(0.0)
    modelled = links["project_id"].map(projects["modelled_income_to_households_yuan_per_year"]).fillna(0.0)
    operating = links["project_id"].map(projects["status"]) == PVStatus.GRID_CONNECTED.value
    links = links.assign(reported_share=reported / share,
                         modelled_share=np.where(operating, modelled / share, 0.0),
                         operating=operating)
    poor_links = links[links["status"].notna() & (links["status"].astype(str) != NOT_POOR)]
    frame["poor_households_covered"] = vid.map(
        poor_links[poor_links["operating"]].groupby("village_id")["household_id"].nunique()).fillna(0).astype(int)
    frame["poor_households_not_covered"] = (frame["registered_poor_households"]
                                            - frame["poor_households_covered"]).clip(lower=0)
    non_poor_links = links[links["status"].astype(str) == NOT_POOR]
    frame["non_poor_beneficiaries"] = vid.map(
        non_poor_links.groupby("village_id")["household_id"].nunique()).fillna(0).astype(int)
    frame["reported_income_to_poor_yuan_per_year"] = vid.map(
        poor_links.groupby("village_id")["reported_share"].sum()).fillna(0.0)
    frame["modelled_income_to_poor_yuan_per_year"] = vid.map(
        poor_links.groupby("village_id")["modelled_share"].sum()).fillna(0.0)

    # projects linked to villages but to no household: collective income, shared among villages
    without_households = set(projects.index) - set(project_households["project_id"])
    collective = project_villages[project_villages["project_id"].isin(without_households)]
    villages_per_project = collective.groupby("project_id")["village_id"].transform("nunique")
    collective = collective.assign(
        income=collective["project_id"].map(projects["reported_income_yuan_per_year"]).fillna(0.0)
        * collective["project_id"].map(projects["share_to_village"]).fillna(1.0) / villages_per_project)
    frame["village_income_yuan_per_year"] = vid.map(collective.groupby("village_id")["income"].sum()).fillna(0.0)
    _per_household(frame)
    return frame


def _per_household(frame: pd.DataFrame) -> None:
    poor = frame["registered_poor_households"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["income_yuan_per_poor_household"] = np.where(
            poor > 0, frame["reported_income_to_poor_yuan_per_year"] / poor, np.nan)
        frame["modelled_income_yuan_per_poor_household"] = np.where(
            poor > 0, frame["modelled_income_to_poor_yuan_per_year"] / poor, np.nan)


_SUMMED = ("registered_poor_households", "installed_kw", "operating_kw", "planned_kw", "projects",
           "flagged_projects", "poor_households_covered", "poor_households_not_covered",
           "non_poor_beneficiaries", "reported_income_to_poor_yuan_per_year",
           "modelled_income_to_poor_yuan_per_year", "village_income_yuan_per_year")


def _township_rows(village_frame: pd.DataFrame) -> pd.DataFrame:
    if village_frame.empty:
        frame = pd.DataFrame(columns=["township_name", "villages", *_SUMMED])
    else:
        grouped = village_frame.groupby("township_name", sort=True)
        frame = grouped[list(_SUMMED)].sum().reset_index()
        frame.insert(1, "villages", grouped.size().to_numpy())
    _per_household(frame)
    return frame
