"""Filtering profiles by interest shares in SQL: interest=Music:0.3&interest=Dance:0.1."""

from urllib.parse import quote

import pytest

from webapp.services.catalogue import profiles
from webapp.services.ingestion.onboarding import submit_payload

from ..factories import make_payload, video


def _store(user_id: str, liked: list[list[str]], followers: int = 100):
    payload = make_payload(
        user_id=user_id,
        username=user_id,
        followers_count=followers,
        liked_videos=[video(f"{user_id}-{i}", categories=c) for i, c in enumerate(liked)],
        shared_videos=[],
    )
    outcome = submit_payload("tiktok", payload)
    assert outcome.accepted, outcome.reason
    return outcome.profile_id


@pytest.fixture
def population(app):
    """Five profiles with known shares (liked videos weigh 1 each)."""
    with app.app_context():
        return {
            "music": _store("music", [["Music"]] * 4, followers=50),  # Music 1.0
            "mixed": _store("mixed", [["Music"], ["Dance"]], followers=40),  # 0.5 / 0.5
            "mostly": _store("mostly", [["Music"]] * 3 + [["Dance"]], followers=30),  # .75/.25
            "dancer": _store("dancer", [["Dance"]] * 3 + [["Music"]], followers=20),  # .25/.75
            "gamer": _store("gamer", [["Gaming"]], followers=10),
        }


@pytest.mark.parametrize("walk", [0, 10**9], ids=["fetch-and-sort", "walk-the-index"])
@pytest.mark.parametrize(
    "filters, expected",
    [
        (["Music:0.5"], ["music", "mixed", "mostly"]),
        (["music:0.75"], ["music", "mostly"]),  # case-insensitive category
        (["Music:0.25", "Dance:0.25"], ["mixed", "mostly", "dancer"]),
        (["Music:0.3", "Dance:0.3"], ["mixed"]),
        (["Dance"], ["mixed", "mostly", "dancer"]),  # no share: any weight above zero
        (["Gaming:0.5", "Music:0.1"], []),
        (["Film & TV:0.1"], []),
    ],
)
def test_filters_keep_exactly_the_profiles_above_every_share(
    client, population, monkeypatch, walk, filters, expected
):
    monkeypatch.setattr(profiles, "SCAN_ROWS", walk)
    query = "&".join(f"interest={quote(f)}" for f in filters)
    body = client.get(f"/api/v1/profiles?{query}&sort=followers&order=desc").get_json()
    assert [item["username"] for item in body["items"]] == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    "value, words",
    [
        ("Nope:0.3", "not a category"),
        ("Music:abc", "must be a number"),
        ("Music:1.5", "between 0 and 1"),
        ("Music:-0.1", "between 0 and 1"),
    ],
)
def test_bad_interest_filters_are_400_problems(client, value, words):
    response = client.get(f"/api/v1/profiles?interest={value}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["errors"][0]["loc"] == "interest"
    assert words in body["detail"]


def test_at_most_five_interest_filters(client):
    query = "&".join(f"interest={c}:0.1" for c in ("Music", "Dance", "Art", "News", "Food", "DIY"))
    response = client.get(f"/api/v1/profiles?{query}")
    assert response.status_code == 400
    assert "at most 5" in response.get_json()["detail"]


def test_counts_follow_writes_under_a_filter(client, population, app):
    assert client.get("/api/v1/profiles?interest=Gaming:0.5").get_json()["total"] == 1
    with app.app_context():
        _store("gamer2", [["Gaming"]])
    assert client.get("/api/v1/profiles?interest=Gaming:0.5").get_json()["total"] == 2


def test_profiles_page_filters_by_interest(client, population):
    html = client.get("/profiles?interest=Music:0.5&sort=followers").get_data(as_text=True)
    assert ">music<" in html and ">mixed<" in html and ">mostly<" in html
    assert ">dancer<" not in html and ">gamer<" not in html
    # The form's own fields: a category and a minimum share in per cent, sent on as the one
    # URL form of the filter.
    sent = client.get("/profiles?interest_category=Dance&interest_min=30&sort=followers")
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/profiles?interest=Dance:0.3&sort=followers&order=desc"
    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert ">mixed<" in html and ">dancer<" in html
    assert ">music<" not in html and ">mostly<" not in html
    assert '<option value="Dance" selected>' in html
    # Sorting and paging links keep the filter.
    assert "interest=Dance:0.3" in html


def test_changing_the_interest_in_the_form_replaces_the_previous_one(client, population):
    # What the filters form sends after the table for Music >= 50 % was shown: only its own
    # fields, so Dance >= 30 % alone applies.
    first = client.get(
        "/profiles?interest_category=Music&interest_min=50", follow_redirects=True
    ).get_data(as_text=True)
    assert 'name="interest"' not in first
    html = client.get(
        "/profiles?interest_category=Dance&interest_min=30&sort=followers",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert ">dancer<" in html and ">mixed<" in html and ">music<" not in html


def test_profiles_page_filters_by_two_interests(client, population):
    html = client.get(
        "/profiles?interest_category=Music&interest_min=25"
        "&interest_category2=Dance&interest_min2=25&sort=followers",
        follow_redirects=True,
    ).get_data(as_text=True)
    rows = html.split('id="profiles"')[1]
    assert ">mixed<" in rows and ">mostly<" in rows and ">dancer<" in rows
    assert ">music<" not in rows and ">gamer<" not in rows
    assert '<option value="Dance" selected>' in html
