"""The committed migrations build exactly the schema the models describe."""

import json

import flask_migrate
import numpy as np
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from webapp import create_app, queries
from webapp.extensions import db
from webapp.models import Profile, include_name


def _fresh_app(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    if database_url.startswith("postgresql"):
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    return app


def _context(connection) -> MigrationContext:
    """A migration context that leaves the text search's hand-made tables aside, as the
    app's migrations do."""
    return MigrationContext.configure(connection, opts={"include_name": include_name})


def _bare_profile(raw: str = "'{}'", links: int = 0):
    """An INSERT of one profile row as the revisions before 0007 stored it, named by :pk;
    `raw` is the SQL of its raw_payload, `links` its liked and its shared count."""
    return text(
        "INSERT INTO profiles (id, platform, user_id, username, user_pseudo, "
        "verified, followers_count, following_count, likes_count, videos_count, "
        "number_of_comments, number_of_likes_on_own_videos, number_of_likes, "
        "number_of_shares, liked_count, shared_count, unclassified_count, "
        "version, created_at, updated_at, vector, top_categories, "
        "top_hashtags, raw_payload) VALUES (:pk, 'x', :pk, 'u', 'u', false, "
        f"0, 0, 0, 0, 0, 0, 100, 0, {links}, {links}, 0, 1, '2026-01-01', '2026-01-01', "
        f"'', '[]', '[]', {raw})"
    )


def test_upgrade_builds_the_models_schema(database_url):
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(_context(connection), db.metadata)
        assert differences == []
        db.engine.dispose()


def test_downgrade_then_upgrade_again(database_url):
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"profiles", "videos", "profile_videos", "profile_interests"} <= tables
        db.engine.dispose()


def test_the_change_feed_starts_at_the_current_version_of_existing_data(database_url):
    """Profiles stored before the feed existed have no changes in it: the feed's floor is the
    version they reached, so state built from before the upgrade is rebuilt, not patched."""
    from webapp.services.analytics import similarity
    from webapp.services.live import changes, stamps

    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0003")
        db.session.execute(text("INSERT INTO data_versions (name, version) VALUES ('profiles', 7)"))
        db.session.commit()
        flask_migrate.upgrade()
        assert stamps.current(db.session, changes.FLOOR) == 7
        columns = (Profile.__table__.c.username,)
        assert changes.changed_rows(db.session, 6, 7, columns, 10) is None  # older: rebuild
        assert changes.changed_rows(db.session, 7, 7, columns, 10) == []
        similarity.current_matrix()  # builds, then patches as writes come
        db.session.remove()
        db.engine.dispose()


def test_existing_videos_get_their_score_profile_count_search_text_and_hashtags(database_url):
    from webapp.services.ingestion.scores import engagement_score

    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO videos (id, platform, video_id, categories, hashtags, likes, "
                    "comments, shares, caption, first_seen_at, updated_at) VALUES "
                    "(1, 'x', 'v1', '[]', '[\"#fun\", \"#cats\"]', 999, 0, 0, 'Big CATS', "
                    "'2026-01-01', '2026-01-01'), "
                    "(2, 'x', 'v2', '[]', '[]', 0, 0, 0, NULL, '2026-01-01', '2026-01-01')"
                )
            )
            for pk in (1, 2):
                connection.execute(
                    _bare_profile(links=1),
                    {"pk": pk},
                )
                for kind in ("liked", "shared"):  # both kinds: one profile, counted once
                    connection.execute(
                        text(
                            "INSERT INTO profile_videos (profile_id, kind, video_pk, position) "
                            "VALUES (:pk, :kind, 1, 0)"
                        ),
                        {"pk": pk, "kind": kind},
                    )
        flask_migrate.upgrade()
        rows = db.session.execute(
            text(
                "SELECT id, score, coalesce(profile_count, 0), search_text FROM videos "
                "LEFT JOIN video_stats ON video_pk = id ORDER BY id"
            )
        ).all()
        assert rows[0][1] == engagement_score(999, 0, 0)
        assert rows[0][2:] == (2, "big cats #fun #cats")
        assert rows[1][1:] == (0.0, 0, "")
        # And the hashtags are counted (0006): both on video 1, each beside the other.
        assert db.session.execute(
            text("SELECT hashtag, videos FROM hashtag_counts ORDER BY hashtag")
        ).all() == [("#cats", 1), ("#fun", 1)]
        assert db.session.execute(
            text("SELECT hashtag, other, videos FROM hashtag_pairs ORDER BY hashtag")
        ).all() == [("#cats", "#fun", 1), ("#fun", "#cats", 1)]
        db.session.remove()
        db.engine.dispose()


