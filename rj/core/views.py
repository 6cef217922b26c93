"""Service-wide pages: the signed-in home page and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from rj.core.permissions import public
from rj.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
@public
def home():
    """Signed-in people land on their role's home page; everyone else sees the front page."""
    if current_user.is_authenticated:
        from rj.core.home import home_endpoint_for

        endpoint = home_endpoint_for(current_user)
        if endpoint:
            return redirect(url_for(endpoint))
    return render_template("core/index.html", public_page=True)


@bp.get("/health")
@public
def health():
    """Liveness and readiness, without personal data."""
    from rj import __version__

    body = {"version": __version__, "database": "ok", "migrations": "ok"}
    status = 200
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - reported, not raised
        db.session.rollback()
        body["database"] = "unreachable"
        status = 503
    if status == 200:
        current, head = migration_state()
        body["migration_current"] = current
        body["migration_head"] = head
        if current != head:
            body["migrations"] = "pending"
            status = 503
    for contributor in current_app.extensions.get("rj_health", []):
        body.update(contributor())
    return jsonify(body), status


def migration_state() -> tuple[str | None, str | None]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate  # noqa: F401 - ensures extension is configured

    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    conn = db.session.connection()
    current = MigrationContext.configure(conn).get_current_revision()
    return current, head
