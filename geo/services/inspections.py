"""Drawing, recording, verifying and exporting inspection samples against the registry, and
who may reach a plan.

The steps are the pure functions of :mod:`~geo.inspection.draw` and
:mod:`~geo.inspection.tours`; this module reads the registry through :mod:`geo.storage`,
records the result through :mod:`geo.storage.inspection`, and does both in one transaction so a
draw is stored whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo import audit, storage
from geo.storage import accounts
from geo.audit import Actor
from geo.enums import RouteMethod, VillageCategory
from geo.errors import Conflict, Forbidden, NotFound, ValidationError
from geo.inspection import exports, results, xlsform
from geo.storage import inspection as store
from geo.inspection.draw import (
    ALGORITHM,
    ALGORITHMS,
    GENESIS,
    Frame,
    Sample,
    build_frame,
    diff_frames,
    diff_samples,
    draw_sample,
    record_hash,
    sha256_hex,
    village_key,
)
from geo.inspection.findings import table3, table3_items, table4, table4_full, table5
from geo.inspection.plans import PlanSpec, canonical_json, plan_from_dict, split_list
from geo.inspection.tours import (
    DayRules,
    VillageVisit,
    combine_methods,
    leg_distances,
    plan_routes,
    village_visit,
)
from geo.network import build_network
from geo.services import field_maps
from geo.services.exports import write_download
from geo.services.findings import list_findings
from geo.services.personal import personal_read
from geo.storage import Bind, connect

#: Where teams set out when no start is given: the county seat of the demo district,
#: 中卫城区 (沙坡头区人民政府驻地), approximately [lon, lat].
DEFAULT_START = Point(105.19, 37.51)
DEFAULT_START_LABEL = "中卫城区（沙坡头区政府驻地）"


@dataclass
class DrawReport:
    """What :func:`draw_plan` recorded."""

    plan_id: int
    name: str
    seed: str
    algorithm: str
    frame_hash: str
    result_hash: str
    villages: int
    households: int
    tallies: pd.DataFrame
    teams: list[dict[str, Any]]
    route_method: RouteMethod
    route_km: float
    record_hash: str = ""
    outside: list[dict[str, Any]] = field(default_factory=list)
    frame_id: int | None = None
    as_recorded: bool = False
    registry_changes: list[str] = field(default_factory=list)

    def shortfalls(self) -> pd.DataFrame:
        return self.tallies[self.tallies["shortfall"] > 0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id, "name": self.name, "seed": self.seed, "algorithm": self.algorithm,
            "frame_hash": self.frame_hash, "result_hash": self.result_hash,
            "villages": self.villages, "households": self.households,
            "shortfalls": self.shortfalls().to_dict("records"),
            "teams": self.teams, "route_method": self.route_method.value, "route_km": round(self.route_km, 2),
            "record_hash": self.record_hash, "outside_frame": self.outside, "frame_id": self.frame_id,
            "as_recorded": self.as_recorded, "registry_changes": self.registry_changes,
        }


# ---------------------------------------------------------------------- scope and frame


def _scope_villages(conn, spec: PlanSpec) -> pd.DataFrame:
    """The registry's villages in the plan's scope.

    Raises
    ------
    NotFound
        A township or excluded village that does not exist.
    ValidationError
        An ambiguous excluded village name, or an empty scope.
    """
    villages = storage.read_layer(conn, "villages", columns=["code", "name", "township_id", "category",
                                                             "households"])
    total = len(villages)
    if total == 0:
        raise ValidationError("the registry has no villages; load data first (atlas demo load or an import)")
    keep = pd.Series(True, index=villages.index)
    if spec.scope.townships:
        ids = {storage.resolve_township(conn, t) for t in spec.scope.townships}
        keep &= villages["township_id"].isin(ids)
    if spec.scope.categories:
        keep &= villages["category"].isin([c.value for c in spec.scope.categories])
    for text in spec.scope.exclude_villages:
        keep &= ~villages.index.isin(_match_village(villages, text))
    scoped = villages[keep]
    if scoped.empty:
        raise ValidationError(
            f"the plan's scope selects no villages (townships: {', '.join(spec.scope.townships) or 'all'}; "
            f"categories: {', '.join(c.label for c in spec.scope.categories) or 'all'}; excluded: "
            f"{len(spec.scope.exclude_villages)}) out of {total} in the registry; widen the scope")
    return scoped


def _match_village(villages: pd.DataFrame, text: str) -> pd.Index:
    if "/" in text:
        township, name = text.split("/", 1)
        hit = villages[(villages["township_name"] == township.strip()) & (villages["name"] == name.strip())]
    else:
        hit = villages[(villages["name"] == text) | (villages["code"] == text)]
    if hit.empty:
        raise NotFound(f"excluded village {text!r} is not in the registry; give its name, 12-digit code "
                       "or township/name")
    if len(hit) > 1:
        places = ", ".join(f"{t}/{n}" for t, n in zip(hit["township_name"], hit["name"]))
        raise ValidationError(f"excluded village {text!r} is ambiguous ({places}); write it as township/name")
    return hit.index


def current_frame(bind: Bind, spec: PlanSpec) -> tuple[Frame, pd.DataFrame, gpd.GeoDataFrame]:
    """The plan's frame as the registry stands now, with the scoped villages and households."""
    with connect(bind) as conn:
        villages = _scope_villages(conn, spec)
        households = storage.read_layer(conn, "households", columns=["code", "village_id", "status", "status_year",
                                                                     "settlement_id"],
                                        with_names=False)
    return build_frame(spec, villages, households), villages, households


# ---------------------------------------------------------------------- draw


def _default_name(spec: PlanSpec, seed: str) -> str:
    return f"{spec.year}年督查抽样 {spec.preset or 'plan'} 种子{seed}"[:200]


