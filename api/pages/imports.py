"""数据导入: upload a file, check it with a dry run row by row, then import it; the history.

The same import as ``POST /api/imports`` and ``atlas import`` (one transaction, audited, all
or nothing when 严格 is ticked), in three steps: the upload is kept on the server
(:mod:`geo.services.imports`), its layer guessed from its headers, and checked with a dry run
whose report lists every refused or repaired row; the visitor may pick another layer and
check again, and imports it with one more click. Planners and administrators without a
township limit import, as in the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, Principal, SettingsDep
from api.pages.render import render
from api.pages.session import FormUser, PageUser, token_for
from api.policy import Permission
from api.routes.imports import IMPORT_LIMIT, _suffix
from api.uploads import display_name, save_upload, upload_route
from geo.io.importer.report import ImportReport
from geo.layers import LAYERS
from geo.services import imports as service

router = APIRouter(route_class=upload_route(IMPORT_LIMIT))

Token = Annotated[str, Form(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")]
Text = Annotated[str, Form(max_length=200)]
LayerField = Annotated[str, Form(max_length=40)]


def _importer(user: Principal) -> Principal:
    if not user.can(Permission.WRITE):
        raise HTTPException(403, f"your role ({user.role.value}) may not import files; planners and "
                                 "administrators do")
    service.refuse_limited(user.township_ids)
    return user


class Options:
    """The import options of the forms, as the command line's (``--sheet``, ``--crs`` ...)."""

    def __init__(self, sheet: str = "", source_layer: str = "", crs: str = "", encoding: str = "",
                 mapping: str = "", year: str = "", strict: bool = True):
        self.sheet, self.source_layer, self.crs, self.encoding = sheet.strip(), source_layer.strip(), crs.strip(), \
            encoding.strip()
        self.mapping = mapping.strip()
        self.year = year.strip()
        self.strict = strict

    def arguments(self) -> dict:
        if self.year and not (self.year.isdigit() and 1949 <= int(self.year) <= 2100):
            raise HTTPException(422, f"year {self.year!r} is not a year between 1949 and 2100; leave 年度 empty or "
                                     "write e.g. 2019")
        return {"sheet": self.sheet or None, "source_layer": self.source_layer or None, "crs": self.crs or None,
                "encoding": self.encoding or None, "year": int(self.year) if self.year else None,
                "mapping": [line.strip() for line in self.mapping.replace("，", "\n").splitlines() if line.strip()],
                "strict": self.strict}


def _options(sheet: Text = "", source_layer: Text = "", crs: Annotated[str, Form(max_length=40)] = "",
             encoding: Annotated[str, Form(max_length=20)] = "", mapping: Annotated[str, Form(max_length=4000)] = "",
             year: Annotated[str, Form(max_length=10)] = "", strict: Annotated[bool, Form()] = False) -> Options:
    return Options(sheet, source_layer, crs, encoding, mapping, year, strict)


OptionsDep = Annotated[Options, Depends(_options)]


def _page(request: Request, engine, settings, user: Principal, *, status_code: int = 200, **context) -> HTMLResponse:
    response = render(request, "imports.html", user, layers=[(name, spec.label) for name, spec in LAYERS.items()],
                      history=service.history(engine), csrf_token=token_for(request, settings),
                      options=context.pop("options", Options()), **context)
    response.status_code = status_code
    return response


def _checked(request, engine, settings, user, item: service.Staged, layer: str, options: Options,
             guess: service.LayerGuess | None = None) -> HTMLResponse:
    layer = service.check_layer_name(layer)
    report = service.import_staged(engine, item, layer=layer, dry_run=True, **options.arguments())
    return _page(request, engine, settings, user, staged=item, layer=layer, guess=guess, report=_view(report),
                 options=options)


def _view(report: ImportReport) -> dict:
    data = report.as_dict()
    data["row_label"] = "行" if report.row_numbers == "row" else "要素"
    data["layer_label"] = LAYERS[report.layer].label if report.layer in LAYERS else report.layer
    data["layer_counts"] = [(LAYERS[name].label if name in LAYERS else name, counts)
                            for name, counts in data["layers"].items()]
    return data


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, user: PageUser, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """The upload form and the latest imports."""
    return _page(request, engine, settings, _importer(user))


@router.post("/imports", response_class=HTMLResponse)
def upload(request: Request, user: FormUser, engine: EngineDep, settings: SettingsDep,
           file: Annotated[UploadFile, File()], options: OptionsDep, layer: LayerField = "auto") -> HTMLResponse:
    """Keep the upload, guess its layer unless one is chosen, and check it with a dry run."""
    importer = _importer(user)
    name = display_name(file.filename)
    _suffix(name)
    item = service.stage(importer.user_id, name)
    try:  # a file that cannot even be checked is not kept: the error page says why, upload it again
        save_upload(file, item.path, IMPORT_LIMIT, settings, name=name)
        guess = service.guess_layer(item.path)
        if layer == "auto":
            if guess.layer is None:
                return _page(request, engine, settings, importer, staged=item, guess=guess, options=options,
                             status_code=422, choose=True)
            layer = guess.layer
        return _checked(request, engine, settings, importer, item, layer, options, guess)
    except BaseException:
        service.discard(item)
        raise


@router.post("/imports/{token}/check", response_class=HTMLResponse)
def check_again(request: Request, token: str, user: FormUser, engine: EngineDep, settings: SettingsDep,
                layer: LayerField, options: OptionsDep) -> HTMLResponse:
    """The dry run of the kept file again, with another layer or other options."""
    importer = _importer(user)
    item = service.staged(token, importer.user_id)
    return _checked(request, engine, settings, importer, item, layer, options)


@router.post("/imports/{token}/commit", response_class=HTMLResponse)
def commit(request: Request, token: str, user: FormUser, engine: EngineDep, settings: SettingsDep,
           layer: LayerField, options: OptionsDep) -> HTMLResponse:
    """Import the kept file with the options of its dry run (audited)."""
    importer = _importer(user)
    item = service.staged(token, importer.user_id)
    report = service.import_staged(engine, item, layer=service.check_layer_name(layer), dry_run=False,
                                   actor=importer.actor, **options.arguments())
    if not report.committed:
        return _page(request, engine, settings, importer, staged=item, layer=layer, report=_view(report),
                     options=options, status_code=422)
    return _page(request, engine, settings, importer, done=_view(report))
