"""Small builders for payloads, stored profiles, users, tokens and signed-in clients."""

import copy
import re

from flask.testing import FlaskClient

from webapp import create_app
from webapp.extensions import db
from webapp.models import ProfileSnapshot
from webapp.services.accounts import users
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.taxonomy import CATEGORIES, CATEGORY_INDEX
from webapp.services.ingestion.vectors import pack_weights

SEED_000_SAMPLE = {
    "user_id": "123456",
    "username": "example_user",
    "user_pseudo": "example_pseudo",
    "verified": False,
    "followers_count": 1500,
    "following_count": 300,
    "likes_count": 5000,
    "videos_count": 100,
    "number_of_comments": 200,
    "number_of_likes_on_own_videos": 4500,
    "number_of_likes": 6000,
    "number_of_shares": 800,
    "liked_videos": [
        {
            "video_id": "967235098701",
            "categories": ["Technology", "Education"],
            "likes": 300,
            "comments": 20,
            "shares": 15,
        },
        {
            "video_id": "967235098702",
            "hashtags": ["#fun", "#entertainment"],
            "likes": 500,
            "comments": 50,
            "shares": 30,
        },
    ],
    "shared_videos": [
        {
            "video_id": "967235098703",
            "categories": ["Music", "Dance"],
            "likes": 400,
            "comments": 25,
            "shares": 20,
        },
        {
            "video_id": "9672350798703",
            "categories": ["Music", "Dance"],
            "likes": 400,
            "comments": 25,
            "shares": 20,
        },
    ],
}


def make_payload(**overrides) -> dict:
    """A deep copy of the seed 000 sample with top-level fields replaced."""
    payload = copy.deepcopy(SEED_000_SAMPLE)
    payload.update(overrides)
    return payload


def video(video_id, categories=None, hashtags=None, likes=10, comments=1, shares=1) -> dict:
    """One video entry; categories and hashtags are left out when None."""
    item = {"video_id": video_id}
    if categories is not None:
        item["categories"] = categories
    if hashtags is not None:
        item["hashtags"] = hashtags
    item.update(likes=likes, comments=comments, shares=shares)
    return item


def accepted_user_ids(platform: str, count: int) -> list[str]:
    """The first `count` user ids whose mock accounts are above the likes minimum."""
    connector = get_connector(platform)
    found = []
    for i in range(10_000):
        if connector.generate(str(i))["number_of_likes"] >= 100:
            found.append(str(i))
            if len(found) == count:
                return found
    raise AssertionError("the mock never produced so many such accounts")


def mock_user_id(platform: str, accepted: bool) -> str:
    """The first user id whose mock account is (or is not) above the likes minimum."""
    connector = get_connector(platform)
    for i in range(10_000):
        if (connector.generate(str(i))["number_of_likes"] >= 100) == accepted:
            return str(i)
    raise AssertionError("the mock never produced such an account")


PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class SignedInClient(FlaskClient):
    """A test client that sends its CSRF token with unsafe requests once it has one."""

    csrf_token: str | None = None
    send_csrf = True

    def open(self, *args, **kwargs):
        method = str(kwargs.get("method", "GET")).upper()
        if self.csrf_token and self.send_csrf and method in UNSAFE:
            headers = dict(kwargs.get("headers") or {})
            if not any(name.lower() in ("x-csrftoken", "authorization") for name in headers):
                headers["X-CSRFToken"] = self.csrf_token
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def csrf_from(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def make_user(app, name: str, role: str, password: str = PASSWORD):
    """Create a user (if not there yet) with this role and password."""
    with app.app_context():
        user = users.find_user(name)
        if user is None:
            user = users.create_user(name, password, role)
        return user.id


def make_token(app, name: str, token_name: str = "tests") -> str:
    """A new API token for the user called `name`."""
    with app.app_context():
        _, token = users.create_token(users.get_user(name), token_name)
        return token


def sign_in(client, name: str, password: str = PASSWORD):
    """Sign `client` in through the sign-in form and keep its CSRF token; returns the client."""
    page = client.get("/signin")
    response = client.post(
        "/signin",
        data={"name": name, "password": password, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 303, response.text
    client.csrf_token = csrf_from(client.get("/account/password").text)
    return client


def signed_in_client(app, role: str = "admin", name: str | None = None):
    """A new test client of `app`, signed in as a user with `role` (created if needed)."""
    app.test_client_class = SignedInClient
    name = name or f"{role}-user"
    make_user(app, name, role)
    return sign_in(app.test_client(), name)


def app_config(database_url: str, **overrides) -> dict:
    """The settings every test app runs with, on `database_url`, then `overrides`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TOKER_MIN_LIKES": 100,
        "TOKER_CATALOGUE_MAX_STALE": 0,
        "TOKER_ENV": "development",
        "TOKER_PASSWORD_HASHING": "cheapest",
        # Jobs queue in this process only: no test leaves a message for a real worker.
        "TOKER_QUEUE_URL": "memory://",
        **overrides,
    }


def build_app(database_url: str, **config):
    """An app like the `app` fixture's, plus `config`, with its tables created."""
    app = create_app(app_config(database_url, **config))
    app.test_client_class = SignedInClient
    with app.app_context():
        db.create_all()
    return app


def add_snapshot(app, profile_id: int, taken_at, followers: int, rate: float, **shares) -> int:
    """Store a snapshot of a profile by hand: its followers, engagement rate and interest
    shares by category name (the other figures 0); its id."""
    vector = [0.0] * len(CATEGORIES)
    for name, share in shares.items():
        vector[CATEGORY_INDEX[name]] = share
    with app.app_context():
        snapshot = ProfileSnapshot(
            profile_id=profile_id,
            taken_at=taken_at,
            followers_count=followers,
            following_count=0,
            likes_count=0,
            videos_count=1,
            number_of_comments=0,
            number_of_likes_on_own_videos=0,
            number_of_likes=0,
            number_of_shares=0,
            engagement_rate=rate,
            weights=pack_weights(vector),
        )
        db.session.add(snapshot)
        db.session.commit()
        return snapshot.id
