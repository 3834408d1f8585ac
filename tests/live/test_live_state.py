"""State kept current by the change feed: fresh in every worker, equal to a fresh build, and
never rebuilt in full on the request path because profiles changed; the videos' profile
counts and the hashtag counts kept by the writes equal a recount."""

import random
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import event, func, select

from webapp.extensions import db
from webapp.models import (
    DataVersion,
    HashtagCount,
    HashtagPair,
    ProfileChange,
    ProfileVideo,
    Video,
    VideoCategory,
    VideoStats,
)
from webapp.services.analytics import overview, population_map, similarity
from webapp.services.catalogue import profiles
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.taxonomy import CATEGORIES
from webapp.services.live import changes, stamps

from ..factories import make_payload, signed_in_client, video
from ..helpers import one, parse

TAGS = ["#a", "#b", "#c", "#d", "#e"]
FILTERS = [
    (None, ()),
    ("x", ()),
    ("tiktok", ()),
    (None, (("Music", 0.3),)),
    ("instagram", (("Gaming", 0.1),)),
    (None, (("Music", 0.1), ("Dance", 0.1))),
    ("x", (("Food", 0.5),)),
]


def _payload(user_id: str, categories: list[list[str]], **fields) -> dict:
    liked = [video(f"{user_id}-{i}", categories=c) for i, c in enumerate(categories)]
    return make_payload(
        user_id=user_id, username=user_id, liked_videos=liked, shared_videos=[], **fields
    )


def _store(
    user_id: str,
    categories: list[list[str]],
    platform: str = "tiktok",
    video_ids=None,
    hashtags=None,
) -> int:
    payload = _payload(user_id, categories)
    for item, video_id in zip(payload["liked_videos"], video_ids or (), strict=False):
        item["video_id"] = video_id  # videos shared with other profiles
    for item, tags in zip(payload["liked_videos"], hashtags or (), strict=False):
        item["hashtags"] = tags
    outcome = submit_payload(platform, payload)
    assert outcome.accepted, outcome
    return outcome.profile_id


def _assert_video_counts_equal_a_recount() -> None:
    recount = dict(
        db.session.execute(
            select(
                ProfileVideo.video_pk, func.count(func.distinct(ProfileVideo.profile_id))
            ).group_by(ProfileVideo.video_pk)
        ).all()
    )
    kept = dict(db.session.execute(select(VideoStats.video_pk, VideoStats.profile_count)).all())
    assert {pk: n for pk, n in kept.items() if n} == recount
    assert min(kept.values(), default=0) >= 0
    tags, pairs = Counter(), Counter()
    for (stored,) in db.session.execute(select(Video.hashtags)):
        unique = set(stored or ())
        tags.update(unique)
        pairs.update((a, b) for a in unique for b in unique if a != b)
    kept_tags = dict(db.session.execute(select(HashtagCount.hashtag, HashtagCount.videos)).all())
    assert {t: n for t, n in kept_tags.items() if n} == tags
    kept_pairs = db.session.execute(
        select(HashtagPair.hashtag, HashtagPair.other, HashtagPair.videos)
    ).all()
    assert {(a, b): n for a, b, n in kept_pairs if n} == pairs
    # Each video's categories, as the catalogue's category filter reads them.
    entered = {
        (pk, CATEGORIES[category_id])
        for pk, category_id in db.session.execute(
            select(VideoCategory.video_pk, VideoCategory.category_id)
        )
    }
    assert entered == {
        (pk, name)
        for pk, categories in db.session.execute(select(Video.id, Video.categories))
        for name in categories
    }


def _assert_map_equal_to_a_fresh_projection(matrix, k: int) -> None:
    """The map's points, patched row by row, equal every row projected anew on the same fit."""
    answer = population_map.population_map(k)
    patched = population_map.maps._projections[matrix][k]
    fresh = population_map._Projection(patched.model)
    fresh.project(matrix.raw.copy(), np.arange(matrix.n))
    assert answer["ids"].tolist() == matrix.ids.tolist()
    np.testing.assert_allclose(answer["x"], fresh.x[: matrix.n], rtol=0, atol=1.1e-5)
    np.testing.assert_allclose(answer["y"], fresh.y[: matrix.n], rtol=0, atol=1.1e-5)
    assert answer["cluster"].tolist() == fresh.cluster[: matrix.n].tolist()


