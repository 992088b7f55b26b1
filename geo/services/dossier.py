"""The village dossier (一村一档): everything the registry and the analyses say of one
village, gathered for :mod:`maps.dossier` to lay out and print.

Reads through :mod:`geo.storage` and the analyses of :mod:`geo.services.analyses`
(coverage, roads, water, exit standards, each run for the village's township); no SQL and
no layout here. Household heads' and cadres' names are read only when ``show_names`` (the
caller's role allows it: the command line's ``--show-names``, or a role that may see names over
HTTP); the read of heads' names is audited as the caller (:func:`personal_read`). Otherwise the
dossier names units, cadres' ranks and loads, and counts households.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import storage
from geo.analysis.result import AnalysisResult
from geo.audit import Actor
from geo.cache import BoundedCache
from geo.enums import HouseholdStatus
from geo.errors import NotFound, ValidationError
from geo.library.pipeline import with_stages
from geo.services.analyses import run_analysis
from geo.services.personal import household_pii, personal_read
from geo.storage import Bind

#: The map around a village without a boundary: this far on each side of its point [m].
SURROUNDINGS_M = 3_000.0

#: Synthetic or approximate rows are marked with these ``source`` prefixes.
DEMO_PREFIXES = ("demo:",)

#: The township's analyses (coverage, roads, water, exit) kept per database state, township and
#: year: the villages of a township (``atlas dossier --all``, or dossiers asked one after another
#: over HTTP) share one run instead of four runs each.
_ANALYSES: BoundedCache[tuple[AnalysisResult, ...]] = BoundedCache(8)


@dataclasses.dataclass
class Dossier:
    """One village's dossier: plain values and small frames (no geometry outside ``layers``)."""

    village: dict[str, Any]
    year: int | None
    pairings: list[dict[str, Any]]
    inputs: list[dict[str, Any]]
    work_team: dict[str, Any] | None
    cadres: list[dict[str, Any]]
    households: list[dict[str, Any]] | None
    households_without_cadre: int | None
    road: dict[str, Any] | None
    water: dict[str, Any] | None
    scorecard: list[dict[str, Any]]
    exit_overall: str | None
    pv: list[dict[str, Any]]
    projects: list[dict[str, Any]]
    layers: dict[str, gpd.GeoDataFrame]
    bounds: tuple[float, float, float, float]
    demo: bool


def find_village(bind: Bind, village: str | int, *, township: Any = None) -> dict[str, Any]:
    """The village named by ``village``: its id, 12-digit code, name, or ``township/name``,
    within the caller's townships (``township``: None for all).

    Raises
    ------
    NotFound
        No such village (in the caller's townships).
    ValidationError
        A name that several townships have, naming the ``township/name`` forms to use.
    """
    text = str(village).strip()
    if not text or len(text) > 200 or not text.isprintable():
        raise ValidationError("village must be a village id, code, name or township/name (printable text)")
    columns = ["code", "name", "township_id", "category", "source"]
    town_name = None
    if "/" in text:
        town_name, text = (part.strip() for part in text.split("/", 1))
    if text.isdigit() and town_name is None:
        where = {"id": int(text)} if len(text) < 12 else {"code": text}
    else:
        where = {"name": text}
    rows = storage.read_layer(bind, "villages", township=township, where=where, columns=columns)
    if town_name is not None:
        rows = rows[rows["township_name"] == town_name]
    if rows.empty:
        raise NotFound(f"village {str(village)!r} not found; give its name, township/name, 12-digit code or id "
                       "(atlas export villages lists them)")
    if len(rows) > 1:
        forms = ", ".join(f"{t}/{n}" for t, n in zip(rows["township_name"], rows["name"], strict=True))
        raise ValidationError(f"village {str(village)!r} is in several townships; give one of: {forms}")
    return rows.iloc[0].drop(labels="geometry").to_dict() | {"geometry": rows.geometry.iloc[0]}


def list_villages(bind: Bind, *, township: Any = None) -> list[int]:
    """Ids of the villages a dossier can be made for (the caller's townships), by township and name."""
    rows = storage.read_layer(bind, "villages", township=township, columns=["name", "township_id"],
                              with_names=False)
    return [int(i) for i in rows.sort_values(["township_id", "name", "id"])["id"]]


