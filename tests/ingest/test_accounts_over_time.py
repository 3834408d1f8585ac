"""The mock platforms over time: an account on a date is the same everywhere, a later date moves
it on (followers along its trend, newer likes, slowly drifting interests), and the app's clock
(TOKER_CLOCK) decides which date a connect or a seed asks for."""

import json
import math
import os
import random
import statistics
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from webapp.extensions import db
from webapp.models import Profile
from webapp.services.catalogue import raw_payloads
from webapp.services.ingestion import onboarding, seeding
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.connectors import mock as mock_module
from webapp.services.ingestion.processing import process_payload
from webapp.services.ingestion.validation import PayloadRejected, validate_payload

from ..factories import make_token, make_user, mock_user_id

PLATFORMS = ("tiktok", "instagram", "x")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A day three months before REFERENCE_DAY: the months after it reach into the weeks the
# catalogue adds after POSTED_TO.
DAY = date(2026, 9, 1)


def sample_ids(platform: str, count: int) -> list[str]:
    """A fixed sequence of new user ids for the platform."""
    connector = get_connector(platform)
    rng = random.Random(f"accounts-over-time-{platform}")
    return [connector.new_user_id(rng) for _ in range(count)]


def posted(item: dict) -> datetime:
    return datetime.fromisoformat(item["posted_at"].replace("Z", "+00:00"))


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def interest(platform: str, payload: dict) -> list[float] | None:
    """The interest vector Toker would store for the payload (None: it would be rejected)."""
    try:
        return process_payload(platform, validate_payload(payload), payload).interest
    except PayloadRejected:
        return None


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def total_variation(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys()) / 2


# --- the same date, the same account ----------------------------------------------------------


def test_same_platform_id_and_date_give_the_same_payload_in_another_process():
    """Days on both sides of REFERENCE_DAY, and after the catalogue's first block: the other
    process, with another hash seed, asks for them latest first, so it makes the catalogue's
    later weeks in one go where this one made them as tests went."""
    days = ["2025-03-15", "2026-12-07", "2027-08-20"]
    asked = [(p, user_id, day) for p in PLATFORMS for user_id in ("4242", "9") for day in days]
    here = {
        f"{p} {user_id} {day}": get_connector(p).generate(user_id, date.fromisoformat(day))
        for p, user_id, day in asked
    }
    code = (
        "import json, sys\n"
        "from datetime import date\n"
        "from webapp.services.ingestion.connectors import get_connector\n"
        "asked = json.loads(sys.argv[1])\n"
        "print(json.dumps({f'{p} {u} {d}': get_connector(p).generate(u, date.fromisoformat(d))"
        " for p, u, d in reversed(asked)}, sort_keys=True))\n"
    )
    hash_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env.pop("TOKER_CLOCK", None)  # the dates are given: no clock may change them
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(asked)],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == json.dumps(here, sort_keys=True)
    # And the dates matter: each day gives that account another payload.
    for p in PLATFORMS:
        payloads = [here[f"{p} 4242 {day}"] for day in days]
        assert payloads[0] != payloads[1] != payloads[2]


def test_a_day_is_one_account_from_its_first_to_its_last_moment_in_utc():
    connector = get_connector("instagram")
    whole_day = connector.generate("77", date(2027, 1, 10))
    assert connector.generate("77", datetime(2027, 1, 10, 0, 0, tzinfo=UTC)) == whole_day
    assert connector.generate("77", datetime(2027, 1, 10, 23, 59, 59, tzinfo=UTC)) == whole_day
    # Half past midnight at UTC+1 is still the day before in UTC; naive datetimes are UTC.
    assert connector.generate("77", datetime.fromisoformat("2027-01-11T00:30:00+01:00")) == (
        whole_day
    )
    assert connector.generate("77", datetime(2027, 1, 10, 12)) == whole_day
    assert connector.generate("77", datetime(2027, 1, 11, 0, 0)) != whole_day


@pytest.mark.parametrize(
    "outside, bound",
    [
        (date(2020, 2, 2), mock_module.FIRST_DAY),
        (date(2099, 9, 9), mock_module.LAST_DAY),
    ],
)
def test_a_date_outside_the_platforms_span_answers_as_its_nearest_bound(outside, bound):
    connector = get_connector("x")
    assert connector.generate("31", outside) == connector.generate("31", bound)


def test_without_a_date_an_account_is_as_of_the_clocks_day(monkeypatch):
    connector = get_connector("tiktok")
    monkeypatch.setenv("TOKER_CLOCK", "2027-02-03T18:00:00Z")
    assert connector.generate("5") == connector.generate("5", date(2027, 2, 3))
    assert connector.fetch_account("5") == connector.generate("5", date(2027, 2, 3))
    monkeypatch.setenv("TOKER_CLOCK", "2027-02-04")
    assert connector.fetch_account("5") != connector.generate("5", date(2027, 2, 3))