def test_every_write_records_its_changes_under_its_version(app):
    with app.app_context():
        a = _store("a", [["Music"]])
        version = db.session.get(DataVersion, "profiles").version
        assert [
            (c.version, c.profile_id, c.change) for c in db.session.scalars(select(ProfileChange))
        ] == [(version, a, changes.CREATED)]
        _store("a", [["Dance"]])  # a re-sync
        assert profiles.delete_profile(a)
        rows = db.session.execute(
            select(ProfileChange.version, ProfileChange.change).order_by(ProfileChange.version)
        ).all()
        assert rows == [
            (version, changes.CREATED),
            (version + 1, changes.UPDATED),
            (version + 2, changes.DELETED),
        ]
        # Deleting a profile that is not there writes nothing and moves no version.
        assert not profiles.delete_profile(a)
        assert db.session.scalar(select(func.count()).select_from(ProfileChange)) == 3


def test_seeding_records_one_change_per_stored_account(app):
    from webapp.services.ingestion.seeding import seed_profiles

    with app.app_context():
        report = seed_profiles(60, min_likes=100, workers=1, seed=7)
        assert db.session.scalar(select(func.count()).select_from(ProfileChange)) == (report.stored)


def test_state_older_than_the_pruned_feed_is_rebuilt(app):
    with app.app_context():
        _store("a", [["Music"]])
        matrix = similarity.current_matrix()
        builds = similarity.live.builds
        b = _store("b", [["Dance"]])
        current = db.session.get(DataVersion, "profiles").version
        changes.prune(db.session, current)
        db.session.commit()
        # The change that adds b is gone from the feed: the matrix cannot patch, so it
        # is built again, and still sees b.
        rebuilt = similarity.current_matrix()
        assert similarity.live.builds == builds + 1
        assert rebuilt is not matrix and b in rebuilt.row_of


def _assert_equal_to_a_fresh_build(patched: similarity.Matrix) -> None:
    fresh = similarity.build_matrix()
    assert sorted(patched.ids.tolist()) == fresh.ids.tolist()
    for pk, row in fresh.row_of.items():
        mine = patched.row_of[pk]
        assert patched.platforms[mine] == fresh.platforms[row]
        assert np.array_equal(patched.raw[mine], fresh.raw[row])
        assert patched.usernames[mine] == fresh.usernames[row]
        assert patched.dominant[mine] == fresh.dominant[row]
        codes, shares = similarity.top_two(np.array([patched.raw[mine], fresh.raw[row]]))
        assert codes[0].tolist() == codes[1].tolist() and shares[0].tolist() == shares[1].tolist()
    assert patched.counts_by_platform() == fresh.counts_by_platform()
    for platform, interests in FILTERS:
        assert patched.count(platform, interests) == fresh.count(platform, interests)
    assert np.allclose(patched.interest_sums(), fresh.interest_sums(), atol=1e-9)
    for code in range(3):
        assert np.allclose(patched.platform_sums[code], fresh.platform_sums[code], atol=1e-9)
    for pk in list(fresh.row_of)[:10]:
        query = fresh.unit([fresh.row_of[pk]])[0]
        for platform in (None, "x"):
            assert similarity.top_k(patched, query, 5, patched.row_of[pk], platform) == (
                similarity.top_k(fresh, query, 5, fresh.row_of[pk], platform)
            )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_writes_leave_the_patched_state_equal_to_a_fresh_build(app, seed, monkeypatch):
    rng = random.Random(seed)
    monkeypatch.setattr(population_map, "REFIT_SHARE", 1e9)  # one fit, patched throughout
    with app.app_context():
        _store("start", [["Music"]])
        _store("second", [["Gaming"], ["Food"]], "x")
        matrix = similarity.current_matrix()
        population_map.population_map(3)
        fits = population_map.maps.inline_fits
        for platform, interests in FILTERS:
            matrix.count(platform, interests)  # counted now, then kept current by patches
        builds = similarity.live.builds
        stored: dict[str, int] = {}
        for step in range(60):
            action = rng.random()
            if action < 0.5 or not stored:
                user_id = f"u{step}"
                cats = [rng.sample(CATEGORIES, rng.randint(1, 3)) for _ in range(rng.randint(1, 4))]
                pool = [f"v{n}" for n in rng.sample(range(12), len(cats))]
                tags = [rng.sample(TAGS, rng.randint(0, 3)) for _ in cats]
                stored[user_id] = _store(user_id, cats, rng.choice(("tiktok", "x")), pool, tags)
            elif action < 0.8:
                user_id = rng.choice(sorted(stored))
                platform = db.session.get(similarity.Profile, stored[user_id]).platform
                cats = [rng.sample(CATEGORIES, rng.randint(1, 3)) for _ in range(rng.randint(1, 4))]
                pool = [f"v{n}" for n in rng.sample(range(12), len(cats))]
                tags = [rng.sample(TAGS, rng.randint(0, 3)) for _ in cats]
                assert _store(user_id, cats, platform, pool, tags) == stored[user_id]  # re-sync
            else:
                user_id = rng.choice(sorted(stored))
                assert profiles.delete_profile(stored.pop(user_id))
            if step % 7 == 0:  # catch up now and then, several changes at a time otherwise
                assert similarity.current_matrix() is matrix
            if step % 5 == 0:
                population_map.population_map(3)
        assert similarity.current_matrix() is matrix
        assert similarity.live.builds == builds
        _assert_equal_to_a_fresh_build(matrix)
        _assert_video_counts_equal_a_recount()
        _assert_map_equal_to_a_fresh_projection(matrix, 3)
        assert population_map.maps.inline_fits == fits  # patched, never fitted again


