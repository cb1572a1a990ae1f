"""Response headers (CSP without inline code, framing, sniffing, referrer, HSTS), X-Request-ID, and templates
that need no inline script or style."""

import logging
import re
from pathlib import Path

import pytest

from registry import create_app
from registry.db import db
from registry.services import totp_keys
from tests.conftest import make_test_config

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style", re.I), "a <style> element"),
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event-handler attribute"),
    (re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I), "a javascript: URL"),
]


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/login", "/password/forgot", "/healthz", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == "script-src 'self'" and policy["style-src"] == "style-src 'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'" and policy["base-uri"] == "base-uri 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # development: no TLS


def test_signed_in_pages_are_not_cached(client, login_as):
    login_as("officer")
    assert client.get("/account/sessions").headers["Cache-Control"] == "no-store"


def test_production_adds_hsts(fresh_database_url, tmp_path):
    totp_keys.generate_key_file(tmp_path / "second_factor.key")  # production refuses to start without it
    app = create_app({**make_test_config(fresh_database_url(), tmp_path), "PRODUCTION": True,
                      "SECRET_KEY": "0123456789abcdef" * 4, "ALLOW_SQLITE_IN_PRODUCTION": True})
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    with app.app_context():
        db.engine.dispose()


def test_no_template_has_inline_script_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []


def test_rendered_pages_have_no_inline_script_or_style(client, login_as):
    login_as("admin")
    for path in ("/states/", "/admin/users", "/admin/security", "/account/two-factor", "/account/sessions",
                 "/exercises/", "/visits/", "/audit/"):
        html = client.get(path).get_data(as_text=True)
        for pattern, what in INLINE:
            assert not pattern.search(html), f"{path}: {what}"


# --- X-Request-ID --------------------------------------------------------------------------------------------------


def test_each_response_has_its_own_request_id(client):
    first, second = client.get("/login"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_request_id_from_the_client_is_not_trusted_without_a_proxy(client):
    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client-123"})
    assert response.headers["X-Request-ID"] != "chosen-by-the-client-123"


@pytest.mark.parametrize(("incoming", "kept"), [
    ("proxy-id-0123456789", True),
    ("abc", False),  # too short
    ("bad id with spaces in it", False),  # log lines stay one token per id
    ("<script>alert(1)</script>", False),
    ("x" * 65, False),
])
def test_a_trusted_proxys_request_id_is_kept_when_it_is_a_plain_token(fresh_database_url, tmp_path, incoming, kept):
    app = create_app({**make_test_config(fresh_database_url(), tmp_path), "TRUSTED_PROXY_HOPS": 1})
    response = app.test_client().get("/healthz", headers={"X-Request-ID": incoming})
    assert (response.headers["X-Request-ID"] == incoming) is kept
    assert "\n" not in response.headers["X-Request-ID"]
    with app.app_context():
        db.engine.dispose()


def test_log_lines_name_the_request_id(fresh_database_url, tmp_path, caplog):
    app = create_app(make_test_config(fresh_database_url(), tmp_path))

    @app.get("/_log")
    def log_something():
        app.logger.warning("something worth knowing")
        return "ok"

    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        response = app.test_client().get("/_log")
    [record] = [r for r in caplog.records if r.getMessage() == "something worth knowing"]
    assert record.request_id == response.headers["X-Request-ID"]
    with app.app_context():
        db.engine.dispose()


def test_trace_is_not_supported(client):
    assert client.open("/login", method="TRACE").status_code == 405


def test_html_responses_name_their_charset(client):
    assert client.get("/login").headers["Content-Type"] == "text/html; charset=utf-8"


def test_an_error_page_shows_no_internals(fresh_database_url, tmp_path):
    app = create_app(make_test_config(fresh_database_url(), tmp_path))
    app.config["TESTING"] = False  # let the 500 handler answer instead of raising into the test

    @app.get("/_boom")
    def boom():
        raise RuntimeError("secret detail: postgresql://user:pw@db/registry")

    response = app.test_client().get("/_boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret detail" not in html and "Traceback" not in html and "RuntimeError" not in html
    assert response.headers["X-Request-ID"] in html  # the reference the user can quote
    with app.app_context():
        db.engine.dispose()