def test_raw_payloads_are_compressed_in_place_and_back(database_url):
    """0007 packs every stored JSON payload (in batches) and its downgrade gives JSON back."""

    from webapp.services.ingestion.payloads import ORJSON_ZLIB, unpack

    def read(value):  # JSON text on SQLite; the driver parses JSONB on PostgreSQL
        return value if isinstance(value, dict) else json.loads(value)

    def in_order(payload):  # JSONB keeps keys sorted: the order received is SQLite's alone
        return json.dumps(payload, sort_keys=postgres)

    postgres = database_url.startswith("postgresql")
    payloads = {
        pk: {"user_id": str(pk), "zeta": "Zoë 🎵 \u2028", "alpha": [pk, 2**63 - 1, None]}
        for pk in range(1, 2346)  # more than one batch of 1,000
    }
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0006")
        with db.engine.begin() as connection:
            connection.execute(
                _bare_profile(raw="CAST(:raw AS JSONB)" if postgres else ":raw"),
                [
                    {"pk": pk, "raw": json.dumps(p, ensure_ascii=False)}
                    for pk, p in payloads.items()
                ],
            )
        flask_migrate.upgrade(revision="0007")
        stored = dict(db.session.execute(text("SELECT id, raw_payload FROM profiles")).all())
        assert stored.keys() == payloads.keys()
        assert all(isinstance(blob, bytes) and blob[0] == ORJSON_ZLIB for blob in stored.values())
        assert {pk: in_order(unpack(blob)) for pk, blob in stored.items()} == {
            pk: in_order(p) for pk, p in payloads.items()
        }
        with db.engine.connect() as connection:
            if not postgres:  # the rebuilt table still never reuses an id (0003)
                schema = connection.execute(
                    text("SELECT sql FROM sqlite_schema WHERE name = 'profiles'")
                ).scalar()
                assert "AUTOINCREMENT" in schema
        db.session.remove()

        flask_migrate.downgrade(revision="0006")
        restored = db.session.execute(text("SELECT id, raw_payload FROM profiles")).all()
        assert {pk: in_order(read(raw)) for pk, raw in restored} == {
            pk: in_order(p) for pk, p in payloads.items()
        }
        db.session.remove()
        db.engine.dispose()