def test_a_stream_of_writes_causes_no_full_build(app, client, monkeypatch):
    """After start, writes are caught up by patching: the matrix is never rebuilt, and the
    map is projected onto its fit (refitting, when due, happens off the request path)."""
    monkeypatch.setattr(population_map, "INLINE_REFIT_ROWS", 0)
    with app.app_context():
        me = _store("me", [["Music"]])
        _store("other", [["Gaming"]], "x")
    reads = [
        "/api/v1/profiles?per_page=5",
        "/api/v1/profiles?platform=x",
        "/api/v1/profiles?interest=Music:0.2",
        f"/api/v1/profiles/{me}/similar",
        "/api/v1/profiles/nearest?mix=Gaming:1",
        "/api/v1/map",
        "/",
    ]
    for path in reads:
        assert client.get(path).status_code == 200
    builds, fits = similarity.live.builds, population_map.maps.inline_fits
    for i in range(25):
        body = {"platform": "x", "payload": _payload(f"w{i}", [["Gaming"], ["Food"]])}
        response = client.post("/api/v1/profiles", json=body)
        assert response.status_code == 201
        if i % 3 == 0:
            assert client.delete(f"/api/v1/profiles/{response.get_json()['profile']['id']}")
        for path in reads:
            assert client.get(path).status_code == 200
    assert similarity.live.builds == builds
    assert population_map.maps.inline_fits == fits
    points = client.get("/api/v1/map").get_json()
    with app.app_context():
        assert sorted(points["ids"]) == sorted(similarity.build_matrix().ids.tolist())


def test_the_map_projects_only_the_rows_a_write_changed(app, client, monkeypatch):
    """After a connect, a re-sync and a delete, the map's next answer places only the rows
    written (the new or re-synced profile; the row moved into a deleted one's place)."""
    with app.app_context():
        ids = [_store(f"p{i}", [["Music"]] if i % 2 else [["Gaming"], ["Food"]]) for i in range(9)]
    assert client.get("/api/v1/map?k=3").status_code == 200
    projected = []
    original = population_map._Projection.project

    def counting(self, raw, rows):
        projected.append(len(rows))
        return original(self, raw, rows)

    monkeypatch.setattr(population_map._Projection, "project", counting)
    monkeypatch.setattr(population_map, "REFIT_SHARE", 1e9)
    with app.app_context():
        new = _store("new", [["Food"]])
    body = client.get("/api/v1/map?k=3").get_json()
    assert projected == [1] and new in body["ids"]
    with app.app_context():
        _store("p2", [["Music"]])  # a re-sync
    assert client.get("/api/v1/map?k=3").status_code == 200
    assert projected == [1, 1]
    with app.app_context():
        assert profiles.delete_profile(ids[0])  # the last row moves into its place
    body = client.get("/api/v1/map?k=3").get_json()
    assert projected == [1, 1, 1] and ids[0] not in body["ids"] and len(body["ids"]) == 9


