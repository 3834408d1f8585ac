"""Unit tests of cleaning, the interest vector, its summaries and the taxonomy data."""

import json
from importlib import resources

import pytest

from webapp.services.ingestion.processing import (
    clean_hashtags,
    interest_vector,
    process_payload,
    top_categories,
    top_hashtags,
    video_categories,
)
from webapp.services.ingestion.taxonomy import (
    CATEGORIES,
    HASHTAG_LEXICON,
    hashtag_categories,
    normalise_category,
    normalise_hashtag,
)
from webapp.services.ingestion.validation import validate_payload

from ..factories import make_payload, video

# Every category DESIGN.md names.
DESIGN_CATEGORIES = (
    "Music",
    "Dance",
    "Comedy",
    "Entertainment",
    "Education",
    "Technology",
    "Science",
    "Gaming",
    "Sports",
    "Fitness",
    "Food",
    "Travel",
    "Fashion",
    "Beauty",
    "Lifestyle",
    "Pets",
    "Art",
    "DIY",
    "News",
    "Business",
    "Finance",
    "Health",
    "Family",
    "Nature",
    "Automotive",
    "Film & TV",
)
TIGHT = {"rel": 1e-12, "abs": 1e-12}


def processed(liked=(), shared=(), **overrides):
    """Validate and process a sample payload with the given videos."""
    raw = make_payload(liked_videos=list(liked), shared_videos=list(shared), **overrides)
    return process_payload("tiktok", validate_payload(raw), raw)


def weights(profile) -> dict[str, float]:
    """The interest vector keyed by category name."""
    assert len(profile.interest) == len(CATEGORIES)
    return dict(zip(CATEGORIES, profile.interest, strict=True))


def expected_vector(**nonzero: float) -> dict[str, float]:
    """A full vector keyed by category: the given weights and zero everywhere else."""
    vector = dict.fromkeys(CATEGORIES, 0.0)
    for key, weight in nonzero.items():
        vector[key] = weight
    return vector


def data_file(name: str) -> dict:
    return json.loads(
        resources.files("webapp.services.ingestion").joinpath("data", name).read_text("utf-8")
    )


# --- the vector -------------------------------------------------------------------------------


def test_design_example_vector():
    profile = processed(
        liked=[
            video("1", categories=["Technology", "Education"]),
            video("2", categories=["Music"]),
        ],
        shared=[video("3", categories=["Music", "Dance"])],
    )
    # raw: Technology 1/2, Education 1/2, Music 1 + 2/2, Dance 2/2; total 4.
    assert weights(profile) == pytest.approx(
        expected_vector(Technology=0.125, Education=0.125, Music=0.5, Dance=0.25), **TIGHT
    )
    assert sum(profile.interest) == pytest.approx(1.0, **TIGHT)


def test_shared_video_weighs_twice_a_liked_one():
    profile = processed(
        liked=[video("1", categories=["Gaming"])], shared=[video("2", categories=["Travel"])]
    )
    assert weights(profile) == pytest.approx(expected_vector(Gaming=1 / 3, Travel=2 / 3), **TIGHT)


def test_seed_000_sample():
    raw = make_payload()
    profile = process_payload("tiktok", validate_payload(raw), raw)
    # liked  [Technology, Education]        weight 1 -> Technology 1/2, Education 1/2
    # liked  #fun, #entertainment           weight 1 -> both map to Entertainment, counted once: 1
    # shared [Music, Dance] (twice)         weight 2 -> Music 2/2 + 2/2 = 2, Dance 2
    # total raw = 1/2 + 1/2 + 1 + 2 + 2 = 6
    assert weights(profile) == pytest.approx(
        expected_vector(
            Technology=0.5 / 6, Education=0.5 / 6, Entertainment=1 / 6, Music=2 / 6, Dance=2 / 6
        ),
        **TIGHT,
    )
    hashtags_only = profile.videos[1]
    assert hashtags_only.video_id == "967235098702"
    assert hashtags_only.categories == ["Entertainment"]
    assert hashtags_only.hashtags == ["#fun", "#entertainment"]
    assert profile.unclassified_count == 0
    assert profile.liked_count == 2
    assert profile.shared_count == 2
    # Music and Dance tie at 1/3: taxonomy order puts Music first; Education precedes Technology.
    assert [t["category"] for t in profile.top_categories] == [
        "Music",
        "Dance",
        "Entertainment",
        "Education",
        "Technology",
    ]
    assert profile.top_categories[0]["weight"] == pytest.approx(1 / 3, **TIGHT)
    assert profile.dominant_interest == "Music"
    assert profile.top_hashtags == [
        {"hashtag": "#entertainment", "count": 1},
        {"hashtag": "#fun", "count": 1},
    ]
    assert profile.user_id == "123456"
    assert profile.stats["number_of_likes"] == 6000
    assert profile.raw_payload == raw


