"""The toker command line through the app's CLI runner."""

import itertools
import json
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEvent, Profile, ProfileSnapshot
from webapp.services import clock
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.taxonomy import CATEGORIES

from ..factories import make_payload, mock_user_id, video
from ..helpers import post_profile

SEED_REPORT = re.compile(
    r"Stored (\d+) profiles \((\d+) created, (\d+) updated\); rejected (\d+) under the rules\."
)


def stored_profiles(app) -> list[Profile]:
    with app.app_context():
        profiles = db.session.scalars(select(Profile).order_by(Profile.id)).all()
        db.session.expunge_all()
        return profiles


def count_by_platform(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            select(Profile.platform, func.count(Profile.id)).group_by(Profile.platform)
        ).all()
    return dict(rows)


def seed_report(result) -> dict[str, int]:
    match = SEED_REPORT.search(result.stdout)
    assert match, result.output
    return dict(
        zip(("stored", "created", "updated", "rejected"), map(int, match.groups()), strict=True)
    )


# --- create --------------------------------------------------------------------------------


def test_create_then_update(app, runner):
    user_id = mock_user_id("tiktok", accepted=True)

    first = runner.invoke(args=["create", "tiktok", "--user-id", user_id])
    assert first.exit_code == 0, first.output
    (profile,) = stored_profiles(app)
    assert (profile.platform, profile.user_id) == ("tiktok", user_id)
    assert f"Created profile {profile.id}: tiktok @{profile.username}" in first.stdout

    again = runner.invoke(args=["create", "tiktok", "--user-id", user_id])
    assert again.exit_code == 0, again.output
    assert f"Updated profile {profile.id}: tiktok @{profile.username}" in again.stdout
    assert "Created profile" not in again.stdout
    (resynced,) = stored_profiles(app)
    assert resynced.id == profile.id
    assert resynced.version == 2


def test_create_without_user_id_makes_a_new_account(app, runner):
    created = 0
    # About one fresh account in ten is under the likes minimum and is rejected.
    for _ in range(30):
        result = runner.invoke(args=["create", "x"])
        if result.exit_code == 1:
            assert "Rejected x account" in result.output
            continue
        assert result.exit_code == 0, result.output
        assert "Created profile" in result.stdout
        created += 1
        if created == 2:
            break
    profiles = stored_profiles(app)
    assert len(profiles) == created == 2
    assert {p.platform for p in profiles} == {"x"}
    assert profiles[0].user_id != profiles[1].user_id


def test_create_rejected_account_exits_1_with_the_reason(app, runner):
    user_id = mock_user_id("tiktok", accepted=False)
    likes = get_connector("tiktok").generate(user_id)["number_of_likes"]

    result = runner.invoke(args=["create", "tiktok", "--user-id", user_id])
    assert result.exit_code == 1
    assert f"Rejected tiktok account {user_id}" in result.output
    assert "number_of_likes" in result.output
    assert f"{likes} likes" in result.output and "100" in result.output
    assert "Created profile" not in result.output
    assert stored_profiles(app) == []


def test_create_unknown_platform_exits_2(app, runner):
    result = runner.invoke(args=["create", "myspace"])
    assert result.exit_code == 2
    assert "'myspace' is not one of" in result.output
    for platform in ("tiktok", "instagram", "x"):
        assert platform in result.output
    assert stored_profiles(app) == []


def test_create_empty_user_id_exits_2(app, runner):
    result = runner.invoke(args=["create", "tiktok", "--user-id", "  "])
    assert result.exit_code == 2
    assert "--user-id" in result.output
    assert stored_profiles(app) == []


@pytest.mark.parametrize(
    ("user_id", "words"),
    [("9" * 65, "has at most 64 characters"), ("a\x00b", "must not contain a NUL character")],
    ids=["65-characters", "nul"],
)
def test_create_refuses_a_user_id_the_api_and_the_page_refuse(app, runner, user_id, words):
    result = runner.invoke(args=["create", "tiktok", "--user-id", user_id])
    assert result.exit_code == 2
    assert "--user-id" in result.output and words in result.output
    assert stored_profiles(app) == []


# --- list and listfull ---------------------------------------------------------------------


def test_list_empty(runner):
    result = runner.invoke(args=["list"])
    assert result.exit_code == 0, result.output
    assert "Total: 0 profile(s)" in result.stdout
    assert "ID:" not in result.stdout


