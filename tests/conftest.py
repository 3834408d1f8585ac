"""Shared fixtures: a fresh database per test, signed-in test clients and the CLI runner.

Tests run on a SQLite file of their own. With TOKER_TEST_DATABASE_URL pointing at PostgreSQL,
the same tests run there instead, each on freshly created tables.

The mock platforms answer for the app clock's day, so the suite runs as of one fixed day
(TOKER_CLOCK, unless the environment sets another): every account they make, and every figure
drawn from those accounts, is the same on every run, whatever the date.

`client` is signed in as an admin and sends its CSRF token with every unsafe request, the way
the pages and htmx do; `anonymous` is signed in as nobody; `client_as(role)` signs in a new
user with that role; `auth_headers` carry an admin's API token.
"""

import os

import pytest
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import db
from webapp.services.ingestion import onboarding

from .factories import (
    PASSWORD,
    SignedInClient,
    app_config,
    build_app,
    make_payload,
    make_token,
    make_user,
    sign_in,
)

TEST_DATABASE_URL = os.environ.get("TOKER_TEST_DATABASE_URL", "")
os.environ.setdefault("TOKER_CLOCK", "2026-12-07")


def _reset_postgres() -> None:
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch):
    """Platform retries do not really wait in tests (tests that check the waits record them)."""
    monkeypatch.setattr(onboarding, "sleep", lambda seconds: None)


@pytest.fixture
def database_url(tmp_path) -> str:
    """Where this test's database lives."""
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path / 'toker.sqlite'}"


@pytest.fixture
def app(database_url, tmp_path):
    """An app on a fresh, empty database with the schema created."""
    app = create_app(app_config(database_url))
    with app.app_context():
        if database_url.startswith("postgresql"):
            _reset_postgres()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if database_url.startswith("postgresql"):
            _reset_postgres()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def make_app(database_url):
    """Build further apps with extra settings on this test's database."""
    made = []

    def build(**config):
        app = build_app(database_url, **config)
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def anonymous(app):
    """A test client that has not signed in."""
    app.test_client_class = SignedInClient
    return app.test_client()


@pytest.fixture
def client_as(app):
    """Make a client signed in as a new user of the given role."""
    app.test_client_class = SignedInClient

    def make(role: str, name: str | None = None):
        name = name or f"{role}-user"
        make_user(app, name, role)
        return sign_in(app.test_client(), name, PASSWORD)

    return make


@pytest.fixture
def client(client_as):
    """A test client signed in as an admin (every action allowed), with its CSRF token."""
    return client_as("admin", "admin")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def payload():
    """A valid payload (seed 000's sample, comma fixed)."""
    return make_payload()


@pytest.fixture
def auth_headers(app) -> dict:
    """Headers that authenticate an API call as an admin (a bearer token)."""
    make_user(app, "api-admin", "admin")
    return {"Authorization": f"Bearer {make_token(app, 'api-admin')}"}
