"""The analyses by name: what each reads (:data:`NEEDS`), returns (:data:`TABLES`) and is
called (:data:`TITLES`), and :func:`analyze` / :func:`analyze_all`, which run them on frames
already read. Reading the frames from the registry is :mod:`geo.services.analyses`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from geo.analysis import coverage, exit_standards, inputs, priority, roads, water
from geo.analysis.coverage import analyze_coverage
from geo.analysis.exit_standards import exit_scorecard
from geo.analysis.inputs import inputs_against_tasks
from geo.analysis.priority import prioritize
from geo.analysis.result import AnalysisResult
from geo.analysis.roads import analyze_roads
from geo.analysis.water import analyze_water
from geo.errors import NotFound, ValidationError

#: Layers (and link tables) each analysis reads.
NEEDS: dict[str, tuple[str, ...]] = {
    "coverage": ("townships", "villages", "pairings", "work_teams", "units", "cadres", "households"),
    "roads": ("townships", "villages", "settlements", "roads", "households", "projects"),
    "water": ("townships", "villages", "settlements", "water_facilities", "water_facility_villages", "households",
              "projects"),
    "exit": ("townships", "villages", "settlements", "households", "roads", "water_facilities",
             "water_facility_villages"),
    "priority": ("townships", "villages", "settlements", "households", "roads", "water_facilities",
                 "water_facility_villages", "pv_projects", "pv_project_households", "projects"),
    "inputs": ("townships", "villages", "units", "pairings", "unit_inputs", "projects"),
}
ANALYSES = tuple(NEEDS)
TITLES = {"coverage": "帮扶覆盖分析", "roads": "道路通达分析", "water": "饮水安全分析", "exit": "贫困村退出标准核查",
          "priority": "项目优先排序", "inputs": "帮扶投入与任务对照"}
#: Every table each analysis can return (some only with some options: the roads band, the
#: priority budget); a result holds a subset.
TABLES: dict[str, tuple[str, ...]] = {
    "coverage": tuple(coverage.TABLES), "roads": tuple(roads.TABLES), "water": tuple(water.TABLES),
    "exit": tuple(exit_standards.TABLES), "priority": tuple(priority.TABLES),
    "inputs": tuple(inputs.TABLES),
}


def check_table(analysis: str, table: str | None) -> None:
    """Refuse a table ``analysis`` never returns, before spending seconds on running it.

    Raises
    ------
    ValidationError
        Naming the tables the analysis has.
    """
    if table is not None and table != "all" and table not in TABLES[analysis]:
        raise ValidationError(f"the {analysis} analysis has no table {table!r}; tables: {', '.join(TABLES[analysis])}")


def analyze(frames: Mapping[str, pd.DataFrame], analysis: str, **options: Any) -> AnalysisResult:
    """Run ``analysis`` on loaded frames (see :func:`geo.services.analyses.load_inputs`) with keyword options.

    Raises
    ------
    NotFound
        Unknown analysis.
    """
    runners: dict[str, Callable[..., AnalysisResult]] = {
        "coverage": lambda f, **o: analyze_coverage(f["villages"], f["pairings"], f["work_teams"], f["units"],
                                                    f["cadres"], f["households"], f["townships"], **o),
        "roads": lambda f, **o: analyze_roads(f["villages"], f["settlements"], f["roads"], f["townships"],
                                              households=f["households"], projects=f.get("projects"), **o),
        "water": lambda f, **o: analyze_water(f["villages"], f["settlements"], f["water_facilities"],
                                              links=f["water_facility_villages"], households=f["households"],
                                              townships=f["townships"], projects=f.get("projects"), **o),
        "exit": lambda f, **o: exit_scorecard(f["villages"], f["settlements"], f["households"], f["roads"],
                                              f["townships"], facilities=f["water_facilities"],
                                              facility_links=f["water_facility_villages"], **o),
        "priority": lambda f, **o: prioritize(
            o.pop("kind"), f["villages"], f["settlements"], f["townships"], households=f.get("households"),
            roads=f.get("roads"), facilities=f.get("water_facilities"),
            facility_links=f.get("water_facility_villages"), pv_projects=f.get("pv_projects"),
            pv_households=f.get("pv_project_households"), projects=f.get("projects"), **o),
        "inputs": lambda f, **o: inputs_against_tasks(f["pairings"], f["unit_inputs"], f["villages"],
                                                      units=f.get("units"), projects=f.get("projects"), **o),
    }
    if analysis not in runners:
        raise NotFound(f"unknown analysis {analysis!r}; analyses: {', '.join(ANALYSES)}")
    return runners[analysis](frames, **options)


def analyze_all(frames: Mapping[str, pd.DataFrame], *, kind: str = "road") -> dict[str, AnalysisResult]:
    """All five analyses on one set of frames with their default rules, the roads and water
    analyses computed once and reused by the exit scorecard and the ranking.

    Parameters
    ----------
    frames
        Every layer :data:`NEEDS` lists (``geo.services.analyses.load_inputs(bind, "priority")`` plus the
        coverage layers).
    kind
        Project kind of the ranking.
    """
    roads = analyze(frames, "roads")
    water = analyze(frames, "water")
    return {
        "coverage": analyze(frames, "coverage"),
        "roads": roads,
        "water": water,
        "exit": analyze(frames, "exit", roads_result=roads, water_result=water),
        "priority": analyze(frames, "priority", kind=kind, roads_result=roads, water_result=water),
    }
