"""Schema changes go through Alembic only: head builds the same schema as the models."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from rj import create_app
from rj.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    if os.environ.get("RJ_TEST_DATABASE", "sqlite").startswith("postgres"):
        from tests.conftest import PG_ADMIN_URL, _pg_admin

        name = f"rj_migr_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"


def test_upgrading_an_empty_database_to_head_matches_the_models(empty_database_url):
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            diff = compare_metadata(ctx, db.metadata)
        db.engine.dispose()
    summary = [(d[0], getattr(d[1], "name", d[1])) if isinstance(d, tuple) else d for d in diff]
    assert diff == [], f"models and migrations disagree: {summary}"


def test_every_migration_downgrades_to_empty(empty_database_url):
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        engine.dispose()
        db.engine.dispose()
    assert tables == set()
