"""Sign-in, passwords, sessions, users and roles, API tokens and the audit log.

The gate itself (which routes need what), CSRF, headers and CORS are in
tests/attacks/test_security.py.
"""

import hashlib
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, select, text

from webapp import security
from webapp.extensions import db
from webapp.models import ApiToken, AuditEvent, Profile, User
from webapp.services.accounts import users
from webapp.views import pages as pages_views

from ..factories import (
    PASSWORD,
    csrf_from,
    make_payload,
    make_token,
    make_user,
    sign_in,
    signed_in_client,
)
from ..helpers import (
    accepted_user_id,
    assert_problem,
    assert_unauthorized,
    bearer,
    connect_profile,
    location,
    one,
    parse,
    signin_post,
    store_profile,
    text_of,
)

NEW_PASSWORD = "a brand new passphrase 42"


# --- helpers ---------------------------------------------------------------------------------


def profile_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Profile.id).order_by(Profile.id)))


def user_of(app, name: str) -> User | None:
    with app.app_context():
        user = users.find_user(name)
        if user is not None:
            db.session.expunge(user)
        return user


def audit_events(app, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        events = list(db.session.scalars(query))
        db.session.expunge_all()
        return events


def database_text(app) -> str:
    """Every cell of every table, as one string: to prove what is not stored."""
    with app.app_context():
        cells = []
        # In a fixed order: neither the catalogue's table names nor SELECT * come sorted on
        # PostgreSQL, and two reads of the same data may differ in order only.
        for table in sorted(inspect(db.engine).get_table_names()):
            rows = db.session.execute(text(f'SELECT * FROM "{table}"'))
            for row in sorted([str(value) for value in row] for row in rows):
                cells.extend(row)
        return "\n".join(cells)


def set_cookie(response, name: str = "session") -> dict[str, str]:
    """The attributes of the Set-Cookie header for `name` (lower-case keys)."""
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        if first.startswith(f"{name}="):
            result = {"value": first.partition("=")[2]}
            for attribute in attributes:
                key, _, value = attribute.partition("=")
                result[key.lower()] = value
            return result
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers}")


def is_signed_in(client) -> bool:
    response = client.get("/profiles")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


# --- signing in ------------------------------------------------------------------------------


def test_the_signin_page_is_public_and_its_form_carries_a_csrf_token(anonymous):
    response = anonymous.get("/signin")

    assert response.status_code == 200
    form = one(parse(response), "form#signin-form")
    assert form.get("method") == "post"
    assert {i.get("name") for i in form.select("input")} >= {"csrf_token", "name", "password"}
    assert one(form, "input[name=csrf_token]").get("value")


def test_signing_in_starts_a_session_and_goes_to_the_overview(app, anonymous):
    make_user(app, "alice", "viewer")

    response = signin_post(anonymous, "alice")

    assert response.status_code == 303
    assert location(response) == ("/", {})
    page = anonymous.get("/")
    assert page.status_code == 200
    assert text_of(one(parse(page), "span#signed-in-as")) == "alice"
    assert user_of(app, "alice").last_signed_in_at is not None


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("alice", "not the right password"),
        ("alice", ""),
        ("nobody", PASSWORD),
        ("ALICE", PASSWORD),
        ("x" * 65, PASSWORD),
    ],
)
def test_a_wrong_name_or_password_is_refused_without_saying_which(app, anonymous, name, password):
    make_user(app, "alice", "viewer")

    response = signin_post(anonymous, name, password)

    assert response.status_code == 401
    error = text_of(one(parse(response), "p#signin-error"))
    assert error == "That name and password do not match a user."
    assert not is_signed_in(anonymous)


def test_passwords_are_stored_as_salted_argon2id_hashes_only(app):
    make_user(app, "alice", "viewer")
    make_user(app, "bob", "viewer")

    hashes = [user_of(app, name).password_hash for name in ("alice", "bob")]

    assert all(h.startswith("$argon2id$") for h in hashes)
    assert hashes[0] != hashes[1], "the same password hashes differently per user (salt)"
    assert PASSWORD not in database_text(app)


@pytest.mark.parametrize(
    ("password", "accepted"),
    [("x" * (users.MIN_PASSWORD_LENGTH - 1), False), ("x" * users.MIN_PASSWORD_LENGTH, True)],
)
def test_a_password_has_a_minimum_length(app, client, password, accepted):
    response = client.post(
        "/admin/users", data={"name": "carol", "role": "viewer", "password": password}
    )

    if accepted:
        assert response.status_code == 303
        assert user_of(app, "carol") is not None
    else:
        assert response.status_code == 422
        error = text_of(one(parse(response), "p#new-password-error"))
        assert f"at least {users.MIN_PASSWORD_LENGTH} characters" in error
        assert user_of(app, "carol") is None


@pytest.mark.parametrize(
    ("config", "path", "skipped"),
    [
        ({}, "/api/v1/profiles", True),
        ({}, "/profiles", True),
        ({}, "/signin", False),
        ({"RATELIMIT_DEFAULT": "100 per minute"}, "/api/v1/profiles", False),
        ({"RATELIMIT_APPLICATION": "1000 per minute"}, "/profiles", False),
    ],
)
def test_the_limiter_passes_by_only_views_without_any_limit(app, config, path, skipped):
    # The limiter is one object shared by every app of the process, so its default limits
    # are not set here: the check that lets it skip a request is asked directly.
    app.config.update(config)
    with app.test_request_context(path):
        assert security.skips_rate_limits() is skipped


def test_signin_attempts_are_rate_limited_per_address(make_app):
    app = make_app(TOKER_SIGNIN_LIMIT="3 per minute")
    make_user(app, "alice", "viewer")
    browser = app.test_client()

    for _ in range(3):
        assert signin_post(browser, "alice", "wrong password!").status_code == 401
    blocked = signin_post(browser, "alice")  # even the right password

    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Content-Security-Policy" in blocked.headers
    assert not is_signed_in(browser)
    assert browser.get("/signin").status_code == 200, "only posting the form is limited"
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert signin_post(elsewhere, "alice").status_code == 303


@pytest.fixture
def clock(monkeypatch):
    """The accounts service's time, moved by the test: clock[0] += timedelta(...)."""
    now = [datetime(2026, 12, 6, 12, 0, tzinfo=UTC)]
    monkeypatch.setattr(users, "utcnow", lambda: now[0])
    return now


