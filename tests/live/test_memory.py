"""What a worker keeps in memory stays compact: the matrix's dtypes and sizes, the id index,
the map's one answer per matrix state, the catalogue's category indices, and no Alembic or
Faker in a web worker. (Memory figures themselves are in bench/memory.py and the README.)"""

import math
import os
import re
import subprocess
import sys
import tracemalloc
from itertools import accumulate

import numpy as np
import pytest

from webapp.services.analytics import population_map, recommendations, similarity
from webapp.services.analytics.similarity import STATS, IdIndex, Matrix
from webapp.services.ingestion.connectors import get_connector, mock
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.taxonomy import CATEGORIES

from ..factories import make_payload, video


def _store(user_id: str, categories: list[list[str]], platform: str = "tiktok") -> int:
    liked = [video(f"{user_id}-{i}", categories=c) for i, c in enumerate(categories)]
    payload = make_payload(user_id=user_id, username=user_id, liked_videos=liked, shared_videos=[])
    outcome = submit_payload(platform, payload)
    assert outcome.accepted, outcome
    return outcome.profile_id


def _random_matrix(n: int, seed: int = 0) -> Matrix:
    rng = np.random.default_rng(seed)
    raw = rng.random((n, len(CATEGORIES)))
    raw /= raw.sum(axis=1, keepdims=True)
    names = [CATEGORIES[i] for i in raw.argmax(axis=1)]
    return Matrix(
        np.arange(1, n + 1),
        rng.integers(0, 3, n),
        raw,
        [f"user{i % 700}" for i in range(n)],
        names,
    )


def test_the_matrix_keeps_compact_arrays_and_no_per_row_python_objects_but_strings():
    matrix = _random_matrix(5_000)
    assert matrix.raw.dtype == np.float64  # exact: counts compare weights as SQL does
    # No second copy of the weights: the look-alikes divide by the norms as they score. The
    # only other table per row is the range filters' few columns.
    assert not [
        name
        for name, value in vars(matrix).items()
        if isinstance(value, np.ndarray)
        and value.ndim == 2
        and name not in ("_raw", "platform_sums", "_stats")
    ]
    assert matrix._stats.shape[1] == len(STATS) < len(CATEGORIES) / 4
    assert matrix.platforms.dtype == np.int8
    assert matrix.dominant.codes.dtype == np.int16
    assert isinstance(matrix.row_of, IdIndex)
    # The id index is 4 bytes an id, not a dict of Python ints.
    assert matrix.row_of.nbytes <= 4 * max(IdIndex.DENSE_MIN, 2 * matrix.n)
    # Repeated handles are one string object each.
    assert len({id(name) for name in matrix.usernames}) == 700
    assert [matrix.dominant[row] for row in range(3)] == matrix.dominant_names()[:3]


def test_the_id_index_reads_like_a_dict_and_keeps_outlying_ids_apart():
    index, plain = IdIndex(), {}
    index.assign(np.array([3, 5, 9]), np.array([0, 1, 2], dtype=np.int32))
    plain.update({3: 0, 5: 1, 9: 2})
    far = 10**12
    for pk, row in ((far, 3), (12, 4), (5, 7)):
        index[pk] = row
        plain[pk] = row
    assert index.nbytes < 1_000_000  # the outlying id did not size the array
    assert index.pop(9) == plain.pop(9)
    assert dict(index.items()) == plain and len(index) == len(plain)
    assert list(index) == sorted(plain)
    assert index.get(9) is None and 9 not in index and far in index
    with pytest.raises(KeyError):
        index[9]
    # Ids that were outlying move into the array once it has grown past them.
    index.assign(np.arange(100, 300_000), np.arange(299_900, dtype=np.int32))
    index[200_000] = 1
    assert index[200_000] == 1 and index[far] == 3 and index[12] == 4


def test_patched_rows_keep_the_index_and_the_codes_in_step():
    matrix = _random_matrix(50, seed=2)
    raw = np.zeros(len(CATEGORIES))
    raw[0] = 1.0
    matrix.apply([similarity.Row(500, 1, raw, "new", "Brand new category")], gone={1, 2}, version=1)
    assert 1 not in matrix.row_of and matrix.n == 49
    for pk, row in matrix.row_of.items():
        assert int(matrix.ids[row]) == pk
    row = matrix.row_of[500]
    assert matrix.dominant[row] == "Brand new category"
    assert matrix.usernames[row] == "new"


