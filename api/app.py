"""The FastAPI application: ``create_app(engine=, settings=)`` wires the routers together.

Routers stay thin and share the dependencies of :mod:`api.deps` (engine, settings, the
caller, permissions, township scope). A new feature is one router module included below.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.routing import Route

from api.errors import install_error_handlers
from api.pages import install_pages
from api.routes import (analyses, audit, auth, exports, imports, inspections, layers, library, meta, monitoring, ogc,
                        pv, registry, users, villages)
from api.routes.maps import maps_router
from geo import db_async, heap, scratch
from geo.db import REQUEST_THREADS, check_schema, make_engine
from geo.errors import SchemaMissing, ValidationError
from geo.settings import Settings, get_settings

DESCRIPTION = """Registry, layers and maps for county-level rural assistance work (村级帮扶).

**Log in** with `POST /api/auth/token` (the *Authorize* button) or send an API key as
`X-API-Key`. Roles: admin 管理员, planner 规划人员 (edits the registry), leader 领导 (reads
everything but personal data), inspector 督查人员, viewer 访客 (public layers). Household heads'
names and ID numbers never appear in layers, OGC items or registry listings.

Errors are RFC 9457 `application/problem+json` naming the field and the fix. Changes need the
version you read (`If-Match`); a stale one is refused, never overwritten.
"""


async def reject_nul(request: Request) -> None:
    """Refuse NUL characters in the query string: no database accepts them in text. (A
    coroutine: a plain function would cost every request a trip through the thread pool.)"""
    if b"%00" in request.scope.get("query_string", b"") or "\x00" in request.url.path:
        raise ValidationError("the request contains a NUL character (%00); remove it")


log = logging.getLogger("atlas.api")


def _lifespan(started_s: float):
    """Start-up work: as many handler threads as the engine pools connections
    (:data:`geo.db.REQUEST_THREADS`), the schema checked once (not per request; see
    :func:`geo.db.require_schema`), and the upload folders a killed server left behind removed
    (older than this application and not in use by a live process; see :mod:`geo.scratch`), and
    the objects loaded so far kept out of full garbage collections (:func:`geo.heap.settle`); at
    shutdown, the event loop's PostgreSQL connections (:mod:`geo.db_async`) closed."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
        try:
            await anyio.to_thread.run_sync(check_schema, app.state.engine)
        except SchemaMissing as exc:  # the server still starts: `atlas db upgrade` may follow
            log.warning("%s", exc)
        removed = scratch.remove_stale(older_than_s=started_s)
        if removed:
            log.warning("removed %d upload folder(s) left behind by an earlier server", len(removed))
        heap.settle()
        yield
        await db_async.close_pools(app.state.engine)  # the event loop's connections (the OGC reads')

    return lifespan


def create_app(*, engine: Engine | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the application around one engine (SpatiaLite or PostGIS)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="村级帮扶地图 Village assistance atlas",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(reject_nul)],
        lifespan=_lifespan(time.time()),
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url)
    install_error_handlers(app)
    if settings.trusted_proxies:
        # X-Forwarded-For and -Proto only from the configured proxies (uvicorn's own proxy
        # handling, which trusts 127.0.0.1 by default, is off: see ``atlas serve``).
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    meta.install_docs(app)

    app.include_router(meta.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(audit.router)
    app.include_router(layers.router)
    app.include_router(ogc.router)
    app.include_router(analyses.router)
    app.include_router(pv.router)
    app.include_router(exports.router)
    for router in registry.routers():
        app.include_router(router)
    app.include_router(imports.router)
    app.include_router(inspections.router)
    app.include_router(library.router)
    app.include_router(villages.router)
    app.include_router(monitoring.router)
    app.include_router(maps_router())
    install_pages(app)
    _openapi_built_once(app)
    return app


def _openapi_built_once(app: FastAPI) -> None:
    """Build the OpenAPI document on the first request that needs it (``/openapi.json``, the
    page ``/docs`` loads, ``/ogc/api``), once, however many such requests arrive together, in a
    worker thread.

    Building it costs FastAPI about 2 s of CPU (every route's parameters and models), which a
    server start would pay even when nobody reads the document (most servers: the API's
    clients, the test suite's servers). FastAPI keeps the document in ``app.openapi_schema``;
    the lock makes requests that come while it is being built wait for that build rather than
    start one of their own. FastAPI's own ``/openapi.json`` route runs on the event loop, where
    the first build would hold up every other request for seconds: it is replaced by the same
    answer from a worker thread (as ``/ogc/api`` already is).
    """
    build = app.openapi
    lock = threading.Lock()

    def openapi() -> dict:
        if app.openapi_schema is None:
            with lock:
                return build()
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented hook

    def openapi_json(request: Request) -> JSONResponse:  # a plain def: Starlette runs it in a thread
        schema = app.openapi()
        root_path = request.scope.get("root_path", "").rstrip("/")
        if root_path and app.root_path_in_servers and root_path not in {s.get("url") for s in schema.get("servers", [])}:
            schema = {**schema, "servers": [{"url": root_path}, *schema.get("servers", [])]}
        return JSONResponse(schema)

    routes = app.router.routes
    for i, route in enumerate(routes):
        if isinstance(route, Route) and route.path == app.openapi_url:
            routes[i] = Route(app.openapi_url, openapi_json, include_in_schema=False)
