"""The gate over every route, roles, CSRF, security headers, the page HTML, CORS.

Routes come from the app's url_map, so a route added later is checked without editing this file.
"""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from webapp import create_app
from webapp.assets import ASSETS
from webapp.extensions import db
from webapp.models import (
    ROLES,
    ApiToken,
    AuditEvent,
    DefaultView,
    Job,
    ListMember,
    Profile,
    SavedView,
    Shortlist,
    User,
    UserSession,
)
from webapp.security import PUBLIC_ENDPOINTS, UNSAFE_METHODS, required_role
from webapp.services import jobs
from webapp.services.accounts import audit, users
from webapp.services.catalogue import profiles as profile_service
from webapp.services.team import lists
from webapp.services.team import views as saved_views
from webapp.views import pages as pages_views

from ..factories import (
    PASSWORD,
    SignedInClient,
    build_app,
    csrf_from,
    make_payload,
    make_token,
    make_user,
    signed_in_client,
)
from ..helpers import (
    assert_problem,
    assert_unauthorized,
    bearer,
    connect_profile,
    inline_code,
    location,
    one,
    parse,
    store_profile,
    text_of,
)

PAGE_NEXT_QUERY = "from=gate"


# An app that is never asked anything: its url_map and view functions say what routes exist.
ROUTE_APP = create_app(
    {
        "TESTING": True,
        "SECRET_KEY": "routes",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "TOKER_ENV": "development",
    }
)
ROUTES = sorted(
    (rule.rule, rule.endpoint, frozenset(rule.methods - {"HEAD", "OPTIONS"}))
    for rule in ROUTE_APP.url_map.iter_rules()
)
GET_ROUTES = [(rule, endpoint) for rule, endpoint, methods in ROUTES if "GET" in methods]
UNSAFE_ROUTES = [
    (rule, endpoint, method)
    for rule, endpoint, methods in ROUTES
    for method in sorted(methods & UNSAFE_METHODS)
]
# Routes that answer without signing in.
EXPECTED_PUBLIC = {"auth.signin", "health.healthz", "static", "assets.local_asset"}
# Pages that live under /api/ all the same: the API's documentation.
API_HTML_PAGES = {"api.api_docs"}


class World:
    """A stored profile (two, for compare), a viewer with an API token, a queued job started
    from the command line (only an admin may cancel it), a list with the first profile on
    it: ids to fill routes."""

    def __init__(self, app):
        self.app = app
        self.profile, self.user_id = connect_profile(app)
        self.profile2 = store_profile(app, user_id="second", username="second_user")
        self.viewer = make_user(app, "alice", "viewer")
        self.token = make_token(app, "alice")
        with app.app_context():
            self.token_id = db.session.scalar(select(ApiToken.id))
            operator = jobs.Requester(audit.Actor("cli:operator", via="cli"), admin=True)
            self.job = jobs.start_job("resync", {"profile_ids": [self.profile]}, operator).id
            self.list = lists.create_list("Shortlist", operator.actor).id
            lists.add_members(self.list, [self.profile], operator.actor)
        # A view shared by the admin that the `client` fixture signs in as.
        make_user(app, "admin", "admin")
        with app.app_context():
            admin = users.get_user("admin")
            owner = saved_views.Person(admin.id, admin.role, audit.Actor("admin"))
            self.view = saved_views.create_view(owner, "Team", "platform=tiktok", shared=True).id

    def fill(self, rule: str) -> str:
        """A concrete path for a rule, with its <variables> filled in."""
        values = {
            "profile_id": self.profile,
            "user_id": self.viewer,
            "token_id": self.token_id,
            "job_id": self.job,
            "kind": "liked",
            "filename": "css/toker.css",
            "code": "followers-1000",
            "name": "plotly",
            "platform": "tiktok",
            "list_id": self.list,
            "view_id": self.view,
        }

        def value(match: re.Match) -> str:
            name = match.group(1)
            assert name in values, f"no test value for <{name}> in {rule}: add one"
            return str(values[name])

        return re.sub(r"<(?:[^:<>]+:)?(\w+)>", value, rule)

    def format(self, template: str) -> str:
        return template.format(
            profile=self.profile,
            profile2=self.profile2,
            user=self.viewer,
            token=self.token_id,
            mock=self.user_id,
            job=self.job,
            list=self.list,
            view=self.view,
        )

    def snapshot(self) -> dict:
        """What a refused request must leave as it was."""
        with self.app.app_context():
            return {
                "profiles": db.session.execute(
                    select(Profile.id, Profile.username, Profile.updated_at).order_by(Profile.id)
                ).all(),
                "users": db.session.execute(
                    select(User.name, User.role, User.password_hash).order_by(User.name)
                ).all(),
                "sessions": db.session.execute(
                    select(UserSession.id, UserSession.ended_at).order_by(UserSession.id)
                ).all(),
                "tokens": db.session.execute(
                    select(ApiToken.id, ApiToken.revoked_at).order_by(ApiToken.id)
                ).all(),
                "jobs": db.session.execute(select(Job.id, Job.status).order_by(Job.id)).all(),
                "lists": db.session.execute(
                    select(Shortlist.id, Shortlist.name).order_by(Shortlist.id)
                ).all(),
                "list members": db.session.execute(
                    select(ListMember.list_id, ListMember.profile_id, ListMember.status).order_by(
                        ListMember.list_id, ListMember.profile_id
                    )
                ).all(),
                "views": db.session.execute(
                    select(SavedView.id, SavedView.name, SavedView.shared).order_by(SavedView.id)
                ).all(),
                "default views": db.session.execute(
                    select(DefaultView.user_id, DefaultView.view_id).order_by(DefaultView.user_id)
                ).all(),
                "audit": db.session.execute(
                    select(AuditEvent.action, AuditEvent.actor).order_by(AuditEvent.id)
                ).all(),
            }