def test_wrong_passwords_for_one_account_add_up_across_workers_and_it_waits(make_app, clock):
    # Two apps on one database stand for two gunicorn workers; the address limit is set high.
    workers = [make_app(TOKER_SIGNIN_LIMIT="1000 per minute") for _ in range(2)]
    make_user(workers[0], "alice", "viewer")
    first, second = (worker.test_client() for worker in workers)
    for attempt in range(users.SIGNIN_FAILURES_ALLOWED):
        browser = (first, second)[attempt % 2]
        assert signin_post(browser, "alice", "wrong password!").status_code == 401

    waiting = signin_post(first, "alice")  # the right password, while the account waits
    assert waiting.status_code == 429
    # At least the account's wait (the address limiter may ask for longer: its window's end).
    assert int(waiting.headers["Retry-After"]) >= 29
    assert "try again in 30 seconds" in waiting.text
    assert not is_signed_in(first)
    for _ in range(10):  # refused unchecked and not counted: the wait does not grow
        assert signin_post(second, "alice", "wrong password!").status_code == 429
    assert signin_post(second, "bob", "wrong password!").status_code == 401, "by account"

    clock[0] += users.SIGNIN_WAIT + timedelta(seconds=1)
    assert signin_post(second, "alice", "wrong password!").status_code == 401
    assert "try again in 60 seconds" in signin_post(first, "alice").text, "twice as long"
    clock[0] += timedelta(seconds=61)
    assert signin_post(first, "alice").status_code == 303
    assert user_of(workers[0], "alice").failed_signins == 0, "a sign-in starts the count again"
    events = audit_events(workers[0], "sign-in-failed")
    assert sum(event.detail == "account waiting" for event in events) == 12


def test_an_account_never_waits_longer_than_the_longest_wait(make_app, clock):
    app = make_app(TOKER_SIGNIN_LIMIT="1000 per minute")
    alice = make_user(app, "alice", "viewer")
    _write_elsewhere(app, "UPDATE users SET failed_signins = 500 WHERE id = :id", id=alice)

    assert signin_post(app.test_client(), "alice", "wrong password!").status_code == 401

    waiting = signin_post(app.test_client(), "alice")
    longest = int(users.SIGNIN_WAIT_MAX.total_seconds())
    # (The limiter rewrites Retry-After, rounding down.)
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) >= longest - 1
    assert f"try again in {longest} seconds" in waiting.text
    clock[0] += users.SIGNIN_WAIT_MAX
    assert signin_post(app.test_client(), "alice").status_code == 303


def test_wrong_current_passwords_count_against_the_account(app, clock):
    browser = signed_in_client(app, "viewer", "alice")
    before = user_of(app, "alice").password_hash
    change = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    for _ in range(users.SIGNIN_FAILURES_ALLOWED):
        response = browser.post(
            "/account/password", data={"current_password": "a wrong guess!", **change}
        )
        assert response.status_code == 422

    waiting = browser.post("/account/password", data={"current_password": PASSWORD, **change})

    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) >= 29
    error = text_of(one(parse(waiting), "p#current_password-error"))
    assert "try again in 30 seconds" in error
    assert user_of(app, "alice").password_hash == before
    assert signin_post(app.test_client(), "alice").status_code == 429, "the same account"


def test_password_changes_are_rate_limited_per_address(make_app):
    app = make_app(TOKER_SIGNIN_LIMIT="3 per minute")
    browser = signed_in_client(app, "viewer", "alice")
    change = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    for _ in range(3):
        response = browser.post(
            "/account/password", data={"current_password": "a wrong guess!", **change}
        )
        assert response.status_code == 422

    blocked = browser.post("/account/password", data={"current_password": PASSWORD, **change})

    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Too many password changes from this address" in blocked.text
    assert browser.get("/account/password").status_code == 200, "only posting is limited"


REDIS_URL = "redis://127.0.0.1:6379"


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


SIGN_IN_ELSEWHERE = """
import sys
from tests.factories import build_app, csrf_from
app = build_app(sys.argv[1], TOKER_SIGNIN_LIMIT="3 per minute",
                RATELIMIT_STORAGE_URI=sys.argv[2], RATELIMIT_KEY_PREFIX=sys.argv[3])
browser = app.test_client()
for _ in range(2):
    token = csrf_from(browser.get("/signin").text)
    form = {"name": "nobody", "password": "x" * 12, "csrf_token": token}
    print(browser.post("/signin", data=form).status_code)
"""


