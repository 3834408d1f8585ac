"""Unit tests of payload validation: every rule alone, several at once, located and in words."""

import copy

import pytest

from webapp.services.ingestion.validation import (
    BadUserId,
    PayloadProblem,
    PayloadRejected,
    check_user_id,
    validate_payload,
)

from ..factories import SEED_000_SAMPLE, make_payload, video

REQUIRED_FIELDS = (
    "user_id",
    "username",
    "user_pseudo",
    "verified",
    "followers_count",
    "following_count",
    "likes_count",
    "videos_count",
    "number_of_comments",
    "number_of_likes_on_own_videos",
    "number_of_likes",
    "number_of_shares",
    "liked_videos",
    "shared_videos",
)
COUNT_FIELDS = REQUIRED_FIELDS[4:12]
VIDEO_REQUIRED_FIELDS = ("video_id", "likes", "comments", "shares")
VIDEO_COUNT_FIELDS = ("likes", "comments", "shares")


def problems_of(raw, min_likes: int = 100) -> list[PayloadProblem]:
    """The problems a rejected payload reports; fails the test when it is accepted."""
    with pytest.raises(PayloadRejected) as caught:
        validate_payload(raw, min_likes)
    return caught.value.problems


def only_problem(raw, min_likes: int = 100) -> PayloadProblem:
    """The single problem a payload is rejected for."""
    problems = problems_of(raw, min_likes)
    assert len(problems) == 1, problems
    return problems[0]


def with_value(path: tuple, value) -> dict:
    """The seed sample with the value at path (keys and list indexes) replaced."""
    payload = copy.deepcopy(SEED_000_SAMPLE)
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return payload


def without(path: tuple) -> dict:
    """The seed sample with the key at path removed."""
    payload = copy.deepcopy(SEED_000_SAMPLE)
    target = payload
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return payload


def test_seed_sample_is_accepted_and_parsed():
    parsed = validate_payload(make_payload())
    assert parsed.user_id == "123456"
    assert parsed.username == "example_user"
    assert parsed.verified is False
    assert parsed.number_of_likes == 6000
    assert [v.video_id for v in parsed.liked_videos] == ["967235098701", "967235098702"]
    assert parsed.liked_videos[1].hashtags == ["#fun", "#entertainment"]
    assert parsed.liked_videos[1].categories is None
    assert len(parsed.shared_videos) == 2


# --- presence ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_each_missing_top_level_field_is_reported(field):
    problem = only_problem(without((field,)))
    assert problem.loc == field
    assert "required" in problem.msg


@pytest.mark.parametrize("field", VIDEO_REQUIRED_FIELDS)
@pytest.mark.parametrize(("videos", "index"), [("liked_videos", 1), ("shared_videos", 0)])
def test_each_missing_video_field_is_reported(videos, index, field):
    problem = only_problem(without((videos, index, field)))
    assert problem.loc == f"{videos}[{index}].{field}"
    assert "required" in problem.msg


def test_categories_and_hashtags_are_optional():
    parsed = validate_payload(make_payload(liked_videos=[video("1")], shared_videos=[]))
    assert parsed.liked_videos[0].categories is None
    assert parsed.liked_videos[0].hashtags is None


def test_empty_video_lists_are_accepted():
    parsed = validate_payload(make_payload(liked_videos=[], shared_videos=[]))
    assert parsed.liked_videos == []
    assert parsed.shared_videos == []