@pytest.fixture
def world(app) -> World:
    return World(app)


@pytest.fixture
def small_seed(monkeypatch):
    """The overview's seed button queues 3 accounts instead of 200: same code, a smaller job."""
    monkeypatch.setattr(pages_views, "DEMO_SEED_COUNT", 3)


class Shared:
    """One app for the checks that only read: a World, a signed-in client and a token per role.

    Requests that change something get a fresh app per test (`app`, `world`) instead.
    """

    def __init__(self, app):
        self.app = app
        self.world = World(app)
        self.clients = {role: signed_in_client(app, role, f"{role}-user") for role in ROLES}
        self.tokens = {}
        for role in ROLES:
            make_user(app, f"{role}-robot", role)
            self.tokens[role] = make_token(app, f"{role}-robot")
        self._signed_in: dict[str, SignedInClient] = {}
        self._pages: dict = {}

    def client(self, who: str):
        """A client: anonymous, one per role, or a special one made once."""
        if who == "anonymous":
            return self.app.test_client()
        if who in self.clients:
            return self.clients[who]
        if who not in self._signed_in:
            if who == "nocsrf":
                made = signed_in_client(self.app, "admin", "nocsrf-admin")
                made.send_csrf = False
            elif who == "forced":
                make_user(self.app, "newbie", "viewer")
                with self.app.app_context():
                    users.get_user("newbie").must_change_password = True
                    db.session.commit()
                made = signed_in_client(self.app, "viewer", "newbie")
            else:
                raise AssertionError(who)
            self._signed_in[who] = made
        return self._signed_in[who]

    def page(self, name: str):
        """The answer for one of EXTRA_PAGES, asked once."""
        if name not in self._pages:
            self._pages[name] = _render(self, name)
        return self._pages[name]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    path = tmp_path_factory.mktemp("shared") / "toker.sqlite"
    # Sign-in counts live in one store for all apps: this app signs in a few clients only.
    app = build_app(f"sqlite:///{path}", TOKER_SIGNIN_LIMIT="1000 per minute")
    yield Shared(app)
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


# --- the structure of the routes -------------------------------------------------------------


def test_only_the_signin_page_health_and_static_files_are_public():
    assert set(PUBLIC_ENDPOINTS) == EXPECTED_PUBLIC


@pytest.mark.parametrize(
    ("rule", "endpoint", "method"),
    UNSAFE_ROUTES,
    ids=[f"{method} {rule}" for rule, _, method in UNSAFE_ROUTES],
)
def test_every_unsafe_route_names_the_role_it_needs(rule, endpoint, method):
    if endpoint == "auth.signin":
        return  # public: it is how one signs in
    view = ROUTE_APP.view_functions[endpoint]

    assert getattr(view, "required_role", None) in ROLES, (
        f"{method} {rule} ({endpoint}) has no explicit @requires(role)"
    )
    with ROUTE_APP.test_request_context():
        assert required_role(endpoint) == view.required_role


def test_a_view_without_requires_needs_the_least_role():
    with ROUTE_APP.test_request_context():
        assert required_role("pages.index") == "viewer"
        assert required_role(None) == "viewer"


# --- anonymous requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "endpoint"), GET_ROUTES, ids=[f"GET {rule}" for rule, _ in GET_ROUTES]
)
def test_anonymous_gets_are_sent_to_sign_in_except_public_routes(shared, rule, endpoint):
    path = shared.world.fill(rule)

    response = shared.client("anonymous").get(f"{path}?{PAGE_NEXT_QUERY}")
    response.close()

    if endpoint in EXPECTED_PUBLIC:
        assert response.status_code == 200, response.status_code
    elif path.startswith("/api/") and endpoint not in API_HTML_PAGES:
        assert_unauthorized(response)
    else:
        assert response.status_code == 302
        assert location(response) == ("/signin", {"next": [f"{path}?{PAGE_NEXT_QUERY}"]})


@pytest.mark.parametrize(
    ("rule", "endpoint", "method"),
    UNSAFE_ROUTES,
    ids=[f"{method} {rule}" for rule, _, method in UNSAFE_ROUTES],
)
def test_anonymous_unsafe_requests_change_nothing(app, anonymous, world, rule, endpoint, method):
    if endpoint == "auth.signin":
        return
    before = world.snapshot()

    response = anonymous.open(world.fill(rule), method=method, json={})

    if rule.startswith("/api/"):
        assert_unauthorized(response)
    else:
        assert response.status_code == 302
        assert location(response)[0] == "/signin"
    assert world.snapshot() == before


@pytest.mark.parametrize("path", ["/no/such/page", "/profiles/999999", "/admin/nothing"])
def test_anonymous_requests_for_unknown_pages_are_sent_to_sign_in(anonymous, path):
    response = anonymous.get(path)

    assert response.status_code == 302
    assert location(response) == ("/signin", {"next": [path]})


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/profiles", "/api/v1/profiles/999999"])
def test_anonymous_requests_for_unknown_api_paths_get_401(anonymous, path):
    assert_unauthorized(anonymous.get(path))


@pytest.mark.parametrize(
    ("current_url", "next_path"),
    [
        ("http://localhost/profiles?q=ab", "/profiles?q=ab"),
        ("http://localhost/", "/"),
        ("https://evil.example/steal", "/steal"),
        ("http://localhost//evil.example", None),
        (None, None),
    ],
)
def test_an_anonymous_htmx_request_gets_401_with_hx_redirect(anonymous, current_url, next_path):
    headers = {"HX-Request": "true"}
    if current_url:
        headers["HX-Current-URL"] = current_url

    response = anonymous.get("/profiles?q=ab", headers=headers)

    assert response.status_code == 401
    target = urlsplit(response.headers["HX-Redirect"])
    assert (target.scheme, target.netloc, target.path) == ("", "", "/signin")
    expected = {"next": [next_path]} if next_path else {}
    assert parse_qs(target.query) == expected


