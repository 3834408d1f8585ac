"""Which queue the settings name: SQLite in the instance folder by default, Redis, another
SQLite file; anything else stops the app at start."""

import pytest

from webapp import create_app
from webapp.services.jobs import queue


@pytest.mark.parametrize(
    "url, described",
    [
        ("", "SQLite file {instance}/queue.sqlite"),
        ("sqlite:////srv/toker/queue.db", "SQLite file /srv/toker/queue.db"),
        ("redis://:secret@cache:6379/2", "Redis at redis://:***@cache:6379/2"),
        ("memory://", "memory (this process only)"),
    ],
)
def test_the_queue_is_where_the_settings_say(tmp_path, monkeypatch, url, described):
    monkeypatch.setenv("TOKER_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "TOKER_QUEUE_URL": url}
    )

    with app.app_context():
        assert queue.current().describe() == described.format(instance=tmp_path)
    assert not (tmp_path / "queue.sqlite").exists(), "nothing is opened before the first job"


@pytest.mark.parametrize("url", ["postgresql://db/toker", "sqlite://", "amqp://broker"])
def test_a_queue_url_toker_cannot_use_stops_the_app_at_start(url):
    with pytest.raises(RuntimeError, match="TOKER_QUEUE_URL"):
        create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "TOKER_QUEUE_URL": url}
        )


def test_a_lease_of_no_time_stops_the_app_at_start():
    with pytest.raises(RuntimeError, match="TOKER_JOB_LEASE"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "TOKER_JOB_LEASE": 0})
