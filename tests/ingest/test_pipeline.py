"""The onboarding pipeline and storage: one transaction, updates in place, nothing partial."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import (
    LIKED,
    SHARED,
    Profile,
    ProfileInterest,
    ProfileVideo,
    Video,
    VideoStats,
)
from webapp.services.catalogue import raw_payloads
from webapp.services.ingestion import onboarding, storage, vectors
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.processing import process_payload
from webapp.services.ingestion.seeding import seed_profiles
from webapp.services.ingestion.taxonomy import CATEGORIES
from webapp.services.ingestion.validation import validate_payload

from ..factories import make_payload, video


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Profile, Video, ProfileVideo, ProfileInterest)
    }


def accepted_user_id(platform: str = "tiktok", start: int = 0) -> str:
    """The first numeric id from `start` whose mock account passes the likes minimum."""
    connector = get_connector(platform)
    for number in range(start, start + 1000):
        if connector.generate(str(number))["number_of_likes"] >= 100:
            return str(number)
    raise AssertionError("no accepted account found")


def rejected_user_id(platform: str = "tiktok") -> str:
    connector = get_connector(platform)
    for number in range(5000):
        if connector.generate(str(number))["number_of_likes"] < 100:
            return str(number)
    raise AssertionError("no rejected account found")


def test_connect_stores_profile_videos_links_and_vector(app):
    user_id = accepted_user_id()
    with app.app_context():
        outcome = onboarding.connect_account("tiktok", user_id)
        assert outcome.status == "created"
        profile = db.session.get(Profile, outcome.profile_id)
        raw = get_connector("tiktok").generate(user_id)
        assert profile.user_id == user_id
        assert profile.username == raw["username"]
        assert profile.followers_count == raw["followers_count"]
        assert raw_payloads.payload_of(profile.id) == raw
        links = db.session.scalars(
            select(ProfileVideo).where(ProfileVideo.profile_id == profile.id)
        ).all()
        assert len(links) == len(raw["liked_videos"]) + len(raw["shared_videos"])
        assert sorted(link.kind for link in links) == [LIKED] * len(raw["liked_videos"]) + [
            SHARED
        ] * len(raw["shared_videos"])
        weights = vectors.unpack_vector(profile.vector)
        assert len(weights) == len(CATEGORIES)
        assert sum(weights) == pytest.approx(1.0)
        rows = db.session.scalars(
            select(ProfileInterest).where(ProfileInterest.profile_id == profile.id)
        ).all()
        assert {CATEGORIES[row.category_id]: row.weight for row in rows} == {
            name: weight for name, weight in zip(CATEGORIES, weights, strict=True) if weight > 0
        }


def test_reconnect_updates_in_place(app):
    user_id = accepted_user_id()
    with app.app_context():
        first = onboarding.connect_account("tiktok", user_id)
        before = counts()
        created_at = db.session.get(Profile, first.profile_id).created_at
        db.session.remove()
        second = onboarding.connect_account("tiktok", user_id)
        assert second.status == "updated"
        assert second.profile_id == first.profile_id
        assert counts() == before
        profile = db.session.get(Profile, first.profile_id)
        assert profile.version == 2
        assert profile.created_at == created_at
        assert profile.updated_at >= created_at


def test_resync_with_new_payload_replaces_videos_and_vector(app):
    with app.app_context():
        first = onboarding.submit_payload("x", make_payload())
        changed = make_payload(
            followers_count=99,
            liked_videos=[video("v-new", categories=["Gaming"])],
            shared_videos=[],
        )
        second = onboarding.submit_payload("x", changed)
        assert (first.status, second.status) == ("created", "updated")
        profile = db.session.get(Profile, first.profile_id)
        assert profile.followers_count == 99
        links = db.session.scalars(
            select(ProfileVideo).where(ProfileVideo.profile_id == profile.id)
        )
        assert [link.video.video_id for link in links] == ["v-new"]
        assert [row.category_id for row in profile.interests] == [CATEGORIES.index("Gaming")]
        assert vectors.unpack_vector(profile.vector)[CATEGORIES.index("Gaming")] == 1.0
        # The videos seen the first time stay in the catalogue.
        assert counts()["videos"] == 4 + 1


def test_same_account_on_two_platforms_is_two_profiles(app):
    with app.app_context():
        a = onboarding.submit_payload("tiktok", make_payload())
        b = onboarding.submit_payload("instagram", make_payload())
        assert a.profile_id != b.profile_id
        assert counts()["profiles"] == 2
        # Video ids are per platform, so the same id on two platforms is two videos.
        assert counts()["videos"] == 8


def test_a_video_liked_by_two_profiles_is_stored_once(app):
    with app.app_context():
        onboarding.submit_payload("tiktok", make_payload(user_id="a"))
        onboarding.submit_payload(
            "tiktok",
            make_payload(user_id="b", liked_videos=[video("967235098701", likes=999)]),
        )
        assert counts()["videos"] == 4
        stored = db.session.scalar(select(Video).where(Video.video_id == "967235098701"))
        assert stored.likes == 999  # the latest observation wins
        liked_by = db.session.scalar(select(func.count()).where(ProfileVideo.video_pk == stored.id))
        assert liked_by == 2


def test_rejection_stores_nothing_and_says_why(app):
    user_id = rejected_user_id()
    with app.app_context():
        outcome = onboarding.connect_account("tiktok", user_id)
        assert outcome.status == "rejected"
        assert outcome.problems[0].loc == "number_of_likes"
        assert "at least 100" in outcome.reason
        assert counts() == {name: 0 for name in counts()}


def _fail_on_call(monkeypatch, target: int):
    """Make the target-th bulk insert of a write raise, after earlier writes went through."""
    real = storage._insert_many
    calls = {"n": 0}

    def failing(session, table, columns, rows):
        calls["n"] += 1
        if calls["n"] == target:
            raise RuntimeError("disk on fire")
        return real(session, table, columns, rows)

    monkeypatch.setattr(storage, "_insert_many", failing)


@pytest.mark.parametrize("failing_call", [1, 2], ids=["links", "interests"])
def test_failure_mid_write_stores_nothing(app, monkeypatch, failing_call):
    with app.app_context():
        _fail_on_call(monkeypatch, failing_call)
        with pytest.raises(RuntimeError, match="disk on fire"):
            onboarding.submit_payload("tiktok", make_payload())
        db.session.remove()
        assert counts() == {name: 0 for name in counts()}


def test_failed_resync_keeps_the_previous_version_whole(app, monkeypatch):
    with app.app_context():
        first = onboarding.submit_payload("tiktok", make_payload())
        before = counts()
        vector_before = db.session.get(Profile, first.profile_id).vector
        db.session.remove()
        _fail_on_call(monkeypatch, 2)
        with pytest.raises(RuntimeError):
            onboarding.submit_payload(
                "tiktok", make_payload(liked_videos=[video("zzz", categories=["Art"])])
            )
        db.session.remove()
        assert counts() == before
        profile = db.session.get(Profile, first.profile_id)
        assert profile.version == 1
        assert profile.vector == vector_before


def test_same_account_twice_in_one_batch_is_stored_once(app):
    first = make_payload()
    second = make_payload(followers_count=7)
    with app.app_context():
        records = [process_payload("tiktok", validate_payload(raw), raw) for raw in (first, second)]
        outcomes = storage.store_profiles(db.session, records)
        db.session.commit()
        assert [o.created for o in outcomes] == [True, False]
        assert outcomes[0].profile_id == outcomes[1].profile_id
        assert db.session.get(Profile, outcomes[0].profile_id).followers_count == 7
        assert counts()["profile_videos"] == 4


def test_racing_connects_of_one_account_never_duplicate(app):
    user_id = accepted_user_id()
    racers = 4
    barrier = threading.Barrier(racers)
    outcomes, errors = [], []

    def connect():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                outcomes.append(onboarding.connect_account("tiktok", user_id))
                db.session.remove()
        except Exception as error:  # reported below; a thread cannot fail the test itself
            errors.append(error)

    threads = [threading.Thread(target=connect) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(o.status for o in outcomes) == ["created"] + ["updated"] * (racers - 1)
    assert len({o.profile_id for o in outcomes}) == 1
    with app.app_context():
        raw = get_connector("tiktok").generate(user_id)
        assert counts()["profiles"] == 1
        assert counts()["profile_videos"] == len(raw["liked_videos"]) + len(raw["shared_videos"])
        assert db.session.scalar(select(Profile.version)) == racers


def test_seeding_in_process_counts_every_account(app):
    with app.app_context():
        report = seed_profiles(60, min_likes=100, seed=5, workers=1)
        assert report.stored + report.rejected == 60
        assert report.created == report.stored
        assert counts()["profiles"] == report.stored
        # Every link and weight of the batch is there (thousands of rows: on PostgreSQL they
        # go in through COPY).
        listed = select(func.sum(Profile.liked_count + Profile.shared_count))
        assert counts()["profile_videos"] == db.session.scalar(listed) > storage.COPY_ROWS
        for profile in db.session.scalars(select(Profile)):
            weights = vectors.unpack_vector(profile.vector)
            assert {row.category_id: row.weight for row in profile.interests} == {
                i: w for i, w in enumerate(weights) if w > 0
            }
        again = seed_profiles(60, min_likes=100, seed=5, workers=1)
        # The same seed makes the same accounts: a re-sync, not duplicates.
        assert (again.created, again.updated) == (0, report.stored)
        assert counts()["profiles"] == report.stored


def test_seeding_with_worker_processes(app):
    with app.app_context():
        progress = []
        report = seed_profiles(
            600,
            min_likes=100,
            platform="instagram",
            seed=9,
            workers=2,
            parallel_threshold=0,
            progress=lambda done, _report: progress.append(done),
        )
        assert report.stored + report.rejected == 600
        assert sum(progress) == 600
        assert counts()["profiles"] == report.stored
        platforms = db.session.scalars(select(Profile.platform).distinct()).all()
        assert platforms == ["instagram"]
        # Workers skip SQLite's per-row foreign key checks; every link must still resolve.
        orphans = db.session.scalar(
            select(func.count())
            .select_from(ProfileVideo)
            .outerjoin(Profile, Profile.id == ProfileVideo.profile_id)
            .outerjoin(Video, Video.id == ProfileVideo.video_pk)
            .where((Profile.id.is_(None)) | (Video.id.is_(None)))
        )
        assert orphans == 0
        links = counts()["profile_videos"]
        assert links == db.session.scalar(
            select(func.sum(Profile.liked_count + Profile.shared_count))
        )


def test_a_seeded_run_makes_the_same_accounts_whatever_the_worker_count(app):
    with app.app_context():
        # One worker cuts 1,200 accounts into batches of 300, two workers into batches of 250.
        first = seed_profiles(1200, min_likes=100, seed=77, workers=1)
        again = seed_profiles(1200, min_likes=100, seed=77, workers=2, parallel_threshold=0)
        assert again.created == 0
        assert again.updated == first.stored
        assert counts()["profiles"] == first.stored


def _stored_video(video_id: str) -> Video:
    return db.session.scalar(select(Video).where(Video.video_id == video_id))


def _seen_video() -> dict:
    item = video("v-same", categories=["Gaming"], hashtags=["#play"], likes=5)
    item["caption"], item["posted_at"] = "Speedrun tonight", "2026-01-02T03:04:05Z"
    return item


def _store_seen(seen: dict) -> Video:
    """Store a profile that likes `seen`; the stored video."""
    onboarding.submit_payload("x", make_payload(user_id="a", liked_videos=[seen]))
    return _stored_video(seen["video_id"])


def test_a_video_seen_again_as_stored_is_not_rewritten(app):
    """A write leaves a catalogue video it would store unchanged alone (its row, its index
    and text-search entries); what it links and counts is the same."""
    seen = _seen_video()
    with app.app_context():
        first = _store_seen(seen)
        pk, updated_at = first.id, first.updated_at
        db.session.remove()
        again = dict(seen)
        del again["caption"]  # seen without its caption: the stored one stays
        outcome = onboarding.submit_payload("x", make_payload(user_id="b", liked_videos=[again]))
        assert outcome.status == "created"
        stored = _stored_video("v-same")
        assert (stored.id, stored.updated_at) == (pk, updated_at)
        assert stored.caption == "Speedrun tonight"
        liked_by = db.session.scalar(select(func.count()).where(ProfileVideo.video_pk == pk))
        assert liked_by == 2


@pytest.mark.parametrize(
    ("field", "value", "stored_as"),
    [
        ("likes", 6, 6),
        ("comments", 9, 9),
        ("shares", 7, 7),
        ("hashtags", ["#play", "#win"], ["#play", "#win"]),
        ("categories", ["Gaming", "Music"], ["Gaming", "Music"]),
        ("caption", "Speedrun at noon", "Speedrun at noon"),
        ("posted_at", "2026-01-02T03:04:06Z", None),
    ],
)
def test_a_video_seen_again_changed_is_rewritten(app, field, value, stored_as):
    seen = _seen_video()
    with app.app_context():
        first = _store_seen(seen)
        pk, posted_at = first.id, first.posted_at
        db.session.remove()
        outcome = onboarding.submit_payload(
            "x", make_payload(user_id="b", liked_videos=[{**seen, field: value}])
        )
        assert outcome.status == "created"
        stored = _stored_video("v-same")
        assert stored.id == pk
        if field == "posted_at":
            assert stored.posted_at - posted_at == timedelta(seconds=1)
        else:
            assert getattr(stored, field) == stored_as


def test_a_resync_keeps_links_and_weights_equal_to_the_new_payload(app):
    """A re-sync writes only the links and weights that changed; what is stored afterwards is
    exactly the new payload's (order, kinds, weights) and the per-video counts follow."""
    first = make_payload(
        liked_videos=[
            video("v1", categories=["Music"]),
            video("v2", categories=["Gaming"]),
            video("v3", categories=["Food"]),
        ],
        shared_videos=[video("v2", categories=["Gaming"])],
    )
    second = make_payload(
        liked_videos=[
            video("v3", categories=["Food"]),
            video("v1", categories=["Music"]),
            video("v4", categories=["Travel"]),
        ],
        shared_videos=[],
    )
    with app.app_context():
        pk = onboarding.submit_payload("x", first).profile_id
        assert onboarding.submit_payload("x", second).status == "updated"
        db.session.remove()
        links = db.session.execute(
            select(ProfileVideo.kind, Video.video_id, ProfileVideo.position)
            .join(Video, Video.id == ProfileVideo.video_pk)
            .where(ProfileVideo.profile_id == pk)
            .order_by(ProfileVideo.kind, ProfileVideo.position)
        ).all()
        assert [tuple(link) for link in links] == [
            (LIKED, "v3", 0),
            (LIKED, "v1", 1),
            (LIKED, "v4", 2),
        ]
        profile = db.session.get(Profile, pk)
        weights = vectors.unpack_vector(profile.vector)
        assert {row.category_id: row.weight for row in profile.interests} == {
            i: w for i, w in enumerate(weights) if w > 0
        }
        assert {CATEGORIES[row.category_id] for row in profile.interests} == {
            "Food",
            "Music",
            "Travel",
        }
        counts = dict(
            db.session.execute(
                select(Video.video_id, VideoStats.profile_count).join(
                    VideoStats, VideoStats.video_pk == Video.id
                )
            ).all()
        )
        assert {v: counts.get(v, 0) for v in ("v1", "v2", "v3", "v4")} == {
            "v1": 1,
            "v2": 0,
            "v3": 1,
            "v4": 1,
        }


