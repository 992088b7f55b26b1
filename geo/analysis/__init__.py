"""Gap analyses: pairing coverage, road access, water access, exit-standard scorecards and
project priority.

Every analysis is a pure function over GeoDataFrames (frames in, an
:class:`~geo.analysis.result.AnalysisResult` of named tables out); every threshold is a
keyword-only parameter whose default comes from DESIGN.md or the seed documents (each
result names the values used and their sources). :mod:`geo.analysis.catalog` names them and runs them on frames;
:mod:`geo.analysis.output` writes results as tables, CSV, XLSX, JSON or GeoJSON. Nothing here
reads the database: :mod:`geo.services.analyses` loads the frames from the registry.
"""

from geo.analysis.coverage import analyze_coverage, cadre_loads
from geo.analysis.exit_standards import exit_scorecard
from geo.analysis.catalog import ANALYSES, analyze, analyze_all
from geo.analysis.priority import prioritize, rank_villages
from geo.analysis.result import AnalysisResult, Threshold
from geo.analysis.roads import analyze_roads
from geo.analysis.water import analyze_water

__all__ = [
    "ANALYSES", "AnalysisResult", "Threshold", "analyze", "analyze_all", "analyze_coverage", "analyze_roads", "analyze_water",
    "cadre_loads", "exit_scorecard", "prioritize", "rank_villages",
]
