"""Configuration defaults and the environment variables that override them."""

import os
import secrets

ENV_SETTINGS = {
    # environment variable: (config key, converter)
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "TOKER_MIN_LIKES": ("TOKER_MIN_LIKES", int),
    "TOKER_MAX_BODY_BYTES": ("MAX_CONTENT_LENGTH", int),
    "TOKER_CONNECTOR_LATENCY": ("TOKER_CONNECTOR_LATENCY", float),
    "TOKER_CONNECTOR_FAULT_RATE": ("TOKER_CONNECTOR_FAULT_RATE", float),
    "TOKER_ASSETS": ("TOKER_ASSETS", str),
    "TOKER_ENV": ("TOKER_ENV", str),
    "TOKER_SESSION_HOURS": ("TOKER_SESSION_HOURS", float),
    "TOKER_CORS_ORIGINS": ("TOKER_CORS_ORIGINS", str),
    "TOKER_SIGNIN_LIMIT": ("TOKER_SIGNIN_LIMIT", str),
    "TOKER_RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "TOKER_CONNECTOR_RETRIES": ("TOKER_CONNECTOR_RETRIES", int),
    "TOKER_CATALOGUE_MAX_STALE": ("TOKER_CATALOGUE_MAX_STALE", float),
    "TOKER_CONNECTOR_MAX_WAIT": ("TOKER_CONNECTOR_MAX_WAIT", float),
    "TOKER_CONNECTOR_FAULTS": ("TOKER_CONNECTOR_FAULTS", str),
    "TOKER_SQLITE_BUSY_TIMEOUT_MS": ("TOKER_SQLITE_BUSY_TIMEOUT_MS", int),
    "TOKER_SQLITE_CACHE_MB": ("TOKER_SQLITE_CACHE_MB", int),
    "TOKER_DB_POOL_SIZE": ("TOKER_DB_POOL_SIZE", int),
    "TOKER_DB_PING_AFTER": ("TOKER_DB_PING_AFTER", float),
    "TOKER_CLOCK": ("TOKER_CLOCK", str),
    "TOKER_QUEUE_URL": ("TOKER_QUEUE_URL", str),
    "TOKER_QUEUE_NAME": ("TOKER_QUEUE_NAME", str),
    "TOKER_JOB_LEASE": ("TOKER_JOB_LEASE", float),
    "TOKER_JOB_ITEM_TRIES": ("TOKER_JOB_ITEM_TRIES", int),
    "TOKER_JOB_MAX_WAIT": ("TOKER_JOB_MAX_WAIT", float),
    "TOKER_RESYNC_HOURS": ("TOKER_RESYNC_HOURS", float),
    "TOKER_RESYNC_EVERY_MINUTES": ("TOKER_RESYNC_EVERY_MINUTES", int),
    "TOKER_PLATFORM_RATE_LIMITS": ("TOKER_PLATFORM_RATE_LIMITS", str),
}


def request_threads() -> int:
    """The request threads of a served worker, as gunicorn.conf.py reads TOKER_THREADS."""
    try:
        value = int(os.environ.get("TOKER_THREADS") or "")
    except ValueError:
        return 8
    return value if value > 0 else 8