# --- roles -----------------------------------------------------------------------------------

ALL_OK = {"viewer": 200, "analyst": 200, "admin": 200}
ADMIN_ONLY = {"viewer": 403, "analyst": 403, "admin": 200}
ALL_303 = {"viewer": 303, "analyst": 303, "admin": 303}
# (method, path, JSON body or form, the status each role gets)
MATRIX = [
    ("GET", "/", None, ALL_OK),
    ("GET", "/profiles", None, ALL_OK),
    ("GET", "/profiles/{profile}", None, ALL_OK),
    ("GET", "/videos", None, ALL_OK),
    ("GET", "/map", None, ALL_OK),
    ("GET", "/compare?ids={profile},{profile2}", None, ALL_OK),
    ("GET", "/api/v1/profiles", None, ALL_OK),
    ("GET", "/api/v1/profiles/{profile}", None, ALL_OK),
    ("GET", "/api/v1/profiles/export", None, ALL_OK),
    ("POST", "/seed", {}, {"viewer": 403, "analyst": 303, "admin": 303}),
    ("POST", "/profiles/{profile}/resync", {}, {"viewer": 403, "analyst": 303, "admin": 303}),
    ("POST", "/profiles/{profile}/delete", {}, {"viewer": 403, "analyst": 403, "admin": 303}),
    ("GET", "/profiles/selected?ids={profile},{profile2}", None, ALL_OK),
    # A POST for its body that reads only: every role may export a selection.
    ("POST", "/profiles/bulk/export?format=json", {"ids": "{profile}"}, ALL_OK),
    (
        "POST",
        "/profiles/bulk/resync",
        {"ids": "{profile}"},
        {"viewer": 403, "analyst": 303, "admin": 303},
    ),
    # Without confirm, the admin gets the page that asks; with it, the profiles go.
    ("POST", "/profiles/bulk/delete", {"ids": "{profile}"}, ADMIN_ONLY),
    (
        "POST",
        "/profiles/bulk/delete",
        {"ids": "{profile}", "confirm": "yes"},
        {"viewer": 403, "analyst": 403, "admin": 303},
    ),
    ("DELETE", "/api/v1/profiles/{profile}", None, {"viewer": 403, "analyst": 403, "admin": 204}),
    ("GET", "/connect", None, {"viewer": 403, "analyst": 200, "admin": 200}),
    (
        "POST",
        "/connect/step",
        {"platform": "tiktok", "user_id": "{mock}", "step": "4"},
        {"viewer": 403, "analyst": 200, "admin": 200},
    ),
    (
        "POST",
        "/api/v1/connect",
        {"platform": "tiktok", "user_id": "{mock}"},
        {"viewer": 403, "analyst": 200, "admin": 200},
    ),
    (
        "POST",
        "/api/v1/profiles",
        {"platform": "tiktok", "payload": make_payload(user_id="third")},
        {"viewer": 403, "analyst": 201, "admin": 201},
    ),
    # A POST for its body that reads only: every role may build a roster.
    ("POST", "/api/v1/roster", {"mix": {"Music": 1}, "size": 2}, ALL_OK),
    ("GET", "/roster", None, ALL_OK),
    ("GET", "/jobs", None, ALL_OK),
    ("GET", "/jobs/{job}", None, ALL_OK),
    ("GET", "/api/v1/jobs", None, ALL_OK),
    ("GET", "/api/v1/jobs/{job}", None, ALL_OK),
    (
        "POST",
        "/api/v1/jobs",
        # The World's first profile has id 1.
        {"kind": "resync", "params": {"profile_ids": [1]}},
        {"viewer": 403, "analyst": 202, "admin": 202},
    ),
    # The World's job was started by someone else: only an admin may cancel it.
    ("POST", "/jobs/{job}/cancel", {}, {"viewer": 403, "analyst": 403, "admin": 303}),
    ("POST", "/api/v1/jobs/{job}/cancel", {}, {"viewer": 403, "analyst": 403, "admin": 200}),
    ("GET", "/lists", None, ALL_OK),
    ("GET", "/lists/{list}", None, ALL_OK),
    ("GET", "/lists/{list}/export?format=json", None, ALL_OK),
    ("POST", "/lists", {"name": "New"}, {"viewer": 403, "analyst": 303, "admin": 303}),
    (
        "POST",
        "/lists/from-roster",
        {"name": "Roster", "ids": "{profile}"},
        {"viewer": 403, "analyst": 303, "admin": 303},
    ),
    (
        "POST",
        "/lists/{list}/members/{profile}",
        {"status": "agreed"},
        {"viewer": 403, "analyst": 303, "admin": 303},
    ),
    ("GET", "/api/v1/lists", None, ALL_OK),
    ("GET", "/api/v1/lists/{list}", None, ALL_OK),
    ("POST", "/api/v1/lists", {"name": "New"}, {"viewer": 403, "analyst": 201, "admin": 201}),
    (
        "PATCH",
        "/api/v1/lists/{list}",
        {"name": "Renamed"},
        {"viewer": 403, "analyst": 200, "admin": 200},
    ),
    ("DELETE", "/api/v1/lists/{list}", None, {"viewer": 403, "analyst": 204, "admin": 204}),
    (
        "POST",
        "/api/v1/lists/{list}/members",
        {"profile_ids": [2]},  # the World's second profile
        {"viewer": 403, "analyst": 200, "admin": 200},
    ),
    (
        "PATCH",
        "/api/v1/lists/{list}/members/{profile}",
        {"status": "agreed"},
        {"viewer": 403, "analyst": 200, "admin": 200},
    ),
    (
        "DELETE",
        "/api/v1/lists/{list}/members/{profile}",
        None,
        {"viewer": 403, "analyst": 204, "admin": 204},
    ),
    ("GET", "/views", None, ALL_OK),
    # Anyone saves a personal view; the World's shared view is its owner's (not these users').
    ("POST", "/views", {"name": "New", "query": "platform=x"}, ALL_303),
    (
        "POST",
        "/views/{view}/edit",
        {"name": "Renamed", "query": ""},
        {"viewer": 403, "analyst": 403, "admin": 403},
    ),
    ("POST", "/views/{view}/default", {"default": "yes"}, ALL_303),
    ("POST", "/views/{view}/delete", {}, {"viewer": 403, "analyst": 403, "admin": 303}),
    ("GET", "/api/v1/views", None, ALL_OK),
    ("GET", "/api/v1/views/{view}", None, ALL_OK),
    ("POST", "/api/v1/views", {"name": "New"}, {"viewer": 201, "analyst": 201, "admin": 201}),
    (
        "POST",
        "/api/v1/views",
        {"name": "New", "shared": True},
        {"viewer": 403, "analyst": 201, "admin": 201},
    ),
    (
        "PATCH",
        "/api/v1/views/{view}",
        {"name": "Renamed"},
        {"viewer": 403, "analyst": 403, "admin": 403},
    ),
    ("PATCH", "/api/v1/views/{view}", {"default": True}, ALL_OK),
    ("DELETE", "/api/v1/views/{view}", None, {"viewer": 403, "analyst": 403, "admin": 204}),
    ("GET", "/admin/users", None, ADMIN_ONLY),
    ("GET", "/admin/tokens", None, ADMIN_ONLY),
    ("GET", "/admin/audit", None, ADMIN_ONLY),
    (
        "POST",
        "/admin/users",
        {"name": "carol", "role": "admin", "password": PASSWORD},
        {"viewer": 403, "analyst": 403, "admin": 303},
    ),
    (
        "POST",
        "/admin/users/{user}/role",
        {"role": "admin"},
        {"viewer": 403, "analyst": 403, "admin": 303},
    ),
    ("POST", "/admin/tokens/{token}/revoke", {}, {"viewer": 403, "analyst": 403, "admin": 303}),
    (
        "POST",
        "/admin/users/{user}/sessions/end",
        {},
        {"viewer": 403, "analyst": 403, "admin": 303},
    ),
]
MATRIX_CASES = [(role, *row) for row in MATRIX for role in ROLES]
# Reads and refusals change nothing, so they share one app; allowed changes get their own.
QUIET_CASES = [c for c in MATRIX_CASES if c[1] == "GET" or c[4][c[0]] == 403]
WRITE_CASES = [c for c in MATRIX_CASES if c not in QUIET_CASES]
API_QUIET_CASES = [c for c in QUIET_CASES if c[2].startswith("/api/")]
API_WRITE_CASES = [c for c in WRITE_CASES if c[2].startswith("/api/")]


