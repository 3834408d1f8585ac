"""Injected faults: platform timeouts, rate limits and bad answers, a locked or vanished database.

Each test scripts the faults it needs (TOKER_CONNECTOR_FAULTS), records the waits between tries
instead of sleeping, and checks what the database holds afterwards: nothing after a failure,
exactly the account after a retry that worked.
"""

import os
import re
import socket
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, make_url, select

from webapp import create_app
from webapp.config import from_environment
from webapp.extensions import db
from webapp.models import Profile, ProfileInterest, ProfileVideo, Video
from webapp.services.ingestion import onboarding
from webapp.services.ingestion.connectors import (
    ConnectorRateLimited,
    ConnectorTimeout,
    Fault,
    FaultScript,
    MalformedResponse,
    get_connector,
    parse_faults,
)
from webapp.services.ingestion.connectors import mock as mock_module

from ..factories import mock_user_id
from ..helpers import one, parse, text_of

PROBLEM_JSON = "application/problem+json"
TEST_DATABASE_URL = os.environ.get("TOKER_TEST_DATABASE_URL", "")
TIMEOUT_MESSAGE = "TikTok did not answer within 10 seconds (3 tries); try again in a minute"
on_sqlite = pytest.mark.skipif(
    TEST_DATABASE_URL.startswith("postgresql"), reason="holds a SQLite write lock"
)


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def slept(monkeypatch) -> list[float]:
    """The waits between tries of a platform call, recorded instead of slept (in every test)."""
    waits: list[float] = []
    monkeypatch.setattr(onboarding, "sleep", waits.append)
    return waits


@pytest.fixture
def calls(monkeypatch) -> list[str | None]:
    """The user ids the mock platform was asked for, one entry per call."""
    asked: list[str | None] = []
    original = mock_module.MockConnector.fetch_account

    def counting(self, user_id=None):
        asked.append(user_id)
        return original(self, user_id)

    monkeypatch.setattr(mock_module.MockConnector, "fetch_account", counting)
    return asked


def inject(app, spec: str) -> None:
    """Script the platform's next answers for this app (a changed script starts afresh)."""
    app.config["TOKER_CONNECTOR_FAULTS"] = spec


def stored_rows(app) -> dict[str, int]:
    """How many profiles, videos, profile-video links and interest rows the database holds."""
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Profile, Video, ProfileVideo, ProfileInterest)
        }


NOTHING = {"profiles": 0, "videos": 0, "profile_videos": 0, "profile_interests": 0}


def one_account(platform: str, user_id: str) -> dict[str, int]:
    """The rows that storing this one mock account writes."""
    account = get_connector(platform).generate(user_id)
    liked, shared = account["liked_videos"], account["shared_videos"]
    return {
        "profiles": 1,
        "videos": len({v["video_id"] for v in liked + shared}),
        "profile_videos": len(liked) + len(shared),
    }


def assert_one_account(app, platform: str, user_id: str) -> None:
    """The database holds this one account, whole, and nothing else."""
    rows = stored_rows(app)
    assert rows["profile_interests"] > 0
    del rows["profile_interests"]
    assert rows == one_account(platform, user_id)
    with app.app_context():
        (profile,) = db.session.scalars(select(Profile)).all()
        assert (profile.platform, profile.user_id) == (platform, user_id)


def assert_timeout_waits(waits: list[float]) -> None:
    """Exponential backoff with up to a second of jitter: 1 s then 2 s, each plus jitter."""
    assert len(waits) == 2
    assert 1.0 <= waits[0] <= 2.0
    assert 2.0 <= waits[1] <= 3.0


@pytest.fixture
def accepted_id() -> str:
    """A TikTok account that is above the likes minimum, so only a fault can stop it."""
    return mock_user_id("tiktok", accepted=True)


# --- the fault script ------------------------------------------------------------------------


def test_fault_script_reads_kinds_waits_and_counts():
    assert parse_faults("timeout*2, rate_limit:45,malformed,ok,rate_limit") == [
        Fault("timeout"),
        Fault("timeout"),
        Fault("rate_limit", 45.0),
        Fault("malformed"),
        Fault("ok"),
        Fault("rate_limit", mock_module.DEFAULT_RETRY_AFTER),
    ]
    assert parse_faults(["timeout", "ok"]) == [Fault("timeout"), Fault("ok")]
    assert parse_faults("") == []