def default_config(instance_path: str) -> dict:
    """Return the built-in defaults; the SQLite database lives in the instance folder."""
    return {
        # None: a random key kept in the instance folder (see instance_secret_key).
        "SECRET_KEY": None,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "toker.sqlite"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "TOKER_MIN_LIKES": 100,
        # A whole payload with the maximum 1,000 + 1,000 videos fits in about 1 MB.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "TOKER_CONNECTOR_LATENCY": 0.0,
        "TOKER_CONNECTOR_FAULT_RATE": 0.0,
        # "cdn": pinned CDN URLs with SRI and a local fallback; "local": local copies only.
        "TOKER_ASSETS": "cdn",
        # Only bulk seeding workers turn this off, for rows whose parents they wrote themselves.
        "TOKER_SQLITE_FOREIGN_KEYS": True,
        # WAL pages before SQLite copies them back into the database file (SQLite's default).
        "TOKER_SQLITE_WAL_AUTOCHECKPOINT": 1000,
        # Page cache per SQLite connection, MiB: small in web workers (each thread has a
        # connection, and the OS file cache is shared); bulk seeding workers take 64. 2 is
        # SQLite's own default; at 8, a worker's pooled connections held 30 MiB more.
        "TOKER_SQLITE_CACHE_MB": 2,
        # "production" (Secure session cookies) or "development" (plain-HTTP loopback serving).
        "TOKER_ENV": "production",
        # A signed-in session lasts this long without a new sign-in.
        "TOKER_SESSION_HOURS": 8.0,
        # Other origins allowed to call the JSON API, comma-separated; none by default.
        "TOKER_CORS_ORIGINS": "",
        # Argon2id parameters: "rfc9106" (RFC 9106's low-memory profile) or "cheapest" (tests).
        "TOKER_PASSWORD_HASHING": "rfc9106",
        # Sign-in attempts per client address (Flask-Limiter syntax).
        "TOKER_SIGNIN_LIMIT": "10 per minute;50 per hour",
        # Where rate-limit counters live; "memory://" is per process, use redis:// with workers.
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Said explicitly: the limiter is one object, and init_app keeps what it was given last.
        "RATELIMIT_ENABLED": True,
        # How old the recommendation arrays (every stored video of a platform) may get while
        # writes go on, in seconds: they take a second to rebuild. 0: after every write.
        "TOKER_CATALOGUE_MAX_STALE": 30.0,
        # Tries of a platform call that timed out or was rate limited, and the longest wait.
        "TOKER_CONNECTOR_RETRIES": 3,
        "TOKER_CONNECTOR_MAX_WAIT": 10.0,
        # Scripted connector faults, one per platform call, e.g. "timeout*2,rate_limit:45,ok".
        "TOKER_CONNECTOR_FAULTS": "",
        # How long a SQLite write waits for another writer's lock before answering 503.
        "TOKER_SQLITE_BUSY_TIMEOUT_MS": 30_000,
        # Database connections a process keeps open: one per request thread (TOKER_THREADS,
        # as gunicorn.conf.py reads it) and two for the warm-up and a spare. Below the thread
        # count, each request beyond it opens a connection and closes it afterwards: on
        # PostgreSQL a server process, on SQLite its set-up statements (8 % of a busy worker).
        "TOKER_DB_POOL_SIZE": None,
        # A pooled PostgreSQL connection idle this long, in seconds, is checked with a round
        # trip before a request uses it (a restarted server dropped it); one in use within
        # that time is not: the check would cost every request a round trip.
        "TOKER_DB_PING_AFTER": 10.0,
        # An ISO date or datetime that fixes the app's "now" (services/clock.py), such as the
        # day the mock platforms answer for. Empty: the real time.
        "TOKER_CLOCK": "",
        # The task queue jobs go through: empty for a SQLite file in the instance folder
        # (queue.sqlite), redis://host:port/db for Redis, sqlite:///path for another file.
        "TOKER_QUEUE_URL": "",
        # The queue's name in its storage: installations sharing one Redis need their own.
        "TOKER_QUEUE_NAME": "toker",
        # Seconds a worker's claim on a running job holds without a sign of life (each item and
        # each wait renews it); past that the job is taken over, as from a worker that died.
        "TOKER_JOB_LEASE": 60.0,
        # Tries of a job's item whose platform failed for now (timeout, rate limit), each after
        # the platform's own retries; then the item is reported failed and the job goes on.
        "TOKER_JOB_ITEM_TRIES": 3,
        # The longest wait, in seconds, before such an item is tried again.
        "TOKER_JOB_MAX_WAIT": 300.0,
        # A profile last synced more than this many hours ago is stale: the scheduled re-sync
        # fetches it again.
        "TOKER_RESYNC_HOURS": 24.0,
        # How often, in minutes, a worker starts the re-sync of stale profiles (none starts
        # while one is queued or running); 0 never does.
        "TOKER_RESYNC_EVERY_MINUTES": 60,
        # Platform calls a job makes, paced below each platform's limit: "platform=calls/
        # seconds" items, comma-separated, over the connectors' own (e.g. "x=300/900").
        "TOKER_PLATFORM_RATE_LIMITS": "",
    }


def from_environment(environ=None) -> dict:
    """Read the settings that the environment overrides, converted to their types."""
    environ = os.environ if environ is None else environ
    settings = {}
    for name, (key, convert) in ENV_SETTINGS.items():
        value = environ.get(name)
        if value is None or value == "":
            continue
        try:
            settings[key] = convert(value)
        except ValueError as exc:
            raise RuntimeError(
                f"environment variable {name}={value!r} is not a valid {convert.__name__}"
            ) from exc
    if "SQLALCHEMY_DATABASE_URI" in settings:
        url = settings["SQLALCHEMY_DATABASE_URI"]
        # Heroku-style URLs name the old driver; use psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        settings["SQLALCHEMY_DATABASE_URI"] = url
    return settings


def instance_secret_key(instance_path: str) -> str:
    """The key in instance/secret_key, made at random on first use (shared by every worker)."""
    path = os.path.join(instance_path, "secret_key")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as existing:
            key = existing.read().strip()
        if key:
            return key
        raise RuntimeError(f"{path} is empty: delete it and start again") from None
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as created:
        created.write(key + "\n")
    return key
