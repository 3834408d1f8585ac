"""The JSON API through the Flask test client: every route, its answers and its errors."""

import json
import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from webapp import create_app
from webapp.api import routes as api_routes
from webapp.extensions import db
from webapp.models import Profile, ProfileInterest, ProfileVideo, Video
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.connectors import mock as mock_connectors
from webapp.services.ingestion.seeding import seed_profiles
from webapp.services.ingestion.taxonomy import CATEGORIES

from ..factories import make_payload, mock_user_id, signed_in_client, video
from ..helpers import PROBLEM_JSON, assert_problem, post_profile, profile_count

POPULATION = 25


# --- helpers -------------------------------------------------------------------------------


def list_profiles(client, **params) -> dict:
    response = client.get("/api/v1/profiles", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def population(client) -> list[dict]:
    """25 profiles whose id, username, followers and likes orders all differ."""
    made = []
    for i in range(POPULATION):
        made.append(
            post_profile(
                client,
                user_id=f"u{i:02d}",
                username=f"user{(i * 11) % POPULATION:02d}",
                user_pseudo=f"Pseudo {i}",
                followers_count=((i * 37) % 101) * 10,
                number_of_likes=100 + (i * 53) % 97,
            )
        )
    return made


# --- GET /api/v1/profiles ------------------------------------------------------------------


def test_list_empty_has_the_page_shape(client):
    body = list_profiles(client)
    assert set(body) == {"items", "page", "per_page", "total"}
    assert body["items"] == []
    assert body["page"] == 1
    assert body["total"] == 0
    assert isinstance(body["per_page"], int) and 1 <= body["per_page"] <= 100


def test_list_paginates(client, population):
    full = list_profiles(client, sort="username", order="asc", per_page=100)
    assert full["total"] == POPULATION
    assert len(full["items"]) == POPULATION

    page2 = list_profiles(client, sort="username", order="asc", per_page=10, page=2)
    assert (page2["page"], page2["per_page"], page2["total"]) == (2, 10, POPULATION)
    assert [item["username"] for item in page2["items"]] == [f"user{k}" for k in range(10, 20)]
    assert [item["id"] for item in page2["items"]] == [item["id"] for item in full["items"][10:20]]

    page3 = list_profiles(client, sort="username", order="asc", per_page=10, page=3)
    assert [item["id"] for item in page3["items"]] == [item["id"] for item in full["items"][20:]]

    past = list_profiles(client, per_page=10, page=4)
    assert past["items"] == []
    assert (past["page"], past["total"]) == (4, POPULATION)


def test_list_per_page_is_capped_at_100(app, client):
    with app.app_context():
        report = seed_profiles(150, min_likes=100, platform="tiktok", workers=1, seed=1)
    assert report.stored > 100

    body = list_profiles(client, per_page=500)
    assert body["per_page"] == 100
    assert len(body["items"]) == 100
    assert body["total"] == report.stored
    rest = list_profiles(client, per_page=500, page=2)
    assert len(rest["items"]) == report.stored - 100


def test_list_items_summarise_profiles(client):
    stored = post_profile(client)
    (item,) = list_profiles(client)["items"]
    assert item["id"] == stored["id"]
    assert item["platform"] == "tiktok"
    for field in ("user_id", "username", "followers_count", "number_of_likes"):
        assert item[field] == make_payload()[field]


def test_q_matches_username_substring_case_insensitively(client):
    for user_id, username in (("1", "MixedAlpha"), ("2", "alphabet"), ("3", "beta")):
        post_profile(client, user_id=user_id, username=username, user_pseudo="someone")
    body = list_profiles(client, q="ALPH")
    assert body["total"] == 2
    assert sorted(item["username"] for item in body["items"]) == ["MixedAlpha", "alphabet"]
    assert list_profiles(client, q="zzz")["total"] == 0


@pytest.mark.parametrize(
    "q, expected",
    [
        ("%", ["100%real"]),
        ("0%r", ["100%real"]),
        ("_", ["a_b"]),
        ("a_b", ["a_b"]),
    ],
)
def test_q_treats_like_wildcards_literally(client, q, expected):
    for i, username in enumerate(("100%real", "100xreal", "a_b", "axb", "plain")):
        post_profile(client, user_id=str(i), username=username, user_pseudo="someone")
    body = list_profiles(client, q=q)
    assert [item["username"] for item in body["items"]] == expected
    assert body["total"] == len(expected)


def test_platform_filter(client):
    post_profile(client, "tiktok", user_id="1")
    post_profile(client, "tiktok", user_id="2")
    post_profile(client, "x", user_id="1")
    post_profile(client, "instagram", user_id="1")
    for platform, count in (("tiktok", 2), ("x", 1), ("instagram", 1)):
        body = list_profiles(client, platform=platform)
        assert body["total"] == count
        assert [item["platform"] for item in body["items"]] == [platform] * count


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize(
    "sort, field",
    [("followers", "followers_count"), ("likes", "number_of_likes"), ("username", "username")],
)
def test_list_sorts_by_field(client, population, sort, field, order):
    items = list_profiles(client, sort=sort, order=order, per_page=100)["items"]
    values = [item[field] for item in items]
    expected = sorted((profile[field] for profile in population), reverse=order == "desc")
    assert values == expected


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_list_sorts_by_created(app, client, population, order):
    # The newest profile is made the oldest, so created order is not id order.
    newest = population[-1]["id"]
    with app.app_context():
        db.session.get(Profile, newest).created_at = datetime(2000, 1, 1, tzinfo=UTC)
        db.session.commit()
    items = list_profiles(client, sort="created", order=order, per_page=100)["items"]
    ids = [item["id"] for item in items]
    expected = [newest] + [profile["id"] for profile in population[:-1]]
    assert ids == (expected if order == "asc" else expected[::-1])
    created = [item["created_at"] for item in items]
    assert created == sorted(created, reverse=order == "desc")


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_list_sorts_by_updated(client, population, order):
    resynced = population[5]
    post_profile(client, user_id=resynced["user_id"], username=resynced["username"])
    items = list_profiles(client, sort="updated", order=order, per_page=100)["items"]
    ids = [item["id"] for item in items]
    expected = [profile["id"] for profile in population if profile is not resynced]
    expected.append(resynced["id"])
    assert ids == (expected if order == "asc" else expected[::-1])
    updated = [item["updated_at"] for item in items]
    assert updated == sorted(updated, reverse=order == "desc")


@pytest.mark.parametrize(
    "param, value",
    [
        ("page", "0"),
        ("page", "abc"),
        ("per_page", "-1"),
        ("per_page", "0"),
        ("sort", "nope"),
        ("order", "up"),
        ("platform", "myspace"),
        ("q", "a" * 101),
    ],
)
def test_list_rejects_bad_parameters(client, param, value):
    response = client.get("/api/v1/profiles", query_string={param: value})
    body = assert_problem(response, 400, param)
    assert [error["loc"] for error in body["errors"]] == [param]


# --- GET /api/v1/profiles/<id> and /vector -------------------------------------------------

DESIGN_EXAMPLE = {
    "liked_videos": [
        video(967235098701, categories=["Technology", "Education"]),
        video("v2", categories=["Music"], hashtags=["#Fun"]),
    ],
    "shared_videos": [video(42, categories=["Music", "Dance"], hashtags=["fun", "#dance"])],
}


def test_get_profile_returns_payload_fields_and_derived_data(client):
    payload = make_payload(**DESIGN_EXAMPLE)
    created = client.post("/api/v1/profiles", json={"platform": "x", "payload": payload})
    profile_id = created.get_json()["profile"]["id"]

    response = client.get(f"/api/v1/profiles/{profile_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    detail = response.get_json()
    assert detail["id"] == profile_id
    assert detail["platform"] == "x"
    for field, value in payload.items():
        if field not in ("liked_videos", "shared_videos"):
            assert detail[field] == value, field

    # video_id arrives as a number or a string and always leaves as a string.
    assert [v["video_id"] for v in detail["liked_videos"]] == ["967235098701", "v2"]
    assert [v["video_id"] for v in detail["shared_videos"]] == ["42"]
    assert detail["liked_videos"][0]["categories"] == ["Technology", "Education"]

    interest = detail["interest"]
    assert set(interest) == set(CATEGORIES)
    assert math.isclose(sum(interest.values()), 1.0)
    expected = {"Technology": 0.125, "Education": 0.125, "Music": 0.5, "Dance": 0.25}
    for name in CATEGORIES:
        assert math.isclose(interest[name], expected.get(name, 0.0), abs_tol=1e-12), name

    assert [t["category"] for t in detail["top_categories"]] == [
        "Music",
        "Dance",
        "Education",
        "Technology",
    ]
    assert math.isclose(detail["top_categories"][0]["weight"], 0.5)
    assert detail["top_hashtags"][0] == {"hashtag": "#fun", "count": 2}
    assert {"hashtag": "#dance", "count": 1} in detail["top_hashtags"]

    created_at = datetime.fromisoformat(detail["created_at"])
    updated_at = datetime.fromisoformat(detail["updated_at"])
    assert updated_at >= created_at


def test_profile_interest_keys_follow_taxonomy_order(client):
    profile_id = post_profile(client, **DESIGN_EXAMPLE)["id"]
    detail = client.get(f"/api/v1/profiles/{profile_id}").get_json()
    # get_json keeps the keys in the order the response wrote them.
    assert list(detail["interest"]) == list(CATEGORIES)


def test_vector_matches_categories_and_interest(client):
    profile_id = post_profile(client, **DESIGN_EXAMPLE)["id"]
    categories = client.get("/api/v1/categories").get_json()["categories"]
    interest = client.get(f"/api/v1/profiles/{profile_id}").get_json()["interest"]

    response = client.get(f"/api/v1/profiles/{profile_id}/vector")
    assert response.status_code == 200
    vector = response.get_json()
    assert vector["categories"] == categories
    assert len(vector["weights"]) == len(categories)
    assert vector["weights"] == [interest[name] for name in categories]
    assert vector["weights"][categories.index("Music")] == 0.5


@pytest.mark.parametrize("suffix", ["", "/vector"])
def test_unknown_profile_is_a_404_problem(client, suffix):
    post_profile(client)
    assert_problem(client.get(f"/api/v1/profiles/999{suffix}"), 404)


@pytest.mark.parametrize("suffix", ["/similar", "/recommendations"])
def test_a_profile_deleted_after_its_check_is_a_404_not_a_server_error(client, monkeypatch, suffix):
    """Another request deletes the profile after this one found it and before the look-up
    reads it: the answer is the 404 a missing profile gets, never a 500."""
    stored = post_profile(client)["id"]
    monkeypatch.setattr(api_routes, "_profile_or_404", lambda pk: None)  # found, then deleted
    assert client.delete(f"/api/v1/profiles/{stored}").status_code == 204
    problem = assert_problem(client.get(f"/api/v1/profiles/{stored}{suffix}"), 404)
    assert problem["detail"] == f"No profile has id {stored}."


@pytest.mark.parametrize("profile_id", ["abc", "1.5", "-1"])
def test_non_integer_profile_id_is_a_404_problem(client, profile_id):
    post_profile(client)
    assert_problem(client.get(f"/api/v1/profiles/{profile_id}"), 404)


# --- DELETE /api/v1/profiles/<id> ----------------------------------------------------------


def test_delete_profile(app, client):
    doomed = post_profile(client, user_id="1")["id"]
    kept = post_profile(client, user_id="2")["id"]

    response = client.delete(f"/api/v1/profiles/{doomed}")
    assert response.status_code == 204
    assert response.data == b""

    assert_problem(client.get(f"/api/v1/profiles/{doomed}"), 404)
    assert_problem(client.delete(f"/api/v1/profiles/{doomed}"), 404)
    assert client.get(f"/api/v1/profiles/{kept}").status_code == 200
    assert [item["id"] for item in list_profiles(client)["items"]] == [kept]
    with app.app_context():
        for model in (ProfileVideo, ProfileInterest):
            rows = db.session.scalars(select(model).where(model.profile_id == doomed)).all()
            assert rows == [], model.__name__


# --- POST /api/v1/connect ------------------------------------------------------------------


def test_connect_creates_then_updates(client):
    user_id = mock_user_id("tiktok", accepted=True)
    first = client.post("/api/v1/connect", json={"platform": "tiktok", "user_id": user_id})
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["status"] == "created"
    profile = body["profile"]
    assert (profile["platform"], profile["user_id"]) == ("tiktok", user_id)
    assert first.headers["Location"].endswith(f"/api/v1/profiles/{profile['id']}")
    assert client.get(first.headers["Location"]).get_json()["id"] == profile["id"]

    again = client.post("/api/v1/connect", json={"platform": "tiktok", "user_id": user_id})
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["status"] == "updated"
    assert again.get_json()["profile"]["id"] == profile["id"]
    assert again.headers["Location"].endswith(f"/api/v1/profiles/{profile['id']}")
    # The mock is deterministic, so the re-sync brings back the same account.
    assert again.get_json()["profile"]["username"] == profile["username"]
    listing = list_profiles(client)
    assert listing["total"] == 1
    assert [item["id"] for item in listing["items"]] == [profile["id"]]


def test_connect_accepts_a_numeric_user_id(client):
    user_id = mock_user_id("x", accepted=True)
    response = client.post("/api/v1/connect", json={"platform": "x", "user_id": int(user_id)})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["profile"]["user_id"] == user_id


def test_connect_without_user_id_makes_a_new_account(client):
    made = []
    for _ in range(30):  # about one fresh account in ten is under the likes minimum
        if len(made) == 2:
            break
        response = client.post("/api/v1/connect", json={"platform": "instagram"})
        if response.status_code == 422:
            continue
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["status"] == "created"
        made.append(response.get_json()["profile"]["user_id"])
    assert len(made) == 2
    assert all(isinstance(user_id, str) and user_id for user_id in made)
    assert made[0] != made[1]
    assert list_profiles(client)["total"] == 2


def test_connect_rejected_account_is_a_422_and_stores_nothing(app, client):
    user_id = mock_user_id("tiktok", accepted=False)
    likes = get_connector("tiktok").generate(user_id)["number_of_likes"]

    response = client.post("/api/v1/connect", json={"platform": "tiktok", "user_id": user_id})
    body = assert_problem(response, 422, "number_of_likes")
    assert "likes" in body["detail"]
    assert str(likes) in body["detail"] and "100" in body["detail"]
    assert list_profiles(client)["total"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Video.id))) == 0


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"platform": "myspace"}, "platform"),
        ({}, "platform"),
        ({"user_id": "1"}, "platform"),
        ({"platform": 3}, "platform"),
        ({"platform": "tiktok", "user_id": ["1"]}, "user_id"),
        ({"platform": "tiktok", "user_id": True}, "user_id"),
        ({"platform": "tiktok", "user_id": 1.5}, "user_id"),
        ({"platform": "tiktok", "user_id": -1}, "user_id"),
        ({"platform": "tiktok", "user_id": "   "}, "user_id"),
        ({"platform": "tiktok", "user_id": "1" * 65}, "user_id"),
    ],
)
def test_connect_rejects_bad_bodies(app, client, body, loc):
    assert_problem(client.post("/api/v1/connect", json=body), 422, loc)
    assert profile_count(app) == 0


