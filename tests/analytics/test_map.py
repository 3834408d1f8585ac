"""The population map: deterministic PCA, k-means clusters named by their interests."""

import numpy as np
import pytest

from webapp.services.analytics import population_map, similarity
from webapp.services.analytics.population_map import cluster_name, kmeans, pca_2d
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.taxonomy import CATEGORIES

from ..factories import make_payload, video


def test_pca_puts_the_widest_spread_on_the_first_axis_with_a_fixed_sign():
    rng = np.random.default_rng(3)
    data = np.zeros((200, 4))
    data[:, 0] = rng.normal(0, 5, 200)  # the widest spread
    data[:, 1] = rng.normal(0, 1, 200)
    points = pca_2d(data)
    assert np.corrcoef(points[:, 0], data[:, 0])[0, 1] == pytest.approx(1.0, abs=1e-6)
    # The same data flipped gives the same picture: signs are fixed, not arbitrary.
    assert np.allclose(pca_2d(data), pca_2d(data.copy()))
    assert points[:, 0].std() > points[:, 1].std()


def test_kmeans_separates_clear_groups_and_is_repeatable():
    rng = np.random.default_rng(5)
    a = rng.normal([0, 0], 0.1, (50, 2))
    b = rng.normal([5, 5], 0.1, (50, 2))
    data = np.vstack([a, b])
    labels, centroids = kmeans(data, 2)
    assert len(set(labels[:50])) == 1 and len(set(labels[50:])) == 1
    assert labels[0] != labels[50]
    again, _ = kmeans(data, 2)
    assert np.array_equal(labels, again)
    assert sorted(np.round(centroids.sum(axis=1)).tolist()) == [0.0, 10.0]


def test_clusters_are_named_by_their_two_largest_interests():
    centroid = np.zeros(len(CATEGORIES))
    centroid[CATEGORIES.index("Gaming")] = 0.5
    centroid[CATEGORIES.index("Technology")] = 0.3
    centroid[CATEGORIES.index("Music")] = 0.1
    assert cluster_name(centroid) == "Gaming & Technology"
    assert cluster_name(np.zeros(len(CATEGORIES))) == "Unclassified"


def test_map_api_and_page(app, client):
    with app.app_context():
        for i, cats in enumerate([["Music"], ["Music"], ["Gaming"], ["Gaming"], ["News"]]):
            payload = make_payload(
                user_id=f"u{i}",
                username=f"user{i}",
                liked_videos=[video(f"v{i}", categories=cats)],
                shared_videos=[],
            )
            assert submit_payload("tiktok" if i % 2 else "x", payload).accepted
    data = client.get("/api/v1/map?k=3").get_json()
    assert len(data["ids"]) == len(data["x"]) == len(data["y"]) == 5
    assert data["username"] == [f"user{i}" for i in range(5)]
    assert sorted(data["clusters"]) == ["Gaming", "Music", "News"]
    # The hover label's top interests: Music at 100 %, no second one.
    assert data["categories"][data["top"][0][0]] == "Music" and data["top_shares"][0] == [100, 0]
    # Profiles with the same interests share a position and a cluster.
    assert (data["x"][0], data["y"][0]) == (data["x"][1], data["y"][1])
    assert data["cluster"][0] == data["cluster"][1] != data["cluster"][2]
    assert data == client.get("/api/v1/map?k=3").get_json()
    assert client.get("/api/v1/map?k=1").status_code == 400
    html = client.get("/map?color=platform&k=3").get_data(as_text=True)
    assert 'id="population-map"' in html and 'data-map-url="/api/v1/map?k=3"' in html
    assert client.get("/map?color=rainbow").status_code == 400


def test_past_max_points_the_map_draws_an_even_sample_and_counts_everyone(app, client, monkeypatch):
    """A browser cannot draw a million points in seconds: past MAX_POINTS the answer holds an
    even sample, the same profiles answer after answer (a growing population only drops some),
    while `total` and the cluster sizes count every profile."""
    monkeypatch.setattr(population_map, "MAX_POINTS", 12)
    with app.app_context():
        for i in range(40):
            payload = make_payload(
                user_id=f"u{i}",
                username=f"user{i}",
                liked_videos=[video(f"v{i}", categories=[("Music", "Gaming", "News")[i % 3]])],
                shared_videos=[],
            )
            assert submit_payload("tiktok", payload).accepted
    data = client.get("/api/v1/map?k=3").get_json()
    drawn = len(data["ids"])
    assert 6 <= drawn <= 18 and data["total"] == 40
    assert (
        len(data["x"])
        == len(data["y"])
        == len(data["username"])
        == len(data["top"])
        == len(data["top_shares"])
        == drawn
    )
    assert sum(data["cluster_sizes"]) == 40 and sorted(data["cluster_sizes"]) == [13, 13, 14]
    with app.app_context():
        ids = np.array(similarity.current_matrix().ids)
        assert population_map.sample_rows(ids, 12).tolist() == [
            int(np.flatnonzero(ids == pk)[0]) for pk in data["ids"]
        ]
        payload = make_payload(
            user_id="late", username="late", liked_videos=[video("vl")], shared_videos=[]
        )
        assert submit_payload("tiktok", payload).accepted
    later = client.get("/api/v1/map?k=3").get_json()
    assert later["total"] == 41 and set(later["ids"]) - {max(later["ids"])} <= set(data["ids"])
    # Below the cap, everyone is drawn.
    monkeypatch.setattr(population_map, "MAX_POINTS", 1000)
    with app.app_context():
        everyone = population_map.population_map(3)
    assert len(everyone["ids"]) == everyone["total"] == 41


def test_the_top_two_interests_are_the_largest_first_in_taxonomy_on_ties():
    """The map's hover labels' interests match a plain stable sort of each row, ties and
    empty rows included."""
    from webapp.services.analytics.similarity import top_two
    from webapp.services.ingestion.taxonomy import CATEGORIES

    rng = np.random.default_rng(3)
    raw = rng.random((300, len(CATEGORIES))) ** 4
    raw /= raw.sum(axis=1, keepdims=True)
    raw[:10] = 0  # nothing classified
    raw[5:10, [4, 9, 12]] = 1 / 3  # a three-way tie: the first two in taxonomy order
    raw[10, :] = 0
    raw[10, 2] = 1.0  # one interest only
    codes, shares = top_two(raw)
    expected = np.argsort(-raw, axis=1, kind="stable")[:, :2]
    assert np.array_equal(codes, expected)
    assert np.array_equal(shares, np.rint(np.take_along_axis(raw, expected, axis=1) * 100))
    assert shares[0].tolist() == [0, 0] and codes[5].tolist() == [4, 9]
    assert shares[5].tolist() == [33, 33] and shares[10].tolist() == [100, 0]
    assert codes.dtype == np.int8 and top_two(raw[:0])[0].shape == (0, 2)
