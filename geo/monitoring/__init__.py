"""防止返贫动态监测: the rules of monitoring cases (:mod:`.workflow`), the reading of risk
leads (:mod:`.leads`) and the monthly, posting and quarterly tables (:mod:`.reports`).
Pure: frames and dates in, frames out; the registry is :mod:`geo.services.monitoring`'s."""
