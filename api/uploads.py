"""Uploaded files, for every route that takes one (imports, PV weather and DEM files).

- :func:`upload_post` (or :func:`upload_route` for a whole router): a route that refuses a
  request whose body is larger than its files' limits allow: before reading it when
  ``Content-Length`` says so, else as soon as the bytes received pass the limit (a chunked
  upload is never read to its end);
- :func:`save_upload`: copies one upload into a private temporary folder
  (:func:`upload_folder`, removed afterwards, also on error; one left behind by a killed
  server is removed when the next one starts, see :mod:`geo.scratch`) with a running count
  against that file's own limit;
- :func:`display_name`: the upload's own file name, cleaned, for messages; and
  :func:`named_errors`, which puts that name in place of the temporary path in the
  messages of the geo functions that read the copy.

Limits come from the settings (:class:`UploadLimit` names the setting). Upload content is
never logged, nor quoted in a 413: messages carry the file's name and size only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from fastapi import APIRouter, HTTPException, Request, Response, UploadFile
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from api.errors import TITLES, problem
from api.schemas.common import problem_responses
from geo.errors import ValidationError
from geo.scratch import scratch_folder
from geo.settings import Settings

MiB = 1024 * 1024
#: Room for the multipart envelope and the form fields around the files [bytes].
ENVELOPE_BYTES = 64 * 1024

_UNSAFE = re.compile(r"[^\w.\-()\[\] \u4e00-\u9fff]")


@dataclass(frozen=True)
class UploadLimit:
    """The size limit of one uploaded file.

    Attributes
    ----------
    setting
        The :class:`~geo.settings.Settings` field holding the limit [MiB].
    label
        What the file is, in messages ("upload", "weather file", "DEM").
    advice
        What to do with a larger file.
    """

    setting: str
    label: str
    advice: str

    def mib(self, settings: Settings) -> int:
        return int(getattr(settings, self.setting))

    def bytes(self, settings: Settings) -> int:
        return self.mib(settings) * MiB

    @property
    def variable(self) -> str:
        """The environment variable that sets the limit."""
        return f"ATLAS_{self.setting.upper()}"

    def too_large(self, settings: Settings, size: int | None = None, *, name: str | None = None) -> HTTPException:
        """The 413 for a file of ``size`` bytes (None: the request declared too much)."""
        got = f"{size / MiB:.1f} MiB is" if size is not None else "the upload is"
        return HTTPException(413, f"{name + ': ' if name else ''}{got} larger than the {self.label} limit of "
                                  f"{self.mib(settings)} MiB ({self.variable}); {self.advice}")


def _files_bytes(limits: tuple[UploadLimit, ...], settings: Settings) -> int:
    return sum(limit.bytes(settings) for limit in limits)


def _request_too_large(limits: tuple[UploadLimit, ...], settings: Settings, size: int) -> Response:
    if len(limits) == 1:
        detail = limits[0].too_large(settings, size).detail
    else:
        each = " + ".join(f"{limit.label} {limit.mib(settings)} MiB ({limit.variable})" for limit in limits)
        detail = f"{size / MiB:.1f} MiB is larger than the upload limits allow ({each}); " + limits[-1].advice
    return problem(413, TITLES[413], detail, "payload-too-large", limit_bytes=_files_bytes(limits, settings))


class _BodyTooLarge(HTTPException):
    # an HTTPException, which FastAPI's form parsing passes on (it turns other errors into 400s)
    def __init__(self, size: int):
        super().__init__(413, "the request body is larger than the upload limit")
        self.size = size


def _counting(receive: Receive, limit: int) -> Callable[[], Awaitable[Message]]:
    """``receive`` that stops the request once its body passes ``limit`` bytes."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise _BodyTooLarge(size)
        return message

    return counted


class LimitedUploadRoute(APIRoute):
    """A route whose request body may hold the files of :attr:`limits` and no more.

    FastAPI reads the whole form (spooling files to disk) before any dependency runs, so the
    limit is kept here: a declared ``Content-Length`` over it is refused before the body is
    read, and an undeclared (chunked) body is counted as it arrives and refused when it
    passes the limit. Use :func:`upload_route` to make one for some limits.
    """

    limits: ClassVar[tuple[UploadLimit, ...]] = ()

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        limits = self.limits

        async def limited(request: Request) -> Response:
            settings: Settings = request.app.state.settings
            allowed = _files_bytes(limits, settings) + ENVELOPE_BYTES
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > allowed:
                return _request_too_large(limits, settings, int(declared))
            counted = Request(request.scope, _counting(request.receive, allowed), request._send)
            try:
                return await handler(counted)
            except _BodyTooLarge as exc:
                return _request_too_large(limits, settings, exc.size)

        return limited


def upload_route(*limits: UploadLimit) -> type[LimitedUploadRoute]:
    """A :class:`LimitedUploadRoute` class for requests carrying one file of each limit."""
    return type("LimitedUploadRoute", (LimitedUploadRoute,), {"limits": tuple(limits)})


def display_name(filename: str | None) -> str:
    """The upload's own file name, for messages: its last path part, printable, short."""
    name = PurePosixPath((filename or "upload").replace("\\", "/")).name or "upload"
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    return _UNSAFE.sub("_", name)[-120:] or "upload"


@contextmanager
def upload_folder() -> Iterator[Path]:
    """A private temporary folder for uploads (``<temp>/atlas-scratch-<user>/upload-*``),
    removed with everything in it afterwards."""
    with scratch_folder("upload") as folder:
        yield folder


def save_upload(upload: UploadFile, target: Path, limit: UploadLimit, settings: Settings, *,
                name: str | None = None) -> int:
    """Copy the upload to ``target``, refusing it (413) as soon as it passes ``limit``.

    Returns
    -------
    int
        The size [bytes].

    Raises
    ------
    HTTPException
        413 over the limit, 422 for an empty file; both name the upload (``name``).
    """
    name = name or display_name(upload.filename)
    allowed = limit.bytes(settings)
    size = 0
    upload.file.seek(0)
    with open(target, "wb") as sink:
        while block := upload.file.read(MiB):
            size += len(block)
            if size > allowed:
                raise limit.too_large(settings, size, name=name)
            sink.write(block)
    if size == 0:
        raise HTTPException(422, f"{name}: the uploaded file is empty (0 bytes)")
    return size


@contextmanager
def named_errors(path: Path, name: str) -> Iterator[None]:
    """Validation errors that quote the temporary copy ``path`` name the upload instead (the
    server's folders are nobody's business, and the caller knows the file by its name)."""
    try:
        yield
    except ValidationError as exc:
        text = str(exc)
        if str(path) not in text:
            raise
        raise ValidationError(text.replace(str(path), name)) from None


def upload_post(router: APIRouter, path: str, *limits: UploadLimit, **options: Any) -> Callable:
    """Like ``@router.post(path, **options)``, for a multipart upload carrying one file of each
    of ``limits`` (413 beyond them, see :class:`LimitedUploadRoute`)."""
    responses = {**problem_responses(413), **options.pop("responses", {})}

    def register(endpoint: Callable) -> Callable:
        router.add_api_route(path, endpoint, methods=["POST"], route_class_override=upload_route(*limits),
                             responses=responses, **options)
        return endpoint

    return register
