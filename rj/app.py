"""The application factory: register extensions, blueprints, error pages and commands. No side effects."""
from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import secrets
from datetime import timedelta

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from rj.config import ROOT, load_config
from rj.extensions import csrf, db, limiter, login_manager, migrate

# Feature packages, in dependency order. Each may have models.py, views.py (with `bp`),
# seed.py (with `seed_demo(ctx)`) and cli.py (with `register(app)`).
DOMAINS = [
    "core", "audit", "auth", "referrals", "cases", "consent", "facilitators", "scheduling",
    "rostering", "notifications", "jobs", "agreements", "reports",
]


def _domain_module(domain: str, name: str):
    full = f"rj.{domain}.{name}"
    if importlib.util.find_spec(full) is None:
        return None
    return importlib.import_module(full)


def import_models() -> None:
    """Import every domain's models so metadata is complete (Alembic, create_all)."""
    for domain in DOMAINS:
        _domain_module(domain, "models")


def create_app(config: dict | None = None) -> Flask:
    cfg = load_config(config)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(cfg)
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])
    app.config["RATELIMIT_ENABLED"] = cfg.get("RATELIMIT_ENABLED", True)
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(ROOT / "templates")),
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    register_extensions(app)
    import_models()
    register_blueprints(app)
    register_request_hooks(app)
    register_error_pages(app)
    register_template_helpers(app)
    register_commands(app)
    configure_logging(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URI"]
    limiter.init_app(app)
    from govuk_frontend_wtf.main import WTFormsHelpers

    WTFormsHelpers(app)
    from rj.auth.login import init_login

    init_login(app, login_manager)


def register_blueprints(app: Flask) -> None:
    for domain in DOMAINS:
        views = _domain_module(domain, "views")
        if views is not None and hasattr(views, "bp"):
            app.register_blueprint(views.bp)


def register_commands(app: Flask) -> None:
    from rj import cli

    cli.register(app)
    for domain in DOMAINS:
        mod = _domain_module(domain, "cli")
        if mod is not None and hasattr(mod, "register"):
            mod.register(app)


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _per_request_state():
        g.csp_nonce = secrets.token_urlsafe(16)
        # A request reuses an app context already pushed (tests, CLI); never reuse its user.
        g.pop("_login_user", None)

    @app.after_request
    def _security_headers(response):
        nonce = getattr(g, "csp_nonce", "")
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # Links carry one-time tokens (consent, set-password): never leak them in a Referer.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not app.config["ENV_NAME"] == "development" or app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            # Signed-in pages and token pages must not be kept by a browser or proxy.
            response.headers["Cache-Control"] = "no-store"
        elif request.endpoint == "static":
            response.headers.setdefault("Cache-Control", "public, max-age=3600")
        return response

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()


def register_error_pages(app: Flask) -> None:
    messages = {
        400: ("There is a problem with your request", "Go back, refresh the page and try again."),
        403: ("You do not have permission to see this page", "If you think you should, ask your coordinator or manager."),
        404: ("Page not found", "If you typed the web address, check it is correct. If you followed a link, it may have expired."),
        405: ("There is a problem with your request", "Go back and try again."),
        429: ("Too many attempts", "You have tried this too many times. Wait a while and try again."),
        500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered has been shared."),
    }

    def render(code: int):
        title, body = messages[code]
        return render_template("errors/error.html", title=title, body=body, code=code), code

    for code in messages:
        app.register_error_handler(code, lambda e, code=code: render(code))

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return render_template(
            "errors/error.html", title="Your page expired",
            body="For your security, the form expired. Go back, refresh the page and submit it again.", code=400,
        ), 400


def register_template_helpers(app: Flask) -> None:
    from rj.core import template_helpers

    template_helpers.init_app(app)


def configure_logging(app: Flask) -> None:
    # Log ids and routes only: request bodies, query strings and form values are never logged.
    logging.getLogger("werkzeug").addFilter(_StripQueryString())


_TOKEN_SEGMENT = re.compile(r"/[A-Za-z0-9_-]{20,}")


class _StripQueryString(logging.Filter):
    """Access logs keep the route, not query strings or one-time tokens in the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_SEGMENT.sub("/[token]", a.split("?", 1)[0]) if isinstance(a, str) else a
                for a in record.args
            )
        return True
