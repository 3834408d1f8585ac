"""The population map: every profile as a point (PCA of interest vectors) with k-means clusters.

Deterministic: PCA components have a fixed sign (largest loading positive) and k-means starts
from a seeded k-means++; the result is cached per data version and k.
"""

import numpy as np

from ..extensions import db
from . import similarity, versions
from .taxonomy import CATEGORIES
from .validation import PLATFORMS

MAX_CLUSTERS = 12
ITERATIONS = 25
_cache = versions.VersionedCache()


def pca_2d(data: np.ndarray) -> np.ndarray:
    """Project rows onto their two principal components (signs fixed, so it is repeatable)."""
    if len(data) == 0:
        return np.zeros((0, 2))
    centred = data - data.mean(axis=0)
    covariance = centred.T @ centred / max(1, len(data) - 1)
    values, vectors = np.linalg.eigh(covariance)
    components = vectors[:, np.argsort(values)[::-1][:2]]
    for j in range(components.shape[1]):
        if components[np.argmax(np.abs(components[:, j])), j] < 0:
            components[:, j] = -components[:, j]
    return centred @ components


def kmeans(data: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means from a seeded k-means++ start: (labels, centroids)."""
    n = len(data)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centroids = [data[rng.integers(n)]]
    closest = ((data - centroids[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = closest.sum()
        index = rng.integers(n) if total == 0 else rng.choice(n, p=closest / total)
        centroids.append(data[index])
        closest = np.minimum(closest, ((data - data[index]) ** 2).sum(axis=1))
    centroids = np.array(centroids)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(ITERATIONS):
        distances = (
            (data**2).sum(axis=1)[:, None] - 2 * data @ centroids.T + (centroids**2).sum(axis=1)
        )
        new_labels = distances.argmin(axis=1)
        if np.array_equal(new_labels, labels) and _ > 0:
            break
        labels = new_labels
        for j in range(k):
            members = data[labels == j]
            if len(members):
                centroids[j] = members.mean(axis=0)
    return labels, centroids


def cluster_name(centroid: np.ndarray) -> str:
    """A cluster named by its two largest interests."""
    top = np.argsort(-centroid)[:2]
    names = [CATEGORIES[i] for i in top if centroid[i] > 0]
    return " & ".join(names) or "Unclassified"


def _compute(k: int) -> dict:
    matrix = similarity.current_matrix()
    raw = matrix.vectors * matrix.norms[:, None]
    points = pca_2d(raw)
    # float32 is plenty for clustering and a third faster.
    labels, centroids = (
        kmeans(raw.astype(np.float32), k) if len(raw) else (np.zeros(0, dtype=int), np.zeros(0))
    )
    ids = matrix.ids.tolist()
    # Each profile's two largest interests, for the hover label.
    if len(raw):
        top = np.argsort(-raw, axis=1)[:, :2]
        shares = np.rint(np.take_along_axis(raw, top, axis=1) * 100).astype(int).tolist()
        top = top.tolist()
    else:
        shares, top = [], []
    tops = [
        ", ".join(f"{CATEGORIES[j]} {p}%" for j, p in zip(cats, pcts, strict=True) if p > 0)
        or "Unclassified"
        for cats, pcts in zip(top, shares, strict=True)
    ]
    return {
        "ids": ids,
        "x": np.round(points[:, 0], 5).tolist() if len(ids) else [],
        "y": np.round(points[:, 1], 5).tolist() if len(ids) else [],
        "username": list(matrix.usernames or []),
        "dominant": [name or "Unclassified" for name in matrix.dominant or []],
        "top": tops,
        "platform": [PLATFORMS[code] for code in matrix.platforms.tolist()],
        "cluster": labels.tolist(),
        "clusters": [cluster_name(c) for c in centroids] if len(ids) else [],
    }


def population_map(k: int = 6) -> dict:
    """Every profile's map position, platform, dominant interest and cluster (k clusters)."""
    k = max(2, min(int(k), MAX_CLUSTERS))
    return _cache.get_or_compute(db.session, ("map", k), lambda: _compute(k))
