"""Property-based tests of payload validation and cleaning (DESIGN.md: validation, the vector).

Hypothesis generates the inputs; each test says in its docstring what a failure would mean.
The tests call factories directly, never function-scoped fixtures, and keep no example database
(`database=None`): a failure is reproduced from the printed example, not from a saved one.
"""

import copy
import json
import math
import random
from datetime import UTC
from importlib import resources

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from webapp.services.ingestion.onboarding import prepare
from webapp.services.ingestion.platforms import PLATFORMS
from webapp.services.ingestion.processing import clean_hashtags, process_payload, video_categories
from webapp.services.ingestion.taxonomy import (
    CATEGORIES,
    HASHTAG_LEXICON,
    OTHER,
    hashtag_categories,
    normalise_category,
    normalise_hashtag,
)
from webapp.services.ingestion.validation import (
    MAX_CAPTION,
    MAX_CATEGORIES,
    MAX_COUNT,
    MAX_HASHTAGS,
    MAX_NAME,
    MAX_USER_ID,
    MAX_VIDEO_ID,
    MAX_VIDEOS,
    STAT_FIELDS,
    PayloadRejected,
    validate_payload,
)

from ..factories import make_payload, video

# Modest example counts: the whole file runs in well under 20 s on two cores.
QUICK = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SAMPLE = make_payload()
TOP_FIELDS = tuple(SAMPLE)
VIDEO_LISTS = ("liked_videos", "shared_videos")
VIDEO_REQUIRED = ("video_id", "likes", "comments", "shares")
VIDEO_OPTIONAL = ("categories", "hashtags", "caption", "posted_at")
VIDEO_FIELDS = VIDEO_REQUIRED + VIDEO_OPTIONAL

_TAXONOMY_DATA = json.loads(
    resources.files("webapp.services.ingestion")
    .joinpath("data", "taxonomy.json")
    .read_text("utf-8")
)
SYNONYMS = tuple(sorted(_TAXONOMY_DATA["synonyms"]))

XSS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "{{ 7*7 }}",
)
SQLISH = (
    "'; DROP TABLE profiles; --",
    "' OR '1'='1",
    "1; SELECT * FROM users",
    "Robert'); DROP TABLE Students;--",
)
UNICODE = ("café", "音楽", "ÉTÉ", "🎵🎶", "İstanbul", "straße", "\u200b", "مرحبا", "e\u0301")
NASTY_STRINGS = XSS + SQLISH + UNICODE + ("", " ", "\x00", "\n\t", "null", "NaN", "1e400")

HUGE_INTS = (MAX_COUNT + 1, 2**63, 2**64, -(2**63) - 1, 10**30, 10**300, -(10**300))


class BigInt:
    """Stands for an integer past Python's 4300-digit limit for str(int); see materialise().

    Hypothesis prints strategies and drawn values with repr(), which such an integer breaks, so
    the test draws this placeholder and swaps the real integer in just before the call.
    """

    def __init__(self, sign: int):
        self.sign = sign

    def __repr__(self) -> str:
        return "-10**4301" if self.sign < 0 else "10**4301"


def materialise(value):
    """The value with every BigInt placeholder replaced by the integer it stands for."""
    if isinstance(value, BigInt):
        return value.sign * 10**4301
    if isinstance(value, list):
        return [materialise(item) for item in value]
    if isinstance(value, dict):
        return {key: materialise(item) for key, item in value.items()}
    return value


def has_big_int(value) -> bool:
    if isinstance(value, BigInt):
        return True
    if isinstance(value, list):
        return any(has_big_int(item) for item in value)
    if isinstance(value, dict):
        return any(has_big_int(item) for item in value.values())
    return False


ALL_FIELD_NAMES = TOP_FIELDS + VIDEO_FIELDS


def _under(loc: str, path: str) -> bool:
    """Whether a problem's location is the path itself or something inside it."""
    return loc == path or loc.startswith(path + ".") or loc.startswith(path + "[")


