"""Look-alike profiles: exact top-k by cosine, ties by id, always current."""

import math
import random

import numpy as np
import pytest

from webapp import create_app
from webapp.extensions import db
from webapp.services import ProfileNotFound
from webapp.services.analytics import similarity
from webapp.services.analytics.similarity import Matrix, top_k
from webapp.services.catalogue import profiles
from webapp.services.ingestion import storage, vectors
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.taxonomy import CATEGORIES

from ..factories import make_payload, video


def _cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def _brute_force(ids, vectors, platforms, row, k, platform=None):
    scored = [
        (round(_cosine(vectors[row], vectors[i]), similarity.SCORE_DECIMALS), ids[i])
        for i in range(len(ids))
        if i != row and (platform is None or platforms[i] == platform)
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(pk, score) for score, pk in scored[:k]]


def _matrix(ids, vectors, platforms) -> Matrix:
    raw = np.array(vectors, dtype=np.float64)
    norms = np.linalg.norm(raw, axis=1)
    raw[norms > 0] /= norms[norms > 0, None]
    codes = np.array([("tiktok", "instagram", "x").index(p) for p in platforms], dtype=np.int8)
    return Matrix(np.array(ids, dtype=np.int64), codes, raw)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_top_k_equals_a_brute_force_ranking_on_random_data(seed):
    rng = random.Random(seed)
    n = 800
    ids = sorted(rng.sample(range(1, 100_000), n))
    vectors = []
    for _ in range(n):
        # Sparse mixes over a few interests, some repeated exactly to make ties.
        if vectors and rng.random() < 0.1:
            vectors.append(list(rng.choice(vectors)))
            continue
        v = [0.0] * len(CATEGORIES)
        for _ in range(rng.randint(1, 4)):
            v[rng.randrange(len(CATEGORIES))] += rng.random()
        vectors.append(v)
    vectors[5] = [0.0] * len(CATEGORIES)  # a profile with nothing classified
    platforms = [rng.choice(("tiktok", "instagram", "x")) for _ in range(n)]
    matrix = _matrix(ids, vectors, platforms)
    for row in rng.sample(range(n), 40) + [5]:
        for k, platform in ((10, None), (25, "x"), (1, None)):
            got = top_k(matrix, matrix.unit([row])[0], k, exclude_row=row, platform=platform)
            want = _brute_force(ids, vectors, platforms, row, k, platform)
            assert [pk for pk, _ in got] == [pk for pk, _ in want]
            assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-12)


def test_ties_are_broken_by_id():
    vectors = [[1.0] + [0.0] * (len(CATEGORIES) - 1)] * 5
    matrix = _matrix([40, 10, 30, 20, 50], vectors, ["x"] * 5)
    got = top_k(matrix, matrix.unit([0])[0], 3, exclude_row=0)
    assert [pk for pk, _ in got] == [10, 20, 30]
    assert [score for _, score in got] == [1.0, 1.0, 1.0]


def _store(user_id: str, categories: list[list[str]], hashtags=None, platform="tiktok"):
    liked = [
        video(f"{user_id}-{i}", categories=cats, hashtags=hashtags)
        for i, cats in enumerate(categories)
    ]
    outcome = submit_payload(
        platform,
        make_payload(user_id=user_id, username=user_id, liked_videos=liked, shared_videos=[]),
    )
    assert outcome.accepted, outcome.reason
    return outcome.profile_id


def test_api_returns_the_most_similar_profiles_with_a_breakdown(app, client):
    with app.app_context():
        me = _store("me", [["Music"], ["Music"], ["Dance"]], hashtags=["#a", "#b"])
        twin = _store("twin", [["Music"], ["Music"], ["Dance"]], hashtags=["#a", "#c"])
        close = _store("close", [["Music"], ["Dance"], ["Dance"]])
        far = _store("far", [["Gaming"]], platform="x")
    body = client.get(f"/api/v1/profiles/{me}/similar?k=2").get_json()
    assert [item["id"] for item in body["items"]] == [twin, close]
    first = body["items"][0]
    assert first["username"] == "twin" and first["platform"] == "tiktok"
    assert first["score"] == pytest.approx(1.0)
    assert first["breakdown"]["interest_cosine"] == pytest.approx(1.0)
    # Top hashtags {#a, #b} and {#a, #c}: one shared of three.
    assert first["breakdown"]["hashtag_jaccard"] == pytest.approx(1 / 3)
    expected_close = _cosine([2, 1], [1, 2])
    assert body["items"][1]["score"] == pytest.approx(expected_close)
    # The profile itself is never in its own list; a platform filter applies.
    everyone = client.get(f"/api/v1/profiles/{me}/similar?k=100").get_json()["items"]
    assert me not in [item["id"] for item in everyone]
    assert [item["id"] for item in everyone] == [twin, close, far]
    only_x = client.get(f"/api/v1/profiles/{me}/similar?platform=x").get_json()["items"]
    assert [item["id"] for item in only_x] == [far]
    assert only_x[0]["score"] == 0.0


