"""Server-rendered pages for the work beyond the maps (Chinese first, no JavaScript needed).

Each page module parses the request, calls one service and renders a template; the pages use
the API's roles and township scopes (:mod:`api.deps`), Bootstrap's stylesheet from the
vendored assets (never a CDN) and forms protected against cross-site requests
(:mod:`api.pages.session`). :class:`api.pages.errors.BrowserErrorPages` turns every error a
browser meets into a Chinese page with the fix instead of raw ``application/problem+json``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.pages import analyses, imports, inspections, monitoring, registry, users
from api.pages.errors import BrowserErrorPages


def install_pages(app: FastAPI) -> None:
    """Add the page routes and the browser error pages to ``app``."""
    router = APIRouter(include_in_schema=False)
    router.include_router(inspections.router)
    router.include_router(imports.router)
    router.include_router(analyses.router)
    router.include_router(monitoring.router)
    router.include_router(registry.router)
    router.include_router(users.router)
    app.include_router(router)
    app.add_middleware(BrowserErrorPages)