def test_nothing_classified_gives_all_zeros_and_no_dominant_interest():
    profile = processed(
        liked=[video("1"), video("2", hashtags=["#fyp", "#zzqx"])],
        shared=[video("3", categories=["", "  "])],
    )
    assert profile.interest == [0.0] * len(CATEGORIES)
    assert profile.dominant_interest is None
    assert profile.top_categories == []
    assert profile.unclassified_count == 3
    # Hashtags are still counted even when they classify nothing.
    assert [t["hashtag"] for t in profile.top_hashtags] == ["#fyp", "#zzqx"]


def test_no_videos_gives_all_zeros():
    profile = processed()
    assert profile.interest == [0.0] * len(CATEGORIES)
    assert profile.dominant_interest is None
    assert profile.unclassified_count == 0


def test_video_with_neither_contributes_nothing_and_is_unclassified():
    profile = processed(
        liked=[video("1", categories=["Music"]), video("2"), video("3", hashtags=["#zzqx"])],
        shared=[video("4", categories=[])],
    )
    assert weights(profile) == pytest.approx(expected_vector(Music=1.0), **TIGHT)
    assert profile.unclassified_count == 3
    assert profile.dominant_interest == "Music"


def test_interest_vector_directly_from_cleaned_videos():
    profile = processed(liked=[video("1", categories=["Food", "Travel"])])
    assert interest_vector(profile.videos) == profile.interest
    assert interest_vector([]) == [0.0] * len(CATEGORIES)


# --- category cleaning ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (["Technology"], ["Technology"]),
        (["technology"], ["Technology"]),
        (["  MUSIC  "], ["Music"]),
        (["film & tv"], ["Film & TV"]),
        (["tech"], ["Technology"]),
        (["Tech "], ["Technology"]),
        (["movies"], ["Film & TV"]),
        (["funny"], ["Comedy"]),
        (["Underwater basket weaving"], ["Other"]),
        (["Other"], ["Other"]),
        (["", "   ", "Music"], ["Music"]),
        (["Music", "music", " MUSIC"], ["Music"]),
        (["tech", "Technology", "coding"], ["Technology"]),
        (["nope", "also nope"], ["Other"]),
        (["Dance", "Music"], ["Dance", "Music"]),
    ],
)
def test_category_cleaning(categories, expected):
    assert video_categories(categories, []) == expected


def test_duplicate_categories_within_a_video_count_once_in_the_vector():
    profile = processed(liked=[video("1", categories=["Music", "music", "Dance"])])
    assert weights(profile) == pytest.approx(expected_vector(Music=0.5, Dance=0.5), **TIGHT)


def test_unknown_category_counts_as_other_in_the_vector():
    profile = processed(liked=[video("1", categories=["Knitting", "Music"])])
    assert weights(profile) == pytest.approx(expected_vector(Other=0.5, Music=0.5), **TIGHT)


def test_blank_categories_are_ignored():
    assert normalise_category("") is None
    assert normalise_category("   ") is None
    profile = processed(liked=[video("1", categories=["", "Music"])])
    assert weights(profile) == pytest.approx(expected_vector(Music=1.0), **TIGHT)


# --- hashtag cleaning -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hashtags", "expected"),
    [
        (["#fun"], ["#fun"]),
        (["  #Fun  "], ["#fun"]),
        (["fun"], ["#fun"]),
        (["##Music"], ["#music"]),
        (["###DANCE"], ["#dance"]),
        (["#b", "#A", "#a", "b", "#B"], ["#b", "#a"]),
        (["", "   ", "#", "##", "#ok"], ["#ok"]),
        ([], []),
        (None, []),
    ],
)
def test_hashtag_cleaning(hashtags, expected):
    assert clean_hashtags(hashtags) == expected


def test_normalise_hashtag_gives_exactly_one_leading_hash():
    assert normalise_hashtag("##Music") == "#music"
    assert normalise_hashtag(" music ") == "#music"
    assert normalise_hashtag("#") is None


def test_processing_stores_cleaned_hashtags():
    profile = processed(liked=[video("1", hashtags=["  #MUSIC ", "music", "##Dance", ""])])
    assert profile.videos[0].hashtags == ["#music", "#dance"]
    assert profile.videos[0].categories == ["Music", "Dance"]


# --- hashtags to categories -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hashtags", "expected"),
    [
        (["#music"], ["Music"]),
        (["#entertainment"], ["Entertainment"]),
        (["#technology"], ["Technology"]),
        (["#fun"], ["Entertainment"]),
        (["#tech"], ["Technology"]),
        (["#kpop"], ["Music", "Dance"]),
        (["#foodie"], ["Food"]),
        (["#fun", "#entertainment"], ["Entertainment"]),
        (["#fyp"], []),
        (["#zzqx"], []),
        (["#fyp", "#zzqx"], []),
        (["#zzqx", "#gamer"], ["Gaming"]),
    ],
)
def test_hashtags_map_to_categories(hashtags, expected):
    assert video_categories(None, hashtags) == expected