@pytest.mark.parametrize(
    "query, loc", [("k=0", "k"), ("k=101", "k"), ("k=ten", "k"), ("platform=myspace", "platform")]
)
def test_bad_parameters_are_400_problems(app, client, query, loc):
    with app.app_context():
        me = _store("me", [["Music"]])
    response = client.get(f"/api/v1/profiles/{me}/similar?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["loc"] == loc


def test_unknown_profile_is_a_404(client):
    response = client.get("/api/v1/profiles/999/similar")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_answers_reflect_writes_made_by_another_process(app, client, database_url):
    with app.app_context():
        me = _store("me", [["Music"]])
        _store("other", [["Gaming"]])
    assert [
        i["username"] for i in client.get(f"/api/v1/profiles/{me}/similar").get_json()["items"]
    ] == ["other"]
    # Another app on the same database stands for another worker process or the CLI.
    elsewhere = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with elsewhere.app_context():
        newcomer = _store("newcomer", [["Music"]])
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    items = client.get(f"/api/v1/profiles/{me}/similar").get_json()["items"]
    assert [i["id"] for i in items][0] == newcomer
    # A deletion is seen too.
    assert client.delete(f"/api/v1/profiles/{newcomer}").status_code == 204
    items = client.get(f"/api/v1/profiles/{me}/similar").get_json()["items"]
    assert newcomer not in [i["id"] for i in items]


def test_the_matrix_is_built_once_then_patched_when_the_data_changes(app):
    with app.app_context():
        _store("a", [["Music"]])
        first = similarity.current_matrix()
        assert similarity.current_matrix() is first
        builds = similarity.live.builds
        b = _store("b", [["Dance"]])
        second = similarity.current_matrix()
        assert second is first and similarity.live.builds == builds  # patched, not rebuilt
        assert len(second.ids) == 2 and b in second.row_of


def test_vectors_from_a_smaller_taxonomy_are_padded(app):
    with app.app_context():
        pk = _store("a", [["Music"]])
        profile = db.session.get(storage.Profile, pk)
        profile.vector = vectors.pack_vector([1.0] + [0.0] * 9)  # ten categories only
        db.session.commit()
        from webapp.services.live import stamps

        stamps.bump(db.session)
        db.session.commit()
        matrix = similarity.current_matrix()
        assert matrix.raw.shape == (1, len(CATEGORIES))
        assert matrix.raw[0, 0] == 1.0


def test_profile_page_lists_similar_profiles(app, client):
    with app.app_context():
        me = _store("me", [["Music"]])
        twin = _store("twin", [["Music"]])
    page = client.get(f"/profiles/{me}").get_data(as_text=True)
    # The section loads when it scrolls into view, and works as a plain link without JS.
    assert f'hx-get="/profiles/{me}/similar"' in page
    assert 'hx-trigger="revealed"' in page
    html = client.get(f"/profiles/{me}/similar").get_data(as_text=True)
    assert 'id="similar"' in html
    assert f'href="/profiles/{twin}"' in html
    assert "100.0 %" in html
    assert client.get("/profiles/999/similar").status_code == 404


def test_nearest_to_a_mix_ranks_by_cosine(app, client):
    with app.app_context():
        music = _store("music", [["Music"]])
        dance = _store("dance", [["Dance"]])
        both = _store("both", [["Music"], ["Dance"]])
        _store("gamer", [["Gaming"]], platform="x")
    body = client.get("/api/v1/profiles/nearest?mix=Music:0.8&mix=Dance:0.2&k=3").get_json()
    assert [i["id"] for i in body["items"]] == [music, both, dance]
    # cos((0.8, 0.2), (1, 0)) = 0.8 / sqrt(0.68); with (0.5, 0.5): 1 / sqrt(2 x 0.68).
    assert body["items"][0]["score"] == pytest.approx(0.8 / math.sqrt(0.68))
    assert body["items"][1]["score"] == pytest.approx(1.0 / math.sqrt(2 * 0.68))
    only_x = client.get("/api/v1/profiles/nearest?mix=Music:1&platform=x").get_json()["items"]
    assert [i["username"] for i in only_x] == ["gamer"]


@pytest.mark.parametrize(
    "query", ["", "mix=Music:0", "mix=Nope:0.5", "mix=Music:2", "mix=Music:0.5&k=0"]
)
def test_nearest_rejects_bad_mixes(client, query):
    response = client.get(f"/api/v1/profiles/nearest?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_like_page_with_sliders_and_a_starting_profile(app, client):
    with app.app_context():
        music = _store("music", [["Music"]])
        dance = _store("dance", [["Dance"]])
    page = client.get("/profiles/like").get_data(as_text=True)
    assert page.count('type="range"') == len(CATEGORIES)
    assert 'id="mix-empty"' in page
    html = client.get("/profiles/like?w:Dance=80").get_data(as_text=True)
    assert html.index(">dance<") < html.index(">music<")  # Dance alone: dance ranks first
    # Starting from a profile: its own interests set the sliders, and it is left out.
    html = client.get(f"/profiles/like?from={music}").get_data(as_text=True)
    assert 'name="w:Music" min="0" max="100" step="5" value="100"' in html
    assert f'href="/profiles/{music}"' not in html.split('id="nearest"')[1]
    partial = client.get("/profiles/like?w:Dance=50", headers={"HX-Request": "true"})
    assert "<html" not in partial.get_data(as_text=True)
    assert f'href="/profiles/{dance}"' in partial.get_data(as_text=True)
    assert client.get("/profiles/like?from=999").status_code == 404


def test_compare_page_shows_stats_overlay_and_pairwise_similarity(app, client):
    with app.app_context():
        a = _store("alpha", [["Music"]])
        b = _store("beta", [["Music"], ["Dance"]])
        c = _store("gamma", [["Gaming"]])
    html = client.get(f"/compare?ids={a},{b}&ids={c}").get_data(as_text=True)
    assert "Compare 3 profiles" in html
    assert 'id="compare-radar"' in html and '"scatterpolar"' in html
    assert 'id="compare-stats"' in html and ">alpha<" in html and ">gamma<" in html
    # cos(Music, Music+Dance) = 1/sqrt(2) = 0.71; Gaming shares nothing with either.
    matrix = html.split('id="similarity-matrix"')[1]
    assert matrix.count(">1.00<") == 3
    assert matrix.count(">0.71<") == 2
    assert matrix.count(">0.00<") == 4
    with app.app_context():
        assert similarity.pairwise([a, b])[0][1] == pytest.approx(1 / math.sqrt(2))


@pytest.mark.parametrize(
    "query, status", [("ids=1", 400), ("ids=1,2,3,4,5", 400), ("ids=1,x", 400), ("ids=1,999", 404)]
)
def test_compare_needs_two_to_four_known_profiles(app, client, query, status):
    with app.app_context():
        _store("one", [["Music"]])
    assert client.get(f"/compare?{query}").status_code == status


def test_a_profile_deleted_after_the_matrix_was_built_is_left_out(app, monkeypatch):
    """Another request deletes a profile between the matrix build and the name lookup."""
    with app.app_context():
        a = _store("a", [["Music"], ["Music", "Dance"]])
        b = _store("b", [["Music"]])
        c = _store("c", [["Music"], ["Dance"]])
        before = similarity.current_matrix()
        assert profiles.delete_profile(b)
        monkeypatch.setattr(similarity, "current_matrix", lambda: before)
        found = similarity.similar_profiles(a, k=5)
        assert [item["id"] for item in found] == [c]
        mixed = similarity.nearest_to_mix({"Music": 1.0}, 5)
        assert b not in [item["id"] for item in mixed]
        with pytest.raises(ProfileNotFound):
            similarity.similar_profiles(b, k=5)