@pytest.mark.parametrize("path", ["/api/v1/connect", "/api/v1/profiles"])
def test_body_that_is_not_an_object_is_a_422(client, path):
    assert_problem(client.post(path, json=["tiktok"]), 422, "")


@pytest.mark.parametrize("path", ["/api/v1/connect", "/api/v1/profiles"])
@pytest.mark.parametrize("data", ['{"platform": "tiktok"', "[" * 100_000, ""])
def test_invalid_json_is_a_400(client, path, data):
    response = client.post(path, data=data, content_type="application/json")
    assert_problem(response, 400)


@pytest.mark.parametrize("path", ["/api/v1/connect", "/api/v1/profiles"])
def test_non_json_body_is_a_415(client, path):
    response = client.post(path, data='{"platform": "tiktok"}', content_type="text/plain")
    assert_problem(response, 415)


@pytest.mark.parametrize(
    "kind, status",
    [("timeout", 504), ("rate_limit", 503), ("malformed", 502)],
)
def test_connector_faults_are_gateway_problems(make_app, monkeypatch, kind, status):
    app = make_app(TOKER_CONNECTOR_FAULT_RATE=1.0)

    def choose(options):
        assert kind in options
        return kind

    monkeypatch.setattr(mock_connectors.random, "choice", choose)
    response = signed_in_client(app).post(
        "/api/v1/connect", json={"platform": "tiktok", "user_id": "1"}
    )
    body = assert_problem(response, status)
    assert "TikTok" in body["detail"]
    if status == 503:
        assert int(response.headers["Retry-After"]) > 0
    assert profile_count(app) == 0


