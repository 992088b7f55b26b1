"""The login page in Chromium: after logging in, a ``next`` pointing off the site lands on this
site's home page (the check is the server's, :func:`api.login_form.safe_next`), one on the
site lands where it says."""

from __future__ import annotations

import pytest

from tests.api.accounts import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page) -> None:
    page.fill("input[name=username]", "t_leader")
    page.fill("input[name=password]", PASSWORD)
    page.click("button")


@pytest.mark.parametrize("target", ["/%5Cevil.example", "/%09/evil.example", "//evil.example",
                                    "/%2F%2Fevil.example", "javascript:alert(document.domain)"])
def test_an_off_site_next_lands_home(guarded, demo_server, target):
    page, guard = guarded(demo_server.base, login_as=None)
    page.goto(f"{demo_server.base}/login?next={target}")
    _log_in(page)
    page.wait_for_url(f"{demo_server.base}/")
    assert guard.blocked == [] and guard.dialogs == [] and guard.errors == []


def test_a_next_on_the_site_is_followed(guarded, demo_server):
    page, guard = guarded(demo_server.base, login_as=None)
    page.goto(f"{demo_server.base}/login?next=/api/auth/me")
    _log_in(page)
    page.wait_for_url(f"{demo_server.base}/api/auth/me")
    assert '"t_leader"' in page.content()
    assert guard.errors == []