def test_the_address_limit_is_shared_by_processes_through_the_configured_storage(
    make_app, database_url
):
    """With TOKER_RATELIMIT_STORAGE_URI set, a worker restart or a second worker does not
    start the count again: two processes share one count per address."""
    if not _redis_answers():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: the shared limiter storage")
    prefix = f"toker-test-{uuid.uuid4().hex}"  # a count of its own, whatever ran before
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    app = make_app(TOKER_SIGNIN_LIMIT="3 per minute", **settings)
    elsewhere = subprocess.run(
        [sys.executable, "-c", SIGN_IN_ELSEWHERE, database_url, REDIS_URL, prefix],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    assert elsewhere.stdout.split() == ["401", "401"], elsewhere.stderr
    browser = app.test_client()
    assert signin_post(browser, "nobody", "x" * 12).status_code == 401  # the third try
    assert signin_post(browser, "nobody", "x" * 12).status_code == 429


def test_failed_signins_are_audited_with_the_name_tried(app, anonymous):
    signin_post(anonymous, "mallory", "guess guess guess")

    [event] = audit_events(app, "sign-in-failed")
    assert event.actor == "mallory"


# --- the session cookie and its lifetime -----------------------------------------------------


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_in_development(
    app, anonymous
):
    make_user(app, "alice", "viewer")

    cookie = set_cookie(signin_post(anonymous, "alice"))

    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert "secure" not in cookie, "development serves plain HTTP on loopback"


def test_the_session_cookie_is_secure_in_production(make_app):
    app = make_app(TOKER_ENV="production")
    make_user(app, "alice", "viewer")

    cookie = set_cookie(signin_post(app.test_client(), "alice"))

    assert "secure" in cookie
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"


@pytest.mark.parametrize("hours", [8.0, 0.5])
def test_the_session_cookie_expires_with_the_session_lifetime(make_app, hours):
    app = make_app(TOKER_SESSION_HOURS=hours)
    make_user(app, "alice", "viewer")

    cookie = set_cookie(signin_post(app.test_client(), "alice"))

    expires = parsedate_to_datetime(cookie["expires"])
    expected = datetime.now(UTC) + timedelta(hours=hours)
    assert abs((expires - expected).total_seconds()) < 120


def _age_session(client, seconds: float) -> None:
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - seconds


def test_a_session_older_than_its_lifetime_is_signed_out(app):
    viewer = signed_in_client(app, "viewer")
    _age_session(viewer, 8 * 3600 + 60)

    response = viewer.get("/profiles?q=a")

    assert response.status_code == 302
    assert location(response) == ("/signin", {"next": ["/profiles?q=a"]})
    assert not is_signed_in(viewer), "the expired session is gone for good"


def test_an_expired_session_gets_401_from_the_api(app):
    viewer = signed_in_client(app, "viewer")
    _age_session(viewer, 8 * 3600 + 60)

    assert_unauthorized(viewer.get("/api/v1/profiles"))


def test_a_session_within_its_lifetime_stays_signed_in(app):
    viewer = signed_in_client(app, "viewer")
    _age_session(viewer, 8 * 3600 - 60)

    assert viewer.get("/profiles").status_code == 200


def test_a_session_without_a_sign_in_time_is_not_trusted(app):
    viewer = signed_in_client(app, "viewer")
    with viewer.session_transaction() as session:
        del session["signed_in_at"]

    assert not is_signed_in(viewer)


def test_signing_out_ends_the_session(app, client):
    response = client.post("/signout")

    assert response.status_code == 303
    assert location(response)[0] == "/signin"
    assert not is_signed_in(client)
    assert [e.actor for e in audit_events(app, "sign-out")] == ["admin"]


def change_own_password(client):
    """Post the password form: PASSWORD replaced by NEW_PASSWORD."""
    return client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )


def test_changing_the_password_ends_the_users_other_sessions(app):
    first = signed_in_client(app, "viewer", "alice")
    second = signed_in_client(app, "viewer", "alice")

    response = change_own_password(first)

    assert response.status_code == 303
    assert is_signed_in(first), "the session that changed it goes on"
    assert not is_signed_in(second)


