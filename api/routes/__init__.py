"""Routers of the API; :func:`api.app.create_app` includes every one listed in ``ROUTERS``."""
