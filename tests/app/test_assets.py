"""The app says clearly at start-up when a library's local copy is missing."""

import logging

from webapp import assets, create_app


def test_a_missing_htmx_copy_is_reported_at_start_up(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(assets, "htmx_path", lambda: str(tmp_path / "absent" / "htmx.min.js"))
    with caplog.at_level(logging.WARNING, logger="webapp.assets"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.sqlite'}"})
    messages = [r.getMessage() for r in caplog.records if r.name == "webapp.assets"]
    assert len(messages) == 1
    assert "htmx's local copy is missing" in messages[0]
    assert "scripts/fetch-assets" in messages[0]


def test_nothing_is_reported_when_both_copies_exist(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="webapp.assets"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.sqlite'}"})
    assert [r for r in caplog.records if r.name == "webapp.assets"] == []


def test_a_missing_local_copy_is_a_404_not_a_crash(client, monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "htmx_path", lambda: str(tmp_path / "absent.js"))
    assert client.get("/assets/htmx.min.js").status_code == 404