def copy_of_session(app, client):
    """Another client carrying a copy of `client`'s session cookie, as a thief would."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_signing_out_ends_the_session_on_the_server_too(app):
    browser = signed_in_client(app, "viewer", "alice")
    stolen = copy_of_session(app, browser)
    assert is_signed_in(stolen)

    assert browser.post("/signout").status_code == 303

    assert not is_signed_in(stolen), "a copied cookie of an ended session signs nobody in"
    assert not is_signed_in(browser)


def test_changing_the_password_ends_copies_of_the_old_sessions_but_not_its_own(app):
    browser = signed_in_client(app, "viewer", "alice")
    stolen = copy_of_session(app, browser)

    response = change_own_password(browser)

    assert response.status_code == 303
    assert is_signed_in(browser), "the new session of the change goes on"
    assert not is_signed_in(stolen)


def test_an_admin_ends_every_session_of_a_user(app, client):
    alice = make_user(app, "alice", "viewer")
    first = signed_in_client(app, "viewer", "alice")
    second = signed_in_client(app, "viewer", "alice")
    row = one(parse(client.get("/admin/users")), "tr[data-user=alice]")
    assert text_of(one(row, "td[class=sessions]")).split()[0] == "2"

    response = client.post(f"/admin/users/{alice}/sessions/end")

    assert response.status_code == 303
    assert not is_signed_in(first) and not is_signed_in(second)
    assert is_signed_in(client), "the admin's own session goes on"
    [event] = audit_events(app, "sessions-ended")
    assert (event.actor, event.target, event.detail) == ("admin", "alice", "2 sessions")
    row = one(parse(client.get("/admin/users")), "tr[data-user=alice]")
    assert text_of(one(row, "td[class=sessions]")).split()[0] == "0"


def test_toker_users_end_sessions_signs_a_user_out_everywhere(app, runner):
    browser = signed_in_client(app, "viewer", "alice")

    result = runner.invoke(args=["users", "end-sessions", "alice"])

    assert result.exit_code == 0, result.output
    assert "Ended 1 session of alice" in result.output
    assert not is_signed_in(browser)
    assert [e.target for e in audit_events(app, "sessions-ended")] == ["alice"]
    unknown = runner.invoke(args=["users", "end-sessions", "nobody"])
    assert unknown.exit_code != 0 and "nobody" in unknown.output


def test_a_role_change_ends_the_users_sessions(app, client):
    alice = make_user(app, "alice", "analyst")
    browser = signed_in_client(app, "analyst", "alice")
    stolen = copy_of_session(app, browser)

    assert client.post(f"/admin/users/{alice}/role", data={"role": "viewer"}).status_code == 303

    assert not is_signed_in(browser) and not is_signed_in(stolen)
    assert sign_in(app.test_client(), "alice").get("/connect").status_code == 403


def test_a_session_ends_with_its_lifetime_on_the_server_too(app):
    browser = signed_in_client(app, "viewer", "alice")
    _write_elsewhere(app, "UPDATE user_sessions SET expires_at = created_at")

    assert not is_signed_in(browser)


def test_signing_in_keeps_only_the_key_hash_and_drops_sessions_past_their_end(app):
    make_user(app, "alice", "viewer")
    first = signed_in_client(app, "viewer", "alice")
    key = first.get_cookie("session").value
    _write_elsewhere(app, "UPDATE user_sessions SET expires_at = created_at")

    signed_in_client(app, "viewer", "alice")

    with app.app_context():
        rows = db.session.execute(text("SELECT key_hash FROM user_sessions")).scalars().all()
    assert len(rows) == 1, "the expired session was removed"
    assert len(rows[0]) == 64 and rows[0] not in key


# --- where sign-in goes next -----------------------------------------------------------------


@pytest.mark.parametrize("target", ["/profiles", "/profiles?q=ab&platform=x", "/admin/audit"])
def test_signing_in_returns_to_a_local_next_path(app, anonymous, target):
    make_user(app, "alice", "admin")

    response = signin_post(anonymous, "alice", next=target)

    assert response.status_code == 303
    assert response.headers["Location"] in (target, f"http://localhost{target}")


OTHER_SITES = [
    "//evil.example",
    "//evil.example/profiles",
    "https://evil.example",
    "https://evil.example/",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "evil.example",
]


@pytest.mark.parametrize("target", OTHER_SITES)
def test_signing_in_never_follows_next_to_another_site(app, anonymous, target):
    make_user(app, "alice", "viewer")

    page = anonymous.get("/signin", query_string={"next": target})
    assert not parse(page).select("input[name=next]")
    response = signin_post(anonymous, "alice", next=target)

    assert response.status_code == 303, response.status_code
    assert location(response) == ("/", {})


@pytest.mark.parametrize("target", ["/\r\nX-Injected: 1", "/profiles\nX-Injected: 1"])
def test_a_next_path_with_control_characters_is_dropped(app, anonymous, target):
    make_user(app, "alice", "viewer")

    response = signin_post(anonymous, "alice", next=target)

    assert response.status_code == 303, "signed in, not a 500 from a header with a newline"
    assert location(response) == ("/", {})


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil"])
def test_a_signed_in_visit_to_signin_never_follows_next_to_another_site(client, target):
    response = client.get("/signin", query_string={"next": target})

    assert response.status_code == 302
    assert location(response) == ("/", {})


# --- toker users -----------------------------------------------------------------------------


def test_users_create_reads_the_password_from_toker_password(app, runner):
    result = runner.invoke(
        args=["users", "create", "bob", "--role", "analyst"], env={"TOKER_PASSWORD": PASSWORD}
    )

    assert result.exit_code == 0, result.output
    assert "bob" in result.output and "analyst" in result.output
    assert user_of(app, "bob").role == "analyst"
    assert PASSWORD not in result.output
    assert signin_post(app.test_client(), "bob").status_code == 303


def test_users_create_prompts_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["users", "create", "bob", "--role", "viewer"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env={"TOKER_PASSWORD": None},
    )

    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    assert PASSWORD not in result.output, "the prompt hides what is typed"
    assert user_of(app, "bob").role == "viewer"
    assert signin_post(app.test_client(), "bob").status_code == 303


def test_users_create_with_prompted_passwords_that_differ_creates_nobody(app, runner):
    result = runner.invoke(
        args=["users", "create", "bob"],
        input=f"{PASSWORD}\n{NEW_PASSWORD}\n",
        env={"TOKER_PASSWORD": None},
    )

    assert result.exit_code != 0
    assert "do not match" in result.output
    assert user_of(app, "bob") is None


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["users", "create", "bob"], "short", "at least 12 characters"),
        (["users", "create", "bob", "--role", "superuser"], PASSWORD, "superuser"),
        (["users", "create", "alice"], PASSWORD, "already exists"),
        (["users", "create", "bad name!"], PASSWORD, "letters, digits"),
        (["users", "delete", "ghost"], None, "no user called 'ghost'"),
        (["users", "set-role", "ghost", "admin"], None, "no user called 'ghost'"),
        (["users", "set-role", "alice", "root"], None, "root"),
        (["tokens", "create", "ghost"], None, "no user called 'ghost'"),
        (["tokens", "revoke", "999"], None, "no token with id 999"),
        (["tokens", "list", "--user", "ghost"], None, "no user called 'ghost'"),
    ],
)
def test_user_and_token_commands_fail_clearly(app, runner, args, password, message):
    make_user(app, "alice", "viewer")
    before = database_text(app)

    result = runner.invoke(args=args, env={"TOKER_PASSWORD": password})

    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert database_text(app) == before, "nothing changed"


def test_users_list_shows_every_user_and_role(app, runner):
    make_user(app, "alice", "viewer")
    make_user(app, "bob", "admin")

    result = runner.invoke(args=["users", "list"])

    assert result.exit_code == 0, result.output
    rows = [line.split()[:2] for line in result.output.splitlines() if line.strip()]
    assert rows == [["alice", "viewer"], ["bob", "admin"]]


def test_users_delete_removes_the_user_their_sessions_and_tokens(app, runner):
    viewer = signed_in_client(app, "viewer", "alice")
    token = make_token(app, "alice")

    result = runner.invoke(args=["users", "delete", "alice"])

    assert result.exit_code == 0, result.output
    assert user_of(app, "alice") is None
    assert not is_signed_in(viewer)
    assert_unauthorized(app.test_client().get("/api/v1/profiles", headers=bearer(token)))
    assert [e.target for e in audit_events(app, "user-deleted")] == ["alice"]


def test_users_set_role_changes_what_a_session_may_do_at_once(app, runner):
    viewer = signed_in_client(app, "viewer", "alice")
    assert viewer.get("/connect").status_code == 403

    result = runner.invoke(args=["users", "set-role", "alice", "analyst"])

    assert result.exit_code == 0, result.output
    # The sessions of the old role end; the next one has the new role's rights.
    assert not is_signed_in(viewer)
    assert sign_in(app.test_client(), "alice").get("/connect").status_code == 200


def test_the_last_admin_cannot_be_deleted_or_demoted_from_the_command_line(app, runner):
    make_user(app, "root", "admin")

    deleted = runner.invoke(args=["users", "delete", "root"])
    demoted = runner.invoke(args=["users", "set-role", "root", "viewer"])

    assert deleted.exit_code != 0 and "only admin" in deleted.output
    assert demoted.exit_code != 0 and "only admin" in demoted.output
    assert user_of(app, "root").role == "admin"


# --- the first start -------------------------------------------------------------------------


def first_admin(runner) -> tuple[str, str]:
    """Run `toker users first-admin`; the name and one-time password it prints."""
    result = runner.invoke(args=["users", "first-admin"])
    assert result.exit_code == 0, result.output
    name = re.search(r"name:\s+(\S+)", result.output)
    password = re.search(r"password:\s+(\S+)", result.output)
    assert name and password, result.output
    return name.group(1), password.group(1)


def test_first_admin_creates_an_admin_with_a_one_time_password_once(app, runner):
    name, password = first_admin(runner)

    again = runner.invoke(args=["users", "first-admin"])

    assert (name, user_of(app, name).role) == ("admin", "admin")
    assert len(password) >= users.MIN_PASSWORD_LENGTH
    assert user_of(app, name).must_change_password
    assert again.exit_code == 0
    assert again.output.strip() == ""
    with app.app_context():
        assert users.user_count() == 1
        assert users.authenticate(name, password) is not None, "the first password still works"


def test_first_admin_does_nothing_when_users_exist(app, runner):
    make_user(app, "alice", "viewer")

    result = runner.invoke(args=["users", "first-admin"])

    assert result.exit_code == 0
    assert result.output.strip() == ""
    assert user_of(app, "admin") is None


def test_the_one_time_password_forces_a_new_password_before_anything_else(app, runner):
    name, once = first_admin(runner)
    browser = app.test_client()

    response = signin_post(browser, name, once)
    assert response.status_code == 303
    assert location(response)[0] == "/account/password"
    for path in ("/", "/profiles", "/admin/users"):
        forced = browser.get(path)
        assert forced.status_code == 302, path
        assert location(forced)[0] == "/account/password"
    assert_problem(browser.get("/api/v1/profiles"), 403)
    page = browser.get("/account/password")
    assert page.status_code == 200
    assert text_of(one(parse(page), "h1")) == "Choose your password"

    changed = browser.post(
        "/account/password",
        data={
            "current_password": once,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )

    assert changed.status_code == 303
    assert browser.get("/admin/users").status_code == 200
    assert not user_of(app, name).must_change_password
    assert signin_post(app.test_client(), name, once).status_code == 401
    assert signin_post(app.test_client(), name, NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field"),
    [
        ("wrong current password", NEW_PASSWORD, NEW_PASSWORD, "current_password"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "confirm_password"),
        (PASSWORD, "too short", "too short", "new_password"),
        (PASSWORD, PASSWORD, PASSWORD, "new_password"),
    ],
)
def test_a_bad_password_change_says_why_and_changes_nothing(app, current, new, confirm, field):
    viewer = signed_in_client(app, "viewer", "alice")
    before = user_of(app, "alice").password_hash

    response = viewer.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm_password": confirm},
    )

    assert response.status_code == 422
    assert text_of(one(parse(response), f"p#{field}-error"))
    assert user_of(app, "alice").password_hash == before


# --- the admin pages for users ---------------------------------------------------------------


def user_rows(response) -> dict[str, str]:
    """The users page: name -> the role selected in its row."""
    rows = {}
    for row in parse(response).select("tr"):
        name = row.get("data-user")
        if name:
            [selected] = [o.get("value") for o in row.select("option") if "selected" in o.attrs]
            rows[name] = selected
    return rows


def test_the_users_page_lists_every_user_with_their_role(app, client):
    make_user(app, "alice", "viewer")
    make_user(app, "bob", "analyst")

    response = client.get("/admin/users")

    assert response.status_code == 200
    assert user_rows(response) == {"admin": "admin", "alice": "viewer", "bob": "analyst"}


def test_an_admin_changes_a_role_on_the_users_page(app, client):
    alice = make_user(app, "alice", "viewer")

    response = client.post(f"/admin/users/{alice}/role", data={"role": "analyst"})

    assert response.status_code == 303
    assert user_rows(client.get("/admin/users"))["alice"] == "analyst"
    [event] = audit_events(app, "role-changed")
    assert (event.actor, event.target, event.detail) == ("admin", "alice", "viewer -> analyst")


def test_an_admin_adds_and_deletes_a_user_on_the_users_page(app, client):
    created = client.post(
        "/admin/users", data={"name": "carol", "role": "analyst", "password": PASSWORD}
    )
    assert created.status_code == 303
    assert user_rows(client.get("/admin/users"))["carol"] == "analyst"
    assert user_of(app, "carol").password_hash.startswith("$argon2id$")

    deleted = client.post(f"/admin/users/{user_of(app, 'carol').id}/delete")

    assert deleted.status_code == 303
    assert "carol" not in user_rows(client.get("/admin/users"))


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "admin", "role": "viewer", "password": PASSWORD}, "name"),
        ({"name": "carol", "role": "root", "password": PASSWORD}, "role"),
        ({"name": "", "role": "viewer", "password": PASSWORD}, "name"),
    ],
)
def test_adding_a_bad_user_says_why(app, client, form, field):
    response = client.post("/admin/users", data=form)

    assert response.status_code == 422
    assert text_of(one(parse(response), f"p#new-{field}-error"))
    with app.app_context():
        assert users.user_count() == 1


def test_the_last_admin_cannot_be_demoted_on_the_users_page(app, client):
    me = user_of(app, "admin").id

    response = client.post(f"/admin/users/{me}/role", data={"role": "viewer"})

    assert response.status_code == 303
    assert user_of(app, "admin").role == "admin"
    page = client.get("/admin/users")
    assert user_rows(page)["admin"] == "admin"
    assert "only admin" in text_of(one(parse(page), 'div[class="flash error"]'))
    assert not audit_events(app, "role-changed")


def test_the_last_admin_cannot_be_deleted_on_the_users_page(app, client):
    me = user_of(app, "admin").id

    response = client.post(f"/admin/users/{me}/delete")

    assert response.status_code == 303
    assert user_of(app, "admin") is not None
    assert not audit_events(app, "user-deleted")


def test_an_admin_can_be_demoted_while_another_admin_remains(app, client):
    other = make_user(app, "root", "admin")

    client.post(f"/admin/users/{other}/role", data={"role": "viewer"})

    assert user_of(app, "root").role == "viewer"


# --- API tokens ------------------------------------------------------------------------------


def cli_token(runner, name: str) -> str:
    """`toker tokens create NAME`: the token is the last line printed."""
    result = runner.invoke(args=["tokens", "create", name])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_tokens_create_prints_a_token_that_authenticates_the_api(app, runner):
    make_user(app, "alice", "viewer")
    token = cli_token(runner, "alice")

    response = app.test_client().get("/api/v1/profiles", headers=bearer(token))

    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_tokens_are_stored_as_hashes_only(app, runner):
    make_user(app, "alice", "viewer")
    token = cli_token(runner, "alice")

    stored = database_text(app)

    assert token not in stored
    with app.app_context():
        [record] = db.session.scalars(select(ApiToken))
        assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert len(record.prefix) < len(token) // 2


def test_tokens_list_and_revoke_from_the_command_line(app, runner):
    make_user(app, "alice", "viewer")
    token = cli_token(runner, "alice")
    with app.app_context():
        [record] = db.session.scalars(select(ApiToken))
        token_id, prefix = record.id, record.prefix

    listed = runner.invoke(args=["tokens", "list"])
    assert listed.exit_code == 0
    [line] = listed.output.strip().splitlines()
    assert line.split()[:2] == [str(token_id), "alice"]
    assert prefix in line and "live" in line and token not in line

    revoked = runner.invoke(args=["tokens", "revoke", str(token_id)])

    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    assert_unauthorized(app.test_client().get("/api/v1/profiles", headers=bearer(token)))
    assert [e.action for e in audit_events(app)] == ["token-created", "token-revoked"]


def test_an_admin_makes_and_revokes_tokens_on_the_tokens_page(app, client):
    make_user(app, "alice", "viewer")

    made = client.post("/admin/tokens", data={"user": "alice", "name": "reports"})

    assert made.status_code == 200
    token = text_of(one(parse(made), "code[class=token]"))
    assert token.startswith(users.TOKEN_PREFIX)
    api = app.test_client()
    assert api.get("/api/v1/profiles", headers=bearer(token)).status_code == 200
    listing = client.get("/admin/tokens")
    assert token not in listing.text, "shown once, never again"
    [row] = [r for r in parse(listing).select("tr") if r.get("data-token")]
    assert "alice" in text_of(row) and "reports" in text_of(row) and "live" in text_of(row)

    revoked = client.post(f"/admin/tokens/{row.get('data-token')}/revoke")

    assert revoked.status_code == 303
    assert_unauthorized(api.get("/api/v1/profiles", headers=bearer(token)))
    [row] = [r for r in parse(client.get("/admin/tokens")).select("tr") if r.get("data-token")]
    assert "revoked" in text_of(row)


def test_a_token_for_an_unknown_user_is_refused_on_the_tokens_page(app, client):
    response = client.post("/admin/tokens", data={"user": "ghost", "name": "x"})

    assert response.status_code == 422
    with app.app_context():
        assert not list(db.session.scalars(select(ApiToken)))


def test_a_viewer_token_reads_but_cannot_change_anything(app):
    make_user(app, "alice", "viewer")
    token = make_token(app, "alice")
    profile_id = store_profile(app)
    api = app.test_client()

    assert api.get("/api/v1/profiles", headers=bearer(token)).status_code == 200
    assert api.get(f"/api/v1/profiles/{profile_id}", headers=bearer(token)).status_code == 200
    assert_problem(api.delete(f"/api/v1/profiles/{profile_id}", headers=bearer(token)), 403)
    connect = {"platform": "tiktok", "user_id": accepted_user_id()}
    assert_problem(api.post("/api/v1/connect", json=connect, headers=bearer(token)), 403)
    assert profile_ids(app) == [profile_id]


def test_a_tokens_rights_follow_its_users_role_at_once(app, client):
    alice = make_user(app, "alice", "viewer")
    token = make_token(app, "alice")
    api = app.test_client()
    connect = {"platform": "tiktok", "user_id": accepted_user_id()}
    assert api.post("/api/v1/connect", json=connect, headers=bearer(token)).status_code == 403

    client.post(f"/admin/users/{alice}/role", data={"role": "analyst"})

    assert api.post("/api/v1/connect", json=connect, headers=bearer(token)).status_code == 201
    client.post(f"/admin/users/{alice}/role", data={"role": "viewer"})
    assert api.post("/api/v1/connect", json=connect, headers=bearer(token)).status_code == 403


@pytest.mark.parametrize(
    "header",
    [
        "Bearer tok_not-a-real-token",
        "Bearer " + "tok_" + "x" * 200,
        "Bearer ",
        "Bearer",
        "Token {token}",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        "Bearer {token}x",
    ],
)
def test_a_bad_token_gets_401_problem_json(app, header):
    make_user(app, "alice", "admin")
    token = make_token(app, "alice")

    response = app.test_client().get(
        "/api/v1/profiles", headers={"Authorization": header.format(token=token)}
    )

    body = assert_unauthorized(response)
    assert token not in body["detail"]


def test_a_token_signs_in_to_the_json_api_but_not_to_the_api_docs_page(app):
    """Tokens are for programs: the API docs page is a page, signed in to with the form."""
    make_user(app, "alice", "viewer")
    token = make_token(app, "alice")
    program = app.test_client()

    docs = program.get("/api/v1/docs", headers=bearer(token))

    assert docs.status_code == 302 and location(docs)[0] == "/signin"
    assert program.get("/api/v1/openapi.json", headers=bearer(token)).status_code == 200
    assert signed_in_client(app, "viewer", "bob").get("/api/v1/docs").status_code == 200


def test_a_bad_token_is_refused_even_with_a_signed_in_session(client):
    response = client.get("/api/v1/profiles", headers=bearer("tok_not-a-real-token"))

    assert_unauthorized(response)


def test_a_token_of_a_deleted_user_stops_working(app, client):
    alice = make_user(app, "alice", "viewer")
    token = make_token(app, "alice")

    client.post(f"/admin/users/{alice}/delete")

    assert_unauthorized(app.test_client().get("/api/v1/profiles", headers=bearer(token)))


@pytest.mark.parametrize("path", ["/", "/profiles", "/admin/users", "/admin/tokens"])
def test_a_bearer_token_does_not_sign_in_to_pages(app, auth_headers, path):
    response = app.test_client().get(path, headers=auth_headers)

    assert response.status_code == 302
    assert location(response)[0] == "/signin"


def test_using_a_token_records_when_it_was_last_used(app, auth_headers):
    assert app.test_client().get("/api/v1/profiles", headers=auth_headers).status_code == 200

    with app.app_context():
        [record] = db.session.scalars(select(ApiToken))
        assert record.last_used_at is not None, "the tokens page and list show 'last used'"


# --- the audit log ---------------------------------------------------------------------------


class Ctx:
    """What an audited action needs: the app, a signed-in admin, the CLI runner."""

    def __init__(self, app, client, runner, monkeypatch):
        self.app, self.client, self.runner, self.monkeypatch = app, client, runner, monkeypatch


def _signin(ctx):
    make_user(ctx.app, "alice", "viewer")
    signin_post(ctx.app.test_client(), "alice")
    return "alice", ""


def _signin_failed(ctx):
    signin_post(ctx.app.test_client(), "mallory", "wrong password!")
    return "mallory", ""


def _signout(ctx):
    signed_in_client(ctx.app, "viewer", "alice").post("/signout")
    return "alice", ""


def _connect_api(ctx):
    user_id = accepted_user_id()
    response = ctx.client.post("/api/v1/connect", json={"platform": "tiktok", "user_id": user_id})
    assert response.status_code == 201
    return "admin", f"tiktok:{user_id}"


def _connect_api_token(ctx):
    make_user(ctx.app, "robot", "analyst")
    user_id = accepted_user_id()
    response = ctx.app.test_client().post(
        "/api/v1/connect",
        json={"platform": "tiktok", "user_id": user_id},
        headers=bearer(make_token(ctx.app, "robot")),
    )
    assert response.status_code == 201
    return "robot", f"tiktok:{user_id}"


def _store_payload_api(ctx):
    response = ctx.client.post(
        "/api/v1/profiles", json={"platform": "tiktok", "payload": make_payload()}
    )
    assert response.status_code == 201
    return "admin", "tiktok:123456"


def _connect_page(ctx):
    user_id = accepted_user_id()
    response = ctx.client.post(
        "/connect/step",
        data={"platform": "tiktok", "user_id": user_id, "step": "4"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response.headers.get("HX-Redirect")
    return "admin", f"tiktok:{user_id}"


def _resync(ctx):
    profile_id, user_id = connect_profile(ctx.app)
    assert ctx.client.post(f"/profiles/{profile_id}/resync").status_code == 303
    return "admin", f"tiktok:{user_id}"


def _delete_page(ctx):
    profile_id = store_profile(ctx.app)
    assert ctx.client.post(f"/profiles/{profile_id}/delete").status_code == 303
    return "admin", "tiktok:123456"


def _delete_api(ctx):
    profile_id = store_profile(ctx.app)
    assert ctx.client.delete(f"/api/v1/profiles/{profile_id}").status_code == 204
    return "admin", "tiktok:123456"


def _export(ctx):
    store_profile(ctx.app)
    response = ctx.client.get("/api/v1/profiles/export?format=csv")
    assert response.status_code == 200
    response.get_data()
    return "admin", None


def _seed(ctx):
    ctx.monkeypatch.setattr(pages_views, "DEMO_SEED_COUNT", 3)
    assert ctx.client.post("/seed").status_code == 303
    return "admin", None


def _user_created_page(ctx):
    response = ctx.client.post(
        "/admin/users", data={"name": "carol", "role": "viewer", "password": PASSWORD}
    )
    assert response.status_code == 303
    return "admin", "carol"


def _user_created_cli(ctx):
    result = ctx.runner.invoke(args=["users", "create", "carol"], env={"TOKER_PASSWORD": PASSWORD})
    assert result.exit_code == 0
    return "cli", "carol"


def _role_changed(ctx):
    alice = make_user(ctx.app, "alice", "viewer")
    ctx.client.post(f"/admin/users/{alice}/role", data={"role": "admin"})
    return "admin", "alice"


def _token_created(ctx):
    make_user(ctx.app, "alice", "viewer")
    assert ctx.client.post("/admin/tokens", data={"user": "alice"}).status_code == 200
    return "admin", "alice"


def _token_revoked(ctx):
    make_user(ctx.app, "alice", "viewer")
    make_token(ctx.app, "alice")
    with ctx.app.app_context():
        [token_id] = db.session.scalars(select(ApiToken.id))
    assert ctx.client.post(f"/admin/tokens/{token_id}/revoke").status_code == 303
    return "admin", "alice"


def _token_created_cli(ctx):
    make_user(ctx.app, "alice", "viewer")
    cli_token(ctx.runner, "alice")
    return "cli", "alice"


AUDITED = {
    "sign-in": ("sign-in", _signin),
    "sign-in-failed": ("sign-in-failed", _signin_failed),
    "sign-out": ("sign-out", _signout),
    "connect-api": ("connect", _connect_api),
    "connect-api-token": ("connect", _connect_api_token),
    "connect-api-payload": ("connect", _store_payload_api),
    "connect-page": ("connect", _connect_page),
    "resync": ("resync", _resync),
    "delete-page": ("delete", _delete_page),
    "delete-api": ("delete", _delete_api),
    "export-api": ("export", _export),
    "seed": ("job-started", _seed),
    "user-created-page": ("user-created", _user_created_page),
    "user-created-cli": ("user-created", _user_created_cli),
    "role-changed": ("role-changed", _role_changed),
    "token-created": ("token-created", _token_created),
    "token-created-cli": ("token-created", _token_created_cli),
    "token-revoked": ("token-revoked", _token_revoked),
}


@pytest.mark.parametrize("case", list(AUDITED))
def test_actions_are_audited_with_actor_and_time_and_shown_to_admins(
    app, client, runner, monkeypatch, case
):
    action, act = AUDITED[case]
    started = datetime.now(UTC) - timedelta(seconds=2)

    actor, target = act(Ctx(app, client, runner, monkeypatch))

    events = audit_events(app, action)
    assert events, f"no {action!r} event was recorded"
    event = events[-1]
    assert event.actor == actor or (actor == "cli" and event.actor.startswith("cli"))
    if target is not None:
        assert event.target == target
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    assert started <= at <= datetime.now(UTC) + timedelta(seconds=2)
    shown = client.get("/admin/audit", query_string={"action": action, "actor": event.actor})
    assert shown.status_code == 200
    rows = [row for row in parse(shown).select("tr") if row.get("data-action")]
    assert rows and all(row.get("data-action") == action for row in rows)
    cells = rows[0].select("td")
    assert text_of(cells[1]) == event.actor
    assert text_of(cells[3]) == event.target
    assert cells[0].select("time"), "the time is shown"


def _commits_during(app, request) -> int:
    """How many transactions the database committed while `request()` ran."""
    committed = []

    def count(_connection):
        import traceback

        committed.append(1)
        print("COMMIT", [f.name for f in traceback.extract_stack()][-14:])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", count)
    try:
        request()
    finally:
        event.remove(engine, "commit", count)
    return len(committed)


def test_a_write_and_its_audit_event_commit_together(app):
    """A connect, a re-sync and a delete through the API write their audit event in their own
    transaction: one commit each, and the event is there."""
    make_user(app, "robot", "admin")
    client, headers = app.test_client(), bearer(make_token(app, "robot"))
    user_id = accepted_user_id()
    body = {"platform": "tiktok", "user_id": user_id}
    # The token's first use notes when it was used (then at most every few minutes).
    assert client.get("/api/v1/categories", headers=headers).status_code == 200
    answers = []

    def call(method, path, **kwargs):
        return lambda: answers.append(client.open(path, method=method, headers=headers, **kwargs))

    assert _commits_during(app, call("POST", "/api/v1/connect", json=body)) == 1
    assert _commits_during(app, call("POST", "/api/v1/connect", json=body)) == 1
    profile_id = answers[0].get_json()["profile"]["id"]
    assert _commits_during(app, call("DELETE", f"/api/v1/profiles/{profile_id}")) == 1
    assert [a.status_code for a in answers] == [201, 200, 204]
    username = answers[0].get_json()["profile"]["username"]
    events = [(e.action, e.target, e.detail) for e in audit_events(app) if e.actor == "robot"]
    assert events[-3:] == [
        ("connect", f"tiktok:{user_id}", "created"),
        ("connect", f"tiktok:{user_id}", "updated"),
        ("delete", f"tiktok:{user_id}", f"profile {profile_id} ({username})"),
    ]


def test_the_audit_log_filters_by_action_and_by_actor(app, client):
    make_user(app, "alice", "viewer")
    signin_post(app.test_client(), "alice")
    signin_post(app.test_client(), "mallory", "wrong password!")
    signin_post(app.test_client(), "alice", "wrong password!")

    def shown(**params) -> list[tuple[str, str]]:
        page = parse(client.get("/admin/audit", query_string=params))
        rows = [row for row in page.select("tr") if row.get("data-action")]
        return [(row.get("data-action"), text_of(row.select("td")[1])) for row in rows]

    everything = shown()
    assert ("sign-in", "alice") in everything and ("sign-in-failed", "mallory") in everything
    assert sorted(shown(action="sign-in-failed")) == [
        ("sign-in-failed", "alice"),
        ("sign-in-failed", "mallory"),
    ]
    assert sorted(shown(actor="alice")) == [("sign-in", "alice"), ("sign-in-failed", "alice")]
    assert shown(action="sign-in-failed", actor="mallory") == [("sign-in-failed", "mallory")]
    assert shown(actor="nobody") == []


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_only_admins_see_the_audit_log(client_as, role):
    assert client_as(role).get("/admin/audit").status_code == 403


# --- the sign-in check on every request: read afresh, never cached ---------------------------


def _write_elsewhere(app, sql: str, **params) -> None:
    """Change the users or tokens tables as another worker or the CLI would: its own
    connection and transaction, nothing shared with the app's session."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_a_token_revoked_elsewhere_is_refused_on_the_very_next_request(app):
    make_user(app, "alice", "viewer")
    token = make_token(app, "alice")
    api = app.test_client()
    for _ in range(3):  # used just before: the last-used write is skipped, the check is not
        assert api.get("/api/v1/profiles", headers=bearer(token)).status_code == 200

    _write_elsewhere(app, "UPDATE api_tokens SET revoked_at = :now", now=datetime.now(UTC))

    assert_unauthorized(api.get("/api/v1/profiles", headers=bearer(token)))