def village_dossier(bind: Bind, village: str | int, *, township: Any = None, year: int | None = None,
                    show_names: bool = False, actor: Actor | None = None) -> Dossier:
    """Gather the dossier of ``village`` (see :func:`find_village`) for ``year`` (default: the
    latest year with pairings or work teams for it). With ``show_names``, the village's poor
    households (not 非贫困户) with their heads' and cadres' names, read as ``actor`` (audited).

    Raises
    ------
    NotFound
        Unknown village (or one outside ``township``).
    ValidationError
        An ambiguous name, or a year with no pairings for the village.
    """
    row = find_village(bind, village, township=township)
    vid, tid = int(row["id"]), int(row["township_id"])
    full = storage.read_layer(bind, "villages", ids=[vid]).iloc[0]
    pairings = storage.read_layer(bind, "pairings", where={"village_id": vid})
    teams = storage.read_layer(bind, "work_teams", where={"village_id": vid})
    years = sorted({int(y) for y in pd.concat([pairings["year"], teams["year"]]).dropna()}, reverse=True)
    if year is None:
        year = years[0] if years else None
    elif years and int(year) not in years:
        raise ValidationError(f"year {year} has no pairings or work team for {row['name']}; years with data: "
                              f"{', '.join(map(str, years))}")
    pairings = pairings[pairings["year"] == year] if year is not None else pairings.iloc[0:0]
    teams = teams[teams["year"] == year] if year is not None else teams.iloc[0:0]
    inputs = storage.read_layer(bind, "unit_inputs", where={"village_id": vid})
    inputs = inputs[inputs["year"] == year] if year is not None else inputs.iloc[0:0]

    coverage, roads, water, exits = _township_analyses(bind, tid, year)

    unit_ids = {int(u) for u in pairings["unit_id"].dropna()}
    cadres = coverage.tables["cadres"]
    cadres = cadres[cadres["unit_id"].isin(unit_ids)].sort_values(["unit_name", "households_carried"],
                                                                   ascending=[True, False])
    cadre_rows = [{"name": r["cadre_name"] if show_names else None, "unit": r["unit_name"],
                   "rank": r["rank"], "households": _int(r["households_carried"]),
                   "over_limit": bool(r["over_limit"]),
                   "here": row["name"] in str(r.get("village_names") or "")}
                  for _, r in cadres.iterrows()]

    cov_village = _one(coverage.tables["villages"], vid)
    households = _households(bind, vid, cadres=coverage.tables["cadres"], actor=actor) if show_names else None

    score = exits.tables["scorecard"]
    score = score[score["village_id"] == vid]  # in the standard's item order
    overall = exits.tables["villages"]
    overall = overall[overall["village_id"] == vid]

    area = full["boundary"] if "boundary" in full and full["boundary"] is not None else None
    bounds = _bounds(full.geometry, area)
    layers = {
        "settlements": storage.read_layer(bind, "settlements", where={"village_id": vid}),
        "roads": storage.read_layer(bind, "roads", bbox=bounds),
        "water": storage.read_layer(bind, "water_facilities", bbox=bounds),
        "pv": storage.read_layer(bind, "pv_projects", where={"village_id": vid}),
        "villages": storage.read_layer(bind, "villages", bbox=bounds, columns=["name", "township_id"]),
    }
    pv = layers["pv"]
    projects = storage.read_layer(bind, "projects", where={"village_id": vid})
    projects = with_stages(projects, storage.library.read_events(bind, [int(i) for i in projects["id"]]))
    sources = [str(s) for f in (pairings, inputs, pv, projects, layers["settlements"]) for s in f.get("source", [])]
    sources.append(str(row.get("source") or ""))
    return Dossier(
        village=_plain(full.drop(labels=["geometry", "boundary"], errors="ignore").to_dict()),
        year=year,
        pairings=_records(pairings, ["unit_id", "unit_name", "task_funds_wan_yuan", "seq"]),
        inputs=_records(inputs, [c for c in inputs.columns if c not in ("geometry", "created_at", "updated_at")]),
        work_team=_records(teams, ["leader_unit_name", "first_secretary", "member_count"])[0] if len(teams) else None,
        cadres=cadre_rows,
        households=households,
        households_without_cadre=_int(cov_village["households_without_cadre"]) if cov_village else None,
        road=_one(roads.tables["villages"], vid),
        water=_one(water.tables["villages"], vid),
        scorecard=_records(score, ["item_no", "item", "result", "figure_text", "standard", "reason"]),
        exit_overall=str(overall["overall"].iloc[0]) if len(overall) else None,
        pv=_records(pv, ["name", "kind", "capacity_kw", "status", "grid_date", "beneficiary_households",
                         "annual_income_yuan", "investment_wan_yuan"]),
        projects=_records(projects.sort_values(["year", "id"]), ["name", "kind", "unit_name", "year",
                                                                  "funds_wan_yuan", "quantity", "quantity_unit",
                                                                  "status", "stage_label", "stage_date"]),
        layers={**layers, "village": gpd.GeoDataFrame({"name": [row["name"]]}, geometry=[full.geometry], crs=4326),
                "boundary": gpd.GeoDataFrame({"name": [row["name"]]}, geometry=[area], crs=4326)
                if area is not None else None},
        bounds=bounds,
        demo=any(s.startswith(DEMO_PREFIXES) for s in sources),
    )


