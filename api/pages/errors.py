"""Every error a browser meets is a page in Chinese that says what to do.

The API answers errors as RFC 9457 ``application/problem+json`` (:mod:`api.errors`), which is
right for scripts and useless to a person who followed a link. :class:`BrowserErrorPages`
looks at each answer to a request that accepts ``text/html`` (a browser's navigation or form;
``fetch`` and scripts send ``*/*`` or ``application/json``) and replaces a problem+json body by
a page: the status in Chinese, what to do, and the server's own message (English, naming the
field or value) for the details. Status and ``Retry-After`` are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from api.errors import PROBLEM_JSON
from api.pages.render import render_html


@dataclass(frozen=True)
class Advice:
    title: str
    fix: str


ADVICE: dict[int, Advice] = {
    400: Advice("请求有误", "请检查地址或表单中的内容，按下面的说明修改后重试。"),
    401: Advice("请先登录", "您尚未登录或登录已过期，请重新登录。"),
    403: Advice("无权访问", "您的账号没有这项权限，或所选乡镇不在您的范围内。如确需访问，请联系管理员调整角色或乡镇范围。"),
    404: Advice("找不到该内容", "地址中的名称或编号不存在。请从首页或列表页重新进入，或按下面列出的可选项修改地址。"),
    405: Advice("不支持此操作", "请从本站页面上的链接或按钮进入。"),
    409: Advice("与现有数据冲突", "名称已存在，或数据已被他人修改。请刷新页面查看最新内容后再操作。"),
    412: Advice("数据已被他人修改", "请刷新页面，在最新版本上重新修改。"),
    413: Advice("文件过大", "请缩小文件或分批上传；上限见下面的说明。"),
    422: Advice("参数不正确", "请按下面的说明修改地址或表单中的参数后重试。"),
    429: Advice("尝试次数过多", "请稍候再试（等待时间见下）。"),
    500: Advice("服务器出错", "错误已记录。请稍后重试；如仍出错，请联系管理员。"),
    503: Advice("服务暂时不可用", "数据库繁忙或尚未建立。请稍后重试；管理员可运行 .venv/bin/atlas db upgrade 建立或升级数据库。"),
}
DEFAULT_ADVICE = Advice("出错了", "请返回上一页重试；如仍出错，请联系管理员。")
#: Headers of the problem answer the page keeps.
KEPT_HEADERS = (b"retry-after", b"location", b"set-cookie")


def _wants_page(scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


def error_page(status: int, detail: str, *, path: str, retry_after: str | None = None) -> bytes:
    """The HTML of the error page for ``status`` with the server's ``detail``."""
    advice = ADVICE.get(status, DEFAULT_ADVICE)
    response = render_html("error.html", status_code=status, status=status, advice=advice, detail=detail,
                           login=f"/login?next={quote(path)}" if status == 401 else None,
                           retry_after=retry_after, path=path)
    return response.body


class BrowserErrorPages:
    """ASGI middleware: a problem+json answer to a browser becomes a Chinese error page."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not _wants_page(scope):
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        body = bytearray()

        async def intercept(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", ()))
                if headers.get(b"content-type", b"").startswith(PROBLEM_JSON.encode()):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                await self._send_page(send, start, bytes(body), scope.get("path", "/"))
                return
            await send(message)

        await self.app(scope, receive, intercept)

    @staticmethod
    async def _send_page(send, start: dict, body: bytes, path: str) -> None:
        try:
            problem = json.loads(body)
            detail = str(problem.get("detail", ""))
        except ValueError:
            detail = ""
        status = start["status"]
        kept = [(k, v) for k, v in start.get("headers", ()) if k.lower() in KEPT_HEADERS]
        retry = next((v.decode() for k, v in kept if k.lower() == b"retry-after"), None)
        html = error_page(status, detail, path=path, retry_after=retry)
        headers = [*kept, (b"content-type", b"text/html; charset=utf-8"),
                   (b"content-length", str(len(html)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": html})
