"""Checks and calls that many test modules share: the problem+json and 401 shapes, storing
profiles, counting them, signing in through the form, redirects, and reading HTML pages with
BeautifulSoup's CSS selectors."""

import functools
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, Tag
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Profile
from webapp.services.ingestion import onboarding

from .factories import PASSWORD, csrf_from, make_payload, mock_user_id, video

PROBLEM_JSON = "application/problem+json"
# Attributes whose value a browser follows as a URL: a javascript: one there runs code.
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster")


def assert_problem(response, status: int, *locs: str, within: bool = False) -> dict:
    """Check an application/problem+json answer with this status; with locs, that its
    `errors` name each of them (with `within`, a loc is also named by anything inside it:
    'liked_videos[1]' by 'liked_videos[1].likes'). Returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["status"] == status
    for key in ("type", "title", "detail"):
        assert isinstance(body[key], str) and body[key], key
    if locs:
        errors = body["errors"]
        assert errors, "a validation problem lists its errors"
        for error in errors:
            assert isinstance(error["loc"], str)
            assert isinstance(error["msg"], str) and error["msg"]
        found = [error["loc"] for error in errors]
        for loc in locs:
            inside = within and loc and any(f.startswith((f"{loc}[", f"{loc}.")) for f in found)
            assert loc in found or inside, f"errors do not name {loc!r}: {found}"
    return body


def assert_unauthorized(response) -> dict:
    """A 401 problem that says how to authenticate."""
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    return body


def post_profile(client, platform: str = "tiktok", expect=(200, 201), **overrides) -> dict:
    """Store make_payload(**overrides) through the API, answered with a status in `expect`
    (or equal to it); the stored profile's detail."""
    response = client.post(
        "/api/v1/profiles", json={"platform": platform, "payload": make_payload(**overrides)}
    )
    expected = expect if isinstance(expect, tuple) else (expect,)
    assert response.status_code in expected, response.get_json()
    return response.get_json()["profile"]


def store_profile(app, **overrides) -> int:
    """Store make_payload(**overrides) as a TikTok profile; its id."""
    with app.app_context():
        outcome = onboarding.submit_payload("tiktok", make_payload(**overrides))
        assert outcome.accepted, outcome.reason
        return outcome.profile_id


def store_mix(user_id: str, counts: dict[str, int], followers=1500, platform="tiktok") -> int:
    """Store a profile (in the current app context) whose liked videos have each of these
    categories this many times, and nothing else: its interest vector is proportional to
    `counts`. Its id; the user id is its username too."""
    names = [name for name, count in counts.items() for _ in range(count)]
    liked = [video(f"{user_id}-{i}", categories=[name]) for i, name in enumerate(names)]
    payload = make_payload(
        user_id=user_id,
        username=user_id,
        followers_count=followers,
        liked_videos=liked,
        shared_videos=[],
    )
    outcome = onboarding.submit_payload(platform, payload)
    assert outcome.accepted, outcome.reason
    return outcome.profile_id


@functools.cache
def accepted_user_id() -> str:
    """A TikTok mock account that the likes minimum accepts."""
    return mock_user_id("tiktok", accepted=True)


def connect_profile(app) -> tuple[int, str]:
    """Store a mock TikTok account through the pipeline; (profile id, user id)."""
    user_id = accepted_user_id()
    with app.app_context():
        outcome = onboarding.connect_account("tiktok", user_id)
        assert outcome.accepted
        return outcome.profile_id, user_id


def profile_count(app) -> int:
    """How many profiles are stored, read in the app's database."""
    with app.app_context():
        return db.session.scalar(select(func.count(Profile.id)))


# --- signing in and redirects ----------------------------------------------------------------


def signin_post(client, name: str, password: str = PASSWORD, **extra):
    """Post the sign-in form the way a browser does, with the page's CSRF token."""
    token = csrf_from(client.get("/signin").text)
    return client.post(
        "/signin", data={"name": name, "password": password, "csrf_token": token, **extra}
    )


def bearer(token: str) -> dict[str, str]:
    """Headers that authenticate an API call with this token."""
    return {"Authorization": f"Bearer {token}"}


def location(response) -> tuple[str, dict[str, list[str]]]:
    """The path and query of a redirect's Location."""
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "localhost"), response.headers["Location"]
    return parts.path, parse_qs(parts.query)


# --- reading pages ---------------------------------------------------------------------------


def parse(response_or_text) -> BeautifulSoup:
    """An HTML response (or string) as a tree, read by Python's own html.parser."""
    source = (
        response_or_text
        if isinstance(response_or_text, str)
        else response_or_text.get_data(as_text=True)
    )
    return BeautifulSoup(source, "html.parser")


def html_page(response, status: int = 200) -> BeautifulSoup:
    """Check the status and the HTML content type, then parse."""
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return parse(response)


def one(scope: Tag, selector: str) -> Tag:
    """The only element under `scope` that matches the CSS selector."""
    found = scope.select(selector)
    assert len(found) == 1, f"{len(found)} elements match {selector!r}"
    return found[0]


def text_of(element: Tag) -> str:
    """An element's text as a reader sees it: runs of whitespace collapsed to one space."""
    return " ".join(element.get_text().split())


def inline_code(doc: Tag) -> list[str]:
    """Whatever on the page runs code written into the HTML itself, which the
    Content-Security-Policy forbids: event-handler attributes (on...), a <script> without src
    or with code inside, a javascript: URL."""
    found = []
    for element in doc.find_all(True):
        handlers = sorted(name for name in element.attrs if name.startswith("on"))
        if handlers:
            found.append(f"<{element.name}> with event handlers {handlers}")
        if element.name == "script" and (not element.get("src") or element.get_text().strip()):
            found.append(f"an inline <script>: {element}")
        for name in URL_ATTRIBUTES:
            value = element.get(name, "")
            if value.strip().lower().startswith("javascript:"):
                found.append(f"<{element.name} {name}={value!r}>")
    return found
