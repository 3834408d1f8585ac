"""History: a snapshot per sync in the sync's transaction, the changes over 7, 30 and 90
days and the interest drift, hand-computed, and the API's answer."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from webapp.api import schemas
from webapp.extensions import db
from webapp.models import Profile, ProfileSnapshot
from webapp.services import ProfileNotFound
from webapp.services.catalogue import history, profiles
from webapp.services.ingestion import storage
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.taxonomy import CATEGORIES, CATEGORY_INDEX
from webapp.services.ingestion.vectors import pack_weights, unpack_vector, unpack_weights

from ..factories import make_payload


def _snapshots(profile_id: int) -> list:
    return (
        db.session.execute(
            select(ProfileSnapshot)
            .where(ProfileSnapshot.profile_id == profile_id)
            .order_by(ProfileSnapshot.id)
        )
        .scalars()
        .all()
    )


def test_each_sync_stores_a_snapshot_with_the_profile(app):
    """A connect and a re-sync store one snapshot each: the statistics, the engagement rate
    and the weights the profile row got, at the time it got them."""
    stats = dict(number_of_likes_on_own_videos=450, number_of_comments=50, videos_count=10)
    with app.app_context():
        first = submit_payload("tiktok", make_payload(followers_count=1000, **stats))
        again = submit_payload("tiktok", make_payload(followers_count=1250, **stats))
        assert first.profile_id == again.profile_id
        rows = _snapshots(first.profile_id)
        profile = db.session.get(Profile, first.profile_id)
        assert [row.followers_count for row in rows] == [1000, 1250]
        # (450 + 50) / 10 videos / 1000 followers, then / 1250.
        assert [row.engagement_rate for row in rows] == [0.05, 0.04]
        # The weights kept sparse (9 bytes a category it has), equal to the profile's vector.
        weights = unpack_weights(rows[-1].weights)
        assert list(weights) == unpack_vector(profile.vector)
        assert len(rows[-1].weights) == 9 * sum(1 for w in weights if w) > 0
        assert rows[-1].taken_at == profile.updated_at
        assert rows[0].taken_at <= rows[1].taken_at


def test_a_sync_that_fails_leaves_no_snapshot(app, monkeypatch):
    """The snapshot is written in the sync's transaction: a failure after it keeps neither the
    new profile state nor the snapshot."""
    with app.app_context():
        stored = submit_payload("tiktok", make_payload(followers_count=1000))

        def fail(*_args, **_kwargs):
            raise RuntimeError("the write fails after the snapshot")

        monkeypatch.setattr(storage, "add_to_profile_counts", fail)
        with pytest.raises(RuntimeError):
            submit_payload("tiktok", make_payload(followers_count=5000))
        db.session.rollback()
        assert [row.followers_count for row in _snapshots(stored.profile_id)] == [1000]
        assert db.session.get(Profile, stored.profile_id).followers_count == 1000


def test_deleting_a_profile_deletes_its_snapshots(app):
    with app.app_context():
        stored = submit_payload("tiktok", make_payload())
        assert profiles.delete_profile(stored.profile_id)
        count = select(func.count()).select_from(ProfileSnapshot)
        assert db.session.scalar(count) == 0


def _weights(**shares) -> bytes:
    vector = [0.0] * len(CATEGORIES)
    for name, share in shares.items():
        vector[CATEGORY_INDEX[name]] = share
    return pack_weights(vector)


def test_history_changes_and_drift_on_a_hand_computed_case(app):
    """Snapshots on days 0, 10, 40 and 100: over 7 and 30 days the change is from day 40 (the
    last at least that long before day 100), over 90 days from day 10. Music alone at first,
    Music 0.6 and Gaming 0.8 at the end: cosine 0.6, distance 0.4, Gaming gained."""
    with app.app_context():
        pk = submit_payload("tiktok", make_payload()).profile_id
        db.session.execute(delete(ProfileSnapshot).where(ProfileSnapshot.profile_id == pk))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        plan = [
            (0, 100, 10, 0.01, _weights(Music=1.0)),
            (10, 200, 20, 0.02, _weights(Music=1.0)),
            (40, 400, 40, 0.04, _weights(Music=0.8, Gaming=0.6)),
            (100, 500, 0, 0.05, _weights(Music=0.6, Gaming=0.8)),
        ]
        for day, followers, likes, rate, vector in plan:
            db.session.add(
                ProfileSnapshot(
                    profile_id=pk,
                    taken_at=start + timedelta(days=day),
                    followers_count=followers,
                    following_count=0,
                    likes_count=0,
                    videos_count=1,
                    number_of_comments=0,
                    number_of_likes_on_own_videos=likes,
                    number_of_likes=0,
                    number_of_shares=0,
                    engagement_rate=rate,
                    weights=vector,
                )
            )
        db.session.commit()
        found = history.profile_history(pk)
        assert [point["followers_count"] for point in found["snapshots"]] == [100, 200, 400, 500]
        assert found["snapshots"][-1]["interest"] == {"Gaming": 0.8, "Music": 0.6}
        week, month, quarter = (found["changes"][key] for key in ("7d", "30d", "90d"))
        assert week == month
        assert week["since"].startswith("2026-02-10")
        assert week["followers_count"] == {"from": 400, "to": 500, "change": 100, "relative": 0.25}
        assert week["likes_received"] == {"from": 40, "to": 0, "change": -40, "relative": -1.0}
        assert quarter["since"].startswith("2026-01-11")
        assert quarter["followers_count"]["change"] == 300
        assert quarter["followers_count"]["relative"] == 1.5
        assert quarter["engagement_rate"]["change"] == pytest.approx(0.03)
        drift = found["drift"]
        assert drift["cosine_distance"] == pytest.approx(0.4)
        assert drift["gained"] == ["Gaming"] and drift["lost"] == []
        assert drift["from"].startswith("2026-01-01") and drift["to"].startswith("2026-04-11")


def test_a_short_history_has_no_change_over_longer_periods(app):
    with app.app_context():
        pk = submit_payload("tiktok", make_payload()).profile_id
        found = history.profile_history(pk)
        assert len(found["snapshots"]) == 1
        assert found["changes"] == {"7d": None, "30d": None, "90d": None}
        assert found["drift"]["cosine_distance"] == 0.0
        assert found["drift"]["gained"] == found["drift"]["lost"] == []
        with pytest.raises(ProfileNotFound):
            history.profile_history(pk + 1000)


def test_the_api_answers_a_profiles_history(client, app):
    with app.app_context():
        pk = submit_payload("tiktok", make_payload(followers_count=10)).profile_id
        submit_payload("tiktok", make_payload(followers_count=20))
    response = client.get(f"/api/v1/profiles/{pk}/history")
    assert response.status_code == 200
    body = response.get_json()
    schemas.History.model_validate(body)
    assert [point["followers_count"] for point in body["snapshots"]] == [10, 20]
    assert client.get(f"/api/v1/profiles/{pk + 1000}/history").status_code == 404


def _age_snapshots(profile_id: int, days: int) -> None:
    """Move a profile's snapshots `days` back, as if its syncs had been that long ago."""
    for row in _snapshots(profile_id):
        row.taken_at = row.taken_at - timedelta(days=days)
    db.session.commit()


