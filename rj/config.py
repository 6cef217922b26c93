"""Configuration: defaults, then RJ_* environment variables, then the dict a test passes in."""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict = {
    "ENV_NAME": "development",  # development | production | test
    "SECRET_KEY": None,  # required outside development/test
    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{ROOT / 'instance' / 'rj.sqlite'}",
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SERVICE_NAME": "Stockport Restorative Justice",
    "SERVICE_MAILBOX": "rj-bookings@stockport.example",
    "BASE_URL": "http://127.0.0.1:5000",
    "TIMEZONE": "Europe/London",
    # Sessions: how long a signed-in session lives without activity.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
    "WTF_CSRF_TIME_LIMIT": None,  # the session itself expires; a long form must not lose its token
    # Rate limits. Storage is shared by all web workers: redis://... or memory:// for one process.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_REFERRAL": "10 per hour",
    "RATELIMIT_LOGIN": "20 per 10 minutes",
    "RATELIMIT_REFERRAL_STATUS": "5 per 15 minutes",
    "RATELIMIT_PUBLIC_LINKS": "60 per 10 minutes",  # pages opened from emailed links (find a time)
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "SET_PASSWORD_TOKEN_HOURS": 72,
    # Mail (used by the worker)
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 1025,
    "SMTP_USE_TLS": False,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "MAIL_BACKEND": "console",  # console | smtp
    "SMTP_TIMEOUT_SECONDS": 30,
    "OUTBOX_MAX_ATTEMPTS": 8,       # then the message is marked failed and shown on /outbox
    "OUTBOX_BACKOFF_SECONDS": 60,   # first retry delay; doubles each attempt, at most 6 hours
    "OUTBOX_LEASE_MINUTES": 10,     # a message 'sending' longer than this belonged to a dead worker
    "DBS_RENEWAL_YEARS": 3,
    "TRAVEL_GAP_MINUTES": 30,
    "REMINDER_OFFSETS_MINUTES": [2 * 24 * 60, 120],
    "OFFER_RESPONSE_HOURS": 48,
    "AUTO_ROSTER_SECONDS": 10,  # CP-SAT time limit for the monthly auto-roster; greedy plan if it finds nothing better
}

ENV_PREFIX = "RJ_"


def _coerce(raw: str, default):
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, (list, dict)):
        return json.loads(raw)
    return raw


def load_config(overrides: dict | None = None) -> dict:
    """Build the config: defaults < environment < overrides."""
    cfg = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = os.environ.get(ENV_PREFIX + key)
        if raw is not None:
            cfg[key] = _coerce(raw, default)
    url = os.environ.get("RJ_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        cfg["SQLALCHEMY_DATABASE_URI"] = url
    cfg.update(overrides or {})
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["ENV_NAME"] in {"development", "test"}:
        cfg["SECRET_KEY"] = cfg["SECRET_KEY"] or "dev-only-not-secret"
        if cfg["ENV_NAME"] == "development" and "SESSION_COOKIE_SECURE" not in (overrides or {}):
            cfg["SESSION_COOKIE_SECURE"] = bool(os.environ.get("RJ_SESSION_COOKIE_SECURE"))
    elif not cfg["SECRET_KEY"]:
        raise RuntimeError("RJ_SECRET_KEY must be set outside development")
    return cfg


def normalise_db_url(url: str) -> str:
    """postgres:// and postgresql:// use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