def test_payloads_move_apart_and_links_and_weights_take_small_codes(database_url):
    """0009 moves every payload (in batches) to profile_payloads with the zstd dictionary, codes
    link kinds and categories as small integers, and its downgrade gives 0007's rows back."""

    from webapp.models import LIKED, SHARED, ProfileInterest, ProfileVideo
    from webapp.services.catalogue import profiles, raw_payloads
    from webapp.services.ingestion.payloads import (
        ORJSON_ZLIB,
        STDLIB_JSON_ZLIB,
        dictionary_of,
        pack_zlib,
        unpack,
    )
    from webapp.services.ingestion.taxonomy import CATEGORIES

    postgres = database_url.startswith("postgresql")
    payloads = {
        pk: {"user_id": str(pk), "zeta": "Zoë 🎵 \u2028", "alpha": [pk, 2**63 - 1, None]}
        for pk in range(1, 2346)  # more than one batch of 1,000
    }
    payloads[7] = {"b": 10**30}  # format 2: past 64 bits
    weights = {1: {"Music": 0.75, "Other": 0.25}, 2: {"Film & TV": 1.0}}
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0007")
        with db.engine.begin() as connection:
            connection.execute(
                _bare_profile(raw=":raw", links=1),
                [{"pk": pk, "raw": pack_zlib(p)} for pk, p in payloads.items()],
            )
            connection.execute(
                text(
                    "INSERT INTO videos (id, platform, video_id, categories, hashtags, likes, "
                    "comments, shares, first_seen_at, updated_at, score, search_text) VALUES "
                    "(1, 'x', 'v1', '[]', '[]', 0, 0, 0, '2026-01-01', '2026-01-01', 0, ''), "
                    "(2, 'x', 'v2', '[]', '[]', 0, 0, 0, '2026-01-01', '2026-01-01', 0, '')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO profile_videos (profile_id, kind, video_pk, position) "
                    "VALUES (:pk, :kind, :video, :position)"
                ),
                [
                    {"pk": 1, "kind": "liked", "video": 2, "position": 0},
                    {"pk": 1, "kind": "liked", "video": 1, "position": 1},
                    {"pk": 1, "kind": "shared", "video": 1, "position": 0},
                    {"pk": 2, "kind": "shared", "video": 2, "position": 0},
                ],
            )
            connection.execute(
                text(
                    "INSERT INTO profile_interests (profile_id, category, weight) "
                    "VALUES (:pk, :category, :weight)"
                ),
                [
                    {"pk": pk, "category": name, "weight": weight}
                    for pk, named in weights.items()
                    for name, weight in named.items()
                ],
            )
        flask_migrate.upgrade()

        stored = dict(
            db.session.execute(text("SELECT profile_id, payload FROM profile_payloads")).all()
        )
        assert stored.keys() == payloads.keys()
        # 0009 packs with dictionary 1, and 0017 packs those rows again with its own (0020
        # leaves them with it).
        assert {dictionary_of(blob) for pk, blob in stored.items() if pk != 7} == {2}
        assert stored[7][0] == STDLIB_JSON_ZLIB
        assert {pk: raw_payloads.payload_of(pk) for pk in stored} == payloads
        assert json.dumps(raw_payloads.payload_of(2345)) == json.dumps(payloads[2345])  # order
        assert db.session.execute(
            text("SELECT id, name FROM categories ORDER BY id")
        ).all() == list(enumerate(CATEGORIES))
        assert db.session.execute(
            select_links := text(
                "SELECT profile_id, kind, video_pk, position FROM profile_videos "
                "ORDER BY profile_id, kind, video_pk"
            )
        ).all() == [(1, LIKED, 1, 1), (1, LIKED, 2, 0), (1, SHARED, 1, 0), (2, SHARED, 2, 0)]
        assert {
            (row.profile_id, CATEGORIES[row.category_id], row.weight)
            for row in db.session.scalars(db.select(ProfileInterest))
        } == {(pk, name, w) for pk, named in weights.items() for name, w in named.items()}
        # The interest filter and the profile's video lists read the converted rows.
        assert profiles.profile_videos(1, "liked")["total"] == 2
        assert [v["video_id"] for v in profiles.profile_videos(1, "shared")["items"]] == ["v1"]
        assert (
            db.session.scalar(
                db.select(db.func.count()).select_from(ProfileVideo).where(ProfileVideo.kind == 1)
            )
            == 2
        )
        with db.engine.connect() as connection:
            assert compare_metadata(_context(connection), db.metadata) == []
            if not postgres:  # the rebuilt table still never reuses an id (0003)
                schema = connection.execute(
                    text("SELECT sql FROM sqlite_schema WHERE name = 'profiles'")
                ).scalar()
                assert "AUTOINCREMENT" in schema
        db.session.remove()

        flask_migrate.downgrade(revision="0007")
        restored = dict(db.session.execute(text("SELECT id, raw_payload FROM profiles")).all())
        assert all(blob[0] in (ORJSON_ZLIB, STDLIB_JSON_ZLIB) for blob in restored.values())
        assert {pk: unpack(blob) for pk, blob in restored.items()} == payloads
        assert db.session.execute(select_links).all() == [
            (1, "liked", 1, 1),
            (1, "liked", 2, 0),
            (1, "shared", 1, 0),
            (2, "shared", 2, 0),
        ]
        assert set(
            db.session.execute(text("SELECT profile_id, category, weight FROM profile_interests"))
        ) == {(pk, name, w) for pk, named in weights.items() for name, w in named.items()}
        tables = set(inspect(db.engine).get_table_names())
        assert not {"profile_payloads", "payload_dictionaries", "categories"} & tables
        db.session.remove()
        flask_migrate.upgrade()
        assert raw_payloads.payload_of(1) == payloads[1]
        db.session.remove()
        db.engine.dispose()


