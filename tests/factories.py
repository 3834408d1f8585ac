"""Small builders for payloads and stored profiles."""

import copy

from webapp.services.connectors import get_connector

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


def mock_user_id(platform: str, accepted: bool) -> str:
    """The first user id whose mock account is (or is not) above the likes minimum."""
    connector = get_connector(platform)
    for i in range(10_000):
        if (connector.generate(str(i))["number_of_likes"] >= 100) == accepted:
            return str(i)
    raise AssertionError("the mock never produced such an account")
