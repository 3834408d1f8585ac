"""Configuration precedence: defaults, instance/config.py, environment, test config."""

import pytest

from tests.factories import signed_in_client
from webapp import create_app
from webapp.config import from_environment
from webapp.extensions import db


@pytest.fixture
def instance(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    monkeypatch.setenv("TOKER_INSTANCE_PATH", str(folder))
    for name in ("DATABASE_URL", "TOKER_MIN_LIKES", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return folder


def test_defaults_put_sqlite_in_the_instance_folder(instance):
    app = create_app()
    assert instance.is_dir()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'toker.sqlite'}"
    assert app.config["TOKER_MIN_LIKES"] == 100


def test_instance_config_overrides_defaults(instance):
    instance.mkdir()
    (instance / "config.py").write_text("TOKER_MIN_LIKES = 250\nSECRET_KEY = 'from-file'\n")
    app = create_app()
    assert app.config["TOKER_MIN_LIKES"] == 250
    assert app.config["SECRET_KEY"] == "from-file"


def test_environment_overrides_instance_config(instance, monkeypatch):
    instance.mkdir()
    (instance / "config.py").write_text("TOKER_MIN_LIKES = 250\n")
    monkeypatch.setenv("TOKER_MIN_LIKES", "300")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/toker")
    app = create_app()
    assert app.config["TOKER_MIN_LIKES"] == 300
    assert app.config["SECRET_KEY"] == "from-env"
    # Plain postgresql:// URLs are pointed at the psycopg 3 driver.
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/toker"


def test_test_config_overrides_everything(instance, monkeypatch):
    monkeypatch.setenv("TOKER_MIN_LIKES", "300")
    app = create_app({"TOKER_MIN_LIKES": 7})
    assert app.config["TOKER_MIN_LIKES"] == 7


def test_minimum_likes_from_config_is_applied(instance, tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}", "TOKER_MIN_LIKES": 7000}
    )
    from webapp.extensions import db

    with app.app_context():
        db.create_all()
    response = signed_in_client(app).post(
        "/api/v1/connect", json={"platform": "tiktok", "user_id": "config-check"}
    )
    assert response.status_code == 422
    assert "at least 7000" in response.get_json()["detail"]


def test_a_malformed_environment_value_is_a_clear_error():
    with pytest.raises(RuntimeError, match="TOKER_MIN_LIKES='many' is not a valid int"):
        from_environment({"TOKER_MIN_LIKES": "many"})


def test_without_a_secret_key_one_is_made_once_and_kept_private(instance):
    first = create_app()
    key_file = instance / "secret_key"
    assert key_file.is_file()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    key = first.config["SECRET_KEY"]
    assert len(key) == 64 and key != "dev"
    # Every worker and every restart signs sessions with the same key.
    assert create_app().config["SECRET_KEY"] == key
    assert key_file.read_text().strip() == key


def test_a_configured_secret_key_is_used_and_no_file_is_made(instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app().config["SECRET_KEY"] == "from-the-environment"
    assert not (instance / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TOKER_CONNECTOR_FAULTS", "timeout,explode", "unknown connector fault 'explode'"),
        ("TOKER_ENV", "staging", "use production or development"),
    ],
)
def test_bad_settings_stop_the_start_with_a_clear_message(
    instance, monkeypatch, name, value, message
):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=rf"{name}.*{message}"):
        create_app()


def test_the_pool_holds_a_connection_per_request_thread(instance, monkeypatch):
    """Fewer pooled connections than request threads would make every request beyond them
    open a connection (on PostgreSQL, a server process) and close it again."""
    from webapp.extensions import db

    monkeypatch.setenv("TOKER_THREADS", "12")
    with create_app().app_context():
        assert db.engine.pool.size() == 14  # the threads, the warm-up and a spare
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with create_app().app_context():  # the engine connects only when first used
        assert db.engine.pool.size() == 14
    monkeypatch.setenv("TOKER_DB_POOL_SIZE", "3")
    with create_app().app_context():
        assert db.engine.pool.size() == 3


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/v1/profiles"), ("POST", "/api/v1/connect")]
)
def test_on_postgresql_a_get_reads_in_autocommit_and_a_write_in_a_transaction(app, method, path):
    """A GET's statements skip the BEGIN and ROLLBACK round trips on PostgreSQL; anything
    else, and every request on SQLite (whose read snapshot spans the request), keeps its
    transaction."""
    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    with app.test_request_context(path, method=method):
        app.preprocess_request()  # the hooks before the view (the gate answers 401 here)
        level = db.session.connection().get_execution_options().get("isolation_level")
        db.session.remove()
    assert level == ("AUTOCOMMIT" if postgres and method == "GET" else None)
