"""Photovoltaic poverty-alleviation analyses: yield and income on pvlib, project review,
siting of new stations, and station sizing.

- :mod:`geo.pv.weather`: weather files pvlib reads, or the labelled clear-sky estimate;
- :mod:`geo.pv.yield_model`: :func:`estimate_yield`, :func:`specific_yields`;
- :mod:`geo.pv.review`: :func:`review_projects` (flags, village and township tables);
- :mod:`geo.pv.siting`: :func:`site_stations` (candidates as a GeoDataFrame);
- :mod:`geo.pv.sizing`: :func:`size_station`;
- :mod:`geo.pv.ledger`: a station's yearly ledger read from XLSX and checked for under-delivery;
- :mod:`geo.pv.sun`: the solar position, its time-only terms shared across sites;
- :mod:`geo.pv.params`: every default with its source (station categories, income
  distribution, exclusions, the estimate's monthly climate).

Nothing here reads the database: :mod:`geo.services.pv` reads the frames from the registry
(or files) and runs these.
"""

from geo.pv.review import FLAGS, PVReview, review_projects
from geo.pv.siting import Exclusion, SitingResult, site_stations
from geo.pv.sizing import StationSize, size_station
from geo.pv.weather import Weather, clearsky_weather, read_weather
from geo.pv.yield_model import YieldResult, estimate_yield, specific_yields

__all__ = [
    "FLAGS", "Exclusion", "PVReview", "SitingResult", "StationSize", "Weather", "YieldResult",
    "clearsky_weather", "estimate_yield", "read_weather", "review_projects", "site_stations",
    "size_station", "specific_yields",
]