def test_connector_faults_are_never_500(make_app):
    # Each fault once, after the retries that timeouts and short rate limits get.
    script = "malformed,rate_limit:45,timeout*3"
    app = make_app(TOKER_CONNECTOR_FAULTS=script)
    faulty = signed_in_client(app)
    seen = []
    for _ in range(3):
        response = faulty.post("/api/v1/connect", json={"platform": "x"})
        assert response.mimetype == PROBLEM_JSON, response.get_data(as_text=True)
        seen.append(response.status_code)
    assert seen == [502, 503, 504]
    assert profile_count(app) == 0


def test_connector_answer_that_is_not_an_account_is_a_502(client, monkeypatch):
    monkeypatch.setattr(
        mock_connectors.MockConnector, "generate", lambda self, user_id, as_of=None: []
    )
    response = client.post("/api/v1/connect", json={"platform": "tiktok", "user_id": "1"})
    assert_problem(response, 502)


# --- POST /api/v1/profiles -----------------------------------------------------------------


def test_post_profile_creates_then_updates(client, payload):
    first = client.post("/api/v1/profiles", json={"platform": "tiktok", "payload": payload})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["status"] == "created"
    profile = first.get_json()["profile"]
    assert profile["followers_count"] == 1500
    assert first.headers["Location"].endswith(f"/api/v1/profiles/{profile['id']}")

    changed = make_payload(followers_count=2500)
    again = client.post("/api/v1/profiles", json={"platform": "tiktok", "payload": changed})
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["status"] == "updated"
    assert again.get_json()["profile"]["id"] == profile["id"]
    assert again.get_json()["profile"]["followers_count"] == 2500
    assert client.get(f"/api/v1/profiles/{profile['id']}").get_json()["followers_count"] == 2500
    assert list_profiles(client)["total"] == 1