def _case_id(case) -> str:
    role, method, path, _body, _statuses = case
    return f"{role}-{method} {path}"


def _send(client, world: World, method: str, path: str, body, headers=None):
    path = world.format(path)
    if body is None:
        return client.open(path, method=method, headers=headers)
    filled = {k: world.format(v) if isinstance(v, str) else v for k, v in body.items()}
    if path.startswith("/api/"):
        return client.open(path, method=method, json=filled, headers=headers)
    return client.open(path, method=method, data=filled, headers=headers)


def _check_answer(response, world: World, before: dict, path: str, expected: int) -> None:
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if expected == 403:
        if path.startswith("/api/"):
            assert_problem(response, 403)
        else:
            assert response.mimetype == "text/html"
            assert parse(response).select("#error-page")
        assert world.snapshot() == before, "a refused request changed nothing"


@pytest.mark.parametrize("case", QUIET_CASES, ids=[_case_id(c) for c in QUIET_CASES])
def test_each_role_reads_or_is_refused_as_its_role_says(shared, small_seed, case):
    role, method, path, body, statuses = case
    before = shared.world.snapshot()

    response = _send(shared.clients[role], shared.world, method, path, body)

    _check_answer(response, shared.world, before, path, statuses[role])


@pytest.mark.parametrize("case", WRITE_CASES, ids=[_case_id(c) for c in WRITE_CASES])
def test_each_role_may_change_what_its_role_allows(client_as, world, small_seed, case):
    role, method, path, body, statuses = case
    user = client_as(role, f"{role}-user")
    before = world.snapshot()

    response = _send(user, world, method, path, body)

    _check_answer(response, world, before, path, statuses[role])


@pytest.mark.parametrize("case", API_QUIET_CASES, ids=[_case_id(c) for c in API_QUIET_CASES])
def test_an_api_token_reads_or_is_refused_as_its_users_role_says(shared, case):
    role, method, path, body, statuses = case
    before = shared.world.snapshot()

    response = _send(
        shared.client("anonymous"), shared.world, method, path, body, bearer(shared.tokens[role])
    )

    _check_answer(response, shared.world, before, path, statuses[role])


@pytest.mark.parametrize("case", API_WRITE_CASES, ids=[_case_id(c) for c in API_WRITE_CASES])
def test_an_api_token_may_change_what_its_users_role_allows(app, anonymous, world, case):
    role, method, path, body, statuses = case
    make_user(app, f"{role}-robot", role)
    token = make_token(app, f"{role}-robot")
    before = world.snapshot()

    response = _send(anonymous, world, method, path, body, headers=bearer(token))

    _check_answer(response, world, before, path, statuses[role])


# --- CSRF ------------------------------------------------------------------------------------

