"""Shared fixtures: a fresh database per test, the test client and the CLI runner.

Tests run on a SQLite file of their own. With TOKER_TEST_DATABASE_URL pointing at PostgreSQL,
the same tests run there instead, each on freshly created tables.
"""

import os

import pytest
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import db

from .factories import make_payload

TEST_DATABASE_URL = os.environ.get("TOKER_TEST_DATABASE_URL", "")


def _reset_postgres() -> None:
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def database_url(tmp_path) -> str:
    """Where this test's database lives."""
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path / 'toker.sqlite'}"


@pytest.fixture
def app(database_url, tmp_path):
    """An app on a fresh, empty database with the schema created."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TOKER_MIN_LIKES": 100,
        }
    )
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
def client(app):
    return app.test_client()


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
    return {}
