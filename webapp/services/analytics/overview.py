"""Population summaries for the overview: what differs first (by platform, by cluster, what
rose lately), then counts, the most common interests and recent profiles.

Nothing here reads every profile on a request: the platform figures come from the sums the
live matrix keeps, the clusters from the map's current fit (projected row by row as rows are
written), and what rose lately from a computation over the snapshots kept per database and
made again at most every RISING_TTL seconds, in the background, the page saying when it was
made.
"""

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...models import HashtagCount, HashtagPair, Profile, ProfileSnapshot
from .. import clock
from ..catalogue import profiles
from ..ingestion.platforms import PLATFORMS
from ..ingestion.taxonomy import CATEGORIES
from ..ingestion.vectors import unpack_weights
from . import population_map, similarity

# A platform's interest stands out when its share there is at least this many times the
# share over all profiles, and at least STANDOUT_POINTS above it.
STANDOUT_RATIO = 1.25
STANDOUT_POINTS = 0.005
# The clusters the overview names: the map's default k, so the fit is the map's own.
OVERVIEW_CLUSTERS = 6
# What rose lately: mean shares now against RISING_DAYS ago, made again at most this often.
RISING_DAYS = 30
RISING_TTL = 300.0
RISING_SHOWN = 5
# A rise smaller than this (a share, 0.001 = 0.1 point) is noise, not shown.
RISING_MIN = 0.001


def interest_shares(limit: int = 12) -> list[dict]:
    """Each category's share of all profiles' interest (the mean weight), largest first."""
    matrix = similarity.current_matrix()
    total = matrix.count()
    if not total:
        return []
    sums = matrix.interest_sums()
    order = {name: i for i, name in enumerate(CATEGORIES)}
    present = [(name, float(sums[i])) for i, name in enumerate(CATEGORIES) if sums[i] > 1e-12]
    present.sort(key=lambda item: (-item[1], item[0]))
    shares = [{"category": name, "share": weight / total} for name, weight in present[:limit]]
    shares.sort(key=lambda s: (-s["share"], order[s["category"]]))
    return shares


def platform_differences(per_platform: int = 3) -> list[dict]:
    """Per platform with profiles, the interests that stand out there against all profiles
    (largest difference in share first, at most `per_platform`), from the live matrix's sums:
    [{"platform", "profiles", "standouts": [{"category", "share", "overall"}]}]."""
    matrix = similarity.current_matrix()
    with matrix.lock:  # the sums and the counts of one state
        counts = matrix.counts_by_platform()
        means = matrix.mean_interest_by_platform()
        total = sum(counts.values())
        overall = matrix.interest_sums() / total if total else None
    if overall is None:
        return []
    found = []
    for platform in PLATFORMS:
        mean = means.get(platform)
        if mean is None:
            continue
        lift = mean - overall
        order = sorted(range(len(CATEGORIES)), key=lambda i: (-lift[i], i))
        standouts = [
            {"category": CATEGORIES[i], "share": float(mean[i]), "overall": float(overall[i])}
            for i in order[:per_platform]
            if lift[i] >= STANDOUT_POINTS and mean[i] >= STANDOUT_RATIO * overall[i]
        ]
        found.append({"platform": platform, "profiles": counts[platform], "standouts": standouts})
    return found


@dataclass(frozen=True)
class Rising:
    """What rose lately, as computed at `as_of` (the app clock) over `profiles` profiles that
    have a snapshot RISING_DAYS old or older: per category the mean share then and now."""

    as_of: datetime
    made: float  # time.monotonic() when computed
    days: int
    profiles: int
    rows: tuple[dict, ...]


def _snapshots_before(cutoff: datetime):
    """Each profile's latest snapshot taken at or before `cutoff`: (profile id, weights) rows,
    none for a profile without one. One index seek a profile (ix_profile_snapshots_profile_
    taken), not a sort of every snapshot."""
    table = ProfileSnapshot.__table__
    profiles_table = Profile.__table__
    latest = (
        select(table.c.weights)
        .where(table.c.profile_id == profiles_table.c.id, table.c.taken_at <= cutoff)
        .order_by(table.c.taken_at.desc(), table.c.id.desc())
        .limit(1)
        .correlate(profiles_table)
        .scalar_subquery()
    )
    found = select(profiles_table.c.id, latest.label("weights")).subquery()
    return select(found.c.id, found.c.weights).where(found.c.weights.is_not(None))