def _township_analyses(bind: Bind, tid: int, year: int | None) -> tuple[AnalysisResult, ...]:
    def run() -> tuple[AnalysisResult, ...]:
        return (run_analysis(bind, "coverage", township=tid, reuse=True, **({"year": year} if year else {})),
                *(run_analysis(bind, name, township=tid, reuse=True) for name in ("roads", "water", "exit")))
    return _ANALYSES.get_or_compute((*storage.state_key(bind), tid, year), run)


def _households(bind: Bind, vid: int, *, cadres: pd.DataFrame, actor: Actor | None) -> list[dict[str, Any]]:
    """The village's poor households (code, settlement, status, members, cadre) with their heads'
    names (no ID numbers), read in one audited transaction."""
    rows = storage.read_layer(bind, "households", where={"village_id": vid},
                              columns=["code", "settlement_id", "status", "members", "cadre_id"])
    rows = rows[rows["status"] != HouseholdStatus.NON_POOR.value].sort_values("code")
    with personal_read(bind, actor=actor, layer="households", after={"village_id": vid, "purpose": "dossier",
                                                                     "households": len(rows)}) as read:
        pii = household_pii(read.conn, rows["id"].tolist())
    heads = dict(zip(pii["id"], pii["head_name"], strict=True))
    names = dict(zip(cadres["cadre_id"], cadres["cadre_name"], strict=True))
    settlement = "settlement_name" if "settlement_name" in rows.columns else None
    return [{"code": r["code"], "head_name": heads.get(r["id"]), "status": r["status"],
             "members": _int(r["members"]), "settlement": r[settlement] if settlement else None,
             "cadre": names.get(r["cadre_id"]) if not _missing(r["cadre_id"]) else None}
            for _, r in rows.iterrows()]


def _bounds(point, area) -> tuple[float, float, float, float]:
    if area is not None and not area.is_empty:
        minx, miny, maxx, maxy = area.bounds
        pad = 0.1 * max(maxx - minx, maxy - miny)
        return (minx - pad, miny - pad, maxx + pad, maxy + pad)
    if point is None or point.is_empty:
        raise ValidationError("the village has no location; add its point before making a dossier")
    dlat = SURROUNDINGS_M / 111_320.0
    dlon = SURROUNDINGS_M / (111_320.0 * max(math.cos(math.radians(point.y)), 0.01))
    return (point.x - dlon, point.y - dlat, point.x + dlon, point.y + dlat)


def _one(table: pd.DataFrame, vid: int) -> dict[str, Any] | None:
    rows = table[table["village_id"] == vid]
    return _plain(rows.drop(columns="geometry", errors="ignore").iloc[0].to_dict()) if len(rows) else None


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    present = [c for c in columns if c in frame.columns]
    return [_plain(r) for r in frame[present].to_dict("records")]


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if _missing(v) else v) for k, v in values.items()}


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)
