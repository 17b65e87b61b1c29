"""Migrations: upgrading an empty database reproduces the models exactly, and downgrades."""

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from models import FTS_TABLES, db
from tests.conftest import BACKEND, PG_URL, missing


def include_object(obj, name, type_, reflected, compare_to):
    """SQLite's full-text index of resources is made by SQL, not from the models."""
    # Nor is PostgreSQL's French-stemming index, on an expression Alembic does not compare.
    return not (
        (type_ == "table" and name in FTS_TABLES)
        or (type_ == "index" and name == "ix_resource_search_fr")
    )


@pytest.fixture
def empty_database_url(tmp_path):
    """An empty database of the backend under test, apart from the one the suite uses."""
    if BACKEND != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    if not PG_URL:
        missing("COMMUN_TEST_BACKEND=postgresql needs TEST_DATABASE_URL")
    url = make_url(PG_URL)
    name = f"{url.database}_migrations"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_from_empty_reproduces_the_models(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        db.engine.dispose()


def test_downgrade_to_base_removes_every_table(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
            if db.engine.dialect.name == "sqlite":
                assert not tables & FTS_TABLES
            assert tables == set()
            if db.engine.dialect.name == "postgresql":
                assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 0
        db.engine.dispose()