def test_same_user_id_on_another_platform_is_another_profile(client, payload):
    tiktok = post_profile(client, "tiktok")
    x = post_profile(client, "x")
    assert tiktok["id"] != x["id"]
    assert list_profiles(client)["total"] == 2


def test_post_profile_lists_every_problem(app, client):
    payload = make_payload(
        username=123,
        followers_count=-5,
        number_of_likes=50,
        liked_videos=[video("1"), video("1"), video("2", likes="many")],
    )
    del payload["verified"]
    response = client.post("/api/v1/profiles", json={"platform": "tiktok", "payload": payload})
    body = assert_problem(
        response,
        422,
        "username",
        "followers_count",
        "number_of_likes",
        "verified",
        "liked_videos[1].video_id",
        "liked_videos[2].likes",
    )
    assert len(body["errors"]) == 6
    assert profile_count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Video.id))) == 0


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"platform": "tiktok"}, "payload"),
        ({"payload": make_payload()}, "platform"),
        ({"platform": "myspace", "payload": make_payload()}, "platform"),
        ({"platform": "tiktok", "payload": ["not", "an", "object"]}, ""),
        ({"platform": "tiktok", "payload": "text"}, ""),
        ({"platform": "tiktok", "payload": None}, ""),
    ],
)
def test_post_profile_rejects_bad_bodies(app, client, body, loc):
    assert_problem(client.post("/api/v1/profiles", json=body), 422, loc)
    assert profile_count(app) == 0


