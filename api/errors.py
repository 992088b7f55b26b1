"""Errors -> HTTP responses (RFC 9457 problem+json), in one place.

Domain errors map to statuses in :data:`STATUS`. Request validation errors name each field
and what to send instead, and never echo the value sent (it may be personal data). Anything
unexpected becomes a 500 without a traceback or a value in it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo import errors

log = logging.getLogger("atlas.api")

PROBLEM_JSON = "application/problem+json"

STATUS = {
    errors.NotFound: 404,
    errors.TooLarge: 413,
    errors.ValidationError: 422,
    errors.StaleVersion: 409,
    errors.Conflict: 409,
    errors.Forbidden: 403,
    errors.OutOfScope: 403,
    errors.AuthenticationFailed: 401,
    errors.TooManyAttempts: 429,
    errors.SchemaMissing: 503,
    errors.DatabaseBusy: 503,
    errors.DatabaseError: 503,
    errors.PartitionFailed: 503,
    errors.AtlasError: 400,
}

TITLES = {
    400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 406: "Not acceptable", 409: "Conflict", 412: "Precondition failed",
    413: "Payload too large", 415: "Unsupported media type", 422: "Invalid input",
    428: "Precondition required", 429: "Too many requests", 500: "Internal error",
    503: "Service unavailable",
}


#: Paths under which invalid input answers 400 instead of 422 (OGC API - Features requires it).
BAD_REQUEST_PREFIXES = ("/ogc",)


def _bad_request_path(request: Request) -> bool:
    return request.url.path.startswith(BAD_REQUEST_PREFIXES)


def status_for(exc: errors.AtlasError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def problem(status: int, title: str, detail: str, kind: str, *, headers: dict | None = None,
            **extra: Any) -> JSONResponse:
    body = {"type": f"urn:atlas:problem:{kind}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, rest = parts[0], parts[1:]
        return f"{where} field {'.'.join(rest)}" if rest else where
    return ".".join(parts)


def _fix(error: dict) -> str:
    """The validation message, plus what to send where pydantic's own words are vague."""
    message = error.get("msg", "invalid")
    kind = error.get("type", "")
    if kind == "missing":
        return "required; send it"
    if kind == "extra_forbidden":
        return "unknown field; remove it (see the schema in /docs)"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{message}; send a whole number"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{message}; send a finite number"
    return message


def validation_problem(errs: list[dict], *, status: int = 422) -> JSONResponse:
    fields = [{"field": _field(tuple(e.get("loc", ()))), "message": _fix(e)} for e in errs]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    if len(fields) > 5:
        detail += f"; and {len(fields) - 5} more"
    return problem(status, TITLES[status], detail, "validation", errors=fields)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.AtlasError)
    async def _atlas_error(request: Request, exc: errors.AtlasError) -> JSONResponse:
        status = status_for(exc)
        if status == 422 and _bad_request_path(request):
            status = 400
        extra, headers = {}, None
        if status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="atlas"'}
        if isinstance(exc, (errors.DatabaseBusy, errors.TooManyAttempts)):
            headers = {"Retry-After": str(exc.retry_after_s)}
        if isinstance(exc, errors.StaleVersion):
            # Stale If-Match: 412 (RFC 9110); a stale version in the body: 409.
            status = 412 if request.headers.get("if-match") else 409
            extra["current_version"] = exc.current_version
        return problem(status, TITLES.get(status, type(exc).__name__), str(exc), exc.kind,
                       headers=headers, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "error")
        kind = TITLES.get(exc.status_code, "error").lower().replace(" ", "-")
        return problem(exc.status_code, TITLES.get(exc.status_code, "Error"), detail, kind,
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(list(exc.errors()), status=400 if _bad_request_path(request) else 422)

    app.add_middleware(CatchUnexpected)


class CatchUnexpected:
    """Turn an unexpected exception into a bare 500 problem and log only its kind and the path.

    Starlette's own last-resort handler re-raises, so the server would print the traceback,
    and a database error's text can quote the row's values (personal data among them).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.error("unexpected %s in %s %s", type(exc).__name__, scope.get("method"), scope.get("path"))
            if started:
                return
            response = problem(500, TITLES[500], "the server failed to answer this request; the error "
                               "was logged. Try again, and report it if it persists", "internal")
            await response(scope, receive, send)