def test_existing_profiles_and_videos_are_indexed_for_search_and_back(database_url):
    """0008 indexes the stored names (lowered by Python, beyond ASCII) and videos' search
    text; searches then use the indexes, and the downgrade removes them."""
    from webapp.services.catalogue import profiles, videos

    def names(q):
        query = queries.list_query({"q": q})
        return sorted(item["username"] for item in profiles.list_profiles(query)["items"])

    def captions(q):
        return sorted(
            item["caption"] for item in videos.search(queries.video_query({"q": q}))["items"]
        )

    accounts = {1: ("ÉMILE_Zola", "İpek"), 2: ("plain", "Straße"), 3: ("100%_real", "")}
    app = _fresh_app(database_url)
    with app.app_context():
        # Stored as before 0007 (a JSON payload), then every revision up to the head.
        flask_migrate.upgrade(revision="0006")
        with db.engine.begin() as connection:
            for pk, (name, pseudo) in accounts.items():
                connection.execute(_bare_profile(), {"pk": pk})
                connection.execute(
                    text(
                        "UPDATE profiles SET username = :name, user_pseudo = :pseudo WHERE id = :pk"
                    ),
                    {"pk": pk, "name": name, "pseudo": pseudo},
                )
            connection.execute(
                text(
                    "INSERT INTO videos (id, platform, video_id, categories, hashtags, likes, "
                    "comments, shares, caption, first_seen_at, updated_at, score, search_text) "
                    "VALUES (1, 'x', 'v1', '[]', '[\"#cats\"]', 0, 0, 0, 'Big CATS', "
                    "'2026-01-01', '2026-01-01', 0, 'big cats #cats'), "
                    "(2, 'x', 'v2', '[]', '[]', 0, 0, 0, 'Été', '2026-01-01', '2026-01-01', "
                    "0, 'été')"
                )
            )
        flask_migrate.upgrade()
        assert names("émile") == names("ÉMILE_") == ["ÉMILE_Zola"]
        assert names("i̇pe") == ["ÉMILE_Zola"]  # 'İ' lowers to 'i' + a combining dot
        assert names("straße") == ["plain"] and names("0%_") == ["100%_real"]
        assert names("zz") == [] and names("la") == ["plain", "ÉMILE_Zola"]
        assert captions("cats") == captions("#ca") == ["Big CATS"] and captions("été") == ["Été"]
        with db.engine.connect() as connection:
            assert compare_metadata(_context(connection), db.metadata) == []
        db.session.remove()

        flask_migrate.downgrade(revision="0007")
        tables = set(inspect(db.engine).get_table_names())
        assert not {t for t in tables if "search" in t}
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("videos")}
        assert "ix_videos_search_text_trgm" not in indexes
        flask_migrate.upgrade()
        assert names("zola") == ["ÉMILE_Zola"] and captions("big") == ["Big CATS"]
        db.session.remove()
        db.engine.dispose()


def test_existing_videos_get_their_category_rows_and_back(database_url):
    """0010 enters each stored video's categories in video_categories (its JSON list stays);
    a name outside the taxonomy gets no row; the downgrade drops the table."""
    from webapp.services.ingestion.taxonomy import CATEGORY_INDEX

    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0009")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO videos (id, platform, video_id, categories, hashtags, likes, "
                    "comments, shares, first_seen_at, updated_at, score, search_text) VALUES "
                    "(1, 'x', 'v1', '[\"Music\", \"Dance\", \"Music\"]', '[]', 0, 0, 0, "
                    "'2026-01-01', '2026-01-01', 0, ''), "
                    "(2, 'x', 'v2', '[]', '[]', 0, 0, 0, '2026-01-01', '2026-01-01', 0, ''), "
                    "(3, 'tiktok', 'v3', '[\"Gaming\", \"Not a category\"]', '[]', 0, 0, 0, "
                    "'2026-01-01', '2026-01-01', 0, '')"
                )
            )
        flask_migrate.upgrade()
        rows = db.session.execute(
            text("SELECT video_pk, category_id FROM video_categories ORDER BY 1, 2")
        ).all()
        music, dance, gaming = (CATEGORY_INDEX[name] for name in ("Music", "Dance", "Gaming"))
        assert rows == sorted([(1, music), (1, dance), (3, gaming)])
        db.session.remove()
        flask_migrate.downgrade(revision="0009")
        assert "video_categories" not in inspect(db.engine).get_table_names()
        assert db.session.execute(text("SELECT count(*) FROM videos")).scalar() == 3
        db.session.remove()
        db.engine.dispose()