def _path_text(path: tuple) -> str:
    """('liked_videos', 1, 'likes') -> 'liked_videos[1].likes', the form problems use."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _located_at(loc: str, fields) -> bool:
    """Whether `loc` is one of these top-level fields or a place inside one (a field's own
    name may hold '.' or '[')."""
    return any(loc == field or loc.startswith((f"{field}.", f"{field}[")) for field in fields)


# --- 1. any JSON-like value -------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HUGE_INTS),
    st.sampled_from([BigInt(1), BigInt(-1)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(NASTY_STRINGS),
)
keys = st.one_of(st.sampled_from(ALL_FIELD_NAMES), st.text(max_size=10))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)
    ),
    max_leaves=25,
)


@st.composite
def payload_shaped(draw):
    """The seed sample with each field, and each video field, kept, dropped or made junk."""
    raw = make_payload()
    kept = set()
    for name in TOP_FIELDS:
        choice = draw(st.sampled_from(("keep", "keep", "drop", "junk")))
        if choice == "drop":
            del raw[name]
        elif choice == "junk":
            raw[name] = draw(json_values)
        else:
            kept.add(name)
    for name in kept.intersection(VIDEO_LISTS):
        for item in raw[name]:
            for field in VIDEO_FIELDS:
                choice = draw(st.sampled_from(("keep", "keep", "keep", "drop", "junk")))
                if choice == "drop":
                    item.pop(field, None)
                elif choice == "junk":
                    item[field] = draw(json_values)
    return raw


@QUICK
@given(raw=st.one_of(json_values, payload_shaped()))
@example(raw=BigInt(1))
@example(raw=make_payload(followers_count=BigInt(1)))
# Unknown keys that read like a path, or hold a NUL character, are located by the whole key.
@example(raw=make_payload(**{"a.b": "x\x00", "c[": "\x00"}))
@example(raw=make_payload(**{"a\x00": 1}))
def test_any_json_value_is_accepted_or_rejected_with_located_problems(raw):
    """validate_payload never raises anything but PayloadRejected, and every problem is located.

    Breaks if validation raises KeyError/TypeError/ValueError/RecursionError on some input, or
    reports a problem with no location (other than the whole payload) or no message.
    """
    raw = materialise(raw)
    try:
        validate_payload(raw, 100)
    except PayloadRejected as rejected:
        problems = rejected.problems
        assert problems, "a rejection must list at least one problem"
        for problem in problems:
            assert isinstance(problem.msg, str) and problem.msg.strip(), problem
            assert isinstance(problem.loc, str), problem
        if not isinstance(raw, dict):
            # Not an object at all: one problem, located at the root (the empty path).
            assert [p.loc for p in problems] == [""]
        else:
            # A field the payload does not define is located too when it cannot be kept (a NUL
            # character, which the stored raw payload could not hold).
            given = {str(key) for key in raw}
            # A NUL character in a key is shown escaped in its location.
            fields = {*TOP_FIELDS, *given, *(key.replace("\x00", "\\u0000") for key in given)}
            for problem in problems:
                assert problem.loc, problem
                assert _located_at(problem.loc, fields), problem
        assert rejected.reason
    else:
        assert isinstance(raw, dict)


# --- 2. mutations of a valid payload ----------------------------------------------------------

COUNT_PATHS = [(name,) for name in STAT_FIELDS] + [
    (kind, i, field)
    for kind in VIDEO_LISTS
    for i in range(len(SAMPLE[kind]))
    for field in ("likes", "comments", "shares")
]
VIDEO_ID_PATHS = [(kind, i, "video_id") for kind in VIDEO_LISTS for i in range(len(SAMPLE[kind]))]
ANY_VIDEO_FIELD_PATHS = [
    (kind, i, field)
    for kind in VIDEO_LISTS
    for i in range(len(SAMPLE[kind]))
    for field in VIDEO_FIELDS
]
EXISTING_PATHS = [(name,) for name in TOP_FIELDS] + [
    (kind, i, field)
    for kind in VIDEO_LISTS
    for i, item in enumerate(SAMPLE[kind])
    for field in item
]
STRING_LIMITS = {"user_id": MAX_USER_ID, "username": MAX_NAME, "user_pseudo": MAX_NAME}

junk_dicts = st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
junk_lists = st.lists(st.integers(), max_size=3)


def _kind_of(path: tuple) -> str:
    """What a field holds, as DESIGN.md's payload describes it."""
    name = path[-1]
    if name in STAT_FIELDS or name in ("likes", "comments", "shares"):
        return "count"
    if name in ("user_id", "username", "user_pseudo", "caption"):
        return "text"
    return {
        "verified": "bool",
        "liked_videos": "videos",
        "shared_videos": "videos",
        "video_id": "video_id",
        "categories": "str_list",
        "hashtags": "str_list",
        "posted_at": "timestamp",
    }[name]


