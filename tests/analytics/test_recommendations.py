"""Recommendations: 0.6 x interest match + 0.2 x recency + 0.2 x engagement, hand-checked."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from webapp.services.analytics import recommendations
from webapp.services.analytics.recommendations import recency
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.scores import engagement_score

from ..factories import make_payload, video

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "likes, comments, shares, expected",
    [
        (0, 0, 0, 0.0),
        (999, 0, 0, 100 * 3 / 7),  # log10(1000) = 3
        (90, 3, 1, 100 * math.log10(100) / 7),  # 90 + 2 x 3 + 3 x 1 = 99 interactions
        (10**7, 0, 0, 100.0),  # capped
        (10**9, 10**9, 10**9, 100.0),
    ],
)
def test_engagement_score(likes, comments, shares, expected):
    assert engagement_score(likes, comments, shares) == pytest.approx(expected)


def test_engagement_weights_comments_and_shares_more_than_likes():
    assert engagement_score(0, 1, 0) > engagement_score(1, 0, 0)
    assert engagement_score(0, 0, 1) > engagement_score(0, 1, 0)
    # 98 likes + 2 x 1 comment = 100 weighted interactions: 100 x log10(101) / 7.
    assert engagement_score(98, 1, 0) == pytest.approx(100 * math.log10(101) / 7)


def test_recency_halves_every_90_days():
    assert recency(NOW, NOW) == 1.0
    assert recency(NOW - timedelta(days=90), NOW) == pytest.approx(0.5)
    assert recency(NOW - timedelta(days=180), NOW) == pytest.approx(0.25)
    assert recency(NOW + timedelta(days=3), NOW) == 1.0
    assert recency(None, NOW) == 0.0


def _video(video_id, categories, likes=0, comments=0, shares=0, days_old=None):
    item = video(video_id, categories=categories, likes=likes, comments=comments, shares=shares)
    if days_old is not None:
        item["posted_at"] = (NOW - timedelta(days=days_old)).isoformat()
    return item


@pytest.fixture
def scene(app):
    """A Music-and-Dance profile and another profile whose videos are the candidates."""
    with app.app_context():
        me = submit_payload(
            "tiktok",
            make_payload(
                user_id="me",
                username="me",
                liked_videos=[_video("seen", ["Music"]), _video("seen2", ["Music"])],
                shared_videos=[_video("seen3", ["Dance"])],
            ),
        )  # Music 2 x 1, Dance 1 x 2: interest Music 0.5, Dance 0.5
        other = submit_payload(
            "tiktok",
            make_payload(
                user_id="other",
                username="other",
                liked_videos=[
                    _video("music-new", ["Music"], likes=999, days_old=0),
                    _video("music-old", ["Music"], likes=999, days_old=90),
                    _video("mix", ["Music", "Dance"], days_old=90),
                    _video("gaming", ["Gaming"], likes=10**7, days_old=0),
                    _video("seen", ["Music"]),
                ],
                shared_videos=[],
            ),
        )
        submit_payload(
            "x",
            make_payload(
                user_id="elsewhere",
                username="elsewhere",
                liked_videos=[_video("x-music", ["Music"], likes=10**7, days_old=0)],
                shared_videos=[],
            ),
        )
        return me.profile_id, other.profile_id


def test_ranking_follows_the_formula(app, scene):
    me, _ = scene
    with app.app_context():
        items = recommendations.recommend(me, k=10, now=NOW)
    by_id = {item["video_id"]: item for item in items}
    # Videos it already liked or shared, and other platforms' videos, are left out.
    assert set(by_id) == {"music-new", "music-old", "mix", "gaming"}
    # Interest is the cosine of (1 on Music) with (0.5 Music, 0.5 Dance): 1/sqrt(2).
    half = 1 / math.sqrt(2)
    assert by_id["music-new"]["interest"] == pytest.approx(half)
    assert by_id["mix"]["interest"] == pytest.approx(1.0)
    assert by_id["gaming"]["interest"] == 0.0
    assert by_id["music-old"]["recency"] == pytest.approx(0.5)
    assert by_id["music-new"]["engagement"] == pytest.approx(3 / 7)
    expected = {
        "music-new": 0.6 * half + 0.2 * 1.0 + 0.2 * 3 / 7,
        "music-old": 0.6 * half + 0.2 * 0.5 + 0.2 * 3 / 7,
        "mix": 0.6 * 1.0 + 0.2 * 0.5 + 0.0,
        "gaming": 0.0 + 0.2 * 1.0 + 0.2 * 1.0,
    }
    for video_id, score in expected.items():
        assert by_id[video_id]["score"] == pytest.approx(score)
    assert [item["video_id"] for item in items] == sorted(expected, key=lambda v: -expected[v])


def test_api_and_page_section(app, client, scene):
    me, _ = scene
    body = client.get(f"/api/v1/profiles/{me}/recommendations?k=2").get_json()
    assert len(body["items"]) == 2
    first = body["items"][0]
    assert set(first) >= {"video_id", "score", "interest", "recency", "engagement"}
    assert first["score"] == pytest.approx(
        0.6 * first["interest"] + 0.2 * first["recency"] + 0.2 * first["engagement"]
    )
    assert client.get(f"/api/v1/profiles/{me}/recommendations?k=0").status_code == 400
    assert client.get("/api/v1/profiles/999/recommendations").status_code == 404
    page = client.get(f"/profiles/{me}").get_data(as_text=True)
    assert f'hx-get="/profiles/{me}/recommended"' in page
    html = client.get(f"/profiles/{me}/recommended").get_data(as_text=True)
    assert 'id="recommended"' in html and first["video_id"] in html
