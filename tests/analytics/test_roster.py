"""Roster builder: a roster that covers a mix without duplicates, beside the plain N nearest."""

import itertools
import math
import random

import pytest

from webapp.extensions import db
from webapp.models import Profile
from webapp.services.analytics import roster
from webapp.services.analytics.roster import BadRoster, Constraints, build_roster
from webapp.services.ingestion.taxonomy import CATEGORIES
from webapp.services.ingestion.vectors import unpack_vector

from ..helpers import store_mix

MIX = {"Music": 1, "Dance": 1, "Gaming": 1}


def _unit(values) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values] if norm else list(values)


def _dot(a, b) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _cosine(a, b) -> float:
    return _dot(_unit(a), _unit(b))


def _mean(vectors) -> list[float]:
    return [sum(column) / len(vectors) for column in zip(*vectors, strict=True)]


def _target(mix) -> list[float]:
    return _unit([float(mix.get(name, 0)) for name in CATEGORIES])


def _vectors(ids) -> dict[int, list[float]]:
    """Each profile's stored interest vector as a unit vector, read from the database."""
    return {pk: _unit(unpack_vector(db.session.get(Profile, pk).vector)) for pk in ids}


def _coverage(vectors, target) -> float:
    return _cosine(_mean(vectors), target) if vectors else 0.0


def _redundancy(vectors) -> float:
    pairs = list(itertools.combinations(vectors, 2))
    return sum(_dot(a, b) for a, b in pairs) / len(pairs)


