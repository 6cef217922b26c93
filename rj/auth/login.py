"""Wires Flask-Login to server-side sessions (see auth.services.load_session_user)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, redirect, request, url_for


def init_login(app: Flask, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see this page"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(token: str):
        from rj.auth.services import load_session_user
        from rj.extensions import db

        user = load_session_user(token, idle_minutes=app.config["SESSION_IDLE_MINUTES"])
        if db.session.dirty:
            db.session.commit()
        return user

    @login_manager.unauthorized_handler
    def _unauthorized():
        return redirect(url_for("auth.login", next=safe_next(request.full_path)))


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths may be a post-login destination."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target.rstrip("?") or None
