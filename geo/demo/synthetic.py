"""Synthetic counties and provinces: deterministic, invented registries of any size, for
scale tests and benchmarks (``atlas demo synth``).

A county of ``45 x scale`` villages (the Shapotou demo is scale 1): per 45 villages 7
townships, 300 settlements, about 2,300 road pieces (roads digitised in short pieces, a few
missing so the network has gaps), 10,000 households, about 200 water facilities, 69 pairings
and 65 PV projects, laid out in UTM 48N around Shapotou and returned in EPSG:4326 as the
storage layer returns them. A province is N such counties side by side, coded ``99PPCC``
(province 99 is no real GB/T 2260 province).

**Every row says it is invented**: its ``source`` is ``benchmark:synthetic`` and every name
starts with 合成 (synthesised), so no synthetic row can pass for a real one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, MultiPolygon, Point, box

from geo import storage
from geo.errors import ValidationError
from geo.storage import Bind

SEED = 20_190_429
UTM = 32648
ORIGIN = (440_000.0, 4_070_000.0)  # south-west corner [m, UTM 48N], near Shapotou
SOURCE = "benchmark:synthetic"
#: Villages of the demo county, the unit of ``scale``.
DEMO_VILLAGES = 45


def _per(count_per_demo: int, villages: int) -> int:
    """``count_per_demo`` per 45 villages, for ``villages`` villages (rounded, at least 1);
    exact integer arithmetic, so a multiple of 45 gives a multiple of the count."""
    return max(1, (count_per_demo * villages + DEMO_VILLAGES // 2) // DEMO_VILLAGES)


def _to_wgs(geoms) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=UTM).to_crs(4326)


def _pieces(a: tuple[float, float], b: tuple[float, float], length_m: float) -> list[LineString]:
    """A straight road from a to b digitised as pieces of about ``length_m``."""
    n = max(1, int(math.hypot(b[0] - a[0], b[1] - a[1]) // length_m))
    xs = np.linspace(a[0], b[0], n + 1)
    ys = np.linspace(a[1], b[1], n + 1)
    return [LineString([(xs[i], ys[i]), (xs[i + 1], ys[i + 1])]) for i in range(n)]


def _mst(points: np.ndarray) -> list[tuple[int, int]]:
    """Edges of a minimum spanning tree over a few points (Prim, O(n²) is fine here)."""
    n = len(points)
    inside = np.zeros(n, dtype=bool)
    inside[0] = True
    best = np.hypot(*(points - points[0]).T)
    parent = np.zeros(n, dtype=int)
    edges = []
    for _ in range(n - 1):
        best_masked = np.where(inside, np.inf, best)
        j = int(np.argmin(best_masked))
        edges.append((int(parent[j]), j))
        inside[j] = True
        d = np.hypot(*(points - points[j]).T)
        closer = d < best
        best = np.where(closer, d, best)
        parent = np.where(closer, j, parent)
    return edges


def synthetic_county(scale: int = 10, *, villages: int | None = None, seed: int = SEED,
                     origin: tuple[float, float] = ORIGIN, county_code: str | None = None) -> dict[str, pd.DataFrame]:
    """Layer frames (and link tables) of a synthetic county, keyed like the registry.

    Parameters
    ----------
    scale
        Times the Shapotou demo (45 villages each); ignored when ``villages`` is given.
    villages
        Villages of the county; every other count grows with it (per 45 villages: 7
        townships, 300 settlements, 10,000 households, 66 units, 65 PV projects).
    seed
        Seed of the random generator: the same arguments give the same county.
    origin
        South-west corner [m, UTM 48N].
    county_code
        Six-digit county code: the townships get nine-digit codes under it (GB/T 2260
        layout) and every name starts with it, so counties of one province never share a
        name (:func:`province_counties`).

    Returns
    -------
    dict
        Layer or link-table name -> frame, ids 1..n per layer (as ``read_layer`` returns
        them), geometries in EPSG:4326.

    Raises
    ------
    ValidationError
        Fewer than one village.
    """
    rng = np.random.default_rng(seed)
    n_villages = 45 * scale if villages is None else villages
    if n_villages < 1:
        raise ValidationError(f"a synthetic county needs at least 1 village, not {n_villages}")
    n_towns = _per(7, n_villages)
    cols = int(math.ceil(math.sqrt(n_towns * 1.3)))
    rows = int(math.ceil(n_towns / cols))
    cell_w, cell_h = 14_000.0, 14_000.0
    x0, y0 = origin
    tag = "" if county_code is None else f"{county_code}"

    town_rows, town_areas, seats = [], [], []
    for t in range(n_towns):
        cx = x0 + (t % cols + 0.5) * cell_w
        cy = y0 + (t // cols + 0.5) * cell_h
        town_rows.append({"id": t + 1, "code": None if county_code is None else f"{county_code}{t + 1:03d}",
                          "name": f"合成{tag}{t + 1:03d}镇", "source": SOURCE})
        town_areas.append(MultiPolygon([box(cx - cell_w / 2, cy - cell_h / 2, cx + cell_w / 2, cy + cell_h / 2)]))
        seats.append((cx, cy))
    townships = gpd.GeoDataFrame(town_rows, geometry=_to_wgs(town_areas), crs=4326)
    townships["seat"] = _to_wgs([Point(s) for s in seats])

    village_rows, village_pts = [], []
    categories = np.array(["key_poor", "poor", "exited"])
    per_town = np.full(n_towns, n_villages // n_towns)
    per_town[: n_villages - per_town.sum()] += 1
    for t, count in enumerate(per_town):
        cx, cy = seats[t]
        for _ in range(count):
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(2_000, 6_000)
            vid = len(village_rows) + 1
            households = int(rng.integers(200, 700))
            population = int(households * rng.uniform(2.9, 3.6))
            village_rows.append({
                "id": vid, "name": f"合成{tag}{vid:04d}村", "township_id": t + 1,
                "category": str(rng.choice(categories, p=[0.5, 0.38, 0.12])), "population": population,
                "households": households, "registered_poor_households": None, "poor_population": None,
                "has_feature_industry": bool(rng.random() < 0.8), "stable_housing_share_pct": float(rng.uniform(85, 100)),
                "medical_insurance_share_pct": float(rng.uniform(93, 100)),
                "out_of_school_children": int(rng.random() < 0.1), "safe_water_share_pct": None,
                "hardened_road": None, "road_surface_width_m": None,
                "power_share_pct": float(rng.uniform(95, 100)), "tv_share_pct": float(rng.uniform(92, 100)),
                "has_public_services": bool(rng.random() < 0.9), "has_collective_economy": bool(rng.random() < 0.6),
                "collective_income_wan_yuan": float(rng.uniform(0, 10)),
                "weak_party_organisation": bool(rng.random() < 0.05), "source": SOURCE,
            })
            village_pts.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))

    settlement_rows, settlement_pts = [], []
    target_settlements = _per(300, n_villages)
    counts = rng.multinomial(target_settlements - 3 * len(village_rows), np.full(len(village_rows),
                                                                                   1 / len(village_rows))) + 3
    for v, count in zip(village_rows, counts):
        vx, vy = village_pts[v["id"] - 1]
        shares = rng.dirichlet(np.full(count, 1.5))
        for i in range(count):
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(700, 3_000)
            sid = len(settlement_rows) + 1
            size = max(6, int(round(shares[i] * v["households"])))
            settlement_rows.append({"id": sid, "village_id": v["id"], "name": f"{i + 1}组", "households": size,
                                    "population": int(size * 3.2), "source": SOURCE})
            settlement_pts.append((vx + radius * math.cos(angle), vy + radius * math.sin(angle)))
    settlements = gpd.GeoDataFrame(settlement_rows, geometry=_to_wgs([Point(p) for p in settlement_pts]), crs=4326)

    # roads: county roads between seats, township roads seat -> villages, village roads to
    # settlements; digitised in short pieces, a few pieces missing
    road_geoms, road_attrs = [], []

    def add(a, b, surface, width, piece_m, drop=0.0):
        for piece in _pieces(a, b, piece_m):
            if drop and rng.random() < drop:
                continue
            road_geoms.append(piece)
            road_attrs.append((surface, width))

    for a, b in _mst(np.array(seats)):
        add(seats[a], seats[b], "hardened", 7.5, 450.0)
    for t in range(n_towns):
        members = [i for i, v in enumerate(village_rows) if v["township_id"] == t + 1]
        points = np.array([seats[t]] + [village_pts[i] for i in members])
        for a, b in _mst(points):
            surface = "gravel" if rng.random() < 0.1 else "hardened"
            add(tuple(points[a]), tuple(points[b]), surface, 5.0, 300.0, drop=0.004)
    for s, (sx, sy) in zip(settlement_rows, settlement_pts):
        roll = rng.random()
        if roll < 0.08:
            continue
        surface, width = ("hardened", 4.0) if roll < 0.4 else ("gravel", 3.5) if roll < 0.75 else ("earth", 3.0)
        add(village_pts[s["village_id"] - 1], (sx, sy), surface, width, 270.0)
    roads = gpd.GeoDataFrame({"id": np.arange(1, len(road_geoms) + 1), "code": None, "name": None,
                              "road_class": None, "surface": [a[0] for a in road_attrs],
                              "width_m": [a[1] for a in road_attrs], "source": SOURCE},
                             geometry=_to_wgs(road_geoms), crs=4326)

    # households: about 100,000, spread over the settlements in proportion to their size
    target_households = _per(10_000, n_villages)
    sizes = np.array([s["households"] for s in settlement_rows], dtype=float)
    per_settlement = rng.multinomial(target_households, sizes / sizes.sum())
    settlement_of = np.repeat(np.arange(len(settlement_rows)), per_settlement)
    n_h = len(settlement_of)
    status = rng.choice(["registered", "exited", "planned_exit", "returned", "non_poor"], size=n_h,
                        p=[0.05, 0.12, 0.04, 0.005, 0.785])
    centres = np.array(settlement_pts)[settlement_of]
    angle, radius = rng.uniform(0, 2 * np.pi, n_h), rng.uniform(20, 250, n_h)
    hx, hy = centres[:, 0] + radius * np.cos(angle), centres[:, 1] + radius * np.sin(angle)
    poor = status != "non_poor"
    n_cadres = int(poor.sum() // 5 + 1)
    cadre = np.where(poor & (rng.random(n_h) > 0.02), rng.integers(1, n_cadres + 1, n_h), -1)
    village_of = np.array([settlement_rows[i]["village_id"] for i in settlement_of])
    households = gpd.GeoDataFrame({
        "id": np.arange(1, n_h + 1), "code": [f"B-{tag}{i:06d}" for i in range(1, n_h + 1)],
        "village_id": village_of, "settlement_id": settlement_of + 1, "status": status,
        "status_year": np.where(status == "planned_exit", 2019, np.where(status == "exited", 2017, np.nan)),
        "members": rng.integers(1, 7, n_h), "income_per_person_yuan": rng.uniform(2_000, 20_000, n_h),
        "assured_food_clothing": rng.random(n_h) > 0.02, "assured_education": rng.random(n_h) > 0.01,
        "assured_medical": rng.random(n_h) > 0.015, "assured_housing": rng.random(n_h) > 0.02,
        "housing_m2_per_person": rng.uniform(9, 40, n_h), "has_safe_water": rng.random(n_h) > 0.04,
        "has_power": rng.random(n_h) > 0.005, "has_tv": rng.random(n_h) > 0.03,
        "cadre_id": pd.array(np.where(cadre > 0, cadre, 0), dtype="Int64"), "source": SOURCE,
    }, geometry=gpd.points_from_xy(hx, hy, crs=UTM).to_crs(4326), crs=4326)
    households.loc[cadre <= 0, "cadre_id"] = pd.NA
    poor_by_village = pd.Series(poor).groupby(village_of).sum()
    members_active = pd.Series(np.where(np.isin(status, ["registered", "planned_exit", "returned"]),
                                        households["members"], 0)).groupby(village_of).sum()
    for v in village_rows:
        v["registered_poor_households"] = int(poor_by_village.get(v["id"], 0))
        v["poor_population"] = int(members_active.get(v["id"], 0))
    villages = gpd.GeoDataFrame(village_rows, geometry=_to_wgs([Point(p) for p in village_pts]), crs=4326)

    n_units = _per(66, n_villages)
    units = gpd.GeoDataFrame({"id": np.arange(1, n_units + 1), "name": [f"合成{tag}单位{i:04d}" for i in range(1, n_units + 1)],
                              "kind": "party_government", "level": "district", "source": SOURCE},
                             geometry=_to_wgs([Point(x0 + rng.uniform(0, cols * cell_w), y0 + rng.uniform(0, rows * cell_h))
                                               for _ in range(n_units)]), crs=4326)
    cadres = pd.DataFrame({"id": np.arange(1, n_cadres + 1), "code": None,
                           "unit_id": rng.integers(1, n_units + 1, n_cadres),
                           "name": [f"合成{tag}某{i:05d}" for i in range(1, n_cadres + 1)], "rank": "general",
                           "source": SOURCE})
    pair_village = np.concatenate([np.arange(1, len(village_rows) + 1),
                                   rng.integers(1, len(village_rows) + 1, _per(69, n_villages) - len(village_rows))])
    pairings = pd.DataFrame({"id": np.arange(1, len(pair_village) + 1), "unit_id": rng.permutation(
        np.resize(np.arange(1, n_units + 1), len(pair_village))), "village_id": pair_village, "year": 2019,
        "task_funds_wan_yuan": rng.choice([1.0, 1.5, 2.0], len(pair_village)), "seq": None, "source": SOURCE})
    pairings = pairings.drop_duplicates(["unit_id", "village_id"]).reset_index(drop=True)
    team_villages = rng.choice(np.arange(1, len(village_rows) + 1), _per(28, n_villages), replace=False)
    work_teams = pd.DataFrame({"id": np.arange(1, len(team_villages) + 1), "village_id": team_villages,
                               "year": 2019, "leader_unit_id": rng.integers(1, n_units + 1, len(team_villages)),
                               "first_secretary": None, "member_count": None, "source": SOURCE})

    water_rows, water_geoms, links = [], [], []
    for v, (vx, vy) in zip(village_rows, village_pts):
        if rng.random() < 0.06:
            continue
        fid = len(water_rows) + 1
        water_rows.append({"id": fid, "code": None, "name": f"{v['name']}供水点", "kind": "supply_point",
                           "status": str(rng.choice(["working", "damaged", "stopped"], p=[0.86, 0.09, 0.05])),
                           "is_drinking": True, "capacity_m3_per_day": None, "village_id": v["id"], "source": SOURCE})
        water_geoms.append(Point(vx + rng.uniform(-400, 400), vy + rng.uniform(-400, 400)))
        links.append((fid, v["id"]))
        for _ in range(int(rng.integers(2, 5))):
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(500, 3_000)
            fid = len(water_rows) + 1
            water_rows.append({"id": fid, "code": None, "name": f"{v['name']}机井", "kind": "well",
                               "status": str(rng.choice(["working", "damaged"], p=[0.85, 0.15])),
                               "is_drinking": bool(rng.random() < 0.7), "capacity_m3_per_day": None,
                               "village_id": v["id"], "source": SOURCE})
            water_geoms.append(Point(vx + radius * math.cos(angle), vy + radius * math.sin(angle)))
            links.append((fid, v["id"]))
    water = gpd.GeoDataFrame(water_rows, geometry=_to_wgs(water_geoms), crs=4326)
    water_links = pd.DataFrame(links, columns=["facility_id", "village_id"])

    n_pv = _per(65, n_villages)
    pv_village = rng.integers(1, len(village_rows) + 1, n_pv)
    pv = gpd.GeoDataFrame({
        "id": np.arange(1, n_pv + 1), "code": None, "name": [f"合成{tag}光伏{i:04d}" for i in range(1, n_pv + 1)],
        "kind": "village_station", "capacity_kw": rng.choice([100.0, 200.0, 300.0], n_pv),
        "status": rng.choice(["grid_connected", "building", "stopped"], n_pv, p=[0.8, 0.15, 0.05]),
        "investment_wan_yuan": None, "village_id": pv_village, "annual_income_yuan": rng.uniform(0, 200_000, n_pv),
        "source": SOURCE,
    }, geometry=_to_wgs([Point(village_pts[v - 1][0] + 800, village_pts[v - 1][1]) for v in pv_village]), crs=4326)
    pv["investment_wan_yuan"] = pv["capacity_kw"] * 0.75
    poor_ids = households.loc[poor, ["id", "village_id"]]
    chosen = poor_ids[poor_ids["village_id"].isin(set(pv_village))].sample(frac=0.3, random_state=seed)
    project_of_village = pd.Series(np.arange(1, n_pv + 1), index=pv_village).groupby(level=0).first()
    pv_households = pd.DataFrame({"project_id": chosen["village_id"].map(project_of_village).to_numpy(),
                                  "household_id": chosen["id"].to_numpy()})

    return {
        "townships": townships, "villages": villages, "settlements": settlements, "roads": roads,
        "households": households, "units": units, "cadres": cadres, "pairings": pairings,
        "work_teams": work_teams, "water_facilities": water, "water_facility_villages": water_links,
        "pv_projects": pv, "pv_project_households": pv_households,
    }


# ------------------------------------------------------------------------------ the province

#: Layers in writing order (parents first) and the foreign keys of each: column -> layer.
LAYERS = {
    "townships": {},
    "villages": {"township_id": "townships"},
    "settlements": {"village_id": "villages"},
    "units": {},
    "cadres": {"unit_id": "units"},
    "households": {"village_id": "villages", "settlement_id": "settlements", "cadre_id": "cadres"},
    "pairings": {"unit_id": "units", "village_id": "villages"},
    "work_teams": {"village_id": "villages", "leader_unit_id": "units"},
    "roads": {},
    "water_facilities": {"village_id": "villages"},
    "pv_projects": {"village_id": "villages"},
}
#: Link tables and the layers their columns point at.
LINKS = {"water_facility_villages": {"facility_id": "water_facilities", "village_id": "villages"},
         "pv_project_households": {"project_id": "pv_projects", "household_id": "households"}}
PER_ROW = 5  # counties a row
COUNTY_SIZE_M = 14_000.0 * 10  # room for a county of up to 450 villages [m]
#: Counties a province can hold: the two-digit prefecture and county parts of ``99PPCC``.
MAX_COUNTIES = 99 * 99

Progress = Callable[[str, dict[str, int]], None]


def county_code(number: int) -> str:
    """The six-digit code of county ``number`` (0-based): 99, prefecture, county."""
    return f"99{number // 99 + 1:02d}{number % 99 + 1:02d}"


def province_counties(counties: int, villages: int, *, seed: int) -> Iterator[tuple[str, dict[str, pd.DataFrame]]]:
    """Yield (county code, frames) for each county, generated one at a time.

    County ``k`` is :func:`synthetic_county` with ``villages`` villages, seeded ``seed + k``,
    placed ``PER_ROW`` counties a row.
    """
    _check_size(counties, villages)
    size = COUNTY_SIZE_M * max(1.0, (villages / DEMO_VILLAGES / 10) ** 0.5)
    for k in range(counties):
        origin = (ORIGIN[0] + (k % PER_ROW) * size, ORIGIN[1] + (k // PER_ROW) * size)
        code = county_code(k)
        yield code, synthetic_county(villages=villages, seed=seed + k, origin=origin, county_code=code)


def write_synthetic_province(bind: Bind, *, counties: int, villages: int, seed: int = 1,
                             progress: Progress | None = None) -> dict[str, int]:
    """Generate a synthetic province and write it into an empty registry, in one transaction.

    Counties are generated and written one after the other (memory stays one county's);
    each county's foreign keys point at the ids its parents were given. Nothing is written
    unless every county is.

    Parameters
    ----------
    bind
        Engine (or connection) of a database whose schema is current and whose registry is
        empty (no township).
    counties
        Counties of the province (1 to 9,801).
    villages
        Villages a county (at least 1; 450 is ten times the demo county).
    seed
        Seed: the same arguments give the same province.
    progress
        Called as ``progress(county_code, rows_of_that_county)`` after each county.

    Returns
    -------
    dict
        Layer or link table -> rows written.

    Raises
    ------
    ValidationError
        A size out of range, or a registry that already holds townships.
    """
    _check_size(counties, villages)
    written = {name: 0 for name in (*LAYERS, *LINKS)}
    with storage.connect(bind, write=True) as conn:
        held = len(storage.read_layer(conn, "townships", columns=["id"], with_names=False))
        if held:
            raise ValidationError(f"the registry already holds {held:,} townships; a synthetic province is "
                                  "written into an empty one: give a new database (--db)")
        for code, frames in province_counties(counties, villages, seed=seed):
            rows = _write_county(conn, frames)
            for name, n in rows.items():
                written[name] += n
            if progress is not None:
                progress(code, rows)
            del frames
    return written


def _write_county(conn, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Write one county's frames; their local ids (1..n) are mapped to the ids given."""
    ids: dict[str, np.ndarray] = {}
    rows: dict[str, int] = {}
    for layer, keys in LAYERS.items():
        frame = _map_keys(frames[layer], keys, ids).drop(columns="id")
        result = storage.write_layer(conn, layer, frame)
        # local id i is the frame's row i - 1; index 0 stands for no parent
        ids[layer] = np.concatenate([[0], np.asarray(result.ids, dtype=np.int64)])
        rows[layer] = len(frame)
    for link, keys in LINKS.items():
        rows[link] = storage.write_links(conn, link, _map_keys(frames[link], keys, ids))
    return rows


def _map_keys(frame: pd.DataFrame, keys: dict[str, str], ids: dict[str, np.ndarray]) -> pd.DataFrame:
    out = frame.copy()
    for column, parent in keys.items():
        if column not in out:
            continue
        local = out[column]
        if local.isna().any():  # an optional key (a household without a cadre)
            mapped = pd.array(ids[parent][local.fillna(0).astype("int64").to_numpy()], dtype="Int64")
            mapped[local.isna().to_numpy()] = pd.NA
            out[column] = mapped
        else:
            out[column] = ids[parent][local.astype("int64").to_numpy()]
    return out


def _check_size(counties: int, villages: int) -> None:
    if not 1 <= counties <= MAX_COUNTIES:
        raise ValidationError(f"--counties must be 1 to {MAX_COUNTIES:,} (codes 99PPCC), not {counties}")
    if villages < 1:
        raise ValidationError(f"--villages must be at least 1 (villages a county), not {villages}")
