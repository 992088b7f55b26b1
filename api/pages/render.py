"""Templates of the pages (Jinja2, every value escaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo.enums import Role
from maps.assets import served_url

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)
_env.globals["bootstrap_css"] = served_url("bootstrap", "dist/css/bootstrap.min.css")
_env.filters["role_label"] = lambda role: Role.parse(role).label

#: The navigation bar: (path, title, only for those who manage accounts).
NAVIGATION = (("/", "首页", False), ("/inspections", "督查", False), ("/users", "用户", True))


def render_html(name: str, *, status_code: int = 200, headers: dict[str, str] | None = None,
                **context: Any) -> HTMLResponse:
    """The template ``name`` rendered with ``context``."""
    html = _env.get_template(name).render(navigation=NAVIGATION, **context)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def render(request: Request, name: str, **context: Any) -> HTMLResponse:
    """A page for ``request``: the template with the current path (for the navigation)."""
    return render_html(name, path=request.url.path, **context)