def draw_plan(
    bind: Bind,
    spec: PlanSpec | None,
    *,
    seed: str,
    teams: int = 1,
    start: Point | None = None,
    return_to_start: bool = False,
    planned_on: dt.date | None = None,
    use_roads: bool = True,
    source: str = "user",
    actor: Actor | None = None,
    frame_id: int | None = None,
    name: str | None = None,
    rules: DayRules | None = None,
    solver_seconds: float | None = None,
    as_recorded: bool = False,
) -> DrawReport:
    """Draw a plan's sample, plan the teams' routes and record everything in one transaction.

    Parameters
    ----------
    bind
        Engine or connection.
    spec
        The plan (preset or file); an empty name gets one made from year, preset and seed.
    seed
        The seed string announced for this draw.
    teams
        Number of inspection teams (seed 003 sent 3).
    start
        Where the teams set out, EPSG:4326; default :data:`DEFAULT_START`.
    return_to_start
        Each team's route ends back at the start.
    planned_on
        The inspection date, for the record.
    use_roads
        Route over the road network when there are roads (else straight lines).
    source
        Provenance stored on the plan's rows.
    actor
        Who draws; the draw is written to the audit log in the same transaction.
    frame_id
        Draw from this recorded frame (:func:`record_frame`), with ``spec`` None: the plan is
        the frame's, and the registry must still give exactly that frame.
    name
        The plan's name when drawing from ``frame_id`` (else ``spec.name``).
    rules
        The teams' working day and visit times; default :class:`DayRules` (8 h a day, 30 min
        a village and 15 min a household, as many days as needed). Each day starts where the
        last one ended (the team spends the night there).
    solver_seconds
        Longest search time of the route solver (it ends sooner once it stops improving);
        default :func:`geo.inspection.tours.solver_seconds`.
    as_recorded
        With ``frame_id``: draw from the recorded frame even if the registry no longer gives
        it; the report's ``registry_changes`` say what changed (``verify`` will too).

    Raises
    ------
    Conflict
        A plan of that name was already drawn (draws are never replaced); the seed was already
        drawn from the same frame; the registry no longer gives the recorded frame (the
        message names the changes; or, ``as_recorded``, a sampled household is gone).
    ValidationError, NotFound
        Bad scope, quotas larger than every frame, an empty seed, bad team counts; a day
        shorter than one visit, villages that do not fit in ``rules.days``; no such recorded
        frame, or one whose stored text no longer matches its hash. Nothing is written.
    """
    seed = str(seed)
    start = start if start is not None else DEFAULT_START
    _check_start(start)
    with connect(bind, write=True) as conn:  # reads, then writes what it read
        recorded = None
        if frame_id is not None:
            recorded, frame_spec = _recorded_frame(conn, frame_id)
            spec = replace(frame_spec, name=name or "")
        elif spec is None:
            raise ValidationError("give a plan (a preset or plan file) or a recorded frame to draw from")
        name = spec.name or _default_name(spec, seed)
        spec = replace(spec, name=name)
        frame, villages, households = current_frame(conn, spec)
        changed: list[str] = []
        if recorded is not None and as_recorded:
            changed = _changes(recorded, frame)
            frame = recorded
        elif recorded is not None:
            _same_frame(frame_id, recorded, frame)
        elif as_recorded:
            raise ValidationError("--as-recorded draws from a recorded frame; give --frame ID as well")
        _seed_once(conn, seed, frame, name)
        sample = draw_sample(spec, frame, seed)
        if changed:
            _still_in_registry(frame_id, sample, villages, households)
        inputs = route_inputs(conn, villages, households, sample, start=start, use_roads=use_roads, rules=rules)
        rules, chosen, visits = inputs.rules, inputs.chosen, inputs.visits
        routes = plan_routes(chosen, start=start, teams=teams, network=inputs.network,
                             return_to_start=return_to_start, rules=rules, service_s=inputs.service_s,
                             distances=inputs.distances, seconds=solver_seconds)
        plan_id = store.insert_plan(conn, {
            "name": name, "year": spec.year, "seed": seed, "preset": spec.preset,
            "spec_json": spec.to_json(), "planned_on": planned_on, "teams": teams,
            "return_to_start": return_to_start, "start": start, "source": source,
        })
        team_rows = _record_sample(conn, plan_id, spec, chosen, households, sample, routes, source, visits, rules)
        method = combine_methods([m for r in routes for m in r.leg_methods])
        route_km = sum(r.length_km for r in routes)
        texts = {"spec_json": spec.to_json(), "frame_json": canonical_json(frame.to_dict()),
                 "result_json": canonical_json(sample.to_dict())}
        prev_hash = store.last_record_hash(conn) or GENESIS
        chained = record_hash(plan_id=plan_id, name=name, seed=seed, algorithm=ALGORITHM, frame_hash=frame.hash,
                              result_hash=sample.hash, prev_hash=prev_hash, **texts)
        store.insert_draw(conn, {
            "plan_id": plan_id, "algorithm": ALGORITHM, "seed": seed,
            "frame_hash": frame.hash, "result_hash": sample.hash,
            "frame_json": texts["frame_json"], "result_json": texts["result_json"],
            "drawn_at": dt.datetime.now(dt.UTC), "route_method": method, "route_km": route_km,
            "routes_json": canonical_json(team_rows), "source": source,
            "prev_hash": prev_hash, "record_hash": chained, "frame_id": frame_id,
        })
        if actor is not None:
            audit.record(conn, actor=actor, action="draw", layer="inspection_plans", row_id=plan_id,
                         after={"name": name, "seed": seed, "preset": spec.preset, "year": spec.year,
                                "teams": teams, "frame_hash": frame.hash, "result_hash": sample.hash,
                                "frame_id": frame_id})
    return DrawReport(plan_id, name, seed, ALGORITHM, frame.hash, sample.hash, len(sample.villages),
                      len(sample.households), sample.tallies, team_rows, method, route_km, chained,
                      outside_records(frame), frame_id, as_recorded, changed)


@dataclass
class RouteInputs:
    """What the route planners take for a drawn sample: the sampled villages (with
    ``village_key`` and ``load``), the road network, the leg distances from the start (row 0),
    how each village is gone round and the time spent in each [s]."""

    chosen: gpd.GeoDataFrame
    network: Any
    distances: Any
    visits: dict[str, VillageVisit]
    service_s: list[float]
    rules: DayRules


def route_inputs(conn, villages: gpd.GeoDataFrame, households: gpd.GeoDataFrame, sample: Sample, *,
                 start: Point, use_roads: bool = True, rules: DayRules | None = None) -> RouteInputs:
    """The inputs of :func:`geo.inspection.tours.plan_routes` for ``sample`` (also used by the
    route benchmark to compare planners on the same inputs)."""
    by_key = {village_key(c, t, n): i for i, c, t, n in zip(
        villages.index, villages["code"], villages["township_name"], villages["name"])}
    chosen = villages.loc[[by_key[k] for k in sample.villages]].copy()
    chosen["village_key"] = sample.villages
    load = sample.households.groupby("village_key").size()
    chosen["load"] = [int(load.get(k, 0)) for k in sample.villages]
    rules = rules if rules is not None else DayRules()
    network = None
    if use_roads:
        roads = storage.read_layer(conn, "roads", columns=["surface", "road_class", "width_m"])
        network = build_network(roads) if not roads.empty else None
    visits = _village_visits(conn, chosen, households, sample, network)
    service_s = [rules.visit_s(int(n), visits[k].moving_s) for k, n in zip(chosen["village_key"], chosen["load"])]
    distances = None
    if not (chosen.geometry.isna() | chosen.geometry.is_empty).any():
        distances = leg_distances(gpd.GeoSeries([start, *chosen.geometry.to_numpy()], crs=4326), network=network)
    return RouteInputs(chosen, network, distances, visits, service_s, rules)


# ---------------------------------------------------------------------- frame first


@dataclass
class FrameReport:
    """What :func:`record_frame` recorded: the frame fixed before the seed is announced."""

    frame_id: int
    name: str
    year: int
    preset: str | None
    algorithm: str
    frame_hash: str
    villages: int
    households: int
    strata: list[dict[str, Any]]
    outside: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"frame_id": self.frame_id, "name": self.name, "year": self.year, "preset": self.preset,
                "algorithm": self.algorithm, "frame_hash": self.frame_hash, "villages": self.villages,
                "households": self.households, "strata": self.strata, "outside_frame": self.outside}


def _frame_counts(spec: PlanSpec, frame: Frame) -> list[dict[str, Any]]:
    counts = frame.households.groupby("stratum").size()
    return [{"stratum": s.key, "label": s.label, "households": int(counts.get(s.key, 0))} for s in spec.strata]


def record_frame(bind: Bind, spec: PlanSpec, *, source: str = "user", actor: Actor | None = None) -> FrameReport:
    """Build the plan's frame from today's registry and record it, before any seed is known.

    The name defaults to year, preset and the first 12 digits of the frame hash, so recording
    the same frame twice is refused, naming the frame already recorded.

    Raises
    ------
    Conflict
        A frame of that name is already recorded.
    ValidationError, NotFound
        Bad scope, or no household of the scope in any stratum.
    """
    with connect(bind, write=True) as conn:  # reads, then writes what it read
        frame, _, _ = current_frame(conn, spec)
        name = spec.name or f"{spec.year}年抽样框 {spec.preset or 'plan'} {frame.hash[:12]}"[:200]
        spec = replace(spec, name=name)
        frame_id = store.insert_frame(conn, {
            "name": name, "year": spec.year, "preset": spec.preset, "spec_json": spec.to_json(),
            "algorithm": ALGORITHM, "frame_hash": frame.hash, "frame_json": canonical_json(frame.to_dict()),
            "recorded_at": dt.datetime.now(dt.UTC), "source": source,
        })
        if actor is not None:
            audit.record(conn, actor=actor, action="create", layer="inspection_frames", row_id=frame_id,
                         after={"name": name, "preset": spec.preset, "year": spec.year, "frame_hash": frame.hash})
    return FrameReport(frame_id, name, spec.year, spec.preset, ALGORITHM, frame.hash, len(frame.villages),
                       len(frame.households), _frame_counts(spec, frame), outside_records(frame))


def export_frame(bind: Bind, frame_id: int, path) -> dict[str, Any]:
    """Write a recorded frame as CSV (villages with their PPS weights, households with their
    strata; no ordering keys: the seed is not known yet), for publication before the draw.

    Raises
    ------
    NotFound
        No such frame.
    ValidationError
        The stored frame no longer matches its hash.
    """
    frame, _ = _recorded_frame(bind, frame_id)
    table = exports.frame_table(frame, None)
    exports.write_csv(table, Path(path))
    return {"path": str(path), "format": "csv", "table": "frame", "rows": len(table)}


def _recorded_frame(conn, frame_id: int) -> tuple[Frame, PlanSpec]:
    row = store.read_frame(conn, frame_id)
    try:
        frame = Frame.from_dict(json.loads(row["frame_json"]))
    except (ValueError, KeyError, TypeError):
        raise ValidationError(f"recorded frame {frame_id} was altered: its stored frame is not readable; record "
                              "the frame again (atlas sample frame)") from None
    if frame.hash != row["frame_hash"]:
        raise ValidationError(f"recorded frame {frame_id} was altered: its stored frame hashes to {frame.hash}, "
                              f"not the recorded {row['frame_hash']}; record the frame again (atlas sample frame)")
    return frame, plan_from_dict(json.loads(row["spec_json"]), where=f"frame {frame_id}")