def test_users_and_their_tokens_are_kept_when_sessions_move_to_the_server(database_url):
    """0011 adds user_sessions and the per-account failure count and drops session_version;
    users, their ids' AUTOINCREMENT and their API tokens are kept both ways."""
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0010")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, name, password_hash, role, session_version, "
                    "must_change_password, created_at) VALUES "
                    "(7, 'alice', 'h', 'admin', 3, false, '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at)"
                    " VALUES (1, 7, 'ci', 'd', 'tok_', '2026-01-01')"
                )
            )
        flask_migrate.upgrade()
        users = db.session.execute(
            text("SELECT id, name, role, failed_signins, signin_locked_until FROM users")
        ).all()
        assert [tuple(row) for row in users] == [(7, "alice", "admin", 0, None)]
        assert db.session.execute(text("SELECT user_id FROM api_tokens")).scalars().all() == [7]
        columns = {column["name"] for column in inspect(db.engine).get_columns("users")}
        assert "session_version" not in columns
        assert "user_sessions" in inspect(db.engine).get_table_names()
        db.session.remove()
        flask_migrate.downgrade(revision="0010")
        assert "user_sessions" not in inspect(db.engine).get_table_names()
        assert db.session.execute(text("SELECT name FROM users")).scalars().all() == ["alice"]
        assert db.session.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def test_every_existing_profile_gets_its_first_snapshot(database_url):
    """0013 adds profile_snapshots and gives each stored profile one, taken at its last
    update, with its statistics, vector and engagement rate; downgrading drops them only."""
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0012")
        with db.engine.begin() as connection:
            for pk, followers, videos in ((3, 200, 4), (5, 0, 0)):
                connection.execute(
                    text(
                        "INSERT INTO profiles (id, platform, user_id, username, user_pseudo, "
                        "verified, followers_count, following_count, likes_count, videos_count, "
                        "number_of_comments, number_of_likes_on_own_videos, number_of_likes, "
                        "number_of_shares, liked_count, shared_count, unclassified_count, "
                        "dominant_interest, version, created_at, updated_at, vector, "
                        "top_categories, top_hashtags) VALUES (:pk, 'x', :pk, 'u', 'u', false, "
                        ":followers, 1, 2, :videos, 30, 50, 7, 8, 0, 0, 0, NULL, 1, "
                        "'2026-01-01', '2026-02-03 04:05:06', :vector, '[]', '[]')"
                    ),
                    {"pk": pk, "followers": followers, "videos": videos, "vector": b"\x01" * 8},
                )
        flask_migrate.upgrade(revision="0013")  # 0017 keeps the weights sparse
        rows = db.session.execute(
            text(
                "SELECT profile_id, followers_count, videos_count, number_of_likes, "
                "engagement_rate, vector, taken_at FROM profile_snapshots ORDER BY profile_id"
            )
        ).all()
        assert [row[:4] for row in rows] == [(3, 200, 4, 7), (5, 0, 0, 7)]
        # (50 likes on own videos + 30 comments) / 4 videos / 200 followers; / 1 / 1.
        assert [row.engagement_rate for row in rows] == [0.1, 80.0]
        assert [bytes(row.vector) for row in rows] == [b"\x01" * 8] * 2
        assert all(str(row.taken_at).startswith("2026-02-03 04:05:06") for row in rows)
        db.session.remove()
        flask_migrate.downgrade(revision="0012")
        assert "profile_snapshots" not in inspect(db.engine).get_table_names()
        assert db.session.execute(text("SELECT count(*) FROM profiles")).scalar() == 2
        db.session.remove()
        db.engine.dispose()


def test_existing_profiles_get_their_engagement_rate_and_no_growth(database_url):
    """0014 adds engagement_rate, computed for every stored profile, and an empty growth_30d;
    downgrading drops both and keeps the profiles."""
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0013")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO profiles (id, platform, user_id, username, user_pseudo, "
                    "verified, followers_count, following_count, likes_count, videos_count, "
                    "number_of_comments, number_of_likes_on_own_videos, number_of_likes, "
                    "number_of_shares, liked_count, shared_count, unclassified_count, "
                    "dominant_interest, version, created_at, updated_at, vector, "
                    "top_categories, top_hashtags) VALUES (4, 'x', '4', 'u', 'u', false, "
                    "500, 1, 2, 5, 25, 100, 7, 8, 0, 0, 0, NULL, 1, "
                    "'2026-01-01', '2026-01-01', :vector, '[]', '[]')"
                ),
                {"vector": b""},
            )
        flask_migrate.upgrade()
        row = db.session.execute(text("SELECT engagement_rate, growth_30d FROM profiles")).one()
        assert tuple(row) == (0.05, None)  # (100 + 25) / 5 videos / 500 followers
        db.session.remove()
        flask_migrate.downgrade(revision="0013")
        columns = {column["name"] for column in inspect(db.engine).get_columns("profiles")}
        assert not {"engagement_rate", "growth_30d"} & columns
        assert db.session.execute(text("SELECT id FROM profiles")).scalars().all() == [4]
        db.session.remove()
        db.engine.dispose()