# Values certainly of the wrong type for each kind of field (None only where it is required).
WRONG_TYPE = {
    "count": st.one_of(st.text(max_size=5), st.booleans(), st.none(), junk_lists, junk_dicts),
    "text": st.one_of(st.integers(), st.booleans(), junk_lists, junk_dicts),
    "bool": st.one_of(st.integers(), st.sampled_from(["true", "false", "yes"]), st.none()),
    "videos": st.one_of(
        st.none(),
        st.text(max_size=5),
        st.integers(),
        junk_dicts,
        st.lists(st.integers(), min_size=1),
    ),
    "video_id": st.one_of(st.booleans(), st.none(), junk_lists, junk_dicts),
    "str_list": st.one_of(
        st.text(max_size=5),
        st.integers(),
        st.booleans(),
        junk_dicts,
        st.lists(st.one_of(st.integers(), st.booleans(), st.none()), min_size=1, max_size=3),
    ),
    "timestamp": st.one_of(
        st.integers(), st.booleans(), junk_lists, st.sampled_from(["not a date", "2025-13-01"])
    ),
}


def _valid_video(i: int) -> dict:
    return video(f"v{i}", categories=["Music"], likes=1, comments=0, shares=0)


@st.composite
def mutations(draw):
    """A valid payload with one field changed, where it is, and whether it must be rejected."""
    raw = make_payload()
    kind = draw(
        st.sampled_from(
            (
                "drop",
                "junk",
                "wrong_type",
                "negative",
                "huge",
                "empty",
                "too_long",
                "oversize_list",
                "duplicate_id",
            )
        )
    )
    must_reject = True
    if kind == "drop":
        path = draw(st.sampled_from(EXISTING_PATHS))
        must_reject = path[-1] not in VIDEO_OPTIONAL
        value = None
    elif kind == "junk":
        path = draw(st.sampled_from([(name,) for name in TOP_FIELDS] + ANY_VIDEO_FIELD_PATHS))
        value = draw(json_values.filter(lambda v: not has_big_int(v)))
        must_reject = False
    elif kind == "wrong_type":
        path = draw(st.sampled_from([(name,) for name in TOP_FIELDS] + ANY_VIDEO_FIELD_PATHS))
        value = draw(WRONG_TYPE[_kind_of(path)])
        if path[-1] == "user_pseudo" and value is None:
            value = 0
    elif kind == "negative":
        path = draw(st.sampled_from(COUNT_PATHS + VIDEO_ID_PATHS))
        value = draw(st.integers(max_value=-1) | st.sampled_from([-1, -(2**63), -(2**64)]))
    elif kind == "huge":
        path = draw(st.sampled_from(COUNT_PATHS))
        value = draw(
            st.one_of(
                st.integers(min_value=MAX_COUNT + 1, max_value=2**200),
                st.sampled_from([2**63, 2**64, math.inf, -math.inf, math.nan, 1e300]),
            )
        )
    elif kind == "empty":
        path = draw(
            st.sampled_from([("user_id",), ("username",), ("user_pseudo",)] + VIDEO_ID_PATHS)
        )
        value = draw(st.sampled_from(["", " ", "\t\n", "\u3000"]))
        must_reject = path[-1] != "user_pseudo"
    elif kind == "too_long":
        path = draw(
            st.sampled_from(
                [(name,) for name in STRING_LIMITS]
                + VIDEO_ID_PATHS
                + [(k, i, "caption") for k in VIDEO_LISTS for i in range(len(SAMPLE[k]))]
            )
        )
        limit = {"video_id": MAX_VIDEO_ID, "caption": MAX_CAPTION}.get(path[-1]) or STRING_LIMITS[
            path[-1]
        ]
        value = "x" * (limit + draw(st.integers(1, 50)))
    elif kind == "oversize_list":
        path = draw(
            st.sampled_from(
                [(name,) for name in VIDEO_LISTS]
                + [
                    (k, i, f)
                    for k in VIDEO_LISTS
                    for i in range(len(SAMPLE[k]))
                    for f in ("categories", "hashtags")
                ]
            )
        )
        if path[-1] in VIDEO_LISTS:
            value = [_valid_video(i) for i in range(MAX_VIDEOS + 1)]
        else:
            limit = MAX_CATEGORIES if path[-1] == "categories" else MAX_HASHTAGS
            value = [f"#t{i}" for i in range(limit + draw(st.integers(1, 10)))]
    else:  # duplicate_id: a later video repeats an earlier id (as text, padded, or a number)
        list_name = draw(st.sampled_from(VIDEO_LISTS))
        path = (list_name, 1, "video_id")
        first = raw[list_name][0]["video_id"]
        value = draw(st.sampled_from([first, f"  {first} ", int(first)]))
    target = raw
    for step in path[:-1]:
        target = target[step]
    if kind == "drop":
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw, _path_text(path), must_reject, kind


