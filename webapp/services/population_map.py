"""The population map: every profile as a point (PCA of interest vectors) with k-means clusters.

Deterministic: PCA components have a fixed sign (largest loading positive) and k-means starts
from a seeded k-means++. The fit (the mean, the two components and the k centroids) is made
once per k; new and changed profiles are projected onto the fitted components and given the
nearest centroid at once. When more than REFIT_SHARE of the rows changed since the fit, a
background thread fits again and the new fit replaces the old one when it is ready.
"""

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from . import memory, similarity
from .taxonomy import CATEGORIES
from .validation import PLATFORMS

MAX_CLUSTERS = 12
ITERATIONS = 25
REFIT_SHARE = 0.1
# Below this many profiles a fit takes milliseconds: refit on the spot rather than later.
INLINE_REFIT_ROWS = 20_000


def pca_2d(data: np.ndarray) -> np.ndarray:
    """Project rows onto their two principal components (signs fixed, so it is repeatable)."""
    if len(data) == 0:
        return np.zeros((0, 2))
    mean, components = components_2d(data)
    return (data - mean) @ components


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


@dataclass(frozen=True)
class Fit:
    """A fitted map: the projection and the clusters, and the matrix state it was fitted on."""

    mean: np.ndarray
    components: np.ndarray  # WIDTH x 2
    centroids: np.ndarray  # k x WIDTH
    names: list[str]
    changed: int  # the matrix's change count when fitted
    rows: int


def components_2d(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean and the two principal components of the rows (signs fixed, as pca_2d)."""
    mean = data.mean(axis=0)
    centred = data - mean
    covariance = centred.T @ centred / max(1, len(data) - 1)
    values, vectors = np.linalg.eigh(covariance)
    components = vectors[:, np.argsort(values)[::-1][:2]]
    for j in range(components.shape[1]):
        if components[np.argmax(np.abs(components[:, j])), j] < 0:
            components[:, j] = -components[:, j]
    return mean, components


def fit(raw: np.ndarray, k: int, changed: int) -> Fit:
    """PCA and k-means over these rows."""
    if not len(raw):
        width = len(CATEGORIES)
        return Fit(np.zeros(width), np.zeros((width, 2)), np.zeros((0, width)), [], changed, 0)
    mean, components = components_2d(raw)
    # float32 is plenty for clustering and a third faster.
    _, centroids = kmeans(raw.astype(np.float32), k)
    centroids = centroids.astype(np.float64)
    return Fit(mean, components, centroids, [cluster_name(c) for c in centroids], changed, len(raw))


def nearest_centroid(raw: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each row's closest centroid (squared Euclidean distance)."""
    distances = (raw**2).sum(axis=1)[:, None] - 2 * raw @ centroids.T + (centroids**2).sum(axis=1)
    return distances.argmin(axis=1)


@dataclass
class _Answers:
    """The map at one matrix state: the columns every k shares (arrays, and lists of the
    matrix's own strings, never copies of them), and each k's points and clusters."""

    state: tuple[int, int]
    columns: dict
    by_k: dict


def _columns(matrix: similarity.Matrix) -> dict:
    """What the map shows of every row whatever k is; the caller holds matrix.lock."""
    return {
        "ids": matrix.ids.copy(),
        "username": list(matrix.usernames),
        "dominant": [name or "Unclassified" for name in matrix.dominant_names()],
        "top": list(matrix.labels),
        "platform": [PLATFORMS[code] for code in matrix.platforms.tolist()],
    }


class Maps:
    """Per database and k: the current fit and the answer for the matrix's version.

    Only the latest matrix state's answers are kept: the columns once for every k, and per k
    two float64 coordinates and an int8 cluster per row (about 17 bytes a row), where lists of
    Python numbers took about 130 bytes a row per k.
    """

    def __init__(self):
        self._fits: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._answers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._refitting: set = set()
        self._lock = threading.Lock()
        self._fit_lock = threading.Lock()
        # Fits made since the process started: on a request, and in the background.
        self.inline_fits = 0
        self.background_fits = 0

    def answer(self, matrix: similarity.Matrix, k: int) -> dict:
        """Every profile's point and cluster for k clusters, at the matrix's version.

        The numbers are NumPy arrays (the JSON provider writes them as lists)."""
        with matrix.lock:
            state = (matrix.version, matrix.n)
            answers = self._answers.get(matrix)
            if answers is None or answers.state != state:
                answers = self._answers[matrix] = _Answers(state, _columns(matrix), {})
            part = answers.by_k.get(k)
            if part is None:
                raw = matrix.raw.copy()
                changed = matrix.changed
        if part is None:
            model = self._fit_for(matrix, k, raw, changed)
            if len(raw) == 0:
                points = np.zeros((0, 2))
                clusters = np.zeros(0, dtype=np.int8)
            else:
                points = np.round((raw - model.mean) @ model.components, 5)
                clusters = nearest_centroid(raw, model.centroids).astype(np.int8)
            del raw
            part = (
                np.ascontiguousarray(points[:, 0]),
                np.ascontiguousarray(points[:, 1]),
                clusters,
                model.names,
            )
            with matrix.lock:
                answers.by_k[k] = part
            memory.give_back()
        x, y, clusters, names = part
        return {
            **answers.columns,
            "x": x,
            "y": y,
            "cluster": clusters,
            "clusters": names if len(x) else [],
        }

    def _fit_for(self, matrix, k: int, raw: np.ndarray, changed: int) -> Fit:
        fits = self._fits.setdefault(matrix, {})
        model = fits.get(k)
        outdated = model is not None and changed - model.changed > REFIT_SHARE * model.rows
        if model is None or (outdated and len(raw) < INLINE_REFIT_ROWS):
            with self._fit_lock:  # threads asking meanwhile take this fit, not one of their own
                model = fits.get(k)
                if model is None or changed - model.changed > REFIT_SHARE * model.rows:
                    model = fits[k] = fit(raw, k, changed)  # first use of k, or a small map
                    self.inline_fits += 1
                    memory.give_back()
        elif outdated:
            self._refit_later(matrix, k, raw, changed)
        return model

    def _refit_later(self, matrix, k: int, raw: np.ndarray, changed: int) -> None:
        key = (id(matrix), k)
        with self._lock:
            if key in self._refitting:
                return
            self._refitting.add(key)

        def run():
            try:
                self._fits.setdefault(matrix, {})[k] = fit(raw, k, changed)
                self.background_fits += 1
                memory.give_back()
            finally:
                with self._lock:
                    self._refitting.discard(key)

        threading.Thread(target=run, name=f"map-refit-{k}", daemon=True).start()


maps = Maps()


def population_map(k: int = 6) -> dict:
    """Every profile's map position, platform, dominant interest and cluster (k clusters)."""
    k = max(2, min(int(k), MAX_CLUSTERS))
    return maps.answer(similarity.current_matrix(), k)
