"""Service-wide behaviour: health, headers, errors, and that every route declares who may use it."""
from __future__ import annotations

from rj import create_app


def test_health_reports_database_and_migration_state_without_personal_data(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] == "ok"
    assert "version" in body
    assert "migration_head" in body
    assert "@" not in response.get_data(as_text=True)


def test_every_response_carries_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_inline_script_carries_the_per_request_nonce(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in html


def test_error_pages_say_nothing_about_internals(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "Traceback" not in html


def test_the_public_pages_use_the_services_own_name_not_govuk_branding(client):
    html = client.get("/").get_data(as_text=True)
    assert "Stockport Restorative Justice" in html
    assert "govuk-header__logotype" not in html and "GOV.UK" not in html


def test_every_route_declares_its_permission(app):
    """Denied by default: a route without @require, @require_login or @public is a defect."""
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "required_perms", None):
            undeclared.append(rule.rule)
    assert undeclared == []


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    import pytest

    monkeypatch.delenv("RJ_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="RJ_SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None})
