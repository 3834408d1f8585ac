"""Look-alike profiles: exact top-k by cosine of interest vectors over an in-memory matrix.

The matrix is built once per process from every stored vector and rebuilt when the profiles
version stamp moved, so every answer reflects every committed write, including those of other
worker processes and of the CLI.
"""

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from ..extensions import db
from ..models import Profile
from . import versions
from .taxonomy import CATEGORIES
from .validation import PLATFORMS

# Scores are rounded before ranking so that ties (identical interest mixes) are ties on every
# machine, and broken by id.
SCORE_DECIMALS = 12
MAX_K = 100
CANDIDATE_MARGIN = 1e-4


class NotFound(LookupError):
    """No profile has that id."""


@dataclass
class Matrix:
    """Unit interest vectors of all profiles, with their ids and platforms."""

    ids: np.ndarray  # int64, ascending
    platforms: np.ndarray  # int8 index into PLATFORMS
    vectors: np.ndarray  # float64, one unit row per profile (zero rows stay zero)
    row_of: dict[int, int]
    # The same rows in float32: half the memory to stream through for the first pass.
    vectors32: np.ndarray | None = None
    # Each row's length before it was made a unit vector (the raw weights sum to 1).
    norms: np.ndarray | None = None
    # Read in the same scan, for the population map's hover labels.
    usernames: list[str] | None = None
    dominant: list[str | None] | None = None

    def __post_init__(self):
        if self.vectors32 is None:
            self.vectors32 = self.vectors.astype(np.float32)
        if self.norms is None:
            self.norms = np.ones(len(self.ids))

    def mean_interest_by_platform(self) -> dict[str, np.ndarray]:
        """Each platform's mean raw interest vector."""
        raw = self.vectors * self.norms[:, None]
        means = {}
        for code, platform in enumerate(PLATFORMS):
            rows = self.platforms == code
            if rows.any():
                means[platform] = raw[rows].mean(axis=0)
        return means


def _load() -> Matrix:
    rows = db.session.execute(
        select(
            Profile.id,
            Profile.platform,
            Profile.vector,
            Profile.username,
            Profile.dominant_interest,
        ).order_by(Profile.id)
    ).all()
    width = len(CATEGORIES)
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    platform_code = {name: code for code, name in enumerate(PLATFORMS)}
    platforms = np.fromiter(
        (platform_code.get(row[1], -1) for row in rows), dtype=np.int8, count=len(rows)
    )
    blobs = [row[2] for row in rows]
    if all(len(blob) == width * 8 for blob in blobs):
        # Every vector has the current taxonomy's width: one buffer, one reshape.
        vectors = np.frombuffer(b"".join(blobs), dtype="<f8").reshape(len(rows), width).copy()
    else:  # vectors stored under an older, smaller taxonomy are padded with zeros
        vectors = np.zeros((len(rows), width), dtype=np.float64)
        for index, blob in enumerate(blobs):
            values = np.frombuffer(blob, dtype="<f8")[:width]
            vectors[index, : len(values)] = values
    norms = np.linalg.norm(vectors, axis=1)
    nonzero = norms > 0
    vectors[nonzero] /= norms[nonzero, None]
    return Matrix(
        ids,
        platforms,
        vectors,
        {int(pk): i for i, pk in enumerate(ids)},
        norms=norms,
        usernames=[row[3] for row in rows],
        dominant=[row[4] for row in rows],
    )


_matrices = versions.VersionedCache()


def current_matrix() -> Matrix:
    """The matrix for the current data version, rebuilt only when the version moved."""
    return _matrices.get_or_compute(db.session, ("matrix",), _load)