# --- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "loc", "words"),
    [
        (("followers_count",), "1500", "followers_count", "whole number"),
        (("followers_count",), 1.5, "followers_count", "whole number"),
        (("followers_count",), True, "followers_count", "whole number"),
        (("number_of_likes",), None, "number_of_likes", "whole number"),
        (("liked_videos", 1, "likes"), "many", "liked_videos[1].likes", "whole number"),
        (("liked_videos", 1, "likes"), 1.5, "liked_videos[1].likes", "whole number"),
        (("shared_videos", 0, "shares"), False, "shared_videos[0].shares", "whole number"),
        (("verified",), "yes", "verified", "true or false"),
        (("verified",), "false", "verified", "true or false"),
        (("user_id",), 123456, "user_id", "string"),
        (("username",), ["example_user"], "username", "string"),
        (("liked_videos",), "967235098701", "liked_videos", "list"),
        (("shared_videos",), {"video_id": "1"}, "shared_videos", "list"),
        (("liked_videos", 0), "967235098701", "liked_videos[0]", "object"),
        (("shared_videos", 1), 42, "shared_videos[1]", "object"),
        (("liked_videos", 0, "categories"), "Technology", "liked_videos[0].categories", "list"),
        (("liked_videos", 0, "categories", 1), 7, "liked_videos[0].categories[1]", "string"),
        (("liked_videos", 1, "hashtags"), "#fun", "liked_videos[1].hashtags", "list"),
        (("liked_videos", 0, "video_id"), True, "liked_videos[0].video_id", "whole number"),
        (("liked_videos", 0, "video_id"), 1.5, "liked_videos[0].video_id", "whole number"),
    ],
)
def test_wrong_type_is_reported_in_words(path, value, loc, words):
    problem = only_problem(with_value(path, value))
    assert problem.loc == loc
    assert words in problem.msg


@pytest.mark.parametrize("field", COUNT_FIELDS)
def test_negative_top_level_count_is_rejected(field):
    problem = only_problem(make_payload(**{field: -1}))
    assert problem.loc == field
    assert "negative" in problem.msg


@pytest.mark.parametrize("field", VIDEO_COUNT_FIELDS)
def test_negative_video_count_is_rejected(field):
    problem = only_problem(with_value(("shared_videos", 1, field), -5))
    assert problem.loc == f"shared_videos[1].{field}"
    assert "negative" in problem.msg


@pytest.mark.parametrize("field", COUNT_FIELDS)
def test_zero_count_is_accepted(field):
    overrides = {field: 0}
    if field == "number_of_likes":
        # Zero likes is a valid count but under the minimum; a zero minimum isolates the type rule.
        parsed = validate_payload(make_payload(**overrides), min_likes=0)
    else:
        parsed = validate_payload(make_payload(**overrides))
    assert getattr(parsed, field) == 0


# --- user_id ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_id", "words"),
    [("", "empty"), ("   ", "empty"), ("u" * 65, "too long")],
    ids=["empty", "blank", "65-characters"],
)
def test_user_id_outside_1_to_64_characters_is_rejected(user_id, words):
    problem = only_problem(make_payload(user_id=user_id))
    assert problem.loc == "user_id"
    assert words in problem.msg
    if words == "too long":
        assert "64" in problem.msg


@pytest.mark.parametrize("user_id", ["7", "u" * 64], ids=["1-character", "64-characters"])
def test_user_id_of_1_to_64_characters_is_accepted(user_id):
    assert validate_payload(make_payload(user_id=user_id)).user_id == user_id


# --- the likes minimum ------------------------------------------------------------------------


def test_99_likes_is_rejected_saying_how_many_it_has_and_needs():
    problem = only_problem(make_payload(number_of_likes=99))
    assert problem.loc == "number_of_likes"
    assert "99" in problem.msg
    assert "at least 100" in problem.msg


def test_100_likes_is_accepted():
    assert validate_payload(make_payload(number_of_likes=100)).number_of_likes == 100


def test_zero_likes_is_under_the_minimum():
    problem = only_problem(make_payload(number_of_likes=0))
    assert problem.loc == "number_of_likes"
    assert "at least 100" in problem.msg


def test_custom_minimum_is_used():
    problem = only_problem(make_payload(number_of_likes=499), min_likes=500)
    assert problem.loc == "number_of_likes"
    assert "499" in problem.msg
    assert "at least 500" in problem.msg
    assert validate_payload(make_payload(number_of_likes=500), min_likes=500).number_of_likes == 500


def test_lower_custom_minimum_accepts_what_the_default_rejects():
    assert validate_payload(make_payload(number_of_likes=60), min_likes=50).number_of_likes == 60
    assert only_problem(make_payload(number_of_likes=60)).loc == "number_of_likes"