def _changes(recorded: Frame, today: Frame) -> list[str]:
    """What differs between a recorded frame and today's (empty when the same)."""
    if today.hash == recorded.hash:
        return []
    return [line.strip() for line in _frame_change_lines(diff_frames(recorded, today))] or ["the frame differs"]


def _shown(lines: list[str]) -> str:
    return "; ".join(lines[:20]) + (f"; … {len(lines) - 20} more" if len(lines) > 20 else "")


def _seed_once(conn, seed: str, frame: Frame, name: str) -> None:
    """A seed is announced once for a frame: a second draw with it would only copy the first.

    Raises
    ------
    Conflict
        Naming the plan already drawn with this seed from this frame.
    """
    earlier = store.find_seed(conn, seed, frame.hash)
    if earlier is not None and earlier["name"] != name:
        raise Conflict(f"seed {seed!r} was already drawn from this frame ({frame.hash[:12]}…) as plan "
                       f"{earlier['id']}; a seed is announced once: verify plan {earlier['id']} "
                       "(atlas sample verify), or announce a new seed; nothing was drawn")


def _still_in_registry(frame_id: int, sample: Sample, villages: pd.DataFrame, households: pd.DataFrame) -> None:
    """A draw ``as recorded`` needs its sampled villages and households still in the registry
    (their places and ids are recorded with the sample).

    Raises
    ------
    Conflict
        Naming the codes that are gone.
    """
    keys = {village_key(c, t, n) for c, t, n in zip(villages["code"], villages["township_name"], villages["name"])}
    gone = [k for k in sample.villages if k not in keys]
    gone += sorted(set(sample.households["household_code"]) - set(households["code"]))
    if gone:
        raise Conflict(f"drawing recorded frame {frame_id} as recorded samples villages or households no longer in "
                       f"the registry ({', '.join(gone[:10])}{' …' if len(gone) > 10 else ''}); nothing was drawn. "
                       "Record a new frame (atlas sample frame) and announce a new seed")


def _same_frame(frame_id: int, recorded: Frame, today: Frame) -> None:
    if today.hash == recorded.hash:
        return
    shown = _shown(_changes(recorded, today))
    raise Conflict(f"the registry no longer gives recorded frame {frame_id} ({recorded.hash[:12]}…, today "
                   f"{today.hash[:12]}…): {shown or 'the frame differs'}; nothing was drawn. Draw it as recorded "
                   "(--as-recorded, saying what changed), or record a new frame (atlas sample frame) and announce a "
                   "new seed")


def outside_records(frame: Frame) -> list[dict[str, Any]]:
    """The scope's households in no stratum, by status and year (empty when none, or when the
    frame was recorded before atlas kept them)."""
    if frame.outside is None:
        return []
    return [{"status": s, "status_year": None if pd.isna(y) else int(y), "households": int(n)}
            for s, y, n in frame.outside[["status", "status_year", "households"]].itertuples(index=False)]


def outside_text(frame: Frame) -> str:
    """One line: ``exited 2020: 12; exited: 3`` (no year), ``none`` or ``not recorded``."""
    if frame.outside is None:
        return "not recorded (drawn before atlas kept it)"
    return "; ".join(frame.outside_lines()) or "none"


def _check_start(start: Point) -> None:
    if not (-180 <= start.x <= 180 and -90 <= start.y <= 90):
        raise ValidationError(f"start {start.x},{start.y} is not a longitude,latitude in degrees (EPSG:4326)")


def _village_visits(conn, chosen: pd.DataFrame, households: gpd.GeoDataFrame, sample: Sample,
                    network) -> dict[str, VillageVisit]:
    """Per sampled village key: the order of its drawn households and the driving to its
    settlements and walking inside it (:func:`geo.inspection.tours.village_visit`)."""
    h = households.set_index("code")
    drawn = sample.households.groupby("village_key", sort=False)["household_code"].apply(list).to_dict()
    settlement_ids = sorted({int(s) for s in h.loc[sample.households["household_code"], "settlement_id"].dropna()})
    places = {}
    if settlement_ids:
        settlements = storage.read_layer(conn, "settlements", ids=settlement_ids, columns=["village_id"])
        places = dict(zip(settlements["id"].astype(int), settlements.geometry))
    visits = {}
    for key, committee in zip(chosen["village_key"], chosen.geometry):
        codes = drawn.get(key, [])
        points = gpd.GeoSeries([h.at[c, "geometry"] for c in codes], crs=4326)
        at = [places.get(int(s)) if not pd.isna(s) else None for s in (h.at[c, "settlement_id"] for c in codes)]
        visits[key] = village_visit(committee, points, at, network=network)
    return visits


def _record_sample(conn, plan_id, spec, chosen, households, sample: Sample, routes, source,
                   visits: dict[str, VillageVisit], rules: DayRules) -> list[dict]:
    labels = {s.key: s.label for s in spec.strata}
    h = households.set_index("code")
    team_rows = []
    for route in routes:
        walk_total = drive_in = 0.0
        day_of = {label: (d.day, d.arrive_s[i], d.leave_s[i]) for d in route.days for i, label in enumerate(d.stops)}
        stops_of_day: dict[int, list[dict]] = {d.day: [] for d in route.days}
        for order, (label, leg_m, leg_line, leg_method) in enumerate(
                zip(route.stops, route.leg_m, route.legs, route.leg_methods), start=1):
            v = chosen.loc[label]
            drawn = sample.households[sample.households["village_key"] == v["village_key"]]
            visit = visits[v["village_key"]]
            walk = visit.walk_m / 1000.0
            walk_total += walk
            drive_in += visit.drive_m / 1000.0
            village_id = store.insert_sampled_villages(conn, [{
                "plan_id": plan_id, "village_id": int(v["id"]), "village_key": v["village_key"],
                "village_name": v["name"], "township_name": v["township_name"],
                "category": VillageCategory(v["category"]), "team": route.team, "visit_order": order,
                "leg_km": leg_m / 1000.0, "leg_method": leg_method, "households_sampled": len(drawn),
                "walk_km": walk, "geom": v.geometry, "leg": leg_line, "source": source,
            }])[0]
            if label in day_of:
                day, arrive, leave = day_of[label]
                stops_of_day[day].append({
                    "stop": len(stops_of_day[day]) + 1, "visit_order": order, "village_key": v["village_key"],
                    "village": v["name"], "township": v["township_name"], "households": len(drawn),
                    "arrive": rules.clock(arrive), "leave": rules.clock(leave),
                    "leg_km": round(leg_m / 1000.0, 3), "walk_km": round(walk, 3),
                    "drive_in_village_km": round(visit.drive_m / 1000.0, 3),
                    "settlements_driven": visit.driven_settlements})
            rows = []
            for position, i in enumerate(visit.order, start=1):
                d = drawn.iloc[i]
                code = d["household_code"]
                year = h.at[code, "status_year"]
                rows.append({
                    "plan_id": plan_id, "sample_village_id": village_id, "household_id": int(h.at[code, "id"]),
                    "household_code": code, "stratum": d["stratum"],
                    "stratum_label": labels[d["stratum"]],
                    "filled_for": d["filled_for"], "status": h.at[code, "status"],
                    "status_year": None if pd.isna(year) else int(year), "visit_order": position,
                    "geom": h.at[code, "geometry"], "source": source,
                })
            store.insert_sampled_households(conn, rows)
        back = None
        if route.returns:
            line, metres, _, method = route.returns[-1]
            back = {"km": round(metres / 1000.0, 3), "method": method.value, "wkt": line.wkt}
        days = [{"day": d.day, "start": rules.clock(0), "end": rules.clock(d.end_s),
                 "hours": round(d.end_s / 3600.0, 2), "drive_hours": round(d.drive_s / 3600.0, 2),
                 "stops": stops_of_day[d.day]} for d in route.days]
        team_rows.append({"team": route.team, "villages": len(route.stops), "length_km": round(route.length_km, 3),
                          "hours": round(route.hours, 2), "method": route.method.value,
                          "walk_km": round(walk_total, 3), "drive_in_villages_km": round(drive_in, 3),
                          "return_leg": back, "days": days, "work_hours": round(route.work_hours, 2),
                          "longest_day_hours": round(route.longest_day_hours, 2),
                          "hours_per_day": rules.hours_per_day, "visit_village_min": rules.village_min,
                          "visit_household_min": rules.household_min})
    return team_rows


