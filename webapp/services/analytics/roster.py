"""Roster builder: N profiles that together cover a target interest mix without duplicating
each other, shown beside the plain N nearest to the mix.

Greedy over a candidate pool read from the live matrix (similarity.py): each pick maximises
the cosine of the roster's mean unit vector (the candidate included) to the target, minus
PENALTY times the candidate's largest cosine to the picks so far. The pool is the POOL_NEAREST
profiles nearest the target and the POOL_PER_CATEGORY nearest each of the target's categories:
the greedy never looks at the rest (about 10-20 ms a roster at 93,000 profiles). Every step
is NumPy over the matrix's arrays; the matrix holds no followers, so a follower range is checked
in SQL on the pool (one query), or over the whole range when the pool was too narrow (a second
one, about 40 ms more), each without holding the matrix's lock.
Scores are rounded as the look-alikes' are, and ties go to the lowest id.
"""

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from ...extensions import db
from ...models import Profile
from ..ingestion.platforms import PLATFORMS
from ..ingestion.taxonomy import CATEGORIES
from .similarity import SCORE_DECIMALS, Matrix, current_matrix

MIN_SIZE, MAX_SIZE = 2, 50
# How much a candidate's largest cosine to the picks so far costs it (0: pure coverage). A
# pick's gain in coverage shrinks as the roster grows (about 1/N) while the cosine does not, so
# the penalty must stay small: on 400 demo profiles 0.5 let coverage fall to 0.22-0.63 where
# the N nearest reach 0.89-0.98; 0.02 costs at most 0.04 of coverage against pure coverage
# (0) and about halves the redundancy of rosters of 10 and 20.
PENALTY = 0.02
# The candidate pool: the nearest to the target, and the nearest to each target category.
POOL_NEAREST = 300
POOL_PER_CATEGORY = 50
assert POOL_NEAREST // 2 >= MAX_SIZE, "the N nearest in a follower range are in the pool"


class BadRoster(ValueError):
    """A roster request that cannot be answered: `loc` names the field, `msg` what is wrong."""

    def __init__(self, loc: str, msg: str):
        super().__init__(f"{loc} {msg}")
        self.loc = loc
        self.msg = msg


@dataclass(frozen=True)
class Constraints:
    """Who may be picked: one platform (None: any), a follower range (None: open)."""

    platform: str | None = None
    min_followers: int | None = None
    max_followers: int | None = None

    @property
    def followers_bounded(self) -> bool:
        return self.min_followers is not None or self.max_followers is not None

    def followers_match(self, followers: int) -> bool:
        """Whether a follower count lies in the range (both ends included)."""
        low, high = self.min_followers, self.max_followers
        return (low is None or followers >= low) and (high is None or followers <= high)


def target_vector(mix: dict[str, float]) -> np.ndarray:
    """The mix as a unit vector in taxonomy order; BadRoster naming what is wrong with it."""
    if not mix:
        raise BadRoster("mix", "must name at least one category with a weight above 0")
    query = np.zeros(len(CATEGORIES))
    for name, weight in mix.items():
        if name not in CATEGORIES:
            raise BadRoster(f"mix.{name}", "is not a category (see /api/v1/categories)")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise BadRoster(f"mix.{name}", "must be a number")
        if not 0 <= weight < float("inf"):  # NaN fails this too
            raise BadRoster(f"mix.{name}", "must be a number of 0 or more")
        query[CATEGORIES.index(name)] = weight
    largest = query.max()
    if largest == 0:
        raise BadRoster("mix", "must name at least one category with a weight above 0")
    query /= largest  # first, so that the norm of weights near the float maximum is finite
    return query / np.linalg.norm(query)