def test_jobs_come_and_go_without_touching_what_is_stored(database_url):
    """0016 adds the jobs table; a job keeps its starter's name when the user is deleted, and
    the downgrade drops jobs alone."""
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0015")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, name, password_hash, role, must_change_password, "
                    "failed_signins, created_at) VALUES "
                    "(7, 'alice', 'h', 'analyst', false, 0, '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO profiles (id, platform, user_id, username, user_pseudo, "
                    "verified, followers_count, following_count, likes_count, videos_count, "
                    "number_of_comments, number_of_likes_on_own_videos, number_of_likes, "
                    "number_of_shares, liked_count, shared_count, unclassified_count, "
                    "version, created_at, updated_at, vector, top_categories, top_hashtags) "
                    "VALUES (3, 'x', '3', 'u', 'u', false, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, "
                    "1, '2026-01-01', '2026-01-01', '', '[]', '[]')"
                )
            )
        flask_migrate.upgrade()
        db.session.execute(
            text(
                "INSERT INTO jobs (kind, params, status, done, total, result, user_id, "
                "started_by, created_at, runs) VALUES ('resync', '{\"profile_ids\": [3]}', "
                "'queued', 0, 1, '{}', 7, 'alice', '2026-01-02', 0)"
            )
        )
        db.session.execute(text("DELETE FROM users WHERE id = 7"))
        db.session.commit()
        job = db.session.execute(text("SELECT user_id, started_by FROM jobs")).one()
        assert tuple(job) == (None, "alice")
        assert db.session.execute(text("SELECT id FROM profiles")).scalars().all() == [3]
        db.session.remove()
        flask_migrate.downgrade(revision="0015")
        assert "jobs" not in inspect(db.engine).get_table_names()
        assert db.session.execute(text("SELECT id FROM profiles")).scalars().all() == [3]
        db.session.remove()
        db.engine.dispose()