@QUICK
@given(mutation=mutations())
def test_a_mutated_payload_is_rejected_at_the_mutated_field(mutation):
    """One change to a valid payload is accepted or rejected only where the change was made.

    Breaks if a dropped key raises KeyError, a wrong type raises TypeError, a problem is located
    somewhere else (wrong path, index or list), or a mutation DESIGN.md forbids (missing field,
    negative or out-of-bounds number, blank id, oversize string or list, repeated video id) is
    accepted.
    """
    raw, path, must_reject, kind = mutation
    try:
        validate_payload(raw, 100)
    except PayloadRejected as rejected:
        assert rejected.problems
        for problem in rejected.problems:
            assert problem.msg.strip(), problem
            assert _under(problem.loc, path), (kind, path, rejected.errors)
    else:
        assert not must_reject, f"{kind} at {path} was accepted"


# --- 3. accepted payloads: the interest vector ------------------------------------------------

known_categories = st.sampled_from(CATEGORIES).flatmap(
    lambda name: st.sampled_from([name, name.lower(), name.upper(), f"  {name} "])
)
# Text a database can store: a NUL character is rejected
# (tests/attacks/test_hostile.py checks where).
STORABLE = st.characters(codec="utf-8", exclude_characters="\x00")


def storable_text(**kwargs):
    return st.text(alphabet=STORABLE, **kwargs)


junk_categories = storable_text(max_size=20).map(lambda s: "qqxj " + s)
any_category = st.one_of(
    known_categories,
    st.sampled_from(SYNONYMS),
    junk_categories,
    storable_text(max_size=64),
    st.sampled_from([text for text in NASTY_STRINGS if "\x00" not in text]),
)
junk_hashtags = storable_text(max_size=60).map(lambda s: "#qqxj" + s)
any_hashtag = st.one_of(
    st.sampled_from(sorted(HASHTAG_LEXICON)),
    st.sampled_from(CATEGORIES).map(lambda name: "#" + name),
    st.sampled_from(UNICODE).map(lambda s: "#" + s),
    junk_hashtags,
    storable_text(max_size=100),
)
counts = st.integers(min_value=0, max_value=MAX_COUNT)


def non_blank(max_size: int):
    return storable_text(min_size=1, max_size=max_size).filter(lambda s: s.strip())


video_ids = st.one_of(st.integers(min_value=0, max_value=10**18), non_blank(MAX_VIDEO_ID))


def videos_of(categories, hashtags):
    item = st.fixed_dictionaries(
        {"video_id": video_ids, "likes": counts, "comments": counts, "shares": counts},
        optional={
            "categories": st.lists(categories, max_size=6),
            "hashtags": st.lists(hashtags, max_size=6),
            "caption": st.one_of(st.none(), storable_text(max_size=80), st.sampled_from(XSS)),
            "posted_at": st.one_of(
                st.none(),
                st.datetimes(timezones=st.sampled_from([None, UTC])).map(lambda d: d.isoformat()),
            ),
        },
    )
    return st.lists(item, max_size=10, unique_by=lambda v: str(v["video_id"]).strip())


@st.composite
def valid_payloads(draw, videos=None):
    """A payload DESIGN.md says is valid, with the likes minimum it is valid under."""
    if videos is None:
        videos = videos_of(any_category, any_hashtag)
    minimum = draw(st.integers(min_value=0, max_value=10**6))
    raw = {
        "user_id": draw(non_blank(MAX_USER_ID)),
        "username": draw(non_blank(MAX_NAME)),
        "user_pseudo": draw(storable_text(max_size=MAX_NAME)),
        "verified": draw(st.booleans()),
    }
    for name in STAT_FIELDS:
        raw[name] = draw(counts)
    raw["number_of_likes"] = draw(st.integers(min_value=minimum, max_value=MAX_COUNT))
    raw["liked_videos"] = draw(videos)
    raw["shared_videos"] = draw(videos)
    return raw, minimum


def expected_categories(item: dict) -> set[str]:
    """cats(v) per DESIGN.md: explicit categories if any survive cleaning, else hashtags' ones."""
    explicit = {normalise_category(name) for name in item.get("categories") or []} - {None}
    if explicit:
        return explicit
    tags = {normalise_hashtag(tag) for tag in item.get("hashtags") or []} - {None}
    return {name for tag in tags for name in hashtag_categories(tag)}