NEW_PASSWORD = "a brand new passphrase 42"
# endpoint: (path, form, the status when the CSRF token is right)
CSRF_CASES = {
    "pages.seed_demo": ("/seed", {}, 303),
    "pages.resync": ("/profiles/{profile}/resync", {}, 303),
    "pages.delete": ("/profiles/{profile}/delete", {}, 303),
    "pages.bulk_export": ("/profiles/bulk/export?format=csv", {"ids": "{profile}"}, 200),
    "pages.bulk_resync": ("/profiles/bulk/resync", {"ids": "{profile},{profile2}"}, 303),
    "pages.bulk_delete": (
        "/profiles/bulk/delete",
        {"ids": "{profile}", "confirm": "yes"},
        303,
    ),
    "jobs.cancel": ("/jobs/{job}/cancel", {}, 303),
    "jobs.resync_stale": ("/jobs/resync-stale", {}, 303),
    "jobs.sync_hashtags": ("/jobs/sync", {"platform": "tiktok", "hashtags": "gaming"}, 303),
    "jobs.sync_trending": ("/jobs/sync/trending", {"platform": "tiktok"}, 303),
    "connect.many": ("/connect/many", {"lines": "tiktok,{mock}"}, 303),
    "connect.consent": ("/connect/consent", {"platform": "tiktok", "user_id": "42"}, 200),
    "connect.progress": ("/connect/progress", {"platform": "tiktok", "user_id": "42"}, 200),
    "connect.step": (
        "/connect/step",
        {"platform": "tiktok", "user_id": "{mock}", "step": "4"},
        200,
    ),
    "auth.signout": ("/signout", {}, 303),
    "auth.change_password": (
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        303,
    ),
    "admin.create_user": (
        "/admin/users",
        {"name": "carol", "role": "admin", "password": PASSWORD},
        303,
    ),
    "admin.change_role": ("/admin/users/{user}/role", {"role": "admin"}, 303),
    "admin.delete_user": ("/admin/users/{user}/delete", {}, 303),
    "admin.end_sessions": ("/admin/users/{user}/sessions/end", {}, 303),
    "admin.create_token": ("/admin/tokens", {"user": "alice", "name": "x"}, 200),
    "admin.revoke_token": ("/admin/tokens/{token}/revoke", {}, 303),
    "lists.create": ("/lists", {"name": "New"}, 303),
    "lists.delete": ("/lists/{list}/delete", {}, 303),
    "lists.update": ("/lists/{list}/edit", {"name": "Renamed", "description": ""}, 303),
    "lists.add_members": ("/lists/add", {"list_id": "{list}", "profile_id": "{profile2}"}, 303),
    "lists.update_member": ("/lists/{list}/members/{profile}", {"status": "agreed"}, 303),
    "lists.remove_member": ("/lists/{list}/members/{profile}/remove", {}, 303),
    "lists.from_roster": ("/lists/from-roster", {"name": "Roster", "ids": "{profile}"}, 303),
    "views.create": ("/views", {"name": "New", "query": "platform=x"}, 303),
    "views.update": ("/views/{view}/edit", {"name": "Renamed", "query": ""}, 303),
    "views.delete": ("/views/{view}/delete", {}, 303),
    "views.choose_default": ("/views/{view}/default", {"default": "yes"}, 303),
}
REFUSED = ("missing", "wrong-header", "wrong-field", "other-session")
ACCEPTED = ("header", "field")


def test_every_unsafe_page_route_has_a_csrf_case():
    unsafe_pages = {e for rule, e, _ in UNSAFE_ROUTES if not rule.startswith("/api/")}

    assert unsafe_pages == set(CSRF_CASES) | {"auth.signin"}


def _csrf_post(client, world: World, endpoint: str, variant: str, other_token: str = ""):
    path, form, _ = CSRF_CASES[endpoint]
    data = {k: world.format(v) for k, v in form.items()}
    headers = {}
    if variant in ("missing", "wrong-field", "field", "other-session"):
        client.send_csrf = False
    if variant == "wrong-header":
        headers["X-CSRFToken"] = "not-the-token"
    elif variant == "wrong-field":
        data["csrf_token"] = "not-the-token"
    elif variant == "field":
        data["csrf_token"] = client.csrf_token
    elif variant == "other-session":
        data["csrf_token"] = other_token
    return client.post(world.format(path), data=data, headers=headers)


@pytest.mark.parametrize("endpoint", list(CSRF_CASES))
def test_a_page_post_without_the_right_csrf_token_is_refused_and_changes_nothing(
    client, world, small_seed, endpoint
):
    other = signed_in_client(world.app, "viewer", "other")
    before = world.snapshot()

    # Each refusal leaves everything as it was, so the next variant meets the same state.
    for variant in REFUSED:
        response = _csrf_post(client, world, endpoint, variant, other.csrf_token)

        assert response.status_code == 400, variant
        assert response.mimetype == "text/html"
        assert world.snapshot() == before, variant
        client.send_csrf = True
        assert client.get("/api/v1/categories").status_code == 200, "still signed in"


@pytest.mark.parametrize("variant", ACCEPTED)
@pytest.mark.parametrize("endpoint", list(CSRF_CASES))
def test_a_page_post_with_the_csrf_token_in_the_header_or_the_form_is_accepted(
    client, world, small_seed, endpoint, variant
):
    before = world.snapshot()

    response = _csrf_post(client, world, endpoint, variant)

    assert response.status_code == CSRF_CASES[endpoint][2], response.text[:300]
    # Export reads only (the audit log, which the snapshot leaves out, records it).
    if endpoint not in ("connect.consent", "connect.progress", "pages.bulk_export"):
        assert world.snapshot() != before, "the accepted request did its work"


@pytest.mark.parametrize("variant", ["missing", "wrong-field", "field"])
def test_the_signin_form_needs_its_csrf_token(app, anonymous, variant):
    make_user(app, "alice", "viewer")
    data = {"name": "alice", "password": PASSWORD}
    if variant == "field":
        data["csrf_token"] = csrf_from(anonymous.get("/signin").text)
    elif variant == "wrong-field":
        data["csrf_token"] = "not-the-token"

    response = anonymous.post("/signin", data=data)

    assert response.status_code == (303 if variant == "field" else 400)
    assert (anonymous.get("/profiles").status_code == 200) == (variant == "field")


