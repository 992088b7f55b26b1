"""Templates of the pages (Jinja2, every value escaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import Principal
from api.policy import Permission
from geo.enums import Role
from maps.assets import served_url

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)
_env.globals["bootstrap_css"] = served_url("bootstrap", "dist/css/bootstrap.min.css")
_env.filters["role_label"] = lambda role: Role.parse(role).label

#: The navigation bar: (path, title, the permission the page needs).
NAVIGATION = (("/", "首页", None), ("/inspections", "督查", Permission.READ_ALL), ("/imports", "数据导入", Permission.WRITE),
              ("/registry", "登记簿", Permission.READ_PUBLIC), ("/analyses", "分析", Permission.READ_ALL),
              ("/monitoring", "防返贫监测", Permission.READ_ALL),
              ("/users", "用户", Permission.MANAGE_USERS))


def navigation_for(user: Principal) -> tuple:
    """The items of :data:`NAVIGATION` that ``user`` may open."""
    return tuple(item for item in NAVIGATION if item[2] is None or user.can(item[2]))


def render_html(name: str, *, status_code: int = 200, headers: dict[str, str] | None = None,
                navigation: tuple = NAVIGATION[:1], **context: Any) -> HTMLResponse:
    """The template ``name`` rendered with ``context`` (the navigation: the landing page only)."""
    html = _env.get_template(name).render(navigation=navigation, **context)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def render(request: Request, name: str, user: Principal, **context: Any) -> HTMLResponse:
    """A page for ``request`` seen by ``user``: the template with the current path, the account
    and the pages of the navigation that ``user`` may open."""
    return render_html(name, path=request.url.path, navigation=navigation_for(user),
                       account=f"{user.name}（{user.role.label}）", **context)
