"""Use cases: one module per family. A service reads through :mod:`geo.storage`, calls the
pure packages (:mod:`geo.analysis`, :mod:`geo.pv`, :mod:`geo.inspection`, :mod:`geo.io`),
audits (in the same transaction as a personal-data read) and caches. It raises only
:mod:`geo.errors` exceptions; the routes in ``api/routes`` and the commands in ``api/cli``
both call these functions and never each other.

- :mod:`geo.services.analyses`: the gap analyses on the registry;
- :mod:`geo.services.pv`: PV review, siting and sizing on the registry;
- :mod:`geo.services.inspections`: inspection plans (draw, verify, export, assign);
- :mod:`geo.services.findings`: findings of a plan and their rectification;
- :mod:`geo.services.maps`: the frames each map shows, with the per-state caches;
- :mod:`geo.services.accounts`: account rules (token revocation, self-protection, API keys);
- :mod:`geo.services.personal`: reads of personal data, audited in the same transaction;
- :mod:`geo.services.exports`: a layer written to a temporary file for download;
- :mod:`geo.services.login`: password log-in (per-name lock-out, per-address slow-down).
"""
