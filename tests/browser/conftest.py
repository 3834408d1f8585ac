"""Browser tests: Toker served on a live server, driven in headless Chromium by Playwright.

The app runs in a thread of the test session on 127.0.0.1 (a free port), on a seeded SQLite
file of its own, with TOKER_ASSETS=local so that htmx and Plotly come from the local copies.
Chromium is Debian's (/usr/bin/chromium), launched with every host name but 127.0.0.1 and
localhost unresolvable: the pages must work with no internet. Never `playwright install`.

Jobs started from the pages go to a SQLite queue beside that file; the `worker` fixture runs
`toker worker` on both (tests/jobs' worker process), for a test that watches a job run.

Without /usr/bin/chromium the browser tests are skipped on a developer machine and fail in CI
(CI=true), where `.ci/run` installs it.
"""

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from webapp import create_app
from webapp.extensions import db
from webapp.services.accounts import users
from webapp.services.ingestion.seeding import seed_profiles

from ..jobs.conftest import WorkerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs the tests as root
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
# Enough accounts for three pages of 20 after the likes minimum rejects about one in ten.
SEED_COUNT = 60
SEED = 2026
MIN_LIKES = 100
VIEWPORT = {"width": 1280, "height": 900}
ADMIN = ("admin", "browser tests password")
# Seconds each platform call of the `worker` fixture's process takes.
WORKER_LATENCY = 0.5


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    message = (
        f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
        "(apt-get install chromium; never `playwright install`)."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the browser tests, but {message}", pytrace=False)
    pytest.skip(f"{message} Browser tests skipped on this machine.")


# Werkzeug's test server leaves a static file's handle to the garbage collector when the
# browser drops the connection mid-answer (Chromium cancels a favicon it already has): a
# ResourceWarning of the test server, not of the app (gunicorn serves it elsewhere).
DROPPED_STATIC_FILE = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io\.FileIO name='.*/webapp/static/"
    ":pytest.PytestUnraisableExceptionWarning"
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(DROPPED_STATIC_FILE)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, not a Playwright download, with no route to the internet."""
    _require_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@dataclass
class LiveServer:
    url: str
    app: object
    api_headers: dict  # an admin's API token, for setting up data through the API


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Toker on 127.0.0.1 at a free port, on a seeded SQLite file, for the whole session."""
    _require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    database = folder / "toker.sqlite"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "browser-tests",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "TOKER_ASSETS": "local",
            "TOKER_MIN_LIKES": MIN_LIKES,
            "TOKER_CATALOGUE_MAX_STALE": 0,
            "TOKER_ENV": "development",
            "TOKER_PASSWORD_HASHING": "cheapest",
            "TOKER_QUEUE_URL": f"sqlite:///{folder / 'queue.sqlite'}",
            # Every test signs in once; the limit itself is tested through the test client.
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        admin = users.create_user(*ADMIN, role="admin")
        _, token = users.create_token(admin, "browser tests")
        seed_profiles(SEED_COUNT, min_likes=MIN_LIKES, workers=1, seed=SEED)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="toker-live-server", daemon=True)
    thread.start()
    headers = {"Authorization": f"Bearer {token}"}
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, headers)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def worker(live_server, tmp_path):
    """`toker worker` in a process of its own on the live server's database and queue, its
    platform calls slowed so that a person (or a test) sees a job's progress move; killed at
    the end."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TOKER_") and key != "DATABASE_URL"
    }
    config = live_server.app.config
    env.update(
        DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY="browser-tests",
        TOKER_ENV="development",
        TOKER_ASSETS="local",
        TOKER_INSTANCE_PATH=str(tmp_path),
        TOKER_QUEUE_URL=config["TOKER_QUEUE_URL"],
        TOKER_MIN_LIKES=str(MIN_LIKES),
        TOKER_CLOCK=os.environ.get("TOKER_CLOCK", ""),
        TOKER_CONNECTOR_LATENCY=str(WORKER_LATENCY),
    )
    process = WorkerProcess(env, tmp_path / "worker.log")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Relative URLs in page.goto() and page.request go to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@dataclass
class PageWatch:
    """What a page did that a journey must not: console errors, uncaught errors, off-host calls."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).hostname != "127.0.0.1"]

    def assert_clean(self) -> None:
        assert self.errors == [], "the page reported errors"
        assert self.foreign_requests == [], "the page asked for something off 127.0.0.1"


@pytest.fixture
def watch(page) -> PageWatch:
    """Collect console errors, page errors and every request the page makes."""
    seen = PageWatch()

    def on_console(message):
        if message.type == "error":
            seen.errors.append(f"console.error: {message.text} ({message.location})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(f"pageerror: {error}"))
    page.on("request", lambda request: seen.requests.append(request.url))
    return seen


@pytest.fixture
def shots(output_path) -> Path:
    """This test's folder under pytest-playwright's --output (default test-results/)."""
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page, name: str, password: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/signin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture(autouse=True)
def signed_in(request, live_server):
    """Each test starts signed in as an admin, unless marked `signed_out`."""
    if request.node.get_closest_marker("signed_out"):
        return
    page = request.getfixturevalue("page")
    sign_in(page, *ADMIN)
