"""The committed migrations build exactly the schema the models describe."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from webapp import create_app
from webapp.extensions import db


def _fresh_app(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    if database_url.startswith("postgresql"):
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    return app


def test_upgrade_builds_the_models_schema(database_url):
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        db.engine.dispose()


def test_downgrade_then_upgrade_again(database_url):
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"profiles", "videos", "profile_videos", "profile_interests"} <= tables
        db.engine.dispose()
