"""Toker: onboard social media accounts, vectorise their interests, explore the profiles."""

import functools
import logging
import os
import sqlite3
import time

import orjson
from flask import Flask, request
from sqlalchemy import event, exc, make_url

from . import security
from .assets import check_local_copies
from .config import default_config, from_environment, instance_secret_key, request_threads
from .extensions import db, migrate
from .jsonprovider import OrjsonProvider

__version__ = "0.1.0"

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
log = logging.getLogger(__name__)


def warm_up(app: Flask) -> None:
    """Build the app's live state now (a served worker calls it at start, in a thread): the
    look-alike matrix, the default map's fit, what rose lately on the overview, and the
    platform connectors' own start-up work (the mock platforms build their catalogues), so no
    first request pays for them."""
    from .services.analytics import overview, population_map, similarity
    from .services.ingestion.connectors import get_connector
    from .services.ingestion.platforms import PLATFORMS

    try:
        with app.app_context():
            similarity.current_matrix()
            population_map.population_map()
            overview.rising_cache.get()
            db.session.remove()
        for platform in PLATFORMS:
            get_connector(platform).warm_up()
    except Exception:  # the first request builds it instead, and reports what is wrong
        log.exception("warming up the live state failed")


def create_app(config: dict | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then the environment, then `config`.

    The instance folder is `instance/` beside the package, or TOKER_INSTANCE_PATH.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("TOKER_INSTANCE_PATH") or None,
    )
    app.json = OrjsonProvider(app)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(default_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    check_settings(app)
    app.config["TOKER_VERSION"] = __version__

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    if not app.testing:
        check_local_copies()
    return app


def check_settings(app: Flask) -> None:
    """Refuse to start on settings that would only fail later, at the first request."""
    from .services import clock
    from .services.ingestion.connectors.mock import parse_faults
    from .services.jobs import pace, queue, resync_stale

    try:
        parse_faults(app.config.get("TOKER_CONNECTOR_FAULTS") or "")
    except ValueError as error:
        raise RuntimeError(f"TOKER_CONNECTOR_FAULTS: {error}") from None
    if app.config.get("TOKER_CLOCK"):
        try:
            clock.parse(app.config["TOKER_CLOCK"])
        except ValueError as error:
            raise RuntimeError(f"TOKER_CLOCK: {error}") from None
    try:
        queue.backend(app.config["TOKER_QUEUE_URL"])
    except ValueError as error:
        raise RuntimeError(f"TOKER_QUEUE_URL: {error}") from None
    if app.config["TOKER_JOB_LEASE"] <= 0:
        raise RuntimeError("TOKER_JOB_LEASE must be more than 0 seconds")
    try:
        pace.check_settings(app.config)
        resync_stale.check_settings(app.config)
    except ValueError as error:
        raise RuntimeError(str(error)) from None
    if app.config["TOKER_ENV"] not in ("production", "development"):
        raise RuntimeError(f"TOKER_ENV={app.config['TOKER_ENV']!r}: use production or development")


def _json_dumps(value) -> str:
    return orjson.dumps(value).decode("utf-8")


def _sqlite_pragmas(
    dbapi_connection,
    _record,
    foreign_keys: bool = True,
    wal_autocheckpoint: int = 1000,
    busy_timeout_ms: int = 30_000,
    cache_mb: int = 8,
) -> None:
    """WAL so readers never block the writer; a busy timeout so writers queue, not fail."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    # Each connection's private page cache; the operating system's file cache, shared by every
    # worker, holds the rest of the database.
    cursor.execute(f"PRAGMA cache_size=-{int(cache_mb) * 1024}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={int(wal_autocheckpoint)}")
    cursor.close()
    # SQLite's own lower() folds only A-Z; searches compare lower-cased text, so "ÑANDÚ" must
    # fold to "ñandú" as it does on PostgreSQL.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations and the jobs' task queue to the app."""
    from .services.jobs import queue

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # orjson writes the JSON columns (raw payloads, video tags) several times faster.
    options.setdefault("json_serializer", _json_dumps)
    options.setdefault("json_deserializer", orjson.loads)
    if uri.startswith("sqlite"):
        busy_timeout = app.config["TOKER_SQLITE_BUSY_TIMEOUT_MS"] / 1000
        options.setdefault("connect_args", {}).setdefault("timeout", busy_timeout)
    pool_size = app.config["TOKER_DB_POOL_SIZE"]
    if pool_size is None:
        pool_size = request_threads() + 2
    if make_url(uri).database not in (None, "", ":memory:"):
        options.setdefault("pool_size", pool_size)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    from .models import include_name

    # The text search's tables and indexes are made by hand (models.SEARCH_SCHEMA):
    # autogenerate must neither drop nor describe them.
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True, include_name=include_name)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                pragmas = functools.partial(
                    _sqlite_pragmas,
                    foreign_keys=app.config["TOKER_SQLITE_FOREIGN_KEYS"],
                    wal_autocheckpoint=app.config["TOKER_SQLITE_WAL_AUTOCHECKPOINT"],
                    busy_timeout_ms=app.config["TOKER_SQLITE_BUSY_TIMEOUT_MS"],
                    cache_mb=app.config["TOKER_SQLITE_CACHE_MB"],
                )
                event.listen(engine, "connect", pragmas)
            elif not options.get("pool_pre_ping"):
                _ping_when_idle(engine, app.config["TOKER_DB_PING_AFTER"])
        if db.engine.dialect.name == "postgresql":
            app.before_request(_reads_in_autocommit)  # before the sign-in gate's read
    security.init_app(app)
    queue.init_app(app)


SAFE_METHODS = frozenset({"GET", "HEAD"})
STATIC_ENDPOINTS = frozenset({"static", "assets.local_asset"})


def _reads_in_autocommit() -> None:
    """On PostgreSQL, run a GET's statements in autocommit. Under READ COMMITTED each
    statement sees its own snapshot anyway, so nothing changes for the answer; what goes is the
    BEGIN before the first statement and the ROLLBACK when the connection goes back to the
    pool, two round trips of the four or five a read request makes. (The few writes a GET
    makes, a token's last use or an export's audit event, are single statements.)"""
    if request.method in SAFE_METHODS and request.endpoint not in STATIC_ENDPOINTS:
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _ping_when_idle(engine, idle_seconds: float) -> None:
    """Check a pooled server connection with a round trip before it is used, when it has been
    idle `idle_seconds` or more: a database restart or an idle timeout may have dropped it.
    A failed check makes the pool open a fresh connection instead. (SQLAlchemy's pre_ping
    checks on every checkout: a round trip more for every request.)"""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            # The driver opened a transaction for the check: end it, or the request that takes
            # the connection could not switch it to autocommit (_reads_in_autocommit).
            dbapi_connection.rollback()
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection was dropped: {error}") from error


def register_blueprints(app: Flask) -> None:
    """Mount the JSON API and the pages."""
    from .api import bp as api_bp
    from .api.routes import health_bp
    from .assets import bp as assets_bp
    from .views import bp as pages_bp
    from .views.admin import bp as admin_bp
    from .views.auth import bp as auth_bp
    from .views.connect import bp as connect_bp
    from .views.jobs import bp as jobs_bp
    from .views.lists import bp as lists_bp
    from .views.saved_views import bp as views_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(assets_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(connect_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(lists_bp)
    app.register_blueprint(views_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)


def register_errorhandlers(app: Flask) -> None:
    """Answer errors as problem+json for the API, as HTML for pages."""
    from .errors import register

    register(app)


def register_commands(app: Flask) -> None:
    """Attach the toker commands to the app's CLI."""
    from .cli import register

    register(app)