def test_htmx_sends_the_pages_csrf_token_from_hx_headers_on_body(client, world):
    page = parse(client.get("/connect"))
    headers = json.loads(one(page, "body").get("hx-headers"))
    assert set(headers) == {"X-CSRFToken"}
    client.send_csrf = False

    refused = client.post(
        "/connect/step",
        data={"platform": "tiktok", "user_id": world.user_id, "step": "1"},
        headers={"HX-Request": "true"},
    )
    accepted = client.post(
        "/connect/step",
        data={"platform": "tiktok", "user_id": world.user_id, "step": "1"},
        headers={"HX-Request": "true", **headers},
    )

    assert refused.status_code == 400
    assert accepted.status_code == 200


API_WRITES = [
    ("POST", "/api/v1/profiles", {"platform": "tiktok", "payload": make_payload(user_id="third")}),
    ("POST", "/api/v1/connect", {"platform": "tiktok", "user_id": "{mock}"}),
    ("DELETE", "/api/v1/profiles/{profile}", None),
    ("POST", "/api/v1/jobs", {"kind": "resync", "params": {"profile_ids": [1]}}),
    ("POST", "/api/v1/jobs/{job}/cancel", None),
    ("POST", "/api/v1/roster", {"mix": {"Music": 1}, "size": 2}),
    ("POST", "/api/v1/lists", {"name": "New"}),
    ("PATCH", "/api/v1/lists/{list}", {"description": "Changed"}),
    ("DELETE", "/api/v1/lists/{list}", None),
    ("POST", "/api/v1/lists/{list}/members", {"profile_ids": [2]}),
    ("PATCH", "/api/v1/lists/{list}/members/{profile}", {"note": "Changed"}),
    ("DELETE", "/api/v1/lists/{list}/members/{profile}", None),
    ("POST", "/api/v1/views", {"name": "New"}),
    ("PATCH", "/api/v1/views/{view}", {"default": True}),
]
API_IDS = [f"{method} {path}" for method, path, _ in API_WRITES]


@pytest.mark.parametrize("header", [None, "not-the-token"], ids=["missing", "wrong"])
@pytest.mark.parametrize(("method", "path", "body"), API_WRITES, ids=API_IDS)
def test_a_session_api_write_without_the_csrf_token_is_refused(
    client, world, method, path, body, header
):
    client.send_csrf = False
    before = world.snapshot()

    response = _send(
        client, world, method, path, body, headers={"X-CSRFToken": header} if header else None
    )

    assert_problem(response, 400)
    assert world.snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), API_WRITES, ids=API_IDS)
def test_a_session_api_write_with_the_csrf_token_is_accepted(client, world, method, path, body):
    response = _send(client, world, method, path, body)

    assert response.status_code in (200, 201, 202, 204), response.text[:300]


@pytest.mark.parametrize(("method", "path", "body"), API_WRITES, ids=API_IDS)
def test_a_bearer_token_api_write_needs_no_csrf_token(
    anonymous, world, auth_headers, method, path, body
):
    response = _send(anonymous, world, method, path, body, headers=auth_headers)

    assert response.status_code in (200, 201, 202, 204), response.text[:300]


# --- the HTML of every page ------------------------------------------------------------------

# Not HTML: files, the health answer, the badges (SVG images, see test_achievements), a
# list's export (tests/pages/test_lists_page.py).
NOT_PAGES = {"static", "assets.local_asset", "health.healthz", "pages.badge", "lists.export"}
PAGE_QUERIES = {
    "pages.compare": "ids={profile},{profile2}",
    "pages.like": "from={profile}",
    "pages.selected": "ids={profile},{profile2}",
    "pages.roster": "w:Music=60&w:Dance=40&size=3",
}
# name: (who, method, path, form, headers, status)
EXTRA_PAGES = {
    "signin": ("anonymous", "GET", "/signin", None, {}, 200),
    "signin-failed": (
        "anonymous",
        "POST",
        "/signin",
        {"name": "alice", "password": "wrong password!"},
        {},
        401,
    ),
    "consent": (
        "admin",
        "POST",
        "/connect/consent",
        {"platform": "tiktok", "user_id": "7"},
        {},
        200,
    ),
    "progress": (
        "admin",
        "POST",
        "/connect/progress",
        {"platform": "tiktok", "user_id": "7"},
        {},
        200,
    ),
    "step": (
        "admin",
        "POST",
        "/connect/step",
        {"platform": "tiktok", "user_id": "{mock}", "step": "2"},
        {"HX-Request": "true"},
        200,
    ),
    "profiles-partial": ("admin", "GET", "/profiles?q=e", None, {"HX-Request": "true"}, 200),
    "videos-partial": ("admin", "GET", "/videos?q=a", None, {"HX-Request": "true"}, 200),
    "new-token": ("admin", "POST", "/admin/tokens", {"user": "alice", "name": "t"}, {}, 200),
    "users-invalid": ("admin", "POST", "/admin/users", {"name": "", "role": "viewer"}, {}, 422),
    "page-404": ("admin", "GET", "/no/such/page", None, {}, 404),
    "page-403": ("viewer", "GET", "/admin/users", None, {}, 403),
    "page-400-csrf": ("nocsrf", "POST", "/seed", {}, {}, 400),
    "viewer-profile": ("viewer", "GET", "/profiles/{profile}", None, {}, 200),
    "bulk-delete-asks": ("admin", "POST", "/profiles/bulk/delete", {"ids": "{profile}"}, {}, 200),
    "forced-password": ("forced", "GET", "/account/password", None, {}, 200),
}
for _rule, _endpoint in GET_ROUTES:
    if _endpoint in NOT_PAGES | {"auth.signin"} or (
        _rule.startswith("/api/") and _endpoint != "api.api_docs"
    ):
        continue
    _query = PAGE_QUERIES.get(_endpoint)
    EXTRA_PAGES[f"GET {_rule}"] = (
        "admin",
        "GET",
        _rule + (f"?{_query}" if _query else ""),
        None,
        {},
        200,
    )