def top_k(
    matrix: Matrix,
    query: np.ndarray,
    k: int,
    exclude_row: int | None = None,
    platform: str | None = None,
) -> list[tuple[int, float]]:
    """The k rows most similar to a unit query vector: [(profile id, cosine)], ties by id."""
    if len(matrix.ids) == 0 or k <= 0:
        return []
    # First pass in float32 to find the candidates, with a margin far wider than float32's
    # error on unit vectors; then the candidates are scored exactly in float64.
    scores = matrix.vectors32 @ query.astype(np.float32)  # fresh: safe to mask in place
    if exclude_row is not None:
        scores[exclude_row] = -np.inf
    if platform is not None:
        scores[matrix.platforms != PLATFORMS.index(platform)] = -np.inf
    k = min(k, len(scores))
    threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
    rows = np.flatnonzero(scores >= threshold - CANDIDATE_MARGIN)
    rows = rows[np.isfinite(scores[rows])]
    if len(rows) == 0:
        return []
    picked = matrix.vectors[rows] @ query
    picked = np.round(picked, SCORE_DECIMALS)
    order = np.lexsort((matrix.ids[rows], -picked))[:k]
    return [(int(matrix.ids[rows[i]]), float(picked[i])) for i in order]


def _jaccard(a: set, b: set) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def similar_profiles(profile_id: int, k: int = 10, platform: str | None = None) -> list[dict]:
    """The k profiles most like this one, with the cosine and a breakdown of why."""
    matrix = current_matrix()
    row = matrix.row_of.get(profile_id)
    if row is None:
        raise NotFound(profile_id)
    k = max(1, min(int(k), MAX_K))
    found = top_k(matrix, matrix.vectors[row], k, exclude_row=row, platform=platform)
    if not found:
        return []
    wanted = [profile_id] + [pk for pk, _ in found]
    details = {
        pk: (username, plat, tops)
        for pk, username, plat, tops in db.session.execute(
            select(Profile.id, Profile.username, Profile.platform, Profile.top_hashtags).where(
                Profile.id.in_(wanted)
            )
        )
    }
    if profile_id not in details:
        raise NotFound(profile_id)  # deleted since the matrix was built
    own_tags = {entry["hashtag"] for entry in details[profile_id][2][:5]}
    items = []
    for pk, score in found:
        if pk not in details:
            continue  # deleted by another request since the matrix was built
        username, plat, tops = details[pk]
        tags = {entry["hashtag"] for entry in tops[:5]}
        items.append(
            {
                "id": pk,
                "username": username,
                "platform": plat,
                "score": score,
                "breakdown": {
                    "interest_cosine": score,
                    "hashtag_jaccard": _jaccard(own_tags, tags),
                },
            }
        )
    return items


def nearest_to_mix(mix: dict[str, float], k: int = 10, platform: str | None = None) -> list[dict]:
    """The k profiles whose interests are closest (cosine) to a mix of category weights."""
    query = np.zeros(len(CATEGORIES))
    for name, weight in mix.items():
        query[CATEGORIES.index(name)] = weight
    norm = np.linalg.norm(query)
    if norm == 0:
        return []
    matrix = current_matrix()
    k = max(1, min(int(k), MAX_K))
    found = top_k(matrix, query / norm, k, platform=platform)
    if not found:
        return []
    rows = db.session.execute(
        select(Profile.id, Profile.username, Profile.platform).where(
            Profile.id.in_([pk for pk, _ in found])
        )
    ).all()
    details = {pk: (username, plat) for pk, username, plat in rows}
    return [
        {"id": pk, "username": details[pk][0], "platform": details[pk][1], "score": score}
        for pk, score in found
        if pk in details  # not deleted since the matrix was built
    ]


def pairwise(profile_ids: list[int]) -> list[list[float]]:
    """The cosine of interest vectors for every pair of the given profiles, in their order."""
    rows = dict(
        db.session.execute(select(Profile.id, Profile.vector).where(Profile.id.in_(profile_ids)))
        .tuples()
        .all()
    )
    missing = [pk for pk in profile_ids if pk not in rows]
    if missing:
        raise NotFound(missing[0])
    width = len(CATEGORIES)
    vectors = np.zeros((len(profile_ids), width))
    for i, pk in enumerate(profile_ids):
        values = np.frombuffer(rows[pk], dtype="<f8")[:width]
        vectors[i, : len(values)] = values
    norms = np.linalg.norm(vectors, axis=1)
    vectors[norms > 0] /= norms[norms > 0, None]
    return np.round(vectors @ vectors.T, SCORE_DECIMALS).tolist()