def expected_vector(raw: dict) -> tuple[list[float], int]:
    """DESIGN.md's formula, computed independently: the vector and the unclassified count."""
    totals = dict.fromkeys(CATEGORIES, 0.0)
    unclassified = 0
    for list_name, weight in (("liked_videos", 1.0), ("shared_videos", 2.0)):
        for item in raw[list_name]:
            cats = expected_categories(item)
            if not cats:
                unclassified += 1
                continue
            for name in cats:
                totals[name] += weight / len(cats)
    whole = sum(totals.values())
    if whole == 0:
        return [0.0] * len(CATEGORIES), unclassified
    return [totals[name] / whole for name in CATEGORIES], unclassified


def assert_vector_shape(interest: list[float], classified: bool) -> None:
    assert len(interest) == len(CATEGORIES)
    for weight in interest:
        assert math.isfinite(weight) and 0.0 <= weight <= 1.0, interest
    if classified:
        assert abs(sum(interest) - 1.0) <= 1e-9, sum(interest)
    else:
        assert all(weight == 0.0 for weight in interest), interest


@QUICK
@given(case=valid_payloads(), platform=st.sampled_from(PLATFORMS))
def test_accepted_payloads_give_a_normalised_vector_by_the_design_formula(case, platform):
    """For any valid payload, prepare() succeeds and the vector follows DESIGN.md's formula.

    Breaks if processing raises on odd categories or hashtags (unicode, blanks, junk), if the
    vector's length differs from the taxonomy, a weight is NaN/negative/above 1, the weights do
    not sum to 1 (or are not all zero when nothing was classified), shared videos stop weighing
    twice liked ones, or the unclassified count disagrees with the design.
    """
    raw, minimum = case
    before = copy.deepcopy(raw)
    record = prepare(platform, raw, minimum)
    assert raw == before, "validation or cleaning changed the raw payload"
    assert record.platform == platform
    assert record.raw_payload is raw

    expected, unclassified = expected_vector(raw)
    assert_vector_shape(record.interest, classified=unclassified < len(record.videos))
    for got, want in zip(record.interest, expected, strict=True):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (record.interest, expected)
    assert record.unclassified_count == unclassified
    assert len(record.videos) == len(raw["liked_videos"]) + len(raw["shared_videos"])
    for clean, item in zip(record.videos, raw["liked_videos"] + raw["shared_videos"], strict=True):
        assert set(clean.categories) == expected_categories(item)
        assert set(clean.categories) <= set(CATEGORIES)


only_junk_videos = st.lists(
    st.fixed_dictionaries(
        {"video_id": video_ids, "likes": counts, "comments": counts, "shares": counts},
        optional={
            "categories": st.lists(junk_categories, max_size=4),
            "hashtags": st.lists(st.one_of(junk_hashtags, st.sampled_from(["", " ", "#", "##"]))),
        },
    ),
    max_size=8,
    unique_by=lambda v: str(v["video_id"]).strip(),
)


@QUICK
@given(case=valid_payloads(videos=only_junk_videos))
def test_unknown_categories_count_as_other_and_unmapped_hashtags_as_unclassified(case):
    """Unknown category names go to Other; a video with only unmapped hashtags is unclassified.

    Breaks if an unknown category is dropped, crashes or lands elsewhere than Other, or if an
    unmapped hashtag is given a category instead of leaving its video unclassified.
    """
    raw, minimum = case
    record = prepare("tiktok", raw, minimum)
    items = raw["liked_videos"] + raw["shared_videos"]
    for clean, item in zip(record.videos, items, strict=True):
        if item.get("categories"):
            assert clean.categories == [OTHER]
        else:
            assert clean.categories == []
    classified = [item for item in items if item.get("categories")]
    assert record.unclassified_count == len(items) - len(classified)
    assert_vector_shape(record.interest, classified=bool(classified))
    if classified:
        assert record.interest[CATEGORIES.index(OTHER)] == 1.0


# --- 4. order independence and idempotent cleaning --------------------------------------------