def test_profiles_and_snapshots_shrink_and_come_back_whole(database_url):
    """0017 adds dictionary 2 and packs again with it the payloads packed with dictionary 1,
    drops the stored top categories (the model reads them from the vector, the same list),
    stores hashtag counts as pairs and snapshot weights sparse, in batches; its downgrade
    gives 0016's rows back, payloads packed with dictionary 2 packed again with dictionary 1."""
    from webapp.models import PayloadDictionary
    from webapp.services.catalogue import raw_payloads
    from webapp.services.ingestion import payloads
    from webapp.services.ingestion.processing import top_categories
    from webapp.services.ingestion.taxonomy import CATEGORIES
    from webapp.services.ingestion.vectors import pack_vector, unpack_weights

    width = len(CATEGORIES)
    vectors = {
        1: pack_vector([0.5, 0.0, 0.25, 0.125, 0.125] + [0.0] * (width - 5)),
        2: pack_vector([0.0] * (width - 1) + [1.0]),
    }
    tops = {pk: top_categories(list(np.frombuffer(v, dtype="<f8"))) for pk, v in vectors.items()}
    hashtags = {1: [{"hashtag": "#fun", "count": 3}, {"hashtag": "#cats", "count": 1}], 2: []}
    payload = {"user_id": "2", "zeta": "Zoë 🎵", "liked_videos": []}
    wide = {"user_id": "1", "big": 10**30}  # format 2 (zlib): left as it is
    snapshot_vectors = [vectors[1 + n % 2] for n in range(5_003)]  # more than one batch
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0016")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO profiles (id, platform, user_id, username, user_pseudo, "
                    "verified, followers_count, following_count, likes_count, videos_count, "
                    "number_of_comments, number_of_likes_on_own_videos, number_of_likes, "
                    "number_of_shares, liked_count, shared_count, unclassified_count, "
                    "version, created_at, updated_at, vector, top_categories, top_hashtags) "
                    "VALUES (:pk, 'x', :pk, 'u', 'u', false, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, "
                    "1, '2026-01-01', '2026-01-01', :vector, :tops, :tags)"
                ),
                [
                    {
                        "pk": pk,
                        "vector": vectors[pk],
                        "tops": json.dumps(tops[pk]),
                        "tags": json.dumps(hashtags[pk]),
                    }
                    for pk in (1, 2)
                ],
            )
            connection.execute(
                text(
                    "INSERT INTO profile_snapshots (profile_id, taken_at, followers_count, "
                    "following_count, likes_count, videos_count, number_of_comments, "
                    "number_of_likes_on_own_videos, number_of_likes, number_of_shares, "
                    "engagement_rate, vector) VALUES "
                    "(:pk, '2026-01-01', 0, 0, 0, 0, 0, 0, 0, 0, 0, :vector)"
                ),
                [{"pk": 1 + n % 2, "vector": vector} for n, vector in enumerate(snapshot_vectors)],
            )
            connection.execute(
                text("INSERT INTO profile_payloads (profile_id, payload) VALUES (:pk, :blob)"),
                [
                    {"pk": 1, "blob": payloads.pack(wide)},
                    {"pk": 2, "blob": payloads.pack(payload, 1)},
                ],
            )
        flask_migrate.upgrade()
        stored = dict(
            db.session.execute(text("SELECT profile_id, payload FROM profile_payloads")).all()
        )
        assert payloads.dictionary_of(bytes(stored[2])) == 2
        assert bytes(stored[1])[0] == payloads.STDLIB_JSON_ZLIB
        assert raw_payloads.payload_of(1) == wide and raw_payloads.payload_of(2) == payload

        columns = {column["name"] for column in inspect(db.engine).get_columns("profiles")}
        assert "top_categories" not in columns
        for pk in (1, 2):
            profile = db.session.get(Profile, pk)
            assert profile.top_categories == tops[pk]
            assert profile.top_hashtags == hashtags[pk]
        stored_tags = db.session.execute(
            text("SELECT top_hashtags FROM profiles WHERE id = 1")
        ).scalar()
        stored_tags = json.loads(stored_tags) if isinstance(stored_tags, str) else stored_tags
        assert stored_tags == [["#fun", 3], ["#cats", 1]]
        weights = (
            db.session.execute(text("SELECT weights FROM profile_snapshots ORDER BY id"))
            .scalars()
            .all()
        )
        assert [len(blob) for blob in weights[:2]] == [9 * 4, 9 * 1]
        assert [unpack_weights(bytes(blob)).tobytes() for blob in weights] == snapshot_vectors
        assert db.session.get(PayloadDictionary, 2).data == payloads.shipped_dictionary(2)
        db.session.remove()

        flask_migrate.downgrade(revision="0016")
        rows = db.session.execute(
            text("SELECT id, top_categories, top_hashtags FROM profiles ORDER BY id")
        ).all()
        decoded = [
            [json.loads(value) if isinstance(value, str) else value for value in row[1:]]
            for row in rows
        ]
        assert decoded == [[tops[pk], hashtags[pk]] for pk in (1, 2)]
        vectors_back = (
            db.session.execute(text("SELECT vector FROM profile_snapshots ORDER BY id"))
            .scalars()
            .all()
        )
        assert [bytes(blob) for blob in vectors_back] == snapshot_vectors
        stored = dict(
            db.session.execute(text("SELECT profile_id, payload FROM profile_payloads")).all()
        )
        assert payloads.dictionary_of(bytes(stored[2])) == 1
        assert bytes(stored[1])[0] == payloads.STDLIB_JSON_ZLIB
        assert raw_payloads.payload_of(1) == wide and raw_payloads.payload_of(2) == payload
        assert db.session.execute(text("SELECT id FROM payload_dictionaries")).scalars().all() == [
            1
        ]
        db.session.remove()
        db.engine.dispose()


