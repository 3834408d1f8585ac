"""The mock platforms read like real ones: each platform's own heavy-tailed category mix, and
captions written like posts in each video's category (issue 12, rough edges)."""

import random
import re
import statistics
from datetime import date

import numpy as np
import pytest

from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.connectors import mock as mock_module
from webapp.services.ingestion.connectors.captions import TEMPLATE_WORDS, VOCABULARY, caption
from webapp.services.ingestion.processing import process_payload
from webapp.services.ingestion.taxonomy import CATEGORIES, OTHER, hashtag_categories
from webapp.services.ingestion.validation import (
    MAX_CAPTION,
    MAX_HASHTAGS,
    PayloadRejected,
    validate_payload,
)

PLATFORMS = ("tiktok", "instagram", "x")
PER_PLATFORM = 300
DAY = date(2026, 12, 7)
# What real platforms are known for: each must be among its platform's top three.
KNOWN_FOR = {"tiktok": "Dance", "instagram": "Fashion", "x": "News"}


@pytest.fixture(scope="module")
def populations() -> dict[str, dict]:
    """Per platform, PER_PLATFORM accounts as of DAY: the interest vectors of those stored and
    how many validation rejected."""
    found = {}
    for platform in PLATFORMS:
        connector = get_connector(platform)
        ids = random.Random(f"realism-{platform}")
        vectors, rejected = [], 0
        for _ in range(PER_PLATFORM):
            raw = connector.generate(connector.new_user_id(ids), DAY)
            try:
                payload = validate_payload(raw, 100)
            except PayloadRejected:
                rejected += 1
                continue
            vectors.append(process_payload(platform, payload, raw).interest)
        found[platform] = {"vectors": np.array(vectors), "rejected": rejected}
    return found


def _top(vectors: np.ndarray, n: int = 3) -> list[str]:
    mean = vectors.mean(axis=0)
    return [CATEGORIES[i] for i in np.argsort(-mean, kind="stable")[:n]]


def test_each_platform_has_its_own_top_categories(populations):
    tops = {platform: _top(found["vectors"]) for platform, found in populations.items()}
    for platform, known in KNOWN_FOR.items():
        assert known in tops[platform], tops
    # Each platform's top three differ from every other's, not merely in order.
    for platform in PLATFORMS:
        for other in PLATFORMS:
            if other != platform:
                assert set(tops[platform]) != set(tops[other]), tops
    assert len({tops[p][0] for p in PLATFORMS}) == len(PLATFORMS)


def test_popularity_is_heavy_tailed_on_every_platform(populations):
    uniform = 1 / (len(CATEGORIES) - 1)  # Other is never a topic
    for platform, found in populations.items():
        shares = np.sort(found["vectors"].mean(axis=0))[::-1]
        assert shares[0] > 4 * uniform, (platform, shares[:5])
        # A few categories hold most of the interest; most hold little.
        assert shares[:5].sum() > 0.5, (platform, shares[:5])
        assert np.median(shares) < uniform / 2, (platform, shares)


def test_accounts_still_cluster_and_one_in_ten_is_rejected(populations):
    for platform, found in populations.items():
        ranked = -np.sort(-found["vectors"], axis=1)
        assert statistics.median(ranked[:, :3].sum(axis=1)) > 0.6, platform
        assert 0.05 < found["rejected"] / PER_PLATFORM < 0.16, (platform, found["rejected"])


def _words(text: str) -> list[str]:
    return [w.strip("?:,.@").lower() for w in text.split()]


def _built(platform: str):
    return mock_module.catalogue(get_connector(platform).traits)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_captions_read_like_posts_of_their_category(platform):
    built = _built(platform)
    tags_of = {name: set(tags) for name, tags in built._tags.items()}
    for index in range(0, len(built), 97):  # 200 videos across the catalogue
        topic = mock_module.TOPICS[built.topics[index]]
        entry = built.payload(index)
        text = entry["caption"]
        things, emoji = VOCABULARY[topic]
        assert any(thing in text for thing in things), (topic, text)
        hashtags = re.findall(r"#\w+", text)
        assert 1 <= len(hashtags) <= 3, text
        # Its hashtags are the video's own, or its category's when the video lists none.
        assert set(hashtags) <= set(entry.get("hashtags") or tags_of[topic]), (text, entry)
        if "hashtags" not in entry:
            assert all(
                topic in hashtag_categories(tag) or tag in tags_of[topic] for tag in hashtags
            )
        # No filler: every word is the template's, the category's, a hashtag, an emoji or a
        # number.
        allowed = TEMPLATE_WORDS | {w for thing in things for w in _words(thing)}
        for word in _words(text):
            assert word in allowed or word.startswith("#") or word in emoji or word.isdigit(), (
                word,
                text,
            )
        assert len(text) <= MAX_CAPTION


def test_some_captions_carry_an_emoji_and_most_do_not():
    built = _built("tiktok")
    every_emoji = {e for _things, emoji in VOCABULARY.values() for e in emoji}
    texts = [built.payload(index)["caption"] for index in range(2000)]
    with_emoji = sum(1 for text in texts if any(e in text for e in every_emoji))
    assert 0.15 < with_emoji / len(texts) < 0.45


def test_a_caption_is_made_from_its_video_id_alone():
    tags = ("#dance", "#choreo")
    first = caption("7300000000000000042", "Dance", None, tags)
    assert caption("7300000000000000042", "Dance", None, tags) == first
    made = {caption(f"73{n:017d}", "Dance", None, tags) for n in range(50)}
    assert len(made) > 30, "different videos read differently"


def test_every_category_has_vocabulary_and_accounts_pass_validation(populations):
    assert set(VOCABULARY) == set(CATEGORIES) - {OTHER}
    for platform in PLATFORMS:
        connector = get_connector(platform)
        raw = connector.generate("4242", DAY)
        for video in raw["liked_videos"] + raw["shared_videos"]:
            assert len(video["caption"]) <= MAX_CAPTION
            assert len(video.get("hashtags") or []) <= MAX_HASHTAGS