PAGE_NAMES = list(EXTRA_PAGES)


def _render(shared: Shared, name: str):
    who, method, path, form, headers, status = EXTRA_PAGES[name]
    world = shared.world
    browser = shared.client(who)
    path = world.fill(world.format(path))
    data = {k: world.format(v) for k, v in form.items()} if form is not None else None
    if who == "anonymous" and method == "POST":
        data["csrf_token"] = csrf_from(browser.get("/signin").text)
    response = browser.open(path, method=method, data=data, headers=headers)
    assert response.status_code == status, response.text[:300]
    assert response.mimetype == "text/html"
    response.get_data()
    return response


def _script_sources(app) -> set[str]:
    return set(_csp(app.config["TOKER_CSP"])["script-src"])


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_no_page_holds_inline_scripts_or_event_handlers(shared, name):
    allowed = _script_sources(shared.app)
    doc = parse(shared.page(name))

    assert inline_code(doc) == []
    for script in doc.select("script"):
        src = script["src"]
        same_origin = src.startswith("/") and not src.startswith("//")
        assert same_origin or src in allowed, f"{src} is not allowed by the CSP"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_post_form_on_every_page_carries_a_csrf_token(shared, name):
    doc = parse(shared.page(name))

    for form in doc.select("form"):
        if form.get("method", "get").lower() != "post":
            continue
        tokens = form.select("input[name=csrf_token]")
        assert len(tokens) == 1 and tokens[0].get("value"), (
            f"the form posting to {form.get('action')} has no CSRF token"
        )


def _form_fields(form) -> dict[str, str]:
    """What a browser sends for a form left as it is."""
    data = {}
    for control in form.find_all(True):
        name = control.get("name")
        if not name:
            continue
        kind = control.get("type", "text").lower()
        if control.name == "input" and kind in ("submit", "button", "image", "reset"):
            continue
        if control.name == "input" and kind in ("checkbox", "radio"):
            if "checked" in control.attrs or (kind == "radio" and name not in data):
                data[name] = control.get("value", "on")
            continue
        if control.name == "select":
            options = control.select("option")
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            data[name] = chosen[0].get("value", text_of(chosen[0])) if chosen else ""
        elif control.name in ("input", "textarea"):
            data[name] = control.get(
                "value", text_of(control) if control.name == "textarea" else ""
            )
    return data


# (page, the action of the form on it)
BROWSER_FORMS = [
    ("/", "/seed"),
    ("/", "/signout"),
    ("/profiles/{profile}", "/profiles/{profile}/resync"),
    ("/profiles/{profile}", "/profiles/{profile}/delete"),
    ("/profiles/selected?ids={profile},{profile2}", "/profiles/bulk/export"),
    ("/profiles/selected?ids={profile},{profile2}", "/profiles/bulk/resync"),
    ("/profiles/selected?ids={profile},{profile2}", "/profiles/bulk/delete"),
    ("/connect", "/connect/consent"),
    ("/account/password", "/account/password"),
    ("/admin/users", "/admin/users"),
    ("/admin/users", "/admin/users/{user}/role"),
    ("/admin/users", "/admin/users/{user}/delete"),
    ("/admin/tokens", "/admin/tokens"),
    ("/admin/tokens", "/admin/tokens/{token}/revoke"),
    ("/lists", "/lists"),
    ("/lists/{list}", "/lists/{list}/delete"),
    ("/lists/{list}", "/lists/{list}/edit"),
    ("/lists/{list}", "/lists/{list}/members/{profile}/remove"),
    ("/profiles/{profile2}", "/lists/add"),
    ("/roster?w:Music=60&size=2", "/lists/from-roster"),
    ("/profiles", "/views"),
    ("/views", "/views/{view}/edit"),
    ("/views", "/views/{view}/delete"),
    ("/views", "/views/{view}/default"),
]


@pytest.mark.parametrize(("page", "action"), BROWSER_FORMS)
def test_each_form_passes_the_csrf_check_as_a_browser_submits_it(
    client, world, small_seed, page, action
):
    page, action = world.format(page), world.format(action)
    if action == "/seed":  # the overview offers seeding only while there are no profiles
        with world.app.app_context():
            for profile_id in (world.profile, world.profile2):
                profile_service.delete_profile(profile_id)
    doc = parse(client.get(page))
    [form] = [f for f in doc.select("form") if urlsplit(f.get("action", "")).path == action]
    client.send_csrf = False  # a plain form post sends only its fields

    response = client.post(action, data=_form_fields(form))

    assert response.status_code != 400, f"the form posting to {action} failed the CSRF check"
    assert response.status_code in (200, 303, 422)


def test_the_consent_form_passes_the_csrf_check_as_a_browser_submits_it(client):
    consent = client.post("/connect/consent", data={"platform": "tiktok", "user_id": "7"})
    [form] = parse(consent).select('form[action="/connect/progress"]')
    client.send_csrf = False

    response = client.post(form.get("action"), data=_form_fields(form))

    assert response.status_code == 200
    assert parse(response).select('[hx-post="/connect/step"]'), "the progress view"


# --- security headers and the Content-Security-Policy ----------------------------------------