# ---------------------------------------------------------------------- reading back


@dataclass
class PlanRecord:
    """A recorded plan: its row, its spec, its draw and the sample in visiting order."""

    plan: dict[str, Any]
    spec: PlanSpec
    draw: dict[str, Any]
    villages: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    teams: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sample(self) -> Sample:
        return Sample.from_dict(json.loads(self.draw["result_json"]))

    @property
    def frame(self) -> Frame:
        return Frame.from_dict(json.loads(self.draw["frame_json"]))


def load_record(bind: Bind, plan: int | str) -> PlanRecord:
    """Everything recorded for a plan (id or name)."""
    with connect(bind) as conn:
        row = store.find_plan(conn, plan)
        draw = store.read_draw(conn, row["id"])
        villages = store.read_sampled_villages(conn, row["id"])
        households = store.read_sampled_households(conn, row["id"])
    spec = plan_from_dict(json.loads(row["spec_json"]), where=f"plan {row['id']}")
    return PlanRecord(row, spec, draw, villages, households, json.loads(draw["routes_json"]))


def plan_summary(record: PlanRecord) -> dict[str, Any]:
    """The plan, its draw, the teams' routes, villages and households in visiting order and
    the 表4 sample summary, JSON-ready. Never names or ID numbers (``atlas sample show``)."""
    labels = {s.key: s.label for s in record.spec.strata}
    summary = table4(record.villages, record.households, record.sample.tallies,
                     plan_year=record.spec.year, labels=labels)
    villages = record.villages[["team", "visit_order", "township_name", "village_name", "category",
                                "households_sampled", "leg_km", "leg_method"]]
    households = record.households[["team", "village_order", "visit_order", "village_name",
                                    "household_code", "stratum"]]
    return {"plan": dict(plan_notes(record, show_names=False)), "spec": record.spec.to_dict(),
            "record_hash": record.draw.get("record_hash"), "outside_frame": outside_records(record.frame),
            "teams": record.teams, "villages": villages.to_dict("records"),
            "households": households.to_dict("records"),
            "table4": summary["counts"].to_dict("records"), "unmet": summary["unmet"].to_dict("records")}


def plan_township_ids(bind: Bind, plan: int | str) -> set[int]:
    """Ids of the registry townships of a plan's sampled villages (for township-scoped users)."""
    with connect(bind) as conn:
        row = store.find_plan(conn, plan)
        village_ids = [int(v) for v in store.read_sampled_villages(conn, row["id"])["village_id"].dropna()]
        if not village_ids:
            return set()
        villages = storage.read_layer(conn, "villages", ids=village_ids, columns=["township_id"])
    return {int(t) for t in villages["township_id"].dropna()}


# ---------------------------------------------------------------------- inspectors of a plan

ASSIGNABLE_ROLES = ("inspector", "admin")