def check(size: int, constraints: Constraints) -> None:
    """BadRoster naming the first of size and constraints that is out of range."""
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise BadRoster("size", f"must be a whole number from {MIN_SIZE} to {MAX_SIZE}")
    if constraints.platform is not None and constraints.platform not in PLATFORMS:
        raise BadRoster("platform", f"must be one of {', '.join(PLATFORMS)}")
    for name in ("min_followers", "max_followers"):
        value = getattr(constraints, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadRoster(name, "must be a whole number")
        if value is not None and value < 0:
            raise BadRoster(name, "must be 0 or more")
    low, high = constraints.min_followers, constraints.max_followers
    if low is not None and high is not None and high < low:
        raise BadRoster("max_followers", "must not be below min_followers")


def _ranked(scores: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Row numbers of the k highest finite scores (rounded), ties by id, best first."""
    n = len(scores)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if n > k:
        # Keep everything tied with the k-th, so the id tie-break sees every tied row.
        kth = np.partition(scores, n - k)[n - k]
        rows = np.flatnonzero(scores >= kth - 1e-9)
    else:
        rows = np.arange(n)
    rows = rows[np.isfinite(scores[rows])]
    rounded = np.round(scores[rows], SCORE_DECIMALS)
    return rows[np.lexsort((ids[rows], -rounded))][:k]


def _pool(matrix: Matrix, target: np.ndarray, eligible: np.ndarray):
    """Row numbers, among the `eligible` ones (a mask over the rows), of the POOL_NEAREST
    nearest to the target, and of the pool: those and the POOL_PER_CATEGORY nearest each
    target category. Whole columns, never a copy of the eligible rows' weights."""
    ids, norms = matrix.ids, matrix.norms
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    scale[~eligible] = np.nan  # scores NaN, then -inf: never ranked
    scores = matrix.raw @ target
    scores *= scale
    scores[np.isnan(scores)] = -np.inf
    nearest = _ranked(scores, ids, POOL_NEAREST)
    chosen = [nearest]
    for c in np.flatnonzero(target):
        scores = matrix.raw[:, c] * scale
        scores[np.isnan(scores)] = -np.inf
        chosen.append(_ranked(scores, ids, POOL_PER_CATEGORY))
    return nearest, np.unique(np.concatenate(chosen))


def _followers_in_range(ids: np.ndarray, constraints: Constraints) -> np.ndarray:
    """Those of these profile ids whose followers lie in the range: one SQL query."""
    found = db.session.execute(
        select(Profile.id, Profile.followers_count).where(Profile.id.in_(ids.tolist()))
    ).all()
    keep = np.array([pk for pk, followers in found if constraints.followers_match(followers)])
    return ids[np.isin(ids, keep)]


def _all_in_range(constraints: Constraints) -> np.ndarray:
    """The ids of every profile in the follower range (and platform): one SQL query that the
    followers index answers."""
    statement = select(Profile.id)
    if constraints.platform is not None:
        statement = statement.where(Profile.platform == constraints.platform)
    if constraints.min_followers is not None:
        statement = statement.where(Profile.followers_count >= constraints.min_followers)
    if constraints.max_followers is not None:
        statement = statement.where(Profile.followers_count <= constraints.max_followers)
    return np.fromiter(db.session.scalars(statement), dtype=np.int64)


def _pool_ids(matrix: Matrix, target: np.ndarray, constraints: Constraints, within=None):
    """The ids of the POOL_NEAREST nearest and of the pool among the profiles the platform
    allows (and, given, whose ids are `within`), and whether the pool is every one of them."""
    with matrix.lock:
        eligible = matrix.norms > 0  # a profile with nothing classified covers nothing
        if constraints.platform is not None:
            eligible &= matrix.platforms == PLATFORMS.index(constraints.platform)
        if within is not None:
            eligible &= np.isin(matrix.ids, within)
        nearest, pool = _pool(matrix, target, eligible)
        return matrix.ids[nearest], matrix.ids[pool], len(pool) == eligible.sum()


def candidates(matrix: Matrix, target: np.ndarray, constraints: Constraints) -> np.ndarray:
    """The ids of the candidate pool under the constraints, in order. The SQL runs without
    the matrix's lock: a patch need not wait for it."""
    nearest, pool, everyone = _pool_ids(matrix, target, constraints)
    if not constraints.followers_bounded:
        return pool
    kept = _followers_in_range(pool, constraints)
    # Enough of the nearest are in range (more than MAX_SIZE, so the plain N nearest in range
    # are among them), or the pool was every eligible profile: the pool stands.
    if len(np.intersect1d(kept, nearest)) >= POOL_NEAREST // 2 or everyone:
        return kept
    # The range left the pool thin: read the whole range, then choose the pool within it.
    return _pool_ids(matrix, target, constraints, _all_in_range(constraints))[1]


def greedy(units: np.ndarray, target: np.ndarray, size: int) -> list[dict]:
    """Pick `size` rows of `units` (unit vectors, in id order) greedily: each maximises the
    cosine of the picks' mean to the target minus PENALTY x its largest cosine to the picks
    so far. Each pick: its index, gain in coverage, largest similarity and to which index."""
    count = len(units)
    to_target = units @ target
    total = np.zeros_like(target)  # the sum of the picks' unit vectors
    closest = np.zeros(count)  # each candidate's largest cosine to the picks so far
    closest_to = np.full(count, -1)
    taken = np.zeros(count, dtype=bool)
    coverage = 0.0
    picks = []
    for _ in range(min(size, count)):
        # |total + u|^2 = |total|^2 + 2 total.u + 1 for a unit u; the mean's scale cancels.
        length = np.sqrt(np.maximum(total @ total + 2 * (units @ total) + 1, 0))
        covered = (total @ target + to_target) / np.where(length > 0, length, 1)
        score = np.round(covered - PENALTY * closest, SCORE_DECIMALS)
        score[taken] = -np.inf
        best = int(np.argmax(score))  # the first of equal scores: the lowest id
        picks.append(
            {
                "index": best,
                "gain": float(covered[best] - coverage),
                "similarity": float(closest[best]) if picks else None,
                "similar_to": int(closest_to[best]) if picks else None,
                "coverage": float(covered[best]),
            }
        )
        coverage = float(covered[best])
        taken[best] = True
        total = total + units[best]
        similar = units @ units[best]
        closer = (similar > closest) | (closest_to < 0)  # ties: the earlier pick
        closest[closer] = similar[closer]
        closest_to[closer] = best
    return picks


def coverage_and_redundancy(units: np.ndarray, target: np.ndarray) -> tuple[float, float | None]:
    """The cosine of the mean of these unit vectors to the target, and their mean pairwise
    cosine (None for fewer than two)."""
    if len(units) == 0:
        return 0.0, None
    mean = units.mean(axis=0)
    norm = np.linalg.norm(mean)
    coverage = float(mean @ target / norm) if norm > 0 else 0.0
    if len(units) < 2:
        return coverage, None
    pairs = units @ units.T
    upper = pairs[np.triu_indices(len(units), k=1)]
    return coverage, float(upper.mean())


def build_roster(
    mix: dict[str, float], size: int, constraints: Constraints = Constraints()
) -> dict:
    """The roster for a mix and the plain N nearest, under the same constraints, each with its
    coverage and redundancy, and each roster pick with why it was chosen."""
    target = target_vector(mix)
    check(size, constraints)
    matrix = current_matrix()
    ids = np.unique(candidates(matrix, target, constraints))  # in id order
    with matrix.lock:
        # Rows move when profiles are deleted: found again by id, the deleted left out.
        rows = np.array([matrix.row_of.get(int(pk), -1) for pk in ids], dtype=np.int64)
        ids = ids[rows >= 0]
        pool = rows[rows >= 0]
        units = matrix.unit(pool)
    picks = greedy(units, target, size)
    to_target = units @ target
    nearest = np.lexsort((ids, -np.round(to_target, SCORE_DECIMALS)))[:size]
    chosen = [pick["index"] for pick in picks]
    details = _details(ids[np.union1d(chosen, nearest).astype(np.int64)].tolist())
    roster_cov, roster_red = coverage_and_redundancy(units[chosen], target)
    near_cov, near_red = coverage_and_redundancy(units[nearest], target)

    def profile(index: int) -> dict:
        pk = int(ids[index])
        username, platform, followers = details[pk]
        return {
            "id": pk,
            "username": username,
            "platform": platform,
            "followers_count": followers,
            "score": float(np.round(to_target[index], SCORE_DECIMALS)),
        }

    roster = []
    for pick in picks:
        if int(ids[pick["index"]]) not in details:
            continue  # deleted by another request since the matrix was read
        similar_to = pick["similar_to"]
        reason = {key: pick[key] for key in ("gain", "coverage", "similarity")}
        reason["similar_to"] = None if similar_to is None else int(ids[similar_to])
        roster.append({**profile(pick["index"]), "reason": reason})
    shares = target / target.sum()
    weights = {name: float(w) for name, w in zip(CATEGORIES, shares, strict=True) if w > 0}
    return {
        "mix": weights,
        "size": size,
        "penalty": PENALTY,
        "pool": len(pool),
        "roster": {"items": roster, "coverage": roster_cov, "redundancy": roster_red},
        "nearest": {
            "items": [profile(int(i)) for i in nearest if int(ids[i]) in details],
            "coverage": near_cov,
            "redundancy": near_red,
        },
    }


def _details(profile_ids: list[int]) -> dict[int, tuple[str, str, int]]:
    """Username, platform and followers of these profiles, in one query."""
    return {
        pk: (username, platform, followers)
        for pk, username, platform, followers in db.session.execute(
            select(Profile.id, Profile.username, Profile.platform, Profile.followers_count).where(
                Profile.id.in_(profile_ids)
            )
        )
    }