def test_a_token_of_a_user_deleted_elsewhere_is_refused_on_the_very_next_request(app):
    alice = make_user(app, "alice", "viewer")
    token = make_token(app, "alice")
    api = app.test_client()
    assert api.get("/api/v1/profiles", headers=bearer(token)).status_code == 200

    _write_elsewhere(app, "DELETE FROM api_tokens WHERE user_id = :id", id=alice)
    _write_elsewhere(app, "DELETE FROM users WHERE id = :id", id=alice)

    assert_unauthorized(api.get("/api/v1/profiles", headers=bearer(token)))


def test_a_role_changed_elsewhere_applies_to_tokens_and_sessions_on_the_next_request(app):
    alice = make_user(app, "alice", "admin")
    make_user(app, "root", "admin")
    token = make_token(app, "alice")
    api = app.test_client()
    browser = signed_in_client(app, "admin", "alice")
    assert api.get("/api/v1/profiles", headers=bearer(token)).status_code == 200
    assert browser.get("/admin/users").status_code == 200

    _write_elsewhere(app, "UPDATE users SET role = 'viewer' WHERE id = :id", id=alice)

    assert_problem(api.delete("/api/v1/profiles/1", headers=bearer(token)), 403)
    assert browser.get("/admin/users").status_code == 403
    assert "(viewer)" in browser.get("/profiles").text


