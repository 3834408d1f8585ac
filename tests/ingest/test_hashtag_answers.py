"""The mock platforms' hashtag answers (seed 003): "videos with hashtag #h" are exactly the
catalogue's videos carrying it, posted before the day asked for, newest first, page after
page; "trending hashtags" are those most carried by the last week's videos. Both are the same
for the same day, in every process; both go through the platform's simulated faults."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from webapp.services.ingestion.connectors import (
    ConnectorTimeout,
    FaultScript,
    get_connector,
)
from webapp.services.ingestion.connectors import mock as mock_module

PLATFORMS = ("tiktok", "instagram", "x")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 12, 7)


def every_page(connector, tag: str, day: date) -> list[dict]:
    videos, cursor = [], 0
    while cursor is not None:
        page = connector.videos_with_hashtag(tag, cursor, day)
        videos.extend(page["videos"])
        cursor = page["cursor"]
    return videos


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_hashtag_answers_exactly_the_catalogue_videos_carrying_it(platform):
    connector = get_connector(platform)
    tag = connector.trending_hashtags(DAY)[0]

    found = every_page(connector, tag, DAY)

    videos = mock_module.catalogue(connector.traits)
    before = mock_module._day_start(DAY.toordinal())
    expected = {
        videos.payload(index)["video_id"]
        for index in range(len(videos))
        if videos.posted[index] < before
        and tag in {mock_module.tag_key(t) for t in videos.hashtags[index] or ()}
    }
    ids = [video["video_id"] for video in found]
    assert len(ids) == len(set(ids)), "pages never overlap"
    assert set(ids) == expected and expected
    assert all(f"#{tag}" in [t.lower() for t in video["hashtags"]] for video in found)
    posted = [video["posted_at"] for video in found]
    assert posted == sorted(posted, reverse=True), "newest first"
    assert posted[0] < DAY.isoformat()


def test_pages_hold_a_hundred_and_the_last_says_so():
    connector = get_connector("tiktok")
    first = connector.videos_with_hashtag("dance", 0, DAY)
    assert len(first["videos"]) == mock_module.HASHTAG_PAGE and first["cursor"] == 100
    assert connector.videos_with_hashtag("#Dance", 0, DAY) == first, "# and case do not matter"
    assert connector.videos_with_hashtag("nosuchtagatall", 0, DAY) == {
        "hashtag": "nosuchtagatall",
        "videos": [],
        "cursor": None,
    }


def test_the_same_day_gives_the_same_answers_and_a_later_day_newer_ones():
    connector = get_connector("instagram")
    again = get_connector("instagram")
    assert connector.trending_hashtags(DAY) == again.trending_hashtags(DAY)
    assert connector.videos_with_hashtag("travel", 0, DAY) == again.videos_with_hashtag(
        "travel", 0, DAY
    )
    later = date(2027, 1, 20)
    newest = connector.videos_with_hashtag("travel", 0, later)["videos"][0]
    assert (
        newest["posted_at"]
        > connector.videos_with_hashtag("travel", 0, DAY)["videos"][0]["posted_at"]
    )


def test_trending_hashtags_leave_out_the_generic_ones_and_are_ranked():
    connector = get_connector("tiktok")
    trending = connector.trending_hashtags(DAY, count=15)
    assert len(trending) == 15 and len(set(trending)) == 15
    assert not {"fyp", "foryou", "viral", "trending"} & set(trending)
    assert all(not tag.startswith("#") for tag in trending)
    assert connector.trending_hashtags(DAY, count=3) == trending[:3]


def test_the_answers_are_the_same_in_another_process():
    here = {p: get_connector(p).trending_hashtags(DAY) for p in PLATFORMS}
    code = (
        "import json, datetime\n"
        "from webapp.services.ingestion.connectors import get_connector\n"
        "day = datetime.date(2026, 12, 7)\n"
        f"platforms = {PLATFORMS!r}\n"
        "print(json.dumps({p: get_connector(p).trending_hashtags(day) for p in platforms}))\n"
    )
    hash_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        cwd=PROJECT_ROOT,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == here


def test_hashtag_answers_go_through_the_platforms_faults():
    connector = get_connector("x", faults=FaultScript.parse("timeout,ok"))
    with pytest.raises(ConnectorTimeout):
        connector.videos_with_hashtag("news", 0, DAY)
    assert connector.videos_with_hashtag("news", 0, DAY)["videos"]
    assert get_connector("x").rate_limit.calls > 0
