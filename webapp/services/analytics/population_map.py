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

from ..ingestion.platforms import PLATFORMS
from ..ingestion.taxonomy import CATEGORIES
from ..live import memory
from . import similarity

MAX_CLUSTERS = 12
# A browser draws about this many points in a second or two; past it the map draws an even
# sample of this size (the fit, the clusters and the counts still cover every profile).
MAX_POINTS = 150_000
ITERATIONS = 25
REFIT_SHARE = 0.1
# Below this many profiles a fit takes milliseconds: refit on the spot rather than later.
INLINE_REFIT_ROWS = 20_000


def pca_2d(data: np.ndarray) -> np.ndarray:
    """Project rows onto their two principal components (signs fixed, so it is repeatable)."""
    if len(data) == 0:
        return np.zeros((0, 2))
    mean, components, _ = components_2d(data)
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
    explained: tuple[float, float]  # each component's share of the total variance
    centroids: np.ndarray  # k x WIDTH
    names: list[str]
    changed: int  # the matrix's change count when fitted
    rows: int


def components_2d(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """The mean and the two principal components of the rows (signs fixed, as pca_2d), and
    the share of the total variance each explains (0 when the rows do not vary)."""
    mean = data.mean(axis=0)
    centred = data - mean
    covariance = centred.T @ centred / max(1, len(data) - 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1][:2]
    components = vectors[:, order]
    total = float(values.clip(min=0).sum())
    shares = [float(max(values[j], 0.0)) / total if total > 0 else 0.0 for j in order]
    explained = (shares + [0.0, 0.0])[:2]
    for j in range(components.shape[1]):
        if components[np.argmax(np.abs(components[:, j])), j] < 0:
            components[:, j] = -components[:, j]
    return mean, components, (explained[0], explained[1])


def fit(raw: np.ndarray, k: int, changed: int) -> Fit:
    """PCA and k-means over these rows."""
    if not len(raw):
        width = len(CATEGORIES)
        return Fit(
            np.zeros(width), np.zeros((width, 2)), (0.0, 0.0), np.zeros((0, width)), [], changed, 0
        )
    mean, components, explained = components_2d(raw)
    # float32 is plenty for clustering and a third faster.
    _, centroids = kmeans(raw.astype(np.float32), k)
    centroids = centroids.astype(np.float64)
    names = [cluster_name(c) for c in centroids]
    return Fit(mean, components, explained, centroids, names, changed, len(raw))


def nearest_centroid(raw: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each row's closest centroid (squared Euclidean distance)."""
    distances = (raw**2).sum(axis=1)[:, None] - 2 * raw @ centroids.T + (centroids**2).sum(axis=1)
    return distances.argmin(axis=1)


class _Projection:
    """One k's fit, and every row's point and cluster under it, kept current row by row: a
    sync projects only the rows the matrix wrote since the last one (matrix.written_since), so
    a write costs the map its own rows, not all of them."""

    CHUNK = 65_536  # rows projected at once: bounds the temporaries at a million rows

    def __init__(self, model: Fit):
        self.model = model
        self.x = np.zeros(0)
        self.y = np.zeros(0)
        self.cluster = np.zeros(0, dtype=np.int8)
        self.stamp = -1  # the matrix's stamp this projection is current at

    def project(self, raw: np.ndarray, rows: np.ndarray) -> None:
        """Place these rows (numbers in the matrix, raw their weights)."""
        if len(rows) and rows[-1] >= len(self.x):
            size = max(int(rows[-1]) + 1, len(self.x) + len(self.x) // 4)
            self.x, self.y, self.cluster = (_grown(a, size) for a in (self.x, self.y, self.cluster))
        model = self.model
        for start in range(0, len(rows), self.CHUNK):
            part, block = rows[start : start + self.CHUNK], raw[start : start + self.CHUNK]
            points = np.round((block - model.mean) @ model.components, 5)
            self.x[part], self.y[part] = points[:, 0], points[:, 1]
            self.cluster[part] = nearest_centroid(block, model.centroids)

    def sync(self, matrix: similarity.Matrix) -> None:
        """Catch up with the rows written since the last sync; the caller holds matrix.lock."""
        if self.stamp == matrix.stamp:
            return
        rows = matrix.written_since(self.stamp)
        self.project(matrix.raw[rows], rows)
        self.stamp = matrix.stamp


# Knuth's multiplicative hash: consecutive ids spread evenly over [0, 2**32).
_HASH = np.uint64(2654435761)


def sample_rows(ids: np.ndarray, size: int) -> np.ndarray:
    """The rows of an even sample of about `size` of these ids, by a hash of each id: the same
    profiles are drawn answer after answer while the population grows slowly (no flicker)."""
    share = min(1.0, size / max(1, len(ids)))
    hashed = (ids.astype(np.uint64) * _HASH) & np.uint64(0xFFFFFFFF)
    return np.flatnonzero(hashed < np.uint64(int(share * 2**32)))


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    bigger = np.zeros(size, dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


def _projected(k: int, raw: np.ndarray, stamp: int, changed: int) -> _Projection:
    """A new fit of these rows (a copy of the matrix's at `stamp`) and their projection, made
    without the matrix's lock; the rows written since are projected at the next sync."""
    projection = _Projection(fit(raw, k, changed))
    projection.project(raw, np.arange(len(raw)))
    projection.stamp = stamp
    return projection


def _refit_due(matrix: similarity.Matrix, model: Fit) -> bool:
    """Whether more than REFIT_SHARE of the fitted rows changed since the fit."""
    return matrix.changed - model.changed > REFIT_SHARE * model.rows


class Maps:
    """Per database and k: the current fit with every row's point and cluster.

    A point is projected when its row is written, so an answer after a write costs the
    answer itself (the columns and their JSON), not a projection of every row. No answer is
    kept: its JSON is 8 MB at 100,000 profiles, and under writes each one is for a new
    version anyway.
    """

    def __init__(self):
        self._projections: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._refitting: set = set()
        self._lock = threading.Lock()
        self._fit_lock = threading.Lock()
        # Fits made since the process started: on a request, and in the background.
        self.inline_fits = 0
        self.background_fits = 0

    def answer(self, matrix: similarity.Matrix, k: int) -> dict:
        """Every profile's point and cluster for k clusters, at the matrix's version; past
        MAX_POINTS profiles, an even sample of them (`total` counts them all).

        The numbers are NumPy arrays (the JSON provider writes them as lists)."""
        projection = self._projection_for(matrix, k)
        with matrix.lock:
            projection.sync(matrix)
            n = matrix.n
            ids = matrix.ids
            clusters = projection.cluster[:n]
            sizes = np.bincount(clusters, minlength=len(projection.model.names)) if n else []
            if n <= MAX_POINTS:
                drawn = slice(0, n)
                usernames = list(matrix.usernames)
            else:
                drawn = sample_rows(ids, MAX_POINTS)
                usernames = [matrix.usernames[row] for row in drawn.tolist()]
            top, shares = similarity.top_two(matrix.raw[drawn])
            return {
                "ids": ids[drawn].copy(),
                "username": usernames,
                "dominant": [name or "Unclassified" for name in matrix.dominant.of(drawn)],
                "top": top,
                "top_shares": shares,
                "categories": CATEGORIES,
                "platform": [PLATFORMS[code] for code in matrix.platforms[drawn].tolist()],
                "x": projection.x[:n][drawn].copy(),
                "y": projection.y[:n][drawn].copy(),
                "cluster": clusters[drawn].copy(),
                "clusters": projection.model.names if n else [],
                "cluster_sizes": sizes,
                "explained": [round(share, 4) for share in projection.model.explained],
                "total": n,
            }

    def clusters(self, matrix: similarity.Matrix, k: int) -> list[dict]:
        """The clusters of the map's current fit for k (the one `answer` draws; fitted only
        when the map would fit), each with its name, its profiles now, their share and how
        they split by platform, largest first. Catching up costs the rows written since."""
        projection = self._projection_for(matrix, k)
        with matrix.lock:
            projection.sync(matrix)
            n = matrix.n
            names = projection.model.names
            if not n or not names:
                return []
            clusters = projection.cluster[:n].astype(np.int64)
            platforms = matrix.platforms.astype(np.int64)
            known = platforms >= 0
            by_platform = np.bincount(
                clusters[known] * len(PLATFORMS) + platforms[known],
                minlength=len(names) * len(PLATFORMS),
            ).reshape(len(names), len(PLATFORMS))
            sizes = np.bincount(clusters, minlength=len(names))
        found = []
        for number, name in enumerate(names):
            size = int(sizes[number])
            if not size:
                continue
            split = {p: int(by_platform[number, code]) for code, p in enumerate(PLATFORMS)}
            found.append(
                {
                    "cluster": number,
                    "name": name,
                    "profiles": size,
                    "share": size / n,
                    "platforms": split,
                    "mostly": max(split, key=lambda p: (split[p], -PLATFORMS.index(p))),
                }
            )
        found.sort(key=lambda entry: (-entry["profiles"], entry["cluster"]))
        return found

    def _projection_for(self, matrix: similarity.Matrix, k: int) -> _Projection:
        projections = self._projections.setdefault(matrix, {})
        projection = projections.get(k)
        if projection is not None:
            model = projection.model
            if _refit_due(matrix, model):
                # A fit of no rows has no clusters to place new rows in.
                if matrix.n < INLINE_REFIT_ROWS or not model.rows:
                    projection = None  # a small map: refit on the spot
                else:
                    self._refit_later(matrix, k)
        if projection is None:
            with self._fit_lock:  # threads asking meanwhile take this fit, not one of their own
                projection = projections.get(k)
                if projection is None or _refit_due(matrix, projection.model):
                    raw, stamp, changed = self._snapshot(matrix)
                    projection = projections[k] = _projected(k, raw, stamp, changed)
                    del raw
                    self.inline_fits += 1
                    memory.give_back()
        return projection

    @staticmethod
    def _snapshot(matrix: similarity.Matrix) -> tuple[np.ndarray, int, int]:
        with matrix.lock:
            return matrix.raw.copy(), matrix.stamp, matrix.changed

    def _refit_later(self, matrix, k: int) -> None:
        key = (id(matrix), k)
        with self._lock:
            if key in self._refitting:
                return
            self._refitting.add(key)

        def run():
            try:
                raw, stamp, changed = self._snapshot(matrix)
                projection = _projected(k, raw, stamp, changed)
                del raw
                self._projections.setdefault(matrix, {})[k] = projection
                self.background_fits += 1
                memory.give_back()
            finally:
                with self._lock:
                    self._refitting.discard(key)

        threading.Thread(target=run, name=f"map-refit-{k}", daemon=True).start()


maps = Maps()


def map_clusters(k: int = 6) -> list[dict]:
    """The map's clusters for k (names, sizes, platforms) from its current fit."""
    k = max(2, min(int(k), MAX_CLUSTERS))
    return maps.clusters(similarity.current_matrix(), k)


def population_map(k: int = 6) -> dict:
    """Every profile's map position, platform, dominant interest and cluster (k clusters)."""
    k = max(2, min(int(k), MAX_CLUSTERS))
    return maps.answer(similarity.current_matrix(), k)
