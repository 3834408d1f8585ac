"""Unit tests of the mock connectors: determinism, realism, the shared catalogue and faults."""

import json
import os
import random
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from webapp.services import clock
from webapp.services.ingestion.connectors import (
    ConnectorError,
    ConnectorRateLimited,
    ConnectorTimeout,
    MalformedResponse,
    UnknownPlatform,
    get_connector,
)
from webapp.services.ingestion.connectors import mock as mock_module
from webapp.services.ingestion.processing import process_payload
from webapp.services.ingestion.taxonomy import CATEGORIES
from webapp.services.ingestion.validation import PayloadRejected, validate_payload

PLATFORMS = ("tiktok", "instagram", "x")
ACCOUNTS_PER_PLATFORM = 600
MIN_LIKES = 100
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def accounts() -> dict[str, list[dict]]:
    """600 generated accounts per platform, from a fixed sequence of new user ids."""
    generated = {}
    for platform in PLATFORMS:
        connector = get_connector(platform)
        rng = random.Random(f"toker-tests-{platform}")
        generated[platform] = [
            connector.generate(connector.new_user_id(rng)) for _ in range(ACCOUNTS_PER_PLATFORM)
        ]
    return generated


def all_videos(account: dict) -> list[dict]:
    return account["liked_videos"] + account["shared_videos"]


# --- determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_same_platform_and_id_give_identical_payload(platform):
    first = get_connector(platform).generate("4242")
    connector = get_connector(platform)
    for other in ("1", "2", "3"):  # state left by other accounts must not leak
        connector.generate(other)
    assert connector.generate("4242") == first
    assert connector.fetch_account("4242") == first
    assert first["user_id"] == "4242"
    assert json.loads(json.dumps(first)) == first


def test_same_account_in_another_process_with_another_hash_seed():
    here = json.dumps([get_connector(p).generate("4242") for p in PLATFORMS], sort_keys=True)
    code = (
        "import json\n"
        "from webapp.services.ingestion.connectors import get_connector\n"
        f"print(json.dumps([get_connector(p).generate('4242') for p in {PLATFORMS!r}],"
        " sort_keys=True))\n"
    )
    hash_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == here


def test_different_platforms_give_different_accounts():
    payloads = [get_connector(p).generate("4242") for p in PLATFORMS]
    for index, payload in enumerate(payloads):
        for other in payloads[index + 1 :]:
            assert payload != other
            liked_ids = {v["video_id"] for v in payload["liked_videos"]}
            assert liked_ids.isdisjoint(v["video_id"] for v in other["liked_videos"])


def test_different_ids_give_different_accounts():
    connector = get_connector("tiktok")
    first, second = connector.generate("1001"), connector.generate("1002")
    assert first["user_id"] != second["user_id"]
    assert {k: v for k, v in first.items() if k != "user_id"} != {
        k: v for k, v in second.items() if k != "user_id"
    }
    assert [v["video_id"] for v in first["liked_videos"]] != [
        v["video_id"] for v in second["liked_videos"]
    ]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_fetch_account_without_id_makes_a_new_account_each_time(platform):
    connector = get_connector(platform)
    low, high = connector.traits.user_id_digits
    fetched = [connector.fetch_account() for _ in range(5)]
    ids = [payload["user_id"] for payload in fetched]
    assert len(set(ids)) == 5
    for user_id in ids:
        assert user_id.isdigit()
        assert not user_id.startswith("0")
        assert low <= len(user_id) <= high
    # Reconnecting with the id it was given brings the same account back.
    assert connector.fetch_account(ids[0]) == fetched[0]


def test_new_user_id_is_repeatable_from_a_seeded_rng():
    connector = get_connector("instagram")
    first = [connector.new_user_id(random.Random(7)) for _ in range(3)]
    assert len(set(first)) == 1
    rng = random.Random(7)
    assert len({connector.new_user_id(rng) for _ in range(20)}) == 20


# --- realism ----------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_10_to_40_liked_and_1_to_10_shared_videos(accounts, platform):
    liked = [len(account["liked_videos"]) for account in accounts[platform]]
    shared = [len(account["shared_videos"]) for account in accounts[platform]]
    assert min(liked) >= 10
    assert max(liked) <= 40
    assert min(shared) >= 1
    assert max(shared) <= 10
    # The whole range is used, not one fixed size.
    assert len(set(liked)) > 10
    assert len(set(shared)) > 5