def assign_inspector(
    bind: Bind,
    plan: int | str,
    user: str,
    *,
    team: int | None = None,
    remove: bool = False,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """Assign an inspector (by login name) to a plan, or with ``remove`` take them off it.

    Returns ``{"plan_id", "plan_name", "user", "team", "changed"}``; ``changed`` is False when
    the user was already assigned (only the team changed) or, removing, was not assigned.

    Raises
    ------
    NotFound
        No such plan or user.
    ValidationError
        The user is neither an inspector nor an admin; the team does not exist.
    """
    with connect(bind, write=True) as conn:  # reads, then writes what it read
        row = store.find_plan(conn, plan)
        account = accounts.get_user(conn, name=user)
        plan_id, user_id = int(row["id"]), int(account["id"])
        if remove:
            changed = store.unassign_inspector(conn, plan_id, user_id)
        else:
            if account["role"] not in ASSIGNABLE_ROLES:
                raise ValidationError(f"{user} has the role {account['role']}; only inspectors (or admins) are "
                                      "assigned to plans (atlas user set NAME --role inspector)")
            if team is not None and not 1 <= team <= int(row["teams"]):
                raise ValidationError(f"plan {plan_id} has teams 1-{row['teams']}; team {team} does not exist")
            changed = store.assign_inspector(conn, plan_id, user_id, team=team)
        if actor is not None and (changed or not remove):
            audit.record(conn, actor=actor, action="unassign" if remove else "assign", layer="inspection_plans",
                         row_id=plan_id, after={"user": user, "user_id": user_id, "team": team})
    return {"plan_id": plan_id, "plan_name": row["name"], "user": user, "team": team, "changed": bool(changed)}


# ---------------------------------------------------------------------- verify


@dataclass
class Verification:
    """The outcome of :func:`verify_plan`, check by check.

    ``stored_differences``: the stored parts disagree with each other (the result text with
    its recorded hash, the sampled villages and households with the result, the frame with its
    hash). ``record_ok``: none, and the stored frame and seed reproduce the recorded result.
    ``chain_differences``: the record's link in the chain of draws is broken.
    ``frame_unchanged``: today's registry gives the same frame. ``same_sample``: a redraw on
    today's frame gives the recorded sample.
    """

    plan_id: int
    name: str
    algorithm: str
    seed: str
    recorded_frame_hash: str
    current_frame_hash: str
    recorded_result_hash: str
    stored_frame_result_hash: str
    current_result_hash: str
    frame_changes: dict[str, list]
    sample_changes: dict[str, list[str]]
    stored_differences: list[str] = field(default_factory=list)
    chain_differences: list[str] = field(default_factory=list)
    record_hash: str | None = None
    outside: list[dict[str, Any]] = field(default_factory=list)

    @property
    def redraw_ok(self) -> bool:
        return self.stored_frame_result_hash == self.recorded_result_hash

    @property
    def record_ok(self) -> bool:
        return self.redraw_ok and not self.stored_differences

    @property
    def frame_unchanged(self) -> bool:
        return self.current_frame_hash == self.recorded_frame_hash

    @property
    def same_sample(self) -> bool:
        return self.current_result_hash == self.recorded_result_hash

    @property
    def ok(self) -> bool:
        return self.record_ok and not self.chain_differences and self.frame_unchanged and self.same_sample

    @property
    def differences(self) -> list[str]:
        """Every difference found, in the order checked (empty when verified)."""
        out = list(self.stored_differences)
        if not self.redraw_ok:
            out.append(f"the stored frame and seed give result {self.stored_frame_result_hash}, not the "
                       f"recorded {self.recorded_result_hash}")
        out += self.chain_differences
        if not self.frame_unchanged:
            out += [f"frame changed since the draw: {line.strip()}" for line in _frame_change_lines(self.frame_changes)]
            if not any(self.frame_changes.values()):
                out.append(f"frame changed since the draw: {self.current_frame_hash}")
        if not self.same_sample:
            s = self.sample_changes
            out.append(f"a redraw on today's registry differs: households in {s['households_in'] or '-'}, "
                       f"out {s['households_out'] or '-'}; villages in {s['villages_in'] or '-'}, "
                       f"out {s['villages_out'] or '-'}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "name": self.name, "verified": self.ok, "ok": self.ok,
                "differences": self.differences, "stored_differences": self.stored_differences,
                "chain_differences": self.chain_differences, "record_ok": self.record_ok,
                "frame_unchanged": self.frame_unchanged, "same_sample": self.same_sample,
                "algorithm": self.algorithm, "seed": self.seed, "record_hash": self.record_hash,
                "recorded_frame_hash": self.recorded_frame_hash, "current_frame_hash": self.current_frame_hash,
                "recorded_result_hash": self.recorded_result_hash,
                "current_result_hash": self.current_result_hash,
                "frame_changes": self.frame_changes, "sample_changes": self.sample_changes,
                "outside_frame": self.outside}

    def describe(self) -> list[str]:
        """Plain-language lines saying what was checked, in order, and what differs."""
        lines = []
        stored = self.stored_differences
        if stored:
            lines.append(f"STORED RECORD ALTERED ({len(stored)} difference(s)):")
            lines += [f"  {d}" for d in stored]
        else:
            lines.append(f"stored record consistent: the result matches its hash ({self.recorded_result_hash[:12]}…), "
                         "the sampled villages and households match the result, the frame matches its hash "
                         f"({self.recorded_frame_hash[:12]}…)")
        if self.redraw_ok:
            lines.append(f"record intact: the stored frame ({self.recorded_frame_hash[:12]}…) and seed "
                         f"{self.seed!r} reproduce the recorded sample ({self.recorded_result_hash[:12]}…)")
        else:
            lines.append("RECORD ALTERED: the stored frame and seed do not reproduce the stored result "
                         f"(recorded {self.recorded_result_hash[:12]}…, recomputed "
                         f"{self.stored_frame_result_hash[:12]}…)")
        if self.chain_differences:
            lines.append("CHAIN BROKEN:")
            lines += [f"  {d}" for d in self.chain_differences]
        else:
            lines.append(f"chain intact: record {(self.record_hash or '')[:12]}… links to the record before it")
        if self.frame_unchanged:
            lines.append("frame unchanged: the registry gives the same sampling frame today")
        else:
            lines.append(f"FRAME CHANGED since the draw (now {self.current_frame_hash[:12]}…):")
            lines += _frame_change_lines(self.frame_changes)
        if self.same_sample:
            lines.append("same sample: a redraw on today's registry gives the recorded sample")
        else:
            s = self.sample_changes
            lines.append("SAMPLE WOULD DIFFER on today's registry: "
                         f"households in {s['households_in'] or '-'}, out {s['households_out'] or '-'}; "
                         f"villages in {s['villages_in'] or '-'}, out {s['villages_out'] or '-'}")
        return lines


def _frame_change_lines(c: dict[str, list]) -> list[str]:
    lines = []
    for item in c["households_added"]:
        lines.append(f"  household added: {item['household_code']} (stratum {item['stratum']})")
    for item in c["households_removed"]:
        lines.append(f"  household removed: {item['household_code']} (stratum {item['stratum']})")
    for item in c["households_restratified"]:
        lines.append(f"  household re-stratified: {item['household_code']} {item['from']} -> {item['to']} "
                     f"(status {item['status_from']} -> {item['status_to']})")
    for item in c["households_moved"]:
        lines.append(f"  household moved: {item['household_code']} {item['from']} -> {item['to']}")
    for key in c["villages_added"]:
        lines.append(f"  village added to the scope: {key}")
    for key in c["villages_removed"]:
        lines.append(f"  village removed from the scope: {key}")
    for item in c["villages_reweighted"]:
        lines.append(f"  village households changed: {item['village_key']} {item['from']} -> {item['to']}")
    return lines


def _stored_differences(record: PlanRecord) -> list[str]:
    """The stored parts of a record against each other: the result text with its recorded hash,
    the sampled villages and households with the result, the frame with its hash. Codes and
    keys only (never names)."""
    draw = record.draw
    out = []
    actual = sha256_hex(draw["result_json"])
    if actual != draw["result_hash"]:
        out.append(f"stored result (result_json) hashes to {actual}, not the recorded result hash "
                   f"{draw['result_hash']}: the result was edited")
    try:
        result = record.sample
        frame = record.frame
    except (ValueError, KeyError, TypeError) as exc:
        return out + [f"stored result or frame is not readable JSON of the draw: {type(exc).__name__}"]
    out += _row_differences(record, result, frame)
    actual = frame.hash
    if actual != draw["frame_hash"]:
        out.append(f"stored frame (frame_json) hashes to {actual}, not the recorded frame hash "
                   f"{draw['frame_hash']}: the frame was edited")
    return out


def _id_differences(kind: str, stored: pd.DataFrame, framed: pd.DataFrame, *, key: str, id_column: str) -> list[str]:
    """Sampled rows whose stored registry id is not the one the frame gives for their key."""
    expected_ids = dict(zip(framed[key], framed[id_column]))
    out = []
    for k, stored_id in zip(stored[key], stored[id_column]):
        expected = expected_ids.get(k)
        if expected is not None and (pd.isna(stored_id) or int(stored_id) != int(expected)):
            out.append(f"sampled {kind} {k}: registry id {stored_id}, the frame says {int(expected)}")
    return out


def _row_differences(record: PlanRecord, result: Sample, frame: Frame) -> list[str]:
    out = []
    villages = record.villages
    stored_keys = list(villages["village_key"])
    for key in sorted(set(result.villages) - set(stored_keys)):
        out.append(f"village {key} of the stored result is missing from the sampled villages")
    for key in sorted(set(stored_keys) - set(result.villages)):
        out.append(f"sampled village {key} is not in the stored result")
    out += _id_differences("village", villages, frame.villages, key="village_key", id_column="village_id")
    want = {c: (v, st, None if f is None or pd.isna(f) else f) for c, v, st, f in result.households[
        ["household_code", "village_key", "stratum", "filled_for"]].itertuples(index=False)}
    rows = record.households
    have: dict[str, tuple] = {}
    for c, v, st, f in rows[["household_code", "village_key", "stratum", "filled_for"]].itertuples(index=False):
        if c in have:
            out.append(f"household {c} is stored twice in the sample")
        have[c] = (v, st, None if f is None or pd.isna(f) else f)
    for code in sorted(set(want) - set(have)):
        out.append(f"household {code} of the stored result is missing from the sampled households")
    for code in sorted(set(have) - set(want)):
        out.append(f"sampled household {code} is not in the stored result")
    names = ("village", "stratum", "filled_for")
    for code in sorted(set(want) & set(have)):
        for name, stored, wanted in zip(names, have[code], want[code]):
            if stored != wanted:
                out.append(f"sampled household {code}: stored {name} {stored}, the result says {wanted}")
    out += _id_differences("household", rows, frame.households, key="household_code", id_column="household_id")
    return out


def check_chain(chain: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Per plan id, what is wrong with its link in the chain of draw records
    (:func:`geo.storage.inspection.read_chain`, in plan id order); empty lists when intact."""
    out: dict[int, list[str]] = {}
    prev_hash, prev_plan = GENESIS, None
    for row in chain:
        plan_id = int(row["plan_id"])
        problems = out.setdefault(plan_id, [])
        if row["record_hash"] is None:
            problems.append(f"plan {plan_id} has no record hash: it was not recorded by atlas sample draw")
        else:
            expected = record_hash(**{k: row[k] for k in (
                "plan_id", "name", "seed", "algorithm", "spec_json", "frame_hash", "result_hash",
                "frame_json", "result_json", "prev_hash")})
            if expected != row["record_hash"]:
                problems.append(f"plan {plan_id}: the record's contents hash to {expected}, not its recorded "
                                f"record hash {row['record_hash']}: the record was edited")
        if row["prev_hash"] != prev_hash:
            before = f"plan {prev_plan}'s record ({prev_hash[:12]}…)" if prev_plan is not None else "the start of the chain"
            problems.append(f"plan {plan_id} follows record {(row['prev_hash'] or 'none')[:12]}…, but the record "
                            f"before it is {before}: a record was deleted, reordered or edited")
        prev_hash, prev_plan = row["record_hash"] or "", plan_id
    return out


def verify_plan(bind: Bind, plan: int | str) -> Verification:
    """Check a recorded plan, in order: the stored result against its recorded hash; the stored
    sampled villages and households against the stored result; the stored frame against its
    hash; the redraw from the stored frame and seed; the record's link in the chain of draws;
    then today's registry (the frame it gives, and a redraw on it).

    A frame that cannot be built today (e.g. every village of the scope deleted) counts as
    changed, with every recorded household removed.

    Raises
    ------
    NotFound
        No such plan, or it has no recorded draw.
    ValidationError
        The draw used an algorithm this atlas does not implement.
    """
    record = load_record(bind, plan)
    chain = check_chain(store.read_chain(bind))
    return _verify_record(bind, record, chain.get(int(record.plan["id"]), []))


def _verify_record(bind: Bind, record: PlanRecord, chain_differences: list[str]) -> Verification:
    draw = record.draw
    seed = draw["seed"]
    algorithm = draw["algorithm"]
    if algorithm not in ALGORITHMS:
        raise ValidationError(f"plan {record.plan['id']} was drawn with {algorithm}; this atlas "
                              f"implements {', '.join(ALGORITHMS)}")

    def result_hash(sample: Sample) -> str:
        hashes = sample.hashes(algorithm)
        return draw["result_hash"] if draw["result_hash"] in hashes else hashes[0]

    stored = _stored_differences(record)
    try:
        stored_frame = record.frame
        recorded = record.sample
        again_hash = result_hash(draw_sample(record.spec, stored_frame, seed))
    except (ValueError, KeyError, TypeError) as exc:  # an unreadable or refused stored frame
        empty = Frame(pd.DataFrame(columns=["village_key", "village_id", "village_name", "township_name",
                                            "category", "weight"]),
                      pd.DataFrame(columns=["household_code", "household_id", "village_key", "stratum",
                                            "status", "status_year"]), False)
        stored_frame, again_hash = empty, f"unavailable: {exc}"
        recorded = Sample([], pd.DataFrame(columns=["household_code", "village_key", "stratum", "filled_for"]),
                          pd.DataFrame())
    try:
        today, _, _ = current_frame(bind, record.spec)
        redraw = draw_sample(record.spec, today, seed)
        current_hash, changes = today.hash, diff_frames(stored_frame, today)
        sample_changes = diff_samples(recorded, redraw)
        current_result = result_hash(redraw)
    except (ValidationError, NotFound) as exc:
        empty = Frame(stored_frame.villages.iloc[0:0], stored_frame.households.iloc[0:0], stored_frame.uses_weights)
        current_hash, changes = f"unavailable: {exc}", diff_frames(stored_frame, empty)
        sample_changes = diff_samples(recorded, Sample([], recorded.households.iloc[0:0], recorded.tallies.iloc[0:0]))
        current_result = "unavailable"
    return Verification(
        plan_id=int(record.plan["id"]), name=record.plan["name"], algorithm=draw["algorithm"], seed=seed,
        recorded_frame_hash=draw["frame_hash"], current_frame_hash=current_hash,
        recorded_result_hash=draw["result_hash"], stored_frame_result_hash=again_hash,
        current_result_hash=current_result, frame_changes=changes, sample_changes=sample_changes,
        stored_differences=stored, chain_differences=chain_differences, record_hash=draw.get("record_hash"),
        outside=outside_records(stored_frame))


@dataclass
class ChainVerification:
    """The outcome of :func:`verify_all`: every plan's :class:`Verification`, in plan id order,
    and the end of the chain (keep ``head_hash`` elsewhere: only it reveals a deleted last plan)."""

    plans: list[Verification]
    head_plan: int | None
    head_hash: str | None

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.plans)

    def as_dict(self) -> dict[str, Any]:
        return {"verified": self.ok, "plans": [v.as_dict() for v in self.plans],
                "head_plan": self.head_plan, "head_hash": self.head_hash,
                "differences": [f"plan {v.plan_id}: {d}" for v in self.plans for d in v.differences]}


def verify_all(bind: Bind) -> ChainVerification:
    """:func:`verify_plan` for every recorded draw, with the chain walked from its start: a
    record deleted, reordered or edited breaks the link of the record after it."""
    chain_rows = store.read_chain(bind)
    chain = check_chain(chain_rows)
    results = [_verify_record(bind, load_record(bind, int(row["plan_id"])), chain[int(row["plan_id"])])
               for row in chain_rows]
    head = chain_rows[-1] if chain_rows else None
    return ChainVerification(results, int(head["plan_id"]) if head else None, head["record_hash"] if head else None)


def list_plans(bind: Bind) -> pd.DataFrame:
    """Every recorded plan, newest first (id, name, year, preset, seed, sizes, route)."""
    return store.read_plans(bind)


# ---------------------------------------------------------------------- exports

EXPORT_FORMATS = ("xlsx", "csv", "geojson", "gpx", "xlsform", "xform", "package")
#: The field kit's formats (docs/field-kit.md): phone forms and the team's assignment zip.
FIELD_FORMATS = ("xlsform", "xform", "package")


def _registry_rows(bind: Bind, households: pd.DataFrame) -> pd.DataFrame:
    ids = [int(i) for i in households["household_id"].dropna()]
    if not ids:
        return pd.DataFrame(columns=["id"])
    frame = storage.read_layer(bind, "households", ids=ids, include_pii=True,
                               columns=["members", "poverty_causes", "income_per_person_yuan", "settlement_id",
                                        "cadre_id", "head_name", "id_number"])
    return pd.DataFrame(frame.drop(columns="geometry"))


def export_plan(
    bind: Bind,
    plan: int | str,
    path,
    *,
    fmt: str,
    show_names: bool = False,
    table: str = "households",
    team: int | None = None,
    form: str = "household",
) -> dict[str, Any]:
    """Write a recorded sample to ``path`` as XLSX, CSV, GeoJSON, GPX, or the field kit's
    XLSForm, XForm or team package (:func:`write_field_kit`).

    Parameters
    ----------
    fmt
        ``xlsx`` (every table and the plan's notes), ``csv`` (one ``table``), ``geojson``
        (villages, households and routes) or ``gpx`` (waypoints in visiting order).
    show_names
        Household heads' names and ID numbers in full; masked otherwise. Only for roles
        allowed to see personal data.
    table
        For CSV: ``households``, ``villages``, ``strata`` or ``frame`` (the sampling frame with
        every household's ordering key, for third-party verification).
    team
        For GPX and the package: one team only.
    form
        For XLSForm and XForm: ``household`` (附件1 农户调查表) or ``village`` (附件2 村级调查表).

    Returns
    -------
    dict
        ``path``, ``format`` and row or waypoint counts.

    Raises
    ------
    ValidationError
        Unknown format or table.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if table not in exports.TABLES:
        raise ValidationError(f"unknown table {table!r}; use one of {', '.join(exports.TABLES)}")
    path = Path(path)
    record = load_record(bind, plan)
    registry = _registry_rows(bind, record.households)
    rows = exports.household_table(record.villages, record.households, registry,
                                   plan_year=record.spec.year, show_names=show_names)
    if fmt in FIELD_FORMATS:
        return write_field_kit(bind, record, rows, path, fmt=fmt, form=form, team=team, show_names=show_names)
    labels = {s.key: s.label for s in record.spec.strata}
    sample = record.sample
    if fmt == "csv":
        frame = {
            "households": lambda: rows,
            "villages": lambda: exports.village_table(record.villages),
            "strata": lambda: exports.strata_table(sample.tallies, labels),
            "frame": lambda: exports.frame_table(record.frame, record.draw["seed"]),
        }[table]()
        exports.write_csv(frame, path)
        return {"path": str(path), "format": fmt, "table": table, "rows": len(frame)}
    if fmt == "geojson":
        collection = exports.sample_geojson(record.villages, record.households, record.teams, rows)
        exports.write_geojson(collection, path)
        return {"path": str(path), "format": fmt, "features": len(collection["features"])}
    if fmt == "gpx":
        count = exports.write_gpx(record.villages, record.households, rows, record.teams, record.plan["start"],
                                  path, plan_name=record.plan["name"], team=team)
        return {"path": str(path), "format": fmt, "waypoints": count}
    findings = list_findings(bind, plan=record.plan["id"])
    summary = table4(record.villages, record.households, sample.tallies, plan_year=record.spec.year, labels=labels)
    answered = answered_tables(bind, record, findings)
    villages_list = exports.village_table(record.villages)
    sheets = {
        "村级调查表": villages_list,
        "农户调查表": rows,
        "抽样层与缺额": exports.strata_table(sample.tallies, labels),
        "检查组路线": exports.team_table(record.teams),
        "日程": exports.schedule_table(record.teams),
        "表4抽查情况": summary["counts"],
        "表4未达标": summary["unmet"],
        "表4督查任务完成情况汇总表": answered["table4"],
        "表3问题汇总": table3(findings),
        "表3问题清单": table3_items(findings),
        "表5反馈问题整改情况抽查汇总表": answered["table5"],
    }
    forms = {"附件1农户调查表": exports.household_forms(rows), "附件2村级调查表": exports.village_forms(villages_list)}
    exports.write_xlsx(sheets, path, blank_columns={"村级调查表": exports.VILLAGE_FORM, "农户调查表": exports.HOUSEHOLD_FORM,
                                                    "表5反馈问题整改情况抽查汇总表": ["抽查核实情况"]},
                       notes=plan_notes(record, show_names=show_names), forms=forms,
                       footer=f"{record.plan['name']}（演示数据为合成数据）")
    return {"path": str(path), "format": fmt, "sheets": list(sheets), "households": len(rows)}


# ---------------------------------------------------------------------- the field kit


@dataclass(frozen=True)
class Part:
    """One file of a team's package: its name in the zip and its bytes."""

    name: str
    content: bytes


def _team_checked(record: PlanRecord, team: int | None) -> None:
    teams = sorted({int(t) for t in record.villages["team"]})
    if team is not None and team not in teams:
        raise ValidationError(f"--team {team}: the plan has teams {', '.join(map(str, teams))}")


def _village_facts(bind: Bind, villages: pd.DataFrame) -> pd.DataFrame:
    ids = [int(i) for i in villages["village_id"].dropna()]
    if not ids:
        return pd.DataFrame(columns=["id"])
    frame = storage.read_layer(bind, "villages", ids=ids, columns=["population", "registered_poor_households"],
                               with_names=False)
    return pd.DataFrame(frame.drop(columns="geometry"))


def field_forms(bind: Bind, record: PlanRecord, rows: pd.DataFrame, *, team: int | None, show_names: bool,
                preload: xlsform.Preload) -> dict[str, tuple[Any, pd.DataFrame, pd.DataFrame]]:
    """Both XLSForms of a plan (``form`` -> (workbook, villages list, households list)), the
    lists limited to ``team``; names in the lists as ``rows`` has them."""
    _team_checked(record, team)
    villages = xlsform.preload_villages(record.villages, _village_facts(bind, record.villages), team=team)
    households = xlsform.preload_households(record.households, rows, team=team)
    out = {}
    for form in xlsform.FORMS:
        meta = xlsform.FormMeta(int(record.plan["id"]), record.plan["name"], record.draw["result_hash"], form,
                                show_names=show_names, team=team)
        out[form] = (xlsform.build_xlsform(meta, villages, households, preload=preload), villages, households)
    return out


def package_parts(bind: Bind, record: PlanRecord, rows: pd.DataFrame, *, team: int | None,
                  show_names: bool) -> list[Part]:
    """The files of a team's assignment package, in the order a coordinator reads them: both
    forms (preloading from the CSVs beside them), the two preload CSVs, the team's GPX and a
    note, the team's offline map (MBTiles, vector tiles: :mod:`geo.services.field_maps`) and a note."""
    import io
    import tempfile

    forms = field_forms(bind, record, rows, team=team, show_names=show_names, preload="csv")
    parts = []
    for form, (book, _, _) in forms.items():
        buffer = io.BytesIO()
        book.save(buffer)
        parts.append(Part(f"{xlsform.form_id(int(record.plan['id']), form)}.xlsx", buffer.getvalue()))
    _, villages, households = forms["household"]
    parts.append(Part(f"{xlsform.VILLAGE_LIST}.csv", xlsform.preload_csv(villages)))
    parts.append(Part(f"{xlsform.HOUSEHOLD_LIST}.csv", xlsform.preload_csv(households)))
    with tempfile.TemporaryDirectory() as folder:
        gpx = Path(folder) / "route.gpx"
        exports.write_gpx(record.villages, record.households, rows, record.teams, record.plan["start"], gpx,
                          plan_name=record.plan["name"], team=team)
        parts.append(Part(f"{_kit_name(record, team)}.gpx", gpx.read_bytes()))
    parts.append(Part(f"{_kit_name(record, team)}.mbtiles",
                      field_maps.team_mbtiles(bind, int(record.plan["id"]), team=team)))
    parts.append(Part("说明.txt", _kit_readme(record, team, show_names, villages, households).encode("utf-8")))
    return parts


def _kit_name(record: PlanRecord, team: int | None) -> str:
    return f"plan{int(record.plan['id'])}-" + (f"team{team}" if team is not None else "all-teams")


def _kit_readme(record: PlanRecord, team: int | None, show_names: bool, villages: pd.DataFrame,
                households: pd.DataFrame) -> str:
    who = f"第{team}组" if team is not None else "全部检查组"
    version = xlsform.form_version(record.draw["result_hash"])
    return "\n".join([
        f"督查任务包：{record.plan['name']}（方案 {record.plan['id']}）{who}",
        f"走访 {len(villages)} 个村、{len(households)} 户；表单版本 {version}；抽样结果哈希 {record.draw['result_hash']}",
        "1. 在 ODK Central 或 KoboToolbox 上传两个表单（.xlsx），并把 villages.csv、households.csv 作为表单附件上传；",
        "2. 在 ODK Collect / KoboCollect 下载表单，离线填写；GPX 文件导入手机地图应用查看走访顺序；"
        ".mbtiles 离线地图（乡镇、村、自然村、道路、水源和走访顺序）可在 ODK Collect、QField、QGIS 中离线打开；",
        "3. 回收后导出提交数据（CSV/XLSX，或带照片的 zip），用 atlas sample answers import 导入。",
        "户主姓名已完整显示（仅限有权限人员，妥善保管）" if show_names else "户主姓名已脱敏",
        "演示数据（demo:synthetic / demo:approximate）为合成数据，不是实地调查结果",
    ]) + "\n"


def write_field_kit(bind: Bind, record: PlanRecord, rows: pd.DataFrame, path: Path, *, fmt: str, form: str,
                    team: int | None, show_names: bool) -> dict[str, Any]:
    """The field kit's files: one XLSForm (choices preloaded, self-contained), its XForm XML
    (converted by pyxform), or a team's package zip (:func:`package_parts`).

    Raises
    ------
    ValidationError
        Unknown form or team; pyxform refusing the form.
    """
    import zipfile

    if form not in xlsform.FORMS:
        raise ValidationError(f"unknown form {form!r}; use one of {', '.join(xlsform.FORMS)}")
    meta = {"form_id": xlsform.form_id(int(record.plan["id"]), form),
            "version": xlsform.form_version(record.draw["result_hash"])}
    if fmt == "package":
        parts = package_parts(bind, record, rows, team=team, show_names=show_names)
        folder = _kit_name(record, team)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for part in parts:
                archive.writestr(f"{folder}/{part.name}", part.content)
        return {"path": str(path), "format": fmt, "team": team, "files": [p.name for p in parts],
                "version": meta["version"]}
    book, villages, households = field_forms(bind, record, rows, team=team, show_names=show_names,
                                             preload="choices")[form]
    if fmt == "xlsform":
        xlsform.write_xlsform(book, path)
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / f"{meta['form_id']}.xlsx"
            xlsform.write_xlsform(book, source)
            xml, _ = xlsform.convert_xlsform(source)
        path.write_text(xml, encoding="utf-8")
    return {"path": str(path), "format": fmt, "form": form, **meta, "villages": len(villages),
            "households": len(households) if form == "household" else 0}


def plan_table4(bind: Bind, record: PlanRecord, findings: pd.DataFrame) -> pd.DataFrame:
    """表4 as the registry fills it: the sample, the registry's household flags and village
    scorecard, the findings (:func:`geo.inspection.findings.table4_full`)."""
    labels = {s.key: s.label for s in record.spec.strata}
    flags, cards = _exit_figures(bind, record)
    return table4_full(record.villages, record.households, record.sample.tallies, plan_year=record.spec.year,
                       labels=labels, findings=findings, household_flags=flags, village_results=cards,
                       inspectors=len(store.read_assignments(bind, plan_id=int(record.plan["id"]))) or None)


def answered_tables(bind: Bind, record: PlanRecord, findings: pd.DataFrame) -> dict[str, Any]:
    """表4 (:func:`plan_table4`) with the rows the latest answers of the phone forms give
    replaced, and 表5 with each finding's spot check from its village's answer; without
    answers of a form its rows stay as the registry fills them.

    Returns
    -------
    dict
        ``table4``, ``table5`` (DataFrames), ``households`` and ``villages`` answered.
    """
    answers = storage.answers.read_answers(bind, int(record.plan["id"]), current_only=True)
    answers["answers"] = [json.loads(t) for t in answers["answers_json"]] if len(answers) else []
    household = answers[answers["form"] == "household"] if len(answers) else answers
    village = answers[answers["form"] == "village"] if len(answers) else answers
    rows: dict[str, results.Row] = {}
    if len(household):
        ids = [int(i) for i in record.households["household_id"].dropna()]
        registry = storage.read_layer(bind, "households", ids=ids, columns=["members"], with_names=False)
        codes = dict(zip(record.households["household_id"], record.households["household_code"]))
        rows |= results.household_rows(list(household["answers"]),
                                       {codes.get(i): m for i, m in zip(registry["id"], registry["members"])})
    if len(village):
        rows |= results.village_rows(list(village["answers"]))
    by_village = {r.village_name: r.answers for r in village.itertuples()} if len(village) else {}
    return {"table4": results.fill_table4(plan_table4(bind, record, findings), rows),
            "table5": results.table5_checks(table5(findings), findings, by_village),
            "households": len(household), "villages": len(village)}


def _exit_figures(bind: Bind, record: PlanRecord) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The registry's 八有一超 flags of the sampled households and the exit scorecard of the
    sampled villages (``village_id``, ``item_code``, ``result``), for 表4; None where the
    registry cannot give them."""
    from geo.analysis.catalog import analyze
    from geo.services.analyses import load_inputs

    ids = [int(i) for i in record.households["household_id"].dropna()]
    columns = ["assured_food_clothing", "assured_education", "assured_medical", "assured_housing", "has_power",
               "has_safe_water", "has_tv"]
    try:
        flags = storage.read_layer(bind, "households", ids=ids, columns=columns, with_names=False) if ids else None
        if flags is not None:
            flags = pd.DataFrame(flags.drop(columns="geometry")).rename(columns={"id": "household_id"})
    except (ValidationError, NotFound):
        flags = None
    village_ids = {int(v) for v in record.villages["village_id"].dropna()}
    towns = sorted({str(t) for t in record.villages["township_name"].dropna()})
    try:
        inputs = load_inputs(bind, "exit", township=towns or None)
        cards = analyze(inputs, "exit", year=record.spec.year).tables["scorecard"]
        cards = pd.DataFrame(cards[cards["village_id"].isin(village_ids)][["village_id", "item_code", "result"]])
    except (ValidationError, NotFound, KeyError, TypeError, ValueError):  # too little data: the inspectors fill it
        cards = None
    return flags, cards


def plan_notes(record: PlanRecord, *, show_names: bool) -> list[tuple[str, str]]:
    """The plan's facts for the first sheet of the workbook and ``atlas sample show``."""
    spec = record.spec
    draw = record.draw
    scope = spec.scope
    start = record.plan["start"]
    return [
        ("方案名称", record.plan["name"]),
        ("方案编号", str(record.plan["id"])),
        ("年度", str(spec.year)),
        ("方案来源", spec.preset or ""),
        ("抽查范围", f"乡镇：{'、'.join(scope.townships) or '全部'}；村类别："
                  f"{'、'.join(c.label for c in scope.categories) or '全部'}；排除村：{'、'.join(scope.exclude_villages) or '无'}"),
        ("抽村方式", f"{spec.selection.label}" + (f"，{spec.village_count}个村" if spec.village_count else "")),
        ("分层及配额", "；".join(f"{s.label} {s.minimum}-{s.quota}户" if s.minimum != s.quota else f"{s.label} {s.quota}户"
                            for s in spec.strata) + ("（每村）" if spec.quota_per == "village" else "（全部范围合计）")),
        ("随机种子", draw["seed"]),
        ("抽样算法", draw["algorithm"] + "（算法说明见 README：Inspection sampling）"),
        ("抽样框哈希(SHA-256)", draw["frame_hash"]),
        ("抽样结果哈希(SHA-256)", draw["result_hash"]),
        ("记录链哈希(SHA-256)", draw.get("record_hash") or ""),
        ("抽样框外农户(按状态和年份)", outside_text(record.frame)),
        ("抽样时间", str(draw["drawn_at"])),
        ("抽样框记录", f"先行记录的抽样框 {draw['frame_id']}" if draw.get("frame_id") else "抽样时生成"),
        ("出发地", f"{start.x:.5f},{start.y:.5f}" if start is not None else ""),
        ("路程计算", f"{RouteMethod(draw['route_method']).label if draw['route_method'] else ''}，合计"
                 f"{(draw['route_km'] or 0):.1f}公里"),
        ("个人信息", "户主姓名、身份证号已完整显示（仅限有权限人员）" if show_names else "户主姓名、身份证号已脱敏"),
        ("数据说明", "演示数据（demo:synthetic / demo:approximate）为合成数据，不是实地调查结果"),
        ("核验", f"atlas sample verify {record.plan['id']}"),
    ]


# ---------------------------------------------------------------------- who may reach a plan


def check_plan_scope(bind: Bind, plan_id: int, township_ids: Collection[int] | None) -> None:
    """A caller limited to ``township_ids`` reaches only plans whose sampled villages all lie in
    those townships (None: every township).

    Raises
    ------
    Forbidden
        A sampled village outside them.
    NotFound
        No such plan.
    """
    if township_ids is None:
        return
    if plan_township_ids(bind, plan_id) - set(township_ids):
        raise Forbidden(f"plan {plan_id} samples villages outside the townships your account may see; "
                        "ask an administrator")


def check_frame_scope(bind: Bind, frame_id: int, township_ids: Collection[int] | None) -> None:
    """A caller limited to ``township_ids`` draws only from frames whose plan names townships,
    all of them inside those.

    Raises
    ------
    NotFound
        No such frame.
    Forbidden
        A frame over all townships, or over one outside the caller's.
    """
    row = store.read_frame(bind, frame_id)
    if township_ids is None:
        return
    spec = plan_from_dict(json.loads(row["spec_json"]), where=f"frame {frame_id}")
    named = {storage.resolve_township(bind, t) for t in spec.scope.townships}
    if not named or named - set(township_ids):
        raise Forbidden(f"frame {frame_id} covers townships outside those your account may see; ask an administrator")


def check_whole_registry(township_ids: Collection[int] | None) -> None:
    """Checking every plan (the chain of records) needs an account that sees every township.

    Raises
    ------
    Forbidden
        An account limited to some townships.
    """
    if township_ids is not None:
        raise Forbidden("checking every plan and the chain of records needs an account for the whole "
                        "registry; verify single plans with GET /api/inspections/{id}/verify")


def plans_in_scope(bind: Bind, township_ids: Collection[int] | None) -> list[dict[str, Any]]:
    """:func:`list_plans` as records, only those :func:`check_plan_scope` lets the caller reach."""
    items = list_plans(bind).to_dict("records")
    if township_ids is None:
        return items
    return [p for p in items if plan_township_ids(bind, p["id"]) <= set(township_ids)]


def scoped_townships(bind: Bind, township_ids: Collection[int] | None, townships: str | None) -> str | None:
    """The townships of a draw by a caller limited to ``township_ids``: their whole scope when
    none are named, else each named one (name, code or id) must be inside it.

    Raises
    ------
    Forbidden
        A named township outside the caller's.
    NotFound
        An unknown township.
    """
    if township_ids is None:
        return townships
    if not townships:
        return ",".join(str(t) for t in township_ids)
    for name in split_list(townships) or ():
        if storage.resolve_township(bind, name) not in township_ids:
            raise Forbidden(f"township {name!r} is outside the townships your account may see")
    return townships


def check_may_record(bind: Bind, plan_id: int, may_record: Callable[[Collection[int]], bool]) -> None:
    """The caller records and changes findings of the plan: ``may_record(plan assignees)``.

    Raises
    ------
    NotFound
        No such plan.
    Forbidden
        ``may_record`` says no.
    """
    store.find_plan(bind, plan_id)
    if not may_record(store.plan_assignees(bind, plan_id)):
        raise Forbidden(f"only inspectors assigned to plan {plan_id} (and administrators) record and change its "
                        "findings; ask a planner to assign you (PUT .../assignments/NAME)")


def plan_assignments(bind: Bind, plan_id: int) -> pd.DataFrame:
    """The inspectors assigned to a plan.

    Raises
    ------
    NotFound
        No such plan.
    """
    store.find_plan(bind, plan_id)
    return store.read_assignments(bind, plan_id=plan_id)


def export_plan_download(bind: Bind, plan_id: int, *, fmt: str, table: str = "households", team: int | None = None,
                         form: str = "household", show_names: bool = False, may_see_names: Callable[[Collection[int]], bool],
                         actor: Actor | None = None) -> tuple[Path, dict[str, Any]]:
    """:func:`export_plan` into a temporary folder (remove it with
    :func:`geo.services.exports.remove_download`), names only for a caller
    ``may_see_names(plan assignees)`` allows; such an export is audited in its read's
    transaction.

    Raises
    ------
    NotFound
        No such plan.
    Forbidden
        ``show_names`` for a caller who may not see them.
    ValidationError
        Unknown format or table.
    """
    row = store.find_plan(bind, plan_id)
    if show_names and not may_see_names(store.plan_assignees(bind, plan_id)):
        raise Forbidden("your account may not see household heads' names or ID numbers of this plan "
                        "(inspectors: only of plans assigned to you); export without show_names for masked names")
    name = {"xlsform": f"plan-{plan_id}-{form}-xlsform.xlsx", "xform": f"plan-{plan_id}-{form}.xml",
            "package": f"plan-{plan_id}-{'team-' + str(team) if team is not None else 'all-teams'}-field-kit.zip",
            }.get(fmt, f"plan-{plan_id}.{fmt}")
    if not show_names:
        return write_download(name, lambda path: export_plan(bind, plan_id, path, fmt=fmt, table=table, team=team,
                                                             form=form))
    after = {"export": fmt, "table": table if fmt == "csv" else None, "plan": row["name"]}

    def write(path: Path) -> dict[str, Any]:
        with personal_read(bind, actor=actor, layer="inspection_plans", row_id=plan_id, after=after) as read:
            return export_plan(read.conn, plan_id, path, fmt=fmt, show_names=True, table=table, team=team, form=form)

    return write_download(name, write)
