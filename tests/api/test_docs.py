"""The API documentation works offline: Swagger UI's assets come from this server, and a
real browser with every other host unreachable renders every operation."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_docs_page_loads_only_local_assets(demo_server):
    html = demo_server.get("/docs").text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"url: ?'([^']+)'", html)
    assert urls, html
    for url in urls:
        assert not re.match(r"^(https?:)?//", url), f"/docs loads {url} from elsewhere"
        assert demo_server.get(url).status_code == 200, url
    assert "/openapi.json" in html


@pytest.mark.browser
def test_swagger_ui_renders_with_no_network(demo_server, live_server):
    document = demo_server.get("/openapi.json").json()
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--virtual-time-budget=20000", f"{live_server.base}/docs"],
        capture_output=True, text=True, timeout=120,
    )
    rendered = set(re.findall(r'opblock-summary-path" data-path="([^"]+)"', result.stdout))
    assert rendered >= set(document["paths"]), sorted(set(document["paths"]) - rendered)[:5]
