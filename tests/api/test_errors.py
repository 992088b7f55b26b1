"""An unexpected error answers a bare problem+json 500 and logs only its kind and path, never
the values it carried (a database error can quote a household head's name)."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.testclient import TestClient

from api.errors import install_error_handlers


def test_unexpected_errors_are_a_bare_500_and_log_no_values(caplog):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom():
        raise RuntimeError("INSERT failed for head_name='马某军', id_number='640502194001010011'")

    with caplog.at_level(logging.DEBUG):
        response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "马某军" not in response.text and "640502" not in response.text
    assert "RuntimeError" in caplog.text and "/boom" in caplog.text
    assert "马某军" not in caplog.text and "640502194001010011" not in caplog.text
