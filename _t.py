from geo.db import make_engine
from geo.services.pv import run_review
e = make_engine("sqlite:////tmp/pv17/demo.sqlite")
r = run_review(e)
v = r.villages
print(v[["village_name","poor_households_covered","income_yuan_per_poor_household","modelled_income_yuan_per_poor_household","village_income_yuan_per_year"]].sort_values("modelled_income_yuan_per_poor_household", ascending=False).head(8).to_string())
print(r.projects[["kind","capacity_kw","linked_households","modelled_income_yuan_per_year","modelled_income_to_households_yuan_per_year"]].sort_values("capacity_kw").tail(4))
