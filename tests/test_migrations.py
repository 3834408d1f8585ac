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


def test_the_change_feed_starts_at_the_current_version_of_existing_data(database_url):
    """Profiles stored before the feed existed have no changes in it: the feed's floor is the
    version they reached, so state built from before the upgrade is rebuilt, not patched."""
    from webapp.services import changes, similarity, versions

    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0003")
        db.session.execute(text("INSERT INTO data_versions (name, version) VALUES ('profiles', 7)"))
        db.session.commit()
        flask_migrate.upgrade()
        assert versions.current(db.session, changes.FLOOR) == 7
        assert changes.changed_since(db.session, 6, 7) is None  # older state: rebuild
        assert changes.changed_since(db.session, 7, 7) == set()
        similarity.current_matrix()  # builds, then patches as writes come
        db.session.remove()
        db.engine.dispose()