class _Deadlock(Exception):
    sqlstate = "40P01"  # as psycopg names PostgreSQL's deadlock_detected


def test_a_write_the_database_ends_in_a_deadlock_is_tried_again_whole(app, monkeypatch):
    """PostgreSQL ends one of two writes that wait on each other; the victim's transaction was
    rolled back whole, so the connect tries it again: one profile, one audit event."""
    from sqlalchemy.exc import OperationalError

    from webapp.models import AuditEvent

    real = storage.store_profiles
    failures = []

    def deadlocked_once(session, records):
        stored = real(session, records)  # its rows are written, then the database refuses
        if not failures:
            failures.append(1)
            raise OperationalError("INSERT INTO videos ...", {}, _Deadlock("deadlock detected"))
        return stored

    monkeypatch.setattr(onboarding, "store_profiles", deadlocked_once)
    with app.app_context():
        actor = onboarding.audit.Actor("ana")
        outcome = onboarding.submit_payload(
            "tiktok", make_payload(), audited=onboarding.Audit(actor)
        )
        assert outcome.accepted and failures == [1]
        assert db.session.scalar(select(func.count()).select_from(Profile)) == 1
        events = db.session.scalars(select(AuditEvent.action)).all()
        assert events == ["connect"]


def test_a_write_that_keeps_deadlocking_gives_up_and_keeps_nothing(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    calls = []

    def always_deadlocked(session, records):
        calls.append(1)
        raise OperationalError("INSERT INTO videos ...", {}, _Deadlock("deadlock detected"))

    monkeypatch.setattr(onboarding, "store_profiles", always_deadlocked)
    with app.app_context():
        with pytest.raises(OperationalError):
            onboarding.submit_payload("tiktok", make_payload())
        assert len(calls) == onboarding.WRITE_TRIES
        assert db.session.scalar(select(func.count()).select_from(Profile)) == 0