def test_body_over_the_default_limit_is_a_413(client):
    data = '{"platform": "tiktok", "payload": "' + "x" * (2 * 1024 * 1024) + '"}'
    response = client.post("/api/v1/profiles", data=data, content_type="application/json")
    body = assert_problem(response, 413)
    assert str(2 * 1024 * 1024) in body["detail"]


def test_body_over_a_configured_limit_is_a_413(make_app, payload):
    client = signed_in_client(make_app(MAX_CONTENT_LENGTH=4096))
    big = make_payload(liked_videos=[video(str(i)) for i in range(100)])
    assert len(json.dumps(big)) > 4096 > len(json.dumps(payload)) + 100
    response = client.post("/api/v1/profiles", json={"platform": "tiktok", "payload": big})
    body = assert_problem(response, 413)
    assert "4096" in body["detail"]
    assert profile_count(client.application) == 0
    small = client.post("/api/v1/profiles", json={"platform": "tiktok", "payload": payload})
    assert small.status_code == 201


# --- categories, health, unknown routes ----------------------------------------------------


def test_categories_are_the_taxonomy_in_order(client):
    response = client.get("/api/v1/categories")
    assert response.status_code == 200
    categories = response.get_json()["categories"]
    assert categories == list(CATEGORIES)
    assert categories[-1] == "Other"
    assert len(set(categories)) == len(categories)
    for name in ("Technology", "Education", "Dance", "Film & TV", "Automotive", "DIY"):
        assert name in categories


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"


def test_healthz_reports_a_broken_database(tmp_path):
    # A directory is not a database file: SQLite cannot open it.
    broken = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}"})
    try:
        response = broken.test_client().get("/healthz")
    finally:
        with broken.app_context():
            for engine in db.engines.values():
                engine.dispose()
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


@pytest.mark.parametrize(
    "method, path",
    [
        ("put", "/api/v1/profiles"),
        ("patch", "/api/v1/profiles/1"),
        ("post", "/api/v1/categories"),
        ("get", "/api/v1/connect"),
    ],
)
def test_wrong_method_is_a_405_problem(client, method, path):
    response = getattr(client, method)(path)
    assert_problem(response, 405)
    assert response.headers["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/profiles/1/nope", "/api/v2/profiles"])
def test_unknown_api_path_is_a_404_problem(client, path):
    assert_problem(client.get(path), 404)