def test_list_prints_one_block_per_profile(app, client, runner):
    post_profile(client, "tiktok", user_id="1", username="alice", number_of_likes=6000, expect=201)
    post_profile(
        client,
        "x",
        user_id="2",
        username="bob",
        number_of_likes=150,
        liked_videos=[video("a", categories=["Music"])],
        expect=201,
    )

    result = runner.invoke(args=["list"])
    assert result.exit_code == 0, result.output
    header, *blocks = result.stdout.strip().split("\n\n")
    assert header.splitlines()[1] == "Total: 2 profile(s)"

    profiles = stored_profiles(app)
    assert [(p.username, p.number_of_likes, p.liked_count) for p in profiles] == [
        ("alice", 6000, 2),
        ("bob", 150, 1),
    ]
    assert len(blocks) == len(profiles)
    for block, profile in zip(blocks, profiles, strict=True):
        assert block.splitlines() == [
            f"ID: {profile.id} | Platform: {profile.platform} | Username: {profile.username}",
            f"  Likes: {profile.number_of_likes} | Liked videos: {profile.liked_count}",
            f"  Created: {profile.created_at:%Y-%m-%d %H:%M:%S}",
        ]


def test_list_filters_by_platform(client, runner):
    post_profile(client, "tiktok", user_id="1", username="alice", expect=201)
    post_profile(client, "x", user_id="2", username="bob", expect=201)
    result = runner.invoke(args=["list", "--platform", "x"])
    assert result.exit_code == 0, result.output
    assert "Total: 1 profile(s)" in result.stdout
    assert "Username: bob" in result.stdout
    assert "Username: alice" not in result.stdout