def test_the_map_keeps_each_k_as_arrays_and_no_answer(app):
    with app.app_context():
        for i in range(12):
            _store(f"p{i}", [["Music"], ["Dance"]] if i % 2 else [["Gaming"]])
        first = population_map.population_map(3)
        population_map.population_map(4)
        matrix = similarity.current_matrix()
        kept = population_map.maps._projections[matrix]
        assert sorted(kept) == [3, 4]
        assert isinstance(first["x"], np.ndarray) and first["cluster"].dtype == np.int8
        for projection in kept.values():
            assert projection.x.dtype == projection.y.dtype == np.float64
            assert projection.cluster.dtype == np.int8
        # Nothing else is kept per answer: the maps hold the projections and the locks only.
        assert set(vars(population_map.maps)) == {
            "_projections",
            "_refitting",
            "_lock",
            "_fit_lock",
            "inline_fits",
            "background_fits",
        }


def test_the_map_answer_is_plain_json(app, client):
    with app.app_context():
        for i in range(6):
            _store(f"p{i}", [["Music"]] if i % 2 else [["Gaming"], ["Food"]])
    body = client.get("/api/v1/map?k=2").get_json()
    assert len(body["ids"]) == len(body["x"]) == len(body["cluster"]) == 6
    assert all(isinstance(value, float) for value in body["x"] + body["y"])
    assert set(body["cluster"]) <= {0, 1} and len(body["clusters"]) == 2


def test_the_catalogue_keeps_category_indices_and_scores_as_the_dense_vectors_did(app):
    with app.app_context():
        _store("a", [["Music"], ["Music", "Dance", "Gaming"], [], ["Music", "Music"]])
        catalogue = recommendations.current_catalogue()
        table = catalogue.categories["tiktok"]
        assert table.dtype == np.int8 and table.shape[1] == 3
        interest = np.random.default_rng(1).random(len(CATEGORIES))
        unit = np.append(interest / np.linalg.norm(interest), 0.0)
        got = unit[table].sum(axis=1) * catalogue.scale["tiktok"]
        dense = np.zeros((len(table), len(CATEGORIES)))
        for i, row in enumerate(table):
            known = [c for c in row if c < len(CATEGORIES)]
            dense[i, known] = 1 / math.sqrt(len(known)) if known else 0.0
        assert np.allclose(got, dense @ unit[:-1], rtol=0, atol=1e-15)


def test_a_mock_platform_keeps_its_catalogue_in_columns_and_sends_whole_videos():
    traits = get_connector("tiktok").traits
    tracemalloc.start()
    try:
        built = mock._build_catalogue(traits)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(built) == mock.CATALOGUE_SIZE
    # 20,000 videos as objects held 8.7 MiB; in columns, with their topics' shelves, 3.1.
    assert held < 3.5 * 2**20, held
    # Equal hashtag lists are one tuple.
    assert len({id(tags) for tags in built.hashtags}) < len(built) * 0.6
    assert sorted(i for shelf in built.shelves for i in shelf) == list(range(len(built)))
    for shelf, posted, running in zip(
        built.shelves, built.shelf_posted, built.shelf_likes, strict=True
    ):  # in posting order, with the running total of their likes
        assert list(posted) == [built.posted[i] for i in shelf] == sorted(posted)
        assert list(running) == list(accumulate(built.likes[i] for i in shelf))
    entries = [built.payload(i) for i in range(len(built))]
    assert len({entry["video_id"] for entry in entries}) == len(built)
    for entry in entries[:500]:
        assert entry["video_id"].startswith(traits.video_id_prefix)
        # A post's caption: a sentence, then one to three hashtags (tests/ingest/test_realism.py).
        assert entry["caption"][0].isupper() or entry["caption"][0].isdigit()
        assert 1 <= entry["caption"].count("#") <= 3
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["posted_at"])
        assert "categories" in entry or "hashtags" in entry
        assert entry["likes"] >= entry["comments"] >= 0 and entry["shares"] >= 0
    assert built.payload(7)["hashtags"] is not built.payload(7)["hashtags"]  # fresh lists


def test_a_web_app_does_not_load_alembic_or_faker(tmp_path):
    env = dict(
        os.environ,
        TOKER_INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'toker.sqlite'}",
    )
    code = (
        "import sys, webapp; webapp.create_app({'TESTING': True});"
        "print(sorted(m for m in ('alembic', 'flask_migrate', 'faker') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