def test_negative_likes_is_reported_once_as_negative():
    problem = only_problem(make_payload(number_of_likes=-3))
    assert problem.loc == "number_of_likes"
    assert "negative" in problem.msg


# --- video ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("videos", ["liked_videos", "shared_videos"])
def test_duplicate_video_id_within_a_list_is_rejected(videos):
    listed = [video("a"), video("b"), video("a")]
    problem = only_problem(make_payload(**{videos: listed}))
    assert problem.loc == f"{videos}[2].video_id"
    assert "twice" in problem.msg
    assert f"{videos}[0]" in problem.msg  # says where the first one is


def test_every_repeat_of_a_video_id_is_reported():
    listed = [video("a"), video("a"), video("b"), video("a")]
    problems = problems_of(make_payload(liked_videos=listed))
    assert [p.loc for p in problems] == ["liked_videos[1].video_id", "liked_videos[3].video_id"]


def test_same_video_id_in_liked_and_shared_is_allowed():
    both = [video("same", categories=["Music"])]
    parsed = validate_payload(make_payload(liked_videos=both, shared_videos=copy.deepcopy(both)))
    assert parsed.liked_videos[0].video_id == parsed.shared_videos[0].video_id == "same"


def test_numeric_video_id_is_accepted_as_a_string():
    parsed = validate_payload(make_payload(liked_videos=[video(967235098701), video(0)]))
    assert [v.video_id for v in parsed.liked_videos] == ["967235098701", "0"]
    assert all(isinstance(v.video_id, str) for v in parsed.liked_videos)


def test_numeric_duplicate_of_a_string_video_id_is_detected():
    problem = only_problem(make_payload(shared_videos=[video("5"), video(5)]))
    assert problem.loc == "shared_videos[1].video_id"
    assert "twice" in problem.msg


def test_negative_numeric_video_id_is_rejected():
    problem = only_problem(make_payload(liked_videos=[video(-5)]))
    assert problem.loc == "liked_videos[0].video_id"
    assert "negative" in problem.msg


@pytest.mark.parametrize(
    ("video_id", "words"),
    [("", "must not be empty"), ("   ", "must not be empty"), ("9" * 65, "too long")],
    ids=["empty", "blank", "65-characters"],
)
def test_video_id_outside_1_to_64_characters_is_rejected_in_words(video_id, words):
    problem = only_problem(make_payload(liked_videos=[video(video_id)]))
    assert problem.loc == "liked_videos[0].video_id"
    assert words in problem.msg


def test_video_id_of_64_characters_is_accepted():
    parsed = validate_payload(make_payload(liked_videos=[video("9" * 64)]))
    assert parsed.liked_videos[0].video_id == "9" * 64


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), ("  \t", "empty"), ("9" * 65, "long"), ("a\x00", "nul")],
    ids=["empty", "blank", "65-characters", "nul"],
)
def test_a_user_id_to_connect_is_refused_with_its_reason(text, reason):
    with pytest.raises(BadUserId) as refused:
        check_user_id(text)
    assert refused.value.reason == reason


def test_a_user_id_to_connect_is_trimmed_and_may_have_64_characters():
    assert check_user_id("  ab c ") == "ab c"
    assert check_user_id(" " + "9" * 64 + " ") == "9" * 64


# --- size bounds ------------------------------------------------------------------------------


@pytest.mark.parametrize("videos", ["liked_videos", "shared_videos"])
def test_more_than_1000_videos_is_rejected(videos):
    listed = [video(str(i)) for i in range(1001)]
    problem = only_problem(make_payload(**{videos: listed}))
    assert problem.loc == videos
    assert "too many" in problem.msg
    assert "1000" in problem.msg


def test_1000_videos_is_accepted():
    listed = [video(str(i)) for i in range(1000)]
    assert len(validate_payload(make_payload(liked_videos=listed)).liked_videos) == 1000


def test_more_than_20_categories_on_a_video_is_rejected():
    names = [f"Category {i}" for i in range(21)]
    problem = only_problem(make_payload(liked_videos=[video("1", categories=names)]))
    assert problem.loc == "liked_videos[0].categories"
    assert "too many" in problem.msg
    assert "20" in problem.msg
    accepted = validate_payload(make_payload(liked_videos=[video("1", categories=names[:20])]))
    assert len(accepted.liked_videos[0].categories) == 20


