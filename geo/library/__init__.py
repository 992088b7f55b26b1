"""项目库: the project pipeline's rules (:mod:`~geo.library.pipeline`), candidates from the
priority ranking (:mod:`~geo.library.candidates`) and the asset ledger's tables
(:mod:`~geo.library.assets`). Pure: frames and values in, frames and values out; the registry
use cases are :mod:`geo.services.library`.
"""