@pytest.mark.parametrize(
    "spec, says",
    [
        ("timout", "unknown connector fault 'timout'"),
        ("timeout:5", "only rate_limit takes :seconds"),
        ("rate_limit:soon", "must be numbers"),
        ("timeout*0", "count >= 1"),
        ("rate_limit:-1", "seconds must be >= 0"),
    ],
)
def test_a_bad_fault_script_says_what_is_wrong(spec, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_faults(spec)


def test_the_connector_plays_the_script_then_answers_normally():
    connector = get_connector(
        "tiktok", faults=FaultScript.parse("timeout,ok,rate_limit:7,malformed")
    )
    with pytest.raises(ConnectorTimeout):
        connector.fetch_account("1")
    assert connector.fetch_account("1")["user_id"] == "1"
    with pytest.raises(ConnectorRateLimited) as caught:
        connector.fetch_account("1")
    assert caught.value.retry_after == 7
    with pytest.raises(MalformedResponse):
        connector.fetch_account("1")
    assert all(connector.fetch_account(str(i))["user_id"] == str(i) for i in range(5))


def test_random_faults_start_when_the_script_is_used_up():
    connector = get_connector("x", fault_rate=1.0, faults=FaultScript.parse("ok"))
    assert connector.fetch_account("1")["user_id"] == "1"
    with pytest.raises((ConnectorTimeout, ConnectorRateLimited, MalformedResponse)):
        connector.fetch_account("1")


def test_threads_sharing_a_script_get_each_fault_once():
    script = FaultScript([Fault("timeout")] * 500 + [Fault("malformed")] * 500)
    with ThreadPoolExecutor(max_workers=8) as pool:
        handed = list(pool.map(lambda _: script.next(), range(1100)))
    kinds = [fault.kind for fault in handed if fault is not None]
    assert sorted(kinds) == ["malformed"] * 500 + ["timeout"] * 500
    assert handed.count(None) == 100
    assert len(script) == 0


def test_the_script_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOKER_CONNECTOR_FAULTS", "timeout*3,malformed")
    assert from_environment()["TOKER_CONNECTOR_FAULTS"] == "timeout*3,malformed"


@pytest.mark.parametrize(
    "error, words",
    [
        (ConnectorTimeout("TikTok did not answer within 10 seconds", attempts=3), TIMEOUT_MESSAGE),
        (
            ConnectorRateLimited("Instagram is rate limiting requests", retry_after=45),
            "Instagram is rate limiting requests; try again in 45 seconds",
        ),
        (
            ConnectorRateLimited("X is rate limiting requests", retry_after=1, attempts=2),
            "X is rate limiting requests (2 tries); try again in 1 second",
        ),
        (
            ConnectorRateLimited("X is rate limiting requests", retry_after=600),
            "X is rate limiting requests; try again in 10 minutes",
        ),
        (
            MalformedResponse("X answered with nonsense"),
            "X answered with nonsense; try again later",
        ),
    ],
)
def test_connector_errors_say_what_happened_in_plain_words(error, words):
    assert str(error) == words


# --- the pipeline (service) ------------------------------------------------------------------


def test_a_platform_that_keeps_timing_out_is_tried_three_times(app, slept, calls, caplog):
    inject(app, "timeout*3")
    with app.app_context(), pytest.raises(ConnectorTimeout) as caught:
        onboarding.connect_account("tiktok", "42")
    assert caught.value.attempts == 3
    assert str(caught.value) == TIMEOUT_MESSAGE
    assert calls == ["42", "42", "42"]
    assert_timeout_waits(slept)
    retries = [r for r in caplog.records if r.name == onboarding.__name__]
    assert [r.levelname for r in retries] == ["WARNING", "WARNING"]
    assert "try 1 of 3 failed" in retries[0].getMessage()
    assert "try 2 of 3 failed" in retries[1].getMessage()
    assert stored_rows(app) == NOTHING


def test_a_timeout_then_an_answer_stores_the_account_once(app, slept, calls, accepted_id):
    inject(app, "timeout")
    with app.app_context():
        outcome = onboarding.connect_account("tiktok", accepted_id)
    assert outcome.status == "created"
    assert len(calls) == 2
    assert len(slept) == 1 and 1.0 <= slept[0] <= 2.0
    assert_one_account(app, "tiktok", accepted_id)


def test_a_short_rate_limit_waits_as_told_then_stores(app, slept, calls, accepted_id):
    inject(app, "rate_limit:4,rate_limit:2.5")
    with app.app_context():
        outcome = onboarding.connect_account("tiktok", accepted_id)
    assert outcome.status == "created"
    assert slept == [4.0, 2.5]
    assert len(calls) == 3
    assert_one_account(app, "tiktok", accepted_id)


def test_a_rate_limit_longer_than_the_longest_wait_is_reported_at_once(app, slept, calls):
    inject(app, "rate_limit:45")
    with app.app_context(), pytest.raises(ConnectorRateLimited) as caught:
        onboarding.connect_account("instagram", "42")
    assert str(caught.value) == "Instagram is rate limiting requests; try again in 45 seconds"
    assert caught.value.attempts == 1
    assert slept == [] and len(calls) == 1
    assert stored_rows(app) == NOTHING


def test_a_malformed_answer_is_never_retried(app, slept, calls):
    inject(app, "malformed,ok")
    with app.app_context(), pytest.raises(MalformedResponse) as caught:
        onboarding.connect_account("x", "42")
    assert caught.value.attempts == 1
    assert str(caught.value).startswith("X answered with a response that is not an account")
    assert slept == [] and len(calls) == 1
    assert stored_rows(app) == NOTHING


def test_a_timeout_then_a_malformed_answer_reports_the_malformed_one(app, slept):
    inject(app, "timeout,malformed")
    with app.app_context(), pytest.raises(MalformedResponse) as caught:
        onboarding.connect_account("x", "42")
    assert caught.value.attempts == 2
    assert "(2 tries)" in str(caught.value)
    assert len(slept) == 1
    assert stored_rows(app) == NOTHING


def test_retries_and_the_longest_wait_come_from_config(app, slept, calls):
    app.config.update(TOKER_CONNECTOR_RETRIES=5, TOKER_CONNECTOR_MAX_WAIT=2.5)
    inject(app, "timeout*5")
    with app.app_context(), pytest.raises(ConnectorTimeout) as caught:
        onboarding.connect_account("tiktok", "42")
    assert caught.value.attempts == 5 and len(calls) == 5
    # 1+j, 2+j, then the cap: the backoff never waits longer than the longest wait.
    assert len(slept) == 4 and slept[2:] == [2.5, 2.5]
    assert all(wait <= 2.5 for wait in slept)

    app.config["TOKER_CONNECTOR_RETRIES"] = 1
    inject(app, "timeout")
    with app.app_context(), pytest.raises(ConnectorTimeout) as caught:
        onboarding.connect_account("tiktok", "42")
    assert caught.value.attempts == 1
    assert str(caught.value) == "TikTok did not answer within 10 seconds; try again in a minute"
    assert len(slept) == 4
    assert stored_rows(app) == NOTHING


def test_a_rate_limit_just_at_the_longest_wait_is_retried(app, slept, accepted_id):
    app.config["TOKER_CONNECTOR_MAX_WAIT"] = 6.0
    inject(app, "rate_limit:6,rate_limit:6.5")
    with app.app_context(), pytest.raises(ConnectorRateLimited) as caught:
        onboarding.connect_account("tiktok", accepted_id)
    assert slept == [6.0]
    assert caught.value.attempts == 2
    assert str(caught.value).endswith("(2 tries); try again in 7 seconds")
    assert stored_rows(app) == NOTHING


# --- POST /api/v1/connect --------------------------------------------------------------------


def connect_api(client, headers, platform="tiktok", user_id="42"):
    return client.post(
        "/api/v1/connect", json={"platform": platform, "user_id": user_id}, headers=headers
    )


@pytest.mark.parametrize(
    "spec, status, kind, detail, retry_after, attempts, waits",
    [
        ("timeout*3", 504, "platform-timeout", TIMEOUT_MESSAGE, "60", 3, 2),
        (
            "rate_limit:45",
            503,
            "platform-rate-limited",
            "TikTok is rate limiting requests; try again in 45 seconds",
            "45",
            1,
            0,
        ),
        (
            "rate_limit:3*3",
            503,
            "platform-rate-limited",
            "TikTok is rate limiting requests (3 tries); try again in 3 seconds",
            "3",
            3,
            2,
        ),
        (
            "malformed",
            502,
            "platform-malformed",
            "TikTok answered with a response that is not an account; try again later",
            None,
            1,
            0,
        ),
    ],
)
def test_api_connect_reports_each_fault_and_stores_nothing(
    app, client, auth_headers, slept, spec, status, kind, detail, retry_after, attempts, waits
):
    inject(app, spec)
    response = connect_api(client, auth_headers)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["type"] == f"urn:toker:problem:{kind}"
    assert body["status"] == status
    assert body["detail"] == detail
    assert body["attempts"] == attempts
    assert response.headers.get("Retry-After") == retry_after
    assert body.get("retry_after") == (int(retry_after) if retry_after else None)
    assert len(slept) == waits
    assert stored_rows(app) == NOTHING


def test_api_connect_after_a_timeout_creates_one_profile(
    app, client, auth_headers, slept, accepted_id
):
    inject(app, "timeout")
    response = connect_api(client, auth_headers, user_id=accepted_id)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["profile"]["user_id"] == accepted_id
    assert len(slept) == 1
    assert_one_account(app, "tiktok", accepted_id)


# --- the step-by-step connect pages ----------------------------------------------------------


def step(client, platform: str, user_id: str, number: int):
    return client.post(
        "/connect/step",
        data={"platform": platform, "user_id": user_id, "step": str(number)},
        headers={"HX-Request": "true"},
    )


@pytest.mark.parametrize(
    "spec, says",
    [
        ("timeout*3", TIMEOUT_MESSAGE),
        ("rate_limit:45", "TikTok is rate limiting requests; try again in 45 seconds"),
        ("malformed", "TikTok answered with a response that is not an account; try again later"),
    ],
)
@pytest.mark.parametrize("number", [1, 4])
def test_connect_page_shows_each_fault_in_plain_words(app, client, slept, spec, says, number):
    inject(app, spec)
    response = step(client, "tiktok", "42", number)
    assert response.status_code == 200
    assert "HX-Redirect" not in response.headers
    html = response.get_data(as_text=True)
    error = text_of(one(parse(html), "div#connect-error"))
    assert "nothing was stored" in error
    assert says in error
    assert 'hx-post="' not in html  # the progress view stops asking for more steps
    assert stored_rows(app) == NOTHING


def test_connect_pages_after_a_timeout_store_one_profile(app, client, slept, accepted_id):
    inject(app, "timeout")
    for number in (1, 2, 3):
        response = step(client, "tiktok", accepted_id, number)
        assert "connect-error" not in response.get_data(as_text=True)
        assert stored_rows(app) == NOTHING
    response = step(client, "tiktok", accepted_id, 4)
    assert response.headers["HX-Redirect"].startswith("/profiles/")
    assert len(slept) == 1
    assert_one_account(app, "tiktok", accepted_id)


# --- toker create ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, says",
    [
        ("timeout*3", TIMEOUT_MESSAGE),
        ("rate_limit:45", "TikTok is rate limiting requests; try again in 45 seconds"),
        ("malformed", "TikTok answered with a response that is not an account; try again later"),
    ],
)
def test_cli_create_says_what_went_wrong_and_stores_nothing(app, runner, slept, spec, says):
    inject(app, spec)
    result = runner.invoke(args=["create", "tiktok", "--user-id", "42"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {says}. Nothing was stored."
    assert "Traceback" not in result.output
    assert stored_rows(app) == NOTHING


def test_cli_create_after_a_rate_limit_creates_one_profile(app, runner, slept, accepted_id):
    inject(app, "rate_limit:2")
    result = runner.invoke(args=["create", "tiktok", "--user-id", accepted_id])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created profile")
    assert slept == [2.0]
    assert_one_account(app, "tiktok", accepted_id)


# --- a locked SQLite database ----------------------------------------------------------------


def sqlite_path(app) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database


class SQLiteLock:
    """A second connection to a SQLite file that can hold its write lock."""

    def __init__(self, path: str):
        self.connection = sqlite3.connect(path, isolation_level=None)

    def hold(self) -> None:
        """Take the write lock (in WAL mode, readers still read)."""
        self.connection.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        """Let the lock go, if held."""
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")


@on_sqlite
class TestLockedSQLite:
    """Another connection holds the write lock: writes answer 503 until it lets go."""

    @pytest.fixture
    def app(self, app):
        """The test's database, through an app whose writes give up on a lock after 0.2 s."""
        config = {k: v for k, v in app.config.items() if k != "SQLALCHEMY_ENGINE_OPTIONS"}
        impatient = create_app({**config, "TOKER_SQLITE_BUSY_TIMEOUT_MS": 200})
        yield impatient
        with impatient.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()

    @pytest.fixture
    def lock(self, app):
        """Another connection to the database: `lock.hold()` takes the write lock."""
        holder = SQLiteLock(sqlite_path(app))
        yield holder
        holder.release()
        holder.connection.close()

    def test_the_busy_timeout_comes_from_config(self, app):
        with app.app_context():
            connection = db.engine.raw_connection()
            try:
                (timeout,) = connection.execute("PRAGMA busy_timeout").fetchone()
            finally:
                connection.close()
        assert timeout == 200

    def test_api_writes_answer_503_then_succeed_once_released(
        self, app, client, auth_headers, lock, payload, accepted_id
    ):
        body = {"platform": "tiktok", "payload": payload}
        # The token's first use is recorded (a write), so use it before the lock is taken.
        assert client.get("/api/v1/profiles", headers=auth_headers).status_code == 200
        lock.hold()
        # Reads go on: WAL readers never wait for the writer.
        listed = client.get("/api/v1/profiles", headers=auth_headers)
        assert listed.status_code == 200, listed.get_data(as_text=True)
        for path, json_body in (
            ("/api/v1/profiles", body),
            ("/api/v1/connect", {"platform": "tiktok", "user_id": accepted_id}),
        ):
            response = client.post(path, json=json_body, headers=auth_headers)
            assert response.status_code == 503, response.get_data(as_text=True)
            assert response.mimetype == PROBLEM_JSON
            problem = response.get_json()
            assert problem["type"] == "urn:toker:problem:database-busy"
            assert "busy" in problem["detail"] and "nothing was changed" in problem["detail"]
            assert response.headers["Retry-After"] == "5"
        assert stored_rows(app) == NOTHING

        lock.release()
        again = client.post("/api/v1/profiles", json=body, headers=auth_headers)
        assert again.status_code == 201, again.get_data(as_text=True)
        connected = connect_api(client, auth_headers, user_id=accepted_id)
        assert connected.status_code == 201, connected.get_data(as_text=True)
        assert stored_rows(app)["profiles"] == 2

    def test_pages_answer_a_readable_503_then_succeed_once_released(
        self, app, client, auth_headers, payload, lock
    ):
        created = client.post(
            "/api/v1/profiles",
            json={"platform": "tiktok", "payload": payload},
            headers=auth_headers,
        )
        profile_id = created.get_json()["profile"]["id"]
        lock.hold()

        response = client.post(f"/profiles/{profile_id}/delete")
        assert response.status_code == 503
        assert response.mimetype == "text/html"
        assert response.headers["Retry-After"] == "5"
        html = response.get_data(as_text=True)
        assert 'id="error-page"' in html and 'data-status="503"' in html
        assert "<nav" in html  # the site's layout, not a bare message
        page = text_of(parse(html))
        assert "Database busy" in page and "Try again in a few seconds" in page
        assert "Traceback" not in html and "sqlite3" not in html
        assert stored_rows(app)["profiles"] == 1

        lock.release()
        response = client.post(f"/profiles/{profile_id}/delete")
        assert response.status_code == 303
        rows = stored_rows(app)
        assert rows["profiles"] == rows["profile_videos"] == rows["profile_interests"] == 0


# --- PostgreSQL going away and coming back ---------------------------------------------------


class TcpProxy:
    """A TCP relay to one address that can be stopped (refusing and cutting connections)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept, listener)

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a database that went down does."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            listener.close()
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = [t for t in self._threads if t.is_alive()]

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.mark.postgres
@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="needs TOKER_TEST_DATABASE_URL pointing at PostgreSQL",
)
class TestPostgresGoesAway:
    """A proxy between the app and PostgreSQL is stopped, then started again."""

    @pytest.fixture
    def proxy(self, database_url):
        url = make_url(database_url)
        relay = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
        relay.start()
        yield relay
        relay.stop()

    @pytest.fixture
    def app(self, app, proxy):
        """The test's database, reached through the proxy."""
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(host="127.0.0.1", port=proxy.port)
        config = {k: v for k, v in app.config.items() if k != "SQLALCHEMY_ENGINE_OPTIONS"}
        config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
        # A stopped proxy refuses at once; the timeout only guards against a hung test.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"connect_timeout": 5}}
        proxied = create_app(config)
        yield proxied
        with proxied.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()

    def test_requests_answer_503_while_down_and_succeed_when_back(
        self, app, client, auth_headers, proxy, payload, slept
    ):
        assert make_url(app.config["SQLALCHEMY_DATABASE_URI"]).port == proxy.port
        assert client.get("/api/v1/profiles", headers=auth_headers).status_code == 200
        body = {"platform": "tiktok", "payload": payload}

        proxy.stop()
        listed = client.get("/api/v1/profiles", headers=auth_headers)
        assert listed.status_code == 503, listed.get_data(as_text=True)
        assert listed.mimetype == PROBLEM_JSON
        problem = listed.get_json()
        assert problem["type"] == "urn:toker:problem:database-unavailable"
        assert "not answering" in problem["detail"]
        assert listed.headers["Retry-After"] == "30"
        written = client.post("/api/v1/profiles", json=body, headers=auth_headers)
        assert written.status_code == 503
        page = client.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert page.mimetype == "text/html"
        assert page.headers["Retry-After"] == "30"
        html = page.get_data(as_text=True)
        assert 'id="error-page"' in html and 'data-status="503"' in html
        assert "The database is not answering right now" in text_of(parse(html))
        assert "Traceback" not in html and "psycopg" not in html
        assert client.get("/healthz").status_code == 503

        proxy.start()
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/profiles", headers=auth_headers).status_code == 200
        again = client.post("/api/v1/profiles", json=body, headers=auth_headers)
        assert again.status_code == 201, again.get_data(as_text=True)
        assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
        assert stored_rows(app)["profiles"] == 1


def test_the_proxy_relays_and_refuses_when_stopped():
    """The proxy itself: bytes go through while it runs, connections are refused when stopped."""
    echo = socket.socket()
    echo.bind(("127.0.0.1", 0))
    echo.listen()

    def serve():
        while True:
            try:
                conn, _ = echo.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    proxy = TcpProxy(echo.getsockname())
    proxy.start()
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(b"ping")
            assert sock.recv(1024) == b"ping"
        proxy.stop()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        proxy.start()
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(b"pong")
            assert sock.recv(1024) == b"pong"
    finally:
        proxy.stop()
        echo.close()


def test_a_pooled_connection_the_server_dropped_is_replaced_before_a_request_uses_it(
    make_app, database_url
):
    """A PostgreSQL restart (or an idle timeout) ends the pooled connections' server side; a
    connection idle past TOKER_DB_PING_AFTER is checked before use, so the next request gets a
    fresh one instead of an error."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: a SQLite connection has no server side to drop")
    import psycopg

    app = make_app(TOKER_DB_PING_AFTER=0.0)
    with app.app_context():
        pid = db.session.execute(select(func.pg_backend_pid())).scalar_one()
        db.session.remove()
        assert db.engine.pool.checkedin() == 1
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200, answer.get_json()
    with app.app_context():
        assert db.session.execute(select(func.pg_backend_pid())).scalar_one() != pid


def test_a_read_on_a_pooled_connection_checked_after_idling_answers(make_app, database_url):
    """The idle check's round trip must not leave the connection in a transaction: a GET then
    switches it to autocommit, which PostgreSQL's driver refuses inside one (a 500 under load
    once a pooled connection had idled past TOKER_DB_PING_AFTER)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite's pooled connections are not checked when idle")
    app = make_app(TOKER_DB_PING_AFTER=0.0)
    client = app.test_client()
    for attempt in range(3):  # the first checkout opens the connection; the next ones check it
        answer = client.get("/healthz")
        assert answer.status_code == 200, (attempt, answer.get_json())
    with app.app_context():
        assert db.engine.pool.checkedin() == 1