def _answers(client, me: int) -> dict:
    """What one worker answers, for the checks below."""
    listed = client.get("/api/v1/profiles?per_page=100&sort=id&order=asc").get_json()
    return {
        "list": [item["username"] for item in listed["items"]],
        "total": listed["total"],
        "total x": client.get("/api/v1/profiles?platform=x").get_json()["total"],
        "total Gaming": client.get("/api/v1/profiles?interest=Gaming:0.5").get_json()["total"],
        "similar": [
            i["username"] for i in client.get(f"/api/v1/profiles/{me}/similar").json["items"]
        ],
        "mix": [
            i["username"]
            for i in client.get("/api/v1/profiles/nearest?mix=Gaming:1&k=3").json["items"]
        ],
        "videos": [v["video_id"] for v in client.get("/api/v1/videos?q=freshtag").json["items"]],
        "map": sorted(client.get("/api/v1/map").get_json()["username"]),
        "overview": client.get("/").status_code,
        "table": client.get("/profiles?sort=username&order=asc").get_data(as_text=True),
    }


def test_a_write_in_one_worker_shows_at_once_in_another(app, client, make_app):
    """Two apps on one database stand for two worker processes, each with its own state."""
    other = make_app()
    writer = signed_in_client(other, "admin", "writer")
    with app.app_context():
        me = _store("me", [["Gaming"]], "x")
        _store("bystander", [["Music"]])
    before = _answers(client, me)  # every cache of this worker is warm
    _answers(writer, me)
    assert before["total"] == 2 and before["total x"] == 1

    fresh = video("fresh-video", categories=["Gaming"], hashtags=["#freshtag"])
    payload = make_payload(
        user_id="newcomer", username="newcomer", liked_videos=[fresh], shared_videos=[]
    )
    created = writer.post("/api/v1/profiles", json={"platform": "x", "payload": payload})
    assert created.status_code == 201
    newcomer = created.get_json()["profile"]["id"]
    after = _answers(client, me)
    assert after["list"] == ["me", "bystander", "newcomer"]
    assert (after["total"], after["total x"], after["total Gaming"]) == (3, 2, 2)
    assert after["similar"][0] == "newcomer" and after["mix"][:2] == ["me", "newcomer"]
    assert after["videos"] == ["fresh-video"]
    assert after["map"] == ["bystander", "me", "newcomer"]
    assert ">newcomer<" in after["table"] and "3 profiles" in after["table"]
    with app.app_context():
        assert overview.overview()["counts"]["x"] == 2

    # A re-sync that moves the newcomer from Gaming to Food.
    payload["liked_videos"] = [video("fresh-video-2", categories=["Food"])]
    payload["username"] = "renamed"
    assert (
        writer.post("/api/v1/profiles", json={"platform": "x", "payload": payload}).status_code
        == 200
    )
    after = _answers(client, me)
    assert "renamed" in after["list"] and "newcomer" not in after["map"]
    assert ">renamed<" in after["table"] and ">newcomer<" not in after["table"]
    assert after["total Gaming"] == 1 and "renamed" not in after["mix"][:1]
    assert client.get(f"/api/v1/profiles/{newcomer}").get_json()["username"] == "renamed"
    with app.app_context():
        shares = {s["category"]: s["share"] for s in overview.overview()["interests"]}
        assert shares["Food"] == pytest.approx(1 / 3)

    assert writer.delete(f"/api/v1/profiles/{newcomer}").status_code == 204
    after = _answers(client, me)
    assert after["list"] == ["me", "bystander"] and after["total"] == 2
    assert after["total x"] == 1 and "renamed" not in after["similar"]
    assert after["map"] == ["bystander", "me"]
    assert ">renamed<" not in after["table"] and "2 profiles" in after["table"]
    assert client.get(f"/api/v1/profiles/{newcomer}").status_code == 404
    with app.app_context():
        assert overview.overview()["counts"] == {"tiktok": 1, "instagram": 0, "x": 1}