def test_more_than_50_hashtags_on_a_video_is_rejected():
    tags = [f"#tag{i}" for i in range(51)]
    problem = only_problem(make_payload(shared_videos=[video("1", hashtags=tags)]))
    assert problem.loc == "shared_videos[0].hashtags"
    assert "50" in problem.msg


def test_over_long_category_name_is_rejected():
    problem = only_problem(make_payload(liked_videos=[video("1", categories=["x" * 65])]))
    assert problem.loc == "liked_videos[0].categories[0]"
    assert "too long" in problem.msg


@pytest.mark.parametrize("field", ["username", "user_pseudo"])
def test_over_long_name_is_rejected(field):
    problem = only_problem(make_payload(**{field: "n" * 101}))
    assert problem.loc == field
    assert "too long" in problem.msg
    assert "100" in problem.msg
    assert getattr(validate_payload(make_payload(**{field: "n" * 100})), field) == "n" * 100


def test_empty_username_is_rejected():
    problem = only_problem(make_payload(username=""))
    assert problem.loc == "username"
    assert "empty" in problem.msg


# --- several problems at once -----------------------------------------------------------------


def test_four_different_problems_are_all_reported_at_once():
    raw = make_payload(followers_count=-3, number_of_likes=42)
    del raw["username"]
    raw["liked_videos"][1]["likes"] = "many"
    problems = problems_of(raw)
    by_loc = {p.loc: p.msg for p in problems}
    assert len(problems) == 4
    assert set(by_loc) == {
        "username",
        "followers_count",
        "liked_videos[1].likes",
        "number_of_likes",
    }
    assert "required" in by_loc["username"]
    assert "negative" in by_loc["followers_count"]
    assert "whole number" in by_loc["liked_videos[1].likes"]
    assert "42" in by_loc["number_of_likes"]
    assert "100" in by_loc["number_of_likes"]


def test_problems_in_one_video_and_a_duplicate_are_all_reported():
    listed = [video("1"), video("1", likes=-1, comments="a", shares=None)]
    problems = problems_of(make_payload(liked_videos=listed))
    assert sorted(p.loc for p in problems) == [
        "liked_videos[1].comments",
        "liked_videos[1].likes",
        "liked_videos[1].shares",
        "liked_videos[1].video_id",
    ]


# --- the payload as a whole -------------------------------------------------------------------


@pytest.mark.parametrize("raw", [[SEED_000_SAMPLE], "a payload", None, 42])
def test_non_object_payload_is_rejected_at_the_root(raw):
    problem = only_problem(raw)
    assert problem.loc == ""
    assert "object" in problem.msg


def test_unknown_fields_are_ignored():
    raw = make_payload(bio="hello", region="EU")
    raw["liked_videos"][0]["music_id"] = "abc"
    parsed = validate_payload(raw)
    assert "bio" not in parsed.model_dump()
    assert "music_id" not in parsed.liked_videos[0].model_dump()


def test_reason_of_one_problem_names_where_and_what():
    with pytest.raises(PayloadRejected) as caught:
        validate_payload(make_payload(number_of_likes=99))
    rejected = caught.value
    assert rejected.reason.startswith("number_of_likes: ")
    assert "99" in rejected.reason
    assert str(rejected) == rejected.reason
    assert rejected.errors == [{"loc": "number_of_likes", "msg": rejected.problems[0].msg}]


def test_reason_of_several_problems_counts_and_lists_them():
    raw = make_payload(followers_count=-1, verified="no")
    with pytest.raises(PayloadRejected) as caught:
        validate_payload(raw)
    reason = caught.value.reason
    assert reason.startswith("2 problems: ")
    assert "followers_count: " in reason
    assert "verified: " in reason
    assert "negative" in reason


def test_reason_of_a_non_object_payload_has_no_empty_location():
    with pytest.raises(PayloadRejected) as caught:
        validate_payload(None)
    assert not caught.value.reason.startswith(":")
    assert "object" in caught.value.reason