def test_dictionary_3_comes_for_new_writes_and_goes_with_their_payloads_repacked(database_url):
    """0020 adds dictionary 3 and leaves the stored payloads as they are (packed with
    dictionary 2, read as before); new writes use dictionary 3. Its downgrade packs those
    again with dictionary 2, in batches, and deletes dictionary 3."""
    from webapp.models import PayloadDictionary
    from webapp.services.catalogue import raw_payloads
    from webapp.services.ingestion import payloads

    def payload_of(pk: int) -> dict:
        return {"user_id": str(pk), "caption": "Saving this pasta recipe for later 🍝 #food"}

    def insert_profiles(connection, ids, dictionary: int | None) -> None:
        connection.execute(
            text(
                "INSERT INTO profiles (id, platform, user_id, username, user_pseudo, "
                "verified, followers_count, following_count, likes_count, videos_count, "
                "number_of_comments, number_of_likes_on_own_videos, number_of_likes, "
                "number_of_shares, liked_count, shared_count, unclassified_count, "
                "version, created_at, updated_at, vector, top_hashtags) "
                "VALUES (:pk, 'x', :pk, 'u', 'u', false, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, "
                "1, '2026-01-01', '2026-01-01', '', '[]')"
            ),
            [{"pk": pk} for pk in ids],
        )
        connection.execute(
            text("INSERT INTO profile_payloads (profile_id, payload) VALUES (:pk, :blob)"),
            [
                {
                    "pk": pk,
                    "blob": payloads.pack(payload_of(pk), dictionary)
                    if dictionary
                    else payloads.pack({"user_id": str(pk), "big": 10**30}),
                }
                for pk in ids
            ],
        )

    def dictionaries_of_rows() -> dict[int, int | None]:
        return {
            pk: payloads.dictionary_of(bytes(blob))
            for pk, blob in db.session.execute(
                text("SELECT profile_id, payload FROM profile_payloads")
            )
        }

    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0019")
        with db.engine.begin() as connection:
            insert_profiles(connection, [1, 2], 2)
            insert_profiles(connection, [3], None)  # format 2 (zlib): left as it is
        flask_migrate.upgrade()
        assert db.session.get(PayloadDictionary, 3).data == payloads.shipped_dictionary(3)
        assert dictionaries_of_rows() == {1: 2, 2: 2, 3: None}, "stored payloads stay as they are"
        assert raw_payloads.payload_of(1) == payload_of(1)
        assert payloads.CURRENT_DICTIONARY == 3
        later = range(10, 5_013)  # written after the upgrade: more than one batch
        with db.engine.begin() as connection:
            insert_profiles(connection, later, payloads.CURRENT_DICTIONARY)
        db.session.remove()

        flask_migrate.downgrade(revision="0019")
        found = dictionaries_of_rows()
        assert {found[pk] for pk in later} == {2} and found[1] == 2 and found[3] is None
        assert db.session.execute(text("SELECT id FROM payload_dictionaries")).scalars().all() == [
            1,
            2,
        ]
        known = {
            pk: payloads.prepare(bytes(data))
            for pk, data in db.session.execute(text("SELECT id, data FROM payload_dictionaries"))
        }
        for pk in (1, 10, 5_012):
            blob = db.session.execute(
                text("SELECT payload FROM profile_payloads WHERE profile_id = :pk"), {"pk": pk}
            ).scalar()
            assert payloads.unpack(bytes(blob), known.get) == payload_of(pk)
        db.session.remove()
        flask_migrate.upgrade()
        assert raw_payloads.payload_of(5_012) == payload_of(5_012)
        db.session.remove()
        db.engine.dispose()


def test_saved_views_come_and_go_without_touching_users(database_url):
    """0019 adds saved_views and default_views; a deleted view takes the defaults naming it,
    a deleted user takes their default and leaves their views ownerless; the downgrade drops
    both tables alone."""
    app = _fresh_app(database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0018")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, name, password_hash, role, must_change_password, "
                    "failed_signins, created_at) VALUES "
                    "(7, 'alice', 'h', 'analyst', false, 0, '2026-01-01'), "
                    "(8, 'bob', 'h', 'viewer', false, 0, '2026-01-01')"
                )
            )
        flask_migrate.upgrade()
        for pk, owner, name in ((1, 7, "Team"), (2, 7, "Mine"), (3, 8, "Team")):
            db.session.execute(
                text(
                    "INSERT INTO saved_views (id, name, owner_id, owner, shared, query, "
                    "created_at, updated_at) VALUES (:pk, :name, :owner, 'x', :shared, "
                    "'platform=tiktok', '2026-01-02', '2026-01-02')"
                ),
                {"pk": pk, "owner": owner, "name": name, "shared": pk == 1},
            )
        db.session.execute(text("INSERT INTO default_views VALUES (7, 2), (8, 1)"))
        db.session.commit()
        db.session.execute(text("DELETE FROM saved_views WHERE id = 2"))
        db.session.execute(text("DELETE FROM users WHERE id = 8"))
        db.session.commit()
        assert db.session.execute(text("SELECT * FROM default_views")).all() == []
        owners = db.session.execute(text("SELECT id, owner_id FROM saved_views ORDER BY id"))
        assert [tuple(row) for row in owners] == [(1, 7), (3, None)]
        db.session.remove()
        flask_migrate.downgrade(revision="0018")
        tables = inspect(db.engine).get_table_names()
        assert "saved_views" not in tables and "default_views" not in tables
        assert db.session.execute(text("SELECT id FROM users")).scalars().all() == [7]
        db.session.remove()
        db.engine.dispose()
