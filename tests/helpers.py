"""Checks and calls that many test modules share: the problem+json shape, storing a profile
through the API, counting stored profiles."""

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Profile

from .factories import make_payload

PROBLEM_JSON = "application/problem+json"


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


def post_profile(client, platform: str = "tiktok", expect=(200, 201), **overrides) -> dict:
    """Store make_payload(**overrides) through the API, answered with a status in `expect`
    (or equal to it); the stored profile's detail."""
    response = client.post(
        "/api/v1/profiles", json={"platform": platform, "payload": make_payload(**overrides)}
    )
    expected = expect if isinstance(expect, tuple) else (expect,)
    assert response.status_code in expected, response.get_json()
    return response.get_json()["profile"]


def profile_count(app) -> int:
    """How many profiles are stored, read in the app's database."""
    with app.app_context():
        return db.session.scalar(select(func.count(Profile.id)))