@QUICK
@given(case=valid_payloads(), seed=st.integers(0, 2**32 - 1))
def test_video_order_and_repeated_categories_do_not_change_the_vector(case, seed):
    """The vector is a sum over videos and cats(v) is a set: order and repeats cannot matter.

    Breaks if shuffling the liked or shared videos, or shuffling and repeating the categories
    inside a video, changes the vector (beyond float rounding), the unclassified count or the
    top hashtags.
    """
    raw, minimum = case
    baseline = process_payload("x", validate_payload(raw, minimum), raw)

    rng = random.Random(seed)
    shuffled = copy.deepcopy(raw)
    for name in VIDEO_LISTS:
        rng.shuffle(shuffled[name])
        for item in shuffled[name]:
            if item.get("categories"):
                cats = item["categories"] * 2
                rng.shuffle(cats)
                item["categories"] = cats[:MAX_CATEGORIES]
    other = process_payload("x", validate_payload(shuffled, minimum), shuffled)

    for a, b in zip(baseline.interest, other.interest, strict=True):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (baseline.interest, other.interest)
    assert other.unclassified_count == baseline.unclassified_count
    assert other.top_hashtags == baseline.top_hashtags


# Runs of '#' and blanks before a body, so that mixes like "# #x" come up often.
hash_or_blank = st.sampled_from(["#", "##", " ", "\t", "\u3000"])
hashtag_text = st.one_of(
    st.builds(
        lambda lead, body: "".join(lead) + body,
        st.lists(hash_or_blank, max_size=4),
        st.text(alphabet="xAİß# ", max_size=4),
    ),
    storable_text(max_size=12),
)


@QUICK
@given(tags=st.lists(hashtag_text, max_size=8))
@example(tags=["# #x"])
def test_hashtag_cleaning_is_idempotent_with_one_leading_hash(tags):
    """Cleaned hashtags are trimmed, lower-case, start with exactly one '#', and stay as they are.

    Breaks if cleaning a cleaned list changes it again, or leaves a tag with '##', surrounding
    whitespace, upper case or duplicates (DESIGN.md: trimmed, lower-cased, one leading '#',
    de-duplicated).
    """
    cleaned = clean_hashtags(tags)
    assert clean_hashtags(cleaned) == cleaned
    assert len(set(cleaned)) == len(cleaned)
    for tag in cleaned:
        assert tag.startswith("#") and not tag.startswith("##"), tag
        assert tag == tag.strip() and len(tag) > 1, tag
        assert tag == tag.lower(), tag


@QUICK
@given(categories=st.lists(any_category, max_size=6), tags=st.lists(any_hashtag, max_size=6))
def test_category_cleaning_is_idempotent(categories, tags):
    """A video's cleaned categories are taxonomy names that clean to themselves.

    Breaks if a taxonomy name (or a synonym's target) maps to a different category when cleaned
    again, e.g. a synonym that shadows a category's own name.
    """
    once = video_categories(categories, clean_hashtags(tags))
    assert set(once) <= set(CATEGORIES)
    assert video_categories(once, []) == once


# --- 5. markup and SQL-like text is data ------------------------------------------------------

# No control characters around the markup: pydantic and str.strip() disagree on \x1c-\x1f.
edges = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=8)
wrapped = st.builds(
    lambda before, core, after: before + core + after, edges, st.sampled_from(XSS + SQLISH), edges
)


@QUICK
@given(
    user_id=wrapped,
    username=wrapped,
    user_pseudo=wrapped,
    caption=wrapped,
    category=wrapped,
    hashtag=wrapped,
)
def test_markup_in_text_fields_is_kept_unchanged(
    user_id, username, user_pseudo, caption, category, hashtag
):
    """Validation does not forbid or alter markup: text is data, escaped only when rendered.

    Breaks if validation rejects '<script>' or quotes in names, captions, categories or
    hashtags, or changes them other than the trimming DESIGN.md's names get (e.g. by stripping
    tags or HTML-escaping at validation, which would double-escape on the pages).
    """
    raw = make_payload(
        user_id=user_id,
        username=username,
        user_pseudo=user_pseudo,
        liked_videos=[
            {**video("1", categories=[category], hashtags=[hashtag]), "caption": caption}
        ],
        shared_videos=[],
    )
    before = copy.deepcopy(raw)
    record = prepare("instagram", raw, 100)
    assert raw == before
    assert record.user_id == user_id.strip()
    assert record.username == username.strip()
    assert record.user_pseudo == user_pseudo.strip()
    (clean,) = record.videos
    assert clean.caption == caption
    assert clean.raw_categories == [category]
    assert clean.hashtags == [normalise_hashtag(hashtag)]
    assert record.raw_payload["liked_videos"][0]["hashtags"] == [hashtag]
