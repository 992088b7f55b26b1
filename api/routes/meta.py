"""Health, the browser login and logout pages, and the offline API documentation."""

from __future__ import annotations

import html
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.deps import SESSION_COOKIE, EngineDep, SettingsDep
from api.login_form import FORM_FIELD, issue_form_token, safe_next
from geo import migrate

router = APIRouter(tags=["meta"])

#: Swagger UI's JavaScript and CSS, shipped inside the fastapi-offline package (no CDN).
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_STATIC = "/static/docs"


@router.get("/health", summary="Liveness and database check")
def health(engine: EngineDep) -> dict:
    """Answers without credentials; says which database serves and its schema revision (no data)."""
    return {"status": "ok", "database": engine.dialect.name,
            "schema_revision": migrate.current_revision(engine)}


_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em;line-height:1.6}}
label{{display:block;margin-top:.8em}}input{{font-size:1em;padding:.3em;width:100%}}
button{{margin-top:1em;font-size:1em;padding:.4em 1.2em}}.err{{color:#b00}}</style></head>
<body>{body}</body></html>"""


@router.get("/logout", include_in_schema=False)
def logout_page() -> RedirectResponse:
    """Forget the browser's session cookie and go back to the login page. (Tokens and other
    sessions stay valid: POST /api/auth/logout revokes every token of the account.)"""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/login", include_in_schema=False, response_class=HTMLResponse)
def login_page(request: Request, response: Response, settings: SettingsDep, next: str | None = None) -> str:
    """The login form. It carries a login-form token (also set as a cookie, see
    :mod:`api.login_form`) and, after a successful login, goes to ``next`` when that is a path
    on this site (:func:`api.login_form.safe_next`, checked here on the server), else to ``/``."""
    token = issue_form_token(request, response, settings)
    body = f"""<h1>登录 <small>Log in</small></h1>
<form id="f" data-next="{html.escape(safe_next(next), quote=True)}">
<input type="hidden" name="{FORM_FIELD}" value="{html.escape(token, quote=True)}">
<label>用户名 User name<input name="username" autocomplete="username" required></label>
<label>密码 Password<input name="password" type="password" autocomplete="current-password" required></label>
<button>登录 Log in</button></form><p id="msg"></p>
<script>
document.getElementById('f').addEventListener('submit', async (e) => {{
  e.preventDefault();
  const r = await fetch('/api/auth/session', {{method: 'POST', body: new URLSearchParams(new FormData(e.target))}});
  const m = document.getElementById('msg');
  if (r.ok) {{ const u = await r.json(); m.className = '';
    m.textContent = '已登录 Logged in: ' + u.name + ' (' + u.role_label + ')';
    location.href = e.target.dataset.next; }}
  else {{ m.className = 'err'; m.textContent = (await r.json()).detail; }}
}});
</script>"""
    return _PAGE.format(title="登录 · 村级帮扶地图", body=body)


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` from local files only (works with no internet)."""
    app.mount(DOCS_STATIC, StaticFiles(directory=DOCS_ASSETS), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_STATIC}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