def test_a_served_worker_builds_its_state_at_start(app, monkeypatch):
    """gunicorn.conf.py calls warm_up when a worker starts: the first request finds the
    matrix built, the default map fitted, what rose lately worked out and the mock
    platforms' catalogues made."""
    from webapp import warm_up
    from webapp.services.ingestion.connectors import mock
    from webapp.services.ingestion.platforms import PLATFORMS

    with app.app_context():
        _store("a", [["Music"]])
        _store("b", [["Dance"]])
        _store("c", [["Gaming"]])
    builds, fits = similarity.live.builds, population_map.maps.inline_fits
    computed = overview.rising_cache.computations
    monkeypatch.setattr(mock, "_catalogues", {})
    warm_up(app)
    assert similarity.live.builds == builds + 1
    assert population_map.maps.inline_fits == fits + 1
    assert overview.rising_cache.computations == computed + 1
    assert sorted(mock._catalogues) == sorted(PLATFORMS)
    with app.app_context():
        similarity.current_matrix()
        population_map.population_map()
        overview.rising_cache.get()
    assert similarity.live.builds == builds + 1
    assert population_map.maps.inline_fits == fits + 1
    assert overview.rising_cache.computations == computed + 1


def test_a_bulk_load_that_changed_most_profiles_is_read_in_one_scan(app, monkeypatch):
    monkeypatch.setattr(similarity, "PATCH_LIMIT", 2)
    with app.app_context():
        _store("a", [["Music"]])
        similarity.current_matrix()
        builds = similarity.live.builds
        _store("b", [["Dance"]])  # one change of two profiles: patched
        similarity.current_matrix()
        assert similarity.live.builds == builds
        for name in ("c", "d", "e"):  # three changes of five: built anew
            _store(name, [["Gaming"]])
        matrix = similarity.current_matrix()
        assert similarity.live.builds == builds + 1
        assert len(matrix.ids) == 5


def test_a_page_of_the_list_is_read_once_per_data_version(app, client):
    """The same page asked again, with nothing written meanwhile, is served without reading
    the profiles again; after a write it is read anew and shows the write."""
    with app.app_context():
        _store("me", [["Music"]])
        engine = db.engine
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    path = "/api/v1/profiles?per_page=5&sort=followers"
    first = client.get(path).get_json()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get(path).get_json() == first
        assert not [s for s in statements if "FROM profiles" in s]
        assert (
            client.post(
                "/api/v1/profiles", json={"platform": "x", "payload": _payload("new", [["Food"]])}
            ).status_code
            == 201
        )
        statements.clear()
        after = client.get(path).get_json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [s for s in statements if "FROM profiles" in s]
    assert after["total"] == 2 and {i["username"] for i in after["items"]} == {"me", "new"}