def test_a_session_ended_elsewhere_ends_on_the_next_request(app):
    alice = make_user(app, "alice", "viewer")
    browser = signed_in_client(app, "viewer", "alice")
    assert is_signed_in(browser)

    _write_elsewhere(
        app, "UPDATE user_sessions SET ended_at = created_at WHERE user_id = :id", id=alice
    )

    assert not is_signed_in(browser)


def test_a_signed_in_page_does_not_resend_the_session_cookie(app):
    make_user(app, "alice", "viewer")
    browser = app.test_client()
    signed_in = signin_post(browser, "alice")
    assert signed_in.status_code == 303 and "Set-Cookie" in signed_in.headers

    for path in ("/", "/profiles", "/profiles?per_page=50", "/account/password"):
        response = browser.get(path)
        assert response.status_code == 200
        # The cookie set at sign-in carries the session's CSRF token already: nothing in the
        # session changes, so no answer re-signs and re-sends it.
        assert "Set-Cookie" not in response.headers, path


def test_the_csrf_token_of_the_sign_in_cookie_protects_the_forms(app):
    browser = signed_in_client(app, "viewer", "alice")
    token = csrf_from(browser.get("/profiles").text)

    browser.send_csrf = False  # send only what each request below carries
    refused = browser.post("/signout", data={})
    signed_out = browser.post("/signout", data={"csrf_token": token})

    assert refused.status_code == 400
    assert signed_out.status_code == 303