def test_a_resync_stores_the_growth_over_30_days(app):
    """Growth is the followers' change from the last snapshot at least 30 days before the
    sync; a history shorter than that leaves it empty."""
    with app.app_context():
        pk = submit_payload("tiktok", make_payload(followers_count=100)).profile_id
        submit_payload("tiktok", make_payload(followers_count=110))
        assert db.session.get(Profile, pk).growth_30d is None  # 0 days of history
        _age_snapshots(pk, 40)  # both now 40 days old: the later (110) is the base
        submit_payload("tiktok", make_payload(followers_count=165))
        db.session.expire_all()
        assert db.session.get(Profile, pk).growth_30d == pytest.approx(0.5)


def test_the_list_sorts_by_engagement_rate_and_growth(client, app):
    with app.app_context():
        low = submit_payload(
            "tiktok", make_payload(user_id="111", username="low", followers_count=1000)
        ).profile_id
        high = submit_payload(
            "tiktok", make_payload(user_id="222", username="high", followers_count=10)
        ).profile_id
        for pk in (low, high):
            _age_snapshots(pk, 31)
        submit_payload("tiktok", make_payload(user_id="111", username="low", followers_count=900))
        submit_payload("tiktok", make_payload(user_id="222", username="high", followers_count=20))
    by_rate = client.get("/api/v1/profiles?sort=engagement_rate&order=desc").get_json()
    assert [item["username"] for item in by_rate["items"]] == ["high", "low"]
    assert by_rate["items"][0]["engagement_rate"] > by_rate["items"][1]["engagement_rate"]
    by_growth = client.get("/api/v1/profiles?sort=growth&order=asc").get_json()
    assert [(item["username"], item["growth_30d"]) for item in by_growth["items"]] == [
        ("low", pytest.approx(-0.1)),
        ("high", pytest.approx(1.0)),
    ]
    detail = client.get(f"/api/v1/profiles/{high}").get_json()
    assert detail["growth_30d"] == pytest.approx(1.0)
