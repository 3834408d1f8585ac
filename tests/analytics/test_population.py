"""Population on the overview: interest share by platform, hashtags and their companions."""

import json
import re

import pytest

from webapp.services.analytics import overview
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.taxonomy import CATEGORIES

from ..factories import make_payload, video


@pytest.fixture
def population(app):
    with app.app_context():
        for platform, user_id, liked in [
            ("tiktok", "t1", [video("a", ["Music"], ["#fyp", "#song"])]),  # Music 1.0
            (
                "tiktok",
                "t2",
                [video("b", ["Music"], ["#fyp", "#dance"]), video("c", ["Dance"], ["#dance"])],
            ),  # Music .5, Dance .5
            ("x", "x1", [video("d", ["News"], ["#news", "#fyp"])]),  # News 1.0
        ]:
            payload = make_payload(
                user_id=user_id, username=user_id, liked_videos=liked, shared_videos=[]
            )
            assert submit_payload(platform, payload).accepted


def test_interest_by_platform_is_each_platforms_mean(app, population):
    with app.app_context():
        heatmap = overview.interest_by_platform()
    assert heatmap["platforms"] == ["tiktok", "x"]
    assert heatmap["categories"] == list(CATEGORIES)
    tiktok = dict(zip(CATEGORIES, heatmap["shares"][0], strict=True))
    x = dict(zip(CATEGORIES, heatmap["shares"][1], strict=True))
    assert tiktok["Music"] == pytest.approx(0.75)  # (1.0 + 0.5) / 2
    assert tiktok["Dance"] == pytest.approx(0.25)
    assert x["News"] == pytest.approx(1.0)
    assert sum(tiktok.values()) == pytest.approx(1.0)


def test_hashtags_with_the_ones_that_come_with_them(app, population):
    with app.app_context():
        tags = overview.hashtag_cooccurrence(top=3, partners=2)
    # Over the four stored videos: #fyp on three, #dance on two, then ties alphabetical.
    assert [(t["hashtag"], t["videos"]) for t in tags] == [("#fyp", 3), ("#dance", 2), ("#news", 1)]
    assert tags[0]["with"] == [
        {"hashtag": "#dance", "videos": 1},
        {"hashtag": "#news", "videos": 1},
    ]
    assert tags[1]["with"] == [{"hashtag": "#fyp", "videos": 1}]


def test_overview_shows_the_heatmap_and_the_hashtags(client, population):
    html = client.get("/").get_data(as_text=True)
    figure = re.search(r"id=\"platform-heatmap\"[^>]*data-figure='([^']*)'", html)
    assert figure, "the heatmap container is missing"
    data = json.loads(figure.group(1).replace("&#34;", '"').replace("&amp;", "&"))
    trace = data["data"][0]
    assert trace["type"] == "heatmap"
    assert trace["y"] == ["TikTok", "X"]
    assert trace["z"][0][CATEGORIES.index("Music")] == 75.0
    assert 'id="hashtag-cooccurrence"' in html
    assert "#fyp" in html
