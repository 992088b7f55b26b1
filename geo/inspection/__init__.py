"""Inspection sampling (督查抽样): plans and strata, reproducible and verifiable draws,
visiting routes, printable forms and exports, findings and their rectification.

Seeds 001 and 003 set the rules; the README's "Inspection sampling" section documents the
draw algorithm precisely enough for a third party to re-implement it.

Pure functions over frames (plans, draw, tours, forms, findings rules; the field kit's
XLSForms in :mod:`xlsform`, submissions read back in :mod:`answers`, 表4/表5 and finding
proposals from them in :mod:`results`); :mod:`geo.storage.inspection` holds
the SQL of the inspection tables, and :mod:`geo.services.inspections` and
:mod:`geo.services.findings` run these against the registry.
"""
