"""The app as a multi-worker server sees it, for the double-booking race test (CSRF off, test database)."""
import os

from rj import create_app

app = create_app({
    "ENV_NAME": "test",
    "SECRET_KEY": "test-secret",
    "SQLALCHEMY_DATABASE_URI": os.environ["RJ_RACE_DATABASE_URL"],
    "WTF_CSRF_ENABLED": False,
    "SESSION_COOKIE_SECURE": False,
    "RATELIMIT_ENABLED": False,
})