@pytest.fixture
def planted(app):
    """Six near-copies of one Music-and-Dance mix (the nearest to MIX), and specialists in
    Music, Dance and Gaming, each less near on its own."""
    with app.app_context():
        clones = [
            store_mix(f"clone{i}", {"Music": 5 + i % 2, "Dance": 3 + i % 3 // 2}) for i in range(6)
        ]
        specialists = {
            name: store_mix(f"only-{name.lower()}", {name: 4})
            for name in ("Music", "Dance", "Gaming")
        }
        mixed = store_mix("gaming-dance", {"Gaming": 3, "Dance": 1})
        yield {"clones": clones, "specialists": specialists, "mixed": mixed}


def test_the_roster_beats_the_n_nearest_on_redundancy_at_equal_or_better_coverage(app, planted):
    with app.app_context():
        answer = build_roster(MIX, 4)
        everyone = _vectors(
            [*planted["clones"], *planted["specialists"].values(), planted["mixed"]]
        )
    target = _target(MIX)
    nearest = [item["id"] for item in answer["nearest"]["items"]]
    picked = [item["id"] for item in answer["roster"]["items"]]
    # The plant works: the 4 nearest are near-copies of one direction.
    assert set(nearest) <= set(planted["clones"])
    assert len(picked) == len(set(picked)) == 4
    assert answer["nearest"]["redundancy"] > 0.99
    # The roster reaches Gaming, which no clone has, and repeats itself far less.
    assert planted["specialists"]["Gaming"] in picked or planted["mixed"] in picked
    assert answer["roster"]["redundancy"] < answer["nearest"]["redundancy"] - 0.4
    assert answer["roster"]["coverage"] >= answer["nearest"]["coverage"]
    # Both rosters' figures, recomputed by hand from the stored vectors.
    for key, ids in (("roster", picked), ("nearest", nearest)):
        vectors = [everyone[pk] for pk in ids]
        assert answer[key]["coverage"] == pytest.approx(_coverage(vectors, target), abs=1e-9)
        assert answer[key]["redundancy"] == pytest.approx(_redundancy(vectors), abs=1e-9)
    # The nearest are the brute-force ranking, ties by id.
    ranked = sorted(everyone, key=lambda pk: (-round(_cosine(everyone[pk], target), 12), pk))
    assert nearest == ranked[:4]


def test_each_pick_is_the_greedy_choice_and_its_reason_is_recomputed_by_hand(app, planted):
    with app.app_context():
        answer = build_roster(MIX, 5)
        everyone = _vectors(
            [*planted["clones"], *planted["specialists"].values(), planted["mixed"]]
        )
    target = _target(MIX)
    chosen: list[int] = []
    for item in answer["roster"]["items"]:
        # The pick maximises coverage with it minus PENALTY x its largest cosine to the picks.
        def objective(pk):
            closest = max((_dot(everyone[pk], everyone[c]) for c in chosen), default=0.0)
            covered = _coverage([everyone[c] for c in [*chosen, pk]], target)
            return round(covered - roster.PENALTY * closest, 12)

        left = [pk for pk in sorted(everyone) if pk not in chosen]
        best = max(objective(pk) for pk in left)
        assert item["id"] == min(pk for pk in left if objective(pk) == best)
        before = _coverage([everyone[c] for c in chosen], target)
        after = _coverage([everyone[c] for c in [*chosen, item["id"]]], target)
        reason = item["reason"]
        assert reason["gain"] == pytest.approx(after - before, abs=1e-9)
        assert reason["coverage"] == pytest.approx(after, abs=1e-9)
        if chosen:
            similar = {c: _dot(everyone[item["id"]], everyone[c]) for c in chosen}
            assert reason["similarity"] == pytest.approx(max(similar.values()), abs=1e-9)
            assert reason["similar_to"] in chosen
            assert similar[reason["similar_to"]] == pytest.approx(max(similar.values()), abs=1e-9)
        else:
            assert reason["similarity"] is None and reason["similar_to"] is None
        chosen.append(item["id"])
    assert len(chosen) == 5


def test_each_item_names_the_profile_and_the_answer_the_normalised_mix(app, planted):
    with app.app_context():
        answer = build_roster({"Music": 2, "Gaming": 2, "Dance": 0}, 2)
    assert answer["mix"] == pytest.approx({"Music": 0.5, "Gaming": 0.5})
    assert answer["size"] == 2 and answer["penalty"] == roster.PENALTY
    first = answer["roster"]["items"][0]
    assert first["username"].startswith(("clone", "only-", "gaming-"))
    assert first["platform"] == "tiktok" and first["followers_count"] == 1500


def test_platform_and_follower_constraints_are_honoured(app):
    with app.app_context():
        small = [
            store_mix(f"small{i}", {"Music": 3, "Dance": i + 1}, followers=900) for i in range(3)
        ]
        big = [
            store_mix(f"big{i}", {"Music": 3, "Gaming": i + 1}, followers=50_000) for i in range(3)
        ]
        other = [
            store_mix(f"x{i}", {"Music": 2, "Dance": 2}, followers=2000 + i, platform="x")
            for i in range(3)
        ]
        on_x = build_roster(MIX, 3, Constraints(platform="x"))
        low = build_roster(MIX, 4, Constraints(max_followers=1000))
        high = build_roster(MIX, 3, Constraints(min_followers=10_000))
        middle = build_roster(MIX, 2, Constraints(min_followers=2001, max_followers=2002))
    for answer, allowed in (
        (on_x, other),
        (low, small),
        (high, big),
        (middle, other[1:]),
    ):
        for key in ("roster", "nearest"):
            got = [item["id"] for item in answer[key]["items"]]
            assert got and set(got) <= set(allowed), (key, got, allowed)
    # Fewer in range than asked for: all of them, no one else.
    assert sorted(item["id"] for item in low["roster"]["items"]) == sorted(small)
    assert {item["platform"] for item in on_x["roster"]["items"]} == {"x"}


def test_a_follower_range_past_the_pool_reads_the_whole_range(app, monkeypatch):
    monkeypatch.setattr(roster, "POOL_NEAREST", 4)
    monkeypatch.setattr(roster, "POOL_PER_CATEGORY", 1)
    with app.app_context():
        near = [store_mix(f"near{i}", {"Music": 1, "Dance": 1, "Gaming": 1}) for i in range(6)]
        far = [
            store_mix(f"far{i}", {"Music": 5, "Comedy": i + 1}, followers=70_000) for i in range(3)
        ]
        answer = build_roster(MIX, 2, Constraints(min_followers=60_000))
    assert near
    assert {item["id"] for item in answer["nearest"]["items"]} <= set(far)
    assert len(answer["roster"]["items"]) == 2


@pytest.mark.parametrize(
    ("mix", "size", "constraints", "loc"),
    [
        ({}, 5, Constraints(), "mix"),
        ({"Music": 0}, 5, Constraints(), "mix"),
        ({"Musik": 1}, 5, Constraints(), "mix.Musik"),
        ({"Music": -1}, 5, Constraints(), "mix.Music"),
        ({"Music": "a lot"}, 5, Constraints(), "mix.Music"),
        ({"Music": 1}, 1, Constraints(), "size"),
        ({"Music": 1}, 51, Constraints(), "size"),
        ({"Music": 1}, 2.5, Constraints(), "size"),
        ({"Music": 1}, 5, Constraints(platform="myspace"), "platform"),
        ({"Music": 1}, 5, Constraints(min_followers=-1), "min_followers"),
        ({"Music": 1}, 5, Constraints(min_followers=10, max_followers=9), "max_followers"),
    ],
)
def test_bad_requests_name_the_field(app, mix, size, constraints, loc):
    with app.app_context(), pytest.raises(BadRoster) as raised:
        build_roster(mix, size, constraints)
    assert raised.value.loc == loc


@pytest.mark.parametrize("size", [roster.MIN_SIZE, roster.MAX_SIZE])
def test_sizes_at_the_bounds_are_accepted(app, size):
    with app.app_context():
        ids = [store_mix(f"p{i}", {"Music": 1 + i % 4, "Dance": 1 + i % 3}) for i in range(3)]
        answer = build_roster({"Music": 1}, size)
    assert len(answer["roster"]["items"]) == min(size, len(ids))


def test_the_answer_is_the_same_every_time_and_ties_go_to_the_lowest_id(app):
    with app.app_context():
        twins = [store_mix(f"twin{i}", {"Music": 2}) for i in range(4)]
        first = build_roster({"Music": 1}, 2)
        again = build_roster({"Music": 1}, 2)
    assert first == again
    assert [item["id"] for item in first["nearest"]["items"]] == sorted(twins)[:2]
    assert [item["id"] for item in first["roster"]["items"]] == sorted(twins)[:2]


@pytest.mark.parametrize("penalty", [0.0, 0.5])
def test_a_penalty_passes_over_a_copy_of_a_pick_for_a_near_profile_that_differs(
    app, monkeypatch, penalty
):
    monkeypatch.setattr(roster, "PENALTY", penalty)
    with app.app_context():
        copies = [store_mix(f"copy{i}", {"Music": 3}) for i in range(3)]
        # cos to Music 0.89: sqrt((1 + 0.89) / 2) - 0.5 x 0.89 = 0.53 beats 1 - 0.5 x 1, and
        # loses to 1 - 0 x 1 without a penalty.
        other = store_mix("music-dance", {"Music": 4, "Dance": 2})
        answer = build_roster({"Music": 1}, 2)
    assert [item["id"] for item in answer["nearest"]["items"]] == copies[:2]
    second = answer["roster"]["items"][1]
    assert second["reason"]["similar_to"] == copies[0]
    if penalty:
        assert second["id"] == other
        assert second["reason"]["similarity"] == pytest.approx(2 / math.sqrt(5))
        assert answer["roster"]["redundancy"] < answer["nearest"]["redundancy"]
    else:
        assert second["id"] == copies[1]
        assert answer["roster"]["redundancy"] == answer["nearest"]["redundancy"]


@pytest.mark.parametrize("pool", [(4, 1), (300, 50)], ids=["narrow-pool", "default-pool"])
def test_the_nearest_under_constraints_are_the_brute_force_ranking(app, monkeypatch, pool):
    monkeypatch.setattr(roster, "POOL_NEAREST", pool[0])
    monkeypatch.setattr(roster, "POOL_PER_CATEGORY", pool[1])
    rng = random.Random(7)
    names = ["Music", "Dance", "Gaming", "Food", "Travel"]
    made = {}
    with app.app_context():
        for i in range(40):
            counts = {name: rng.randint(0, 3) for name in rng.sample(names, 3)}
            counts[rng.choice(names)] = 1 + rng.randint(0, 2)
            followers = rng.choice([300, 5_000, 40_000, 700_000])
            platform = rng.choice(["tiktok", "x"])
            pk = store_mix(f"p{i}", counts, followers=followers, platform=platform)
            made[pk] = (followers, platform)
        vectors = _vectors(made)
        mix = {"Music": 2, "Gaming": 1, "Travel": 1}
        target = _target(mix)
        for constraints in (
            Constraints(),
            Constraints(platform="x"),
            Constraints(min_followers=40_000),
            Constraints(max_followers=300),
            Constraints(platform="tiktok", min_followers=1_000, max_followers=50_000),
        ):
            size = 2
            answer = build_roster(mix, size, constraints)
            allowed = [
                pk
                for pk, (followers, platform) in made.items()
                if constraints.platform in (None, platform)
                and constraints.followers_match(followers)
            ]
            ranked = sorted(allowed, key=lambda pk: (-round(_cosine(vectors[pk], target), 12), pk))
            assert [item["id"] for item in answer["nearest"]["items"]] == ranked[:size]
            assert {item["id"] for item in answer["roster"]["items"]} <= set(allowed)
            assert len(answer["roster"]["items"]) == min(size, len(allowed))
