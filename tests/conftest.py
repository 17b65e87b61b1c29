"""Fixtures: app, client, runner, auth, hx; the whole suite runs on SQLite or PostgreSQL.

COMMUN_TEST_BACKEND=postgresql runs it against TEST_DATABASE_URL. COMMUN_REQUIRE_ALL=1 (set
by .ci/run) turns "PostgreSQL or the browser is missing" from a skip into a failure.
"""

import contextvars
import os

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from models import db
from tests import factories

BACKEND = os.environ.get("COMMUN_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REQUIRE_ALL = os.environ.get("COMMUN_REQUIRE_ALL") == "1"


def missing(reason: str):
    """Skip locally; fail in CI, where everything the suite needs must be present."""
    if REQUIRE_ALL:
        pytest.fail(f"required for the full suite: {reason}", pytrace=False)
    pytest.skip(reason)


def database_uri(tmp_path) -> str:
    if BACKEND == "postgresql":
        if not PG_URL:
            missing("COMMUN_TEST_BACKEND=postgresql needs TEST_DATABASE_URL")
        return PG_URL
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


_pg_schema_ready = False


def _reset_schema(app) -> None:
    global _pg_schema_ready
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            if not _pg_schema_ready:
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
                db.create_all()
                _pg_schema_ready = True
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            db.create_all()


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as in production: a fresh `g` and session.

    Without it the request would reuse the test's pushed app context, sharing the signed-in
    person cached in `g` and the test's database session between requests and clients. The
    test's own transaction is ended first, so that its next reads see what the request wrote.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "tests",
        "SQLALCHEMY_DATABASE_URI": database_uri(tmp_path),
        "WTF_CSRF_ENABLED": False,
        "UPLOADS_PATH": str(tmp_path / "uploads"),
        "POLL_INTERVAL_SECONDS": 1,
        # Polls read the database directly; tests/test_live.py covers the shared snapshot.
        "LIVE_SNAPSHOT_SECONDS": 0,
        # The round's charts follow every change (tests/test_transparency.py covers the delay).
        "ROUND_CHART_SECONDS": 0,
        "SIGN_IN_MAX_FAILURES": 5,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    _reset_schema(app)
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def csrf_app(tmp_path):
    """The app with CSRF protection on, as in production."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, who, password: str = factories.PASSWORD):
        email = who if isinstance(who, str) else who.email
        response = self._client.post("/connexion", data={"email": email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self._client.post("/deconnexion")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def hx():
    """Headers of an htmx request."""
    return {"HX-Request": "true"}
