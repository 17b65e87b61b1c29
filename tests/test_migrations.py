"""Migrations: upgrading an empty database reproduces the models exactly, and downgrades."""

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from models import FTS_TABLES, db, made_by_sql
from tests.conftest import BACKEND, PG_URL, missing


def include_object(obj, name, type_, reflected, compare_to):
    """The full-text search's tables, column and index are made by SQL, not from the models."""
    return not made_by_sql(obj, name, type_, reflected, compare_to)


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


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's stored French vector")
def test_the_stored_search_vector_covers_the_resources_already_there(empty_database_url):
    """Migration 5b1e0c7a9d24 stores each resource's French vector in place of an index on
    the expression: resources deposited before it are found by it, and going back restores the
    expression's index."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    indexes = text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'resource' "
        "AND indexname LIKE 'ix_resource_search%'"
    )
    with app.app_context():
        upgrade(revision="d23e467ed402")
        with db.engine.begin() as conn:
            author = conn.execute(
                text(
                    "INSERT INTO person (email, display_name, password_hash, auth_version, "
                    "is_animation, is_finance, is_admin, is_network, created_at) VALUES "
                    "('elue@example.org', 'Élue', 'x', 1, false, false, false, false, now()) "
                    "RETURNING id"
                )
            ).scalar()
            conn.execute(
                text(
                    "INSERT INTO resource (author_id, kind, title, summary, body, council, "
                    "reuse_count, search_text, created_at, updated_at) VALUES (:author, "
                    "'voeu', 'Cantines', '', '', '', 0, 'Des cantines bio en régie', now(), "
                    "now())"
                ),
                {"author": author},
            )
        upgrade()
        search = text(
            "SELECT title FROM resource "
            "WHERE search_vector @@ plainto_tsquery('french'::regconfig, 'cantine')"
        )
        with db.engine.connect() as conn:
            assert conn.execute(search).scalars().all() == ["Cantines"]
            assert conn.execute(indexes).scalars().all() == ["ix_resource_search_vector"]
        downgrade(revision="d23e467ed402")
        with db.engine.connect() as conn:
            assert conn.execute(indexes).scalars().all() == ["ix_resource_search_fr"]
            columns = {c["name"] for c in inspect(conn).get_columns("resource")}
            assert "search_vector" not in columns
        db.engine.dispose()