def test_the_profile_table_is_rendered_once_per_data_version(app, client):
    """The browser's table, asked again with nothing written, is not rendered again; the
    page around it still is (it names the signed-in user)."""
    from flask import template_rendered

    with app.app_context():
        _store("me", [["Music"]])
    rendered: list[str] = []

    def seen(_app, template, **_extra):
        rendered.append(template.name)

    template_rendered.connect(seen, app)
    try:
        first = client.get("/profiles").get_data(as_text=True)
        again = client.get("/profiles").get_data(as_text=True)
        partial = client.get("/profiles", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert (
            client.post(
                "/api/v1/profiles", json={"platform": "x", "payload": _payload("new", [["Food"]])}
            ).status_code
            == 201
        )
        after = client.get("/profiles").get_data(as_text=True)
    finally:
        template_rendered.disconnect(seen, app)
    assert rendered.count("partials/_profiles_table.html") == 2
    assert rendered.count("profiles.html") == 3
    # The same table both times (the page around it carries a CSRF token, whose signature
    # holds the second it was made in: two pages a second apart differ there).
    assert str(one(parse(first), "#profiles")) == str(one(parse(again), "#profiles"))
    assert ">me<" in partial and "<html" not in partial
    assert ">new<" in after and "2 profiles" in after


def test_a_request_reads_the_data_version_once(app, client):
    """A list request asks for the data version for its page, its total and the matrix; the
    stamp is read from the database once per transaction, and a bump in the transaction is
    what later reads in it see."""
    with app.app_context():
        _store("me", [["Music"]])
        engine = db.engine
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get("/api/v1/profiles?per_page=5&interest=Music:0.1")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.status_code == 200 and page.get_json()["total"] == 1
    assert len([s for s in statements if "FROM data_versions" in s]) == 1

    with app.app_context():
        before = stamps.current(db.session)
        bumped = stamps.bump(db.session)
        assert bumped == before + 1 and stamps.current(db.session) == bumped
        db.session.rollback()
        assert stamps.current(db.session) == before, "a new transaction reads it again"


def _followers_store(user_id: str, followers: int, platform: str = "tiktok", cats=None) -> int:
    payload = _payload(user_id, cats or [["Music"]], followers_count=followers)
    outcome = submit_payload(platform, payload)
    assert outcome.accepted, outcome
    return outcome.profile_id


def _list(**fields) -> dict:
    """A page through the kept pages, checked against a page read from the database now."""
    query = profiles.ListQuery(**{"q": "", "platform": None, "order": "desc", **fields})
    served = profiles.list_profiles(query)
    assert served == profiles._read_page(query, 0).answer, query
    return served


def test_a_kept_page_is_read_again_only_after_a_write_that_can_change_it(app):
    """Pages of the list survive writes that land after them; a profile that joins a page or
    an earlier one, leaves one, moves within one or is deleted from one makes it read again.
    Every answer equals a page read from the database at that moment."""
    with app.app_context():
        ids = {f"p{n}": _followers_store(f"p{n}", 1000 * n) for n in range(1, 9)}
        pages = [dict(sort="followers", page=page, per_page=3, interests=()) for page in (1, 2)]

        def reads_after(write) -> int:
            for fields in pages:
                _list(**fields)  # kept at the current version
            before = profiles._pages.reads
            write()
            answers = [_list(**fields) for fields in pages]
            assert answers[0]["total"] == profiles.count_profiles()
            return profiles._pages.reads - before

        # Below every kept row (followers 100 < 3000, the second page's last): nothing read.
        assert reads_after(lambda: _followers_store("low", 100)) == 0
        # Deleted from after the pages: nothing read.
        assert reads_after(lambda: profiles.delete_profile(ids["p1"])) == 0
        # A new top profile shifts both pages.
        assert reads_after(lambda: _followers_store("top", 99_000)) == 2
        # Re-synced on the first page: it is read again (its row changed), and so is the
        # second, whose rows came after it when it was read.
        assert reads_after(lambda: _followers_store("top", 98_000)) == 2
        # Re-synced from the second page to after it: the second page changes.
        assert reads_after(lambda: _followers_store("p5", 10)) == 1
        # Deleted from the first page: both change.
        assert reads_after(lambda: profiles.delete_profile(ids["p8"])) == 2
        # Another platform's profile, asked for on one platform only: that page is kept.
        tiktok = dict(sort="followers", page=1, per_page=3, interests=(), platform="tiktok")
        _list(**tiktok)
        before = profiles._pages.reads
        _followers_store("elsewhere", 500_000, platform="x")
        assert _list(**tiktok)["items"][0]["username"] == "top"
        assert profiles._pages.reads == before
        # A page not full: any new match joins it.
        last = dict(sort="followers", page=4, per_page=3, interests=())
        _list(**last)
        before = profiles._pages.reads
        _followers_store("bottom", 1)
        assert _list(**last)["items"][-1]["username"] == "bottom"
        assert profiles._pages.reads == before + 1


def test_kept_pages_check_a_write_against_what_the_matrix_catch_up_read(app, monkeypatch):
    """After a write, the matrix's catch-up is the only read of the change feed: the kept
    pages are checked against the profiles it read, not by a statement each."""
    with app.app_context():
        for n in range(1, 7):
            _followers_store(f"p{n}", 1000 * n)
        pages = [dict(sort="followers", page=page, per_page=2, interests=()) for page in (1, 2, 3)]
        for fields in pages:
            _list(**fields)
        feed_reads = []
        real = changes.changed_rows
        monkeypatch.setattr(
            changes, "changed_rows", lambda *a, **k: feed_reads.append(a[1:3]) or real(*a, **k)
        )
        before = profiles._pages.reads
        _followers_store("low", 100)  # lands after every kept page
        query = profiles.ListQuery(sort="followers", page=1, per_page=2)
        assert profiles.list_profiles(query)["total"] == 7
        assert len(feed_reads) == 1, "one catch-up, and no statement for the page's check"
        monkeypatch.setattr(changes, "changed_rows", real)
        assert [_list(**fields)["total"] for fields in pages] == [7, 7, 7]
        assert profiles._pages.reads == before


def test_a_kept_page_sorted_by_name_is_read_again_when_a_matching_profile_changes(app):
    """Names sort in the database's collation, which Python's order may not match: a change
    to any profile the filters match makes a full page sorted by name read again."""
    with app.app_context():
        for n in range(1, 5):
            _followers_store(f"b{n}", 1000 * n)
        first = dict(sort="username", order="asc", page=1, per_page=2, interests=())
        assert [item["username"] for item in _list(**first)["items"]] == ["b1", "b2"]
        before = profiles._pages.reads
        _followers_store("a0", 10)
        assert [item["username"] for item in _list(**first)["items"]] == ["a0", "b1"]
        assert profiles._pages.reads == before + 1
        _followers_store("elsewhere", 10, platform="x")
        tiktok = dict(first, platform="tiktok")
        _list(**tiktok)
        before = profiles._pages.reads
        _followers_store("a1", 10, platform="x")  # another platform: the page is kept
        assert _list(**tiktok)["items"][0]["username"] == "a0"
        assert profiles._pages.reads == before


def test_recent_changes_answer_only_for_the_versions_they_reach_back_to():
    """The kept readings of the last catch-ups: the profiles changed after a version, each
    with its newest reading; a gap or a version older than what is kept gives None."""
    recent = changes.Recent(10)
    recent.add(10, 12, {1: "a", 2: None})
    recent.add(12, 13, {1: "b"})
    assert recent.after(10) == {1: "b", 2: None}
    assert recent.after(12) == {1: "b"}
    assert recent.after(13) == {}
    assert recent.after(9) is None and recent.after(14) is None
    recent.add(15, 16, {3: "c"})  # versions 14 and 15 were not read here: start again at 15
    assert recent.after(13) is None
    assert recent.after(15) == {3: "c"}
    recent.ROWS = 2
    recent.add(16, 17, {4: "d"})
    recent.add(17, 18, {5: "e"})  # three profiles kept: the oldest catch-up is forgotten
    assert recent.after(15) is None
    assert recent.after(16) == {4: "d", 5: "e"}


@pytest.mark.parametrize("seed", [4, 5])
def test_kept_pages_equal_a_fresh_read_through_random_writes(app, seed):
    """Random creates, re-syncs and deletes (followers with ties, two platforms, interests),
    pages of several sorts, filters and depths asked between them: each answer equals the page
    read from the database at that moment, and some pages are served without a read."""
    rng = random.Random(seed)
    sorts = ("followers", "updated", "username", "platform", "verified", "id", "created")
    with app.app_context():
        stored: dict[str, int] = {}
        asked = 0
        reads = profiles._pages.reads
        for step in range(80):
            action = rng.random()
            if action < 0.5 or not stored:
                user_id = f"u{step:02d}"
            else:
                user_id = rng.choice(sorted(stored))
            if action < 0.85 or not stored:
                platform = rng.choice(("tiktok", "x"))
                if user_id in stored:
                    platform = db.session.get(similarity.Profile, stored[user_id]).platform
                cats = [rng.sample(CATEGORIES[:4], rng.randint(1, 2)) for _ in range(2)]
                stored[user_id] = _followers_store(
                    user_id, rng.choice((10, 500, 500, 2000, rng.randint(1, 9000))), platform, cats
                )
            else:
                assert profiles.delete_profile(stored.pop(user_id))
            for _ in range(4):
                interests = ()
                if rng.random() < 0.3:
                    interests = ((rng.choice(CATEGORIES[:4]), rng.choice((0.1, 0.5))),)
                _list(
                    sort=rng.choice(sorts),
                    order=rng.choice(("asc", "desc")),
                    page=rng.randint(1, 3),
                    per_page=rng.randint(2, 4),
                    platform=rng.choice((None, None, "tiktok", "x")),
                    interests=interests,
                )
                asked += 1
        assert profiles._pages.reads - reads < asked