# --- followers --------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_accounts_grow_stay_flat_or_shrink_at_heavy_tailed_rates(platform):
    connector = get_connector(platform)
    accounts = [connector.account(user_id) for user_id in sample_ids(platform, 600)]
    kinds = {kind: [a for a in accounts if a.trend == kind] for kind in ("growing", "shrinking")}
    flat = [a for a in accounts if a.trend == "flat"]
    assert len(kinds["growing"]) > len(flat) > len(kinds["shrinking"]) > 0.1 * len(accounts)
    rates = sorted(a.growth for a in kinds["growing"])
    median = statistics.median(rates)
    assert rates[0] > 0 and rates[int(0.9 * len(rates))] > 2 * median and rates[-1] > 5 * median
    assert all(a.growth < 0 for a in kinds["shrinking"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_followers_keep_their_trend_over_months(platform):
    """Four months apart, every growing account has gained followers and every shrinking
    one lost some (those big enough for a few percent to be a whole follower), and flat
    accounts moved by a few percent at most; month by month the same holds along the way."""
    connector = get_connector(platform)
    months = [DAY + timedelta(days=30 * n) for n in range(5)]
    checked = {"growing": 0, "shrinking": 0, "flat": 0}
    for user_id in sample_ids(platform, 300):
        account = connector.account(user_id)
        counts = [connector.generate(user_id, day)["followers_count"] for day in months]
        assert counts == [account.followers_on(day) for day in months]
        if counts[0] < 200:
            continue
        checked[account.trend] += 1
        if account.trend == "growing":
            assert counts[-1] > counts[0], (user_id, counts)
            assert counts[3] > counts[0] and counts[4] > counts[1]
        elif account.trend == "shrinking":
            assert counts[-1] < counts[0], (user_id, counts)
            assert counts[3] < counts[0] and counts[4] < counts[1]
        else:
            assert abs(counts[-1] / counts[0] - 1) < 0.04, (user_id, counts)
    assert min(checked.values()) > 20


@pytest.mark.parametrize("platform", PLATFORMS)
def test_followers_wobble_from_day_to_day_within_a_bound(platform):
    connector = get_connector(platform)
    days = [DAY + timedelta(days=n) for n in range(31)]
    wobbling = 0
    for user_id in sample_ids(platform, 300):
        account = connector.account(user_id)
        if account.followers < 2_000:
            continue
        counts = [account.followers_on(day) for day in days]
        steps = [later / earlier - 1 for earlier, later in zip(counts, counts[1:], strict=False)]
        # Two days' noise (at most 1 % each) and a day of the fastest trend (25 % a month).
        assert max(abs(step) for step in steps) < 0.02 + 0.25 / 30, (user_id, counts)
        wobbling += sum(1 for step in steps if step) > 20
        assert counts == [account.followers_on(day) for day in days]  # the same every time
    assert wobbling > 30


# --- likes and shares -------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_later_days_bring_newer_likes_and_never_a_video_from_after_the_day(platform):
    connector = get_connector(platform)
    later_median, first_changed, kept_a_day, ids = 0, 0, 0, sample_ids(platform, 150)
    moved_days = []
    for user_id in ids:
        by_day = {
            gap: connector.generate(user_id, DAY + timedelta(days=gap)) for gap in (0, 1, 7, 90)
        }
        for gap, payload in by_day.items():
            newest = day_start(DAY + timedelta(days=gap))
            for item in payload["liked_videos"] + payload["shared_videos"]:
                assert posted(item) < newest, (user_id, gap, item["posted_at"])
        before, after = by_day[0]["liked_videos"], by_day[90]["liked_videos"]
        median_before = statistics.median(posted(item).timestamp() for item in before)
        median_after = statistics.median(posted(item).timestamp() for item in after)
        later_median += median_after > median_before
        moved_days.append((median_after - median_before) / 86_400)
        first_changed += before[0]["video_id"] != by_day[7]["liked_videos"][0]["video_id"]
        ids_before = {item["video_id"] for item in before}
        ids_next_day = {item["video_id"] for item in by_day[1]["liked_videos"]}
        kept_a_day += len(ids_before & ids_next_day) >= 0.75 * len(ids_before)
        # The lists keep their sizes: an account likes and shows as many as ever.
        assert len(after) == len(before) and len(by_day[90]["shared_videos"]) == len(
            by_day[0]["shared_videos"]
        )
    assert later_median >= 0.9 * len(ids)
    assert statistics.median(moved_days) > 45
    assert first_changed >= 0.9 * len(ids)  # a week brings a new newest like
    assert kept_a_day >= 0.9 * len(ids)  # a day changes little


@pytest.mark.parametrize(
    "day", [mock_module.FIRST_DAY, date(2025, 6, 15), date(2026, 12, 7), date(2031, 3, 1)]
)
def test_every_day_keeps_the_platforms_guarantees(day):
    """10-40 liked and 1-10 shared videos, about one account in ten under the likes minimum,
    and every other account valid, whatever the day."""
    for platform in PLATFORMS:
        connector = get_connector(platform)
        payloads = [connector.generate(user_id, day) for user_id in sample_ids(platform, 300)]
        under = 0
        for payload in payloads:
            assert 10 <= len(payload["liked_videos"]) <= 40
            assert 1 <= len(payload["shared_videos"]) <= 10
            if payload["number_of_likes"] < 100:
                under += 1
                with pytest.raises(PayloadRejected) as caught:
                    validate_payload(payload, 100)
                assert [p.loc for p in caught.value.problems] == ["number_of_likes"]
            else:
                validate_payload(payload, 100)
        assert 0.05 <= under / len(payloads) <= 0.15


# --- interests --------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_some_accounts_interests_drift_slowly(platform):
    connector = get_connector(platform)
    accounts = [connector.account(user_id) for user_id in sample_ids(platform, 600)]
    drifting = [a for a in accounts if a.drifts]
    assert 0.2 * len(accounts) < len(drifting) < 0.4 * len(accounts)
    year = DAY + timedelta(days=365)
    for account in accounts:
        if not account.drifts:
            assert account.mix_on(DAY) == account.mix_on(year)
    moved, peaks = [], []
    for account in drifting:
        mixes = [account.mix_on(DAY + timedelta(days=n)) for n in range(0, 366, 5)]
        assert all(sum(mix.values()) == pytest.approx(1.0) for mix in mixes)
        # At most a few points a day, a third of the mix in a month.
        assert total_variation(account.mix_on(DAY), account.mix_on(DAY + timedelta(1))) < 0.02
        assert max(total_variation(a, b) for a, b in zip(mixes, mixes[6:], strict=False)) < 0.3
        moved.append(total_variation(mixes[0], mixes[-1]))
        # One topic comes and goes over its period: absent on some days, gained on others.
        newcomer = account.interests[-1].topic
        shares = [account.mix_on(DAY + timedelta(days=n))[newcomer] for n in range(0, 1500, 10)]
        assert min(shares) == 0
        peaks.append(max(shares))
    assert min(peaks) > 0.02 and statistics.median(peaks) > 0.15
    assert statistics.mean(moved) > 0.1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_drifting_accounts_interest_vectors_move_further_over_a_year(platform):
    """What Toker computes from the payloads shows the drift: a year apart, drifting
    accounts' interest vectors are further apart than steady ones' (whose likes change but
    not their mix), while a day apart every vector is nearly the same."""
    connector = get_connector(platform)
    year = DAY + timedelta(days=365)
    distances = {True: [], False: []}
    next_day = []
    for user_id in sample_ids(platform, 300):
        first = interest(platform, connector.generate(user_id, DAY))
        if first is None or not any(first):
            continue
        last = interest(platform, connector.generate(user_id, year))
        distances[connector.account(user_id).drifts].append(1 - cosine(first, last))
        next_day.append(
            cosine(first, interest(platform, connector.generate(user_id, DAY + timedelta(1))))
        )
    assert len(distances[True]) > 50
    assert statistics.mean(distances[True]) > 1.5 * statistics.mean(distances[False])
    assert statistics.quantiles(next_day, n=10)[0] > 0.95


# --- the clock --------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["2025-05-01", "2025-05-01T16:45:00+00:00"])
def test_a_connect_stores_the_account_as_of_the_clocks_day(make_app, setting):
    user_id = mock_user_id("tiktok", accepted=True)
    then = get_connector("tiktok").generate(user_id, date(2025, 5, 1))
    assert then != get_connector("tiktok").generate(user_id, date(2026, 12, 7))
    app = make_app(TOKER_CLOCK=setting)
    with app.app_context():
        outcome = onboarding.connect_account("tiktok", user_id)
        assert outcome.accepted
        profile = db.session.get(Profile, outcome.profile_id)
        assert raw_payloads.payload_of(profile.id) == then
        assert profile.followers_count == then["followers_count"]


def test_a_re_sync_through_the_api_on_a_later_day_stores_the_account_as_it_stands_then(
    make_app, monkeypatch
):
    """TOKER_CLOCK from the environment, as an operator sets it to replay days."""
    user_id = mock_user_id("x", accepted=True)
    answers = []
    for day in ("2026-11-01", "2026-12-01"):
        monkeypatch.setenv("TOKER_CLOCK", day)
        app = make_app()
        make_user(app, "analyst", "analyst")
        headers = {"Authorization": f"Bearer {make_token(app, 'analyst')}"}
        response = app.test_client().post(
            "/api/v1/connect", json={"platform": "x", "user_id": user_id}, headers=headers
        )
        answers.append(response.status_code)
        expected = get_connector("x").generate(user_id, date.fromisoformat(day))
        with app.app_context():
            profile = db.session.query(Profile).filter_by(user_id=user_id).one()
            assert raw_payloads.payload_of(profile.id) == expected
            assert profile.followers_count == expected["followers_count"]
    assert answers == [201, 200]


def test_seeding_stores_accounts_as_of_the_clocks_day(make_app):
    app = make_app(TOKER_CLOCK="2025-09-09")
    with app.app_context():
        report = seeding.seed_profiles(20, min_likes=100, platform="instagram", workers=1, seed=3)
        assert report.stored > 10
        connector = get_connector("instagram")
        for profile in db.session.query(Profile).all():
            assert raw_payloads.payload_of(profile.id) == connector.generate(
                profile.user_id, date(2025, 9, 9)
            )
