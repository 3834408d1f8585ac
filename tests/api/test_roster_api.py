"""POST /api/v1/roster: the roster and the plain N nearest, for any role, with located errors."""

import pytest

from webapp.services.analytics import roster
from webapp.services.analytics.roster import Constraints

from ..factories import make_token, make_user
from ..helpers import assert_problem, bearer, store_mix

MIX = {"Music": 1, "Dance": 1, "Gaming": 1}


@pytest.fixture
def stored(app) -> dict[str, list[int]]:
    """Near-copies of one Music-and-Dance mix, Gaming specialists with many followers, and
    profiles on X."""
    with app.app_context():
        return {
            "copies": [store_mix(f"copy{i}", {"Music": 4 + i % 2, "Dance": 3}) for i in range(5)],
            "gaming": [
                store_mix(f"gamer{i}", {"Gaming": 4, "Dance": i}, followers=80_000)
                for i in range(3)
            ],
            "x": [
                store_mix(f"xer{i}", {"Music": 1, "Gaming": 2 + i}, platform="x") for i in range(3)
            ],
        }


def test_a_viewer_gets_both_rosters_with_each_picks_reason(app, client_as, stored):
    viewer = client_as("viewer")

    response = viewer.post("/api/v1/roster", json={"mix": MIX, "size": 3})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    with app.app_context():
        expected = roster.build_roster(MIX, 3)
    assert body == expected
    assert body["mix"] == pytest.approx({"Music": 1 / 3, "Dance": 1 / 3, "Gaming": 1 / 3})
    picks, nearest = body["roster"]["items"], body["nearest"]["items"]
    assert len(picks) == len(nearest) == 3
    assert {item["id"] for item in nearest} <= set(stored["copies"])
    assert body["roster"]["redundancy"] < body["nearest"]["redundancy"]
    assert body["roster"]["coverage"] >= body["nearest"]["coverage"]
    first, second = picks[0], picks[1]
    assert first["reason"]["similarity"] is None and first["reason"]["similar_to"] is None
    assert first["reason"]["gain"] == pytest.approx(first["score"])
    assert second["reason"]["similar_to"] == first["id"]
    assert second["username"] and second["platform"] in ("tiktok", "x")
    assert isinstance(second["followers_count"], int)


def test_an_api_token_of_a_viewer_may_ask_without_a_csrf_token(app, anonymous, stored):
    make_user(app, "robot", "viewer")
    token = make_token(app, "robot")

    response = anonymous.post("/api/v1/roster", json={"mix": MIX, "size": 2}, headers=bearer(token))

    assert response.status_code == 200
    assert len(response.get_json()["roster"]["items"]) == 2


def test_the_constraints_reach_the_roster(app, client, stored):
    body = {"mix": MIX, "size": 3, "platform": "tiktok", "min_followers": 50_000}

    answer = client.post("/api/v1/roster", json=body).get_json()

    for key in ("roster", "nearest"):
        assert sorted(item["id"] for item in answer[key]["items"]) == stored["gaming"]
        assert all(item["followers_count"] == 80_000 for item in answer[key]["items"])
    only_x = client.post("/api/v1/roster", json={"mix": MIX, "size": 5, "platform": "x"})
    assert sorted(item["id"] for item in only_x.get_json()["roster"]["items"]) == stored["x"]
    capped = client.post("/api/v1/roster", json={"mix": MIX, "size": 5, "max_followers": 1500})
    with app.app_context():
        expected = roster.build_roster(MIX, 5, Constraints(max_followers=1500))
    assert capped.get_json() == expected
    assert not {i["id"] for i in expected["roster"]["items"]} & set(stored["gaming"])


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"size": 3}, "mix"),
        ({"mix": {}, "size": 3}, "mix"),
        ({"mix": {"Music": 0, "Dance": 0}, "size": 3}, "mix"),
        ({"mix": {"Musik": 1}, "size": 3}, "mix.Musik"),
        ({"mix": {"Music": -0.5}, "size": 3}, "mix.Music"),
        ({"mix": {"Music": "much"}, "size": 3}, "mix.Music"),
        ({"mix": ["Music"], "size": 3}, "mix"),
        ({"mix": MIX}, "size"),
        ({"mix": MIX, "size": 1}, "size"),
        ({"mix": MIX, "size": 51}, "size"),
        ({"mix": MIX, "size": "5"}, "size"),
        ({"mix": MIX, "size": 3, "platform": "myspace"}, "platform"),
        ({"mix": MIX, "size": 3, "min_followers": -1}, "min_followers"),
        ({"mix": MIX, "size": 3, "min_followers": 10, "max_followers": 5}, "max_followers"),
    ],
)
def test_a_bad_body_is_a_422_problem_naming_the_field(client_as, body, loc):
    response = client_as("viewer").post("/api/v1/roster", json=body)

    assert_problem(response, 422, loc)


def test_a_body_that_is_not_json_is_refused(client):
    assert_problem(client.post("/api/v1/roster", data="mix", content_type="text/plain"), 415)
    bad = client.post("/api/v1/roster", data="{", content_type="application/json")
    assert_problem(bad, 400)


def test_an_empty_database_gives_empty_rosters(client):
    answer = client.post("/api/v1/roster", json={"mix": MIX, "size": 4}).get_json()

    assert answer["roster"] == {"items": [], "coverage": 0.0, "redundancy": None}
    assert answer["nearest"] == {"items": [], "coverage": 0.0, "redundancy": None}
    assert answer["pool"] == 0
