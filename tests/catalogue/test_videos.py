"""The video catalogue: search, filters, engagement score and popularity among profiles."""

import pytest

from webapp.services.analytics import recommendations
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.live import stamps

from ..factories import make_payload, signed_in_client, video


def _video(video_id, categories, hashtags, likes, caption, posted):
    item = video(
        video_id, categories=categories, hashtags=hashtags, likes=likes, comments=0, shares=0
    )
    item.update(caption=caption, posted_at=posted)
    return item


@pytest.fixture
def catalogue(app):
    popular = _video("pop", ["Music"], ["#fyp", "#song"], 999, "Sing along", "2026-01-01T00:00:00Z")
    quiet = _video("quiet", ["Dance"], ["#dance"], 9, "Slow dance", "2026-03-01T00:00:00Z")
    news = _video("news", ["News"], ["#news"], 99_999, "Breaking story", "2025-01-01T00:00:00Z")
    with app.app_context():
        for user_id, liked in (("a", [popular, quiet]), ("b", [popular]), ("c", [popular])):
            payload = make_payload(
                user_id=user_id, username=user_id, liked_videos=liked, shared_videos=[]
            )
            assert submit_payload("tiktok", payload).accepted
        payload = make_payload(user_id="d", username="d", liked_videos=[news], shared_videos=[])
        assert submit_payload("x", payload).accepted


def _ids(client, query):
    return [item["video_id"] for item in client.get(f"/api/v1/videos?{query}").get_json()["items"]]


def test_scores_and_popularity(client, catalogue):
    items = {i["video_id"]: i for i in client.get("/api/v1/videos").get_json()["items"]}
    assert items["pop"]["score"] == pytest.approx(100 * 3 / 7, abs=0.01)  # log10(1000) / 7
    assert items["quiet"]["score"] == pytest.approx(100 * 1 / 7, abs=0.01)  # log10(10) / 7
    assert items["pop"]["profiles"] == 3 and items["quiet"]["profiles"] == 1


@pytest.mark.parametrize(
    "query, expected",
    [
        ("sort=score", ["news", "pop", "quiet"]),
        ("sort=score&order=asc", ["quiet", "pop", "news"]),
        ("sort=profiles", ["pop", "news", "quiet"]),  # 3, then a tie at 1: later id first
        ("sort=posted", ["quiet", "pop", "news"]),
        ("platform=x", ["news"]),
        ("category=music", ["pop"]),
        ("hashtag=FYP", ["pop"]),
        ("q=dance", ["quiet"]),
        ("q=%23news", ["news"]),
        ("min_score=50", ["news"]),
    ],
)
def test_filters_and_sorts(client, catalogue, query, expected):
    assert _ids(client, query) == expected


@pytest.mark.parametrize(
    "query, loc",
    [
        ("sort=nope", "sort"),
        ("min_score=101", "min_score"),
        ("category=Nope", "category"),
        ("platform=myspace", "platform"),
        ("page=0", "page"),
    ],
)
def test_bad_parameters(client, query, loc):
    response = client.get(f"/api/v1/videos?{query}")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["loc"] == loc


def test_catalogue_follows_writes(client, catalogue, app):
    assert client.get("/api/v1/videos").get_json()["total"] == 3
    with app.app_context():
        payload = make_payload(
            user_id="e",
            username="e",
            shared_videos=[],
            liked_videos=[video("fresh", categories=["Art"])],
        )
        assert submit_payload("tiktok", payload).accepted
    assert client.get("/api/v1/videos").get_json()["total"] == 4


def test_the_category_filter_follows_new_and_recategorised_videos(client, catalogue, app):
    """A category's page and total come from video_categories: a new video enters it, and a
    video whose categories change on a later write leaves its old category for the new one."""

    def page(category):
        body = client.get(f"/api/v1/videos?category={category}").get_json()
        return body["total"], sorted(item["video_id"] for item in body["items"])

    assert page("Music") == (1, ["pop"])
    with app.app_context():
        payload = make_payload(
            user_id="e",
            username="e",
            shared_videos=[],
            liked_videos=[video("fresh", categories=["Music", "Art"])],
        )
        assert submit_payload("tiktok", payload).accepted
    assert page("Music") == (2, ["fresh", "pop"])
    assert page("Art") == (1, ["fresh"])
    with app.app_context():
        payload["liked_videos"] = [video("fresh", categories=["Gaming"])]
        assert submit_payload("tiktok", payload).accepted
    assert page("Music") == (1, ["pop"])
    assert page("Art") == (0, [])
    assert page("Gaming") == (1, ["fresh"])
    # With another filter beside it, the total still counts only the category's videos.
    body = client.get("/api/v1/videos?category=Music&platform=x").get_json()
    assert (body["total"], body["items"]) == (0, [])


def test_a_write_shows_in_the_catalogue_at_once_in_every_worker(client, catalogue, app, make_app):
    """The catalogue is searched in SQL: no index to rebuild, no staleness, in any process."""
    app.config["TOKER_CATALOGUE_MAX_STALE"] = 30
    other = make_app(TOKER_CATALOGUE_MAX_STALE=30)
    other_client = signed_in_client(other, "viewer", "elsewhere")
    assert other_client.get("/api/v1/videos").get_json()["total"] == 3
    with app.app_context():
        payload = make_payload(
            user_id="e", username="e", shared_videos=[], liked_videos=[video("fresh")]
        )
        assert submit_payload("tiktok", payload).accepted
    for reader in (client, other_client):
        assert reader.get("/api/v1/videos").get_json()["total"] == 4
        # A re-sync that drops the video takes its profile off the count at once.
        items = {i["video_id"]: i for i in reader.get("/api/v1/videos").get_json()["items"]}
        assert items["fresh"]["profiles"] == 1
    with app.app_context():
        payload["liked_videos"] = [video("pop")]
        assert submit_payload("tiktok", payload).accepted
    items = {i["video_id"]: i for i in other_client.get("/api/v1/videos").get_json()["items"]}
    assert items["fresh"]["profiles"] == 0 and items["pop"]["profiles"] == 4


def test_under_writes_the_recommendation_arrays_are_rebuilt_at_most_every_max_stale_seconds(
    client, catalogue, app, monkeypatch
):
    app.config["TOKER_CATALOGUE_MAX_STALE"] = 30
    clock = [1000.0]
    monkeypatch.setattr(stamps.time, "monotonic", lambda: clock[0])
    with app.app_context():
        assert len(recommendations.current_catalogue().pks["tiktok"]) == 2  # built at t=1000
        payload = make_payload(
            user_id="e", username="e", shared_videos=[], liked_videos=[video("fresh")]
        )
        assert submit_payload("tiktok", payload).accepted
        clock[0] += 29
        assert len(recommendations.current_catalogue().pks["tiktok"]) == 2  # 29 s old: served
        clock[0] += 2
        assert len(recommendations.current_catalogue().pks["tiktok"]) == 3  # 31 s old: rebuilt


def test_videos_page_and_partial(client, catalogue):
    html = client.get("/videos?q=dance").get_data(as_text=True)
    assert 'id="video-catalogue"' in html and "quiet" in html and ">pop<" not in html
    partial = client.get("/videos?sort=profiles", headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert "<html" not in text and text.index("pop") < text.index("quiet")
    assert "HX-Request" in partial.headers["Vary"]
    assert client.get("/videos?sort=nope").status_code == 400
