"""How weights are stored: a snapshot's sparse weights come back exactly, and what a profile
row no longer keeps (its top categories) or keeps compactly (its top hashtags) reads the same."""

import json
import random

import numpy as np
import pytest
from sqlalchemy import text

from webapp.extensions import db
from webapp.models import Profile
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.processing import top_categories
from webapp.services.ingestion.taxonomy import CATEGORIES
from webapp.services.ingestion.vectors import pack_weights, unpack_vector, unpack_weights

from ..factories import make_payload, video


def test_sparse_weights_come_back_bit_for_bit_in_nine_bytes_a_category():
    rng = random.Random(5)
    for _ in range(200):
        weights = [rng.random() if rng.random() < 0.4 else 0.0 for _ in CATEGORIES]
        weights[rng.randrange(len(CATEGORIES))] = 1e-300  # tiny, still kept
        blob = pack_weights(weights)
        assert len(blob) == 9 * sum(1 for w in weights if w)
        back = unpack_weights(blob)
        assert back.dtype == np.float64
        assert back.tobytes() == np.array(weights, dtype="<f8").tobytes()


def test_no_weights_is_an_empty_blob_and_zeros():
    assert pack_weights([0.0] * len(CATEGORIES)) == b""
    assert not unpack_weights(b"").any() and len(unpack_weights(b"")) == len(CATEGORIES)


def test_a_blob_that_is_not_nine_bytes_a_category_is_refused_with_its_length():
    with pytest.raises(ValueError, match="13 bytes"):
        unpack_weights(pack_weights([0.5, 0.5] + [0.0] * (len(CATEGORIES) - 2))[:-5])


def test_top_categories_are_read_from_the_vector_and_hashtags_stored_as_pairs(app):
    liked = [
        video("a", ["Music"], ["#fun", "#live"]),
        video("b", ["Gaming", "Music"], ["#fun"]),
        video("c", ["Travel"], ["#trip"]),
    ]
    with app.app_context():
        pk = submit_payload("tiktok", make_payload(liked_videos=liked, shared_videos=[]))
        pk = pk.profile_id
        db.session.expire_all()
        profile = db.session.get(Profile, pk)
        tops = top_categories(unpack_vector(profile.vector))
        assert profile.top_categories == tops
        # Music 1 + 1/2, Travel 1, Gaming 1/2.
        assert [entry["category"] for entry in tops] == ["Music", "Travel", "Gaming"]
        assert profile.top_hashtags == [
            {"hashtag": "#fun", "count": 2},
            {"hashtag": "#live", "count": 1},
            {"hashtag": "#trip", "count": 1},
        ]
        stored = db.session.execute(
            text("SELECT top_hashtags FROM profiles WHERE id = :pk"), {"pk": pk}
        ).scalar()
        stored = json.loads(stored) if isinstance(stored, str) else stored
        assert stored == [["#fun", 2], ["#live", 1], ["#trip", 1]]