def _csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def _header_case(shared: Shared, name: str):
    world = shared.world
    admin = shared.clients["admin"]
    anonymous = shared.client("anonymous")
    token = bearer(world.token)
    if name == "page":
        return admin.get("/")
    if name == "api":
        return admin.get("/api/v1/profiles")
    if name == "api-token":
        return anonymous.get(f"/api/v1/profiles/{world.profile}", headers=token)
    if name == "api-export":
        return admin.get("/api/v1/profiles/export")
    if name == "page-404":
        return admin.get("/no/such/page")
    if name == "api-404":
        return admin.get("/api/v1/profiles/999999")
    if name == "page-403":
        return shared.clients["viewer"].get("/admin/users")
    if name == "api-403":
        return anonymous.delete(f"/api/v1/profiles/{world.profile}", headers=token)
    if name == "page-400-csrf":
        return shared.client("nocsrf").post("/seed")
    if name == "api-422":
        return admin.post("/api/v1/profiles", json={"platform": "tiktok", "payload": {}})
    if name == "signin":
        return anonymous.get("/signin")
    if name == "signin-redirect":
        return anonymous.get("/profiles")
    if name == "api-401":
        return anonymous.get("/api/v1/profiles")
    if name == "htmx-401":
        return anonymous.get("/profiles", headers={"HX-Request": "true"})
    if name == "healthz":
        return anonymous.get("/healthz")
    if name == "static":
        return anonymous.get("/static/css/toker.css")
    raise AssertionError(name)


HEADER_CASES = [
    "page",
    "api",
    "api-token",
    "api-export",
    "page-404",
    "api-404",
    "page-403",
    "api-403",
    "page-400-csrf",
    "api-422",
    "signin",
    "signin-redirect",
    "api-401",
    "htmx-401",
    "healthz",
    "static",
]
SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize("name", HEADER_CASES)
def test_every_answer_carries_the_security_headers(shared, name):
    app = shared.app
    response = _header_case(shared, name)
    response.get_data()
    response.close()

    headers = response.headers
    assert headers["Content-Security-Policy"] == app.config["TOKER_CSP"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in SAFE_REFERRER_POLICIES


@pytest.mark.parametrize("mode", ["cdn", "local"])
def test_the_csp_allows_scripts_only_from_the_app_and_the_pinned_cdn_files(make_app, mode):
    app = make_app(TOKER_ASSETS=mode)
    admin = signed_in_client(app, "admin", "admin")

    response = admin.get("/")

    csp = _csp(response.headers["Content-Security-Policy"])
    cdn = {asset.cdn_url for asset in ASSETS} if mode == "cdn" else set()
    assert set(csp["script-src"]) == {"'self'"} | cdn
    assert len(csp["script-src"]) == len(set(csp["script-src"]))
    for value in csp["script-src"]:
        assert value not in ("'unsafe-inline'", "'unsafe-eval'", "*", "https:", "http:", "data:")
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] in (["'self'"], ["'none'"])
    sources = [s.get("src") for s in parse(response).select("script")]
    external = {src for src in sources if not src.startswith("/")}
    assert external == cdn, "the page loads exactly the pinned CDN files, or none"


# --- CORS ------------------------------------------------------------------------------------

ORIGIN = "https://app.example"


def _preflight(client, path: str, method: str = "GET", origin: str = ORIGIN):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def _allowed(response, name: str) -> set[str]:
    return {v.strip().lower() for v in response.headers.get(name, "").split(",") if v.strip()}


def test_without_configured_origins_no_cross_origin_call_is_allowed(make_app):
    app = make_app(TOKER_CORS_ORIGINS="")
    make_user(app, "robot", "viewer")
    token = make_token(app, "robot")
    browser = app.test_client()

    preflight = _preflight(browser, "/api/v1/profiles")
    call = browser.get("/api/v1/profiles", headers={"Origin": ORIGIN, **bearer(token)})

    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert call.status_code == 200
    assert "Access-Control-Allow-Origin" not in call.headers


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/v1/profiles", "GET"), ("/api/v1/profiles/1", "DELETE"), ("/api/v1/connect", "POST")],
)
def test_a_configured_origin_may_preflight_with_authorization_without_signing_in(
    make_app, path, method
):
    app = make_app(TOKER_CORS_ORIGINS=ORIGIN)

    response = _preflight(app.test_client(), path, method)

    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in _allowed(response, "Access-Control-Allow-Headers")
    assert method.lower() in _allowed(response, "Access-Control-Allow-Methods")
    assert response.headers.get("Access-Control-Allow-Credentials") != "true"


def test_a_configured_origin_gets_cors_headers_on_token_calls_and_no_other_origin_does(
    make_app,
):
    app = make_app(TOKER_CORS_ORIGINS=f"{ORIGIN}, https://other-app.example")
    make_user(app, "robot", "viewer")
    token = make_token(app, "robot")
    browser = app.test_client()

    allowed = browser.get("/api/v1/profiles", headers={"Origin": ORIGIN, **bearer(token)})
    foreign = browser.get(
        "/api/v1/profiles", headers={"Origin": "https://evil.example", **bearer(token)}
    )
    foreign_preflight = _preflight(browser, "/api/v1/profiles", origin="https://evil.example")
    page = browser.get("/signin", headers={"Origin": ORIGIN})

    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "origin" in _allowed(allowed, "Vary")
    assert allowed.headers.get("Access-Control-Allow-Credentials") != "true"
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert "Access-Control-Allow-Origin" not in foreign_preflight.headers
    assert "Access-Control-Allow-Origin" not in page.headers, "pages are never cross-origin"


def test_a_preflight_does_not_run_the_view_or_authenticate(make_app):
    app = make_app(TOKER_CORS_ORIGINS=ORIGIN)
    profile_id = store_profile(app)

    response = _preflight(app.test_client(), f"/api/v1/profiles/{profile_id}", "DELETE")

    assert response.status_code in (200, 204)
    assert not response.get_data()
    with app.app_context():
        assert db.session.get(Profile, profile_id) is not None