def compute_rising(days: int = RISING_DAYS) -> Rising:
    """Each category's mean share over the profiles with a snapshot `days` old or older: in
    the latest such snapshot against their vector now (the live matrix's row, which is their
    latest snapshot's weights); the categories whose mean rose most, RISING_SHOWN at most.
    Reads one snapshot a profile."""
    now = clock.now()
    cutoff = now - timedelta(days=days)
    earlier = db.session.execute(_snapshots_before(cutoff)).all()
    matrix = similarity.current_matrix()
    with matrix.lock:  # the profiles still stored, and their rows now
        rows = [matrix.row_of.get(pk) for pk, _weights in earlier]
        kept = [n for n, row in enumerate(rows) if row is not None]
        latest = matrix.raw[[rows[n] for n in kept]].sum(axis=0)
    counted = len(kept)
    found: list[dict] = []
    if counted:
        then = np.zeros(len(CATEGORIES))
        for n in kept:
            then += unpack_weights(bytes(earlier[n][1]))
        then /= counted
        latest = latest / counted
        rise = latest - then
        order = sorted(range(len(CATEGORIES)), key=lambda i: (-rise[i], i))
        found = [
            {
                "category": CATEGORIES[i],
                "then": float(then[i]),
                "now": float(latest[i]),
                "rise": float(rise[i]),
            }
            for i in order[:RISING_SHOWN]
            if rise[i] >= RISING_MIN
        ]
    return Rising(now, time.monotonic(), days, counted, tuple(found))


class RisingCache:
    """What rose lately, per database: made on the first ask, then kept; an ask after
    RISING_TTL seconds gets the kept one and starts one background computation that replaces
    it. Writes never clear it: a profile synced does not cost a scan of the snapshots."""

    def __init__(self):
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._refreshing: set[int] = set()
        self._lock = threading.Lock()
        self.computations = 0  # since the process started (tests read it)

    def get(self) -> Rising:
        engine = db.session.get_bind()
        found = self._by_engine.get(engine)
        if found is None:
            with self._lock:  # the first asks wait for one computation, not one each
                found = self._by_engine.get(engine)
                if found is None:
                    found = self._by_engine[engine] = compute_rising()
                    self.computations += 1
        elif time.monotonic() - found.made > RISING_TTL:
            self._refresh_later(engine)
        return found

    def _refresh_later(self, engine) -> None:
        with self._lock:
            if id(engine) in self._refreshing:
                return
            self._refreshing.add(id(engine))
        app = current_app._get_current_object()

        def run():
            try:
                with app.app_context():
                    try:
                        self._by_engine[engine] = compute_rising()
                        self.computations += 1
                    finally:
                        db.session.remove()
            finally:
                with self._lock:
                    self._refreshing.discard(id(engine))

        threading.Thread(target=run, name="overview-rising", daemon=True).start()


rising_cache = RisingCache()


def overview(recent: int = 8) -> dict:
    """Everything the overview page shows: first what differs (platforms' standout interests
    and counts, interest shares and the heatmap from the live matrix; the clusters from the
    map's fit; what rose lately from its cache), then the hashtags from the counts the writes
    keep and the latest profiles."""
    counts = similarity.current_matrix().counts_by_platform()
    latest = profiles.list_profiles(
        profiles.ListQuery(sort="updated", order="desc", per_page=recent)
    )
    total = sum(counts.values())
    return {
        "differences": platform_differences() if total else [],
        "clusters": population_map.map_clusters(OVERVIEW_CLUSTERS) if total else [],
        "cluster_k": OVERVIEW_CLUSTERS,
        "rising": rising_cache.get() if total else None,
        "counts": counts,
        "total": total,
        "interests": interest_shares(),
        "heatmap": interest_by_platform(),
        "hashtags": hashtag_cooccurrence(),
        "latest": latest["items"],
    }


def interest_by_platform() -> dict:
    """Each platform's mean interest weight per category (rows: platforms, columns: categories),
    from the sums the live matrix keeps."""
    means = similarity.current_matrix().mean_interest_by_platform()
    platforms = [p for p in PLATFORMS if p in means]
    return {
        "platforms": platforms,
        "categories": list(CATEGORIES),
        "shares": [[float(v) for v in means[p]] for p in platforms],
    }


def hashtag_cooccurrence(top: int = 10, partners: int = 5) -> list[dict]:
    """The most common hashtags over stored videos, each with the hashtags seen beside it,
    read from the counts the writes keep."""
    ranked = db.session.execute(
        select(HashtagCount.hashtag, HashtagCount.videos)
        .where(HashtagCount.videos > 0)
        .order_by(HashtagCount.videos.desc(), HashtagCount.hashtag)
        .limit(top)
    ).all()
    result = []
    for tag, count in ranked:
        beside = db.session.execute(
            select(HashtagPair.other, HashtagPair.videos)
            .where(HashtagPair.hashtag == tag, HashtagPair.videos > 0)
            .order_by(HashtagPair.videos.desc(), HashtagPair.other)
            .limit(partners)
        ).all()
        result.append(
            {
                "hashtag": tag,
                "videos": count,
                "with": [{"hashtag": other, "videos": n} for other, n in beside],
            }
        )
    return result