def test_listfull_prints_every_detail_and_the_raw_json(app, client, runner):
    payload = make_payload(
        liked_videos=[
            video(111, categories=["Technology", "Education"], hashtags=["#code"]),
            video("222", categories=["Comedy"], hashtags=["#Fun"]),
        ],
        shared_videos=[video("333", categories=["Music", "Dance"], hashtags=["fun"])],
    )
    response = client.post("/api/v1/profiles", json={"platform": "tiktok", "payload": payload})
    assert response.status_code == 201

    result = runner.invoke(args=["listfull"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    (profile,) = stored_profiles(app)
    assert "Total: 1 profile(s)" in out
    assert f"ID: {profile.id} | Platform: tiktok | Username: example_user" in out
    assert "User id: 123456 | Pseudo: example_pseudo | Verified: no" in out
    for field in ("followers_count", "following_count", "number_of_likes", "number_of_shares"):
        assert f"    {field}: {payload[field]}\n" in out
    assert "Liked videos (2):" in out
    assert "Shared videos (1):" in out
    for video_id in ("111", "222", "333"):
        assert f"    - {video_id}: " in out
    assert "Top 5 categories:" in out
    # raw: Technology 0.5, Education 0.5, Comedy 1, Music 2/2, Dance 2/2 -> total 4
    top = out.split("Top 5 categories:\n")[1].split("  Top 5 hashtags:")[0]
    assert top.splitlines() == [
        "    Music: 0.250",
        "    Dance: 0.250",
        "    Comedy: 0.250",
        "    Education: 0.125",
        "    Technology: 0.125",
    ]
    assert "Top 5 hashtags:" in out
    assert "    #fun: 2\n    #code: 1\n" in out

    stats, raw = out.split("  Raw JSON:\n")
    assert stats.index("Top 5 categories:") < stats.index("Top 5 hashtags:")
    assert json.loads(raw) == payload


def test_listfull_shows_every_profile(client, runner):
    post_profile(client, "tiktok", user_id="1", username="alice", expect=201)
    post_profile(client, "instagram", user_id="2", username="bob", expect=201)
    result = runner.invoke(args=["listfull"])
    assert result.exit_code == 0, result.output
    assert "Total: 2 profile(s)" in result.stdout
    assert result.stdout.count("  Raw JSON:") == 2
    assert "Platform: tiktok | Username: alice" in result.stdout
    assert "Platform: instagram | Username: bob" in result.stdout


# --- seed ----------------------------------------------------------------------------------


def test_seed_reports_every_account(app, runner):
    result = runner.invoke(args=["seed", "--count", "30"])
    assert result.exit_code == 0, result.output
    report = seed_report(result)
    assert report["stored"] + report["rejected"] == 30
    assert report["created"] + report["updated"] == report["stored"]
    assert len(stored_profiles(app)) == report["stored"]


def test_seed_with_history_syncs_the_same_accounts_weekly_up_to_now(app, runner):
    """--history 2: the accounts as they stood two weeks ago, one week ago and now, each
    sync a snapshot a week apart ending at the clock's now (TOKER_CLOCK in the tests)."""
    result = runner.invoke(args=["seed", "--count", "12", "--seed", "5", "--history", "2"])
    assert result.exit_code == 0, result.output
    report = seed_report(result)
    with app.app_context():
        profiles = db.session.scalars(select(Profile)).all()
        assert len(profiles) == report["created"] == report["stored"] > 0
        assert {profile.version for profile in profiles} == {3}
        times = db.session.execute(
            select(ProfileSnapshot.profile_id, ProfileSnapshot.taken_at).order_by(
                ProfileSnapshot.profile_id, ProfileSnapshot.taken_at
            )
        ).all()
        by_profile: dict[int, list] = {}
        for pk, at in times:
            by_profile.setdefault(pk, []).append(at)
        assert set(by_profile) == {profile.id for profile in profiles}
        today = clock.parse(app.config["TOKER_CLOCK"]).date()
        assert len({tuple(taken) for taken in by_profile.values()}) == 1  # one run's moments
        for taken in by_profile.values():
            assert [later - earlier for earlier, later in itertools.pairwise(taken)] == [
                timedelta(weeks=1)
            ] * 2
            assert taken[-1].date() == today
        # A week apart, the same accounts stood differently.
        followers = db.session.execute(
            select(ProfileSnapshot.profile_id, ProfileSnapshot.followers_count)
        ).all()
        assert len({count for _pk, count in followers}) > len(profiles)


@pytest.mark.parametrize("count", ["0", "-3", "abc", ""])
def test_seed_rejects_a_bad_count(app, runner, count):
    result = runner.invoke(args=["seed", "--count", count])
    assert result.exit_code != 0
    assert "--count" in result.output
    assert "Stored" not in result.output
    assert stored_profiles(app) == []


def test_seed_requires_a_count(runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code != 0
    assert "--count" in result.output


@pytest.mark.parametrize("platform", ["tiktok", "instagram", "x"])
def test_seed_on_one_platform(app, runner, platform):
    result = runner.invoke(args=["seed", "--count", "20", "--platform", platform])
    assert result.exit_code == 0, result.output
    report = seed_report(result)
    assert report["stored"] + report["rejected"] == 20
    assert report["stored"] > 0
    assert count_by_platform(app) == {platform: report["stored"]}


def test_seed_unknown_platform_exits_2(app, runner):
    result = runner.invoke(args=["seed", "--count", "5", "--platform", "myspace"])
    assert result.exit_code == 2
    assert "myspace" in result.output
    assert stored_profiles(app) == []


# --- categories ----------------------------------------------------------------------------


def test_categories_prints_the_taxonomy_in_order(runner):
    result = runner.invoke(args=["categories"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines == list(CATEGORIES)
    assert lines[-1] == "Other"
    for name in ("Music", "Technology", "Film & TV", "DIY"):
        assert name in lines


# --- db upgrade ----------------------------------------------------------------------------


@pytest.fixture
def keep_logging():
    """Alembic's env.py calls logging.config.fileConfig; put the logging setup back after."""
    root = logging.getLogger()
    saved_root = (root.level, root.handlers[:])
    saved = {
        name: (logger.disabled, logger.level, logger.handlers[:], logger.propagate)
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    yield
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    for name, logger in logging.Logger.manager.loggerDict.items():
        if not isinstance(logger, logging.Logger):
            continue
        disabled, level, handlers, propagate = saved.get(name, (False, logging.NOTSET, [], True))
        logger.disabled, logger.propagate = disabled, propagate
        logger.setLevel(level)
        logger.handlers[:] = handlers


@pytest.fixture
def new_app(tmp_path, keep_logging):
    """An app on a brand-new SQLite file with no tables."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.sqlite'}"})
    yield app
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_db_upgrade_creates_the_schema(new_app):
    with new_app.app_context():
        assert inspect(db.engine).get_table_names() == []

    runner = new_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    with new_app.app_context():
        inspector = inspect(db.engine)
        tables = set(inspector.get_table_names())
        assert "alembic_version" in tables
        # The migrated schema has every table and column the models use.
        for table in db.metadata.sorted_tables:
            assert table.name in tables
            columns = {column["name"] for column in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name

    user_id = mock_user_id("tiktok", accepted=True)
    created = runner.invoke(args=["create", "tiktok", "--user-id", user_id])
    assert created.exit_code == 0, created.output
    assert "Created profile" in created.stdout
    (profile,) = stored_profiles(new_app)
    assert profile.user_id == user_id

    # Upgrading an up-to-date database changes nothing.
    again = runner.invoke(args=["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert len(stored_profiles(new_app)) == 1


def test_commands_on_an_unmigrated_database_say_how_to_fix_it(tmp_path):
    bare = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.db'}"}
    )
    result = bare.test_cli_runner().invoke(args=["list"])
    assert result.exit_code == 1
    assert "no such table" in result.output
    assert "toker db upgrade" in result.output


def test_connects_and_seeding_from_the_command_line_are_audited(app, runner):
    user_id = mock_user_id("tiktok", accepted=True)
    assert runner.invoke(args=["create", "tiktok", "--user-id", user_id]).exit_code == 0
    assert runner.invoke(args=["seed", "--count", "3", "--seed", "1"]).exit_code == 0
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        seen = [(e.action, e.target, e.detail, e.via) for e in events]
        assert seen[0] == ("connect", f"tiktok:{user_id}", "created", "cli")
        assert seen[1][0] == "seed" and seen[1][1] == "3 accounts" and seen[1][3] == "cli"
        assert all(e.actor.startswith("cli") for e in events)