@pytest.mark.parametrize("platform", PLATFORMS)
def test_video_ids_are_unique_within_each_list(accounts, platform):
    for account in accounts[platform]:
        for videos in (account["liked_videos"], account["shared_videos"]):
            ids = [v["video_id"] for v in videos]
            assert len(ids) == len(set(ids)), account["user_id"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_some_videos_carry_only_hashtags(accounts, platform):
    videos = [v for account in accounts[platform] for v in all_videos(account)]
    hashtags_only = [v for v in videos if "hashtags" in v and "categories" not in v]
    with_categories = [v for v in videos if "categories" in v]
    assert len(hashtags_only) > 0.05 * len(videos)
    assert len(with_categories) > 0.5 * len(videos)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_follower_counts_are_heavy_tailed(accounts, platform):
    followers = [account["followers_count"] for account in accounts[platform]]
    median = statistics.median(followers)
    assert min(followers) >= 0
    assert median > 0
    assert max(followers) > 50 * median
    assert statistics.mean(followers) > 1.5 * median


@pytest.mark.parametrize("platform", PLATFORMS)
def test_about_one_account_in_ten_is_under_the_likes_minimum(accounts, platform):
    under = [a for a in accounts[platform] if a["number_of_likes"] < MIN_LIKES]
    assert 0.05 <= len(under) / ACCOUNTS_PER_PLATFORM <= 0.15


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_account_is_valid_except_for_the_likes_minimum(accounts, platform):
    for account in accounts[platform]:
        if account["number_of_likes"] < MIN_LIKES:
            with pytest.raises(PayloadRejected) as caught:
                validate_payload(account, MIN_LIKES)
            assert [p.loc for p in caught.value.problems] == ["number_of_likes"]
        else:
            validate_payload(account, MIN_LIKES)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_videos_were_posted_within_the_catalogue_before_the_day(accounts, platform):
    today = clock.now().date()
    for account in accounts[platform][:100]:
        for item in all_videos(account):
            posted = datetime.fromisoformat(item["posted_at"].replace("Z", "+00:00"))
            assert mock_module.POSTED_FROM <= posted < datetime.combine(today, time(), UTC)


# --- the catalogue ----------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_video_is_the_same_in_every_account(accounts, platform):
    seen: dict[str, dict] = {}
    shared_between_accounts = 0
    for account in accounts[platform]:
        for item in all_videos(account):
            earlier = seen.setdefault(item["video_id"], item)
            if earlier is not item:
                shared_between_accounts += 1
                for key in ("categories", "hashtags", "likes", "comments", "shares", "posted_at"):
                    assert item.get(key) == earlier.get(key), (item["video_id"], key)
    assert shared_between_accounts > 100


@pytest.mark.parametrize("platform", PLATFORMS)
def test_popular_videos_are_liked_by_many_accounts(accounts, platform):
    liked_by = Counter(
        item["video_id"] for account in accounts[platform] for item in account["liked_videos"]
    )
    likes = {
        item["video_id"]: item["likes"]
        for account in accounts[platform]
        for item in account["liked_videos"]
    }
    _, most = liked_by.most_common(1)[0]
    assert most >= 0.05 * ACCOUNTS_PER_PLATFORM
    # Videos many accounts like carry far more likes than videos one account likes.
    widely = [likes[v] for v, n in liked_by.items() if n >= 5]
    once = [likes[v] for v, n in liked_by.items() if n == 1]
    assert widely and once
    assert statistics.median(widely) > 3 * statistics.median(once)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_interests_cluster_around_a_few_categories(accounts, platform):
    top_weight, top_three = [], []
    for account in accounts[platform]:
        if account["number_of_likes"] < MIN_LIKES:
            continue
        profile = process_payload(platform, validate_payload(account), account)
        ranked = sorted(profile.interest, reverse=True)
        top_weight.append(ranked[0])
        top_three.append(sum(ranked[:3]))
    uniform = 1 / len(CATEGORIES)
    assert statistics.median(top_weight) > 6 * uniform
    assert statistics.median(top_three) > 0.5


def test_platforms_have_different_content_mixes(accounts):
    def share_of(platform: str, names: set) -> float:
        videos = [v for a in accounts[platform] for v in all_videos(a) if "categories" in v]
        hits = sum(1 for v in videos if names & {c.strip().lower() for c in v["categories"]})
        return hits / len(videos)

    news = {"news", "politics"}
    assert share_of("x", news) > 2 * share_of("tiktok", news)
    assert share_of("x", news) > 2 * share_of("instagram", news)


# --- faults, latency and lookup ---------------------------------------------------------------


def test_fault_rate_one_raises_every_kind_of_fault():
    connector = get_connector("tiktok", fault_rate=1.0)
    raised = defaultdict(list)
    for _ in range(60):
        with pytest.raises(ConnectorError) as caught:
            connector.fetch_account("4242")
        raised[type(caught.value)].append(caught.value)
    assert set(raised) == {ConnectorTimeout, ConnectorRateLimited, MalformedResponse}
    assert all(error.retry_after > 0 for error in raised[ConnectorRateLimited])
    assert ConnectorTimeout.retryable and ConnectorRateLimited.retryable
    assert not MalformedResponse.retryable
    assert all(str(error) for errors in raised.values() for error in errors)


@pytest.mark.parametrize("options", [{}, {"fault_rate": 0.0}, {"fault_rate": 0}])
def test_no_faults_when_fault_rate_is_zero(options):
    connector = get_connector("x", **options)
    for index in range(50):
        assert connector.fetch_account(str(index))["user_id"] == str(index)


def test_latency_is_simulated_only_when_asked(monkeypatch):
    slept = []
    monkeypatch.setattr(mock_module.time, "sleep", slept.append)
    get_connector("instagram").fetch_account("1")
    assert slept == []
    get_connector("instagram", latency=0.25).fetch_account("1")
    assert slept == [0.25]


@pytest.mark.parametrize("name", ["myspace", "", "TikTok"])
def test_unknown_platform_raises(name):
    with pytest.raises(UnknownPlatform) as caught:
        get_connector(name)
    assert isinstance(caught.value, ValueError)
    for platform in PLATFORMS:
        assert platform in str(caught.value)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_known_platforms_give_their_connector(platform):
    connector = get_connector(platform)
    assert connector.platform == platform
    assert connector.label
