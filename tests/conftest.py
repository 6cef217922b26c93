"""Shared fixtures: an app on a real database (SQLite file by default, PostgreSQL with
RJ_TEST_DATABASE=postgresql), cleaned between tests, and helpers to sign in as each role."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import delete, text

from rj import create_app
from rj.core.permissions import Role
from rj.extensions import db as _db

PG_ADMIN_URL = os.environ.get("RJ_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One database per test run, created here and dropped at the end, so runs never collide."""
    if os.environ.get("RJ_TEST_DATABASE", "sqlite").startswith("postgres"):
        name = f"rj_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        yield f"{base}/{name}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'rj-test.sqlite'}"


@pytest.fixture(scope="session")
def base_config(database_url):
    return {
        "ENV_NAME": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
        "BASE_URL": "http://localhost",
    }


_created_tables = {"n": 0}


@pytest.fixture(scope="session")
def _schema(base_config):
    from flask_migrate import stamp

    app = create_app(base_config)
    with app.app_context():
        # Built from the models for speed; tests/core/test_migrations.py checks the migrations agree.
        _db.create_all()
        _created_tables["n"] = len(_db.metadata.tables)
        stamp()
    yield
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def app(base_config, _schema, request):
    overrides = dict(base_config)
    marker = request.node.get_closest_marker("config")
    if marker:
        overrides.update(marker.kwargs)
    app = create_app(overrides)
    with app.app_context():
        if len(_db.metadata.tables) != _created_tables["n"]:
            _db.create_all()  # a model imported late (e.g. by a test module) gets its table
            _created_tables["n"] = len(_db.metadata.tables)
        yield app
        _db.session.rollback()
        _clean(app)
        _db.session.remove()
        _db.engine.dispose()


def _clean(app) -> None:
    """Empty every table so each test starts from nothing (rows committed by views included)."""
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
            if names:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(delete(table))


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(db):
    """Create a user of a role, with a known password."""
    from rj.auth.services import create_user

    counter = {"n": 0}

    def make(role: Role | str = Role.COORDINATOR, *, email: str | None = None, name: str | None = None,
             password: str = "correct horse battery", active: bool = True):
        role = Role(role)
        counter["n"] += 1
        user = create_user(email=email or f"{role.value}{counter['n']}@rj-test.org.uk", name=name or f"Test {role.label} {counter['n']}",
                           role=role, password=password)
        user.active = active
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Sign a test client in through the real sign-in form."""

    def do(user, password: str = "correct horse battery", c=None):
        c = c or client
        response = c.post("/sign-in", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c

    return do


@pytest.fixture
def as_role(make_user, login, client):
    """A client signed in as a fresh user of the given role: as_role('manager')."""

    def do(role):
        user = make_user(role)
        login(user)
        return client, user

    return do