def test_hashtag_equal_to_a_category_name_maps_to_it():
    for name in ("Music", "Entertainment", "Gaming", "Science"):
        assert hashtag_categories("#" + name.lower()) == (name,)


def test_lexicon_mappings_are_used():
    for tag, targets in HASHTAG_LEXICON.items():
        assert hashtag_categories(tag) == targets


def test_explicit_categories_win_over_hashtags():
    assert video_categories(["Gaming"], ["#music", "#kpop"]) == ["Gaming"]
    profile = processed(liked=[video("1", categories=["Gaming"], hashtags=["#music"])])
    assert weights(profile) == pytest.approx(expected_vector(Gaming=1.0), **TIGHT)


def test_hashtags_only_video_is_classified_through_its_hashtags():
    profile = processed(
        liked=[video("1", hashtags=["#kpop"])], shared=[video("2", hashtags=["#fun"])]
    )
    # liked #kpop -> Music 1/2, Dance 1/2; shared #fun -> Entertainment 2; total 3.
    assert weights(profile) == pytest.approx(
        expected_vector(Music=0.5 / 3, Dance=0.5 / 3, Entertainment=2 / 3), **TIGHT
    )
    assert profile.unclassified_count == 0


# --- summaries --------------------------------------------------------------------------------


def vector_of(**nonzero: float) -> list[float]:
    return [expected_vector(**nonzero)[name] for name in CATEGORIES]


def test_top_categories_largest_first_with_weights():
    interest = vector_of(Gaming=0.5, Food=0.3, Travel=0.2)
    assert top_categories(interest) == [
        {"category": "Gaming", "weight": 0.5},
        {"category": "Food", "weight": 0.3},
        {"category": "Travel", "weight": 0.2},
    ]


def test_top_categories_ties_in_taxonomy_order_and_zeros_left_out():
    # Technology comes after Music and Dance in the taxonomy; Other is last.
    interest = vector_of(Other=0.25, Technology=0.25, Music=0.25, Dance=0.25)
    assert [t["category"] for t in top_categories(interest)] == [
        "Music",
        "Dance",
        "Technology",
        "Other",
    ]


def test_top_categories_keeps_n():
    interest = vector_of(Music=0.4, Dance=0.3, Comedy=0.2, Food=0.1)
    assert [t["category"] for t in top_categories(interest, n=2)] == ["Music", "Dance"]
    assert len(top_categories([1 / len(CATEGORIES)] * len(CATEGORIES))) == 5


def test_top_hashtags_counts_over_both_lists_ties_alphabetical():
    profile = processed(
        liked=[
            video("1", hashtags=["#cats", "#dogs", "#Cats"]),
            video("2", hashtags=["#DOGS", "#zebra"]),
        ],
        shared=[video("3", hashtags=["dogs", "#cats"]), video("4", hashtags=["#birds"])],
    )
    assert profile.top_hashtags == [
        {"hashtag": "#dogs", "count": 3},
        {"hashtag": "#cats", "count": 2},
        {"hashtag": "#birds", "count": 1},
        {"hashtag": "#zebra", "count": 1},
    ]
    assert top_hashtags(profile.videos, n=1) == [{"hashtag": "#dogs", "count": 3}]


# --- the taxonomy data ------------------------------------------------------------------------


def test_taxonomy_has_other_last():
    assert CATEGORIES[-1] == "Other"
    assert CATEGORIES.count("Other") == 1


def test_taxonomy_contains_every_category_design_names():
    assert set(DESIGN_CATEGORIES) <= set(CATEGORIES)


def test_taxonomy_has_no_duplicates_even_ignoring_case():
    assert len({name.lower() for name in CATEGORIES}) == len(CATEGORIES)


def test_taxonomy_is_the_data_file_in_order():
    assert list(CATEGORIES) == data_file("taxonomy.json")["categories"]


def test_every_synonym_points_at_a_real_category_and_is_used():
    synonyms = data_file("taxonomy.json")["synonyms"]
    assert synonyms["tech"] == "Technology"
    for synonym, target in synonyms.items():
        assert target in CATEGORIES
        assert normalise_category(synonym) == target
        assert normalise_category(synonym.upper()) == target


def test_every_lexicon_target_is_a_real_category():
    lexicon = data_file("hashtags.json")["hashtags"]
    assert lexicon
    for tag, targets in lexicon.items():
        assert all(target in CATEGORIES for target in targets), tag
        # A lexicon key that is not in cleaned form could never match a cleaned hashtag.
        assert normalise_hashtag(tag) == tag
