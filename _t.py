import time
from geo.db import make_engine
from geo.services.pv import run_siting
from geo.pv.yield_model import clear_yield_cache
e = make_engine("sqlite:////tmp/pv17/demo.sqlite")
for cat in ("village","centralized"):
    t=time.perf_counter()
    r = run_siting(e, category=cat, cell_size_m=100, top=10)
    print(cat, time.perf_counter()-t, r.cells_evaluated, r.cells_kept, r.candidates_found, r.households_to_reach, r.households_unreached, {k: round(v) for k,v in r.excluded_area_ha.items()})
    print(r.candidates[["rank","area_ha","capacity_kwp","beneficiary_households","households_unreached_after","income_yuan_per_beneficiary_household","villages"]].head(5).to_string())
